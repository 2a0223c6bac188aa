from django.urls import path

from . import order_views

urlpatterns = [
    path("commandes/", order_views.order_list, name="order-list"),
    path("commandes/nouvelle/", order_views.order_new, name="order-new"),
    path("commandes/nouvelle/recapitulatif/", order_views.order_summary, name="order-summary"),
    path("commandes/<int:pk>/", order_views.order_detail, name="order-detail"),
    path("commandes/<int:pk>/progression.json", order_views.order_progress,
         name="order-progress"),
    path("commandes/<int:pk>/devis.pdf", order_views.order_quote_pdf, name="order-quote-pdf"),
    path("commandes/<int:pk>/facture.pdf", order_views.order_invoice_pdf,
         name="order-invoice-pdf"),
    path("commandes/<int:pk>/annuler/", order_views.order_cancel, name="order-cancel"),
    path("commandes/<int:pk>/prolonger/", order_views.order_extend, name="order-extend"),
    path("operateur/commandes/", order_views.operator_queue, name="order-queue"),
    path("operateur/commandes/<int:pk>/valider/", order_views.order_approve,
         name="order-approve"),
    path("operateur/commandes/<int:pk>/refuser/", order_views.order_reject,
         name="order-reject"),
    path("carnets/remise/", order_views.booklet_distribute, name="booklet-distribute"),
    path("carnets/annulation/", order_views.booklet_cancel, name="booklet-cancel"),
]
