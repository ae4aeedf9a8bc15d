"""Byte-level BPE trainer: merge-for-merge parity with HF ``BpeTrainer``, the numba kernels
against their plain-Python twin, round trips through ``tokenizers``, and bad input.

Parity runs on FLORES-200 devtest English, French, Russian and Chinese plus a sample of real
Python code, at vocabulary 4,000 (default suite) and 16,000 (slow).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokbench.corpora import load_code, load_flores
from tokbench.errors import TokbenchError, UnknownNameError
from tokbench.trainers import TrainingError, get_trainer
from tokbench.trainers._reference import train_reference
from tokbench.trainers.bpe import train_bpe, word_counts
from tokbench.trainers.engine import run_bpe_kernel

PARITY_LANGS = "eng_Latn,fra_Latn,rus_Cyrl,zho_Hans"


# ------------------------------------------------------------------------------------ helpers


def hf_train(docs: list[str], vocab_size: int, *, special_tokens=(), min_frequency=0,
             max_token_length=None) -> dict:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False, special_tokens=list(special_tokens), min_frequency=min_frequency,
        max_token_length=max_token_length,
    )
    hf.train_from_iterator(docs, trainer=trainer)
    return json.loads(hf.to_str())


def file_merges(data: dict) -> list[tuple[str, str]]:
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in data["model"]["merges"]]


def assert_same_merges(docs: list[str], vocab_size: int, **options) -> int:
    expected = hf_train(docs, vocab_size, **options)
    trained = train_bpe(docs, vocab_size=vocab_size, progress=False, **options)
    ours = json.loads(trained.to_hf_json())
    want, got = file_merges(expected), file_merges(ours)
    first = next((k for k, (x, y) in enumerate(zip(want, got, strict=False)) if x != y), None)
    assert first is None and len(want) == len(got), (
        f"merge lists differ at {first}: HF {want[first:first + 3] if first is not None else len(want)} "
        f"vs tokbench {got[first:first + 3] if first is not None else len(got)}"
    )
    assert ours["model"]["vocab"] == expected["model"]["vocab"]
    assert {a["content"]: a["id"] for a in ours["added_tokens"]} == {
        a["content"]: a["id"] for a in expected["added_tokens"]}
    return len(got)


@pytest.fixture(scope="module")
def parity_docs(shared_data: Path) -> list[str]:
    flores = load_flores(PARITY_LANGS, split="devtest", flores_dir=shared_data / "flores200")
    code = load_code("python", code_dir=shared_data / "code").sample(max_bytes=300_000, seed=0)
    return [d for _, docs in flores for d in docs] + [d for _, docs in code for d in docs]


@pytest.fixture(scope="module")
def small_real_docs(shared_data: Path) -> list[str]:
    flores = load_flores("eng_Latn,rus_Cyrl,zho_Hans", split="dev", flores_dir=shared_data / "flores200")
    code = load_code("c", code_dir=shared_data / "code").sample(max_bytes=8_000, seed=1)
    return [d for _, docs in flores for d in docs[:40]] + [d for _, docs in code for d in docs]


# ------------------------------------------------------------------------------------- parity


def test_parity_with_hf_bpe_trainer_at_4000(parity_docs: list[str]):
    assert assert_same_merges(parity_docs, 4000) == 4000 - 256


def test_parity_with_special_tokens_min_frequency_and_max_length(parity_docs: list[str]):
    assert_same_merges(parity_docs, 1200, special_tokens=["<|endoftext|>", "<pad>", "<|endoftext|>"])
    assert_same_merges(parity_docs, 2000, max_token_length=4)
    n = assert_same_merges(parity_docs, 3000, min_frequency=40)
    assert n < 3000 - 256  # min_frequency stopped training early, as in HF


@pytest.mark.slow
def test_parity_with_hf_bpe_trainer_at_16000(parity_docs: list[str]):
    assert assert_same_merges(parity_docs, 16000) == 16000 - 256


# ------------------------------------------------------------------------- kernel vs reference


def _kernel_and_reference(words: list[tuple[list[int], int]], n_units: int, vocab_size: int, **options):
    units = [(u,) for u in range(n_units)]
    flat = np.array([s for w, _ in words for s in w], dtype=np.int32)
    lengths = np.array([len(w) for w, _ in words], dtype=np.int64)
    counts = np.array([c for _, c in words], dtype=np.int64)
    got, got_tokens, _ = run_bpe_kernel((flat, lengths), counts, units, vocab_size=vocab_size, **options)
    want, want_tokens = train_reference(words, units, vocab_size=vocab_size,
                                        min_frequency=options.get("min_frequency", 0),
                                        max_length=options.get("max_length"),
                                        forced=options.get("forced", ()))
    return [tuple(int(x) for x in row) for row in got], want, got_tokens, want_tokens


def test_kernel_equals_reference_on_small_real_corpus(small_real_docs: list[str]):
    table = word_counts(small_real_docs)
    words = [(list(w.encode("utf-8")), c) for w, c in table.items()]
    for options in ({}, {"max_length": 5}, {"min_frequency": 3}):
        got, want, got_tokens, want_tokens = _kernel_and_reference(words, 256, 900, **options)
        assert got == want, options
        assert got_tokens == want_tokens
    # Continuing from the first 300 merges replays them, then trains on.
    _, want, _, _ = _kernel_and_reference(words, 256, 900)
    forced = [(a, b) for a, b, _, _ in want[:300]]
    got, ref, _, _ = _kernel_and_reference(words, 256, 900, forced=forced)
    assert got == ref
    assert [m[:3] for m in got] == [m[:3] for m in want]


def test_reference_docstring_example():
    merges, tokens = train_reference([((0, 1, 2), 3), ((0, 1), 2)], [(97,), (98,), (99,)], vocab_size=5)
    assert merges == [(0, 1, 3, 5), (3, 2, 4, 3)]
    assert tokens[4] == (97, 98, 99)


_tiny_words = st.lists(
    st.tuples(st.lists(st.integers(0, 3), min_size=1, max_size=9), st.integers(1, 5)),
    min_size=1, max_size=14,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=_tiny_words, extra=st.integers(0, 25), max_length=st.one_of(st.none(), st.integers(2, 5)),
       min_frequency=st.integers(0, 3), n_forced=st.integers(0, 3))
def test_kernel_equals_reference_on_tiny_random_corpora(words, extra, max_length, min_frequency, n_forced):
    _, plain, _, _ = _kernel_and_reference(words, 4, 4 + extra)
    forced = [(a, b) for a, b, _, _ in plain[:n_forced]]
    got, want, got_tokens, want_tokens = _kernel_and_reference(
        words, 4, 4 + extra, max_length=max_length, min_frequency=min_frequency, forced=forced)
    assert got == want
    assert got_tokens == want_tokens


# ----------------------------------------------------------------------------- the tokenizer


def test_trained_tokenizer_loads_in_tokenizers_and_encodes_identically(parity_docs, shared_data, tmp_path):
    from tokenizers import Tokenizer as HFTokenizer

    from tokbench.formats import load_tokenizer

    trained = train_bpe(parity_docs, vocab_size=2000, special_tokens=["<|endoftext|>"], progress=False)
    tok = trained.tokenizer
    assert tok.vocab_size == 2000 and len(tok.merges) == 2000 - 257
    held_out = load_flores(PARITY_LANGS + ",deu_Latn,arb_Arab", split="dev",
                           flores_dir=shared_data / "flores200")
    texts = [d for _, docs in held_out for d in docs[:150]]
    texts += ["x = 1  # comment\n\tif y:\n        return '<|endoftext|>'", "  spaces   and\n\nnewlines  "]
    path = trained.save(tmp_path / "tokenizer.json")
    hf = HFTokenizer.from_file(str(path))
    reloaded = load_tokenizer(path)
    for text in texts:
        native = tok.encode(text, backend="native")
        assert native == hf.encode(text, add_special_tokens=False).ids
        assert native == tok.encode(text, backend="reference") == reloaded.encode(text)
        assert tok.decode(native) == text
    assert tok.special_tokens == {"<|endoftext|>": 0}
    assert trained.signature.tokenizers == {tok.name: tok.fingerprint}
    assert trained.signature.corpus["corpus"] == "texts"
    flores = load_flores("eng_Latn", split="dev", flores_dir=shared_data / "flores200")
    assert train_bpe(flores, vocab_size=300, progress=False).signature.corpus == flores.signature()


def test_merge_counts_are_the_pair_counts_at_each_step():
    trained = train_bpe(["low lower lowest"] * 3, vocab_size=260, progress=False)
    vocab = trained.tokenizer.vocab
    assert [vocab[i] for i in range(256, 260)] == [b"lo", b"low", b" low", b" lowe"]
    assert trained.merge_counts.tolist() == [9, 9, 6, 6]
    assert trained.merges == trained.tokenizer.merges
    assert trained.stop_reason == "vocab_size"


def test_continuing_a_merge_list_matches_training_straight_through(small_real_docs):
    short = train_bpe(small_real_docs, vocab_size=600, progress=False)
    full = train_bpe(small_real_docs, vocab_size=1000, progress=False)
    continued = train_bpe(small_real_docs, vocab_size=1000, initial_merges=short.tokenizer, progress=False)
    assert continued.merges == full.merges
    assert continued.merge_counts.tolist() == full.merge_counts.tolist()
    assert continued.tokenizer.vocab == full.tokenizer.vocab


def test_other_patterns_and_word_count_tables():
    text = ["Hello   world's 12345 numbers\n\n  x"]
    counts = word_counts(text, "cl100k")
    assert counts["123"] == 1 and counts["45"] == 1
    assert sum(len(w) * c for w, c in counts.items()) == len(text[0])
    by_regex = train_bpe(text * 4, vocab_size=262, pattern=r"\w+|\W", progress=False)
    assert all(b" " not in by_regex.tokenizer.vocab[i] or len(by_regex.tokenizer.vocab[i]) == 1
               for i in range(256, 262))
    from_table = train_bpe({"hello": 5, " world": 2}, vocab_size=260, progress=False)
    assert from_table.tokenizer.tokens("hello world") == [b"hello", b" ", b"w", b"o", b"r", b"l", b"d"]
    assert from_table.merge_counts.tolist() == [5, 5, 5, 5]
    assert get_trainer("bpe") is train_bpe


def test_a_merge_that_spells_a_special_token_reuses_its_id_as_in_hf():
    from tokenizers import Tokenizer as HFTokenizer

    docs = ["ab abc abc ab aab"] * 3
    expected = hf_train(docs, 262, special_tokens=["ab", "<s>"])
    trained = train_bpe(docs, vocab_size=262, special_tokens=["ab", "<s>"], allow_smaller=True,
                        progress=False)
    ours = json.loads(trained.to_hf_json())
    assert file_merges(ours) == file_merges(expected) == [
        ("a", "b"), ("Ġ", "ab"), ("Ġab", "c"), ("a", "ab"), ("Ġ", "aab")]
    assert ours["model"]["vocab"] == expected["model"]["vocab"]
    assert trained.merged_ids[0] == 0  # "a" + "b" is the special token "ab"
    hf = HFTokenizer.from_str(trained.to_hf_json())
    text = "aab abc ab"
    assert trained.tokenizer.encode(text, backend="native") == hf.encode(text, add_special_tokens=False).ids


@settings(max_examples=60, deadline=None)
@given(docs=st.lists(st.text(alphabet="aab c\n", min_size=1, max_size=30), min_size=1, max_size=6),
       extra=st.integers(1, 30), max_token_length=st.sampled_from([None, None, 3, 4, 5]))
def test_parity_with_hf_on_tiny_random_texts(docs, extra, max_token_length):
    expected = hf_train(docs, 256 + extra, max_token_length=max_token_length)
    trained = train_bpe(docs, vocab_size=256 + extra, max_token_length=max_token_length,
                        allow_smaller=True, progress=False)
    assert file_merges(json.loads(trained.to_hf_json())) == file_merges(expected)


# --------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("texts", [[], [""], ["", ""], {}])
def test_empty_corpus_is_a_clear_error(texts):
    with pytest.raises(TrainingError, match="empty"):
        train_bpe(texts, vocab_size=300, progress=False)


def test_vocab_smaller_than_the_alphabet_is_a_clear_error():
    with pytest.raises(TrainingError, match="smaller than the alphabet.*at least 258"):
        train_bpe(["abc"], vocab_size=257, special_tokens=["<s>", "</s>"], progress=False)


def test_running_out_of_pairs_is_a_clear_error_unless_allowed():
    with pytest.raises(TrainingError, match="no pair left to merge after 259 tokens"):
        train_bpe(["abc abc"], vocab_size=400, progress=False)
    small = train_bpe(["abc abc"], vocab_size=400, allow_smaller=True, progress=False)
    assert small.tokenizer.vocab_size == 259 and small.stop_reason == "no_pairs"


def test_trained_results_follow_the_result_protocol(small_real_docs):
    """Every family's result is a Result: its signature, the merge list (BPE) or the vocabulary
    as a table, and a note when the vocabulary came out smaller than asked for."""
    from tokbench.results import Result, Signature
    from tokbench.trainers.char_bpe import train_char_bpe

    trained = train_bpe(small_real_docs, vocab_size=600, progress=False)
    assert isinstance(trained, Result) and isinstance(trained.signature, Signature)
    assert trained.notes == []
    frame = trained.to_frame()
    assert list(frame.columns) == ["rank", "left", "right", "merged_id", "count", "token"]
    assert len(frame) == 600 - 256 and (frame["count"].to_numpy() == trained.merge_counts).all()
    vocab = trained.tokenizer.vocab
    assert all(vocab[a] + vocab[b] == t for a, b, t in frame[["left", "right", "token"]].itertuples(index=False))
    small = train_char_bpe(small_real_docs[:3], vocab_size=100_000, allow_smaller=True, progress=False)
    assert isinstance(small, Result) and len(small.notes) == 1 and "ran out of pairs" in small.notes[0]
    baseline = get_trainer("hf-wordpiece")(small_real_docs, vocab_size=3000, progress=False)
    assert isinstance(baseline, Result)
    assert baseline.to_frame()["token"].tolist() == baseline.tokenizer.vocab


def test_trainer_registry_resolves_aliases_and_lists_names_on_a_typo():
    from tokbench.registry import Registry
    from tokbench.trainers import ALIASES, TRAINERS
    from tokbench.trainers.char_bpe import train_char_bpe

    assert isinstance(TRAINERS, Registry) and "superbpe" in TRAINERS
    assert all(get_trainer(alias) is get_trainer(name) for alias, name in ALIASES.items())
    assert get_trainer("CHAR") is train_char_bpe
    with pytest.raises(UnknownNameError, match="valid names: bpe, char_bpe"):
        get_trainer("bpee")


def test_bad_options_are_clear_errors():
    with pytest.raises(UnknownNameError, match="valid names: cl100k.*gpt2"):
        train_bpe(["abc"], vocab_size=300, pattern="gpt5", progress=False)
    with pytest.raises(TokbenchError, match="not a valid regex"):
        train_bpe(["abc"], vocab_size=300, pattern="(unclosed", progress=False)
    with pytest.raises(TrainingError, match="max_token_length"):
        train_bpe(["abc"], vocab_size=300, max_token_length=1, progress=False)
    with pytest.raises(TrainingError, match="single byte-level character"):
        train_bpe(["abc"], vocab_size=300, special_tokens=["!"], progress=False)
    with pytest.raises(TrainingError, match="no earlier merge made"):
        train_bpe(["abc"], vocab_size=300, initial_merges=[(b"ab", b"c")], progress=False)
    short = train_bpe(["abcabc abd"] * 2, vocab_size=262, allow_smaller=True, progress=False)
    with pytest.raises(TrainingError, match="already makes 26[0-9] tokens, more than vocab_size 258"):
        train_bpe(["abc"], vocab_size=258, initial_merges=short, progress=False)
    with pytest.raises(UnknownNameError, match="unknown trainer 'bpe2'"):
        get_trainer("bpe2")


def test_train_command_writes_tokenizer_and_trace(tmp_path, shared_data, capsys):
    import argparse
    import csv

    from tokbench.cli import train as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    out, trace = tmp_path / "tok.json", tmp_path / "merges.csv"
    spec = f"{shared_data / 'flores200' / 'dev' / 'eng_Latn.dev'}"
    args = parser.parse_args(["--corpus", spec, "--vocab-size", "400", "--out", str(out),
                              "--trace", str(trace), "--no-progress"])
    assert command.run(args) == 0
    rows = list(csv.DictReader(trace.open(encoding="utf-8")))
    trained = train_bpe(load_flores("eng_Latn", split="dev", flores_dir=shared_data / "flores200"),
                        vocab_size=400, progress=False)
    assert [int(r["count"]) for r in rows] == trained.merge_counts.tolist()
    assert json.loads(out.read_text(encoding="utf-8"))["model"]["merges"] == \
        json.loads(trained.to_hf_json())["model"]["merges"]
    assert "signature tok=" in capsys.readouterr().out
    bad = parser.parse_args(["--corpus", spec, "--vocab-size", "400", "--out", str(out), "--kind",
                             "char_bpe", "--continue-from", str(out)])
    with pytest.raises(TokbenchError, match="--continue-from works with --kind bpe only"):
        command.run(bad)
