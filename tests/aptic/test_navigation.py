"""Finding one's way: every page has a header menu of the pages the person's role uses
(the same list as their home page, aptic.home), the current page marked, folded behind a
button on a phone."""

import re

import pytest

from aptic.home import actions_for
from aptic.models import Role
from aptic.navigation import current_url
from aptic.permissions import PLACE_ROLES
from tests.factories import make_order, make_place, member
from tests.helpers import log_in, signed_in

pytestmark = pytest.mark.django_db

MENU = re.compile(r'<ul id="site-menu" class="site-menu">(.*?)</ul>', re.S)


def menu_of(html):
    """[(label, href, current)] of the header menu."""
    [menu] = MENU.findall(html)
    return [(label.strip(), href, bool(current)) for href, current, label in re.findall(
        r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', menu)]


@pytest.mark.parametrize(("role", "expected"), [
    (Role.FUNDER_MANAGER, ["/commandes/nouvelle/", "/commandes/", "/financeur/tableau-de-bord/",
                           "/carnets/remise/", "/carnets/annulation/", "/lieux/", "/compte/"]),
    (Role.PRESCRIBER, ["/carnets/remise/", "/lieux/", "/compte/"]),
    (Role.PLACE_MANAGER, ["/encaisser/", "/encaissements/", "/remboursements/",
                          "/structure/lieux/", "/lieux/", "/compte/"]),
    (Role.MEDIATOR, ["/encaisser/", "/encaissements/", "/lieux/", "/compte/"]),
    (Role.OPERATOR_STAFF, ["/operateur/tableau-de-bord/", "/operateur/commandes/",
                           "/commandes/", "/carnets/remise/", "/carnets/annulation/",
                           "/remboursements/", "/operateur/qualification/", "/lieux/",
                           "/compte/", "/admin/"]),
])
def test_each_role_has_the_menu_of_its_pages_on_every_page(nomenclature, role, expected):
    user = member(role)
    if role in PLACE_ROLES:
        make_place(user.memberships.get().organisation)
    client = signed_in(user)
    home = menu_of(client.get("/").content.decode())
    assert [href for _label, href, _current in home][1:] == expected
    assert home[0] == ("Mon espace", "/", True)
    assert [action.url for action in actions_for(user)] == expected
    # Django's admin is a site of its own, without our header.
    for _label, href, _current in home[1:-1] if "/admin/" in expected else home[1:]:
        page = client.get(href)
        assert page.status_code == 200, href
        marked = [h for _l, h, current in menu_of(page.content.decode()) if current]
        assert marked == [href], f"{href} marks {marked}"


def test_a_visitor_has_the_map_the_signup_and_the_login(client):
    menu = menu_of(client.get("/lieux/").content.decode())
    assert [(href, current) for _label, href, current in menu] == [
        ("/lieux/", True), ("/structure/inscription/", False), ("/connexion/", False)]
    login = menu_of(client.get("/connexion/").content.decode())
    assert login[-1] == ("Se connecter", "/connexion/", True)


def test_a_page_under_a_menu_entry_marks_that_entry(nomenclature):
    funder = member(Role.FUNDER_MANAGER)
    order = make_order(funder.memberships.get().organisation, funder)
    html = signed_in(funder).get(f"/commandes/{order.pk}/").content.decode()
    assert [href for _l, href, current in menu_of(html) if current] == ["/commandes/"]


def test_the_current_entry_is_the_longest_url_the_path_lies_under():
    urls = ["/", "/commandes/", "/commandes/nouvelle/", "/lieux/"]
    assert current_url(urls, "/commandes/nouvelle/") == "/commandes/nouvelle/"
    assert current_url(urls, "/commandes/nouvelle/recapitulatif/") == "/commandes/nouvelle/"
    assert current_url(urls, "/commandes/12/") == "/commandes/"
    assert current_url(urls, "/compte/") is None
    assert current_url(urls, "/") == "/"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_mediator_on_a_phone_opens_the_menu_and_goes_to_the_history(page, demo):
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, "mediateur")
    page.wait_for_url("**/")
    nav = page.get_by_role("navigation", name="Navigation principale")
    toggle = nav.get_by_role("button", name="Menu")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    history = nav.get_by_role("link", name="Historique", exact=True)
    assert not history.is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert history.is_visible()
    box = history.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] >= 24
    history.click()
    page.wait_for_url("**/encaissements/")
    toggle.click()
    current = page.locator('.site-menu a[aria-current="page"]')
    assert current.inner_text() == "Historique" and current.is_visible()
    # The header fits the screen (the history's wide table is issue 16's phone layout).
    assert page.evaluate("document.querySelector('.site-header').scrollWidth") <= 360
    page.keyboard.press("Escape")
    scan = nav.get_by_role("link", name="Encaisser", exact=True)
    assert not scan.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    # On a wide screen the menu is simply there, without its button.
    page.set_viewport_size({"width": 1280, "height": 800})
    assert not toggle.is_visible() and scan.is_visible()
