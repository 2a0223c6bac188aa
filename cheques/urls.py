from django.urls import include, path

urlpatterns = [
    path("", include("cheques.redemption_urls")),
    path("", include("cheques.reporting_urls")),
    path("", include("cheques.order_urls")),
    path("", include("cheques.print_urls")),
    path("", include("cheques.reimbursement_urls")),
]
