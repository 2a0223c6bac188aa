"""A small streaming PDF writer for stamping variable content onto fixed page designs.

The printing engine renders each fixed design once with WeasyPrint, then writes every page
of an order with this module: the design becomes a Form XObject written once per file, and
each page is a short content stream that draws the design, then stamps the variable parts
on top (text in an embedded font, QR and Code 128 barcodes as filled vector rectangles).

Objects are written to the output as soon as they are made, so memory does not grow with
the number of pages (only one integer offset per object is kept). Objects copied from other
PDFs (the WeasyPrint designs, or chunk files when merging) are read with pypdf and
de-duplicated by content, so a font shared by a hundred chunks is written once.
"""

import hashlib
import io
import re
import zlib
from functools import lru_cache

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

MM = 72 / 25.4  # points per millimetre


def _number(value):
    """A compact PDF number: at most 3 decimals, no trailing zeros."""
    if value == int(value):
        return b"%d" % value
    return (b"%.3f" % value).rstrip(b"0").rstrip(b".")


def pdf_string(text):
    """A literal PDF string for Latin-1 text (escaped parentheses and backslashes)."""
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


class PdfStreamWriter:
    """Writes a PDF object by object into a binary file object, pages last."""

    def __init__(self, fileobj, *, title=None):
        self._out = fileobj
        self._offsets = [0]  # object number -> byte offset (0: unused/free)
        self._written = 0
        self._pages = []
        self._dedup = {}  # digest of an imported object's bytes -> object number
        self._title = title
        self._emit(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        self.pages_root = self.reserve()

    # --- low level ----------------------------------------------------------------------

    def _emit(self, data):
        self._out.write(data)
        self._written += len(data)

    def reserve(self):
        """A new object number, to be written later with `write(..., num=)`."""
        self._offsets.append(0)
        return len(self._offsets) - 1

    def write(self, body, num=None):
        """Write an object (its serialised body) and return its number."""
        if num is None:
            num = self.reserve()
        self._offsets[num] = self._written
        self._emit(b"%d 0 obj\n" % num + body + b"\nendobj\n")
        return num

    def write_stream(self, data, entries=b"", *, compress=True, num=None):
        """Write a stream object; `entries` are extra dictionary entries (bytes)."""
        if compress:
            data = zlib.compress(data, 3)
            entries += b"/Filter/FlateDecode"
        body = b"<<%s/Length %d>>\nstream\n%s\nendstream" % (entries, len(data), data)
        return self.write(body, num)

    def add_page(self, *, contents, resources, media_box):
        """Add a page: `contents` is an object number, `resources` a serialised dictionary
        or reference, `media_box` a (width, height) in points."""
        num = self.write(
            b"<</Type/Page/Parent %d 0 R/MediaBox[0 0 %s %s]/Resources %s/Contents %d 0 R>>"
            % (self.pages_root, _number(media_box[0]), _number(media_box[1]),
               resources, contents))
        self._pages.append(num)
        return num

    def close(self):
        """Write the page tree, the catalogue and the cross-reference table."""
        kids = b" ".join(b"%d 0 R" % num for num in self._pages)
        self.write(b"<</Type/Pages/Count %d/Kids[%s]>>" % (len(self._pages), kids),
                   num=self.pages_root)
        catalog = self.write(b"<</Type/Catalog/Pages %d 0 R>>" % self.pages_root)
        info = b"/Producer(#APTIC)"
        if self._title:
            info += b"/Title" + pdf_string(self._title)
        info_num = self.write(b"<<" + info + b">>")
        xref_at = self._written
        lines = [b"xref\n0 %d\n" % len(self._offsets), b"0000000000 65535 f \n"]
        for offset in self._offsets[1:]:
            if not offset:
                raise RuntimeError("A reserved PDF object was never written.")
            lines.append(b"%010d 00000 n \n" % offset)
        self._emit(b"".join(lines))
        self._emit(b"trailer\n<</Size %d/Root %d 0 R/Info %d 0 R>>\nstartxref\n%d\n%%%%EOF\n"
                   % (len(self._offsets), catalog, info_num, xref_at))

    @property
    def page_count(self):
        return len(self._pages)

    # --- copying objects from another PDF -----------------------------------------------

    def import_value(self, value, memo):
        """Serialise a pypdf value, copying every indirect object it reaches into this file
        (once per source object thanks to `memo`, once per content thanks to de-duplication).
        """
        if isinstance(value, IndirectObject):
            return b"%d 0 R" % self._import_indirect(value, memo)
        if isinstance(value, DictionaryObject):
            return b"<<" + b"".join(
                _leaf(key) + b" " + self.import_value(item, memo)
                for key, item in dict.items(value)) + b">>"
        if isinstance(value, ArrayObject):
            return b"[" + b" ".join(self.import_value(item, memo)
                                    for item in list.__iter__(value)) + b"]"
        return _leaf(value)

    def _import_indirect(self, ref, memo):
        key = ref.idnum
        done = memo.get(key)
        if isinstance(done, int):
            return done
        if done is not None:  # a cycle: give the object a number before it is written
            if done["num"] is None:
                done["num"] = self.reserve()
            return done["num"]
        state = memo[key] = {"num": None}
        target = ref.get_object()
        if isinstance(target, StreamObject):
            entries = b"".join(_leaf(name) + b" " + self.import_value(item, memo)
                               for name, item in dict.items(target) if name != "/Length")
            data = target._data  # the raw (still encoded) bytes, copied as they are
            body = b"<<%s/Length %d>>\nstream\n%s\nendstream" % (entries, len(data), data)
        else:
            body = self.import_value(target, memo)
        if state["num"] is not None:  # part of a cycle: written as is, never shared
            num = self.write(body, state["num"])
        else:
            digest = hashlib.blake2b(body, digest_size=16).digest()
            num = self._dedup.get(digest)
            if num is None:
                num = self._dedup[digest] = self.write(body)
        memo[key] = num
        return num

    def import_page_as_form(self, page, memo):
        """Copy a pypdf page as a Form XObject and return its object number."""
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        resources = self.import_value(page.raw_get("/Resources"), memo)
        entries = b"/Type/XObject/Subtype/Form/BBox[0 0 %s %s]/Resources %s" % (
            _number(width), _number(height), resources)
        if "/Group" in page:
            entries += b"/Group " + self.import_value(page.raw_get("/Group"), memo)
        contents = page.get_contents()
        data = contents.get_data() if contents is not None else b""
        return self.write_stream(data, entries)

    def append_pages_from(self, reader):
        """Copy every page of a pypdf reader (used to merge chunk files)."""
        memo = {}
        for page in reader.pages:
            entries = b"".join(
                _leaf(name) + b" " + self.import_value(item, memo)
                for name, item in dict.items(page)
                if name not in ("/Parent", "/Annots", "/B", "/StructParents", "/Type"))
            num = self.write(b"<</Type/Page/Parent %d 0 R%s>>" % (self.pages_root, entries))
            self._pages.append(num)


def _leaf(value):
    buffer = io.BytesIO()
    value.write_to_stream(buffer)
    return buffer.getvalue()


def merge_pdfs(paths, out, *, title=None):
    """Join PDF files page by page into `out` (a path or binary file), one file in memory at
    a time; identical objects (fonts, page designs) are written once."""
    with _open_out(out) as fileobj:
        writer = PdfStreamWriter(fileobj, title=title)
        for path in paths:
            writer.append_pages_from(PdfReader(path))
        writer.close()
        return writer.page_count


class _open_out:
    """`with _open_out(path_or_file) as f`: opens paths, leaves file objects open."""

    def __init__(self, out):
        self._out = out
        self._file = None

    def __enter__(self):
        if hasattr(self._out, "write"):
            return self._out
        self._file = open(self._out, "wb")  # noqa: SIM115 (closed in __exit__)
        return self._file

    def __exit__(self, *exc):
        if self._file is not None:
            self._file.close()


# --- stamped text ---------------------------------------------------------------------------

FIRST_CHAR, LAST_CHAR = 32, 126


class StampFont:
    """A TrueType font subset to printable ASCII, embedded as a simple WinAnsi font: enough
    for the booklet and cheque numbers and the codes, with exact widths for alignment."""

    def __init__(self, path):
        from fontTools.subset import Options, Subsetter
        from fontTools.ttLib import TTFont

        font = TTFont(path)
        self.name = re.sub(r"[^A-Za-z0-9-]", "", font["name"].getDebugName(6) or "Font")
        scale = 1000 / font["head"].unitsPerEm
        cmap = font.getBestCmap()
        hmtx = font["hmtx"]
        self.widths = [round(hmtx[cmap[code]][0] * scale) if code in cmap else 0
                       for code in range(FIRST_CHAR, LAST_CHAR + 1)]
        head, os2, post = font["head"], font["OS/2"], font["post"]
        self.bbox = [round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)]
        self.ascent = round(font["hhea"].ascent * scale)
        self.descent = round(font["hhea"].descent * scale)
        self.cap_height = round(getattr(os2, "sCapHeight", 0) * scale) or self.ascent
        self.italic_angle = post.italicAngle
        self.fixed_pitch = bool(post.isFixedPitch)
        options = Options()
        options.notdef_outline = True
        options.name_IDs = ["*"]
        options.layout_features = []
        options.drop_tables += ["FFTM"]
        subsetter = Subsetter(options)
        subsetter.populate(unicodes=range(FIRST_CHAR, LAST_CHAR + 1))
        subsetter.subset(font)
        buffer = io.BytesIO()
        font.save(buffer)
        self.data = buffer.getvalue()
        tag = hashlib.sha1(self.data).digest()
        self.base_name = "".join(chr(65 + byte % 26) for byte in tag[:6]) + "+" + self.name

    def width(self, text, size):
        """Width of `text` in points at `size`."""
        return sum(self.widths[ord(char) - FIRST_CHAR] for char in text) * size / 1000

    def write_to(self, writer):
        """Embed the font in a PdfStreamWriter; returns the font dictionary's number."""
        file_num = writer.write_stream(self.data, b"/Length1 %d" % len(self.data))
        flags = 32 | (1 if self.fixed_pitch else 0)
        descriptor = writer.write(
            b"<</Type/FontDescriptor/FontName/%s/Flags %d/FontBBox[%s]/ItalicAngle %s"
            b"/Ascent %d/Descent %d/CapHeight %d/StemV 120/FontFile2 %d 0 R>>"
            % (self.base_name.encode(), flags, b" ".join(b"%d" % v for v in self.bbox),
               _number(self.italic_angle), self.ascent, self.descent, self.cap_height,
               file_num))
        return writer.write(
            b"<</Type/Font/Subtype/TrueType/BaseFont/%s/FirstChar %d/LastChar %d"
            b"/Widths[%s]/Encoding/WinAnsiEncoding/FontDescriptor %d 0 R>>"
            % (self.base_name.encode(), FIRST_CHAR, LAST_CHAR,
               b" ".join(b"%d" % w for w in self.widths), descriptor))


