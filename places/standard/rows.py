"""One row of a file of the standard, mapped onto the fields of a Place.

`parse_row` reads a row part by part, in the order of the checks below: a row that cannot be
used raises RowError (its column and reason); an unusable optional value is dropped and
reported through `warn(column, reason)`.
"""

import re

import opening_hours
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.translation import gettext as _

from aptic.inputs import CONTROL
from services.models import Category

from ..departments import department_of
from ..models import Commune, Place
from .values import (
    INSEE_PATTERN,
    PIVOT_PATTERN,
    clean_text,
    in_france,
    label_key,
    normalise_phone,
    parse_date,
    parse_number,
    split_values,
)
from .vocabulary import (
    ACCEPTS_APTIC,
    ACCESS_MODES,
    FEES,
    ITINERANCY,
    LABELS,
    NATIONAL_SCHEMES,
    OLD_FEES,
    OLD_LABELS,
    OLD_PUBLICS,
    OLD_SERVICES,
    OLD_SUPPORT_MODES,
    ORDER,
    PUBLICS,
    SEPARATORS,
    SPECIFIC_SUPPORT,
    STANDARD_SERVICES,
    SUPPORT_MODES,
)


class RowError(Exception):
    def __init__(self, field, reason):
        super().__init__(reason)
        self.field = field
        self.reason = reason


class Mapper:
    """Maps enumerated labels (v1 and v0.1) onto model fields and categories."""

    def __init__(self):
        self.categories = {
            label_key(category.standard_label): category
            for category in Category.objects.filter(standard_label__in=STANDARD_SERVICES)
        }
        for old, new in OLD_SERVICES.items():
            if label_key(new) in self.categories:
                self.categories[label_key(old)] = self.categories[label_key(new)]
        self.enumerations = {}
        for target, labels in [
            ("publics", PUBLICS), ("specific_support", SPECIFIC_SUPPORT), ("fees", FEES),
            ("national_schemes", NATIONAL_SCHEMES), ("labels", LABELS),
            ("access_modes", ACCESS_MODES), ("support_modes", SUPPORT_MODES),
            ("itinerancy", ITINERANCY),
        ]:
            self.enumerations[target] = {label_key(label): [(target, label)]
                                         for label in labels}
        for target, old in [("publics", OLD_PUBLICS), ("fees", OLD_FEES),
                            ("national_schemes", OLD_LABELS), ("support_modes",
                                                               OLD_SUPPORT_MODES)]:
            self.enumerations[target].update(
                {label_key(label): mapped for label, mapped in old.items()})
        # v1 splits v0.1's publics into two columns; either column accepts either vocabulary.
        both = {**self.enumerations["publics"], **self.enumerations["specific_support"]}
        self.enumerations["publics"] = self.enumerations["specific_support"] = both
        labels = {**self.enumerations["national_schemes"], **self.enumerations["labels"]}
        self.enumerations["national_schemes"] = self.enumerations["labels"] = labels

    def enumerate(self, column, target, values, into):
        table = self.enumerations[target]
        for value in values:
            mapped = table.get(label_key(value))
            if mapped is None:
                raise RowError(column, _("valeur inconnue « %(value)s »") % {"value": value})
            for field_name, label in mapped:
                if label not in into[field_name]:
                    into[field_name].append(label)

    def categories_of(self, values):
        found = []
        for value in values:
            category = self.categories.get(label_key(value))
            if category is None:
                raise RowError("services", _("service inconnu « %(value)s »") % {"value": value})
            if category not in found:
                found.append(category)
        return found


# Model fields filled from the row, in order (used to detect unchanged rows).
PLACE_FIELDS = [
    "source", "source_id", "pivot", "name", "address", "address_complement", "postcode",
    "insee_code", "town", "department", "latitude", "longitude", "opening_hours", "typology",
    "phone", "emails", "websites", "summary", "description", "itinerancy", "parent_structure",
    "publics", "specific_support", "fees", "national_schemes", "labels", "other_labels",
    "access_modes", "support_modes", "accessibility_url", "booking_url", "source_updated_on",
]
_MAX_LENGTHS = {
    name: Place._meta.get_field(name).max_length
    for name in PLACE_FIELDS if getattr(Place._meta.get_field(name), "max_length", None)
}
_COLUMN_OF = {"name": "nom", "address": "adresse", "town": "commune",
              "address_complement": "complement_adresse", "parent_structure": "structure_parente",
              "source": "source", "source_id": "id", "other_labels": "autres_formations_labels",
              "typology": "typologie", "opening_hours": "horaires", "phone": "telephone",
              "summary": "presentation_resume"}
