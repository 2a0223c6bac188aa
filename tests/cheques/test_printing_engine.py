"""The PDF engine of cheque books, on plain data (no database): what is printed is what
was issued, every QR code scans and matches the number and code printed beside it."""

import io
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from cheques import codes
from cheques.pdf.booklets import (
    MM,
    PAGE_H,
    SLOT_H,
    SLOT_X,
    SLOT_Y,
    SLOTS_PER_PAGE,
    BookletData,
    ChequeData,
    chunks_of,
    merge_chunks,
    render_booklets,
)

DPI = 150
NUMBER = re.compile(r"\d{4}-\d{6}-\d{2}")
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]")
MAP_URL = "https://aptic.example.org/carte/?departement=33"


def make_booklet(index, count=10, **extra):
    number = f"2026-{index:06d}"
    cheques = [ChequeData(f"{number}-{position:02d}", codes.format_code(code),
                          codes.qr_url(code))
               for position, code in enumerate(codes.generate_codes(count), 1)]
    values = {"funder_name": "Département de la Gironde", "face_value_cents": 1000,
              "valid_until": date(2026, 12, 31), "map_url": MAP_URL,
              "custom_wording": "Ce carnet vous est offert par votre Département.",
              "allowed_services": ["Aide aux démarches administratives"]}
    values.update(extra)
    return BookletData(number=number, cheques=cheques, **values)


def png_logo():
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def read_pages(path):
    """For each page: (text, decoded barcodes with their centre in mm from the top-left,
    and the text printed in each cheque slot)."""
    document = pypdfium2.PdfDocument(str(path))
    pages = []
    for page in document:
        image = page.render(scale=DPI / 72).to_pil()
        textpage = page.get_textpage()
        barcodes = []
        for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
            corners = [barcode.position.top_left, barcode.position.top_right,
                       barcode.position.bottom_right, barcode.position.bottom_left]
            xs = [point.x * 25.4 / DPI for point in corners]
            ys = [point.y * 25.4 / DPI for point in corners]
            barcodes.append({"text": barcode.text, "x": sum(xs) / 4, "y": sum(ys) / 4,
                             "width_mm": max(xs) - min(xs)})
        slots = []
        for index in range(SLOTS_PER_PAGE):
            top = SLOT_Y + index * SLOT_H
            slots.append(textpage.get_text_bounded(
                left=SLOT_X * MM, right=(SLOT_X + 190) * MM,
                top=(PAGE_H - top) * MM, bottom=(PAGE_H - top - SLOT_H) * MM))
        text = " ".join(textpage.get_text_range().split())
        pages.append({"text": text, "barcodes": barcodes, "slots": slots})
    return pages


@pytest.fixture
def order_pdf(tmp_path):
    """Three booklets: two of 10 cheques and one of 7 (its last page is not full)."""
    booklets = [make_booklet(1), make_booklet(2), make_booklet(3, count=7)]
    path = tmp_path / "order.pdf"
    report = render_booklets(booklets, path)
    return booklets, path, report


