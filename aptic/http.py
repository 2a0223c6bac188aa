"""Small HTTP helpers shared by the web pages and the API."""

from django.http import HttpResponse


def attachment(content, content_type, filename):
    """A download: `content` served as `filename`, never displayed inline."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def spreadsheet_csv(filename, rows):
    """A CSV download for spreadsheet software as French users have it: `;` separators and a
    byte-order mark so that accents survive; cells written by aptic.spreadsheet, which keeps
    formulas from running."""
    from . import spreadsheet

    response = attachment("\ufeff", "text/csv; charset=utf-8", filename)
    spreadsheet.writer(response).writerows(rows)
    return response
