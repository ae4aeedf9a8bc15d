"""Pair-count traces: how a merge list rewrites each category's pair counts, step by step.

For data-mixture inference (Hayase et al. 2024) each category sample is run through the target
tokenizer's own normalizer and pretokenizer (tokbench's native pipeline), its pieces are counted
into a word table over the tokenizer's base symbols — bytes for byte-level BPE, characters of
``▁``-escaped words (with ``<0xNN>`` fallback) for SentencePiece-style BPE — and merges
``1..T`` are applied in order. At step ``t`` the trace records the count of the merged pair
before the merge, ``c_t(m_t)``, and the change of every pair the merge touched, so that
``c_t(p)`` for any pair and step is the initial count plus the changes of steps ``< t``.

An extension's added merges (a tokenizer whose first ``k`` merges are another's, as Llama 3
over cl100k or Qwen2 over cl100k) are traced from the base's segmentation (``start``): each
word is first segmented by merges ``1..k`` (:func:`start_table`, the model's BPE loop
:func:`tokbench.model.bpe.apply_merges`), and the trace covers merges ``k+1..k+T`` only. Its
counts at step ``j`` are those of the full trace from base symbols at step ``k+j``, without
tracing (and storing the changes of) the ``k`` base steps.

Resampling replicates (for intervals) are half-samples: each replicate keeps a random half of a
category's documents, without replacement. They share the words and differ only in counts;
traces are linear in counts, so all replicates are traced in one pass as extra count columns.
(Why not the usual bootstrap with replacement: duplicated documents repeat their rare words, a
pair-count pattern no real corpus has, and the LP then shifts weight away from such categories —
see :meth:`tokbench.attacks.mixture.MixtureResult.intervals`.)

The numba kernel is :func:`tokbench.attacks.mixture._kernels.trace_kernel`;
:func:`tokbench.attacks.mixture._reference.trace_reference` is its plain-Python twin. Traces are cached on disk (:class:`tokbench.cache.Cache`, namespace
``traces``) keyed by (:data:`TRACE_VERSION`, tokenizer fingerprint, sample hash, merges,
replicates, and the start merges when given); a damaged entry is recomputed.

Example:
    >>> tr = trace_category(tok, docs, merges.head(1000))    # doctest: +SKIP
    >>> tr.merged[:3, 0], tr.pair_count(key, step=10)        # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...cache import Cache, Record, default_cache_root, warn_damaged
from ...errors import TokbenchError, UnsupportedTokenizerError
from ...model.tokenizer import Tokenizer
from .merges import MergeList

__all__ = ["PairTrace", "WordTable", "word_table", "start_table", "trace_words", "trace_category",
           "pair_key", "default_cache_dir", "trace_cache", "TRACE_VERSION", "symbolizer", "half_samples",
           "count_pieces", "TableBuilder", "document_chunks", "sample_digest", "CHUNK_DOCS", "Documents"]

#: Bump when the trace format or algorithm changes: old cache entries are then ignored.
TRACE_VERSION = 3  # 2: replicates are half-samples; 3: SentencePiece training split


def pair_key(left: int, right: int) -> int:
    return (int(left) << 32) | int(right)


@dataclass(eq=False)
class WordTable:
    """Distinct pretokenized words as base-symbol sequences, with per-replicate counts."""

    syms: np.ndarray  # flat int64
    lengths: np.ndarray  # int64 per word
    counts: np.ndarray  # (n_words, R) int64
    n_bytes: np.ndarray  # (R,) UTF-8 bytes of the (resampled) documents

    @property
    def n_words(self) -> int:
        return int(self.lengths.shape[0])


@dataclass(eq=False)
class PairTrace:
    """One category's trace (see the module docstring); column ``r`` is replicate ``r``
    (column 0 is the sample itself)."""

    init_keys: np.ndarray  # (K,) sorted pair keys
    init_vals: np.ndarray  # (K, R)
    merged: np.ndarray  # (T, R) count of the merged pair at its step
    d_off: np.ndarray  # (T + 1,)
    d_keys: np.ndarray  # (D,)
    d_vals: np.ndarray  # (D, R)
    n_bytes: np.ndarray  # (R,)

    @property
    def n_steps(self) -> int:
        return int(self.merged.shape[0])

    @property
    def n_replicates(self) -> int:
        return int(self.merged.shape[1])

    def total_pairs(self) -> np.ndarray:
        """Pairs at ``t = 0`` per replicate (the normaliser of the LP)."""
        return self.init_vals.sum(axis=0)

    def pair_count(self, key: int, step: int, replicate: int = 0) -> int:
        """``c_step(p)``: the count of pair ``key`` after merges ``0..step-1``."""
        i = np.searchsorted(self.init_keys, key)
        total = int(self.init_vals[i, replicate]) if i < len(self.init_keys) and self.init_keys[i] == key else 0
        end = int(self.d_off[step])
        hit = self.d_keys[:end] == key
        return total + int(self.d_vals[:end][hit, replicate].sum())

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in _TRACE_FIELDS}


_TRACE_FIELDS = ("init_keys", "init_vals", "merged", "d_off", "d_keys", "d_vals", "n_bytes")


# --------------------------------------------------------------------------------- words


def symbolizer(tok: Tokenizer) -> tuple[Any, Any]:
    """``(split(text) -> pieces, symbols(piece) -> ids)`` from the tokenizer's native pipeline.

    For SentencePiece-style BPE the pieces are those SentencePiece's *trainer* sees
    (:mod:`tokbench.attacks.training_split`): each line is a sentence of its own, and pieces
    are cut where training never merges (script changes, digits, whitespace runs, characters
    outside the alphabet), so that pairs it could not have merged are never counted.
    """
    from ...model.encoders import ByteLevelBPE, CharBPE

    enc = tok.native
    train_split = None
    if isinstance(enc, ByteLevelBPE):
        byte_ids = list(enc.byte_ids)

        def symbols(piece: str) -> list[int]:
            return [byte_ids[b] for b in piece.encode("utf-8", errors="surrogatepass")]
    elif isinstance(enc, CharBPE):
        from ..training_split import is_sentencepiece_style, training_splitter

        symbols = enc.base_symbols  # characters of the ▁-escaped piece, byte fallback, user pieces
        if is_sentencepiece_style(tok):
            train_split = training_splitter(tok)
    else:
        raise UnsupportedTokenizerError(
            f"{tok.name}: mixture inference needs a BPE tokenizer (byte-level or SentencePiece-style); "
            f"its native encoder is {type(enc).__name__}"
        )

    def split(text: str) -> list[str]:
        # The raw pieces (▁ kept for SentencePiece), skipping added/special tokens.
        out: list[str] = []
        if train_split is None:
            for k, (segment, token_id) in enumerate(enc.segments(text)):
                if token_id is None:
                    out.extend(enc.split_segment(segment, k == 0))
            return out
        from ..training_split import training_sentences

        # SentencePiece trains on lines, each normalized alone (its own dummy-prefix ▁).
        for line in training_sentences(text, train_split.rules):
            for k, (segment, token_id) in enumerate(enc.segments(line)):
                if token_id is None:
                    for piece in enc.split_segment(segment, k == 0):
                        out.extend(train_split(piece))
        return out

    return split, symbols


_symbolizer = symbolizer  # the name tests have used


def half_samples(n_docs: int, replicates: int, seed: int) -> np.ndarray:
    """``(1 + replicates, n_docs)`` document multiplicities: row 0 all ones (the sample itself),
    row ``r`` a seeded random half of the documents, drawn without replacement.

    >>> half_samples(4, 1, seed=0).sum(axis=1).tolist()
    [4, 2]
    """
    if replicates and n_docs < 2:
        raise TokbenchError("resampling replicates need at least 2 documents per category; "
                            "split the sample into documents (e.g. lines) or use no replicates")
    # int8 keeps a 1 GB category's 10^7 documents x 20 replicates at 200 MB; chunks widen it.
    mult = np.ones((1 + replicates, n_docs), np.int8)
    rng = np.random.default_rng(seed)
    for r in range(replicates):
        mult[1 + r] = 0
        mult[1 + r, rng.choice(n_docs, n_docs // 2, replace=False)] = 1
    return mult


def count_pieces(split: Any, documents: Sequence[str], mult: np.ndarray | None = None
                 ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One chunk's counts: ``(pieces, counts, n_bytes)`` with the distinct pieces ``split`` makes
    of ``documents`` in first-seen order, their counts ``(n, R)`` under the document multiplicities
    ``mult`` (``(R, len(documents))``, :func:`half_samples`; ``None``: one column, each document
    once) and the documents' UTF-8 bytes per column.

    >>> count_pieces(str.split, ["a b a", "b c"])[0]
    ['a', 'b', 'c']
    """
    doc_bytes = np.fromiter((len(d.encode("utf-8")) for d in documents), np.int64, len(documents))
    if mult is None:  # no replicates: one Counter, no per-document matrix
        counter: Counter[str] = Counter()
        for doc in documents:
            counter.update(split(doc))
        counts = np.fromiter(counter.values(), np.int64, len(counter)).reshape(-1, 1)
        return list(counter), counts, doc_bytes.sum(keepdims=True)
    import scipy.sparse as sp

    index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[int] = []
    for d, doc in enumerate(documents):
        for piece, n in Counter(split(doc)).items():
            rows.append(d)
            cols.append(index.setdefault(piece, len(index)))
            vals.append(n)
    weights = np.asarray(mult, np.int64)
    M = sp.csr_matrix((np.asarray(vals, np.int64), (rows, cols)), shape=(len(documents), len(index)))
    counts = np.asarray((sp.csr_matrix(weights) @ M).T.todense(), dtype=np.int64).reshape(len(index), -1)
    return list(index), counts, weights @ doc_bytes


