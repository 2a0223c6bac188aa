"""Print-ready PDF cheque books.

A booklet prints as a cover page (funder, booklet number, value, validity, where to use the
cheques, plain-French instructions) followed by its cheques, five per A4 page between dashed
cut lines.

The fast path: the fixed design of a booklet (everything but the booklet number, the cheque
numbers, the codes and the QR codes) is rendered ONCE by WeasyPrint from
``templates/cheques/print/``, per layout (same funder, wording, value, validity, services,
map and number of cheques). Every page of every booklet then draws that design as a Form
XObject and stamps its variable parts on top with ``cheques/pdf/stamp.py``: text in embedded
DejaVu fonts, QR codes as vector rectangles. The output stays a vector PDF with embedded
fonts, at thousands of cheques per second and constant memory.

Work is split in chunks: `render_booklets(booklets, path)` writes one chunk file and is
deterministic (a retried chunk rewrites the same bytes), `merge_chunks(paths, out)` joins
them. benchmarks/printing.py renders the same design the slow way (one WeasyPrint document,
inline SVG QR codes) to measure this path against it.
"""

import hashlib
import io
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext

from aptic.l10n import format_grouped
from aptic.pdf import html_to_pdf
from cheques import logos
from cheques.pdf import stamp
from cheques.pdf.stamp import MM
from cheques.validity import last_day_of_acceptance

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts" / "dejavu"
SANS_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
MONO_BOLD = FONT_DIR / "DejaVuSansMono-Bold.ttf"

LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/gif": "GIF",
              "image/webp": "WEBP"}
LOGO_MAX_BYTES = 5 * 1024 * 1024

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")


# --- input ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChequeData:
    number: str  # "2026-000123-01"
    code_display: str  # "XXXX-XXXX-XXXX-C"
    qr_payload: str  # absolute URL


@dataclass(frozen=True)
class BookletData:
    number: str  # "2026-000123"
    funder_name: str
    face_value_cents: int
    valid_until: date
    map_url: str
    cheques: list = field(default_factory=list)
    logo_bytes: bytes | None = None  # None: no logo; b"" or corrupt: printed without, warned
    logo_content_type: str = ""
    custom_wording: str = ""
    allowed_services: list = field(default_factory=list)  # labels; empty means all

    def layout_key(self):
        """What the fixed design depends on: booklets sharing it share one rendering."""
        logo = (hashlib.sha256(self.logo_bytes).hexdigest()
                if self.logo_bytes is not None else None)
        return (self.funder_name, logo, self.logo_content_type, self.custom_wording,
                self.face_value_cents, self.valid_until, tuple(self.allowed_services),
                self.map_url, len(self.cheques))


@dataclass
class PrintWarning:
    code: str
    message: str


@dataclass
class RenderReport:
    pages: int = 0
    booklets: int = 0
    cheques: int = 0
    warnings: list = field(default_factory=list)

    def warn(self, warning):
        if all(known.code != warning.code for known in self.warnings):
            self.warnings.append(warning)


# --- geometry: one source of truth for the CSS and the stamps (millimetres) -----------------

PAGE_W, PAGE_H = 210, 297
SLOTS_PER_PAGE = 5
SLOT_W, SLOT_H = 190, 55
SLOT_X = (PAGE_W - SLOT_W) / 2
SLOT_Y = (PAGE_H - SLOTS_PER_PAGE * SLOT_H) / 2
QR_BOX = 34  # the QR code with its 4-module quiet zone: 34 mm (>= 18 mm)
QR_X, QR_Y = 150, 4  # inside a cheque
# DejaVu, line-height 1: the baseline lies 0.846 em below the top of the line box.
BASELINE = 0.846


@dataclass(frozen=True)
class TextSpot:
    x: float  # mm from the left of the cheque (or page)
    baseline: float  # mm from the top of the cheque (or page)
    size: float  # points
    font: str  # "B" (sans bold) or "M" (mono bold)
    align: str = "left"

    @property
    def top(self):
        """The CSS top of a line box (line-height 1) with this baseline, in mm."""
        return round(self.baseline - BASELINE * self.size / MM, 2)


CHEQUE_NUMBER = TextSpot(x=27, baseline=49.5, size=11, font="B")
CHEQUE_CODE = TextSpot(x=81, baseline=49.5, size=14, font="M")
COVER_NUMBER = TextSpot(x=24, baseline=95, size=22, font="B")



def _css_mm(value):
    """A CSS length, formatted here so that the French locale never writes "11,5mm"."""
    return f"{round(value, 3):g}mm"


def _spot_css(spot, left=0):
    return {"left": _css_mm(left + spot.x), "top": _css_mm(spot.top),
            "size": f"{spot.size:g}pt"}


