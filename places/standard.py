"""The national standard of digital-mediation places (« Lieux de médiation numérique »):
import of v1.0.2 and v0.1 files, export of qualified places in v1.0.2.

Formats (schemas copied in places/data/):
- v1.0.2: CSV (`,` between columns), multi-valued fields separated by `|`;
- v0.1: JSON array of objects, or CSV, multi-valued fields separated by `;`, older field names
  (`courriel`, `publics_accueillis`, `conditions_acces`, `labels_nationaux`, `accessibilite`)
  and 15 older service labels condensed into the 9 current ones.

Rules of the import:
- a file that cannot be read as a whole (neither CSV nor JSON, not UTF-8, required columns
  missing, a control character in its first line) raises `ImportFileError`: nothing is
  imported;
- a row that cannot be used (no id, name, address, town or postcode, coordinates outside
  France, enumerated values that cannot be mapped, a control character such as NUL that the
  database cannot store…) is rejected with its row number, field and reason, and the other
  rows are imported; an unusable optional value (bad phone number, e-mail, URL, opening
  hours) is dropped with a warning;
- rows are upserted by (source, id), all in one transaction; imported places are not
  qualified unless `qualified=True` (the operator migrating a registry of places already
  qualified elsewhere), which is audited.
"""

import csv
import io
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import opening_hours
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit, spreadsheet
from aptic.inputs import CONTROL
from services.models import Category, Service

from . import search
from .departments import department_of
from .models import Commune, Place, Qualification

# --- The standard --------------------------------------------------------------------------

V1_COLUMNS = [
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse",
    "complement_adresse", "latitude", "longitude", "typologie", "telephone", "courriels",
    "site_web", "horaires", "presentation_resume", "presentation_detail", "source",
    "itinerance", "structure_parente", "date_maj", "services",
    "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels",
    "modalites_acces", "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
]
# Columns without which no row could be used: their absence is a whole-file error.
REQUIRED_COLUMNS = ["id", "nom", "commune", "code_postal", "adresse"]
V01_ONLY_COLUMNS = {"courriel", "publics_accueillis", "conditions_acces", "labels_nationaux",
                    "labels_autres", "accessibilite", "cle_ban"}
V1_ONLY_COLUMNS = {"courriels", "publics_specifiquement_adresses", "prise_en_charge_specifique",
                   "frais_a_charge", "dispositif_programmes_nationaux", "formations_labels",
                   "autres_formations_labels", "modalites_acces", "itinerance",
                   "fiche_acces_libre"}

V1 = "1.0.2"
V01 = "0.1"
SEPARATORS = {V1: "|", V01: ";"}

# The 9 services of v1.0.2, in the standard's order (Category.standard_label holds them).
STANDARD_SERVICES = [
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
]
# The 15 services of v0.1 condensed into the 9 of v1 (the standard's change log).
OLD_SERVICES = {
    "Devenir autonome dans les démarches administratives": "Aide aux démarches administratives",
    "Réaliser des démarches administratives avec un accompagnement":
        "Aide aux démarches administratives",
    "Accompagner les démarches de santé": "Aide aux démarches administratives",
    "Prendre en main un smartphone ou une tablette":
        "Maîtrise des outils numériques du quotidien",
    "Prendre en main un ordinateur": "Maîtrise des outils numériques du quotidien",
    "Utiliser le numérique au quotidien": "Maîtrise des outils numériques du quotidien",
    "Favoriser mon insertion professionnelle": "Insertion professionnelle via le numérique",
    "Créer et développer mon entreprise": "Insertion professionnelle via le numérique",
    "Soutenir la parentalité et l'éducation avec le numérique":
        "Parentalité et éducation avec le numérique",
    "Créer avec le numérique": "Loisirs et créations numériques",
    "Approfondir ma culture numérique": "Compréhension du monde numérique",
    "Promouvoir la citoyenneté numérique": "Compréhension du monde numérique",
    "Accéder à une connexion internet": "Accès internet et matériel informatique",
    "Accéder à du matériel": "Accès internet et matériel informatique",
    "S'équiper en matériel informatique":
        "Acquisition de matériel informatique à prix solidaire",
}

