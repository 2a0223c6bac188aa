"""The scan page as a mediator lives it, in Chromium: a phone camera filming a cheque the
platform printed, the polyfill where the browser has no QR detector, the basket explaining
each refusal, the price of the service, and what a screen reader hears."""

import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from cheques import codes, lifecycle, printing, redemption
from cheques.models import Cheque, Redemption
from services.models import Service
from tests.cheques.redemption_fixtures import codes_of
from tests.conftest import fake_camera_flags, open_page
from tests.factories import make_place
from tests.helpers import log_in, qr_video_from_pdf

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Before the page's scripts: record the vibrations, the beeps and what the page asked of the
# camera.
WATCH = """
window.__vibrations = [];
window.__beeps = 0;
window.__constraints = [];
Object.defineProperty(Navigator.prototype, "vibrate", {configurable: true, value(pattern) {
  window.__vibrations.push(pattern); return true; }});
if (window.AudioContext) {
  const oscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.__beeps += 1; return oscillator.call(this); };
}
if (navigator.mediaDevices) {
  const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    window.__constraints.push(constraints); return getUserMedia(constraints); };
}
"""
# The polyfill's path: no native detector, whatever this Chromium offers.
WITHOUT_NATIVE_DETECTOR = "delete window.BarcodeDetector;"


@pytest.fixture
def printed_pdf(settings, tmp_path, demo, make_order, operator):
    """An order of the demo funder, approved: the platform prints it (Celery runs inline)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator, booklets=1,
                       cheques_per_booklet=5)
    job = printing.current_job(order)
    assert job is not None and printing.file_path(job).is_file()
    return order, printing.file_path(job)


@pytest.fixture
def filmed_cheque(printed_pdf, tmp_path):
    """A camera video of the first cheque of the printed booklet; its cheque."""
    order, pdf = printed_pdf
    text = qr_video_from_pdf(pdf, tmp_path / "cheque.y4m")
    url = urlsplit(text)
    code = url.path.rsplit("/", 1)[-1]
    assert codes.verify_signature(code, parse_qs(url.query)["s"][0])
    return tmp_path / "cheque.y4m", Cheque.objects.get(code=code)


def camera_page(chromium_with, live_server, request, video, *scripts):
    chromium = chromium_with(*fake_camera_flags(video))
    page = open_page(chromium, live_server.url, request)
    for script in (WATCH, *scripts):
        page.add_init_script(script)
    return page


def scan_with_the_camera(page, cheque, service="Accompagnement individuel (1 h) — 1 chèque"):
    log_in(page, "mediateur")
    page.goto("/encaisser/")
    page.get_by_label("Service rendu", exact=True).select_option(label=service)
    page.get_by_role("button", name="Scanner avec la caméra").click()
    row = page.locator("#basket tr", has_text=cheque.display_code)
    expect(row).to_contain_text("à encaisser", timeout=20000)
    expect(page.locator("#camera-message")).to_have_text(
        f"Chèque {cheque.display_code} ajouté.")
    assert page.evaluate("window.__vibrations") == [80]
    assert page.evaluate("window.__beeps") == 1
    assert page.evaluate("window.__constraints")[0]["video"]["facingMode"] == {
        "ideal": "environment"}  # the back lens


def test_a_cheque_filmed_by_a_camera_without_a_native_detector_lands_in_the_basket_and_is_redeemed(
    chromium_with, live_server, request, demo, filmed_cheque
):
    video, cheque = filmed_cheque
    place = make_place(demo["structure"], name="Médiathèque du Lac")
    page = camera_page(chromium_with, live_server, request, video, WITHOUT_NATIVE_DETECTOR)

    scan_with_the_camera(page, cheque)

    assert page.locator("#scan").get_attribute("data-detector") == "polyfill"
    page.get_by_role("button", name="Encaisser le panier").click()
    success = page.locator("#success")
    expect(success).to_be_visible()
    expect(success.get_by_role("heading")).to_have_text("1 chèque encaissé")
    expect(success).to_contain_text("10,00 €")
    expect(success).to_contain_text("pour « Accompagnement individuel (1 h) »")
    expect(success).to_contain_text(cheque.display_code)
    assert page.locator("#camera-frame").is_hidden()  # the camera let go of the cheque
    redeemed = Redemption.objects.get(cheque=cheque)
    assert (redeemed.place, redeemed.service.slug) == (place, "outils-accompagnement")


def test_the_page_uses_the_native_detector_where_it_reads_qr_codes_and_the_polyfill_elsewhere(
    chromium_with, live_server, request, demo, filmed_cheque
):
    video, cheque = filmed_cheque
    make_place(demo["structure"])
    page = camera_page(chromium_with, live_server, request, video)
    page.goto("/connexion/")
    native = page.evaluate("""async () => {
        if (!("BarcodeDetector" in window)) { return false; }
        const formats = await BarcodeDetector.getSupportedFormats();
        return formats.includes("qr_code");
    }""")

    scan_with_the_camera(page, cheque)

    chosen = page.locator("#scan").get_attribute("data-detector")
    assert chosen == ("native" if native else "polyfill")
    # A hidden page (the phone locked, another app) lets go of the camera.
    page.evaluate("""() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
        Object.defineProperty(document, "visibilityState", {configurable: true,
                                                            get: () => "hidden"});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    expect(page.locator("#camera-message")).to_have_text("Caméra arrêtée.")
    assert page.evaluate("document.getElementById('camera-video').srcObject") is None
    expect(page.get_by_role("button", name="Scanner avec la caméra")).to_be_visible()


