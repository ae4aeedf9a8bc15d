"""Merge-list-free and merge-list encoders (numba kernels) against their plain-Python twins and
against the reference libraries, on real tokenizers and real text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tokbench
from tokbench.attacks.mergefree import _reference as twin
from tokbench.attacks.mergefree.encoders import MergeFreeEncoder, corrupt_merges
from tokbench.attacks.mergefree.evaluate import evaluate_mergefree
from tokbench.errors import EncodingError, TokbenchError, UnsupportedTokenizerError
from tokbench.model.bpe import apply_merges, merge_rank_lookup
from tokbench.model.pretokenizers import NoPreTokenizer

BYTE_LEVEL = ["gpt2", "r50k_base.tiktoken", "cl100k_base.tiktoken", "qwen2_tokenizer.json",
              "gpt-neox_tokenizer.json", "olmo2_tokenizer.json"]


@pytest.fixture(scope="module")
def texts(flores_dir: Path, code_dir: Path) -> list[str]:
    out: list[str] = []
    for path in sorted((flores_dir / "devtest").glob("*.devtest"))[::3]:
        out.extend(path.read_text(encoding="utf-8").splitlines()[:4])
    for path in sorted(code_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            out.extend(json.loads(next(handle))["text"][:4000] for _ in range(1))
    return out


@pytest.fixture(scope="module")
def loaded(tokenizer_dir: Path) -> dict[str, tokbench.Tokenizer]:
    return {}


def _tok(loaded: dict, tokenizer_dir: Path, name: str) -> tokbench.Tokenizer:
    if name not in loaded:
        loaded[name] = tokbench.load_tokenizer(tokenizer_dir / name)
    return loaded[name]


@pytest.mark.parametrize("name", BYTE_LEVEL)
def test_numba_bpe_equals_reference_library(tokenizer_dir, texts, loaded, name):
    tok = _tok(loaded, tokenizer_dir, name)
    encoder = MergeFreeEncoder(tok, "bpe")
    expected = tok.encode_batch(texts)  # tiktoken / tokenizers
    got = encoder.encode_batch(texts)
    wrong = [i for i in range(len(texts)) if got[i] != expected[i]]
    assert not wrong, f"{name}: {len(wrong)} texts differ, first {texts[wrong[0]][:60]!r}"


@pytest.mark.parametrize("name", ["gpt2", "cl100k_base.tiktoken", "mistral_v1.model", "llama_tokenizer.json"])
def test_greedy_and_minimal_kernels_equal_python_twins_and_round_trip(tokenizer_dir, texts, loaded, name):
    tok = _tok(loaded, tokenizer_dir, name)
    vocab = {}
    for i in sorted(range(tok.vocab_size), key=lambda i: (i in tok.byte_fallback_ids, i)):
        if i not in tok.special_ids and i not in tok.unused_ids and tok.vocab[i]:
            vocab.setdefault(tok.vocab[i], i)
    max_len = max(map(len, vocab))
    greedy, minimal = MergeFreeEncoder(tok, "greedy"), MergeFreeEncoder(tok, "minimal")
    pieces = list(dict.fromkeys(p for t in texts[::4] for p, added in tok.native.piece_bytes(t) if added is None))
    for piece, g, m in zip(pieces, greedy.encode_pieces(pieces), minimal.encode_pieces(pieces), strict=True):
        assert g == twin.greedy(piece, vocab, max_len=max_len)
        assert m == twin.minimal(piece, vocab, max_len=max_len)
        assert b"".join(tok.vocab[i] for i in g) == piece == b"".join(tok.vocab[i] for i in m)
        assert len(m) <= len(g)


@pytest.mark.parametrize("name", ["gpt2", "cl100k_base.tiktoken"])
def test_minimal_never_longer_than_any_encoder_per_pretoken(tokenizer_dir, texts, loaded, name):
    tok = _tok(loaded, tokenizer_dir, name)
    encoders = [MergeFreeEncoder(tok, m) for m in ("bpe", "greedy", "minimal")]
    encoders.append(MergeFreeEncoder(tok, "bpe", merges=corrupt_merges(tok.merges, "shuffle", seed=1)))
    pieces = list(dict.fromkeys(p for t in texts for p, added in tok.native.piece_bytes(t) if added is None))
    bpe, greedy, minimal, shuffled = (e.encode_pieces(pieces) for e in encoders)
    for k, piece in enumerate(pieces):
        assert len(minimal[k]) <= min(len(bpe[k]), len(greedy[k]), len(shuffled[k]))
        for seg in (bpe[k], greedy[k], minimal[k], shuffled[k]):
            assert b"".join(tok.vocab[i] for i in seg) == piece


def test_decode_round_trip_through_reference(tokenizer_dir, texts, loaded):
    tok = _tok(loaded, tokenizer_dir, "cl100k_base.tiktoken")
    for mode in ("greedy", "minimal"):
        encoder = MergeFreeEncoder(tok, mode)
        for text in texts[:40]:
            assert tok.decode(encoder.encode(text)) == text


@settings(max_examples=200, deadline=None)
@given(
    extra=st.lists(st.text(alphabet="abcd", min_size=2, max_size=5).map(str.encode), max_size=25),
    data=st.binary(max_size=40).map(lambda b: bytes(b"abcd"[x % 4] for x in b)),
)
def test_kernels_equal_twins_on_random_vocabularies(extra, data):
    """Random vocabularies over the alphabet {a,b,c,d} (all single bytes present, so any input
    is coverable) and random inputs: kernel and twin agree, minimal <= greedy, all round-trip."""
    tokens = [bytes([b]) for b in range(256)] + list(dict.fromkeys(t for t in extra if len(t) > 1))
    tok = tokbench.Tokenizer(vocab=tokens, kind="bpe", name="random", fingerprint="0" * 64)
    tok._native = _BytesPipeline()
    vocab = {t: i for i, t in enumerate(tokens)}
    greedy = MergeFreeEncoder(tok, "greedy").encode_pieces([data])[0]
    minimal = MergeFreeEncoder(tok, "minimal").encode_pieces([data])[0]
    assert greedy == twin.greedy(data, vocab)
    assert minimal == twin.minimal(data, vocab)
    assert len(minimal) <= len(greedy)
    assert b"".join(tokens[i] for i in minimal) == data


@settings(max_examples=150, deadline=None)
@given(
    merges=st.lists(st.tuples(st.integers(97, 100), st.integers(97, 100)), max_size=12, unique=True),
    data=st.binary(max_size=30).map(lambda b: bytes(b"abcd"[x % 4] for x in b)),
)
def test_bpe_kernel_equals_python_apply_merges(merges, data):
    """The numba BPE kernel against tokbench.model.bpe.apply_merges on random merge lists whose
    merges build on bytes and on earlier merges' results."""
    tokens = [bytes([b]) for b in range(256)]
    pairs: list[tuple[int, int]] = []
    for a, b in merges:
        # Let later merges use earlier results: map 100 ('d') to the previous merged token.
        left = a if a != 100 or not pairs else 256 + len(pairs) - 1
        new = tokens[left] + tokens[b]
        if new in tokens:
            continue
        pairs.append((left, b))
        tokens.append(new)
    tok = tokbench.Tokenizer(vocab=tokens, kind="bpe", name="random", fingerprint="0" * 64,
                             _merges=pairs, source_format="trained")
    tok._native = _BytesPipeline()
    got = MergeFreeEncoder(tok, "bpe").encode_pieces([data])[0]
    expected = apply_merges(list(data), merge_rank_lookup(pairs, first_new_id=256))
    assert got == expected


