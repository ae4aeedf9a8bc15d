"""Merge lists for data-mixture inference (Hayase et al. 2024): what the attack reads.

The attack needs the ordered merges ``(left, right) -> result`` of a BPE tokenizer, whatever its
file format: HF ``tokenizer.json`` and GPT-2 files store them, tiktoken rank files and
SentencePiece models have them recovered by :mod:`tokbench.model.merges` (``Tokenizer.merges``). Two
clean-ups make a list fit the attack's premise that merge ``t`` was the most frequent pair:

* ``skip`` — leading hand-made merges (some tokenizers start with whitespace merges added by
  hand) are dropped: a number, or ``"auto"`` for the leading run of whitespace-only merges;
* redundant merges — HF conversions of SentencePiece models (Llama) list every split of each
  piece; only the earliest merge that creates each token from tokens already available is kept.

It differs from :mod:`tokbench.model.merges` (which recovers a list from ranks) by checking and
pruning a list for the attack, and from :mod:`tokbench.attacks.mixture.traces` by not touching text.

Example:
    >>> ml = extract_merges(tok, skip="auto")      # doctest: +SKIP
    >>> len(ml), ml.skipped, ml.redundant          # doctest: +SKIP
    (31757, 0, 29492)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...errors import TokbenchError, UnsupportedTokenizerError
from ...model.tokenizer import Tokenizer

__all__ = ["MergeList", "extract_merges", "leading_whitespace_merges"]


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
                         self.tokenizer, self.fingerprint, self.skipped, self.redundant)

    def signature(self) -> dict[str, object]:
        return {"tokenizer": self.tokenizer, "fingerprint": self.fingerprint, "merges": len(self),
                "skipped": self.skipped, "redundant": self.redundant}


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


def extract_merges(tok: Tokenizer, *, skip: int | Literal["auto"] = 0, dedupe: bool = True) -> MergeList:
    """The tokenizer's merges as a :class:`MergeList`, cleaned for the attack (module docstring).

    Raises :class:`UnsupportedTokenizerError` for models without merges (WordPiece, Unigram).
    """
    if not tok.has_merges or not tok.merges:
        raise UnsupportedTokenizerError(
            f"{tok.name}: a {tok.kind} model has no merge list; mixture inference needs a BPE "
            "tokenizer with merges (HF tokenizer.json BPE, GPT-2 files, tiktoken or SentencePiece BPE)"
        )
    pairs = list(tok.merges)
    if skip == "auto":
        n_skip = leading_whitespace_merges(tok, pairs)
    elif isinstance(skip, int) and not isinstance(skip, bool) and skip >= 0:
        n_skip = skip
    else:
        raise TokbenchError(f"skip must be a non-negative integer or 'auto', got {skip!r}")
    if n_skip >= len(pairs):
        raise TokbenchError(f"{tok.name}: skipping {n_skip} merges leaves none of its {len(pairs)}")
    excluded = tok.special_ids | tok.unused_ids | tok.byte_fallback_ids
    by_bytes: dict[bytes, int] = {}
    for i, data in enumerate(tok.vocab):
        if i not in excluded and data:
            by_bytes.setdefault(data, i)
    results: list[int] = []
    for k, (a, b) in enumerate(pairs):
        r = by_bytes.get(tok.vocab[a] + tok.vocab[b])
        if r is None:
            raise TokbenchError(
                f"{tok.name}: merge {k} ({tok.vocab[a]!r}, {tok.vocab[b]!r}) makes a token that is "
                "not in the vocabulary; the merge list does not match the vocabulary"
            )
        results.append(r)
    made_by_merge = set(results)
    # Skipped merges still made their tokens: they are available to later merges.
    available = {i for i in range(len(tok.vocab)) if i not in made_by_merge} | set(results[:n_skip])
    keep_l: list[int] = []
    keep_r: list[int] = []
    keep_c: list[int] = []
    redundant = 0
    for (a, b), c in zip(pairs[n_skip:], results[n_skip:], strict=True):
        if dedupe and (c in available or a not in available or b not in available):
            redundant += 1
            continue
        keep_l.append(a)
        keep_r.append(b)
        keep_c.append(c)
        available.add(c)
    if not keep_l:
        raise TokbenchError(f"{tok.name}: no merges left after skipping and removing redundant ones")
    return MergeList(np.asarray(keep_l, np.int64), np.asarray(keep_r, np.int64),
                     np.asarray(keep_c, np.int64), tok.name, tok.fingerprint, n_skip, redundant)