# Multi-valued columns (v1 and v0.1) and the model field each fills.
_ENUMERATED_COLUMNS = [
    ("publics_specifiquement_adresses", "publics"),
    ("prise_en_charge_specifique", "specific_support"),
    ("publics_accueillis", "publics"),
    ("frais_a_charge", "fees"), ("conditions_acces", "fees"),
    ("dispositif_programmes_nationaux", "national_schemes"),
    ("formations_labels", "labels"), ("labels_nationaux", "national_schemes"),
    ("modalites_acces", "access_modes"),
    ("modalites_accompagnement", "support_modes"),
    ("itinerance", "itinerancy"),
]


def parse_row(raw, version, mapper, *, source, warn):
    """The model values of one row, and its categories. Raises RowError for unusable rows;
    calls warn(field, reason) for dropped optional values."""
    _check_readable(raw)
    separator = SEPARATORS[version]
    values = _identity(raw, source)
    values.update(_location(raw, warn))
    values["pivot"] = _pivot(raw, warn)
    values["opening_hours"] = _opening_hours(raw, warn)
    values.update(_contacts(raw, separator, warn))
    values.update(_presentation(raw, separator, warn))
    values.update(_enumerations(raw, separator, mapper))
    categories = mapper.categories_of(split_values(raw.get("services"), separator))
    _check_lengths(values)
    return values, categories


def _check_readable(raw):
    if "__columns__" in raw:
        raise RowError("*", _("nombre de colonnes incorrect (%(count)s)")
                       % {"count": raw["__columns__"]})
    for column, value in raw.items():
        if _has_control_characters(value):
            raise RowError(column, _("caractère de contrôle (par exemple un caractère nul) : "
                                     "la ligne est illisible"))


def _has_control_characters(value):
    """NUL and the other control characters the site refuses at its edge (aptic.inputs);
    Postgres cannot store NUL at all, and one such value would abort the whole import."""
    if isinstance(value, str):
        return bool(CONTROL.search(value))
    if isinstance(value, list | tuple):
        return any(_has_control_characters(item) for item in value)
    if isinstance(value, dict):
        return any(_has_control_characters(item) for item in value.values())
    return False


def _identity(raw, source):
    """The row's id, name and address, which every place needs, and its source."""
    return {
        "source_id": _required(raw, "id", _("identifiant manquant")),
        "name": _required(raw, "nom", _("nom manquant")),
        "town": _required(raw, "commune", _("commune manquante")),
        "address": _required(raw, "adresse", _("adresse manquante")),
        "address_complement": clean_text(raw.get("complement_adresse")),
        "parent_structure": clean_text(raw.get("structure_parente")),
        "source": source or clean_text(raw.get("source"))[:100] or "import",
    }


def _required(raw, column, reason):
    value = clean_text(raw.get(column))
    if not value:
        raise RowError(column, reason)
    return value


def _location(raw, warn):
    """Postcode, INSEE code, department and coordinates."""
    postcode = _postcode(raw)
    insee = _insee(raw, warn)
    latitude, longitude = _coordinates(raw, insee, postcode)
    return {"postcode": postcode, "insee_code": insee,
            "department": department_of(insee or postcode),
            "latitude": latitude, "longitude": longitude}


def _postcode(raw):
    postcode = re.sub(r"\s", "", clean_text(raw.get("code_postal")))
    if not postcode:
        raise RowError("code_postal", _("code postal manquant"))
    if postcode.isdigit() and len(postcode) == 4:
        postcode = "0" + postcode  # a spreadsheet ate the leading zero
    if not re.fullmatch(r"\d{5}", postcode):
        raise RowError("code_postal", _("code postal invalide « %(value)s » (5 chiffres)")
                       % {"value": postcode})
    return postcode


def _insee(raw, warn):
    insee = clean_text(raw.get("code_insee")).upper()
    if insee and len(insee) == 4 and insee.isdigit():
        insee = "0" + insee
    if insee and not INSEE_PATTERN.match(insee):
        warn("code_insee", _("code INSEE invalide « %(value)s », ignoré") % {"value": insee})
        insee = ""
    return insee


def _coordinates(raw, insee, postcode):
    try:
        latitude = parse_number(raw.get("latitude"))
        longitude = parse_number(raw.get("longitude"))
    except ValueError as error:
        raise RowError("latitude", _("coordonnées illisibles")) from error
    if latitude is None or longitude is None:
        # No coordinates: the centre of the commune, from the gazetteer, when known.
        commune = (Commune.objects.filter(insee_code=insee) if insee
                   else Commune.objects.filter(postcode=postcode))
        commune = commune.exclude(latitude=None).first()
        if commune is None:
            return None, None
        return commune.latitude, commune.longitude
    if not in_france(latitude, longitude):
        if in_france(longitude, latitude):
            reason = _("coordonnées hors de France (%(lat)s, %(lon)s) : latitude et "
                       "longitude inversées ?")
        else:
            reason = _("coordonnées hors de France (%(lat)s, %(lon)s)")
        raise RowError("latitude", reason % {"lat": latitude, "lon": longitude})
    return latitude, longitude


