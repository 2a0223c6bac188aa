"""The export of qualified places in v1.0.2 (the open-data file of the platform,
published by places.publication). Every qualified place accepts the cheques: its
`autres_formations_labels` says so (vocabulary.ACCEPTS_APTIC), the one column of v1.0.2 where
free words may say it."""

import json
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import spreadsheet

from ..models import Place
from .values import (
    INSEE_PATTERN,
    PIVOT_PATTERN,
    PLACEHOLDER_PIVOT,
    label_key,
    normalise_phone,
    split_values,
)
from .vocabulary import (
    ACCEPTS_APTIC,
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

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "data" / "schema_v1.0.2.json"


def published_places(places=None):
    """The places an export writes, in a stable order (by id): the qualified ones unless a
    queryset is given, with what the rows read."""
    if places is None:
        places = Place.objects.qualified()
    return (places.select_related("structure").prefetch_related("services__category")
            .order_by("pk"))


def pivot_of(place):
    """The place's SIRET or RNA: its own, else its structure's SIRET, else the standard's
    placeholder (14 zeros)."""
    pivot = place.pivot
    if (not pivot or pivot == PLACEHOLDER_PIVOT) and place.structure_id \
            and place.structure.siret:
        pivot = place.structure.siret
    return pivot if PIVOT_PATTERN.match(pivot or "") else PLACEHOLDER_PIVOT


def insee_of(place):
    """The INSEE code of the place's commune, or "" when it has none the standard accepts."""
    return place.insee_code if INSEE_PATTERN.match(place.insee_code or "") else ""


def updated_on_of(place):
    """The day the place last changed, in France: its `date_maj` in every format."""
    return timezone.localdate(place.updated_at).isoformat()


def other_labels_of(place):
    """The place's other labels as a list (the import keeps them joined by commas)."""
    return split_values(place.other_labels, ",")


def export_rows(places=None):
    """Dicts of v1.0.2 columns for qualified places (or the given queryset); coordinates are
    numbers (None when unknown), the rest text."""
    standard = set(STANDARD_SERVICES)
    for place in published_places(places).iterator(chunk_size=2000):
        categories = sorted(
            {service.category for service in place.services.all()
             if service.category.standard_label in standard},
            key=lambda category: STANDARD_SERVICES.index(category.standard_label),
        )
        yield {
            "id": str(place.pk),
            "pivot": pivot_of(place),
            "nom": place.name,
            "commune": place.town,
            "code_postal": place.postcode,
            "code_insee": insee_of(place),
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
            "date_maj": updated_on_of(place),
            "services": "|".join(category.standard_label for category in categories),
            "publics_specifiquement_adresses": _allowed(place.publics, PUBLICS),
            "prise_en_charge_specifique": _allowed(place.specific_support, SPECIFIC_SUPPORT),
            "frais_a_charge": _allowed(place.fees, FEES),
            "dispositif_programmes_nationaux": _allowed(place.national_schemes,
                                                        NATIONAL_SCHEMES),
            "formations_labels": _allowed(place.labels, LABELS),
            "autres_formations_labels": _other_labels(place),
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


def _other_labels(place):
    """The place's other labels and « Accepte les chèques #APTIC », once, separated by `|`
    as every multi-valued column of v1.0.2 (the import splits them there)."""
    labels = other_labels_of(place)
    if label_key(ACCEPTS_APTIC) not in {label_key(label) for label in labels}:
        labels.append(ACCEPTS_APTIC)
    return "|".join(labels)


def _allowed(values, allowed):
    return "|".join(value for value in values if value in allowed)


def write_csv(stream, places=None):
    """Write the v1.0.2 CSV of `places` (qualified places by default) to a text stream, with
    the one CSV writer of the site (aptic.spreadsheet): a name such as « =HYPERLINK(…) » is
    written « '=HYPERLINK(…) », still a valid string of the schema. Returns the counts
    ({"lieux": rows})."""
    writer = spreadsheet.DictWriter(stream, fieldnames=V1_COLUMNS, delimiter=",",
                                    lineterminator="\r\n")
    writer.writeheader()
    count = 0
    for row in export_rows(places):
        writer.writerow(row)
        count += 1
    return {"lieux": count}


def problems(path, limit=20):
    """(number of errors, the first `limit` as text) of a v1.0.2 CSV file checked with
    frictionless against the standard's schema (places/data/schema_v1.0.2.json)."""
    from frictionless import Resource, Schema  # slow to import: only where it checks

    schema = Schema.from_descriptor(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    path = Path(path)
    report = Resource(path=path.name, basepath=str(path.parent), schema=schema).validate()
    if report.valid:
        return 0, []
    errors = report.flatten(["rowNumber", "fieldName", "type", "note"])
    found = [_("ligne %(row)s, %(field)s : %(reason)s")
             % {"row": row or "—", "field": name or "—", "reason": f"{kind} ({note})"}
             for row, name, kind, note in errors[:limit]]
    return max(len(errors), 1), found or [str(error) for error in report.errors][:limit]

