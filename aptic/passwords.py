"""Forgotten passwords: a reset link by e-mail, with Django's views and tokens.

The page answers the same whatever the address typed: « if an account has this address, a
message is on its way ». The look-up and the e-mail happen in a Celery task, so that an
address with an account takes no longer to answer than one without (no timing oracle).
Requests are limited per client address (THROTTLE_PASSWORD_RESET, aptic.ratelimit), and
each address receives at most PASSWORD_RESET_MAILS_PER_HOUR messages, whoever asks: an
attacker cannot flood someone's mailbox, and learns nothing from the limit (the page still
answers the same).
"""

import hashlib
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import celery
from .ratelimit import increment

MAIL_WINDOW_SECONDS = 3600


class ResetRequestForm(PasswordResetForm):
    """Django's form, its e-mail sent by `send_reset_mail` in a task."""

    email = forms.EmailField(label=_("Adresse e-mail de votre compte"), max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email",
                                                            "autofocus": True}))

    def save(self, **_kwargs):
        celery.send("aptic.tasks.password_reset_task", self.cleaned_data["email"],
                    get_language() or settings.LANGUAGE_CODE)


def link_hours():
    """How long a reset link stays valid, in hours (PASSWORD_RESET_TIMEOUT)."""
    return settings.PASSWORD_RESET_TIMEOUT // 3600


def may_mail(email):
    """Whether `email` may receive one more reset message this hour (counted here)."""
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    sent = increment(f"password-reset:mail:{digest}", MAIL_WINDOW_SECONDS)
    return sent <= settings.PASSWORD_RESET_MAILS_PER_HOUR


def send_reset_mail(email):
    """The reset message to each active account of `email` (none: nothing happens)."""
    if not may_mail(email):
        return
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(
            domain_override=urlsplit(settings.SITE_URL).netloc,
            use_https=settings.SITE_URL.startswith("https:"),
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.txt",
            extra_email_context={"site_url": settings.SITE_URL, "hours": link_hours()},
        )
