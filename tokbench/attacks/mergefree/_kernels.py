"""Numba kernels for vocabulary-only and merge-list encoding of pretokens (bytes).

The vocabulary is a byte trie (:mod:`tokbench._numba.trie`) and a batch of pretokens is one
``uint8`` buffer plus ``offsets`` (piece i is ``data[offsets[i]:offsets[i+1]]``); outputs go to
preallocated ``out`` arrays, and every kernel takes its scratch space from the caller, so the
per-piece loops allocate nothing. Merge-list BPE, which native encoding shares, lives in
:mod:`tokbench._numba.bpe` and is re-exported here. The readable twins are
:mod:`tokbench.attacks.mergefree._reference` (greedy and minimal) and
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

from ..._numba.bpe import bpe_batch, pair_table_build
from ..._numba.trie import hash_capacity, trie_build, trie_step, whole_token
from ..._numba.trie import table_shift as _table_shift

__all__ = [
    "hash_capacity",
    "trie_build",
    "trie_step",
    "greedy_batch",
    "minimal_batch",
    "pair_table_build",
    "bpe_batch",
    "whole_token",
]


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
        # A piece that is itself a token is one token, the only one-token segmentation (most
        # pretokens of the vocabulary's own languages): no need for the table.
        whole = whole_token(data, start, end, keys, vals, node_token)
        if whole >= 0:
            out[n_out] = whole
            n_out += 1
            continue
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


