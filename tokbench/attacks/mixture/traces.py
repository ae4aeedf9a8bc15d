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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...cache import Cache, Record, default_cache_root, warn_damaged
from ...errors import TokbenchError, UnsupportedTokenizerError
from ...model.tokenizer import Tokenizer
from .merges import MergeList

__all__ = ["PairTrace", "WordTable", "word_table", "start_table", "trace_words", "trace_category",
           "pair_key", "default_cache_dir", "trace_cache", "TRACE_VERSION"]

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


def _symbolizer(tok: Tokenizer) -> tuple[Any, Any]:
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


def word_table(tok: Tokenizer, documents: Sequence[str], *, replicates: int = 0, seed: int = 0) -> WordTable:
    """Count the tokenizer's pieces in ``documents``; with ``replicates`` > 0 add half-sample
    columns (each a seeded random half of the documents, without replacement)."""
    import scipy.sparse as sp

    split, symbols = _symbolizer(tok)
    index: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[int] = []
    for d, doc in enumerate(documents):
        for piece, n in Counter(split(doc)).items():
            w = index.setdefault(piece, len(index))
            rows.append(d)
            cols.append(w)
            vals.append(n)
    n_docs = len(documents)
    if not index:
        raise TokbenchError("a category sample has no text after pretokenization; give it data or leave it out")
    M = sp.csr_matrix((np.asarray(vals, np.int64), (rows, cols)), shape=(n_docs, len(index)))
    doc_bytes = np.fromiter((len(d.encode("utf-8")) for d in documents), np.int64, n_docs)
    mult = np.ones((1 + replicates, n_docs), np.int64)
    rng = np.random.default_rng(seed)
    if replicates and n_docs < 2:
        raise TokbenchError("resampling replicates need at least 2 documents per category; "
                            "split the sample into documents (e.g. lines) or use no replicates")
    for r in range(replicates):
        mult[1 + r] = 0
        mult[1 + r, rng.choice(n_docs, n_docs // 2, replace=False)] = 1
    counts = np.asarray((sp.csr_matrix(mult) @ M).T.todense(), dtype=np.int64)
    seqs = [symbols(p) for p in index]
    lengths = np.fromiter(map(len, seqs), np.int64, len(seqs))
    syms = np.fromiter((s for q in seqs for s in q), np.int64, int(lengths.sum()))
    return WordTable(syms, lengths, np.ascontiguousarray(counts), mult @ doc_bytes)


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


def _sample_hash(documents: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for d in documents:
        data = d.encode("utf-8")
        digest.update(b"D%d:" % len(data) + data)
    return digest.hexdigest()


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


def trace_category(tok: Tokenizer, documents: Sequence[str], merges: MergeList, *, replicates: int = 0,
                   seed: int = 0, cache_dir: str | Path | None = None, use_cache: bool = True,
                   start: MergeList | None = None) -> PairTrace:
    """Word table + trace of one category sample, cached on disk (see the module docstring):
    a missing, damaged or foreign cache entry is recomputed and overwritten. With ``start``
    (an extension's base merges, :meth:`MergeList.split`) the words are first segmented by those
    merges and ``merges`` are traced from there."""
    cache = trace_cache(cache_dir) if use_cache else None
    if cache is not None:
        fields: dict[str, Any] = {"v": TRACE_VERSION, "tok": tok.fingerprint, "sample": _sample_hash(documents),
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
    table = word_table(tok, documents, replicates=replicates, seed=seed)
    trace = trace_words(table if start is None else start_table(table, start), merges)
    if cache is not None:
        cache.store(key, Record(meta={"trace_version": TRACE_VERSION, "tokenizer": tok.name},
                                arrays=trace.to_arrays()))
    return trace
