import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from aptic.errors import DomainError
from aptic.models import AuditEvent
from cheques import ledger, redemption, reimbursement
from cheques.models import Cheque, Redemption, Statement
from services.models import Service
from tests.cheques.reimbursement_support import BIC_B, IBAN_B, SERVICE, bank, redeem

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(clock, issued, place, mediator_x, other_place, mediator_y):
    """Last month: 3 cheques redeemed at place (2 services), 2 at the other structure."""
    redeem(issued, mediator_x, place, 2, now=clock.last_month(3))
    redemption.redeem(user=mediator_x, place=place.pk, service="demarches-accompagnement",
                      codes=[issued.cheques.order_by("number")[2].code], now=clock.last_month(20))
    redeem(issued, mediator_y, other_place, 2, skip=3, now=clock.last_month(25))
    return issued


def test_a_month_at_two_structures_gives_two_statements_with_their_lines_and_totals(clock,
    month, place, other_place, mediator_x, operator
):
    statements = reimbursement.run(actor=operator)
    assert len(statements) == 2
    mine = next(s for s in statements if s.structure_id == place.structure_id)
    theirs = next(s for s in statements if s.structure_id == other_place.structure_id)
    assert (mine.state, mine.line_count, mine.total_cents) == (Statement.State.DRAFT, 3, 3000)
    assert (theirs.line_count, theirs.total_cents) == (2, 2000)
    assert mine.until == reimbursement.default_until()
    numbers = list(month.cheques.order_by("number").values_list("number", flat=True))
    lines = list(mine.lines.order_by("redeemed_at"))
    assert [line.cheque_number for line in lines] == numbers[:3]
    assert {line.place_name for line in lines} == {place.name}
    assert lines[0].mediator_name == "Maya Médiatrice"
    assert lines[0].service_label == Service.objects.get(slug=SERVICE).label
    assert [line.amount_cents for line in lines] == [1000, 1000, 1000]
    assert timezone.localdate(lines[0].redeemed_at) == clock.last_month(3).date()
    totals = reimbursement.totals(mine)
    assert totals.by_place == [(place.name, 3, 3000)]
    assert sorted(totals.by_service) == sorted([
        (Service.objects.get(slug=SERVICE).label, 2, 2000),
        (Service.objects.get(slug="demarches-accompagnement").label, 1, 1000)])
    assert set(Redemption.objects.values_list("statement", flat=True)) == {mine.pk, theirs.pk}
    assert AuditEvent.objects.filter(action="statement.created", actor=operator).count() == 2


def test_an_undone_redemption_is_not_in_the_statement(clock, issued, place, mediator_x, operator):
    now = clock.now - datetime.timedelta(hours=1)
    result = redeem(issued, mediator_x, place, 3, now=now)
    redemption.undo(redemption=result.redemptions[1], user=mediator_x)
    [statement] = reimbursement.run(until=clock.today, actor=operator)
    assert statement.line_count == 2 and statement.total_cents == 2000
    assert result.redemptions[1].cheque.number not in set(
        statement.lines.values_list("cheque_number", flat=True))


def test_a_second_run_never_takes_a_redemption_twice(clock, month, place, mediator_x, operator):
    first = reimbursement.run(actor=operator)
    assert reimbursement.run(actor=operator) == []
    redeem(month, mediator_x, place, 1, skip=6, now=clock.last_month(28))
    [second] = reimbursement.run(actor=operator)
    assert second.line_count == 1 and second.total_cents == 1000
    assert Redemption.objects.filter(statement__in=[*first, second]).count() == 6
    taken = [line.redemption_id for s in [*first, second] for line in s.lines.all()]
    assert len(taken) == len(set(taken)) == 6


def test_redemptions_after_the_period_wait_for_the_next_run(clock, issued, place, mediator_x):
    redeem(issued, mediator_x, place, 1, now=clock.last_month(10))
    redeem(issued, mediator_x, place, 1, skip=1, now=clock.now)
    [statement] = reimbursement.run()
    assert statement.line_count == 1
    assert Redemption.objects.filter(statement=None).count() == 1
    [later] = reimbursement.run(until=clock.today)
    assert later.line_count == 1


def test_a_period_in_the_future_is_refused_and_nothing_changes(clock, month, operator):
    with pytest.raises(DomainError) as caught:
        reimbursement.run(until=clock.today + datetime.timedelta(days=1), actor=operator)
    assert caught.value.code == "future_period"
    assert "futur" in caught.value.detail
    assert not Statement.objects.exists()
    assert not Redemption.objects.exclude(statement=None).exists()


def test_validating_an_empty_statement_is_refused(structure, operator):
    empty = Statement.objects.create(structure=structure, until=reimbursement.default_until())
    with pytest.raises(DomainError) as caught:
        reimbursement.validate(empty, actor=operator)
    assert caught.value.code == "empty_statement"
    empty.refresh_from_db()
    assert empty.state == Statement.State.DRAFT and empty.validated_at is None


