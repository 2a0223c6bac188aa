"""The scan page where the network drops, in Chromium on a 360 px phone: the page opens from
its service worker, baskets are kept on the device and sent once the network returns, a
replayed upload pays nothing twice, and a cheque redeemed meanwhile comes back as a
conflict."""

import pytest
from django.core.signals import request_started
from django.utils import timezone
from playwright.sync_api import expect

from aptic.models import AuditEvent, Role
from cheques import codes, redemption
from cheques.models import IdempotentResponse, LedgerEntry, Redemption
from tests.cheques.redemption_fixtures import codes_of
from tests.factories import make_place, member
from tests.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONE_HOUR = "outils-accompagnement"  # one cheque per session


def add(page, code):
    page.get_by_label("Code imprimé sur le chèque").fill(codes.format_code(code))
    page.get_by_role("button", name="Ajouter au panier").click()


def counts():
    return (Redemption.objects.count(), AuditEvent.objects.count(), LedgerEntry.objects.count(),
            IdempotentResponse.objects.count())


def test_baskets_confirmed_offline_are_kept_sent_once_back_online_and_never_paid_twice(
    phone, demo, make_order, operator
):
    place = make_place(demo["structure"], name="Médiathèque du Lac")
    colleague = member(Role.MEDIATOR, demo["structure"], first_name="Colin")
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    three, taken = codes_of(order, 4)[:3], codes_of(order, 4)[3]
    page, context = phone, phone.context

    log_in(page, "mediateur")
    page.goto("/encaisser/")
    expect(page.locator("#scan[data-offline-ready=true]")).to_have_count(1, timeout=20000)

    # 1. No network: the page opens all the same, from the service worker's cache (the
    # server sees no request for it).
    context.set_offline(True)
    served = []

    def record(sender, environ, **kwargs):
        served.append(environ["PATH_INFO"])

    request_started.connect(record)
    try:
        response = page.reload()
    finally:
        request_started.disconnect(record)
    assert response.from_service_worker
    assert served == []
    expect(page.get_by_role("heading", name="Encaisser des chèques")).to_be_visible()
    expect(page.locator("#outbox-offline")).to_contain_text("Hors ligne")
    page.get_by_label("Nom de cet appareil").fill("Tablette du bus")
    page.get_by_label("Nom de cet appareil").press("Tab")
    page.get_by_label("Service rendu", exact=True).select_option(ONE_HOUR)

    # 2. Three cheques, checked offline for their form and check character only.
    for code in three:
        add(page, code)
    rows = page.locator("#basket tr")
    expect(rows.filter(has_text="vérification en attente")).to_have_count(3)
    page.get_by_role("button", name="Encaisser le panier").click()
    expect(page.locator("#result")).to_contain_text("le panier est gardé")
    expect(page.locator("#outbox-pending")).to_have_text("1 panier en attente")
    expect(page.locator("#basket tr")).to_have_count(0)

    # A second basket, whose cheque a colleague redeems meanwhile at the same place.
    add(page, taken)
    page.get_by_role("button", name="Encaisser le panier").click()
    expect(page.locator("#outbox-pending")).to_have_text("2 paniers en attente")
    assert not Redemption.objects.exists()
    redemption.redeem(user=colleague, place=place.pk, service=ONE_HOUR, codes=[taken])
    meanwhile = Redemption.objects.get()

    # 3. Back online: the baskets go in order; the three cheques are redeemed once.
    context.set_offline(False)
    outcomes = page.locator("#outbox-outcomes li")
    expect(outcomes).to_have_count(2, timeout=20000)
    expect(outcomes.nth(0)).to_contain_text(
        "Médiathèque du Lac (Bordeaux) : 3 chèques encaissés, 30,00 €")
    expect(page.locator("#outbox-pending")).to_be_hidden()
    expect(page.locator("#outbox-offline")).to_be_hidden()
    mine = Redemption.objects.filter(mediator=demo["mediateur"], undone_at=None)
    assert sorted(mine.values_list("cheque__code", flat=True)) == sorted(three)
    assert {r.device for r in mine} == {"Tablette du bus"}
    assert all(r.scanned_at is not None and r.scanned_at <= r.redeemed_at for r in mine)

    # 5. The cheque redeemed meanwhile: a conflict that says when and where.
    when = timezone.localtime(meanwhile.redeemed_at)
    expect(outcomes.nth(1)).to_contain_text("refusé")
    expect(outcomes.nth(1)).to_contain_text(
        f"déjà été encaissé le {when:%d/%m/%Y} à {when:%H:%M}, ici : Médiathèque du Lac")
    assert Redemption.objects.get(cheque__code=taken).mediator == colleague

    # 4. The same uploads replayed, as a device that never heard the answers would: the
    # first answers again, byte for byte, and nothing changes.
    before = counts()
    replayed = page.evaluate("""async () => {
        const entries = await window.APTICOutbox.all();
        const token = (await (await fetch(document.getElementById("scan").dataset.tokenUrl))
                       .json()).csrf;
        const answers = [];
        for (const entry of entries) {
            const response = await fetch("/api/v1/redemptions/", {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": token,
                          "Idempotency-Key": entry.nonce},
                body: JSON.stringify(entry.payload)});
            answers.push({status: response.status, body: await response.json(),
                          first: entry.body, firstStatus: entry.status});
        }
        return answers;
    }""")
    assert [a["status"] for a in replayed] == [201, 409]
    assert all(a["body"] == a["first"] and a["status"] == a["firstStatus"] for a in replayed)
    assert counts() == before
    # The page's own queue, started again, sends nothing more either.
    page.evaluate("window.APTICScan.flush()")
    assert counts() == before
    assert Redemption.objects.filter(undone_at=None).count() == 4