def test_every_qr_code_scans_verifies_and_matches_the_cheque_printed_beside_it(order_pdf):
    booklets, path, report = order_pdf
    issued = {cheque.number: cheque for booklet in booklets for cheque in booklet.cheques}
    printed = []
    for page in read_pages(path):
        if "Où utiliser mes chèques ?" in page["text"]:
            continue  # a cover
        cheque_codes = [b for b in page["barcodes"]]
        assert cheque_codes, "a cheque page without QR code"
        for barcode in cheque_codes:
            slot = int((barcode["y"] - SLOT_Y) // SLOT_H)
            text = page["slots"][slot]
            (number,) = NUMBER.findall(text)
            (code,) = CODE.findall(text)
            url = urlsplit(barcode["text"])
            scanned_code = url.path.rsplit("/", 1)[-1]
            (signature,) = parse_qs(url.query)["s"]
            assert codes.verify_signature(scanned_code, signature)
            assert codes.format_code(scanned_code) == code
            assert issued[number].code_display == code
            assert issued[number].qr_payload == barcode["text"]
            assert barcode["width_mm"] >= 18
            printed.append(number)
        # Every slot holding a number has a QR code: no cheque without a readable code.
        numbered_slots = sum(1 for text in page["slots"] if NUMBER.search(text))
        assert numbered_slots == len(cheque_codes)
    assert sorted(printed) == sorted(issued)
    assert len(set(printed)) == len(printed) == report.cheques == 27


def test_pages_are_a_cover_then_five_cheques_a_page_for_each_booklet(order_pdf):
    booklets, path, report = order_pdf
    pages = read_pages(path)
    assert report.pages == len(pages) == 3 + 3 + 3
    covers = [index for index, page in enumerate(pages)
              if "Où utiliser mes chèques ?" in page["text"]]
    assert covers == [0, 3, 6]
    for booklet, index in zip(booklets, covers, strict=True):
        cover = pages[index]
        assert booklet.number in cover["text"]
        assert f"{len(booklet.cheques)} chèques de 10" in cover["text"]
        assert "31 décembre 2026" in cover["text"]
        assert "Aide aux démarches administratives" in cover["text"]
        assert [b["text"] for b in cover["barcodes"]] == [MAP_URL]
    last = pages[-1]
    assert sum(1 for text in last["slots"] if NUMBER.search(text)) == 2
    assert "Chèque d’accompagnement au numérique" not in last["slots"][2]


def _walk(obj, seen, found):
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    if isinstance(obj, IndirectObject):
        if obj.idnum in seen:
            return
        seen.add(obj.idnum)
        obj = obj.get_object()
    if isinstance(obj, DictionaryObject):
        found.append(obj)
        for key, value in dict.items(obj):
            if key != "/Parent":
                _walk(value, seen, found)
    elif isinstance(obj, ArrayObject):
        for value in list.__iter__(obj):
            _walk(value, seen, found)


def objects_of(page):
    found = []
    _walk(page.indirect_reference, set(), found)
    return found


def test_fonts_are_embedded_and_cheque_pages_hold_no_raster_image(tmp_path):
    path = tmp_path / "booklet.pdf"
    render_booklets([make_booklet(1, logo_bytes=png_logo(), logo_content_type="image/png")],
                    path)
    reader = PdfReader(path)
    for page in reader.pages:
        objects = objects_of(page)
        fonts = [o for o in objects if o.get("/Type") == "/Font" and "/FontDescriptor" in o]
        descriptors = [o for o in objects if o.get("/Type") == "/FontDescriptor"]
        assert fonts and descriptors
        for descriptor in descriptors:
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor)
    drawn = drawn_objects(path)
    assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE in drawn[0], "the funder's logo is on the cover"
    for kinds in drawn[1:]:
        assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE not in kinds, "QR codes and design are vectors"
        assert pypdfium2.raw.FPDF_PAGEOBJ_PATH in kinds


def drawn_objects(path):
    """For each page, the kinds of objects it draws (inside forms too)."""
    document = pypdfium2.PdfDocument(str(path))
    return [{obj.type for obj in page.get_objects(max_depth=5)} for page in document]


def test_a_corrupt_or_empty_logo_prints_without_it_and_warns(tmp_path):
    for logo, content_type in ((b"\x89PNG\r\n\x1a\nnot really", "image/png"),
                               (b"", "image/png"),
                               (png_logo(), "application/x-msdownload")):
        path = tmp_path / "booklet.pdf"
        booklet = make_booklet(1, count=5, logo_bytes=logo, logo_content_type=content_type)
        report = render_booklets([booklet], path)
        assert [w.code for w in report.warnings] == ["logo_unreadable"]
        assert "sans logo" in report.warnings[0].message
        drawn = drawn_objects(path)
        assert len(drawn) == 2
        assert pypdfium2.raw.FPDF_PAGEOBJ_IMAGE not in drawn[0]


def test_a_booklet_without_logo_prints_without_warning(tmp_path):
    report = render_booklets([make_booklet(1, count=5)], tmp_path / "booklet.pdf")
    assert report.warnings == []
    assert (report.pages, report.cheques) == (2, 5)


