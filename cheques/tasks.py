"""Celery tasks: thin wrappers around cheques.issuance and cheques.lifecycle."""

from celery import shared_task


@shared_task(acks_late=True)
def issue_order_task(order_id):
    """Issue an approved order (idempotent: an issued order is left alone)."""
    from .issuance import issue_order

    order = issue_order(order_id)
    return {"order": order.pk, "status": order.status, "cheques": order.issued_cheques}


@shared_task
def end_of_validity_task():
    """The daily job: J-30 alerts to funders, expiry and credit notes after the grace."""
    from .lifecycle import end_of_validity

    return end_of_validity()
from .print_tasks import (  # noqa: E402, F401
    merge_print_task,
    print_chunk_task,
    print_job_task,
    resume_stalled_print_jobs_task,
)


@shared_task
def monthly_reimbursement_task():
    """On the 1st of each month: the statements of the previous month's redemptions."""
    from .reimbursement import run

    return [statement.pk for statement in run()]
