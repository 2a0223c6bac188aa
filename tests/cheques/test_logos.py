"""Funders' logos: a hostile SVG is neutralised, not refused, a decompression bomb is
refused, a large picture is kept scaled down, and what is kept still prints."""

import io
import json
import struct
import subprocess
import sys
import zlib

import pypdfium2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cheques import logos
from cheques.models import Order
from cheques.pdf.booklets import render_booklets
from cheques.web.orders import DRAFT_KEY
from tests.conftest import ROOT

from .test_order_pages import png_bytes
from .test_printing_engine import make_booklet

HOSTILE_SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="120" height="40" viewBox="0 0 120 40" onload="alert('onload')">
  <!-- exported by a drawing program -->
  <script type="text/javascript">alert(document.cookie)</script>
  <style>@import url("https://evil.example/x.css"); rect { stroke: none; }</style>
  <rect id="fond" width="120" height="40" fill="#ff0000" onclick="alert('click')"/>
  <a xlink:href="javascript:alert('lien')"><circle cx="20" cy="20" r="10" fill="#ff0000"/></a>
  <a href="https://evil.example/"><text x="40" y="25">Gironde</text></a>
  <image href="https://evil.example/pixel.png" width="1" height="1"/>
  <use xlink:href="#fond"/>
  <set attributeName="href" to="javascript:alert('set')"/>
  <animate attributeName="fill" values="red;blue" dur="1s"/>
  <foreignObject width="10" height="10"><div xmlns="http://www.w3.org/1999/xhtml"
    onmouseover="alert('html')">x</div></foreignObject>
  <g style="fill: url(javascript:alert('style'))"><path d="M0 0h10v10z"/></g>
