from django.urls import path

from . import api

urlpatterns = [
    path("services/", api.NomenclatureView.as_view(), name="api-services"),
]
