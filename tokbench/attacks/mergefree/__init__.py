"""Encoding without a merge list, and what dropping or damaging the merge list costs.

After Sawada & Goyal 2025 ("Train It and Forget It: Merge Lists are Unnecessary for BPE
Inference in Language Models"). A vocabulary released without its merge list hides the
ordering the mixture attack (:mod:`tokbench.attacks.mixture`) reads; this package measures what
encoding without it costs:

* :mod:`.encoders` — :class:`MergeFreeEncoder`: ``bpe`` (merge-list BPE, optionally with a
  corrupted list from :func:`corrupt_merges`; over bytes or, for SentencePiece and char BPE,
  over the model's own characters), ``greedy`` (longest vocabulary prefix) and ``minimal``
  (fewest tokens), on numba kernels;
* :mod:`.evaluate` — :func:`evaluate_mergefree`: per corpus category and variant, tokens per
  byte, tokens relative to standard BPE (the tokenizer's own encoding, token for token), pretokens segmented differently, vocabulary use
  (a :class:`MergeFreeResult`, which follows :class:`tokbench.results.Result`);
* ``_kernels`` / ``_reference`` — the numba kernels and their readable plain-Python twins.

Example:
    >>> result = evaluate_mergefree(tok, load_corpus("sample:eng_Latn"))   # doctest: +SKIP
    >>> result.to_frame()[["variant", "relative_to_standard"]]            # doctest: +SKIP
"""

from __future__ import annotations

from .encoders import (
    MODES,
    MergeFreeEncoder,
    Mode,
    VocabularyTrie,
    corrupt_merges,
    is_byte_level,
    merges_characters,
)
from .evaluate import MergeFreeResult, Variant, default_variants, evaluate_mergefree

__all__ = [
    "Mode",
    "MODES",
    "MergeFreeEncoder",
    "VocabularyTrie",
    "corrupt_merges",
    "is_byte_level",
    "merges_characters",
    "Variant",
    "default_variants",
    "evaluate_mergefree",
    "MergeFreeResult",
]
