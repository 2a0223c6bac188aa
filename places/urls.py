from django.urls import include, path

from . import views

urlpatterns = [
    path("lieux/", views.public_map, name="public-map"),
    path("lieux/<int:pk>/", views.place_detail, name="place-detail"),
    # Structures joining the scheme and the operator's qualification queue.
    path("", include("places.registry_urls")),
]
