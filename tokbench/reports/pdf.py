"""The PDF report: the same :class:`~tokbench.reports.document.Report` as the HTML one, on A4
portrait pages, drawn with fpdf2 and shaped with HarfBuzz.

Why fpdf2 (+ uharfbuzz): both are wheels on PyPI (pure Python and a self-contained binary
wheel), so ``pip install tokbench`` renders a PDF on a fresh machine with no system library
and no browser. fpdf2 embeds subsets of TrueType/OpenType fonts (``.ttc`` collections and the
CFF outlines of Noto CJK included), switches to fallback fonts per character, shapes complex
scripts through uharfbuzz, wraps table cells and repeats their header row across pages, and
writes an outline and a table of contents with page numbers. The alternatives fall short:
matplotlib's ``PdfPages`` draws one font per text object (every Thai, Myanmar or Han token
became an empty box), has no text flow, so tables were cut and pages half empty; reportlab
has no complex-script shaping (Thai, Devanagari and Myanmar come out unjoined); WeasyPrint
(HTML to PDF) needs the system's pango; printing the HTML with headless Chromium needs a
browser install that a CI machine or a user's server may not have.

Layout: page 1 holds the title, the generated line, the summary, failed items, one compact card
per tokenizer and the table of contents (fpdf2's ToC placeholder, filled in with the page
numbers at the end). Sections then flow, starting a new page only when the heading and its
first lines would not fit; each has its explanation and notes, its figures (PNG at 200 dpi,
drawn for the text width and never shrunk, a tall one continued on the next page:
:mod:`~tokbench.reports.pdf_figures`; fpdf2's SVG import drops matplotlib's image transforms
and hatch patterns) and its tables (:mod:`~tokbench.reports.pdf_tables`: wrapped, never cut). The
signatures come last, compact. Every page has a footer with the page number. Text from
tokenizers and corpora is printed literally (no markdown, no page-count alias) and a
character no font draws shows as ``U+XXXX`` in grey (:mod:`~tokbench.reports.pdf_doc`,
:mod:`~tokbench.reports.pdf_fonts`). Written atomically.

Example:
    >>> write_pdf(report, "demo-report/report.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .document import Card, FigureItem, Report, Section, digest_signatures, format_cell

__all__ = ["write_pdf", "render_pdf"]

_RED = (160, 0, 0)
_MUTED = (85, 85, 85)
_TOC_SIZE = 10.0
_CARD_GAP = 4.0


def _report_text(report: Report) -> Iterator[str]:
    """Every string the PDF will print (to choose the fonts before drawing)."""
    yield from (report.title, report.generated, *report.summary, *report.failures)
    for card in report.cards:
        yield from (card.title, card.headline, *card.findings)
        for label, value in card.facts:
            yield from (label, value)
    for s in report.sections:
        yield from (s.title, s.explanation, *s.notes, *(f.caption for f in s.figures))
        for t in s.tables:
            frame = t.shown()
            yield from (t.title, t.note or "", *map(str, frame.columns))
            for row in frame.head(t.max_rows).itertuples(index=False):
                yield from (format_cell(v)[0] for v in row)
    for heading, lines in digest_signatures(report.signatures).text_blocks():
        yield from (heading, *lines)


def _document(report: Report) -> Any:
    from .pdf_doc import ReportPdf
    from .pdf_fonts import plan_fonts

    text = "\n".join(_report_text(report))
    return ReportPdf(report.title, plan_fonts(text))


def render_pdf(report: Report, handle: Any) -> int:
    """Write the PDF to an open binary file; returns the number of pages."""
    doc = _document(report)
    doc.add_page()
    _front(doc, report)
    names = [_section_name(i, s) for i, s in enumerate(report.sections, start=1)] + ["Signatures"]
    _contents(doc, names)
    for name, section in zip(names, report.sections, strict=False):  # names end with Signatures
        _section(doc, name, section)
    _signatures(doc, report)
    handle.write(bytes(doc.output()))
    return int(doc.pages_count)


def _section_name(number: int, section: Section) -> str:
    return f"{number}. {section.title}" + ("" if section.status == "ok" else f" ({section.status})")


def _front(doc: Any, report: Report) -> None:
    """Title, generated line, summary, failed items and the tokenizer cards."""
    doc.heading(report.title or "Report", 18, keep=0)
    if report.generated:
        doc.paragraph(report.generated, 8.5, color=_MUTED)
    doc.ln(3)
    doc.heading("Summary", 12, keep=10)
    doc.bullets(report.summary or ["–"], 9.5)
    if report.failures:
        doc.ln(2)
        doc.heading("Failed items", 12, keep=10, color=_RED)
        doc.bullets(report.failures, 9, color=_RED)
    if report.cards:
        doc.ln(3)
        doc.heading("Tokenizers at a glance", 12, keep=30)
        _cards(doc, report.cards)


def _card_parts(card: Card) -> list[tuple[str, float, str, Any]]:
    """(text, size, style, colour) lines of a card, top to bottom."""
    failed = card.status != "ok"
    parts = [(card.title + (f" — {card.status}" if failed else ""), 10, "B", _RED if failed else 0)]
    if card.headline:
        parts.append((card.headline, 8, "", _MUTED))
    if card.facts:
        parts.append(("   ·   ".join(f"{label}: {value}" for label, value in card.facts), 8, "", 0))
    parts += [(f"• {line}", 8, "", _RED if failed else 0) for line in card.findings]
    return parts


def _cards(doc: Any, cards: list[Card]) -> None:
    """Cards two to a row, each a light box around its title, headline, facts and findings."""
    width = (doc.epw - _CARD_GAP) / 2
    inner = width - 4
    for k in range(0, len(cards), 2):
        pair = cards[k:k + 2]
        parts = [_card_parts(c) for c in pair]
        heights = [sum(doc.text_height(t, inner, s, st) + 0.8 for t, s, st, _ in p) + 4 for p in parts]
        height = max(heights)
        if height > doc.h - doc.t_margin - doc.b_margin - 4:  # a card longer than a page: plain text
            for text, size, style, color in (part for p in parts for part in p):
                doc.paragraph(text, size, style=style, color=color)
            continue
        doc.need(height + 2)
        top = doc.get_y()
        for j, (card, lines) in enumerate(zip(pair, parts, strict=True)):
            left = doc.l_margin + j * (width + _CARD_GAP)
            doc.set_draw_color(200)
            doc.set_fill_color(*((253, 240, 240) if card.status != "ok" else (246, 247, 250)))
            doc.rect(left, top, width, height, style="DF", round_corners=True, corner_radius=1.5)
            doc.set_xy(left + 2, top + 2)
            for text, size, style, color in lines:
                doc.set_font("base", style, size)
                doc.set_text_color(color)
                doc.set_x(left + 2)
                doc.multi_cell(inner, size * 0.45, text, align="L", new_x="LEFT", new_y="NEXT")
                doc.set_y(doc.get_y() + 0.8)
            doc.set_text_color(0)
        doc.set_draw_color(0)
        doc.set_y(top + height + _CARD_GAP)


def _contents(doc: Any, names: list[str]) -> None:
    """Reserve room for the table of contents, here if it fits, filled in at the end."""
    width = doc.epw - 14
    heights = [doc.text_height(n, width, _TOC_SIZE) + 1 for n in names]
    heading = 9.0
    if doc.room() < heading + sum(heights[:3]) + 4:
        doc.add_page()
    body = doc.h - doc.t_margin - doc.b_margin
    pages, room = 1, doc.room() - heading
    for h in heights:
        if h > room:
            pages, room = pages + 1, body
        room -= h

    def render(pdf: Any, outline: list[Any]) -> None:
        start = pdf.page
        pdf.heading("Contents", 12, keep=0)
        for entry in (e for e in outline if e.level == 0):
            pdf.set_font("base", "", _TOC_SIZE)
            y, page = pdf.get_y(), str(entry.page_number)
            if pdf.room() < pdf.text_height(entry.name, width, _TOC_SIZE) + 1:
                pdf.add_page()
                y = pdf.get_y()
            link = pdf.add_link(page=entry.page_number)
            pdf.multi_cell(width, _TOC_SIZE * 0.45, entry.name, align="L", link=link, new_x="LMARGIN", new_y="NEXT")
            end = pdf.get_y()
            pdf.set_xy(pdf.l_margin + width, y)
            pdf.cell(14, _TOC_SIZE * 0.45, page, align="R", link=link)
            pdf.set_y(end + 1)
        while pdf.page < start + pages - 1:  # fpdf2 wants exactly the pages reserved
            pdf.add_page()

    doc.insert_toc_placeholder(render, pages=pages)


def _section(doc: Any, name: str, section: Section) -> None:
    """Heading, explanation, notes, figures and tables of one section, flowing on."""
    doc.ln(2)
    intro = doc.text_height(section.explanation or "–", doc.epw, 9.5) + 10
    doc.need(min(intro, 60) + 25)
    doc.start_section(name)
    doc.heading(name, 13, keep=0, color=0 if section.status == "ok" else _RED)
    if section.explanation:
        doc.paragraph(section.explanation, 9.5)
    if section.notes:
        doc.ln(1)
        doc.bullets(section.notes, 8.5, color=_MUTED)
    doc.ln(2)
    for k, item in enumerate(section.figures, start=1):
        _figure(doc, item, f"{name.split('.')[0]}.{k}")
    from .pdf_tables import draw_table

    for table in section.tables:
        draw_table(doc, table)


def _figure(doc: Any, item: FigureItem, number: str) -> None:
    """The figure at the size it was drawn (the text width at most), continued on the next page
    when taller than a page, then its caption."""
    from .pdf_figures import figure_strips

    caption = f"Figure {number}. {item.caption}"
    caption_h = doc.text_height(caption, doc.epw, 8) + 2
    body = doc.h - doc.t_margin - doc.b_margin - 4
    strips = figure_strips(item.figure, width_mm=doc.epw, max_height_mm=body, first_height_mm=doc.room() - 2)
    if len(strips) > 1:
        caption += f" (continued over {len(strips)} pages)"
    for k, (png, height) in enumerate(strips):
        last = k == len(strips) - 1
        # the caption stays with the last strip when both fit on one page
        doc.need(height + (caption_h if last and height + caption_h <= body else 0))
        width = height * _png_aspect(png)
        doc.image(io.BytesIO(png), x=doc.l_margin + (doc.epw - width) / 2, y=doc.get_y(), w=width, h=height)
        doc.set_y(doc.get_y() + height + 1)
    doc.paragraph(caption, 8, color=_MUTED)
    doc.ln(3)


def _png_aspect(png: bytes) -> float:
    """Width / height of a PNG, from its header."""
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    return width / height if height else 1.0


def _signatures(doc: Any, report: Report) -> None:
    """Every result's signature, said once per corpus, tokenizer and setting."""
    doc.ln(2)
    doc.need(40)
    doc.start_section("Signatures")
    doc.heading("Signatures", 13, keep=0)
    blocks = digest_signatures(report.signatures).text_blocks()
    if not blocks:
        doc.paragraph("No signatures.", 8.5, color=_MUTED)
    body = doc.h - doc.t_margin - doc.b_margin
    for heading, lines in blocks:
        # a block moves to the next page whole when it fits there: no page holds a lone last line
        height = 6 + sum(doc.text_height(line, doc.epw - 2, 7) for line in lines)
        doc.need(min(height, body))
        doc.paragraph(heading, 8.5, style="B")
        for line in lines:
            doc.paragraph(line, 7, color=_MUTED, indent=2)
        doc.ln(1)


def write_pdf(report: Report, path: str | Path) -> Path:
    """Render the report as a PDF and write it atomically; returns the path."""
    from .._io import atomic_write

    with atomic_write(path, "wb") as handle:
        render_pdf(report, handle)
    return Path(path)
