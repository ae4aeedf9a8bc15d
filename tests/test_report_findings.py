"""The report's executive summary and section intros are built from the numbers: tokens per
character is the headline, the premium baseline is explained, and an even spread of premiums is
never praised without the tokenizer's overall cost."""

from __future__ import annotations

import pandas as pd

from tokbench.audit.result import AuditResult, PartResult
from tokbench.reports.audit_report import PREMIUM_BASELINE, build_report
from tokbench.results import Signature

#: language -> (characters, bytes per character) of the hand-built corpus: Myanmar and Thai take
#: three bytes per character, so bytes/token flatters them while premiums show they are dearest
LANGS = {"eng_Latn": (1000, 1), "fra_Latn": (1100, 1), "tha_Thai": (900, 3), "mya_Mymr": (950, 3)}
#: tokenizer -> characters per token per language ("even" is uniformly poor: lowest Gini, dearest)
CPT = {"cheap": {"eng_Latn": 2.5, "fra_Latn": 2.0, "tha_Thai": 1.2, "mya_Mymr": 1.0},
       "even": {"eng_Latn": 1.2, "fra_Latn": 1.1, "tha_Thai": 0.9, "mya_Mymr": 0.8}}


def _gini(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return sum((2 * i - n + 1) * x for i, x in enumerate(v)) / (n * sum(v))


def _hand_built() -> AuditResult:
    comp, prem, summ = [], [], []
    for tok, cpt in CPT.items():
        ctc = {lang: round(chars / cpt[lang]) for lang, (chars, _) in LANGS.items()}
        for lang, (chars, bpc) in LANGS.items():
            comp.append({"tokenizer": tok, "category": lang, "bytes": chars * bpc, "chars": chars, "ctc": ctc[lang],
                         "bytes_per_token": chars * bpc / ctc[lang], "chars_per_token": chars / ctc[lang], "flags": ""})
            prem.append({"tokenizer": tok, "method": "petrov", "language": lang,
                         "premium": ctc[lang] / ctc["eng_Latn"], "flags": ""})
        ps = [p["premium"] for p in prem if p["tokenizer"] == tok]
        worst = max((p for p in prem if p["tokenizer"] == tok), key=lambda p: p["premium"])
        summ.append({"tokenizer": tok, "method": "petrov", "languages": len(ps), "mean": sum(ps) / len(ps),
                     "max": worst["premium"], "max_language": worst["language"], "gini": _gini(ps), "flags": ""})
    sig = Signature(tokenizers={})
    frames = {"compression": pd.DataFrame(comp), "premiums": pd.DataFrame(prem), "premiums_summary": pd.DataFrame(summ)}
    parts = {name: {tok: PartResult({n: f[f["tokenizer"] == tok] for n, f in frames.items() if n.startswith(name)}, sig)
                    for tok in CPT} for name in ("compression", "premiums")}
    return AuditResult(tokenizers=[{"name": t, "kind": "bpe", "fingerprint": t} for t in CPT],
                       analyses=["compression", "premiums"], parts=parts, corpus={"corpus": "hand"},
                       explanations={"compression": "EXPLAINED.", "premiums": "EXPLAINED."})


def _tokens_per_char(comp: pd.DataFrame) -> pd.Series:
    per = comp.groupby("tokenizer")[["ctc", "chars"]].sum()
    return per["ctc"] / per["chars"]


def _check_summary(result: AuditResult) -> list[str]:
    """Checks every report must pass; returns the summary lines."""
    report = build_report(result)
    frames = result.to_frames()
    summary = report.summary
    assert "tokens per character" in summary[0] and "bytes" not in summary[0].lower()  # the headline
    summ = frames["premiums_summary"][frames["premiums_summary"]["method"] == "petrov"]
    cards = {c.title: c for c in report.cards}
    for row in summ.itertuples():  # each tokenizer's most expensive language, by premium, on its card
        assert f"most expensive {row.max_language} {row.max:.2f}×" in cards[row.tokenizer].findings[0]
        assert dict(cards[row.tokenizer].facts)["worst language"] == f"{row.max_language} {row.max:.2f}×"
    tpc = _tokens_per_char(frames["compression"])
    even = summ.sort_values("gini").iloc[0]["tokenizer"]
    for line in summary:  # an even spread is never praised without the overall cost
        if "fairest" in line.lower() or "even spread" in line.lower():
            assert f"{tpc[even]:.3f} tokens/character" in line
    assert any(PREMIUM_BASELINE in line for line in summary)
    premiums = next(s for s in report.sections if s.title == result.titles.get("premiums", "premiums"))
    assert PREMIUM_BASELINE in premiums.explanation
    return summary


def test_hand_built_frame_where_bytes_per_token_and_premium_disagree() -> None:
    result = _hand_built()
    comp = result.to_frames()["compression"]
    cheap = comp[comp["tokenizer"] == "cheap"]
    # the premise: bytes/token ranks Thai and Myanmar above English while their premiums are highest
    by_lang = cheap.set_index("category")
    worst = result.to_frames()["premiums_summary"].set_index("tokenizer").loc["cheap", "max_language"]
    assert by_lang["bytes_per_token"][worst] > by_lang["bytes_per_token"]["eng_Latn"]
    summary = _check_summary(result)
    tpc = _tokens_per_char(comp)
    headline = summary[0]
    assert headline.index(tpc.idxmin()) < headline.index(tpc.idxmax())  # cheapest first
    assert any("even spread" in line and "even is not the same as cheap" in line and "dearest" in line for line in summary)
    report = build_report(result)
    section = next(s for s in report.sections if s.title == "compression")
    best_bytes = comp.loc[comp["bytes_per_token"].idxmax()]
    assert f"{best_bytes['tokenizer']}/{best_bytes['category']} best" in section.explanation
    assert section.explanation.endswith("EXPLAINED.")  # the generated sentences come first


def test_findings_on_real_audit(tokenizer_dir) -> None:
    from tokbench import audit

    result = audit([tokenizer_dir / "gpt2", tokenizer_dir / "mistral_v1.model"], corpus="sample:",
                   analyses=["coverage", "compression", "premiums"], progress=False)
    summary = _check_summary(result)
    cards = {c.title: c for c in build_report(result).cards}
    for tok in ("gpt2", "mistral_v1"):
        facts = dict(cards[tok].facts)
        assert "characters/token" in facts["code vs prose"] and "Latin" in facts["vocabulary"]
    # which tokens no text produces: every id classed once; gpt2's undecodable ones are exactly
    # its single bytes that never occur in UTF-8 (0xC0, 0xC1, 0xF5-0xFF)
    never = result.to_frames()["coverage_unreachable"].set_index("tokenizer")
    classes = [c for c in never.columns if c != "vocab_size"]
    assert (never[classes].sum(axis=1) == never["vocab_size"]).all()
    from tokbench.formats import load_tokenizer

    invalid = {bytes([b]) for b in (0xC0, 0xC1, *range(0xF5, 0x100))}
    assert never.loc["gpt2", "undecodable"] == sum(v in invalid for v in load_tokenizer(tokenizer_dir / "gpt2").vocab)
    assert dict(cards["gpt2"].facts)["tokens no text produces"].startswith(f"{never.loc['gpt2', 'undecodable']} of 50,257")
    caveats = [s for s in summary if s.startswith("Caveat")]
    flagged = result.to_frames()["premiums"].query("flags != ''")
    for row in flagged.itertuples():  # flagged languages reach the summary
        assert any(row.tokenizer in c and row.language in c for c in caveats)
    report = build_report(result)
    for name in result.analyses:
        section = next(s for s in report.sections if s.title == result.titles.get(name, name))
        generated = section.explanation.removesuffix(result.explanations.get(name, "")).strip()
        assert generated, f"{name} section has no sentence generated from its numbers"


def test_cards_state_each_tokenizers_cost_and_rank() -> None:
    """One card per tokenizer, with tokens per character and its rank computed from the frames,
    its worst language and mean premium; a tokenizer that failed to load gets a failed card."""
    result = _hand_built()
    result.failures.append(("tokenizer broken.json", "TokenizerFormatError: cannot read it"))
    cards = build_report(result).cards
    assert [c.title for c in cards] == ["cheap", "even", "broken.json"]
    tpc = _tokens_per_char(result.to_frames()["compression"]).sort_values()
    for rank, (name, value) in enumerate(tpc.items(), start=1):
        facts = dict(next(c for c in cards if c.title == name).facts)
        assert facts["tokens per character"].startswith(f"{value:.3f}")
        assert ("the cheapest" if rank == 1 else "the dearest of 2") in facts["tokens per character"]
        summ = result.to_frames()["premiums_summary"].set_index("tokenizer").loc[name]
        assert facts["worst language"] == f"{summ['max_language']} {summ['max']:.2f}×"
    assert cards[-1].status == "failed" and "cannot read it" in cards[-1].findings[0]


def test_compression_figure_leads_with_tokens_per_character_grouped_by_script() -> None:
    """The compression figure plots tokens per character (not bytes per token, which ranks the
    three-byte scripts 'best'), with languages grouped by script rather than ranked."""
    report = build_report(_hand_built())
    fig = next(f.figure for s in report.sections for f in s.figures if f.caption.startswith("Tokens per character"))
    ax = fig.axes[0]
    assert "tokens per character" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["eng_Latn", "fra_Latn", "mya_Mymr", "tha_Thai"]
    cheap_eng = [p.get_width() for p in ax.patches][0]
    assert cheap_eng == 1 / CPT["cheap"]["eng_Latn"]


def test_known_mixture_shown_beside_the_inferred_one() -> None:
    """The demo trains on a known mixture: the table gains true and error columns, a figure sets
    inferred against true, and the summary says how far off each fit is, unreliable ones flagged."""
    result = _hand_built()
    sig = Signature(tokenizers={})
    rows = {"cheap": ([0.5, 0.3, 0.2], True), "even": ([0.7, 0.2, 0.1], False)}
    for tok, (shares, reliable) in rows.items():
        frame = pd.DataFrame({"tokenizer": tok, "category": ["eng_Latn", "fra_Latn", "tha_Thai"],
                              "proportion": shares, "reliable": reliable,
                              "unreliable_reason": "" if reliable else "stopped at time_limit, gap 0.9"})
        result.parts.setdefault("mixture", {})[tok] = PartResult({"mixture": frame}, sig)
    result.analyses.append("mixture")
    result.true_mixtures = {"cheap": {"eng_Latn": 0.5, "fra_Latn": 0.25, "tha_Thai": 0.25},
                            "even": {"eng_Latn": 0.5, "fra_Latn": 0.25, "tha_Thai": 0.25}}
    report = build_report(result)
    check = next(line for line in report.summary if line.startswith("Mixture inference, checked"))
    assert "cheap off by 3.33 points on average" in check  # (0 + 5 + 5) / 3
    assert "even off by 13.33 points" in check and "UNRELIABLE" in check.split("even off")[1]
    section = next(s for s in report.sections if any("true" in f.caption for f in s.figures))
    table = section.tables[0]
    assert {"true", "error"} <= set(table.shown().columns)
    legend = [t.get_text() for t in section.figures[-1].figure.axes[0].get_legend().get_texts()]
    assert "even (unreliable fit)" in legend and "cheap" in legend


def test_caveat_when_the_corpus_lacks_a_script_the_vocabulary_serves() -> None:
    """Mistral's case: audited on a few Latin-script languages, its vocabulary spends a large
    share of alphabetic tokens on Han; the summary warns that the mixture credits that data to
    the given categories. A script the corpus covers, or a trace of one, is not warned about."""
    result = _hand_built()
    sig = Signature(tokenizers={})
    for tok in CPT:
        mix = pd.DataFrame({"tokenizer": tok, "category": ["eng_Latn", "fra_Latn"], "proportion": [0.6, 0.4],
                            "reliable": True})
        scripts = pd.DataFrame([{"tokenizer": tok, "Latin": 800, "Han": 150 if tok == "cheap" else 10, "Thai": 15}])
        result.parts.setdefault("mixture", {})[tok] = PartResult({"mixture": mix}, sig)
        result.parts.setdefault("coverage", {})[tok] = PartResult({"coverage_scripts": scripts}, sig)
    result.analyses += ["coverage", "mixture"]
    lines = [line for line in build_report(result).summary if "evidently serves" in line]
    assert len(lines) == 1 and lines[0].startswith("Caveat (cheap)") and "Han 16%" in lines[0]  # 150 of 965
    assert "Thai" not in lines[0]  # 1.5% of alphabetic tokens: below the 2% threshold


def test_interval_wording_only_when_intervals_were_computed() -> None:
    """The hand-built premiums have no ci_low/ci_high (as with --bootstrap 0): the caption says
    so instead of promising 95% intervals; with intervals it promises them."""
    result = _hand_built()
    captions = [f.caption for s in build_report(result).sections for f in s.figures if f.caption.startswith("Premium")]
    assert captions and all("no intervals" in c and "95%" not in c for c in captions)
    for part in result.parts["premiums"].values():
        frame = part.frames["premiums"]
        frame["ci_low"], frame["ci_high"] = frame["premium"] * 0.9, frame["premium"] * 1.1
    captions = [f.caption for s in build_report(result).sections for f in s.figures if f.caption.startswith("Premium")]
    assert all("with 95% bootstrap intervals" in c for c in captions)