PUBLICS = ["Jeunes", "Étudiants", "Familles et/ou enfants", "Seniors", "Femmes"]
SPECIFIC_SUPPORT = ["Surdité", "Handicaps moteurs", "Handicaps mentaux", "Illettrisme",
                    "Langues étrangères (anglais)", "Langues étrangères (autres)",
                    "Déficience visuelle"]
FEES = ["Gratuit", "Gratuit sous condition", "Payant"]
NATIONAL_SCHEMES = [
    "Aidants Connect", "Bibliothèques numérique de référence", "Certification PIX",
    "Conseillers numériques", "Emmaüs Connect", "France Services", "Grande école du numérique",
    "La Croix Rouge", "Point d'accès numérique CAF", "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
]
LABELS = [
    "Formé à « Mon Espace Santé »", "Formé à « DUPLEX » (illettrisme)",
    "Arnia/MedNum BFC (Bourgogne-Franche-Comté)",
    "Collectif ressources et acteurs réemploi (Normandie)", "Étapes numériques(La Poste)",
    "Fabriques de Territoire", "Les Éclaireurs du numérique (Drôme)",
    "Mes Papiers (Métropole de Lyon)", "ORDI 3.0", "SUD LABS (PACA)",
]
ACCESS_MODES = ["Se présenter", "Téléphoner", "Contacter par mail", "Prendre un RDV en ligne",
                "Ce lieu n'accueille pas de public",
                "Envoyer un mail avec une fiche de prescription"]
SUPPORT_MODES = ["En autonomie", "Accompagnement individuel", "Dans un atelier collectif",
                 "À distance"]
ITINERANCY = ["Itinérant", "Fixe"]

ORDER = {"publics": PUBLICS, "specific_support": SPECIFIC_SUPPORT, "fees": FEES,
         "national_schemes": NATIONAL_SCHEMES, "labels": LABELS, "access_modes": ACCESS_MODES,
         "support_modes": SUPPORT_MODES, "itinerancy": ITINERANCY}

# v0.1 enumerations: old label -> list of (model field, v1 value); an empty list means
# "known, without an equivalent in v1" (dropped silently).
OLD_PUBLICS = {
    "Seniors (+ 65 ans)": [("publics", "Seniors")],
    "Familles/enfants": [("publics", "Familles et/ou enfants")],
    "Adultes": [],
    "Jeunes (16-26 ans)": [("publics", "Jeunes")],
    "Uniquement femmes": [("publics", "Femmes")],
    "Public langues étrangères": [("specific_support", "Langues étrangères (autres)")],
    "Déficience visuelle": [("specific_support", "Déficience visuelle")],
    "Surdité": [("specific_support", "Surdité")],
    "Handicaps psychiques : troubles psychiatriques donnant lieu à des atteintes "
    "comportementales": [("specific_support", "Handicaps mentaux")],
    "Handicaps mentaux : déficiences limitant les activités d'une personne":
        [("specific_support", "Handicaps mentaux")],
    "Personnes en situation d'illettrisme": [("specific_support", "Illettrisme")],
}
OLD_FEES = {
    "Gratuit : Je peux accéder gratuitement au lieu et à ses services": [("fees", "Gratuit")],
    "Gratuit sous condition : La gratuité est conditionnée à des critères (situation "
    "familiale, convention avec un organisme social...)": [("fees", "Gratuit sous condition")],
    "Payant : L'accès au lieu et/ou à ses services est payant": [("fees", "Payant")],
    "Accepte le Pass numérique : Il est possible d'utiliser un Pass numérique pour accéder au "
    "lieu": [],
    "Adhésion : L'accès au lieu et/ou à ses services nécessite d'y adhérer": [("fees", "Payant")],
}
OLD_LABELS = {
    "France Services": [("national_schemes", "France Services")],
    "CNFS": [("national_schemes", "Conseillers numériques")],
    "APTIC": [("other_labels", "APTIC")],
    "Aidants Connect": [("national_schemes", "Aidants Connect")],
    "Fabriques de Territoire": [("labels", "Fabriques de Territoire")],
    "Grandes écoles du numérique": [("national_schemes", "Grande école du numérique")],
    "Point relais CAF": [("national_schemes", "Point d'accès numérique CAF")],
    "Point numérique CAF": [("national_schemes", "Point d'accès numérique CAF")],
    "Relais pôle emploi": [("other_labels", "Relais pôle emploi")],
    "French Tech": [("other_labels", "French Tech")],
    "Campus connecté": [("other_labels", "Campus connecté")],
}
OLD_SUPPORT_MODES = {
    "Seul : j'ai accès à du matériel et une connexion": [("support_modes", "En autonomie")],
    "Avec de l'aide : je suis accompagné seul dans l'usage du numérique":
        [("support_modes", "Accompagnement individuel")],
    "Dans un atelier : j'apprends collectivement à utiliser le numérique":
        [("support_modes", "Dans un atelier collectif")],
    "A ma place : une personne habilitée fait les démarches à ma place":
        [("support_modes", "Accompagnement individuel")],
}

