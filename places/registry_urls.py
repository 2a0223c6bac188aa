"""Structures joining the scheme and the operator's qualification queue (French URLs)."""

from django.urls import path

from . import registry_views as views

urlpatterns = [
    path("structure/inscription/", views.signup, name="registry-signup"),
    path("structure/inscription/confirmer/<str:token>/", views.signup_confirm,
         name="registry-signup-confirm"),
    path("structure/lieux/", views.places, name="registry-places"),
    path("structure/lieux/nouveau/", views.place_create, name="registry-place-create"),
    path("structure/lieux/revendiquer/", views.claim, name="registry-claim"),
    path("structure/lieux/<int:pk>/modifier/", views.place_edit, name="registry-place-edit"),
    path("structure/lieux/<int:pk>/soumettre/", views.place_submit,
         name="registry-place-submit"),
    path("structure/revendications/<int:pk>/decision/", views.claim_decision,
         name="registry-claim-decision"),
    path("structure/eligibilite/", views.eligibility, name="registry-eligibility"),
    path("structure/banque/", views.bank, name="registry-bank"),
    path("structure/charte/", views.charter, name="registry-charter"),
    path("operateur/qualification/", views.operator_queue, name="operator-qualification"),
    path("operateur/qualification/<int:pk>/", views.operator_place,
         name="operator-qualification-place"),
    path("operateur/revendications/<int:pk>/", views.operator_claim, name="operator-claim"),
    path("operateur/modifications/<int:pk>/", views.operator_change, name="operator-change"),
]
