"""A self-contained HTML report that is pleasant to explore: a sticky contents bar, the
summary, a card per tokenizer, a section per analysis with its explanation, figures and
sortable tables, and the signatures of the results in one collapsed section (each corpus and
setting said once, a row per tokenizer: see :func:`~tokbench.reports.document.digest_signatures`).

Figures are inline SVG (crisp at any zoom) inside ``<img src="data:image/svg+xml;base64,…">``:
an SVG shown as an image cannot run script, so the page's policy stays strict. A figure whose
SVG would be large (dense heatmaps) is inlined as a PNG at twice the shown resolution instead.
Each is shown at its natural width (100 CSS px per inch, never wider than the column), so a
font size in a figure is the size the reader sees (see :data:`tokbench.reports.style.SHOWN_WIDTH_IN`).

Vocabulary entries, tokenizer names and corpus text are untrusted: a tokenizer may contain a
token such as ``<script>`` or ``"><img onerror=…>``. Every value goes through jinja2's
autoescaping; the only script (sorting, and marking the contents link being read) and the only
style sheet are constant text allowed by their sha256 hashes in a Content-Security-Policy that
forbids every network request (``default-src 'none'``), so even an escaping bug could not run
injected script or fetch anything. The file is written atomically. The template, style sheet
and script live in :mod:`tokbench.reports.html_assets`.

Example:
    >>> import pandas as pd
    >>> html = render_report("Demo", [Section("Sizes", "Rows per file.", pd.DataFrame({"n": [1]}))], {})
    >>> "<table" in html and "Sizes" in html
    True
"""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

from .document import (
    Card,
    FigureItem,
    Report,
    Section,
    SignatureItem,
    Table,
    digest_signatures,
    format_cell,
)
from .html_assets import SCRIPT, STYLE, TEMPLATE, csp

__all__ = ["Section", "Table", "FigureItem", "Report", "render_report", "render_html", "write_report",
           "write_html", "figure_png", "figure_svg", "figure_image", "CSP", "SVG_LIMIT", "PX_PER_INCH"]

CSP = csp()
#: An SVG larger than this (bytes) is replaced by a 2x PNG when that is smaller (dense heatmaps).
SVG_LIMIT = 350_000
#: CSS pixels per figure inch: the ``<img>`` size, which the figures' legibility checks assume.
PX_PER_INCH = 100
#: Text columns whose longest cell has at most this many characters are not wrapped.
SHORT_TEXT = 80


def _quiet_savefig(figure: Any, buffer: io.BytesIO, **options: Any) -> None:
    import warnings

    with warnings.catch_warnings():
        # a glyph missing from every font is drawn as a box; the PDF report says which code point
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, **options)