@lru_cache(maxsize=8)
def stamp_font(path):
    return StampFont(str(path))


def text_op(font_name, size, x, y, text):
    """Content operators that draw `text` with its baseline starting at (x, y) points."""
    return b"BT/%s %s Tf %s %s Td%sTj ET\n" % (
        font_name.encode(), _number(size), _number(round(x, 2)), _number(round(y, 2)),
        pdf_string(text))


# --- QR codes as vector paths ---------------------------------------------------------------


def qr_matrix(payload, ec_level="M"):
    """The QR code of `payload` as (size, modules): `modules` is size × size bytes, row by
    row, b"\x00" for a dark module and b"\xff" for a light one.

    Encoded by zxing-cpp (its writer picks the smallest version and the best mask, like
    every conforming encoder) in about 0.3 ms: twenty times faster than pure Python.
    """
    import zxingcpp

    barcode = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode,
                                      ec_level=ec_level)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    return image.shape[0], bytes(memoryview(image))


_SPAN = 8  # modules per lookup


@lru_cache(maxsize=4)
def _rectangle_plan(size):
    """For a QR code of `size` modules: a list of (offset, width, table) where `table` maps
    the bytes of `width` modules at `offset` in the matrix to the rectangles that draw
    their dark runs. Drawing a code is then one dictionary lookup per 8 modules instead of
    Python work per module (a run crossing two spans becomes two touching rectangles of
    the same filled path, which prints as one)."""
    plan = []
    for row in range(size):
        for column in range(0, size, _SPAN):
            width = min(_SPAN, size - column)
            table = {}
            for pattern in range(1 << width):
                cells = bytes(0 if pattern >> (width - 1 - i) & 1 else 255
                              for i in range(width))
                ops = []
                for run in re.finditer(rb"\x00+", cells):
                    ops.append(b"%d %d %d 1 re\n" % (column + run.start(), row,
                                                      run.end() - run.start()))
                table[cells] = b"".join(ops)
            plan.append((row * size + column, width, table))
    return plan


