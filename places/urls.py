from django.urls import path

from . import views

urlpatterns = [
    path("lieux/", views.public_map, name="public-map"),
]
