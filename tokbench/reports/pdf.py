"""The PDF report: the same :class:`~tokbench.reports.document.Report` as the HTML one, laid
out on A4 pages with matplotlib's ``PdfPages`` (no extra dependency, no browser).

Page 1 holds the title, the summary, failed items and a table of contents with page numbers;
each section starts on a new page with its explanation and notes, then its figures (one a
page, vector graphics) and its tables (paginated, long cells cut with "…"); signatures come
last. Every page has a footer with the page number. Text from tokenizers and corpora is drawn
with mathtext off, so a token such as ``$x$`` is shown literally. Written atomically.

Example:
    >>> write_pdf(report, "demo-report/report.pdf")   # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .document import Report, Table, digest_signatures, format_cell

__all__ = ["write_pdf", "render_pdf"]

_A4 = (8.27, 11.69)
_ROWS_PER_PAGE = 42
_MAX_COLUMNS = 9
_CELL_CHARS = 22
_WRAP = 100


def _page() -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=_A4)


def _text(fig: Any, x: float, y: float, s: str, **kw: Any) -> Any:
    return fig.text(x, y, s, parse_math=False, **kw)


def _wrapped(lines: list[str], width: int = _WRAP) -> list[str]:
    out: list[str] = []
    for line in lines:
        out += textwrap.wrap(line, width) or [""]
    return out


def _footer(fig: Any, number: int, title: str) -> None:
    _text(fig, 0.5, 0.015, f"{title} — page {number}", ha="center", va="bottom", fontsize=7, color="#666")


def _cell(value: Any) -> str:
    text = format_cell(value)[0]
    return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 1] + "…"


class _Plan:
    """Pages as deferred drawers, so the table of contents can give page numbers."""

    def __init__(self) -> None:
        self.pages: list[Callable[[int], Any]] = []

    def add(self, drawer: Callable[[int], Any]) -> int:
        self.pages.append(drawer)
        return len(self.pages)


def _text_page(title: str, heading: str, blocks: list[tuple[str, list[str]]]) -> Callable[[int], Any]:
    """A page of headed paragraphs (long content continues in smaller type; enough for reports)."""

    def draw(number: int) -> Any:
        fig = _page()
        y = 0.95
        _text(fig, 0.08, y, heading, fontsize=15, weight="bold", va="top")
        y -= 0.045
        for sub, lines in blocks:
            if sub:
                _text(fig, 0.08, y, sub, fontsize=11, weight="bold", va="top")
                y -= 0.028
            for line in _wrapped(lines):
                if y < 0.05:
                    break
                _text(fig, 0.08, y, line, fontsize=9, va="top", family="DejaVu Sans")
                y -= 0.017
            y -= 0.012
        _footer(fig, number, title)
        return fig

    return draw


def _table_pages(title: str, heading: str, table: Table) -> list[Callable[[int], Any]]:
    frame = table.shown()
    columns = list(frame.columns)[:_MAX_COLUMNS]
    dropped = list(frame.columns)[_MAX_COLUMNS:]
    shown = frame[columns].head(table.max_rows)
    chunks = [shown.iloc[i:i + _ROWS_PER_PAGE] for i in range(0, max(len(shown), 1), _ROWS_PER_PAGE)]
    notes = []
    if dropped:
        notes.append(f"columns not shown here (see the HTML report): {', '.join(map(str, dropped))}")
    if len(frame) > len(shown):
        notes.append(f"first {len(shown):,} of {len(frame):,} rows")
    drawers = []
    for k, chunk in enumerate(chunks):
        def draw(number: int, chunk: Any = chunk, k: int = k) -> Any:
            fig = _page()
            cont = f" (continued {k + 1}/{len(chunks)})" if len(chunks) > 1 else ""
            _text(fig, 0.06, 0.96, f"{heading}: {table.title}{cont}", fontsize=11, weight="bold", va="top")
            if notes and k == 0:
                _text(fig, 0.06, 0.935, "; ".join(notes), fontsize=7, va="top", color="#444")
            ax = fig.add_axes((0.04, 0.05, 0.92, 0.87))
            ax.axis("off")
            cells = [[_cell(v) for v in row] for row in chunk.itertuples(index=False)] or [["–"] * len(columns)]
            tab = ax.table(cellText=cells, colLabels=[_cell(str(c)) for c in columns], loc="upper center",
                           cellLoc="right", colLoc="center")
            tab.auto_set_font_size(False)
            tab.set_fontsize(7)
            tab.auto_set_column_width(list(range(len(columns))))
            for (r, _c), cell in tab.get_celld().items():
                cell.get_text().set_parse_math(False)
                cell.set_height(0.02)
                if r == 0:
                    cell.set_facecolor("#eeeeee")
            _footer(fig, number, title)
            return fig

        drawers.append(draw)
    return drawers


def _figure_page(title: str, heading: str, caption: str, figure: Any) -> Callable[[int], Any]:
    def draw(number: int) -> Any:
        # The figure keeps its own size (vector page); a footer is added for this page only.
        texts = [_text(figure, 0.99, 0.003, f"{heading} — page {number}", ha="right", va="bottom", fontsize=6,
                       color="#666")]
        figure._tokbench_footer = texts
        return figure

    return draw


def render_pdf(report: Report, handle: Any) -> int:
    """Write the PDF to an open binary file; returns the number of pages."""
    title = report.title
    plan = _Plan()
    plan.add(lambda n: None)  # the title page, drawn last when page numbers are known
    toc = _plan_sections(report, plan)
    sig_lines = digest_signatures(report.signatures).text_blocks()  # shared corpus said once
    per_page = 12
    first_sig = None
    for k in range(0, max(len(sig_lines), 1), per_page):
        n = plan.add(_text_page(title, "Signatures" if k == 0 else "Signatures (continued)", sig_lines[k:k + per_page]))
        first_sig = first_sig or n
    toc.append(("Signatures", first_sig or len(plan.pages)))
    plan.pages[0] = _title_page(report, toc)
    _save_pages(plan, handle, title)
    return len(plan.pages)


def _plan_sections(report: Report, plan: _Plan) -> list[tuple[str, int]]:
    """Add every section's pages (text, figures, tables); returns the contents (heading, page)."""
    toc: list[tuple[str, int]] = []
    for i, s in enumerate(report.sections, start=1):
        heading = f"{i}. {s.title}"
        status = "" if s.status == "ok" else f" ({s.status})"
        blocks: list[tuple[str, list[str]]] = [("", [s.explanation])]
        if s.notes:
            blocks.append(("Notes", [f"• {n}" for n in s.notes]))
        if s.figures:
            blocks.append(("Figures", [f"• {f.caption}" for f in s.figures]))
        if s.tables:
            blocks.append(("Tables", [f"• {t.title} ({len(t.frame):,} rows)" for t in s.tables]))
        toc.append((heading + status, plan.add(_text_page(report.title, heading + status, blocks))))
        for f in s.figures:
            plan.add(_figure_page(report.title, heading, f.caption, f.figure))
        for t in s.tables:
            for drawer in _table_pages(report.title, heading, t):
                plan.add(drawer)
    return toc


