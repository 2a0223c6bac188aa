"""Registry routes under /api/v1/: the open-data export of qualified places.

`places/export.csv` is not an integer, so it never matches the search API's
`places/<int:pk>/` route, whichever is included first."""

from django.urls import path

from . import registry_views

urlpatterns = [
    path("places/export.csv", registry_views.export_csv, name="places-export-csv"),
]
