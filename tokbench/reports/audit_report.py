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
    lines = _findings(result, frames) + [
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


# ------------------------------------------------------------------------------ findings
# Sentences generated from the result frames only: nothing here names a particular tokenizer,
# so the summary says what THESE numbers show. Tokens per character is the headline cost
# (bytes per token rewards scripts with multi-byte characters, e.g. Myanmar, Thai, and so ranks
# the most expensive languages as "best compressed").

#: the premium's baseline, said where premiums first appear
PREMIUM_BASELINE = ("premium = tokens for a language / tokens for the same sentences in this "
                    "tokenizer's own English (eng_Latn); 1.00× is parity, 2.00× costs twice as many tokens")

#: vocabulary classes of the coverage frame in plain words
CLASS_WORDS = {
    "spaced_alpha": "word-initial letters (with leading space)", "inner_alpha": "word pieces (letters)",
    "char_alpha": "single letters", "spaced_other": "spaced symbols/digits", "inner_other": "symbols/digits",
    "char_other": "single symbols", "bytes": "raw bytes", "partial_utf8": "partial UTF-8 sequences",
    "special": "special tokens", "unused": "unused entries",
}


def _is_language(category: str) -> bool:
    """FLORES-style ``xxx_Scrp`` names are prose languages; anything else (python, ...) is code."""
    head, _, script = str(category).partition("_")
    return len(head) == 3 and head.isalpha() and len(script) == 4 and script[:1].isupper()


def _tokens_per_char(comp: pd.DataFrame) -> pd.Series:
    """Whole-corpus tokens per character per tokenizer, cheapest first."""
    per = comp.groupby("tokenizer", sort=False)[["ctc", "chars"]].sum()
    return (per["ctc"] / per["chars"].where(per["chars"] > 0)).dropna().sort_values()


def _petrov(prem: pd.DataFrame | None) -> pd.DataFrame | None:
    if prem is None:
        return None
    method = "petrov" if "petrov" in set(prem["method"]) else prem["method"].iloc[0]
    rows = prem[(prem["method"] == method) & prem["premium"].notna()]
    return rows if len(rows) else None


def _premium_extremes(rows: pd.DataFrame, n: int = 2) -> str:
    """``cheapest a (1.00×), b; most expensive c (9.1×), d`` for one tokenizer's premium rows,
    English (the baseline, always 1.00×) left out of the cheapest."""
    ranked = rows[rows["language"] != "eng_Latn"].sort_values("premium")
    if not len(ranked):
        return ""
    low = ", ".join(f"{r.language} {r.premium:.2f}×" for r in ranked.head(n).itertuples())
    high = ", ".join(f"{r.language} {r.premium:.2f}×" for r in ranked.iloc[::-1].head(n).itertuples())
    scripts = ranked.assign(script=ranked["language"].str.split("_").str[-1]).groupby("script")["premium"].median()
    text = f"cheapest {low}; most expensive {high}"
    if len(scripts) > 1:
        text += (f" (by script, median premium: {scripts.idxmin()} {scripts.min():.2f}× lowest, "
                 f"{scripts.idxmax()} {scripts.max():.2f}× highest)")
    return text


def _code_vs_prose(rows: pd.DataFrame) -> str:
    """Characters per token on code categories against prose languages, when both are present."""
    code, prose = rows[~rows["category"].map(_is_language)], rows[rows["category"].map(_is_language)]
    if not len(code) or not len(prose) or not code["ctc"].sum() or not prose["ctc"].sum():
        return ""
    c, p = code["chars"].sum() / code["ctc"].sum(), prose["chars"].sum() / prose["ctc"].sum()
    return f"code {c:.2f} characters/token vs prose {p:.2f} ({'cheaper' if c > p else 'dearer'} on code)"


def _vocabulary(frames: Frames, tok: str) -> str:
    """What the vocabulary is spent on: the two largest coverage classes and the top scripts."""
    cov, scripts = _frame_or_none(frames, "coverage"), _frame_or_none(frames, "coverage_scripts")
    parts = []
    if cov is not None and tok in set(cov["tokenizer"]):
        row = cov[cov["tokenizer"] == tok].iloc[0]
        classes = sorted(((float(row[c]), c) for c in CLASS_WORDS if c in row.index), reverse=True)[:2]
        parts.append(", ".join(f"{v:.0f}% {CLASS_WORDS[c]}" for v, c in classes))
    if scripts is not None and tok in set(scripts["tokenizer"]):
        counts = scripts[scripts["tokenizer"] == tok].drop(columns="tokenizer").iloc[0].astype(float)
        total = counts.sum()
        if total > 0:
            top = counts[counts >= 0.005 * total].sort_values(ascending=False).head(3)
            parts.append("alphabetic tokens " + ", ".join(f"{s} {100 * v / total:.0f}%" for s, v in top.items() if v > 0))
    return "vocabulary: " + "; ".join(parts) if parts else ""


def _tokenizer_findings(frames: Frames, tok: str, tpc: pd.Series, prem: pd.DataFrame | None) -> str:
    """One sentence on what ``tok`` is good and bad at."""
    bits = []
    if tok in tpc.index:
        bits.append(f"{tpc[tok]:.3f} tokens/character overall")
    if prem is not None and tok in set(prem["tokenizer"]):
        bits.append(_premium_extremes(prem[prem["tokenizer"] == tok]))
    comp = _frame_or_none(frames, "compression")
    if comp is not None:
        bits.append(_code_vs_prose(comp[comp["tokenizer"] == tok]))
    bits.append(_vocabulary(frames, tok))
    bits = [b for b in bits if b]
    return f"{tok}: " + "; ".join(bits) + "." if bits else ""


def _comparison(frames: Frames, tpc: pd.Series) -> list[str]:
    """Across tokenizers: tokens per character as the headline, then mean premium and its
    spread; the most even spread is never named without its overall cost."""
    lines = []
    if len(tpc):
        lines.append("Headline — tokens per character over the whole corpus (lower is cheaper): "
                     + ", ".join(f"{n} {v:.3f}" for n, v in tpc.items()) + ".")
    summ = _frame_or_none(frames, "premiums_summary")
    if summ is None:
        return lines
    summ = summ[summ["method"] == ("petrov" if "petrov" in set(summ["method"]) else summ["method"].iloc[0])]
    if not len(summ):
        return lines
    ranked = summ.sort_values("mean")
    lines.append(f"Premiums ({PREMIUM_BASELINE}): mean over languages "
                 + ", ".join(f"{r.tokenizer} {r.mean:.2f}× (worst {r.max_language} {r.max:.2f}×)"
                             for r in ranked.itertuples()) + ".")
    even = summ.sort_values("gini").iloc[0]
    if len(summ) > 1:
        cost = f"{tpc[even['tokenizer']]:.3f} tokens/character" if even["tokenizer"] in tpc.index else \
            f"mean premium {even['mean']:.2f}×"
        rank = (list(tpc.index).index(even["tokenizer"]) + 1) if even["tokenizer"] in tpc.index else None
        where = "" if not rank else f", the dearest of {len(tpc)}" if rank == len(tpc) else \
            f", {_ordinal(rank)} cheapest of {len(tpc)}"
        moral = "" if rank == 1 else " — even is not the same as cheap"
        lines.append(f"Most even spread of premiums across languages: {even['tokenizer']} (Gini {even['gini']:.3f}), "
                     f"at an overall cost of {cost}{where}{moral}.")
    return lines


def _ordinal(n: int) -> str:
    """``the``, ``the 2nd``, ``the 3rd``, ``the 4th`` (as in "the 2nd cheapest")."""
    suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10 if n % 100 not in (11, 12, 13) else 0, "th")
    return "the" if n == 1 else f"the {n}{suffix}"


