import datetime
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aptic.errors import DomainError
from aptic.models import AuditEvent, Role
from cheques import codes, lifecycle
from cheques.issuance import issue_order
from cheques.models import Booklet, Cheque, Order
from tests.factories import member
from tests.helpers import CONFIRMED

pytestmark = pytest.mark.django_db


@pytest.fixture
def issued(funder_a, manager_a, operator, make_order):
    return make_order(funder_a, manager_a, approve_by=operator, booklets=2,
                      cheques_per_booklet=5, requires_activation=True)


def test_a_prescriber_of_the_funder_hands_over_a_booklet_and_activates_its_cheques(
    api, issued, funder_a
):
    prescriber = member(Role.PRESCRIBER, funder_a)
    booklet = issued.booklet_set.first()
    api.force_authenticate(prescriber)
    response = api.post(f"/api/v1/booklets/{booklet.number}/distribute/",
                        {"age_bracket": "65_79", "postcode": "33000", "situation": "retired"})
    assert response.status_code == 200, response.json()
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.DISTRIBUTED
    assert booklet.postcode == "33000"
    cheques = booklet.cheques.all()
    assert {c.state for c in cheques} == {Cheque.State.DISTRIBUTED}
    assert all(c.activated_at for c in cheques)
    assert lifecycle.refusal(cheques[0]) is None
    event = AuditEvent.objects.for_object(booklet).get(action="booklet.distributed")
    assert event.details["cheques"] == 5
    again = api.post(f"/api/v1/booklets/{booklet.number}/distribute/", {})
    assert again.status_code == 400 and again.json()["code"] == "already_distributed"


def test_a_prescriber_of_another_funder_cannot_hand_over(api, issued, funder_b):
    booklet = issued.booklet_set.first()
    api.force_authenticate(member(Role.PRESCRIBER, funder_b))
    response = api.post(f"/api/v1/booklets/{booklet.number}/distribute/", {})
    assert response.status_code == 404 and response.json()["code"] == "unknown_booklet"
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.ISSUED


def test_a_cheque_requiring_activation_is_not_redeemable_before_hand_over(issued):
    cheque = issued.cheques.first()
    error = lifecycle.refusal(cheque)
    assert error.code == "not_activated"


def test_a_cancelled_booklet_can_never_be_redeemed_nor_handed_over(api, issued, manager_a):
    booklet = issued.booklet_set.first()
    api.force_authenticate(manager_a)
    assert api.post(f"/api/v1/booklets/{booklet.number}/cancel/", {}).status_code == 400
    response = api.post(f"/api/v1/booklets/{booklet.number}/cancel/", {"reason": "Volé"})
    assert response.status_code == 200
    assert response.json()["cancelled_cheques"] == 5
    for cheque in booklet.cheques.all():
        assert cheque.state == Cheque.State.CANCELLED
        assert lifecycle.refusal(cheque).code == "cancelled"
    refused = api.post(f"/api/v1/booklets/{booklet.number}/distribute/", {})
    assert refused.json()["code"] == "cancelled"
    assert AuditEvent.objects.for_object(booklet).filter(action="booklet.cancelled").exists()


def test_funder_b_cannot_cancel_a_booklet_of_funder_a(api, issued, manager_b):
    booklet = issued.booklet_set.first()
    api.force_authenticate(manager_b)
    response = api.post(f"/api/v1/booklets/{booklet.number}/cancel/", {"reason": "x"})
    assert response.status_code == 404
    assert not Cheque.objects.filter(state=Cheque.State.CANCELLED).exists()


def test_a_single_cheque_is_cancelled_once(issued, operator):
    cheque = issued.cheques.first()
    lifecycle.cancel_cheque(cheque.display_code.lower(), actor=operator, reason="Perdu")
    with pytest.raises(DomainError) as error:
        lifecycle.cancel_cheque(cheque.code, actor=operator, reason="Perdu")
    assert error.value.code == "cancelled"


def test_the_lookup_gives_state_and_rules_to_a_mediator(api, issued, mediator):
    cheque = issued.cheques.first()
    api.force_authenticate(mediator)
    response = api.get(f"/api/v1/cheques/{cheque.display_code}/")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "issued"
    assert body["face_value_cents"] == 1000
    assert body["redeemable"] is False
    assert body["refusal"]["code"] == "not_activated"


