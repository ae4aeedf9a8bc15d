"""Byte-level BPE training (Sennrich et al. 2016; GPT-2's byte-level variant, Radford et al. 2019).

This module *learns* the merges; :mod:`tokbench.model.bpe` *applies* them at encode time.

Text is split by a pretokenizer regex (GPT-2's by default, any named pattern of
:mod:`tokbench.model.patterns`, or a regex of your own), the pieces are counted into a word table, and
merges are learned over the pieces' UTF-8 bytes: at each step the most frequent adjacent pair
becomes a new token. Pair counts are updated incrementally and the best pair comes from a lazy
max-heap (numba kernels in :mod:`tokbench.trainers._kernels`), never from a full recount.

The algorithm is HF ``tokenizers``' ``BpeTrainer`` merge for merge: the same initial ids
(special tokens, then the 256 byte-level characters sorted by code point), the same tie-break
(the smaller pair of ids), the same ``min_frequency`` stop and ``max_token_length`` rule (a pair
is counted only while its token would be shorter than the limit, in byte-level characters, i.e.
bytes). Parity tests hold tokbench's merge list to ``BpeTrainer``'s on real text. It differs from
its neighbours in :mod:`tokbench.trainers` by working on bytes with a word-splitting regex;
character-level BPE caps tokens in characters instead.

Beyond ``BpeTrainer``: ``initial_merges`` continues an existing merge list (replayed first, in
order, whatever the counts — SuperBPE's stage 2 does this), and every merge records the count of
its pair at its step (:attr:`TrainedBPE.merge_counts`), the trace data-mixture inference uses.

Example:
    >>> trained = train_bpe(["low lower lowest"] * 3, vocab_size=260, progress=False)
    >>> [trained.tokenizer.vocab[i] for i in range(256, 260)]
    [b'lo', b'low', b' low', b' lowe']
    >>> trained.merge_counts.tolist()
    [9, 9, 6, 6]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import TokbenchError, TrainingError, UnknownNameError
from ..model.bytelevel import BYTE_TO_UNICODE, UNICODE_TO_BYTE
from ..model.tokenizer import Tokenizer
from ._common import TrainedResult, check_vocab_size, corpus_description, piece_table
from .counting import check_jobs, count_words
from .engine import run_bpe_kernel

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["TrainedBPE", "train_bpe", "word_counts", "resolve_pattern", "StopReason", "STOP_REASONS",
           "stop_reason", "file_merges", "run_bpe_kernel"]

StopReason = Literal["vocab_size", "no_pairs", "min_frequency"]
#: The engine's stop codes by name.
STOP_REASONS: dict[int, StopReason] = {1: "vocab_size", 2: "no_pairs", 3: "min_frequency"}


@dataclass(eq=False)
class TrainedBPE(TrainedResult):
    """A trained BPE tokenizer with its training trace (a :class:`~tokbench.results.Result`:
    ``to_frame()`` is the merge list).

    Attributes:
        tokenizer: the tokbench ``Tokenizer`` (saves as a standard ``tokenizer.json``).
        merges: every merge in training order as ``(left_id, right_id)``; equal to
            ``tokenizer.merges`` unless a merge produced an existing token twice (HF keeps the
            later rank of a repeated pair in the file; this list keeps both).
        merged_ids: the id each merge produced.
        merge_counts: the count of each merged pair at its step (``int64``, aligned with ``merges``).
        stop_reason: why training stopped (``"vocab_size"``, ``"no_pairs"``, ``"min_frequency"``).
        pattern: the split regex used.
        n_words, n_word_types: pretokenized pieces counted, and distinct ones.
    """

    tokenizer: Tokenizer
    merges: list[tuple[int, int]]
    merged_ids: list[int]
    merge_counts: np.ndarray
    stop_reason: StopReason
    pattern: str
    n_words: int
    n_word_types: int
    options: dict[str, Any] = field(default_factory=dict)
    #: Where the training text came from (a corpus's signature, or a description of the texts).
    corpus: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The merges in training order: ``rank``, ``left``, ``right``, ``merged_id``, ``count``
        and the merged ``token`` (bytes)."""
        import pandas as pd

        vocab = self.tokenizer.vocab
        return pd.DataFrame({"rank": range(len(self.merges)), "left": [a for a, _ in self.merges],
                             "right": [b for _, b in self.merges], "merged_id": self.merged_ids,
                             "count": self.merge_counts, "token": [vocab[i] for i in self.merged_ids]})

    def to_hf_json(self) -> str:
        return self.tokenizer.to_hf_json()


