"""The PDF report as a reader gets it: A4 pages, a table of contents whose page numbers are
right, tables that keep every column and every character, real glyphs for every script when
the Noto fonts are installed, and code points (never empty boxes) when no font has a glyph.

Pages are read back with pypdf (page sizes) and poppler's ``pdftotext``/``pdffonts`` (text,
embedded fonts); tests that need poppler skip with the install line when it is missing.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure

from tokbench.reports.document import Card, FigureItem, Report, Section, SignatureItem, Table
from tokbench.reports.pdf import render_pdf, write_pdf
from tokbench.reports.pdf_fonts import plan_fonts, system_fonts

A4 = (595.28, 841.89)  # points
DATA = Path(os.environ.get("TOKBENCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
SCRIPTS = {"tha_Thai": "NotoSansThai", "hin_Deva": "NotoSansDevanagari", "zho_Hans": "NotoSansCJK",
           "mya_Mymr": "NotoSansMyanmar"}

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdffonts") is None,
                                   reason="poppler-utils is not installed (apt-get install -y poppler-utils; "
                                          ".ci/run does this)")


def _render(report: Report, tmp_path: Path) -> tuple[Path, int]:
    with io.BytesIO() as buffer:
        pages = render_pdf(report, buffer)
        data = buffer.getvalue()
    assert data[:5] == b"%PDF-"
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return path, pages


def _page_sizes(path: Path) -> list[tuple[float, float]]:
    from pypdf import PdfReader

    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in PdfReader(path).pages]


def _text(path: Path, first: int | None = None, last: int | None = None, *, layout: bool = False) -> str:
    args = ["pdftotext", *(["-layout"] if layout else [])]
    args += [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _flat(text: str) -> str:
    """Text without whitespace (cells wrap, headers break after '_')."""
    return re.sub(r"\s+", "", text)


def _figure() -> Figure:
    fig = Figure(figsize=(8, 3))
    fig.add_subplot().plot([0, 1, 2], [1, 3, 2])
    return fig


def _long_report(n_sections: int = 6, rows: int = 70) -> Report:
    frame = pd.DataFrame({"language": [f"lang_{i:03d}" for i in range(rows)], "tokens": range(rows),
                          "premium": [1 + i / 100 for i in range(rows)]})
    sections = [Section(f"Section number {k} about premiums", f"What section {k} shows. " * (8 if rows > 10 else 1),
                        tables=[Table(f"Table of section {k}", frame)],
                        figures=[FigureItem(f"Figure of section {k}", _figure())] if k % 2 and k < 6 else [],
                        notes=[f"note {k}"]) for k in range(1, n_sections + 1)]
    cards = [Card(f"tok{i}", "byte-level BPE, 50,257 entries", [("tokens/char", "0.262"), ("worst", "mya_Mymr")],
                  ["Cheapest on English."]) for i in range(3)]
    return Report("A long report", sections, summary=["One finding.", "Another finding."], cards=cards,
                  signatures=[SignatureItem("sig", "tok=abc")], generated="tokbench test")


def test_every_page_is_a4_and_page_count_is_returned(tmp_path) -> None:
    report = _long_report()
    path = write_pdf(report, tmp_path / "report.pdf")
    with io.BytesIO() as buffer:
        pages = render_pdf(report, buffer)
    sizes = _page_sizes(path)
    assert len(sizes) == pages >= 4
    assert all(abs(w - A4[0]) < 0.5 and abs(h - A4[1]) < 0.5 for w, h in sizes), sizes


@needs_poppler
@pytest.mark.parametrize("n_sections", [6, 70])  # 70 entries: the contents run onto a second page
def test_contents_page_numbers_are_where_sections_start(tmp_path, n_sections) -> None:
    report = _long_report(n_sections, rows=70 if n_sections < 10 else 3)
    path, pages = _render(report, tmp_path)
    contents = _text(path, 1, 3, layout=True)
    entries = dict(re.findall(r"^\s*(\d+\. Section number \d+ about premiums|Signatures)\s{2,}(\d+)\s*$",
                              contents, flags=re.M))
    assert len(entries) == n_sections + 1, contents
    page_texts = _text(path).split("\f")[:pages]  # pdftotext ends every page with a form feed
    for name, page in entries.items():
        heading = name if name == "Signatures" else name + "\n"
        first = next(i for i, t in enumerate(page_texts, start=1)
                     if heading in t and not re.search(re.escape(name) + r"\s+\d+\s*$", t, flags=re.M))
        assert int(page) == first, (name, page, first)
    assert "page 1" in page_texts[0] and f"page {pages}" in page_texts[-1]  # footer on every page
    assert all(f"page {i}" in t for i, t in enumerate(page_texts, start=1))
    assert "tok0" in page_texts[0] and "Cheapest on English." in page_texts[0]  # cards on page 1


@needs_poppler
def test_wide_table_keeps_every_header_and_whole_long_cells(tmp_path) -> None:
    columns = [f"measure_{k:02d}_per_language" for k in range(15)]
    long_cell = ("a sentence that is far too long for one narrow column of a fifteen column table, "
                 "kept whole and wrapped over several lines rather than cut at twenty-two characters")
    unbroken = "x" * 90  # one 'word' wider than any column: wraps inside its cell
    rows = [{c: f"value {r}-{k}" for k, c in enumerate(columns)} for r in range(3)]
    rows[1][columns[7]] = long_cell
    rows[2][columns[3]] = unbroken
    report = Report("Wide", [Section("Wide table", "Fifteen columns.", tables=[Table("wide", pd.DataFrame(rows))])])
    path, _ = _render(report, tmp_path)
    text = _text(path)
    assert "\u200b" not in text  # headers break at explicit newlines: they stay searchable
    flat = _flat(text)
    missing = [c for c in columns if c not in flat]
    assert not missing
    assert _flat(long_cell) in flat and unbroken in flat
    assert all(f"value{r}-{k}" in flat for r in range(3) for k in range(15) if (r, k) not in ((1, 7), (2, 3)))
    assert "see the HTML report" not in flat


@needs_poppler
def test_max_rows_is_honoured_and_the_header_repeats_on_each_page(tmp_path) -> None:
    frame = pd.DataFrame({"row_name": [f"row{i:03d}" for i in range(300)], "value": range(300)})
    report = Report("Rows", [Section("Many rows", "Rows.", tables=[Table("rows", frame, max_rows=180)])])
    path, pages = _render(report, tmp_path)
    text = _text(path)
    assert "row179" in text and "row180" not in text
    assert "First 180 of 300 rows shown; 120 rows omitted" in " ".join(text.split())
    table_pages = [p for p in range(1, pages + 1) if "row1" in _text(path, p, p)]
    assert len(table_pages) >= 2
    assert all(_text(path, p, p).count("row_") >= 1 for p in table_pages)  # the header row on each page


def _flores_lines() -> dict[str, str]:
    folder = DATA / "flores200" / "dev"
    if not folder.is_dir():
        pytest.skip(f"FLORES-200 not found under {DATA} (set TOKBENCH_DATA)")
    return {lang: (folder / f"{lang}.dev").read_text(encoding="utf-8").splitlines()[0][:48] for lang in SCRIPTS}


@needs_poppler
def test_non_latin_text_is_drawn_with_noto_glyphs(tmp_path) -> None:
    lines = _flores_lines()
    text = "".join(lines.values())
    plan = plan_fonts(text)
    if plan.missing(text):
        pytest.skip("Noto fonts are not installed (apt-get install -y fonts-noto-core fonts-noto-cjk; "
                    f"{len(plan.missing(text))} characters lack a glyph)")
    tokens = pd.DataFrame({"language": list(lines), "token": [t.split()[0] for t in lines.values()],
                           "sentence": list(lines.values())})
    report = Report("Scripts", [Section("Tokens", "Real FLORES text.", tables=[Table("tokens", tokens)])])
    path, _ = _render(report, tmp_path)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    for lang, family in SCRIPTS.items():
        assert family in fonts, (lang, fonts)
    flat = _flat(_text(path))
    for lang in ("tha_Thai", "hin_Deva", "zho_Hans"):
        assert _flat(lines[lang]) in flat, lang
    # Myanmar's vowel signs are drawn before the consonant, and text extraction returns them in
    # that visual order: check every character came back rather than the order.
    assert set(_flat(lines["mya_Mymr"])) <= set(flat)
    assert "U+" not in flat


@needs_poppler
def test_a_character_no_font_has_prints_its_code_point(tmp_path) -> None:
    odd = "\U0010fffd"  # a private-use code point: no font draws it
    report = Report("Odd", [Section("Tokens", f"odd {odd} here",
                                    tables=[Table("t", pd.DataFrame({"token": [f"ab{odd}cd", "{nb} **x**"]}))])])
    path, _ = _render(report, tmp_path)
    text = _text(path)
    assert "odd U+10FFFD here" in text and "abU+10FFFDcd" in _flat(text)
    assert "{nb}**x**" in _flat(text)  # printed literally: no page-count alias, no markdown
    assert odd not in text


@needs_poppler
def test_without_noto_fonts_scripts_fall_back_to_code_points(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TOKBENCH_NO_SYSTEM_FONTS", "1")
    system_fonts.cache_clear()
    try:
        report = Report("Fallback", [Section("Thai", "ก token")])
        path, _ = _render(report, tmp_path)
    finally:
        system_fonts.cache_clear()
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "DejaVuSans" in fonts and "Noto" not in fonts
    assert "U+0E01 token" in _text(path)


@needs_poppler
def test_empty_and_all_failed_reports_render(tmp_path) -> None:
    path, pages = _render(Report("Empty", []), tmp_path)
    assert pages >= 1 and all(s == pytest.approx(A4, abs=0.5) for s in _page_sizes(path))
    failed = Report("All failed", [Section("Coverage", "Nothing could be measured.", status="failed",
                                           notes=["gpt2: file not found"])],
                    summary=["No tokenizer could be loaded."], failures=["gpt2: file not found", "x: bad rank"],
                    cards=[Card("gpt2", status="failed", findings=["could not be loaded: file not found"])])
    path, pages = _render(failed, tmp_path)
    text = " ".join(_text(path).split())
    assert "Failed items" in text and "x: bad rank" in text and "1. Coverage (failed)" in text
    assert "gpt2 — failed" in text


@needs_poppler
def test_a_cell_taller_than_a_page_is_cut_and_said_so(tmp_path) -> None:
    words = " ".join(f"word{i}" for i in range(3000))  # fpdf2 cannot split one row across pages
    frame = pd.DataFrame({"name": ["long", "short"], "text": [words, "fits"]})
    path, _ = _render(Report("Cut", [Section("S", "e", tables=[Table("t", frame)])]), tmp_path)
    text = " ".join(_text(path).split())
    assert "word0 word1" in text and "fits" in text and "word2999" not in text
    assert "[cut:" in text and "cells longer than a whole page are cut" in text


def test_a_card_longer_than_a_page_still_renders(tmp_path) -> None:
    card = Card("verbose", "a headline", [("k", "v")], [f"finding number {i} " * 6 for i in range(70)])
    path, pages = _render(Report("Cards", [], cards=[card, Card("short")]), tmp_path)
    assert pages >= 2 and len(_page_sizes(path)) == pages


def test_a_figure_taller_than_a_page_continues_at_full_size(tmp_path) -> None:
    """A figure drawn 6 in wide and 30 in tall is not shrunk to fit one page (its text would be
    under 3 pt): it is cut into page-high strips that keep its width, on A4 pages, and the strips
    add up to the whole figure."""
    from tokbench.reports.pdf_figures import figure_strips

    fig = Figure(figsize=(6, 30))
    ax = fig.add_subplot()
    ax.barh(range(120), range(120))
    ax.set_yticks(range(120), [f"lang_{i:03d}" for i in range(120)], fontsize=8)
    strips = figure_strips(fig, width_mm=180, max_height_mm=260)
    assert len(strips) == 3 and all(h <= 260 + 1e-6 for _, h in strips)
    assert min(h for _, h in strips) > 0.6 * max(h for _, h in strips)  # shared evenly: no sliver at the end
    started = figure_strips(fig, width_mm=180, max_height_mm=260, first_height_mm=150)
    assert 120 < started[0][1] <= 150 and sum(h for _, h in started) == pytest.approx(30 * 25.4, abs=0.5)
    assert sum(h for _, h in strips) == pytest.approx(30 * 25.4, abs=0.5)
    path, pages = _render(Report("Tall", [Section("Premiums", "One tall figure.",
                                                  figures=[FigureItem("A tall figure.", fig)])]), tmp_path)
    assert pages >= 4 and all(abs(w - A4[0]) < 0.5 and abs(h - A4[1]) < 0.5 for w, h in _page_sizes(path))
