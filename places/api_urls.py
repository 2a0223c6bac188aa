from django.urls import include, path

from .me_api import MeView

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    # Public search API (map, distance search, GeoJSON) and the registry API (export).
    path("", include("places.search_api_urls")),
    path("", include("places.registry_api_urls")),
]