# Bounding boxes (south, west, north, east) of France: mainland and Corsica, then overseas.
FRANCE_BOXES = [
    (41.2, -5.8, 51.3, 9.9),        # mainland and Corsica
    (15.8, -61.9, 16.6, -60.9),     # Guadeloupe
    (17.8, -63.2, 18.2, -62.7),     # Saint-Martin, Saint-Barthélemy
    (14.3, -61.3, 14.95, -60.75),   # Martinique
    (2.0, -54.7, 5.9, -51.5),       # Guyane
    (-21.5, 55.1, -20.8, 55.9),     # La Réunion
    (-13.1, 44.9, -12.5, 45.4),     # Mayotte
    (46.7, -56.5, 47.2, -56.1),     # Saint-Pierre-et-Miquelon
    (-22.9, 163.5, -19.5, 168.2),   # Nouvelle-Calédonie
    (-28.0, -155.0, -7.8, -134.0),  # Polynésie française
    (-14.4, -178.3, -13.1, -176.1),  # Wallis-et-Futuna
]

PHONE_PATTERN = re.compile(r"^(\+33|\+590|\+594|\+262|\+596|\+269|\+687|\+689|\+508|\+681)\d{6,9}$")
# Overseas mobile and landline prefixes (after the trunk 0) and their country codes.
OVERSEAS_PHONE_PREFIXES = {
    "590": "+590", "690": "+590", "594": "+594", "694": "+594", "262": "+262",
    "692": "+262", "693": "+262", "596": "+596", "696": "+596", "269": "+262", "639": "+262",
}
PIVOT_PATTERN = re.compile(r"^[a-zA-Z0-9]{9,14}$")
INSEE_PATTERN = re.compile(r"^([013-9]\d|2[AB1-9])\d{3}$")
PLACEHOLDER_PIVOT = "00000000000000"


# --- Errors and the report ------------------------------------------------------------------

class ImportFileError(Exception):
    """The file cannot be read as a whole; nothing was imported."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class RowError(Exception):
    def __init__(self, field, reason):
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class Problem:
    row: int
    place_id: str
    field: str
    reason: str

    def __str__(self):
        where = _("ligne %(row)s") % {"row": self.row}
        if self.place_id:
            where += f" (id {self.place_id})"
        return f"{where}, {self.field} : {self.reason}"


@dataclass
class ImportReport:
    version: str = ""
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    qualified: int = 0
    rejected: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    def summary(self):
        return f"created {self.created}, updated {self.updated}, rejected {len(self.rejected)}"


# --- Small normalisers ----------------------------------------------------------------------

def _key(label):
    """Compare labels regardless of case, accents' composition, apostrophes and spaces."""
    text = unicodedata.normalize("NFC", str(label)).replace("’", "'").replace("\u00a0", " ")
    return " ".join(text.split()).casefold()


def _text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def _values(value, separator):
    if value is None or value == "":
        return []
    if isinstance(value, list):
        items = value
    else:
        items = str(value).split(separator)
    return [_text(item) for item in items if _text(item)]


def normalise_phone(value):
    """A French phone number in the standard's international form (+33…), or "" if unusable.
    Accepts local forms such as "04 50 73 57 11" or "0033 4 50 73 57 11"."""
    digits = re.sub(r"[\s.\-/()]", "", _text(value))
    if not digits:
        return ""
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+330"):
        digits = "+33" + digits[4:]
    if re.fullmatch(r"0\d{9}", digits):
        country = OVERSEAS_PHONE_PREFIXES.get(digits[1:4], "+33")
        digits = country + digits[1:]
    elif re.fullmatch(r"[1-9]\d{8}", digits):  # the trunk 0 lost by a spreadsheet
        digits = "+33" + digits
    return digits if PHONE_PATTERN.match(digits) else ""


