"""Figures, the HTML and PDF renderers: readable figures, escaping, atomic output, page counts."""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from tokbench.reports import figures as F
from tokbench.reports.document import (
    FigureItem,
    Report,
    Section,
    SignatureItem,
    Table,
    format_cell,
    safe_filename,
    token_text,
)
from tokbench.reports.html import CSP, render_html, render_report
from tokbench.reports.pdf import render_pdf

HOSTILE = ['<script>window.__pwned=1</script>', '"><img src=x onerror="window.__pwned=2">', "$x^2$ & {{ 7*7 }}"]


def _labels(ax) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def _premium_frame(n_languages: int = 200, tokenizers=("a", "b")) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    scripts = ["Latn", "Cyrl", "Arab", "Deva", "Hans", "Ethi"]
    rows = []
    for tok in tokenizers:
        for i in range(n_languages):
            p = 1 + rng.gamma(1.5, 0.4)
            rows.append({"tokenizer": tok, "method": "petrov", "language": f"l{i:03d}_{scripts[i % 6]}",
                         "premium": p, "ci_low": p * 0.95, "ci_high": p * 1.05, "blanked": False})
    return pd.DataFrame(rows)


def test_premiums_figure_200_languages_is_top_k_with_summary() -> None:
    fig = F.premiums_figure(_premium_frame(200), max_languages=40)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    labels = _labels(ax)
    assert len(labels) == 40  # no 200-label axis
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "160 more languages" in texts
    assert ax.get_xlabel() and fig.get_suptitle()
    assert fig.legends and fig.legends[0].get_title().get_text() == "script"
    fig.canvas.draw()  # renders without error


def test_coverage_and_script_figures() -> None:
    from tokbench.metrics.coverage import CLASSES

    row = dict.fromkeys(CLASSES, 100.0 / len(CLASSES))
    cov = pd.DataFrame([{"tokenizer": "a", **row}, {"tokenizer": "<b>", **row}])
    fig = F.coverage_classes_figure(cov)
    assert fig.axes[0].get_xlabel().endswith("(%)")
    scripts = pd.DataFrame({"tokenizer": ["a", "b"], **{f"S{i}": [i, 20 - i] for i in range(20)}})
    fig = F.script_heatmap_figure(scripts, max_scripts=10)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()][-1] == "other scripts"
    for f in (F.coverage_classes_figure(cov), fig):
        f.canvas.draw()


def test_optimal_vocab_figure_on_trained_bpe() -> None:
    """CTC at three vocabulary sizes from tokbench's BPE, a power law CTC = a·v^-b fitted here
    (least squares in log space), drawn with an optimal point per language."""
    from tokbench.corpora import load_sample
    from tokbench.metrics.compression import compression
    from tokbench.reports.optimal_vocab_figures import optimal_vocab_figure
    from tokbench.trainers.bpe import train_bpe

    corpus = load_sample("eng_Latn,rus_Cyrl,hin_Deva")
    rows = []
    for size in (300, 500, 900):
        tok = train_bpe(corpus, vocab_size=size, progress=False).tokenizer
        frame = compression(tok, corpus, word_stats=False).to_frame()
        rows += [{"language": r.category, "vocab_size": size, "ctc": r.ctc, "kind": "grid"} for r in frame.itertuples()]
    data = pd.DataFrame(rows)
    fits = []
    for lang, g in data.groupby("language"):
        slope, log_a = np.polyfit(np.log(g["vocab_size"]), np.log(g["ctc"]), 1)
        fits.append({"language": lang, "a": math.exp(log_a), "b": -slope})
    fits_frame = pd.DataFrame(fits)
    assert (fits_frame["b"] > 0).all()  # bigger vocabularies need fewer tokens
    optimal = fits_frame.assign(vocab_size=700, kind="optimal")
    optimal["ctc"] = optimal["a"] * 700.0 ** -optimal["b"]
    fig = optimal_vocab_figure(pd.concat([data.merge(fits_frame, on="language"), optimal], ignore_index=True))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    assert "vocabulary size" in ax.get_xlabel()
    fig.canvas.draw()


