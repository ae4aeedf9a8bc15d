"""Readable twins of the kernels in :mod:`tokbench.model._kernels` (DESIGN convention 4).

Each function here is the plain-Python statement of what a numba kernel computes, kept for
reading and for the tests that check the two agree (``tests/test_native_unigram.py``). They are
slow and never called on the encoding path. The Viterbi kernel's twin is
:meth:`tokbench.model.unigram.UnigramModel.segment`.

Example:
    >>> sp_normalize_reference(b"  a  b ", units=[], strings=b"", user_defined=[])
    b'\\xe2\\x96\\x81a\\xe2\\x96\\x81b'
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["darts_longest_reference", "normalize_prefix_reference", "sp_normalize_reference"]

#: sentencepiece's ``kMaxTrieResultsSize``.
MAX_TRIE_RESULTS = 32
SPACE_MARK = "\u2581".encode()


def _offset(unit: int) -> int:
    return (unit >> 10) << ((unit & 512) >> 6)


def darts_longest_reference(units: Sequence[int], key: bytes) -> tuple[int, int] | None:
    """``(length, value)`` of the longest of the first 32 trie keys that prefix ``key``, or
    None. Darts' ``commonPrefixSearch``: from the root, the child labelled ``c`` of the node at
    ``pos`` is at ``pos ^ offset ^ c``; it exists when its unit's label (low byte and bit 31) is
    ``c``; bit 8 says a key ends there, and its value is the unit at ``pos ^ offset``.

    Raises IndexError when the trie points outside itself (:func:`tokbench.model._kernels.sp_normalize`
    returns ``DAMAGED``).
    """
    if not units:
        return None
    best = None
    found = 0
    node = _offset(units[0])
    for i, byte in enumerate(key):
        node ^= byte
        unit = units[node]
        if unit & 0x800000FF != byte:
            break
        node ^= _offset(unit)
        if unit >> 8 & 1:
            if found < MAX_TRIE_RESULTS:
                best = (i + 1, units[node] & 0x7FFFFFFF)
            found += 1
    return best


def normalize_prefix_reference(text: bytes, units: Sequence[int], strings: bytes,
                               user_defined: Sequence[bytes]) -> tuple[bytes, int]:
    """sentencepiece's ``NormalizePrefix``: (normalized chunk, bytes consumed) at the start of
    valid UTF-8 ``text``. The longest user-defined piece is kept as is; else the longest charsmap
    rule is replaced by its NUL-terminated string; else one character is copied."""
    user = max((len(u) for u in user_defined if u and text.startswith(u)), default=0)
    if user:
        return text[:user], user
    match = darts_longest_reference(units, text)
    if match is not None:
        length, value = match
        if value >= len(strings):
            raise IndexError("charsmap value outside the strings")
        end = strings.find(b"\0", value)
        return strings[value:end if end >= 0 else len(strings)], length
    lead = text[0]
    width = 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    return text[:width], min(width, len(text))


def sp_normalize_reference(text: bytes, *, units: Sequence[int], strings: bytes, user_defined: Sequence[bytes],
                           add_dummy_prefix: bool = True, remove_extra: bool = True, escape: bool = True) -> bytes:
    """sentencepiece's ``Normalizer::Normalize`` on UTF-8 bytes, chunk by chunk (the twin of
    :func:`tokbench.model._kernels.sp_normalize`)."""
    pos = 0
    if remove_extra:
        while pos < len(text):
            chunk, consumed = normalize_prefix_reference(text[pos:], units, strings, user_defined)
            if chunk != b" ":
                break
            pos += consumed
    if pos == len(text):
        return b""
    space = SPACE_MARK if escape else b" "
    out = bytearray(space if add_dummy_prefix else b"")
    prev_space = remove_extra
    while pos < len(text):
        chunk, consumed = normalize_prefix_reference(text[pos:], units, strings, user_defined)
        if prev_space:
            chunk = chunk.lstrip(b" ")
        if chunk:
            out += chunk.replace(b" ", SPACE_MARK) if escape else chunk
            prev_space = chunk.endswith(b" ")
        pos += consumed
        if not remove_extra:
            prev_space = False
    # Trailing spaces go after escaping, so a literal ▁ at the end of the text goes too.
    while remove_extra and out.endswith(space):
        del out[-len(space):]
    return bytes(out)
