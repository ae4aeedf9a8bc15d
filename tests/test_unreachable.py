"""Exact unreachable-token detection (issue 17, item 3): toy merge lists worked by hand and
checked exhaustively against HF ``tokenizers``, then real shared files checked against their
reference libraries (every reachable verdict re-encoded from its witness, every unreachable one
tried in contexts)."""

from __future__ import annotations

import itertools
import sys

import pytest
from tokenizers import Regex, decoders, models, pre_tokenizers
from tokenizers import Tokenizer as HFTokenizer

from tokbench.errors import TokbenchError
from tokbench.formats import load_tokenizer
from tokbench.formats.hf_json import tokenizer_from_json_text
from tokbench.metrics.unreachable import CLASSES, REACHABLE, UNREACHABLE, counts_table, unreachable
from tokbench.metrics.unreachable.utf8 import prefix_completions, split_partial, suffix_completions
from tokbench.model.bytelevel import bytes_to_unicode

#: A cl100k-like split pattern: digits never take a leading space, letters may take one non-letter.
CL100K_LIKE = r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+|[^\r\n\p{L}\p{N}]?\p{L}+"
LETTERS = r" ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+"


def toy(merges: list[tuple[bytes, bytes]], pattern: str = LETTERS):
    """A byte-level BPE tokenizer.json built with ``tokenizers`` itself from ``merges``."""
    vocab = {bytes_to_unicode(bytes([b])): b for b in range(256)}
    for a, b in merges:
        vocab.setdefault(bytes_to_unicode(a + b), len(vocab))
    model = models.BPE(vocab=vocab, merges=[(bytes_to_unicode(a), bytes_to_unicode(b)) for a, b in merges])
    hf = HFTokenizer(model)
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    hf.decoder = decoders.ByteLevel()
    return tokenizer_from_json_text(hf.to_str(), name="toy")


def token_id(tok, data: bytes) -> int:
    return tok.vocab.index(data)


def produced_on(tok, texts) -> set[int]:
    return {i for ids in tok.encode_batch(list(texts), backend="reference") for i in ids}


def all_strings(alphabet: str, max_len: int) -> list[str]:
    return ["".join(p) for n in range(1, max_len + 1) for p in itertools.product(alphabet, repeat=n)]


# ------------------------------------------------------------------------ toys by hand


