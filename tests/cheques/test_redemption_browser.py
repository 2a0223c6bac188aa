import pytest
from playwright.sync_api import expect

from cheques import codes
from cheques.models import Redemption
from tests.cheques.redemption_fixtures import codes_of
from tests.factories import make_place
from tests.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def swap_a_pair(code):
    """The code with two adjacent, different characters swapped (a typical typing slip)."""
    for i in range(len(code) - 1):
        if code[i] != code[i + 1]:
            return code[:i] + code[i + 1] + code[i] + code[i + 2:]
    raise AssertionError("a code with all characters equal")


def test_a_mediator_types_two_codes_fixes_a_slip_and_sees_them_in_the_history(
    page, demo, make_order, operator
):
    from aptic.models import Membership

    place = make_place(demo["structure"], name="Médiathèque du Lac")
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    first, second = codes_of(order, 2)
    log_in(page, "mediateur")
    page.goto("/encaisser/")

    code_box = page.get_by_label("Code imprimé sur le chèque")
    code_box.fill(codes.format_code(first).lower())
    page.get_by_role("button", name="Ajouter au panier").click()
    page.get_by_text("à encaisser").first.wait_for()

    slip = swap_a_pair(second)
    code_box.fill(codes.format_code(slip))
    page.get_by_text("Caractère de contrôle erroné — vérifiez le code.").wait_for()
    page.get_by_role("button", name="Ajouter au panier").click()
    assert page.locator("#basket tr").count() == 1  # refused before any request
    code_box.fill(codes.format_code(second))
    page.get_by_role("button", name="Ajouter au panier").click()
    rows = page.locator("#basket tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="à encaisser")).to_have_count(2)
    assert "20,00" in page.locator("#basket-total").inner_text()

    page.get_by_label("Service rendu", exact=True).select_option("outils-atelier")
    page.get_by_role("button", name="Encaisser le panier").click()
    page.get_by_role("heading", name="2 chèques encaissés").wait_for()
    assert Redemption.objects.filter(place=place, undone_at=None).count() == 2
    assert Membership.objects.filter(user=demo["mediateur"]).exists()

    page.get_by_role("link", name="Voir l’historique").first.click()
    page.get_by_text("2 chèques encaissés").wait_for()
    for code in (first, second):
        number = order.cheques.get(code=code).number
        assert page.get_by_role("cell", name=number, exact=True).is_visible()
