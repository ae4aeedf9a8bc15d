"""Superword BPE (SuperBPE; Liu et al. 2025, "SuperBPE: Space Travel for Language Models").

A two-stage pretokenization curriculum over one merge list:

1. **Stage 1** is ordinary byte-level BPE (:func:`tokbench.trainers.bpe.train_bpe`) with a
   whitespace-respecting split regex (``llama3`` by default: digit groups of 1–3, words with
   their leading space) up to the *transition* vocabulary size ``t``.
2. **Stage 2** replays stage 1's merges in order and keeps merging with a pretokenizer that no
   longer splits at spaces: :data:`STAGE2_PATTERN`, the regex of the SuperBPE release
   (``scripts/extend_tokenizer.sh`` in github.com/PythonNut/superbpe), still isolates digit
   groups ``\\p{N}{1,3}``, runs of two or more punctuation characters and runs of spaces before a
   space, so letters and single spaces run together into *superwords*.

During stage-2 *training* only, each piece is further cut so that no token can span more than
``max_words`` words (4 by default, as in the paper) and none can cross a colon followed by a
space (``": "``, which SuperBPE keeps out of tokens so chat-style prompts tokenize stably).
Those cuts need not be in the saved file: every merge was learned inside the cut pieces, so
merge-rank BPE over a whole stage-2 piece can only build tokens the trainer built. The saved
``tokenizer.json`` is an ordinary HF byte-level BPE file (stage-2 ``Split`` regex + the full
merge list) that ``tokenizers`` encodes exactly as tokbench's native encoder does.

It differs from :mod:`tokbench.trainers.bpe` only in the second-stage pieces; the merge engine
(HF ``BpeTrainer``'s algorithm, ties to the smaller pair of ids) is the same.

Example:
    >>> texts = ["the cat sat on the mat. the cat sat on the hat."] * 20
    >>> t = train_superword(texts, vocab_size=278, transition=265, progress=False)
    >>> t.tokenizer.tokens("the cat sat on the mat.")[:2]
    [b'the cat sat on', b' the mat.']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import regex

from ..errors import TrainingError
from ._common import check_vocab_size, corpus_description, texts_of
from .bpe import TrainedBPE, train_bpe, word_counts
from .counting import check_jobs

__all__ = ["train_superword", "STAGE2_PATTERN", "superword_pieces", "resolve_transition"]

#: SuperBPE's stage-2 split regex (its public release): digit groups, punctuation runs of 2+
#: characters (with trailing newlines or slashes), and runs of spaces not followed by a word.
STAGE2_PATTERN = r"\p{N}{1,3}| ?[^\s\p{L}\p{N}]{2,}[\r\n/]*| +(?!\S)"

_NONSPACE = regex.compile(r"\S+")


def superword_pieces(piece: str, *, max_words: int = 4) -> list[str]:
    """Cut a stage-2 piece into training chunks of at most ``max_words`` words, never across
    ``": "``. A word is a run of non-space characters with the whitespace before it.

    Example:
        >>> superword_pieces("the cat sat on the mat")
        ['the cat sat on', ' the mat']
        >>> superword_pieces("Note: the cat")
        ['Note:', ' the cat']
    """
    cuts: list[int] = []
    words = 0
    prev_end = 0
    for match in _NONSPACE.finditer(piece):
        # A colon inside a run ("a:b") is no boundary; only ": " ends a chunk.
        after_colon = prev_end > 0 and piece[prev_end - 1] == ":" and piece[prev_end:prev_end + 1] == " "
        if words and (words >= max_words or after_colon):
            cuts.append(prev_end)
            words = 0
        words += 1
        prev_end = match.end()
    if not cuts:
        return [piece]
    bounds = [0, *cuts, len(piece)]
    return [piece[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if a < b]


def stage2_word_counts(table: Mapping[str, int], *, max_words: int) -> dict[str, int]:
    """Re-count a stage-2 piece table after cutting every piece with :func:`superword_pieces`."""
    counts: Counter[str] = Counter()
    for piece, count in table.items():
        for chunk in superword_pieces(piece, max_words=max_words):
            counts[chunk] += count
    return dict(counts)


def resolve_transition(transition: int | float, vocab_size: int, n_alphabet: int) -> int:
    """The stage-1 vocabulary size: a count, or a fraction (0 < f < 1) of ``vocab_size``."""
    if isinstance(transition, bool) or not isinstance(transition, int | float):
        raise TrainingError(f"transition must be a token count or a fraction of vocab_size, got {transition!r}")
    if isinstance(transition, float):
        if not 0.0 < transition < 1.0:
            raise TrainingError(f"a fractional transition must lie strictly between 0 and 1, got {transition}")
        t = int(round(transition * vocab_size))
    else:
        t = transition
    if not n_alphabet <= t <= vocab_size:
        raise TrainingError(
            f"transition {t} must lie between the alphabet ({n_alphabet} tokens) and vocab_size "
            f"{vocab_size}; give a count in that range or a fraction such as 0.8"
        )
    return t


def train_superword(
    corpus_or_texts: Any,
    *,
    vocab_size: int,
    transition: int | float = 0.8,
    max_words: int = 4,
    pattern: str = "llama3",
    stage2_pattern: str = STAGE2_PATTERN,
    min_frequency: int = 0,
    special_tokens: Any = (),
    max_token_length: int | None = None,
    allow_smaller: bool = False,
    progress: bool = True,
    name: str | None = None,
    jobs: int | None = None,
) -> TrainedBPE:
    """Train a SuperBPE tokenizer: BPE up to ``transition``, then superword merges up to ``vocab_size``.

    Args:
        corpus_or_texts: a :class:`~tokbench.corpora.Corpus` or an iterable of texts.
        vocab_size: the final vocabulary (special tokens and 256 bytes included).
        transition: stage 1's vocabulary size ``t`` — a token count, or a fraction of
            ``vocab_size`` (``0.8`` by default; the paper's best downstream setting at 200k was
            ``t = 180k``, while smaller ``t`` compresses more).
        max_words: cap on words per superword (training-time cut, see the module docstring).
        pattern: stage 1's split pattern (a name from :mod:`tokbench.model.patterns` or a regex).
        stage2_pattern: stage 2's split regex, saved in the tokenizer file.
        jobs: worker processes that pretokenize and count, in both stages (``None``: this
            process only); the merges are the same for every value.

    The result's ``merge_counts`` covers both stages; ``options["stage1_merges"]`` tells where
    stage 2 starts.
    """
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
        raise TrainingError(f"max_words must be a positive integer, got {max_words!r}")
    check_vocab_size(vocab_size)
    if isinstance(corpus_or_texts, Mapping):
        raise TrainingError("superword BPE needs texts (or a Corpus), not a word-count table: "
                            "stage 2 re-splits the raw text")
    from ..corpora import Corpus, CorpusStream

    check_jobs(jobs)
    # A Corpus or a stream is read twice as it is; other texts are listed once (iterated once per stage).
    texts = (corpus_or_texts if isinstance(corpus_or_texts, Corpus | CorpusStream)
             else list(texts_of(corpus_or_texts)))
    n_specials = len(dict.fromkeys([special_tokens] if isinstance(special_tokens, str) else special_tokens))
    t = resolve_transition(transition, vocab_size, 256 + n_specials)
    common = dict(min_frequency=min_frequency, special_tokens=special_tokens,
                  max_token_length=max_token_length, allow_smaller=allow_smaller)
    try:
        stage1 = train_bpe(texts, vocab_size=t, pattern=pattern, progress=progress, jobs=jobs, **common)
    except TrainingError as error:
        # Stage 1 stops at the transition, not at vocab_size: say so, or the size in the message
        # (the transition) matches nothing the caller typed. Other errors need no such context.
        if not str(error).startswith("no pair left"):
            raise
        raise TrainingError(f"superword stage 1 (ordinary BPE up to transition {t} of vocab_size "
                            f"{vocab_size}): {error}; a smaller transition also works") from error
    table = stage2_word_counts(word_counts(texts, stage2_pattern, jobs=jobs), max_words=max_words)
    label = name or f"superword-{len(stage1.tokenizer.vocab)}-{vocab_size}"
    stage2 = train_bpe(table, vocab_size=vocab_size, pattern=stage2_pattern, initial_merges=stage1,
                       progress=progress, name=label, **common)
    stage2.tokenizer.description["superword"] = {"transition": len(stage1.tokenizer.vocab), "max_words": max_words,
                                                 "stage1_pattern": stage1.pattern}
    return _joined(stage1, stage2, corpus_or_texts, vocab_size=vocab_size, max_words=max_words,
                   stage2_pattern=stage2_pattern, min_frequency=min_frequency, max_token_length=max_token_length)


def _joined(stage1: TrainedBPE, stage2: TrainedBPE, corpus_or_texts: Any, *, vocab_size: int, max_words: int,
            stage2_pattern: str, min_frequency: int, max_token_length: int | None) -> TrainedBPE:
    """The two stages as one result: stage 2's tokenizer and merges, stage 1's own counts for the
    merges stage 2 replayed (stage 2 replays them with stage-2 counts)."""
    n1 = len(stage1.merges)
    counts = stage2.merge_counts.copy()
    counts[:n1] = stage1.merge_counts
    return TrainedBPE(
        tokenizer=stage2.tokenizer,
        merges=stage2.merges,
        merged_ids=stage2.merged_ids,
        merge_counts=counts,
        stop_reason=stage2.stop_reason,
        pattern=stage2.pattern,
        n_words=stage1.n_words,
        n_word_types=stage2.n_word_types,
        options={"vocab_size": vocab_size, "transition": len(stage1.tokenizer.vocab),
                 "stage1_merges": n1, "max_words": max_words, "pattern": stage1.options["pattern"],
                 "stage2_pattern": stage2_pattern, "min_frequency": min_frequency,
                 "special_tokens": stage1.options["special_tokens"], "max_token_length": max_token_length},
        corpus=corpus_description(corpus_or_texts, stage1.n_words, stage1.n_word_types),
    )
