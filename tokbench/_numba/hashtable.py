"""Open-addressing hash tables over numpy arrays, shared by numba kernels.

Keys are non-negative int64 values in an array whose empty slots hold :data:`EMPTY`; the
capacity is a power of two, ``2 ** (64 - shift)``, and Fibonacci hashing picks the first slot
(multiply by 2^64/φ, keep the top bits; Knuth, TAOCP vol. 3, 6.4), linear probing the rest.
Values live in parallel arrays that the caller owns, indexed by slot: :func:`rehash` moves the
keys into a larger table and says where each slot went, :func:`carry` moves a value array the
same way. The BPE trainer's pair and string tables, the mixture attack's pair-count traces and
the merge-free encoders' byte trie and merge table all use it.

Example:
    >>> import numpy as np
    >>> keys = np.full(8, EMPTY, np.int64)
    >>> i = slot(keys, np.int64(42), 61)   # capacity 8 = 2 ** (64 - 61)
    >>> keys[i] = 42
    >>> slot(keys, np.int64(42), 61) == i, find(keys, np.int64(7), 61)
    (True, -1)
    >>> bigger, shift, moved_to = rehash(keys, 61, 16)
    >>> bigger.shape[0], shift, int(bigger[moved_to[i]])
    (16, 60, 42)
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EMPTY", "FIBONACCI", "first_slot", "slot", "find", "shift_of", "rehash", "carry"]

EMPTY = np.int64(-1)
#: 2^64 / φ, Knuth's multiplicative hashing constant.
FIBONACCI = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, inline="always")
def first_slot(hashed, shift):
    """Where probing starts for a 64-bit value (a key, or a hash of something larger)."""
    return np.int64((np.uint64(hashed) * FIBONACCI) >> np.uint64(shift))


@njit(cache=True)
def slot(keys, key, shift):
    """The slot holding ``key``, or the empty slot where it would go."""
    mask = keys.shape[0] - 1
    i = first_slot(key, shift)
    while True:
        k = keys[i]
        if k == key or k == EMPTY:
            return i
        i = (i + 1) & mask


@njit(cache=True, inline="always")
def find(keys, key, shift):
    """The slot holding ``key``, or -1 when it is absent."""
    i = slot(keys, key, shift)
    return i if keys[i] == key else -1


def shift_of(capacity: int) -> int:
    """The ``shift`` of a power-of-two ``capacity``."""
    if capacity < 2 or capacity & (capacity - 1):
        raise ValueError(f"a hash table's capacity must be a power of two >= 2, got {capacity}")
    return 64 - (capacity.bit_length() - 1)


@njit(cache=True)
def rehash(keys, shift, min_capacity):
    """The keys in a table doubled until it holds ``min_capacity`` slots.

    Returns ``(new_keys, new_shift, moved_to)``: ``moved_to[i]`` is the new slot of old slot
    ``i`` (-1 for empty slots), for :func:`carry`.
    """
    capacity = keys.shape[0]
    new_shift = shift
    while capacity < min_capacity:
        capacity *= 2
        new_shift -= 1
    new_keys = np.full(capacity, EMPTY, np.int64)
    moved_to = np.full(keys.shape[0], EMPTY, np.int64)
    for i in range(keys.shape[0]):
        k = keys[i]
        if k != EMPTY:
            j = slot(new_keys, k, new_shift)
            new_keys[j] = k
            moved_to[i] = j
    return new_keys, new_shift, moved_to


@njit(cache=True)
def carry(values, moved_to, capacity, fill):
    """A value array (1-D, or 2-D with one row per slot) laid out for the rehashed table."""
    out = np.full((capacity,) + values.shape[1:], fill, values.dtype)
    for i in range(moved_to.shape[0]):
        j = moved_to[i]
        if j != EMPTY:
            out[j] = values[i]
    return out
