"""Booklets print cleanly and say everything, whatever the order: covers and cheques hold
every rule (services, territory, activation, validity) without a line running over another
or off the page, for the worst cases; the cover's barcode and QR code read back (zxing-cpp)
as the booklet's number and the map filtered to its services and territory."""

import io
from datetime import date

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from cheques import codes
from cheques.pdf.booklets import (
    MM,
    PAGE_H,
    SLOT_H,
    SLOT_W,
    SLOT_X,
    SLOT_Y,
    BookletData,
    ChequeData,
    render_booklets,
)
from places import search
from places.departments import DEPARTMENTS, named
from services.nomenclature import NOMENCLATURE

# What home and office printers cannot print: text must stay inside.
PRINT_MARGIN_MM = 4
DPI = 200

SERVICES = [label for _slug, _label, services in NOMENCLATURE for _s, label, _c in services]
SLUGS = [slug for _slug, _label, services in NOMENCLATURE for slug, _l, _c in services]
# 14 restricted services: the whole nomenclature and one more with a long name.
FOURTEEN = [*SERVICES, "Accompagnement renforcé aux démarches de santé en ligne (1 h 30)"]
assert len(FOURTEEN) == 14
# The ten départements with the longest names.
TEN = sorted(DEPARTMENTS, key=lambda code: (-len(DEPARTMENTS[code]), code))[:10]
FUNDER_120 = ("Communauté d’agglomération du Grand Villeneuve-sur-Lot et des coteaux de "
              "Guyenne — Centre intercommunal d’action sociale")[:120].ljust(120, ".")
WORDING_500 = ("Votre Département vous offre ce carnet pour apprendre à utiliser internet, "
               "faire vos démarches et garder le lien avec vos proches. N’hésitez pas à "
               "demander de l’aide : c’est gratuit, et sans rendez-vous dans la plupart des "
               "lieux.\n") * 3
WORDING_500 = WORDING_500[:500]
assert len(FUNDER_120) == 120 and len(WORDING_500) == 500


def logo(width, height):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


def booklet(number="2026-000123", count=10, **extra):
    cheques = [ChequeData(f"{number}-{position:02d}", codes.format_code(code),
                          codes.qr_url(code))
               for position, code in enumerate(codes.generate_codes(count), 1)]
    values = {"funder_name": "Département de la Gironde", "face_value_cents": 1000,
              "valid_until": date(2026, 12, 31),
              "map_url": "https://aptic.example/lieux/"}
    values.update(extra)
    return BookletData(number=number, cheques=cheques, **values)


def worst(**extra):
    values = {
        "funder_name": FUNDER_120, "custom_wording": WORDING_500, "allowed_services": FOURTEEN,
        "territory": [named(code) for code in TEN], "requires_activation": True,
        "face_value_cents": 100_000, "valid_until": date(2027, 9, 30),
        "map_url": "https://aptic.example/lieux/?" + search.map_query(
            services=SLUGS, departments=TEN),
    }
    values.update(extra)
    return booklet(**values)


WORST_CASES = {
    "worst, wide logo 4:1": lambda: worst(logo_bytes=logo(1200, 300),
                                          logo_content_type="image/png"),
    "worst, tall logo 1:4": lambda: worst(logo_bytes=logo(300, 1200),
                                          logo_content_type="image/png"),
    "worst, replacement booklet": lambda: worst(replaces="2026-000001", count=7),
    "worst, no logo, 20 cheques": lambda: worst(count=20),
    "14 services only": lambda: booklet(allowed_services=FOURTEEN),
    "10 départements only": lambda: booklet(territory=[named(code) for code in TEN]),
    "500 characters of wording only": lambda: booklet(custom_wording=WORDING_500),
    "plain": lambda: booklet(),
}


def text_boxes(page):
    """Every text box of the page: (left, bottom, right, top) in points, and its text."""
    textpage = page.get_textpage()
    boxes = []
    for index in range(textpage.count_rects()):
        box = textpage.get_rect(index)
        boxes.append((box, textpage.get_text_bounded(*box)))
    return boxes


def layout_problems(path):
    """Boxes outside the printable area, and pairs of boxes that overlap."""
    problems = []
    margin = PRINT_MARGIN_MM * MM
    for number, page in enumerate(pypdfium2.PdfDocument(str(path)), 1):
        width, height = page.get_size()
        boxes = text_boxes(page)
        for (left, bottom, right, top), text in boxes:
            if left < margin or bottom < margin or right > width - margin \
                    or top > height - margin:
                problems.append((number, "outside the margins", text))
        for index, (first, first_text) in enumerate(boxes):
            for second, second_text in boxes[index + 1:]:
                across = min(first[2], second[2]) - max(first[0], second[0])
                down = min(first[3], second[3]) - max(first[1], second[1])
                if across > 0.5 and down > 0.5:  # points: touching lines are fine
                    problems.append((number, first_text, second_text))
    return problems


