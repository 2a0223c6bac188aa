"""The public search API (mounted under /api/v1/). `<int:pk>` keeps `places/export.csv` (the
registry's export) free."""

from django.urls import path

from . import api

urlpatterns = [
    path("places/", api.PlaceSearchView.as_view(), name="api-places-search"),
    path("places/geojson/", api.PlaceGeoJSONView.as_view(), name="api-places-geojson"),
    path("places/<int:pk>/", api.PlaceDetailView.as_view(), name="api-place-detail"),
    path("communes/", api.CommuneAutocompleteView.as_view(), name="api-communes"),
]
