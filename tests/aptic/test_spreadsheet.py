"""The one CSV writer of the site (aptic.spreadsheet): formula-like text is quoted, numbers
stay numbers."""

import csv
import io
from decimal import Decimal

import pytest

from aptic import spreadsheet
from tests.helpers import HOSTILE_ADDRESS, HOSTILE_NAME, HOSTILE_TOWN, neutralised


@pytest.mark.parametrize("hostile", [
    HOSTILE_NAME, HOSTILE_TOWN, HOSTILE_ADDRESS, "-2+3", "\t=1+1", "\r=1+1", "=", "-",
    "+33 (0)5 56", "-1,5 €",
])
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(hostile):
    assert spreadsheet.cell(hostile) == neutralised(hostile)


@pytest.mark.parametrize("number", [
    12, -12, 0, -0.5792, Decimal("-12.50"), "-12,50", "12,50", "-0.5792", "+33556000000",
    "1e-05", "-1E+3", "2026-12-01", None,
])
def test_numbers_and_plain_numeric_text_are_written_unchanged(number):
    assert spreadsheet.cell(number) == number


def test_ordinary_text_is_written_unchanged():
    for text in ["Médiathèque Mériadeck", "'déjà entre apostrophes", " =espace devant",
                 "Tiers-lieu", "A=B", "—"]:
        assert spreadsheet.cell(text) == text


def test_the_writer_quotes_every_row_and_keeps_the_french_spreadsheet_format():
    content = spreadsheet.text([["lieu", "montant (€)", "centimes"],
                                [HOSTILE_NAME, "-12,50", -1250]])

    assert content.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(content.lstrip("\ufeff")), delimiter=";"))
    assert rows == [["lieu", "montant (€)", "centimes"],
                    [neutralised(HOSTILE_NAME), "-12,50", "-1250"]]


def test_the_dict_writer_quotes_its_cells_too():
    buffer = io.StringIO()
    writer = spreadsheet.DictWriter(buffer, fieldnames=["nom", "longitude"], delimiter=",")
    writer.writeheader()
    writer.writerow({"nom": HOSTILE_TOWN, "longitude": -0.58})

    assert buffer.getvalue().splitlines() == ["nom,longitude", "'+SUM(1;2),-0.58"]
