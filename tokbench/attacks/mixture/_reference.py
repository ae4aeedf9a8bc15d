"""Plain-Python twin of the pair-count trace kernel (:mod:`tokbench.attacks.mixture._kernels`).

Readable, slow, and checked equal to :func:`~tokbench.attacks.mixture._kernels.trace_kernel` by
the tests on small inputs (the naming scheme of every ``_kernels.py``: its twin is the
``_reference.py`` beside it). It applies each merge to every word that holds the pair and
records the merged pair's count before the merge and every pair count the merge changed.

Example:
    >>> out = trace_reference([[1, 2, 1, 2]], [3], [(1, 2, 5)])
    >>> out["merged"], out["deltas"][0][pair_key(5, 5)]
    ([6], 3)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from .traces import pair_key

__all__ = ["trace_reference"]


def trace_reference(words: Sequence[Sequence[int]], counts: Sequence[int],
                    merges: Sequence[tuple[int, int, int]]) -> dict[str, Any]:
    """Readable twin of the kernel for one count column: plain dicts and lists.

    Returns ``{"init": {key: count}, "merged": [count per step], "deltas": [{key: change}]}``.
    """
    seqs = [list(w) for w in words]
    pairs: Counter[int] = Counter()
    for w, n in zip(seqs, counts, strict=True):
        for x, y in zip(w, w[1:], strict=False):
            pairs[pair_key(x, y)] += n
    init = {k: v for k, v in pairs.items() if v}
    merged: list[int] = []
    deltas: list[dict[int, int]] = []
    for a, b, c in merges:
        merged.append(pairs.get(pair_key(a, b), 0))
        before = dict(pairs)
        for k, (w, n) in enumerate(zip(seqs, counts, strict=True)):
            if not any(x == a and y == b for x, y in zip(w, w[1:], strict=False)):
                continue
            for x, y in zip(w, w[1:], strict=False):
                pairs[pair_key(x, y)] -= n
            out: list[int] = []
            j = 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == a and w[j + 1] == b:
                    out.append(c)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            seqs[k] = w = out
            for x, y in zip(w, w[1:], strict=False):
                pairs[pair_key(x, y)] += n
        deltas.append({k: pairs.get(k, 0) - before.get(k, 0) for k in set(pairs) | set(before)
                       if pairs.get(k, 0) != before.get(k, 0)})
    return {"init": init, "merged": merged, "deltas": deltas}
