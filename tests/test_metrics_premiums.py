"""Token premiums: hand-worked toys (both methods, bootstrap, Gini, blanking) and real FLORES."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest
from test_metrics_compression import char_tokenizer  # the shared toy (tests/ is on sys.path)

from tokbench.corpora import Corpus, load_flores
from tokbench.errors import CorpusError, EncodingError, TokbenchError, UnknownLanguageError
from tokbench.formats import load_tokenizer
from tokbench.metrics.premiums import bootstrap_weights, gini, premiums


def test_gini_by_hand():
    """Equal values -> 0. (0, 0, 1): sum |xi - xj| over ordered pairs = 4, mean 1/3, n = 3 ->
    4 / (2 * 9 * 1/3) = 2/3. (1, 3): 2*2 / (2 * 4 * 2) = 1/4."""
    assert gini([2.0, 2.0, 2.0]) == pytest.approx(0.0)
    assert gini([0, 0, 1]) == pytest.approx(2 / 3)
    assert gini([1, 3]) == pytest.approx(0.25)
    rows = gini(np.array([[1, 3, 0], [0, 0, 1]]), axis=1)  # one coefficient per row
    assert rows == pytest.approx([gini([1, 3, 0]), 2 / 3])


def test_bootstrap_weights_resample_n_with_replacement():
    w = bootstrap_weights(7, 50, seed=3)
    assert w.shape == (50, 7) and (w.sum(axis=1) == 7).all()
    assert (w == bootstrap_weights(7, 50, seed=3)).all()
    assert not (w == bootstrap_weights(7, 50, seed=4)).all()


def test_toy_premiums_by_hand():
    """Character tokenizer (one token per character, the space included).

    eng lines "ab", "c"; fra lines "abcd", "ef".
    arnett (line by line): eng 2 + 1 = 3, fra 4 + 2 = 6 -> premium 6/3 = 2.
    petrov (joined with one space): "ab c" = 4 tokens, "abcd ef" = 7 -> 7/4 = 1.75.
    Every bootstrap replicate of arnett is a ratio of sums over the same drawn lines; line 0 is
    2x (4 vs 2) and line 1 2x (2 vs 1), so every replicate is exactly 2 and the CI is [2, 2].
    """
    tok = char_tokenizer(" abcdef")
    corpus = Corpus("toy", {"eng_Latn": ["ab", "c"], "fra_Latn": ["abcd", "ef"]})
    res = premiums(tok, corpus, n_bootstrap=200, seed=0)
    frame = res.to_frame().set_index(["method", "language"])
    assert frame.loc[("arnett", "fra_Latn"), "ctc"] == 6
    assert frame.loc[("arnett", "fra_Latn"), "premium"] == 2.0
    assert frame.loc[("arnett", "fra_Latn"), ["ci_low", "ci_high"]].tolist() == [2.0, 2.0]
    assert frame.loc[("petrov", "fra_Latn"), "ctc"] == 7
    assert frame.loc[("petrov", "fra_Latn"), "premium"] == 1.75
    assert frame.loc[("petrov", "fra_Latn"), "ci_source"] == "joined offsets"
    summary = res.summary_frame().set_index("method")
    # arnett premiums (1, 2): mean 1.5, population variance 0.25, Gini |1-2|*2/(2*4*1.5) = 1/6
    assert summary.loc["arnett", "mean"] == 1.5 and summary.loc["arnett", "variance"] == 0.25
    assert summary.loc["arnett", "gini"] == pytest.approx(1 / 6)
    assert summary.loc["arnett", "max_language"] == "fra_Latn"


def test_identical_text_premium_is_exactly_one():
    tok = char_tokenizer(" abcdef")
    docs = ["ab c", "fed", "a"]
    res = premiums(tok, Corpus("toy", {"eng_Latn": docs, "xyz_Latn": list(docs)}), n_bootstrap=100)
    for row in res.rows:
        assert row["premium"] == 1.0 and row["ci_low"] == 1.0 and row["ci_high"] == 1.0


def test_unknown_characters_blank_the_pair():
    """fra "ab xy": x and y are unknown -> 2 of 5 characters (40% > 10%): blanked, kept out of
    the summary, and said in flags; the reference stays."""
    tok = char_tokenizer(" ab", unk=True)
    corpus = Corpus("toy", {"eng_Latn": ["ab ab"], "fra_Latn": ["ab xy"]})
    res = premiums(tok, corpus, n_bootstrap=10)
    fra = [r for r in res.rows if r["language"] == "fra_Latn"]
    assert all(r["blanked"] and r["premium"] is None and "blanked" in r["flags"] for r in fra)
    assert all(r["unk_share"] == pytest.approx(0.4) for r in fra)
    summary = res.summary_frame()
    assert (summary["blanked"] == 1).all() and (summary["languages"] == 1).all()


def test_bad_input_is_a_clear_error():
    tok = char_tokenizer(" abc")
    corpus = Corpus("toy", {"eng_Latn": ["ab"], "fra_Latn": ["a", "b"]})
    with pytest.raises(CorpusError, match="parallel"):
        premiums(tok, corpus)
    with pytest.raises(UnknownLanguageError, match="deu_Latn"):
        premiums(tok, Corpus("toy", {"eng_Latn": ["a"]}), languages=["deu_Latn"])
    with pytest.raises(UnknownLanguageError, match="eng_Latn"):
        premiums(tok, Corpus("toy", {"fra_Latn": ["a"]}))
    with pytest.raises(EncodingError, match="cannot encode"):  # no unknown token, no fallback
        premiums(tok, Corpus("toy", {"eng_Latn": ["a"], "rus_Cyrl": ["ж"]}))
    with pytest.raises(TokbenchError, match="method"):
        premiums(tok, Corpus("toy", {"eng_Latn": ["a"]}), methods=["nope"])  # type: ignore[list-item]


# ------------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def small_flores(flores_dir):
    return load_flores("eng_Latn,fra_Latn,hin_Deva,zho_Hans,amh_Ethi", split="both")


@pytest.mark.parametrize("name", ["cl100k_base.tiktoken", "llama_tokenizer.json", "mistral_v1.model"])
def test_real_counts_match_the_library(tokenizer_dir, small_flores, name):
    """petrov CTC = one encode of the space-joined lines; arnett = sum of per-line encodes; the
    per-sentence split of the joined encoding is exact (ci_source 'joined offsets')."""
    tok = load_tokenizer(tokenizer_dir / name)
    res = premiums(tok, small_flores, n_bootstrap=50)
    frame = res.to_frame().set_index(["method", "language"])
    for lang in ("fra_Latn", "amh_Ethi"):
        docs = small_flores.documents(lang)
        assert frame.loc[("petrov", lang), "ctc"] == len(tok.encode(" ".join(docs)))
        assert frame.loc[("arnett", lang), "ctc"] == sum(len(tok.encode(d)) for d in docs)
        assert frame.loc[("petrov", lang), "ci_source"] == "joined offsets"
        low, point, high = frame.loc[("petrov", lang), ["ci_low", "premium", "ci_high"]]
        assert low <= point <= high


def test_real_self_premium_is_one(tokenizer_dir, flores_dir):
    tok = load_tokenizer(tokenizer_dir / "gpt2")
    eng = load_flores("eng_Latn", split="dev").documents("eng_Latn")
    res = premiums(tok, Corpus("same", {"eng_Latn": eng, "cpy_Latn": list(eng)}), n_bootstrap=100)
    assert all(r["premium"] == 1.0 and r["ci_low"] == 1.0 == r["ci_high"] for r in res.rows)


def test_real_wordpiece_unknown_blanked(tokenizer_dir, small_flores):
    tok = load_tokenizer(tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json")
    res = premiums(tok, small_flores, n_bootstrap=20, methods=["arnett"])
    rows = {r["language"]: r for r in res.rows}
    assert rows["amh_Ethi"]["blanked"] and rows["amh_Ethi"]["premium"] is None
    assert not rows["fra_Latn"]["blanked"] and rows["fra_Latn"]["premium"] > 1


def test_cli_premiums_json(tokenizer_dir, flores_dir, capsys, tmp_path):
    from tokbench.cli import premiums as cmd

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    out = tmp_path / "p.json"
    args = parser.parse_args([str(tokenizer_dir / "gpt2"), "--corpus", "flores:eng_Latn,fra_Latn",
                              "--split", "dev", "--bootstrap", "20", "--json", "--out", str(out)])
    assert cmd.run(args) == 0
    data = json.loads(out.read_text())
    assert {r["language"] for r in data["rows"]} == {"eng_Latn", "fra_Latn"}
    assert data["signature"]["seed"] == 0
    bad = parser.parse_args([str(tokenizer_dir / "gpt2"), "--corpus", "flores:fra_Latn", "--split", "dev"])
    with pytest.raises(UnknownLanguageError):
        cmd.run(bad)


@pytest.mark.slow
def test_all_flores_languages(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir / "cl100k_base.tiktoken")
    res = premiums(tok, load_flores("all", split="both"), n_bootstrap=200)
    frame = res.to_frame()
    assert len(frame) == 2 * 204 and (frame["ci_source"] != "lines (scaled)").all()
    assert frame["premium"].notna().all()  # byte-level BPE: no unknown token


def test_real_results_follow_the_result_protocol(tokenizer_dir, small_flores):
    from tokbench.metrics.coverage import coverage
    from tokbench.results import Result, Signature

    tok = load_tokenizer(tokenizer_dir / "gpt2")
    for res in (premiums(tok, small_flores, n_bootstrap=10), coverage([tok])):
        assert isinstance(res, Result) and isinstance(res.signature, Signature)
        assert isinstance(res.notes, list) and len(res.to_frame())


# ------------------------------------------------- Petrov et al.'s script, to the token

#: The public GPT-2 split pattern, as tiktoken's ``r50k_base`` (written out: tiktoken would download it).
_R50K_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _petrov_script_text(flores_dir, lang):
    """The text Petrov et al.'s compute_tokenizations.py encodes, read as it reads it."""
    data = []
    for split in ("dev", "devtest"):
        with open(flores_dir / split / f"{lang}.{split}") as file:  # noqa: PTH123 - exactly their call
            data += file.read().split("\n")
    return " ".join(data)


