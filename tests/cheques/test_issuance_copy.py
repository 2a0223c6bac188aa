"""Issuance with COPY: booklet ids read back from their INSERT, no foreign-key constraint from
cheque to booklet in the database, a code collision retried from scratch."""

import pytest
from django.db import IntegrityError, connection, transaction

from cheques import codes, issuance
from cheques.models import Booklet, Cheque, Order

pytestmark = pytest.mark.django_db


def approved(make_order, funder, user, **terms):
    order = make_order(funder, user, **terms)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.APPROVED)
    return order


def test_every_cheque_points_at_its_own_booklet_with_the_right_columns(funder_a, manager_a,
                                                                       make_order):
    first = approved(make_order, funder_a, manager_a, booklets=7, cheques_per_booklet=3,
                     face_value_cents=1250)
    second = approved(make_order, funder_a, manager_a, booklets=4, cheques_per_booklet=2)
    issuance.issue_order(first.pk)
    issuance.issue_order(second.pk)
    first.refresh_from_db()
    for cheque in Cheque.objects.select_related("booklet", "order"):
        assert cheque.booklet.order_id == cheque.order_id
        assert cheque.number.rsplit("-", 1)[0] == cheque.booklet.number
        assert (cheque.face_value_cents, cheque.state, cheque.cancellation_reason) == \
            (cheque.order.face_value_cents, Cheque.State.ISSUED, "")
        assert cheque.state_changed_at == cheque.order.issued_at
        assert codes.has_valid_check(cheque.code)
    assert Cheque.objects.filter(order=first).count() == 21
    assert Booklet.objects.filter(order=second).count() == 4


def test_the_cheque_to_booklet_link_has_no_database_constraint_but_an_index_leads_with_it():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "cheques_cheque")
    assert not any(c["foreign_key"] for c in constraints.values()
                   if c["columns"] == ["booklet_id"])
    leading = [c for c in constraints.values() if c["columns"][:1] == ["booklet_id"]]
    assert any(c["unique"] and c["columns"] == ["booklet_id", "number"]
               for c in leading)


def test_a_cheque_number_cannot_appear_twice_in_a_booklet(funder_a, manager_a, make_order):
    order = approved(make_order, funder_a, manager_a, booklets=1, cheques_per_booklet=2)
    issuance.issue_order(order.pk)
    cheque = Cheque.objects.filter(order=order).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Cheque.objects.create(booklet=cheque.booklet, order=order, number=cheque.number,
                              code=codes.generate_codes(1)[0], face_value_cents=1000)
    assert Cheque.objects.filter(order=order).count() == 2


def test_a_code_collision_is_retried_and_the_order_is_issued(funder_a, manager_a,
                                                             make_order, monkeypatch):
    other = approved(make_order, funder_a, manager_a, booklets=1, cheques_per_booklet=1)
    issuance.issue_order(other.pk)
    taken = Cheque.objects.get(order=other).code.encode()
    order = approved(make_order, funder_a, manager_a, booklets=2, cheques_per_booklet=5)
    original = codes.generate_block
    calls = []

    def colliding_once(count):
        calls.append(count)
        block = original(count)
        return block[:-codes.LENGTH] + taken if len(calls) == 1 else block

    monkeypatch.setattr(issuance.codes, "generate_block", colliding_once)
    issuance.issue_order(order.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.ISSUED
    assert len(calls) == 2
    assert Cheque.objects.filter(order=order).count() == 10
    assert Booklet.objects.filter(order=order).count() == 2
