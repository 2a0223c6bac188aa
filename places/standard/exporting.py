"""The export of qualified places in v1.0.2 (the open-data file of the platform)."""

from django.utils import timezone

from aptic import spreadsheet

from ..models import Place
from .values import INSEE_PATTERN, PIVOT_PATTERN, PLACEHOLDER_PIVOT, normalise_phone
from .vocabulary import (
    ACCESS_MODES,
    FEES,
    ITINERANCY,
    LABELS,
    NATIONAL_SCHEMES,
    PUBLICS,
    SPECIFIC_SUPPORT,
    STANDARD_SERVICES,
    SUPPORT_MODES,
    V1_COLUMNS,
)


def export_rows(places=None):
    """Dicts of v1.0.2 columns for qualified places (or the given queryset); coordinates are
    numbers (None when unknown), the rest text."""
    if places is None:
        places = Place.objects.qualified()
    places = places.select_related("structure").prefetch_related("services__category")
    standard = set(STANDARD_SERVICES)
    for place in places.order_by("pk").iterator(chunk_size=2000):
        categories = sorted(
            {service.category for service in place.services.all()
             if service.category.standard_label in standard},
            key=lambda category: STANDARD_SERVICES.index(category.standard_label),
        )
        pivot = place.pivot
        if (not pivot or pivot == PLACEHOLDER_PIVOT) and place.structure_id \
                and place.structure.siret:
            pivot = place.structure.siret
        if not PIVOT_PATTERN.match(pivot or ""):
            pivot = PLACEHOLDER_PIVOT
        insee = place.insee_code if INSEE_PATTERN.match(place.insee_code or "") else ""
        yield {
            "id": str(place.pk),
            "pivot": pivot,
            "nom": place.name,
            "commune": place.town,
            "code_postal": place.postcode,
            "code_insee": insee,
            "adresse": place.address,
            "complement_adresse": place.address_complement,
            "latitude": place.latitude,  # numbers: None is an empty cell
            "longitude": place.longitude,
            "typologie": place.typology,
            "telephone": normalise_phone(place.phone),
            "courriels": "|".join(place.emails),
            "site_web": "|".join(place.websites),
            "horaires": place.opening_hours,
            "presentation_resume": _summary(place.summary),
            "presentation_detail": place.description,
            "source": place.source or "APTIC",
            "itinerance": "|".join(v for v in place.itinerancy if v in ITINERANCY),
            "structure_parente": place.parent_structure,
            "date_maj": timezone.localdate(place.updated_at).isoformat(),
            "services": "|".join(category.standard_label for category in categories),
            "publics_specifiquement_adresses": _allowed(place.publics, PUBLICS),
            "prise_en_charge_specifique": _allowed(place.specific_support, SPECIFIC_SUPPORT),
            "frais_a_charge": _allowed(place.fees, FEES),
            "dispositif_programmes_nationaux": _allowed(place.national_schemes,
                                                        NATIONAL_SCHEMES),
            "formations_labels": _allowed(place.labels, LABELS),
            "autres_formations_labels": place.other_labels,
            "modalites_acces": _allowed(place.access_modes, ACCESS_MODES),
            "modalites_accompagnement": _allowed(place.support_modes, SUPPORT_MODES),
            "fiche_acces_libre": place.accessibility_url,
            "prise_rdv": place.booking_url,
        }


def _summary(text, limit=280):
    """The standard's résumé is at most 280 characters, the spreadsheet writer's quote
    included."""
    text = text[:limit]
    return text[:limit - 1] if spreadsheet.needs_quote(text) else text


def _allowed(values, allowed):
    return "|".join(value for value in values if value in allowed)


def write_csv(stream, places=None):
    """Write the v1.0.2 CSV of `places` (qualified places by default) to a text stream, with
    the one CSV writer of the site (aptic.spreadsheet): a name such as « =HYPERLINK(…) » is
    written « '=HYPERLINK(…) », still a valid string of the schema."""
    writer = spreadsheet.DictWriter(stream, fieldnames=V1_COLUMNS, delimiter=",",
                                    lineterminator="\r\n")
    writer.writeheader()
    for row in export_rows(places):
        writer.writerow(row)

