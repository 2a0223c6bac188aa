"""Funders' logos: what an upload may be, and the safe form in which it is kept.

A logo is printed on every booklet cover and can be opened from our own domain, so it is
judged by its content (never by its file name) and an SVG is rewritten keeping only the
drawing: no script, event handler, animation, embedded document, style sheet import, or link
to anything outside the file. A hostile SVG is thus neutralised rather than refused: the
funder keeps its picture, the browser gets nothing it could run.

A PNG is judged by its size in pixels too, read from its header before anything decodes it:
a few kilobytes can hold 12000 × 12000 pixels, half a gigabyte once decoded. Beyond
MAX_SIDE it is refused; beyond KEPT_SIDE it is kept scaled down, so that printing never
decodes more than the cover needs. Pillow's own decompression-bomb guard is set from
MAX_PIXELS for the whole process (cheques.apps), for any image decoded anywhere.
"""

import io
import re
import struct
import xml.etree.ElementTree as ElementTree

from django.utils.translation import gettext as _

PNG = "image/png"
SVG = "image/svg+xml"
EXTENSIONS = {PNG: ".png", SVG: ".svg"}
MAX_BYTES = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_SIDE = 4000  # pixels, on either side: refused beyond
MAX_PIXELS = MAX_SIDE * MAX_SIDE
KEPT_SIDE = 1200  # the longest side once kept: 70 mm on the cover at about 430 dpi

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
XLINK_NAMESPACE = "http://www.w3.org/1999/xlink"

# Elements that run code, load documents or change the drawing over time (an <animate> or
# <set> can rewrite an href into javascript: after the file has been checked).
REMOVED_ELEMENTS = {
    "script", "foreignobject", "iframe", "embed", "object", "audio", "video", "canvas",
    "animate", "animatemotion", "animatetransform", "animatecolor", "set", "discard",
    "handler", "listener",
}
# Links may point inside the file or hold an embedded bitmap, nothing else.
SAFE_LINK = re.compile(r"^(#|data:image/(png|jpeg|gif|webp);)", re.IGNORECASE)
LINK_ATTRIBUTES = {"href", "src"}
# In style sheets and style attributes: url() to anything but a fragment, @import, and the
# old IE expression() are the ways out.
UNSAFE_STYLE = re.compile(r"@import|expression\s*\(|url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


class LogoError(ValueError):
    """An upload that cannot be a logo; the message is for the person who sent it."""


def local_name(name):
    return name.rsplit("}", 1)[-1].lower() if isinstance(name, str) else ""


def clean_logo(data):
    """(bytes to keep, content type) of an uploaded logo, or LogoError. A PNG is kept as it
    is once it decodes, scaled down to KEPT_SIDE if larger; an SVG is kept sanitised (see
    sanitise_svg)."""
    if len(data) > MAX_BYTES:
        raise LogoError(_("Le logo dépasse 1 Mo : réduisez-le avant de l’envoyer."))
    if data.startswith(PNG_SIGNATURE):
        check_png(data)
        return kept_png(data), PNG
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise LogoError(_("Le logo doit être une image PNG ou SVG valide.")) from error
    return sanitise_svg(text).encode("utf-8"), SVG


def content_type_of(data):
    """PNG or SVG as judged by the content, or "" (used to print logos kept before)."""
    if data.startswith(PNG_SIGNATURE):
        return PNG
    return SVG if b"<svg" in data[:4096] else ""


def png_size(data):
    """(width, height) of a PNG from its header (IHDR, the first chunk), decoding nothing;
    None when there is no such header."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def check_png(data):
    from PIL import Image, UnidentifiedImageError

    size = png_size(data)
    if size is None:  # a PNG starts with its header
        raise LogoError(_("Le logo doit être une image PNG ou SVG valide."))
    if max(size) > MAX_SIDE:
        raise LogoError(_(
            "Le logo mesure %(width)s × %(height)s pixels : %(max)s × %(max)s pixels au "
            "plus. Réduisez-le avant de l’envoyer.") % {
            "width": size[0], "height": size[1], "max": MAX_SIDE})
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            if image.format == "PNG":
                return
    except (OSError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        pass
    raise LogoError(_("Le logo doit être une image PNG ou SVG valide."))


def kept_png(data):
    """The PNG `data` (checked) as it is kept: unchanged when its longest side fits in
    KEPT_SIDE, else scaled down to it."""
    from PIL import Image

    if max(png_size(data)) <= KEPT_SIDE:
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")  # palettes and 16-bit greys scale badly
            image.thumbnail((KEPT_SIDE, KEPT_SIDE))
            kept = io.BytesIO()
            image.save(kept, "PNG", optimize=True)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise LogoError(_("Le logo doit être une image PNG ou SVG valide.")) from error
    return kept.getvalue()


def sanitise_svg(text):
    """The SVG `text` with everything but the drawing removed, as a string; LogoError if it
    is not an SVG image. Entity declarations are refused outright: they are how XML bombs
    and external file reads start, and no logo needs them."""
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise LogoError(_("Ce fichier SVG déclare des entités XML : enregistrez-le sans "
                          "DOCTYPE (option « SVG simple » de votre logiciel)."))
    try:
        # Comments and processing instructions are dropped by this parser.
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        raise LogoError(_("Le logo doit être une image PNG ou SVG valide.")) from error
    if local_name(root.tag) != "svg":
        raise LogoError(_("Le logo doit être une image PNG ou SVG valide."))
    _strip(root)
    # ElementTree's prefixes are process-wide and other libraries register their own for
    # the SVG namespace: claim ours just before writing, so the file reads <svg>, not <ns0:svg>.
    ElementTree.register_namespace("", SVG_NAMESPACE)
    ElementTree.register_namespace("xlink", XLINK_NAMESPACE)
    return ElementTree.tostring(root, encoding="unicode")


def _strip(element):
    for child in list(element):
        name = local_name(child.tag)
        if name in REMOVED_ELEMENTS or (name == "style" and UNSAFE_STYLE.search(child.text or "")):
            element.remove(child)
        else:
            _strip(child)
    for attribute, value in list(element.attrib.items()):
        name = local_name(attribute)
        compact = re.sub(r"\s+", "", value).lower()
        if (name.startswith("on")
                or (name in LINK_ATTRIBUTES and not SAFE_LINK.match(value.strip()))
                or (name == "style" and UNSAFE_STYLE.search(value))
                or "javascript:" in compact or "vbscript:" in compact):
            del element.attrib[attribute]
