"""axe-core runs inside Chromium on the main pages of each role, as they look in use (a
basket with a refused cheque, forms with their errors, the map with its attribution): no
violation of impact "serious" or "critical"."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from cheques import codes, lifecycle
from tests.factories import make_order, make_place
from tests.helpers import log_in, serious_accessibility_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def assert_accessible(page):
    violations = serious_accessibility_violations(page)
    assert not violations, f"{page.url}: {violations}"


@pytest.fixture
def world(demo):
    place = make_place(demo["structure"], name="Médiathèque du Lac")
    order = make_order(demo["funder"], demo["financeur"], approve_by=demo["operateur"])
    waiting = make_order(demo["funder"], demo["financeur"])  # in the operator's queue
    return {"place": place, "order": order, "waiting": waiting}


def test_the_public_map_and_the_login_page(page, world):
    # Tiles come from the internet, which tests do not have: the page must work without.
    page.route(re.compile(r"tile\.openstreetmap\.org"), lambda route: route.abort())
    page.goto("/lieux/")
    expect(page.locator(".leaflet-control-attribution")).to_be_visible()
    assert_accessible(page)
    # The attribution's contrast is measured, not left "incomplete" over the map.
    attribution = Axe().run(page, context=".leaflet-control-attribution", options={
        "runOnly": ["color-contrast", "link-in-text-block"],
        "resultTypes": ["passes", "violations", "incomplete"]}).response
    assert {rule["id"] for rule in attribution["passes"]} == {"color-contrast",
                                                               "link-in-text-block"}
    assert not attribution["violations"] and not attribution["incomplete"]
    page.goto(f"/lieux/{world['place'].pk}/")
    assert_accessible(page)
    page.goto("/connexion/")
    page.get_by_role("button", name="Se connecter").last.click()
    expect(page.locator(".error, .errors").first).to_be_visible()
    assert_accessible(page)


def test_the_mediators_pages(page, demo, world):
    first, second = world["order"].cheques.order_by("number").values_list("code", flat=True)[:2]
    lifecycle.cancel_cheque(second, actor=demo["operateur"], reason="Volé")
    log_in(page, "mediateur")
    assert_accessible(page)  # home
    page.goto("/encaisser/")
    assert_accessible(page)
    page.get_by_label("Service rendu", exact=True).select_option("outils-atelier")
    for code in (first, second):
        page.get_by_label("Code imprimé sur le chèque").fill(codes.format_code(code))
        page.get_by_role("button", name="Ajouter au panier").click()
    expect(page.locator("#basket tr", has_text="Refusé")).to_have_count(1)
    page.get_by_label("Nombre de séances (facultatif)").fill("zéro")
    assert_accessible(page)
    page.goto("/encaissements/")
    assert_accessible(page)


def test_the_place_managers_pages(page, world):
    log_in(page, "gestionnaire")
    assert_accessible(page)
    for path in ("/structure/lieux/", "/remboursements/",
                 f"/structure/lieux/{world['place'].pk}/modifier/"):
        page.goto(path)
        assert_accessible(page)


def test_the_funders_pages(page, world):
    log_in(page, "financeur")
    assert_accessible(page)
    for path in ("/financeur/tableau-de-bord/", "/commandes/", "/commandes/nouvelle/"):
        page.goto(path)
        assert_accessible(page)


def test_the_prescribers_page(page, world):
    log_in(page, "prescripteur")
    assert_accessible(page)
    page.goto("/carnets/remise/")
    page.get_by_role("button", name=re.compile("Enregistrer|Remettre")).first.click()
    assert_accessible(page)


def test_the_operators_pages(page, world):
    log_in(page, "operateur")
    assert_accessible(page)
    for path in ("/operateur/commandes/", f"/commandes/{world['order'].pk}/",
                 f"/operateur/commandes/{world['waiting'].pk}/valider/",  # the question
                 "/remboursements/", "/operateur/qualification/"):
        page.goto(path)
        assert_accessible(page)