GEOMETRY = {
    "page_w": _css_mm(PAGE_W), "page_h": _css_mm(PAGE_H),
    "slot_w": _css_mm(SLOT_W), "slot_h": _css_mm(SLOT_H), "slot_x": _css_mm(SLOT_X),
    "slot_right": _css_mm(SLOT_X + SLOT_W), "cut_v_top": _css_mm(SLOT_Y - 4),
    "cut_v_h": _css_mm(SLOTS_PER_PAGE * SLOT_H + 8),
    "qr_box": _css_mm(QR_BOX), "qr_x": _css_mm(QR_X), "qr_y": _css_mm(QR_Y),
    "qr_caption_top": _css_mm(QR_Y + QR_BOX + 0.5),
    "label_top": _css_mm(CHEQUE_NUMBER.baseline - BASELINE * 9 / MM),
    "number": _spot_css(CHEQUE_NUMBER), "code": _spot_css(CHEQUE_CODE),
    "cover_number": _spot_css(COVER_NUMBER),
    "cut_lines": [_css_mm(SLOT_Y + index * SLOT_H) for index in range(SLOTS_PER_PAGE + 1)],
}


def _slot_top(index):
    return _css_mm(SLOT_Y + index * SLOT_H)


# --- the fixed design (WeasyPrint) ----------------------------------------------------------


def euros(cents):
    """``10 €`` or ``10,50 €`` (narrow no-break spaces, French style)."""
    whole, rest = divmod(int(cents), 100)
    text = format_grouped(whole)
    if rest:
        text += f",{rest:02d}"
    return text + "\u00a0€"


