"""Numba kernels for native SentencePiece / Unigram encoding.

* :func:`viterbi` and :func:`unigram_ids`: Unigram Viterbi over code points, then the path's ids
  (unknowns fused, byte fallback); readable twins :meth:`tokbench.model.unigram.UnigramModel.segment`
  and :meth:`~tokbench.model.unigram.UnigramModel.encode` with ``fast=False``.
* :func:`sp_normalize`: sentencepiece's normalizer on UTF-8 bytes, walking the precompiled
  charsmap's Darts trie directly (no parsing of its rules); readable twin
  :func:`tokbench.model._reference.sp_normalize_reference`.
* :func:`sentencepiece_unigram` (and ``_batch``): both in one call per text (or per batch), so
  that a SentencePiece Unigram model encodes without a Python step per character or piece.

Data layout, numpy only, so that no Python object enters the kernel:

* a **code-point trie** over the usable pieces as an open-addressing hash table
  (:mod:`tokbench._numba.hashtable`): the transition ``(node, code point) -> child`` is stored
  under key ``node * 0x110000 + cp``; ``node_token[node]`` is the piece ending there or -1.
  :func:`viterbi` takes it packed (:func:`pack_trie`: key and child side by side, one cache line
  per probe instead of two, which is most of its time);
* ``scores`` by piece id, float32 for sentencepiece (so that numba adds and compares in float32,
  as the library does) or float64 for HF; the path arrays come from the caller.

Tests check the kernel equal to the twin on real models and with hypothesis properties.

Example:
    >>> import numpy as np
    >>> table = pack_trie(*build_trie(["a", "b", "ab"], [0, 1, 2]))
    >>> best, start, ids = np.zeros(3, np.float64), np.full(3, -1, np.int64), np.full(3, -1, np.int64)
    >>> viterbi(np.array([97, 98], np.int64), *table, np.array([-1.0, -1.0, -1.5]), -11.0, 9, best, start, ids)
    >>> start.tolist(), ids.tolist()
    ([-1, 0, 0], [-1, 0, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from .._numba.hashtable import EMPTY, FIBONACCI, find, shift_of, slot
from .._numba.trie import table_shift

__all__ = ["build_trie", "viterbi", "CODE_SPACE", "trie_longest", "sp_normalize",
           "utf8_code_points", "unigram_ids", "sentencepiece_unigram", "sentencepiece_unigram_batch", "DAMAGED",
           "TOO_SMALL", "NO_UNKNOWN", "plain_bytes", "pack_trie", "unigram_ids_batch"]

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


def pack_trie(keys: np.ndarray, vals: np.ndarray, node_token: np.ndarray,
              max_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`build_trie`'s tables as :func:`viterbi` takes them: ``(pairs, root, node_token,
    max_len)`` with ``pairs[i] = (keys[i], vals[i])`` and ``root[cp]`` the root's child for code
    point ``cp`` (-1 if none) below the largest first character under U+10000, so that the
    first step from every position (half of all steps) is one array read, not a probe."""
    at_root = (keys != EMPTY) & (keys < CODE_SPACE)
    first = keys[at_root]
    small = first < 0x10000
    root = np.full(int(first[small].max()) + 1 if small.any() else 0, -1, np.int32)
    root[first[small]] = vals[at_root][small]
    return np.ascontiguousarray(np.stack([keys, vals], axis=1)), root, node_token, max_len


@njit(cache=True)
def viterbi(cps, pairs, root, node_token, max_len, scores, unk_score, unk_id, best, start_of, id_of):
    """Fill ``best``/``start_of``/``id_of`` (length ``len(cps) + 1``, ``start_of`` at -1) with the
    best path ending at each position. ``scores``, ``unk_score`` and ``best`` share a dtype, and
    the sums stay in it (float32 + float32 is float32 in numba, as in C++)."""
    shift = 64
    capacity = pairs.shape[0]
    while capacity > 1:
        capacity >>= 1
        shift -= 1
    size = cps.shape[0]
    mask = pairs.shape[0] - 1
    for start in range(size):
        here = best[start]
        single = False
        node = 0
        limit = min(size, start + max_len)
        for end in range(start + 1, limit + 1):
            cp = np.int64(cps[end - 1])
            if end == start + 1 and cp < root.shape[0]:
                node = root[cp]
                if node < 0:
                    break
            else:
                # hashtable.find written out: a call per step kept array reference counting
                # in this loop and cost more than the probing itself.
                key = np.int64(node) * CODE_SPACE + cp
                i = np.int64((np.uint64(key) * FIBONACCI) >> np.uint64(shift))
                while pairs[i, 0] != key and pairs[i, 0] != EMPTY:
                    i = (i + 1) & mask
                if pairs[i, 0] != key:
                    break
                node = pairs[i, 1]
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


