"""Reading corpus files: transparent gzip, UTF-8 decoding under ``strict``/``replace``, lines.

Every loader reads through these helpers so that one file is decoded the same way whichever
spec named it: gzip by suffix, a leading BOM dropped, invalid UTF-8 either an
:class:`~tokbench.errors.EncodingError` naming the byte offset and line (``errors="strict"``) or
U+FFFD with the number of replacements counted (``errors="replace"``), and lines split on
``"\\n"`` only, so FLORES files stay line-aligned.

Example:
    >>> text, replaced = decode_utf8(b"caf\\xc3\\xa9 \\xff", source="demo", errors="replace")
    >>> text == "café \\ufffd", replaced
    (True, 1)
    >>> split_lines("one\\r\\ntwo\\n")
    ['one', 'two']
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from ..errors import CorpusError, EncodingError

__all__ = [
    "Errors",
    "REPLACE_HINT",
    "decode_utf8",
    "file_stem",
    "json_lines",
    "looks_binary",
    "missing_path_error",
    "read_bytes",
    "split_lines",
]

Errors = Literal["strict", "replace"]

REPLACE_HINT = 'fix the file, or load it with errors="replace" (spec option ?errors=replace) to substitute U+FFFD'


def missing_path_error(path: Path, what: str = "file", hint: str | None = None) -> CorpusError:
    """The error for a path that does not exist (returned, so the caller raises it)."""
    hint = hint or f"check the path (relative paths are resolved from {Path.cwd()})"
    return CorpusError(f"{path}: no such {what}; {hint}")


def read_bytes(path: Path) -> bytes:
    """The bytes of a file, gunzipped when its name ends in ``.gz``."""
    if not path.exists():
        raise missing_path_error(path)
    if path.is_dir():
        raise CorpusError(
            f"{path}: is a folder, not a file; use text:{path} for a folder of text files"
        )
    try:
        data = path.read_bytes()
        # Transparent gzip so that large JSONL/text corpora can stay compressed on disk.
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except (OSError, EOFError, zlib.error) as err:
        raise CorpusError(f"{path}: cannot read ({err}); check the file") from err


def decode_utf8(data: bytes, *, source: str | Path, errors: Errors) -> tuple[str, int]:
    """UTF-8 text of ``data`` and the number of U+FFFD replacements made."""
    if errors not in ("strict", "replace"):
        raise CorpusError(f'errors must be "strict" or "replace", got {errors!r}')
    try:
        text = data.decode("utf-8")
        replaced = 0
    except UnicodeDecodeError as err:
        if errors == "strict":
            line = data.count(b"\n", 0, err.start) + 1
            raise EncodingError(
                f"{source}: invalid UTF-8 at byte offset {err.start} (line {line}: {err.reason}); "
                f"{REPLACE_HINT}"
            ) from None
        text = data.decode("utf-8", errors="replace")
        # U+FFFD already present in the file (EF BF BD) is text, not a replacement.
        replaced = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    # A BOM is an editor artefact, not text; left in, it would become a token of the first line.
    return text.removeprefix("\ufeff"), replaced


def split_lines(text: str) -> list[str]:
    """Lines of ``text`` without their ``"\\n"``/``"\\r\\n"``; a final newline adds no line."""
    # Split on "\n" only: str.splitlines() would also split on U+2028, form feeds and other
    # separators that occur inside real sentences, breaking FLORES line alignment.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.removesuffix("\r") for ln in lines]


def json_lines(
    lines: Iterable[str],
    *,
    source: str | Path,
    error: Callable[[str], Exception] = CorpusError,
    shape: str = "one JSON object",
) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for each non-blank JSONL line; bad JSON raises ``error``.

    ``shape`` completes the message "each line must be ..." so that callers with their own
    record format (CharBench answers) say what they expect.

    Example:
        >>> list(json_lines(['{"a": 1}', "", "[2]"], source="demo"))
        [(1, {'a': 1}), (3, [2])]
    """
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            raise error(
                f"{source}:{lineno}: not valid JSON ({err.msg}); each line must be {shape}"
            ) from None
        yield lineno, value


def file_stem(path: Path) -> str:
    """The category name a file gives: ``python.jsonl.gz`` -> ``python``."""
    # The compression suffix is not part of the name.
    return Path(path.name.removesuffix(".gz")).stem or path.name


def looks_binary(data: bytes) -> bool:
    """Whether a file holds NUL bytes in its first 8 KiB (text never does)."""
    return b"\x00" in data[:8192]
