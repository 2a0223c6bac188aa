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


def file_download(fileobj, filename, content_type):
    """A file streamed as a private download (never cached, never sniffed)."""
    from django.http import FileResponse

    response = FileResponse(fileobj, as_attachment=True, filename=filename,
                            content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
