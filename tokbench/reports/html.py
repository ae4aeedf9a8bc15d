"""A self-contained HTML report: titled sections of explained tables, and the signatures.

Every value shown is escaped (jinja2 autoescape), because vocabulary entries and corpus text
are untrusted: a tokenizer may contain a token such as ``<script>``. The page makes no network
requests (inline CSS, no scripts) and is written atomically.

Example:
    >>> import pandas as pd
    >>> html = render_report("Demo", [Section("Sizes", "Rows per file.", pd.DataFrame({"n": [1]}))], {})
    >>> "<table" in html and "Sizes" in html
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Section", "render_report", "write_report"]

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ title }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:right;font-variant-numeric:tabular-nums}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.sig{font-family:monospace;font-size:.85rem;white-space:pre-wrap;background:#f8f8f8;padding:.5rem}
.summary{background:#eef5ff;padding:.75rem 1rem;border-radius:4px}
</style></head><body>
<h1>{{ title }}</h1>
{% if summary %}<div class="summary">{% for line in summary %}<p>{{ line }}</p>{% endfor %}</div>{% endif %}
{% for section in sections %}
<h2>{{ section.title }}</h2>
<p>{{ section.explanation }}</p>
<table>
<thead><tr>{% for col in section.columns %}<th>{{ col }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in section.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
{% endfor %}
<h2>Signatures</h2>
{% for name, sig in signatures.items() %}<p><b>{{ name }}</b></p><div class="sig">{{ sig }}</div>{% endfor %}
</body></html>
"""


@dataclass(frozen=True)
class Section:
    """One analysis: a title, two or three sentences on what it means, and its table."""

    title: str
    explanation: str
    table: Any  # pandas.DataFrame


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_report(title: str, sections: list[Section], signatures: dict[str, str],
                  *, summary: list[str] | None = None) -> str:
    """The report's HTML text."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    rendered = [
        {
            "title": s.title,
            "explanation": s.explanation,
            "columns": [str(c) for c in s.table.columns],
            "rows": [[_cell(v) for v in row] for row in s.table.itertuples(index=False)],
        }
        for s in sections
    ]
    return env.from_string(_TEMPLATE).render(title=title, sections=rendered, signatures=signatures,
                                             summary=summary or [])


def write_report(path: str | Path, title: str, sections: list[Section], signatures: dict[str, str],
                 *, summary: list[str] | None = None) -> Path:
    """Render and write atomically; returns the path."""
    from .._io import atomic_write

    text = render_report(title, sections, signatures, summary=summary)
    with atomic_write(path) as handle:
        handle.write(text)
    return Path(path)
