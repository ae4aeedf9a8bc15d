"""The optimal-vocabulary experiment's independent tasks: train a language, measure one size.

BPE is greedy: merge ``t`` depends only on merges ``1..t−1``, never on the final size. So each
language is trained once (:func:`train_language`, one task per language) at the largest size
needed, and the tokenizer at every smaller size is a prefix of that merge list
(:func:`truncate_bpe`; a test checks truncation equals training at that size). Each (language,
vocabulary size) cell is then one :func:`measure_size` task: truncate, count tokens on the
evaluation text (line by line, no special tokens, as Arnett et al. do), and the tokenization
features the regression uses.

Tasks and their results are plain data (:class:`MergeRun` holds a training run as lists and
arrays), so :func:`tokbench.executor.map` can run them in worker processes, and
:func:`train_cache` / :func:`measure_cache` say how to keep them in a
:class:`tokbench.cache.Cache`.

Example:
    >>> run = train_language(TrainTask("eng_Latn", ["low lower lowest"] * 3, 262, "gpt2"))
    >>> run.trained_vocab, measure_size(MeasureTask("eng_Latn", 260, run, ["lowest"], ["low"]))["ctc"]
    (262, 4)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...cache import Cache, Record
from ...executor import TaskCache
from ..texts import texts_sha256
from .options import OptimalVocabError

if TYPE_CHECKING:  # pragma: no cover
    from ...model.tokenizer import Tokenizer
    from ...trainers.bpe import TrainedBPE

__all__ = ["MergeRun", "TrainTask", "MeasureTask", "truncate_bpe", "train_language", "measure_size",
           "train_cache", "measure_cache"]


@dataclass(frozen=True)
class MergeRun:
    """One byte-level BPE training run as plain data: what truncation and the support flags need."""

    name: str
    pattern: str
    special_tokens: dict[str, int]
    vocab: list[bytes]
    merges: list[tuple[int, int]]
    merged_ids: list[int]
    merge_counts: Any  # int64 array aligned with ``merges``
    stop_reason: str

    @classmethod
    def of(cls, trained: TrainedBPE) -> MergeRun:
        tok = trained.tokenizer
        return cls(name=tok.name, pattern=trained.pattern, special_tokens=dict(tok.special_tokens),
                   vocab=list(tok.vocab), merges=list(trained.merges), merged_ids=list(trained.merged_ids),
                   merge_counts=trained.merge_counts, stop_reason=trained.stop_reason)

    @property
    def trained_vocab(self) -> int:
        return len(self.vocab)

    @property
    def supported_vocab(self) -> int | None:
        """Size up to which every merged pair occurred at least twice (None: all so far did)."""
        import numpy as np

        weak = np.flatnonzero(np.asarray(self.merge_counts) < 2)
        if not weak.size:
            return None if self.stop_reason == "vocab_size" else self.trained_vocab
        return 256 + len(self.special_tokens) + int(weak[0])

    def beyond_support(self, size: int) -> bool:
        s = self.supported_vocab
        return s is not None and size > s


def truncate_bpe(trained: TrainedBPE | MergeRun, vocab_size: int, *, name: str | None = None) -> Tokenizer:
    """The tokenizer ``train_bpe`` would return at ``vocab_size``, from a larger training run.

    BPE training is greedy — the merge at step t is the most frequent pair after merges 1..t−1,
    whatever the final size — so training at a smaller size yields exactly the first merges of
    a longer run. The prefix ends with the merge that created token ``vocab_size − 1`` (a merge
    that re-creates an existing token adds no id, and training stops as soon as the vocabulary
    is full).
    """
    from ...formats.hf_json import byte_level_bpe_json, tokenizer_from_json_text
    from ...trainers.bpe import file_merges

    run = trained if isinstance(trained, MergeRun) else MergeRun.of(trained)
    n_alphabet = 256 + len(run.special_tokens)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < n_alphabet:
        raise OptimalVocabError(
            f"cannot truncate to vocab_size {vocab_size!r}: it must be an integer >= {n_alphabet} "
            "(the byte alphabet and special tokens)"
        )
    if vocab_size > run.trained_vocab:
        raise OptimalVocabError(
            f"cannot truncate {run.name} ({run.trained_vocab} tokens) to {vocab_size}: train a larger vocabulary first"
        )
    k = 0 if vocab_size == n_alphabet else run.merged_ids.index(vocab_size - 1) + 1
    text = byte_level_bpe_json(run.vocab[:vocab_size], file_merges(run.merges[:k]), pattern=run.pattern,
                               special_tokens=dict(run.special_tokens))
    return tokenizer_from_json_text(text, name=name or f"{run.name}@{vocab_size}")


# ------------------------------------------------------------------------------ training


@dataclass(frozen=True)
class TrainTask:
    """Train ``language``'s monolingual BPE on ``documents`` up to ``vocab_size`` tokens.

    ``train_fn`` is None for :func:`tokbench.trainers.bpe.train_bpe`; another trainer must be a
    module-level function (worker processes import it by name).
    """

    language: str
    documents: Sequence[str]
    vocab_size: int
    pattern: str
    train_fn: Callable[..., Any] | None = None


def train_language(task: TrainTask) -> MergeRun:
    """Pretokenize once, train (a smaller vocabulary when the text runs out of pairs)."""
    from ...trainers.bpe import train_bpe, word_counts

    train_fn = task.train_fn or train_bpe
    table = word_counts(task.documents, task.pattern)
    trained = train_fn(table, vocab_size=task.vocab_size, pattern=task.pattern, allow_smaller=True,
                       progress=False, name=f"bpe-{task.language}")
    return MergeRun.of(trained)


def _describe_training(task: TrainTask) -> dict[str, Any]:
    fn = task.train_fn
    trainer = "tokbench.trainers.bpe:train_bpe" if fn is None else f"{fn.__module__}:{fn.__qualname__}"
    return {"task": "optimal_vocab.train", "language": task.language, "text": texts_sha256(task.documents),
            "vocab_size": task.vocab_size, "pattern": task.pattern, "trainer": trainer}


def _encode_run(run: MergeRun) -> Record:
    import numpy as np

    return Record(
        meta={"name": run.name, "pattern": run.pattern, "special_tokens": run.special_tokens,
              "stop_reason": run.stop_reason},
        arrays={"vocab_bytes": np.frombuffer(b"".join(run.vocab), dtype=np.uint8),
                "vocab_ends": np.cumsum([len(v) for v in run.vocab], dtype=np.int64),
                "merges": np.asarray(run.merges, dtype=np.int64).reshape(-1, 2),
                "merged_ids": np.asarray(run.merged_ids, dtype=np.int64),
                "merge_counts": np.asarray(run.merge_counts, dtype=np.int64)},
    )


def _decode_run(record: Record) -> MergeRun:
    blob = bytes(record.arrays["vocab_bytes"])
    ends = record.arrays["vocab_ends"].tolist()
    vocab = [blob[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]
    meta = record.meta
    return MergeRun(name=meta["name"], pattern=meta["pattern"], special_tokens=dict(meta["special_tokens"]),
                    vocab=vocab, merges=[(a, b) for a, b in record.arrays["merges"].tolist()],
                    merged_ids=record.arrays["merged_ids"].tolist(),
                    merge_counts=record.arrays["merge_counts"], stop_reason=meta["stop_reason"])


def train_cache(cache: Cache) -> TaskCache[TrainTask, MergeRun]:
    """Training runs in ``cache``, keyed by the text's hash, size, pattern and trainer."""
    return TaskCache(cache, describe=_describe_training, encode=_encode_run, decode=_decode_run)


