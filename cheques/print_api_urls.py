from django.urls import path

from . import print_api

urlpatterns = [
    path("orders/<int:pk>/pdf/", print_api.OrderPdf.as_view(), name="api-order-pdf"),
    path("orders/<int:pk>/print/", print_api.OrderPrint.as_view(), name="api-order-print"),
    path("orders/<int:pk>/print/restart/", print_api.OrderPrintRestart.as_view(),
         name="api-order-print-restart"),
]
