"""Reading a file of the standard as a whole: CSV or JSON, UTF-8, its required columns, its
version; the rows are then mapped one by one (places.standard.rows)."""

import csv
import io
import json

from django.utils.translation import gettext as _

from .values import clean_text
from .vocabulary import REQUIRED_COLUMNS, V01, V01_ONLY_COLUMNS, V1, V1_ONLY_COLUMNS


class ImportFileError(Exception):
    """The file cannot be read as a whole; nothing was imported."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message

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
        header = [clean_text(name).lower() for name in next(reader)]
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

