"""What cannot be taken back asks first: undoing a redemption, approving, rejecting or
withdrawing an order, cancelling a booklet or a cheque, marking a payout paid. The question
is a page of its own that works without JavaScript (a GET, or the list's button posting
without `confirmed`), says what will happen and changes nothing; the confirmed POST acts and
writes its audit row. The API asks nothing (it is unchanged)."""

import re

import pytest
from playwright.sync_api import expect

from aptic.models import AuditEvent
from cheques import redemption, reimbursement
from cheques.models import Booklet, Cheque, Order, PaymentBatch, Redemption
from tests.cheques.redemption_fixtures import codes_of
from tests.cheques.reimbursement_support import bank, redeem
from tests.factories import make_place
from tests.helpers import CONFIRMED, log_in, signed_in

pytestmark = pytest.mark.django_db


def asks_first(client, url, data, *, says, button):
    """A GET and an unconfirmed POST both answer the question and change nothing."""
    before = AuditEvent.objects.count()
    for response in (client.get(url), client.post(url, data)):
        assert response.status_code == 200
        page = response.content.decode()
        assert says in page and f">{button}</button>" in page
        assert 'name="confirmed" value="yes"' in page
        assert "Cette action ne peut pas être défaite." in page
    assert AuditEvent.objects.count() == before


def test_undoing_a_redemption_asks_first_then_undoes_with_its_audit(issued, place,
                                                                   mediator_x):
    done = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                             codes=codes_of(issued, 1)).redemptions[0]
    client = signed_in(mediator_x)
    url = f"/encaissements/{done.pk}/annuler/"
    asks_first(client, url, {}, button="Annuler l’encaissement",
               says="le chèque redevient utilisable et le lieu ne sera pas remboursé")
    assert Redemption.objects.get(pk=done.pk).undone_at is None
    client.post(url, CONFIRMED)
    assert Redemption.objects.get(pk=done.pk).undone_at is not None
    assert AuditEvent.objects.filter(action="cheque.redemption_undone",
                                     actor=mediator_x).count() == 1


def test_the_confirmation_page_is_not_shown_to_who_may_not_see_the_redemption(
    issued, place, mediator_x, mediator_y
):
    done = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                             codes=codes_of(issued, 1)).redemptions[0]
    assert signed_in(mediator_y).get(f"/encaissements/{done.pk}/annuler/").status_code == 404


def test_approving_an_order_asks_first_then_approves(make_order, funder_a, manager_a,
                                                      operator):
    order = make_order(funder_a, manager_a)
    client = signed_in(operator)
    url = f"/operateur/commandes/{order.pk}/valider/"
    asks_first(client, url, {}, button="Valider et émettre",
               says="10 chèques seront émis et imprimés")
    assert Order.objects.get(pk=order.pk).status == Order.Status.SUBMITTED
    assert signed_in(manager_a).get(url).status_code == 403
    client.post(url, CONFIRMED)
    assert Order.objects.get(pk=order.pk).status == Order.Status.ISSUED
    assert AuditEvent.objects.filter(action="order.approved", actor=operator).count() == 1


def test_rejecting_an_order_asks_first_with_its_reason_then_rejects(make_order, funder_a,
                                                                    manager_a, operator):
    order = make_order(funder_a, manager_a)
    client = signed_in(operator)
    url = f"/operateur/commandes/{order.pk}/refuser/"
    response = client.post(url, {"reason": "Budget non voté"})
    page = response.content.decode()
    assert "avec ce motif : « Budget non voté »" in page
    assert '<input type="hidden" name="reason" value="Budget non voté">' in page
    assert Order.objects.get(pk=order.pk).status == Order.Status.SUBMITTED
    assert not AuditEvent.objects.filter(action="order.rejected").exists()
    client.post(url, {"reason": "Budget non voté", **CONFIRMED})
    order.refresh_from_db()
    assert (order.status, order.rejection_reason) == (Order.Status.REJECTED, "Budget non voté")
    assert AuditEvent.objects.filter(action="order.rejected").count() == 1


def test_withdrawing_an_order_asks_first(make_order, funder_a, manager_a):
    order = make_order(funder_a, manager_a)
    client = signed_in(manager_a)
    url = f"/commandes/{order.pk}/annuler/"
    asks_first(client, url, {}, button="Annuler la commande", says="aucun chèque ne sera émis")
    client.post(url, CONFIRMED)
    assert Order.objects.get(pk=order.pk).status == Order.Status.CANCELLED
    assert AuditEvent.objects.filter(action="order.cancelled").count() == 1


