"""Applying BPE merges to one pretoken at encode time; :mod:`tokbench.trainers.bpe` learns them.

Every BPE family reduces to one loop: start from base symbols, repeatedly merge the adjacent
pair with the best priority, leftmost on ties, until no adjacent pair can merge. The families
differ only in what "priority" means, which is why the loop takes a ``lookup(left, right)``
returning ``(priority, new_id)`` or ``None``:

* HF ``tokenizers`` BPE: the rank of the pair in the merge list (:func:`merge_rank_lookup`);
* tiktoken: the rank of the concatenated token (:func:`concat_rank_lookup`);
* SentencePiece BPE: minus the score of the concatenated piece (same helper, ranks from scores).

The loop keeps a heap of candidate merges and a linked list of live symbols, so a long pretoken
costs O(n log n) rather than the O(n²) of rescanning after each merge. This is the plain-Python
encoder; numba kernels for throughput live with the attacks that need them.

Example:
    >>> lookup = merge_rank_lookup([(0, 1)], first_new_id=3)   # merge "a"+"b" -> id 3
    >>> apply_merges([0, 1, 2, 0, 1], lookup)
    [3, 2, 3]
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

__all__ = ["PairLookup", "apply_merges", "merge_rank_lookup", "concat_rank_lookup"]

#: ``lookup(left_id, right_id) -> (priority, merged_id)`` or ``None`` when the pair cannot merge.
PairLookup = Callable[[int, int], "tuple[float, int] | None"]


def apply_merges(symbols: Sequence[int], lookup: PairLookup) -> list[int]:
    """Merge ``symbols`` greedily by ``lookup`` priority (lowest first, leftmost on ties)."""
    n = len(symbols)
    if n < 2:
        return list(symbols)
    ids = list(symbols)
    nxt = list(range(1, n + 1))
    nxt[-1] = -1
    prv = list(range(-1, n - 1))
    heap: list[tuple[float, int, int, int, int]] = []
    for i in range(n - 1):
        found = lookup(ids[i], ids[i + 1])
        if found is not None:
            heap.append((found[0], i, ids[i], ids[i + 1], found[1]))
    heapq.heapify(heap)
    while heap:
        _, i, left, right, merged = heapq.heappop(heap)
        j = nxt[i]
        # Entries go stale when a neighbour merged first; the pair is still valid only if both
        # symbols are alive, adjacent and unchanged.
        if j < 0 or ids[i] != left or ids[j] != right:
            continue
        ids[i] = merged
        ids[j] = -1
        after = nxt[j]
        nxt[i] = after
        if after >= 0:
            prv[after] = i
            found = lookup(merged, ids[after])
            if found is not None:
                heapq.heappush(heap, (found[0], i, merged, ids[after], found[1]))
        before = prv[i]
        if before >= 0:
            found = lookup(ids[before], merged)
            if found is not None:
                heapq.heappush(heap, (found[0], before, ids[before], merged, found[1]))
    return [t for t in ids if t >= 0]


def merge_rank_lookup(
    merges: Sequence[tuple[int, int]],
    *,
    first_new_id: int | None = None,
    merged_ids: Sequence[int] | None = None,
) -> PairLookup:
    """Lookup for merge-list BPE: priority = position in ``merges``.

    The merged token of merge ``k`` is ``merged_ids[k]``, or ``first_new_id + k`` when the new
    tokens are numbered in merge order (as trainers do).
    """
    if merged_ids is None:
        if first_new_id is None:
            raise ValueError("give merged_ids or first_new_id")
        merged_ids = range(first_new_id, first_new_id + len(merges))
    table: dict[tuple[int, int], tuple[int, int]] = {}
    for rank, (pair, new_id) in enumerate(zip(merges, merged_ids, strict=True)):
        # A duplicated pair keeps its first (best) rank, as HF tokenizers does.
        table.setdefault((pair[0], pair[1]), (rank, new_id))
    get = table.get
    return lambda a, b: get((a, b))


def concat_rank_lookup(
    token_bytes: Sequence[bytes],
    bytes_to_id: dict[bytes, int],
    priority: Sequence[float],
) -> PairLookup:
    """Lookup for rank BPE: a pair merges if its concatenation is a token; priority by that token.

    ``priority[id]`` is the token's rank (tiktoken) or minus its score (SentencePiece).
    Results are memoised per pair, since the same pairs recur across pretokens.
    """
    cache: dict[tuple[int, int], tuple[float, int] | None] = {}

    def lookup(a: int, b: int) -> tuple[float, int] | None:
        key = (a, b)
        try:
            return cache[key]
        except KeyError:
            merged = bytes_to_id.get(token_bytes[a] + token_bytes[b])
            found = None if merged is None else (priority[merged], merged)
            cache[key] = found
            return found

    return lookup
