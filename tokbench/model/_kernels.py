"""Numba kernel for Unigram Viterbi; the readable twin is :meth:`tokbench.model.unigram.UnigramModel.segment`.

Data layout, numpy only, so that no Python object enters the kernel:

* a **code-point trie** over the usable pieces as an open-addressing hash table
  (:mod:`tokbench._numba.hashtable`): the transition ``(node, code point) -> child`` is stored
  under key ``node * 0x110000 + cp``; ``node_token[node]`` is the piece ending there or -1;
* ``scores`` by piece id, float32 for sentencepiece (so that numba adds and compares in float32,
  as the library does) or float64 for HF; the path arrays come from the caller.

Tests check the kernel equal to the twin on real models and with hypothesis properties.

Example:
    >>> import numpy as np
    >>> table = build_trie(["a", "b", "ab"], [0, 1, 2])
    >>> best, start, ids = np.zeros(3, np.float64), np.full(3, -1, np.int64), np.full(3, -1, np.int64)
    >>> viterbi(np.array([97, 98], np.int64), *table, np.array([-1.0, -1.0, -1.5]), -11.0, 9, best, start, ids)
    >>> start.tolist(), ids.tolist()
    ([-1, 0, 0], [-1, 0, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from .._numba.hashtable import EMPTY, find, shift_of, slot

__all__ = ["build_trie", "viterbi", "CODE_SPACE"]

#: Code points per trie node in a transition key.
CODE_SPACE = 0x110000


def build_trie(pieces: Sequence[str], ids: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(keys, vals, node_token, max_len)`` of a trie over ``pieces`` (first id wins on repeats)."""
    n_keys = sum(len(p) for p in pieces)
    capacity = 1024
    while capacity < 2 * max(n_keys, 1):
        capacity *= 2
    keys = np.full(capacity, EMPTY, np.int64)
    vals = np.zeros(capacity, np.int64)
    node_token = np.full(n_keys + 1, -1, np.int64)
    shift = shift_of(capacity)
    n_nodes, max_len = 1, 0
    for piece, token in zip(pieces, ids, strict=True):
        node = 0
        for ch in piece:
            key = np.int64(node * CODE_SPACE + ord(ch))
            i = slot(keys, key, shift)
            if keys[i] == EMPTY:
                keys[i] = key
                vals[i] = n_nodes
                n_nodes += 1
            node = int(vals[i])
        if piece and node_token[node] < 0:
            node_token[node] = token
        max_len = max(max_len, len(piece))
    return keys, vals, node_token[:n_nodes].copy(), max_len


@njit(cache=True)
def viterbi(cps, keys, vals, node_token, max_len, scores, unk_score, unk_id, best, start_of, id_of):
    """Fill ``best``/``start_of``/``id_of`` (length ``len(cps) + 1``, ``start_of`` at -1) with the
    best path ending at each position. ``scores``, ``unk_score`` and ``best`` share a dtype, and
    the sums stay in it (float32 + float32 is float32 in numba, as in C++)."""
    shift = 64
    capacity = keys.shape[0]
    while capacity > 1:
        capacity >>= 1
        shift -= 1
    size = cps.shape[0]
    for start in range(size):
        here = best[start]
        single = False
        node = 0
        limit = min(size, start + max_len)
        for end in range(start + 1, limit + 1):
            i = find(keys, np.int64(node) * CODE_SPACE + np.int64(cps[end - 1]), shift)
            if i < 0:
                break
            node = vals[i]
            token = node_token[node]
            if token < 0:
                continue
            candidate = scores[token] + here
            if start_of[end] == -1 or candidate > best[end]:
                best[end] = candidate
                start_of[end] = start
                id_of[end] = token
            if end == start + 1:
                single = True
        if not single:
            candidate = unk_score + here
            if start_of[start + 1] == -1 or candidate > best[start + 1]:
                best[start + 1] = candidate
                start_of[start + 1] = start
                id_of[start + 1] = unk_id
