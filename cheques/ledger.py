"""The funds ledger: where every prepaid cent of an order is, at every moment.

Buckets, in cents, per order:

- ``prepaid``: the face value of the cheques issued (what the funder paid for cheques; the
  per-booklet fees are the operator's revenue, not funds held for places, and stay out);
- ``outstanding``: cheques issued or handed out, not yet redeemed;
- ``redeemed_unpaid``: cheques redeemed at a place, not yet paid to it;
- ``paid``: cheques paid to places (in a paid statement: the cheque is ``reimbursed``);
- ``credited``: cheques cancelled (lost, stolen) or expired, credited back to the funder
  (``expired`` is the part of it that expired: the credit note of the end of validity);
- ``recoverable``: zero or negative, what places were paid (or are owed on a statement) for
  redemptions corrected after their statement, until a paid statement deducts it.

``redeemed_unpaid`` and ``paid`` follow the statements: a statement's redemption lines are
owed until it is paid, then paid, even when one of them is corrected later (the correction
moves the cheque's value back to ``outstanding`` or ``credited`` and books the same amount
as ``recoverable``); a correction's debit line, and the carry-over that keeps a statement
above zero, move ``recoverable`` to ``paid`` when their statement is paid. A goodwill payment
is the operator's own money: entries without an order (prepaid by the operator, owed, paid).

A replaced cheque (cheques.replacement) counts nowhere: its value moved, still outstanding, to
the cheque that replaces it, so a replacement writes no entry.

Invariant: prepaid = outstanding + redeemed_unpaid + paid + credited + recoverable. Each
entry balances on its own (a database CHECK constraint), entries are append-only (a
trigger), and they are written by the functions below, which the state changes call INSIDE
their transaction. `check` compares the ledger with the cheques' states, the redemptions and
the statements (``manage.py check_ledger``).
"""

from collections import defaultdict

from django.db import transaction
from django.db.models import Count, Q, Sum

from .models import Cheque, LedgerEntry, Order

BUCKETS = ("prepaid_cents", "outstanding_cents", "redeemed_unpaid_cents", "paid_cents",
           "credited_cents", "recoverable_cents")

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
    return LedgerEntry.objects.bulk_create(_balanced(entries))


def _balanced(entries):
    """The entries worth writing (an entry that moves nothing is left out), once it is
    sure that they are written inside the change's transaction."""
    _require_transaction()
    return [entry for entry in entries if any(getattr(entry, b) for b in BUCKETS)]


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


