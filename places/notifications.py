"""E-mails to a structure about its places, claims and changes: to its place managers and
its own address, with a link to its space. Sent once the change is committed. And e-mails
to the operator's staff about the platform's own work (the open-data publication)."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils.translation import gettext as _

from aptic.models import Membership, Organisation, Role


def recipients_of(structure):
    emails = set(
        Membership.objects.filter(organisation=structure, role=Role.PLACE_MANAGER,
                                  user__is_active=True).values_list("user__email", flat=True)
    )
    if structure.email:
        emails.add(structure.email)
    return sorted(email for email in emails if email)


def mail_structure(structure, message, params):
    """Send `message`, a (subject, body) pair of untranslated strings, filled with
    `params`, to `structure` (None: nobody). Returns the number of messages sent."""
    recipients = recipients_of(structure) if structure is not None else []
    if not recipients:
        return 0
    subject, body = message
    link = settings.SITE_URL + reverse("registry-places")
    return send_mail(
        _(subject) % params,
        _(body) % params + "\n\n" + _("Votre espace structure : %(link)s") % {"link": link},
        None, recipients,
    )


def operator_recipients():
    """The addresses of the operator's staff (active accounts)."""
    return sorted(set(Membership.objects.filter(
        role=Role.OPERATOR_STAFF, organisation__kind=Organisation.Kind.OPERATOR,
        user__is_active=True,
    ).exclude(user__email="").values_list("user__email", flat=True)))


def mail_operators(message, params, link):
    """Send `message`, a (subject, body) pair of untranslated strings, filled with `params`,
    to the operator's staff, with `link` (the page that tells more). Returns the number of
    messages sent."""
    recipients = operator_recipients()
    if not recipients:
        return 0
    subject, body = message
    return send_mail(_(subject) % params, _(body) % params + "\n\n" + link, None, recipients)
