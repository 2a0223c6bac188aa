from celery import shared_task


@shared_task
def ping():
    """Answers "pong": proves a worker is alive and reaches the broker."""
    return "pong"


@shared_task
def password_reset_task(email, language):
    """Look up the accounts of `email` and send each its reset link (aptic.passwords), in
    the language of the page that asked."""
    from django.utils import translation

    from .passwords import send_reset_mail

    with translation.override(language):
        send_reset_mail(email)
