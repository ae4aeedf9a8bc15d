"""Numba kernels of the mixture attack: pair-count traces and the constraint-generation sweep.

* :func:`trace_kernel` applies an ordered merge list to a word-count table and records, at every
  step, the count of the merged pair and the sparse changes of every pair the merge touched
  (Hayase et al. 2024, §3). Counts are vectors (``R`` columns) so that bootstrap replicates of
  a sample — different word counts, same words — are traced in one pass: the segmentation of a
  word after merges ``1..t`` does not depend on counts, so traces are linear in them.
* :func:`sweep_kernel` replays the traces of ``n`` categories under mixture weights, keeping the
  weighted count of every pair and a lazy max-heap over them, and reports the LP constraints
  ``(t, p)`` that the current solution violates most (delayed row generation).

:func:`tokbench.attacks.mixture._reference.trace_reference` is the readable twin of :func:`trace_kernel`;
tests hold them equal. Kernels take and return numpy arrays only and do no I/O; the hash table,
heap and growable arrays are :mod:`tokbench._numba`'s.

Pairs are keyed ``left << 32 | right`` (token ids < 2**31). The pair table of a trace is five
arrays over one set of slots: ``keys``, counts ``vals`` (``R`` columns), the ``head`` of the list
of words holding the pair, and ``old``/``stamp``, the counts when the current step first touched
the slot. Per-step helpers are inlined (``inline="always"``) and the per-pair loop calls no helper
of its own: either costs up to 1.7x here (measured against the single-function kernels).

Example:
    >>> import numpy as np
    >>> syms = np.array([0, 1, 0, 1], np.int64)          # one word "abab", counted twice
    >>> init_keys, init_vals, merged, d_off, d_keys, d_vals = trace_kernel(
    ...     syms, np.array([0]), np.array([4]), np.array([[2]]),
    ...     np.array([0]), np.array([1]), np.array([2]))     # merge (a, b) -> 2
    >>> merged.tolist(), d_vals.ravel().tolist()             # "ab" x2, "ba" x1 -> "22": +1, -2, -4
    ([[4]], [-4, -2, 2])
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..._numba.arrays import grow
from ..._numba.hashtable import EMPTY, carry, rehash, slot
from ..._numba.heap import pop, push

# ----------------------------------------------------------------------------- traces


@njit(cache=True)
def _table_size(total):
    """Capacity and shift of a pair table for ``total`` pairs at load 1/2 (at least 1024 slots)."""
    cap = 1024
    shift = 64 - 10
    while cap < 2 * total + 16:
        cap *= 2
        shift -= 1
    return cap, shift


@njit(cache=True)
def _rehashed(keys, vals, head, old, stamp, shift, need):
    """The pair table rehashed into at least ``need`` slots (done before a step: a rehash mid-step
    would move the slots it touched)."""
    keys, shift, moved_to = rehash(keys, shift, need)
    cap = keys.shape[0]
    return (keys, carry(vals, moved_to, cap, 0), carry(head, moved_to, cap, EMPTY),
            carry(old, moved_to, cap, 0), carry(stamp, moved_to, cap, EMPTY), shift)


@njit(cache=True)
def _count_initial_pairs(syms, wstart, wlen, wcount, keys, vals, head, shift, node_w, node_n):
    """Count every pair of every word and list the word under each of its pairs.

    Returns ``(used slots, nodes used)``.
    """
    used = 0
    n_nodes = 0
    for w in range(wlen.shape[0]):
        s0 = wstart[w]
        for j in range(wlen[w] - 1):
            key = (syms[s0 + j] << 32) | syms[s0 + j + 1]
            i = slot(keys, key, shift)
            if keys[i] == EMPTY:
                keys[i] = key
                used += 1
            for r in range(vals.shape[1]):
                vals[i, r] += wcount[w, r]
            node_w[n_nodes] = w
            node_n[n_nodes] = head[i]
            head[i] = n_nodes
            n_nodes += 1
    return used, n_nodes


@njit(cache=True)
def _sorted_pairs(keys, vals):
    """The keys in the table, sorted, with their count rows."""
    n = 0
    for i in range(keys.shape[0]):
        if keys[i] != EMPTY:
            n += 1
    out_keys = np.empty(n, np.int64)
    out_vals = np.zeros((n, vals.shape[1]), np.int64)
    k = 0
    for i in range(keys.shape[0]):
        if keys[i] != EMPTY:
            out_keys[k] = keys[i]
            out_vals[k] = vals[i]
            k += 1
    order = np.argsort(out_keys)
    return out_keys[order], out_vals[order]


@njit(cache=True, inline="always")
def _words_listed(s, head, node_w, node_n, wstamp, t, words, wlen):
    """The words listed under slot ``s``, each once (lists keep stale entries; checked later);
    the list is emptied. Returns ``(words, how many, their total length)``."""
    n_w = 0
    bound = 0
    node = head[s]
    while node != EMPTY:
        w = node_w[node]
        if wstamp[w] != t:
            wstamp[w] = t
            words = grow(words, n_w + 1)
            words[n_w] = w
            n_w += 1
            bound += wlen[w]
        node = node_n[node]
    head[s] = EMPTY
    return words, n_w, bound


@njit(cache=True, inline="always")
def _holds(syms, s0, n, a, b):
    for j in range(n - 1):
        if syms[s0 + j] == a and syms[s0 + j + 1] == b:
            return True
    return False


@njit(cache=True, inline="always")
def _merge_in_place(syms, s0, n, a, b, c):
    """Replace every ``(a, b)`` in ``syms[s0:s0+n]`` by ``c``, left to right; the new length."""
    out = 0
    j = 0
    while j < n:
        if j + 1 < n and syms[s0 + j] == a and syms[s0 + j + 1] == b:
            syms[s0 + out] = c
            j += 2
        else:
            syms[s0 + out] = syms[s0 + j]
            j += 1
        out += 1
    return out


@njit(cache=True, inline="always")
def _retrace_words(words, n_w, a, b, c, t, syms, wstart, wlen, wcount, keys, vals, head, old, stamp, shift,
                   touched, node_w, node_n, n_nodes, used):
    """Merge ``(a, b) -> c`` in each listed word that holds the pair: remove every pair of the
    word (``sign`` -1), merge, add every pair back (+1), so that the difference is the exact
    change, overlaps (``a == b`` runs) included. Each slot's counts are noted before the step
    first touches them; added pairs with ``c`` list the word.

    Returns ``(touched slots, nodes used, used slots)``.
    """
    n_t = 0
    for q in range(n_w):
        w = words[q]
        s0 = wstart[w]
        if not _holds(syms, s0, wlen[w], a, b):
            continue
        for sign in (-1, 1):
            if sign > 0:
                wlen[w] = _merge_in_place(syms, s0, wlen[w], a, b, c)
            for j in range(wlen[w] - 1):
                x = syms[s0 + j]
                y = syms[s0 + j + 1]
                key = (x << 32) | y
                i = slot(keys, key, shift)
                if keys[i] == EMPTY:
                    keys[i] = key
                    used += 1
                if stamp[i] != t:
                    stamp[i] = t
                    old[i] = vals[i]
                    touched[n_t] = i
                    n_t += 1
                for r in range(vals.shape[1]):
                    vals[i, r] += sign * wcount[w, r]
                if sign > 0 and (x == c or y == c):
                    node_w[n_nodes] = w
                    node_n[n_nodes] = head[i]
                    head[i] = n_nodes
                    n_nodes += 1
    return n_t, n_nodes, used


@njit(cache=True, inline="always")
def _record_changes(keys, vals, old, touched, n_t, d_keys, d_vals, n_d):
    """Append the non-zero changes of the touched slots, sorted by key; returns the arrays and
    their new length."""
    d_keys = grow(d_keys, n_d + n_t)
    d_vals = grow(d_vals, n_d + n_t)
    start = n_d
    for q in range(n_t):
        i = touched[q]
        changed = False
        for r in range(vals.shape[1]):
            if vals[i, r] != old[i, r]:
                changed = True
        if changed:
            d_keys[n_d] = keys[i]
            for r in range(vals.shape[1]):
                d_vals[n_d, r] = vals[i, r] - old[i, r]
            n_d += 1
    if n_d - start > 1:
        order = np.argsort(d_keys[start:n_d])
        d_keys[start:n_d] = d_keys[start:n_d][order]
        d_vals[start:n_d] = d_vals[start:n_d][order]
    return d_keys, d_vals, n_d


@njit(cache=True)
def trace_kernel(syms, wstart, wlen, wcount, ma, mb, mc):
    """Apply merges ``(ma[t], mb[t]) -> mc[t]`` in order to the words; see the module docstring.

    ``syms`` (int64, flat, modified in place), ``wstart``/``wlen`` (int64, ``wlen`` modified),
    ``wcount`` (int64, ``(n_words, R)``). Returns ``(init_keys, init_vals, merged, d_off, d_keys,
    d_vals)``: the pair counts before any merge, the count of each merged pair at its step
    ``(T, R)``, and per step ``t`` the changes ``d_keys[d_off[t]:d_off[t+1]]`` with their
    ``d_vals`` rows (non-zero, sorted by key).
    """
    R = wcount.shape[1]
    T = ma.shape[0]
    total = 0
    for w in range(wlen.shape[0]):
        total += wlen[w]
    cap, shift = _table_size(total)
    keys, head, stamp = np.full(cap, EMPTY, np.int64), np.full(cap, EMPTY, np.int64), np.full(cap, EMPTY, np.int64)
    vals, old = np.zeros((cap, R), np.int64), np.zeros((cap, R), np.int64)
    node_w = np.empty(max(total, 16), np.int64)
    node_n = np.empty(max(total, 16), np.int64)
    used, n_nodes = _count_initial_pairs(syms, wstart, wlen, wcount, keys, vals, head, shift, node_w, node_n)
    init_keys, init_vals = _sorted_pairs(keys, vals)

    merged = np.zeros((T, R), np.int64)
    d_off = np.zeros(T + 1, np.int64)
    d_keys = np.empty(1024, np.int64)
    d_vals = np.zeros((1024, R), np.int64)
    n_d = 0
    wstamp = np.full(wlen.shape[0], EMPTY, np.int64)
    words = np.empty(1024, np.int64)
    touched = np.empty(1024, np.int64)
    for t in range(T):
        d_off[t] = n_d
        s = slot(keys, (ma[t] << 32) | mb[t], shift)
        if keys[s] == EMPTY:
            d_off[t + 1] = n_d
            continue
        for r in range(R):
            merged[t, r] = vals[s, r]
        words, n_w, bound = _words_listed(s, head, node_w, node_n, wstamp, t, words, wlen)
        if 2 * (used + bound + 1) > keys.shape[0]:
            keys, vals, head, old, stamp, shift = _rehashed(keys, vals, head, old, stamp, shift, 2 * (used + bound + 1))
        node_w = grow(node_w, n_nodes + bound + 1)
        node_n = grow(node_n, n_nodes + bound + 1)
        touched = grow(touched, 2 * bound + 2)
        n_t, n_nodes, used = _retrace_words(words, n_w, ma[t], mb[t], mc[t], t, syms, wstart, wlen, wcount, keys,
                                            vals, head, old, stamp, shift, touched, node_w, node_n, n_nodes, used)
        d_keys, d_vals, n_d = _record_changes(keys, vals, old, touched, n_t, d_keys, d_vals, n_d)
        d_off[t + 1] = n_d
    return init_keys, init_vals, merged, d_off, d_keys[:n_d].copy(), d_vals[:n_d].copy()


# ----------------------------------------------------------------------------- LP sweep
#
# The sweep's heap holds ``(-E(p), p)``: a min-heap on -E is the max-heap on E of the paper.


@njit(cache=True, inline="always")
def _push_pair(neg, pairs, size, value, p):
    """Push pair ``p`` with weight ``value``, growing the heap arrays; returns them and the size."""
    neg = grow(neg, size + 1)
    pairs = grow(pairs, size + 1)
    neg[size] = -value
    pairs[size] = p
    return neg, pairs, push(neg, None, pairs, size)


@njit(cache=True)
def _heap_of_positive(W, E, neg, pairs):
    """A fresh heap of every pair with a positive weight, keyed by ``E``."""
    size = 0
    for p in range(W.shape[0]):
        if W[p] > 0:
            neg, pairs, size = _push_pair(neg, pairs, size, E[p], p)
    return neg, pairs, size


@njit(cache=True, inline="always")
def _pop_violators(neg, pairs, size, E, seen, t, threshold, k_add, pop_v, pop_p):
    """Pop up to ``k_add`` distinct pairs whose ``E`` exceeds ``threshold`` (stale and duplicate
    entries are dropped on the way); returns ``(size, how many)``."""
    n_pop = 0
    while size > 0 and n_pop < k_add:
        v = -neg[0]
        p = pairs[0]
        if v != E[p] or seen[p] == t:  # stale or duplicate entry
            size = pop(neg, None, pairs, size)
            continue
        if v <= threshold:
            break
        size = pop(neg, None, pairs, size)
        seen[p] = t
        pop_v[n_pop] = v
        pop_p[n_pop] = p
        n_pop += 1
    return size, n_pop


@njit(cache=True, inline="always")
def _counts_of(p, cat_off, loc_glob, cur, out_row):
    """Each category's current count of global pair ``p`` (0 where it has none)."""
    for i in range(out_row.shape[0]):
        lo = cat_off[i]
        hi = cat_off[i + 1]
        k = lo + np.searchsorted(loc_glob[lo:hi], p)
        out_row[i] = cur[k] if k < hi and loc_glob[k] == p else 0


