"""The traces of every category under one merge list, and their packing for the sweep kernel.

A :class:`TraceSet` is the input of the mixture LP (Hayase et al. 2024): one
:class:`~tokbench.attacks.mixture.traces.PairTrace` per category sample, all over the same first
``T`` merges of the tokenizer. :meth:`TraceSet.pack` flattens one replicate column of all traces
into the arrays :func:`tokbench.attacks.mixture._kernels.sweep_kernel` reads (a global pair
index, per-category local counts and sparse per-step deltas). Pairs the tokenizer's trainer
could never merge (SentencePiece's ``IsValidSentencePiece``,
:func:`tokbench.attacks.training_split.pair_validity`) get infinite pair slack there, so they
compete with nothing. For SentencePiece-style models it also holds each category's characters
outside the alphabet (:mod:`~tokbench.attacks.mixture.alphabet`), one more row of the LP.

It differs from :mod:`~tokbench.attacks.mixture.traces` (one category's counting) by joining
categories, and from :mod:`~tokbench.attacks.mixture.lp` by not solving anything.

Example:
    >>> ts = TraceSet.from_corpus(tok, corpus, n_steps=3000)   # doctest: +SKIP
    >>> ts.pack().n_pairs                                       # doctest: +SKIP
    184311
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...errors import TokbenchError
from .alphabet import AlphabetRow, alphabet_row
from .merges import MergeList, extract_merges
from .parallel import (
    StreamCategories,
    category_refs,
    category_stream,
    chunked_counter,
    run_trace_task,
    tokenizer_ref,
    trace_tasks,
)
from .traces import PairTrace, trace_category

if TYPE_CHECKING:  # pragma: no cover
    from ...model.tokenizer import Tokenizer

__all__ = ["TraceSet", "PackedTraces"]


@dataclass(eq=False)
class PackedTraces:
    """One replicate of a :class:`TraceSet` as the flat arrays the sweep kernel reads."""

    n_pairs: int
    cat_off: np.ndarray
    loc_glob: np.ndarray
    init_cnt: np.ndarray
    d_off: np.ndarray
    d_loc: np.ndarray
    d_val: np.ndarray
    merged_glob: np.ndarray
    merged: np.ndarray  # (n, T)
    total_pairs: np.ndarray  # (n,)
    n_bytes: np.ndarray  # (n,)
    exempt: np.ndarray | None = None  # (n_pairs,) +inf for pairs the trainer could never merge, else 0


@dataclass(eq=False)
class TraceSet:
    """The traces of ``n`` categories under one merge list (same steps for all)."""

    categories: list[str]
    traces: list[PairTrace]
    merges: MergeList
    corpus: dict[str, Any] = field(default_factory=dict)
    #: ``valid(left, right)``: whether the tokenizer's trainer could merge a pair at all
    #: (:func:`tokbench.attacks.training_split.pair_validity`); pairs it could not are no competitors.
    valid_pair: Callable[[int, int], bool] | None = field(default=None, repr=False)
    #: SentencePiece-style models: characters outside the alphabet per category
    #: (:mod:`~tokbench.attacks.mixture.alphabet`), a row of the LP; None for byte-level BPE.
    alphabet: AlphabetRow | None = field(default=None, repr=False)
    _packed: dict[int, PackedTraces] = field(default_factory=dict, repr=False)
    _exempt_cache: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.categories:
            raise TokbenchError("mixture inference needs at least one category")
        if len(self.categories) != len(self.traces):
            raise TokbenchError("one trace per category is needed")
        for name, tr in zip(self.categories, self.traces, strict=True):
            if tr.n_steps != len(self.merges):
                raise TokbenchError(f"category {name!r}: trace has {tr.n_steps} steps, merges {len(self.merges)}")
            if (tr.total_pairs() <= 0).any():
                raise TokbenchError(
                    f"category {name!r} has no adjacent symbol pairs in its sample (no data, or only "
                    "one-symbol words); give it more text or leave it out"
                )

    @property
    def n_steps(self) -> int:
        return len(self.merges)

    @property
    def n_replicates(self) -> int:
        return min(tr.n_replicates for tr in self.traces)

    @classmethod
    def from_corpus(cls, tok: Tokenizer, corpus: Any, *, n_steps: int, merges: MergeList | None = None,
                    skip: int | Literal["auto"] = 0, replicates: int = 0, seed: int = 0,
                    cache_dir: Any = None, use_cache: bool = True, progress: bool = False,
                    base_merges: int = 0, jobs: int | None = None, scheduler: Any = None) -> TraceSet:
        """Trace every category of ``corpus`` (a :class:`~tokbench.corpora.Corpus`, a
        :class:`~tokbench.corpora.CorpusStream` or a spec string, streamed) under ``tok``'s first
        ``n_steps`` merges; with ``base_merges`` = k > 0 (an extension's inherited merges, entries
        of the cleaned list), under merges ``k+1..k+n_steps``, traced from the segmentation by
        the first k (:func:`~tokbench.attacks.mixture.traces.start_table`).

        ``jobs`` > 1 or a Dask ``scheduler`` (an address or a ``distributed.Client``) trace the
        categories in workers from small tasks (:mod:`~tokbench.attacks.mixture.parallel`); with
        fewer categories than ``jobs`` each category's counting is split over the workers
        instead. The traces are the same array for array. ``jobs=None`` is one process (this
        may itself run inside a worker); a tokenizer or corpus that workers cannot reload (held
        in memory only) is traced here, with a warning.
        """
        from ..training_split import pair_validity

        start, ml = (merges if merges is not None else extract_merges(tok, skip=skip)).split(base_merges)
        ml = ml.head(min(n_steps, len(ml)) if base_merges else n_steps)
        if isinstance(corpus, str):
            from ...corpora import stream_corpus

            corpus = stream_corpus(corpus)
        names = list(corpus.category_names)
        options = dict(replicates=replicates, seed=seed, cache_dir=cache_dir, use_cache=use_cache, start=start)
        traces = _trace_all(tok, corpus, names, ml, options, jobs=jobs, scheduler=scheduler, progress=progress)
        return cls(names, traces, ml, corpus.signature(), valid_pair=pair_validity(tok),
                   alphabet=alphabet_row(tok, corpus if hasattr(corpus, "documents") else StreamCategories(corpus)))

    def pack(self, replicate: int = 0) -> PackedTraces:
        """Flat arrays for the sweep kernel (column ``replicate`` of every trace)."""
        if replicate in self._packed:
            return self._packed[replicate]
        keys = np.unique(np.concatenate([np.concatenate([t.init_keys, t.d_keys]) for t in self.traces]))
        cat_off = [0]
        loc_glob, init_cnt, d_loc, d_val, d_offs = [], [], [], [], []
        base = 0
        for tr in self.traces:
            local = np.unique(np.concatenate([tr.init_keys, tr.d_keys]))
            loc_glob.append(np.searchsorted(keys, local))
            cnt = np.zeros(len(local), np.int64)
            cnt[np.searchsorted(local, tr.init_keys)] = tr.init_vals[:, replicate]
            init_cnt.append(cnt)
            d_loc.append(np.searchsorted(local, tr.d_keys).astype(np.int64))
            d_val.append(np.ascontiguousarray(tr.d_vals[:, replicate]))
            d_offs.append(tr.d_off + base)
            base += len(tr.d_keys)
            cat_off.append(cat_off[-1] + len(local))
        packed = PackedTraces(
            n_pairs=len(keys), cat_off=np.asarray(cat_off, np.int64),
            loc_glob=np.concatenate(loc_glob).astype(np.int64), init_cnt=np.concatenate(init_cnt),
            d_off=np.ascontiguousarray(np.stack(d_offs)).astype(np.int64),
            d_loc=np.concatenate(d_loc), d_val=np.concatenate(d_val).astype(np.int64),
            merged_glob=self._merged_positions(keys),
            merged=np.stack([tr.merged[:, replicate] for tr in self.traces]).astype(np.int64),
            total_pairs=np.array([tr.total_pairs()[replicate] for tr in self.traces], np.float64),
            n_bytes=np.array([tr.n_bytes[replicate] for tr in self.traces], np.float64),
            exempt=self._exempt(keys),
        )
        self._packed[replicate] = packed
        self._keys = keys
        return packed

    def _merged_positions(self, keys: np.ndarray) -> np.ndarray:
        """Global index of each step's merged pair (-1 when no sample ever holds it)."""
        mkeys = (self.merges.left << 32) | self.merges.right
        pos = np.searchsorted(keys, mkeys).clip(0, max(len(keys) - 1, 0))
        merged_glob = np.where(keys[pos] == mkeys, pos, -1) if len(keys) else np.full(len(mkeys), -1)
        return merged_glob.astype(np.int64)

    def _exempt(self, keys: np.ndarray) -> np.ndarray | None:
        # Shared by all replicates (same pair universe), so computed once.
        if self.valid_pair is None:
            return None
        if self._exempt_cache is None or len(self._exempt_cache) != len(keys):
            ok = np.fromiter((self.valid_pair(int(k) >> 32, int(k) & 0xFFFFFFFF) for k in keys), bool, len(keys))
            self._exempt_cache = np.where(ok, 0.0, np.inf)
        return self._exempt_cache

    def pair_of(self, glob: int) -> tuple[int, int]:
        key = int(self._keys[glob])
        return key >> 32, key & 0xFFFFFFFF