def _caveats(result: AuditResult, frames: Frames) -> list[str]:
    """Flagged rows and the analyses' notes that qualify the numbers above (each once)."""
    out = []
    mix = _frame_or_none(frames, "mixture")
    if mix is not None and "reliable" in mix.columns:
        bad = list(dict.fromkeys(mix.loc[~mix["reliable"].astype(bool), "tokenizer"]))
        if bad:
            out.append(f"Caveat: the inferred training mixture of {', '.join(bad)} is UNRELIABLE (see the mixture section).")
    seen: set[str] = set()
    said: set[tuple[str, tuple[str, ...]]] = set()
    for name in ("compression", "premiums"):
        frame = _frame_or_none(frames, name)
        if frame is None or "flags" not in frame.columns:
            continue
        key = "category" if "category" in frame.columns else "language"
        flagged = frame[frame["flags"].astype(str).str.strip() != ""]
        by_flag = _grouped([(str(r["flags"]), f"{r['tokenizer']}/{r[key]}") for _, r in flagged.iterrows()])
        for flag, items in by_flag.items():
            if (flag, tuple(items)) in said:  # the same flag on the same rows in another frame
                continue
            said.add((flag, tuple(items)))
            seen.update(items)
            out.append(f"Caveat ({name}): {flag} — {_flagged_rows(items, frame, key)}.")
    per_tok = _grouped([(tok, note) for a in result.analyses if a != "coverage"
                        for tok, part in result.parts.get(a, {}).items() for note in part.notes
                        if not any(item in note for item in seen)])  # already said as a flag
    for tok, notes in per_tok.items():  # one line per tokenizer, the first few notes
        more = f"; and {len(notes) - 4} more in the sections below" if len(notes) > 4 else ""
        out.append(f"Caveat ({tok}): " + "; ".join(n.rstrip(".") for n in notes[:4]) + more + ".")
    return out


