"""Numba kernels of the mixture attack: pair-count traces and the constraint-generation sweep.

* :func:`trace_kernel` applies an ordered merge list to a word-count table and records, at every
  step, the count of the merged pair and the sparse changes of every pair the merge touched
  (Hayase et al. 2024, §3). Counts are vectors (``R`` columns) so that bootstrap replicates of
  a sample — different word counts, same words — are traced in one pass: the segmentation of a
  word after merges ``1..t`` does not depend on counts, so traces are linear in them.
* :func:`sweep_kernel` replays the traces of ``n`` categories under mixture weights, keeping the
  weighted count of every pair and a lazy max-heap over them, and reports the LP constraints
  ``(t, p)`` that the current solution violates most (delayed row generation).

:func:`tokbench.attacks.mixture.traces.trace_reference` is the readable twin of :func:`trace_kernel`;
tests hold them equal. Kernels take and return numpy arrays only and do no I/O.

Pairs are keyed ``left << 32 | right`` (token ids < 2**31).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..._numba.hashtable import EMPTY, slot


@njit(cache=True)
def _rehash(keys, vals, head, old, stamp, shift):
    cap = keys.shape[0] * 2
    nshift = shift - 1
    R = vals.shape[1]
    nk = np.full(cap, EMPTY, np.int64)
    nv = np.zeros((cap, R), np.int64)
    nh = np.full(cap, EMPTY, np.int64)
    no = np.zeros((cap, R), np.int64)
    ns = np.full(cap, EMPTY, np.int64)
    for i in range(keys.shape[0]):
        k = keys[i]
        if k != EMPTY:
            j = slot(nk, k, nshift)
            nk[j] = k
            nv[j] = vals[i]
            nh[j] = head[i]
            no[j] = old[i]
            ns[j] = stamp[i]
    return nk, nv, nh, no, ns, nshift


@njit(cache=True)
def _grow1(arr, need):
    if arr.shape[0] >= need:
        return arr
    out = np.empty(max(arr.shape[0] * 2, need), arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True)
def _grow2(arr, need):
    if arr.shape[0] >= need:
        return arr
    out = np.zeros((max(arr.shape[0] * 2, need), arr.shape[1]), arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True)
def trace_kernel(syms, wstart, wlen, wcount, ma, mb, mc):
    """Apply merges ``(ma[t], mb[t]) -> mc[t]`` in order to the words; see the module docstring.

    ``syms`` (int64, flat, modified in place), ``wstart``/``wlen`` (int64, ``wlen`` modified),
    ``wcount`` (int64, ``(n_words, R)``). Returns ``(init_keys, init_vals, merged, d_off, d_keys,
    d_vals)``: the pair counts before any merge, the count of each merged pair at its step
    ``(T, R)``, and per step ``t`` the changes ``d_keys[d_off[t]:d_off[t+1]]`` with their
    ``d_vals`` rows (non-zero, sorted by key).
    """
    n_words = wlen.shape[0]
    R = wcount.shape[1]
    T = ma.shape[0]
    total = 0
    for w in range(n_words):
        total += wlen[w]
    cap = 1024
    shift = 64 - 10
    while cap < 2 * total + 16:
        cap *= 2
        shift -= 1
    keys = np.full(cap, EMPTY, np.int64)
    vals = np.zeros((cap, R), np.int64)
    head = np.full(cap, EMPTY, np.int64)
    old = np.zeros((cap, R), np.int64)
    stamp = np.full(cap, EMPTY, np.int64)
    used = 0
    node_w = np.empty(max(total, 16), np.int64)
    node_n = np.empty(max(total, 16), np.int64)
    n_nodes = 0
    # Initial counts; every word is listed under each of its pairs.
    for w in range(n_words):
        s0 = wstart[w]
        for j in range(wlen[w] - 1):
            key = (syms[s0 + j] << 32) | syms[s0 + j + 1]
            i = slot(keys, key, shift)
            if keys[i] == EMPTY:
                keys[i] = key
                used += 1
            for r in range(R):
                vals[i, r] += wcount[w, r]
            node_w[n_nodes] = w
            node_n[n_nodes] = head[i]
            head[i] = n_nodes
            n_nodes += 1
    n_init = 0
    for i in range(cap):
        if keys[i] != EMPTY:
            n_init += 1
    init_keys = np.empty(n_init, np.int64)
    init_vals = np.zeros((n_init, R), np.int64)
    k = 0
    for i in range(cap):
        if keys[i] != EMPTY:
            init_keys[k] = keys[i]
            init_vals[k] = vals[i]
            k += 1
    order = np.argsort(init_keys)
    init_keys = init_keys[order]
    init_vals = init_vals[order]

    merged = np.zeros((T, R), np.int64)
    d_off = np.zeros(T + 1, np.int64)
    d_keys = np.empty(1024, np.int64)
    d_vals = np.zeros((1024, R), np.int64)
    n_d = 0
    wstamp = np.full(n_words, EMPTY, np.int64)
    words = np.empty(1024, np.int64)
    touched = np.empty(1024, np.int64)
    for t in range(T):
        a = ma[t]
        b = mb[t]
        c = mc[t]
        key = (a << 32) | b
        s = slot(keys, key, shift)
        d_off[t] = n_d
        if keys[s] == EMPTY:
            d_off[t + 1] = n_d
            continue
        for r in range(R):
            merged[t, r] = vals[s, r]
        # Words that may hold the pair (lists keep stale entries; checked below).
        n_w = 0
        bound = 0
        node = head[s]
        while node != EMPTY:
            w = node_w[node]
            if wstamp[w] != t:
                wstamp[w] = t
                words = _grow1(words, n_w + 1)
                words[n_w] = w
                n_w += 1
                bound += wlen[w]
            node = node_n[node]
        head[s] = EMPTY
        # Capacity first (a rehash mid-step would move the touched slots).
        while 2 * (used + bound + 1) > keys.shape[0]:
            keys, vals, head, old, stamp, shift = _rehash(keys, vals, head, old, stamp, shift)
        node_w = _grow1(node_w, n_nodes + bound + 1)
        node_n = _grow1(node_n, n_nodes + bound + 1)
        touched = _grow1(touched, 2 * bound + 2)
        n_t = 0
        for q in range(n_w):
            w = words[q]
            s0 = wstart[w]
            L = wlen[w]
            found = False
            for j in range(L - 1):
                if syms[s0 + j] == a and syms[s0 + j + 1] == b:
                    found = True
                    break
            if not found:
                continue
            # Remove every pair of the word, merge, add every pair back: the difference is the
            # exact change, overlaps (a == b runs) included.
            for j in range(L - 1):
                kk = (syms[s0 + j] << 32) | syms[s0 + j + 1]
                i = slot(keys, kk, shift)
                if stamp[i] != t:
                    stamp[i] = t
                    old[i] = vals[i]
                    touched[n_t] = i
                    n_t += 1
                for r in range(R):
                    vals[i, r] -= wcount[w, r]
            out = 0
            j = 0
            while j < L:
                if j + 1 < L and syms[s0 + j] == a and syms[s0 + j + 1] == b:
                    syms[s0 + out] = c
                    j += 2
                else:
                    syms[s0 + out] = syms[s0 + j]
                    j += 1
                out += 1
            wlen[w] = out
            for j in range(out - 1):
                x = syms[s0 + j]
                y = syms[s0 + j + 1]
                kk = (x << 32) | y
                i = slot(keys, kk, shift)
                if keys[i] == EMPTY:
                    keys[i] = kk
                    used += 1
                if stamp[i] != t:
                    stamp[i] = t
                    old[i] = vals[i]
                    touched[n_t] = i
                    n_t += 1
                for r in range(R):
                    vals[i, r] += wcount[w, r]
                if x == c or y == c:
                    node_w[n_nodes] = w
                    node_n[n_nodes] = head[i]
                    head[i] = n_nodes
                    n_nodes += 1
        d_keys = _grow1(d_keys, n_d + n_t)
        d_vals = _grow2(d_vals, n_d + n_t)
        start = n_d
        for q in range(n_t):
            i = touched[q]
            nz = False
            for r in range(R):
                if vals[i, r] != old[i, r]:
                    nz = True
            if nz:
                d_keys[n_d] = keys[i]
                for r in range(R):
                    d_vals[n_d, r] = vals[i, r] - old[i, r]
                n_d += 1
        if n_d - start > 1:
            order = np.argsort(d_keys[start:n_d])
            d_keys[start:n_d] = d_keys[start:n_d][order]
            d_vals[start:n_d] = d_vals[start:n_d][order]
        d_off[t + 1] = n_d
    return init_keys, init_vals, merged, d_off, d_keys[:n_d].copy(), d_vals[:n_d].copy()


# ----------------------------------------------------------------------------- LP sweep


@njit(cache=True)
def _hpush(hv, hp, size, v, p):
    hv = _grow1(hv, size + 1)
    hp = _grow1(hp, size + 1)
    i = size
    hv[i] = v
    hp[i] = p
    while i > 0:
        parent = (i - 1) >> 1
        if hv[parent] >= hv[i]:
            break
        hv[parent], hv[i] = hv[i], hv[parent]
        hp[parent], hp[i] = hp[i], hp[parent]
        i = parent
    return hv, hp, size + 1


@njit(cache=True)
def _hpop(hv, hp, size):
    size -= 1
    hv[0] = hv[size]
    hp[0] = hp[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        big = left
        if left + 1 < size and hv[left + 1] > hv[left]:
            big = left + 1
        if hv[i] >= hv[big]:
            break
        hv[big], hv[i] = hv[i], hv[big]
        hp[big], hp[i] = hp[i], hp[big]
        i = big
    return size


@njit(cache=True)
def sweep_kernel(n_pairs, cat_off, loc_glob, init_cnt, d_off, d_loc, d_val, merged_glob,
                 scale, vt, vp, k_add, tol, t_end):
    """Replay ``n`` categories' traces under weights ``scale`` and find violated constraints.

    Category ``i`` owns local pairs ``cat_off[i]:cat_off[i+1]`` (global ids ``loc_glob``, sorted),
    with initial counts ``init_cnt``; its step-``t`` changes are ``d_loc/d_val[d_off[i, t]:d_off[i,
    t+1]]`` (local indices, offsets into the flat arrays); ``merged_glob[t]`` is the global id of
    the merged pair (-1 when no category has it). A pair ``p`` violates step ``t`` by
    ``W_t(p) - vp[p] - W_t(m_t) - vt[t]`` when that exceeds ``tol``.

    The lazy max-heap is keyed by ``W(p) - vp[p]`` (``vp`` is fixed during a sweep), so its top
    is the most violating pair of the step and the scan of a step stops at the first pair that
    does not violate: the sweep is exact, however many pairs compete. Up to ``k_add`` worst
    pairs per step are returned as ``(t, p, violation, per-category counts)``; only steps
    ``t < t_end`` are checked.
    """
    n = scale.shape[0]
    T = min(merged_glob.shape[0], t_end)
    W = np.zeros(n_pairs, np.float64)
    E = np.zeros(n_pairs, np.float64)
    cur = init_cnt.copy()
    for i in range(n):
        for q in range(cat_off[i], cat_off[i + 1]):
            W[loc_glob[q]] += scale[i] * cur[q]
    hv = np.empty(n_pairs + 16, np.float64)
    hp = np.empty(n_pairs + 16, np.int64)
    size = 0
    for p in range(n_pairs):
        E[p] = W[p] - vp[p]
        if W[p] > 0:
            hv, hp, size = _hpush(hv, hp, size, E[p], p)
    out_t = np.empty(1024, np.int64)
    out_p = np.empty(1024, np.int64)
    out_v = np.empty(1024, np.float64)
    out_c = np.zeros((1024, n), np.int64)
    n_out = 0
    seen = np.full(n_pairs, EMPTY, np.int64)
    pop_v = np.empty(max(k_add, 1), np.float64)
    pop_p = np.empty(max(k_add, 1), np.int64)
    for t in range(T):
        m = merged_glob[t]
        mw = W[m] if m >= 0 else 0.0
        thr = mw + vt[t] + tol
        n_pop = 0
        while size > 0 and n_pop < k_add:
            v = hv[0]
            p = hp[0]
            if v != E[p] or seen[p] == t:  # stale or duplicate entry
                size = _hpop(hv, hp, size)
                continue
            if v <= thr:
                break
            size = _hpop(hv, hp, size)
            seen[p] = t
            pop_v[n_pop] = v
            pop_p[n_pop] = p
            n_pop += 1
        for q in range(n_pop):
            p = pop_p[q]
            hv, hp, size = _hpush(hv, hp, size, pop_v[q], p)
            if p == m:  # cannot happen (E[m] <= mw); kept for safety with odd inputs
                continue
            out_t = _grow1(out_t, n_out + 1)
            out_p = _grow1(out_p, n_out + 1)
            out_v = _grow1(out_v, n_out + 1)
            out_c = _grow2(out_c, n_out + 1)
            out_t[n_out] = t
            out_p[n_out] = p
            out_v[n_out] = pop_v[q] - mw - vt[t]
            for i in range(n):
                lo = cat_off[i]
                hi = cat_off[i + 1]
                k = lo + np.searchsorted(loc_glob[lo:hi], p)
                out_c[n_out, i] = cur[k] if k < hi and loc_glob[k] == p else 0
            n_out += 1
        # Apply step t's changes.
        for i in range(n):
            base = cat_off[i]
            sc = scale[i]
            for q in range(d_off[i, t], d_off[i, t + 1]):
                loc = base + d_loc[q]
                cur[loc] += d_val[q]
                p = loc_glob[loc]
                W[p] += sc * d_val[q]
                E[p] = W[p] - vp[p]
                if W[p] > 0:
                    hv, hp, size = _hpush(hv, hp, size, E[p], p)
        if size > 4 * n_pairs + 4096:  # drop stale entries
            size = 0
            for p in range(n_pairs):
                if W[p] > 0:
                    hv, hp, size = _hpush(hv, hp, size, E[p], p)
    return out_t[:n_out].copy(), out_p[:n_out].copy(), out_v[:n_out].copy(), out_c[:n_out].copy()


@njit(cache=True)
def counts_at(cat_off, loc_glob, init_cnt, d_off, d_loc, d_val, n_cat, T, query_t, query_p):
    """Per-category counts ``c_i,t(p)`` for queries sorted by ``t`` (``(n_q, n)`` int64)."""
    nq = query_t.shape[0]
    out = np.zeros((nq, n_cat), np.int64)
    cur = init_cnt.copy()
    q = 0
    for t in range(T + 1):
        while q < nq and query_t[q] == t:
            p = query_p[q]
            for i in range(n_cat):
                lo = cat_off[i]
                hi = cat_off[i + 1]
                j = lo + np.searchsorted(loc_glob[lo:hi], p)
                if j < hi and loc_glob[j] == p:
                    out[q, i] = cur[j]
            q += 1
        if t == T:
            break
        for i in range(n_cat):
            base = cat_off[i]
            for k in range(d_off[i, t], d_off[i, t + 1]):
                cur[base + d_loc[k]] += d_val[k]
    return out
