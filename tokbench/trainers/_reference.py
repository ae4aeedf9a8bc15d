"""Plain-Python BPE training: the readable twin of :mod:`tokbench.trainers._kernels`.

It follows HF ``tokenizers``' ``BpeTrainer`` (``models/bpe/trainer.rs``) literally: a max-heap of
``(count, pair, positions)`` entries with lazy re-keying of stale counts, ties broken by the
smaller pair of ids, HF's ``Word::merge`` change list (the merged pair itself is not
decremented; a new pair is counted only if its token would be shorter than ``max_length``), and
a merge that produces an existing string reusing that string's id. It is slow and exists so that
tests can check the numba kernels merge for merge on small corpora.

Example:
    >>> units = [(ord(c),) for c in "abc"]
    >>> merges, tokens = train_reference([((0, 1, 2), 3), ((0, 1), 2)], units, vocab_size=5)
    >>> [(a, b, new, count) for a, b, new, count in merges]
    [(0, 1, 3, 5), (3, 2, 4, 3)]
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence

__all__ = ["train_reference"]

_U64 = 1 << 64


def _merge_word(word: list[int], a: int, b: int, new: int, lengths: list[int],
                max_length: int) -> list[tuple[tuple[int, int], int]]:
    """Merge every (a, b) in ``word`` left to right, in place; the pair-count changes (HF's)."""
    changes: list[tuple[tuple[int, int], int]] = []
    i = 0
    while i < len(word):
        if word[i] == a and i + 1 < len(word) and word[i + 1] == b:
            if i > 0:
                changes.append(((word[i - 1], a), -1))
                if lengths[word[i - 1]] + lengths[new] < max_length:
                    changes.append(((word[i - 1], new), 1))
            word[i:i + 2] = [new]
            if i < len(word) - 1:
                changes.append(((b, word[i + 1]), -1))
                if lengths[word[i + 1]] + lengths[new] < max_length:
                    changes.append(((new, word[i + 1]), 1))
        i += 1
    return changes


class _Queue:
    """HF's merge queue: a max-heap of ``(count as u64, pair, positions)`` entries, ties to the
    smaller pair (``heapq`` is a min-heap, so counts are negated; a serial number breaks exact ties)."""

    def __init__(self, pair_counts: dict[tuple[int, int], int]):
        self.counts = pair_counts
        self.heap: list[tuple[int, tuple[int, int], int, set[int]]] = []
        self.serial = 0

    def push(self, pair: tuple[int, int], pos: set[int]) -> None:
        heapq.heappush(self.heap, (-(self.counts[pair] % _U64), pair, self.serial, pos))
        self.serial += 1

    def pop(self, min_frequency: int) -> tuple[tuple[int, int], set[int]] | None:
        """The next pair to merge with the words holding it, or ``None`` when training stops;
        a stale entry is re-queued with today's count first (HF pops and pushes it back)."""
        while self.heap:
            neg, pair, _, pos = heapq.heappop(self.heap)
            current = self.counts[pair] % _U64
            if -neg != current:
                heapq.heappush(self.heap, (-current, pair, self.serial, pos))
                self.serial += 1
                continue
            if current < 1 or min_frequency > current:
                return None
            return pair, pos
        return None


def _initial_counts(word_list: list[list[int]], counts: list[int]) -> tuple[dict, dict]:
    """Every pair's count and the words holding it."""
    pair_counts: dict[tuple[int, int], int] = {}
    positions: dict[tuple[int, int], set[int]] = {}
    for i, word in enumerate(word_list):
        for pair in zip(word, word[1:], strict=False):
            pair_counts[pair] = pair_counts.get(pair, 0) + counts[i]
            positions.setdefault(pair, set()).add(i)
    return pair_counts, positions


def train_reference(
    words: Sequence[tuple[Sequence[int], int]],
    token_units: Sequence[tuple[int, ...]],
    *,
    vocab_size: int,
    min_frequency: int = 0,
    max_length: int | None = None,
    forced: Sequence[tuple[int, int]] = (),
) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, ...]]]:
    """Train BPE on ``(symbol ids, count)`` words over initial tokens ``token_units`` (id order).

    ``forced`` pairs are merged first, in order, whatever their counts (continuing a merge list).
    Returns the merges as ``(a, b, new_id, count)`` and every token's units by id.
    """
    limit = _U64 - 1 if max_length is None else max_length
    tokens = [tuple(u) for u in token_units]
    ids: dict[tuple[int, ...], int] = {}
    for t, u in enumerate(tokens):
        ids.setdefault(u, t)
    lengths = [len(u) for u in tokens]
    word_list = [list(w) for w, _ in words]
    counts = [c for _, c in words]
    pair_counts, positions = _initial_counts(word_list, counts)
    all_positions = {p: set(s) for p, s in positions.items()}  # only forced merges use these
    queue = _Queue(pair_counts)
    for pair, pos in positions.items():
        if pair_counts[pair] > 0:
            queue.push(pair, pos)
    merges: list[tuple[int, int, int, int]] = []
    for step in itertools.count():
        is_forced = step < len(forced)
        if is_forced:
            pair, pos = forced[step], all_positions.get(forced[step], set())
        else:
            found = queue.pop(min_frequency) if len(ids) < vocab_size else None
            if found is None:
                break
            pair, pos = found
        count = pair_counts.get(pair, 0)
        a, b = pair
        units = tokens[a] + tokens[b]
        if units not in ids:
            ids[units] = len(tokens)
            tokens.append(units)
            lengths.append(len(units))
        new = ids[units]
        merges.append((a, b, new, count))
        gained: dict[tuple[int, int], set[int]] = {}
        for w in sorted(pos):
            for changed, sign in _merge_word(word_list[w], a, b, new, lengths, limit):
                pair_counts[changed] = pair_counts.get(changed, 0) + sign * counts[w]
                if sign > 0:
                    gained.setdefault(changed, set()).add(w)
        if is_forced and pair in pair_counts:
            pair_counts[pair] = 0  # every occurrence is gone; the heap must not pick it again
        for changed, where in gained.items():
            if pair_counts[changed] > 0:
                all_positions.setdefault(changed, set()).update(where)
                queue.push(changed, where)
    return merges, tokens
