"""A self-contained HTML report: a summary, a section per analysis with its explanation,
sortable tables and inline figures, and the signatures of the results in one collapsed section
(each corpus and setting said once, a row per tokenizer: see
:func:`~tokbench.reports.document.digest_signatures`).

Vocabulary entries, tokenizer names and corpus text are untrusted: a tokenizer may contain a
token such as ``<script>`` or ``"><img onerror=…>``. Every value goes through jinja2's
autoescaping; figures are inline base64 PNGs; the only script (click a column header to sort)
is inline and allowed by its sha256 hash in a Content-Security-Policy that forbids every network
request (``default-src 'none'``), so even an escaping bug could not run injected script or
fetch anything. The file is written atomically.

Example:
    >>> import pandas as pd
    >>> html = render_report("Demo", [Section("Sizes", "Rows per file.", pd.DataFrame({"n": [1]}))], {})
    >>> "<table" in html and "Sizes" in html
    True
"""

from __future__ import annotations

import base64
import hashlib
import io
from pathlib import Path
from typing import Any

from .document import (
    FigureItem,
    Report,
    Section,
    SignatureItem,
    Table,
    digest_signatures,
    format_cell,
)

__all__ = ["Section", "Table", "FigureItem", "Report", "render_report", "render_html", "write_report",
           "write_html", "figure_png"]