def test_shadowed_merge_by_hand():
    """Merges in order: 0 "b"+"c", 1 "a"+"b", 2 "ab"+"c". On "abc" the pairs are (a,b) rank 1
    and (b,c) rank 0, so "bc" forms first and leaves "a"+"bc", which no merge joins: the merge
    that builds "abc" can never fire. Context cannot help: every text over {a, b, c, space} up
    to length 6 is encoded by the library and "abc" never appears, while "ab" and "bc" do."""
    tok = toy([(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")])
    res = unreachable(tok)
    abc, ab, bc = (token_id(tok, t) for t in (b"abc", b"ab", b"bc"))
    assert res.of(abc).cls == "unreachable_merges"
    assert "'a' + 'bc'" in res.of(abc).reason
    assert res.of(ab).cls == res.of(bc).cls == "reachable_alone"
    produced = produced_on(tok, all_strings("abc ", 6))
    assert abc not in produced and {ab, bc} <= produced


def test_pretokenizer_blocks_space_digit_by_hand():
    """Merges 0 " "+"1" and 1 "1"+"2". BPE on " 1" alone gives the token " 1", but the split
    pattern puts digits in their own pieces (\\p{N}{1,3} takes no space and ` ?[^\\s...]` takes
    no digit), so no piece ever holds a space followed by a digit: unreachable_pretokenizer."""
    tok = toy([(b" ", b"1"), (b"1", b"2")], CL100K_LIKE)
    res = unreachable(tok)
    space1, twelve = token_id(tok, b" 1"), token_id(tok, b"12")
    assert res.of(space1).cls == "unreachable_pretokenizer" and "split pattern" in res.of(space1).reason
    assert res.of(twelve).cls == "reachable_alone"
    produced = produced_on(tok, all_strings(" 12a.\n", 5))
    assert space1 not in produced and twelve in produced


def test_undecodable_and_in_context_by_hand():
    """Merge 0 joins 0xC3 with "(": no UTF-8 text has 0xC3 before an ASCII byte (0xC3 needs a
    continuation byte), so that token is undecodable. The single byte 0xC3 has no merge here,
    so it is produced inside any character starting with it ("é" = C3 A9): in context only."""
    tok = toy([(b"\xc3", b"(")])
    res = unreachable(tok)
    bad, c3 = token_id(tok, b"\xc3("), token_id(tok, b"\xc3")
    assert res.of(bad).cls == "undecodable"
    for p, s in itertools.product([b"", *(bytes([b]) for b in range(256))], repeat=2):
        with pytest.raises(UnicodeDecodeError):
            (p + b"\xc3(" + s).decode("utf-8")
    assert res.of(c3).cls == "reachable_in_context"
    assert c3 in tok.encode(res.of(c3).witness, backend="reference")
    assert all(res.of(b).cls == "undecodable" for b in (0xC0, 0xC1, *range(0xF5, 0x100)))


def test_lead_byte_always_merged_by_hand():
    """Merges 0..63 join 0xC3 with every continuation byte 0x80..0xBF. In valid text 0xC3 is
    always followed by one of them, and BPE on 0xC3 + any following token merges the two, so the
    byte token 0xC3 is never produced (the neighbour argument); the library agrees on every
    character C3 xx, alone and between letters."""
    tok = toy([(b"\xc3", bytes([b])) for b in range(0x80, 0xC0)])
    res = unreachable(tok)
    c3 = token_id(tok, b"\xc3")
    assert res.of(c3).cls == "unreachable_merges" and "partial character" in res.of(c3).reason
    chars = list(prefix_completions(b"\xc3"))
    assert len(chars) == 64 and c3 not in produced_on(tok, chars + [f"a{c}b" for c in chars])


@pytest.mark.parametrize(("merges", "shadowed"), [
    # "bb" fires before "a"+"b", so "ab"+"b" never does: "abb" is shadowed.
    ([(b"b", b"b"), (b"a", b"a"), (b"aa", b"a"), (b"a", b"b"), (b"aa", b"b"), (b"ab", b"b")], {b"abb"}),
    # "b"+"a" beats "a"+"b" on "aba", and "a"+"b" beats " "+"a" on " ab".
    ([(b"b", b"a"), (b"a", b"b"), (b"ab", b"a"), (b"b", b"ab"), (b"ba", b"b"), (b" ", b"a"), (b" a", b"b")], {b"aba", b" ab"}),
    # Two merges build "abcc" (ab+cc and a+bcc); the second route wins, nothing is shadowed.
    ([(b"c", b"c"), (b"b", b"cc"), (b"a", b"b"), (b"ab", b"cc"), (b"a", b"bcc"), (b"cc", b"c")], set()),
])
def test_exhaustive_toys_agree_with_the_library(merges, shadowed):
    """Every token produced by the library on some text over {a, b, c, space} of length <= 6 is
    classed reachable, and every token classed unreachable is produced by none of them."""
    tok = toy(merges)
    res = unreachable(tok, ids=range(256, tok.vocab_size))
    produced = produced_on(tok, all_strings("abc ", 6))
    for v in res.verdicts:
        if v.id in produced:
            assert v.cls in REACHABLE, v
        if v.cls in UNREACHABLE:
            assert v.id not in produced, v
        if v.cls in REACHABLE:
            assert v.id in tok.encode(v.witness, backend="reference")
    blocked = {tok.vocab[v.id] for v in res.verdicts if v.cls == "unreachable_merges"}
    assert blocked == shadowed


def test_bad_input():
    tok = toy([(b"a", b"b")])
    with pytest.raises(TokbenchError, match="outside the vocabulary"):
        unreachable(tok, ids=[tok.vocab_size])
    with pytest.raises(TokbenchError, match="budget"):
        unreachable(tok, budget=0)


# ------------------------------------------------------------------- real shared files


def contexts(text: str) -> list[str]:
    """Space before, the ▁ mark, a letter before/after, newlines, inside a longer word."""
    return [text, " " + text, "\u2581" + text, "a" + text, text + "a", "a" + text + "a", "\n" + text,
            text + "\n", "hello" + text + "world", "x " + text + " x", "1" + text, text + "."]


def texts_for(data: bytes) -> list[str]:
    """Texts holding a token's bytes: its own text, or its partial characters completed."""
    head, body, tail = split_partial(data)
    heads = list(itertools.islice(suffix_completions(head), 6)) if head else [""]
    tails = list(itertools.islice(prefix_completions(tail), 6)) if tail else [""]
    cores = [h + body.decode("utf-8") + t for h, t in itertools.product(heads, tails)]
    return [c for core in cores for c in contexts(core)]


@pytest.fixture(scope="module")
def all_utf8_bytes() -> set[int]:
    text = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    return set(text.encode("utf-8"))


def check_against_reference(tok, res, all_utf8_bytes):
    """The checks the issue asks for, on every verdict of ``res``."""
    for v in res.verdicts:
        data = tok.vocab[v.id]
        if v.cls in REACHABLE:
            ids = tok.encode(v.witness, backend="reference")
            assert v.id in ids, v
            if v.cls == "reachable_alone":
                assert ids == [v.id], v
        elif v.cls == "undecodable":
            assert len(data) > 1 or data[0] not in all_utf8_bytes, v
            assert any(b not in all_utf8_bytes for b in data) or len(data) > 1
        elif v.cls == "unreachable_byte_fallback":
            texts = contexts(chr(data[0])) if data[0] < 0x80 else []
            assert v.id not in produced_on(tok, texts), v
        elif v.cls in UNREACHABLE:
            assert v.id not in produced_on(tok, texts_for(data)), v
    assert sum(res.counts.values()) == len(res.verdicts)


def sample_ids(tok, n: int, extra=()) -> list[int]:
    return sorted(set(range(0, tok.vocab_size, max(1, tok.vocab_size // n))) | set(extra))


def test_qwen2_sample(tokenizer_dir, all_utf8_bytes):
    """Qwen 2 (pattern with single digits, NFC): a sample of ids plus tokens that mix letters
    with combining marks (Thai, Arabic shadda), which its pattern cuts apart, tokens that are not
    in NFC (which Qwen 2 applies first), and lead bytes."""
    import unicodedata

    import regex

    tok = load_tokenizer(tokenizer_dir / "qwen2_tokenizer.json")
    texts = [v.decode("utf-8", "replace") for v in tok.vocab]
    marks = [i for i, t in enumerate(texts) if regex.fullmatch(r"\p{L}\p{M}\p{L}+", t)][:15]
    not_nfc = [i for i, t in enumerate(texts)
               if "\ufffd" not in t and unicodedata.normalize("NFC", t) != t and i not in tok.special_ids][:10]
    res = unreachable(tok, ids=sample_ids(tok, 300, [*marks, *not_nfc, *range(127, 135)]))
    check_against_reference(tok, res, all_utf8_bytes)
    assert all(res.of(i).cls == "unreachable_pretokenizer" for i in marks)
    assert len(not_nfc) == 10 and all(res.of(i).reason.startswith("normalizer: NFC") for i in not_nfc)
    assert res.counts["unresolved"] == 0


def test_neox_added_whitespace_tokens(tokenizer_dir, all_utf8_bytes):
    """GPT-NeoX adds tokens for runs of 2..24 spaces, cut out of the text before BPE: ordinary
    tokens holding two spaces in a row are never produced; the lone byte 0xC2 always merges."""
    tok = load_tokenizer(tokenizer_dir / "gpt-neox_tokenizer.json")
    spaced = [i for i, v in enumerate(tok.vocab) if b"  " in v][:40]
    c2 = token_id(tok, b"\xc2")
    res = unreachable(tok, ids=sample_ids(tok, 200, [*spaced, c2]))
    check_against_reference(tok, res, all_utf8_bytes)
    ordinary = [i for i in spaced if res.of(i).cls != "special"]
    assert ordinary and all("is cut out of every text" in res.of(i).reason for i in ordinary)
    assert res.of(c2).cls == "unreachable_merges"
    assert c2 not in produced_on(tok, [c + x for c in prefix_completions(b"\xc2") for x in ("", "a", " ")])


def test_llama_sample_byte_fallback(tokenizer_dir, all_utf8_bytes):
    """Llama (HF conversion, byte fallback, dummy prefix): every <0xNN> piece and a sample."""
    tok = load_tokenizer(tokenizer_dir / "llama_tokenizer.json")
    res = unreachable(tok, ids=sample_ids(tok, 300, sorted(tok.byte_fallback_ids)))
    check_against_reference(tok, res, all_utf8_bytes)
    classes = {res.of(i).cls for i in tok.byte_fallback_ids}
    assert classes <= {"reachable_in_context", "unreachable_byte_fallback", "undecodable"}
    assert {"reachable_in_context", "unreachable_byte_fallback", "undecodable"} <= classes
    assert res.counts["unresolved"] == 0
    frame = counts_table([res])
    assert list(frame["class"]) == list(CLASSES) and frame["tokens"].sum() == len(res.verdicts)


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    "gpt2", "r50k_base.tiktoken", "cl100k_base.tiktoken", "olmo2_tokenizer.json", "qwen2_tokenizer.json",
    "gpt-neox_tokenizer.json", "llama_tokenizer.json", "mistral_v1.model",
])
def test_full_vocabulary(tokenizer_dir, all_utf8_bytes, name):
    """Every id of every shared tokenizer with merges, checked against its reference library."""
    tok = load_tokenizer(tokenizer_dir / name)
    res = unreachable(tok)
    assert len(res.verdicts) == tok.vocab_size and not res.notes
    check_against_reference(tok, res, all_utf8_bytes)


def test_rejects_tokenizers_without_merges(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json")
    with pytest.raises(TokbenchError, match="needs a BPE tokenizer with merges"):
        unreachable(tok)


def test_coverage_gains_an_unreachable_column():
    """``coverage(..., unreachable=True)``: the column counts the proven-unreachable classes of
    the same per-token classification, and a tokenizer without merges (or the union) gets None."""
    from tokbench.metrics.coverage import coverage

    shadowing = toy([(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")])
    plain = coverage(shadowing)
    assert "unreachable" not in plain.to_frame().columns and plain.unreachable == {}
    res = coverage([shadowing, toy([(b"a", b"b")])], unreachable=True, union=True)
    frame = res.to_frame()
    direct = unreachable(shadowing).counts
    assert frame.loc[0, "unreachable"] == sum(direct[c] for c in UNREACHABLE) == 14  # "abc" + 13 bytes
    assert res.unreachable["union"] is None and frame["unreachable"].isna().iloc[-1]
    detail = res.unreachable_frame()
    assert list(detail["tokenizer"]) == list(res.unreachable)[:2] and detail.loc[0, "unreachable_merges"] == 1


def test_cli_module_writes_counts_and_tokens(tmp_path, capsys):
    """``tokbench unreachable`` (the subcommand module): counts CSV and per-token CSV agree with
    the Python API on a saved toy."""
    import argparse
    import csv

    import pandas as pd

    from tokbench.cli import unreachable as command

    path = toy([(b"b", b"c"), (b"a", b"b"), (b"ab", b"c")]).save(tmp_path / "toy.json")
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    args = parser.parse_args([str(path), "--csv", "--tokens", str(tmp_path / "tokens.csv"),
                              "--out", str(tmp_path / "counts.csv")])
    assert command.run(args) == 0
    counts = pd.read_csv(tmp_path / "counts.csv")
    with open(tmp_path / "tokens.csv", newline="", encoding="utf-8") as handle:
        tokens = pd.DataFrame(list(csv.DictReader(handle)))  # raw control characters stay quoted
    expected = unreachable(load_tokenizer(path)).counts
    assert dict(zip(counts["class"], counts["tokens"], strict=True)) == expected
    assert tokens["class"].value_counts().to_dict() == {c: n for c, n in expected.items() if n}
    assert "unreachable_merges" in capsys.readouterr().out
