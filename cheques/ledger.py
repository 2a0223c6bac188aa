"""The funds ledger: where every prepaid cent of an order is, at every moment.

Buckets, in cents, per order:

- ``prepaid``: the face value of the cheques issued (what the funder paid for cheques; the
  per-booklet fees are the operator's revenue, not funds held for places, and stay out);
- ``outstanding``: cheques issued or handed out, not yet redeemed;
- ``redeemed_unpaid``: cheques redeemed at a place, not yet paid to it;
- ``paid``: cheques paid to places (in a paid statement: the cheque is ``reimbursed``);
- ``credited``: cheques cancelled (lost, stolen) or expired, credited back to the funder
  (``expired`` is the part of it that expired: the credit note of the end of validity).

A replaced cheque (cheques.replacement) counts nowhere: its value moved, still outstanding, to
the cheque that replaces it, so a replacement writes no entry.

Invariant: prepaid = outstanding + redeemed_unpaid + paid + credited. Each entry balances on
its own (a database CHECK constraint), entries are append-only (a trigger), and they are
written by the functions below, which the state changes call INSIDE their transaction.
`check` compares the ledger with the cheques' states (``manage.py check_ledger``).
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Q, Sum

from .models import Cheque, LedgerEntry, Order

BUCKETS = ("prepaid_cents", "outstanding_cents", "redeemed_unpaid_cents", "paid_cents",
           "credited_cents")

# Where a cheque's face value sits, by the cheque's state.
BUCKET_OF_STATE = {
    Cheque.State.ISSUED: "outstanding_cents",
    Cheque.State.DISTRIBUTED: "outstanding_cents",
    Cheque.State.REDEEMED: "redeemed_unpaid_cents",
    Cheque.State.REIMBURSED: "paid_cents",
    Cheque.State.CANCELLED: "credited_cents",
    Cheque.State.EXPIRED: "credited_cents",
    # A replaced cheque's value is carried by its replacement (cheques.replacement): it
    # counts nowhere, and a replacement moves no money.
    Cheque.State.REPLACED: None,
}


def _require_transaction():
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger entries must be written inside transaction.atomic().")


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _entry(order_id, kind, *, cents, cheques, actor, reference, **moves):
    return LedgerEntry(order_id=order_id, kind=kind, cheques=cheques, actor=_actor(actor),
                       reference=reference[:100],
                       **{bucket: sign * cents for bucket, sign in moves.items()})


def _write(entries):
    _require_transaction()
    entries = [entry for entry in entries if any(getattr(entry, b) for b in BUCKETS)]
    return LedgerEntry.objects.bulk_create(entries)


# --- the hooks of the state changes --------------------------------------------------------


def issued(order, *, actor=None):
    """An order is issued: its cheques' face value is prepaid and outstanding."""
    return _write([_entry(order.pk, LedgerEntry.Kind.ISSUE, cents=order.price.cheques_cents,
                          cheques=order.cheque_count, actor=actor, reference=f"order:{order.pk}",
                          prepaid_cents=1, outstanding_cents=1)])


def _by_order(redemptions):
    grouped = defaultdict(lambda: [0, 0])
    for redemption in redemptions:
        grouped[redemption.order_id][0] += redemption.amount_cents
        grouped[redemption.order_id][1] += 1
    return sorted(grouped.items())


def redeemed(redemptions, *, actor=None):
    """Cheques redeemed: outstanding → redeemed, not yet paid (one entry per order)."""
    basket = str(redemptions[0].basket) if redemptions else ""
    return _write([
        _entry(order_id, LedgerEntry.Kind.REDEEM, cents=cents, cheques=count, actor=actor,
               reference=f"basket:{basket}", outstanding_cents=-1, redeemed_unpaid_cents=1)
        for order_id, (cents, count) in _by_order(redemptions)
    ])


def undone(redemption, *, actor=None):
    """A redemption undone: redeemed-unpaid → outstanding again."""
    return _write([_entry(redemption.order_id, LedgerEntry.Kind.UNDO,
                          cents=redemption.amount_cents, cheques=1, actor=actor,
                          reference=f"redemption:{redemption.pk}",
                          outstanding_cents=1, redeemed_unpaid_cents=-1)])


def cancelled(order, *, cheques, actor=None, reference=""):
    """Open cheques cancelled (lost, stolen): outstanding → credited back to the funder."""
    return _write([_entry(order.pk, LedgerEntry.Kind.CANCEL,
                          cents=cheques * order.face_value_cents, cheques=cheques, actor=actor,
                          reference=reference, outstanding_cents=-1, credited_cents=1)])


