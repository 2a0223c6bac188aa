from celery import shared_task


@shared_task
def ping():
    """Answers "pong": proves a worker is alive and reaches the broker."""
    return "pong"
