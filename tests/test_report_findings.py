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
    for row in summ.itertuples():  # each tokenizer's most expensive language, by premium
        line = next(s for s in summary if s.startswith(f"{row.tokenizer}:"))
        assert f"most expensive {row.max_language} {row.max:.2f}×" in line
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
    for tok in ("gpt2", "mistral_v1"):
        line = next(s for s in summary if s.startswith(f"{tok}:"))
        assert "code" in line and "vocabulary:" in line and "Latin" in line
    caveats = [s for s in summary if s.startswith("Caveat")]
    flagged = result.to_frames()["premiums"].query("flags != ''")
    for row in flagged.itertuples():  # flagged languages reach the summary
        assert any(row.tokenizer in c and row.language in c for c in caveats)
    report = build_report(result)
    for name in result.analyses:
        section = next(s for s in report.sections if s.title == result.titles.get(name, name))
        generated = section.explanation.removesuffix(result.explanations.get(name, "")).strip()
        assert generated, f"{name} section has no sentence generated from its numbers"
