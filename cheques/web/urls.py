"""The cheques app's pages."""

from django.urls import path

from . import orders, printing, redemption, reimbursement, reporting

urlpatterns = [
    # Redemption: the scan page, the history, the public page of a cheque and the form that
    # checks a typed code.
    path("encaisser/", redemption.scan, name="redemption-scan"),
    path("encaissements/", redemption.history, name="redemption-history"),
    path("encaissements/<int:pk>/annuler/", redemption.undo, name="redemption-undo"),
    path("c/", redemption.cheque_check, name="cheque-check"),
    path("c/<str:code>", redemption.public_cheque, name="public-cheque"),
    # Reporting: the funders' and the operator's dashboards.
    path("financeur/tableau-de-bord/", reporting.funder_dashboard, name="funder-dashboard"),
    path("financeur/tableau-de-bord/commande/<int:pk>/", reporting.order_dashboard,
         name="funder-order-dashboard"),
    path("financeur/tableau-de-bord/lieux.json", reporting.places_json,
         name="funder-dashboard-places"),
    path("operateur/tableau-de-bord/", reporting.operator_dashboard,
         name="operator-dashboard"),
    # Orders, hand-over and cancellation.
    path("commandes/", orders.order_list, name="order-list"),
    path("commandes/nouvelle/", orders.order_new, name="order-new"),
    path("commandes/nouvelle/recapitulatif/", orders.order_summary, name="order-summary"),
    path("commandes/nouvelle/prix.json", orders.order_price, name="order-price"),
    path("commandes/<int:pk>/", orders.order_detail, name="order-detail"),
    path("commandes/<int:pk>/progression.json", orders.order_progress, name="order-progress"),
    path("commandes/<int:pk>/devis.pdf", orders.order_quote_pdf, name="order-quote-pdf"),
    path("commandes/<int:pk>/facture.pdf", orders.order_invoice_pdf,
         name="order-invoice-pdf"),
    path("commandes/<int:pk>/annuler/", orders.order_cancel, name="order-cancel"),
    path("commandes/<int:pk>/prolonger/", orders.order_extend, name="order-extend"),
    path("operateur/commandes/", orders.operator_queue, name="order-queue"),
    path("operateur/commandes/<int:pk>/valider/", orders.order_approve, name="order-approve"),
    path("operateur/commandes/<int:pk>/refuser/", orders.order_reject, name="order-reject"),
    path("carnets/remise/", orders.booklet_distribute, name="booklet-distribute"),
    path("carnets/annulation/", orders.booklet_cancel, name="booklet-cancel"),
    # Printing.
    path("commandes/<int:pk>/impression/", printing.print_order, name="print-order"),
    path("commandes/<int:pk>/impression/etat.json", printing.print_status,
         name="print-status"),
    path("commandes/<int:pk>/impression/pdf/", printing.print_download,
         name="print-download"),
    path("commandes/<int:pk>/imprimer/", printing.print_start, name="print-start"),
    path("commandes/<int:pk>/impression/relancer/", printing.print_restart,
         name="print-restart"),
    path("commandes/<int:pk>/reimprimer-un-carnet/", printing.print_reprint,
         name="print-reprint"),
    path("commandes/<int:pk>/remplacer-un-carnet/", printing.print_replace,
         name="print-replace"),
    path("impressions/<int:job_pk>/pdf/", printing.print_job_download,
         name="print-job-download"),
    # Reimbursement of places.
    path("remboursements/", reimbursement.home, name="reimbursement-home"),
    path("remboursements/lancer/", reimbursement.start_run, name="reimbursement-run"),
    path("remboursements/releves/<int:pk>/", reimbursement.statement_detail,
         name="reimbursement-statement"),
    path("remboursements/releves/<int:pk>.pdf", reimbursement.statement_pdf,
         name="reimbursement-statement-pdf"),
    path("remboursements/releves/<int:pk>.csv", reimbursement.statement_csv,
         name="reimbursement-statement-csv"),
    path("remboursements/releves/<int:pk>/valider/", reimbursement.validate_statement,
         name="reimbursement-validate"),
    path("remboursements/lots/", reimbursement.create_batch,
         name="reimbursement-batch-create"),
    path("remboursements/lots/<int:pk>/sepa.xml", reimbursement.batch_sepa,
         name="reimbursement-batch-sepa"),
    path("remboursements/lots/<int:pk>/payer/", reimbursement.batch_paid,
         name="reimbursement-batch-paid"),
]
