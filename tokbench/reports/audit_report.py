"""Assemble the audit report: an :class:`~tokbench.audit.result.AuditResult` becomes a
:class:`~tokbench.reports.document.Report` of explained sections, figures and tables.

Only reads the result's plain data — its frames, the titles and explanations the audit gives
each analysis, notes, signatures — and computes nothing beyond sorting and picking columns; the
HTML and PDF renderers draw the same Report. One section builder per analysis
(:data:`SECTION_CONTENT`) picks that analysis's figures and tables.

Example:
    >>> report = build_report(audit_result)     # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import figures as F
from .document import FigureItem, Report, Section, SignatureItem, Table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..audit.result import AuditResult

__all__ = ["build_report", "SECTION_CONTENT"]

Frames = dict[str, "pd.DataFrame"]

#: rows of the longest-entries table per tokenizer: the table is shown whole (no scroll box
#: hiding rows), so it is kept short; the CSV has them all.
LONGEST_PER_TOKENIZER = 5
Content = tuple[list[FigureItem], list[Table]]


def _frame_or_none(frames: Frames, name: str) -> pd.DataFrame | None:
    frame = frames.get(name)
    return frame if frame is not None and len(frame) else None


def _names(tokenizers: list[str], every: list[str]) -> str:
    """``a, b, c``, or ``all N tokenizers`` when the list is every audited tokenizer."""
    if len(every) > 1 and set(tokenizers) >= set(every):
        return f"all {len(every)} tokenizers"
    return ", ".join(tokenizers)


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(text, tokenizer) pairs as text -> the tokenizers it applies to, in first-seen order."""
    out: dict[str, list[str]] = {}
    for text, tok in pairs:
        out.setdefault(text, [])
        if tok not in out[text]:
            out[text].append(tok)
    return out


def _section_notes(result: AuditResult, analysis: str) -> list[str]:
    """Failures, skips and the analysis' notes, each identical sentence once with the tokenizers
    it applies to (the same caveat repeated per tokenizer buried the ones that differ)."""
    every = [t["name"] for t in result.tokenizers]
    skipped = _grouped([(why, tok) for a, tok, why in result.skipped if a == analysis])
    notes = [f"skipped for {_names(toks, every)}: {why}" for why, toks in skipped.items()]
    notes += [f"FAILED — {item}: {msg}" for item, msg in result.failures if item.startswith(f"{analysis} on ")]
    shared = _grouped([(note, tok) for tok, part in result.parts.get(analysis, {}).items() for note in part.notes])
    notes += [f"{note} ({_names(toks, every)})" for note, toks in shared.items()]
    return notes


def _status(result: AuditResult, analysis: str) -> str:
    if any(item.startswith(f"{analysis} on ") for item, _ in result.failures):
        return "failed"
    if not result.parts.get(analysis):
        return "skipped"
    return "ok"


def _summary(result: AuditResult, frames: Frames) -> list[str]:
    corpus = result.corpus
    names = [t["name"] for t in result.tokenizers]
    lines = [
        f"{len(names)} tokenizer(s) audited: {', '.join(names) or 'none'}.",
        f"Corpus {corpus.get('corpus')}: {len(corpus.get('categories', []))} categories, "
        f"{corpus.get('total_bytes', 0):,} bytes, {corpus.get('total_documents', 0):,} documents "
        f"(sha256 {str(corpus.get('sha256', ''))[:12]}).",
        f"Analyses run: {', '.join(result.analyses) or 'none'}"
        + (f"; not available here: {', '.join(result.unavailable)}" if result.unavailable else "") + ".",
    ]
    comp = _frame_or_none(frames, "compression")
    if comp is not None:
        per = comp.groupby("tokenizer", sort=False).agg(bytes=("bytes", "sum"), ctc=("ctc", "sum"))
        best = (per["bytes"] / per["ctc"]).sort_values(ascending=False)
        lines.append("Bytes per token over the whole corpus (higher is cheaper): "
                     + ", ".join(f"{n} {v:.2f}" for n, v in best.items()) + ".")
    summ = _frame_or_none(frames, "premiums_summary")
    if summ is not None:
        for _, row in summ[summ["method"] == "petrov"].iterrows():
            lines.append(f"{row['tokenizer']}: mean premium {row['mean']:.2f} over {row['languages']} languages; "
                         f"most expensive {row['max_language']} ({row['max']:.2f}×); Gini {row['gini']:.3f}.")
    if result.failures and not names:
        lines.append(f"NOTHING WAS AUDITED: every tokenizer failed; the {len(result.failures)} failed item(s) "
                     "are listed below and no analysis has results.")
    elif result.failures:
        lines.append(f"{len(result.failures)} item(s) FAILED (listed below); everything else was still audited.")
    if result.cache_hits:
        lines.append(f"{result.cache_hits} result(s) were reused from the cache of an earlier run.")
    return lines


