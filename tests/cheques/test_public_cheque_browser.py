"""A beneficiary on a 360 px phone: the booklet's cover QR code opens the map filtered to
the booklet's services and territory; the cheque's QR code opens a page that tells its
state and leads to the same map; a code typed by hand is checked on a small form."""

import re
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from django.conf import settings
from playwright.sync_api import expect

from cheques import codes, lifecycle, printing
from cheques.pdf.booklets import render_booklets
from places import gazetteer
from services.models import Service
from tests.factories import make_place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def order(make_order, funder_a, manager_a, operator):
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=1,
                       cheques_per_booklet=5, territory=["33"])
    order.allowed_services.set(Service.objects.filter(
        slug__in=["outils-atelier", "demarches-accompagnement"]))
    return order


@pytest.fixture
def places(nomenclature):
    """Two places where the cheques are accepted, far enough apart to show as two markers,
    and two where they are not: another service, another département. The communes of
    Gironde for the search box (transactional tests empty the table)."""
    gazetteer.load(departments=["33"])
    return {
        "Espace numérique de Bordeaux": make_place(
            name="Espace numérique de Bordeaux", services=["outils-atelier"]),
        "Médiathèque d’Arcachon": make_place(
            name="Médiathèque d’Arcachon", postcode="33120", town="Arcachon",
            latitude=44.6586, longitude=-1.1686, services=["demarches-accompagnement"]),
        "Tiers-lieu de Libourne": make_place(
            name="Tiers-lieu de Libourne", postcode="33500", town="Libourne",
            latitude=44.9150, longitude=-0.2430, services=["loisirs-atelier"]),
        "Centre social de Périgueux": make_place(
            name="Centre social de Périgueux", postcode="24000", town="Périgueux",
            latitude=45.1840, longitude=0.7218, services=["outils-atelier"]),
    }


def cover_qr(order, tmp_path):
    """The URL in the QR code of the booklet's cover, as a phone reads it from the PDF."""
    path = tmp_path / "booklet.pdf"
    render_booklets(printing.booklet_data(order, [order.booklet_set.get().pk]), path)
    image = pypdfium2.PdfDocument(str(path))[0].render(scale=200 / 72).to_pil()
    (url,) = [barcode.text for barcode in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCode)]
    return url


def local(url):
    """The path and query of a URL printed for SITE_URL, to open on the test server."""
    assert url.startswith(settings.SITE_URL)
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def expect_markers(page, names):
    """The map shows these places, and only them, as markers that carry their names."""
    icons = page.locator("#places-map .leaflet-marker-icon")
    for name in names:
        expect(page.locator(f'#places-map .leaflet-marker-icon[title="{name}"]')).to_be_visible()
    expect(icons).to_have_count(len(names))


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def overflowing(page):
    """What sticks out on the right of the screen, to tell why a page does not fit."""
    return page.evaluate("""Array.from(document.querySelectorAll("body *"))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                && !e.closest(".leaflet-container"))
        .slice(0, 10).map(e => `${e.tagName}.${e.className}#${e.id}`)""")


def test_the_cover_qr_code_opens_the_map_of_the_places_that_take_the_booklet(
    page, order, places, tmp_path
):
    page.route(re.compile(r"tile\.openstreetmap\.org"), lambda route: route.abort())
    page.set_viewport_size(PHONE)
    url = cover_qr(order, tmp_path)
    assert "service=demarches-accompagnement,outils-atelier" in url
    assert "department=33" in url
    page.goto(local(url))
    notice = page.locator("#booklet-filter")
    expect(notice).to_contain_text("Carte limitée aux lieux où vos chèques sont acceptés")
    expect(notice).to_contain_text("Gironde (33)")
    expect(notice).to_contain_text("Atelier collectif (2 h)")
    expect_markers(page, ["Espace numérique de Bordeaux", "Médiathèque d’Arcachon"])
    # A search near home keeps the booklet's filter: Libourne's tiers-lieu, 27 km away,
    # offers none of the booklet's services.
    box = page.get_by_role("combobox", name="Code postal ou commune")
    box.fill("33000")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#search-status")).to_have_text(re.compile(r"^1 lieu trouvé"))
    assert page.locator("#place-results .place-result h3").all_inner_texts() == [
        "Espace numérique de Bordeaux"]
    assert fits_the_screen(page), overflowing(page)
    page.get_by_role("link", name="Voir tous les lieux").click()
    expect(page.locator("#booklet-filter")).to_have_count(0)
    expect(page.locator("#places-map .leaflet-marker-icon").first).to_be_visible()


def test_a_beneficiary_reads_their_cheque_on_a_phone_and_opens_its_map(
    page, order, places, manager_a
):
    page.route(re.compile(r"tile\.openstreetmap\.org"), lambda route: route.abort())
    page.set_viewport_size(PHONE)
    booklet = order.booklet_set.get()
    cheque = booklet.cheques.order_by("number").first()
    page.goto(local(cheque.qr_url))
    expect(page.get_by_role("status")).to_contain_text("Utilisable")
    expect(page.locator(".cheque-facts")).to_contain_text("Atelier collectif (2 h)")
    expect(page.locator(".cheque-facts")).to_contain_text("Gironde (33)")
    expect(page.locator(".cheque-facts")).to_contain_text("Dernier jour d’acceptation")
    assert fits_the_screen(page), overflowing(page)
    page.get_by_role("link", name="Voir les lieux où utiliser ce chèque").click()
    expect(page.locator("#booklet-filter")).to_contain_text("Gironde (33)")
    expect_markers(page, ["Espace numérique de Bordeaux", "Médiathèque d’Arcachon"])

    # The same cheque, cancelled: the page says so and no longer sends anyone to the map.
    lifecycle.cancel_cheque(cheque.code, actor=manager_a, reason="Perdu")
    page.goto(local(cheque.qr_url))
    expect(page.get_by_role("status")).to_contain_text("Annulé")
    expect(page.get_by_role("link", name="Voir les lieux où utiliser ce chèque")).to_have_count(0)


def test_a_code_typed_by_hand_is_checked_on_a_small_form(page, order):
    page.set_viewport_size(PHONE)
    cheque = order.cheques.order_by("number").last()
    page.goto(f"/c/{cheque.code}")  # the address typed without its signature
    field = page.get_by_label("Code du chèque")
    expect(field).to_have_value(cheque.display_code)
    field.fill(cheque.display_code.lower())
    page.get_by_role("button", name="Vérifier ce chèque").click()
    result = page.locator(".cheque-checked")
    expect(result).to_contain_text(f"Chèque {cheque.display_code}")
    expect(result).to_contain_text("Utilisable")
    expect(result).to_contain_text("10,00 €")
    expect(result).not_to_contain_text(order.funder.name)
    assert fits_the_screen(page), overflowing(page)
    body = "ABCDEFGHJKMN"
    wrong = next(char for char in "0123" if char != codes.check_character(body))
    page.get_by_label("Code du chèque").fill(codes.format_code(body + wrong))
    page.get_by_role("button", name="Vérifier ce chèque").click()
    expect(page.get_by_role("alert")).to_contain_text("erreur de saisie")
