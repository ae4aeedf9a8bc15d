"""The BPE merge engine that byte-level and character BPE both train with: the Python side of the
numba kernels in :mod:`tokbench.trainers._kernels` (HF ``BpeTrainer``'s algorithm, merge for merge).

:func:`run_bpe_kernel` takes words as symbol ids over an initial alphabet of *token units*
(bytes for byte-level BPE, code points for character BPE), sets up the kernels' arrays, runs
:func:`~tokbench.trainers._kernels.train_steps` a chunk of merges at a time (so that a progress bar
can move between chunks) and returns the merges with every token's units. The readable twin of
the whole engine is :func:`tokbench.trainers._reference.train_reference`; tests hold them equal.

Example:
    >>> import numpy as np
    >>> units = [(ord(c),) for c in "abc"]
    >>> words = (np.array([0, 1, 2, 0, 1], np.int32), np.array([3, 2]))   # "abc", "ab"
    >>> merges, tokens, stop = run_bpe_kernel(words, np.array([3, 2]), units, vocab_size=5)
    >>> merges.tolist(), tokens[3:]
    ([[0, 1, 3, 5], [3, 2, 4, 3]], [(97, 98), (97, 98, 99)])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["run_bpe_kernel"]

#: Merges run per kernel call between progress updates.
_CHUNK = 512


@dataclass
class _KernelRun:
    """The kernels' state between two :func:`~tokbench.trainers._kernels.train_steps` calls: the
    groups it reads (``fixed``) and those it may reallocate and return (``grown``)."""

    fixed: tuple[Any, ...]
    grown: tuple[Any, ...]
    scal: np.ndarray
    n_initial: int


def _token_arrays(token_units: Sequence[tuple[int, ...]], capacity: int) -> tuple[np.ndarray, ...]:
    """``(units, tok_off, tok_len, tok_hash, tok_pow)`` of the initial tokens, room for ``capacity``."""
    from . import _kernels as K

    n0 = len(token_units)
    flat_units = [u for t in token_units for u in t]
    units = np.empty(max(len(flat_units) * 2, 1024), np.int32)
    units[: len(flat_units)] = flat_units
    tok_off = np.zeros(capacity + 1, np.int64)
    tok_off[1 : n0 + 1] = np.cumsum([len(t) for t in token_units])
    tok_len = np.zeros(capacity, np.int64)
    tok_len[:n0] = [len(t) for t in token_units]
    tok_hash = np.zeros(capacity, np.uint64)
    tok_pow = np.ones(capacity, np.uint64)
    tok_hash[:n0], tok_pow[:n0] = K.token_hashes(units, tok_off, n0)
    return units, tok_off, tok_len, tok_hash, tok_pow


def _start(words: Any, counts: np.ndarray, token_units: Sequence[tuple[int, ...]], *, vocab_size: int,
           min_frequency: int, max_length: int | None, forced: Sequence[tuple[int, int]]) -> _KernelRun:
    """Count the initial pairs and lay out every array :func:`train_steps` needs."""
    from . import _kernels as K

    syms, lengths = words
    syms = np.ascontiguousarray(syms, dtype=np.int32)
    wlen = np.ascontiguousarray(lengths, dtype=np.int64).copy()
    wstart = np.zeros(len(wlen), np.int64)
    if len(wlen) > 1:
        np.cumsum(wlen[:-1], out=wstart[1:])
    wcount = np.ascontiguousarray(counts, dtype=np.int64)
    n0 = len(token_units)
    tokcap = max(vocab_size, n0 + len(forced)) + 2
    tokens = _token_arrays(token_units, tokcap)
    st_hash, st_ids, st_shift = K.build_string_table(tokens[0], tokens[1], tokens[3], n0, 2 * tokcap)
    (pt_keys, pt_cnt, pt_last, pt_shift, n_pairs, seg_start, seg_len, seg_next, pool, pool_used,
     h_key, h_pair, h_seg, heap_size) = K.count_pairs(syms, wstart, wlen, wcount)
    scal = np.zeros(K.N_SCAL, np.int64)
    for index, value in ((K.N_TOK, n0), (K.N_PAIRS, n_pairs), (K.PT_SHIFT, pt_shift), (K.N_SEG, n_pairs),
                         (K.POOL_USED, pool_used), (K.HEAP_SIZE, heap_size), (K.ST_SHIFT, st_shift)):
        scal[index] = value
    forced_arr = np.asarray(forced, dtype=np.int64).reshape(-1, 2)
    limit = np.int64(2**62) if max_length is None else np.int64(max_length)
    fixed = ((syms, wstart, wlen, wcount), (st_hash, st_ids),
             (np.full(len(wlen), -1, np.int64), np.full((2, tokcap), -1, np.int64), np.full((2, tokcap), -1, np.int64)),
             (np.ascontiguousarray(forced_arr[:, 0]), np.ascontiguousarray(forced_arr[:, 1])), scal,
             (np.int64(vocab_size), np.int64(min_frequency), limit, np.int64(_CHUNK)))
    grown = (tokens, (pt_keys, pt_cnt, pt_last), (seg_start, seg_len, seg_next, pool), (h_key, h_pair, h_seg),
             tuple(np.zeros(tokcap, np.int64) for _ in range(4)), tuple(np.zeros(1024, np.int64) for _ in range(6)))
    return _KernelRun(fixed, grown, scal, n0)


def run_bpe_kernel(
    words: Sequence[np.ndarray] | tuple[np.ndarray, np.ndarray],
    counts: np.ndarray,
    token_units: Sequence[tuple[int, ...]],
    *,
    vocab_size: int,
    min_frequency: int = 0,
    max_length: int | None = None,
    forced: Sequence[tuple[int, int]] = (),
    progress: bool = False,
    desc: str = "BPE merges",
) -> tuple[np.ndarray, list[tuple[int, ...]], int]:
    """Run the numba trainer on words given as ``(flat int32 symbols, lengths)``.

    Returns the merges as an ``(n, 4)`` int64 array of ``(a, b, new_id, count)``, every token's
    units by id, and the kernel's stop code. ``forced`` pairs are merged first, in order, whatever
    their counts (continuing a merge list); a pair counts only while its token stays shorter than
    ``max_length`` units. The symbols array is rewritten in place when it is already ``int32``.
    """
    from tqdm.auto import tqdm

    from . import _kernels as K

    run = _start(words, counts, token_units, vocab_size=vocab_size, min_frequency=min_frequency,
                 max_length=max_length, forced=forced)
    bar = tqdm(total=max(vocab_size - run.n_initial, 0), desc=desc, unit="tok", disable=not progress, leave=False)
    try:
        done = 0
        while run.scal[K.STOP] == K.RUNNING:
            run.grown = K.train_steps(*run.fixed, *run.grown)
            made = int(run.scal[K.N_TOK]) - run.n_initial
            bar.update(made - done)
            done = made
    finally:
        bar.close()
    n_merges = int(run.scal[K.N_MERGES])
    merges = np.stack([column[:n_merges] for column in run.grown[4]], axis=1)
    units, tok_off = run.grown[0][0], run.grown[0][1]
    tokens = [tuple(int(u) for u in units[tok_off[t] : tok_off[t + 1]]) for t in range(int(run.scal[K.N_TOK]))]
    return merges, tokens, int(run.scal[K.STOP])
