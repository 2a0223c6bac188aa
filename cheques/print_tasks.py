"""Celery tasks of printing: thin wrappers around cheques.print_jobs.

`print_job_task` plans the chunks and sends one `print_chunk_task` per chunk (a group: they
run in parallel on as many worker processes as there are); the chunk counted last sends
`merge_print_task`. Every task is ``acks_late`` and ``reject_on_worker_lost``: a worker that
dies mid-task gives its message back, and the task runs again from the start, which the
steps of cheques.print_jobs allow (deterministic files, conditional counting). When the
whole worker dies, its messages come back after the broker's visibility timeout
(CELERY_BROKER_TRANSPORT_OPTIONS); when they are lost for good, the beat job
`resume_stalled_print_jobs_task` sends again what a stalled job still needs.
In eager mode (the demo without Redis, tests) everything runs inline.
"""

import logging

from celery import group, shared_task

logger = logging.getLogger(__name__)

RETRIES = 3


def _retry_or_fail(task, job_id, error):
    from .print_jobs import fail_job

    if not task.request.is_eager and task.request.retries < RETRIES:
        raise task.retry(exc=error, countdown=2 ** task.request.retries)
    logger.exception("Printing job %s failed", job_id)
    fail_job(job_id, error)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=RETRIES)
def print_job_task(self, job_id):
    """Plan the job's chunks, then print them all."""
    from .print_jobs import plan_job

    try:
        chunk_ids = plan_job(job_id)
    except Exception as error:
        _retry_or_fail(self, job_id, error)
        return {"job": job_id, "chunks": 0}
    send_chunks(chunk_ids)
    return {"job": job_id, "chunks": len(chunk_ids)}


def send_chunks(chunk_ids):
    """One task per chunk, as a group: they run in parallel."""
    if chunk_ids:
        group(print_chunk_task.si(chunk_id) for chunk_id in chunk_ids).apply_async()


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=RETRIES)
def print_chunk_task(self, chunk_id):
    """Print one chunk; the last one counted sends the merge."""
    from .models import PrintChunk
    from .print_jobs import render_chunk

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
    from .print_jobs import merge_job

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
    from .print_jobs import resume_stalled_jobs

    return resume_stalled_jobs()