# ------------------------------------------------------------------- SentencePiece's normalizer

#: Kernel results below zero: the charsmap's trie points outside itself; the output buffer is full.
DAMAGED, TOO_SMALL = -1, -2
#: sentencepiece's ``kMaxTrieResultsSize``: only the first 32 rule matches at a point count.
MAX_TRIE_RESULTS = 32


@njit(cache=True, inline="always")
def trie_longest(keys, vals, node_token, key, start, end):
    """Length of the longest entry of a :func:`build_trie` table that prefixes ``key[start:end]``
    (0 if none); sentencepiece's ``PrefixMatcher`` for user-defined pieces, over bytes."""
    if node_token.shape[0] <= 1:
        return 0
    shift = table_shift(keys)
    node, best = 0, 0
    for i in range(start, end):
        slot_at = find(keys, np.int64(node) * CODE_SPACE + np.int64(key[i]), shift)
        if slot_at < 0:
            break
        node = vals[slot_at]
        if node_token[node] >= 0:
            best = i + 1 - start
    return best


@njit(cache=True)
def sp_normalize(text, units, strings, ukeys, uvals, unode, plain, add_dummy_prefix, remove_extra, escape, out):
    """``Normalizer::Normalize`` of sentencepiece on UTF-8 ``text`` into ``out``: the charsmap
    and user-defined pieces chunk by chunk (``NormalizePrefix``: the longest user-defined piece,
    else the longest of the first 32 rules of the Darts trie, else one character; readable twin
    :func:`tokbench.model._reference.normalize_prefix_reference`), leading/repeated/trailing
    spaces dropped (``remove_extra``), a dummy space prepended, spaces escaped as ``▁``.
    ``plain[b]`` says that no rule and no user-defined piece starts with byte ``b``
    (:func:`plain_bytes`), so a character with that first byte is copied without a trie walk.
    Returns the bytes written, ``DAMAGED`` or ``TOO_SMALL``.

    The loop is written out in one function on purpose: a helper called per character with the
    arrays (even inlined) kept array reference counting in the loop and tripled its time.
    """
    size, n_units, n_strings = text.shape[0], units.shape[0], strings.shape[0]
    root = (units[0] >> 10) << ((units[0] & 512) >> 6) if n_units else 0
    has_users = unode.shape[0] > 1
    pos, n = 0, 0
    started = False  # past the leading spaces
    prev_space = remove_extra
    while pos < size:
        lead = text[pos]
        from_strings = False
        width = 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        begin, length = pos, min(width, size - pos)
        consumed = length
        if not plain[lead]:
            user = trie_longest(ukeys, uvals, unode, text, pos, size) if has_users else 0
            if user > 0:
                length = consumed = user
            elif n_units:
                # Darts' commonPrefixSearch, longest of the first MAX_TRIE_RESULTS keys.
                node, found, best_len, best_value = root, 0, 0, 0
                for i in range(pos, size):
                    c = np.int64(text[i])
                    node ^= c
                    if node >= n_units:
                        return DAMAGED
                    unit = units[node]
                    if (unit & 0x800000FF) != c:
                        break
                    node ^= (unit >> 10) << ((unit & 512) >> 6)
                    if (unit >> 8) & 1:
                        if node >= n_units:
                            return DAMAGED
                        if found < MAX_TRIE_RESULTS:
                            best_len, best_value = i + 1 - pos, units[node] & 0x7FFFFFFF
                        found += 1
                if best_len > 0:
                    if best_value >= n_strings:
                        return DAMAGED
                    stop = best_value
                    while stop < n_strings and strings[stop] != 0:
                        stop += 1
                    from_strings, begin, length, consumed = True, best_value, stop - best_value, best_len
        pos += consumed
        if not started:
            first = strings[begin] if from_strings else text[begin]
            if remove_extra and length == 1 and first == 0x20:
                continue
            started = True
            if add_dummy_prefix:
                n = _put_space(out, n, escape)
        skipping = prev_space
        last = -1
        for k in range(begin, begin + length):
            byte = strings[k] if from_strings else text[k]
            if skipping and byte == 0x20:
                continue
            skipping = False
            last = byte
            if n < 0 or n + 3 > out.shape[0]:
                return TOO_SMALL
            if byte == 0x20 and escape:
                out[n], out[n + 1], out[n + 2] = 0xE2, 0x96, 0x81
                n += 3
            else:
                out[n] = byte
                n += 1
        if last >= 0:
            prev_space = last == 0x20
        if not remove_extra:
            prev_space = False
    if n < 0:
        return TOO_SMALL
    while remove_extra and n > 0:
        if escape and n >= 3 and out[n - 3] == 0xE2 and out[n - 2] == 0x96 and out[n - 1] == 0x81:
            n -= 3
        elif not escape and out[n - 1] == 0x20:
            n -= 1
        else:
            break
    return n


