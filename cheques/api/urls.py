"""The cheques app's part of the partner API (/api/v1/)."""

from django.urls import path

from . import orders, printing, redemption, reimbursement, reporting

urlpatterns = [
    # Orders, booklets and cheques.
    path("orders/", orders.OrderListCreate.as_view(), name="api-orders"),
    path("orders/<int:pk>/", orders.OrderDetail.as_view(), name="api-order"),
    path("orders/<int:pk>/approve/", orders.OrderApprove.as_view(), name="api-order-approve"),
    path("orders/<int:pk>/reject/", orders.OrderReject.as_view(), name="api-order-reject"),
    path("orders/<int:pk>/cheques/", orders.OrderCheques.as_view(), name="api-order-cheques"),
    path("booklets/<str:number>/distribute/", orders.BookletDistribute.as_view(),
         name="api-booklet-distribute"),
    path("booklets/move/", orders.BookletMove.as_view(), name="api-booklets-move"),
    path("booklets/<str:number>/cancel/", orders.BookletCancel.as_view(),
         name="api-booklet-cancel"),
    path("cheques/<str:code>/", orders.ChequeLookup.as_view(), name="api-cheque"),
    # Redemption.
    path("redemptions/", redemption.RedemptionListCreate.as_view(), name="api-redemptions"),
    path("redemptions/check/", redemption.RedemptionCheck.as_view(),
         name="api-redemptions-check"),
    path("redemptions/<int:pk>/", redemption.RedemptionUndo.as_view(),
         name="api-redemption-undo"),
    # Reporting.
    path("reporting/summary/", reporting.ReportingSummary.as_view(),
         name="api-reporting-summary"),
    # Printing.
    path("orders/<int:pk>/pdf/", printing.OrderPdf.as_view(), name="api-order-pdf"),
    path("orders/<int:pk>/print/", printing.OrderPrint.as_view(), name="api-order-print"),
    path("orders/<int:pk>/print/restart/", printing.OrderPrintRestart.as_view(),
         name="api-order-print-restart"),
    # Reimbursement.
    path("statements/", reimbursement.StatementList.as_view(), name="api-statements"),
    path("statements/<int:pk>/", reimbursement.StatementDetail.as_view(), name="api-statement"),
    path("statements/<int:pk>.pdf", reimbursement.StatementPdf.as_view(),
         name="api-statement-pdf"),
    path("statements/<int:pk>.csv", reimbursement.StatementCsv.as_view(),
         name="api-statement-csv"),
    path("statements/<int:pk>/validate/", reimbursement.StatementValidate.as_view(),
         name="api-statement-validate"),
    path("payouts/", reimbursement.PayoutList.as_view(), name="api-payouts"),
    path("payouts/<int:pk>/", reimbursement.PayoutDetail.as_view(), name="api-payout"),
    path("payouts/bank-files/", reimbursement.BankFileUpload.as_view(),
         name="api-payout-bank-files"),
    path("payouts/<int:pk>/sepa.xml", reimbursement.PayoutSepa.as_view(),
         name="api-payout-sepa"),
    path("payouts/<int:pk>/paid/", reimbursement.PayoutPaid.as_view(), name="api-payout-paid"),
    path("orders/<int:pk>/ledger/", reimbursement.OrderLedger.as_view(),
         name="api-order-ledger"),
]
