"""Print-ready PDF cheque books.

A booklet prints as a cover page (funder, booklet number and its barcode, value, validity,
every rule that applies, the QR code of the map of the places that take the cheques,
plain-French instructions) followed by its cheques, five per A4 page between dashed cut
lines; each cheque repeats the rules. Texts of any length fit their boxes: the font sizes
are chosen beforehand (cover_layout, cheque_layout, with cheques.pdf.fitting).

The fast path: the fixed design of a booklet (everything but the booklet number and its
barcode, the cheque numbers, the codes and the QR codes) is rendered ONCE by WeasyPrint
from ``templates/cheques/print/``, per layout (same funder, wording, value, validity, rules,
map and number of cheques). Every page of every booklet then draws that design as a Form
XObject and stamps its variable parts on top with ``cheques/pdf/stamp.py``: text in embedded
DejaVu fonts, QR codes and the Code 128 barcode as vector rectangles. The output stays a
vector PDF with embedded fonts, at thousands of cheques per second and constant memory.

Work is split in chunks: `render_booklets(booklets, path)` writes one chunk file and is
deterministic (a retried chunk rewrites the same bytes), `merge_chunks(paths, out)` joins
them. benchmarks/printing.py renders the same design the slow way (one WeasyPrint document,
inline SVG QR codes) to measure this path against it.
"""

import hashlib
import io
import re
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
from cheques.pdf import fitting, stamp
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
    territory: list = field(default_factory=list)  # « Gironde (33) »; empty means all
    requires_activation: bool = False
    replaces: str = ""  # the number of the booklet this one replaces, if any

    def layout_key(self):
        """What the fixed design depends on: booklets sharing it share one rendering. A
        replacement's cover names both booklets: it is a design of its own."""
        logo = (hashlib.sha256(self.logo_bytes).hexdigest()
                if self.logo_bytes is not None else None)
        return (self.funder_name, logo, self.logo_content_type, self.custom_wording,
                self.face_value_cents, self.valid_until, tuple(self.allowed_services),
                tuple(self.territory), self.requires_activation, self.map_url,
                len(self.cheques), (self.number, self.replaces) if self.replaces else None)


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

# The cover, top to bottom: a fixed part (header, title, funder, the box with the booklet's
# number and barcode, stamped at fixed places), then the flow of everything else, whose
# font size is chosen so that it fits (cover_layout), then the footer.
COVER_SIDE = 16  # side margins
COVER_W = PAGE_W - 2 * COVER_SIDE
TITLE_TOP, FUNDER_TOP, FUNDER_H = 40, 52.5, 12
BOX_TOP, BOX_H = 66, 40
FLOW_TOP, FLOW_BOTTOM, FOOT_BOTTOM = 110, 272, 10
COVER_NUMBER = TextSpot(x=COVER_SIDE + 5, baseline=BOX_TOP + 16, size=22, font="B")


@dataclass(frozen=True)
class BarSpot:
    """A Code 128 barcode: left edge of its first bar and top, in mm from the page's
    top-left corner; module width and bar height in mm."""

    x: float
    top: float
    module: float
    height: float


# The booklet's number for a USB hand-held reader at hand-over: 0.33 mm modules (13 mils,
# within every reader's reach), bars 13 mm tall, quiet zones of 10 modules on both sides
# inside the box.
COVER_BARCODE = BarSpot(x=COVER_SIDE + 8.5, top=BOX_TOP + 20, module=0.33, height=13)
# The QR code of the map on the cover, with its quiet zone, and its figure (with caption).
MAP_QR_BOX, MAP_FIGURE_W, MAP_FIGURE_H = 40, 44, 45



# Inside a cheque: the funder's line, and the rules (services, territory, activation) between
# the value and the stamped number and code.
CHEQUE_FUNDER_TOP, CHEQUE_FUNDER_H = 8.4, 5.4
RULES_TOP, RULES_BOTTOM, RULES_W = 26, 45, 126


def _css_mm(value):
    """A CSS length, formatted here so that the French locale never writes "11,5mm"."""
    return f"{round(value, 3):g}mm"