def in_france(latitude, longitude):
    return any(south <= latitude <= north and west <= longitude <= east
               for south, west, north, east in FRANCE_BOXES)


def _number(value):
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return float(str(value).strip().replace(",", "."))


def _parse_date(value):
    text = _text(value)
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ].*)?", text) or None
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)
        if not match:
            raise ValueError(text)
        day, month, year = (int(part) for part in match.groups())
    parsed = date(year, month, day)
    # Placeholders such as 1970-01-01 mean "unknown".
    return parsed if parsed.year >= 2000 else None


# --- Reading the file -----------------------------------------------------------------------

def read_file(data):
    """(version, rows) from the bytes of a file; rows are (row number, dict).
    Raises ImportFileError when the file cannot be used as a whole."""
    if isinstance(data, str):
        text = data
    else:
        # A CSV header never holds a NUL: a file that does there is binary. A NUL further
        # down, or inside a JSON array, belongs to one row, which parse_row rejects.
        head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not head.startswith((b"[", b"{")) and b"\x00" in head.split(b"\n", 1)[0]:
            raise ImportFileError(_("Ce fichier n’est ni un CSV ni un JSON (contenu binaire)."))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise ImportFileError(
                _("Le fichier n’est pas encodé en UTF-8 (octet invalide en position "
                  "%(position)s). Enregistrez-le en UTF-8 puis réessayez.")
                % {"position": error.start}
            ) from error
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ImportFileError(_("Le fichier est vide."))
    if text.lstrip()[:1] in "[{":
        rows, columns = _read_json(text)
    else:
        rows, columns = _read_csv(text)
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ImportFileError(
            _("Colonnes obligatoires manquantes : %(columns)s. Le fichier doit suivre le "
              "standard national des lieux de médiation numérique (v1.0.2 ou v0.1).")
            % {"columns": ", ".join(missing)}
        )
    if columns & V1_ONLY_COLUMNS:
        version = V1
    elif columns & V01_ONLY_COLUMNS:
        version = V01
    else:
        version = V01 if text.lstrip()[:1] == "[" else V1
    return version, rows


def _read_json(text):
    try:
        # strict=False: a raw control character in a string is one row's problem (parse_row
        # rejects that row), not the whole file's.
        content = json.loads(text, strict=False)
    except json.JSONDecodeError as error:
        raise ImportFileError(
            _("JSON invalide (ligne %(line)s, colonne %(column)s) : %(message)s.")
            % {"line": error.lineno, "column": error.colno, "message": error.msg}
        ) from error
    if not isinstance(content, list) or not all(isinstance(item, dict) for item in content):
        raise ImportFileError(_("Le JSON doit être un tableau d’objets, un objet par lieu."))
    if not content:
        raise ImportFileError(_("Le fichier ne contient aucun lieu."))
    columns = set()
    for item in content:
        columns.update(item)
    return list(enumerate(content, start=1)), columns


