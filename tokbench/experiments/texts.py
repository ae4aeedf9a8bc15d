"""Content hashes of document lists: the part of a task's cache key that names the text it ran on.

An experiment's task carries its documents; its cache key must change when any document does,
and when documents are split differently (``["ab", "c"]`` is not ``["a", "bc"]``).

Example:
    >>> texts_sha256(["ab", "c"]) == texts_sha256(["a", "bc"])
    False
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["texts_sha256"]


def texts_sha256(texts: Iterable[str]) -> str:
    """sha256 over the texts' UTF-8 bytes, each prefixed by its length."""
    digest = hashlib.sha256()
    for text in texts:
        data = text.encode("utf-8")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()