# ------------------------------------------------------------------------------ sections


def _tokenizers_section(frames: Frames) -> Section:
    tables = [Table("Tokenizers", frames["tokenizers"])]
    longest = _frame_or_none(frames, "longest_entries")
    if longest is not None:
        shown = longest.groupby("tokenizer", sort=False).head(LONGEST_PER_TOKENIZER)
        note = (f"the {LONGEST_PER_TOKENIZER} longest of each tokenizer; all {len(longest):,} in "
                "tables/longest_entries.csv" if len(shown) < len(longest) else None)
        tables.append(Table("Longest vocabulary entries (shown literally; ␣ is a space)", shown, note=note,
                            whole=True))
    return Section(
        "Audited tokenizers",
        "What was audited: each tokenizer's kind, source format, vocabulary size, number of merges and "
        "the first 16 hex digits of its fingerprint (sha256 of the file). The longest entries show what "
        "the vocabulary spends its longest tokens on.",
        tables=tables)


def _coverage(frames: Frames, cov: pd.DataFrame) -> Content:
    figs = [FigureItem("Share of each vocabulary class per tokenizer (%).", F.coverage_classes_figure(cov))]
    tables = [Table("Vocabulary classes (% of vocabulary)", cov)]
    scripts = _frame_or_none(frames, "coverage_scripts")
    if scripts is not None and scripts.shape[1] > 1:
        figs.append(FigureItem("Scripts of the alphabetic tokens (% of each tokenizer's alpha tokens).",
                               F.script_heatmap_figure(scripts)))
        tables.append(Table("Alpha tokens per script", scripts, columns=list(scripts.columns[:16]),
                            note="the 15 most common scripts; all in tables/coverage_scripts.csv"))
    langs = _frame_or_none(frames, "coverage_languages")
    if langs is not None:
        tables.append(Table("Latin/Cyrillic alpha tokens by language", langs.sort_values(
            ["tokenizer", "script", "tokens"], ascending=[True, True, False])))
    return figs, tables


def _compression(frames: Frames, comp: pd.DataFrame) -> Content:
    figs = [FigureItem("Bytes per token per category (higher = fewer tokens for the same text).",
                       F.compression_figure(comp))]
    cols = ["tokenizer", "category", "documents", "bytes", "ctc", "bytes_per_token", "chars_per_token",
            "fertility", "continued_words", "vocab_used_share", "renyi_efficiency", "premium", "flags"]
    return figs, [Table("Compression per category", comp, columns=cols)]


def _premiums(frames: Frames, prem: pd.DataFrame) -> Content:
    figs = [FigureItem(f"Premium per language ({method} method), sorted, with 95% bootstrap "
                       "intervals; bars coloured by script; dashed line = parity with English.",
                       F.premiums_figure(prem, method=method))
            for method in dict.fromkeys(prem["method"])]
    tables = []
    summ = _frame_or_none(frames, "premiums_summary")
    if summ is not None:
        tables.append(Table("Summary across languages", summ))
    tables.append(Table("Premium per language", prem, columns=[
        "tokenizer", "method", "language", "ctc", "reference_ctc", "premium", "ci_low", "ci_high",
        "unk_share", "blanked", "flags"]))
    return figs, tables


