"""Corrections after a statement: an undo once the redemption is in a statement, an
operator's correction of a wrong redemption, the carry-over that keeps a statement above
zero, and a goodwill payment. Each is a signed line on the structure's next statement,
audited, and the funds ledger reconciles to the cent at every step."""

import datetime

import pytest
from django.urls import reverse

from aptic.errors import DomainError
from aptic.models import AuditEvent
from cheques import corrections, ledger, redemption, reimbursement
from cheques.models import Adjustment, Cheque, LedgerEntry, Redemption, Statement, StatementLine
from tests.cheques.reimbursement_support import bank, redeem
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


def pay(statement, operator):
    """Validate a draft and pay it (a batch marked paid), returning it fresh."""
    statement = reimbursement.validate(statement, actor=operator)
    if statement.state != Statement.State.PAID:
        batch = reimbursement.create_batch([statement.pk], actor=operator)
        reimbursement.mark_paid(batch, actor=operator)
    statement.refresh_from_db()
    return statement


def reconciles():
    assert ledger.check() == []
    return True


@pytest.fixture
def paid_month(clock, issued, place, mediator_x, operator):
    """Structure X was paid last month's 3 cheques (30 €)."""
    bank(place.structure)
    redeem(issued, mediator_x, place, 3, now=clock.last_month(5))
    [statement] = reimbursement.run(actor=operator)
    return pay(statement, operator)


def test_an_undo_after_the_statement_is_a_debit_on_the_next_one(
    clock, issued, place, mediator_x, manager_x, operator
):
    bank(place.structure)
    late = redeem(issued, mediator_x, place, 2, now=clock.now - datetime.timedelta(hours=2))
    [first] = reimbursement.run(until=clock.today, actor=operator)
    first = pay(first, operator)
    wrong = late.redemptions[1]
    redemption.undo(redemption=Redemption.objects.get(pk=wrong.pk), user=manager_x)
    cheque = Cheque.objects.get(pk=wrong.cheque_id)
    assert cheque.state == Cheque.State.ISSUED  # usable again, as after any undo
    adjustment = Adjustment.objects.get(redemption=wrong)
    assert (adjustment.kind, adjustment.amount_cents, adjustment.original_statement) == (
        "correction", 1000, first)
    assert AuditEvent.objects.filter(action="adjustment.created", actor=manager_x).exists()
    assert AuditEvent.objects.filter(action="cheque.redemption_corrected").exists()
    assert ledger.balance(issued)["recoverable_cents"] == -1000
    assert reconciles()
    # Next month: one new cheque (10 €) and the debit (−10 €): a statement at zero.
    redeem(issued, mediator_x, place, 1, skip=5, now=clock.now)
    [second] = reimbursement.run(until=clock.today, actor=operator)
    lines = list(second.lines.order_by("kind", "id"))
    debit = next(line for line in lines if line.kind == StatementLine.Kind.CORRECTION)
    assert debit.amount_cents == -1000 and debit.adjustment == adjustment
    assert cheque.number in debit.label and first.reference in debit.label
    assert second.total_cents == 0
    second = pay(second, operator)
    assert second.state == Statement.State.PAID and second.paid_on == clock.today
    assert not second.transfers.exists()  # nothing to transfer at zero
    balance = ledger.balance(issued)
    assert balance["recoverable_cents"] == 0 and balance["paid_cents"] == 2000
    assert LedgerEntry.objects.filter(kind="recover").exists()
    assert reconciles()
    # The statement page shows the debit with its reason and original.
    page = signed_in(manager_x).get(reverse("reimbursement-statement", args=[second.pk]))
    assert "Correction" in page.content.decode() and "-10,00" in page.content.decode()


def test_the_operator_corrects_a_paid_redemption_and_the_cheque_is_credited_back(
    clock, paid_month, issued, place, mediator_x, operator, funder_a
):
    wrong = Redemption.objects.filter(statement=paid_month).order_by("pk").first()
    with pytest.raises(DomainError) as caught:
        corrections.correct_redemption(wrong, actor=mediator_x, reason="erreur")
    assert caught.value.code == "forbidden"
    with pytest.raises(DomainError) as caught:
        corrections.correct_redemption(wrong, actor=operator, reason="  ")
    assert caught.value.code == "reason_required"
    corrections.correct_redemption(wrong, actor=operator,
                                   reason="Lieu non qualifié ce jour-là")
    cheque = Cheque.objects.get(pk=wrong.cheque_id)
    assert cheque.state == Cheque.State.CANCELLED
    assert cheque.cancellation_reason == "Lieu non qualifié ce jour-là"
    balance = ledger.balance(issued)
    assert (balance["credited_cents"], balance["recoverable_cents"]) == (1000, -1000)
    assert balance["paid_cents"] == 3000  # the money is at the place until deducted
    assert reconciles()
    with pytest.raises(DomainError) as caught:
        corrections.correct_redemption(wrong, actor=operator, reason="encore")
    assert caught.value.code == "already_undone"
    redeem(issued, mediator_x, place, 2, skip=5, now=clock.now)
    [second] = reimbursement.run(until=clock.today, actor=operator)
    assert second.total_cents == 1000
    assert sorted(second.lines.values_list("amount_cents", flat=True)) == [-1000, 1000, 1000]
    pay(second, operator)
    balance = ledger.balance(issued)
    assert (balance["paid_cents"], balance["recoverable_cents"]) == (4000, 0)
    assert reconciles()