def plain_bytes(units: np.ndarray, user_defined: Sequence[bytes]) -> np.ndarray:
    """``plain[b]``: no key of the Darts trie ``units`` and no user-defined piece starts with byte ``b``."""
    plain = np.ones(256, np.bool_)
    if units.shape[0]:
        child = ((units[0] >> 10) << ((units[0] & 512) >> 6)) ^ np.arange(256)
        inside = child < units.shape[0]
        labels = np.full(256, -1, np.int64)
        labels[inside] = units[child[inside]] & 0x800000FF
        # A child outside the trie is not plain: the walk then reports the damage.
        plain &= inside & (labels != np.arange(256))
    for piece in user_defined:
        if piece:
            plain[piece[0]] = False
    return plain


@njit(cache=True, inline="always")
def _put_space(out, n, escape):
    if n < 0 or n + 3 > out.shape[0]:
        return TOO_SMALL
    if not escape:
        out[n] = 0x20
        return n + 1
    out[n], out[n + 1], out[n + 2] = 0xE2, 0x96, 0x81
    return n + 3


# ------------------------------------------------------------------- Unigram ids, end to end


@njit(cache=True)
def utf8_code_points(data, n, cps):
    """Decode ``data[:n]`` (UTF-8 as sentencepiece's normalizer writes it) into ``cps``; returns
    their count. A byte that starts no well-formed sequence is one U+FFFD, as Python's
    ``errors="replace"`` would give for a lone byte."""
    count, i = 0, 0
    while i < n:
        lead = np.int64(data[i])
        width = 1 if lead < 0x80 else 2 if 0xC2 <= lead < 0xE0 else 3 if 0xE0 <= lead < 0xF0 else 4 if 0xF0 <= lead < 0xF5 else 0
        ok = width > 0 and i + width <= n
        for k in range(1, width if ok else 0):
            if data[i + k] & 0xC0 != 0x80:
                ok = False
        if not ok:
            cps[count] = 0xFFFD
            i += 1
        else:
            cp = lead if width == 1 else lead & (0xFF >> (width + 1))
            for k in range(1, width):
                cp = (cp << 6) | (np.int64(data[i + k]) & 0x3F)
            cps[count] = cp
            i += width
        count += 1
    return count


@njit(cache=True, inline="always")
def _utf8_width(cp):
    return 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4


@njit(cache=True)
def unigram_ids(cps, pairs, root, node_token, max_len, scores, unk_score, unk_id, fuse_unk, byte_ids, out):
    """Viterbi (:func:`viterbi`), then the best path's ids into ``out``: runs of unknowns fused
    (``fuse_unk``), an unknown spelled as the ``byte_ids`` of its UTF-8 bytes when ``byte_ids``
    holds 256 ids. Returns the id count, or -1 when an unknown occurs and ``unk_id`` is -1
    (``out`` needs ``4 * len(cps)`` slots)."""
    size = cps.shape[0]
    best = np.zeros(size + 1, scores.dtype)
    start_of = np.full(size + 1, -1, np.int64)
    id_of = np.full(size + 1, -1, np.int64)
    viterbi(cps, pairs, root, node_token, max_len, scores, unk_score, unk_id, best, start_of, id_of)
    # Walk back from the end, then reverse: span starts and ids in text order.
    starts = np.empty(size, np.int64)
    ids = np.empty(size, np.int64)
    count, end = 0, size
    while end > 0:
        starts[count], ids[count] = start_of[end], id_of[end]
        end = start_of[end]
        count += 1
    n = 0
    k = count - 1
    while k >= 0:
        token, begin = ids[k], starts[k]
        if token == -1:
            return -1
        stop = starts[k - 1] if k > 0 else size
        if token == unk_id and fuse_unk:
            while k > 0 and ids[k - 1] == unk_id:
                k -= 1
                stop = starts[k - 1] if k > 0 else size
        if token == unk_id and byte_ids.shape[0] == 256:
            for i in range(begin, stop):
                n = _put_utf8(out, n, cps[i], byte_ids)
        else:
            out[n] = token
            n += 1
        k -= 1
    return n


