"""The numba splitter for GPT-style pretokenizer patterns (see the package docstring).

Text arrives as UTF-8 bytes; the kernel decodes code points as it goes and looks each up in a
table of character classes built from the ``regex`` module itself, so that ``\\p{L}``, ``\\p{N}``
and ``\\s`` mean exactly what they mean there. Every supported pattern is an alternation tried
in order at each position (regex alternation takes the first alternative that matches, not the
longest); each alternative below returns the byte position where its match ends, or -1.

Example:
    >>> import numpy as np
    >>> from tokbench.model.compiled_split import class_table, case_fold_table
    >>> data = np.frombuffer("Hello world".encode(), np.uint8)
    >>> bounds = np.empty(data.shape[0] + 1, np.int64)
    >>> n = split_bytes(data, class_table(), case_fold_table(), GPT2_PARAMS, bounds)
    >>> bounds[:n + 1].tolist()
    [0, 5, 11]
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["LETTER", "NUMBER", "SPACE", "NEWLINE", "split_bytes", "split_batch", "GPT2_PARAMS"]

# Bits of the class table (one uint8 per code point).
LETTER = 1  # \p{L}
NUMBER = 2  # \p{N}
SPACE = 4  # \s
NEWLINE = 8  # \r or \n

# Indices into the params array that selects the pattern's alternatives.
P_CONTRACTION = 0  # 0: none, 1: case-sensitive 's|'t|'re|'ve|'m|'ll|'d, 2: case-insensitive
P_LETTER_PREFIX = 1  # 0: " ?\p{L}+", 1: "[^\r\n\p{L}\p{N}]?\p{L}+"
P_NUMBERS = 2  # 0: " ?\p{N}+", 1: "\p{N}", 3: "\p{N}{1,3}"
P_PUNCT_NEWLINES = 3  # 1: " ?[^\s\p{L}\p{N}]+[\r\n]*", 0: without the trailing newlines
P_SPACE_TO_END = 4  # 1: the alternative "\s++$" comes before the newline and lookahead ones
P_SPACE_NEWLINE = 5  # 1: "\s*[\r\n]" (or "\s*[\r\n]+", the same here)
P_LAST_SPACE = 6  # 0: "\s+", 1: "\s"

#: GPT-2's pattern: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
GPT2_PARAMS = np.array([1, 0, 0, 0, 0, 0, 0], dtype=np.int64)


@njit(cache=True, inline="always")
def _decode(data, i):
    """Code point at byte ``i`` of valid UTF-8 and the byte after it."""
    b = data[i]
    if b < 0x80:
        return np.int64(b), i + 1
    if b < 0xE0:
        return (np.int64(b & 0x1F) << 6) | (data[i + 1] & 0x3F), i + 2
    if b < 0xF0:
        return (np.int64(b & 0x0F) << 12) | (np.int64(data[i + 1] & 0x3F) << 6) | (data[i + 2] & 0x3F), i + 3
    return ((np.int64(b & 0x07) << 18) | (np.int64(data[i + 1] & 0x3F) << 12)
            | (np.int64(data[i + 2] & 0x3F) << 6) | (data[i + 3] & 0x3F)), i + 4


@njit(cache=True)
def _letter(data, i, n, fold, insensitive):
    """The character at ``i`` as a lowercase ASCII letter code when it is one of the contraction
    letters (case-folded when ``insensitive``), else -1; and the byte after it."""
    if i >= n:
        return -1, i
    cp, nxt = _decode(data, i)
    if insensitive:
        return (np.int64(fold[cp]) if cp < fold.shape[0] else -1), nxt
    return (cp if 0x61 <= cp <= 0x7A else -1), nxt


@njit(cache=True)
def _contraction(data, i, n, fold, insensitive):
    """'s 't 're 've 'm 'll 'd (any case when ``insensitive``): the end, or -1."""
    if data[i] != 0x27:
        return -1
    a, j = _letter(data, i + 1, n, fold, insensitive)
    if a == 0x73 or a == 0x64 or a == 0x6D or a == 0x74:  # s d m t
        return j
    b, k = _letter(data, j, n, fold, insensitive)
    if (a == 0x6C and b == 0x6C) or (a == 0x76 and b == 0x65) or (a == 0x72 and b == 0x65):  # ll ve re
        return k
    return -1


@njit(cache=True)
def _count_run(data, i, n, table, bit, max_count):
    """End of at most ``max_count`` (all when 0) characters of class ``bit`` from ``i``."""
    count = 0
    while i < n and (max_count == 0 or count < max_count):
        b = data[i]
        if b < 0x80:
            if not table[b] & bit:
                break
            i += 1
        else:
            cp, nxt = _decode(data, i)
            if not table[cp] & bit:
                break
            i = nxt
        count += 1
    return i