def test_a_correction_larger_than_the_next_statement_carries_over(
    clock, paid_month, issued, place, mediator_x, operator
):
    for wrong in Redemption.objects.filter(statement=paid_month).order_by("pk")[:2]:
        corrections.correct_redemption(wrong, actor=operator, reason="Chèque d’un autre "
                                                                    "financeur")
    redeem(issued, mediator_x, place, 1, skip=5, now=clock.now)
    [second] = reimbursement.run(until=clock.today, actor=operator)
    # 10 € of new cheques, 20 € of debits: the statement stops at zero, 10 € carried over.
    assert second.total_cents == 0
    kinds = sorted(second.lines.values_list("kind", "amount_cents"))
    assert kinds == [("carry_over", 1000), ("correction", -1000), ("correction", -1000),
                     ("redemption", 1000)]
    carry = second.lines.get(kind="carry_over")
    assert carry.label.startswith("Report au relevé suivant")
    pay(second, operator)
    assert ledger.balance(issued)["recoverable_cents"] == -1000
    assert reconciles()
    # The following month: 3 new cheques (30 €) minus the 10 € carried.
    redeem(issued, mediator_x, place, 3, skip=6, now=clock.now)
    [third] = reimbursement.run(until=clock.today, actor=operator)
    assert third.total_cents == 2000
    assert third.lines.get(kind="correction").amount_cents == -1000
    pay(third, operator)
    balance = ledger.balance(issued)
    assert balance["recoverable_cents"] == 0
    assert balance["paid_cents"] == 3000 + 1000 + 3000 - 2000
    assert reconciles()
    assert not reimbursement.pending_adjustments()


def test_a_debit_alone_waits_for_a_statement_with_something_to_pay(
    clock, paid_month, operator, place, issued, mediator_x
):
    wrong = Redemption.objects.filter(statement=paid_month).first()
    corrections.correct_redemption(wrong, actor=operator, reason="Doublon")
    assert reimbursement.run(until=clock.today, actor=operator) == []
    assert [a.remaining for a in reimbursement.pending_adjustments()] == [1000]
    redeem(issued, mediator_x, place, 2, skip=5, now=clock.now)
    [statement] = reimbursement.run(until=clock.today, actor=operator)
    assert sorted(statement.lines.values_list("amount_cents", flat=True)) == [-1000, 1000, 1000]
    assert statement.total_cents == 1000
    pay(statement, operator)
    assert reconciles()


def test_a_goodwill_payment_is_a_positive_line_paid_from_the_operators_money(
    clock, paid_month, place, operator, manager_x
):
    with pytest.raises(DomainError) as caught:
        corrections.goodwill(place.structure, amount_cents=500, reason="Retard",
                             actor=manager_x)
    assert caught.value.code == "forbidden"
    with pytest.raises(DomainError) as caught:
        corrections.goodwill(place.structure, amount_cents=0, reason="Retard", actor=operator)
    assert caught.value.code == "invalid_amount"
    gesture = corrections.goodwill(place.structure, amount_cents=1500,
                                   reason="Retard de paiement de décembre", actor=operator)
    assert AuditEvent.objects.filter(action="adjustment.created", actor=operator,
                                     object_id=str(gesture.pk)).exists()
    assert ledger.balances([None])[None]["redeemed_unpaid_cents"] == 1500
    assert reconciles()
    [statement] = reimbursement.run(until=clock.today, actor=operator)
    line = statement.lines.get()
    assert (line.kind, line.amount_cents, line.order_id) == ("goodwill", 1500, None)
    assert "Retard de paiement de décembre" in line.label
    pay(statement, operator)
    operators = ledger.balances([None])[None]
    assert (operators["prepaid_cents"], operators["paid_cents"]) == (1500, 1500)
    assert reconciles()


def test_the_operator_corrects_and_grants_through_the_page(clock, paid_month, operator,
                                                           place, mediator_x):
    client = signed_in(operator)
    wrong = Redemption.objects.filter(statement=paid_month).order_by("pk").first()
    response = client.post(reverse("reimbursement-correct"), {
        "cheque": wrong.cheque.number, "reason": "Lieu non qualifié"}, follow=True)
    assert "à déduire du prochain relevé" in response.content.decode()
    response = client.post(reverse("reimbursement-goodwill"), {
        "structure": place.structure_id, "amount": "12,50", "reason": "Geste"}, follow=True)
    assert "Geste commercial enregistré" in response.content.decode()
    page = client.get(reverse("reimbursement-corrections")).content.decode()
    assert "Lieu non qualifié" in page and "12,50" in page
    assert signed_in(mediator_x).get(reverse("reimbursement-corrections")).status_code == 403
    assert reconciles()