class TableBuilder:
    """Adds chunk counts (:func:`count_pieces`) exactly, in chunk order: the pieces keep their
    first-seen order over the whole sample, so the table (and the trace) equals one-shot counting.

    >>> b = TableBuilder(1)
    >>> b.add(["x", "y"], np.array([[2], [1]]), np.array([3])); b.add(["y", "z"], np.array([[1], [1]]), np.array([2]))
    >>> b.pieces, b.counts[:, 0].tolist()
    (['x', 'y', 'z'], [2, 2, 1])
    """

    def __init__(self, n_columns: int):
        self.index: dict[str, int] = {}
        self._acc = np.zeros((1024, n_columns), np.int64)
        self.n_bytes = np.zeros(n_columns, np.int64)

    def add(self, pieces: Sequence[str], counts: np.ndarray, n_bytes: np.ndarray) -> None:
        index = self.index
        ids = np.fromiter((index.setdefault(p, len(index)) for p in pieces), np.int64, len(pieces))
        if len(index) > self._acc.shape[0]:
            grown = np.zeros((max(len(index), 2 * self._acc.shape[0]), self._acc.shape[1]), np.int64)
            grown[: self._acc.shape[0]] = self._acc
            self._acc = grown
        self._acc[ids] += counts  # pieces are distinct within a chunk, so no index repeats
        self.n_bytes += n_bytes

    @property
    def pieces(self) -> list[str]:
        return list(self.index)

    @property
    def counts(self) -> np.ndarray:
        return self._acc[: len(self.index)]

    def table(self, symbols: Any) -> WordTable:
        """The word table, each piece turned into base-symbol ids by ``symbols``."""
        if not self.index:
            raise TokbenchError("a category sample has no text after pretokenization; give it data or leave it out")
        seqs = [symbols(p) for p in self.index]
        lengths = np.fromiter(map(len, seqs), np.int64, len(seqs))
        syms = np.fromiter((s for q in seqs for s in q), np.int64, int(lengths.sum()))
        return WordTable(syms, lengths, np.ascontiguousarray(self.counts), self.n_bytes.copy())


