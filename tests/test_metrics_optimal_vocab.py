"""Per-language optimal vocabulary (Arnett et al. 2025): power-law fit and the regression
(tokbench.metrics.power_law), solve, truncation of a merge list, the FLORES pipeline
(tokbench.experiments.optimal_vocab), the command and the figure."""

from __future__ import annotations

import argparse
import math

import numpy as np
import pytest

from tokbench.corpora import Corpus, load_flores
from tokbench.errors import TokbenchError, UnknownLanguageError
from tokbench.experiments.optimal_vocab import (
    OptimalVocabError,
    optimal_vocab,
    parse_target,
    script_of,
    truncate_bpe,
)
from tokbench.metrics.power_law import (
    PowerLawError,
    PowerLawFit,
    fit_power_law,
    ols,
    regression_table,
)
from tokbench.trainers.bpe import train_bpe

LANGS = "eng_Latn,rus_Cyrl,tha_Thai"


def test_power_law_fit_by_hand():
    """CTC(v) = 10⁶ · v^(−1/2) at v = 1000, 2000, 4000, 8000.

    In log space log CTC = log 10⁶ − ½ log v is a straight line, so least squares recovers
    a = 10⁶ and b = ½ exactly with R² = 1. The CTCs are 10⁶/√v: 31 622.78, 22 360.68, 15 811.39,
    11 180.34. The vocabulary reaching a target of 20 000 tokens solves 10⁶ · v^(−½) = 20 000:
    v^½ = 10⁶ / 20 000 = 50, so v* = 50² = 2 500 — and the fit predicts CTC(2 500) = 10⁶/50 = 20 000.
    """
    v = [1000, 2000, 4000, 8000]
    ctc = [1e6 / math.sqrt(x) for x in v]
    fit = fit_power_law(v, ctc)
    assert fit.a == pytest.approx(1e6, rel=1e-9)
    assert fit.b == pytest.approx(0.5, rel=1e-9)
    assert fit.c == 0.0 and fit.r2 == pytest.approx(1.0)
    assert fit.solve(20_000) == pytest.approx(2500, rel=1e-9)
    assert fit.predict(2500) == pytest.approx(20_000, rel=1e-9)


def test_power_law_fit_by_hand_with_noise_and_offset():
    """Three points off a line in log space: log2 v = 10, 11, 12 and log2 CTC = 14, 13.5, 12.5.

    With x = log2 v centred at 11 (−1, 0, 1) and y = log2 CTC (mean 40/3), the slope is
    Σ(x−x̄)(y−ȳ)/Σ(x−x̄)² = ((−1)(2/3) + 0 + (1)(−5/6)) / 2 = −3/4, so b = 0.75 (the base of the
    logarithm cancels); the intercept at x = 0 is 40/3 + 0.75 · 11 = 21.58333, so a = 2^21.58333.
    Residuals: 14 − (40/3 + 0.75) = −1/12, 13.5 − 40/3 = 1/6, 12.5 − (40/3 − 0.75) = −1/12,
    SS_res = 1/144 + 4/144 + 1/144 = 1/24; SS_tot = 4/9 + 1/36 + 25/36 = 7/6; R² = 1 − (1/24)/(7/6) = 27/28.
    """
    v = [2.0**10, 2.0**11, 2.0**12]
    ctc = [2.0**14, 2.0**13.5, 2.0**12.5]
    fit = fit_power_law(v, ctc)
    assert fit.b == pytest.approx(0.75)
    assert fit.a == pytest.approx(2.0 ** (40 / 3 + 0.75 * 11))
    assert fit.r2 == pytest.approx(27 / 28)
    # Data made exactly as a·v^−b + c are recovered by the offset fit.
    v2 = np.array([500, 1000, 2000, 4000, 8000], float)
    fit2 = fit_power_law(v2, 3e5 * v2**-0.6 + 2000, offset=True)
    assert (fit2.b, fit2.c) == (pytest.approx(0.6, rel=1e-4), pytest.approx(2000, rel=1e-3))
    assert fit2.solve(1500) is None  # below the asymptote: unreachable
    assert PowerLawFit(a=1.0, b=-0.1, c=0.0, r2=1.0, n_points=3, offset=False).solve(0.5) is None