def test_petrov_script_counts_match_the_libraries(tokenizer_dir, flores_dir, small_flores):
    """petrov_script=True: the CTC is the library's count of their script's text (tiktoken for
    r50k, HF tokenizers for Llama, no special tokens as their HF wrapper), and that text differs
    from the plain join, so the counts do too; the per-sentence split still aligns."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe
    from tokenizers import Tokenizer as HFTokenizer

    ranks = load_tiktoken_bpe(str(tokenizer_dir / "r50k_base.tiktoken"))
    r50k = tiktoken.Encoding(name="r50k_test", pat_str=_R50K_PATTERN, mergeable_ranks=ranks, special_tokens={})
    llama = HFTokenizer.from_file(str(tokenizer_dir / "llama_tokenizer.json"))
    library = {"r50k_base.tiktoken": lambda text: len(r50k.encode(text, disallowed_special=())),
               "llama_tokenizer.json": lambda text: len(llama.encode(text, add_special_tokens=False).ids)}
    langs = ["eng_Latn", "fra_Latn", "zho_Hans", "amh_Ethi"]
    for name, count in library.items():
        tok = load_tokenizer(tokenizer_dir / name)
        script = premiums(tok, small_flores, languages=langs, methods=["petrov"], petrov_script=True,
                          n_bootstrap=20).to_frame().set_index("language")
        plain = premiums(tok, small_flores, languages=langs, methods=["petrov"],
                         n_bootstrap=0).to_frame().set_index("language")
        differs = 0
        for lang in langs:
            text = _petrov_script_text(flores_dir, lang)
            assert script.loc[lang, "ctc"] == count(text), (name, lang)
            assert plain.loc[lang, "ctc"] == count(" ".join(small_flores.documents(lang))), (name, lang)
            assert script.loc[lang, "ci_source"] == "joined offsets"
            differs += script.loc[lang, "ctc"] != plain.loc[lang, "ctc"]
        assert differs >= 1, name  # the empty lines are extra separators, not a no-op
        eng = count(_petrov_script_text(flores_dir, "eng_Latn"))
        assert script.loc["zho_Hans", "premium"] == pytest.approx(count(_petrov_script_text(flores_dir, "zho_Hans")) / eng)


def test_petrov_script_needs_whole_flores_files(tokenizer_dir):
    from tokbench.metrics.premiums import joined_text

    assert joined_text(["a", "b", "c"], ends=[0, 2]) == " ".join(["a", "", "b", "c", ""])
    tok = load_tokenizer(tokenizer_dir / "gpt2")
    with pytest.raises(CorpusError, match="petrov_script"):
        premiums(tok, Corpus("toy", {"eng_Latn": ["a b", "c"], "fra_Latn": ["d", "e f"]}), petrov_script=True)


def test_cli_petrov_script_flag(tokenizer_dir, flores_dir, tmp_path):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    from tokbench.cli import premiums as cmd

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    out = tmp_path / "p.json"
    args = parser.parse_args([str(tokenizer_dir / "r50k_base.tiktoken"), "--corpus", "flores:eng_Latn,fra_Latn",
                              "--split", "both", "--method", "petrov", "--petrov-script", "--bootstrap", "0",
                              "--json", "--out", str(out)])
    assert cmd.run(args) == 0
    rows = {r["language"]: r for r in json.loads(out.read_text())["rows"]}
    ranks = load_tiktoken_bpe(str(tokenizer_dir / "r50k_base.tiktoken"))
    r50k = tiktoken.Encoding(name="r50k_test", pat_str=_R50K_PATTERN, mergeable_ranks=ranks, special_tokens={})
    for lang in ("eng_Latn", "fra_Latn"):
        assert rows[lang]["ctc"] == len(r50k.encode(_petrov_script_text(flores_dir, lang), disallowed_special=()))
