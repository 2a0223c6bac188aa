"""Nothing a mediator or a place manager uses scrolls sideways on a 360 × 740 phone: the
login, the scan page with a full basket and refused rows, the history with 50 rows and its
filters, the statements and the place pages. Tables become stacked cards."""

import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cheques import codes, lifecycle, redemption, reimbursement
from tests.factories import make_order, make_place
from tests.helpers import log_in, scrolls_sideways, widest_elements

# APTIC_SCREENSHOTS=<folder>: keep a picture of each page, to look at it.
SCREENSHOTS = os.environ.get("APTIC_SCREENSHOTS")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def fits(phone):
    if SCREENSHOTS:
        name = phone.url.split("/", 3)[-1].strip("/").replace("/", "_") or "home"
        phone.screenshot(path=f"{SCREENSHOTS}/{name}.png", full_page=True)
    assert phone.evaluate("[window.innerWidth, window.innerHeight]") == [360, 740]
    assert scrolls_sideways(phone) <= 0, (
        f"{phone.url} is {scrolls_sideways(phone)} px too wide: {widest_elements(phone)}")


@pytest.fixture
def place(demo):
    # A long name, as some are (and it must wrap, not widen the page).
    return make_place(demo["structure"], name="Médiathèque intercommunale Jacques-Ellul "
                                               "de l’Entre-deux-Mers")


@pytest.fixture
def order(demo, nomenclature):
    return make_order(demo["funder"], demo["financeur"], approve_by=demo["operateur"],
                      booklets=6, cheques_per_booklet=10)


def test_the_login_page_fits_a_phone(phone):
    phone.goto("/connexion/")
    fits(phone)
    phone.get_by_role("button", name="Se connecter").last.click()  # errors shown
    fits(phone)


def test_the_scan_page_with_ten_cheques_and_refused_rows_fits_a_phone(phone, demo, place,
                                                                      order):
    all_codes = list(order.cheques.order_by("number").values_list("code", flat=True))
    cancelled = all_codes[10]
    lifecycle.cancel_cheque(cancelled, actor=demo["operateur"], reason="Volé")
    basket = [*all_codes[:10], cancelled, codes.generate_codes(1)[0]]
    log_in(phone, "mediateur")
    phone.goto("/encaisser/")
    phone.get_by_label("Service rendu", exact=True).select_option(
        "demarches-accompagnement")  # the longest label of the nomenclature
    for code in basket:
        phone.get_by_label("Code imprimé sur le chèque").fill(codes.format_code(code))
        phone.get_by_role("button", name="Ajouter au panier").click()
    expect(phone.locator("#basket tr", has_text="à encaisser")).to_have_count(10)
    expect(phone.locator("#basket tr", has_text="Refusé")).to_have_count(2)
    fits(phone)
    # Each card shows its code whole, on one line, and its "Retirer" on screen.
    for row in phone.locator("#basket tr").all():
        code = row.locator("code")
        assert code.evaluate("c => c.getClientRects().length") == 1
        box = row.get_by_role("button", name="Retirer").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    refused = phone.locator("#basket tr", has_text="Refusé")
    for left in (1, 0):
        refused.first.get_by_role("button", name="Retirer").click()
        expect(refused).to_have_count(left)
    phone.get_by_role("button", name="Encaisser le panier").click()
    expect(phone.locator("#success")).to_contain_text("10 chèques encaissés")
    fits(phone)


def test_the_history_with_fifty_rows_and_its_filters_fits_a_phone(phone, demo, place, order):
    all_codes = list(order.cheques.order_by("number").values_list("code", flat=True))
    redemption.redeem(user=demo["mediateur"], place=place.pk, service="demarches-accompagnement",
                      codes=all_codes[:50])
    log_in(phone, "mediateur")
    phone.goto("/encaissements/")
    expect(phone.locator("#totals")).to_contain_text("50 chèques encaissés")
    expect(phone.get_by_role("link", name="Annuler l’encaissement du chèque")).to_have_count(50)
    fits(phone)
    phone.get_by_label("Lieu").select_option(str(place.pk))
    phone.get_by_role("button", name="Filtrer").click()
    expect(phone.locator("#totals")).to_contain_text("50 chèques encaissés")
    fits(phone)


def test_the_statements_fit_a_phone(phone, demo, place, order):
    done = redemption.redeem(user=demo["mediateur"], place=place.pk, service="acces-poste",
                             codes=list(order.cheques.values_list("code", flat=True)[:12]))
    until = timezone.localtime(done.redemptions[0].redeemed_at).date()
    (statement,) = reimbursement.run(until=until, actor=demo["operateur"])
    log_in(phone, "gestionnaire")
    phone.goto("/remboursements/")
    expect(phone.locator("#statements")).to_contain_text(statement.reference)
    fits(phone)
    phone.goto(f"/remboursements/releves/{statement.pk}/")
    expect(phone.locator("#lines tbody tr")).to_have_count(12)
    fits(phone)


def test_the_place_pages_fit_a_phone(phone, demo, place):
    log_in(phone, "gestionnaire")
    phone.goto("/structure/lieux/")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    fits(phone)
    phone.goto(f"/structure/lieux/{place.pk}/modifier/")
    fits(phone)
    phone.goto(f"/lieux/{place.pk}/")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Jacques-Ellul")
    fits(phone)