def figure_png(figure: Any, *, dpi: int = 100) -> bytes:
    """A figure as PNG bytes (glyphs missing from the font are drawn as boxes, without warnings)."""
    buffer = io.BytesIO()
    _quiet_savefig(figure, buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def figure_svg(figure: Any) -> bytes:
    """A figure as SVG bytes, the same for the same figure: text drawn as paths (every script
    looks as in the PNG, whatever fonts the reader has), no date, fixed element ids."""
    import matplotlib

    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "tokbench"}):
        _quiet_savefig(figure, buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def figure_image(figure: Any, *, svg_limit: int = SVG_LIMIT) -> tuple[str, bytes]:
    """``(mime type, bytes)`` for the report: SVG, or a 2x PNG when the SVG passes ``svg_limit``
    bytes and the PNG is smaller.

    Example:
        >>> from tokbench.reports.style import empty_figure
        >>> figure_image(empty_figure("t", "nothing"))[0]
        'image/svg+xml'
    """
    svg = figure_svg(figure)
    if len(svg) > svg_limit:
        png = figure_png(figure, dpi=2 * PX_PER_INCH)
        if len(png) < len(svg):
            return "image/png", png
    return "image/svg+xml", svg


def _sort_key(v: float | None) -> str | None:
    """The ``data-v`` text of a cell: ``None`` for text, ``NaN`` for a missing value, else a
    number JavaScript's parseFloat reads back exactly (``Infinity`` included)."""
    if v is None:
        return None
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(float(v))


def _table(t: Table) -> dict[str, Any]:
    """Rows of ``(shown text, data-v key, td class)`` and columns of ``(name, "num" | "text")``:
    a column is numeric when every cell has a number or is missing."""
    frame = t.shown()
    note = t.note
    if len(frame) > t.max_rows:
        extra = f"first {t.max_rows:,} of {len(frame):,} rows shown"
        note = f"{note} ({extra})" if note else extra
        frame = frame.head(t.max_rows)
    cells = [[format_cell(v) for v in row] for row in frame.itertuples(index=False)]
    numeric = [bool(cells) and all(r[i][1] is not None for r in cells) for i in range(len(frame.columns))]
    # short text (names, codes) stays on one line, the wrapper scrolls; long text wraps
    short = [max((len(r[i][0]) for r in cells), default=0) <= SHORT_TEXT for i in range(len(frame.columns))]
    rows = []
    for r in cells:
        row = []
        for i, (shown, v) in enumerate(r):
            missing = v is not None and math.isnan(v)
            kind = "" if numeric[i] else ("t s" if short[i] else "t")
            cls = " ".join(c for c in (kind, "na" if missing else "") if c)
            row.append((shown, _sort_key(v), cls))
        rows.append(row)
    return {"title": t.title, "note": note, "whole": t.whole, "rows": rows,
            "columns": [(str(c), "num" if numeric[i] else "text") for i, c in enumerate(frame.columns)]}


def _signatures(items: list[SignatureItem]) -> dict[str, Any]:
    """One collapsed block: the shared part once, then tokenizers and analysis settings as tables."""
    import json

    import pandas as pd

    digest = digest_signatures(items)
    n_tok = len(digest.tokenizers)
    summary = (f"{digest.count} result signatures: {n_tok} tokenizer(s), {len(digest.corpora)} corpus "
               "signature(s)"
               if digest.count else f"{len(items)} signature(s)")
    return {
        "summary": summary, "count": digest.count, "short": digest.shared_short(),
        "corpora": [(label, json.dumps(full, indent=1, ensure_ascii=False, default=str, sort_keys=True))
                    for label, full in digest.corpora.items()],
        "others": [{"name": s.name, "short": s.short, "full": s.full_text() if s.full else ""} for s in digest.others],
        "tokenizers": _table(Table("Tokenizers", pd.DataFrame(
            digest.tokenizers, columns=["tokenizer", "fingerprint", "analyses"]), whole=True)),
        "settings": _table(Table("Analysis settings", pd.DataFrame(
            digest.settings, columns=["analysis", "tokenizers", "corpus", "settings"]), whole=True)),
    }


def _figure(item: FigureItem) -> dict[str, Any]:
    mime, data = figure_image(item.figure)
    width, height = (int(round(x * PX_PER_INCH)) for x in item.figure.get_size_inches())
    return {"caption": item.caption, "mime": mime, "data": base64.b64encode(data).decode("ascii"),
            "width": width, "height": height}


def _card(card: Card) -> dict[str, Any]:
    status = str(card.status or "ok")
    # the class is one of a fixed few, never the (untrusted) status text itself
    status_class = status if status in ("failed", "skipped") else "failed"
    return {"title": card.title, "headline": card.headline, "status": status, "status_class": status_class,
            "facts": [(str(label), str(value)) for label, value in card.facts],
            "findings": [str(f) for f in card.findings]}


def _nav(report: Report, sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contents bar's links, in page order; failed sections and items are marked."""
    links = []
    if report.summary:
        links.append({"anchor": "summary", "label": "Summary", "bad": False})
    if report.cards:
        links.append({"anchor": "tokenizers-at-a-glance", "label": "Tokenizers at a glance", "bad": False})
    if report.failures:
        links.append({"anchor": "failures", "label": f"Failed items ({len(report.failures)})", "bad": True})
    links += [{"anchor": s["anchor"], "label": s["title"] + ("" if s["status"] == "ok" else f" ({s['status']})"),
               "bad": s["status"] == "failed"} for s in sections]
    links.append({"anchor": "signatures", "label": "Signatures", "bad": False})
    return links


def render_html(report: Report) -> str:
    """The HTML text of a :class:`~tokbench.reports.document.Report`."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    sections = [
        {"title": s.title, "explanation": s.explanation, "status": s.status, "notes": s.notes,
         "anchor": f"section-{i + 1}", "tables": [_table(t) for t in s.tables],
         "figures": [_figure(f) for f in s.figures]}
        for i, s in enumerate(report.sections)
    ]
    # The style sheet and script are trusted constant text (allowed by hash in the CSP); Markup
    # keeps autoescape from changing a byte of them, which would break the hashes.
    markup = jinja2.utils.markupsafe.Markup
    return env.from_string(TEMPLATE).render(
        title=report.title, generated=report.generated, summary=report.summary, failures=report.failures,
        cards=[_card(c) for c in report.cards], nav=_nav(report, sections), sections=sections,
        sigs=_signatures(report.signatures), csp=CSP, style=markup(STYLE), script=markup(SCRIPT))


def render_report(title: str, sections: list[Section], signatures: dict[str, str] | list[SignatureItem],
                  *, summary: list[str] | None = None) -> str:
    """The report's HTML text (the first renderer's call form: signatures as name → short text)."""
    items = (list(signatures) if isinstance(signatures, list)
             else [SignatureItem(str(k), str(v)) for k, v in signatures.items()])
    return render_html(Report(title, sections, summary=list(summary or []), signatures=items))


def write_html(report: Report, path: str | Path) -> Path:
    """Render and write atomically; returns the path."""
    from .._io import atomic_write

    text = render_html(report)
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)


def write_report(path: str | Path, title: str, sections: list[Section], signatures: dict[str, str],
                 *, summary: list[str] | None = None) -> Path:
    """Render and write atomically; returns the path."""
    from .._io import atomic_write

    text = render_report(title, sections, signatures, summary=summary)
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)
