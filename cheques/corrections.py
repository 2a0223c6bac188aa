"""Corrections after a statement, and goodwill payments.

A validated statement never changes, and the money it carries may already be at the place.
So a redemption found wrong once it is in a statement is corrected forward:

- the redemption is undone (the cheque goes back to its previous state when the mediator or
  place manager undoes it; the operator's correction of a wrong redemption — a cheque of
  another funder, a place that was not qualified that day — cancels the cheque instead, its
  value credited back to the funder);
- an adjustment (cheques.models.Adjustment) records the amount the structure owes back, its
  reason and the original (redemption, statement); the structure's next statements carry it
  as a debit line (cheques.reimbursement), never below zero: the rest is carried over;
- the funds ledger books the amount as recoverable from the places until a paid statement
  deducts it (cheques.ledger).

A goodwill payment (« geste commercial ») is the operator's own money: a positive line on
the structure's next statement, with its reason.

Every change is audited in the same transaction.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.errors import DomainError

from . import access, ledger, lifecycle
from .models import Adjustment, Cheque, Redemption

MAX_GOODWILL_CENTS = 1_000_000  # 10 000 €: far above any real gesture, within the column
MAX_REASON = 300


def _reason(reason):
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("reason_required", _("Indiquez le motif."))
    if len(reason) > MAX_REASON or any(ord(c) < 32 for c in reason):
        raise DomainError("invalid_reason", _(
            "Motif invalide : au plus %(max)s caractères, sans caractère de contrôle.")
            % {"max": MAX_REASON})
    return reason


def undo_after_statement(redemption, *, user, now=None):
    """An undo requested once the redemption is in a statement (cheques.redemption.undo
    has checked who asks and the undo window): the cheque goes back to its previous state,
    the structure owes the amount back on its next statement."""
    reason = _("Annulation de l’encaissement demandée après le relevé par %(name)s") % {
        "name": user.get_full_name() or user.username}
    return _correct(redemption, actor=user, reason=reason, cancel_cheque=False, now=now)


def correct_redemption(redemption, *, actor, reason, now=None):
    """The operator corrects a wrong redemption (a cheque of another funder, a place not
    qualified that day…): the redemption is undone and the cheque cancelled, its value
    credited back to the funder. In a statement already, the structure owes the amount back
    on its next statement; not yet in one, it is simply never paid."""
    access.require(access.may_correct_redemptions(actor),
                   _("Seul l’opérateur corrige un encaissement."))
    return _correct(redemption, actor=actor, reason=_reason(reason), cancel_cheque=True,
                    now=now)


def _correct(redemption, *, actor, reason, cancel_cheque, now=None):
    now = now or timezone.now()
    with transaction.atomic():
        redemption = (Redemption.objects.select_for_update(of=("self",))
                      .select_related("cheque", "statement").get(pk=redemption.pk))
        if redemption.undone_at is not None:
            raise DomainError("already_undone", _("Cet encaissement a déjà été annulé."))
        cheque = Cheque.objects.select_for_update().get(pk=redemption.cheque_id)
        if cheque.state not in (Cheque.State.REDEEMED, Cheque.State.REIMBURSED):
            raise DomainError("inconsistent", _(
                "Le chèque %(number)s n’est pas encaissé : rien n’a été changé.")
                % {"number": cheque.number})
        Redemption.objects.filter(pk=redemption.pk).update(undone_at=now, undone_by=actor)
        target = Cheque.State.CANCELLED if cancel_cheque else redemption.previous_state
        Cheque.objects.filter(pk=cheque.pk).update(
            state=target, state_changed_at=now,
            **({"cancellation_reason": reason[:300]} if cancel_cheque else {}))
        if not cancel_cheque:
            lifecycle.booklet_after_undo(cheque.booklet_id, now=now)
        audit.record(actor, cheque, "cheque.redemption_corrected", cheque.state, target,
                     redemption=redemption.pk, reason=reason,
                     statement=redemption.statement_id)
        adjustment = None
        if redemption.statement_id is None:
            # Never on a statement: nothing was or will be paid for it.
            ledger.undone(redemption, actor=actor)
            if cancel_cheque:
                ledger.cancelled(redemption.order, cheques=1, actor=actor,
                                 reference=cheque.number)
        else:
            adjustment = Adjustment.objects.create(
                kind=Adjustment.Kind.CORRECTION, structure_id=redemption.structure_id,
                amount_cents=redemption.amount_cents, reason=reason, redemption=redemption,
                order_id=redemption.order_id, original_statement_id=redemption.statement_id,
                created_by=actor if getattr(actor, "is_authenticated", False) else None)
            audit.record(actor, adjustment, "adjustment.created", "", adjustment.kind,
                         amount_cents=-adjustment.amount_cents, reason=reason,
                         redemption=redemption.pk, statement=redemption.statement_id)
            ledger.corrected(redemption, cheque_cancelled=cancel_cheque, actor=actor)
    redemption.undone_at, redemption.undone_by = now, actor
    redemption.correction_made = adjustment
    return redemption


def goodwill(structure, *, amount_cents, reason, actor):
    """A goodwill payment to a structure: a positive line, with its reason, on its next
    statement, paid from the operator's own money."""
    from aptic.models import Organisation

    access.require(access.may_correct_redemptions(actor),
                   _("Seul l’opérateur accorde un geste commercial."))
    reason = _reason(reason)
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) \
            or not 0 < amount_cents <= MAX_GOODWILL_CENTS:
        raise DomainError("invalid_amount", _(
            "Montant invalide : entre 0,01 € et %(max)s €.") % {
                "max": f"{MAX_GOODWILL_CENTS // 100:,}".replace(",", " ")})
    if getattr(structure, "kind", None) != Organisation.Kind.STRUCTURE:
        raise DomainError("unknown_structure", _("Structure inconnue."))
    with transaction.atomic():
        adjustment = Adjustment.objects.create(
            kind=Adjustment.Kind.GOODWILL, structure=structure, amount_cents=amount_cents,
            reason=reason,
            created_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit.record(actor, adjustment, "adjustment.created", "", adjustment.kind,
                     amount_cents=amount_cents, reason=reason)
        ledger.goodwill(adjustment, actor=actor)
    return adjustment
