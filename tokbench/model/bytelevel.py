"""GPT-2's reversible byte-to-unicode table, used by every byte-level HF tokenizer file.

Byte-level BPE files store each token's bytes as printable characters: printable Latin-1 bytes
map to themselves and the rest to code points from U+0100 upward (so a space is ``Ġ``).
tokbench keeps vocabularies as raw ``bytes`` and uses this table only at the file boundary.

Example:
    >>> BYTE_TO_UNICODE[ord(" ")]
    'Ġ'
    >>> unicode_to_bytes("Ġworld")
    b' world'
"""

from __future__ import annotations

__all__ = ["BYTE_TO_UNICODE", "UNICODE_TO_BYTE", "bytes_to_unicode", "unicode_to_bytes"]


def _build_table() -> dict[int, str]:
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


BYTE_TO_UNICODE: dict[int, str] = _build_table()
UNICODE_TO_BYTE: dict[str, int] = {c: b for b, c in BYTE_TO_UNICODE.items()}


def bytes_to_unicode(data: bytes) -> str:
    """Spell raw bytes in the byte-level alphabet."""
    return "".join(BYTE_TO_UNICODE[b] for b in data)


def unicode_to_bytes(token: str) -> bytes:
    """Undo :func:`bytes_to_unicode`; raises ``KeyError`` on a character outside the table."""
    return bytes(UNICODE_TO_BYTE[c] for c in token)
