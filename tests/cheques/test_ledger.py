import io

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aptic.errors import DomainError
from cheques import corrections, ledger, lifecycle, redemption, reimbursement
from cheques.models import Cheque, LedgerEntry, PaymentBatch, Redemption, Transfer
from tests.cheques.reimbursement_support import SERVICE, bank, redeem

pytestmark = pytest.mark.django_db


def assert_invariant():
    for order_id, b in ledger.balances().items():
        assert b["prepaid_cents"] == (b["outstanding_cents"] + b["redeemed_unpaid_cents"]
                                      + b["paid_cents"] + b["credited_cents"]
                                      + b["recoverable_cents"]), order_id
    assert ledger.check() == []


def test_every_state_change_writes_its_entry(clock, issued, place, mediator_x, manager_a):
    assert ledger.balance(issued) == {
        "prepaid_cents": 10000, "outstanding_cents": 10000, "redeemed_unpaid_cents": 0,
        "paid_cents": 0, "credited_cents": 0, "recoverable_cents": 0, "expired_cents": 0}
    result = redeem(issued, mediator_x, place, 2, now=clock.now)
    assert ledger.balance(issued)["redeemed_unpaid_cents"] == 2000
    redemption.undo(redemption=result.redemptions[0], user=mediator_x)
    assert ledger.balance(issued)["redeemed_unpaid_cents"] == 1000
    cheques = issued.cheques.order_by("number")
    lifecycle.cancel_cheque(cheques[9].code, actor=manager_a, reason="perdu")
    booklet = cheques[0].booklet
    lifecycle.cancel_booklet(booklet.number, actor=manager_a, reason="volé")
    balance = ledger.balance(issued)
    # Booklet 1: cheque 2 is redeemed, the 4 others are cancelled; cheque 10 is cancelled.
    assert balance["credited_cents"] == 5000 and balance["outstanding_cents"] == 4000
    lifecycle.expire_order(issued.pk)
    balance = ledger.balance(issued)
    assert balance["expired_cents"] == 4000 and balance["credited_cents"] == 9000
    assert balance["outstanding_cents"] == 0
    assert list(issued.ledger_entries.values_list("kind", flat=True)) == [
        "issue", "redeem", "undo", "cancel", "cancel", "expire"]
    assert_invariant()


def test_a_refused_change_writes_no_entry(clock, issued, place, mediator_x, other_place,
                                          mediator_y):
    redeem(issued, mediator_x, place, 1, now=clock.last_month())
    before = LedgerEntry.objects.count()
    with pytest.raises(DomainError):
        # The first cheque is already redeemed.
        redeem(issued, mediator_y, other_place, 2, now=clock.last_month())
    assert LedgerEntry.objects.count() == before
    assert_invariant()


def test_ledger_entries_are_append_only(issued):
    entry = issued.ledger_entries.get()
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(paid_cents=1, prepaid_cents=10001)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_an_entry_that_does_not_balance_is_refused_by_the_database(issued):
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(order=issued, kind="issue", prepaid_cents=100)


def test_check_ledger_exits_non_zero_on_any_difference(clock, issued, place, mediator_x):
    redeem(issued, mediator_x, place, 1, now=clock.last_month())
    out = io.StringIO()
    call_command("check_ledger", stdout=out)
    assert "aucun écart" in out.getvalue()
    # A cheque changed behind the ledger's back: the command finds it.
    Cheque.objects.filter(pk=issued.cheques.order_by("number")[4].pk).update(
        state=Cheque.State.CANCELLED)
    err = io.StringIO()
    with pytest.raises(SystemExit) as caught:
        call_command("check_ledger", stderr=err)
    assert caught.value.code == 1
    assert f"Commande n° {issued.pk}" in err.getvalue() and "credited_cents" in err.getvalue()


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["issue", "distribute", "redeem", "undo", "cancel_cheque",
                               "cancel_booklet", "expire", "reimburse", "statement", "batch",
                               "pay", "reject", "return", "fix_bank", "undo_after_statement",
                               "correct", "goodwill"]),
              st.integers(min_value=0, max_value=50)),
    min_size=1, max_size=16,
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=OPERATIONS)
def test_the_ledger_balances_after_any_sequence_of_operations(
    operations, clock, make_order, funder_a, manager_a, operator, place, mediator_x
):
    from places.models import Place

    bank(place.structure)
    place = Place.objects.select_related("structure").get(pk=place.pk)
    with transaction.atomic():
        orders = [make_order(funder_a, manager_a, approve_by=operator, booklets=1,
                             cheques_per_booklet=3)]
        # Every sequence ends with a reimbursement, so that paying places is always tested.
        for name, pick in [*operations, ("reimburse", 0)]:
            try:
                apply(name, pick, today=clock.today, orders=orders, make_order=make_order,
                      funder=funder_a,
                      manager=manager_a, operator=operator, place=place, mediator=mediator_x)
            except DomainError:
                pass  # a refusal is a legal outcome; it must leave the ledger balanced
            assert_invariant()
        transaction.set_rollback(True)


