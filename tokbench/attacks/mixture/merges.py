"""Merge lists for data-mixture inference (Hayase et al. 2024): what the attack reads.

The attack needs the ordered merges ``(left, right) -> result`` of a BPE tokenizer, whatever its
file format: HF ``tokenizer.json`` and GPT-2 files store them, tiktoken rank files and
SentencePiece models have them recovered by :mod:`tokbench.model.merges` (``Tokenizer.merges``).
Three clean-ups make a list fit the attack's premise that merge ``t`` was the most frequent pair:

* creation order — a SentencePiece-style model's merges are put in the order its trainer created
  the pieces, which is piece id order (:func:`creation_order`). Scores, which ``.model`` readers
  and HF conversions sort by, can be edited after training: Llama's and Mistral's whitespace
  runs (``▁▁`` id 259, ``▁▁▁▁`` 260, ...) carry -1e9, so sorted by score they are the *last*
  merges although they were among the first. Read by score, the pair ``(▁, ▁)`` (indentation)
  is never merged and becomes the strongest competitor of every step (on Mistral at T = 3,000
  its weight alone, ~31,000 per million pairs, was a fifth of the LP's objective), which
  pushes the weight off the code categories and onto categories without indentation;
* ``skip`` — leading hand-made merges (some tokenizers start with whitespace merges added by
  hand) are dropped: a number, or ``"auto"`` for the leading run of whitespace-only merges;
* redundant merges — HF conversions of SentencePiece models (Llama) list every split of each
  piece (``▁the`` as ``▁t he``, ``▁th e`` and ``▁ the``), in an order that says nothing about
  training. The split kept is the one BPE itself reaches: the token's characters merged by the
  earlier merges until two parts remain (:func:`tokbench.model.merges.split_by_rank`, as for
  tiktoken and SentencePiece ranks, and as the reference implementation's cleaning picks the
  split whose parts were formed first). Keeping the first listed split whose parts exist instead
  keeps pairs BPE never forms (``ve r`` for ``ver``, where ``er`` is merged first): on Llama 118
  of the first 1,000 merges then never occur in any text, and each such step becomes a
  constraint only dilution can ease (see :mod:`tokbench.attacks.mixture.lp`).

It differs from :mod:`tokbench.model.merges` (which recovers a list from ranks) by checking and
pruning a list for the attack, and from :mod:`tokbench.attacks.mixture.traces` by not touching text.

Example:
    >>> ml = extract_merges(llama)                  # doctest: +SKIP
    >>> len(ml), ml.skipped, ml.redundant           # doctest: +SKIP
    (29612, 0, 31637)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...errors import TokbenchError, UnsupportedTokenizerError
from ...model.merges import split_by_rank
from ...model.tokenizer import Tokenizer

__all__ = ["MergeList", "extract_merges", "leading_whitespace_merges", "bpe_splits", "creation_order",
           "inherited_merges", "listed_prefix"]


@dataclass(frozen=True, eq=False)
class MergeList:
    """Ordered merges as id arrays: ``left[t] + right[t] -> result[t]``."""

    left: np.ndarray
    right: np.ndarray
    result: np.ndarray
    tokenizer: str
    fingerprint: str
    skipped: int = 0
    redundant: int = 0
    #: Leading merges of the tokenizer's list applied to the text *before* the first of these: the
    #: base's merges when attacking an extension's added merges (:meth:`split`); 0 otherwise.
    offset: int = 0

    def __len__(self) -> int:
        return int(self.left.shape[0])

    def head(self, n_steps: int) -> MergeList:
        """The first ``n_steps`` merges; raises when the list is shorter."""
        if isinstance(n_steps, bool) or not isinstance(n_steps, int) or n_steps < 1:
            raise TokbenchError(f"the number of merge steps must be a positive integer, got {n_steps!r}")
        if n_steps > len(self):
            raise TokbenchError(
                f"{self.tokenizer}: asked for {n_steps} merge steps but the merge list has only "
                f"{len(self)} (after skipping {self.skipped} and dropping {self.redundant} redundant); "
                f"use at most {len(self)}"
            )
        return MergeList(self.left[:n_steps], self.right[:n_steps], self.result[:n_steps],
                         self.tokenizer, self.fingerprint, self.skipped, self.redundant, self.offset)

    def split(self, k: int) -> tuple[MergeList | None, MergeList]:
        """``(first k merges, the rest)``: the rest starts after the first ``k`` (its ``offset``
        grows by ``k``), for tracing an extension's added merges from the base's segmentation;
        ``(None, self)`` when ``k`` is 0.

        >>> ml = MergeList(np.array([0, 2]), np.array([1, 1]), np.array([2, 3]), "t", "f")
        >>> base, added = ml.split(1)
        >>> len(base), len(added), added.offset, added.left.tolist()
        (1, 1, 1, [2])
        """
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(self):
            raise TokbenchError(f"{self.tokenizer}: the base must leave merges to attack: got {k!r} base merges "
                                f"of {len(self)}; give 0 <= k < {len(self)}")
        if k == 0:
            return None, self
        rest = MergeList(self.left[k:], self.right[k:], self.result[k:], self.tokenizer, self.fingerprint,
                         self.skipped, self.redundant, self.offset + k)
        return self.head(k), rest

    def signature(self) -> dict[str, object]:
        out: dict[str, object] = {"tokenizer": self.tokenizer, "fingerprint": self.fingerprint,
                                  "merges": len(self), "skipped": self.skipped, "redundant": self.redundant}
        if self.offset:
            out["base_merges"] = self.offset
        return out


def _is_whitespace(data: bytes) -> bool:
    return bool(data) and not data.strip()


def leading_whitespace_merges(tok: Tokenizer, pairs: list[tuple[int, int]]) -> int:
    """How many merges at the start of ``pairs`` join whitespace to whitespace."""
    k = 0
    for a, b in pairs:
        if not (_is_whitespace(tok.vocab[a]) and _is_whitespace(tok.vocab[b])):
            break
        k += 1
    return k


def _initial_symbols(data: bytes, by_bytes: dict[bytes, int]) -> list[int] | None:
    """The base symbols of a token: its characters (character-level BPE), else its bytes."""
    try:
        units = [ch.encode("utf-8") for ch in data.decode("utf-8")]
    except UnicodeDecodeError:
        units = []
    for candidate in (units, [data[k:k + 1] for k in range(len(data))]):
        ids = [by_bytes.get(u) for u in candidate]
        if candidate and None not in ids:
            return ids  # type: ignore[return-value]
    return None


def bpe_splits(vocab: list[bytes], pairs: list[tuple[int, int]], results: list[int],
               by_bytes: dict[bytes, int]) -> dict[int, tuple[int, int]]:
    """For each token that several listed merges create, the split BPE reaches: its base
    symbols merged by the earlier merges (by the position of each result's first merge) until
    two parts remain, when that split is one of the listed ones.

    >>> vocab = [b"v", b"e", b"r", b"er", b"ve", b"ver"]
    >>> ids = {v: i for i, v in enumerate(vocab)}
    >>> bpe_splits(vocab, [(1, 2), (0, 1), (4, 2), (0, 3)], [3, 4, 5, 5], ids)   # "ve r" listed first
    {5: (0, 3)}
    """
    listed: dict[int, set[tuple[int, int]]] = {}
    rank: dict[int, int] = {}
    for k, (pair, c) in enumerate(zip(pairs, results, strict=True)):
        listed.setdefault(c, set()).add(pair)
        rank.setdefault(c, k)
    ranks = [float(rank.get(i, -1)) for i in range(len(vocab))]

    def token_of(a: int, b: int) -> int | None:
        return by_bytes.get(vocab[a] + vocab[b])

    choice: dict[int, tuple[int, int]] = {}
    for c, options in listed.items():
        if len(options) < 2:
            continue
        symbols = _initial_symbols(vocab[c], by_bytes)
        if symbols is None or len(symbols) < 2:
            continue
        parts = split_by_rank(symbols, token_of, ranks, ranks[c])
        if len(parts) == 2 and (parts[0], parts[1]) in options:
            choice[c] = (parts[0], parts[1])
    return choice


def creation_order(tok: Tokenizer, pairs: list[tuple[int, int]], results: list[int],
                   by_bytes: dict[bytes, int]) -> tuple[list[tuple[int, int]], list[int]]:
    """The merges of a SentencePiece-style model in the order its trainer created the pieces.

    SentencePiece's BPE trainer appends each new piece to its vocabulary as it merges, so piece
    ids are creation order; the score (minus that order) is what ``.model`` readers and HF
    conversions sort by, and it can be edited afterwards: Llama's and Mistral's whitespace
    pieces (``▁▁`` id 259, ``▁▁▁▁`` 260, ``▁▁▁▁▁▁▁▁`` 273) carry -1e9 while their neighbours
    keep -(id - 259), so by score they come last, by id first. Each piece's merge is the split
    BPE reaches with the pieces created before it (:func:`tokbench.model.merges.split_by_rank`
    with ids as ranks); a piece no two earlier pieces make keeps its first listed merge.

    >>> vocab = [b"a", b"b", b"aa", b"ab", b"aab"]
    >>> ids = {v: i for i, v in enumerate(vocab)}
    >>> creation_order(None, [(0, 1), (2, 1), (0, 0)], [3, 4, 2], ids)   # "aa" listed last, made first
    ([(0, 0), (0, 1), (2, 1)], [2, 3, 4])
    """
    vocab = tok.vocab if tok is not None else sorted(by_bytes, key=by_bytes.__getitem__)
    listed: dict[int, tuple[int, int]] = {}
    for pair, c in zip(pairs, results, strict=True):
        listed.setdefault(c, pair)
    ranks = [float(i) if i in listed else -1.0 for i in range(len(vocab))]

    def token_of(a: int, b: int) -> int | None:
        return by_bytes.get(vocab[a] + vocab[b])

    out_pairs: list[tuple[int, int]] = []
    for c in sorted(listed):
        symbols = _initial_symbols(vocab[c], by_bytes)
        parts = split_by_rank(symbols, token_of, ranks, float(c)) if symbols and len(symbols) > 1 else []
        ok = len(parts) == 2 and token_of(parts[0], parts[1]) == c
        out_pairs.append((parts[0], parts[1]) if ok else listed[c])
    return out_pairs, sorted(listed)


def _results(tok: Tokenizer, pairs: list[tuple[int, int]], by_bytes: dict[bytes, int]) -> list[int]:
    results: list[int] = []
    for k, (a, b) in enumerate(pairs):
        r = by_bytes.get(tok.vocab[a] + tok.vocab[b])
        if r is None:
            raise TokbenchError(
                f"{tok.name}: merge {k} ({tok.vocab[a]!r}, {tok.vocab[b]!r}) makes a token that is "
                "not in the vocabulary; the merge list does not match the vocabulary"
            )
        results.append(r)
    return results


def extract_merges(tok: Tokenizer, *, skip: int | Literal["auto"] = 0, dedupe: bool = True,
                   order: Literal["auto", "list", "creation"] = "auto") -> MergeList:
    """The tokenizer's merges as a :class:`MergeList`, cleaned for the attack (module docstring).

    ``order="auto"`` puts a SentencePiece-style model's merges in creation (piece id) order
    (:func:`creation_order`) and keeps every other list as it is; ``"list"`` never reorders.
    Raises :class:`UnsupportedTokenizerError` for models without merges (WordPiece, Unigram).
    """
    from ..training_split import is_sentencepiece_style

    if not tok.has_merges or not tok.merges:
        raise UnsupportedTokenizerError(
            f"{tok.name}: a {tok.kind} model has no merge list; mixture inference needs a BPE "
            "tokenizer with merges (HF tokenizer.json BPE, GPT-2 files, tiktoken or SentencePiece BPE)"
        )
    if order not in ("auto", "list", "creation"):
        raise TokbenchError(f"order must be 'auto', 'list' or 'creation', got {order!r}")
    excluded = tok.special_ids | tok.unused_ids | tok.byte_fallback_ids
    by_bytes: dict[bytes, int] = {}
    for i, data in enumerate(tok.vocab):
        if i not in excluded and data:
            by_bytes.setdefault(data, i)
    pairs = list(tok.merges)
    results = _results(tok, pairs, by_bytes)
    n_listed = len(pairs)
    if order == "creation" or (order == "auto" and is_sentencepiece_style(tok)):
        pairs, results = creation_order(tok, pairs, results, by_bytes)
    if skip == "auto":
        n_skip = leading_whitespace_merges(tok, pairs)
    elif isinstance(skip, int) and not isinstance(skip, bool) and skip >= 0:
        n_skip = skip
    else:
        raise TokbenchError(f"skip must be a non-negative integer or 'auto', got {skip!r}")
    if n_skip >= len(pairs):
        raise TokbenchError(f"{tok.name}: skipping {n_skip} merges leaves none of its {len(pairs)}")
    chosen = bpe_splits(list(tok.vocab), pairs, results, by_bytes) if dedupe else {}
    made_by_merge = set(results)
    # Skipped merges still made their tokens: they are available to later merges.
    available = {i for i in range(len(tok.vocab)) if i not in made_by_merge} | set(results[:n_skip])
    keep_l: list[int] = []
    keep_r: list[int] = []
    keep_c: list[int] = []
    for (a, b), c in zip(pairs[n_skip:], results[n_skip:], strict=True):
        if dedupe and (c in available or a not in available or b not in available
                       or chosen.get(c, (a, b)) != (a, b)):
            continue
        keep_l.append(a)
        keep_r.append(b)
        keep_c.append(c)
        available.add(c)
    if not keep_l:
        raise TokbenchError(f"{tok.name}: no merges left after skipping and removing redundant ones")
    return MergeList(np.asarray(keep_l, np.int64), np.asarray(keep_r, np.int64),
                     np.asarray(keep_c, np.int64), tok.name, tok.fingerprint, n_skip,
                     n_listed - n_skip - len(keep_l))


def _byte_pairs(tok: Tokenizer) -> list[tuple[bytes, bytes]]:
    if not tok.has_merges or not tok.merges:
        raise UnsupportedTokenizerError(f"{tok.name}: a {tok.kind} model has no merge list; an extension's "
                                        "added merges can only be attacked between two BPE tokenizers")
    return [(tok.vocab[a], tok.vocab[b]) for a, b in tok.merges]


def inherited_merges(base: Tokenizer, tok: Tokenizer) -> int:
    """How many of ``tok``'s leading listed merges (as byte pairs) are ``base``'s: the longest
    prefix of ``tok``'s list made only of ``base``'s merges, when it holds at least half of them
    and is followed by merges of ``tok``'s own — ``tok`` extends ``base``, possibly reordered or
    minus some merges (Qwen2 over cl100k: 98,900). The same count as
    :attr:`tokbench.metrics.compare.MergeRelation.inherited` for these relations (the ``compare``
    command names the relation); raises :class:`TokbenchError` when ``tok`` does not extend ``base``.

    >>> inherited_merges(gpt2, gpt2_extended)   # doctest: +SKIP
    50000
    """
    a, b = _byte_pairs(base), _byte_pairs(tok)
    own = set(a)
    k = 0
    while k < len(b) and b[k] in own:
        k += 1
    if k == len(b) or k < max(1, len(own) / 2):
        found = ("has the same merges as" if k == len(b) and len(b) >= len(own)
                 else "has no merge of its own after the base's" if k == len(b)
                 else f"shares only its first {k:,} merges with")
        raise TokbenchError(
            f"{tok.name} does not extend {base.name}: it {found} {base.name} ({len(a):,} merges; {tok.name} has "
            f"{len(b):,}); attacking added merges needs a tokenizer whose first merges are the base's and that "
            f"adds merges of its own (run `tokbench compare {base.name} {tok.name}`), or drop --base"
        )
    return k


def listed_prefix(tok: Tokenizer, merges: MergeList, k: int) -> int:
    """How many leading entries of ``merges`` (:func:`extract_merges`' cleaned list) the first ``k``
    merges of ``tok``'s own list make: those whose token one of those ``k`` merges makes. Raises
    when a later entry makes such a token too (the cleaned list then does not start with the
    base's merges, and no trace start is the base's segmentation)."""
    made = {tok.vocab[a] + tok.vocab[b] for a, b in (tok.merges or [])[:k]}
    inside = np.fromiter((tok.vocab[int(c)] in made for c in merges.result), bool, len(merges))
    n = int(np.argmin(inside)) if not inside.all() else len(merges)
    if k and n == 0:
        raise TokbenchError(f"{tok.name}: none of its first {k:,} listed merges opens its cleaned merge list; "
                            "the inherited merges cannot be the trace start")
    if inside[n:].any():
        raise TokbenchError(f"{tok.name}: merge {n + int(np.argmax(inside[n:]))} of the cleaned list makes a token "
                            f"of the first {k:,} listed merges after one that does not; the cleaned list does not "
                            "start with the base's merges")
    return n
