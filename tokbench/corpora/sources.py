"""Document sources read a block at a time: text files, folders, JSONL, the bundled sample, ``datasets``.

A source yields ``(category, document)`` records without holding its file: a text or JSONL file
is read in blocks of about ``block_bytes`` that end at a line boundary, each decoded and split on
its own, so memory is one block however large the file. The documents are exactly those of the
in-memory loaders (:mod:`.loaders`): same lines, BOM dropped, ``"\\r\\n"`` handled, blank lines
dropped where they drop them, U+FFFD under ``errors="replace"``.

An uncompressed file can also be cut into byte ranges that start at line starts
(:meth:`FileSource.ranges`), so worker processes read their own ranges (a path and two offsets
per task) instead of receiving the text.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "news.txt"
    >>> _ = path.write_text("one\\n\\ntwo\\r\\nthree\\n")
    >>> src = FileSource(str(path), "lines", category="news")
    >>> [doc for _, doc in src.records()]
    ['one', 'two', 'three']
    >>> [doc for r in src.ranges(5) for _, doc in src.records(*r)]
    ['one', 'two', 'three']
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import CorpusError, EncodingError
from .reading import Errors, decode_utf8, looks_binary, read_bytes, split_lines

__all__ = ["BLOCK_BYTES", "FileSource", "FolderSource", "MemorySource", "HFSource", "Source", "line_blocks"]

#: Bytes read at a time from a file (a block is extended to the end of its last line).
BLOCK_BYTES = 1 << 20

FileKind = Literal["lines", "lines-keep-blank", "jsonl"]


def line_blocks(path: Path, start: int = 0, end: int | None = None,
                block_bytes: int = BLOCK_BYTES) -> Iterator[tuple[int, bytes]]:
    """``(offset, bytes)`` blocks of ``path[start:end]``, each ending just after a ``"\\n"`` (or
    at ``end``); ``.gz`` files are decompressed as they are read (whole file only)."""
    gz = path.name.endswith(".gz")
    if gz and (start or end is not None):
        raise CorpusError(f"{path}: a gzip file cannot be read from an offset; read it whole")
    try:
        handle = gzip.open(path, "rb") if gz else open(path, "rb")  # noqa: SIM115 (closed below)
    except OSError as err:
        raise CorpusError(f"{path}: cannot read ({err}); check the file") from err
    with handle:
        if not gz:
            handle.seek(start)
        offset = start
        carry = b""
        while True:
            want = block_bytes if end is None else min(block_bytes, end - offset - len(carry))
            try:
                data = handle.read(want) if want > 0 else b""
            except (OSError, EOFError) as err:
                raise CorpusError(f"{path}: cannot read ({err}); check the file") from err
            block = carry + data
            if not data:
                if block:
                    yield offset, block
                return
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # a line longer than the block: keep reading it
                carry = block
                continue
            yield offset, block[:cut]
            offset += cut
            carry = block[cut:]


def _decoded(path: Path, offset: int, block: bytes, errors: Errors) -> tuple[str, int]:
    source = path if offset == 0 else f"{path} (the block from byte {offset})"
    text, replaced = decode_utf8(block, source=source, errors=errors)
    if offset != 0 and block.startswith(b"\xef\xbb\xbf"):  # only the file's first BOM is dropped
        text = "\ufeff" + text
    return text, replaced


@dataclass(frozen=True)
class FileSource:
    """One text or JSONL file read in blocks.

    ``kind``: ``"lines"`` (a document per non-blank line, :func:`~.loaders.load_text`),
    ``"lines-keep-blank"`` (every line, as FLORES), or ``"jsonl"`` (the string in ``field`` of
    each object; the category is ``category``, or each record's ``category_field``).
    """

    path: str
    kind: FileKind
    category: str | None = None
    field: str = "text"
    category_field: str | None = None
    errors: Errors = "strict"

    @property
    def categories(self) -> tuple[str, ...] | None:
        """The categories, when known before reading (not with ``category_field``)."""
        return None if self.category_field is not None else (str(self.category),)

    @property
    def splittable(self) -> bool:
        """Whether :meth:`ranges` can cut it (uncompressed, category known without reading)."""
        return not self.path.endswith(".gz")

    def ranges(self, range_bytes: int) -> list[tuple[int, int]]:
        """Byte ranges of about ``range_bytes`` covering the file, each starting at a line start."""
        path = Path(self.path)
        size = path.stat().st_size
        bounds = [0]
        with open(path, "rb") as handle:
            while bounds[-1] + range_bytes < size:
                handle.seek(bounds[-1] + range_bytes)
                handle.readline()
                if handle.tell() >= size:
                    break
                bounds.append(handle.tell())
        bounds.append(size)
        return [(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]

    def records(self, start: int = 0, end: int | None = None,
                replaced: list[int] | None = None) -> Iterator[tuple[str, str]]:
        """``(category, document)`` for the lines in ``[start, end)`` (the whole file by default);
        U+FFFD replacements are added to ``replaced[0]`` when a list is given."""
        path = Path(self.path)
        if not path.is_file():
            read_bytes(path)  # raises the loaders' message for a missing path or a folder
        default = str(self.category)
        for offset, block in line_blocks(path, start, end):
            text, n = _decoded(path, offset, block, self.errors)
            if replaced is not None:
                replaced[0] += n
            lines = split_lines(text)
            if self.kind == "jsonl":
                yield from self._jsonl(lines, default, where=f"{path}" + (f" (from byte {offset})" if offset else ""))
            elif self.kind == "lines":
                yield from ((default, ln) for ln in lines if ln.strip())
            else:
                yield from ((default, ln) for ln in lines)

    def _jsonl(self, lines: list[str], default: str, *, where: str) -> Iterator[tuple[str, str]]:
        from .loaders import jsonl_document

        for lineno, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise CorpusError(f"{where}:{lineno}: not valid JSON ({err.msg}); each line must be one JSON object") from None
            doc = jsonl_document(obj, self.field, where=f"{where}:{lineno}")
            if self.category_field is None:
                yield default, doc
            elif self.category_field not in obj:
                raise CorpusError(f"{where}:{lineno}: no category field {self.category_field!r}")
            else:
                yield str(obj[self.category_field]), doc


@dataclass(frozen=True)
class FolderSource:
    """Every file below a folder (sorted, hidden ones skipped), a document per file or per line."""

    path: str
    category: str
    per: Literal["line", "file"] = "file"
    errors: Errors = "strict"

    @property
    def categories(self) -> tuple[str, ...]:
        return (self.category,)

    splittable = False

    def records(self, replaced: list[int] | None = None) -> Iterator[tuple[str, str]]:
        from .loaders import folder_files, text_documents

        folder = Path(self.path)
        for f in folder_files(folder):
            if self.per == "line":
                with open(f, "rb") as handle:
                    binary = looks_binary(handle.read(8192))
            else:
                data = read_bytes(f)
                binary = looks_binary(data)
            if binary:
                if self.errors == "strict":
                    raise EncodingError(
                        f"{f}: binary file (NUL bytes) in a text folder; remove it, or pass "
                        'errors="replace" (spec option ?errors=replace) to skip binary files')
                continue
            if self.per == "line":
                yield from FileSource(str(f), "lines", category=self.category, errors=self.errors).records(
                    replaced=replaced)
                continue
            text, n = decode_utf8(data, source=f, errors=self.errors)
            if replaced is not None:
                replaced[0] += n
            yield from ((self.category, d) for d in text_documents(text, "file"))


@dataclass(frozen=True)
class MemorySource:
    """Documents already in memory (the bundled sample, a :class:`~.corpus.Corpus`)."""

    corpus: Any

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(self.corpus.category_names)

    splittable = False

    def records(self, replaced: list[int] | None = None) -> Iterator[tuple[str, str]]:
        if replaced is not None:
            replaced[0] += self.corpus.replaced_chars
        for cat, docs in self.corpus:
            yield from ((cat, d) for d in docs)


@dataclass(frozen=True)
class HFSource:
    """One text column of a ``datasets`` source opened with ``streaming=True`` (Parquet, JSON,
    CSV or Hub datasets: rows arrive in batches, never the whole table)."""

    name: str
    category: str
    options: tuple[tuple[str, Any], ...] = ()
    errors: Errors = "strict"

    @property
    def categories(self) -> tuple[str, ...]:
        return (self.category,)

    splittable = False

    def records(self, replaced: list[int] | None = None) -> Iterator[tuple[str, str]]:
        from .hf_datasets import iter_hf_documents

        counter = replaced if replaced is not None else [0]
        for doc in iter_hf_documents(self.name, errors=self.errors, replaced=counter, **dict(self.options)):
            yield self.category, doc


Source = FileSource | FolderSource | MemorySource | HFSource