def _read_csv(text):
    first_line = text.lstrip().splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text.lstrip()), delimiter=delimiter, strict=True)
        header = [_text(name).lower() for name in next(reader)]
        records = list(reader)
    except csv.Error as error:
        raise ImportFileError(
            _("Ce fichier n’est pas un CSV lisible : %(message)s.") % {"message": error}
        ) from error
    if len(header) < 2:
        raise ImportFileError(
            _("Ce fichier n’est ni un CSV (colonnes séparées par des virgules) ni un JSON.")
        )
    rows = []
    for number, record in enumerate(records, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            rows.append((number, {"__columns__": len(record)}))
            continue
        rows.append((number, dict(zip(header, record, strict=True))))
    if not rows:
        raise ImportFileError(_("Le fichier ne contient aucun lieu."))
    return rows, set(header)


# --- One row --------------------------------------------------------------------------------

class _Mapper:
    """Maps enumerated labels (v1 and v0.1) onto model fields and categories."""

    def __init__(self):
        self.categories = {
            _key(category.standard_label): category
            for category in Category.objects.filter(standard_label__in=STANDARD_SERVICES)
        }
        for old, new in OLD_SERVICES.items():
            if _key(new) in self.categories:
                self.categories[_key(old)] = self.categories[_key(new)]
        self.enumerations = {}
        for target, labels in [
            ("publics", PUBLICS), ("specific_support", SPECIFIC_SUPPORT), ("fees", FEES),
            ("national_schemes", NATIONAL_SCHEMES), ("labels", LABELS),
            ("access_modes", ACCESS_MODES), ("support_modes", SUPPORT_MODES),
            ("itinerancy", ITINERANCY),
        ]:
            self.enumerations[target] = {_key(label): [(target, label)] for label in labels}
        for target, old in [("publics", OLD_PUBLICS), ("fees", OLD_FEES),
                            ("national_schemes", OLD_LABELS), ("support_modes",
                                                               OLD_SUPPORT_MODES)]:
            self.enumerations[target].update(
                {_key(label): mapped for label, mapped in old.items()})
        # v1 splits v0.1's publics into two columns; either column accepts either vocabulary.
        both = {**self.enumerations["publics"], **self.enumerations["specific_support"]}
        self.enumerations["publics"] = self.enumerations["specific_support"] = both
        labels = {**self.enumerations["national_schemes"], **self.enumerations["labels"]}
        self.enumerations["national_schemes"] = self.enumerations["labels"] = labels

    def enumerate(self, column, target, values, into):
        table = self.enumerations[target]
        for value in values:
            mapped = table.get(_key(value))
            if mapped is None:
                raise RowError(column, _("valeur inconnue « %(value)s »") % {"value": value})
            for field_name, label in mapped:
                if label not in into[field_name]:
                    into[field_name].append(label)

    def categories_of(self, values):
        found = []
        for value in values:
            category = self.categories.get(_key(value))
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


def _required(raw, column, reason):
    value = _text(raw.get(column))
    if not value:
        raise RowError(column, reason)
    return value


def parse_row(raw, version, mapper, *, source, warn):
    """The model values of one row, and its categories. Raises RowError for unusable rows;
    calls warn(field, reason) for dropped optional values."""
    if "__columns__" in raw:
        raise RowError("*", _("nombre de colonnes incorrect (%(count)s)")
                       % {"count": raw["__columns__"]})
    for column, value in raw.items():
        if _has_control_characters(value):
            raise RowError(column, _("caractère de contrôle (par exemple un caractère nul) : "
                                     "la ligne est illisible"))
    separator = SEPARATORS[version]
    values = {
        "source_id": _required(raw, "id", _("identifiant manquant")),
        "name": _required(raw, "nom", _("nom manquant")),
        "town": _required(raw, "commune", _("commune manquante")),
        "address": _required(raw, "adresse", _("adresse manquante")),
        "address_complement": _text(raw.get("complement_adresse")),
        "parent_structure": _text(raw.get("structure_parente")),
        "source": source or _text(raw.get("source"))[:100] or "import",
    }
    postcode = re.sub(r"\s", "", _text(raw.get("code_postal")))
    if not postcode:
        raise RowError("code_postal", _("code postal manquant"))
    if postcode.isdigit() and len(postcode) == 4:
        postcode = "0" + postcode  # a spreadsheet ate the leading zero
    if not re.fullmatch(r"\d{5}", postcode):
        raise RowError("code_postal", _("code postal invalide « %(value)s » (5 chiffres)")
                       % {"value": postcode})
    values["postcode"] = postcode

    insee = _text(raw.get("code_insee")).upper()
    if insee and len(insee) == 4 and insee.isdigit():
        insee = "0" + insee
    if insee and not INSEE_PATTERN.match(insee):
        warn("code_insee", _("code INSEE invalide « %(value)s », ignoré") % {"value": insee})
        insee = ""
    values["insee_code"] = insee
    values["department"] = department_of(insee or postcode)

    values["latitude"], values["longitude"] = _coordinates(raw, insee, postcode)

    pivot = re.sub(r"\s", "", _text(raw.get("pivot")))
    if pivot and not PIVOT_PATTERN.match(pivot):
        warn("pivot", _("pivot invalide « %(value)s » (SIRET ou RNA), ignoré") % {"value": pivot})
        pivot = ""
    values["pivot"] = pivot

    hours = _text(raw.get("horaires"))
    if hours:
        try:
            opening_hours.OpeningHours(hours)
        except (opening_hours.ParserError, ValueError):
            warn("horaires", _("horaires ignorés : « %(value)s » ne suit pas la syntaxe "
                               "OpenStreetMap « opening_hours »") % {"value": hours})
            hours = ""
    values["opening_hours"] = hours

    phone = _text(raw.get("telephone"))
    values["phone"] = normalise_phone(phone)
    if phone and not values["phone"]:
        warn("telephone", _("numéro de téléphone invalide « %(value)s », ignoré")
             % {"value": phone})

    email_column = "courriels" if "courriels" in raw else "courriel"
    values["emails"] = []
    for email in re.split(r"[|;,\s]+", _text(raw.get(email_column))):
        if not email:
            continue
        try:
            EmailValidator()(email)
        except ValidationError:
            warn(email_column, _("adresse e-mail invalide « %(value)s », ignorée")
                 % {"value": email})
            continue
        values["emails"].append(email)

    values["websites"] = [url for url in (_url(item, "site_web", warn)
                                          for item in _values(raw.get("site_web"), separator))
                          if url]
    accessibility_column = "fiche_acces_libre" if "fiche_acces_libre" in raw else "accessibilite"
    values["accessibility_url"] = _url(raw.get(accessibility_column), accessibility_column, warn)
    values["booking_url"] = _url(raw.get("prise_rdv"), "prise_rdv", warn)

    summary = _text(raw.get("presentation_resume"))
    if len(summary) > 280:
        warn("presentation_resume", _("présentation résumée tronquée à 280 caractères"))
        summary = summary[:279] + "…"
    values["summary"] = summary
    values["description"] = _text(raw.get("presentation_detail"))
    values["typology"] = "|".join(_values(raw.get("typologie"), separator))

    try:
        values["source_updated_on"] = _parse_date(raw.get("date_maj"))
    except ValueError:
        warn("date_maj", _("date invalide « %(value)s », ignorée")
             % {"value": _text(raw.get("date_maj"))})
        values["source_updated_on"] = None

    lists = {name: [] for name in ["publics", "specific_support", "fees", "national_schemes",
                                   "labels", "access_modes", "support_modes", "itinerancy",
                                   "other_labels"]}
    for column, target in [
        ("publics_specifiquement_adresses", "publics"),
        ("prise_en_charge_specifique", "specific_support"),
        ("publics_accueillis", "publics"),
        ("frais_a_charge", "fees"), ("conditions_acces", "fees"),
        ("dispositif_programmes_nationaux", "national_schemes"),
        ("formations_labels", "labels"), ("labels_nationaux", "national_schemes"),
        ("modalites_acces", "access_modes"),
        ("modalites_accompagnement", "support_modes"),
        ("itinerance", "itinerancy"),
    ]:
        mapper.enumerate(column, target, _values(raw.get(column), separator), lists)
    for name, order in ORDER.items():  # the standard's order: stable, comparable rows
        lists[name].sort(key=order.index)
    other = lists.pop("other_labels")
    other += _values(raw.get("autres_formations_labels") or raw.get("labels_autres"), separator)
    values["other_labels"] = ", ".join(dict.fromkeys(other))
    values.update(lists)
    categories = mapper.categories_of(_values(raw.get("services"), separator))

    for name, limit in _MAX_LENGTHS.items():
        if isinstance(values[name], str) and len(values[name]) > limit:
            raise RowError(_COLUMN_OF.get(name, name),
                           _("trop long (%(length)s caractères, %(limit)s au plus)")
                           % {"length": len(values[name]), "limit": limit})
    return values, categories


def _url(value, column, warn):
    url = _text(value)
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


def _coordinates(raw, insee, postcode):
    try:
        latitude, longitude = _number(raw.get("latitude")), _number(raw.get("longitude"))
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


# --- The import -----------------------------------------------------------------------------

def import_places(data, *, source=None, qualified=False, actor=None, file_name=""):
    """Import a file of the national standard (bytes). Returns an ImportReport.
    Raises ImportFileError (nothing imported) when the file cannot be read as a whole."""
    version, rows = read_file(data)
    report = ImportReport(version=version)
    mapper = _Mapper()
    if not mapper.categories:
        raise ImportFileError(_("La nomenclature des services est vide : impossible de "
                                "rattacher les services des lieux."))
    services_of = {}
    for service in Service.objects.active().filter(category__active=True):
        services_of.setdefault(service.category_id, []).append(service.pk)

    parsed = {}
    for number, raw in rows:
        place_id = _text(raw.get("id")) if "__columns__" not in raw else ""

        def warn(column, reason, number=number, place_id=place_id):
            report.warnings.append(Problem(number, place_id, column, reason))

        try:
            values, categories = parse_row(raw, version, mapper, source=source, warn=warn)
        except RowError as error:
            report.rejected.append(Problem(number, place_id, error.field, error.reason))
            continue
        key = (values["source"], values["source_id"])
        if key in parsed:
            report.rejected.append(Problem(
                number, place_id, "id",
                _("identifiant en double dans le fichier (déjà vu ligne %(row)s)")
                % {"row": parsed[key][0]}))
            continue
        service_ids = sorted({pk for category in categories
                              for pk in services_of.get(category.pk, [])})
        parsed[key] = (number, values, service_ids)

    with transaction.atomic():
        _write(parsed, report, qualified=qualified, actor=actor, file_name=file_name)
    return report


def _write(parsed, report, *, qualified, actor, file_name):
    sources = {key[0] for key in parsed}
    source_ids = {key[1] for key in parsed}
    existing = {
        (place.source, place.source_id): place
        for place in Place.objects.select_for_update().filter(
            Q(source__in=sources) & Q(source_id__in=source_ids)
        ).order_by("pk")
    }
    current_services = {}
    through = Place.services.through
    for place_id, service_id in through.objects.filter(
        place_id__in=[place.pk for place in existing.values()]
    ).values_list("place_id", "service_id"):
        current_services.setdefault(place_id, set()).add(service_id)

    now = timezone.now()
    to_create, to_update, newly_qualified = [], [], {}
    new_services, replaced_services = [], {}
    for key, (_number, values, service_ids) in parsed.items():
        place = existing.get(key)
        if place is None:
            place = Place(**values)
            if qualified:
                place.qualification = Qualification.QUALIFIED
            to_create.append((place, service_ids))
            continue
        changed = any(getattr(place, name) != value for name, value in values.items())
        services_changed = current_services.get(place.pk, set()) != set(service_ids)
        promote = qualified and place.qualification in (Qualification.DRAFT,
                                                        Qualification.SUBMITTED)
        if not (changed or services_changed or promote):
            report.unchanged += 1
            continue
        for name, value in values.items():
            setattr(place, name, value)
        place.updated_at = now
        if promote:
            newly_qualified.setdefault(place.qualification, []).append(place)
            place.qualification = Qualification.QUALIFIED
        if services_changed:
            replaced_services[place.pk] = service_ids
        to_update.append(place)

    created = Place.objects.bulk_create([place for place, _ids in to_create], batch_size=500)
    for place, (_place, service_ids) in zip(created, to_create, strict=True):
        new_services += [through(place_id=place.pk, service_id=pk) for pk in service_ids]
    if to_update:
        Place.objects.bulk_update(to_update, PLACE_FIELDS + ["qualification", "updated_at"],
                                  batch_size=500)
    if replaced_services:
        through.objects.filter(place_id__in=list(replaced_services)).delete()
        new_services += [through(place_id=place_id, service_id=pk)
                         for place_id, ids in replaced_services.items() for pk in ids]
    through.objects.bulk_create(new_services, batch_size=2000)
    if created or to_update:
        search.places_changed()  # bulk writes send no signals

    details = {"file": file_name, "qualified_import": qualified}
    if created:
        audit.record_many(actor, created, "place.imported", "",
                          created[0].qualification, **details)
    promoted = {place.pk for group in newly_qualified.values() for place in group}
    updated_only = [place for place in to_update if place.pk not in promoted]
    if updated_only:
        audit.record_many(actor, updated_only, "place.import_updated", **details)
    for from_state, places in newly_qualified.items():
        audit.record_many(actor, places, "place.qualified", from_state,
                          Qualification.QUALIFIED, via="import", **details)
    report.created = len(created)
    report.updated = len(to_update)
    report.qualified = (len(created) if qualified else 0) + sum(
        len(group) for group in newly_qualified.values())


# --- The export -----------------------------------------------------------------------------

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