# Sorts a table by the clicked header; numbers by their data-v value. No network, no eval.
_SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (row) {
        var cell = row.cells[col];
        var v = cell.getAttribute('data-v');
        return v === null ? cell.textContent : parseFloat(v);
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === 'number' && typeof y === 'number') {
          if (isNaN(x)) { return 1; } if (isNaN(y)) { return -1; }
          return asc ? x - y : y - x;
        }
        return asc ? String(x).localeCompare(String(y)) : String(y).localeCompare(String(x));
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SORT_SCRIPT.encode()).digest()).decode()
CSP = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; "
       "base-uri 'none'; form-action 'none'")

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:78rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem} .generated{color:#666;font-size:.9rem;margin-top:0}
nav{background:#f7f7f7;padding:.5rem 1rem;border-radius:4px} nav ol{margin:.3rem 0}
.tablewrap{max-height:34rem;overflow:auto;margin:.5rem 0 1.2rem;border:1px solid #ddd}
.tablewrap.whole{max-height:none;overflow-y:visible} details.sigs>summary{cursor:pointer;font-weight:600}
table{border-collapse:collapse;font-size:.86rem}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{background:#f0f0f0;position:sticky;top:0;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"} th[aria-sort=descending]::after{content:" \\25BC"}
td.t,th.t{text-align:left} td.t{white-space:pre-wrap;max-width:32rem;overflow-wrap:break-word}
.sig{font-family:ui-monospace,monospace;font-size:.8rem;white-space:pre-wrap;overflow-wrap:anywhere;background:#f8f8f8;padding:.5rem}
.summary{background:#eef5ff;padding:.6rem 1rem;border-radius:4px}
.failures{background:#fff0f0;border-left:4px solid #c00;padding:.5rem 1rem}
.notes{color:#444;font-size:.9rem} .status-failed h2{color:#b00} .status-skipped h2{color:#777}
figure{margin:1rem 0} figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;font-size:.9rem}
</style></head><body>
{% macro table(t) %}{% if t.note %}<p class="notes">{{ t.note }}</p>{% endif %}
<div class="tablewrap{{ ' whole' if t.whole else '' }}"><table class="sortable">
<thead><tr>{% for col, text in t.columns %}<th class="{{ 't' if text else 'n' }}" title="click to sort">{{ col }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in t.rows %}<tr>{% for shown, v in row %}{% if v is none %}<td class="t">{{ shown }}</td>{% else %}<td data-v="{{ v }}">{{ shown }}</td>{% endif %}{% endfor %}</tr>{% endfor %}</tbody>
</table></div>{% endmacro %}
<h1>{{ title }}</h1>
{% if generated %}<p class="generated">{{ generated }}</p>{% endif %}
{% if summary %}<section class="summary" id="summary"><h2>Summary</h2>{% for line in summary %}<p>{{ line }}</p>{% endfor %}</section>{% endif %}
{% if failures %}<section class="failures" id="failures"><h2>Failed items</h2><ul>{% for f in failures %}<li>{{ f }}</li>{% endfor %}</ul></section>{% endif %}
<nav><b>Contents</b><ol>{% for s in sections %}<li><a href="#{{ s.anchor }}">{{ s.title }}</a>{% if s.status != 'ok' %} ({{ s.status }}){% endif %}</li>{% endfor %}<li><a href="#signatures">Signatures</a></li></ol></nav>
{% for s in sections %}
<section class="status-{{ s.status }}" id="{{ s.anchor }}">
<h2>{{ s.title }}{% if s.status != 'ok' %} — {{ s.status }}{% endif %}</h2>
<p>{{ s.explanation }}</p>
{% if s.notes %}<ul class="notes">{% for n in s.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
{% for f in s.figures %}<figure><img src="data:image/png;base64,{{ f.png }}" alt="{{ f.caption }}" width="{{ f.width }}" height="{{ f.height }}"><figcaption>{{ f.caption }}</figcaption></figure>
{% endfor %}
{% for t in s.tables %}<h3>{{ t.title }}</h3>{{ table(t) }}
{% endfor %}
</section>
{% endfor %}
<section id="signatures"><h2>Signatures</h2>
<p>What makes each number reproducible: tokenizer fingerprints (sha256 of the file), the corpus (id, sizes, content hash, sample and seed), the analysis seed and the tokbench version.</p>
<details class="sigs"><summary>{{ sigs.summary }}</summary>
{% for sig in sigs.others %}<h3>{{ sig.name }}</h3><div class="sig">{{ sig.short }}</div>
{% if sig.full %}<details><summary>full signature</summary><div class="sig">{{ sig.full }}</div></details>{% endif %}
{% endfor %}
{% if sigs.count %}<h3>Shared by all {{ sigs.count }} results</h3><div class="sig">{{ sigs.short }}</div>
<h3>Corpora</h3>{% for label, full in sigs.corpora %}<details><summary>{{ label }}</summary><div class="sig">{{ full }}</div></details>{% endfor %}
<h3>Tokenizers</h3>{{ table(sigs.tokenizers) }}
<h3>Analysis settings</h3>{{ table(sigs.settings) }}{% endif %}
</details>
</section>
<script>{{ script }}</script>
</body></html>
"""


def figure_png(figure: Any, *, dpi: int = 100) -> bytes:
    """A figure as PNG bytes (glyphs missing from the font are drawn as boxes, without warnings)."""
    import warnings

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _table(t: Table) -> dict[str, Any]:
    frame = t.shown()
    note = t.note
    if len(frame) > t.max_rows:
        extra = f"first {t.max_rows:,} of {len(frame):,} rows shown"
        note = f"{note} ({extra})" if note else extra
        frame = frame.head(t.max_rows)
    rows = [[format_cell(v) for v in row] for row in frame.itertuples(index=False)]
    numeric = [all(r[i][1] is not None for r in rows) if rows else False for i in range(len(frame.columns))]
    return {"title": t.title, "note": note, "whole": t.whole, "rows": [[(s, ("NaN" if v is not None and v != v else v)) for s, v in r] for r in rows],
            "columns": [(str(c), not numeric[i]) for i, c in enumerate(frame.columns)]}


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
    data = figure_png(item.figure)
    width, height = (int(round(x * 100)) for x in item.figure.get_size_inches())
    return {"caption": item.caption, "png": base64.b64encode(data).decode("ascii"), "width": width, "height": height}


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
    signatures = _signatures(report.signatures)
    # The script is trusted constant text; Markup keeps autoescape from mangling its quotes.
    return env.from_string(_TEMPLATE).render(
        title=report.title, generated=report.generated, summary=report.summary, failures=report.failures,
        sections=sections, sigs=signatures, csp=CSP, script=jinja2.utils.markupsafe.Markup(_SORT_SCRIPT))


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