def _pivot(raw, warn):
    pivot = re.sub(r"\s", "", clean_text(raw.get("pivot")))
    if pivot and not PIVOT_PATTERN.match(pivot):
        warn("pivot", _("pivot invalide « %(value)s » (SIRET ou RNA), ignoré") % {"value": pivot})
        pivot = ""
    return pivot


def _opening_hours(raw, warn):
    hours = clean_text(raw.get("horaires"))
    if hours:
        try:
            opening_hours.OpeningHours(hours)
        except (opening_hours.ParserError, ValueError):
            warn("horaires", _("horaires ignorés : « %(value)s » ne suit pas la syntaxe "
                               "OpenStreetMap « opening_hours »") % {"value": hours})
            hours = ""
    return hours


def _contacts(raw, separator, warn):
    """Phone, e-mails, websites, the accessibility sheet and the booking page."""
    phone = clean_text(raw.get("telephone"))
    normalised = normalise_phone(phone)
    if phone and not normalised:
        warn("telephone", _("numéro de téléphone invalide « %(value)s », ignoré")
             % {"value": phone})
    emails = _emails(raw, warn)
    websites = [url for url in (_url(item, "site_web", warn)
                                for item in split_values(raw.get("site_web"), separator))
                if url]
    accessibility_column = "fiche_acces_libre" if "fiche_acces_libre" in raw else "accessibilite"
    return {
        "phone": normalised,
        "emails": emails,
        "websites": websites,
        "accessibility_url": _url(raw.get(accessibility_column), accessibility_column, warn),
        "booking_url": _url(raw.get("prise_rdv"), "prise_rdv", warn),
    }


def _emails(raw, warn):
    column = "courriels" if "courriels" in raw else "courriel"
    emails = []
    for email in re.split(r"[|;,\s]+", clean_text(raw.get(column))):
        if not email:
            continue
        try:
            EmailValidator()(email)
        except ValidationError:
            warn(column, _("adresse e-mail invalide « %(value)s », ignorée") % {"value": email})
            continue
        emails.append(email)
    return emails


def _url(value, column, warn):
    url = clean_text(value)
    if not url:
        return ""
    if not re.match(r"^[a-z][a-z0-9+.-]*://", url, re.IGNORECASE):
        url = "https://" + url
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        warn(column, _("adresse web invalide « %(value)s », ignorée") % {"value": value})
        return ""
    if len(url) > 500:
        warn(column, _("adresse web trop longue, ignorée"))
        return ""
    return url


def _presentation(raw, separator, warn):
    """Summary, description, typology and the date of the source's last update."""
    summary = clean_text(raw.get("presentation_resume"))
    if len(summary) > 280:
        warn("presentation_resume", _("présentation résumée tronquée à 280 caractères"))
        summary = summary[:279] + "…"
    try:
        updated_on = parse_date(raw.get("date_maj"))
    except ValueError:
        warn("date_maj", _("date invalide « %(value)s », ignorée")
             % {"value": clean_text(raw.get("date_maj"))})
        updated_on = None
    return {
        "summary": summary,
        "description": clean_text(raw.get("presentation_detail")),
        "typology": "|".join(split_values(raw.get("typologie"), separator)),
        "source_updated_on": updated_on,
    }


def _enumerations(raw, separator, mapper):
    """The multi-valued fields (publics, fees, labels…), in the standard's order, and the
    other labels as text."""
    lists = {name: [] for name in ["publics", "specific_support", "fees", "national_schemes",
                                   "labels", "access_modes", "support_modes", "itinerancy",
                                   "other_labels"]}
    for column, target in _ENUMERATED_COLUMNS:
        mapper.enumerate(column, target, split_values(raw.get(column), separator), lists)
    for name, order in ORDER.items():  # the standard's order: stable, comparable rows
        lists[name].sort(key=order.index)
    other = lists.pop("other_labels")
    other += split_values(raw.get("autres_formations_labels") or raw.get("labels_autres"),
                          separator)
    # A place accepts the cheques once qualified here, not because a file (one of our own
    # exports, read back) says so: the export writes the words from the qualification.
    other = [label for label in other if label_key(label) != label_key(ACCEPTS_APTIC)]
    return {**lists, "other_labels": ", ".join(dict.fromkeys(other))}


def _check_lengths(values):
    for name, limit in _MAX_LENGTHS.items():
        if isinstance(values[name], str) and len(values[name]) > limit:
            raise RowError(_COLUMN_OF.get(name, name),
                           _("trop long (%(length)s caractères, %(limit)s au plus)")
                           % {"length": len(values[name]), "limit": limit})
