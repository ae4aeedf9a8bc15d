"""Streaming corpora: the documents a corpus spec names, read once and never held.

:func:`stream_corpus` takes the same spec strings as :func:`~tokbench.corpora.load_corpus` and
returns a :class:`CorpusStream`, whose :meth:`~CorpusStream.iter_documents` reads the files a
block at a time (:mod:`.sources`): memory is a block, not the corpus. Every loader streams: text
files and folders, JSONL (``.gz`` too), FLORES-200 and the shared code, ``hf:`` sources
(``datasets`` in streaming mode, which reads Parquet in row batches) and the bundled sample
(small, held). Without ``max_bytes`` the stream yields exactly the documents of
``load_corpus(spec)``, and :meth:`~CorpusStream.signature` equals its signature (two passes).

Byte-budget sampling on a stream (``?max_bytes=``) is *seeded hashing*: every document gets a
priority ``blake2b(seed, index)`` (with the category too for a whole-corpus budget), and the
sample is the longest run of documents in priority order whose sizes fit the budget, kept in
their original order; a max-heap of at most the budget's bytes finds it in one pass. Like the
in-memory sample, parallel FLORES categories visit the same line indices, and a first document
that alone exceeds the budget is cut to fit; unlike it, a document that does not fit ends the
sample instead of being skipped, so the two rules pick different (equally sized) samples.

Example:
    >>> from tokbench.corpora import load_corpus
    >>> stream = stream_corpus("sample:eng_Latn,python")
    >>> stream.category_names
    ['eng_Latn', 'python']
    >>> sum(1 for _ in stream.iter_documents()) == load_corpus("sample:eng_Latn,python").n_documents()
    True
    >>> small = stream_corpus("sample:eng_Latn?max_bytes=2k&seed=1")
    >>> sum(len(d.encode()) for d in small.iter_documents()) <= 2000
    True
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from .corpus import Corpus, check_unique_names
from .reading import Errors, file_stem, missing_path_error
from .sources import FileSource, FolderSource, HFSource, MemorySource, Source
from .spec import CorpusSpec, is_jsonl_path, parse_corpus_spec

__all__ = ["CorpusStream", "StreamPart", "ReadTask", "stream_corpus", "read_task", "document_priority",
           "sample_records"]


@dataclass(frozen=True)
class StreamPart:
    """One ``+``-separated part of a spec: its sources, ``NAME=``, sample and FLORES split."""

    text: str
    sources: tuple[Source, ...]
    rename: str | None = None
    max_bytes: int | None = None
    seed: int | None = None
    per_category: bool | None = None
    split: str | None = None
    aligned: bool = False

    def records(self, replaced: list[int] | None = None) -> Iterator[tuple[str, str]]:
        """``(category, document)`` of the part, renamed and sampled; checked as loaders check."""
        raw = self._checked(replaced)
        if self.rename is not None:
            raw = ((self.rename, d) for _, d in raw)
        if self.max_bytes is None:
            return raw
        return sample_records(raw, max_bytes=self.max_bytes, seed=self.seed or 0,
                              per_category=bool(self.per_category), where=self.text)

    def _checked(self, replaced: list[int] | None) -> Iterator[tuple[str, str]]:
        counts: dict[str, int] = {}
        nonblank: set[str] = set()
        known = [s.categories for s in self.sources]
        if self.rename is not None and (None in known or len({c for cats in known for c in cats or ()}) != 1):
            raise CorpusError(f"{self.text}: a name applies to one category; split it into one spec per category")
        for source in self.sources:
            for cat, doc in source.records(replaced=replaced):
                counts[cat] = counts.get(cat, 0) + 1
                if cat not in nonblank and doc:
                    nonblank.add(cat)
                yield cat, doc
        for cat in [c for s in self.sources for c in (s.categories or ())] + list(counts):
            if cat not in nonblank:
                raise CorpusError(f"{self.text}: category {cat!r} is empty; check the file or spec, or leave it out")
        if self.aligned and len(set(counts.values())) > 1:
            raise CorpusError(f"{self.text}: FLORES files are not line-aligned ({counts}); re-fetch the damaged ones")


@dataclass(frozen=True)
class ReadTask:
    """What one worker reads: a byte range of a file, or a bounded list of texts."""

    source: FileSource | None = None
    start: int = 0
    end: int | None = None
    texts: tuple[str, ...] = ()


def read_task(task: ReadTask) -> Iterator[str]:
    """The documents of one :class:`ReadTask` (run in a worker process)."""
    if task.source is None:
        return iter(task.texts)
    return (doc for _, doc in task.source.records(task.start, task.end))


class CorpusStream:
    """A corpus read from its files each time it is iterated; never held in memory.

    ``iter_documents()`` and ``iter_records()`` make one pass; :meth:`signature` makes two (it
    needs each category's size before its hash) and is cached; :meth:`to_corpus` loads it.
    """

    def __init__(self, name: str, parts: Iterable[StreamPart]):
        self.name = name
        self.parts = tuple(parts)
        if not self.parts:
            raise CorpusError(f"corpus {name!r}: nothing to stream; give at least one spec")
        known = [n for p in self.parts for n in self._part_names(p) or ()]
        check_unique_names(known, where=f"corpus {name!r}", hint="rename one with NAME=SPEC or ?name=NAME")

    def __repr__(self) -> str:
        return f"CorpusStream({self.name!r}, parts={len(self.parts)})"

    @staticmethod
    def _part_names(part: StreamPart) -> list[str] | None:
        if part.rename is not None:
            return [part.rename]
        names: dict[str, None] = {}
        for source in part.sources:
            if source.categories is None:
                return None
            names.update(dict.fromkeys(source.categories))
        return list(names)

    @property
    def category_names(self) -> list[str]:
        """Category names in order (a pass over a JSONL part with ``category_field``)."""
        names: list[str] = []
        for part in self.parts:
            found = self._part_names(part)
            names += found if found is not None else list(dict.fromkeys(c for c, _ in part.records()))
        return names

    def iter_records(self, replaced: list[int] | None = None) -> Iterator[tuple[str, str]]:
        """``(category, document)`` for every document, part by part, in file order."""
        for part in self.parts:
            yield from part.records(replaced)

    def iter_documents(self, category: str | None = None) -> Iterator[str]:
        """Every document (of one category, when given), one at a time."""
        for cat, doc in self.iter_records():
            if category is None or cat == category:
                yield doc

    def read_tasks(self, range_bytes: int, *, spread: int = 1) -> Iterator[ReadTask]:
        """The stream cut into tasks for worker processes: byte ranges of the plain files a part
        reads unsampled and without alignment checks, and text batches of about ``range_bytes``
        characters for the rest (read here, in order).

        A worker reads its range a block at a time, so a range may be large: ranges are at least
        ``range_bytes`` and at least a ``spread``-th of the part's files, so that ``spread`` tasks
        (a few per worker) cover it and few tables come back to be merged.
        """
        for part in self.parts:
            files = [s for s in part.sources if isinstance(s, FileSource) and s.splittable]
            if part.max_bytes is None and not part.aligned and len(files) == len(part.sources):
                size = sum(Path(f.path).stat().st_size for f in files)
                step = max(range_bytes, -(-size // max(spread, 1)))
                for source in files:
                    for start, end in source.ranges(step):
                        yield ReadTask(source=source, start=start, end=end)
                continue
            yield from text_batches((doc for _, doc in part.records()), range_bytes)

    @cached_property
    def _signature(self) -> dict[str, Any]:
        sizes: dict[str, list[int]] = {}
        replaced = [0]
        for cat, doc in self.iter_records(replaced):
            entry = sizes.setdefault(cat, [0, 0])
            entry[0] += 1
            entry[1] += len(doc.encode("utf-8"))
        return {"sizes": sizes, "sha256": self._content_hash(sizes), "replaced": replaced[0]}

    def _content_hash(self, sizes: dict[str, list[int]]) -> str:
        """:attr:`Corpus.content_hash` computed from a second pass (categories must come in runs;
        a file that interleaves them is read once per category)."""
        digest = hashlib.sha256()
        current: str | None = None
        done: set[str] = set()
        for cat, doc in self.iter_records():
            if cat != current:
                if cat in done:
                    return self._content_hash_per_category(sizes)
                if current is not None:
                    done.add(current)
                current = cat
                name = cat.encode("utf-8")
                digest.update(b"C%d:" % len(name) + name + b"N%d;" % sizes[cat][0])
            data = doc.encode("utf-8")
            digest.update(b"D%d:" % len(data) + data)
        return digest.hexdigest()

    def _content_hash_per_category(self, sizes: dict[str, list[int]]) -> str:
        digest = hashlib.sha256()
        for cat, (n, _) in sizes.items():
            name = cat.encode("utf-8")
            digest.update(b"C%d:" % len(name) + name + b"N%d;" % n)
            for data in (d.encode("utf-8") for d in self.iter_documents(cat)):
                digest.update(b"D%d:" % len(data) + data)
        return digest.hexdigest()

    def n_bytes(self, category: str | None = None) -> int:
        """UTF-8 size of one category or of the whole stream (from the cached signature pass)."""
        sizes = self._signature["sizes"]
        if category is None:
            return sum(b for _, b in sizes.values())
        if category not in sizes:
            raise CorpusError(f"stream {self.name!r} has no category {category!r}; it has {', '.join(sizes)}")
        return int(sizes[category][1])

    def signature(self) -> dict[str, Any]:
        """The signature ``load_corpus(spec).signature()`` gives for the same spec (two passes)."""
        from .. import __version__

        sig = self._signature
        sizes = sig["sizes"]

        def agreed(attr: str) -> Any:
            values = {getattr(p, attr) for p in self.parts}
            return values.pop() if len(values) == 1 else None

        return {
            "corpus": self.name, "categories": list(sizes),
            "documents": {c: n for c, (n, _) in sizes.items()}, "bytes": {c: b for c, (_, b) in sizes.items()},
            "total_documents": sum(n for n, _ in sizes.values()), "total_bytes": sum(b for _, b in sizes.values()),
            "sha256": sig["sha256"], "split": agreed("split"), "max_bytes": agreed("max_bytes"),
            "seed": agreed("seed"), "per_category": agreed("per_category"), "replaced_chars": sig["replaced"],
            "tokbench_version": __version__,
        }

    def description(self) -> dict[str, Any]:
        """A cheap signature: the spec, the files read (name, size and sha256 of their bytes) and
        the sample — one fast pass over the raw bytes, where :meth:`signature` decodes every
        document twice. What a training result records about a stream.

        Example:
            >>> d = stream_corpus("sample:python").description()
            >>> d["corpus"], d["streamed"], len(d["sources"])
            ('sample:python', True, 1)
        """
        from .. import __version__

        sources: list[dict[str, Any]] = []
        for part in self.parts:
            for source in part.sources:
                sources.append(_describe(source))
        return {"corpus": self.name, "streamed": True, "sources": sources,
                "file_bytes": sum(int(s.get("bytes", 0)) for s in sources),
                "samples": [[p.max_bytes, p.seed, p.per_category] for p in self.parts if p.max_bytes is not None],
                "tokbench_version": __version__}

    def to_corpus(self) -> Corpus:
        """The stream loaded into a :class:`Corpus` (for code that needs random access)."""
        categories: dict[str, list[str]] = {}
        for cat, doc in self.iter_records():
            categories.setdefault(cat, []).append(doc)
        return Corpus(self.name, categories)


def _file_digest(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _describe(source: Source) -> dict[str, Any]:
    """One source for :meth:`CorpusStream.description` (file names only: no machine paths)."""
    if isinstance(source, FileSource):
        return {"kind": source.kind, "category": source.category, "field": source.field,
                "category_field": source.category_field, **_file_digest(Path(source.path))}
    if isinstance(source, FolderSource):
        from .loaders import folder_files

        folder = Path(source.path)
        files = [{**_file_digest(f), "file": f.relative_to(folder).as_posix()} for f in folder_files(folder)]
        return {"kind": f"folder per {source.per}", "category": source.category, "files": files,
                "bytes": sum(f["bytes"] for f in files)}
    if isinstance(source, MemorySource):
        return {"kind": "memory", "categories": list(source.categories), "sha256": source.corpus.content_hash}
    return {"kind": "datasets", "name": source.name, "category": source.category,
            "options": {k: v for k, v in source.options}}


def text_batches(texts: Iterable[str], batch_chars: int) -> Iterator[ReadTask]:
    """Texts grouped into tasks of about ``batch_chars`` characters (a longer text is its own)."""
    batch: list[str] = []
    size = 0
    for text in texts:
        batch.append(text)
        size += len(text)
        if size >= batch_chars:
            yield ReadTask(texts=tuple(batch))
            batch, size = [], 0
    if batch:
        yield ReadTask(texts=tuple(batch))


# ------------------------------------------------------------------------------------ sampling


def document_priority(seed: int, index: int, category: int | None = None) -> int:
    """The seeded priority of a document: a 64-bit hash of (seed, [category,] index).

    Example:
        >>> document_priority(0, 5) == document_priority(0, 5) != document_priority(1, 5)
        True
    """
    key = f"{seed}:{index}" if category is None else f"{seed}:{category}:{index}"
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def sample_records(records: Iterable[tuple[str, str]], *, max_bytes: int, seed: int, per_category: bool = True,
                   where: str = "stream") -> Iterator[tuple[str, str]]:
    """The seeded byte-budget sample of a stream of ``(category, document)`` records (see the
    module docstring): one pass, memory bounded by the budget (per category, or in all)."""
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise CorpusError(f"max_bytes must be a positive integer, got {max_bytes!r}")
    heaps: dict[str, list[tuple[int, int, int, str, str]]] = {}   # (-priority, position, size, category, doc)
    totals: dict[str, int] = {}
    firsts: dict[str, tuple[int, int, str, str]] = {}   # the lowest priority seen: (priority, position, cat, doc)
    order: dict[str, int] = {}
    index: dict[str, int] = {}
    for position, (cat, doc) in enumerate(records):
        k = order.setdefault(cat, len(order))
        i = index.get(cat, 0)
        index[cat] = i + 1
        # Per category the key leaves the category out, so aligned FLORES languages keep the same lines.
        prio = document_priority(seed, i) if per_category else document_priority(seed, i, k)
        key = cat if per_category else ""
        size = len(doc.encode("utf-8"))
        if key not in firsts or prio < firsts[key][0]:
            firsts[key] = (prio, position, cat, doc)
        heap = heaps.setdefault(key, [])
        heapq.heappush(heap, (-prio, position, size, cat, doc))
        totals[key] = totals.get(key, 0) + size
        while totals[key] > max_bytes:     # drop the highest priorities until the run fits
            totals[key] -= heapq.heappop(heap)[2]
    chosen: list[tuple[int, int, str, str]] = []
    for key, heap in heaps.items():
        if heap:
            chosen += [(order[cat], pos, cat, doc) for _, pos, _, cat, doc in heap]
        else:  # the first document alone is over budget: cut it at a character boundary
            _, pos, cat, doc = firsts[key]
            head = doc.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
            if head:
                chosen.append((order[cat], pos, cat, head))
    chosen.sort()
    starved = sorted(set(order) - {cat for _, _, cat, _ in chosen}, key=order.__getitem__)
    if starved:
        budget = f"max_bytes={max_bytes}" if per_category else f"a whole-corpus budget of {max_bytes} bytes"
        raise CorpusError(f"{where}: {budget} left categories {', '.join(starved)} empty; raise max_bytes"
                          + ("" if per_category else " or sample per category"))
    for _, _, cat, doc in chosen:
        yield cat, doc


# ------------------------------------------------------------------------------------ specs


def _path_sources(s: CorpusSpec, errors: Errors) -> tuple[Source, ...]:
    """A bare path, ``text:`` or ``jsonl:`` part as sources (as :mod:`.spec` reads them)."""
    path = Path(s.target).expanduser()
    if not path.exists():
        raise missing_path_error(path, "file or folder", "check the path, or use a prefix such as flores:, code:, hf:")
    o = s.options
    if s.kind == "jsonl" or (s.kind == "path" and path.is_file() and is_jsonl_path(path)):
        return (FileSource(str(path), "jsonl", category=None if o.get("category_field") else file_stem(path),
                           field=o.get("field", "text"), category_field=o.get("category_field"), errors=errors),)
    if path.is_dir():
        return (FolderSource(str(path), path.resolve().name, per=o.get("per", "file"), errors=errors),)
    if o.get("per") == "file":   # one document: the whole file, read as the loader does
        from .loaders import load_text

        return (MemorySource(load_text(path, per="file", errors=errors)),)
    return (FileSource(str(path), "lines", category=file_stem(path), errors=errors),)


def _part(s: CorpusSpec, default_errors: Errors) -> StreamPart:
    from .hf_datasets import hf_category
    from .loaders import code_files, flores_files, load_sample

    errors = s.options.get("errors", default_errors)
    o = s.options
    split = None
    aligned = False
    if s.kind == "flores":
        split = o.get("split", "devtest")
        files = flores_files(s.target, split=split, flores_dir=o.get("dir"))
        sources: tuple[Source, ...] = tuple(FileSource(str(f), "lines-keep-blank", category=code, errors=errors)
                                            for code, paths in files.items() for f in paths)
        aligned = True
    elif s.kind == "code":
        sources = tuple(FileSource(str(p), "jsonl", category=n, errors=errors)
                        for n, p in code_files(s.target, code_dir=o.get("dir")).items())
    elif s.kind == "sample":
        sources = (MemorySource(load_sample(s.target or "all", errors=errors)),)
    elif s.kind == "hf":
        keys = ("config", "split", "field", "data_files", "max_documents")
        options = tuple((k, o[k]) for k in keys if k in o)
        sources = (HFSource(s.target, hf_category(s.target, o.get("data_files")), options, errors),)
        split = o.get("split", "train")
    else:
        sources = _path_sources(s, errors)
    if "max_bytes" not in o and ("seed" in o or "per_category" in o):
        raise CorpusError(f"{s.text}: seed=/per_category= only apply with max_bytes=N; add it")
    sampled = "max_bytes" in o
    return StreamPart(text=s.text.strip(), sources=sources, rename=s.rename, max_bytes=o.get("max_bytes"),
                      seed=o.get("seed", 0) if sampled else None,
                      per_category=o.get("per_category", True) if sampled else None, split=split, aligned=aligned)


def stream_corpus(spec: str | Corpus | CorpusStream, *, errors: Errors = "strict") -> CorpusStream:
    """A :class:`CorpusStream` of a corpus spec (the grammar of :func:`load_corpus`); a
    ``Corpus`` or a stream given is wrapped or returned as is.

    Example:
        >>> stream_corpus("sample:python").category_names
        ['python']
    """
    if isinstance(spec, CorpusStream):
        return spec
    if isinstance(spec, Corpus):
        return CorpusStream(spec.name, [StreamPart(text=spec.name, sources=(MemorySource(spec),))])
    return CorpusStream(spec.strip(), [_part(p, errors) for p in parse_corpus_spec(spec)])

