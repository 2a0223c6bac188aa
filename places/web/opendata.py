"""The open-data pages (/donnees/): the list of published files with their schemas, licence,
date and counts; the files themselves, streamed from where the daily job published them
(places.publication) with validators for caches; and one place's public record."""

import os

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import ngettext
from django.views.decorators.http import require_safe

from aptic.permissions import is_operator

from .. import publication
from ..models import Place
from ..standard import inclusion

# Published at most once a day: an hour of freshness, then a cheap revalidation (ETag).
CACHE_CONTROL = "public, max-age=3600"


def _counts_text(counts):
    words = {
        "lieux": lambda n: ngettext("%(count)s lieu", "%(count)s lieux", n),
        "structures": lambda n: ngettext("%(count)s structure", "%(count)s structures", n),
        "services": lambda n: ngettext("%(count)s service", "%(count)s services", n),
    }
    return ", ".join(words[name](counts[name]) % {"count": f"{counts[name]:,}"
                                                  .replace(",", "\u202f")}
                     for name in words if name in counts)


@require_safe
def open_data(request):
    """/donnees/: what is published, under which schema and licence, when, how many rows.
    Operators also see why a file was not published at the last run."""
    files, checked_at = publication.status()
    for entry in files:
        # The platform's own address (SITE_URL), as in the files' links: the one to cite.
        entry["url"] = settings.SITE_URL + reverse("open-data-file",
                                                   args=[entry["dataset"].name])
        if entry["published"]:
            entry["counts_text"] = _counts_text(entry["published"]["counts"])
    return render(request, "places/open_data.html", {
        "files": files, "checked_at": checked_at, "licence": publication.LICENCE,
        "licence_url": publication.LICENCE_URL, "operator": is_operator(request.user),
    })


@require_safe
def published_file(request, name):
    """/donnees/lieux.csv, /donnees/lieux.json: the published file, streamed. Its ETag and
    Last-Modified come from the file opened (size and publication time), so that they always
    describe the bytes sent, even while the job replaces the file."""
    path = publication.published_path(name)
    if path is None:
        raise Http404
    try:
        handle = path.open("rb")
    except FileNotFoundError as error:
        raise Http404 from error
    stat = os.fstat(handle.fileno())
    etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
    headers = {"ETag": etag, "Last-Modified": http_date(stat.st_mtime),
               "Cache-Control": CACHE_CONTROL, "Access-Control-Allow-Origin": "*"}
    response = get_conditional_response(request, etag=etag, last_modified=int(stat.st_mtime))
    if response is None and request.method == "HEAD":
        response = HttpResponse(content_type=publication.BY_NAME[name].media_type)
        headers["Content-Length"] = str(stat.st_size)
    if response is not None:
        handle.close()
    else:
        response = FileResponse(handle, content_type=publication.BY_NAME[name].media_type)
        response["Content-Disposition"] = f'inline; filename="{name}"'
    for header, value in headers.items():
        response[header] = value
    return response


@require_safe
def place_record(request, pk):
    """/donnees/lieux/<id>.json: a qualified place as the next lieux.json will have it (its
    structure and services, data.inclusion v0)."""
    place = get_object_or_404(Place.objects.qualified(), pk=pk)
    data = inclusion.document(Place.objects.filter(pk=place.pk))
    response = HttpResponse(inclusion.dumps(data, indent=2),
                            content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response