def test_over_plain_http_on_another_host_the_page_says_the_camera_needs_https(
    chromium_with, live_server, request, demo, settings
):
    make_place(demo["structure"])
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "aptic.test"]
    port = urlsplit(live_server.url).port
    chromium = chromium_with("--host-resolver-rules=MAP aptic.test 127.0.0.1")
    page = open_page(chromium, f"http://aptic.test:{port}", request)
    log_in(page, "mediateur")
    page.goto("/encaisser/")
    assert page.evaluate("window.isSecureContext") is False
    expect(page.locator("#camera-message")).to_contain_text(
        "La caméra ne fonctionne que sur une connexion sécurisée (HTTPS)")
    expect(page.get_by_role("button", name="Scanner avec la caméra")).to_be_hidden()


# --- the basket explains itself ------------------------------------------------------------


def add(page, code):
    page.get_by_label("Code imprimé sur le chèque").fill(codes.format_code(code))
    page.get_by_role("button", name="Ajouter au panier").click()


def row_of(page, code):
    return page.locator("#basket tr", has_text=codes.format_code(code))


def test_each_refused_row_says_why_and_what_to_do_and_is_removed_in_one_tap(
    page, clock, demo, make_order, operator, mediator_y, other_place
):
    place = make_place(demo["structure"], name="Médiathèque du Lac")
    funder, user = demo["funder"], demo["financeur"]
    good = make_order(funder, user, approve_by=operator, booklets=1, cheques_per_booklet=10)
    ok, here, there, cancelled = codes_of(good, 4)
    redemption.redeem(user=demo["mediateur"], place=place.pk, service="acces-poste",
                      codes=[here])
    redemption.redeem(user=mediator_y, place=other_place.pk, service="acces-poste",
                      codes=[there])
    lifecycle.cancel_cheque(cancelled, actor=operator, reason="Volé")
    inactive = codes_of(make_order(funder, user, approve_by=operator, requires_activation=True),
                        1)[0]
    outside = codes_of(make_order(funder, user, approve_by=operator, territory=["69"]), 1)[0]
    restricted = codes_of(make_order(
        funder, user, approve_by=operator,
        allowed_services=Service.objects.filter(slug="demarches-accompagnement")), 1)[0]
    stale = make_order(funder, user, approve_by=operator)
    stale_code = codes_of(stale, 1)[0]
    unknown = codes.generate_codes(1)[0]
    # The stale order ended two months ago (its grace period too).
    ended = clock.today - datetime.timedelta(days=70)
    type(stale).objects.filter(pk=stale.pk).update(valid_until=ended)
    stale.refresh_from_db()

    log_in(page, "mediateur")
    page.goto("/encaisser/")
    page.get_by_label("Service rendu", exact=True).select_option("outils-accompagnement")
    expected = {
        ok: "à encaisser",
        here: "ici : Médiathèque du Lac",
        there: "dans un autre lieu",
        cancelled: "annulé (perte ou vol)",
        inactive: "demander au prescripteur",
        outside: "69 (Rhône)",
        restricted: "Il accepte : Accompagnement individuel aux démarches en ligne (1 h)",
        stale_code: f"accepté jusqu’au {stale.expiry_date:%d/%m/%Y} inclus",
        unknown: "Aucun chèque ne porte ce code",
    }
    for code in expected:
        add(page, code)
    for code, text in expected.items():
        expect(row_of(page, code)).to_contain_text(text)
    refused = len(expected) - 1
    expect(page.locator("#basket tr", has_text="Refusé")).to_have_count(refused)
    reason = page.locator("#confirm-reason")
    expect(reason).to_have_text(f"Retirez les {refused} chèques refusés pour encaisser les "
                                "autres.")
    button = page.get_by_role("button", name="Encaisser le panier")
    expect(button).to_be_disabled()
    assert button.get_attribute("aria-describedby") == "confirm-reason"
    assert "dashed" in button.evaluate("b => getComputedStyle(b).borderStyle")

    for code in [c for c in expected if c != ok]:
        row_of(page, code).get_by_role("button", name="Retirer").click()
        expect(row_of(page, code)).to_have_count(0)
    expect(reason).to_be_hidden()
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator("#success")).to_contain_text("1 chèque encaissé")
    assert Redemption.objects.filter(cheque__code=ok, undone_at=None).count() == 1


