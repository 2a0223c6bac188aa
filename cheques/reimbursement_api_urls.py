from django.urls import path

from . import reimbursement_api as api

urlpatterns = [
    path("statements/", api.StatementList.as_view(), name="api-statements"),
    path("statements/<int:pk>/", api.StatementDetail.as_view(), name="api-statement"),
    path("statements/<int:pk>.pdf", api.StatementPdf.as_view(), name="api-statement-pdf"),
    path("statements/<int:pk>.csv", api.StatementCsv.as_view(), name="api-statement-csv"),
    path("statements/<int:pk>/validate/", api.StatementValidate.as_view(),
         name="api-statement-validate"),
    path("payouts/", api.PayoutList.as_view(), name="api-payouts"),
    path("payouts/<int:pk>/", api.PayoutDetail.as_view(), name="api-payout"),
    path("payouts/<int:pk>/sepa.xml", api.PayoutSepa.as_view(), name="api-payout-sepa"),
    path("payouts/<int:pk>/paid/", api.PayoutPaid.as_view(), name="api-payout-paid"),
    path("orders/<int:pk>/ledger/", api.OrderLedger.as_view(), name="api-order-ledger"),
]
