"""Everything under /api/v1/: each domain app brings its own routes."""

from django.urls import include, path

from .tokens_api import TokenCreate

urlpatterns = [
    path("auth/token/", TokenCreate.as_view(), name="api-token"),
    path("", include("services.api_urls")),
    path("", include("places.api.urls")),
    path("", include("cheques.api.urls")),
]
