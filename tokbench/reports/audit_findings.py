"""The audit report's findings: the executive summary's sentences and one card per tokenizer,
generated from the result frames only.

Nothing here names a particular tokenizer, so the summary says what THESE numbers show. Tokens
per character is the headline cost (bytes per token rewards scripts with multi-byte characters,
e.g. Myanmar, Thai, and so ranks the most expensive languages as "best compressed"); premiums
are relative to each tokenizer's own English (:data:`PREMIUM_BASELINE`); a mixture fit known to
be unreliable is never stated without saying so.

Example:
    >>> lines = findings(audit_result, audit_result.to_frames())     # doctest: +SKIP
    >>> cards = build_cards(audit_result, audit_result.to_frames())  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .document import Card

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..audit.result import AuditResult

__all__ = ["findings", "build_cards", "mixture_check", "mixture_explained", "frame_or_none", "grouped", "is_language", "unreachable_text",
           "tokens_per_char", "petrov_rows", "PREMIUM_BASELINE", "CLASS_WORDS"]

Frames = dict[str, "pd.DataFrame"]


def frame_or_none(frames: Frames, name: str) -> pd.DataFrame | None:
    frame = frames.get(name)
    return frame if frame is not None and len(frame) else None


def grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """(text, tokenizer) pairs as text -> the tokenizers it applies to, in first-seen order."""
    out: dict[str, list[str]] = {}
    for text, tok in pairs:
        out.setdefault(text, [])
        if tok not in out[text]:
            out[text].append(tok)
    return out


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


#: the classes of tokens no text can produce (tokbench.metrics.unreachable), in plain words
UNREACHABLE_WORDS = {
    "unreachable_merges": "shadowed by earlier merges", "unreachable_pretokenizer": "never one pretoken",
    "unreachable_byte_fallback": "byte pieces never used", "undecodable": "invalid UTF-8",
}


def unreachable_text(frames: Frames, tok: str) -> str:
    """``12 of 50,257 (shadowed by earlier merges 1, invalid UTF-8 11)``, or ``""`` when not computed."""
    frame = frame_or_none(frames, "coverage_unreachable")
    if frame is None or tok not in set(frame["tokenizer"]):
        return ""
    row = frame[frame["tokenizer"] == tok].iloc[0]
    parts = {words: int(row[c]) for c, words in UNREACHABLE_WORDS.items() if c in row.index and int(row[c])}
    total = sum(parts.values())
    detail = " (" + ", ".join(f"{w} {n:,}" for w, n in parts.items()) + ")" if parts else ""
    return f"{total:,} of {int(row['vocab_size']):,}{detail}"


def is_language(category: str) -> bool:
    """FLORES-style ``xxx_Scrp`` names are prose languages; anything else (python, ...) is code."""
    head, _, script = str(category).partition("_")
    return len(head) == 3 and head.isalpha() and len(script) == 4 and script[:1].isupper()


def tokens_per_char(comp: pd.DataFrame) -> pd.Series:
    """Whole-corpus tokens per character per tokenizer, cheapest first."""
    per = comp.groupby("tokenizer", sort=False)[["ctc", "chars"]].sum()
    return (per["ctc"] / per["chars"].where(per["chars"] > 0)).dropna().sort_values()


def petrov_rows(prem: pd.DataFrame | None) -> pd.DataFrame | None:
    if prem is None:
        return None
    method = "petrov" if "petrov" in set(prem["method"]) else prem["method"].iloc[0]
    rows = prem[(prem["method"] == method) & prem["premium"].notna()]
    return rows if len(rows) else None


def premium_extremes(rows: pd.DataFrame, n: int = 2) -> str:
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


def code_vs_prose(rows: pd.DataFrame) -> str:
    """Characters per token on code categories against prose languages, when both are present."""
    code, prose = rows[~rows["category"].map(is_language)], rows[rows["category"].map(is_language)]
    if not len(code) or not len(prose) or not code["ctc"].sum() or not prose["ctc"].sum():
        return ""
    c, p = code["chars"].sum() / code["ctc"].sum(), prose["chars"].sum() / prose["ctc"].sum()
    return f"code {c:.2f} characters/token vs prose {p:.2f} ({'cheaper' if c > p else 'dearer'} on code)"


def vocabulary_use(frames: Frames, tok: str) -> str:
    """What the vocabulary is spent on: the two largest coverage classes and the top scripts."""
    cov, scripts = frame_or_none(frames, "coverage"), frame_or_none(frames, "coverage_scripts")
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


def comparison(frames: Frames, tpc: pd.Series) -> list[str]:
    """Across tokenizers: tokens per character as the headline, then mean premium and its
    spread; the most even spread is never named without its overall cost."""
    lines = []
    if len(tpc):
        lines.append("Headline — tokens per character over the whole corpus (lower is cheaper): "
                     + ", ".join(f"{n} {v:.3f}" for n, v in tpc.items()) + ".")
    summ = frame_or_none(frames, "premiums_summary")
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


#: ISO 15924 code of a FLORES-style category -> the Unicode scripts its text is written in
#: (the coverage frame names scripts the Unicode way)
CODE_SCRIPTS = {
    "Latn": {"Latin"}, "Cyrl": {"Cyrillic"}, "Grek": {"Greek"}, "Arab": {"Arabic"}, "Hebr": {"Hebrew"},
    "Deva": {"Devanagari"}, "Beng": {"Bengali"}, "Guru": {"Gurmukhi"}, "Gujr": {"Gujarati"}, "Orya": {"Oriya"},
    "Taml": {"Tamil"}, "Telu": {"Telugu"}, "Knda": {"Kannada"}, "Mlym": {"Malayalam"}, "Sinh": {"Sinhala"},
    "Thai": {"Thai"}, "Laoo": {"Lao"}, "Mymr": {"Myanmar"}, "Khmr": {"Khmer"}, "Tibt": {"Tibetan"},
    "Geor": {"Georgian"}, "Armn": {"Armenian"}, "Ethi": {"Ethiopic"}, "Hang": {"Hangul"}, "Kore": {"Hangul", "Han"},
    "Hans": {"Han"}, "Hant": {"Han"}, "Jpan": {"Han", "Hiragana", "Katakana"}, "Tfng": {"Tifinagh"},
    "Olck": {"Ol_Chiki"}, "Mtei": {"Meetei_Mayek"},
}
#: share of a tokenizer's alphabetic tokens in one script that makes the script "evident" (2% of
#: a 32k vocabulary is some 500 tokens: deliberate; gpt2's 0.2% Katakana is not)
EVIDENT_SCRIPT_SHARE = 0.02


def missing_script_caveats(frames: Frames) -> list[str]:
    """A caveat per tokenizer whose inferred mixture was fitted on a corpus lacking a script its
    vocabulary evidently serves (>= :data:`EVIDENT_SCRIPT_SHARE` of its alphabetic tokens): the
    attack credits that training data to whichever given category resembles it most."""
    mix, scripts = frame_or_none(frames, "mixture"), frame_or_none(frames, "coverage_scripts")
    if mix is None or scripts is None:
        return []
    written = set().union(*(CODE_SCRIPTS.get(c.rsplit("_", 1)[-1], set()) for c in set(mix["category"])
                            if is_language(c)))
    out = []
    for tok in dict.fromkeys(mix["tokenizer"]):
        rows = scripts[scripts["tokenizer"] == tok]
        if not len(rows):
            continue
        counts = rows.drop(columns="tokenizer").iloc[0].astype(float)
        total = counts.sum()
        lacking = counts[(counts >= EVIDENT_SCRIPT_SHARE * total) & ~counts.index.isin(sorted(written))] if total else []
        if len(lacking):
            said = ", ".join(f"{s} {100 * v / total:.0f}%" for s, v in lacking.sort_values(ascending=False).items())
            out.append(f"Caveat ({tok}): its vocabulary evidently serves scripts no corpus category is written in "
                       f"({said} of its alphabetic tokens); the inferred mixture credits that training data to "
                       "the given categories, so read its shares as relative to them only.")
    return out


def caveats(result: AuditResult, frames: Frames) -> tuple[list[str], dict[str, list[str]]]:
    """What qualifies the numbers, each once: the lines for the summary (unreliable mixtures,
    scripts the corpus lacks, flagged rows) and, per tokenizer, the analyses' notes not already
    said as a flag (shown on its card)."""
    out = []
    mix = frame_or_none(frames, "mixture")
    if mix is not None and "reliable" in mix.columns:
        bad = list(dict.fromkeys(mix.loc[~mix["reliable"].astype(bool), "tokenizer"]))
        if bad:
            out.append(f"Caveat: the inferred training mixture of {', '.join(bad)} is UNRELIABLE (see the mixture section).")
    out += missing_script_caveats(frames)
    seen: set[str] = set()
    said: set[tuple[str, tuple[str, ...]]] = set()
    for name in ("compression", "premiums"):
        frame = frame_or_none(frames, name)
        if frame is None or "flags" not in frame.columns:
            continue
        key = "category" if "category" in frame.columns else "language"
        flagged = frame[frame["flags"].astype(str).str.strip() != ""]
        by_flag = grouped([(str(r["flags"]), f"{r['tokenizer']}/{r[key]}") for _, r in flagged.iterrows()])
        for flag, items in by_flag.items():
            if (flag, tuple(items)) in said:  # the same flag on the same rows in another frame
                continue
            said.add((flag, tuple(items)))
            seen.update(items)
            out.append(f"Caveat ({name}): {flag} — {_flagged_rows(items, frame, key)}.")
    per_tok = grouped([(tok, note) for a in result.analyses if a != "coverage"
                       for tok, part in result.parts.get(a, {}).items() for note in part.notes
                       if not any(item in note for item in seen)])  # already said as a flag
    return out, per_tok


def _flagged_rows(items: list[str], frame: pd.DataFrame, key: str) -> str:
    """``tok: all 16`` when every row of a tokenizer is flagged, else ``tok: a, b, c``."""
    per_tok = grouped([tuple(item.rsplit("/", 1)) for item in items])
    rows = frame.drop_duplicates(["tokenizer", key])["tokenizer"].value_counts()  # one per language, any method
    parts = [f"{tok}: all {len(cats)}" if len(cats) == rows.get(tok, -1) else
             f"{tok}: " + ", ".join(cats[:5]) + (f" +{len(cats) - 5}" if len(cats) > 5 else "")
             for tok, cats in per_tok.items()]
    return "; ".join(parts)


def findings(result: AuditResult, frames: Frames) -> list[str]:
    """The executive summary: the comparison across tokenizers (tokens per character first),
    the check against a known mixture, and the caveats that apply to several results. What
    each tokenizer is good and bad at is on its card (:func:`build_cards`)."""
    import pandas as pd

    comp = frame_or_none(frames, "compression")
    tpc = tokens_per_char(comp) if comp is not None else pd.Series(dtype=float)
    lines = comparison(frames, tpc)
    check = mixture_check(frame_or_none(frames, "mixture"))
    if check:
        lines.append("Mixture inference, checked: " + check[0].lower() + check[1:])
    return lines + caveats(result, frames)[0]


def mixture_check(mix: pd.DataFrame | None) -> str:
    """How far the inferred mixture is from the known one, per tokenizer that has one: mean and
    largest absolute error in percentage points, unreliable fits said so."""
    if mix is None or "error" not in mix.columns or not mix["error"].notna().any():
        return ""
    parts = []
    for tok, rows in mix[mix["error"].notna()].groupby("tokenizer", sort=False):
        miss = rows.loc[rows["error"].abs().idxmax()]
        unreliable = "reliable" in rows.columns and not rows["reliable"].astype(bool).all()
        parts.append(f"{tok} off by {100 * rows['error'].abs().mean():.2f} points on average (largest miss "
                     f"{miss['category']}: {100 * float(miss['inferred']):.2f}% inferred vs {100 * float(miss['true']):.2f}% "
                     f"true)" + (", though flagged as an UNRELIABLE fit" if unreliable else ""))
    return "Against the known training mixture (byte shares of the training corpus): " + "; ".join(parts) + "."


def _class_words(name: str) -> str:
    """A class of unexplained merges (``mixture_unexplained``) in plain words."""
    if name.startswith("another language: "):
        return f"{name.removeprefix('another language: ')} text no category is written in"
    return name


def mixture_explained(frames: Frames, tok: str) -> str:
    """How many of ``tok``'s first 1,000 merges (all, when fewer were used) the offered categories
    explain — the merged pair is the fitted mixture's most frequent — and the two largest classes
    of those they do not, from ``mixture_diagnostics`` and ``mixture_unexplained``; ``""`` without them.

    Example:
        >>> mixture_explained(frames, "llm")   # doctest: +SKIP
        '31% of the 300 merges; unexplained: 44% Cyrillic text no category is written in, 23% same script ...'
    """
    diag = frame_or_none(frames, "mixture_diagnostics")
    if diag is None or tok not in set(diag["tokenizer"]):
        return ""
    rows = diag[diag["tokenizer"] == tok]
    total = int(rows.loc[rows["window"] == "all", "steps"].sum())
    head = rows[(rows["window"] != "all") & (rows["last"] <= 1000)]
    head = head if len(head) else rows[rows["window"] == "all"]
    n = int(head["steps"].sum())
    if not n:
        return ""
    text = (f"{int(head['explained'].sum()) / n:.0%} of the "
            + (f"first {n:,} merges" if total > n else f"{n:,} merges"))
    classes = frame_or_none(frames, "mixture_unexplained")
    if classes is not None and tok in set(classes["tokenizer"]):
        rows = classes[(classes["tokenizer"] == tok) & (classes["first_1000"] > 0)]
        rows = rows.sort_values("first_1000", ascending=False, kind="stable").head(2)
        parts = [f"{int(k) / n:.0%} {_class_words(str(c))}" for c, k in zip(rows["class"], rows["first_1000"],
                                                                              strict=True)]
        if parts:
            text += "; unexplained: " + ", ".join(parts)
    return text


# ------------------------------------------------------------------------------ cards


def _kind_line(info: dict) -> str:
    """``bpe from tokenizer.json, 50,257 entries, 50,000 merges``."""
    merges = info.get("merges")
    merges_text = "" if merges is None or merges != merges else f", {int(merges):,} merges"  # NaN: none
    return f"{info.get('kind', '?')} ({info.get('format', '?')}), {int(info.get('vocab_size') or 0):,} entries{merges_text}"


def _premium_facts(frames: Frames, tok: str) -> list[tuple[str, str]]:
    summ = frame_or_none(frames, "premiums_summary")
    if summ is None:
        return []
    rows = summ[(summ["tokenizer"] == tok) & (summ["method"] == "petrov")]
    if not len(rows):
        rows = summ[summ["tokenizer"] == tok]
    if not len(rows):
        return []
    row = rows.iloc[0]
    return [("mean premium", f"{row['mean']:.2f}× over {int(row['languages'])} languages"),
            ("worst language", f"{row['max_language']} {row['max']:.2f}×"),
            ("premium Gini", f"{row['gini']:.3f} (0 = every language costs the same)")]


def _mixture_facts(frames: Frames, tok: str) -> list[tuple[str, str]]:
    mix = frame_or_none(frames, "mixture")
    if mix is None or tok not in set(mix["tokenizer"]):
        return []
    rows = mix[mix["tokenizer"] == tok]
    top = rows.loc[rows["proportion"].idxmax()]
    reliable = "reliable" not in rows.columns or rows["reliable"].astype(bool).all()
    text = f"{top['category']} {100 * float(top['proportion']):.0f}%"
    if not reliable:
        text += " — flagged UNRELIABLE (the LP did not reach its optimum), not a result"
    elif "caution" in rows.columns and rows["caution"].astype(bool).any():
        text += " (caution: " + ", ".join(rows.loc[rows["caution"].astype(bool), "category"]) + " may be inflated)"
    if "error" in rows.columns and rows["error"].notna().any():
        text += (f"; checked against the known mixture: off by {100 * rows['error'].abs().mean():.2f} "
                 "points on average")
    facts = [("largest inferred training share", text)]
    explained = mixture_explained(frames, tok)
    if explained:
        facts.append(("merges the categories explain", explained))
    return facts


def _tokenizer_card(result: AuditResult, frames: Frames, info: dict, tpc: pd.Series,
                    prem: pd.DataFrame | None, notes: list[str]) -> Card:
    tok = str(info["name"])
    facts: list[tuple[str, str]] = []
    if tok in tpc.index:
        rank = list(tpc.index).index(tok) + 1
        where = "the dearest" if rank == len(tpc) else f"{_ordinal(rank)} cheapest"
        facts.append(("tokens per character", f"{tpc[tok]:.3f} ({where} of {len(tpc)})"
                      if len(tpc) > 1 else f"{tpc[tok]:.3f}"))
    facts += _premium_facts(frames, tok)
    comp = frame_or_none(frames, "compression")
    code = code_vs_prose(comp[comp["tokenizer"] == tok]) if comp is not None else ""
    if code:
        facts.append(("code vs prose", code))
    vocab = vocabulary_use(frames, tok)
    if vocab:
        facts.append(("vocabulary", vocab.removeprefix("vocabulary: ")))
    never = unreachable_text(frames, tok)
    if never:
        facts.append(("tokens no text produces", never))
    facts += _mixture_facts(frames, tok)
    lines = []  # the facts say the rest; the sentence adds where premiums are lowest and highest
    extremes = premium_extremes(prem[prem["tokenizer"] == tok]) if prem is not None else ""
    if extremes:
        lines.append(f"Premiums: {extremes}.")
    if notes:  # the first few, the rest are in the sections
        more = f"; and {len(notes) - 4} more in the sections below" if len(notes) > 4 else ""
        lines.append("Caveats: " + "; ".join(n.rstrip(".") for n in notes[:4]) + more + ".")
    failed = [f"{item}: {msg}" for item, msg in result.failures if item.endswith(f" on {tok}")]
    skipped = [f"{a} skipped: {why}" for a, t, why in result.skipped if t == tok]
    return Card(tok, _kind_line(info), facts, lines + [f"FAILED {f}" for f in failed] + skipped,
                status="failed" if failed else "ok")


def build_cards(result: AuditResult, frames: Frames) -> list[Card]:
    """One :class:`~tokbench.reports.document.Card` per audited tokenizer (its kind and size,
    tokens per character and rank, premiums, code vs prose, vocabulary, inferred mixture with
    its reliability; a sentence on what it is good and bad at, its caveats, what failed or was
    skipped), then one failed card per tokenizer that could not be loaded."""
    import pandas as pd

    comp = frame_or_none(frames, "compression")
    tpc = tokens_per_char(comp) if comp is not None else pd.Series(dtype=float)
    prem = petrov_rows(frame_or_none(frames, "premiums"))
    per_tok = caveats(result, frames)[1]
    cards = [_tokenizer_card(result, frames, info, tpc, prem, per_tok.get(info["name"], []))
             for info in result.tokenizers]
    cards += [Card(item.removeprefix("tokenizer "), "could not be loaded", [], [msg], status="failed")
              for item, msg in result.failures if item.startswith("tokenizer ")]
    return cards