def test_ols_and_regression_table():
    r = ols([1.0, 3.0, 5.0, 7.0], [[0.0], [1.0], [2.0], [3.0]])
    assert r["coef"] == [pytest.approx(1.0), pytest.approx(2.0)] and r["r2"] == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    import pandas as pd

    n = 400
    frame = pd.DataFrame({
        "overlap": rng.random(n), "mean_token_chars": rng.random(n) * 3, "whitespace_share": rng.random(n),
        "script": ["Latn", "Cyrl", "Thai", "Arab"] * 100, "log_vocab": rng.random(n),
    })
    frame["ctc"] = 100 - 50 * frame["overlap"] + 10 * (frame["script"] == "Thai") + rng.normal(0, 1, n)
    table, coef = regression_table(frame, controls=("log_vocab",))
    by = table.set_index("model")
    assert by.loc["overlap", "r2"] > 0.5 and by.loc["mean_token_chars", "r2"] < 0.2
    assert by.loc["all features", "r2"] >= by.loc["numeric features", "r2"] > by.loc["overlap", "r2"] - 1e-12
    assert by.loc["all features", "k"] == 6  # 3 numeric + 3 script dummies
    assert by.loc["all features", "adj_r2"] < by.loc["all features", "r2"]
    assert set(coef["term"]) >= {"intercept", "overlap", "script_Thai", "log_vocab"}


def test_parse_target_and_script():
    assert parse_target(None, "eng_Latn", [1000, 2000, 4000, 8000]) == ("language", ("eng_Latn", 2000))
    assert parse_target("fra_Latn", "eng_Latn", [1000, 2000, 4000]) == ("language", ("fra_Latn", 2000))
    assert parse_target(("deu_Latn", 500), "eng_Latn", [1000]) == ("language", ("deu_Latn", 500))
    assert parse_target(12345, "eng_Latn", [1000]) == ("absolute", 12345.0)
    for bad in (0, -5, "nan", "eng_Latn@x", True, ("eng_Latn", "2000")):
        with pytest.raises(OptimalVocabError):
            parse_target(bad, "eng_Latn", [1000, 2000, 4000])
    assert script_of("zho_Hans") == "Hans" and script_of("code") == "other"


@pytest.fixture(scope="module")
def flores_small(flores_dir):
    """The first 500 dev lines (training) and 500 devtest lines (evaluation) of three languages."""
    dev, devtest = load_flores(LANGS, split="dev"), load_flores(LANGS, split="devtest")
    return (Corpus(dev.name + "[:500]", {c: d[:500] for c, d in dev}),
            Corpus(devtest.name + "[:500]", {c: d[:500] for c, d in devtest}))


@pytest.mark.parametrize("size", [257, 300, 777, 1500])
def test_truncating_a_merge_list_equals_training_at_that_size(flores_small, size):
    docs = flores_small[0].documents("rus_Cyrl")[:400]
    big = train_bpe(docs, vocab_size=1500, progress=False)
    direct = train_bpe(docs, vocab_size=size, progress=False)
    cut = truncate_bpe(big, size)
    assert cut.vocab == direct.tokenizer.vocab
    assert cut.merges == direct.tokenizer.merges
    text = flores_small[1].documents("rus_Cyrl")[:50]
    assert cut.encode_batch(text) == direct.tokenizer.encode_batch(text)


def test_truncation_at_every_size_with_specials_up_to_the_no_pairs_end():
    # A special token shifts the alphabet; tiny texts run out of pairs, so every size is checked.
    texts = ["ab ab abab", "ba ba"] * 3
    big = train_bpe(texts, vocab_size=300, special_tokens=["<s>"], allow_smaller=True, progress=False)
    for size in range(257, len(big.tokenizer.vocab) + 1):
        direct = train_bpe(texts, vocab_size=size, special_tokens=["<s>"], allow_smaller=True, progress=False)
        cut = truncate_bpe(big, size)
        assert cut.vocab == direct.tokenizer.vocab and cut.merges == direct.tokenizer.merges
    with pytest.raises(OptimalVocabError):
        truncate_bpe(big, len(big.tokenizer.vocab) + 1)
    with pytest.raises(OptimalVocabError):
        truncate_bpe(big, 200)