# ---------------------------------------------------------------------------------- pretokenizing


def resolve_pattern(pattern: str) -> tuple[str, str]:
    """``(name, regex)`` for ``"gpt2"``, a registered pattern name, or a regex.

    A string that looks like a name (letters, digits, ``_-.``) must be a known name; anything
    else is compiled as a regex (:func:`tokbench.model.patterns.resolve_split_pattern`).
    """
    from ..model.patterns import GPT2_PATTERN, PATTERNS, resolve_split_pattern

    if not isinstance(pattern, str) or not pattern:
        raise TokbenchError(f"pattern must be a name or a regex string, got {pattern!r}")
    if pattern.lower() in ("gpt2", "gpt-2", "bytelevel"):
        return "gpt2", GPT2_PATTERN
    try:
        found = resolve_split_pattern(pattern)
    except UnknownNameError:
        raise UnknownNameError("split pattern", pattern, ["gpt2", *PATTERNS]) from None
    except ValueError as err:
        raise TokbenchError(f"pattern {pattern!r} is not a valid regex ({err}); fix it or use a "
                            f"named pattern: gpt2, {', '.join(PATTERNS)}") from None
    return ("custom", found) if isinstance(found, str) else (found.name, found.regex)


def word_counts(corpus_or_texts: Any, pattern: str = "gpt2", *, jobs: int | None = None) -> dict[str, int]:
    """Count the pieces the split regex makes of each text (each document split on its own).

    Pieces are the regex matches and the gaps between them (HF ``Split`` with ``Isolated``
    behaviour, which is what ``ByteLevel(use_regex=True)`` does with GPT-2's pattern). The input
    is read one document at a time (a :class:`~tokbench.corpora.CorpusStream` too); ``jobs``
    worker processes count chunks of it (:func:`tokbench.trainers.counting.count_words`), with
    the same table as one process.

    Example:
        >>> word_counts(["the cat", "the dog"])
        {'the': 2, ' cat': 1, ' dog': 1}
    """
    _, rx = resolve_pattern(pattern)
    return count_words(corpus_or_texts, rx, jobs=jobs)


# -------------------------------------------------------------------------------------- training


def _initial_tokens(special_tokens: Sequence[str]) -> tuple[list[tuple[int, ...]], dict[str, int], np.ndarray]:
    """Token units by id (specials, then bytes in code-point order of their byte-level character),
    the special tokens' ids, and byte -> id."""
    units: list[tuple[int, ...]] = []
    specials: dict[str, int] = {}
    for k, tok in enumerate(special_tokens):
        if not isinstance(tok, str) or not tok:
            raise TrainingError(f"special token {k} ({tok!r}) must be a non-empty string")
        if tok in specials:
            continue  # HF keeps the first of repeated special tokens
        if len(tok) == 1 and tok in UNICODE_TO_BYTE:
            raise TrainingError(
                f"special token {tok!r} is a single byte-level character, which would hide byte "
                f"{UNICODE_TO_BYTE[tok]:#04x} from the alphabet; use a longer special token"
            )
        specials[tok] = len(units)
        if all(c in UNICODE_TO_BYTE for c in tok):
            units.append(tuple(UNICODE_TO_BYTE[c] for c in tok))
        else:  # cannot equal any byte string: give it units outside the byte range
            units.append((256 + len(units),))
    byte_to_id = np.empty(256, np.int32)
    for byte in sorted(range(256), key=lambda b: ord(BYTE_TO_UNICODE[b])):
        byte_to_id[byte] = len(units)
        units.append((byte,))
    return units, specials, byte_to_id


def _merge_pairs(initial_merges: Any) -> list[Any]:
    """An initial merge list (pairs of bytes, a Tokenizer or a TrainedBPE) as pairs of bytes."""
    if isinstance(initial_merges, TrainedBPE):
        initial_merges = initial_merges.tokenizer
    if isinstance(initial_merges, Tokenizer):
        if not initial_merges.has_merges:
            raise TrainingError(f"{initial_merges.name} has no merge list to continue from")
        vocab = initial_merges.vocab
        return [(vocab[a], vocab[b]) for a, b in initial_merges.merges or []]
    return list(initial_merges)


