"""Text that must fit a box on a booklet: how many lines it takes, and the largest size
at which it fits.

The booklet's design is laid out by WeasyPrint once per layout; its boxes have fixed sizes
(the stamps of cheques.pdf.booklets go at fixed places), so the font sizes that let each
text fit are chosen beforehand, from the widths of the DejaVu glyphs the design uses. The
line breaking is the browser's greedy one (break at spaces; a word longer than the line,
such as an address, breaks anywhere). A small margin covers what this model ignores
(kerning, a bold word in a regular line); tests/cheques/test_booklet_layout.py checks the
printed result for the worst cases.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

FONT_DIR = Path(settings.BASE_DIR) / "static" / "fonts" / "dejavu"
PT_PER_MM = 72 / 25.4
# What the model may miss: lines are measured this much wider than they are.
SAFETY = 1.02


class Metrics:
    """The advance widths of a TrueType font, in em, for any character it has."""

    def __init__(self, path):
        from fontTools.ttLib import TTFont

        font = TTFont(path, lazy=True)
        scale = 1 / font["head"].unitsPerEm
        hmtx = font["hmtx"]
        self.widths = {code: hmtx[name][0] * scale for code, name in font.getBestCmap().items()}
        self.fallback = self.widths.get(ord("M"), 0.8)

    def width(self, text, size):
        """Width of `text` in points at `size` points."""
        widths = self.widths
        return sum(widths.get(ord(char), self.fallback) for char in text) * size


@lru_cache(maxsize=2)
def metrics(bold=False):
    return Metrics(FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"))


def line_count(text, size, width_mm, *, bold=False):
    """Lines that `text` takes at `size` points in a box `width_mm` wide (line breaks in the
    text are kept)."""
    font = metrics(bold)
    room = width_mm * PT_PER_MM
    space = font.width(" ", size)
    lines = 0
    for paragraph in (text or "").split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split():
            width = font.width(word, size) * SAFETY
            if used and used + space + width <= room:
                used += space + width
                continue
            if used:
                lines += 1
            # A word wider than the line breaks anywhere (word-break: break-all).
            while width > room:
                lines += 1
                width -= room
            used = width
    return lines


@dataclass(frozen=True)
class Text:
    """A paragraph of a box: its text, its size relative to the box's (1: the box's size),
    its line height (times its size), whether it is bold, the space after it (times the
    box's size) and its width when narrower than the box."""

    text: str
    scale: float = 1.0
    line_height: float = 1.3
    bold: bool = False
    after: float = 0.0
    width_mm: float | None = None

    def height_pt(self, size, width_mm):
        own = size * self.scale
        lines = line_count(self.text, own, self.width_mm or width_mm, bold=self.bold)
        return lines * own * self.line_height + self.after * size


def height_mm(texts, size, width_mm):
    """The height of paragraphs set at `size` points in a box `width_mm` wide."""
    return sum(text.height_pt(size, width_mm) for text in texts) / PT_PER_MM


def largest_size(texts, *, width_mm, height_mm_available, sizes):
    """The first of `sizes` (largest first) at which the paragraphs fit the box; the
    smallest one when none does."""
    for size in sizes:
        if height_mm(texts, size, width_mm) <= height_mm_available:
            return size
    return sizes[-1]


def sizes_from(largest, smallest, step=0.5):
    """Sizes from `largest` down to `smallest` points."""
    count = int(round((largest - smallest) / step))
    return [round(largest - index * step, 2) for index in range(count + 1)]
