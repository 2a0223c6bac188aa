"""The routes of places under /api/v1/: the caller, the public search API and the open-data
export. `places/export.csv` is not an integer, so it never matches `places/<int:pk>/`."""

from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    path("places/", views.PlaceSearchView.as_view(), name="api-places-search"),
    path("places/geojson/", views.PlaceGeoJSONView.as_view(), name="api-places-geojson"),
    path("places/<int:pk>/", views.PlaceDetailView.as_view(), name="api-place-detail"),
    path("communes/", views.CommuneAutocompleteView.as_view(), name="api-communes"),
    path("places/export.csv", views.export_csv, name="places-export-csv"),
]
