"""The HTML report's fixed parts: its style sheet, its one script and its jinja2 template.

Kept apart from :mod:`tokbench.reports.html` (which fills the template) so the renderer reads
as code. The style sheet and the script are constant text: :func:`csp` allows exactly these two
by their sha256 hashes, so nothing else can run or restyle the page, and forbids every network
request (``default-src 'none'``; images only from ``data:`` URIs, which is how figures are
inlined).

Layout: a sticky contents bar (one line that scrolls sideways inside itself on narrow
screens), the summary, a grid of per-tokenizer cards, then the sections. Figures are shown at
their natural width and never wider than the column (``max-width:100%``); wide tables scroll
inside their own wrapper, so the page itself never scrolls sideways.

Example:
    >>> "default-src 'none'" in csp() and "sha256-" in csp()
    True
"""

from __future__ import annotations

import base64
import hashlib

__all__ = ["STYLE", "SCRIPT", "TEMPLATE", "csp"]

STYLE = """
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;scroll-padding-top:3.8rem}
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans",sans-serif;margin:0;color:#1f2328;line-height:1.5;
 overflow-wrap:break-word;background:#fff}
.page{max-width:80rem;margin:0 auto;padding:0 1rem 3rem}
a{color:#0b5cad} a:focus-visible,button:focus-visible{outline:2px solid #0b5cad;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0} .skip:focus{left:1rem;background:#fff;padding:.3rem .6rem;z-index:10}
header.title{padding:1.6rem 0 .6rem} h1{margin:0 0 .2rem;font-size:1.9rem;line-height:1.2}
.generated{color:#59636e;font-size:.9rem;margin:0}
h2{font-size:1.45rem;margin:2.2rem 0 .6rem;padding-bottom:.25rem;border-bottom:1px solid #d8dee4}
h3{font-size:1.1rem;margin:1.4rem 0 .4rem}
nav.toc{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid #d8dee4;
 margin:0 -1rem;padding:0 1rem}
nav.toc ol{display:flex;gap:.2rem .1rem;margin:0;padding:.45rem 0;list-style:none;overflow-x:auto;white-space:nowrap;
 scrollbar-width:thin}
nav.toc a{display:block;padding:.2rem .55rem;border-radius:999px;text-decoration:none;font-size:.9rem;color:#31383f}
nav.toc a:hover{background:#eef2f6} nav.toc a[aria-current=true]{background:#0b5cad;color:#fff}
nav.toc a.bad{color:#b42318} nav.toc a.bad[aria-current=true]{background:#b42318;color:#fff}
.summary{background:#eef5ff;border:1px solid #cfe0f6;padding:.2rem 1.2rem .5rem;border-radius:8px;margin-top:1.2rem}
.summary h2{border:0;margin-top:.8rem} .summary p{margin:.5rem 0;max-width:62rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,26rem),1fr));gap:1rem;margin:.8rem 0}
.card{border:1px solid #d8dee4;border-top:4px solid #0b5cad;border-radius:8px;padding:.7rem 1rem .8rem;
 background:#fbfcfd;min-width:0;container-type:inline-size}
.card h3{margin:0 0 .15rem;font-size:1.08rem;overflow-wrap:anywhere}
.card .headline{margin:0 0 .6rem;color:#444c56;font-size:.92rem}
.card dl{display:grid;grid-template-columns:minmax(6rem,10rem) 1fr;gap:.25rem .9rem;margin:0 0 .5rem;font-size:.9rem}
.card dt{color:#59636e} .card dd{margin:0;font-variant-numeric:tabular-nums}
@container (max-width:22rem){.card dl{grid-template-columns:1fr;gap:0} .card dd{margin-bottom:.3rem}}
.card ul{margin:.4rem 0 0;padding-left:1.1rem;font-size:.9rem} .card li{margin:.2rem 0}
.card.failed,.card.skipped{border-top-color:#b42318;background:#fff6f5}
.card.skipped{border-top-color:#8c959f;background:#f6f8fa}
.badge{display:inline-block;margin-left:.5rem;padding:0 .45rem;border-radius:999px;font-size:.72rem;
 font-weight:700;letter-spacing:.04em;text-transform:uppercase;vertical-align:middle;background:#b42318;color:#fff}
.skipped .badge{background:#6e7781}
.failures{background:#fff6f5;border-left:4px solid #b42318;padding:.2rem 1rem .5rem;margin-top:1.2rem;border-radius:4px}
.failures h2{border:0;margin-top:.6rem;color:#b42318}
.intro{max-width:62rem} .notes{color:#444c56;font-size:.9rem;max-width:62rem}
.status-failed>h2{color:#b42318} .status-skipped>h2{color:#6e7781}
figure{margin:1rem 0 1.6rem} .figwrap{overflow-x:auto}
figure img{display:block;max-width:100%;height:auto;border:1px solid #eaeef2;background:#fff} figure.full img{max-width:none}
button.zoom{display:block;margin:0 0 .3rem auto;font:inherit;font-size:.8rem;padding:.1rem .6rem;
 border:1px solid #b6c2cf;border-radius:999px;background:#fff;color:#0b5cad;cursor:pointer} button.zoom[hidden]{display:none}
figcaption{color:#444c56;font-size:.9rem;margin-top:.35rem;max-width:62rem}
.tablewrap{width:fit-content;max-width:100%;max-height:34rem;overflow:auto;margin:.4rem 0 1.2rem;border:1px solid #d8dee4;border-radius:4px}
.tablewrap.whole{max-height:none}
table{border-collapse:separate;border-spacing:0;font-size:.86rem}
th,td{border-right:1px solid #eaeef2;border-bottom:1px solid #eaeef2;padding:.22rem .55rem;text-align:right;
 font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even) td{background:#f8fafc} tbody tr:hover td{background:#eef5ff}
th{background:#eef1f4;position:sticky;top:0;z-index:1;padding:0;vertical-align:bottom}
th button{all:unset;box-sizing:border-box;display:flex;justify-content:flex-end;align-items:baseline;gap:.3rem;
 width:100%;padding:.3rem .55rem;cursor:pointer;font-weight:600}
th.t button{justify-content:flex-start} th button:hover{background:#e1e7ed}
th button:focus-visible{outline:2px solid #0b5cad;outline-offset:-2px}
th .arrow::after{content:"\\2195";color:#8c959f;font-size:.8em}
th[aria-sort=ascending] .arrow::after{content:"\\25B2";color:#0b5cad}
th[aria-sort=descending] .arrow::after{content:"\\25BC";color:#0b5cad}
td.t,th.t{text-align:left} td.t{white-space:pre-wrap;min-width:18rem;max-width:36rem} td.s{white-space:nowrap;min-width:0}
td.na{color:#8c959f}
details.sigs>summary{cursor:pointer;font-weight:600}
.sig{font-family:ui-monospace,"Noto Sans Mono",monospace;font-size:.8rem;white-space:pre-wrap;overflow-wrap:anywhere;
 background:#f6f8fa;padding:.5rem;border-radius:4px}
@media (min-width:1000px){nav.toc ol{flex-wrap:wrap;overflow-x:visible;white-space:normal} html{scroll-padding-top:5.6rem}}
@media (max-width:700px){h1{font-size:1.5rem} .page{padding:0 .7rem 2rem} nav.toc{margin:0 -.7rem;padding:0 .7rem}}
@media print{nav.toc,.skip,button.zoom{display:none} .tablewrap{max-height:none;overflow:visible} section{break-inside:auto}}
"""