def _title_page(report: Report, toc: list[tuple[str, int]]) -> Callable[[int], Any]:
    """Page 1: title, generation line, summary, failed items and the table of contents."""
    title = report.title

    def draw(number: int) -> Any:
        fig = _page()
        _text(fig, 0.08, 0.95, "\n".join(textwrap.wrap(title, 60)), fontsize=18, weight="bold", va="top")
        y = 0.89
        if report.generated:
            _text(fig, 0.08, y, report.generated, fontsize=9, color="#555", va="top")
            y -= 0.03
        _text(fig, 0.08, y, "Summary", fontsize=12, weight="bold", va="top")
        y -= 0.028
        for line in _wrapped(report.summary or ["–"]):
            _text(fig, 0.08, y, line, fontsize=9, va="top")
            y -= 0.017
        if report.failures:
            y -= 0.01
            _text(fig, 0.08, y, "Failed items", fontsize=12, weight="bold", va="top", color="#b00")
            y -= 0.028
            for line in _wrapped([f"• {f}" for f in report.failures])[:12]:
                _text(fig, 0.08, y, line, fontsize=9, va="top", color="#700")
                y -= 0.017
        y -= 0.015
        _text(fig, 0.08, y, "Contents", fontsize=12, weight="bold", va="top")
        y -= 0.03
        for name, page in toc:
            if y < 0.05:
                break
            _text(fig, 0.1, y, name[:80], fontsize=10, va="top")
            _text(fig, 0.9, y, str(page), fontsize=10, va="top", ha="right")
            y -= 0.022
        _footer(fig, number, title)
        return fig

    return draw


def _save_pages(plan: _Plan, handle: Any, title: str) -> None:
    import warnings

    from matplotlib.backends.backend_pdf import PdfPages

    with warnings.catch_warnings(), PdfPages(handle, metadata={"Title": title, "Creator": "tokbench"}) as pdf:
        # Scripts DejaVu Sans lacks (Thai, Myanmar, CJK) show as boxes; the HTML report shows them.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        for number, drawer in enumerate(plan.pages, start=1):
            fig = drawer(number)
            try:
                pdf.savefig(fig)
            finally:
                for text in getattr(fig, "_tokbench_footer", []):
                    text.remove()
                if hasattr(fig, "_tokbench_footer"):
                    del fig._tokbench_footer


def write_pdf(report: Report, path: str | Path) -> Path:
    """Render the report as a PDF and write it atomically; returns the path."""
    from .._io import atomic_write

    with atomic_write(path, "wb") as handle:
        render_pdf(report, handle)
    return Path(path)
