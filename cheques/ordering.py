"""Orders: a funder orders booklets, the operator approves (which invoices the order) or
rejects, the funder cancels.

Every change is atomic, guarded by a conditional update on the status (a decision is taken
once), and writes its audit row in the same transaction. The funder is e-mailed after commit.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.celery import send
from aptic.errors import DomainError
from aptic.l10n import format_grouped
from places.departments import DEPARTMENTS

from . import access, invoicing, pricing, validity
from .models import (
    MAX_BOOKLETS_PER_ORDER,
    MAX_CHEQUES_PER_BOOKLET,
    MAX_FACE_VALUE_CENTS,
    Order,
    PricingSettings,
)


def validate_order_terms(*, booklets, cheques_per_booklet, face_value_cents, valid_until,
                         territory):
    """Field errors of an order's terms (the form and the API both call this)."""
    errors = {}
    if booklets is not None and not 1 <= booklets <= MAX_BOOKLETS_PER_ORDER:
        errors["booklets"] = _("Entre 1 et %(max)s carnets par commande.") % {
            "max": format_grouped(MAX_BOOKLETS_PER_ORDER)}
    if cheques_per_booklet is not None and not (
        1 <= cheques_per_booklet <= MAX_CHEQUES_PER_BOOKLET
    ):
        errors["cheques_per_booklet"] = _("Entre 1 et %(max)s chèques par carnet.") % {
            "max": MAX_CHEQUES_PER_BOOKLET}
    if face_value_cents is not None and face_value_cents <= 0:
        errors["face_value_cents"] = _("La valeur faciale doit être positive.")
    elif face_value_cents is not None and face_value_cents > MAX_FACE_VALUE_CENTS:
        errors["face_value_cents"] = _("Au plus 1 000 € par chèque.")
    if valid_until is not None:
        try:
            validity.validate_valid_until(valid_until)
        except ValidationError as error:
            errors["valid_until"] = error.messages[0]
    unknown = [code for code in territory or [] if code not in DEPARTMENTS]
    if unknown:
        errors["territory"] = _("Départements inconnus : %(codes)s.") % {
            "codes": ", ".join(unknown)}
    if errors:
        raise ValidationError(errors)


def current_price(*, booklets, cheques_per_booklet, face_value_cents):
    """What an order of these terms costs today (cheques.pricing, with today's fee)."""
    return pricing.price(booklets=booklets, cheques_per_booklet=cheques_per_booklet,
                         face_value_cents=face_value_cents,
                         per_booklet_fee_cents=PricingSettings.current().per_booklet_fee_cents)


@transaction.atomic
def create_order(*, funder, created_by, booklets, cheques_per_booklet=10,
                 face_value_cents=1000, valid_until=None, allowed_services=(),
                 territory=(), target_public="", requires_activation=False, logo=None,
                 custom_wording="", contact_name="", contact_email="", contact_phone=""):
    access.require(created_by is None or access.managed_funders(created_by).filter(
        pk=funder.pk).exists(), _("Seuls les gestionnaires d’un financeur commandent."))
    valid_until = valid_until or validity.default_valid_until()
    territory = sorted(set(territory or []))
    validate_order_terms(booklets=booklets, cheques_per_booklet=cheques_per_booklet,
                         face_value_cents=face_value_cents, valid_until=valid_until,
                         territory=territory)
    fee = PricingSettings.current().per_booklet_fee_cents
    order = Order(
        funder=funder, created_by=created_by, booklets=booklets,
        cheques_per_booklet=cheques_per_booklet, face_value_cents=face_value_cents,
        valid_until=valid_until, territory=territory, target_public=target_public,
        requires_activation=requires_activation, custom_wording=custom_wording,
        contact_name=contact_name or (created_by.get_full_name() if created_by else ""),
        contact_email=contact_email or (created_by.email if created_by else ""),
        contact_phone=contact_phone, per_booklet_fee_cents=fee,
    )
    order.total_cents = order.price.total_cents
    if logo:
        order.logo = logo
    order.save()
    order.allowed_services.set(allowed_services)
    audit.record(created_by, order, "order.submitted", "", Order.Status.SUBMITTED,
                 booklets=booklets, cheques=order.cheque_count, total_cents=order.total_cents)
    return order


def _transition(order, actor, from_status, to_status, action, **fields):
    """Move the order from `from_status` to `to_status` once, or refuse."""
    with transaction.atomic():
        updated = Order.objects.filter(pk=order.pk, status=from_status).update(
            status=to_status, updated_at=timezone.now(), **fields
        )
        if not updated:
            order.refresh_from_db()
            raise DomainError("invalid_status", _(
                "Cette commande est « %(status)s » : impossible de faire cela."
            ) % {"status": order.get_status_display()})
        order.refresh_from_db()
        audit.record(actor, order, action, from_status, to_status,
                     **{key: str(value) for key, value in fields.items()
                        if key in {"rejection_reason"}})
    return order


def approve_order(order, *, actor):
    """The operator approves: the invoice is written in the same transaction
    (cheques.invoicing), issuance follows (inline for small orders, else a task)."""
    access.require(access.may_decide(actor, order), _("Seul l’opérateur valide une commande."))
    with transaction.atomic():
        order = _transition(order, actor, Order.Status.SUBMITTED, Order.Status.APPROVED,
                            "order.approved", decided_at=timezone.now(), decided_by=actor)
        invoicing.issue_invoice(order, actor=actor)
    _notify(order, _("Votre commande n° %(id)s est validée") % {"id": order.pk}, _(
        "Bonne nouvelle : votre commande de %(booklets)s carnets a été validée. "
        "Les chèques sont en cours d’émission."
    ) % {"booklets": order.booklets})
    if order.cheque_count > settings.ISSUANCE_ASYNC_THRESHOLD:
        transaction.on_commit(lambda: send("cheques.tasks.issue_order_task", order.pk))
    else:
        from .issuance import issue_order

        order = issue_order(order.pk, actor=actor)
    return order


def reject_order(order, *, actor, reason):
    access.require(access.may_decide(actor, order), _("Seul l’opérateur refuse une commande."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("Indiquez le motif du refus."))
    order = _transition(order, actor, Order.Status.SUBMITTED, Order.Status.REJECTED,
                        "order.rejected", decided_at=timezone.now(), decided_by=actor,
                        rejection_reason=reason)
    _notify(order, _("Votre commande n° %(id)s est refusée") % {"id": order.pk}, _(
        "Votre commande n’a pas été validée. Motif : %(reason)s"
    ) % {"reason": reason})
    return order


def cancel_order(order, *, actor):
    """The funder withdraws an order that is not approved yet."""
    access.require(access.may_withdraw(actor, order), _("Seul le financeur retire sa commande."))
    return _transition(order, actor, Order.Status.SUBMITTED, Order.Status.CANCELLED,
                       "order.cancelled")


def _notify(order, subject, body):
    recipients = [email for email in {order.contact_email, order.funder.email} if email]
    if not recipients:
        return
    transaction.on_commit(lambda: send_mail(
        f"[#APTIC] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients,
        fail_silently=True,
    ))