def test_cancelling_a_booklet_asks_first_then_cancels(make_order, funder_a, manager_a,
                                                      operator):
    order = make_order(funder_a, manager_a, approve_by=operator)
    booklet = order.booklet_set.order_by("number").first()
    client = signed_in(manager_a)
    form = {"target": "booklet", "identifier": booklet.number, "reason": "Volé"}
    response = client.post("/carnets/annulation/", form)
    page = response.content.decode()
    assert (f"Le carnet {booklet.number} sera annulé : ses chèques non encaissés ne pourront "
            "plus jamais être encaissés. Motif : Volé.") in page
    assert Booklet.objects.get(pk=booklet.pk).state == Booklet.State.ISSUED
    assert not AuditEvent.objects.filter(action="booklet.cancelled").exists()
    client.post("/carnets/annulation/", {**form, **CONFIRMED})
    assert Booklet.objects.get(pk=booklet.pk).state == Booklet.State.CANCELLED
    assert AuditEvent.objects.filter(action="booklet.cancelled").count() == 1


def test_the_booklet_question_reveals_nothing_about_a_booklet_of_another_funder(
    make_order, funder_a, manager_a, manager_b, operator
):
    """The question is asked before any look-up: a number that exists elsewhere reads the
    same as one that exists nowhere (no existence oracle)."""
    theirs = make_order(funder_a, manager_a, approve_by=operator).booklet_set.first().number
    nowhere = f"{theirs[:5]}{int(theirs[5:]) + 900000:06d}"
    client = signed_in(manager_b)

    def question(number):
        page = client.post("/carnets/annulation/", {"target": "booklet", "identifier": number,
                                                    "reason": "Volé"}).content.decode()
        return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", page.replace(number, "N"))

    assert question(theirs) == question(nowhere)


def test_marking_a_payout_paid_asks_first_then_pays(clock, issued, place, mediator_x,
                                                    operator):
    redeem(issued, mediator_x, place, 2, now=clock.last_month(5))
    (statement,) = reimbursement.run(actor=operator)
    reimbursement.validate(statement, actor=operator)
    bank(place.structure)
    batch = reimbursement.create_batch([statement.pk], actor=operator)
    client = signed_in(operator)
    url = f"/remboursements/lots/{batch.pk}/payer/"
    asks_first(client, url, {}, button="Marquer payé",
               says="Confirmez seulement si la banque a exécuté les virements de ce lot (1, 20,00")
    assert PaymentBatch.objects.get(pk=batch.pk).state != PaymentBatch.State.PAID
    client.post(url, CONFIRMED)
    assert PaymentBatch.objects.get(pk=batch.pk).state == PaymentBatch.State.PAID
    assert AuditEvent.objects.filter(action="payment_batch.paid").count() == 1


def test_the_api_asks_nothing(api, issued, place, mediator_x):
    done = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                             codes=codes_of(issued, 1)).redemptions[0]
    api.force_authenticate(mediator_x)
    assert api.delete(f"/api/v1/redemptions/{done.pk}/").status_code == 204


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_mediator_undoes_a_redemption_on_a_phone_without_javascript(
    browser, live_server, request, demo, make_order, operator
):
    from tests.conftest import open_page

    place = make_place(demo["structure"], name="Médiathèque du Lac")
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    code = codes_of(order, 1)[0]
    redemption.redeem(user=demo["mediateur"], place=place.pk, service="acces-poste",
                      codes=[code])
    number = Cheque.objects.get(code=code).number
    page = open_page(browser, live_server.url, request, java_script_enabled=False,
                     viewport={"width": 360, "height": 740})
    log_in(page, "mediateur")
    page.goto("/encaissements/")
    page.get_by_role("link", name=f"Annuler l’encaissement du chèque {number}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Annuler l’encaissement du chèque {number} ?")
    expect(page.locator("#confirm-consequence")).to_contain_text("Médiathèque du Lac")
    page.get_by_role("link", name="Retour, sans rien changer").click()
    assert Redemption.objects.get().undone_at is None
    page.get_by_role("link", name=f"Annuler l’encaissement du chèque {number}").click()
    page.get_by_role("button", name="Annuler l’encaissement").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"L’encaissement du chèque {number} est annulé.")
    assert Redemption.objects.get().undone_at is not None
    page.context.close()
