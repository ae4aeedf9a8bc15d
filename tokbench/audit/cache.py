"""The audit's on-disk cache: one :class:`~tokbench.cache.Record` per (analysis, tokenizer).

Entries live under ``<cache root>/audit/`` (the audit's root is ``<out>/.cache``), keyed by the
analysis, its options and budget, the tokenizer's fingerprint and name, the corpus content hash
and the tokbench version. A :class:`~tokbench.audit.result.PartResult` is stored as its frames
(Parquet inside the entry) and JSON metadata (signature, notes, frame order). A missing,
damaged or foreign entry reads as ``None`` and the audit recomputes and overwrites it; nothing
read from the cache is ever executed.

Example:
    >>> cache = AuditCache(tempfile.mkdtemp())                        # doctest: +SKIP
    >>> key = cache.key(ANALYSES["compression"], tok, corpus, {})     # doctest: +SKIP
    >>> cache.load(key) is None                                       # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..cache import Cache, Record, warn_damaged
from ..executor import TaskCache
from ..results import Signature
from .result import PartResult

if TYPE_CHECKING:  # pragma: no cover
    from ..corpora import Corpus
    from ..model.tokenizer import Tokenizer
    from .registry import Analysis
    from .run import Outcome, Step

__all__ = ["AuditCache", "StepCache", "encode_part", "decode_part", "step_description"]

NAMESPACE = "audit"


def encode_part(analysis: str, part: PartResult) -> Record:
    """A part as a cache record; metadata goes through JSON now, so anything odd becomes text."""
    meta = {"analysis": analysis, "frames": list(part.frames), "notes": list(part.notes),
            "signature": part.signature.to_dict()}
    return Record(meta=json.loads(json.dumps(meta, default=str)), frames=dict(part.frames))


def decode_part(analysis: str, record: Record) -> PartResult | None:
    """The part a record holds, or ``None`` when it is not a well-formed entry of ``analysis``."""
    meta = record.meta
    if not isinstance(meta, dict) or meta.get("analysis") != analysis:
        return None
    names, notes, signature = meta.get("frames"), meta.get("notes"), meta.get("signature")
    if not isinstance(names, list) or set(names) != set(record.frames) or not isinstance(signature, dict):
        return None
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        return None
    return PartResult({name: record.frames[name] for name in names}, Signature.from_dict(signature), tuple(notes))


def step_description(analysis: Analysis, options: Mapping[str, Any], fingerprint: str, name: str,
                     corpus_hash: str) -> dict[str, Any]:
    """What keys one (analysis, tokenizer) step: the analysis, its options and budget, the
    tokenizer's fingerprint and name and the corpus content hash (the version is added by
    :class:`~tokbench.cache.Cache`). The serial and the parallel audit key steps alike."""
    return {**analysis.cache_description(options), "tokenizer": fingerprint, "name": name, "corpus": corpus_hash}


class AuditCache:
    """Load and store :class:`PartResult` entries under ``root/audit``."""

    def __init__(self, root: str | os.PathLike[str]):
        self.cache = Cache(root, namespace=NAMESPACE)

    def key(self, analysis: Analysis, tok: Tokenizer, corpus: Corpus, options: Mapping[str, Any]) -> str:
        return self.cache.key(step_description(analysis, options, tok.fingerprint, tok.name, corpus.content_hash))

    def load(self, analysis: Analysis, key: str) -> PartResult | None:
        record = self.cache.load(key)
        if record is None:
            return None
        part = decode_part(analysis.name, record)
        if part is None:
            warn_damaged(self.cache.path(key), "not a well-formed audit entry")
        return part

    def store(self, analysis: Analysis, key: str, part: PartResult) -> None:
        try:
            self.cache.store(key, encode_part(analysis.name, part))
        except (TypeError, ValueError, NotImplementedError):
            pass  # a frame Parquet cannot hold only costs a recomputation next time


class StepCache(TaskCache):  # type: ignore[type-arg]
    """The audit's steps as :func:`tokbench.executor.map` sees them: the on-disk cache of parts
    (optional) and a record of every outcome as it arrives.

    A hit loads as ``("hit", part)``, so the audit counts it; only computed parts are stored
    (a skip or a failure is recomputed next time: it is cheap, or it may be transient). Every
    outcome, stored or not, is kept in :attr:`outcomes` by step index: when the back end itself
    fails (a worker process killed), the audit knows which steps finished.

    Example:
        >>> steps = StepCache(None)
        >>> steps.load(step) is None                                        # doctest: +SKIP
        True
    """

    def __init__(self, audit_cache: AuditCache | None):
        self.audit_cache = audit_cache
        self.outcomes: dict[int, Outcome] = {}

    def key(self, task: Step) -> str:
        assert self.audit_cache is not None
        return self.audit_cache.cache.key(task.description())

    def load(self, task: Step) -> Outcome | None:
        if self.audit_cache is None:
            return None
        key = self.key(task)
        part = self.audit_cache.load(task.analysis, key)
        return ("hit", part) if part is not None else None

    def store(self, task: Step, result: Outcome) -> None:
        self.outcomes[task.index] = result
        kind, value = result
        if kind == "part" and self.audit_cache is not None:
            try:
                self.audit_cache.store(task.analysis, self.key(task), value)
            except OSError as err:  # a full disk costs the cache entry, not the computed result
                import warnings

                warnings.warn(f"audit cache: could not store {task.label} ({err}); it will be recomputed "
                              "next time", stacklevel=2)
