from django.urls import path

from . import print_views

urlpatterns = [
    path("commandes/<int:pk>/impression/", print_views.print_order, name="print-order"),
    path("commandes/<int:pk>/impression/etat.json", print_views.print_status,
         name="print-status"),
    path("commandes/<int:pk>/impression/pdf/", print_views.print_download,
         name="print-download"),
    path("commandes/<int:pk>/imprimer/", print_views.print_start, name="print-start"),
    path("commandes/<int:pk>/impression/relancer/", print_views.print_restart,
         name="print-restart"),
    path("commandes/<int:pk>/reimprimer-un-carnet/", print_views.print_reprint,
         name="print-reprint"),
    path("impressions/<int:job_pk>/pdf/", print_views.print_job_download,
         name="print-job-download"),
]