@njit(cache=True)
def _punctuation_run(data, i, n, table, newlines):
    r"""``[^\s\p{L}\p{N}]+`` from ``i`` (a punctuation character), then ``[\r\n]*`` when
    ``newlines``."""
    other = SPACE | LETTER | NUMBER
    while i < n:
        cp, nxt = _decode(data, i)
        if table[cp] & other:
            break
        i = nxt
    if newlines:
        while i < n and (data[i] == 0x0A or data[i] == 0x0D):
            i += 1
    return i


@njit(cache=True)
def _spaces(data, i, n, table, params):
    """The whitespace alternatives, in the pattern's order, at a whitespace character."""
    end = i
    last_start = i  # start of the run's last character
    last_newline_end = -1
    while end < n:
        cp, nxt = _decode(data, end)
        if not table[cp] & SPACE:
            break
        if cp == 0x0A or cp == 0x0D:
            last_newline_end = nxt
        last_start = end
        end = nxt
    if params[P_SPACE_TO_END] and end == n:  # \s++$
        return end
    if params[P_SPACE_NEWLINE] and last_newline_end > 0:  # \s*[\r\n]: backtrack to the last one
        return last_newline_end
    if end == n:  # \s+(?!\S) at the end of the text
        return end
    if last_start > i:  # \s+(?!\S): give the last space back to the next piece
        return last_start
    if params[P_LAST_SPACE]:  # \s
        _, nxt = _decode(data, i)
        return nxt
    return end  # \s+


@njit(cache=True)
def _piece_end(data, i, n, table, fold, params):
    """End of the piece starting at byte ``i``: the first alternative that matches.

    The first character decides which alternatives can match, so each is tried only where it
    could; the order among those that can is the pattern's (contraction, letters, numbers,
    punctuation, whitespace).
    """
    cp, j = _decode(data, i)
    cls = table[cp]
    if cls & LETTER:
        return _count_run(data, j, n, table, LETTER, 0)
    numbers = params[P_NUMBERS]
    if cls & NUMBER:  # "\p{N}+", "\p{N}" or "\p{N}{1,3}"
        if numbers == 1:
            return j
        return _count_run(data, j, n, table, NUMBER, 0 if numbers == 0 else numbers - 1)
    if cp == 0x27 and params[P_CONTRACTION]:
        end = _contraction(data, i, n, fold, params[P_CONTRACTION] == 2)
        if end > 0:
            return end
    # What follows the first character decides the prefixed alternatives.
    ncls = np.uint8(0)
    k = j
    if j < n:
        ncp, k = _decode(data, j)
        ncls = table[ncp]
    if ncls & LETTER:  # " ?\p{L}+" or "[^\r\n\p{L}\p{N}]?\p{L}+"
        if cp == 0x20 or (params[P_LETTER_PREFIX] == 1 and not cls & NEWLINE):
            return _count_run(data, k, n, table, LETTER, 0)
    if cp == 0x20 and ncls & NUMBER and numbers == 0:  # " ?\p{N}+"
        return _count_run(data, k, n, table, NUMBER, 0)
    other = SPACE | LETTER | NUMBER
    if not cls & other:  # "[^\s\p{L}\p{N}]+"
        return _punctuation_run(data, i, n, table, params[P_PUNCT_NEWLINES] == 1)
    if cp == 0x20 and j < n and not ncls & other:  # " [^\s\p{L}\p{N}]+"
        return _punctuation_run(data, j, n, table, params[P_PUNCT_NEWLINES] == 1)
    return _spaces(data, i, n, table, params)


@njit(cache=True)
def split_bytes(data, table, fold, params, bounds):
    """Write the piece boundaries of one text (UTF-8 ``data``) to ``bounds``: piece k is
    ``data[bounds[k]:bounds[k + 1]]``. Returns the number of pieces."""
    n = data.shape[0]
    i = 0
    k = 0
    bounds[0] = 0
    while i < n:
        i = _piece_end(data, i, n, table, fold, params)
        k += 1
        bounds[k] = i
    return k


@njit(cache=True)
def split_batch(data, text_offsets, table, fold, params, bounds, text_pieces):
    """Split many texts stored back to back (text t is ``data[text_offsets[t]:text_offsets[t+1]]``;
    no piece crosses a text boundary). ``bounds`` gets every piece boundary, absolute, and
    ``text_pieces[t]`` the index in ``bounds`` of text t's first boundary. Returns the number of
    pieces."""
    k = 0
    for t in range(text_offsets.shape[0] - 1):
        text_pieces[t] = k
        start = text_offsets[t]
        n = text_offsets[t + 1]
        bounds[k] = start
        i = start
        while i < n:
            i = _piece_end(data, i, n, table, fold, params)
            k += 1
            bounds[k] = i
    text_pieces[text_offsets.shape[0] - 1] = k
    return k
