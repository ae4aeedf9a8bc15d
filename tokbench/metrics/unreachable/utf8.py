"""Which byte strings can occur inside valid UTF-8 text, and how to complete a partial one.

A byte-level BPE token is a byte string; text (a Python ``str``) always encodes to well-formed
UTF-8 (Unicode Table 3-7), so a token whose bytes are not a *factor* (a contiguous piece) of
some well-formed UTF-8 string can never be produced by any text: it is ``undecodable``. The
table, by lead byte (``..`` = inclusive range; every trailing byte 80..BF unless shown):

====================  ====================
00..7F                (one byte)
C2..DF                80..BF
E0                    A0..BF, 80..BF
E1..EC, EE..EF        80..BF, 80..BF
ED                    80..9F, 80..BF   (no surrogates)
F0                    90..BF, 80..BF, 80..BF
F1..F3                80..BF x 3
F4                    80..8F, 80..BF, 80..BF
====================  ====================

C0, C1 and F5..FF never occur. A factor may begin with at most three continuation bytes (the
tail of a character: F1..F3 accept any continuation bytes, so any 1-3 of them are a valid tail)
and may end inside a character if the bytes present are a valid prefix of one.

Example:
    >>> utf8_factor_problem(b"\\xe4\\xbd"), utf8_factor_problem(b"\\xc0\\x80")
    (None, 'byte 0xC0 never occurs in UTF-8')
    >>> [c for c in prefix_completions(b"\\xc3", limit=3)]
    ['À', 'Á', 'Â']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

__all__ = ["utf8_factor_problem", "split_partial", "prefix_completions", "suffix_completions"]

_CONT = range(0x80, 0xC0)


def _ranges(lead: int) -> list[range] | None:
    """The allowed ranges of the bytes after ``lead`` (``[]`` for ASCII; None: never a lead)."""
    if lead < 0x80:
        return []
    if 0xC2 <= lead <= 0xDF:
        return [_CONT]
    if lead == 0xE0:
        return [range(0xA0, 0xC0), _CONT]
    if 0xE1 <= lead <= 0xEF:
        return [range(0x80, 0xA0) if lead == 0xED else _CONT, _CONT]
    if lead == 0xF0:
        return [range(0x90, 0xC0), _CONT, _CONT]
    if 0xF1 <= lead <= 0xF3:
        return [_CONT, _CONT, _CONT]
    if lead == 0xF4:
        return [range(0x80, 0x90), _CONT, _CONT]
    return None


def utf8_factor_problem(data: bytes) -> str | None:
    """``None`` if ``data`` occurs inside some well-formed UTF-8 string; else why not."""
    bad = next((b for b in data if b in (0xC0, 0xC1) or b >= 0xF5), None)
    if bad is not None:
        return f"byte 0x{bad:02X} never occurs in UTF-8"
    k = 0
    while k < len(data) and data[k] in _CONT:
        k += 1
    if k > 3:
        return f"{k} continuation bytes in a row (a character has at most 3)"
    i = k
    while i < len(data):
        ranges = _ranges(data[i])
        if ranges is None:  # pragma: no cover - continuation bytes are handled below
            return f"byte 0x{data[i]:02X} cannot start a character"
        for j, allowed in enumerate(ranges, start=1):
            if i + j >= len(data):
                return None  # the text continues the character after the token
            if data[i + j] not in allowed:
                return (f"byte 0x{data[i + j]:02X} cannot follow 0x{data[i]:02X}"
                        + (" here" if j > 1 else "") + " in UTF-8")
        i += len(ranges) + 1
        if i < len(data) and data[i] in _CONT:
            return f"continuation byte 0x{data[i]:02X} after a complete character"
    return None


def split_partial(data: bytes) -> tuple[bytes, bytes, bytes]:
    """``(head, body, tail)``: leading continuation bytes, whole characters, trailing partial character.

    Only meaningful when :func:`utf8_factor_problem` is None.

    Example:
        >>> split_partial(b"\\xbdab\\xe4")
        (b'\\xbd', b'ab', b'\\xe4')
    """
    k = 0
    while k < len(data) and data[k] in _CONT:
        k += 1
    i = k
    while i < len(data):
        need = len(_ranges(data[i]) or [])
        if i + need >= len(data):
            break
        i += need + 1
    return data[:k], data[k:i], data[i:]


def prefix_completions(tail: bytes, *, limit: int | None = None) -> Iterator[str]:
    """Characters whose UTF-8 starts with ``tail`` (a lead byte and maybe some continuations)."""
    if not tail:
        yield ""
        return
    ranges = _ranges(tail[0]) or []
    if any(b not in allowed for b, allowed in zip(tail[1:], ranges, strict=False)):
        return
    rest = itertools.product(*ranges[len(tail) - 1 :])
    for k, more in enumerate(rest):
        if limit is not None and k >= limit:
            return
        yield (tail + bytes(more)).decode("utf-8")


_LEADS = [lead for lead in range(0xC2, 0xF5)]


def suffix_completions(head: bytes, *, limit: int | None = None) -> Iterator[str]:
    """Characters whose UTF-8 ends with ``head`` (1-3 continuation bytes) and is longer."""
    if not head:
        yield ""
        return
    n = 0
    for lead in _LEADS:
        ranges = _ranges(lead) or []
        missing = len(ranges) - len(head)
        if missing < 0:
            continue
        if any(b not in allowed for b, allowed in zip(head, ranges[missing:], strict=True)):
            continue
        for middle in _middles(ranges[:missing]):
            yield (bytes([lead]) + middle + head).decode("utf-8")
            n += 1
            if limit is not None and n >= limit:
                return


def _middles(ranges: list[range]) -> Iterator[bytes]:
    if not ranges:
        yield b""
        return
    for b in ranges[0]:
        for rest in _middles(ranges[1:]):
            yield bytes([b]) + rest