def _css_sizes(sizes):
    """Font sizes in points as CSS (never "8,5pt", whatever the locale); counts of lines
    as they are."""
    return {name: value if name.endswith("_lines") else f"{round(value, 2):g}pt"
            for name, value in sizes.items()}


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
    "side": _css_mm(COVER_SIDE), "title_top": _css_mm(TITLE_TOP),
    "funder_top": _css_mm(FUNDER_TOP), "funder_h": _css_mm(FUNDER_H),
    "box_top": _css_mm(BOX_TOP), "box_h": _css_mm(BOX_H), "flow_top": _css_mm(FLOW_TOP),
    "flow_h": _css_mm(FLOW_BOTTOM - FLOW_TOP), "foot_bottom": _css_mm(FOOT_BOTTOM),
    "map_qr": _css_mm(MAP_QR_BOX), "map_figure_w": _css_mm(MAP_FIGURE_W),
    "rules_top": _css_mm(RULES_TOP), "rules_h": _css_mm(RULES_BOTTOM - RULES_TOP),
    "rules_w": _css_mm(RULES_W), "funder_line_h": _css_mm(CHEQUE_FUNDER_H),
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


# --- what the booklet says (in French: booklets are printed in French) ----------------------

DEFAULT_WORDING = ("Ce carnet vous permet de vous faire aider, gratuitement, à utiliser un "
                   "ordinateur, un téléphone ou internet, et à faire vos démarches en ligne.")
HOW_TO = (
    "Choisissez un lieu sur la carte, ou demandez conseil à la personne qui vous a donné ce "
    "carnet.",
    "Allez-y avec ce carnet. Vous pouvez appeler avant pour prendre rendez-vous.",
    "Donnez un chèque pour environ une heure d’aide. Le lieu le scanne devant vous.",
    "C’est gratuit pour vous : le lieu ne vous demande pas d’argent en plus.",
)


def _services(booklet):
    """The allowed services, « (2 h) » never split across two lines."""
    return " ; ".join(re.sub(r"(\d) h\b", "\\1\u00a0h", label)
                      for label in booklet.allowed_services)


def cover_texts(booklet):
    """The words of the cover's flow: the funder's wording, where to go, every rule that
    applies (services, territory, activation, validity) and how to use the cheques."""
    valid_until = french_date(booklet.valid_until)
    accepted_until = french_date(last_day_of_acceptance(booklet.valid_until))
    where = ["Dans un lieu d’aide au numérique : médiathèque, centre social, espace public "
             "numérique, mairie…",
             "La carte montre les lieux où vos chèques sont acceptés :"]
    rules = [
        ("Vos chèques paient seulement : " + _services(booklet) + "."
         if booklet.allowed_services else
         "Vos chèques paient tous les accompagnements au numérique des lieux #APTIC."),
        ("Ils sont acceptés seulement dans les départements : "
         + ", ".join(booklet.territory) + "."
         if booklet.territory else "Ils sont acceptés dans toute la France."),
    ]
    if booklet.requires_activation:
        rules.append("À faire activer lors de la remise : tant que la personne qui vous "
                     "donne ce carnet ne l’a pas enregistrée, aucun lieu ne peut encaisser "
                     "vos chèques.")
    rules.append(f"Valables jusqu’au {valid_until} ; un lieu les accepte encore jusqu’au "
                 f"{accepted_until}, dernier jour.")
    wording = (booklet.custom_wording or DEFAULT_WORDING).replace("\r\n", "\n")
    return {"wording": wording, "where": where,
            "map_text": booklet.map_url.split("?")[0], "rules": rules, "how": HOW_TO}


def cheque_rules(booklet):
    """The rules printed on every cheque, one sentence each."""
    rules = [("Uniquement pour : " + _services(booklet) + "."
              if booklet.allowed_services else
              "Pour tout accompagnement au numérique dans un lieu #APTIC.")]
    if booklet.territory:
        rules.append("Départements : " + ", ".join(booklet.territory) + ".")
    if booklet.requires_activation:
        rules.append("À faire activer lors de la remise.")
    return rules


# --- sizes that make the words fit ----------------------------------------------------------

# The flow of the cover, in em of its font size (the CSS of templates/cheques/print/ says the
# same): headings 1.3 em tall at line height 1.2 with 0.25 em below, text at line height
# 1.35, 0.7 em between sections, 0.3 em between paragraphs or list items, lists indented by
# 1.4 em.
LINE, HEADING, SECTION_GAP, ITEM_GAP, INDENT = 1.35, 1.3, 0.7, 0.3, 1.4
COVER_SCALES = [round(1 - index * 0.02, 2) for index in range(27)]  # 1.0 … 0.48
COVER_BODY = 12.5  # points, at scale 1
FUNDER_SIZES = (15, 14, 13, 12, 11, 10, 9, 8)
CHEQUE_FUNDER_SIZES = ((10, 1), (9, 1), (8, 1), (7, 1), (6.5, 2), (6, 2))
RULES_SIZES = fitting.sizes_from(8.5, 5)


