"""Open-addressing hash tables over numpy arrays, shared by numba kernels.

Keys are non-negative int64 values in an array whose empty slots hold :data:`EMPTY`; the
capacity is a power of two, ``2 ** (64 - shift)``, and Fibonacci hashing picks the first slot
(multiply by 2^64/φ, keep the top bits), linear probing the rest. The BPE trainer's pair table
and the mixture attack's pair-count traces both use it.

Example:
    >>> import numpy as np
    >>> keys = np.full(8, EMPTY, np.int64)
    >>> i = slot(keys, np.int64(42), 61)   # capacity 8 = 2 ** (64 - 61)
    >>> keys[i] = 42
    >>> slot(keys, np.int64(42), 61) == i
    True
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["EMPTY", "FIBONACCI", "slot"]

EMPTY = np.int64(-1)
#: 2^64 / φ, Knuth's multiplicative hashing constant.
FIBONACCI = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True)
def slot(keys, key, shift):
    """The slot holding ``key``, or the empty slot where it would go."""
    mask = keys.shape[0] - 1
    i = np.int64((np.uint64(key) * FIBONACCI) >> np.uint64(shift))
    while True:
        k = keys[i]
        if k == key or k == EMPTY:
            return i
        i = (i + 1) & mask