def _forced_pairs(initial_merges: Any, units: list[tuple[int, ...]]) -> list[tuple[int, int]]:
    """Map an initial merge list to kernel ids, appending the tokens it makes to ``units``."""
    if initial_merges is None:
        return []
    ids = {u: i for i, u in reversed(list(enumerate(units)))}
    forced: list[tuple[int, int]] = []
    for k, pair in enumerate(_merge_pairs(initial_merges)):
        if len(pair) != 2 or not all(isinstance(p, bytes) and p for p in pair):
            raise TrainingError(f"initial merge {k} ({pair!r}) is not a pair of non-empty bytes")
        left, right = tuple(pair[0]), tuple(pair[1])
        if left not in ids or right not in ids:
            missing = pair[0] if left not in ids else pair[1]
            raise TrainingError(
                f"initial merge {k} ({pair[0]!r}, {pair[1]!r}) uses {missing!r}, which no earlier "
                "merge made; give the merges in training order"
            )
        forced.append((ids[left], ids[right]))
        ids.setdefault(left + right, len(units))
        if ids[left + right] == len(units):
            units.append(left + right)
    return forced


def _words_to_arrays(table: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTF-8 bytes of every word (flat), their lengths and counts."""
    encoded = [w.encode("utf-8") for w in table]
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    counts = np.fromiter(table.values(), dtype=np.int64, count=len(encoded))
    return data, lengths, counts


def file_merges(merges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The merge list HF writes: a repeated pair keeps only its last rank (a HashMap insert)."""
    last = {pair: k for k, pair in enumerate(merges)}
    return [pair for k, pair in enumerate(merges) if last[pair] == k]


def stop_reason(stop: int, n_tokens: int, vocab_size: int, *, allow_smaller: bool, advice: str) -> StopReason:
    """The name of the engine's stop code; raise when the text ran out of pairs before
    ``vocab_size`` and a smaller vocabulary is not allowed (``advice`` says why and what to do)."""
    reason = STOP_REASONS.get(stop, "vocab_size")
    if reason == "no_pairs" and n_tokens < vocab_size and not allow_smaller:
        raise TrainingError(f"no pair left to merge after {n_tokens} tokens, before vocab_size {vocab_size}: {advice}")
    return reason


def _check_options(vocab_size: Any, min_frequency: Any, max_token_length: Any) -> None:
    check_vocab_size(vocab_size)
    if isinstance(min_frequency, bool) or not isinstance(min_frequency, int) or min_frequency < 0:
        raise TrainingError(f"min_frequency must be a non-negative integer, got {min_frequency!r}")
    if max_token_length is not None and (
        isinstance(max_token_length, bool) or not isinstance(max_token_length, int) or max_token_length < 2
    ):
        raise TrainingError(f"max_token_length must be an integer >= 2 or None, got {max_token_length!r}")


def _alphabet(special_tokens: Sequence[str], initial_merges: Any, vocab_size: int) -> tuple[Any, ...]:
    """``(token units, special ids, byte -> id, forced pairs)``, checked against ``vocab_size``."""
    token_units, specials, byte_to_id = _initial_tokens(list(special_tokens))
    n_alphabet = len(token_units)
    if vocab_size < n_alphabet:
        raise TrainingError(
            f"vocab_size {vocab_size} is smaller than the alphabet: 256 bytes + "
            f"{len(specials)} special tokens = {n_alphabet}; use at least {n_alphabet}"
        )
    replayed = list(token_units)
    forced = _forced_pairs(initial_merges, replayed)
    if len(replayed) > vocab_size:
        raise TrainingError(
            f"the initial merge list already makes {len(replayed)} tokens, more than vocab_size "
            f"{vocab_size}; raise vocab_size or continue from a shorter merge list"
        )
    return token_units, specials, byte_to_id, forced


def _byte_level_tokenizer(tokens: list[tuple[int, ...]], specials: dict[str, int], merges: list[tuple[int, int]],
                          regex: str, label: str) -> Tokenizer:
    """The trained tokenizer as a standard HF byte-level ``tokenizer.json`` and its tokbench model."""
    from ..formats.hf_json import byte_level_bpe_json, tokenizer_from_json_text

    special_text = {i: s for s, i in specials.items()}
    vocab = [special_text[t].encode("utf-8") if t in special_text else bytes(u) for t, u in enumerate(tokens)]
    text = byte_level_bpe_json(vocab, file_merges(merges), pattern=regex, special_tokens=specials)
    return tokenizer_from_json_text(text, name=label)


def train_bpe(
    corpus_or_texts: Any,
    *,
    vocab_size: int,
    pattern: str = "gpt2",
    min_frequency: int = 0,
    special_tokens: Sequence[str] = (),
    max_token_length: int | None = None,
    initial_merges: Any = None,
    allow_smaller: bool = False,
    progress: bool = True,
    name: str | None = None,
    jobs: int | None = None,
) -> TrainedBPE:
    """Train a byte-level BPE tokenizer; deterministic (no seed: ties go to the smaller pair).

    Args:
        corpus_or_texts: a :class:`~tokbench.corpora.Corpus` (every document of every
            category), an iterable of texts, or a word-count table ``{piece: count}`` of
            already-pretokenized pieces (as :func:`word_counts` returns).
        vocab_size: the final vocabulary, special tokens and the 256 bytes included.
        pattern: ``"gpt2"`` (HF ``ByteLevel``), a name from :mod:`tokbench.model.patterns`
            (``cl100k``, ``o200k``, ...) or a regex.
        min_frequency: stop when the best pair occurs fewer times than this.
        special_tokens: added first, with ids 0, 1, ...
        max_token_length: longest token in byte-level characters (bytes), HF's rule.
        initial_merges: a merge list to continue from — a ``Tokenizer``, a ``TrainedBPE`` or
            ``(bytes, bytes)`` pairs in order — replayed before training continues.
        allow_smaller: return a smaller vocabulary when no pair is left to merge, instead of
            raising :class:`~tokbench.trainers.TrainingError`.
        progress: show a progress bar.
        jobs: worker processes that pretokenize and count (``None``: this process only); the
            merges are the same for every value.

    Example:
        >>> t = train_bpe({"hello": 5, " world": 2}, vocab_size=260, progress=False)
        >>> t.tokenizer.tokens("hello world")
        [b'hello', b' ', b'w', b'o', b'r', b'l', b'd']
    """
    _check_options(vocab_size, min_frequency, max_token_length)
    check_jobs(jobs)
    if isinstance(special_tokens, str):
        special_tokens = [special_tokens]
    pattern_name, regex = resolve_pattern(pattern)
    token_units, specials, byte_to_id, forced = _alphabet(special_tokens, initial_merges, vocab_size)
    if isinstance(corpus_or_texts, Mapping):
        table = piece_table(corpus_or_texts)
    else:
        table = count_words(corpus_or_texts, regex, jobs=jobs)
    if not table:
        raise TrainingError("the corpus is empty: no text to train on; give at least one non-empty text")
    data, lengths, counts = _words_to_arrays(table)
    merges_arr, tokens, stop = run_bpe_kernel(
        (byte_to_id[data], lengths), counts, token_units, vocab_size=vocab_size, min_frequency=min_frequency,
        max_length=max_token_length, forced=forced, progress=progress,
    )
    reason = stop_reason(stop, len(tokens), vocab_size, allow_smaller=allow_smaller,
                         advice="the corpus is too small for this vocabulary; give more text, a smaller "
                                "vocab_size, or allow_smaller=True")
    merges = [(int(a), int(b)) for a, b in merges_arr[:, :2]]
    tokenizer = _byte_level_tokenizer(tokens, specials, merges, regex, name or f"bpe-{pattern_name}-{len(tokens)}")
    return TrainedBPE(
        tokenizer=tokenizer, merges=merges, merged_ids=[int(x) for x in merges_arr[:, 2]],
        merge_counts=merges_arr[:, 3].copy(), stop_reason=reason, pattern=regex,
        n_words=int(counts.sum()), n_word_types=len(table),
        options={"vocab_size": vocab_size, "pattern": pattern_name, "min_frequency": min_frequency,
                 "special_tokens": list(specials), "max_token_length": max_token_length,
                 "initial_merges": len(forced)},
        corpus=corpus_description(corpus_or_texts, int(counts.sum()), len(table)),
    )