@pytest.mark.parametrize("mangle, code", [
    (lambda c: c[:5], "invalid_format"),
    (lambda c: c[:3] + ("0" if c[3] != "0" else "1") + c[4:], "bad_check_character"),
])
def test_the_lookup_refuses_typos_before_the_database(api, issued, mediator, mangle, code):
    cheque = issued.cheques.first()
    api.force_authenticate(mediator)
    response = api.get(f"/api/v1/cheques/{mangle(cheque.code)}/")
    assert response.status_code == 422
    assert response.json()["code"] == code


def test_an_unknown_code_is_404_and_a_forged_signature_is_refused_without_a_query(
    api, issued, mediator
):
    api.force_authenticate(mediator)
    unknown = codes.generate_codes(1)[0]
    assert api.get(f"/api/v1/cheques/{unknown}/").json()["code"] == "unknown_cheque"
    cheque = issued.cheques.first()
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(DomainError) as error:
            lifecycle.lookup_cheque(cheque.code, "k1.AAAAAAAAAAAAAAAA")
    assert error.value.code == "bad_signature"
    assert len(queries) == 0
    found = lifecycle.lookup_cheque(cheque.code, codes.sign(cheque.code))
    assert found == cheque


def test_a_funder_manager_cannot_look_up_cheques(api, issued, manager_a):
    api.force_authenticate(manager_a)
    cheque = issued.cheques.first()
    assert api.get(f"/api/v1/cheques/{cheque.code}/").status_code == 403


def test_hand_overs_are_refused_from_j_minus_15(clock, issued, manager_a):
    first, second = issued.booklet_set.order_by("number")
    clock.move_to(clock.at(issued.valid_until - datetime.timedelta(days=16), 23, 59))
    lifecycle.distribute_booklet(first.number, actor=manager_a)
    clock.move_to(clock.at(issued.valid_until - datetime.timedelta(days=15), 0, 1))
    with pytest.raises(DomainError) as error:
        lifecycle.distribute_booklet(second.number, actor=manager_a)
    assert error.value.code == "handover_closed"


def test_the_expiry_job_run_twice_gives_the_same_result(clock, issued, manager_a, settings,
                                                        django_capture_on_commit_callbacks):
    """The daily job as the calendar brings it: nothing until J-31, the alert at J-30, the
    cheques still accepted on the last day of the grace period, expired the day after."""
    from django.core import mail

    first = issued.booklet_set.first()
    lifecycle.distribute_booklet(first.number, actor=manager_a)
    clock.move_to(clock.at(issued.valid_until - datetime.timedelta(days=31), 23, 50))
    assert lifecycle.end_of_validity()["alerted"] == 0
    clock.move_to(clock.at(issued.valid_until - datetime.timedelta(days=30), 0, 10))
    with django_capture_on_commit_callbacks(execute=True):
        assert lifecycle.end_of_validity()["alerted"] == 1
        assert lifecycle.end_of_validity()["alerted"] == 0
    assert len(mail.outbox) == 1
    in_grace = issued.valid_until + datetime.timedelta(days=settings.EXPIRY_GRACE_DAYS)
    clock.move_to(clock.at(in_grace, 23, 59))
    assert lifecycle.end_of_validity()["expired_cheques"] == 0
    assert lifecycle.refusal(first.cheques.first()) is None
    clock.move_to(clock.at(in_grace + datetime.timedelta(days=1), 0, 1))
    assert lifecycle.refusal(first.cheques.first()).code == "expired"
    assert lifecycle.end_of_validity() == {"alerted": 0, "expired_cheques": 10}
    snapshot = (list(Cheque.objects.values_list("state", flat=True)),
                AuditEvent.objects.count())
    assert lifecycle.end_of_validity() == {"alerted": 0, "expired_cheques": 0}
    assert snapshot == (list(Cheque.objects.values_list("state", flat=True)),
                        AuditEvent.objects.count())
    issued.refresh_from_db()
    assert issued.credit_note_cents == 10 * 1000
    assert set(Booklet.objects.values_list("state", flat=True)) == {Booklet.State.EXPIRED}
    assert AuditEvent.objects.filter(action="booklet.expired").count() == 2