def test_mixture_and_mergefree_and_charbench_figures() -> None:
    mix = pd.DataFrame({"tokenizer": ["t"] * 4, "category": ["en", "fr", "code", "ru"],
                        "true": [0.4, 0.3, 0.2, 0.1], "inferred": [0.38, 0.33, 0.19, 0.1],
                        "proportion": [0.38, 0.33, 0.19, 0.1], "ci_low": [0.35, 0.3, 0.15, 0.05],
                        "ci_high": [0.41, 0.36, 0.23, 0.12]})
    f1 = F.inferred_vs_true_figure(mix)
    f2 = F.mixture_proportions_figure(mix)
    assert "true proportion" in f1.axes[0].get_xlabel()
    assert "%" in f2.axes[0].get_xlabel()
    mf = pd.DataFrame([{"tokenizer": "t", "category": c, "variant": v, "tokens_per_byte": tpb, "relative_to_standard": tpb / 0.3}
                       for c in ("eng_Latn", "python") for v, tpb in (("standard", 0.3), ("greedy", 0.31), ("minimal", 0.29))])
    f3 = F.mergefree_tokens_per_byte_figure(mf)
    f4 = F.mergefree_figure(mf)
    assert _labels(f3.axes[0]) == ["eng_Latn", "python"]
    cb = pd.DataFrame([{"model": "m", "tokenizer": "t", "task": task, "feature": "target_token_chars", "bin": str(b),
                        "accuracy": 0.9 - 0.1 * b, "se": 0.02} for task in ("first_index", "last_index") for b in (1, 2, 3)])
    f5 = F.charbench_target_length_figure(cb)
    assert f5.axes[0].get_xlabel() == "target token length (characters)"
    for f in (f1, f2, f3, f4, f5):
        f.canvas.draw()


def test_safe_filename_and_token_text() -> None:
    for bad in ("../../etc/passwd", "/abs/path", "..", "a/../b", "C:\\x", "\x00evil", ""):
        name = safe_filename(bad)
        assert "/" not in name and "\\" not in name and ".." not in name and name and not name.startswith(".")
    assert token_text(b" a\n\xff") == "␣a\\x0a\\xff"


def _report(tokens=HOSTILE) -> Report:
    frame = pd.DataFrame({"tokenizer": ['evil<b>"name'] * len(tokens), "token": tokens, "n": range(len(tokens)),
                          "x": [0.5, float("nan"), 2.0][: len(tokens)]})
    fig = F.coverage_classes_figure(pd.DataFrame([{"tokenizer": tokens[0], "bytes": 50.0, "unused": 50.0}]))
    return Report("Title <i>x</i>", [Section("S <b>", "explains <u>", tables=[Table("T", frame)],
                                             figures=[FigureItem("cap <script>", fig)], notes=["note <em>"])],
                  summary=["sum <br>"], signatures=[SignatureItem("sig <x>", "tok=<y>", {"k": "<z>"})],
                  failures=["tokenizer <a>: broken"])


def test_html_escapes_everything_and_is_self_contained() -> None:
    html = render_html(_report())
    for raw in HOSTILE + ['evil<b>"name', "<i>x</i>", "<u>", "<em>", "<br>", "<x>", "<script>"]:
        if raw == "<script>":
            assert html.count("<script>") == 1  # only the sort script
            continue
        assert raw not in html, raw
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    import html as html_lib

    assert f'content="{CSP}"' in html_lib.unescape(html) and "default-src 'none'" in CSP
    assert "http://" not in html and "https://" not in html
    assert html.count('<img src="data:image/svg+xml;base64,') == 1
    assert "{{ 7*7 }}" in html  # shown literally, never evaluated as a template


def test_old_render_report_call_form() -> None:
    html = render_report("Demo", [Section("Sizes", "Rows per file.", pd.DataFrame({"n": [1]}))], {"x": "sig"})
    assert "<table" in html and "Sizes" in html and "sig" in html


def test_pdf_has_toc_and_pages() -> None:
    from pypdf import PdfReader

    buffer = io.BytesIO()
    pages = render_pdf(_report(), buffer)
    data = buffer.getvalue()
    reader = PdfReader(io.BytesIO(data))
    # page 1: title, summary, failures, contents; page 2: the section flows (text, figure, table), signatures
    assert data.startswith(b"%PDF") and pages == len(reader.pages) == 2
    assert all([float(v) for v in p.mediabox] == [0, 0, 595.28, 841.89] for p in reader.pages)  # A4
    entries = [(o.title, reader.get_destination_page_number(o) + 1) for o in reader.outline]
    assert entries == [("1. S <b>", 2), ("Signatures", 2)]  # markup in titles stays literal text