def _paragraphs_pt(texts, size, width_mm, gap=ITEM_GAP):
    lines = sum(fitting.line_count(text, size, width_mm) for text in texts)
    return lines * size * LINE + max(0, len(texts) - 1) * gap * size


def _heading_pt(size):
    return HEADING * size * 1.2 + 0.25 * HEADING * size


def cover_flow_height(texts, size):
    """The height of the cover's flow at `size` points, in mm."""
    list_width = COVER_W - INDENT * size / fitting.PT_PER_MM
    where_width = COVER_W - MAP_FIGURE_W - 4
    where = max(MAP_FIGURE_H * fitting.PT_PER_MM,
                _paragraphs_pt([*texts["where"], texts["map_text"]], size, where_width))
    total = (_paragraphs_pt(texts["wording"].split("\n"), size, COVER_W, gap=0)
             + _heading_pt(size) + where
             + _heading_pt(size) + _paragraphs_pt(texts["rules"], size, list_width)
             + _heading_pt(size) + _paragraphs_pt(texts["how"], size, list_width)
             + 3 * SECTION_GAP * size)
    return total / fitting.PT_PER_MM


def cover_layout(booklet, texts):
    """Font sizes of the cover: the funder's line (one or two lines in its box) and the
    flow (the largest scale at which it fits between the box and the footer)."""
    funder = "Offert par " + booklet.funder_name
    funder_room = FUNDER_H * fitting.PT_PER_MM
    funder_size = next(
        (size for size in FUNDER_SIZES
         if fitting.line_count(funder, size, COVER_W, bold=True) * size * 1.15 <= funder_room),
        FUNDER_SIZES[-1])
    room = FLOW_BOTTOM - FLOW_TOP
    body = next((COVER_BODY * scale for scale in COVER_SCALES
                 if cover_flow_height(texts, COVER_BODY * scale) <= room),
                COVER_BODY * COVER_SCALES[-1])
    return {"funder": funder_size, "body": round(body, 2)}


def cheque_layout(booklet, rules):
    """Font sizes of a cheque: the funder's line and the rules, each the largest that fits
    its box."""
    funder = "Offert par " + booklet.funder_name
    room = CHEQUE_FUNDER_H * fitting.PT_PER_MM
    funder_size, funder_lines = next(
        ((size, lines) for size, lines in CHEQUE_FUNDER_SIZES
         if fitting.line_count(funder, size, RULES_W, bold=True) <= lines
         and lines * size * 1.15 <= room),
        CHEQUE_FUNDER_SIZES[-1])
    rules_size = fitting.largest_size(
        [fitting.Text(rule, line_height=1.2) for rule in rules], width_mm=RULES_W,
        height_mm_available=RULES_BOTTOM - RULES_TOP, sizes=RULES_SIZES)
    return {"funder": funder_size, "funder_lines": funder_lines, "rules": rules_size}


def _context(booklet, pages, report):
    count = len(booklet.cheques)
    texts = cover_texts(booklet)
    rules = cheque_rules(booklet)
    return {
        "g": GEOMETRY,
        "booklet": booklet,
        "logo": _logo_data_uri(booklet, report),
        "value": euros(booklet.face_value_cents),
        "total": euros(booklet.face_value_cents * count),
        "count": count,
        "valid_until": french_date(booklet.valid_until),
        "accepted_until": french_date(last_day_of_acceptance(booklet.valid_until)),
        "texts": texts,
        "cover_fit": _css_sizes(cover_layout(booklet, texts)),
        "rules": rules,
        "cheque_fit": _css_sizes(cheque_layout(booklet, rules)),
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
        self._page(refs[0], [
            self._text(COVER_NUMBER, booklet.number, 0, 0),
            stamp.code128_ops(booklet.number, _x(COVER_BARCODE.x), _y(COVER_BARCODE.top),
                              module=COVER_BARCODE.module * MM,
                              height=COVER_BARCODE.height * MM),
        ])
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
