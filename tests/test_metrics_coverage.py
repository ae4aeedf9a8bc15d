"""Vocabulary coverage (Qtok-style classes, scripts, languages): hand-worked toys and real files."""

from __future__ import annotations

import pytest
import regex
from test_metrics_compression import char_tokenizer  # the shared toy (tests/ is on sys.path)

from tokbench.corpora import Corpus
from tokbench.errors import TokbenchError
from tokbench.formats import load_tokenizer
from tokbench.metrics.coverage import (
    CLASSES,
    char_script,
    classify_token,
    classify_vocab,
    coverage,
    language_alphabets,
)
from tokbench.model.tokenizer import Tokenizer

REAL = [
    "gpt2", "r50k_base.tiktoken", "cl100k_base.tiktoken", "olmo2_tokenizer.json",
    "llama_tokenizer.json", "mistral_v1.model", "qwen2_tokenizer.json", "gpt-neox_tokenizer.json",
    "bert-base-uncased_wordpiece_tokenizer.json",
]


def _tok(vocab, *, kind="bpe", specials=None, unused=frozenset(), fallback=frozenset()):
    tok = Tokenizer(vocab=vocab, kind=kind, name="toy", fingerprint="f" * 64,
                    special_tokens=specials or {}, unused_ids=unused)
    if fallback:
        object.__setattr__(tok, "byte_fallback_ids", frozenset(fallback))
    return tok


def test_toy_bpe_classes_by_hand():
    """Ten entries, one per rule:

    0 b"<s>" special (in special_tokens)           5 b"" unused (in unused_ids)
    1 b"a" char_alpha (one Latin letter)           6 "ж" char_alpha (one Cyrillic letter)
    2 b" ab" spaced_alpha (space + Latin letters)  7 " жa" spaced_other (Cyrillic + Latin: mixed)
    3 b"ab" inner_alpha                            8 b"12" inner_other (digits)
    4 b"\\xe2\\x96" partial_utf8 (cut "▁")          9 b"\\x01" char_errors (a control, no name)
    With only two single-byte entries >= 0x00 and none >= 0x80 the model is not byte-level, so
    "a" is a character, not a byte token. Total 10 = vocab size.
    """
    vocab = [b"<s>", b"a", b" ab", b"ab", b"\xe2\x96", b"", "ж".encode(), " жa".encode(), b"12", b"\x01"]
    tok = _tok(vocab, specials={"<s>": 0}, unused=frozenset({5}))
    got = [k.cls for k in classify_vocab(tok)]
    assert got == ["special", "char_alpha", "spaced_alpha", "inner_alpha", "partial_utf8", "unused",
                   "char_alpha", "spaced_other", "inner_other", "char_errors"]
    res = coverage(tok)
    counts = res.counts["toy"]
    assert sum(counts.values()) == 10 and counts["char_alpha"] == 2 and counts["unused"] == 1
    assert res.scripts["toy"] == {"Latin": 3, "Cyrillic": 1}
    assert res.union is None  # one tokenizer: no union row
    pct = res.to_frame(percent=True)
    assert pct.loc[0, "char_alpha"] == pytest.approx(20.0) and pct.loc[0, "total"] == pytest.approx(100.0)


def test_wordpiece_markers_by_hand():
    """WordPiece: "##" marks a continuation and is not text.

    "play" spaced_alpha (word-initial), "##ing" inner_alpha, "##a" char_alpha (one letter
    after the marker), "a" char_alpha, "##" spaced_other (the bare marker is punctuation),
    "[UNK]" special.
    """
    vocab = [b"[UNK]", b"play", b"##ing", b"##a", b"a", b"##"]
    tok = _tok(vocab, kind="wordpiece", specials={"[UNK]": 0})
    assert [k.cls for k in classify_vocab(tok)] == [
        "special", "spaced_alpha", "inner_alpha", "char_alpha", "char_alpha", "spaced_other"]


def test_byte_level_and_fallback_bytes():
    """All 256 single bytes present => byte-level: every one is a ``bytes`` token (even b"A"),
    so 256 bytes + " the" (spaced_alpha) = 257. A SentencePiece-style model marks its byte
    pieces explicitly (``byte_fallback_ids``), so there "A" (id 1) is bytes only if listed."""
    vocab = [bytes([b]) for b in range(256)] + [b" the"]
    counts = coverage(_tok(vocab)).counts["toy"]
    assert counts["bytes"] == 256 and counts["spaced_alpha"] == 1 and sum(counts.values()) == 257
    sp = _tok([b"<unk>", b"A", b"\xff", b"A", b" A"], specials={"<unk>": 0}, fallback={1, 2})
    assert [k.cls for k in classify_vocab(sp)] == ["special", "bytes", "bytes", "char_alpha", "spaced_alpha"]