def test_the_operator_extends_validity_with_an_audit_row(issued, operator, manager_a):
    new_date = issued.valid_until + datetime.timedelta(days=90)
    with pytest.raises(DomainError):
        lifecycle.extend_validity(issued, actor=manager_a, valid_until=new_date)
    lifecycle.extend_validity(issued, actor=operator, valid_until=new_date)
    issued.refresh_from_db()
    assert issued.valid_until == new_date
    assert AuditEvent.objects.for_object(issued).filter(
        action="order.validity_extended").exists()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issuances_get_unique_codes_and_disjoint_booklet_numbers(
    funder_a, manager_a, make_order
):
    orders = [make_order(funder_a, manager_a, booklets=300, cheques_per_booklet=10)
              for _ in range(2)]
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=Order.Status.APPROVED)
    barrier = threading.Barrier(2)
    errors = []

    def run(order_id):
        try:
            barrier.wait()
            issue_order(order_id)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(o.pk,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Cheque.objects.count() == 6000
    assert Cheque.objects.values("code").distinct().count() == 6000
    numbers = sorted(Booklet.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 600
    sequences = sorted(int(n.split("-")[1]) for n in numbers)
    assert sequences == list(range(sequences[0], sequences[0] + 600))
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.ISSUED}


def test_a_failed_issuance_leaves_no_partial_batch(funder_a, manager_a, make_order):
    order = make_order(funder_a, manager_a, booklets=3)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.APPROVED)
    taken = codes.generate_codes(1)[0]
    from cheques import issuance

    original = codes.generate_block

    other = make_order(funder_a, manager_a, booklets=1, cheques_per_booklet=1)
    Order.objects.filter(pk=other.pk).update(status=Order.Status.APPROVED)
    issuance.codes.generate_block = lambda count: original(count - 1) + taken.encode()
    try:
        issue_order(other.pk)
        with pytest.raises(Exception):  # noqa: B017 - the collision, on every retry
            issue_order(order.pk)
    finally:
        issuance.codes.generate_block = original
    order.refresh_from_db()
    assert order.status == Order.Status.APPROVED
    assert not Booklet.objects.filter(order=order).exists()
    assert not Cheque.objects.filter(order=order).exists()
    issue_order(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.ISSUED


def test_another_funders_cheque_or_booklet_answers_exactly_like_an_unknown_one(
        client, api, issued, manager_b):
    """A funder probing codes on the cancellation page or the API learns nothing about
    codes and booklets that are not theirs."""
    cheque = issued.cheques.first()
    unknown_code = codes.generate_codes(1)[0]
    client.force_login(manager_b)

    def cancel_page(target, identifier):
        response = client.post("/carnets/annulation/", {
            "target": target, "identifier": identifier, "reason": "Perdu", **CONFIRMED})
        return response.status_code, response.context["form"].errors["identifier"]

    assert cancel_page("cheque", cheque.code) == cancel_page("cheque", unknown_code)
    booklet = issued.booklet_set.first()
    number = booklet.number
    other_number = f"{number[:5]}{int(number[5:]) + 900000:06d}"
    mine = cancel_page("booklet", number)
    assert mine[1] == [f"Aucun carnet ne porte le numéro {number}."]
    assert cancel_page("booklet", other_number)[1] == [
        f"Aucun carnet ne porte le numéro {other_number}."]
    api.force_authenticate(manager_b)
    for action, data in (("distribute", {}), ("cancel", {"reason": "Perdu"})):
        real = api.post(f"/api/v1/booklets/{number}/{action}/", data)
        fake = api.post(f"/api/v1/booklets/{other_number}/{action}/", data)
        assert (real.status_code, real.json()["code"]) == (fake.status_code,
                                                          fake.json()["code"]) == (
            404, "unknown_booklet")
    assert not Cheque.objects.filter(state=Cheque.State.CANCELLED).exists()


def test_probing_codes_to_cancel_counts_as_failed_look_ups_and_is_blocked(client, settings,
                                                                          issued, manager_b):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 5
    client.force_login(manager_b)
    for code in codes.generate_codes(5):
        client.post("/carnets/annulation/", {"target": "cheque", "identifier": code,
                                             "reason": "Perdu", **CONFIRMED})
    cheque = issued.cheques.first()
    response = client.post("/carnets/annulation/", {"target": "cheque",
                                                     "identifier": cheque.code,
                                                     "reason": "Perdu", **CONFIRMED})
    assert "Trop de codes erronés" in response.content.decode()
    assert AuditEvent.objects.filter(action="cheque_lookup.blocked").count() == 1