# Sorts a table by the clicked header (a <button>, so Enter and Space work too): numbers by
# their data-v key, text by a locale- and digit-aware collator, missing values (data-v="NaN")
# last in both directions, ties in their current order. Then marks the contents link of the
# section being read, and lets a figure shrunk to a narrow window be seen at full size. No
# network, no eval, no innerHTML.
SCRIPT = """
(function () {
  'use strict';
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: 'base'});
  function key(row, col, numeric) {
    var cell = row.cells[col];
    var v = cell ? cell.getAttribute('data-v') : 'NaN';
    if (v === 'NaN') { return null; }
    if (numeric) { var x = parseFloat(v); return isNaN(x) ? null : x; }
    return cell.textContent;
  }
  function sortBy(table, th, col) {
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    var numeric = th.getAttribute('data-type') === 'num';
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (r, i) { return [key(r, col, numeric), i, r]; });
    rows.sort(function (a, b) {
      if (a[0] === null || b[0] === null) {
        return a[0] === b[0] ? a[1] - b[1] : (a[0] === null ? 1 : -1);
      }
      var d = numeric ? a[0] - b[0] : collator.compare(a[0], b[0]);
      return (asc ? d : -d) || a[1] - b[1];
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r[2]); });
    body.appendChild(frag);
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener('click', function () { sortBy(table, th, col); });
    });
  });
  // Figures shrunk to fit a narrow window get a "full size" button: the figure then keeps its
  // natural size and scrolls sideways inside its own box.
  var figures = Array.prototype.slice.call(document.querySelectorAll('figure'));
  function fitButtons() {
    figures.forEach(function (f) {
      var img = f.querySelector('img'), btn = f.querySelector('button.zoom');
      var shrunk = f.querySelector('.figwrap').clientWidth < (parseFloat(img.getAttribute('width')) || 0) - 1;
      btn.hidden = !shrunk && !f.classList.contains('full');
    });
  }
  figures.forEach(function (f) {
    var btn = f.querySelector('button.zoom');
    if (!btn || !f.querySelector('img')) { return; }
    btn.addEventListener('click', function () {
      var full = f.classList.toggle('full');
      btn.setAttribute('aria-pressed', full ? 'true' : 'false');
      btn.textContent = full ? 'fit to width' : 'full size';
    });
  });
  figures = figures.filter(function (f) { return f.querySelector('button.zoom') && f.querySelector('img'); });
  // The contents link of the section being read: the last one whose top passed 30 % of the
  // window, or at the very bottom the last one on screen.
  var links = Array.prototype.slice.call(document.querySelectorAll('nav.toc a[href^="#"]'));
  var targets = links.map(function (a) { return document.getElementById(a.getAttribute('href').slice(1)); });
  function markCurrent() {
    var pick = -1, line = window.innerHeight * 0.3;
    var atEnd = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2;
    targets.forEach(function (t, i) {
      if (!t) { return; }
      var top = t.getBoundingClientRect().top;
      if (top <= line || (atEnd && top < window.innerHeight)) { pick = i; }
    });
    links.forEach(function (a, i) {
      if (i === pick) {
        if (a.getAttribute('aria-current') === 'true') { return; }
        a.setAttribute('aria-current', 'true');
        var bar = a.parentNode.parentNode;
        if (a.offsetLeft < bar.scrollLeft || a.offsetLeft + a.offsetWidth > bar.scrollLeft + bar.clientWidth) {
          bar.scrollLeft = a.offsetLeft - 16;
        }
      } else { a.removeAttribute('aria-current'); }
    });
  }
  // A link followed lands its heading just below the contents bar, however many lines it wraps to.
  var nav = document.querySelector('nav.toc');
  function padTop() {
    if (nav) { document.documentElement.style.scrollPaddingTop = (nav.offsetHeight + 8) + 'px'; }
  }
  var queued = false;
  function update(event) {
    if (queued) { return; }
    queued = true;
    window.requestAnimationFrame(function () {
      queued = false;
      if (event && event.type === 'resize') { padTop(); fitButtons(); }
      markCurrent();
    });
  }
  window.addEventListener('scroll', update, {passive: true});
  window.addEventListener('resize', update);
  padTop();
  markCurrent();
  fitButtons();
})();
"""


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def csp() -> str:
    """The Content-Security-Policy: no network, only the report's own style and script."""
    return (f"default-src 'none'; img-src data:; style-src {_sha256(STYLE)}; script-src {_sha256(SCRIPT)}; "
            "base-uri 'none'; form-action 'none'")


TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{ csp }}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>{{ title }}</title>
<style>{{ style }}</style></head><body>
<a class="skip" href="#main">Skip to the report</a>
{% macro table(t) %}{% if t.note %}<p class="notes">{{ t.note }}</p>{% endif %}
<div class="tablewrap{{ ' whole' if t.whole else '' }}"><table class="sortable">
<thead><tr>{% for col, kind in t.columns %}<th class="{{ 't' if kind == 'text' else 'n' }}" data-type="{{ kind }}" aria-sort="none" scope="col"><button type="button" title="sort by {{ col }}">{{ col }}<span class="arrow" aria-hidden="true"></span></button></th>{% endfor %}</tr></thead>
<tbody>{% for row in t.rows %}<tr>{% for shown, v, cls in row %}<td{% if cls %} class="{{ cls }}"{% endif %}{% if v is not none %} data-v="{{ v }}"{% endif %}>{{ shown }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table></div>{% endmacro %}
<div class="page">
<header class="title"><h1>{{ title }}</h1>
{% if generated %}<p class="generated">{{ generated }}</p>{% endif %}</header>
<nav class="toc" aria-label="Contents"><ol>
{% for link in nav %}<li><a href="#{{ link.anchor }}"{% if link.bad %} class="bad"{% endif %}>{{ link.label }}</a></li>
{% endfor %}</ol></nav>
<main id="main">
{% if summary %}<section class="summary" id="summary"><h2>Summary</h2>{% for line in summary %}<p>{{ line }}</p>{% endfor %}</section>{% endif %}
{% if cards %}<section id="tokenizers-at-a-glance"><h2>Tokenizers at a glance</h2>
<div class="cards">{% for c in cards %}
<article class="card{{ '' if c.status == 'ok' else ' ' ~ c.status_class }}">
<h3>{{ c.title }}{% if c.status != 'ok' %}<span class="badge">{{ c.status }}</span>{% endif %}</h3>
{% if c.headline %}<p class="headline">{{ c.headline }}</p>{% endif %}
{% if c.facts %}<dl>{% for label, value in c.facts %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}</dl>{% endif %}
{% if c.findings %}<ul>{% for f in c.findings %}<li>{{ f }}</li>{% endfor %}</ul>{% endif %}
</article>{% endfor %}
</div></section>{% endif %}
{% if failures %}<section class="failures" id="failures"><h2>Failed items</h2><ul>{% for f in failures %}<li>{{ f }}</li>{% endfor %}</ul></section>{% endif %}
{% for s in sections %}
<section class="status-{{ s.status }}" id="{{ s.anchor }}">
<h2>{{ s.title }}{% if s.status != 'ok' %} — {{ s.status }}{% endif %}</h2>
<p class="intro">{{ s.explanation }}</p>
{% if s.notes %}<ul class="notes">{% for n in s.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
{% for f in s.figures %}<figure><button type="button" class="zoom" aria-pressed="false" hidden>full size</button><div class="figwrap"><img src="data:{{ f.mime }};base64,{{ f.data }}" alt="{{ f.caption }}" width="{{ f.width }}" height="{{ f.height }}" decoding="async"></div><figcaption>{{ f.caption }}</figcaption></figure>
{% endfor %}
{% for t in s.tables %}<h3>{{ t.title }}</h3>{{ table(t) }}
{% endfor %}
</section>
{% endfor %}
<section id="signatures"><h2>Signatures</h2>
<p class="intro">What makes each number reproducible: tokenizer fingerprints (sha256 of the file), the corpus (id, sizes, content hash, sample and seed), the analysis seed and the tokbench version.</p>
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
</main>
</div>
<script>{{ script }}</script>
</body></html>
"""
