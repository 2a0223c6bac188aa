"""In Chromium: `financeur` orders (live price, summary, confirmation), `operateur` approves
from the queue, and the small order is issued at once."""

import re

import pytest
from playwright.sync_api import expect

from cheques.models import Order, PricingSettings
from tests.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_funder_orders_in_the_browser_and_the_operator_approves(page, demo, nomenclature):
    PricingSettings.objects.update_or_create(pk=1, defaults={"per_booklet_fee_cents": 50})

    log_in(page, "financeur")
    page.get_by_role("link", name="Commander des chèques").click()
    expect(page.get_by_role("heading", name="Commander des chèques")).to_be_visible()
    price = page.locator("#live-price")
    # 10 booklets × (10 cheques × 10 € + 0,50 €), rendered by the server then by the script
    expect(price).to_have_text(re.compile(r"^1\s?005,00\s€$"))
    page.get_by_label("Nombre de carnets").fill("3")
    expect(price).to_have_text(re.compile(r"^301,50\s€$"))
    page.get_by_label("Valeur d’un chèque (€)").fill("12.5")
    expect(price).to_have_text(re.compile(r"^376,50\s€$"))
    page.get_by_label("Nombre de carnets").fill("")
    expect(price).to_have_text("—")
    page.get_by_label("Nombre de carnets").fill("2")
    page.get_by_label("Chèques par carnet").fill("5")
    expect(price).to_have_text(re.compile(r"^126,00\s€$"))  # 2 × (5 × 12,50 € + 0,50 €)
    page.locator("input[name=allowed_services]").first.check()
    page.get_by_label("Territoire (codes des départements)").fill("33, 24")
    page.get_by_label("Activation à la remise").check()
    page.get_by_role("button", name="Voir le récapitulatif").click()

    expect(page.get_by_role("heading", name="Récapitulatif de la commande")).to_be_visible()
    expect(page.locator("#summary-total")).to_have_text(re.compile(r"^126,00\s€$"))
    expect(page.locator("#summary")).to_contain_text("24 Dordogne, 33 Gironde")
    assert not Order.objects.exists()  # nothing written before the confirmation
    page.get_by_role("button", name="Confirmer la commande").click()
    expect(page.get_by_role("status")).to_contain_text("est envoyée")
    order = Order.objects.get()
    assert (order.booklets, order.cheques_per_booklet, order.face_value_cents,
            order.total_cents, order.territory, order.requires_activation) == \
        (2, 5, 1250, 12600, ["24", "33"], True)
    expect(page.locator("#order-status")).to_have_text("En attente de validation")

    page.get_by_role("button", name="Se déconnecter").click()
    log_in(page, "operateur")
    # Through the header menu, as on any page.
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Commandes à valider").click()
    item = page.get_by_role("article").filter(has_text=f"Commande n° {order.pk}")
    expect(item).to_contain_text("Département de la Gironde")
    item.get_by_role("button", name="Valider").click()
    # What cannot be taken back asks first, saying what will happen.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Valider la commande n° {order.pk} ?")
    expect(page.locator("#confirm-consequence")).to_contain_text("10 chèques seront émis")
    page.get_by_role("button", name="Valider et émettre").click()
    expect(page.get_by_role("status")).to_contain_text("10 chèques émis")
    expect(page.get_by_text("Aucune commande en attente.")).to_be_visible()

    page.goto(f"/commandes/{order.pk}/")
    expect(page.locator("#order-status")).to_have_text("Émise")
    expect(page.locator("#issuance-progress")).to_have_attribute("value", "10")
    expect(page.get_by_role("row", name=re.compile(r"^Émis 10$"))).to_be_visible()
    order.refresh_from_db()
    assert order.status == Order.Status.ISSUED and order.issued_cheques == 10
