from django.urls import path

from . import reimbursement_views as views

urlpatterns = [
    path("remboursements/", views.home, name="reimbursement-home"),
    path("remboursements/lancer/", views.start_run, name="reimbursement-run"),
    path("remboursements/releves/<int:pk>/", views.statement_detail,
         name="reimbursement-statement"),
    path("remboursements/releves/<int:pk>.pdf", views.statement_pdf,
         name="reimbursement-statement-pdf"),
    path("remboursements/releves/<int:pk>.csv", views.statement_csv,
         name="reimbursement-statement-csv"),
    path("remboursements/releves/<int:pk>/valider/", views.validate_statement,
         name="reimbursement-validate"),
    path("remboursements/lots/", views.create_batch, name="reimbursement-batch-create"),
    path("remboursements/lots/<int:pk>/sepa.xml", views.batch_sepa,
         name="reimbursement-batch-sepa"),
    path("remboursements/lots/<int:pk>/payer/", views.batch_paid,
         name="reimbursement-batch-paid"),
]
