"""Assemble the audit report: an :class:`~tokbench.audit.result.AuditResult` becomes a
:class:`~tokbench.reports.document.Report` of explained sections, figures and tables.

Only reads the result's plain data — its frames, the titles and explanations the audit gives
each analysis, notes, signatures — and computes nothing beyond sums, ratios and sorting; the
HTML and PDF renderers draw the same Report. The summary opens with findings generated from the
frames (tokens per character as the headline, each tokenizer's cheapest and dearest languages,
code vs prose, what its vocabulary is spent on, the caveats), and each section opens with what
its figure shows for these tokenizers (:data:`SECTION_INTROS`). One section builder per analysis
(:data:`SECTION_CONTENT`) picks that analysis's figures and tables.

Example:
    >>> report = build_report(audit_result)     # doctest: +SKIP
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import figures as F
from .audit_compare import compare_content, compare_intro
from .audit_findings import (
    CLASS_WORDS,
    PREMIUM_BASELINE,
    build_cards,
    findings,
    frame_or_none,
    grouped,
    is_language,
    mixture_check,
    mixture_explained,
    petrov_rows,
    unreachable_text,
)
from .document import FigureItem, Report, Section, SignatureItem, Table

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..audit.result import AuditResult

__all__ = ["build_report", "SECTION_CONTENT", "SECTION_INTROS", "PREMIUM_BASELINE"]

Frames = dict[str, "pd.DataFrame"]

#: rows of the longest-entries table per tokenizer: the table is shown whole (no scroll box
#: hiding rows), so it is kept short; the CSV has them all.
LONGEST_PER_TOKENIZER = 5
Content = tuple[list[FigureItem], list[Table]]


def _names(tokenizers: list[str], every: list[str]) -> str:
    """``a, b, c``, or ``all N tokenizers`` when the list is every audited tokenizer."""
    if len(every) > 1 and set(tokenizers) >= set(every):
        return f"all {len(every)} tokenizers"
    return ", ".join(tokenizers)


def _section_notes(result: AuditResult, analysis: str) -> list[str]:
    """Failures, skips and the analysis' notes, each identical sentence once with the tokenizers
    it applies to (the same caveat repeated per tokenizer buried the ones that differ)."""
    every = [t["name"] for t in result.tokenizers]
    skipped = grouped([(why, tok) for a, tok, why in result.skipped if a == analysis])
    notes = [f"skipped for {_names(toks, every)}: {why}" for why, toks in skipped.items()]
    notes += [f"FAILED — {item}: {msg}" for item, msg in result.failures if item.startswith(f"{analysis} on ")]
    shared = grouped([(note, tok) for tok, part in result.parts.get(analysis, {}).items() for note in part.notes])
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
    lines = findings(result, frames) + [
        f"{len(names)} tokenizer(s) audited: {', '.join(names) or 'none'}.",
        f"Corpus {corpus.get('corpus')}: {len(corpus.get('categories', []))} categories, "
        f"{corpus.get('total_bytes', 0):,} bytes, {corpus.get('total_documents', 0):,} documents "
        f"(sha256 {str(corpus.get('sha256', ''))[:12]}).",
        f"Analyses run: {', '.join(result.analyses) or 'none'}"
        + (f"; not available here: {', '.join(result.unavailable)}" if result.unavailable else "") + ".",
    ]
    if result.failures and not names:
        lines.append(f"NOTHING WAS AUDITED: every tokenizer failed; the {len(result.failures)} failed item(s) "
                     "are listed below and no analysis has results.")
    elif result.failures:
        lines.append(f"{len(result.failures)} item(s) FAILED (listed below); everything else was still audited.")
    if result.cache_hits:
        lines.append(f"{result.cache_hits} result(s) were reused from the cache of an earlier run.")
    return lines


def _intro_coverage(frames: Frames) -> str:
    cov = frame_or_none(frames, "coverage")
    if cov is None:
        return ""
    parts = []
    for _, row in cov.iterrows():
        top = max((c for c in CLASS_WORDS if c in row.index), key=lambda c: float(row[c]))
        parts.append(f"{row['tokenizer']} spends {float(row[top]):.0f}% on {CLASS_WORDS[top]}")
    never = [f"{tok} {text}" for tok in dict.fromkeys(cov["tokenizer"]) if (text := unreachable_text(frames, tok))]
    return "Here " + "; ".join(parts) + "." + (
        " Tokens no text can ever produce: " + "; ".join(never) + "." if never else "")


def _intro_compression(frames: Frames) -> str:
    comp = frame_or_none(frames, "compression")
    if comp is None or "chars_per_token" not in comp.columns:
        return ""
    ok = comp[comp["ctc"] > 0]
    if not len(ok):
        return ""
    lo, hi = ok.loc[ok["chars_per_token"].idxmin()], ok.loc[ok["chars_per_token"].idxmax()]
    text = (f"Characters per token run from {lo['chars_per_token']:.2f} ({lo['tokenizer']}, {lo['category']}, "
            f"most expensive) to {hi['chars_per_token']:.2f} ({hi['tokenizer']}, {hi['category']}, cheapest).")
    by_bytes = ok.loc[ok["bytes_per_token"].idxmax()]
    if (by_bytes["tokenizer"], by_bytes["category"]) != (hi["tokenizer"], hi["category"]):
        text += (f" Bytes per token ranks {by_bytes['tokenizer']}/{by_bytes['category']} best "
                 f"({by_bytes['bytes_per_token']:.2f}) only because its characters take several bytes: "
                 "compare languages by characters per token or premium.")
    return text


def _intro_premiums(frames: Frames) -> str:
    prem = petrov_rows(frame_or_none(frames, "premiums"))
    if prem is None:
        return f"Baseline: {PREMIUM_BASELINE}."
    worst = prem.loc[prem.groupby("tokenizer", sort=False)["premium"].idxmax()]
    return (f"Baseline: {PREMIUM_BASELINE}. Most expensive language here: "
            + ", ".join(f"{r.tokenizer} {r.language} {r.premium:.2f}×" for r in worst.itertuples()) + ".")


def _intro_mergefree(frames: Frames) -> str:
    mf = frame_or_none(frames, "mergefree")
    if mf is None or "relative_to_standard" not in mf.columns:
        return ""
    other = mf[(mf["variant"] != "standard") & mf["relative_to_standard"].notna()]
    if not len(other):
        return ""
    worst = other.loc[other["relative_to_standard"].idxmax()]
    return (f"Variants cost from {other['relative_to_standard'].min():.2f}× to {worst['relative_to_standard']:.2f}× "
            f"the standard encoding's tokens (worst: {worst['tokenizer']}, {worst['variant']}, {worst['category']}).")


def _intro_mixture(frames: Frames) -> str:
    mix = frame_or_none(frames, "mixture")
    if mix is None or not {"category", "proportion", "tokenizer"} <= set(mix.columns):
        return ""
    parts = []
    for tok, rows in mix.groupby("tokenizer", sort=False):
        top = rows.loc[rows["proportion"].idxmax()]
        unreliable = "reliable" in rows.columns and not rows["reliable"].astype(bool).all()
        parts.append(f"{tok} {top['category']} {100 * float(top['proportion']):.0f}%"
                     + (" (UNRELIABLE fit)" if unreliable else ""))
    explained = [f"{tok} {text}" for tok in dict.fromkeys(mix["tokenizer"]) if (text := mixture_explained(frames, tok))]
    said = (" Merges the categories explain (the merged pair is the fitted mixture's most frequent): "
            + "; ".join(explained) + "." if explained else "")
    return ("Largest inferred share: " + ", ".join(parts) + "." + said + (" " + mixture_check(mix)).rstrip())


#: analysis name -> the sentence(s) opening its section, generated from the frames
SECTION_INTROS: dict[str, Callable[[Frames], str]] = {
    "coverage": _intro_coverage, "compression": _intro_compression, "premiums": _intro_premiums,
    "mergefree": _intro_mergefree, "mixture": _intro_mixture, "compare": compare_intro,
}


def _intro(frames: Frames, name: str, explanation: str) -> str:
    """What this section's figure shows for these tokenizers, then the analysis's explanation."""
    intro = SECTION_INTROS.get(name)
    text = intro(frames) if intro is not None else ""
    return f"{text} {explanation}".strip()


# ------------------------------------------------------------------------------ sections


def _tokenizers_section(frames: Frames) -> Section:
    tables = [Table("Tokenizers", frames["tokenizers"])]
    longest = frame_or_none(frames, "longest_entries")
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
    scripts = frame_or_none(frames, "coverage_scripts")
    if scripts is not None and scripts.shape[1] > 1:
        figs.append(FigureItem("Scripts of the alphabetic tokens (% of each tokenizer's alpha tokens).",
                               F.script_heatmap_figure(scripts)))
        tables.append(Table("Alpha tokens per script", scripts, columns=list(scripts.columns[:16]),
                            note="the 15 most common scripts; all in tables/coverage_scripts.csv"))
    langs = frame_or_none(frames, "coverage_languages")
    if langs is not None:
        tables.append(Table("Latin/Cyrillic alpha tokens by language", langs.sort_values(
            ["tokenizer", "script", "tokens"], ascending=[True, True, False])))
    never = frame_or_none(frames, "coverage_unreachable")
    if never is not None:
        tables.append(Table(
            "Which tokens any text can produce (tokens per class)", never,
            note="reachable_alone: its own text encodes to it; reachable_in_context: only inside a longer text; "
                 "unreachable_merges: earlier merges always take its bytes; unreachable_pretokenizer: the "
                 "normaliser or split pattern never leaves its bytes in one piece; unreachable_byte_fallback: a "
                 "<0xNN> piece every character has a better spelling for; undecodable: bytes no UTF-8 text holds. "
                 "Each reachable verdict has a witness text checked with the reference library; each unreachable "
                 "one a proof (tokbench unreachable TOK lists them)."))
    return figs, tables


def _compression(frames: Frames, comp: pd.DataFrame) -> Content:
    shown = comp.assign(tokens_per_char=comp["ctc"] / comp["chars"].where(comp["chars"] > 0))
    # Languages grouped by script, code last: a chart sorted by value would rank scripts against
    # each other, and a character of Han holds more text than a character of Latin.
    categories = list(dict.fromkeys(shown["category"]))
    order = sorted(categories, key=lambda c: (not is_language(c), c.split("_")[-1] if is_language(c) else "", c))
    figs = [FigureItem("Tokens per character per category (lower = cheaper); compare the tokenizers within a "
                       "row. Across languages compare premiums (next section): characters of different scripts "
                       "carry different amounts of text, and bytes per token (in the table) flatters scripts whose "
                       "characters take several bytes.",
                       F.compression_figure(shown, value="tokens_per_char", order=order,
                                            title="Tokens per character per category"))]
    cols = ["tokenizer", "category", "documents", "bytes", "ctc", "tokens_per_char", "chars_per_token",
            "bytes_per_token", "fertility", "continued_words", "vocab_used_share", "renyi_efficiency", "premium",
            "flags"]
    return figs, [Table("Compression per category", shown, columns=cols)]


def _premiums(frames: Frames, prem: pd.DataFrame) -> Content:
    figs = []
    for method in dict.fromkeys(prem["method"]):
        rows = prem[prem["method"] == method]
        # intervals are only promised when the bootstrap ran (--bootstrap 0 computes none)
        ci = "ci_low" in rows.columns and rows["ci_low"].notna().any()
        figs.append(FigureItem(f"Premium per language ({method} method), sorted per panel"
                               + (", with 95% bootstrap intervals" if ci else " (no intervals: the bootstrap was off)")
                               + "; bars coloured by script; dashed line = parity with English.",
                               F.premiums_figure(prem, method=method)))
    tables = []
    summ = frame_or_none(frames, "premiums_summary")
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


#: the mixture table's columns (all of them are in tables/mixture.csv)
MIXTURE_COLUMNS = ["tokenizer", "category", "proportion", "true", "error", "ci_low", "ci_high", "pairs_per_byte",
                   "reliable", "unreliable_reason", "caution", "stop_reason", "gap", "steps"]


def _mixture(frames: Frames, mix: pd.DataFrame) -> Content:
    figs = []
    if {"category", "proportion"} <= set(mix.columns):
        figs.append(FigureItem("Inferred share of each category in the training data.",
                               F.mixture_proportions_figure(mix)))
    known = "true" in mix.columns and mix["true"].notna().any()
    if known:
        figs.append(FigureItem("Inferred vs true proportions for the tokenizers whose training mixture is known "
                               "(points on the dashed line are exact; hollow points are fits flagged unreliable).",
                               F.inferred_vs_true_figure(mix)))
    columns = [c for c in MIXTURE_COLUMNS if c in mix.columns and (known or c not in ("true", "error"))]
    return figs, [Table("Inferred mixture", mix, columns=columns, note="every column in tables/mixture.csv")] + \
        _mixture_diagnostics_tables(frames)


#: the diagnostics table's columns (all of them are in tables/mixture_diagnostics.csv)
MIXTURE_DIAGNOSTICS_COLUMNS = ["tokenizer", "window", "steps", "unseen", "explained", "explained_share", "strict_share",
                               "noise_share", "violation_share"]


def _mixture_diagnostics_tables(frames: Frames) -> list[Table]:
    """How well the categories explain the merges per step window, and the three largest classes
    of the merges they do not explain per tokenizer (with examples)."""
    tables = []
    diag = frame_or_none(frames, "mixture_diagnostics")
    if diag is not None:
        tables.append(Table(
            "How well the categories explain the merges", diag,
            columns=[c for c in MIXTURE_DIAGNOSTICS_COLUMNS if c in diag.columns],
            note="explained_share: steps whose merged pair is the fitted mixture's most frequent pair, once the "
                 "pairs the fit discounts at every step (its pair slack) are set aside; strict_share: without "
                 "that; noise_share: the strongest competitor within two standard deviations of count noise; "
                 "violation_share: the step slack still needed, over the merged pairs' weight; "
                 "unseen: merged pair in no category's sample. Even a complete category set leaves some merges "
                 "unexplained on samples this size (controlled fits offered every training category: 42-56% of "
                 "the first 1,000 explained); far less, or merges in a script no category has, means the category "
                 "set lacks part of the training data (every column in tables/mixture_diagnostics.csv)."))
    classes = frame_or_none(frames, "mixture_unexplained")
    if classes is not None:
        top = classes.groupby("tokenizer", sort=False).head(3)
        tables.append(Table("What the unexplained merges look like", top, whole=True,
                            columns=["tokenizer", "class", "steps", "first_1000", "share", "examples"],
                            note="the three largest classes per tokenizer; all in tables/mixture_unexplained.csv"))
    return tables


#: analysis name -> builder of its figures and tables, given all frames and its main frame
#: (the frame named like the analysis; the section is empty when that frame is).
SECTION_CONTENT: dict[str, Callable[[Frames, Any], Content]] = {
    "coverage": _coverage, "compression": _compression, "premiums": _premiums,
    "mergefree": _mergefree, "mixture": _mixture,
    "compare": compare_content,
}


def _analysis_section(result: AuditResult, frames: Frames, name: str) -> Section:
    main = frame_or_none(frames, name)
    builder = SECTION_CONTENT.get(name)
    figs, tables = builder(frames, main) if builder is not None and main is not None else ([], [])
    return Section(result.titles.get(name, name), _intro(frames, name, result.explanations.get(name, "")),
                   tables=tables,
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
        cards=build_cards(result, frames),
    )