@njit(cache=True, inline="always")
def _put_utf8(out, n, cp, byte_ids):
    """The byte ids of ``cp``'s UTF-8 bytes (surrogates as Python's ``surrogatepass`` writes them)."""
    width = _utf8_width(cp)
    if width == 1:
        out[n] = byte_ids[cp]
        return n + 1
    lead = (0xC0, 0xE0, 0xF0)[width - 2]
    out[n] = byte_ids[lead | (cp >> (6 * (width - 1)))]
    for k in range(width - 2, -1, -1):
        n += 1
        out[n] = byte_ids[0x80 | ((cp >> (6 * k)) & 0x3F)]
    return n + 1


#: :func:`sentencepiece_unigram` status when an unknown character meets a model without ``<unk>``.
NO_UNKNOWN = -3


@njit(cache=True)
def sentencepiece_unigram(text, units, strings, ukeys, uvals, unode, plain, add_dummy_prefix, remove_extra, escape,
                          pairs, root, node_token, max_len, scores, unk_score, unk_id, byte_ids):
    """A SentencePiece Unigram model's ids of UTF-8 ``text``: :func:`sp_normalize`, then
    :func:`unigram_ids` over the normalized code points. Returns ``(status, ids)``; status 0,
    ``DAMAGED`` or ``NO_UNKNOWN``."""
    capacity = 3 * text.shape[0] + 16
    while True:
        normalized = np.empty(capacity, np.uint8)
        n = sp_normalize(text, units, strings, ukeys, uvals, unode, plain, add_dummy_prefix, remove_extra, escape,
                         normalized)
        if n != TOO_SMALL:
            break
        capacity *= 4
    if n < 0:
        return DAMAGED, np.zeros(0, np.int64)
    cps = np.empty(n, np.int64)
    count = utf8_code_points(normalized, n, cps)
    out = np.empty(4 * count, np.int64)
    written = unigram_ids(cps[:count], pairs, root, node_token, max_len, scores, unk_score, unk_id, True,
                          byte_ids, out)
    if written < 0:
        return NO_UNKNOWN, np.zeros(0, np.int64)
    return 0, out[:written]


@njit(cache=True)
def sentencepiece_unigram_batch(data, offsets, units, strings, ukeys, uvals, unode, plain, add_dummy_prefix,
                                remove_extra, escape, pairs, root, node_token, max_len, scores, unk_score,
                                unk_id, byte_ids):
    """:func:`sentencepiece_unigram` of each text ``data[offsets[i]:offsets[i + 1]]``: ``(status,
    ids, id_offsets)`` with all ids in one array, text ``i``'s at ``id_offsets[i]:id_offsets[i + 1]``."""
    texts = offsets.shape[0] - 1
    ids = np.empty(max(16, data.shape[0]), np.int64)
    id_offsets = np.zeros(texts + 1, np.int64)
    for t in range(texts):
        status, part = sentencepiece_unigram(data[offsets[t]:offsets[t + 1]], units, strings, ukeys, uvals, unode,
                                             plain, add_dummy_prefix, remove_extra, escape, pairs, root,
                                             node_token, max_len, scores, unk_score, unk_id, byte_ids)
        if status != 0:
            return status, ids[:0], id_offsets
        start = id_offsets[t]
        if start + part.shape[0] > ids.shape[0]:
            grown = np.empty(2 * (start + part.shape[0]), np.int64)
            grown[:start] = ids[:start]
            ids = grown
        ids[start:start + part.shape[0]] = part
        id_offsets[t + 1] = start + part.shape[0]
    return 0, ids[:id_offsets[texts]], id_offsets


@njit(cache=True)
def unigram_ids_batch(cps, offsets, pairs, root, node_token, max_len, scores, unk_score, unk_id, fuse_unk, byte_ids):
    """:func:`unigram_ids` of each piece ``cps[offsets[i]:offsets[i + 1]]`` (HF runs the model per
    pretokenizer piece): ``(status, ids, id_offsets)``, status -1 when an unknown meets a model
    without ``<unk>``."""
    pieces = offsets.shape[0] - 1
    out = np.empty(4 * cps.shape[0], np.int64)
    id_offsets = np.zeros(pieces + 1, np.int64)
    for p in range(pieces):
        start = id_offsets[p]
        n = unigram_ids(cps[offsets[p]:offsets[p + 1]], pairs, root, node_token, max_len, scores, unk_score, unk_id,
                        fuse_unk, byte_ids, out[start:])
        if n < 0:
            return -1, out[:0], id_offsets
        id_offsets[p + 1] = start + n
    return 0, out[:id_offsets[pieces]], id_offsets
