"""Numba kernels for vocabulary-only and merge-list encoding of pretokens (bytes).

Data layout, all numpy arrays so that no Python object enters a kernel:

* a **byte trie** over the vocabulary as an open-addressing hash table
  (:mod:`tokbench._numba.hashtable`): the transition ``(node, byte) -> child`` is stored under key
  ``node * 256 + byte`` in ``trie_keys`` / ``trie_vals``; ``node_token[node]`` is the token ending
  there or -1. A dense 256-way table would need ~1 GB for a 150k vocabulary; the hash table
  needs a few MB;
* a **pair table** for merge-list BPE: key ``left << 32 | right`` -> merge rank and merged id;
* a batch of pretokens as one ``uint8`` buffer plus ``offsets`` (piece i is
  ``data[offsets[i]:offsets[i+1]]``); outputs go to preallocated ``out`` arrays.

Every kernel takes its scratch space from the caller, so the per-piece loops allocate nothing.
The readable twins are :mod:`tokbench.attacks.mergefree._reference` (greedy and minimal) and
:func:`tokbench.model.bpe.apply_merges` (merge-list BPE); tests check they agree.

Example:
    >>> import numpy as np
    >>> vocab = [b"a", b"b", b"ab"]
    >>> offsets = np.array([0, 1, 2, 4])
    >>> keys, vals, node_token = trie_build(np.frombuffer(b"abab", np.uint8), offsets,
    ...                                     np.arange(3, dtype=np.int32), hash_capacity(4), 5)
    >>> out, out_offsets = np.empty(4, np.int32), np.empty(2, np.int64)
    >>> n = greedy_batch(np.frombuffer(b"abb", np.uint8), np.array([0, 3]), keys, vals, node_token,
    ...                  out, out_offsets)
    >>> out[:n].tolist()
    [2, 1]
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..._numba.hashtable import EMPTY, find, slot
from ..._numba.heap import pop, push

__all__ = [
    "hash_capacity",
    "trie_build",
    "trie_step",
    "greedy_batch",
    "minimal_batch",
    "pair_table_build",
    "bpe_batch",
]


def hash_capacity(n_keys: int) -> int:
    """A power of two with load factor at most 1/2."""
    capacity = 1024
    while capacity < 2 * max(n_keys, 1):
        capacity *= 2
    return capacity


@njit(cache=True, inline="always")
def _table_shift(keys):
    """The hash shift of a table (its capacity is a power of two)."""
    shift = 64
    capacity = keys.shape[0]
    while capacity > 1:
        capacity >>= 1
        shift -= 1
    return shift


@njit(cache=True)
def trie_build(data, offsets, token_ids, capacity, max_nodes):
    """Insert tokens (bytes ``data[offsets[k]:offsets[k+1]]`` with id ``token_ids[k]``) into a
    trie. The first token inserted for a byte string wins. Returns (keys, vals, node_token)."""
    keys = np.full(capacity, EMPTY, dtype=np.int64)
    vals = np.zeros(capacity, dtype=np.int32)
    node_token = np.full(max_nodes, -1, dtype=np.int32)
    shift = _table_shift(keys)
    n_nodes = 1
    for k in range(offsets.shape[0] - 1):
        node = 0
        for p in range(offsets[k], offsets[k + 1]):
            key = np.int64(node) * 256 + np.int64(data[p])
            i = slot(keys, key, shift)
            if keys[i] == EMPTY:
                keys[i] = key
                vals[i] = n_nodes
                n_nodes += 1
            node = vals[i]
        if node_token[node] < 0 and offsets[k + 1] > offsets[k]:
            node_token[node] = token_ids[k]
    return keys, vals, node_token[:n_nodes].copy()


@njit(cache=True, inline="always")
def trie_step(keys, vals, shift, node, byte):
    """Child of ``node`` along ``byte``, or -1."""
    i = find(keys, np.int64(node) * 256 + np.int64(byte), shift)
    if i < 0:
        return -1
    return vals[i]


@njit(cache=True)
def greedy_batch(data, offsets, keys, vals, node_token, out, out_offsets):
    """Longest vocabulary prefix, left to right, for every piece. Returns the number of ids
    written, or ``-(position + 1)`` of the first byte no token starts with."""
    shift = _table_shift(keys)
    n_out = 0
    for piece in range(offsets.shape[0] - 1):
        out_offsets[piece] = n_out
        pos = offsets[piece]
        end = offsets[piece + 1]
        while pos < end:
            node = 0
            best_token = -1
            best_end = pos
            q = pos
            while q < end:
                node = trie_step(keys, vals, shift, node, data[q])
                if node < 0:
                    break
                q += 1
                if node_token[node] >= 0:
                    best_token = node_token[node]
                    best_end = q
            if best_token < 0:
                return -(pos + 1)
            out[n_out] = best_token
            n_out += 1
            pos = best_end
    out_offsets[offsets.shape[0] - 1] = n_out
    return n_out


@njit(cache=True)
def _fewest_tokens_from(i, end, data, keys, vals, shift, node_token, best, choice_end, choice_token):
    """Fill ``best[i]`` (fewest tokens covering ``data[i:end]``) from the entries after ``i``."""
    unreachable = np.int32(1 << 30)
    best[i] = unreachable
    node = 0
    q = i
    while q < end:
        node = trie_step(keys, vals, shift, node, data[q])
        if node < 0:
            break
        q += 1
        token = node_token[node]
        if token >= 0 and best[q] < unreachable:
            candidate = best[q] + 1
            # "<=" prefers the later (longer) end on ties.
            if candidate <= best[i]:
                best[i] = candidate
                choice_end[i] = q
                choice_token[i] = token


@njit(cache=True)
def minimal_batch(data, offsets, keys, vals, node_token, out, out_offsets, best, choice_end, choice_token):
    """Fewest tokens per piece by dynamic programming over suffixes.

    ``best[i]`` is the fewest tokens covering ``data[i:end]``; among equally short
    segmentations the one whose first token is longest wins, position by position, which makes
    the result deterministic. Scratch arrays ``best``, ``choice_end``, ``choice_token`` must
    have at least ``len(data) + 1`` entries. Returns ids written or ``-(position + 1)``.
    """
    unreachable = np.int32(1 << 30)
    shift = _table_shift(keys)
    n_out = 0
    for piece in range(offsets.shape[0] - 1):
        out_offsets[piece] = n_out
        start = offsets[piece]
        end = offsets[piece + 1]
        best[end] = 0
        for i in range(end - 1, start - 1, -1):
            _fewest_tokens_from(i, end, data, keys, vals, shift, node_token, best, choice_end, choice_token)
        if best[start] >= unreachable:
            # Find the first byte from which nothing can be covered, for the error message.
            for i in range(start, end):
                if best[i] >= unreachable:
                    return -(i + 1)
        pos = start
        while pos < end:
            out[n_out] = choice_token[pos]
            n_out += 1
            pos = choice_end[pos]
    out_offsets[offsets.shape[0] - 1] = n_out
    return n_out


@njit(cache=True)
def pair_table_build(lefts, rights, merged, capacity):
    """Hash table ``(left << 32 | right) -> (rank, merged id)``; the first rank of a pair wins."""
    keys = np.full(capacity, EMPTY, dtype=np.int64)
    ranks = np.zeros(capacity, dtype=np.int32)
    results = np.zeros(capacity, dtype=np.int32)
    shift = _table_shift(keys)
    for r in range(lefts.shape[0]):
        key = (np.int64(lefts[r]) << 32) | np.int64(rights[r])
        i = slot(keys, key, shift)
        if keys[i] == EMPTY:
            keys[i] = key
            ranks[i] = r
            results[i] = merged[r]
    return keys, ranks, results


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


@njit(cache=True)
def bpe_batch(data, offsets, byte_ids, pair_keys, pair_ranks, pair_results, out, out_offsets,
              ids, nxt, prv, heap_key, heap_pos):
    """Merge-list BPE of every piece: merge the adjacent pair of lowest rank, leftmost first
    (as HF ``tokenizers`` and tiktoken do).

    Scratch arrays ``ids``/``nxt``/``prv`` need ``max piece length`` entries, ``heap_*`` three
    times that (n - 1 initial pairs plus at most two per merge). Returns ids written, or
    ``-(position + 1)`` of a byte with no token.
    """
    shift = _table_shift(pair_keys)
    n_out = 0
    for piece in range(offsets.shape[0] - 1):
        out_offsets[piece] = n_out
        start = offsets[piece]
        n = offsets[piece + 1] - start
        for k in range(n):
            token = byte_ids[data[start + k]]
            if token < 0:
                return -(start + k + 1)
            ids[k] = token
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
