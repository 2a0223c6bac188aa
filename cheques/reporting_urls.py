from django.urls import path

from . import reporting_views

urlpatterns = [
    path("financeur/tableau-de-bord/", reporting_views.funder_dashboard,
         name="funder-dashboard"),
    path("financeur/tableau-de-bord/commande/<int:pk>/", reporting_views.order_dashboard,
         name="funder-order-dashboard"),
    path("financeur/tableau-de-bord/lieux.json", reporting_views.places_json,
         name="funder-dashboard-places"),
    path("operateur/tableau-de-bord/", reporting_views.operator_dashboard,
         name="operator-dashboard"),
]