def redeemed_entries(redemptions, *, actor=None):
    """Cheques redeemed: outstanding → redeemed, not yet paid (one entry per order). Unsaved:
    cheques.redemption writes them in one statement with the redemptions themselves, inside
    the same transaction."""
    basket = str(redemptions[0].basket) if redemptions else ""
    return _balanced([
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


def corrected(redemption, *, cheque_cancelled, actor=None):
    """A redemption corrected after its statement: the cheque's value is open again (or
    credited back to the funder when the correction cancels the cheque), and the amount
    its statement pays (or paid) the place is to be recovered."""
    back = {"credited_cents": 1} if cheque_cancelled else {"outstanding_cents": 1}
    return _write([_entry(redemption.order_id, LedgerEntry.Kind.CORRECTION,
                          cents=redemption.amount_cents, cheques=1, actor=actor,
                          reference=f"redemption:{redemption.pk}", recoverable_cents=-1,
                          **back)])


def goodwill(adjustment, *, actor=None):
    """A goodwill payment: the operator's own money, owed to the structure."""
    return _write([_entry(None, LedgerEntry.Kind.GOODWILL, cents=adjustment.amount_cents,
                          cheques=0, actor=actor, reference=f"adjustment:{adjustment.pk}",
                          prepaid_cents=1, redeemed_unpaid_cents=1)])


def _by_order_and_kind(lines):
    """{(order_id, owed): cents, count} where `owed` tells redemption and goodwill lines
    (owed → paid) from correction and carry-over lines (recoverable → paid)."""
    grouped = defaultdict(lambda: [0, 0])
    for line in lines:
        owed = line.kind in ("redemption", "goodwill")
        grouped[(line.order_id, owed)][0] += line.amount_cents
        grouped[(line.order_id, owed)][1] += 1 if line.kind == "redemption" else 0
    return sorted(grouped.items(), key=lambda item: (item[0][0] or 0, item[0][1]))


def paid_out(lines, *, actor=None, reference="", sign=1):
    """A statement's lines paid to its structure (sign -1: the bank gave the transfer back):
    redemption and goodwill lines owed → paid, correction and carry-over lines
    recoverable → paid (one entry per order and kind of line)."""
    entries = []
    for (order_id, owed), (cents, count) in _by_order_and_kind(lines):
        if owed:
            kind = LedgerEntry.Kind.REIMBURSE if sign > 0 else LedgerEntry.Kind.RETURN
            entries.append(_entry(order_id, kind, cents=sign * cents, cheques=sign * count,
                                  actor=actor, reference=reference, redeemed_unpaid_cents=-1,
                                  paid_cents=1))
        else:
            kind = LedgerEntry.Kind.RECOVER if sign > 0 else LedgerEntry.Kind.RETURN
            entries.append(_entry(order_id, kind, cents=sign * cents, cheques=0, actor=actor,
                                  reference=reference, recoverable_cents=-1, paid_cents=1))
    return _write(entries)


# --- reading -------------------------------------------------------------------------------


def _zero():
    return dict.fromkeys((*BUCKETS, "expired_cents"), 0)


def balances(order_ids=None):
    """{order_id: {prepaid_cents, outstanding_cents, redeemed_unpaid_cents, paid_cents,
    credited_cents, recoverable_cents, expired_cents}} in one aggregate query (the
    operator's own money, goodwill payments, under None). Orders without entries are absent
    unless asked for by id (then all zeros)."""
    entries = LedgerEntry.objects.all()
    if order_ids is not None:
        order_ids = list(order_ids)
        wanted = Q(order_id__in=[pk for pk in order_ids if pk is not None])
        if None in order_ids:  # the operator's own money
            wanted |= Q(order_id__isnull=True)
        entries = entries.filter(wanted)
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


def _statement_sums(order_ids):
    """{order_id: (owed, paid, recovered)}: redemption and goodwill lines of unpaid
    statements, every line of paid statements, correction and carry-over lines of paid
    statements."""
    from .models import Statement, StatementLine

    lines = StatementLine.objects.all()
    if order_ids is not None:
        lines = lines.filter(order_id__in=order_ids)
    paid = Q(statement__state=Statement.State.PAID)
    owed_kinds = Q(kind__in=(StatementLine.Kind.REDEMPTION, StatementLine.Kind.GOODWILL))
    rows = lines.values("order_id").annotate(
        owed=Sum("amount_cents", filter=~paid & owed_kinds),
        paid=Sum("amount_cents", filter=paid),
        recovered=Sum("amount_cents", filter=paid & ~owed_kinds),
    ).order_by()
    return {row["order_id"]: (row["owed"] or 0, row["paid"] or 0, row["recovered"] or 0)
            for row in rows}


def expected(order_ids=None):
    """What the balances must be, computed from the cheques' states, the redemptions not
    yet in a statement, the statements' lines and the adjustments (a few aggregates)."""
    from .models import Adjustment, Redemption

    cheques = Cheque.objects.all()
    loose = Redemption.objects.filter(statement=None, undone_at=None)
    adjustments = Adjustment.objects.all()
    if order_ids is not None:
        order_ids = list(order_ids)
        cheques = cheques.filter(order_id__in=order_ids)
        loose = loose.filter(order_id__in=order_ids)
        adjustments = adjustments.filter(order_id__in=order_ids)
    wanted = defaultdict(_zero)
    for row in cheques.values("order_id", "state").annotate(
        cents=Sum("face_value_cents"), n=Count("id")
    ).order_by():
        bucket = BUCKET_OF_STATE[row["state"]]
        if bucket is None:
            continue
        amounts = wanted[row["order_id"]]
        if bucket in ("outstanding_cents", "credited_cents"):
            amounts[bucket] += row["cents"]
        amounts["prepaid_cents"] += row["cents"]
        if row["state"] == Cheque.State.EXPIRED:
            amounts["expired_cents"] += row["cents"]
    for order_id, cents in loose.values_list("order_id").annotate(s=Sum("amount_cents")) \
            .order_by():
        wanted[order_id]["redeemed_unpaid_cents"] += cents
    for order_id, (owed, paid, recovered) in _statement_sums(order_ids).items():
        wanted[order_id]["redeemed_unpaid_cents"] += owed
        wanted[order_id]["paid_cents"] += paid
        wanted[order_id]["recoverable_cents"] -= recovered
    for order_id, kind, cents in adjustments.values_list("order_id", "kind").annotate(
            s=Sum("amount_cents")).order_by():
        if kind == Adjustment.Kind.CORRECTION:
            wanted[order_id]["recoverable_cents"] -= cents
        else:  # goodwill: prepaid by the operator, owed until a statement carries it
            wanted[order_id]["prepaid_cents"] += cents
            wanted[order_id]["redeemed_unpaid_cents"] += cents
    if order_ids is None:  # goodwill on a statement is counted with the statement's lines
        from .models import StatementLine

        carried = StatementLine.objects.filter(kind=StatementLine.Kind.GOODWILL).aggregate(
            s=Sum("amount_cents"))["s"] or 0
        if carried:
            wanted[None]["redeemed_unpaid_cents"] -= carried
    return wanted


def _cheques_against_redemptions(order_ids):
    """Problems where the used cheques disagree with the live redemptions: a redeemed
    cheque is a live redemption not yet paid, a reimbursed one a live redemption paid."""
    from django.utils.translation import gettext as _

    from .models import Redemption, Statement

    live = Redemption.objects.filter(undone_at=None)
    cheques = Cheque.objects.filter(state__in=(Cheque.State.REDEEMED, Cheque.State.REIMBURSED))
    if order_ids is not None:
        live = live.filter(order_id__in=list(order_ids))
        cheques = cheques.filter(order_id__in=list(order_ids))
    by_redemptions = defaultdict(lambda: {"redeemed": 0, "reimbursed": 0})
    for order_id, paid, cents in live.annotate(
        paid=Q(statement__state=Statement.State.PAID)
    ).values_list("order_id", "paid").annotate(s=Sum("amount_cents")).order_by():
        by_redemptions[order_id]["reimbursed" if paid else "redeemed"] += cents
    by_cheques = defaultdict(lambda: {"redeemed": 0, "reimbursed": 0})
    for order_id, state, cents in cheques.values_list("order_id", "state").annotate(
            s=Sum("face_value_cents")).order_by():
        by_cheques[order_id][state] += cents
    problems = []
    for order_id in sorted(set(by_redemptions) | set(by_cheques)):
        for state in ("redeemed", "reimbursed"):
            got, want = by_cheques[order_id][state], by_redemptions[order_id][state]
            if got != want:
                problems.append(_(
                    "Commande n° %(order)s : chèques « %(state)s » %(got)s ≠ encaissements "
                    "correspondants %(want)s.") % {"order": order_id, "state": state,
                                                   "got": got, "want": want})
    return problems


def check(order_ids=None):
    """Every difference, as French sentences (empty when the ledger reconciles to the cent):
    the invariant per order, the prepaid amount against the order, every bucket against the
    cheques, redemptions, statements and adjustments, and the used cheques against the
    redemptions."""
    from django.utils.translation import gettext as _

    problems = []
    actual = balances(order_ids)
    wanted = expected(order_ids)
    orders = Order.objects.filter(status=Order.Status.ISSUED)
    if order_ids is not None:
        orders = orders.filter(pk__in=list(order_ids))
    issued_cents = {pk: booklets * per * face for pk, booklets, per, face in orders.values_list(
        "pk", "booklets", "cheques_per_booklet", "face_value_cents")}
    for order_id in sorted(set(actual) | set(wanted) | set(issued_cents),
                           key=lambda pk: (pk is not None, pk or 0)):
        got = actual.get(order_id, _zero())
        want = wanted.get(order_id, _zero())
        parts = sum(got[bucket] for bucket in BUCKETS[1:])
        if got["prepaid_cents"] != parts:
            problems.append(_(
                "Commande n° %(order)s : prépayé %(prepaid)s ≠ somme des postes %(parts)s."
            ) % {"order": order_id, "prepaid": got["prepaid_cents"], "parts": parts})
        if order_id is not None and got["prepaid_cents"] != issued_cents.get(order_id, 0):
            problems.append(_(
                "Commande n° %(order)s : prépayé %(prepaid)s ≠ valeur des chèques émis "
                "%(issued)s.") % {"order": order_id, "prepaid": got["prepaid_cents"],
                                   "issued": issued_cents.get(order_id, 0)})
        for bucket in (*BUCKETS, "expired_cents"):
            if got[bucket] != want[bucket]:
                problems.append(_(
                    "Commande n° %(order)s : %(bucket)s vaut %(got)s au grand livre, "
                    "%(want)s d’après les chèques et les relevés.") % {
                        "order": order_id, "bucket": bucket, "got": got[bucket],
                        "want": want[bucket]})
    return problems + _cheques_against_redemptions(order_ids)