def test_testing_the_validity_says_what_a_redemption_would_answer_and_redeems_nothing(
    phone, demo, make_order, operator
):
    place = make_place(demo["structure"], name="Médiathèque du Lac")
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    good, taken = codes_of(order, 2)
    page = phone
    log_in(page, "mediateur")
    page.goto("/encaisser/")
    page.get_by_label("Service rendu", exact=True).select_option(ONE_HOUR)
    add(page, good)
    add(page, taken)
    expect(page.locator("#basket tr", has_text="à encaisser")).to_have_count(2)
    # Redeemed by a colleague after it was added: only the test (or the redemption) knows.
    colleague = member(Role.MEDIATOR, demo["structure"])
    redemption.redeem(user=colleague, place=place.pk, service=ONE_HOUR, codes=[taken])
    before = counts()

    page.get_by_role("button", name="Tester la validité").click()
    refused = page.locator("#basket tr", has_text=codes.format_code(taken))
    expect(refused).to_contain_text("déjà été encaissé")
    assert counts() == before
    refused.get_by_role("button", name="Retirer").click()
    page.get_by_role("button", name="Tester la validité").click()
    expect(page.locator("#result")).to_have_text(
        "Valable : 1 chèque, 10,00 €. Rien n’a été encaissé.")
    assert counts() == before
    assert not Redemption.objects.filter(cheque__code=good).exists()


def test_a_qr_code_whose_signature_is_not_one_of_ours_is_refused_even_offline(
    phone, demo, make_order, operator
):
    make_place(demo["structure"])
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    code = codes_of(order, 1)[0]
    page = phone
    log_in(page, "mediateur")
    page.goto("/encaisser/")
    page.context.set_offline(True)
    assert page.evaluate("([code]) => window.APTICScan.addCode(code, 'pas-une-signature')",
                         [code]) is None
    expect(page.locator("#manual-hint")).to_have_text(
        "Ce QR code n’est pas celui d’un chèque #APTIC : saisissez le code imprimé.")
    signature = codes.sign(code)
    page.evaluate("([code, s]) => window.APTICScan.addCode(code, s)", [code, signature])
    expect(page.locator("#basket tr", has_text=codes.format_code(code))).to_contain_text(
        "vérification en attente")