def test_classify_token_examples():
    assert classify_token(b" world").script == "Latin"
    assert classify_token("日本".encode()).script == "Han"
    assert classify_token("日本の".encode()).cls == "inner_other"  # Han + Hiragana: mixed scripts
    assert classify_token("नमस्ते".encode()).cls == "inner_alpha"  # letters with combining vowel signs
    assert classify_token(b"\n\n").cls == "inner_other"  # whitespace controls are not errors
    assert classify_token("\ufffd".encode()).cls == "char_errors"
    assert char_script("ж") == "Cyrillic" and char_script("\u0301") == "Inherited"


def test_union_of_identical_vocabularies_is_the_vocabulary():
    """Union of a vocabulary with itself: the same entries, so the same class counts (no unused)."""
    vocab = [b"<s>", b"a", b" ab", b"ab", b"", "ж".encode()]
    t1, t2 = _tok(vocab, specials={"<s>": 0}, unused=frozenset({4})), _tok(vocab, specials={"<s>": 0}, unused=frozenset({4}))
    res = coverage([t1, t2])
    assert res.union == "union" and list(res.counts) == ["toy", "toy#2", "union"]
    expected = dict(res.counts["toy"], unused=0)
    assert res.counts["union"] == expected and res.vocab_sizes["union"] == 5


def test_language_shares_by_alphabet_and_frequency():
    """deu text uses ß, eng does not (alphabets measured from the corpus). Tokens:
    " groß" -> only deu's alphabet holds ß -> deu (alphabet); " big" -> both alphabets, eng
    uses it (rate > 0), deu never -> eng (frequency); " zzz" -> z is in neither alphabet ->
    unassigned. Other characters encode as <unk> (special, not counted). Cyrillic: no Cyrillic language in the corpus -> " жук" unassigned.
    """
    corpus = Corpus("toy", {"deu_Latn": ["groß groß sig"], "eng_Latn": ["big big is"]})
    assert "ß" in language_alphabets(corpus)["deu_Latn"]
    tok = char_tokenizer(" ", unk=True, extra=[" groß".encode(), b" big", b" zzz", " жук".encode()])
    res = coverage(tok, language_corpus=corpus, alphabet_min_share=0.01)
    assert res.languages["toy"]["Latin"] == {"deu_Latn": 1, "eng_Latn": 1, "unassigned": 1}
    assert res.languages["toy"]["Cyrillic"] == {"unassigned": 1}
    frame = res.languages_frame(percent=True)
    assert set(frame.columns) >= {"tokenizer", "script", "language", "tokens", "percent"}


def test_no_tokenizer_is_an_error():
    with pytest.raises(TokbenchError, match="at least one tokenizer"):
        coverage([])


@pytest.mark.parametrize("name", REAL)
def test_real_class_counts_sum_to_vocab_size(tokenizer_dir, name):
    tok = load_tokenizer(tokenizer_dir / name)
    classes = classify_vocab(tok)
    res = coverage(tok)
    counts = res.counts[tok.name]
    assert sum(counts.values()) == tok.vocab_size == len(classes)
    assert set(counts) == set(CLASSES)
    assert counts["special"] == len(tok.special_ids)
    assert counts["unused"] == len(tok.unused_ids)
    singles = sum(1 for i, v in enumerate(tok.vocab) if len(v) == 1 and i not in tok.special_ids)
    expected_bytes = {"bert-base-uncased_wordpiece_tokenizer.json": 0, "gpt-neox_tokenizer.json": 243}
    assert counts["bytes"] == expected_bytes.get(name, 256)
    if tok.kind == "bpe" and not tok.byte_fallback_ids:
        assert counts["bytes"] == singles  # byte-level: every single byte is a byte token
    # Every alpha token's text is letters/marks of exactly the script it is filed under.
    for i, k in enumerate(classes):
        if k.cls.endswith("_alpha"):
            assert regex.fullmatch(r"[\p{L}\p{M}]+", k.body), (i, tok.vocab[i])
            assert regex.search(rf"\p{{Script={k.script}}}", k.body), (i, tok.vocab[i], k.script)


def test_real_known_counts(tokenizer_dir):
    """gpt2: 1 special, 256 bytes, no unused; cl100k: 16 unused ids (100256, 100261..100275)."""
    res = coverage([load_tokenizer(tokenizer_dir / "gpt2"), load_tokenizer(tokenizer_dir / "cl100k_base.tiktoken")])
    assert res.counts["gpt2"]["special"] == 1 and res.counts["gpt2"]["unused"] == 0
    assert res.counts["cl100k_base"]["unused"] == 16
    frame = res.to_frame()
    assert list(frame["tokenizer"]) == ["gpt2", "cl100k_base", "union"]
    # the union holds at least every entry of the larger vocabulary
    assert res.vocab_sizes["union"] >= 100277 - 16


def test_cli_coverage_csv(tokenizer_dir, capsys):
    import argparse

    from tokbench.cli import coverage as cmd

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    args = parser.parse_args([str(tokenizer_dir / "gpt2"), "--csv", "--no-languages"])
    assert cmd.run(args) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "tokenizer,vocab_size,class,tokens,percent"
    assert len(lines) == 1 + len(CLASSES)
