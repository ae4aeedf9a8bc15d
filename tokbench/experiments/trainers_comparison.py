"""Compare tokenizer families at equal vocabulary on held-out text (bytes per token).

Every trainer of :data:`tokbench.trainers.TRAINERS` (or ``trainers``) is trained once per
vocabulary size on the FLORES-200 ``dev`` sentences of ``languages`` plus the even-numbered
documents of each ``code`` language, and evaluated on the FLORES ``devtest`` sentences and the
odd-numbered code documents (each document encoded on its own, no special tokens). Each
(family, size) pair is one task through :func:`tokbench.executor.map`, so ``jobs`` worker
processes and a task cache change only the time it takes. The result holds one row per
(trainer, vocab_size, category).

Example:
    >>> res = compare_trainers("eng_Latn,rus_Cyrl", code="python", trainers="bpe,char",
    ...                        vocab_sizes=[600, 1200], jobs=2)            # doctest: +SKIP
    >>> res.to_frame().pivot_table("bytes_per_token", "category", "trainer")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import executor
from ..cache import Record
from ..errors import TokbenchError
from ..executor import TaskCache
from ..results import RowsResult, Signature
from .texts import texts_sha256

if TYPE_CHECKING:  # pragma: no cover

    from ..cache import Cache

__all__ = ["compare_trainers", "TrainersComparison", "FamilyTask", "train_and_measure",
           "DEFAULT_LANGUAGES", "DEFAULT_TRAINERS", "TRAINER_OPTIONS"]

DEFAULT_LANGUAGES = ("eng_Latn,fra_Latn,deu_Latn,vie_Latn,tur_Latn,rus_Cyrl,ell_Grek,arb_Arab,heb_Hebr,"
                     "hin_Deva,zho_Hans,jpn_Jpan,kor_Hang,tha_Thai")
DEFAULT_TRAINERS = "bpe,char,superword,hybrid,spm-bpe,spm-unigram,hf-unigram,hf-wordpiece"
#: Options some families need to train on any corpus: no lexicon ships for every language, so
#: the hybrid learns its morphs with Morfessor (bounded, see tokbench.trainers.hybrid).
TRAINER_OPTIONS: dict[str, dict[str, Any]] = {
    "hybrid": {"morfessor": True, "morfessor_words": 20_000, "morfessor_epochs": 3},
}


@dataclass(frozen=True)
class FamilyTask:
    """Train ``trainer`` at ``vocab_size`` on ``train_docs``; measure each held-out category."""

    trainer: str
    vocab_size: int
    train_docs: Sequence[str]
    held_out: Sequence[tuple[str, Sequence[str]]]
    options: dict[str, Any] = field(default_factory=dict)


def train_and_measure(task: FamilyTask) -> dict[str, Any]:
    """One (family, size) cell: its rows, the tokenizer's fingerprint and its real vocabulary."""
    from ..trainers import train_with

    tok = train_with(task.trainer, task.train_docs, vocab_size=task.vocab_size, **task.options).tokenizer
    rows = []
    for category, docs in task.held_out:
        ctc = sum(map(len, tok.encode_batch(list(docs))))
        n_bytes = sum(len(d.encode("utf-8")) for d in docs)
        rows.append({"trainer": task.trainer, "vocab_size": task.vocab_size, "actual_vocab": tok.vocab_size,
                     "category": category, "documents": len(docs), "bytes": n_bytes, "tokens": ctc,
                     "bytes_per_token": round(n_bytes / ctc, 4), "tokenizer": tok.fingerprint[:16]})
    return {"rows": rows, "fingerprint": tok.fingerprint, "actual_vocab": tok.vocab_size}


def _describe(task: FamilyTask) -> dict[str, Any]:
    return {"task": "trainers_comparison", "trainer": task.trainer, "vocab_size": task.vocab_size,
            "options": task.options, "train": texts_sha256(task.train_docs),
            "held_out": [[category, texts_sha256(docs)] for category, docs in task.held_out]}


def family_cache(cache: Cache) -> TaskCache[FamilyTask, dict[str, Any]]:
    """(family, size) cells in ``cache`` as JSON, keyed by trainer, size, options and texts."""
    return TaskCache(cache, describe=_describe, encode=lambda cell: Record(meta=cell),
                     decode=lambda record: dict(record.meta))


