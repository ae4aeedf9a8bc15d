"""Numba kernels of the BPE trainer: incremental pair counts, a lazy max-heap, in-place word merges.

The algorithm is HF ``tokenizers``' ``BpeTrainer`` (``models/bpe/trainer.rs``) step for step, so
that merge lists agree exactly; :mod:`tokbench.trainers._reference` is the readable twin that
tests hold these kernels to. Everything here works on numpy arrays only:

* words are flat ``int32`` symbol ids (``syms``) with ``wstart``/``wlen``/``wcount``; a merge
  rewrites a word in place and shortens ``wlen``;
* pair counts live in an open-addressing hash table keyed by ``a << 32 | b`` (``pt_*``,
  :mod:`tokbench._numba.hashtable`), which also remembers the newest *position segment* of
  each pair;
* a position segment is a run of word indices in ``pool``: the words that received the pair at one
  step (HF's ``where_to_update`` sets). Heap entries carry their segment, as HF's ``Merge`` carries
  ``pos``; segments of one pair are chained (``seg_next``) for forced (replayed) merges;
* the heap (:mod:`tokbench._numba.heap`) pops the largest count (as ``u64``, so a negative count
  wraps to huge exactly as HF's ``i32 as u64`` does), then the smaller pair: its keys are
  ``h_key = ~count`` and ``h_pair``; a stale top is re-keyed and sifted down;
* tokens are unit strings (bytes for byte-level BPE, code points for character BPE) in a pool,
  with a polynomial hash so that a merge producing an existing string reuses its id (HF's
  ``word_to_id`` lookup).

Arrays are grown by reallocation before a step (upper bounds are computed first), so the inner
loops never check capacity. :func:`train_steps` runs a bounded number of merges per call, so that
Python can show progress between calls; its state travels as tuples of arrays (see
:func:`train_steps`). The helpers of a step are inlined (``inline="always"``), and the loop over
merge occurrences calls no helper of its own beyond ``_add_pair_count``: a helper called per
occurrence made training 10-30% slower (``benchmarks/bench_train_bpe.py``).

Example:
    >>> import numpy as np
    >>> syms = np.array([0, 1, 0, 1, 2], np.int32)        # "abab" x3, "c" x1
    >>> wlen, wcount = np.array([4, 1]), np.array([3, 1])
    >>> pairs = count_pairs(syms, np.array([0, 4]), wlen, wcount)
    >>> int(pairs[4]), int(~pairs[10][0]), int(pairs[11][0])   # 2 pairs; the top: (a, b) x6
    (2, 6, 1)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._numba.arrays import grow, grow_filled
from .._numba.hashtable import EMPTY, carry, first_slot, rehash, slot
from .._numba.heap import heapify, pop, push, sift_down

_HASH_BASE = np.uint64(0x100000001B3)

# Indices into the int64 ``scal`` array of scalars.
N_TOK, N_PAIRS, PT_SHIFT, N_SEG, POOL_USED, HEAP_SIZE, N_MERGES, STAMP, ST_SHIFT, STOP, N_FORCED_DONE = range(11)
N_SCAL = 11
# Stop reasons written to ``scal[STOP]``.
RUNNING, STOP_VOCAB, STOP_EMPTY, STOP_MIN_FREQ = 0, 1, 2, 3
# What :func:`_next_pair` found.
_FROM_HEAP, _FORCED, _RETRY, _DONE = 0, 1, 2, 3


# ------------------------------------------------------------------------- tables and counts


@njit(cache=True)
def _pt_rehash(pt_keys, pt_cnt, pt_last, shift, new_cap):
    """The pair table (keys, counts, newest segments) rehashed into at least ``new_cap`` slots."""
    keys, new_shift, moved_to = rehash(pt_keys, shift, new_cap)
    cap = keys.shape[0]
    return keys, carry(pt_cnt, moved_to, cap, 0), carry(pt_last, moved_to, cap, EMPTY), new_shift


@njit(cache=True, inline="always")
def _add_pair_count(pt_keys, pt_cnt, scal, key, shift, delta):
    """Add ``delta`` to the count of pair ``key``, inserting it (and counting it) if new."""
    s = slot(pt_keys, key, shift)
    if pt_keys[s] == EMPTY:
        pt_keys[s] = key
        scal[N_PAIRS] += 1
    pt_cnt[s] += delta


@njit(cache=True)
def token_hashes(units, tok_off, n_tok):
    """Polynomial hash and ``base ** length`` of the first ``n_tok`` tokens."""
    h = np.zeros(n_tok, np.uint64)
    p = np.ones(n_tok, np.uint64)
    for t in range(n_tok):
        hv = np.uint64(0)
        pv = np.uint64(1)
        for k in range(tok_off[t], tok_off[t + 1]):
            hv = hv * _HASH_BASE + np.uint64(units[k] + 1)
            pv = pv * _HASH_BASE
        h[t] = hv
        p[t] = pv
    return h, p


@njit(cache=True, inline="always")
def _same_units(units, start, other, n):
    """``units[start:start+n] == units[other:other+n]``."""
    for k in range(n):
        if units[start + k] != units[other + k]:
            return False
    return True


@njit(cache=True)
def _st_find(st_hash, st_ids, st_shift, units, tok_off, h, a, b):
    """Slot of the string ``token a + token b`` in the string table (found or where it goes)."""
    mask = st_ids.shape[0] - 1
    i = first_slot(h, st_shift)
    la = tok_off[a + 1] - tok_off[a]
    lb = tok_off[b + 1] - tok_off[b]
    while True:
        t = st_ids[i]
        if t == EMPTY:
            return i
        if st_hash[i] == h and tok_off[t + 1] - tok_off[t] == la + lb:
            if _same_units(units, tok_off[t], tok_off[a], la):
                if _same_units(units, tok_off[t] + la, tok_off[b], lb):
                    return i
        i = (i + 1) & mask


@njit(cache=True)
def _st_insert_existing(st_hash, st_ids, st_shift, units, tok_off, h, t):
    """Enter token ``t`` unless an earlier id holds the same string (HF's ``word_to_id`` keeps it)."""
    mask = st_ids.shape[0] - 1
    i = first_slot(h, st_shift)
    n = tok_off[t + 1] - tok_off[t]
    while True:
        u = st_ids[i]
        if u == EMPTY:
            st_hash[i] = h
            st_ids[i] = t
            return
        if st_hash[i] == h and tok_off[u + 1] - tok_off[u] == n:
            if _same_units(units, tok_off[u], tok_off[t], n):
                return  # an earlier id keeps the string
        i = (i + 1) & mask


@njit(cache=True)
def build_string_table(units, tok_off, tok_hash, n_tok, capacity):
    cap = 16
    shift = 60
    while cap < capacity:
        cap *= 2
        shift -= 1
    st_hash = np.zeros(cap, np.uint64)
    st_ids = np.full(cap, EMPTY, np.int64)
    for t in range(n_tok):
        _st_insert_existing(st_hash, st_ids, shift, units, tok_off, tok_hash[t], t)
    return st_hash, st_ids, shift


@njit(cache=True)
def _count_pair_occurrences(syms, wstart, wlen, wcount):
    """Pair counts, and how many words hold each pair; a pair's index is its order of first sight.

    Returns ``pt_keys, pt_cnt, pt_last (pair index), shift, n_pairs, words per pair``.
    """
    shift = 54
    pt_keys = np.full(1024, EMPTY, np.int64)
    pt_cnt = np.zeros(1024, np.int64)
    pt_last = np.full(1024, EMPTY, np.int64)
    n_pairs = 0
    seg_len = np.zeros(1024, np.int64)
    seg_lastw = np.full(1024, EMPTY, np.int64)
    for w in range(wstart.shape[0]):
        st = wstart[w]
        for i in range(wlen[w] - 1):
            key = (np.int64(syms[st + i]) << 32) | np.int64(syms[st + i + 1])
            if 2 * (n_pairs + 1) > pt_keys.shape[0]:
                pt_keys, pt_cnt, pt_last, shift = _pt_rehash(pt_keys, pt_cnt, pt_last, shift, 2 * pt_keys.shape[0])
            s = slot(pt_keys, key, shift)
            if pt_keys[s] == EMPTY:
                pt_keys[s] = key
                pt_last[s] = n_pairs
                if n_pairs >= seg_len.shape[0]:
                    seg_len = grow(seg_len, n_pairs + 1)
                    seg_lastw = grow_filled(seg_lastw, n_pairs + 1, EMPTY)
                seg_len[n_pairs] = 0
                seg_lastw[n_pairs] = EMPTY
                n_pairs += 1
            pt_cnt[s] += wcount[w]
            g = pt_last[s]
            if seg_lastw[g] != w:
                seg_lastw[g] = w
                seg_len[g] += 1
    return pt_keys, pt_cnt, pt_last, shift, n_pairs, seg_len


@njit(cache=True)
def _fill_segments(syms, wstart, wlen, pt_keys, pt_last, shift, n_pairs, seg_len):
    """One position segment per pair: the words holding it, in word order, laid out in ``pool``.

    Returns ``seg_start, seg_len, seg_next, pool, pool_used``.
    """
    seg_start = np.zeros(max(n_pairs, 1) * 2, np.int64)
    total = 0
    for g in range(n_pairs):
        seg_start[g] = total
        total += seg_len[g]
    pool = np.empty(max(total, 1) * 2, np.int32)
    fill = np.zeros(max(n_pairs, 1), np.int64)
    lastw = np.full(max(n_pairs, 1), EMPTY, np.int64)
    for w in range(wstart.shape[0]):
        st = wstart[w]
        for i in range(wlen[w] - 1):
            key = (np.int64(syms[st + i]) << 32) | np.int64(syms[st + i + 1])
            g = pt_last[slot(pt_keys, key, shift)]
            if lastw[g] != w:
                lastw[g] = w
                pool[seg_start[g] + fill[g]] = w
                fill[g] += 1
    lengths = np.zeros(seg_start.shape[0], np.int64)
    lengths[:n_pairs] = seg_len[:n_pairs]
    return seg_start, lengths, np.full(seg_start.shape[0], EMPTY, np.int64), pool, total


@njit(cache=True)
def count_pairs(syms, wstart, wlen, wcount):
    """Initial pair counts, one position segment per pair (the words holding it), and the heap.

    Returns ``pt_keys, pt_cnt, pt_last, pt_shift, n_pairs, seg_start, seg_len, seg_next, pool,
    pool_used, h_key, h_pair, h_seg, heap_size``.
    """
    pt_keys, pt_cnt, pt_last, shift, n_pairs, seg_len = _count_pair_occurrences(syms, wstart, wlen, wcount)
    seg_start, seg_len, seg_next, pool, total = _fill_segments(syms, wstart, wlen, pt_keys, pt_last, shift,
                                                               n_pairs, seg_len)
    h_key = np.zeros(max(n_pairs, 1) * 2, np.uint64)
    h_pair = np.zeros(h_key.shape[0], np.int64)
    h_seg = np.zeros(h_key.shape[0], np.int64)
    size = 0
    for s in range(pt_keys.shape[0]):
        if pt_keys[s] != EMPTY and pt_cnt[s] > 0:
            h_key[size] = ~np.uint64(pt_cnt[s])
            h_pair[size] = pt_keys[s]
            h_seg[size] = pt_last[s]
            size += 1
    heapify(h_key, h_pair, h_seg, size)
    return (pt_keys, pt_cnt, pt_last, shift, n_pairs, seg_start, seg_len, seg_next, pool, total,
            h_key, h_pair, h_seg, size)


# ----------------------------------------------------------------------------- one merge step


@njit(cache=True, inline="always")
def _next_pair(pt_keys, pt_cnt, h_key, h_pair, h_seg, forced_a, forced_b, scal, vocab_target, min_frequency):
    """What to merge now: the next forced pair, else the heap's top (HF's queue loop).

    Returns ``(what, a, b, count, segment)``: ``what`` is ``_FORCED``, ``_FROM_HEAP``,
    ``_RETRY`` (a stale top was re-keyed with today's count, as HF pops and pushes it back) or
    ``_DONE`` (``scal[STOP]`` says why).
    """
    nothing = np.int64(0)
    if scal[N_FORCED_DONE] < forced_a.shape[0]:
        f = scal[N_FORCED_DONE]
        scal[N_FORCED_DONE] += 1
        a = np.int64(forced_a[f])
        b = np.int64(forced_b[f])
        s = slot(pt_keys, (a << 32) | b, scal[PT_SHIFT])
        return _FORCED, a, b, pt_cnt[s] if pt_keys[s] == (a << 32) | b else nothing, EMPTY
    if scal[N_TOK] >= vocab_target or scal[HEAP_SIZE] == 0:
        scal[STOP] = STOP_VOCAB if scal[N_TOK] >= vocab_target else STOP_EMPTY
        return _DONE, nothing, nothing, nothing, EMPTY
    key = h_pair[0]
    s = slot(pt_keys, key, scal[PT_SHIFT])
    current = np.uint64(pt_cnt[s])
    if h_key[0] != ~current:
        h_key[0] = ~current
        sift_down(h_key, h_pair, h_seg, 0, scal[HEAP_SIZE])
        return _RETRY, nothing, nothing, nothing, EMPTY
    if current < np.uint64(1) or np.uint64(min_frequency) > current:
        scal[STOP] = STOP_EMPTY if current < np.uint64(1) else STOP_MIN_FREQ
        return _DONE, nothing, nothing, nothing, EMPTY
    segment = h_seg[0]
    scal[HEAP_SIZE] = pop(h_key, h_pair, h_seg, scal[HEAP_SIZE])
    return _FROM_HEAP, key >> 32, key & 0xFFFFFFFF, pt_cnt[s], segment


@njit(cache=True, inline="always")
def _merged_token(units, tok_off, tok_len, tok_hash, tok_pow, st_hash, st_ids, scal, a, b):
    """The id of ``token a + token b``: an existing string keeps its id (HF's ``word_to_id``),
    else a new token. Returns ``(units, id)``."""
    la = tok_off[a + 1] - tok_off[a]
    lb = tok_off[b + 1] - tok_off[b]
    h = tok_hash[a] * tok_pow[b] + tok_hash[b]
    ss = _st_find(st_hash, st_ids, scal[ST_SHIFT], units, tok_off, h, a, b)
    if st_ids[ss] != EMPTY:
        return units, st_ids[ss]
    new = scal[N_TOK]
    base = tok_off[new]
    units = grow(units, base + la + lb)
    for k in range(la):
        units[base + k] = units[tok_off[a] + k]
    for k in range(lb):
        units[base + la + k] = units[tok_off[b] + k]
    tok_off[new + 1] = base + la + lb
    tok_len[new] = tok_len[a] + tok_len[b]
    tok_hash[new] = h
    tok_pow[new] = tok_pow[a] * tok_pow[b]
    st_hash[ss] = h
    st_ids[ss] = new
    scal[N_TOK] = new + 1
    return units, new


@njit(cache=True, inline="always")
def _record_merge(m_a, m_b, m_new, m_cnt, scal, a, b, new, count):
    """Append ``(a, b) -> new`` with its count to the merge list."""
    nm = scal[N_MERGES]
    if nm >= m_a.shape[0]:
        m_a, m_b = grow(m_a, nm + 1), grow(m_b, nm + 1)
        m_new, m_cnt = grow(m_new, nm + 1), grow(m_cnt, nm + 1)
    m_a[nm], m_b[nm], m_new[nm], m_cnt[nm] = a, b, new, count
    scal[N_MERGES] = nm + 1
    return m_a, m_b, m_new, m_cnt


@njit(cache=True, inline="always")
def _words_to_visit(forced, key, segment, pt_keys, pt_last, seg_start, seg_len, seg_next, pool, wlen, wstamp,
                    stamp, work, shift):
    """The popped entry's segment, or every segment of a forced pair (each word once).

    Returns ``(work, how many, their total length)``.
    """
    n_work = 0
    bound = 0
    if not forced:
        work = grow(work, seg_len[segment])
        for k in range(seg_start[segment], seg_start[segment] + seg_len[segment]):
            work[n_work] = pool[k]
            n_work += 1
            bound += wlen[pool[k]]
        return work, n_work, bound
    s = slot(pt_keys, key, shift)
    g = pt_last[s] if pt_keys[s] == key else EMPTY
    while g != EMPTY:
        work = grow(work, n_work + seg_len[g])
        for k in range(seg_start[g], seg_start[g] + seg_len[g]):
            w = pool[k]
            if wstamp[w] != stamp:
                wstamp[w] = stamp
                work[n_work] = w
                n_work += 1
                bound += wlen[w]
        g = seg_next[g]
    return work, n_work, bound


@njit(cache=True, inline="always")
def _merge_words(work, n_work, a, b, new, syms, wstart, wlen, wcount, tok_len, pt_keys, pt_cnt, scal, stamp,
                 side_stamp, side_group, grp_key, grp_lastw, buf_g, buf_w, max_length):
    """Merge ``(a, b) -> new`` in every word to visit, updating pair counts as HF's
    ``Word::merge`` reports them and noting the words that gained each new pair.

    At each occurrence, for the left neighbour ``x`` (then the right one): the old pair
    ``(x, a)`` (``(b, x)``) loses the word's count, and the new pair ``(x, new)`` (``(new, x)``)
    gains it only while its token stays below ``max_length`` (the merged pair itself is not
    decremented). A new pair opens a *group* for this step, found through its neighbour and side
    (``(new, new)`` belongs with the left-side pairs, like ``(x, new)``), and lists the word in
    it once. Returns ``(groups, buffered (group, word) notes)``.
    """
    pt_shift = scal[PT_SHIFT]
    new_len = tok_len[new]
    n_buf = 0
    n_grp = 0
    for q in range(n_work):
        w = work[q]
        st = wstart[w]
        n = wlen[w]
        cw = wcount[w]
        i = 0
        j = 0
        while i < n:
            x = syms[st + i]
            if x == a and i + 1 < n and syms[st + i + 1] == b:
                for side in range(2):
                    if side == 0:
                        if j == 0:
                            continue
                        nb = np.int64(syms[st + j - 1])
                        lost, gained, group_side = (nb << 32) | a, (nb << 32) | new, 0
                    else:
                        if i + 2 >= n:
                            continue
                        nb = np.int64(syms[st + i + 2])
                        lost, gained, group_side = (b << 32) | nb, (new << 32) | nb, 0 if nb == new else 1
                    _add_pair_count(pt_keys, pt_cnt, scal, lost, pt_shift, -cw)
                    if tok_len[nb] + new_len >= max_length:
                        continue
                    _add_pair_count(pt_keys, pt_cnt, scal, gained, pt_shift, cw)
                    if side_stamp[group_side, nb] != stamp:
                        side_stamp[group_side, nb] = stamp
                        side_group[group_side, nb] = n_grp
                        grp_key[n_grp] = gained
                        grp_lastw[n_grp] = EMPTY
                        n_grp += 1
                    gg = side_group[group_side, nb]
                    if grp_lastw[gg] != w:
                        grp_lastw[gg] = w
                        buf_g[n_buf] = gg
                        buf_w[n_buf] = w
                        n_buf += 1
                syms[st + j] = new
                j += 1
                i += 2
            else:
                syms[st + j] = x
                j += 1
                i += 1
        wlen[w] = j
    return n_grp, n_buf


@njit(cache=True, inline="always")
def _push_gained(n_grp, n_buf, buf_g, buf_w, grp_key, grp_fill, pt_keys, pt_cnt, pt_last, seg_start, seg_len,
                 seg_next, pool, h_key, h_pair, h_seg, scal):
    """Give every pair that gained words and still has a positive count a new position segment
    (its words, in order) and a heap entry."""
    pt_shift = scal[PT_SHIFT]
    n_seg = scal[N_SEG]
    used = scal[POOL_USED]
    size = scal[HEAP_SIZE]
    grp_fill[:n_grp] = -1
    for q in range(n_buf):
        gg = buf_g[q]
        if grp_fill[gg] == -1:
            s2 = slot(pt_keys, grp_key[gg], pt_shift)
            if pt_cnt[s2] > 0:
                grp_fill[gg] = n_seg
                seg_len[n_seg] = 0
                seg_next[n_seg] = pt_last[s2]
                pt_last[s2] = n_seg
                h_key[size] = ~np.uint64(pt_cnt[s2])
                h_pair[size] = grp_key[gg]
                h_seg[size] = n_seg
                size = push(h_key, h_pair, h_seg, size)
                n_seg += 1
            else:
                grp_fill[gg] = -2
        if grp_fill[gg] >= 0:
            seg_len[grp_fill[gg]] += 1
    for g2 in range(scal[N_SEG], n_seg):
        seg_start[g2] = used
        used += seg_len[g2]
        seg_len[g2] = 0
    for q in range(n_buf):
        g2 = grp_fill[buf_g[q]]
        if g2 >= 0:
            pool[seg_start[g2] + seg_len[g2]] = buf_w[q]
            seg_len[g2] += 1
    scal[N_SEG] = n_seg
    scal[POOL_USED] = used
    scal[HEAP_SIZE] = size


@njit(cache=True)
def train_steps(words, strings, stamps, forced, scal, limits, tokens, pairs, segments, heap, merges, scratch):
    """Run up to ``max_steps`` merges (forced ones first); returns the last six groups, possibly
    reallocated.

    The state, as tuples of arrays: ``words = (syms, wstart, wlen, wcount)``, ``strings =
    (st_hash, st_ids)``, ``stamps = (wstamp, side_stamp, side_group)`` (the last two ``(2, tokens)``),
    ``forced = (forced_a, forced_b)``, ``limits = (vocab_target, min_frequency, max_length, max_steps)``;
    and, grown as needed, ``tokens = (units, tok_off, tok_len, tok_hash, tok_pow)``, ``pairs =
    (pt_keys, pt_cnt, pt_last)``, ``segments = (seg_start, seg_len, seg_next, pool)``, ``heap =
    (h_key, h_pair, h_seg)``, ``merges = (m_a, m_b, m_new, m_cnt)``, ``scratch = (work, buf_g,
    buf_w, grp_key, grp_lastw, grp_fill)``. ``scal[STOP]`` becomes non-zero when training is over
    (vocabulary reached, no pair left, or ``min_frequency`` reached).
    """
    syms, wstart, wlen, wcount = words
    st_hash, st_ids = strings
    wstamp, side_stamp, side_group = stamps
    forced_a, forced_b = forced
    vocab_target, min_frequency, max_length, max_steps = limits
    units, tok_off, tok_len, tok_hash, tok_pow = tokens
    pt_keys, pt_cnt, pt_last = pairs
    seg_start, seg_len, seg_next, pool = segments
    h_key, h_pair, h_seg = heap
    m_a, m_b, m_new, m_cnt = merges
    work, buf_g, buf_w, grp_key, grp_lastw, grp_fill = scratch
    steps = 0
    while steps < max_steps:
        what, a, b, count, segment = _next_pair(pt_keys, pt_cnt, h_key, h_pair, h_seg, forced_a, forced_b, scal,
                                                vocab_target, min_frequency)
        if what == _DONE:
            break
        if what == _RETRY:
            continue
        steps += 1
        units, new = _merged_token(units, tok_off, tok_len, tok_hash, tok_pow, st_hash, st_ids, scal, a, b)
        m_a, m_b, m_new, m_cnt = _record_merge(m_a, m_b, m_new, m_cnt, scal, a, b, new, count)
        scal[STAMP] += 1
        work, n_work, bound = _words_to_visit(what == _FORCED, (a << 32) | b, segment, pt_keys, pt_last, seg_start,
                                              seg_len, seg_next, pool, wlen, wstamp, scal[STAMP], work,
                                              scal[PT_SHIFT])
        # Room for this step's new pairs, segments, positions, heap entries and notes.
        if 2 * (scal[N_PAIRS] + bound + 1) > pt_keys.shape[0]:
            pt_keys, pt_cnt, pt_last, scal[PT_SHIFT] = _pt_rehash(pt_keys, pt_cnt, pt_last, scal[PT_SHIFT],
                                                                  2 * (scal[N_PAIRS] + bound + 1))
        need = scal[N_SEG] + bound + 1
        seg_start, seg_len, seg_next = grow(seg_start, need), grow(seg_len, need), grow(seg_next, need)
        pool = grow(pool, scal[POOL_USED] + bound + 1)
        need = scal[HEAP_SIZE] + bound + 1
        h_key, h_pair, h_seg = grow(h_key, need), grow(h_pair, need), grow(h_seg, need)
        buf_g, buf_w, grp_key = grow(buf_g, bound + 1), grow(buf_w, bound + 1), grow(grp_key, bound + 1)
        grp_lastw, grp_fill = grow(grp_lastw, bound + 1), grow(grp_fill, bound + 1)
        n_grp, n_buf = _merge_words(work, n_work, a, b, new, syms, wstart, wlen, wcount, tok_len, pt_keys, pt_cnt,
                                    scal, scal[STAMP], side_stamp, side_group, grp_key, grp_lastw, buf_g, buf_w,
                                    max_length)
        if what == _FORCED:
            # Every occurrence is gone; a replayed pair must not be picked again by the heap.
            s = slot(pt_keys, (a << 32) | b, scal[PT_SHIFT])
            if pt_keys[s] == (a << 32) | b:
                pt_cnt[s] = 0
        _push_gained(n_grp, n_buf, buf_g, buf_w, grp_key, grp_fill, pt_keys, pt_cnt, pt_last, seg_start, seg_len,
                     seg_next, pool, h_key, h_pair, h_seg, scal)
    return ((units, tok_off, tok_len, tok_hash, tok_pow), (pt_keys, pt_cnt, pt_last),
            (seg_start, seg_len, seg_next, pool), (h_key, h_pair, h_seg), (m_a, m_b, m_new, m_cnt),
            (work, buf_g, buf_w, grp_key, grp_lastw, grp_fill))
