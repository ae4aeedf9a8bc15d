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

import json
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from . import TrainingError
from .bpe import (
    TrainedBPE,
    _texts_of,
    corpus_description,
    file_merges,
    resolve_pattern,
    run_bpe_kernel,
    word_counts,
)

__all__ = ["train_char_bpe"]

Normalization = Literal["NFKC", "NFC"]


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
) -> TrainedBPE:
    """Train a character-level BPE whose tokens have at most ``max_token_chars`` characters.

    Ids: special tokens, then ``<0x00>``..``<0xFF>`` (with ``byte_fallback``), then the
    alphabet in code-point order, then merges. ``limit_alphabet`` keeps only the most frequent
    characters (ties to the smaller code point); the rest split words and encode as bytes.
    """
    from ..formats.hf_json import fingerprint_text, tokenizer_from_hf_data
    from ..model.references import HFReference

    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise TrainingError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    if isinstance(max_token_chars, bool) or not isinstance(max_token_chars, int) or max_token_chars < 2:
        raise TrainingError(f"max_token_chars must be an integer >= 2, got {max_token_chars!r}")
    if normalization not in (None, "NFKC", "NFC"):
        raise TrainingError(f"normalization must be None, 'NFKC' or 'NFC', got {normalization!r}")
    if limit_alphabet is not None and (not isinstance(limit_alphabet, int) or limit_alphabet < 1):
        raise TrainingError(f"limit_alphabet must be a positive integer or None, got {limit_alphabet!r}")
    if isinstance(special_tokens, str):
        special_tokens = [special_tokens]
    pattern_name, regex = resolve_pattern(pattern)

    if isinstance(corpus_or_texts, Mapping):
        table = {str(k): int(v) for k, v in corpus_or_texts.items() if k and int(v) > 0}
    else:
        texts = _texts_of(corpus_or_texts)
        if normalization:
            texts = (unicodedata.normalize(normalization, t) if isinstance(t, str) else t for t in texts)
        table = word_counts(texts, regex)
    if not table:
        raise TrainingError("the corpus is empty: no text to train on; give at least one non-empty text")

    char_counts: Counter[str] = Counter()
    for word, count in table.items():
        for ch in word:
            char_counts[ch] += count
    chars = sorted(char_counts, key=lambda c: (-char_counts[c], c))
    if limit_alphabet is not None:
        chars = chars[:limit_alphabet]
    alphabet = sorted(chars)

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
    first_char = len(strings)
    strings.extend(alphabet)
    if vocab_size < len(strings):
        raise TrainingError(
            f"vocab_size {vocab_size} is smaller than the alphabet: {len(alphabet)} characters + "
            f"{len(strings) - len(alphabet)} special and byte-fallback tokens = {len(strings)}; "
            f"use at least {len(strings)} or cap the alphabet with limit_alphabet"
        )

    # Words as character ids; a character outside the alphabet splits the word, since it will
    # be encoded as byte-fallback tokens that never merge.
    char_id = {c: first_char + i for i, c in enumerate(alphabet)}
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
    units = [tuple(map(ord, s)) for s in strings]
    # A token of the cap's length is allowed: the kernel counts a pair only while the merged
    # token stays *below* its limit (HF's rule), so the limit is the cap plus one.
    merges_arr, tokens, stop = run_bpe_kernel(
        (flat, lengths), np.asarray(counts, dtype=np.int64), units, vocab_size=vocab_size,
        min_frequency=min_frequency, max_length=max_token_chars + 1, progress=progress,
        desc="char BPE merges",
    )
    if stop == 2 and len(tokens) < vocab_size and not allow_smaller:
        raise TrainingError(
            f"no pair left to merge after {len(tokens)} tokens, before vocab_size {vocab_size}: "
            "the corpus is too small for this vocabulary and cap; give more text, a smaller "
            "vocab_size, a larger max_token_chars, or allow_smaller=True"
        )
    token_strings = ["".join(map(chr, t)) for t in tokens]
    merges = [(int(a), int(b)) for a, b in merges_arr[:, :2]]
    data = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
             "normalized": False, "special": True}
            for s, i in specials.items()
        ],
        "normalizer": {"type": normalization} if normalization else None,
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated",
                          "invert": False},
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": byte_fallback,
            "ignore_merges": False,
            "vocab": {s: i for i, s in enumerate(token_strings)},
            "merges": [[token_strings[a], token_strings[b]] for a, b in file_merges(merges)],
        },
    }
    text = json.dumps(data, ensure_ascii=False, indent=1)
    label = name or f"char-bpe-{max_token_chars}-{len(tokens)}"
    tokenizer = tokenizer_from_hf_data(
        json.loads(text), name=label, fingerprint=fingerprint_text(text), source_format="trained",
        reference_factory=lambda: HFReference.from_str(text), original_text=text,
    )
    tokenizer.description["max_token_chars"] = max_token_chars
    return TrainedBPE(
        tokenizer=tokenizer,
        merges=merges,
        merged_ids=[int(x) for x in merges_arr[:, 2]],
        merge_counts=merges_arr[:, 3].copy(),
        stop_reason={1: "vocab_size", 2: "no_pairs", 3: "min_frequency"}.get(stop, "vocab_size"),  # type: ignore[arg-type]
        pattern=regex,
        n_words=int(sum(table.values())),
        n_word_types=len(table),
        options={"vocab_size": vocab_size, "max_token_chars": max_token_chars,
                 "normalization": normalization, "pattern": pattern_name,
                 "min_frequency": min_frequency, "special_tokens": list(specials),
                 "limit_alphabet": limit_alphabet, "byte_fallback": byte_fallback},
        corpus=corpus_description(corpus_or_texts, int(sum(table.values())), len(table)),
    )
