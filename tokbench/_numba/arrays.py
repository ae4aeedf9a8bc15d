"""Growable numpy arrays for numba kernels: reallocate by doubling, keep the filled part.

Kernels size their arrays from upper bounds before a loop and call :func:`grow` there, so inner
loops never check capacity. One function serves every dtype and both 1-D arrays and 2-D tables
(rows grow, columns stay); numba compiles one copy per array type.

Example:
    >>> import numpy as np
    >>> a = grow(np.arange(3), 5)
    >>> a.shape[0] >= 16 and a[:3].tolist() == [0, 1, 2]
    True
    >>> grow(a, 4) is a
    True
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["grow", "grow_filled"]


@njit(cache=True)
def grow(arr, need):
    """``arr`` itself if it holds ``need`` rows, else a copy with room for at least twice as many
    (and 16); the new rows are uninitialised."""
    if arr.shape[0] >= need:
        return arr
    out = np.empty((max(arr.shape[0] * 2, need, 16),) + arr.shape[1:], arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@njit(cache=True)
def grow_filled(arr, need, fill):
    """:func:`grow`, with the new rows set to ``fill``."""
    if arr.shape[0] >= need:
        return arr
    old = arr.shape[0]
    out = grow(arr, need)
    out[old:] = fill
    return out