def _trace_all(tok: Tokenizer, corpus: Any, names: list[str], ml: MergeList, options: dict[str, Any], *,
               jobs: int | None, scheduler: Any, progress: bool) -> list[PairTrace]:
    """The traces of ``names`` in order: in this process, in workers per category, or per
    category here with each one's counting split over ``jobs`` workers (see ``from_corpus``)."""
    from tqdm.auto import tqdm

    from ... import executor

    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise TokbenchError(f"jobs must be a positive number of worker processes, got {jobs!r}")
    n = jobs or 1
    refs = category_refs(corpus) if n > 1 or scheduler is not None else "one process was asked for"
    if isinstance(refs, list) and tokenizer_ref(tok) is None:
        refs = f"{tok.name} lives in memory only (save it and load the file)"
    if isinstance(refs, str) and (n > 1 or scheduler is not None):
        warnings.warn(f"tracing in this process, one category after another: workers cannot reload the inputs "
                      f"({refs})", UserWarning, stacklevel=3)
    if isinstance(refs, list) and (scheduler is not None or len(names) >= n):
        tasks = trace_tasks(tok, refs, ml, **options)
        return executor.map(run_trace_task, tasks, desc="pair traces", jobs=n, scheduler=scheduler,
                            progress=progress)
    count = chunked_counter(tok, n, options["replicates"], options["seed"]) if isinstance(refs, list) else None
    # A stream reloadable from its spec reads each category from its own files, not all of them.
    own_files = not hasattr(corpus, "documents") and isinstance(refs if isinstance(refs, list)
                                                                else category_refs(corpus), list)
    traces = []
    for cat in tqdm(names, desc="pair traces", disable=not progress, leave=False):
        if hasattr(corpus, "documents"):
            docs: Any = corpus.documents(cat)
        else:
            docs = functools.partial((category_stream(corpus.name, cat) if own_files else corpus).iter_documents, cat)
        traces.append(trace_category(tok, docs, ml, count=count, **options))
    return traces