#: Documents per chunk of :func:`word_table`: the memory of a chunk's count matrix, not the sample's.
CHUNK_DOCS = 20_000


def document_chunks(documents: Iterable[str], chunk_docs: int = CHUNK_DOCS) -> Iterator[list[str]]:
    """``documents`` in lists of at most ``chunk_docs``, read lazily (a stream is never held)."""
    chunk: list[str] = []
    for doc in documents:
        chunk.append(doc)
        if len(chunk) >= chunk_docs:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def word_table(tok: Tokenizer, documents: Iterable[str], *, replicates: int = 0, seed: int = 0,
               n_docs: int | None = None, chunk_docs: int = CHUNK_DOCS) -> WordTable:
    """Count the tokenizer's pieces in ``documents``; with ``replicates`` > 0 add half-sample
    columns (each a seeded random half of the documents, without replacement).

    ``documents`` is read once, ``chunk_docs`` at a time, and the chunk counts are added exactly
    (:class:`TableBuilder`): memory grows with the distinct pieces, not with the text, so a
    stream (a generator) works. With replicates a stream needs ``n_docs`` (the halves are drawn
    first). :func:`tokbench.attacks.mixture.parallel.parallel_word_table` counts the chunks in
    worker processes.
    """
    if isinstance(chunk_docs, bool) or not isinstance(chunk_docs, int) or chunk_docs < 1:
        raise TokbenchError(f"chunk_docs must be a positive integer, got {chunk_docs!r}")
    if replicates and n_docs is None:
        if not isinstance(documents, Sequence):
            raise TokbenchError("word_table: replicates over a stream of documents need n_docs (the number "
                                "of documents); pass it, or a list")
        n_docs = len(documents)
    split, symbols = _symbolizer(tok)
    mult = half_samples(n_docs or 0, replicates, seed) if replicates else None
    builder = TableBuilder(1 + replicates)
    start = 0
    for chunk in document_chunks(documents, chunk_docs):
        cols = None if mult is None else mult[:, start:start + len(chunk)]
        if cols is not None and cols.shape[1] != len(chunk):
            raise TokbenchError(f"word_table: n_docs={n_docs} but the documents are more; pass their true number")
        builder.add(*count_pieces(split, chunk, cols))
        start += len(chunk)
    if mult is not None and start != mult.shape[1]:
        raise TokbenchError(f"word_table: n_docs={n_docs} but there are {start} documents; pass their true number")
    return builder.table(symbols)