def squeezed(text):
    """The text without any white space: a line may break anywhere, even in a name (PDFium
    reads a hyphen that ends a line as U+FFFE or U+0002)."""
    return "".join(text.replace("\ufffe", "-").replace("\x02", "-").split())


def page_texts(path):
    """For each page: its whole text, and the text of each cheque slot."""
    pages = []
    for page in pypdfium2.PdfDocument(str(path)):
        textpage = page.get_textpage()
        slots = []
        for index in range(5):
            top = SLOT_Y + index * SLOT_H
            slots.append(textpage.get_text_bounded(
                left=SLOT_X * MM, right=(SLOT_X + SLOT_W) * MM,
                top=(PAGE_H - top) * MM, bottom=(PAGE_H - top - SLOT_H) * MM))
        pages.append((textpage.get_text_range(), slots))
    return pages


@pytest.mark.parametrize("case", list(WORST_CASES))
def test_covers_and_cheques_never_overlap_nor_leave_the_page(tmp_path, case):
    path = tmp_path / "booklet.pdf"
    report = render_booklets([WORST_CASES[case]()], path)
    assert report.warnings == []
    assert layout_problems(path) == []


def test_the_worst_cover_and_every_cheque_state_every_rule_in_full(tmp_path):
    path = tmp_path / "booklet.pdf"
    printed = worst(logo_bytes=logo(1200, 300), logo_content_type="image/png")
    render_booklets([printed], path)
    (cover, _slots), *cheque_pages = page_texts(path)
    cover = squeezed(cover)
    for words in (FUNDER_120, WORDING_500, *FOURTEEN, *[named(code) for code in TEN],
                  "À faire activer lors de la remise", "Valables jusqu’au 30 septembre 2027",
                  "Acceptés jusqu’au 31 octobre 2027", "10 chèques de 1 000 €"):
        assert squeezed(words) in cover, words
    cheques = [slot for _text, slots in cheque_pages for slot in slots if slot.strip()]
    assert len(cheques) == 10
    for slot in cheques:
        slot = squeezed(slot)
        for words in (FUNDER_120, *FOURTEEN, *[named(code) for code in TEN],
                      "À faire activer lors de la remise", "Valable jusqu’au 30 septembre 2027",
                      "accepté jusqu’au 31 octobre 2027"):
            assert squeezed(words) in slot, words


def test_a_plain_booklet_says_its_cheques_pay_for_everything_everywhere(tmp_path):
    path = tmp_path / "booklet.pdf"
    render_booklets([booklet()], path)
    (cover, _slots), (_text, slots) = page_texts(path)[:2]
    cover = " ".join(cover.split())
    assert "Vos chèques paient tous les accompagnements au numérique" in cover
    assert "acceptés dans toute la France" in cover
    assert "activer" not in cover
    assert "Pour tout accompagnement au numérique dans un lieu #APTIC" in " ".join(
        slots[0].split())


def decoded(path, page_index=0):
    page = pypdfium2.PdfDocument(str(path))[page_index]
    image = page.render(scale=DPI / 72).to_pil()
    return {barcode.format: barcode.text for barcode in zxingcpp.read_barcodes(image)}


@pytest.mark.parametrize("case", ["worst, wide logo 4:1", "worst, replacement booklet",
                                  "plain"])
def test_the_cover_barcode_reads_as_the_booklet_number_and_its_qr_code_as_the_map(
    tmp_path, case
):
    printed = WORST_CASES[case]()
    path = tmp_path / "booklet.pdf"
    render_booklets([printed], path)
    found = decoded(path)
    assert found[zxingcpp.BarcodeFormat.Code128] == printed.number
    assert found[zxingcpp.BarcodeFormat.QRCode] == printed.map_url
    # Drawn by the engine as vector bars, not an image and not another WeasyPrint page.
    kinds = {obj.type for obj in pypdfium2.PdfDocument(str(path))[0].get_objects(max_depth=5)}
    if printed.logo_bytes is None:
        assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE not in kinds


def test_every_booklet_of_a_print_run_carries_its_own_barcode(tmp_path):
    booklets = [booklet(number=f"2026-{index:06d}", count=5) for index in (7, 8, 90001)]
    path = tmp_path / "run.pdf"
    render_booklets(booklets, path)
    numbers = [decoded(path, index)[zxingcpp.BarcodeFormat.Code128] for index in (0, 2, 4)]
    assert numbers == ["2026-000007", "2026-000008", "2026-090001"]


def test_a_replacement_says_so_on_its_cover(tmp_path):
    path = tmp_path / "booklet.pdf"
    render_booklets([booklet(number="2026-000321", replaces="2026-000123", count=3)], path)
    cover = " ".join(page_texts(path)[0][0].split())
    assert "Carnet de remplacement n° 2026-000321 (remplace n° 2026-000123)" in cover
    assert "3 chèques de 10,00 €" in cover or "3 chèques de 10 €" in cover
