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

    pair_counts: dict[tuple[int, int], int] = {}
    positions: dict[tuple[int, int], set[int]] = {}
    for i, word in enumerate(word_list):
        for pair in zip(word, word[1:], strict=False):
            pair_counts[pair] = pair_counts.get(pair, 0) + counts[i]
            positions.setdefault(pair, set()).add(i)
    all_positions = {p: set(s) for p, s in positions.items()}  # only forced merges use these
    # heapq is a min-heap: order by (-count as u64, pair), a sequence number breaks exact ties.
    heap: list[tuple[int, tuple[int, int], int, set[int]]] = []
    serial = 0

    def push(pair: tuple[int, int], pos: set[int]) -> None:
        nonlocal serial
        heapq.heappush(heap, (-(pair_counts[pair] % _U64), pair, serial, pos))
        serial += 1

    for pair, pos in positions.items():
        if pair_counts[pair] > 0:
            push(pair, pos)

    merges: list[tuple[int, int, int, int]] = []
    n_forced = 0
    while True:
        is_forced = n_forced < len(forced)
        if is_forced:
            pair = forced[n_forced]
            n_forced += 1
            count = pair_counts.get(pair, 0)
            pos = all_positions.get(pair, set())
        else:
            if len(ids) >= vocab_size or not heap:
                break
            neg, pair, _, pos = heapq.heappop(heap)
            current = pair_counts[pair] % _U64
            if -neg != current:
                heapq.heappush(heap, (-current, pair, serial, pos))
                serial += 1
                continue
            if current < 1 or min_frequency > current:
                break
            count = pair_counts[pair]
        a, b = pair
        units = tokens[a] + tokens[b]
        new = ids.get(units)
        if new is None:
            new = len(tokens)
            tokens.append(units)
            lengths.append(len(units))
            ids[units] = new
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
                push(changed, where)
    return merges, tokens