def _mergefree(frames: Frames, mf: pd.DataFrame) -> Content:
    figs = [FigureItem("Tokens per byte: standard BPE vs greedy and minimal (merge-list-free) encoders.",
                       F.mergefree_tokens_per_byte_figure(mf)),
            FigureItem("Tokens relative to standard BPE for every variant (1.0 = no cost).", F.mergefree_figure(mf))]
    return figs, [Table("Merge-free and damaged-merge encodings", mf, columns=[
        "tokenizer", "category", "variant", "tokens", "tokens_per_byte", "relative_to_standard",
        "pieces_changed_share", "vocab_used"])]


def _mixture(frames: Frames, mix: pd.DataFrame) -> Content:
    figs = []
    if {"category", "proportion"} <= set(mix.columns):
        figs.append(FigureItem("Inferred share of each category in the training data.",
                               F.mixture_proportions_figure(mix)))
    if {"true", "inferred"} <= set(mix.columns):
        figs.append(FigureItem("Inferred vs true proportions (controlled attack).", F.inferred_vs_true_figure(mix)))
    return figs, [Table("Inferred mixture", mix)]


#: analysis name -> builder of its figures and tables, given all frames and its main frame
#: (the frame named like the analysis; the section is empty when that frame is).
SECTION_CONTENT: dict[str, Callable[[Frames, Any], Content]] = {
    "coverage": _coverage, "compression": _compression, "premiums": _premiums,
    "mergefree": _mergefree, "mixture": _mixture,
}


def _analysis_section(result: AuditResult, frames: Frames, name: str) -> Section:
    main = _frame_or_none(frames, name)
    builder = SECTION_CONTENT.get(name)
    figs, tables = builder(frames, main) if builder is not None and main is not None else ([], [])
    return Section(result.titles.get(name, name), result.explanations.get(name, ""), tables=tables,
                   figures=figs, notes=_section_notes(result, name), status=_status(result, name))


def _issues_section(result: AuditResult, issues: pd.DataFrame) -> Section:
    return Section(
        "Failed and skipped items",
        "Items that could not be audited (failed: a file that does not load, a missing language, an "
        "analysis error) and analyses that do not apply to a tokenizer (skipped). Everything else in "
        "this report is complete.",
        tables=[Table("Issues", issues)], status="failed" if result.failures else "ok")


def _signatures(result: AuditResult) -> list[SignatureItem]:
    """Every result's signature; the corpus alone only when no result has one (each result's
    signature holds the corpus, and the renderers show the shared part once)."""
    items = [SignatureItem.of(name, sig) for name, sig in result.signatures()]
    if items:
        return items
    corpus = result.corpus
    return [SignatureItem("corpus", f"corpus={corpus.get('corpus')}|sha256={str(corpus.get('sha256', ''))[:16]}",
                          corpus)]


def build_report(result: AuditResult, *, title: str | None = None) -> Report:
    """The report's sections for every analysis that ran, in the audit's order."""
    from .. import __version__

    frames = result.to_frames()
    sections = [_tokenizers_section(frames)]
    sections += [_analysis_section(result, frames, name) for name in result.analyses]
    if len(frames["issues"]):
        sections.append(_issues_section(result, frames["issues"]))
    generated = (f"tokbench {__version__}, {_dt.datetime.now(_dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}; "
                 f"seed {result.options.get('seed')}, {result.options.get('n_bootstrap')} bootstrap replicates")
    return Report(
        title=title or "tokbench audit",
        sections=sections,
        summary=_summary(result, frames),
        signatures=_signatures(result),
        failures=[f"{item}: {msg}" for item, msg in result.failures],
        generated=generated,
    )
