"""Character-level BPE with a cap on token length (KL3M, 2025: 3–4 character tokens).

The base symbols are Unicode characters rather than bytes, and no merge may make a token longer
than ``max_token_chars`` characters, so the vocabulary spends its budget on short, frequent
character n-grams (what OCR correction and character-aware tasks want) instead of whole words.
Text is optionally NFKC-normalized and split by a pretokenizer regex, as in
:mod:`tokbench.trainers.bpe`; the same numba engine learns the merges (HF ``BpeTrainer``'s
algorithm, ties to the smaller pair of ids). Characters outside the alphabet encode through
256 byte-fallback tokens ``<0x00>``..``<0xFF>``, as in Llama/SentencePiece conversions.

It differs from its neighbour, byte-level BPE, in its alphabet (characters seen in the corpus,
optionally the ``limit_alphabet`` most frequent) and its cap (characters, inclusive). The
tokenizer saves as a standard HF ``tokenizer.json`` (BPE with ``byte_fallback``, a ``Split``
pretokenizer and an optional ``NFKC`` normalizer) that ``tokenizers`` encodes identically.

Example:
    >>> t = train_char_bpe(["the theme of these theses"] * 4, vocab_size=268, max_token_chars=3,
    ...                    progress=False)
    >>> max(len(token.decode()) for token in t.tokenizer.vocab[256:])   # after <0x00>..<0xFF>
    3
    >>> t.tokenizer.tokens("these")
    [b'the', b'se']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ..errors import TrainingError
from ..model.tokenizer import Tokenizer
from ._common import check_vocab_size, corpus_description, piece_table
from .bpe import TrainedBPE, file_merges, resolve_pattern, stop_reason
from .counting import check_jobs, count_words
from .engine import run_bpe_kernel

__all__ = ["train_char_bpe"]

Normalization = Literal["NFKC", "NFC"]


def _check_options(vocab_size: Any, max_token_chars: Any, normalization: Any, limit_alphabet: Any) -> None:
    check_vocab_size(vocab_size)
    if isinstance(max_token_chars, bool) or not isinstance(max_token_chars, int) or max_token_chars < 2:
        raise TrainingError(f"max_token_chars must be an integer >= 2, got {max_token_chars!r}")
    if normalization not in (None, "NFKC", "NFC"):
        raise TrainingError(f"normalization must be None, 'NFKC' or 'NFC', got {normalization!r}")
    if limit_alphabet is not None and (not isinstance(limit_alphabet, int) or limit_alphabet < 1):
        raise TrainingError(f"limit_alphabet must be a positive integer or None, got {limit_alphabet!r}")


def _word_table(corpus_or_texts: Any, normalization: Normalization | None, regex: str,
                jobs: int | None = None) -> dict[str, int]:
    """The pieces to train on with their counts (texts normalized first, when asked; in ``jobs``
    worker processes when given)."""
    if isinstance(corpus_or_texts, Mapping):
        table = piece_table(corpus_or_texts)
    else:
        table = count_words(corpus_or_texts, regex, jobs=jobs, normalization=normalization)
    if not table:
        raise TrainingError("the corpus is empty: no text to train on; give at least one non-empty text")
    return table


def _alphabet(table: Mapping[str, int], limit_alphabet: int | None) -> list[str]:
    """The characters seen, in code-point order; with ``limit_alphabet`` only the most frequent
    (ties to the smaller code point)."""
    char_counts: Counter[str] = Counter()
    for word, count in table.items():
        for ch in word:
            char_counts[ch] += count
    chars = sorted(char_counts, key=lambda c: (-char_counts[c], c))
    if limit_alphabet is not None:
        chars = chars[:limit_alphabet]
    return sorted(chars)


def _initial_strings(special_tokens: Sequence[str], byte_fallback: bool, alphabet: list[str],
                     vocab_size: int) -> tuple[list[str], dict[str, int]]:
    """Token strings by id before any merge (specials, byte fallback, alphabet) and the specials' ids."""
    strings: list[str] = []
    specials: dict[str, int] = {}
    for k, tok in enumerate(special_tokens):
        if not isinstance(tok, str) or not tok:
            raise TrainingError(f"special token {k} ({tok!r}) must be a non-empty string")
        if tok in specials:
            continue
        if len(tok) == 1:
            raise TrainingError(f"special token {tok!r} is a single character, which would hide it "
                                "from the alphabet; use a longer special token")
        specials[tok] = len(strings)
        strings.append(tok)
    if byte_fallback:
        strings.extend(f"<0x{b:02X}>" for b in range(256))
    strings.extend(alphabet)
    if vocab_size < len(strings):
        raise TrainingError(
            f"vocab_size {vocab_size} is smaller than the alphabet: {len(alphabet)} characters + "
            f"{len(strings) - len(alphabet)} special and byte-fallback tokens = {len(strings)}; "
            f"use at least {len(strings)} or cap the alphabet with limit_alphabet"
        )
    return strings, specials


