"""The kernel pieces in tokbench._numba (one heap, one hash table, growable arrays) against
their plain-Python meaning: heapq / sorted order, a dict, a list."""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tokbench._numba.arrays import grow, grow_filled
from tokbench._numba.hashtable import EMPTY, carry, find, rehash, shift_of, slot
from tokbench._numba.heap import heapify, pop, push, sift_down

KEYS = st.lists(st.tuples(st.integers(0, 20), st.integers(0, 1_000)), min_size=1, max_size=200, unique=True)


def _drain(major, minor, payload, size):  # type: ignore[no-untyped-def]
    out = []
    while size:
        out.append(int(payload[0]))
        size = pop(major, minor, payload, size)
    return out


@settings(max_examples=60, deadline=None)
@given(KEYS, st.booleans())
def test_heap_pops_in_key_order_like_heapq(entries, build_by_pushes):
    """(major, minor) keys leave smallest first; the BPE trainer's ~count keys reverse the count order."""
    n = len(entries)
    major = np.array([~np.uint64(c) for c, _ in entries], np.uint64)  # the trainer's largest count first
    minor = np.array([p for _, p in entries], np.int64)
    payload = np.arange(n, dtype=np.int64)
    if build_by_pushes:
        m2, n2, p2 = np.empty_like(major), np.empty_like(minor), np.empty_like(payload)
        size = 0
        for k in range(n):
            m2[size], n2[size], p2[size] = major[k], minor[k], payload[k]
            size = push(m2, n2, p2, size)
        major, minor, payload = m2, n2, p2
    else:
        heapify(major, minor, payload, n)
    expected = [k for _, _, k in sorted((-c, p, k) for k, (c, p) in enumerate(entries))]
    assert _drain(major, minor, payload, n) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=200))
def test_single_key_heap_matches_heapq_and_rekeys_the_top(values):
    keys = np.array(values, np.float64)
    payload = np.arange(len(values), dtype=np.int64)
    heapify(keys, None, payload, len(values))
    keys[0] = max(values) + 1.0  # a stale top, re-keyed and sifted down (the trainer's lazy heap)
    rekeyed = int(payload[0])
    sift_down(keys, None, payload, 0, len(values))
    popped = [float(keys[0])]
    size = pop(keys, None, payload, len(values))
    while size:
        popped.append(float(keys[0]))
        size = pop(keys, None, payload, size)
    reference = list(values)
    reference[rekeyed] = max(values) + 1.0
    heapq.heapify(reference)
    assert popped == [heapq.heappop(reference) for _ in range(len(values))]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 2**62), st.integers(-(2**40), 2**40), max_size=300))
def test_hash_table_rehash_and_carry_keep_every_value(table):
    keys = np.full(16, EMPTY, np.int64)
    values = np.zeros((16, 2), np.int64)
    shift = shift_of(16)
    for key, value in table.items():
        if 2 * (int((keys != EMPTY).sum()) + 1) > keys.shape[0]:
            keys, shift, moved_to = rehash(keys, shift, 2 * keys.shape[0])
            values = carry(values, moved_to, keys.shape[0], 0)
        i = slot(keys, np.int64(key), shift)
        keys[i] = key
        values[i] = (value, -value)
    assert keys.shape[0] == 2 ** (64 - shift)
    for key, value in table.items():
        i = find(keys, np.int64(key), shift)
        assert keys[i] == key and values[i].tolist() == [value, -value]
    assert find(keys, np.int64(2**62 + 1), shift) == -1


def test_grow_keeps_rows_and_fills_new_ones():
    table = np.arange(6, dtype=np.int64).reshape(3, 2)
    grown = grow(table, 5)
    assert grown.shape == (16, 2) and grown[:3].tolist() == table.tolist()
    assert grow(grown, 16) is grown
    filled = grow_filled(np.zeros(4, np.int32), 20, -1)
    assert filled.dtype == np.int32 and filled.shape == (20,)
    assert filled[:4].tolist() == [0] * 4 and (filled[4:] == -1).all()
