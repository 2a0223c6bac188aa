"""Replacement of a damaged or lost booklet: its unused cheques move to a new booklet.

The operator replaces a booklet by its number. In one transaction:

- its unused cheques (issued or handed out) become ``replaced``, with the reason « remplacé
  par le carnet N », and the booklet too: a scan of one of their codes says so
  (cheques.lifecycle.refusal);
- a new booklet, numbered like any other, holds as many new cheques, with new codes, of
  the same order (value, rules, funder, validity). It takes over the hand-over of the old
  one (date, anonymous profile, activation), so that the person who holds it can use it at
  once and the hand-over is counted once;
- cheques already redeemed stay redeemed, in the old booklet;
- the audit trail links old and new (one event per booklet, one per replaced cheque naming
  its successor); the ledger does not move: each euro still outstanding stays outstanding,
  carried by a new cheque instead of an old one (cheques.ledger counts replaced cheques
  nowhere);
- the new booklet is printed on its own, its cover saying « Carnet de remplacement n° N
  (remplace n° M) ».

A booklet that was never handed out may still be reprinted as it is (cheques.printing):
no paper copy of it is in anyone's hands yet.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.errors import DomainError

from . import access, codes, printing
from .issuance import allocate_booklet_numbers
from .lifecycle import get_booklet
from .models import Booklet, Cheque, Order

REPLACEABLE_STATES = (Booklet.State.ISSUED, Booklet.State.DISTRIBUTED, Booklet.State.STARTED)
ATTEMPTS = 3


def reason_of(number):
    """The reason written on the replaced booklet and its cheques (French, as every reason
    kept in the database)."""
    return f"remplacé par le carnet {number}"


def replace_booklet(number, *, actor, reason="", today=None):
    """Replace the booklet `number`; returns (old booklet, new booklet, cheques moved).

    Only the operator replaces. Refused for a booklet cancelled, expired or already
    replaced, one whose cheques are all used, and one of an order past its last day of
    acceptance."""
    access.require(access.may_replace(actor), _("Seul l’opérateur remplace un carnet."))
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return _replace(number, actor=actor, reason=(reason or "").strip()[:200],
                            today=today or timezone.localdate())
        except IntegrityError as error:
            # A new code collided with an existing one (60 random bits: astronomically
            # rare); everything was rolled back, so try again with fresh codes.
            if "code" not in str(error) or attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _replace(number, *, actor, reason, today):
    with transaction.atomic():
        # Locks in the order the daily expiry takes them: the order, then its booklet.
        order = Order.objects.select_for_update().get(pk=get_booklet(number).order_id)
        old = get_booklet(number, for_update=True)
        if old.state not in REPLACEABLE_STATES:
            raise DomainError("booklet_not_replaceable", _(
                "Le carnet %(number)s est « %(state)s » : il ne peut pas être remplacé.")
                % {"number": old.number, "state": old.get_state_display()})
        if order.expired_at is not None or today > order.expiry_date:
            raise DomainError("expired", _(
                "Les chèques de ce carnet ne sont plus acceptés depuis le %(date)s : il ne "
                "peut pas être remplacé.") % {"date": order.expiry_date.strftime("%d/%m/%Y")})
        unused = list(Cheque.objects.select_for_update().filter(
            booklet=old, state__in=Cheque.OPEN_STATES).order_by("number"))
        if not unused:
            raise DomainError("nothing_to_replace", _(
                "Tous les chèques du carnet %(number)s ont servi : il n’y a rien à "
                "remplacer.") % {"number": old.number})
        now = timezone.now()
        year = timezone.localdate(now).year
        new_number = f"{year}-{allocate_booklet_numbers(1, year):06d}"
        handed_out = old.distributed_at is not None
        new = Booklet.objects.create(
            order=order, number=new_number, replaces=old, state_changed_at=now,
            state=Booklet.State.DISTRIBUTED if handed_out else Booklet.State.ISSUED,
            distributed_at=old.distributed_at, distributed_by_id=old.distributed_by_id,
            age_bracket=old.age_bracket, postcode=old.postcode, situation=old.situation)
        # Position by position: the new cheque is in the state of the one it replaces
        # (issued or handed out, activated or not).
        fresh = Cheque.objects.bulk_create([
            Cheque(booklet=new, order=order, number=f"{new_number}-{position:02d}",
                   code=code, face_value_cents=cheque.face_value_cents, state=cheque.state,
                   state_changed_at=now, activated_at=cheque.activated_at)
            for position, (cheque, code) in enumerate(
                zip(unused, codes.generate_codes(len(unused)), strict=True), 1)
        ])
        note = reason_of(new_number)
        moved = Cheque.objects.filter(pk__in=[c.pk for c in unused],
                                      state__in=Cheque.OPEN_STATES).update(
            state=Cheque.State.REPLACED, state_changed_at=now, cancellation_reason=note)
        if moved != len(unused):  # rows are locked: cannot happen, but money is at stake
            raise DomainError("inconsistent", _("Le carnet a changé pendant son remplacement."))
        previous = old.state
        Booklet.objects.filter(pk=old.pk).update(
            state=Booklet.State.REPLACED, state_changed_at=now, cancellation_reason=note)
        old.refresh_from_db()
        audit.record(actor, old, "booklet.replaced", previous, Booklet.State.REPLACED,
                     replacement=new_number, cheques=len(unused), reason=reason)
        audit.record(actor, new, "booklet.issued", "", new.state, replaces=old.number,
                     cheques=len(fresh), order=order.pk)
        for cheque, new_cheque in zip(unused, fresh, strict=True):
            audit.record(actor, cheque, "cheque.replaced", cheque.state, Cheque.State.REPLACED,
                         replacement=new_cheque.number, booklet=new_number)
        printing.start_printing(order, actor=actor, booklet=new)
    return old, new, len(fresh)