def test_chunks_are_deterministic_and_merge_into_the_same_pages(tmp_path):
    booklets = [make_booklet(index, count=5) for index in range(1, 7)]
    chunks = list(chunks_of(booklets, 12))
    assert [len(chunk) for chunk in chunks] == [2, 2, 2]
    paths = []
    for index, chunk in enumerate(chunks):
        path = tmp_path / f"chunk-{index}.pdf"
        render_booklets(chunk, path)
        first = path.read_bytes()
        render_booklets(chunk, path)  # a retried chunk rewrites exactly the same file
        assert path.read_bytes() == first
        paths.append(path)
    merged, whole = tmp_path / "merged.pdf", tmp_path / "whole.pdf"
    assert merge_chunks(paths, merged) == 12
    render_booklets(booklets, whole)
    merged_pages = [page.extract_text() for page in PdfReader(merged).pages]
    assert merged_pages == [page.extract_text() for page in PdfReader(whole).pages]
    # The design and the fonts that every chunk carries are written once in the merge.
    font_files = re.compile(rb"/FontFile2 ")
    assert (len(font_files.findall(merged.read_bytes()))
            == len(font_files.findall(whole.read_bytes())))
    assert merged.stat().st_size < sum(path.stat().st_size for path in paths)
    printed = [number for page in read_pages(merged) for text in page["slots"]
               for number in NUMBER.findall(text)]
    assert len(printed) == len(set(printed)) == 30


def test_a_single_booklet_reprint_renders_only_that_booklet(tmp_path):
    booklets = [make_booklet(index, count=10) for index in range(1, 4)]
    path = tmp_path / "reprint.pdf"
    report = render_booklets([booklets[1]], path)
    assert (report.booklets, report.cheques, report.pages) == (1, 10, 3)
    text = "".join(page["text"] for page in read_pages(path))
    assert set(NUMBER.findall(text)) == {cheque.number for cheque in booklets[1].cheques}


def overlapping_text_boxes(path, margin_mm=1):
    """Pairs of text boxes that overlap, and boxes that leave the page (minus a margin)."""
    problems = []
    document = pypdfium2.PdfDocument(str(path))
    for number, page in enumerate(document, 1):
        width, height = page.get_size()
        textpage = page.get_textpage()
        boxes = [textpage.get_rect(index) for index in range(textpage.count_rects())]
        margin = margin_mm * MM
        for box in boxes:
            left, bottom, right, top = box
            if left < margin or bottom < margin or right > width - margin \
                    or top > height - margin:
                problems.append((number, "outside", textpage.get_text_bounded(*box)))
        for index, first in enumerate(boxes):
            for second in boxes[index + 1:]:
                across = min(first[2], second[2]) - max(first[0], second[0])
                down = min(first[3], second[3]) - max(first[1], second[1])
                if across > 0.5 and down > 0.5:  # points: touching lines are fine
                    problems.append((number, textpage.get_text_bounded(*first),
                                     textpage.get_text_bounded(*second)))
    return problems


@pytest.mark.parametrize("face_value_cents", [1000, 1250, 10000, 99999, 100000])
@pytest.mark.parametrize("valid_until", [date(2027, 9, 30), date(2026, 12, 31)])
def test_no_two_lines_of_text_overlap_whatever_the_value_and_the_dates(tmp_path,
                                                                       face_value_cents,
                                                                       valid_until):
    booklet = make_booklet(1, count=5, face_value_cents=face_value_cents,
                           valid_until=valid_until)
    path = tmp_path / "booklet.pdf"
    render_booklets([booklet], path)
    assert overlapping_text_boxes(path) == []
    pages = read_pages(path)
    accepted = {date(2027, 9, 30): "31 octobre 2027", date(2026, 12, 31): "31 janvier 2027"}
    assert f"Acceptés jusqu’au {accepted[valid_until]}" in pages[0]["text"]
    assert all(f"accepté jusqu’au {accepted[valid_until]}" in " ".join(slot.split())
               for slot in pages[1]["slots"])