def test_the_disabled_button_says_why_until_the_basket_pays_whole_sessions(
    page, demo, make_order, operator
):
    """A 2-cheque workshop on the page: 1 and 3 cheques wait, 2 and 4 may be paid; with 2
    sessions, 4 cheques are paid and 2 wait."""
    make_place(demo["structure"])
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    first, second, third, fourth = codes_of(order, 4)
    log_in(page, "mediateur")
    page.goto("/encaisser/")
    reason = page.locator("#confirm-reason")
    button = page.get_by_role("button", name="Encaisser le panier")
    sessions = page.get_by_label("Nombre de séances (facultatif)")
    expect(reason).to_have_text("Ajoutez au moins un chèque au panier.")
    add(page, first)
    expect(reason).to_have_text("Choisissez le service rendu.")
    expect(button).to_be_disabled()
    page.get_by_label("Service rendu", exact=True).select_option(
        label="Atelier collectif (2 h) — 2 chèques")
    expect(page.locator("#price-status")).to_have_text(
        "Atelier collectif (2 h) : 2 chèques par séance. Le panier doit compter un multiple "
        "de 2 (2, 4, 6…). Le panier compte 1 chèque.")
    expect(reason).to_have_text("Le panier doit compter 2 chèques pour ce service : il en "
                                "compte 1.")
    add(page, second)
    expect(page.locator("#price-status")).to_contain_text("Le compte est bon : 1 séance.")
    expect(reason).to_be_hidden()
    expect(button).to_be_enabled()
    add(page, third)
    expect(reason).to_have_text("Le panier doit compter 2 chèques ou 4 chèques pour ce "
                                "service : il en compte 3.")
    expect(button).to_be_disabled()
    add(page, fourth)
    expect(page.locator("#price-status")).to_contain_text("Le compte est bon : 2 séances.")
    expect(button).to_be_enabled()

    sessions.fill("0")
    expect(page.locator("#sessions_error")).to_have_text(
        "Indiquez un nombre entier de séances, de 1 à 50.")
    assert sessions.get_attribute("aria-describedby") == "sessions_helptext sessions_error"
    assert sessions.get_attribute("aria-invalid") == "true"
    expect(reason).to_have_text("Corrigez le nombre de séances.")
    sessions.fill("2")
    expect(page.locator("#price-status")).to_contain_text("Pour 2 séances, il faut 4 chèques.")
    expect(button).to_be_enabled()
    for code in (third, fourth):
        row_of(page, code).get_by_role("button", name="Retirer").click()
    expect(reason).to_have_text("Le panier doit compter 4 chèques pour ce service : il en "
                                "compte 2.")
    add(page, third)
    add(page, fourth)
    expect(button).to_be_enabled()
    button.click()
    expect(page.locator("#success")).to_contain_text("4 chèques encaissés")
    assert Redemption.objects.filter(undone_at=None).count() == 4


def test_every_change_of_the_basket_is_announced(page, demo, make_order, operator):
    make_place(demo["structure"])
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    first, second = codes_of(order, 2)
    lifecycle.cancel_cheque(second, actor=operator, reason="Perdu")
    log_in(page, "mediateur")
    page.goto("/encaisser/")
    announcer = page.locator("#announcer")
    assert announcer.get_attribute("aria-live") == "polite"
    page.get_by_label("Service rendu", exact=True).select_option("outils-accompagnement")
    add(page, first)
    expect(announcer).to_have_text(
        f"Chèque {codes.format_code(first)} : à encaisser. 1 chèque, 10,00 €.")
    add(page, first)
    expect(announcer).to_have_text("Ce chèque est déjà dans le panier.")
    add(page, second)
    expect(announcer).to_have_text(
        f"Chèque {codes.format_code(second)} refusé : Ce chèque a été annulé (perte ou vol) : "
        "il ne peut pas être encaissé.")
    row_of(page, second).get_by_role("button", name="Retirer").click()
    expect(announcer).to_have_text(
        f"Chèque {codes.format_code(second)} retiré du panier. 1 chèque, 10,00 €.")
    page.get_by_role("button", name="Encaisser le panier").click()
    expect(announcer).to_have_text(
        "1 chèque encaissé — 10,00 € pour « Accompagnement individuel (1 h) »")


def test_a_price_refused_by_the_server_is_shown_too(page, demo, make_order, operator):
    """The page checks the count before sending; the server's rule is the one that holds
    (here the service's price changed after the page was opened)."""
    make_place(demo["structure"])
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    log_in(page, "mediateur")
    page.goto("/encaisser/")
    page.get_by_label("Service rendu", exact=True).select_option("outils-accompagnement")
    add(page, codes_of(order, 1)[0])
    expect(page.locator("#basket tr", has_text="à encaisser")).to_have_count(1)
    Service.objects.filter(slug="outils-accompagnement").update(default_cheques=2)
    page.get_by_role("button", name="Encaisser le panier").click()
    expect(page.locator("#result")).to_have_text(
        "« Accompagnement individuel (1 h) » coûte 2 chèques par séance : le panier doit en "
        "compter un multiple. Il en compte 1 ; il en faut 2.")
    assert not Redemption.objects.exists()