def french_date(day):
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _logo_data_uri(booklet, report):
    """The logo as a data: URI, or None with a warning when it is missing, unreadable or
    too large. An SVG stays vector (sanitised again: it may predate the upload rules); a
    bitmap is decoded and scaled down to what the cover needs, unless it is larger than any
    upload may be (kept before the rules): it is never decoded then."""
    import base64

    from PIL import Image, UnidentifiedImageError

    if booklet.logo_bytes is None:  # no logo; b"" is a logo that went missing
        return None
    content_type = (booklet.logo_content_type or "").split(";")[0].strip().lower()
    try:
        if len(booklet.logo_bytes) > LOGO_MAX_BYTES:
            raise ValueError(len(booklet.logo_bytes))
        if content_type == logos.SVG:
            svg = logos.sanitise_svg(booklet.logo_bytes.decode("utf-8-sig")).encode("utf-8")
            return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
        if content_type not in LOGO_TYPES:
            raise ValueError(content_type)
        with Image.open(io.BytesIO(booklet.logo_bytes)) as image:  # reads the header only
            if image.format not in LOGO_TYPES.values():
                raise ValueError(image.format)
            if max(image.size) > logos.MAX_SIDE:
                raise Image.DecompressionBombError(image.size)
            image.load()
            image = image.convert("RGBA")
            image.thumbnail((logos.KEPT_SIDE, logos.KEPT_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, "PNG", optimize=False)
    except Image.DecompressionBombError:  # ours above, or Pillow's guard in Image.open
        report.warn(PrintWarning("logo_too_large", gettext(
            "Le logo du financeur est trop grand (plus de %(max)s × %(max)s pixels) : les "
            "carnets sont imprimés sans logo.") % {"max": logos.MAX_SIDE}))
        return None
    except (OSError, ValueError, UnidentifiedImageError):
        # LogoError and UnicodeDecodeError are ValueErrors too.
        report.warn(PrintWarning(
            "logo_unreadable",
            gettext("Le logo du financeur est illisible : les carnets sont imprimés sans "
                    "logo.")))
        return None
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _qr_svg(payload):
    import segno

    return segno.make(payload, error="m").svg_inline(border=4, omitsize=True,
                                                     svgclass="qr-svg")


def _context(booklet, pages, report):
    count = len(booklet.cheques)
    return {
        "g": GEOMETRY,
        "booklet": booklet,
        "logo": _logo_data_uri(booklet, report),
        "value": euros(booklet.face_value_cents),
        "total": euros(booklet.face_value_cents * count),
        "count": count,
        "valid_until": french_date(booklet.valid_until),
        "accepted_until": french_date(last_day_of_acceptance(booklet.valid_until)),
        "services": list(booklet.allowed_services),
        "map_qr": _qr_svg(booklet.map_url),
        "pages": pages,
    }


def _empty_slot(index):
    return {"number": "", "code": "", "qr": "", "top": _slot_top(index)}


def _booklet_pages(booklet):
    """The page list of one booklet for the templates, variable parts left empty: the
    design to stamp on."""
    pages = [{"kind": "cover", "number": ""}]
    for start in range(0, len(booklet.cheques), SLOTS_PER_PAGE):
        cheques = booklet.cheques[start:start + SLOTS_PER_PAGE]
        pages.append({"kind": "cheques",
                      "slots": [_empty_slot(index) for index in range(len(cheques))]})
    return pages


class _Design:
    """The fixed design of one layout: a template PDF whose pages are the cover, a full page
    of cheques and, when the booklet does not fill its last page, a shorter one."""

    def __init__(self, booklet):
        self.report = RenderReport()
        count = len(booklet.cheques)
        self.full_slots = min(count, SLOTS_PER_PAGE)
        self.last_slots = count % SLOTS_PER_PAGE
        pages = [{"kind": "cover", "number": ""}]
        for slots in (self.full_slots, self.last_slots if count > SLOTS_PER_PAGE else 0):
            if slots:
                pages.append({"kind": "cheques", "slots": [_empty_slot(i) for i in range(slots)]})
        html = render_to_string("cheques/print/document.html",
                                _context(booklet, pages, self.report))
        self.pdf = html_to_pdf(html)

    def page_index(self, slots):
        """Which template page carries `slots` cheques."""
        return 1 if slots == self.full_slots else 2


_DESIGNS = OrderedDict()  # layout key -> _Design, per process
_DESIGNS_KEPT = 16


def design_for(booklet):
    key = booklet.layout_key()
    design = _DESIGNS.get(key)
    if design is None:
        design = _DESIGNS[key] = _Design(booklet)
        while len(_DESIGNS) > _DESIGNS_KEPT:
            _DESIGNS.popitem(last=False)
    _DESIGNS.move_to_end(key)
    return design


# --- the fast path: stamping ----------------------------------------------------------------


def _x(mm):
    return mm * MM


def _y(mm):
    return (PAGE_H - mm) * MM


class _ChunkWriter:
    """Writes booklets into one PDF: designs and fonts once, then small pages."""

    def __init__(self, fileobj, title):
        self.writer = stamp.PdfStreamWriter(fileobj, title=title)
        self.fonts = {"B": stamp.stamp_font(SANS_BOLD), "M": stamp.stamp_font(MONO_BOLD)}
        self.font_refs = b"".join(b"/%s %d 0 R" % (name.encode(), font.write_to(self.writer))
                                  for name, font in self.fonts.items())
        self.resources = {}  # layout key -> (design, [resources reference per design page])
        self.report = RenderReport()

    def _resources_for(self, booklet):
        """The design of this booklet's layout and, per design page, the resources of the
        pages that draw it (design and fonts are written once per file)."""
        key = booklet.layout_key()
        known = self.resources.get(key)
        if known is None:
            from pypdf import PdfReader

            design = design_for(booklet)
            for warning in design.report.warnings:
                self.report.warn(warning)
            memo = {}
            refs = []
            for page in PdfReader(io.BytesIO(design.pdf)).pages:
                form = self.writer.import_page_as_form(page, memo)
                num = self.writer.write(b"<</XObject<</D %d 0 R>>/Font<<%s>>>>"
                                        % (form, self.font_refs))
                refs.append(b"%d 0 R" % num)
            known = self.resources[key] = (design, refs)
        return known

    def _text(self, spot, text, left_mm, top_mm):
        font = self.fonts[spot.font]
        x = _x(left_mm + spot.x)
        if spot.align == "center":
            x -= font.width(text, spot.size) / 2
        return stamp.text_op(spot.font, spot.size, x, _y(top_mm + spot.baseline), text)

    def _page(self, resources, ops):
        contents = self.writer.write_stream(b"q/D Do Q\n0 g\n" + b"".join(ops))
        self.writer.add_page(contents=contents, resources=resources,
                             media_box=(PAGE_W * MM, PAGE_H * MM))
        self.report.pages += 1

    def add_booklet(self, booklet):
        design, refs = self._resources_for(booklet)
        self._page(refs[0], [self._text(COVER_NUMBER, booklet.number, 0, 0)])
        for start in range(0, len(booklet.cheques), SLOTS_PER_PAGE):
            cheques = booklet.cheques[start:start + SLOTS_PER_PAGE]
            ops = []
            for index, cheque in enumerate(cheques):
                top = SLOT_Y + index * SLOT_H
                ops.append(self._text(CHEQUE_NUMBER, cheque.number, SLOT_X, top))
                ops.append(self._text(CHEQUE_CODE, cheque.code_display, SLOT_X, top))
                ops.append(stamp.qr_ops(cheque.qr_payload, _x(SLOT_X + QR_X),
                                           _y(top + QR_Y), QR_BOX * MM))
            self._page(refs[design.page_index(len(cheques))], ops)
        self.report.booklets += 1
        self.report.cheques += len(booklet.cheques)


def render_booklets(booklets, out, *, title=None):
    """Write the booklets (cover, then cheque pages, for each) as one PDF to `out`, a path
    or a binary file. Returns a RenderReport (pages, cheques, warnings such as an unreadable
    logo). The same input always gives the same bytes."""
    with stamp._open_out(out) as fileobj:
        chunk = _ChunkWriter(fileobj, title)
        for booklet in booklets:
            chunk.add_booklet(booklet)
        chunk.writer.close()
    return chunk.report


def merge_chunks(paths, out, *, title=None):
    """Join chunk files, in order, into one PDF; returns its number of pages. Memory holds
    one chunk at a time; the designs and fonts repeated in every chunk are written once."""
    return stamp.merge_pdfs(paths, out, title=title)


def chunks_of(booklets, max_cheques):
    """Split booklets into lists of whole booklets of at most `max_cheques` cheques (a
    larger booklet makes a chunk of its own)."""
    chunk, size = [], 0
    for booklet in booklets:
        if chunk and size + len(booklet.cheques) > max_cheques:
            yield chunk
            chunk, size = [], 0
        chunk.append(booklet)
        size += len(booklet.cheques)
    if chunk:
        yield chunk