def start_table(table: WordTable, start: MergeList) -> WordTable:
    """``table`` with every word segmented by the merges of ``start`` (in their order): the
    state from which an extension's added merges are traced (module docstring).

    Merge-list BPE that merges the lowest-ranked pair first, leftmost on ties, segments a word
    as applying the merges one after another does (each merge's token exists only from its step
    on), so a trace from this table equals the full trace's later steps (tested).

    >>> t = WordTable(np.array([0, 1, 0, 1, 2]), np.array([5]), np.array([[1]]), np.array([5]))
    >>> ml = MergeList(np.array([0]), np.array([1]), np.array([3]), "t", "f")
    >>> start_table(t, ml).syms.tolist()
    [3, 3, 2]
    """
    from ...model.bpe import apply_merges, merge_rank_lookup

    lookup = merge_rank_lookup(list(zip(start.left.tolist(), start.right.tolist(), strict=True)),
                               merged_ids=start.result.tolist())
    flat = table.syms.tolist()
    seqs = []
    pos = 0
    for n in table.lengths.tolist():
        seqs.append(apply_merges(flat[pos:pos + n], lookup) if n > 1 else flat[pos:pos + n])
        pos += n
    lengths = np.fromiter(map(len, seqs), np.int64, len(seqs))
    syms = np.fromiter((s for q in seqs for s in q), np.int64, int(lengths.sum()))
    return WordTable(syms, lengths, table.counts, table.n_bytes)


# -------------------------------------------------------------------------------- tracing


def trace_words(table: WordTable, merges: MergeList) -> PairTrace:
    """Run the numba trace kernel over a word table."""
    from ._kernels import trace_kernel

    wstart = np.zeros(table.n_words, np.int64)
    if table.n_words > 1:
        np.cumsum(table.lengths[:-1], out=wstart[1:])
    out = trace_kernel(table.syms.astype(np.int64).copy(), wstart, table.lengths.astype(np.int64).copy(),
                         np.ascontiguousarray(table.counts, dtype=np.int64),
                         merges.left, merges.right, merges.result)
    return PairTrace(*out, n_bytes=np.asarray(table.n_bytes, np.int64))


# --------------------------------------------------------------------------------- caching


def default_cache_dir() -> Path:
    """``$TOKBENCH_CACHE/traces`` or ``~/.cache/tokbench/traces``."""
    return default_cache_root() / "traces"


