"""The export of qualified places for data.inclusion (« référentiel de l'offre d'insertion »):
each place is a structure, each service of the nomenclature it offers is a service, in
data.inclusion's schema v0 (the JSON Schemas of places/data/, compiled from the
data-inclusion-schema package). v0 is the version whose vocabularies say what a cheque is:
the fee `pass-numerique` and the national label `aptic`; v1 has neither.

The document is `{"structures": [...], "services": [...]}`, places in the order of their id
and services in the order of their slug: the same places give the same bytes. Every value
comes from the place as the v1.0.2 export reads it (places.standard.exporting), mapped onto
data.inclusion's words; what has no equivalent is left out, never guessed.
"""

import json
import re
from functools import cache
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from .exporting import insee_of, other_labels_of, pivot_of, published_places, updated_on_of
from .values import PLACEHOLDER_PIVOT, normalise_phone
from .vocabulary import ACCEPTS_APTIC

SCHEMA_VERSION = "v0"
# The release of the data-inclusion-schema package the schemas were compiled from.
SCHEMA_PACKAGE = "data-inclusion-schema 1.0.6"
DATA = Path(__file__).resolve().parent.parent / "data"
SCHEMA_FILES = {"structures": DATA / "data-inclusion_v0_structure.json",
                "services": DATA / "data-inclusion_v0_service.json"}
SOURCE = "aptic"

# The 9 services of the national standard as data.inclusion's themes: the v0.1 services of
# the standard condensed into each (vocabulary.OLD_SERVICES) are data.inclusion's
# `numerique--…` themes, word for word.
THEMES = {
    "Aide aux démarches administratives": [
        "numerique--accompagner-les-demarches-de-sante",
        "numerique--devenir-autonome-dans-les-demarches-administratives",
        "numerique--realiser-des-demarches-administratives-avec-un-accompagnement"],
    "Maîtrise des outils numériques du quotidien": [
        "numerique--prendre-en-main-un-ordinateur",
        "numerique--prendre-en-main-un-smartphone-ou-une-tablette",
        "numerique--utiliser-le-numerique-au-quotidien"],
    "Insertion professionnelle via le numérique": [
        "numerique--creer-et-developper-mon-entreprise",
        "numerique--favoriser-mon-insertion-professionnelle"],
    "Utilisation sécurisée du numérique": ["numerique--utiliser-le-numerique-au-quotidien"],
    "Parentalité et éducation avec le numérique": [
        "numerique--soutenir-la-parentalite-et-l-education-avec-le-numerique"],
    "Loisirs et créations numériques": ["numerique--creer-avec-le-numerique"],
    "Compréhension du monde numérique": [
        "numerique--approfondir-ma-culture-numerique",
        "numerique--promouvoir-la-citoyennete-numerique"],
    "Accès internet et matériel informatique": [
        "numerique--acceder-a-du-materiel", "numerique--acceder-a-une-connexion-internet"],
    "Acquisition de matériel informatique à prix solidaire": [
        "numerique--s-equiper-en-materiel-informatique"],
}
FEES = {"Gratuit": "gratuit", "Gratuit sous condition": "gratuit-sous-conditions",
        "Payant": "payant"}
PASS_NUMERIQUE = "pass-numerique"
NATIONAL_LABELS = {
    "Aidants Connect": "aidants-connect", "Conseillers numériques": "conseiller-numerique",
    "Emmaüs Connect": "emmaus", "Relais numérique (Emmaüs Connect)": "emmaus",
    "France Services": "france-service", "Grande école du numérique":
        "grandes-ecoles-du-numerique", "La Croix Rouge": "croix-rouge",
    "Point d'accès numérique CAF": "caf", "Fabriques de Territoire": "fabrique-de-territoire",
}
APTIC_LABEL = "aptic"
PROFILES = {
    "Jeunes": "jeunes", "Étudiants": "etudiants", "Familles et/ou enfants": "familles-enfants",
    "Seniors": "seniors-65", "Femmes": "femmes", "Surdité": "surdite",
    "Handicaps moteurs": "personnes-en-situation-de-handicap",
    "Handicaps mentaux": "handicaps-mentaux",
    "Illettrisme": "personnes-en-situation-illettrisme",
    "Langues étrangères (anglais)": "public-langues-etrangeres",
    "Langues étrangères (autres)": "public-langues-etrangeres",
    "Déficience visuelle": "deficience-visuelle",
}
EVERYONE = "tous-publics"
ACCESS_MODES = {"Se présenter": "se-presenter", "Téléphoner": "telephoner",
                "Contacter par mail": "envoyer-un-mail", "Prendre un RDV en ligne": "prendre-rdv"}
REMOTE = "À distance"
SIRET = re.compile(r"^\d{14}$")
RNA = re.compile(r"^W\d{9}$")
NAME_LENGTHS = (3, 150)  # data.inclusion's bounds for the name of a structure or a service


@cache
def schemas():
    """The JSON Schemas of a structure and of a service, by collection."""
    return {collection: json.loads(path.read_text(encoding="utf-8"))
            for collection, path in SCHEMA_FILES.items()}


def typologies():
    return set(schemas()["structures"]["$defs"]["TypologieStructure"]["enum"])


