"""Numba kernels of the BPE trainer: incremental pair counts, a lazy max-heap, in-place word merges.

The algorithm is HF ``tokenizers``' ``BpeTrainer`` (``models/bpe/trainer.rs``) step for step, so
that merge lists agree exactly; :mod:`tokbench.trainers._reference` is the readable twin that
tests hold these kernels to. Everything here works on numpy arrays only:

* words are flat ``int32`` symbol ids (``syms``) with ``wstart``/``wlen``/``wcount``; a merge
  rewrites a word in place and shortens ``wlen``;
* pair counts live in an open-addressing hash table keyed by ``a << 32 | b`` (``pt_*``), which
  also remembers the newest *position segment* of each pair;
* a position segment is a run of word indices in ``pool``: the words that received the pair at one
  step (HF's ``where_to_update`` sets). Heap entries carry their segment, as HF's ``Merge`` carries
  ``pos``; segments of one pair are chained (``seg_next``) for forced (replayed) merges;
* the heap orders by count (as ``u64``, so a negative count wraps to huge exactly as HF's
  ``i32 as u64`` does), then by the smaller pair; a stale top is re-keyed and sifted down;
* tokens are unit strings (bytes for byte-level BPE, code points for character BPE) in a pool,
  with a polynomial hash so that a merge producing an existing string reuses its id (HF's
  ``word_to_id`` lookup).

Arrays are grown by reallocation before a step (upper bounds are computed first), so the inner
loops never check capacity. The state is a tuple of arrays threaded through :func:`train_steps`,
which runs a bounded number of merges per call so that Python can show progress between calls.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._numba.hashtable import EMPTY, FIBONACCI, slot

_HASH_BASE = np.uint64(0x100000001B3)

# Indices into the int64 ``scal`` array of scalars.
N_TOK, N_PAIRS, PT_SHIFT, N_SEG, POOL_USED, HEAP_SIZE, N_MERGES, STAMP, ST_SHIFT, STOP, N_FORCED_DONE = range(11)
N_SCAL = 11
# Stop reasons written to ``scal[STOP]``.
RUNNING, STOP_VOCAB, STOP_EMPTY, STOP_MIN_FREQ = 0, 1, 2, 3


@njit(cache=True)
def _pt_rehash(pt_keys, pt_cnt, pt_last, shift, new_cap):
    new_shift = shift
    cap = pt_keys.shape[0]
    while cap < new_cap:
        cap *= 2
        new_shift -= 1
    nk = np.full(cap, EMPTY, np.int64)
    nc = np.zeros(cap, np.int64)
    nl = np.full(cap, EMPTY, np.int64)
    for i in range(pt_keys.shape[0]):
        k = pt_keys[i]
        if k != EMPTY:
            j = slot(nk, k, new_shift)
            nk[j] = k
            nc[j] = pt_cnt[i]
            nl[j] = pt_last[i]
    return nk, nc, nl, new_shift


@njit(cache=True)
def _grow(arr, need):
    """``arr`` with room for ``need`` items (doubling); numba compiles one per dtype."""
    if arr.shape[0] >= need:
        return arr
    cap = max(arr.shape[0] * 2, need, 16)
    out = np.empty(cap, arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True, inline="always")
def _add_pair_count(pt_keys, pt_cnt, scal, key, shift, delta):
    """Add ``delta`` to the count of pair ``key``, inserting it (and counting it) if new."""
    s = slot(pt_keys, key, shift)
    if pt_keys[s] == EMPTY:
        pt_keys[s] = key
        scal[N_PAIRS] += 1
    pt_cnt[s] += delta


@njit(cache=True)
def _higher(h_cnt, h_pair, i, j):
    """Entry i pops before entry j: larger count, then smaller pair (HF's ``Ord for Merge``)."""
    if h_cnt[i] != h_cnt[j]:
        return h_cnt[i] > h_cnt[j]
    return h_pair[i] < h_pair[j]


@njit(cache=True)
def _swap(h_cnt, h_pair, h_seg, i, j):
    c = h_cnt[i]
    h_cnt[i] = h_cnt[j]
    h_cnt[j] = c
    p = h_pair[i]
    h_pair[i] = h_pair[j]
    h_pair[j] = p
    s = h_seg[i]
    h_seg[i] = h_seg[j]
    h_seg[j] = s


@njit(cache=True)
def _sift_down(h_cnt, h_pair, h_seg, i, size):
    while True:
        left = 2 * i + 1
        if left >= size:
            return
        best = left
        right = left + 1
        if right < size and _higher(h_cnt, h_pair, right, left):
            best = right
        if _higher(h_cnt, h_pair, best, i):
            _swap(h_cnt, h_pair, h_seg, i, best)
            i = best
        else:
            return


@njit(cache=True)
def _sift_up(h_cnt, h_pair, h_seg, i):
    while i > 0:
        parent = (i - 1) // 2
        if _higher(h_cnt, h_pair, i, parent):
            _swap(h_cnt, h_pair, h_seg, i, parent)
            i = parent
        else:
            return


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


@njit(cache=True)
def _st_find(st_hash, st_ids, st_shift, units, tok_off, h, a, b):
    """Slot of the string ``token a + token b`` in the string table (found or where it goes)."""
    mask = st_ids.shape[0] - 1
    i = np.int64((h * FIBONACCI) >> np.uint64(st_shift))
    la = tok_off[a + 1] - tok_off[a]
    lb = tok_off[b + 1] - tok_off[b]
    while True:
        t = st_ids[i]
        if t == EMPTY:
            return i
        if st_hash[i] == h and tok_off[t + 1] - tok_off[t] == la + lb:
            same = True
            base = tok_off[t]
            for k in range(la):
                if units[base + k] != units[tok_off[a] + k]:
                    same = False
                    break
            if same:
                for k in range(lb):
                    if units[base + la + k] != units[tok_off[b] + k]:
                        same = False
                        break
            if same:
                return i
        i = (i + 1) & mask


@njit(cache=True)
def _st_insert_existing(st_hash, st_ids, st_shift, units, tok_off, h, t):
    mask = st_ids.shape[0] - 1
    i = np.int64((h * FIBONACCI) >> np.uint64(st_shift))
    while True:
        u = st_ids[i]
        if u == EMPTY:
            st_hash[i] = h
            st_ids[i] = t
            return
        if st_hash[i] == h and tok_off[u + 1] - tok_off[u] == tok_off[t + 1] - tok_off[t]:
            same = True
            for k in range(tok_off[t + 1] - tok_off[t]):
                if units[tok_off[u] + k] != units[tok_off[t] + k]:
                    same = False
                    break
            if same:
                return  # an earlier id keeps the string, as HF's word_to_id does
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
def count_pairs(syms, wstart, wlen, wcount):
    """Initial pair counts, one position segment per pair (the words holding it), and the heap.

    Returns ``pt_keys, pt_cnt, pt_last, pt_shift, n_pairs, seg_start, seg_len, seg_next, pool,
    pool_used, h_cnt, h_pair, h_seg, heap_size``.
    """
    n_words = wstart.shape[0]
    cap = 1024
    shift = 54
    pt_keys = np.full(cap, EMPTY, np.int64)
    pt_cnt = np.zeros(cap, np.int64)
    pt_last = np.full(cap, EMPTY, np.int64)
    n_pairs = 0
    seg_len = np.zeros(1024, np.int64)
    seg_lastw = np.full(1024, EMPTY, np.int64)
    for w in range(n_words):
        st = wstart[w]
        c = wcount[w]
        for i in range(wlen[w] - 1):
            key = (np.int64(syms[st + i]) << 32) | np.int64(syms[st + i + 1])
            if 2 * (n_pairs + 1) > pt_keys.shape[0]:
                pt_keys, pt_cnt, pt_last, shift = _pt_rehash(pt_keys, pt_cnt, pt_last, shift, 2 * pt_keys.shape[0])
            s = slot(pt_keys, key, shift)
            if pt_keys[s] == EMPTY:
                pt_keys[s] = key
                pt_last[s] = n_pairs
                if n_pairs >= seg_len.shape[0]:
                    seg_len = _grow(seg_len, n_pairs + 1)
                    old = seg_lastw.shape[0]
                    seg_lastw = _grow(seg_lastw, n_pairs + 1)
                    seg_lastw[old:] = EMPTY
                seg_len[n_pairs] = 0
                seg_lastw[n_pairs] = EMPTY
                n_pairs += 1
            pt_cnt[s] += c
            g = pt_last[s]
            if seg_lastw[g] != w:
                seg_lastw[g] = w
                seg_len[g] += 1
    seg_start = np.zeros(max(n_pairs, 1) * 2, np.int64)
    total = 0
    for g in range(n_pairs):
        seg_start[g] = total
        total += seg_len[g]
    pool = np.empty(max(total, 1) * 2, np.int32)
    fill = np.zeros(max(n_pairs, 1), np.int64)
    seg_lastw[:n_pairs] = EMPTY
    for w in range(n_words):
        st = wstart[w]
        for i in range(wlen[w] - 1):
            key = (np.int64(syms[st + i]) << 32) | np.int64(syms[st + i + 1])
            g = pt_last[slot(pt_keys, key, shift)]
            if seg_lastw[g] != w:
                seg_lastw[g] = w
                pool[seg_start[g] + fill[g]] = w
                fill[g] += 1
    seg_len2 = np.zeros(seg_start.shape[0], np.int64)
    seg_len2[:n_pairs] = seg_len[:n_pairs]
    seg_next = np.full(seg_start.shape[0], EMPTY, np.int64)
    h_cnt = np.zeros(max(n_pairs, 1) * 2, np.uint64)
    h_pair = np.zeros(h_cnt.shape[0], np.int64)
    h_seg = np.zeros(h_cnt.shape[0], np.int64)
    size = 0
    for s in range(pt_keys.shape[0]):
        if pt_keys[s] != EMPTY and pt_cnt[s] > 0:
            h_cnt[size] = np.uint64(pt_cnt[s])
            h_pair[size] = pt_keys[s]
            h_seg[size] = pt_last[s]
            size += 1
    for i in range(size // 2 - 1, -1, -1):
        _sift_down(h_cnt, h_pair, h_seg, i, size)
    return (pt_keys, pt_cnt, pt_last, shift, n_pairs, seg_start, seg_len2, seg_next, pool, total,
            h_cnt, h_pair, h_seg, size)


@njit(cache=True)
def train_steps(
    syms, wstart, wlen, wcount,
    units, tok_off, tok_len, tok_hash, tok_pow,
    st_hash, st_ids,
    pt_keys, pt_cnt, pt_last,
    seg_start, seg_len, seg_next, pool,
    h_cnt, h_pair, h_seg,
    m_a, m_b, m_new, m_cnt,
    work, wstamp, buf_g, buf_w, grp_key, grp_lastw, grp_fill,
    stamp_l, grp_l, stamp_r, grp_r,
    forced_a, forced_b,
    scal, vocab_target, min_frequency, max_length, max_steps,
):
    """Run up to ``max_steps`` merges (forced ones first); returns the possibly reallocated arrays.

    ``scal[STOP]`` becomes non-zero when training is over (vocabulary reached, no pair left, or
    ``min_frequency`` reached).
    """
    n_forced = forced_a.shape[0]
    steps = 0
    while steps < max_steps:
        forced = scal[N_FORCED_DONE] < n_forced
        if forced:
            f = scal[N_FORCED_DONE]
            a = np.int64(forced_a[f])
            b = np.int64(forced_b[f])
            key = (a << 32) | b
            s = slot(pt_keys, key, scal[PT_SHIFT])
            count = pt_cnt[s] if pt_keys[s] == key else np.int64(0)
            scal[N_FORCED_DONE] += 1
        else:
            if scal[N_TOK] >= vocab_target:
                scal[STOP] = STOP_VOCAB
                break
            size = scal[HEAP_SIZE]
            if size == 0:
                scal[STOP] = STOP_EMPTY
                break
            key = h_pair[0]
            s = slot(pt_keys, key, scal[PT_SHIFT])
            current = np.uint64(pt_cnt[s])
            if h_cnt[0] != current:
                # A stale entry: re-key it with today's count (HF pops and pushes it back).
                h_cnt[0] = current
                _sift_down(h_cnt, h_pair, h_seg, 0, size)
                continue
            if current < np.uint64(1) or np.uint64(min_frequency) > current:
                scal[STOP] = STOP_EMPTY if current < np.uint64(1) else STOP_MIN_FREQ
                break
            count = pt_cnt[s]
            top_seg = h_seg[0]
            size -= 1
            if size > 0:
                h_cnt[0] = h_cnt[size]
                h_pair[0] = h_pair[size]
                h_seg[0] = h_seg[size]
                _sift_down(h_cnt, h_pair, h_seg, 0, size)
            scal[HEAP_SIZE] = size
            a = key >> 32
            b = key & 0xFFFFFFFF
        steps += 1

        # ---- the merged token: an existing string keeps its id (HF's word_to_id lookup)
        la = tok_off[a + 1] - tok_off[a]
        lb = tok_off[b + 1] - tok_off[b]
        h = tok_hash[a] * tok_pow[b] + tok_hash[b]
        ss = _st_find(st_hash, st_ids, scal[ST_SHIFT], units, tok_off, h, a, b)
        if st_ids[ss] != EMPTY:
            new = st_ids[ss]
        else:
            new = scal[N_TOK]
            base = tok_off[new]
            units = _grow(units, base + la + lb)
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
        nm = scal[N_MERGES]
        if nm >= m_a.shape[0]:
            m_a = _grow(m_a, nm + 1)
            m_b = _grow(m_b, nm + 1)
            m_new = _grow(m_new, nm + 1)
            m_cnt = _grow(m_cnt, nm + 1)
        m_a[nm] = a
        m_b[nm] = b
        m_new[nm] = new
        m_cnt[nm] = count
        scal[N_MERGES] = nm + 1

        # ---- the words to visit: the popped entry's segment, or every segment of a forced pair
        scal[STAMP] += 1
        stamp = scal[STAMP]
        n_work = 0
        bound = 0
        if forced:
            if pt_keys[s] == key:
                g = pt_last[s]
                while g != EMPTY:
                    work = _grow(work, n_work + seg_len[g])
                    for k in range(seg_start[g], seg_start[g] + seg_len[g]):
                        w = pool[k]
                        if wstamp[w] != stamp:
                            wstamp[w] = stamp
                            work[n_work] = w
                            n_work += 1
                            bound += wlen[w]
                    g = seg_next[g]
        else:
            g = top_seg
            work = _grow(work, seg_len[g])
            for k in range(seg_start[g], seg_start[g] + seg_len[g]):
                w = pool[k]
                work[n_work] = w
                n_work += 1
                bound += wlen[w]

        # ---- capacity for this step's new pairs, positions, segments and heap entries
        if 2 * (scal[N_PAIRS] + bound + 1) > pt_keys.shape[0]:
            pt_keys, pt_cnt, pt_last, new_shift = _pt_rehash(
                pt_keys, pt_cnt, pt_last, scal[PT_SHIFT], 2 * (scal[N_PAIRS] + bound + 1))
            scal[PT_SHIFT] = new_shift
            s = slot(pt_keys, key, new_shift)
        buf_g = _grow(buf_g, bound + 1)
        buf_w = _grow(buf_w, bound + 1)
        grp_key = _grow(grp_key, bound + 1)
        grp_lastw = _grow(grp_lastw, bound + 1)
        grp_fill = _grow(grp_fill, bound + 1)
        pool = _grow(pool, scal[POOL_USED] + bound + 1)
        seg_start = _grow(seg_start, scal[N_SEG] + bound + 1)
        seg_len = _grow(seg_len, scal[N_SEG] + bound + 1)
        seg_next = _grow(seg_next, scal[N_SEG] + bound + 1)
        h_cnt = _grow(h_cnt, scal[HEAP_SIZE] + bound + 1)
        h_pair = _grow(h_pair, scal[HEAP_SIZE] + bound + 1)
        h_seg = _grow(h_seg, scal[HEAP_SIZE] + bound + 1)

        # ---- merge in every word, recording count changes (HF's Word::merge)
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
                    if j > 0:
                        prev = np.int64(syms[st + j - 1])
                        k2 = (prev << 32) | a
                        _add_pair_count(pt_keys, pt_cnt, scal, k2, pt_shift, -cw)
                        if tok_len[prev] + new_len < max_length:
                            k2 = (prev << 32) | new
                            _add_pair_count(pt_keys, pt_cnt, scal, k2, pt_shift, cw)
                            if stamp_l[prev] != stamp:
                                stamp_l[prev] = stamp
                                grp_l[prev] = n_grp
                                grp_key[n_grp] = k2
                                grp_lastw[n_grp] = EMPTY
                                n_grp += 1
                            gg = grp_l[prev]
                            if grp_lastw[gg] != w:
                                grp_lastw[gg] = w
                                buf_g[n_buf] = gg
                                buf_w[n_buf] = w
                                n_buf += 1
                    if i + 2 < n:
                        nx = np.int64(syms[st + i + 2])
                        k2 = (b << 32) | nx
                        _add_pair_count(pt_keys, pt_cnt, scal, k2, pt_shift, -cw)
                        if tok_len[nx] + new_len < max_length:
                            k2 = (new << 32) | nx
                            _add_pair_count(pt_keys, pt_cnt, scal, k2, pt_shift, cw)
                            # (new, new) belongs to the left-keyed groups, like (prev, new).
                            if nx == new:
                                if stamp_l[nx] != stamp:
                                    stamp_l[nx] = stamp
                                    grp_l[nx] = n_grp
                                    grp_key[n_grp] = k2
                                    grp_lastw[n_grp] = EMPTY
                                    n_grp += 1
                                gg = grp_l[nx]
                            else:
                                if stamp_r[nx] != stamp:
                                    stamp_r[nx] = stamp
                                    grp_r[nx] = n_grp
                                    grp_key[n_grp] = k2
                                    grp_lastw[n_grp] = EMPTY
                                    n_grp += 1
                                gg = grp_r[nx]
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

        if forced:
            # Every occurrence is gone; a replayed pair must not be picked again by the heap.
            s = slot(pt_keys, key, pt_shift)
            if pt_keys[s] == key:
                pt_cnt[s] = 0

        # ---- push each pair that gained positions and still has a positive count
        n_seg = scal[N_SEG]
        used = scal[POOL_USED]
        size = scal[HEAP_SIZE]
        for gg in range(n_grp):
            grp_fill[gg] = -1
        for q in range(n_buf):
            gg = buf_g[q]
            if grp_fill[gg] == -1:
                s2 = slot(pt_keys, grp_key[gg], pt_shift)
                if pt_cnt[s2] > 0:
                    grp_fill[gg] = n_seg
                    seg_start[n_seg] = used  # placeholder; fixed below
                    seg_len[n_seg] = 0
                    seg_next[n_seg] = pt_last[s2]
                    pt_last[s2] = n_seg
                    h_cnt[size] = np.uint64(pt_cnt[s2])
                    h_pair[size] = grp_key[gg]
                    h_seg[size] = n_seg
                    _sift_up(h_cnt, h_pair, h_seg, size)
                    size += 1
                    n_seg += 1
                else:
                    grp_fill[gg] = -2
            g2 = grp_fill[gg]
            if g2 >= 0:
                seg_len[g2] += 1
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

    return (units, pt_keys, pt_cnt, pt_last, seg_start, seg_len, seg_next, pool,
            h_cnt, h_pair, h_seg, m_a, m_b, m_new, m_cnt, work, buf_g, buf_w,
            grp_key, grp_lastw, grp_fill)