def _char_words(table: Mapping[str, int], char_id: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Words as character ids (flat, lengths, counts). A character outside the alphabet splits
    the word, since it will be encoded as byte-fallback tokens that never merge."""
    pieces: list[list[int]] = []
    counts: list[int] = []
    for word, count in table.items():
        run: list[int] = []
        for ch in word:
            i = char_id.get(ch)
            if i is None:
                if run:
                    pieces.append(run)
                    counts.append(count)
                run = []
            else:
                run.append(i)
        if run:
            pieces.append(run)
            counts.append(count)
    flat = np.fromiter((i for p in pieces for i in p), dtype=np.int32)
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    return flat, lengths, np.asarray(counts, dtype=np.int64)


def _char_bpe_tokenizer(token_strings: list[str], merges: list[tuple[int, int]], specials: dict[str, int], *,
                        normalization: Normalization | None, regex: str, byte_fallback: bool,
                        label: str) -> Tokenizer:
    """The standard HF ``tokenizer.json`` (BPE with byte fallback) and its tokbench model."""
    from ..formats.hf_json import tokenizer_from_json_text
    from ..formats.tokenizer_json import bpe_tokenizer_json, split_step

    text = bpe_tokenizer_json(
        vocab={s: i for i, s in enumerate(token_strings)},
        merges=((token_strings[a], token_strings[b]) for a, b in file_merges(merges)),
        special_tokens=specials.items(),
        normalizer={"type": normalization} if normalization else None,
        pre_tokenizer=split_step(regex),
        decoder={"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
        byte_fallback=byte_fallback,
    )
    return tokenizer_from_json_text(text, name=label)


def train_char_bpe(
    corpus_or_texts: Any,
    *,
    vocab_size: int,
    max_token_chars: int = 4,
    normalization: Normalization | None = None,
    pattern: str = "gpt2",
    special_tokens: Sequence[str] = (),
    min_frequency: int = 0,
    limit_alphabet: int | None = None,
    byte_fallback: bool = True,
    allow_smaller: bool = False,
    progress: bool = True,
    name: str | None = None,
    jobs: int | None = None,
) -> TrainedBPE:
    """Train a character-level BPE whose tokens have at most ``max_token_chars`` characters.

    Ids: special tokens, then ``<0x00>``..``<0xFF>`` (with ``byte_fallback``), then the
    alphabet in code-point order, then merges. ``limit_alphabet`` keeps only the most frequent
    characters (ties to the smaller code point); the rest split words and encode as bytes.
    ``jobs`` worker processes normalize, pretokenize and count (``None``: this process only);
    the merges are the same for every value.
    """
    _check_options(vocab_size, max_token_chars, normalization, limit_alphabet)
    check_jobs(jobs)
    if isinstance(special_tokens, str):
        special_tokens = [special_tokens]
    pattern_name, regex = resolve_pattern(pattern)
    table = _word_table(corpus_or_texts, normalization, regex, jobs)
    alphabet = _alphabet(table, limit_alphabet)
    strings, specials = _initial_strings(special_tokens, byte_fallback, alphabet, vocab_size)
    first_char = len(strings) - len(alphabet)
    flat, lengths, counts = _char_words(table, {c: first_char + i for i, c in enumerate(alphabet)})
    # A token of the cap's length is allowed: the kernel counts a pair only while the merged
    # token stays *below* its limit (HF's rule), so the limit is the cap plus one.
    merges_arr, tokens, stop = run_bpe_kernel(
        (flat, lengths), counts, [tuple(map(ord, s)) for s in strings], vocab_size=vocab_size,
        min_frequency=min_frequency, max_length=max_token_chars + 1, progress=progress, desc="char BPE merges",
    )
    reason = stop_reason(stop, len(tokens), vocab_size, allow_smaller=allow_smaller,
                         advice="the corpus is too small for this vocabulary and cap; give more text, a smaller "
                                "vocab_size, a larger max_token_chars, or allow_smaller=True")
    merges = [(int(a), int(b)) for a, b in merges_arr[:, :2]]
    tokenizer = _char_bpe_tokenizer(["".join(map(chr, t)) for t in tokens], merges, specials,
                                    normalization=normalization, regex=regex, byte_fallback=byte_fallback,
                                    label=name or f"char-bpe-{max_token_chars}-{len(tokens)}")
    tokenizer.description["max_token_chars"] = max_token_chars
    n_words = int(sum(table.values()))
    return TrainedBPE(
        tokenizer=tokenizer, merges=merges, merged_ids=[int(x) for x in merges_arr[:, 2]],
        merge_counts=merges_arr[:, 3].copy(), stop_reason=reason, pattern=regex,
        n_words=n_words, n_word_types=len(table),
        options={"vocab_size": vocab_size, "max_token_chars": max_token_chars,
                 "normalization": normalization, "pattern": pattern_name,
                 "min_frequency": min_frequency, "special_tokens": list(specials),
                 "limit_alphabet": limit_alphabet, "byte_fallback": byte_fallback},
        corpus=corpus_description(corpus_or_texts, n_words, len(table)),
    )
