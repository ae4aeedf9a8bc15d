"""The PDF page canvas: an fpdf2 document on A4 portrait with the report's fonts, a footer on
every page, and text helpers that never interpret what they print.

What it adds to ``fpdf.FPDF``:

* the fonts of a :class:`~tokbench.reports.pdf_fonts.FontPlan` registered as the base face and
  fpdf2 fallback fonts, with HarfBuzz shaping (uharfbuzz) so Thai, Devanagari, Myanmar and
  Arabic are joined and reordered as they should be;
* every character no registered font draws is printed as its code point ``U+XXXX`` in grey,
  never as an empty box (see :meth:`ReportPdf._preload_font_styles`);
* no text substitution: fpdf2 replaces ``{nb}`` by the page count in any text; a vocabulary
  entry may hold exactly that, so the alias is switched off (the footer says "page N").

Example:
    >>> from tokbench.reports.pdf_fonts import plan_fonts
    >>> doc = ReportPdf("Demo", plan_fonts("Demo"))
    >>> doc.add_page(); doc.paragraph("a {nb} token"); doc.page_no()
    1
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any

from fpdf import FPDF
from fpdf.drawing import DeviceGray
from fpdf.enums import XPos, YPos
from fpdf.errors import FPDFException

from .pdf_fonts import FontPlan

__all__ = ["ReportPdf", "BASE", "GREY", "MUTED", "needs_shaping"]

#: the family name the base face (and its bold) is registered under
BASE = "base"
#: code points of missing glyphs, footers
GREY = DeviceGray(0.5)
#: notes, captions, the generated line
MUTED = (85, 85, 85)
_MARGIN = 15.0
_BOTTOM = 14.0


def _runs(text: str, covered: frozenset[int]) -> Iterator[tuple[bool, str]]:
    """``text`` cut into (drawable?, run) pieces."""
    start = 0
    state = ord(text[0]) in covered
    for i, ch in enumerate(text):
        known = ord(ch) in covered
        if known != state:
            yield state, text[start:i]
            start, state = i, known
    yield state, text[start:]


#: scripts HarfBuzz must join, reorder or position: combining marks, Hebrew to Myanmar,
#: Ethiopic to Mongolian and the Indic/South-East Asian blocks, Arabic presentation forms, and
#: the Brahmi-derived scripts of the supplementary plane
_COMPLEX = re.compile("[\u0300-\u036f\u0590-\u109f\u1200-\u18af\u1900-\u1cff\ua800-\uabff"
                      "\ufb1d-\ufdff\ufe70-\ufeff\U00010a00-\U00011fff]")


def needs_shaping(text: str) -> bool:
    """Whether ``text`` holds a script whose glyphs need shaping. Latin, Greek, Cyrillic and CJK
    come out the same without it, and fpdf2's line breaking re-shapes a line for every
    character it adds, so shaping only what needs it keeps a long report fast.

    Example:
        >>> needs_shaping("tokens 中文"), needs_shaping("ภาษาไทย")
        (False, True)
    """
    return bool(text) and _COMPLEX.search(text) is not None


class ReportPdf(FPDF):
    """An A4 portrait fpdf2 document with the report's fonts, footer and text helpers."""

    def __init__(self, title: str, plan: FontPlan):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report_title = title
        self.plan = plan
        self._covered = plan.covered
        # fpdf2 would replace "{nb}" in any printed text by the page count.
        self.str_alias_nb_pages = ""
        self.set_margins(_MARGIN, _MARGIN, _MARGIN)
        self.set_auto_page_break(True, margin=_BOTTOM)
        self.set_title(title)
        self.set_creator("tokbench")
        self.add_font(BASE, "", plan.regular.path, collection_font_number=plan.regular.index)
        self.add_font(BASE, "B", plan.bold.path, collection_font_number=plan.bold.index)
        for face in plan.fallbacks:
            self.add_font(face.name, "", face.path, collection_font_number=face.index)
        if plan.fallbacks:
            # exact_match=False: bold text in Thai uses the regular Thai face rather than boxes.
            self.set_fallback_fonts([f.name for f in plan.fallbacks], exact_match=False)
        try:
            self.set_text_shaping(True)
        except FPDFException:  # uharfbuzz missing (a platform without its wheel): Latin still right
            self.text_shaping = None
        self._shaping = self.text_shaping
        self.text_shaping = None
        self.set_font(BASE, size=9)

    # -- shaping only where a script needs it ------------------------------------------------
    def _shape_for(self, text: Any) -> None:
        self.text_shaping = self._shaping if isinstance(text, str) and needs_shaping(text) else None

    def multi_cell(self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any) -> Any:
        self._shape_for(text)
        return super().multi_cell(w, h, text, *args, **kwargs)

    def cell(self, w: float | None = None, h: float | None = None, text: str = "", *args: Any, **kwargs: Any) -> Any:
        self._shape_for(text)
        return super().cell(w, h, text, *args, **kwargs)

    def get_string_width(self, s: str, normalized: bool = False, markdown: bool = False, *,
                         shaped: bool = True) -> float:
        """Width of ``s`` in mm; ``shaped=False`` skips shaping (fast estimates)."""
        self._shape_for(s if shaped else "")
        return float(super().get_string_width(s, normalized, markdown))

    # -- missing glyphs -------------------------------------------------------------------
    def _preload_font_styles(self, text: str | None, markdown: bool, _initial_emphasis: Any = None) -> Sequence[Any]:
        """fpdf2 cuts every printed string into styled fragments here (for drawing and for
        measuring alike); characters no font draws become grey ``U+XXXX`` fragments, so a
        missing glyph is visible and the widths stay right."""
        parent = super()._preload_font_styles
        if not text or all(ord(c) in self._covered for c in text):
            return parent(text, markdown, _initial_emphasis)
        out: list[Any] = []
        for known, run in _runs(text, self._covered):
            if known:
                out.extend(parent(run, markdown, _initial_emphasis))
                continue
            label = " ".join(f"U+{ord(c):04X}" for c in run)
            for frag in parent(label, False, _initial_emphasis):
                state = frag.graphics_state.copy()
                state.text_color = GREY
                frag.graphics_state = state
                out.append(frag)
        return tuple(out)

    # -- page furniture -------------------------------------------------------------------
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(BASE, "", 7)
        self.set_text_color(128)
        title = self.report_title if len(self.report_title) <= 90 else self.report_title[:89] + "…"
        self.cell(0, 4, f"{title} — page {self.page_no()}" if title else f"page {self.page_no()}", align="C")
        self.set_text_color(0)

    def room(self) -> float:
        """Height left on this page above the bottom margin (mm)."""
        return self.h - self.b_margin - self.get_y()

    def need(self, height: float) -> None:
        """Start a new page unless ``height`` mm still fit on this one."""
        if self.room() < height:
            self.add_page()

    # -- text -----------------------------------------------------------------------------
    def heading(self, text: str, size: float = 13, *, keep: float = 30, color: Any = 0) -> None:
        """A bold heading kept with at least ``keep`` mm of what follows it."""
        self.need(keep + size * 0.6)
        self.set_font(BASE, "B", size)
        self.set_text_color(color)
        self.set_x(self.l_margin)
        self.multi_cell(0, size * 0.5, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)
        self.ln(1)

    def paragraph(self, text: str, size: float = 9, *, color: Any = 0, style: str = "", indent: float = 0) -> None:
        """Wrapped left-aligned text, printed literally (no markdown, no page-count alias)."""
        self.set_font(BASE, style, size)
        self.set_text_color(color)
        self.set_x(self.l_margin + indent)
        self.multi_cell(self.epw - indent, size * 0.45, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)

    def bullets(self, lines: Sequence[str], size: float = 9, *, color: Any = 0) -> None:
        """A bulleted list; wrapped lines hang under the text, not under the bullet."""
        height = size * 0.45
        for line in lines:
            self.need(height)
            self.set_font(BASE, "", size)
            self.set_text_color(color)
            self.set_x(self.l_margin + 1)
            self.cell(3, height, "•")
            self.multi_cell(self.epw - 4, height, line, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0)

    def text_height(self, text: str, width: float, size: float, style: str = "") -> float:
        """Height (mm) ``text`` takes wrapped at ``width`` mm in ``size`` pt."""
        self.set_font(BASE, style, size)
        lines = self.multi_cell(width, size * 0.45, text, align="L", dry_run=True, output="LINES")
        return len(lines) * size * 0.45
