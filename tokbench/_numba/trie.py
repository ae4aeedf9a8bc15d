"""A byte trie over a vocabulary, as an open-addressing hash table, for numba kernels.

The transition ``(node, byte) -> child`` is stored under key ``node * 256 + byte`` in ``keys`` /
``vals`` (:mod:`tokbench._numba.hashtable`); ``node_token[node]`` is the token ending there or
-1. A dense 256-way table would need ~1 GB for a 150k vocabulary; the hash table needs a few MB.
Merge-free encoders walk it for the longest or fewest tokens
(:mod:`tokbench.attacks.mergefree`); native byte-level BPE asks it whether a whole pretoken is a
token, and which token two tokens make when joined (:mod:`tokbench.model.fast_bpe`).

Example:
    >>> import numpy as np
    >>> keys, vals, node_token = trie_build(np.frombuffer(b"abab", np.uint8), np.array([0, 1, 2, 4]),
    ...                                     np.arange(3, dtype=np.int32), hash_capacity(4), 5)
    >>> int(whole_token(np.frombuffer(b"ab", np.uint8), 0, 2, keys, vals, node_token))
    2
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .hashtable import EMPTY, find, slot

__all__ = ["hash_capacity", "table_shift", "trie_build", "trie_step", "whole_token"]


def hash_capacity(n_keys: int) -> int:
    """A power of two with load factor at most 1/2."""
    capacity = 1024
    while capacity < 2 * max(n_keys, 1):
        capacity *= 2
    return capacity


@njit(cache=True, inline="always")
def table_shift(keys):
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
    shift = table_shift(keys)
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
def whole_token(data, start, end, keys, vals, node_token):
    """The token whose bytes are exactly ``data[start:end]``, or -1 (a walk down the trie)."""
    shift = table_shift(keys)
    node = 0
    for q in range(start, end):
        node = trie_step(keys, vals, shift, node, data[q])
        if node < 0:
            return -1
    return node_token[node] if end > start else -1
