"""Per-category traces in worker processes or on a Dask cluster, from small tasks.

Hayase et al. (2024) trace 112 categories of 1 GB each; :meth:`TraceSet.from_corpus` runs them
through :func:`tokbench.executor.map` (local processes with ``jobs`` > 1, Dask with
``scheduler``). A :class:`TraceTask` carries only what a worker needs to rebuild its inputs:
the tokenizer's file (:class:`TokenizerRef`: path, format, pattern and fingerprint), the corpus
spec and one category name (:class:`CategoryRef`, with the in-memory sample and the sample's
hash when the caller holds the documents), the merge arrays, the seed. Never the documents and
never the ``Tokenizer`` object: a worker loads the tokenizer once per process and streams its
category from the files (:func:`category_documents`), so a 1 GB category is never held as text.
The trace cache works as in one process: the worker looks its category up and writes it.

Within one category, :func:`parallel_word_table` counts chunks of documents in ``jobs`` worker
processes and adds the chunk tables in order (:class:`~.traces.TableBuilder`): exactly the table
of one-shot counting. It is what :meth:`TraceSet.from_corpus` uses when there are fewer
categories than workers.

Example:
    >>> tasks = trace_tasks(tok, "flores:eng_Latn,fra_Latn", ml)        # doctest: +SKIP
    >>> traces = executor.map(run_trace_task, tasks, jobs=2)           # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import TokbenchError
from .merges import MergeList
from .traces import (
    CHUNK_DOCS,
    Documents,
    PairTrace,
    TableBuilder,
    WordTable,
    count_pieces,
    document_chunks,
    half_samples,
    sample_digest,
    symbolizer,
    trace_category,
)

if TYPE_CHECKING:  # pragma: no cover
    from ...corpora import CorpusStream
    from ...model.tokenizer import Tokenizer

__all__ = ["TokenizerRef", "tokenizer_ref", "load_ref", "CategoryRef", "category_refs", "category_stream",
           "category_documents", "TraceTask", "run_trace_task", "trace_tasks", "parallel_word_table",
           "count_chunk_task", "ChunkTask", "StreamCategories"]


# ------------------------------------------------------------------------------ tokenizers


@dataclass(frozen=True)
class TokenizerRef:
    """How a worker loads the tokenizer: its file and how it was read, and its fingerprint."""

    path: str
    format: str
    pattern: str | None
    name: str
    fingerprint: str


def tokenizer_ref(tok: Tokenizer) -> TokenizerRef | None:
    """A reference to ``tok``'s file, or ``None`` for a tokenizer that lives in memory only
    (trained in this process: save it with ``tok.save(path)`` and load that to trace in workers).

    Example:
        >>> tokenizer_ref(load_tokenizer("gpt2")).format   # doctest: +SKIP
        'gpt2-files'
    """
    paths = [str(p) for p in tok.source_paths]
    if not paths or tok.source_format == "memory":
        return None
    path = paths[0] if len(paths) == 1 else os.path.commonpath(paths)   # a folder of files (GPT-2's)
    pattern = tok.description.get("pattern") if tok.source_format == "tiktoken" else None
    return TokenizerRef(path, tok.source_format, pattern, tok.name, tok.fingerprint)


@functools.lru_cache(maxsize=4)
def load_ref(ref: TokenizerRef) -> Tokenizer:
    """The tokenizer of ``ref``, loaded once per process; raises when the file changed since."""
    from ...formats import load_tokenizer

    tok = load_tokenizer(ref.path, format=ref.format, pattern=ref.pattern, name=ref.name)
    if tok.fingerprint != ref.fingerprint:
        raise TokbenchError(f"{ref.path}: the tokenizer file changed while its traces were computed "
                            f"(fingerprint {tok.fingerprint[:12]}, expected {ref.fingerprint[:12]}); run again")
    return tok


# -------------------------------------------------------------------------------- categories


@dataclass(frozen=True)
class CategoryRef:
    """One category of a corpus spec; ``max_bytes``/``seed``: the in-memory sample
    (:meth:`Corpus.sample`, per category) applied after loading; ``sha256``: the sample's
    :func:`~.traces.sample_digest` when the caller holds it, checked by the worker."""

    spec: str
    category: str
    max_bytes: int | None = None
    seed: int = 0
    sha256: str | None = None


def category_stream(spec: str, category: str) -> CorpusStream:
    """The stream of ``spec`` cut down to the sources that hold ``category`` (a FLORES language
    reads its own file, not the 200 others); a part sampled over the whole corpus stays whole,
    since its sample depends on every category."""
    from ...corpora import CorpusStream, stream_corpus

    stream = stream_corpus(spec)
    parts = []
    for part in stream.parts:
        if part.rename is not None or (part.max_bytes is not None and not part.per_category):
            if part.rename in (None, category):
                parts.append(part)
            continue
        sources = tuple(s for s in part.sources if s.categories is None or category in s.categories)
        if sources:
            parts.append(dataclasses.replace(part, sources=sources))
    if not parts:
        raise TokbenchError(f"corpus {spec!r} has no category {category!r}; check the spec")
    return CorpusStream(stream.name, parts)


def category_documents(ref: CategoryRef) -> Documents:
    """The documents of one category: a function streaming them from the files, or a list when
    an in-memory sample must be drawn (the sample shuffles all of the category's documents)."""
    stream = category_stream(ref.spec, ref.category)
    if ref.max_bytes is None:
        return functools.partial(stream.iter_documents, ref.category)
    from ...corpora import Corpus

    whole = Corpus(ref.spec, {ref.category: list(stream.iter_documents(ref.category))})
    return whole.sample(max_bytes=ref.max_bytes, seed=ref.seed).documents(ref.category)


def category_refs(corpus: Any) -> list[CategoryRef] | str:
    """A :class:`CategoryRef` per category of ``corpus`` (a spec, a :class:`CorpusStream` or a
    :class:`Corpus` whose name is its spec), or the reason why workers cannot reload it."""
    from ...corpora import Corpus, CorpusStream, stream_corpus

    spec = corpus if isinstance(corpus, str) else getattr(corpus, "name", None)
    if not isinstance(corpus, str | Corpus | CorpusStream) or not isinstance(spec, str):
        return f"a {type(corpus).__name__} is not a corpus workers can reload"
    try:
        stream = stream_corpus(spec)
    except TokbenchError as err:
        return f"its name {spec!r} is not a corpus spec ({str(err)[:120]})"
    if isinstance(corpus, CorpusStream) and corpus.parts != stream.parts:
        return f"the stream is not what its name {spec!r} reads"
    if not isinstance(corpus, Corpus):
        return [CategoryRef(spec, c) for c in stream.category_names]
    if any(p.max_bytes is not None for p in stream.parts) or corpus.per_category is False:
        return "its sample is not drawn per category after loading"
    if stream.category_names != corpus.category_names:
        return f"its categories differ from those of its spec {spec!r} (renamed or subset)"
    return [CategoryRef(spec, c, corpus.max_bytes, corpus.seed or 0, sample_digest(corpus.documents(c))[0])
            for c in corpus.category_names]


class StreamCategories:
    """``category_names`` and ``documents(category)`` of a stream, one category read at a time
    from its own files (what :func:`~.alphabet.alphabet_row` needs)."""

    def __init__(self, stream: CorpusStream):
        self.stream = stream
        self.category_names = stream.category_names

    def documents(self, category: str) -> list[str]:
        return list(category_stream(self.stream.name, category).iter_documents(category))


# -------------------------------------------------------------------------------------- tasks


@dataclass(frozen=True)
class TraceTask:
    """One category's trace, as a worker receives it (plain data; see the module docstring)."""

    tokenizer: TokenizerRef
    category: CategoryRef
    merges: MergeList
    start: MergeList | None = None
    replicates: int = 0
    seed: int = 0
    cache_dir: str | None = None
    use_cache: bool = True


def trace_tasks(tok: Tokenizer, refs: list[CategoryRef], merges: MergeList, *, start: MergeList | None = None,
                replicates: int = 0, seed: int = 0, cache_dir: Any = None, use_cache: bool = True) -> list[TraceTask]:
    """One :class:`TraceTask` per category; raises for a tokenizer held in memory only."""
    ref = tokenizer_ref(tok)
    if ref is None:
        raise TokbenchError(f"{tok.name} lives in memory only: workers load tokenizers from files; save it with "
                            "tok.save(path) and load that, or trace with jobs=1")
    folder = None if cache_dir is None else str(Path(cache_dir).resolve())
    return [TraceTask(ref, c, merges, start, replicates, seed, folder, use_cache) for c in refs]


def run_trace_task(task: TraceTask) -> PairTrace:
    """A worker's job: load the tokenizer, stream the category, trace it (through the cache)."""
    tok = load_ref(task.tokenizer)
    documents = category_documents(task.category)
    if task.category.sha256 is not None:
        found = sample_digest(documents() if callable(documents) else documents)[0]
        if found != task.category.sha256:
            raise TokbenchError(f"category {task.category.category!r} reloaded from {task.category.spec!r} differs "
                                "from the corpus given (its files changed, or the corpus was edited after loading); "
                                "trace with jobs=1, or pass the spec")
    return trace_category(tok, documents, task.merges, replicates=task.replicates, seed=task.seed,
                          cache_dir=task.cache_dir, use_cache=task.use_cache, start=task.start)


# ------------------------------------------------------------------- one category, in chunks


@dataclass(frozen=True)
class ChunkTask:
    """A chunk of one category's documents to count, with their replicate multiplicities."""

    tokenizer: TokenizerRef
    texts: tuple[str, ...]
    mult: np.ndarray | None = None


def count_chunk_task(task: ChunkTask) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A worker's job: :func:`~.traces.count_pieces` of one chunk under the referenced tokenizer."""
    split, _ = symbolizer(load_ref(task.tokenizer))
    return count_pieces(split, task.texts, task.mult)


def parallel_word_table(tok: Tokenizer, documents: Iterable[str], *, jobs: int, replicates: int = 0, seed: int = 0,
                        n_docs: int | None = None, chunk_docs: int = CHUNK_DOCS) -> WordTable:
    """:func:`~.traces.word_table` with its chunks counted in ``jobs`` joblib/loky worker
    processes (at most ``2 * jobs`` chunks in flight, so a stream stays bounded) and added in
    order: the same table, array for array.

    Example:
        >>> parallel_word_table(tok, docs, jobs=2).n_words == word_table(tok, docs).n_words   # doctest: +SKIP
        True
    """
    from joblib import Parallel, delayed

    ref = tokenizer_ref(tok)
    if ref is None:
        raise TokbenchError(f"{tok.name} lives in memory only; save it and load the file to count in workers")
    if replicates and n_docs is None:
        if not isinstance(documents, list | tuple):
            raise TokbenchError("replicates over a stream of documents need n_docs; pass it, or a list")
        n_docs = len(documents)
    mult = half_samples(n_docs or 0, replicates, seed) if replicates else None

    def tasks() -> Iterator[ChunkTask]:
        start = 0
        for chunk in document_chunks(documents, chunk_docs):
            cols = None if mult is None else mult[:, start:start + len(chunk)]
            if cols is not None and cols.shape[1] != len(chunk):
                raise TokbenchError(f"n_docs={n_docs} but the documents are more; pass their true number")
            start += len(chunk)
            yield ChunkTask(ref, tuple(chunk), None if cols is None else np.ascontiguousarray(cols))

    builder = TableBuilder(1 + replicates)
    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator", pre_dispatch="2*n_jobs", batch_size=1)
    for counted in parallel(delayed(count_chunk_task)(t) for t in tasks()):
        builder.add(*counted)
    return builder.table(symbolizer(tok)[1])


def chunked_counter(tok: Tokenizer, jobs: int, replicates: int, seed: int) -> Callable[[Iterable[str], int | None], WordTable]:
    """The ``count`` argument of :func:`~.traces.trace_category` that counts in ``jobs`` workers."""
    def count(documents: Iterable[str], n_docs: int | None) -> WordTable:
        return parallel_word_table(tok, documents, jobs=jobs, replicates=replicates, seed=seed, n_docs=n_docs)

    return count
