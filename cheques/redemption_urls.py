from django.urls import path

from . import redemption_views

urlpatterns = [
    path("encaisser/", redemption_views.scan, name="redemption-scan"),
    path("encaissements/", redemption_views.history, name="redemption-history"),
    path("encaissements/<int:pk>/annuler/", redemption_views.undo, name="redemption-undo"),
    path("c/<str:code>", redemption_views.public_cheque, name="public-cheque"),
]