def test_three_flores_languages_end_to_end(flores_small):
    train, evals = flores_small
    res = optimal_vocab(train, evals, grid=[500, 1000, 2000], target="rus_Cyrl@1000", unreachable="flag")
    grid = res.grid_frame()
    assert list(grid.columns[:4]) == ["language", "script", "vocab_size", "log_vocab"]
    assert len(grid) == 9 and set(grid["script"]) == {"Latn", "Cyrl", "Thai"}
    # CTC falls with vocabulary for every language, and premiums are relative to English.
    for _, rows in grid.groupby("language"):
        assert rows.sort_values("vocab_size")["ctc"].is_monotonic_decreasing
    assert (grid[grid.language == "eng_Latn"]["premium"] == 1.0).all()
    # CTC is line by line with no specials: check one cell against a direct count.
    tok = truncate_bpe(train_bpe(train.documents("tha_Thai"), vocab_size=1000, progress=False), 1000)
    direct = sum(len(ids) for ids in tok.encode_batch(evals.documents("tha_Thai")))
    assert int(grid[(grid.language == "tha_Thai") & (grid.vocab_size == 1000)]["ctc"].iloc[0]) == direct
    fits = res.fits_frame()
    assert (fits["b"] > 0).all() and (fits["r2"] > 0.9).all()
    opt = res.optimal_frame().set_index("language")
    assert res.target["ctc"] == grid[(grid.language == "rus_Cyrl") & (grid.vocab_size == 1000)]["ctc"].iloc[0]
    # Within the grid the prediction holds to a few percent, and near it to about ten.
    inside = opt[~opt["extrapolated"]]
    assert len(inside) >= 1 and (inside["error"].abs() < 0.05).all()
    assert (opt["error"].abs() < 0.1).all()
    assert (opt["realized_vocab"] >= 256).all()
    assert opt.loc["tha_Thai", "optimal_vocab"] > opt.loc["eng_Latn", "optimal_vocab"]
    prem = res.premium_frame()
    prem = prem[prem.language_set == "all"].set_index("setting")
    assert prem.loc["optimal", "variance"] < prem.loc["shared", "variance"].min()
    assert prem.loc["optimal", "variance_reduction"] > 0.5
    reg = res.regression_frame()
    assert {"overlap", "mean_token_chars", "whitespace_share", "script", "all features"} <= set(reg["model"])
    assert reg["r2"].between(0, 1).all()
    assert res.signature.extra["grid"] == [500, 1000, 2000] and "->" in res.signature.short()
    ff = res.figure_frame()
    assert {"language", "vocab_size", "ctc", "a", "b", "c", "kind"} <= set(ff.columns)

    from tokbench.reports.optimal_vocab_figures import optimal_vocab_figure

    fig = optimal_vocab_figure(ff, target_ctc=res.target["ctc"])
    assert fig.axes and fig.axes[0].get_xscale() == "log"
    assert optimal_vocab_figure(ff, y="bytes_per_token").axes


def test_a_language_whose_text_runs_out_of_pairs_is_capped_and_flagged(flores_small):
    # GPT-2's regex splits Thai at every combining vowel sign, so 500 lines run out of pairs
    # long before the size English-level compression would need.
    train, evals = flores_small
    res = optimal_vocab(train, evals, grid=[500, 1000, 2000], target="eng_Latn@2000", unreachable="flag")
    opt = res.optimal_frame().set_index("language")
    assert opt.loc["tha_Thai", "capped"] and "runs out of pairs" in opt.loc["tha_Thai", "flags"]
    assert opt.loc["tha_Thai", "realized_vocab"] < opt.loc["tha_Thai", "optimal_vocab"]
    fits = res.fits_frame().set_index("language")
    assert fits.loc["tha_Thai", "stop_reason"] == "no_pairs"
    assert fits.loc["tha_Thai", "trained_vocab"] == opt.loc["tha_Thai", "realized_vocab"]
    prem = res.premium_frame()
    unc = prem[prem.language_set == "uncapped"].set_index("setting")
    assert unc.loc["optimal", "languages"] == 2 and unc.loc["optimal", "variance_ratio"] < 0.5


