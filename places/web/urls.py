"""The pages of places (French URLs): the public map and a place's page, the open data,
structures joining the scheme and their space, the operator's qualification queue."""

from django.urls import path

from . import opendata, operator, public, registry

urlpatterns = [
    path("lieux/", public.public_map, name="public-map"),
    path("lieux/<int:pk>/", public.place_detail, name="place-detail"),
    path("donnees/", opendata.open_data, name="open-data"),
    path("donnees/lieux/<int:pk>.json", opendata.place_record, name="open-data-place"),
    path("donnees/<str:name>", opendata.published_file, name="open-data-file"),
    path("structure/inscription/", registry.signup, name="registry-signup"),
    path("structure/inscription/confirmer/<str:token>/", registry.signup_confirm,
         name="registry-signup-confirm"),
    path("structure/lieux/", registry.places, name="registry-places"),
    path("structure/lieux/nouveau/", registry.place_create, name="registry-place-create"),
    path("structure/lieux/revendiquer/", registry.claim, name="registry-claim"),
    path("structure/lieux/<int:pk>/modifier/", registry.place_edit,
         name="registry-place-edit"),
    path("structure/lieux/<int:pk>/soumettre/", registry.place_submit,
         name="registry-place-submit"),
    path("structure/revendications/<int:pk>/decision/", registry.claim_decision,
         name="registry-claim-decision"),
    path("structure/eligibilite/", registry.eligibility, name="registry-eligibility"),
    path("structure/banque/", registry.bank, name="registry-bank"),
    path("structure/charte/", registry.charter, name="registry-charter"),
    path("operateur/qualification/", operator.operator_queue, name="operator-qualification"),
    path("operateur/qualification/<int:pk>/", operator.operator_place,
         name="operator-qualification-place"),
    path("operateur/revendications/<int:pk>/", operator.operator_claim, name="operator-claim"),
    path("operateur/modifications/<int:pk>/", operator.operator_change,
         name="operator-change"),
]
