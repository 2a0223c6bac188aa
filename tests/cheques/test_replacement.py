"""Replacement of a damaged or lost booklet (cheques.replacement): the old unused codes are
refused with the number of the new booklet, the new codes are redeemed, redeemed cheques
stay as they are, the ledger does not move, the audit trail links old and new, and only the
operator replaces."""

import datetime
import re

import pypdfium2
import pytest

from aptic.errors import DomainError
from aptic.models import AuditEvent, Role
from cheques import codes, ledger, lifecycle, printing, replacement, reporting
from cheques.models import Booklet, Cheque, Order, PrintJob
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(make_order, funder_a, manager_a, operator):
    """Funder A's issued order: 2 booklets of 5 cheques, to activate at hand-over."""
    return make_order(funder_a, manager_a, approve_by=operator, booklets=2,
                      cheques_per_booklet=5, requires_activation=True)


@pytest.fixture
def started(order, manager_a, mediator_x, place, api):
    """The first booklet handed out, two of its cheques redeemed at place X."""
    booklet = order.booklet_set.order_by("number").first()
    lifecycle.distribute_booklet(booklet.number, actor=manager_a, age_bracket="65_79",
                                 postcode="33000")
    api.force_authenticate(mediator_x)
    redeemed = list(booklet.cheques.order_by("number").values_list("code", flat=True)[:2])
    response = api.post("/api/v1/redemptions/", {"codes": redeemed, "place": place.pk,
                                                 "service": "outils-atelier"}, format="json")
    assert response.status_code == 201, response.json()
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.STARTED
    return booklet, redeemed


def redeem(api, user, place, cheque_codes):
    """Redeemed for a one-cheque service, whatever the count."""
    api.force_authenticate(user)
    return api.post("/api/v1/redemptions/", {"codes": cheque_codes, "place": place.pk,
                                             "service": "outils-accompagnement"}, format="json")


def test_the_operator_replaces_a_started_booklet_and_only_its_unused_cheques_move(
    clock, api, order, started, operator, mediator_x, place
):
    old, redeemed = started
    unused = list(old.cheques.filter(state=Cheque.State.DISTRIBUTED).order_by("number"))
    balances_before = ledger.balance(order)
    summary_before = reporting.summary(Order.objects.filter(pk=order.pk), with_ledger=False)

    old_after, new, moved = replacement.replace_booklet(old.number, actor=operator,
                                                        reason="Abîmé (dégât des eaux)")

    assert moved == 3 and old_after.pk == old.pk
    assert new.replaces_id == old.pk and new.order_id == order.pk
    assert re.fullmatch(rf"{clock.today.year}-\d{{6}}", new.number)
    old.refresh_from_db()
    assert old.state == Booklet.State.REPLACED
    assert old.cancellation_reason == f"remplacé par le carnet {new.number}"
    # Old unused codes: replaced, with the reason; the scan page's look-up and the
    # redemption both refuse them, naming the new booklet.
    for cheque in unused:
        cheque.refresh_from_db()
        assert cheque.state == Cheque.State.REPLACED
        assert cheque.cancellation_reason == f"remplacé par le carnet {new.number}"
    api.force_authenticate(mediator_x)
    looked_up = api.get(f"/api/v1/cheques/{unused[0].code}/").json()
    assert looked_up["redeemable"] is False
    assert looked_up["refusal"]["code"] == "replaced"
    assert f"remplacé par le carnet {new.number}" in looked_up["refusal"]["detail"]
    refused = redeem(api, mediator_x, place, [unused[1].code])
    assert refused.status_code == 410
    assert refused.json()["code"] == "replaced"
    assert f"remplacé par le carnet {new.number}" in refused.json()["detail"]
    # Redeemed cheques untouched.
    assert set(Cheque.objects.filter(code__in=redeemed).values_list("state", flat=True)) == {
        Cheque.State.REDEEMED}
    assert Cheque.objects.filter(code__in=redeemed, booklet=old).count() == 2
    # The new booklet: as many cheques, new codes, same value, handed out and activated
    # like the old one (its hand-over is carried over, not counted twice).
    fresh = list(new.cheques.order_by("number"))
    assert [c.number for c in fresh] == [f"{new.number}-0{i}" for i in (1, 2, 3)]
    assert not {c.code for c in fresh} & {c.code for c in unused}
    assert all(codes.has_valid_check(c.code) for c in fresh)
    assert {(c.face_value_cents, c.state) for c in fresh} == {
        (order.face_value_cents, Cheque.State.DISTRIBUTED)}
    assert all(c.activated_at for c in fresh)
    assert new.state == Booklet.State.DISTRIBUTED
    assert (new.distributed_at, new.age_bracket, new.postcode) == (
        old.distributed_at, "65_79", "33000")
    # The ledger does not move, and reconciles with the cheques; the funder's figures too.
    assert ledger.balance(order) == balances_before
    assert ledger.check([order.pk]) == []
    summary_after = reporting.summary(Order.objects.filter(pk=order.pk), with_ledger=False)
    assert summary_after["cheques"] == summary_before["cheques"]
    # The hand-over is counted once; "started" counts booklets whose own cheques are used.
    for count in ("issued", "handed_out", "cancelled"):
        assert summary_after["booklets"][count] == summary_before["booklets"][count]
    # New codes are redeemable at once.
    response = redeem(api, mediator_x, place, [c.code for c in fresh])
    assert response.status_code == 201, response.json()
    assert ledger.check([order.pk]) == []
    # The audit trail links old and new, booklet by booklet and cheque by cheque.
    replaced = AuditEvent.objects.for_object(old).get(action="booklet.replaced")
    assert (replaced.actor, replaced.from_state, replaced.to_state) == (
        operator, Booklet.State.STARTED, Booklet.State.REPLACED)
    assert replaced.details == {"replacement": new.number, "cheques": 3,
                                "reason": "Abîmé (dégât des eaux)"}
    issued = AuditEvent.objects.for_object(new).get(action="booklet.issued")
    assert issued.details["replaces"] == old.number and issued.actor == operator
    for old_cheque, new_cheque in zip(unused, fresh, strict=True):
        event = AuditEvent.objects.for_object(old_cheque).get(action="cheque.replaced")
        assert (event.from_state, event.to_state) == (Cheque.State.DISTRIBUTED,
                                                      Cheque.State.REPLACED)
        assert event.details["replacement"] == new_cheque.number