def qr_ops(payload, x, y, box, *, quiet_zone=4, ec_level="M"):
    """Content operators drawing the QR code of `payload` in a `box`-point square whose
    top-left corner is (x, y) in PDF coordinates, `quiet_zone` modules included.

    Dark runs are filled rectangles in module units under one scaling matrix, all in one
    path filled once: a version-5 code takes about 3 KB before compression.
    """
    size, modules = qr_matrix(payload, ec_level)
    module = box / (size + 2 * quiet_zone)
    head = b"q 0 g %s 0 0 %s %s %s cm\n" % (
        _number(round(module, 4)), _number(round(-module, 4)),
        _number(round(x + quiet_zone * module, 3)), _number(round(y - quiet_zone * module, 3)))
    body = b"".join([table[modules[offset:offset + width]]
                     for offset, width, table in _rectangle_plan(size)])
    return head + body + b"f Q\n"


# --- Code 128 barcodes as vector paths ------------------------------------------------------


def code128_modules(text):
    """The Code 128 symbol of `text` as bytes, one per module, left to right, without quiet
    zones: b"\x00" for a bar, b"\xff" for a space. Encoded by zxing-cpp, like the QR codes."""
    import zxingcpp

    barcode = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.Code128)
    image = barcode.to_image(scale=1, add_quiet_zones=False)
    return bytes(memoryview(image))[:image.shape[1]]


def code128_ops(text, x, y, *, module, height):
    """Content operators drawing the Code 128 barcode of `text` with its top-left corner at
    (x, y) in PDF coordinates: `module` points per module, `height` points tall. The quiet
    zones (10 modules each side) are the caller's to leave blank. Bars are filled rectangles
    in module units under one scaling matrix, in one path filled once."""
    modules = code128_modules(text)
    head = b"q 0 g %s 0 0 %s %s %s cm\n" % (
        _number(round(module, 4)), _number(round(-height, 3)), _number(round(x, 3)),
        _number(round(y, 3)))
    bars = b"".join(b"%d 0 %d 1 re\n" % (run.start(), run.end() - run.start())
                    for run in re.finditer(rb"\x00+", modules))
    return head + bars + b"f Q\n"

