"""Everything under /api/v1/: each domain app brings its own routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("services.api_urls")),
    path("", include("places.api_urls")),
    path("", include("cheques.api_urls")),
]