</svg>"""

RED = (255, 0, 0)


def test_an_svg_logo_with_a_script_is_neutralised(form_data, client, manager_a, nomenclature):
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", {
        **form_data(), "logo": SimpleUploadedFile("logo.svg", HOSTILE_SVG, "image/svg+xml")})
    assert response.status_code == 302, response.context["form"].errors
    client.post("/commandes/nouvelle/recapitulatif/", {"step": "confirmer"})
    order = Order.objects.get()
    with order.logo.open("rb") as stored:
        kept = stored.read().decode()
    lowered = kept.lower()
    for hostile in ("<script", "onload", "onclick", "onmouseover", "javascript:", "@import",
                    "evil.example", "foreignobject", "<set", "<animate", "alert("):
        assert hostile not in lowered, hostile
    # The drawing itself is kept: shapes, text, internal references.
    for drawing in ("<rect", "<circle", "<path", "Gironde", 'href="#fond"'):
        assert drawing in kept, drawing
    assert order.logo.name.endswith(".svg")


def test_a_png_named_svg_is_kept_as_a_png(form_data, client, manager_a, nomenclature):
    client.force_login(manager_a)
    client.post("/commandes/nouvelle/", {
        **form_data(), "logo": SimpleUploadedFile("logo.svg", png_bytes(), "image/svg+xml")})
    client.post("/commandes/nouvelle/recapitulatif/", {"step": "confirmer"})
    order = Order.objects.get()
    assert order.logo.name.endswith(".png")


def test_sanitising_twice_changes_nothing():
    once = logos.sanitise_svg(HOSTILE_SVG.decode())
    assert logos.sanitise_svg(once) == once


def test_the_kept_svg_uses_plain_svg_names_whatever_other_libraries_registered():
    import xml.etree.ElementTree as ElementTree

    ElementTree.register_namespace("svg", logos.SVG_NAMESPACE)  # as some libraries do
    kept = logos.sanitise_svg(HOSTILE_SVG.decode())
    assert kept.startswith("<svg ") and "<rect" in kept and "svg:" not in kept


@pytest.mark.parametrize("text", [
    '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
    "<html><body>bonjour</body></html>",
    "<svg",
])
def test_what_is_not_a_plain_svg_is_refused(text):
    with pytest.raises(logos.LogoError):
        logos.sanitise_svg(text)


def red_pixels_on_cover(path):
    page = pypdfium2.PdfDocument(str(path))[0]
    image = page.render(scale=1).to_pil().convert("RGB")
    return {color: count for count, color in image.getcolors(1 << 24)}.get(RED, 0)


def test_a_neutralised_svg_logo_is_printed_on_the_cover_as_a_vector(tmp_path):
    kept, content_type = logos.clean_logo(HOSTILE_SVG)
    with_logo = tmp_path / "logo.pdf"
    report = render_booklets([make_booklet(1, count=5, logo_bytes=kept,
                                           logo_content_type=content_type)], with_logo)
    assert report.warnings == []
    without_logo = tmp_path / "plain.pdf"
    render_booklets([make_booklet(1, count=5)], without_logo)
    assert red_pixels_on_cover(with_logo) > 500
    assert red_pixels_on_cover(without_logo) == 0
    drawn = {obj.type for obj in pypdfium2.PdfDocument(str(with_logo))[0].get_objects(
        max_depth=5)}
    assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE not in drawn, "an SVG logo stays a vector"


def test_an_svg_kept_before_the_upload_rules_is_sanitised_and_printed(tmp_path):
    path = tmp_path / "logo.pdf"
    report = render_booklets([make_booklet(1, count=5, logo_bytes=HOSTILE_SVG,
                                           logo_content_type="image/svg+xml")], path)
    assert report.warnings == []
    assert red_pixels_on_cover(path) > 500


# --- pixels: decompression bombs and large pictures ---------------------------------------


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def black_and_white_png(width, height):
    """A valid PNG of width × height white pixels, built row by row (never held decoded):
    12000 × 12000 weighs about 20 KB."""
    row = b"\0" + b"\xff" * ((width + 7) // 8)
    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(row) for _row in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (logos.PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels)
            + _chunk(b"IEND", b""))


BOMB = black_and_white_png(12000, 12000)


def stored_files(root):
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_a_tiny_png_of_12000_by_12000_pixels_is_refused_in_french_and_nothing_is_kept(
        client, manager_a, nomenclature, form_data, settings, tmp_path):
    assert len(BOMB) < 40 * 1024
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", {
        **form_data(), "logo": SimpleUploadedFile("logo.png", BOMB, "image/png")})
    assert response.status_code == 200
    assert response.context["form"].errors["logo"] == [
        "Le logo mesure 12000 × 12000 pixels : 4000 × 4000 pixels au plus. Réduisez-le "
        "avant de l’envoyer."]
    assert DRAFT_KEY not in client.session
    assert not Order.objects.exists()
    assert stored_files(settings.MEDIA_ROOT) == []


@pytest.mark.parametrize("size", [(4001, 10), (10, 4001)])
def test_a_png_longer_than_4000_pixels_on_either_side_is_refused(size):
    with pytest.raises(logos.LogoError, match="4000 × 4000 pixels au plus"):
        logos.clean_logo(black_and_white_png(*size))


def test_a_large_logo_within_the_limits_is_kept_scaled_down_to_what_the_cover_needs(
        client, manager_a, nomenclature, form_data, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    buffer = io.BytesIO()
    Image.new("RGB", (3600, 1800), (200, 30, 60)).save(buffer, "PNG")
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", {
        **form_data(), "logo": SimpleUploadedFile("grand.png", buffer.getvalue(),
                                                  "image/png")})
    assert response.status_code == 302, response.context["form"].errors
    client.post("/commandes/nouvelle/recapitulatif/", {"step": "confirmer"})
    order = Order.objects.get()
    with order.logo.open("rb") as stored, Image.open(stored) as kept:
        assert (kept.format, kept.size) == ("PNG", (logos.KEPT_SIDE, logos.KEPT_SIDE // 2))
        assert kept.convert("RGB").getpixel((600, 300)) == (200, 30, 60)


def test_a_small_png_and_an_svg_are_kept_as_they_came():
    small = png_bytes((800, 300))
    assert logos.clean_logo(small) == (small, logos.PNG)
    kept, content_type = logos.clean_logo(HOSTILE_SVG)
    assert content_type == logos.SVG and kept.startswith(b"<svg")


def test_pillow_is_told_explicitly_how_many_pixels_it_may_decode():
    assert Image.MAX_IMAGE_PIXELS == logos.MAX_PIXELS == 4000 * 4000


# Renders a booklet without logo, then with the bomb as a logo kept before the rules,
# in a fresh process; prints the warnings and how much the peak memory grew.
PRINT_WITH_A_BOMB = """
import json, os, resource, sys, tempfile
import django
django.setup()
from cheques.pdf.booklets import render_booklets
from tests.cheques.test_logos import BOMB
from tests.cheques.test_printing_engine import make_booklet

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

out = os.path.join(tempfile.mkdtemp(), "carnet.pdf")
render_booklets([make_booklet(1, count=5)], out)
before = peak_mb()
report = render_booklets([make_booklet(2, count=5, logo_bytes=BOMB,
                                       logo_content_type="image/png")], out)
print(json.dumps({"warnings": [w.code for w in report.warnings],
                  "grown_mb": peak_mb() - before}))
"""


def test_a_huge_logo_kept_before_the_rules_is_never_decoded_by_printing():
    result = subprocess.run([sys.executable, "-c", PRINT_WITH_A_BOMB], cwd=ROOT,
                            capture_output=True, text=True, timeout=300,
                            env={**__import__("os").environ,
                                 "DJANGO_SETTINGS_MODULE": "aptic.settings"})
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["warnings"] == ["logo_too_large"]
    assert found["grown_mb"] < 60, "printing decoded the logo"