def document(places=None):
    """The data.inclusion document of qualified places (or the given queryset)."""
    known_typologies = typologies()
    structures, services = [], []
    for place in published_places(places).iterator(chunk_size=2000):
        page = public_page(place)
        structures.append(structure(place, known_typologies, page))
        services += services_of(place, page)
    return {"structures": structures, "services": services}


def write_json(stream, places=None):
    """Write the document to a text stream (compact, UTF-8 as it is); returns the counts."""
    data = document(places)
    stream.write(dumps(data))
    return {"structures": len(data["structures"]), "services": len(data["services"])}


def dumps(data, indent=None):
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(data, ensure_ascii=False, indent=indent, separators=separators) + "\n"


def public_page(place):
    return settings.SITE_URL + reverse("place-detail", args=[place.pk])


def structure(place, known_typologies, page):
    pivot = pivot_of(place)
    labels = {NATIONAL_LABELS[value] for value in [*place.national_schemes, *place.labels]
              if value in NATIONAL_LABELS}
    return {
        "id": str(place.pk),
        "siret": pivot if SIRET.match(pivot) and pivot != PLACEHOLDER_PIVOT else None,
        "rna": pivot if RNA.match(pivot) else None,
        "nom": _name(place.name, place.town),
        **_where(place),
        "typologie": next((value for value in place.typology.split("|")
                           if value in known_typologies), None),
        "site_web": place.websites[0] if place.websites else None,
        "presentation_resume": place.summary[:280] or None,
        "presentation_detail": place.description or None,
        "source": SOURCE,
        "date_maj": updated_on_of(place),
        "lien_source": page,
        "horaires_ouverture": place.opening_hours or None,
        "accessibilite": place.accessibility_url or None,
        "labels_nationaux": sorted(labels | {APTIC_LABEL}),
        "labels_autres": other_labels_of(place) or None,
        "thematiques": sorted({theme for service in _offered(place)
                               for theme in THEMES.get(service.category.standard_label, [])})
        or None,
    }


def services_of(place, page):
    """One service per service of the nomenclature that the place offers (active ones)."""
    fees = sorted({PASS_NUMERIQUE} | {FEES[value] for value in place.fees if value in FEES})
    profiles = sorted({PROFILES[value] for value in [*place.publics, *place.specific_support]
                       if value in PROFILES}) or [EVERYONE]
    reception = ["en-presentiel"] + (["a-distance"] if REMOTE in place.support_modes else [])
    access = sorted({ACCESS_MODES[value] for value in place.access_modes
                     if value in ACCESS_MODES})
    return [{
        "id": f"{place.pk}--{service.slug}",
        "structure_id": str(place.pk),
        "source": SOURCE,
        "nom": _name(service.label, service.category.label),
        "presentation_resume": service.category.label[:280],
        "thematiques": THEMES.get(service.category.standard_label) or None,
        "frais": fees,
        "frais_autres": f"{ACCEPTS_APTIC} : {_cheques(service.default_cheques)} pour ce "
                        "service.",
        "profils": profiles,
        "prise_rdv": place.booking_url or None,
        **_where(place),
        "date_maj": updated_on_of(place),
        "lien_source": page,
        "modes_accueil": sorted(reception),
        "modes_orientation_beneficiaire": access or None,
    } for service in _offered(place)]


def _where(place):
    """Address and contacts, the same for a structure and its services."""
    return {
        "commune": place.town or None,
        "code_postal": place.postcode or None,
        "code_insee": insee_of(place) or None,
        "adresse": place.address or None,
        "complement_adresse": place.address_complement or None,
        "longitude": place.longitude,
        "latitude": place.latitude,
        "telephone": normalise_phone(place.phone) or None,
        "courriel": place.emails[0] if place.emails else None,
    }


def _offered(place):
    """The services of the nomenclature a cheque pays for at the place (active ones)."""
    return sorted((service for service in place.services.all()
                   if service.active and service.category.active),
                  key=lambda service: service.slug)


def _cheques(count):
    return f"{count} chèque" + ("s" if count > 1 else "")


def _name(name, where):
    """A name within data.inclusion's bounds: a longer one cut with an ellipsis, a shorter
    one completed with where it is."""
    shortest, longest = NAME_LENGTHS
    name = name.strip()
    if len(name) < shortest:
        name = f"{name} ({where})"
    return name if len(name) <= longest else name[:longest - 1] + "…"


def problems(data, limit=20):
    """(number of errors, the first `limit` as text) of a document checked against the
    schemas: the collection, the record's position and id, the field and the reason."""
    import jsonschema_rs

    found, count = [], 0
    for collection, schema in schemas().items():
        validator = jsonschema_rs.validator_for(schema, validate_formats=True)
        records = data.get(collection) if isinstance(data, dict) else None
        if not isinstance(records, list):
            count += 1
            found.append(_("%(collection)s : liste absente") % {"collection": collection})
            continue
        for position, record in enumerate(records, start=1):
            for error in validator.iter_errors(record):
                count += 1
                if len(found) < limit:
                    field = ".".join(str(part) for part in error.instance_path) or "—"
                    record_id = record.get("id") if isinstance(record, dict) else None
                    found.append(_("%(collection)s n° %(position)s (id %(id)s), %(field)s : "
                                   "%(reason)s") % {
                        "collection": collection, "position": position, "id": record_id,
                        "field": field, "reason": error.message})
    return count, found