@pytest.mark.parametrize("bad", ["html", "pdf"])
def test_failed_render_leaves_no_file(tmp_path, bad) -> None:
    from tokbench.reports.html import write_html
    from tokbench.reports.pdf import write_pdf

    report = _report()
    report.sections[0].tables[0] = Table("T", object())  # not a frame: rendering fails
    target = tmp_path / f"report.{bad}"
    with pytest.raises(Exception):  # noqa: B017 - any rendering error
        (write_html if bad == "html" else write_pdf)(report, target)
    assert list(tmp_path.iterdir()) == []


def test_write_bundle_writes_csv_signature_and_png_atomically(tmp_path) -> None:
    import json

    from tokbench.reports.bundle import write_bundle
    from tokbench.results import Signature

    frame = pd.DataFrame({"tokenizer": ["a", "b"], "ctc": [10, 12]})
    sig = Signature(tokenizers={"a": "ab" * 32}, corpus={"corpus": "sample:eng_Latn"}, seed=3)
    fig = F.compression_figure(pd.DataFrame({"tokenizer": ["a"], "category": ["eng_Latn"], "bytes_per_token": [4.1]}))
    written = write_bundle(tmp_path / "out", frames={"ctc": frame}, figures={"ctc.png": fig}, signature=sig,
                           extra_json={"notes": ["few categories"]}, dpi=60)
    assert [p.name for p in written] == ["ctc.csv", "signature.json", "ctc.png"]
    assert (tmp_path / "out" / "ctc.csv").read_text() == frame.to_csv(index=False)
    data = json.loads((tmp_path / "out" / "signature.json").read_text(encoding="utf-8"))
    assert Signature.from_dict(data["signature"]) == sig and data["notes"] == ["few categories"]
    assert (tmp_path / "out" / "ctc.png").read_bytes().startswith(b"\x89PNG")
    # one signature per tokenizer, and a failing figure leaves no partial file behind
    write_bundle(tmp_path / "two", frames={}, signature={"a": sig, "b": sig})
    assert set(json.loads((tmp_path / "two" / "signature.json").read_text())["signatures"]) == {"a", "b"}

    class Broken:
        def savefig(self, handle, **kw):
            handle.write(b"half")
            raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError):
        write_bundle(tmp_path / "bad", frames={}, figures={"x": Broken()}, signature=None)
    assert not [p for p in (tmp_path / "bad").rglob("*") if p.is_file()]


def test_coverage_figure_takes_the_class_order_from_the_frame() -> None:
    frame = pd.DataFrame([{"tokenizer": "a", "vocab_size": 10, "bytes": 5, "special": 5, "total": 10}])
    fig = F.coverage_classes_figure(frame)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["bytes", "special"]
    fig = F.coverage_classes_figure(frame, classes=["special", "bytes"])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["special", "bytes"]


def test_whole_number_float_columns_print_as_integers_in_html_and_pdf() -> None:
    """A float column of counts with a NaN (pandas' int+missing) prints without decimals; a real
    float column keeps its precision; an int column stays an int."""
    from tokbench.reports.document import whole_number_columns

    frame = pd.DataFrame({"tokenizer": ["bpe", "hybrid", "char"], "vocab_size": [4000, 4000, 3744],
                          "merges": [3744.0, float("nan"), 55.0], "ratio": [1.25, 2.0, float("nan")]})
    shown = Table("T", frame).shown()
    assert str(shown["merges"].dtype) == "Int64" and shown["ratio"].dtype == float
    assert whole_number_columns(frame[["ratio"]]) is not None and frame["merges"].dtype == float  # input untouched
    html = render_html(Report("R", [Section("S", "e", tables=[Table("T", frame)])]))
    for text in ("3,744", "55", "4,000", "1.250", "2.000"):
        assert f">{text}</td>" in html, text
    assert "3,744.000" not in html and ">55.000<" not in html
    pdf_cells = [format_cell(v)[0] for row in shown.itertuples(index=False) for v in row]  # what pdf.py draws
    assert "3,744" in pdf_cells and "55" in pdf_cells and "–" in pdf_cells and "1.250" in pdf_cells
    assert all(not c.endswith(".000") or c == "2.000" for c in pdf_cells)