def apply(name, pick, *, today, orders, make_order, funder, manager, operator, place,
          mediator):
    order = orders[pick % len(orders)]
    cheques = list(Cheque.objects.filter(order__in=orders).order_by("pk"))
    cheque = cheques[pick % len(cheques)]
    if name == "issue":
        orders.append(make_order(funder, manager, approve_by=operator,
                                 booklets=1 + pick % 2, cheques_per_booklet=2,
                                 face_value_cents=500 + pick))
    elif name == "distribute":
        lifecycle.distribute_booklet(cheque.booklet.number, actor=manager)
    elif name == "redeem":
        redemption.redeem(user=mediator, place=place.pk, service=SERVICE, codes=[cheque.code])
    elif name == "undo":
        live = list(Redemption.objects.filter(undone_at=None, statement=None).order_by("pk"))
        if live:
            redemption.undo(redemption=live[pick % len(live)], user=mediator)
    elif name == "cancel_cheque":
        lifecycle.cancel_cheque(cheque.code, actor=manager, reason="perdu")
    elif name == "cancel_booklet":
        lifecycle.cancel_booklet(cheque.booklet.number, actor=manager, reason="volé")
    elif name == "expire":
        lifecycle.expire_order(order.pk)
    elif name == "reimburse":
        for statement in reimbursement.run(until=today, actor=operator):
            reimbursement.validate(statement, actor=operator)
        payable = list(reimbursement.payable_statements().values_list("pk", flat=True))
        if payable:
            batch = reimbursement.create_batch(payable, actor=operator)
            reimbursement.mark_paid(batch, actor=operator)
    elif name == "statement":
        for statement in reimbursement.run(until=today, actor=operator):
            if pick % 3:
                reimbursement.validate(statement, actor=operator)
    elif name == "batch":
        payable = list(reimbursement.payable_statements().values_list("pk", flat=True))
        if payable:
            reimbursement.create_batch(payable[: 1 + pick % len(payable)], actor=operator)
    elif name in ("pay", "reject", "return"):
        states = {"pay": ("pending", "accepted"), "reject": ("pending", "accepted"),
                  "return": ("paid",)}[name]
        transfers = list(Transfer.objects.filter(state__in=states).order_by("pk"))
        if transfers:
            transfer = transfers[pick % len(transfers)]
            with transaction.atomic():
                if name == "pay":
                    reimbursement.pay_transfer(transfer, paid_on=today, actor=operator)
                else:
                    reimbursement.reject_transfer(transfer, code=("AC04", "AM04")[pick % 2],
                                                  actor=operator)
                reimbursement.refresh_batch(
                    PaymentBatch.objects.select_for_update().get(pk=transfer.batch_id),
                    actor=operator)
    elif name == "fix_bank":
        bank(place.structure, iban=("FR7630006000011234567890189",
                                    "FR1420041010050500013M02606")[pick % 2],
             bic=("AGRIFRPP", "PSSTFRPP")[pick % 2])
    elif name == "undo_after_statement":
        taken = list(Redemption.objects.filter(undone_at=None).exclude(statement=None)
                     .order_by("pk"))
        if taken:
            redemption.undo(redemption=taken[pick % len(taken)], user=mediator)
    elif name == "correct":
        live = list(Redemption.objects.filter(undone_at=None).order_by("pk"))
        if live:
            corrections.correct_redemption(live[pick % len(live)], actor=operator,
                                           reason="Lieu non qualifié ce jour-là")
    elif name == "goodwill":
        corrections.goodwill(place.structure, amount_cents=1 + pick * 37, reason="Geste",
                             actor=operator)
