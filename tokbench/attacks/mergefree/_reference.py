"""Plain-Python twins of the segmentation kernels in :mod:`tokbench.attacks.mergefree._kernels`.

Readable versions of greedy longest-prefix and minimum-token segmentation over a vocabulary
given as ``{bytes: id}``; tests check the numba kernels against them. (Merge-list BPE's twin is
:func:`tokbench.model.bpe.apply_merges`.)

Example:
    >>> vocab = {b"a": 0, b"b": 1, b"ab": 2, b"abb": 3, b"bb": 4}
    >>> greedy(b"abbb", vocab), minimal(b"abbb", vocab)
    ([3, 1], [3, 1])
    >>> greedy(b"abbbb", vocab), minimal(b"abbbb", vocab)
    ([3, 4], [3, 4])
"""

from __future__ import annotations

__all__ = ["greedy", "minimal"]


def greedy(data: bytes, vocab: dict[bytes, int], *, max_len: int | None = None) -> list[int]:
    """Left to right, always the longest vocabulary prefix."""
    max_len = max_len or max(map(len, vocab))
    out: list[int] = []
    pos = 0
    while pos < len(data):
        for end in range(min(len(data), pos + max_len), pos, -1):
            token = vocab.get(data[pos:end])
            if token is not None:
                out.append(token)
                pos = end
                break
        else:
            raise ValueError(f"no token starts with byte {data[pos]:#04x} at {pos}")
    return out


def minimal(data: bytes, vocab: dict[bytes, int], *, max_len: int | None = None) -> list[int]:
    """Fewest tokens; ties go to the segmentation whose first token is longest, then the next."""
    max_len = max_len or max(map(len, vocab))
    n = len(data)
    best = [0] * (n + 1)
    step: list[tuple[int, int] | None] = [None] * (n + 1)
    for i in range(n - 1, -1, -1):
        best[i] = n + 1  # more than any segmentation can need
        for end in range(i + 1, min(n, i + max_len) + 1):
            token = vocab.get(data[i:end])
            if token is not None and best[end] + 1 <= best[i]:
                best[i] = best[end] + 1
                step[i] = (end, token)
    if n and step[0] is None:
        raise ValueError("the vocabulary cannot cover this input")
    out: list[int] = []
    pos = 0
    while pos < n:
        end, token = step[pos]  # type: ignore[misc]
        out.append(token)
        pos = end
    return out
