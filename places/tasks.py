"""Celery tasks of places: thin wrappers around the domain modules."""

from celery import shared_task


@shared_task
def publish_open_data_task():
    """The daily job: the open-data files of qualified places (places.publication)."""
    from .publication import publish

    return [outcome.as_dict() for outcome in publish()]
