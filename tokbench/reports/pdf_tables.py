"""Tables on PDF pages: every column and every character of every cell, wrapped to fit A4.

Column widths come from the text: each column gets at least the width of its longest word
(capped, longer words wrap inside it) and shares the rest of the line in proportion to its
natural one-line width. A table too wide for the line is set in smaller type (7.5, 6.5, then
5.5 pt); if it still does not fit, its columns are split into groups, each repeating the first
column, one after another. The header row repeats on every page; ``Table.max_rows`` is
honoured and the rows left out are counted in a line under the table.

Example:
    >>> import pandas as pd
    >>> from tokbench.reports.document import Table
    >>> from tokbench.reports.pdf_doc import ReportPdf
    >>> from tokbench.reports.pdf_fonts import plan_fonts
    >>> doc = ReportPdf("t", plan_fonts("t")); doc.add_page()
    >>> draw_table(doc, Table("sizes", pd.DataFrame({"name": ["a", "b"], "n": [1, 2]})))
    []
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fpdf.fonts import FontFace

from .document import Table, format_cell
from .pdf_doc import BASE, MUTED, ReportPdf

__all__ = ["draw_table", "layout_columns", "ColumnLayout"]

#: type sizes tried in turn for a table too wide for the line
SIZES = (7.5, 6.5, 5.5)
#: horizontal cell padding (mm, each side)
_PAD = 1.0
#: a word wider than this wraps inside its cell rather than widening the column (mm)
_WORD_CAP = 26.0
#: no column narrower than this (mm)
_MIN_COL = 7.0
#: where a line may break inside a cell; a header may also break after "_" (see _wrap_header)
_BREAKS = re.compile(r"\s+")
_HEADER_BREAKS = re.compile(r"\s+|(?<=_)")
_HEAD = FontFace(emphasis="BOLD", fill_color=(232, 232, 232))


@dataclass
class ColumnLayout:
    """How a table's columns are set: type ``size`` (pt), column ``groups`` (indices; the
    first column repeats in every group after the first) and their ``widths`` (mm)."""

    size: float
    groups: list[list[int]]
    widths: list[list[float]]


def _measure(doc: ReportPdf, header: list[str], rows: list[list[str]], size: float) -> tuple[list[float], list[float]]:
    """Natural (one-line) and minimum (longest word, capped) widths of each column in mm."""
    natural = [0.0] * len(header)
    minimum = [_MIN_COL] * len(header)
    for style, texts in (("B", [header]), ("", rows)):
        doc.set_font(BASE, style, size)
        for row in texts:
            for j, text in enumerate(row):
                if not text:
                    continue
                # unshaped: shaping barely changes a width and is slow over thousands of cells
                width = doc.get_string_width(text, shaped=False)
                natural[j] = max(natural[j], width)
                # a word's width pro rata of the cell's: one measurement per cell, not per word
                longest = max(map(len, (_HEADER_BREAKS if style else _BREAKS).split(text)))
                minimum[j] = max(minimum[j], min(_WORD_CAP, width * longest / len(text)))
    pad = 2 * _PAD + 0.5
    return [n + pad for n in natural], [max(m + pad, _MIN_COL) for m in minimum]


def _fit(natural: list[float], minimum: list[float], total: float) -> list[float] | None:
    """Widths within ``total`` mm, or ``None`` if the minimum widths do not fit."""
    if sum(natural) <= total:
        return natural
    if sum(minimum) > total:
        return None
    slack = [n - m for n, m in zip(natural, minimum, strict=True)]
    spare = total - sum(minimum)
    return [m + spare * s / sum(slack) for m, s in zip(minimum, slack, strict=True)]


def _groups(minimum: list[float], total: float) -> list[list[int]]:
    """Greedy column groups that each fit ``total`` mm, every group after the first starting
    with column 0 (the row's name)."""
    groups: list[list[int]] = []
    current = [0]
    for j in range(1, len(minimum)):
        if current != [0] and sum(minimum[k] for k in current) + minimum[j] > total:
            groups.append(current)
            current = [0]
        current.append(j)
    groups.append(current)
    return groups


def layout_columns(doc: ReportPdf, header: list[str], rows: list[list[str]]) -> ColumnLayout:
    """The largest type size at which every column fits, else column groups at the smallest."""
    total = doc.epw
    for size in SIZES:
        natural, minimum = _measure(doc, header, rows, size)
        widths = _fit(natural, minimum, total)
        if widths is not None:
            return ColumnLayout(size, [list(range(len(header)))], [widths])
    groups = _groups(minimum, total)
    fitted = []
    for g in groups:
        widths = _fit([natural[j] for j in g], [minimum[j] for j in g], total)
        # one column wider than the line on its own: squeeze it, words wrap by character
        fitted.append(widths or [total / len(g)] * len(g))
    return ColumnLayout(SIZES[-1], groups, fitted)


def _is_number(value: Any) -> bool:
    key = format_cell(value)[1]
    return key is not None


def draw_table(doc: ReportPdf, table: Table) -> list[str]:
    """Draw ``table`` at the current position; returns the lines said under it (rows left
    out, smaller type, column groups, the table's own note)."""
    frame = table.shown()
    shown = frame.head(table.max_rows)
    header = [str(c) for c in frame.columns]
    values = list(shown.itertuples(index=False))
    rows = [[format_cell(v)[0] for v in row] for row in values]
    numeric = [bool(values) and all(_is_number(row[j]) or format_cell(row[j])[0] == "–" for row in values)
               for j in range(len(header))]
    doc.set_font(BASE, "B", 9)
    doc.need(22)
    doc.multi_cell(0, 4.5, table.title, align="L", new_x="LMARGIN", new_y="NEXT")
    said: list[str] = []
    if not header:
        said.append("(no columns)")
    elif not rows:
        said.append(f"(no rows; columns: {', '.join(map(str, frame.columns))})")
    else:
        layout = layout_columns(doc, header, rows)
        cut = 0
        for k, (group, widths) in enumerate(zip(layout.groups, layout.widths, strict=True)):
            if k:
                doc.ln(2)
            cells, n_cut = _page_high(doc, [[r[j] for j in group] for r in rows], widths, layout.size)
            cut = max(cut, n_cut)
            heads = [_wrap_header(doc, header[j], w, layout.size) for j, w in zip(group, widths, strict=True)]
            _draw_group(doc, heads, cells, [numeric[j] for j in group], widths, layout.size)
        if cut:
            said.append(f"{cut:,} cells longer than a whole page are cut where the page ends (marked "
                        "\"[cut: …]\"); the HTML report and the CSV tables hold them whole.")
        if layout.size < SIZES[0] and len(layout.groups) == 1:
            said.append(f"Set in {layout.size:g} pt type to fit all {len(header)} columns on the page.")
        if len(layout.groups) > 1:
            said.append(f"Too wide for one page width: its {len(header)} columns are shown in {len(layout.groups)} "
                        f"groups, one after another, each repeating the first column ({frame.columns[0]}).")
    if len(frame) > len(shown):
        said.append(f"First {len(shown):,} of {len(frame):,} rows shown; {len(frame) - len(shown):,} rows omitted "
                    "(the HTML report and the CSV tables hold them all).")
    if table.note:
        said.append(table.note)
    doc.ln(1)
    for line in said:
        doc.paragraph(line, 7.5, color=MUTED)
    doc.ln(2)
    return said


def _wrap_header(doc: ReportPdf, text: str, width: float, size: float) -> str:
    """A header such as ``tokens_per_char`` broken after its underscores into lines that fit
    ``width`` mm (fpdf2 breaks only at spaces; an explicit newline keeps the name searchable,
    where a zero-width space would end up in the PDF's text)."""
    doc.set_font(BASE, "B", size)
    room = width - 2 * _PAD - 0.5
    if "_" not in text or doc.get_string_width(text, shaped=False) <= room:
        return text
    lines = [""]
    for piece in re.split(r"(?<=_)", text):
        if lines[-1] and doc.get_string_width(lines[-1] + piece, shaped=False) > room:
            lines.append("")
        lines[-1] += piece
    return "\n".join(lines)


def _page_high(doc: ReportPdf, rows: list[list[str]], widths: list[float], size: float) -> tuple[list[list[str]], int]:
    """``rows`` with every cell that would be taller than a page cut to about 80 % of one
    (fpdf2 cannot split a row across pages), and how many were cut."""
    line = size * 0.42
    lines_per_page = (doc.h - doc.t_margin - doc.b_margin) * 0.8 / line
    doc.set_font(BASE, "", size)
    out, cut = [], 0
    for row in rows:
        cells = list(row)
        for j, text in enumerate(cells):
            if len(text) < 400:  # a cell this short always fits: skip the measurement
                continue
            per_line = max(widths[j] - 2 * _PAD, 1.0)
            lines = doc.get_string_width(text, shaped=False) / per_line * 1.2 + text.count("\n")
            if lines > lines_per_page:
                keep = int(len(text) * lines_per_page / lines)
                cells[j] = f"{text[:keep]}… [cut: {keep:,} of {len(text):,} characters shown]"
                cut += 1
        out.append(cells)
    return out, cut


def _draw_group(doc: ReportPdf, header: list[str], rows: list[list[str]], numeric: list[bool], widths: list[float],
                size: float) -> None:
    doc.set_font(BASE, "", size)
    doc.set_draw_color(190)
    line = size * 0.42
    doc.need(3 * line + 4)
    with doc.table(col_widths=widths, width=min(sum(widths), doc.epw), align="LEFT", line_height=line,
                   text_align=["RIGHT" if n else "LEFT" for n in numeric], padding=(0.5, _PAD), v_align="TOP",
                   borders_layout="HORIZONTAL_LINES", headings_style=_HEAD, repeat_headings=1, markdown=False,
                   cell_fill_color=(247, 247, 247), cell_fill_mode="ROWS") as grid:
        for cells in [header, *rows]:
            row = grid.row()
            for text in cells:
                row.cell(text)
    doc.set_draw_color(0)