class _BytesPipeline:
    """The whole text as one piece of UTF-8 bytes (for synthetic tokenizers)."""

    ignore_merges = False
    pretokenizer = NoPreTokenizer()

    def segments(self, text: str):
        return [(text, None)] if text else []

    def piece_bytes(self, text: str):
        return [(text.encode(), None)] if text else []

    @staticmethod
    def piece_to_bytes(piece: str) -> bytes:
        return piece.encode()

    def split_segment(self, segment: str, at_start: bool) -> list[str]:
        return [segment]


def test_corruptions(tokenizer_dir, loaded):
    merges = _tok(loaded, tokenizer_dir, "gpt2").merges
    assert corrupt_merges(merges, "shuffle", seed=3) == corrupt_merges(merges, "shuffle", seed=3)
    assert corrupt_merges(merges, "shuffle", seed=3) != corrupt_merges(merges, "shuffle", seed=4)
    assert sorted(corrupt_merges(merges, "shuffle", seed=3)) == sorted(merges)
    deleted = corrupt_merges(merges, "delete", fraction=0.25, seed=0)
    assert len(deleted) == len(merges) - round(0.25 * len(merges))
    assert set(deleted) <= set(merges)
    assert corrupt_merges(merges, "truncate", keep=10) == merges[:10]
    with pytest.raises(TokbenchError, match="keep"):
        corrupt_merges(merges, "truncate")
    with pytest.raises(TokbenchError, match="fraction"):
        corrupt_merges(merges, "delete", fraction=1.5)


def test_truncated_to_nothing_gives_bytes(tokenizer_dir, loaded):
    tok = _tok(loaded, tokenizer_dir, "gpt2")
    encoder = MergeFreeEncoder(tok, "bpe", merges=[])
    text = "Merge lists are unnecessary."
    assert [tok.vocab[i] for i in encoder.encode(text)] == [bytes([b]) for b in text.encode()]