def trace_cache(cache_dir: str | Path | None = None) -> Cache:
    """The :class:`~tokbench.cache.Cache` of traces: entries directly in ``cache_dir`` when it is
    given (as they always were), else in :func:`default_cache_dir`."""
    if cache_dir is None:
        return Cache(namespace="traces")
    folder = Path(cache_dir)
    return Cache(folder.parent, namespace=folder.name)


def sample_digest(documents: Iterable[str]) -> tuple[str, int]:
    """``(sha256, number of documents)`` of a category sample, in one pass (the trace cache's
    sample key: documents length-prefixed, so the hash is unambiguous).

    >>> sample_digest(["a", "b"])[1]
    2
    """
    digest = hashlib.sha256()
    n = 0
    for d in documents:
        data = d.encode("utf-8")
        digest.update(b"D%d:" % len(data) + data)
        n += 1
    return digest.hexdigest(), n


def _sample_hash(documents: Sequence[str]) -> str:
    return sample_digest(documents)[0]


def _merges_hash(merges: MergeList) -> str:
    digest = hashlib.sha256()
    for arr in (merges.left, merges.right, merges.result):
        digest.update(np.ascontiguousarray(arr, np.int64).tobytes())
    return digest.hexdigest()[:16]


def _trace_from_record(record: Record | None) -> PairTrace | None:
    """The cached trace, or None when the entry is missing or does not hold a whole trace."""
    if record is None or set(record.arrays) != set(_TRACE_FIELDS):
        return None
    trace = PairTrace(**record.arrays)
    n_steps, n_rep = trace.merged.shape if trace.merged.ndim == 2 else (-1, -1)
    if trace.d_off.shape != (n_steps + 1,) or trace.n_bytes.shape != (n_rep,) \
            or trace.init_vals.shape != (len(trace.init_keys), n_rep) \
            or trace.d_vals.shape != (len(trace.d_keys), n_rep):
        return None
    return trace


#: Documents of a category: a list, or a function returning a fresh iterator over them (a stream
#: read once per pass, never held).
Documents = Sequence[str] | Callable[[], Iterable[str]]


def trace_category(tok: Tokenizer, documents: Documents, merges: MergeList, *, replicates: int = 0,
                   seed: int = 0, cache_dir: str | Path | None = None, use_cache: bool = True,
                   start: MergeList | None = None, count: Callable[[Iterable[str], int | None], WordTable] | None = None
                   ) -> PairTrace:
    """Word table + trace of one category sample, cached on disk (see the module docstring):
    a missing, damaged or foreign cache entry is recomputed and overwritten. With ``start``
    (an extension's base merges, :meth:`MergeList.split`) the words are first segmented by those
    merges and ``merges`` are traced from there.

    ``documents`` may be a function returning a fresh iterator (a stream): it is then read twice
    (the cache key's hash and the document count, then the counting), never held. ``count``
    (``count(documents, n_docs) -> WordTable``) replaces :func:`word_table`, e.g. with
    :func:`tokbench.attacks.mixture.parallel.parallel_word_table`'s chunks in worker processes.
    """
    def docs() -> Iterable[str]:
        return documents() if callable(documents) else documents

    cache = trace_cache(cache_dir) if use_cache else None
    n_docs = None if callable(documents) else len(documents)
    if cache is not None:
        sample, n_docs = sample_digest(docs())
        fields: dict[str, Any] = {"v": TRACE_VERSION, "tok": tok.fingerprint, "sample": sample,
                                  "T": len(merges), "merges": _merges_hash(merges), "R": replicates,
                                  "seed": seed if replicates else None}
        if start is not None:  # traces from bytes keep their keys (and cache entries)
            fields["start"] = (len(start), _merges_hash(start))
        key = cache.key(fields)
        record = cache.load(key)
        cached = _trace_from_record(record)
        if cached is not None:
            return cached
        if record is not None:
            warn_damaged(cache.path(key), "not a whole trace")
    if replicates and n_docs is None:
        n_docs = sum(1 for _ in docs())
    if count is None:
        table = word_table(tok, docs(), replicates=replicates, seed=seed, n_docs=n_docs)
    else:
        table = count(docs(), n_docs)
    trace = trace_words(table if start is None else start_table(table, start), merges)
    if cache is not None:
        cache.store(key, Record(meta={"trace_version": TRACE_VERSION, "tokenizer": tok.name},
                                arrays=trace.to_arrays()))
    return trace