# ------------------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class MeasureTask:
    """Measure ``language``'s tokenizer at ``size`` (a prefix of ``run``) on its evaluation text."""

    language: str
    size: int
    run: MergeRun
    evals: Sequence[str]
    overlap_docs: Sequence[str]


def _token_tables(tok: Tokenizer) -> tuple[Any, Any, Any]:
    """Per-id characters (a UTF-8 fragment counts as one) and whether the token holds a space."""
    import numpy as np

    chars = np.fromiter((len(v.decode("utf-8", errors="replace")) for v in tok.vocab), dtype=np.float64,
                        count=len(tok.vocab))
    space = np.fromiter((b" " in v for v in tok.vocab), dtype=bool, count=len(tok.vocab))
    learned = np.zeros(len(tok.vocab), dtype=bool)
    learned[256 + len(tok.special_tokens):] = True
    return chars, space, learned


def measure_size(task: MeasureTask) -> dict[str, Any]:
    """CTC and tokenization features of the tokenizer at ``task.size``: one grid cell."""
    import numpy as np

    from ...metrics.compression import count_tokens

    tok = truncate_bpe(task.run, task.size, name=f"bpe-{task.language}-{task.size}")
    counts = count_tokens(tok, task.evals)
    freq = counts.freq.astype(np.float64)
    ctc = counts.ctc
    train_freq = count_tokens(tok, task.overlap_docs).freq
    chars, space, learned = _token_tables(tok)
    n_learned = int(learned.sum())
    return {
        "actual_vocab": task.size,
        "ctc": ctc,
        "overlap": float(freq[train_freq > 0].sum() / ctc) if ctc else None,
        "mean_token_chars": float(chars[learned].mean()) if n_learned else None,
        "whitespace_share": float(space[learned].mean()) if n_learned else None,
        "eval_mean_token_chars": float(freq @ chars / ctc) if ctc else None,
        "eval_whitespace_share": float(freq[space].sum() / ctc) if ctc else None,
        "fingerprint": tok.fingerprint,
    }


def _run_digest(run: MergeRun) -> str:
    record = _encode_run(run)
    digest = hashlib.sha256(json.dumps(record.meta, sort_keys=True).encode("utf-8"))
    for name in sorted(record.arrays):
        digest.update(record.arrays[name].tobytes())
    return digest.hexdigest()


def _describe_measurement(task: MeasureTask) -> dict[str, Any]:
    return {"task": "optimal_vocab.measure", "run": _run_digest(task.run), "size": task.size,
            "evals": texts_sha256(task.evals), "overlap": texts_sha256(task.overlap_docs)}


def measure_cache(cache: Cache) -> TaskCache[MeasureTask, dict[str, Any]]:
    """Grid cells in ``cache`` (JSON rows), keyed by the training run, size and texts."""
    return TaskCache(cache, describe=_describe_measurement, encode=lambda row: Record(meta=row),
                     decode=lambda record: dict(record.meta))