def test_long_pretoken_is_not_quadratic(tokenizer_dir, loaded):
    """A 100k-character run is one pretoken under cl100k's pattern; all encoders finish and agree
    on the bytes (the throughput scaling is measured in benchmarks/bench_mergefree.py)."""
    tok = _tok(loaded, tokenizer_dir, "cl100k_base.tiktoken")
    text = "a" * 100_000
    for mode in ("bpe", "greedy", "minimal"):
        ids = MergeFreeEncoder(tok, mode).encode(text)
        assert b"".join(tok.vocab[i] for i in ids) == text.encode()
    assert MergeFreeEncoder(tok, "bpe").encode("a" * 20_000) == tok.encode("a" * 20_000)


def test_bad_input(tokenizer_dir, loaded):
    tok = _tok(loaded, tokenizer_dir, "cl100k_base.tiktoken")
    encoder = MergeFreeEncoder(tok, "minimal")
    assert encoder.encode("") == []
    with pytest.raises(EncodingError):
        encoder.encode("bad \ud800 surrogate")
    with pytest.raises(EncodingError):
        encoder.encode(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(TokbenchError, match="valid modes"):
        MergeFreeEncoder(tok, "fastest")  # type: ignore[arg-type]
    sp = _tok(loaded, tokenizer_dir, "mistral_v1.model")
    with pytest.raises(UnsupportedTokenizerError, match="encode_strings"):
        MergeFreeEncoder(sp, "bpe").encode_pieces([b"hello"])


def test_vocabulary_missing_bytes_is_a_clear_error():
    """A non-byte-level vocabulary (only 'a', 'b', 'ab'): text with another byte cannot be
    segmented, and the error says the vocabulary is not byte-complete."""
    tok = tokbench.Tokenizer(vocab=[b"a", b"b", b"ab"], kind="bpe", name="tiny", fingerprint="0" * 64)
    tok._native = _BytesPipeline()
    for mode in ("greedy", "minimal"):
        encoder = MergeFreeEncoder(tok, mode)
        assert encoder.encode("abab") == [2, 2]
        with pytest.raises(EncodingError, match="not byte-complete"):
            encoder.encode("abc")


def test_evaluation_on_real_corpus(tokenizer_dir, loaded):
    tok = _tok(loaded, tokenizer_dir, "gpt2")
    corpus = tokbench.load_corpus("sample:eng_Latn,rus_Cyrl,python")
    frame = evaluate_mergefree(tok, corpus, seed=0).to_frame()
    standard = frame[frame["variant"] == "standard"].set_index("category")
    # Standard tokens equal the reference library's count over the same documents.
    for category, documents in corpus:
        assert standard.loc[category, "tokens"] == sum(map(len, tok.encode_batch(documents)))
    minimal = frame[frame["variant"] == "minimal"].set_index("category")
    assert (minimal["tokens"] <= standard["tokens"]).all()
    shuffled = frame[frame["variant"] == "shuffled merges"].set_index("category")
    assert (shuffled["relative_to_standard"] > 1.0).all()
    assert frame["pieces_changed_share"].between(0, 1).all()
    assert np.isfinite(frame["tokens_per_byte"]).all()


def test_variant_a_tokenizer_cannot_run_is_noted_not_fatal():
    """A model without a merge list cannot have its merges damaged: the default variants still
    list the three corruptions, and the evaluation runs greedy/minimal and notes each one it left
    out, with the reason, instead of silently returning fewer rows."""
    from tokbench.attacks.mergefree import MergeFreeResult, default_variants
    from tokbench.results import Result

    tok = tokbench.Tokenizer(vocab=[bytes([b]) for b in range(256)] + [b"ab"], kind="bpe", name="no-merges",
                             fingerprint="0" * 64)
    tok._native = _BytesPipeline()
    tok._native.encode_piece = lambda piece: list(piece.encode())
    corpus = tokbench.Corpus(name="tiny", categories={"letters": ["abcab", "ba"]})
    result = evaluate_mergefree(tok, corpus, variants=default_variants(tok), seed=0)
    assert isinstance(result, MergeFreeResult) and isinstance(result, Result)
    assert set(result.to_frame()["variant"]) == {"standard", "greedy", "minimal"}
    corrupted = [v.name for v in default_variants(tok) if v.corruption]
    assert len(corrupted) == 3 and len(result.notes) == 3
    for name, note in zip(corrupted, result.notes, strict=True):
        assert name in note and "no merge list" in note


# ------------------------------------------------ "standard" is the model's own encoding (issue 13)

MERGE_MODELS = ["gpt2", "r50k_base.tiktoken", "cl100k_base.tiktoken", "llama_tokenizer.json", "mistral_v1.model",
                "qwen2_tokenizer.json", "gpt-neox_tokenizer.json"]


@pytest.fixture(scope="module")
def script_corpus(flores_dir: Path, code_dir: Path) -> tokbench.Corpus:
    """Three devtest lines in each of a dozen languages over several scripts, plus code."""
    languages = ["eng_Latn", "vie_Latn", "rus_Cyrl", "arb_Arab", "hin_Deva", "zho_Hans", "jpn_Jpan",
                 "kor_Hang", "tha_Thai", "amh_Ethi", "ell_Grek", "heb_Hebr"]
    categories = {}
    for code in languages:
        path = flores_dir / "devtest" / f"{code}.devtest"
        if path.exists():
            categories[code] = path.read_text(encoding="utf-8").splitlines()[:3]
    for path in sorted(code_dir.glob("*.jsonl"))[:3]:
        with open(path, encoding="utf-8") as handle:
            categories[path.stem] = [json.loads(next(handle))["text"][:3000]]
    assert len(categories) >= 10
    return tokbench.Corpus(name="scripts", categories=categories)


@pytest.fixture(scope="module")
def trained() -> dict[str, tokbench.Tokenizer]:
    """A char BPE as the demo trains it, and a byte BPE, on the bundled sample (a few seconds)."""
    from tokbench.cli.demo import DEMO_TRAINERS
    from tokbench.trainers import train_with

    corpus = tokbench.load_corpus("sample:all")
    out = {}
    for name in ("char_bpe", "bpe"):
        model = train_with(name, corpus, vocab_size=2000, name=f"{name}-2000", **DEMO_TRAINERS[name])
        out[name] = getattr(model, "tokenizer", model)
    return out


def _check_standard_and_variants(tok: tokbench.Tokenizer, corpus: tokbench.Corpus) -> None:
    """Standard tokens per category == the tokenizer's own encode (reference and native); each
    damaged-merge variant has rows or a note; the undamaged merge list reproduces the encoding."""
    from tokbench.attacks.mergefree import default_variants

    result = evaluate_mergefree(tok, corpus, seed=0)
    frame = result.to_frame()
    standard = frame[frame["variant"] == "standard"].set_index("category")["tokens"]
    for category, documents in corpus:
        own = sum(len(tok.encode(d)) for d in documents)
        native = sum(len(tok.encode(d, backend="native")) for d in documents)
        assert standard[category] == own == native, f"{tok.name} {category}: {standard[category]} vs {own}/{native}"
    for variant in default_variants(tok):
        ran = variant.name in set(frame["variant"])
        noted = any(variant.name in note for note in result.notes)
        assert ran != noted, f"{tok.name}: variant {variant.name!r} neither ran nor was noted (or both)"
        if variant.corruption:
            assert ran, f"{tok.name} has merges, so {variant.name!r} must run: {result.notes}"
    intact = MergeFreeEncoder(tok, "bpe", merges=tok.merges)
    texts = [d for _, documents in corpus for d in documents]
    assert intact.encode_batch(texts) == tok.encode_batch(texts)


@pytest.mark.parametrize("name", MERGE_MODELS)
def test_standard_is_the_models_own_encoding(tokenizer_dir, loaded, script_corpus, name):
    _check_standard_and_variants(_tok(loaded, tokenizer_dir, name), script_corpus)


@pytest.mark.parametrize("name", ["char_bpe", "bpe"])
def test_standard_is_the_trained_models_own_encoding(trained, script_corpus, name):
    """The demo's char BPE once scored 2.3x its own encoding: its pieces keep spaces, and
    "standard" rebuilt them with SentencePiece's "▁", falling back to bytes."""
    _check_standard_and_variants(trained[name], script_corpus)


def test_damaged_merges_cost_tokens_for_character_models(tokenizer_dir, loaded, trained):
    """Shuffling a character-level merge list (SentencePiece, char BPE) costs tokens, and every
    damaged encoding still spells its input."""
    corpus = tokbench.load_corpus("sample:eng_Latn,rus_Cyrl")
    for tok in (_tok(loaded, tokenizer_dir, "mistral_v1.model"), trained["char_bpe"]):
        frame = evaluate_mergefree(tok, corpus, seed=0).to_frame()
        shuffled = frame[frame["variant"] == "shuffled merges"]
        assert len(shuffled) == 2 and (shuffled["relative_to_standard"] > 1.0).all()
        damaged = MergeFreeEncoder(tok, "bpe", merges=corrupt_merges(tok.merges, "delete", fraction=0.3, seed=2))
        for _, documents in corpus:
            for text in documents[:20]:
                assert tok.decode(damaged.encode(text)) == text