def _flagged_rows(items: list[str], frame: pd.DataFrame, key: str) -> str:
    """``tok: all 16`` when every row of a tokenizer is flagged, else ``tok: a, b, c``."""
    per_tok = _grouped([tuple(item.rsplit("/", 1)) for item in items])
    rows = frame.drop_duplicates(["tokenizer", key])["tokenizer"].value_counts()  # one per language, any method
    parts = [f"{tok}: all {len(cats)}" if len(cats) == rows.get(tok, -1) else
             f"{tok}: " + ", ".join(cats[:5]) + (f" +{len(cats) - 5}" if len(cats) > 5 else "")
             for tok, cats in per_tok.items()]
    return "; ".join(parts)


def _findings(result: AuditResult, frames: Frames) -> list[str]:
    """The executive summary: headline comparison, per-tokenizer findings, caveats."""
    import pandas as pd

    comp = _frame_or_none(frames, "compression")
    tpc = _tokens_per_char(comp) if comp is not None else pd.Series(dtype=float)
    prem = _petrov(_frame_or_none(frames, "premiums"))
    lines = _comparison(frames, tpc)
    lines += [s for s in (_tokenizer_findings(frames, t["name"], tpc, prem) for t in result.tokenizers) if s]
    return lines + _caveats(result, frames)


def _intro_coverage(frames: Frames) -> str:
    cov = _frame_or_none(frames, "coverage")
    if cov is None:
        return ""
    parts = []
    for _, row in cov.iterrows():
        top = max((c for c in CLASS_WORDS if c in row.index), key=lambda c: float(row[c]))
        parts.append(f"{row['tokenizer']} spends {float(row[top]):.0f}% on {CLASS_WORDS[top]}")
    return "Here " + "; ".join(parts) + "."


def _intro_compression(frames: Frames) -> str:
    comp = _frame_or_none(frames, "compression")
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
    prem = _petrov(_frame_or_none(frames, "premiums"))
    if prem is None:
        return f"Baseline: {PREMIUM_BASELINE}."
    worst = prem.loc[prem.groupby("tokenizer", sort=False)["premium"].idxmax()]
    return (f"Baseline: {PREMIUM_BASELINE}. Most expensive language here: "
            + ", ".join(f"{r.tokenizer} {r.language} {r.premium:.2f}×" for r in worst.itertuples()) + ".")


def _intro_mergefree(frames: Frames) -> str:
    mf = _frame_or_none(frames, "mergefree")
    if mf is None or "relative_to_standard" not in mf.columns:
        return ""
    other = mf[(mf["variant"] != "standard") & mf["relative_to_standard"].notna()]
    if not len(other):
        return ""
    worst = other.loc[other["relative_to_standard"].idxmax()]
    return (f"Variants cost from {other['relative_to_standard'].min():.2f}× to {worst['relative_to_standard']:.2f}× "
            f"the standard encoding's tokens (worst: {worst['tokenizer']}, {worst['variant']}, {worst['category']}).")


def _intro_mixture(frames: Frames) -> str:
    mix = _frame_or_none(frames, "mixture")
    if mix is None or not {"category", "proportion", "tokenizer"} <= set(mix.columns):
        return ""
    parts = []
    for tok, rows in mix.groupby("tokenizer", sort=False):
        top = rows.loc[rows["proportion"].idxmax()]
        unreliable = "reliable" in rows.columns and not rows["reliable"].astype(bool).all()
        parts.append(f"{tok} {top['category']} {100 * float(top['proportion']):.0f}%"
                     + (" (UNRELIABLE fit)" if unreliable else ""))
    return "Largest inferred share: " + ", ".join(parts) + "."


#: analysis name -> the sentence(s) opening its section, generated from the frames
SECTION_INTROS: dict[str, Callable[[Frames], str]] = {
    "coverage": _intro_coverage, "compression": _intro_compression, "premiums": _intro_premiums,
    "mergefree": _intro_mergefree, "mixture": _intro_mixture,
}


def _intro(frames: Frames, name: str, explanation: str) -> str:
    """What this section's figure shows for these tokenizers, then the analysis's explanation."""
    intro = SECTION_INTROS.get(name)
    text = intro(frames) if intro is not None else ""
    return f"{text} {explanation}".strip()


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
    figs = [FigureItem("Bytes per token per category (higher = fewer tokens for the same text; scripts with "
                       "multi-byte characters score high here even when they cost many tokens per "
                       "character, see the table's chars_per_token and premium).",
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
    )
