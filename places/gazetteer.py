"""The gazetteer: French communes with their postcodes and coordinates, shipped in the repo
(places/data/communes.csv.gz, derived from La Poste's « Base officielle des codes postaux »,
ODbL 1.0, see places/data/README-communes.md) so that search by postcode or town works
offline.

- `build_data_file(source, target)` derives our file from La Poste's CSV (one row per commune
  and postcode, readable names, département);
- `load()` upserts it into `Commune` (idempotent, bulk; used by a data migration and by
  `manage.py load_communes`);
- `autocomplete(q)` matches a postcode prefix or the beginning of a name, ignoring case and
  accents; `locate(postcode=..., insee=...)` gives the point to search around.
"""

import csv
import gzip
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .departments import department_of

DATA_FILE = Path(__file__).resolve().parent / "data" / "communes.csv.gz"
FIELDS = ["insee", "name", "postcode", "lat", "lon", "department"]

# Words that stay in lower case inside a name (« Saint-Germain-en-Laye », « Issy-les-… »).
_LOWER_WORDS = {"DE", "DU", "DES", "LA", "LE", "LES", "SUR", "SOUS", "EN", "ET", "AUX", "AU",
                "LEZ"}
_ABBREVIATIONS = {"ST": "Saint", "STE": "Sainte"}
_LEADING_ARTICLES = {"LE", "LA", "LES"}
_ARRONDISSEMENT_CITIES = {"PARIS", "LYON", "MARSEILLE"}


