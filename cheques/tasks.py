"""Celery tasks: thin wrappers around the domain modules (issuance, lifecycle,
reimbursement, printing); they load a row, call the domain, and retry where it helps.

Printing: `print_job_task` plans the chunks and sends one `print_chunk_task` per chunk (a
group: they run in parallel on as many worker processes as there are); the chunk counted
last sends `merge_print_task`. Every print task is ``acks_late`` and
``reject_on_worker_lost``: a worker that dies mid-task gives its message back, and the task
runs again from the start, which the steps of cheques.printing allow (deterministic files,
conditional counting). When the whole worker dies, its messages come back after the broker's
visibility timeout (CELERY_BROKER_TRANSPORT_OPTIONS); when they are lost for good, the beat
job `resume_stalled_print_jobs_task` sends again what a stalled job still needs. In eager
mode (the demo without Redis, tests) everything runs inline.

The domain sends tasks by name (aptic.celery.send), so that no domain module imports this
one: the arrows go from tasks to the domain only.
"""

import logging

from celery import shared_task

from aptic.celery import send_each

logger = logging.getLogger(__name__)


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


@shared_task
def monthly_reimbursement_task():
    """On the 1st of each month: the statements of the previous month's redemptions."""
    from .reimbursement import run

    return [statement.pk for statement in run()]


@shared_task
def idle_stock_digest_task():
    """Weekly (Mondays): the digest of idle stock to each funder and prescriber concerned;
    sent once per organisation and ISO week, however often the job runs."""
    from .funnel import send_idle_stock_digests

    return send_idle_stock_digests()


# --- printing ------------------------------------------------------------------------------



RETRIES = 3


def _retry_or_fail(task, job_id, error):
    from .printing import fail_job

    if not task.request.is_eager and task.request.retries < RETRIES:
        raise task.retry(exc=error, countdown=2 ** task.request.retries)
    logger.exception("Printing job %s failed", job_id)
    fail_job(job_id, error)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=RETRIES)
def print_job_task(self, job_id):
    """Plan the job's chunks, then print them all."""
    from .printing import plan_job

    try:
        chunk_ids = plan_job(job_id)
    except Exception as error:
        _retry_or_fail(self, job_id, error)
        return {"job": job_id, "chunks": 0}
    send_each("cheques.tasks.print_chunk_task", chunk_ids)
    return {"job": job_id, "chunks": len(chunk_ids)}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=RETRIES)
def print_chunk_task(self, chunk_id):
    """Print one chunk; the last one counted sends the merge."""
    from .models import PrintChunk
    from .printing import render_chunk

    job_id = PrintChunk.objects.filter(pk=chunk_id).values_list("job_id", flat=True).first()
    if job_id is None:
        return {"chunk": chunk_id, "merge": False}
    try:
        ready = render_chunk(chunk_id)
    except Exception as error:
        _retry_or_fail(self, job_id, error)
        return {"chunk": chunk_id, "merge": False}
    if ready:
        merge_print_task.delay(job_id)
    return {"chunk": chunk_id, "merge": ready}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=RETRIES)
def merge_print_task(self, job_id):
    """Join the chunks into the job's PDF."""
    from .printing import merge_job

    try:
        job = merge_job(job_id)
    except Exception as error:
        _retry_or_fail(self, job_id, error)
        return {"job": job_id, "state": "failed"}
    return {"job": job.pk, "state": job.state, "pages": job.pages}


@shared_task
def resume_stalled_print_jobs_task():
    """The beat job (every minute): restart the print jobs with no progress for
    PRINT_STALL_MINUTES."""
    from .printing import resume_stalled_jobs

    return resume_stalled_jobs()