def test_signatures_digest_renders_once_collapsed() -> None:
    from tokbench.results import Signature

    corpus = {"corpus": "sample:eng_Latn", "sha256": "c" * 64, "bytes": {"eng_Latn": 10}}
    items = [SignatureItem.of(f"{a}: tok{i}", Signature({f"tok{i}": f"{i}" * 64}, corpus, seed=0, extra={"alpha": a}))
             for a in ("coverage", "compression") for i in range(6)]
    html = render_html(Report("R", [], signatures=items))
    sigs = html[html.index('id="signatures"'):]
    assert sigs.count("<details") == 2 and sigs.count('<details class="sigs">') == 1  # the block, and the full JSON
    assert sigs.count("c" * 64) == 1  # the full corpus hash said once, not 12 times
    for i in range(6):
        assert sigs.count(f">tok{i}</td>") == 1 and f">{str(i) * 64}</td>" in sigs
    assert sigs.count(">coverage, compression</td>") == 6 and sigs.count(">all</td>") == 2
    buffer = io.BytesIO()
    assert render_pdf(Report("R", [], signatures=items), buffer) == 2  # title page + one signature page


def test_real_audit_report_dedups_notes_and_shows_longest_entries_whole(tokenizer_dir) -> None:
    """gpt2 twice (two names, one file) on a small corpus: notes said once with both names, the
    signature block once, the longest entries capped per tokenizer and not in a scroll box."""
    import shutil
    import tempfile
    from pathlib import Path

    from tokbench import audit
    from tokbench.reports.audit_report import LONGEST_PER_TOKENIZER, build_report

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "gpt2-copy"
        shutil.copytree(tokenizer_dir / "gpt2", copy)
        result = audit([tokenizer_dir / "gpt2", copy], corpus="sample:eng_Latn,fra_Latn",
                       analyses=["coverage", "compression"], progress=False)
    names = [t["name"] for t in result.tokenizers]
    raw_notes = [n for part in result.parts["coverage"].values() for n in part.notes]
    assert len(names) == 2 and raw_notes and len(set(raw_notes)) < len(raw_notes)  # the repetition exists
    report = build_report(result)
    coverage = next(s for s in report.sections if s.title == result.titles["coverage"])
    assert len(coverage.notes) == len(set(raw_notes))
    assert all(n.endswith("(all 2 tokenizers)") for n in coverage.notes)
    longest = report.sections[0].tables[1]
    assert longest.whole and longest.frame.groupby("tokenizer").size().max() <= LONGEST_PER_TOKENIZER
    assert longest.note and "longest_entries.csv" in longest.note
    html = render_html(report)
    assert html.count('class="tablewrap whole"><table class="sortable">') >= 3  # longest + two signature tables
    sigs = html[html.index('id="signatures"'):]
    assert sigs.count('<details class="sigs">') == 1 and sigs.count(result.corpus["sha256"]) == 1
    merges = report.sections[0].tables[0].shown()["merges"]
    assert all(format_cell(v)[0].replace(",", "").isdigit() for v in merges)


def test_notes_on_some_tokenizers_name_them_and_skips_are_grouped() -> None:
    from tokbench.audit.result import AuditResult, PartResult
    from tokbench.reports.audit_report import build_report
    from tokbench.results import Signature

    names = ["bpe-4000", "char_bpe-4000", "hybrid-4000"]
    def part(name: str, notes: tuple[str, ...]) -> PartResult:
        return PartResult({}, Signature({name: "f" * 64}, {"corpus": "c"}), notes)

    caveat, fit = "few categories: shares are extrapolated", "the fit did not converge"
    result = AuditResult(
        tokenizers=[{"name": n} for n in names], analyses=["compression"], corpus={"corpus": "c"},
        parts={"compression": {"bpe-4000": part("bpe-4000", (caveat, fit)),
                               "char_bpe-4000": part("char_bpe-4000", (caveat,))}},
        skipped=[("compression", "hybrid-4000", "no merge list"), ("other", "bpe-4000", "no merge list")])
    notes = build_report(result).sections[1].notes
    assert notes == ["skipped for hybrid-4000: no merge list", f"{caveat} (bpe-4000, char_bpe-4000)", f"{fit} (bpe-4000)"]