@njit(cache=True, inline="always")
def _apply_step(t, cat_off, loc_glob, d_off, d_loc, d_val, scale, cur, W, E, vp, neg, pairs, size):
    """Apply every category's step-``t`` changes to the counts and weights, pushing each changed
    pair that still has a positive weight; returns the heap."""
    for i in range(scale.shape[0]):
        base = cat_off[i]
        for q in range(d_off[i, t], d_off[i, t + 1]):
            loc = base + d_loc[q]
            cur[loc] += d_val[q]
            p = loc_glob[loc]
            W[p] += scale[i] * d_val[q]
            E[p] = W[p] - vp[p]
            if W[p] > 0:
                neg, pairs, size = _push_pair(neg, pairs, size, E[p], p)
    return neg, pairs, size


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
    W = np.zeros(n_pairs, np.float64)
    cur = init_cnt.copy()
    for i in range(n):
        for q in range(cat_off[i], cat_off[i + 1]):
            W[loc_glob[q]] += scale[i] * cur[q]
    E = W - vp[:n_pairs]
    neg, pairs, size = _heap_of_positive(W, E, np.empty(n_pairs + 16, np.float64), np.empty(n_pairs + 16, np.int64))
    out_t = np.empty(1024, np.int64)
    out_p = np.empty(1024, np.int64)
    out_v = np.empty(1024, np.float64)
    out_c = np.zeros((1024, n), np.int64)
    n_out = 0
    seen = np.full(n_pairs, EMPTY, np.int64)
    pop_v = np.empty(max(k_add, 1), np.float64)
    pop_p = np.empty(max(k_add, 1), np.int64)
    for t in range(min(merged_glob.shape[0], t_end)):
        m = merged_glob[t]
        mw = W[m] if m >= 0 else 0.0
        size, n_pop = _pop_violators(neg, pairs, size, E, seen, t, mw + vt[t] + tol, k_add, pop_v, pop_p)
        out_t, out_p = grow(out_t, n_out + n_pop), grow(out_p, n_out + n_pop)
        out_v, out_c = grow(out_v, n_out + n_pop), grow(out_c, n_out + n_pop)
        for q in range(n_pop):
            p = pop_p[q]
            neg, pairs, size = _push_pair(neg, pairs, size, pop_v[q], p)
            if p == m:  # cannot happen (E[m] <= mw); kept for safety with odd inputs
                continue
            out_t[n_out], out_p[n_out], out_v[n_out] = t, p, pop_v[q] - mw - vt[t]
            _counts_of(p, cat_off, loc_glob, cur, out_c[n_out])
            n_out += 1
        neg, pairs, size = _apply_step(t, cat_off, loc_glob, d_off, d_loc, d_val, scale, cur, W, E, vp, neg, pairs,
                                       size)
        if size > 4 * n_pairs + 4096:  # drop stale entries
            neg, pairs, size = _heap_of_positive(W, E, neg, pairs)
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
            _counts_of(query_p[q], cat_off, loc_glob, cur, out[q])
            q += 1
        if t == T:
            break
        for i in range(n_cat):
            base = cat_off[i]
            for k in range(d_off[i, t], d_off[i, t + 1]):
                cur[base + d_loc[k]] += d_val[k]
    return out
