"""One binary heap for numba kernels, on parallel numpy arrays (Williams 1964; CLRS ch. 6).

An entry is the same index in three arrays: ``major`` and ``minor`` keys and a ``payload``. It
is the textbook min-heap on the key ``(major, minor)``: entry ``i`` leaves before ``j`` when
``(major[i], minor[i]) < (major[j], minor[j])``; comparisons are strict, so equal entries never
swap. ``minor`` may be ``None``: numba then compiles a heap on ``major`` alone (the test on
``None`` is decided at compile time and costs nothing).

The three heaps tokbench needs differ only in their keys, so each maps its order onto this one:

* the BPE trainer pops the largest count, ties to the smaller pair (HF's ``Ord for Merge``):
  ``major = ~count`` (as ``uint64``, which reverses the order exactly), ``minor = pair``,
  ``payload = segment``;
* the mixture sweep pops the largest violation: ``major = -violation``, ``payload = pair``;
* merge-list encoding pops the lowest ``rank << 32 | position``: ``major`` is that key,
  ``payload`` the merge-table slot.

(An order passed as a numba function, or the arrays as one tuple, would be more general, but
numba cannot cache kernels that pass functions around as values, and a tuple of arrays made
merge-list encoding nearly 2x slower.) Arrays are never grown here: the caller makes
room, writes the new entry at index ``size`` and calls :func:`push`.

Example:
    >>> import numpy as np
    >>> keys, payload = np.array([5.0, 1.0, 3.0, 0.0]), np.arange(4)
    >>> heapify(keys, None, payload, 3)
    >>> keys[3], payload[3] = 2.0, 9
    >>> size = push(keys, None, payload, 3)
    >>> popped = []
    >>> while size:
    ...     popped.append(int(payload[0]))
    ...     size = pop(keys, None, payload, size)
    >>> popped
    [1, 9, 2, 0]
"""

from __future__ import annotations

from numba import njit

__all__ = ["before", "swap", "sift_up", "sift_down", "push", "pop", "heapify"]


@njit(cache=True, inline="always")
def before(major, minor, i, j):
    """Entry ``i`` leaves the heap before entry ``j``."""
    if minor is None:
        return major[i] < major[j]
    # (Spelled with ``!=`` first: the same test as one ``or``/``and`` expression runs 3x slower.)
    if major[i] != major[j]:
        return major[i] < major[j]
    return minor[i] < minor[j]


@njit(cache=True, inline="always")
def _exchange(column, i, j):
    held = column[i]
    column[i] = column[j]
    column[j] = held


@njit(cache=True, inline="always")
def swap(major, minor, payload, i, j):
    """Exchange entries ``i`` and ``j``."""
    _exchange(major, i, j)
    if minor is not None:
        _exchange(minor, i, j)
    _exchange(payload, i, j)


@njit(cache=True)
def sift_up(major, minor, payload, i):
    """Move entry ``i`` up while it leaves before its parent."""
    while i > 0:
        parent = (i - 1) >> 1
        if not before(major, minor, i, parent):
            return
        swap(major, minor, payload, i, parent)
        i = parent


@njit(cache=True)
def sift_down(major, minor, payload, i, size):
    """Move entry ``i`` down while a child leaves before it (the left child on ties)."""
    while True:
        child = 2 * i + 1
        if child >= size:
            return
        if child + 1 < size and before(major, minor, child + 1, child):
            child += 1
        if not before(major, minor, child, i):
            return
        swap(major, minor, payload, i, child)
        i = child


@njit(cache=True)
def push(major, minor, payload, size):
    """Add the entry the caller wrote at index ``size``; returns the new size."""
    sift_up(major, minor, payload, size)
    return size + 1


@njit(cache=True)
def pop(major, minor, payload, size):
    """Remove the top entry (the last one takes its place); returns the new size."""
    size -= 1
    if size > 0:
        major[0] = major[size]
        if minor is not None:
            minor[0] = minor[size]
        payload[0] = payload[size]
        sift_down(major, minor, payload, 0, size)
    return size


@njit(cache=True)
def heapify(major, minor, payload, size):
    """Order the first ``size`` entries into a heap (Floyd's bottom-up construction)."""
    for i in range(size // 2 - 1, -1, -1):
        sift_down(major, minor, payload, i, size)
