"""Merge-list BPE of many pieces in one numba kernel (the readable twin is
:func:`tokbench.model.bpe.apply_merges`).

A **pair table** maps ``left << 32 | right`` to the pair's priority (its merge rank, or for
rank-BPE files the rank of the token the pair makes) and the merged id; pieces arrive as one
``uint8`` buffer plus ``offsets``; outputs go to preallocated arrays, so the per-piece loop
allocates nothing. A long piece keeps a heap of candidate merges (:mod:`tokbench._numba.heap`) and
a linked list of live symbols, O(n log n) in its length; a piece of at most ``SMALL_PIECE`` bytes
(nearly all of them) rescans its pair ranks after each merge, as tiktoken does, which costs less
than the heap at that size. Both give the same merges: the lowest rank first, leftmost on ties.

Example:
    >>> import numpy as np
    >>> from tokbench._numba.trie import hash_capacity, trie_build
    >>> keys, ranks, results = pair_table_build(np.array([97], np.int32), np.array([98], np.int32),
    ...                                         np.array([256], np.int32), np.array([0]), hash_capacity(1))
    >>> trie = trie_build(np.frombuffer(b"ab", np.uint8), np.array([0, 2]), np.array([256], np.int32), 1024, 3)
    >>> data, offsets = np.frombuffer(b"abc", np.uint8), np.array([0, 3])
    >>> out, out_offsets, scratch = np.empty(3, np.int32), np.empty(2, np.int64), np.empty(9, np.int64)
    >>> ids = np.empty(3, np.int32)
    >>> n = bpe_batch(data, offsets, np.arange(256, dtype=np.int32), keys, ranks, results, out,
    ...               out_offsets, ids, scratch[:3], scratch[3:6], np.empty(9, np.int64),
    ...               np.empty(9, np.int64), *trie, False)
    >>> out[:n].tolist()
    [256, 99]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .hashtable import EMPTY, find, slot
from .heap import pop, push
from .trie import table_shift, trie_step, whole_token

__all__ = ["pair_table_build", "concat_pairs", "bpe_batch"]


@njit(cache=True)
def pair_table_build(lefts, rights, merged, priority, capacity):
    """Hash table ``(left << 32 | right) -> (priority, merged id)``; for a pair listed twice the
    first entry wins (as HF tokenizers keeps a duplicated merge's first rank)."""
    keys = np.full(capacity, EMPTY, dtype=np.int64)
    ranks = np.zeros(capacity, dtype=np.int32)
    results = np.zeros(capacity, dtype=np.int32)
    shift = table_shift(keys)
    for r in range(lefts.shape[0]):
        key = (np.int64(lefts[r]) << 32) | np.int64(rights[r])
        i = slot(keys, key, shift)
        if keys[i] == EMPTY:
            keys[i] = key
            ranks[i] = priority[r]
            results[i] = merged[r]
    return keys, ranks, results


@njit(cache=True)
def concat_pairs(data, offsets, token_ids, trie_keys, trie_vals, node_token):
    """Every way a token splits into two tokens: for rank BPE (tiktoken), where a pair merges
    whenever its concatenation is a token. Token k is ``data[offsets[k]:offsets[k+1]]`` with id
    ``token_ids[k]``; returns ``(lefts, rights, merged)`` over all (token, split point) pairs
    whose two halves are tokens."""
    shift = table_shift(trie_keys)
    total = max(offsets[-1] - offsets.shape[0] + 1, 1)
    lefts = np.empty(total, dtype=np.int32)
    rights = np.empty(total, dtype=np.int32)
    merged = np.empty(total, dtype=np.int32)
    n = 0
    for k in range(offsets.shape[0] - 1):
        start, end = offsets[k], offsets[k + 1]
        node = 0
        for p in range(start, end - 1):
            node = trie_step(trie_keys, trie_vals, shift, node, data[p])
            if node < 0:
                break
            left = node_token[node]
            if left < 0:
                continue
            right = whole_token(data, p + 1, end, trie_keys, trie_vals, node_token)
            if right >= 0:
                lefts[n], rights[n], merged[n] = left, right, token_ids[k]
                n += 1
    return lefts[:n].copy(), rights[:n].copy(), merged[:n].copy()


@njit(cache=True)
def _push_pair(left, right, k, pair_keys, shift, pair_ranks, heap_key, heap_slot, size):
    """Queue the pair ``(left, right)`` at position ``k`` if it has a merge; returns the heap size.

    The heap key is ``rank << 32 | position``: the lowest rank first, ties to the leftmost pair.
    The payload is the pair-table slot the entry was made for.
    """
    i = find(pair_keys, (np.int64(left) << 32) | np.int64(right), shift)
    if i < 0:
        return size
    heap_key[size] = (np.int64(pair_ranks[i]) << 32) | k
    heap_slot[size] = i
    return push(heap_key, None, heap_slot, size)


@njit(cache=True)
def _bpe_piece(n, ids, nxt, prv, pair_keys, shift, pair_ranks, pair_results, heap_key, heap_slot):
    """Merge the symbols ``ids[:n]`` (a linked list through ``nxt``/``prv``) by merge rank.

    An entry goes stale when a neighbour merges first; a popped entry is used only if the pair
    now at its position is still the pair it was made for. Merged-away symbols become -1.
    """
    size = 0
    for k in range(n - 1):
        size = _push_pair(ids[k], ids[k + 1], k, pair_keys, shift, pair_ranks, heap_key, heap_slot, size)
    while size > 0:
        k = np.int64(heap_key[0] & 0xFFFFFFFF)
        table_index = heap_slot[0]
        size = pop(heap_key, None, heap_slot, size)
        j = nxt[k]
        if j < 0 or ids[k] < 0:
            continue
        if pair_keys[table_index] != (np.int64(ids[k]) << 32) | np.int64(ids[j]):
            continue
        merged = pair_results[table_index]
        ids[k] = merged
        ids[j] = -1
        after = nxt[j]
        nxt[k] = after
        if after >= 0:
            prv[after] = k
            size = _push_pair(merged, ids[after], k, pair_keys, shift, pair_ranks, heap_key, heap_slot, size)
        before = prv[k]
        if before >= 0:
            size = _push_pair(ids[before], merged, before, pair_keys, shift, pair_ranks, heap_key, heap_slot,
                              size)


#: pieces up to this many bytes are merged by rescanning (as tiktoken does), longer ones by the heap
SMALL_PIECE = 24
_NO_MERGE = np.int64(1) << 62


@njit(cache=True, inline="always")
def _pair_rank(left, right, pair_keys, shift, pair_ranks):
    """(rank, table slot) of the pair, or (_NO_MERGE, -1)."""
    i = find(pair_keys, (np.int64(left) << 32) | np.int64(right), shift)
    if i < 0:
        return _NO_MERGE, np.int64(-1)
    return np.int64(pair_ranks[i]), np.int64(i)


@njit(cache=True)
def _bpe_small(n, ids, rank, table_slot, pair_keys, shift, pair_ranks, pair_results):
    """The same merges as :func:`_bpe_piece` for a short piece, by rescanning the pair ranks for
    the lowest (leftmost on ties) after each merge: for a few symbols a scan is cheaper than a
    heap. Symbols stay packed in ``ids[:m]``; returns m."""
    m = n
    for k in range(m - 1):
        rank[k], table_slot[k] = _pair_rank(ids[k], ids[k + 1], pair_keys, shift, pair_ranks)
    while m > 1:
        at = -1
        lowest = _NO_MERGE
        for k in range(m - 1):
            if rank[k] < lowest:
                lowest = rank[k]
                at = k
        if at < 0:
            break
        ids[at] = pair_results[table_slot[at]]
        for k in range(at + 1, m - 1):
            ids[k] = ids[k + 1]
        for k in range(at + 1, m - 2):
            rank[k] = rank[k + 1]
            table_slot[k] = table_slot[k + 1]
        m -= 1
        if at > 0:
            rank[at - 1], table_slot[at - 1] = _pair_rank(ids[at - 1], ids[at], pair_keys, shift, pair_ranks)
        if at < m - 1:
            rank[at], table_slot[at] = _pair_rank(ids[at], ids[at + 1], pair_keys, shift, pair_ranks)
    return m


@njit(cache=True)
def bpe_batch(data, offsets, byte_ids, pair_keys, pair_ranks, pair_results, out, out_offsets,
              ids, nxt, prv, heap_key, heap_pos, trie_keys, trie_vals, node_token, whole_first):
    """Merge-list BPE of every piece: merge the adjacent pair of lowest rank, leftmost first
    (as HF ``tokenizers`` and tiktoken do). With ``whole_first``, a piece that is itself a
    vocabulary token (found in the trie) is that token without merging, as tiktoken and HF's
    ``ignore_merges`` do.

    Scratch arrays ``ids``/``nxt``/``prv`` need ``max piece length`` entries, ``heap_*`` three
    times that (n - 1 initial pairs plus at most two per merge). Returns ids written, or
    ``-(position + 1)`` of a byte with no token.
    """
    shift = table_shift(pair_keys)
    n_out = 0
    for piece in range(offsets.shape[0] - 1):
        out_offsets[piece] = n_out
        start = offsets[piece]
        n = offsets[piece + 1] - start
        if whole_first:
            token = whole_token(data, start, start + n, trie_keys, trie_vals, node_token)
            if token >= 0:
                out[n_out] = token
                n_out += 1
                continue
        for k in range(n):
            token = byte_ids[data[start + k]]
            if token < 0:
                return -(start + k + 1)
            ids[k] = token
        if n <= SMALL_PIECE:  # nxt and prv serve as the pair ranks and table slots
            m = _bpe_small(n, ids, nxt, prv, pair_keys, shift, pair_ranks, pair_results)
            out[n_out:n_out + m] = ids[:m]
            n_out += m
            continue
        for k in range(n):
            nxt[k] = k + 1
            prv[k] = k - 1
        if n > 0:
            nxt[n - 1] = -1
        _bpe_piece(n, ids, nxt, prv, pair_keys, shift, pair_ranks, pair_results, heap_key, heap_pos)
        k = 0
        while k >= 0 and n > 0:
            out[n_out] = ids[k]
            n_out += 1
            k = nxt[k]
    out_offsets[offsets.shape[0] - 1] = n_out
    return n_out