def expired(order, *, cheques, actor=None):
    """Open cheques expired at the end of validity: outstanding → credit note."""
    return _write([_entry(order.pk, LedgerEntry.Kind.EXPIRE,
                          cents=cheques * order.face_value_cents, cheques=cheques, actor=actor,
                          reference=f"order:{order.pk}", outstanding_cents=-1,
                          credited_cents=1)])


def reimbursed(redemptions, *, actor=None, reference=""):
    """Redeemed cheques paid to their places: redeemed-unpaid → paid (one entry per order)."""
    return _write([
        _entry(order_id, LedgerEntry.Kind.REIMBURSE, cents=cents, cheques=count, actor=actor,
               reference=reference, redeemed_unpaid_cents=-1, paid_cents=1)
        for order_id, (cents, count) in _by_order(redemptions)
    ])


# --- reading -------------------------------------------------------------------------------


def _zero():
    return dict.fromkeys((*BUCKETS, "expired_cents"), 0)


def balances(order_ids=None):
    """{order_id: {prepaid_cents, outstanding_cents, redeemed_unpaid_cents, paid_cents,
    credited_cents, expired_cents}} in one aggregate query. Orders without entries are
    absent unless asked for by id (then all zeros)."""
    entries = LedgerEntry.objects.all()
    if order_ids is not None:
        order_ids = list(order_ids)
        entries = entries.filter(order_id__in=order_ids)
    rows = entries.values("order_id").annotate(
        **{f"total_{bucket}": Sum(bucket) for bucket in BUCKETS},
        total_expired_cents=Sum("credited_cents", filter=Q(kind=LedgerEntry.Kind.EXPIRE)),
    ).order_by()
    result = {order_id: _zero() for order_id in (order_ids or ())}
    for row in rows:
        order_id = row.pop("order_id")
        result[order_id] = {key.removeprefix("total_"): value or 0 for key, value in row.items()}
    return result


def balance(order):
    return balances([order.pk])[order.pk]


def entries_of(order):
    return order.ledger_entries.select_related("actor").order_by("at", "id")


# --- reconciliation ------------------------------------------------------------------------


def expected_from_cheques(order_ids=None):
    """What the balances must be, computed from the cheques' states (one aggregate)."""
    cheques = Cheque.objects.all()
    if order_ids is not None:
        cheques = cheques.filter(order_id__in=list(order_ids))
    expected = defaultdict(_zero)
    for row in cheques.values("order_id", "state").annotate(
        cents=Sum("face_value_cents"), n=Count("id")
    ).order_by():
        bucket = BUCKET_OF_STATE[row["state"]]
        if bucket is None:
            continue
        amounts = expected[row["order_id"]]
        amounts[bucket] += row["cents"]
        amounts["prepaid_cents"] += row["cents"]
        if row["state"] == Cheque.State.EXPIRED:
            amounts["expired_cents"] += row["cents"]
    return expected


def check(order_ids=None):
    """Every difference, as French sentences (empty when the ledger reconciles to the cent):
    the invariant per order, the prepaid amount against the order, and every bucket against
    the cheques' states."""
    from django.utils.translation import gettext as _

    problems = []
    actual = balances(order_ids)
    expected = expected_from_cheques(order_ids)
    orders = Order.objects.filter(status=Order.Status.ISSUED)
    if order_ids is not None:
        orders = orders.filter(pk__in=list(order_ids))
    issued_cents = {pk: booklets * per * face for pk, booklets, per, face in orders.values_list(
        "pk", "booklets", "cheques_per_booklet", "face_value_cents")}
    for order_id in sorted(set(actual) | set(expected) | set(issued_cents)):
        got = actual.get(order_id, _zero())
        want = expected.get(order_id, _zero())
        parts = sum(got[bucket] for bucket in BUCKETS[1:])
        if got["prepaid_cents"] != parts:
            problems.append(_(
                "Commande n° %(order)s : prépayé %(prepaid)s ≠ somme des postes %(parts)s."
            ) % {"order": order_id, "prepaid": got["prepaid_cents"], "parts": parts})
        if got["prepaid_cents"] != issued_cents.get(order_id, 0):
            problems.append(_(
                "Commande n° %(order)s : prépayé %(prepaid)s ≠ valeur des chèques émis "
                "%(issued)s.") % {"order": order_id, "prepaid": got["prepaid_cents"],
                                   "issued": issued_cents.get(order_id, 0)})
        for bucket in (*BUCKETS, "expired_cents"):
            if got[bucket] != want[bucket]:
                problems.append(_(
                    "Commande n° %(order)s : %(bucket)s vaut %(got)s au grand livre, "
                    "%(want)s d’après les chèques.") % {
                        "order": order_id, "bucket": bucket, "got": got[bucket],
                        "want": want[bucket]})
    return problems
