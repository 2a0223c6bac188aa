import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aptic.settings")

app = Celery("aptic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def send(name, *args):
    """Send the task registered under `name` (eagerly in the demo and the tests). Domain
    modules name the tasks they start instead of importing them: tasks import the domain,
    never the other way round."""
    return app.tasks[name].delay(*args)


def send_each(name, values):
    """One task `name` per value, as a group: they run in parallel on the workers."""
    from celery import group

    values = list(values)
    if values:
        group(app.tasks[name].si(value) for value in values).apply_async()