@dataclass(frozen=True)
class TrainersComparison(RowsResult):
    """Bytes per token of every (trainer, vocabulary size, held-out category)."""


def _names(value: str | Sequence[str]) -> list[str]:
    parts = value.split(",") if isinstance(value, str) else list(value)
    return [p.strip() for p in parts if p.strip()]


def _canonical_trainers(trainers: str | Sequence[str]) -> list[str]:
    """Registered names (aliases resolved); an unknown name fails before any training."""
    from ..trainers import ALIASES, get_trainer

    names = []
    for name in _names(trainers):
        get_trainer(name)
        names.append(ALIASES.get(name.lower(), name.lower()))
    return names


def _texts(languages: list[str], code: list[str]) -> tuple[list[str], list[tuple[str, list[str]]], dict[str, Any]]:
    """Training documents, held-out categories, and where both came from."""
    from ..corpora import load_code, load_flores

    dev = load_flores(",".join(languages), split="dev")
    test = load_flores(",".join(languages), split="devtest")
    held_out: list[tuple[str, list[str]]] = [(c, list(d)) for c, d in test]
    train_docs = [d for _, docs in dev for d in docs]
    corpus = {"corpus": f"{dev.name} -> {test.name}", "train": dev.signature(), "eval": test.signature()}
    if code:
        code_corpus = load_code(",".join(code))
        for category, docs in code_corpus:
            train_docs.extend(docs[::2])
            held_out.append((f"code:{category}", list(docs[1::2])))
        corpus["code"] = {**code_corpus.signature(), "split": "even documents train, odd documents held out"}
    corpus["train_sha256"] = texts_sha256(train_docs)
    return train_docs, held_out, corpus


def compare_trainers(
    languages: str | Sequence[str] = DEFAULT_LANGUAGES,
    code: str | Sequence[str] = "python,c",
    *,
    trainers: str | Sequence[str] = DEFAULT_TRAINERS,
    vocab_sizes: Sequence[int] = (16_000, 32_000),
    options: dict[str, dict[str, Any]] | None = None,
    jobs: int | None = 1,
    cache: Cache | None = None,
    progress: bool = False,
    scheduler: Any = None,
) -> TrainersComparison:
    """Train every family at every size (one task each) and measure bytes per token held out.

    Args:
        languages: FLORES-200 codes (a list or a comma-separated string).
        code: code languages whose even documents train and odd documents are held out ("" for none).
        trainers: registered trainer names or aliases (see :data:`tokbench.trainers.TRAINERS`).
        vocab_sizes: the vocabulary sizes every family is trained at.
        options: per-family training options (default :data:`TRAINER_OPTIONS`).
        jobs: worker processes (1: this process; None: all cores); the numbers do not depend on it.
        cache: keep each (family, size) cell in this cache; a rerun skips what is done.
        scheduler: run the cells on a Dask cluster (an address or a ``distributed.Client``;
            default ``$TOKBENCH_SCHEDULER``, else local); the numbers do not depend on it.
    """
    sizes = [int(v) for v in vocab_sizes]
    if not sizes or any(v < 1 for v in sizes):
        raise TokbenchError(f"vocab_sizes must be positive integers, got {list(vocab_sizes)!r}")
    families = _canonical_trainers(trainers)
    options = TRAINER_OPTIONS if options is None else options
    train_docs, held_out, corpus = _texts(_names(languages), _names(code))
    tasks = [FamilyTask(name, size, train_docs, held_out, dict(options.get(name, {})))
             for name in families for size in sizes]
    cells = executor.map(train_and_measure, tasks, desc="trainers", jobs=jobs, progress=progress, scheduler=scheduler,
                         cache=family_cache(cache) if cache is not None else None)
    notes = [f"{t.trainer} at {t.vocab_size} has {c['actual_vocab']} tokens (the text or the family allows no "
             "more): compare its bytes per token with that in mind"
             for t, c in zip(tasks, cells, strict=True) if c["actual_vocab"] != t.vocab_size]
    signature = Signature(
        tokenizers={f"{t.trainer}@{t.vocab_size}": c["fingerprint"] for t, c in zip(tasks, cells, strict=True)},
        corpus=corpus, options={name: options.get(name, {}) for name in families},
        extra={"method": "trainers_comparison", "trainers": families, "vocab_sizes": sizes},
    )
    return TrainersComparison([row for c in cells for row in c["rows"]], signature, notes)
