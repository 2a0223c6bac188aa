"""Funders' logos: a hostile SVG is neutralised, not refused, and what is kept still prints."""

import pypdfium2
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cheques import logos
from cheques.models import Order
from cheques.printing import render_booklets

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
