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
