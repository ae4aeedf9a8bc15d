"""SentencePiece's training-time splitting (tokbench.attacks.training_split): the rules on real
text and real vocabularies, and merge-for-merge argmax consistency of traces of a freshly
trained SentencePiece BPE model."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

import tokbench.attacks.training_split as TS
from tokbench.attacks.mixture.merges import extract_merges
from tokbench.attacks.mixture.traces import PairTrace, _symbolizer, trace_category
from tokbench.attacks.training_split import (
    TrainerRules,
    TrainingSplitter,
    is_sentencepiece_style,
    script_class,
    training_splitter,
)
from tokbench.formats import load_tokenizer
from tokbench.formats.sentencepiece_model import NORMAL, read_model_proto

LANGS = ("eng_Latn", "zho_Hans", "jpn_Jpan", "rus_Cyrl", "tha_Thai")
SP = "\u2581"


def _lines(flores_dir: Path, lang: str, n: int | None = None) -> list[str]:
    lines = (flores_dir / "dev" / f"{lang}.dev").read_text(encoding="utf-8").splitlines()
    return lines[:n] if n else lines


def _escape(text: str) -> str:
    return SP + text.replace(" ", SP)


def _valid(piece: str, rules: TrainerRules) -> bool:
    """A direct transcription of IsValidSentencePiece for one candidate piece (independent of the
    splitter's cut logic), for default prefix whitespace mode."""
    if not piece or len(piece) > rules.max_sentencepiece_length:
        return False
    digits = set("0123456789")
    prev = -1
    all_ws = set(piece) == {SP}
    for pos, c in enumerate(piece):
        if c == SP:
            if pos > 0 and not (rules.allow_whitespace_only_pieces and all_ws):
                return False
            continue
        s = script_class(c)
        if s == TS.INHERITED:
            s = prev
        if c in digits and not rules.split_by_number:
            s = -1
        if c in digits and rules.split_digits and len(piece) > 1:
            return False
        if rules.split_by_unicode_script and s != -1 and prev != -1 and s != prev:
            return False
        prev = s
    return True


# ---------------------------------------------------------------------------------- rules


def test_scripts_follow_sentencepiece() -> None:
    han = script_class("語")
    assert script_class("す") == script_class("カ") == script_class("ー") == han  # kana and ー are Han
    assert script_class("。") == script_class(",") == script_class("7") == script_class("ｰ")  # Common
    assert script_class("\u0301") == TS.INHERITED
    assert len({script_class(c) for c in "aжαก語"}) == 5


def test_split_rules_on_mixed_real_text(flores_dir: Path) -> None:
    rules = TrainerRules(split_digits=True, allow_whitespace_only_pieces=True)
    split = TrainingSplitter(rules)
    unbounded = replace(rules, max_sentencepiece_length=10**9)  # a limit on pieces, not a cut
    jpn = _lines(flores_dir, "jpn_Jpan", 40)
    eng = _lines(flores_dir, "eng_Latn", 40)
    for line in jpn + eng:
        text = _escape(line)
        pieces = split(text)
        assert "".join(pieces) == text  # nothing dropped: every character is known here
        for p in pieces:
            assert _valid(p, unbounded), (line, p)
            assert split(p) == [p]  # idempotent
        # Every cut is needed: joining two neighbours gives an invalid piece.
        for a, b in zip(pieces, pieces[1:], strict=False):
            assert not _valid(a + b, unbounded), (a, b)
    # Concrete cases on real sentences: kana + kanji stay together, punctuation, digits and
    # Latin letters do not join them.
    first = next(line for line in jpn if "、" in line)
    assert all("、" not in p or p == "、" for p in split(_escape(first)))
    assert split("▁2019年に東京で、iPhoneを") == ["▁", "2", "0", "1", "9", "年に東京で", "、", "iPhone", "を"]
    assert split("▁Hello,▁world!▁(e.g.▁“x”)") == ["▁Hello", ",", "▁world", "!", "▁(", "e", ".", "g", ".", "▁“",
                                                   "x", "”)"]
    assert TrainingSplitter(TrainerRules())("▁1,5%▁12a") == ["▁1,5%", "▁12", "a"]
    assert TrainingSplitter(TrainerRules(split_by_number=False))("▁a1ж") == ["▁a1ж"]


def test_unknown_characters_meta_pieces_and_whitespace() -> None:
    split = TrainingSplitter(TrainerRules(), known_chars=set("▁abc"), meta_pieces=["<s>"])
    assert split("▁ab€c▁a<s>b") == ["▁ab", "c", "▁a", "b"]  # € is outside the alphabet
    assert split("▁a\tb▁▁c") == ["▁a", "b", "▁", "▁c"]  # tab never merges; no ▁▁ without the option
    ws = TrainingSplitter(TrainerRules(allow_whitespace_only_pieces=True))
    assert ws("▁▁▁abc▁▁") == ["▁▁▁abc", "▁▁"]
    assert TrainingSplitter(TrainerRules(allow_whitespace_only_pieces=True), run_shares_space=True)(
        "▁▁▁abc") == ["▁▁", "▁abc"]
    suffix = TrainingSplitter(TrainerRules(treat_whitespace_as_suffix=True))
    assert suffix("ab▁cd,▁") == ["ab▁", "cd", ",▁"]


@pytest.mark.parametrize("name", ["mistral_v1.model", "llama_tokenizer.json"])
def test_real_vocabularies_are_valid_under_their_rules(tokenizer_dir: Path, name: str) -> None:
    tok = load_tokenizer(tokenizer_dir / name)
    split = training_splitter(tok)
    r = split.rules
    # Both were trained with split_digits and allow_whitespace_only_pieces (Llama's HF file has
    # no trainer spec: its vocabulary shows them).
    assert r.split_digits and r.allow_whitespace_only_pieces and r.split_by_unicode_script
    assert r.source == ("trainer_spec" if name.endswith(".model") else "defaults+vocabulary")
    if name.endswith(".model"):
        pieces = [p for p, _, t in read_model_proto((tokenizer_dir / name).read_bytes())["pieces"] if t == NORMAL]
    else:
        pieces = [p for p in tok.native.piece_to_id if not (p.startswith("<") and p.endswith(">") and len(p) > 1)]
    assert len(pieces) > 30_000
    # Every piece training made is one sub-piece: no rule cuts what SentencePiece merged.
    bad = [p for p in pieces if split(p) != [p]]
    assert bad == []
    assert is_sentencepiece_style(tok)


def test_symbolizer_uses_training_lines(tokenizer_dir: Path) -> None:
    tok = load_tokenizer(tokenizer_dir / "llama_tokenizer.json")
    split, _ = _symbolizer(tok)
    # Each line is a sentence with its own dummy prefix; newlines and CJK outside the
    # alphabet never join anything.
    assert split("Hi, 42\n    x=1") == ["▁Hi", ",", "▁", "4", "2", "▁▁▁▁▁x", "=", "1"]


def test_char_bpe_trained_by_tokbench_is_not_sentencepiece_style() -> None:
    from tokbench.trainers.char_bpe import train_char_bpe

    tok = train_char_bpe(["the theme of these theses"] * 4, vocab_size=268, max_token_chars=3,
                         progress=False).tokenizer
    assert not is_sentencepiece_style(tok)
    split, _ = _symbolizer(tok)
    assert split("the, 12") == tok.native.pieces("the, 12")


# ----------------------------------------------------------------- argmax consistency


def _argmax_fraction(trace: PairTrace, candidate: Callable[[int], bool] | None = None) -> float:
    """Fraction of steps whose merged pair has the largest count of all (``candidate``) pairs
    (ties count)."""
    counts = dict(zip(trace.init_keys.tolist(), trace.init_vals[:, 0].tolist(), strict=True))
    if candidate is not None:
        keep = {k for k in set(counts) | set(trace.d_keys.tolist()) if candidate(k)}
        counts = {k: c for k, c in counts.items() if k in keep}
    heap = [(-c, k) for k, c in counts.items()]
    heapq.heapify(heap)
    ok = 0
    for t in range(trace.n_steps):
        while heap and counts.get(heap[0][1], 0) != -heap[0][0]:
            heapq.heappop(heap)  # stale entry
        top = -heap[0][0] if heap else 0
        merged = int(trace.merged[t, 0])
        ok += merged > 0 and merged >= top
        lo, hi = int(trace.d_off[t]), int(trace.d_off[t + 1])
        for k, d in zip(trace.d_keys[lo:hi].tolist(), trace.d_vals[lo:hi, 0].tolist(), strict=True):
            if candidate is not None and k not in keep:
                continue
            counts[k] = counts.get(k, 0) + d
            heapq.heappush(heap, (-counts[k], k))
    return ok / trace.n_steps


@pytest.mark.parametrize("split_digits", [True, False])
def test_traces_of_a_trained_sentencepiece_model_pick_its_merges(
        flores_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, split_digits: bool) -> None:
    spm = pytest.importorskip("sentencepiece")
    lines = [line for lang in LANGS for line in _lines(flores_dir, lang, 600)]
    data = tmp_path / "train.txt"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Exact training where sentencepiece allows it: every sentence, in order, identity
    # normalization; coverage 0.98 leaves rare CJK characters to byte fallback (unknown in training).
    spm.SentencePieceTrainer.train(
        input=str(data), model_prefix=str(tmp_path / "m"), model_type="bpe", vocab_size=3000,
        byte_fallback=True, split_digits=split_digits, character_coverage=0.98, input_sentence_size=0,
        shuffle_input_sentence=False, num_threads=1, normalization_rule_name="identity",
        max_sentence_length=100_000, minloglevel=2)
    tok = load_tokenizer(tmp_path / "m.model")
    assert training_splitter(tok).rules.split_digits is split_digits
    merges = extract_merges(tok)
    assert len(merges) > 1000
    after = _argmax_fraction(trace_category(tok, lines, merges, use_cache=False))
    monkeypatch.setattr(TS, "is_sentencepiece_style", lambda tok: False)  # inference splitting only
    before = _argmax_fraction(trace_category(tok, lines, merges, use_cache=False))
    assert after >= 0.99
    assert after > before


def test_is_valid_matches_a_transcription_of_is_valid_sentencepiece(flores_dir: Path) -> None:
    rules = TrainerRules(split_digits=True, allow_whitespace_only_pieces=True)
    split = TrainingSplitter(rules)
    text = _escape(" ".join(_lines(flores_dir, "jpn_Jpan", 3) + _lines(flores_dir, "eng_Latn", 3))) + SP * 4 + "x"
    # Every substring up to 6 characters: the symbol rules agree with the direct transcription.
    subs = {text[i:i + n] for n in range(1, 7) for i in range(len(text) - n + 1)}
    assert all(split.is_valid(p) == _valid(p, rules) for p in subs)
    assert not split.is_valid(SP * 3 + "x") and split.is_valid(SP * 3) and split.is_valid(SP + "x")


def test_pair_validity_lets_traces_of_code_pick_the_merges(flores_dir: Path, code_dir: Path, tmp_path: Path) -> None:
    """Indented code gives runs of ▁ and long symbols: rules on symbols, not cut points. With the
    pair filter of the mixture LP, the merged pair is again the most frequent candidate."""
    import json

    spm = pytest.importorskip("sentencepiece")
    from tokbench.attacks.training_split import pair_validity

    code = [json.loads(x)["text"] for x in (code_dir / "python.jsonl").read_text(encoding="utf-8").splitlines()[:40]]
    lines = [line for lang in ("eng_Latn", "rus_Cyrl") for line in _lines(flores_dir, lang, 400)]
    lines += [line for doc in code for line in doc.splitlines() if line.strip()][:3000]
    data = tmp_path / "train.txt"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(data), model_prefix=str(tmp_path / "m"), model_type="bpe", vocab_size=2500,
        byte_fallback=True, split_digits=True, allow_whitespace_only_pieces=True, remove_extra_whitespaces=False,
        character_coverage=1.0, input_sentence_size=0, shuffle_input_sentence=False, num_threads=1,
        normalization_rule_name="identity", max_sentence_length=100_000, minloglevel=2)
    tok = load_tokenizer(tmp_path / "m.model")
    merges = extract_merges(tok)
    trace = trace_category(tok, lines, merges, use_cache=False)
    valid = pair_validity(tok)
    assert valid is not None
    every = _argmax_fraction(trace)
    filtered = _argmax_fraction(trace, lambda k: valid(k >> 32, k & 0xFFFFFFFF))
    assert filtered >= 0.98 and filtered > every