def normalise(text):
    """What names are matched on: lower case, no accents, punctuation as single spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = re.sub(r"[^0-9a-z]+", " ", text.lower())
    return " ".join(text.split())


def normalise_query(text):
    """Like `normalise`, and the abbreviations people type: « st etienne », « ste foy »."""
    words = normalise(text).split(" ")
    # The last word may still be being typed (« st » could become « strasbourg »).
    expanded = [{"st": "saint", "ste": "sainte"}.get(word, word) for word in words[:-1]]
    return " ".join([*expanded, words[-1]]).strip()


def readable_name(raw):
    """« ST ETIENNE » → « Saint-Etienne », « L ISLE D ESPAGNAC » → « L’Isle-d’Espagnac »,
    « LYON 01 » → « Lyon 1er arrondissement ». Accents cannot be restored from La Poste's
    upper-case names."""
    words = raw.split()
    if not words:
        return ""
    if (len(words) == 2 and words[0] in _ARRONDISSEMENT_CITIES and words[1].isdigit()):
        number = int(words[1])
        return f"{words[0].capitalize()} {number}{'er' if number == 1 else 'e'} arrondissement"
    parts = []  # (text, glue to the next word)
    index = 0
    while index < len(words):
        word = words[index]
        first = not parts
        has_next = index + 1 < len(words)
        if word in {"D", "L"} and has_next:  # elided article: d’, l’
            parts.append(((word if first else word.lower()) + "’", ""))
        elif word in _ABBREVIATIONS:
            parts.append((_ABBREVIATIONS[word], "-"))
        elif word == "A" and not first and has_next:
            parts.append(("à", "-"))
        elif word in _LOWER_WORDS and not first:
            parts.append((word.lower(), "-"))
        elif word in _LEADING_ARTICLES and first and has_next:
            parts.append((word.capitalize(), " "))
        else:
            parts.append((word.capitalize(), "-"))
        index += 1
    text = ""
    for position, (part, glue) in enumerate(parts):
        text += part
        if position + 1 < len(parts):
            text += glue
    return text


def build_data_file(source, target=DATA_FILE):
    """Derive our communes file from La Poste's `laposte_hexasmal.csv(.gz)`: one row per
    (INSEE code, postcode), localities (« Ligne_5 ») merged into their commune. Returns the
    number of rows written."""
    opener = gzip.open if str(source).endswith(".gz") else open
    communes = {}
    with opener(source, "rt", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            insee = row["Code_commune_INSEE"].strip().upper()
            postcode = row["Code_postal"].strip()
            if not insee or not postcode:
                continue
            lat, lon = "", ""
            gps = (row.get("coordonnees_gps") or "").strip()
            if gps and "," in gps:
                lat, lon = (f"{float(value):.5f}" for value in gps.split(",", 1))
            known = communes.get((insee, postcode))
            if known and known["lat"]:
                continue
            communes[(insee, postcode)] = {
                "insee": insee, "name": readable_name(row["Nom_commune"].strip()),
                "postcode": postcode, "lat": lat, "lon": lon,
                "department": department_of(insee),
            }
    buffer = io.StringIO()
    # Not an export: our own data file, read back by read_rows() and never served. The
    # spreadsheet writer's quotes (aptic.spreadsheet) would change the names it loads.
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for key in sorted(communes):
        writer.writerow(communes[key])
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input always gives the same bytes (a stable file in git).
    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        packed.write(buffer.getvalue().encode("utf-8"))
    return len(communes)


def read_rows(path=DATA_FILE):
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def load(*, model=None, path=DATA_FILE, departments=None, postcode_prefixes=None,
         batch_size=5000):
    """Upsert the communes file into `model` (Commune, or its historical version in a
    migration). Idempotent. `departments` or `postcode_prefixes` restrict what is loaded
    (tests). Returns the number of rows loaded."""
    if model is None:
        from .models import Commune as model
    departments = set(departments or ())
    prefixes = tuple(postcode_prefixes or ())
    batch, count = [], 0
    for row in read_rows(path):
        if departments and row["department"] not in departments:
            continue
        if prefixes and not row["postcode"].startswith(prefixes):
            continue
        batch.append(model(
            insee_code=row["insee"], name=row["name"], search_name=normalise(row["name"]),
            postcode=row["postcode"], department=row["department"],
            latitude=float(row["lat"]) if row["lat"] else None,
            longitude=float(row["lon"]) if row["lon"] else None,
        ))
        if len(batch) >= batch_size:
            count += _upsert(model, batch)
            batch = []
    if batch:
        count += _upsert(model, batch)
    return count


def _upsert(model, batch):
    model.objects.bulk_create(
        batch, update_conflicts=True, unique_fields=["insee_code", "postcode"],
        update_fields=["name", "search_name", "department", "latitude", "longitude"],
    )
    return len(batch)


def autocomplete(query, limit=10):
    """Communes whose postcode starts with `query` (digits), or whose name starts with it
    (whole name first, then any word of the name), ignoring case and accents."""
    from .models import Commune

    query = (query or "").strip()
    if query.replace(" ", "").isdigit():
        digits = query.replace(" ", "")[:5]
        return list(Commune.objects.filter(postcode__startswith=digits)
                    .order_by("postcode", "search_name")[:limit])
    needle = normalise_query(query)
    if len(needle) < 2:
        return []
    found = list(Commune.objects.filter(search_name__startswith=needle)
                 .order_by("search_name", "postcode")[:limit])
    if len(found) < limit:
        found += list(
            Commune.objects.filter(search_name__contains=" " + needle)
            .exclude(search_name__startswith=needle)
            .order_by("search_name", "postcode")[:limit - len(found)]
        )
    return found


# La Poste lists Paris, Lyon and Marseille by municipal arrondissement only (75101…, 69381…,
# 13201…), while people and data files also use the whole commune's INSEE code: a search by
# that code goes around the centroid of its arrondissements.
MUNICIPAL_ARRONDISSEMENTS = {
    "75056": ("Paris", [f"751{number:02d}" for number in range(1, 21)]),
    "69123": ("Lyon", [f"6938{number}" for number in range(1, 10)]),
    "13055": ("Marseille", [f"132{number:02d}" for number in range(1, 17)]),
}


@dataclass(frozen=True)
class Point:
    latitude: float
    longitude: float
    label: str


def locate(*, postcode=None, insee=None):
    """The point to search around for a postcode (the mean of its communes' centres) or an
    INSEE code (for Paris, Lyon and Marseille, the centroid of their arrondissements); None
    when unknown or without coordinates."""
    from .models import Commune

    communes = Commune.objects.filter(latitude__isnull=False, longitude__isnull=False)
    if insee and insee.strip().upper() in MUNICIPAL_ARRONDISSEMENTS:
        name, codes = MUNICIPAL_ARRONDISSEMENTS[insee.strip().upper()]
        # One point per arrondissement (Paris 16e has two postcodes).
        points = {}
        for code, latitude, longitude in (communes.filter(insee_code__in=codes)
                                          .values_list("insee_code", "latitude", "longitude")):
            points.setdefault(code, (latitude, longitude))
        if not points:
            return None
        return Point(latitude=sum(lat for lat, _lon in points.values()) / len(points),
                     longitude=sum(lon for _lat, lon in points.values()) / len(points),
                     label=name)
    if insee:
        communes = communes.filter(insee_code=insee.strip().upper())
    elif postcode:
        communes = communes.filter(postcode=postcode.strip())
    else:
        return None
    rows = list(communes.order_by("search_name"))
    if not rows:
        return None
    names = list(dict.fromkeys(row.name for row in rows))
    label = names[0] if len(names) == 1 else ", ".join(names[:3]) + ("…" if len(names) > 3
                                                                    else "")
    if postcode and not insee:
        label = f"{label} ({postcode.strip()})"
    return Point(
        latitude=sum(row.latitude for row in rows) / len(rows),
        longitude=sum(row.longitude for row in rows) / len(rows),
        label=label,
    )