def test_a_replacement_prints_alone_under_its_own_title(
    api, order, started, operator, django_capture_on_commit_callbacks
):
    old, _redeemed = started
    with django_capture_on_commit_callbacks(execute=True):
        _old, new, _moved = replacement.replace_booklet(old.number, actor=operator)
    job = PrintJob.objects.get(booklet=new)
    assert job.state == PrintJob.State.PRINTED and job.total == 3
    assert AuditEvent.objects.for_object(new).filter(action="booklet.reprinted").exists()
    fileobj, name = printing.printed_pdf(job)
    with fileobj:
        document = pypdfium2.PdfDocument(fileobj.read())
    pages = [" ".join(page.get_textpage().get_text_range().split()) for page in document]
    assert len(pages) == 2  # the cover and one page of three cheques
    assert f"Carnet de remplacement n° {new.number} (remplace n° {old.number})" in pages[0]
    printed = set(re.findall(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", pages[1]))
    assert printed == {codes.format_code(c.code) for c in new.cheques.all()}
    assert name == f"carnet-{new.number}.pdf"


def test_a_booklet_never_handed_out_is_replaced_as_never_handed_out(order, operator):
    old = order.booklet_set.order_by("number").last()
    _old, new, moved = replacement.replace_booklet(old.number, actor=operator)
    assert moved == 5
    assert new.state == Booklet.State.ISSUED and new.distributed_at is None
    assert set(new.cheques.values_list("state", flat=True)) == {Cheque.State.ISSUED}
    # Still to activate at its hand-over, like the booklet it replaces.
    assert lifecycle.refusal(new.cheques.first()).code == "not_activated"
    assert ledger.check([order.pk]) == []


@pytest.mark.parametrize("role", [Role.FUNDER_MANAGER, Role.PRESCRIBER, Role.MEDIATOR,
                                  Role.PLACE_MANAGER])
def test_only_the_operator_replaces_a_booklet(order, funder_a, role):
    booklet = order.booklet_set.first()
    user = member(role, funder_a if role == Role.FUNDER_MANAGER else None)
    with pytest.raises(DomainError) as refused:
        replacement.replace_booklet(booklet.number, actor=user)
    assert refused.value.status == 403
    booklet.refresh_from_db()
    assert booklet.state == Booklet.State.ISSUED
    assert not Booklet.objects.filter(replaces=booklet).exists()


def test_the_replacement_page_is_the_operators(client, order, manager_a, operator):
    booklet = order.booklet_set.first()
    url = f"/commandes/{order.pk}/remplacer-un-carnet/"
    client.force_login(manager_a)  # sees the order, may not replace
    assert client.post(url, {"booklet": booklet.number}).status_code == 403
    client.force_login(operator)
    page = client.get(f"/commandes/{order.pk}/impression/")
    assert "Remplacer un carnet abîmé ou perdu" in page.content.decode()
    unknown = client.post(url, {"booklet": "1999-000001"})
    assert unknown.status_code == 404
    done = client.post(url, {"booklet": booklet.number.lower(), "reason": "Perdu"},
                       follow=True)
    new = Booklet.objects.get(replaces=booklet)
    assert f"Le carnet {booklet.number} est remplacé par le carnet {new.number} (5 chèques)" \
        in done.content.decode()
    again = client.post(url, {"booklet": booklet.number})
    assert again.status_code == 409
    assert "ne peut pas être remplacé" in again.content.decode()


def test_a_booklet_is_replaced_once_and_a_used_up_one_not_at_all(
    api, order, operator, manager_a, mediator_x, place
):
    first, second = order.booklet_set.order_by("number")
    replacement.replace_booklet(first.number, actor=operator)
    with pytest.raises(DomainError) as twice:
        replacement.replace_booklet(first.number, actor=operator)
    assert twice.value.code == "booklet_not_replaceable"
    lifecycle.distribute_booklet(second.number, actor=manager_a)
    second_codes = list(second.cheques.values_list("code", flat=True))
    assert redeem(api, mediator_x, place, second_codes).status_code == 201
    with pytest.raises(DomainError) as used_up:
        replacement.replace_booklet(second.number, actor=operator)
    assert used_up.value.code == "nothing_to_replace"
    lifecycle.cancel_booklet(Booklet.objects.get(replaces=first).number, actor=manager_a,
                             reason="Volé")
    with pytest.raises(DomainError) as cancelled:
        replacement.replace_booklet(Booklet.objects.get(replaces=first).number,
                                    actor=operator)
    assert cancelled.value.code == "booklet_not_replaceable"
    assert ledger.check([order.pk]) == []


def test_a_booklet_past_its_last_day_of_acceptance_is_not_replaced(clock, order, operator):
    booklet = order.booklet_set.first()
    clock.move_to(order.expiry_date + datetime.timedelta(days=1))
    with pytest.raises(DomainError) as refused:
        replacement.replace_booklet(booklet.number, actor=operator)
    assert refused.value.code == "expired"


def test_a_replacement_replaces_the_same_code_reprint_of_a_booklet_handed_out(
    order, started, operator, django_capture_on_commit_callbacks
):
    old, _redeemed = started
    with pytest.raises(DomainError) as refused:
        printing.start_printing(order, actor=operator, booklet=old)
    assert refused.value.code == "booklet_handed_out" and refused.value.status == 409
    # A booklet nobody holds yet may still be reprinted with its codes.
    never = order.booklet_set.order_by("number").last()
    assert printing.start_printing(order, actor=operator, booklet=never).total == 5
    # A replacement is handed out from the start, yet printed until it has been once.
    with django_capture_on_commit_callbacks(execute=True):
        _old, new, _moved = replacement.replace_booklet(old.number, actor=operator)
    with pytest.raises(DomainError) as printed_once:
        printing.start_printing(order, actor=operator, booklet=new)
    assert printed_once.value.code == "booklet_handed_out"


def test_printing_the_whole_order_again_prints_the_replacement_and_not_the_old_booklet(
    order, started, operator, django_capture_on_commit_callbacks
):
    old, _redeemed = started
    replacement.replace_booklet(old.number, actor=operator)
    with django_capture_on_commit_callbacks(execute=True):
        job = printing.start_printing(order, actor=operator)
    job.refresh_from_db()
    assert job.state == PrintJob.State.PRINTED, job.error
    # The other booklet (5 cheques, 2 pages) and the replacement (3 cheques, 2 pages).
    assert (job.total, job.pages) == (8, 4)
