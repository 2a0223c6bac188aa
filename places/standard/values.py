"""One value of the standard, read or written: text, lists, numbers, dates, phone numbers,
coordinates in France, INSEE codes and pivots (SIRET or RNA)."""

import re
import unicodedata
from datetime import date

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

def label_key(label):
    """Compare labels regardless of case, accents' composition, apostrophes and spaces."""
    text = unicodedata.normalize("NFC", str(label)).replace("’", "'").replace("\u00a0", " ")
    return " ".join(text.split()).casefold()


def clean_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split()) if not isinstance(value, str) else value.strip()


def split_values(value, separator):
    if value is None or value == "":
        return []
    if isinstance(value, list):
        items = value
    else:
        items = str(value).split(separator)
    return [clean_text(item) for item in items if clean_text(item)]


def normalise_phone(value):
    """A French phone number in the standard's international form (+33…), or "" if unusable.
    Accepts local forms such as "04 50 73 57 11" or "0033 4 50 73 57 11"."""
    digits = re.sub(r"[\s.\-/()]", "", clean_text(value))
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


def parse_number(value):
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return float(str(value).strip().replace(",", "."))


def parse_date(value):
    text = clean_text(value)
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

