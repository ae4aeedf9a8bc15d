"""The BPE inference loop (:mod:`tokbench.model.bpe`) and merge recovery (:mod:`tokbench.model.merges`).

``apply_merges`` keeps a heap of candidate pairs and a linked list of live symbols; here it is
held to a readable twin written in this file (rescan every adjacent pair, merge the best
priority, leftmost on ties, repeat) by hypothesis over random vocabularies, merge lists and
symbol sequences. The two lookups (merge rank for HF files, rank of the concatenation for
tiktoken files) must agree on GPT-2's real vocabulary, where ``merges.txt`` and
``r50k_base.tiktoken`` describe the same tokenizer, and both must give tiktoken's ids.
``recover_merges`` is checked on tiny vocabularies whose merges are derived by hand below.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_files import gpt2_byte_decoder

from tokbench.model.bpe import apply_merges, concat_rank_lookup, merge_rank_lookup
from tokbench.model.merges import recover_merges, split_by_rank

# ------------------------------------------------------------------------------ reference twin


def reference_apply(symbols, lookup):
    """Plain BPE: rescan all adjacent pairs, merge the lowest priority (leftmost on ties)."""
    parts = list(symbols)
    while True:
        best = None
        for i in range(len(parts) - 1):
            found = lookup(parts[i], parts[i + 1])
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], i, found[1])
        if best is None:
            return parts
        _, i, merged = best
        parts[i : i + 2] = [merged]


# ------------------------------------------------------------------------------ hand examples


def test_module_docstring_example():
    """merge_rank_lookup([(0, 1)], first_new_id=3): only "a"(0)+"b"(1) -> 3 merges, so
    [a, b, c, a, b] becomes [ab, c, ab] = [3, 2, 3]."""
    lookup = merge_rank_lookup([(0, 1)], first_new_id=3)
    assert apply_merges([0, 1, 2, 0, 1], lookup) == [3, 2, 3]


def test_leftmost_wins_a_tie():
    """One merge (a, a) -> aa on "aaa": both pairs have rank 0; the leftmost merges first,
    leaving [aa, a], and no (aa, a) merge exists."""
    lookup = merge_rank_lookup([(0, 0)], first_new_id=1)
    assert apply_merges([0, 0, 0], lookup) == [1, 0]
    assert apply_merges([0, 0, 0, 0], lookup) == [1, 1]


def test_rank_beats_position_and_merged_tokens_merge_again():
    """Merges: 0:(b, c)->bc=3, 1:(a, b)->ab=4, 2:(a, bc)->abc=5 on [a, b, c].
    Rank 0 (b, c) beats the leftmost (a, b) of rank 1, giving [a, bc]; then (a, bc) merges."""
    lookup = merge_rank_lookup([(1, 2), (0, 1), (0, 3)], first_new_id=3)
    assert apply_merges([0, 1, 2], lookup) == [5]
    assert apply_merges([0, 1], lookup) == [4]


def test_duplicate_pair_keeps_first_rank():
    """(a, b) listed twice, first making id 2 then id 3: HF keeps the first, so a+b -> 2."""
    lookup = merge_rank_lookup([(0, 1), (0, 1)], merged_ids=[2, 3])
    assert lookup(0, 1) == (0, 2)
    assert apply_merges([0, 1], lookup) == [2]


def test_short_inputs_are_returned_unchanged():
    lookup = merge_rank_lookup([(0, 1)], first_new_id=2)
    assert apply_merges([], lookup) == []
    assert apply_merges([0], lookup) == [0]
    assert apply_merges((1, 0), lookup) == [1, 0]


def test_merge_rank_lookup_needs_ids():
    with pytest.raises(ValueError):
        merge_rank_lookup([(0, 1)])


def test_concat_rank_lookup_hand_example():
    """Tokens a, b, c, bc (rank 3), ab (rank 4), abc (rank 5): "abc" merges b+c first (rank 3
    beats 4), then a+bc = abc."""
    vocab = [b"a", b"b", b"c", b"bc", b"ab", b"abc"]
    lookup = concat_rank_lookup(vocab, {t: i for i, t in enumerate(vocab)}, list(range(6)))
    assert lookup(0, 1) == (4, 4)
    assert lookup(2, 0) is None
    assert apply_merges([0, 1, 2], lookup) == [5]
    assert apply_merges([0, 1, 0, 1], lookup) == [4, 4]


# ------------------------------------------------------------------------- hypothesis properties


@st.composite
def merge_lists(draw):
    """(number of base symbols, merges over existing ids, symbol sequence over base ids)."""
    n_base = draw(st.integers(1, 5))
    merges = []
    for k in range(draw(st.integers(0, 25))):
        existing = n_base + k
        merges.append((draw(st.integers(0, existing - 1)), draw(st.integers(0, existing - 1))))
    symbols = draw(st.lists(st.integers(0, n_base - 1), max_size=40))
    return n_base, merges, symbols


@settings(max_examples=300, deadline=None)
@given(merge_lists())
def test_apply_merges_equals_twin_for_merge_rank_lookup(case):
    n_base, merges, symbols = case
    lookup = merge_rank_lookup(merges, first_new_id=n_base)
    assert apply_merges(symbols, lookup) == reference_apply(symbols, lookup)


@st.composite
def rank_vocabularies(draw):
    """A byte vocabulary over a small alphabet, with priorities that may tie."""
    alphabet = draw(st.sampled_from([b"ab", b"abc", b"abcd"]))
    base = [bytes([c]) for c in alphabet]
    extra = draw(st.lists(st.binary(min_size=2, max_size=5).map(
        lambda raw: bytes(alphabet[b % len(alphabet)] for b in raw)), max_size=30, unique=True))
    vocab = list(dict.fromkeys(base + extra))
    priority = draw(st.lists(st.integers(0, 8), min_size=len(vocab), max_size=len(vocab)))
    text = draw(st.lists(st.integers(0, len(alphabet) - 1), max_size=40))
    return vocab, [float(p) for p in priority], text


@settings(max_examples=300, deadline=None)
@given(rank_vocabularies())
def test_apply_merges_equals_twin_for_concat_rank_lookup(case):
    vocab, priority, symbols = case
    lookup = concat_rank_lookup(vocab, {t: i for i, t in enumerate(vocab)}, priority)
    got = apply_merges(symbols, lookup)
    assert got == reference_apply(symbols, lookup)
    # Merging never changes the bytes spelled.
    assert b"".join(vocab[i] for i in got) == b"".join(vocab[i] for i in symbols)


@settings(max_examples=200, deadline=None)
@given(merge_lists(), st.data())
def test_apply_merges_equals_twin_with_explicit_merged_ids(case, data):
    """Merged ids given explicitly (not numbered in merge order), duplicates allowed."""
    n_base, merges, symbols = case
    # A fresh id per merge, in a shuffled order, all above the base symbols.
    fresh = data.draw(st.permutations(range(n_base, n_base + len(merges))))
    rename = dict(zip(range(n_base, n_base + len(merges)), fresh, strict=True))
    renamed = [(rename.get(a, a), rename.get(b, b)) for a, b in merges]
    lookup = merge_rank_lookup(renamed, merged_ids=list(fresh))
    assert apply_merges(symbols, lookup) == reference_apply(symbols, lookup)


# ------------------------------------------------------------------ GPT-2: both lookups agree

# OpenAI's gpt-2 encoder.py pattern.
GPT2_REGEX = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _real_words(flores_dir: Path, code_dir: Path) -> list[str]:
    words: list[str] = []
    for lang in ("eng_Latn", "fra_Latn", "deu_Latn", "vie_Latn", "rus_Cyrl", "ell_Grek", "zho_Hans"):
        lines = (flores_dir / "devtest" / f"{lang}.devtest").read_text(encoding="utf-8").splitlines()[:40]
        for line in lines:
            words.extend(regex.findall(GPT2_REGEX, line))
    with open(code_dir / "python.jsonl", encoding="utf-8") as handle:
        words.extend(regex.findall(GPT2_REGEX, json.loads(handle.readline())["text"][:5000]))
    return list(dict.fromkeys(words))


def test_concat_rank_and_merge_rank_lookups_agree_on_gpt2(tokenizer_dir: Path, flores_dir: Path, code_dir: Path):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    decoder = gpt2_byte_decoder()
    vocab_json = json.loads((tokenizer_dir / "gpt2" / "vocab.json").read_text(encoding="utf-8"))
    lines = (tokenizer_dir / "gpt2" / "merges.txt").read_text(encoding="utf-8").splitlines()
    pairs = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#version")]
    merges = [(vocab_json[a], vocab_json[b]) for a, b in pairs]
    merge_lookup = merge_rank_lookup(merges, merged_ids=[vocab_json[a + b] for a, b in pairs])
    # The 256 single-character tokens are the bytes, spelled through the table.
    gpt2_byte_id = {decoder[s]: i for s, i in vocab_json.items() if len(s) == 1}
    assert len(gpt2_byte_id) == 256

    ranks = load_tiktoken_bpe(str(tokenizer_dir / "r50k_base.tiktoken"))
    token_bytes = [b""] * len(ranks)
    for token, rank in ranks.items():
        token_bytes[rank] = token
    rank_lookup = concat_rank_lookup(token_bytes, ranks, [float(r) for r in range(len(ranks))])
    encoding = tiktoken.Encoding(name="r50k_test", pat_str=GPT2_REGEX, mergeable_ranks=ranks, special_tokens={})

    words = _real_words(flores_dir, code_dir)
    assert len(words) > 1500
    for word in words:
        data = word.encode("utf-8")
        by_merges = apply_merges([gpt2_byte_id[b] for b in data], merge_lookup)
        by_ranks = apply_merges([ranks[bytes([b])] for b in data], rank_lookup)
        assert by_merges == by_ranks, word
        assert by_ranks == encoding.encode_ordinary(word), word


# ------------------------------------------------------------------------------ recover_merges


def test_recover_merges_docstring_example():
    """a, b, ab (rank 2), abb (rank 3): ab = a+b; abb's bytes [a, b, b] merge a+b first
    (ab ranks below abb), leaving [ab, b], so abb = ab+b."""
    assert recover_merges([b"a", b"b", b"ab", b"abb"], ranks=[0, 1, 2, 3], base_ids=[0, 1]) == [(0, 1), (2, 1)]


TINY_VOCAB = [b"a", b"b", b"c", b"cab", b"ab", b"bc", b"abc", b"acb", b"x", b"xy", b"abcab"]
#              0     1     2     3       4      5      6       7       8     9      10
TINY_RANKS = [0, 1, 2, 7, 3, 4, 5, 6, 8, 9, 10]


def test_recover_merges_on_a_hand_built_vocabulary():
    """Derivation, lower rank = earlier, only tokens of lower rank may be used:

    * ab (rank 3) = a+b; bc (rank 4) = b+c.
    * abc (rank 5): [a, b, c] has ab (3) and bc (4): ab first, then [ab, c] -> ab+c.
    * acb (rank 6): [a, c, b]; neither "ac" nor "cb" is a token: BPE cannot build it, skipped.
    * cab (rank 7): [c, a, b]; "ca" is no token, ab (3) is: [c, ab] -> c+ab.
    * xy (rank 9): "y" is not a base symbol (x is): no initial symbols, skipped.
    * abcab (rank 10): [a,b,c,a,b] -> ab twice, leftmost first: [ab,c,a,b] -> [ab,c,ab]
      -> abc (5) beats cab (7): [abc, ab] -> abc+ab.

    Ordered by the rank of the result: ab, bc, abc, cab, abcab.
    """
    merges = recover_merges(TINY_VOCAB, ranks=TINY_RANKS, base_ids=[0, 1, 2, 8])
    assert merges == [(0, 1), (1, 2), (4, 2), (2, 4), (6, 4)]


def test_recover_merges_candidates_restrict_results():
    merges = recover_merges(TINY_VOCAB, ranks=TINY_RANKS, base_ids=[0, 1, 2, 8], candidates=[6, 3])
    assert merges == [(4, 2), (2, 4)]  # abc = ab+c, cab = c+ab, still in rank order


def test_recover_merges_on_strings_with_initial_symbols():
    """SentencePiece style: string pieces, characters as base symbols given by a callback.
    "▁t" (rank 2) = ▁+t, "he" (rank 3) = h+e, "▁the" (rank 4): [▁, t, h, e] -> ▁t (2) first,
    then he (3): [▁t, he] -> ▁t+he."""
    pieces = ["▁", "t", "h", "e", "▁t", "he", "▁the"]
    ranks = [10, 11, 12, 13, 2, 3, 4]
    base = {p: i for i, p in enumerate(pieces) if len(p) == 1}
    merges = recover_merges(pieces, ranks=ranks, initial_symbols=lambda t: [base[ch] for ch in pieces[t]])
    assert merges == [(0, 1), (2, 3), (4, 5)]


def test_split_by_rank_stops_at_two_parts():
    """[a, b, c] with ab (rank 3) and abc (rank 5) below the limit 6: merging stops at
    [ab, c] although ab+c = abc is a token."""
    vocab = [b"a", b"b", b"c", b"ab", b"abc"]
    ranks = [0, 1, 2, 3, 5]
    index = {t: i for i, t in enumerate(vocab)}

    def token_of(x, y):
        return index.get(vocab[x] + vocab[y])

    assert split_by_rank([0, 1, 2], token_of, ranks, 6) == [3, 2]
    assert split_by_rank([0, 1, 2], token_of, ranks, 3) == [0, 1, 2]  # ab not allowed
