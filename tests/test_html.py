"""The HTML renderer without a browser: cards, contents bar, sortable tables, figures, policy.

One small real audit (gpt2 on three sample languages) gives a report as the audit builds it;
hand-made reports cover what an audit rarely produces (failed cards, hostile card text, missing
and infinite numbers). The browser-side behaviour (layout, sorting, no overflow) is checked in
tests/test_browser_report.py.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pandas as pd
import pytest
from markupsafe import escape

from tokbench.reports import figures as F
from tokbench.reports.document import Card, FigureItem, Report, Section, Table
from tokbench.reports.html import CSP, PX_PER_INCH, figure_image, figure_svg, render_html

HOSTILE = '"><img src=x onerror="window.__pwned=1"><script>alert(1)</script>'


class _Tree(HTMLParser):
    """Start tags with their attributes, in document order, and the text under each id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())]


@pytest.fixture(scope="module")
def audited(tokenizer_dir):
    from tokbench.audit import audit

    result = audit([tokenizer_dir / "gpt2"], corpus="sample:eng_Latn,hin_Deva,zho_Hans",
                   analyses=["coverage", "compression"], n_bootstrap=0, progress=False)
    report = result.report()
    return result, report, render_html(report)


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_policy_allows_exactly_the_inline_style_and_script(audited) -> None:
    _, _, html = audited
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(styles) == 1 and len(scripts) == 1 and html.count("<script") == 1
    policy = dict(part.strip().split(" ", 1) for part in CSP.split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data:"
    assert policy["style-src"] == _sha(styles[0]) and policy["script-src"] == _sha(scripts[0])
    assert f'content="{CSP}"' in html_lib.unescape(html)
    assert " style=" not in html  # an inline style attribute would be refused by the policy


def test_real_audit_figures_are_svg_at_their_natural_size(audited) -> None:
    _, report, html = audited
    figures = [f.figure for s in report.sections for f in s.figures]
    imgs = _Tree(html).find("img")
    assert len(imgs) == len(figures) >= 2
    for fig, img in zip(figures, imgs, strict=True):
        src = img["src"] or ""
        assert src.startswith("data:image/svg+xml;base64,")
        root = ET.fromstring(base64.b64decode(src.split(",", 1)[1]))
        assert root.tag.endswith("svg")
        assert not any(el.tag.endswith("script") or "foreignObject" in el.tag for el in root.iter())
        width, height = fig.get_size_inches()
        assert img["width"] == str(round(width * PX_PER_INCH)) and img["height"] == str(round(height * PX_PER_INCH))
        # the SVG's own size (pt) has the figure's aspect ratio, so width/height attributes do not distort it
        svg_w, svg_h = (float(root.get(k, "0").removesuffix("pt")) for k in ("width", "height"))
        assert svg_w / svg_h == pytest.approx(width / height, rel=1e-3)
    assert figure_svg(figures[0]) == figure_svg(figures[0])  # no date, fixed ids: the same bytes


def test_real_audit_has_cards_contents_and_sortable_tables(audited) -> None:
    result, report, html = audited
    tree = _Tree(html)
    assert report.cards and len(tree.find("article")) == len(report.cards)
    assert html.index('id="summary"') < html.index('id="tokenizers-at-a-glance"') < html.index('id="section-1"')
    for card in report.cards:
        assert f"<h3>{escape(card.title)}" in html
        for label, value in card.facts:
            assert f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" in html
    ids = {a["id"] for _, a in tree.tags if a.get("id")}
    links = [a["href"] for a in tree.find("a") if (a.get("href") or "").startswith("#")]
    assert {"#summary", "#tokenizers-at-a-glance", "#signatures"} <= set(links)
    assert all(h[1:] in ids for h in links)  # every contents link has its target
    assert len([h for h in links if h.startswith("#section-")]) == len(report.sections)
    headers = tree.find("th")
    assert headers and all(h.get("aria-sort") == "none" and h.get("data-type") in ("num", "text") for h in headers)
    assert len(re.findall(r"<th[ >]", html)) == len(re.findall(r'scope="col"><button type="button"', html)) == len(headers)  # every header is a button
    # numeric cells keep their sort key; the compression table's numbers read back exactly
    comp = result.to_frames()["compression"]
    keys = {float(m) for m in re.findall(r'data-v="([^"]+)"', html) if m not in ("NaN",)}
    assert {float(v) for v in comp.select_dtypes("float").iloc[:, 0].dropna()} <= keys


def _table_report(frame: pd.DataFrame) -> str:
    return render_html(Report("R", [Section("S", "e", tables=[Table("T", frame)])]))


def test_sort_keys_and_column_types() -> None:
    frame = pd.DataFrame({"name": ["a", None, "a very long vocabulary entry " * 3],
                          "x": [1.5, float("nan"), float("inf")], "n": [3, 1, 2], "ok": [True, False, True],
                          "code": ["eng_Latn", "hin_Deva", "zho_Hans"]})
    tree = _Tree(_table_report(frame))
    types = [h["data-type"] for h in tree.find("th")]
    assert types == ["text", "num", "num", "text", "text"]
    cells = tree.find("td")
    rows = [cells[i:i + 5] for i in range(0, len(cells), 5)]
    assert [r[1].get("data-v") for r in rows] == ["1.5", "NaN", "Infinity"]  # parseFloat reads these back
    assert [r[2].get("data-v") for r in rows] == ["3.0", "1.0", "2.0"]
    assert [r[0].get("data-v") for r in rows] == [None, "NaN", None]  # text sorts by its text; missing last
    assert rows[1][0]["class"] == "t na" and rows[1][1]["class"] == "na"
    assert all(r[3].get("data-v") is None for r in rows)
    assert rows[0][4]["class"] == "t s" and rows[0][0]["class"] == "t"  # short codes on one line; long text wraps


def test_cards_are_escaped_and_failed_ones_marked() -> None:
    cards = [Card(HOSTILE, f"kind {HOSTILE}", [(f"label {HOSTILE}", f"value {HOSTILE}")], [f"finding {HOSTILE}"]),
             Card("missing.model", "could not be loaded", [], ["FileNotFoundError: no such file"], status="failed"),
             Card("odd", "", [], [], status=HOSTILE)]
    html = render_html(Report("R", [], summary=["s"], cards=cards))
    assert HOSTILE not in html and "<script>alert" not in html and html.count("<script") == 1
    assert html.count(str(escape(HOSTILE))) == 6  # title, headline, label, value, finding, status badge
    tree = _Tree(html)
    classes = [a["class"] for a in tree.find("article")]
    assert classes == ["card", "card failed", "card failed"]  # an unknown status is shown as a failure
    assert tree.find("span", class_="badge") and html.count('class="badge"') == 2
    assert "FileNotFoundError: no such file" in html


def test_no_cards_no_cards_section() -> None:
    html = render_html(Report("R", [Section("S", "e", tables=[Table("T", pd.DataFrame({"n": [1]}))])]))
    assert "tokenizers-at-a-glance" not in html and "<article" not in html
    assert 'href="#section-1"' in html and 'href="#signatures"' in html


def test_large_svg_falls_back_to_a_2x_png() -> None:
    """A figure with many marks (a dense scatter) is smaller as pixels than as vectors."""
    import io

    import numpy as np
    from PIL import Image

    from tokbench.reports.style import new_figure

    fig = new_figure(6, 4)
    xy = np.random.default_rng(0).normal(size=(2, 20_000))
    fig.add_subplot().scatter(*xy, s=2)
    mime, data = figure_image(fig)
    assert mime == "image/png" and data.startswith(b"\x89PNG") and len(data) < len(figure_svg(fig))
    assert Image.open(io.BytesIO(data)).size[0] == round(6 * 2 * PX_PER_INCH)  # twice the shown pixels
    small = F.coverage_classes_figure(pd.DataFrame([{"tokenizer": "t", "bytes": 50.0, "unused": 50.0}]))
    html = render_html(Report("R", [Section("S", "e", figures=[FigureItem("cap", small), FigureItem("dense", fig)])]))
    assert html.count('<img src="data:image/svg+xml;base64,') == 1 and html.count('<img src="data:image/png;base64,') == 1