def test_validating_twice_is_refused_and_the_first_validation_stands(month, operator):
    statement = reimbursement.run(actor=operator)[0]
    validated = reimbursement.validate(statement, actor=operator)
    assert validated.state == Statement.State.VALIDATED and validated.validated_by == operator
    with pytest.raises(DomainError) as caught:
        reimbursement.validate(statement, actor=operator)
    assert caught.value.code == "not_draft" and caught.value.status == 409
    assert AuditEvent.objects.filter(action="statement.validated").count() == 1


def test_only_the_operator_runs_and_validates(month, manager_x, operator):
    with pytest.raises(DomainError) as caught:
        reimbursement.run(actor=manager_x)
    assert caught.value.code == "forbidden"
    statement = reimbursement.run(actor=operator)[0]
    with pytest.raises(DomainError):
        reimbursement.validate(statement, actor=manager_x)
    statement.refresh_from_db()
    assert statement.state == Statement.State.DRAFT


def test_an_undo_once_the_redemption_is_in_a_statement_becomes_a_correction(
    clock, issued, place, mediator_x, operator
):
    result = redeem(issued, mediator_x, place, 1, now=clock.now)
    [statement] = reimbursement.run(until=clock.today, actor=operator)
    found = Redemption.objects.get(pk=result.redemptions[0].pk)
    redemption.undo(redemption=found, user=mediator_x)
    found.refresh_from_db()
    assert found.undone_at is not None and found.correction.amount_cents == 1000
    assert found.cheque.state == Cheque.State.ISSUED
    # The statement keeps its line; the debit waits for the next one.
    statement.refresh_from_db()
    assert statement.line_count == 1 and statement.total_cents == 1000
    # A stale copy loaded before the run is refused as already undone.
    with pytest.raises(DomainError) as caught:
        redemption.undo(redemption=result.redemptions[0], user=mediator_x)
    assert caught.value.code == "already_undone"
    assert ledger.check() == []


def test_paying_a_batch_reimburses_the_cheques_and_moves_the_ledger(month, place, other_place,
                                                                     operator):
    bank(place.structure)
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    statements = reimbursement.run(actor=operator)
    for statement in statements:
        reimbursement.validate(statement, actor=operator)
    batch = reimbursement.create_batch([s.pk for s in statements], actor=operator)
    assert ledger.balance(month)["redeemed_unpaid_cents"] == 5000
    reimbursement.mark_paid(batch, actor=operator)
    assert set(Statement.objects.values_list("state", flat=True)) == {Statement.State.PAID}
    assert month.cheques.filter(state=Cheque.State.REIMBURSED).count() == 5
    assert month.cheques.filter(state=Cheque.State.REDEEMED).count() == 0
    balance = ledger.balance(month)
    assert (balance["paid_cents"], balance["redeemed_unpaid_cents"]) == (5000, 0)
    assert balance["outstanding_cents"] == 5000 and balance["prepaid_cents"] == 10000
    assert ledger.check() == []
    assert AuditEvent.objects.filter(action="cheque.reimbursed").count() == 5
    assert AuditEvent.objects.filter(action="statement.paid").count() == 2
    with pytest.raises(DomainError) as caught:
        reimbursement.mark_paid(batch, actor=operator)
    assert caught.value.code == "already_paid"


def test_run_reimbursement_prints_the_statements_it_created(month, place):
    out = io.StringIO()
    call_command("run_reimbursement", stdout=out)
    text = out.getvalue()
    assert text.count("Relevé n°") == 2
    assert place.structure.name in text and "30,00" in text
    out = io.StringIO()
    call_command("run_reimbursement", stdout=out)
    assert "Aucun" in out.getvalue()


def test_run_reimbursement_refuses_a_future_date_with_a_clear_error(clock, month):
    from django.core.management.base import CommandError

    future = (clock.today + datetime.timedelta(days=3)).isoformat()
    with pytest.raises(CommandError, match="futur"):
        call_command("run_reimbursement", "--until", future)
    with pytest.raises(CommandError, match="AAAA-MM-JJ"):
        call_command("run_reimbursement", "--until", "31/12/2020")
    assert not Statement.objects.exists()


def test_the_monthly_task_is_scheduled_and_runs_the_previous_month(settings, month):
    from cheques.tasks import monthly_reimbursement_task

    entry = settings.CELERY_BEAT_SCHEDULE["cheques-monthly-reimbursement"]
    assert entry["task"] == "cheques.tasks.monthly_reimbursement_task"
    assert entry["schedule"].day_of_month == {1} and entry["schedule"].hour == {3}
    created = monthly_reimbursement_task.delay().get()
    assert sorted(created) == sorted(Statement.objects.values_list("pk", flat=True))
    assert len(created) == 2


def test_a_statement_covers_the_previous_calendar_month_of_paris(clock, issued, place,
                                                                  mediator_x, operator):
    """In January the previous month is December of last year; 23:59 on its last day is in
    it, 00:01 on the first of this month is not, whatever UTC says."""
    first_of_month = clock.today.replace(day=1)
    last_day = first_of_month - datetime.timedelta(days=1)
    redeem(issued, mediator_x, place, 1, now=clock.at(last_day, 23, 59))
    redeem(issued, mediator_x, place, 1, skip=1, now=clock.at(first_of_month, 0, 1))
    [statement] = reimbursement.run(actor=operator)
    assert statement.until == last_day
    assert statement.line_count == 1
    assert statement.last_redemption_on == last_day