def test_running_out_of_pairs_is_flagged_not_hidden():
    lines = ["the cat sat on the mat", "a dog ran far away", "the end of it all"]
    other = ["le chat est sur le tapis", "un chien court loin", "la fin de tout cela"]
    train = Corpus("toy-train", {"eng_Latn": lines * 5, "fra_Latn": other * 5})
    evals = Corpus("toy-eval", {"eng_Latn": lines, "fra_Latn": other})
    res = optimal_vocab(train, evals, grid=[260, 270, 280, 2000], target=("eng_Latn", 270),
                        unreachable="flag")
    grid = res.grid_frame()
    big = grid[grid.vocab_size == 2000]
    assert (~big["in_fit"]).all() and big["flags"].str.contains("ran out of pairs").all()
    assert (big["actual_vocab"] < 2000).all()
    fits = res.fits_frame()
    assert (fits["stop_reason"] == "no_pairs").all()


def test_error_cases(flores_small):
    train, evals = flores_small
    with pytest.raises(OptimalVocabError, match="at least 3"):
        optimal_vocab(train, evals, grid=[1000, 2000])
    with pytest.raises(OptimalVocabError, match="at least 3"):
        optimal_vocab(train, evals, grid=[1000, 1000, 2000])
    with pytest.raises(UnknownLanguageError, match="kor_Hang"):
        optimal_vocab(train, evals, grid=[500, 1000, 2000], languages=["eng_Latn", "kor_Hang"])
    with pytest.raises(UnknownLanguageError, match="reference"):
        optimal_vocab(train.subset("rus_Cyrl,tha_Thai"), evals, grid=[500, 1000, 2000])
    with pytest.raises(OptimalVocabError, match="at least 2 languages"):
        optimal_vocab(train, evals.subset("eng_Latn"), grid=[500, 1000, 2000])
    with pytest.raises(OptimalVocabError, match="largest grid size"):
        optimal_vocab(train, evals, grid=[500, 1000, 2000], target="eng_Latn@8000")
    with pytest.raises(OptimalVocabError, match="above 256"):
        optimal_vocab(train, evals, grid=[200, 1000, 2000])
    # An offset fit whose asymptote lies above a tiny absolute target cannot reach it.
    small = train.subset("eng_Latn,rus_Cyrl")
    with pytest.raises(OptimalVocabError, match="cannot be reached"):
        optimal_vocab(small, evals.subset("eng_Latn,rus_Cyrl"), grid=[500, 1000, 2000, 4000],
                      target=1.0, offset=True)
    assert issubclass(OptimalVocabError, PowerLawError) and issubclass(PowerLawError, TokbenchError)
    with pytest.raises(PowerLawError, match="at least 3 distinct"):
        fit_power_law([1000, 2000, 2000], [30.0, 20.0, 20.0])


def test_command_writes_every_table(tmp_path, flores_dir, capsys, monkeypatch):
    from tokbench.cli import optimal_vocab as command

    monkeypatch.setenv("TOKBENCH_CACHE", str(tmp_path / "cache"))
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args([
        "--corpus-train", "flores:eng_Latn,fra_Latn,rus_Cyrl@dev?max_bytes=40k",
        "--corpus-eval", "flores:eng_Latn,fra_Latn,rus_Cyrl@devtest",
        "--grid", "400,600,800", "--out", str(tmp_path / "ov"), "--no-progress", "--jobs", "1",
    ])
    assert command.run(args) == 0
    out = capsys.readouterr().out
    assert "premiums optimal" in out and "signature:" in out
    names = {p.name for p in (tmp_path / "ov").iterdir()}
    assert {"grid.csv", "fits.csv", "optimal.csv", "premiums.csv", "regression.csv", "coefficients.csv",
            "signature.json", "optimal_vocab.png"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    with pytest.raises(OptimalVocabError, match="integers"):
        command.run(parser.parse_args(["--corpus-train", "x", "--corpus-eval", "y", "--grid", "1k,2k",
                                       "--out", str(tmp_path)]))
