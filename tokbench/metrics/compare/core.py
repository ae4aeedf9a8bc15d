"""``compare(a, b, *more)``: every pair of tokenizers, vocabulary, merges and (on a corpus) segmentation.

Pairs are taken in the given order (``a`` vs ``b``, ``a`` vs ``c``, ``b`` vs ``c``): A is the
earlier tokenizer, B the later, so "B extends A" and "what B added" read naturally when the base
comes first. Each tokenizer segments the corpus once, whatever the number of pairs.

Example:
    >>> res = compare("cl100k_base.tiktoken", "olmo2_tokenizer.json", corpus="sample:all")   # doctest: +SKIP
    >>> res.pairs[0].merges.verdict                                                         # doctest: +SKIP
    'identical merges'
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ...corpora import Corpus
from ...errors import TokbenchError
from ...model.tokenizer import Tokenizer
from ...results import Signature
from ..coverage import classify_vocab
from .agreement import Segmentation, agreement_rows, segment
from .merges import MIN_PREFIX, tokenizer_merge_relation
from .result import RELATED_JACCARD, CompareResult, PairComparison
from .vocab import EXAMPLES, vocab_keys, vocab_overlap

__all__ = ["compare", "compare_pair", "load_compared", "related", "DEFAULT_MAX_BYTES"]

#: bytes per corpus category the agreement samples by default (a few seconds per tokenizer)
DEFAULT_MAX_BYTES = 100_000
TokenizerLike = str | os.PathLike[str] | Tokenizer


def load_compared(items: Sequence[TokenizerLike], *, pattern: str | None = None) -> list[Tokenizer]:
    """Paths loaded (every one checked before any work), tokenizers kept; repeated names get ``#k``."""
    from ...formats import load_tokenizer

    toks = [t if isinstance(t, Tokenizer) else load_tokenizer(t, pattern=pattern) for t in items]
    seen: Counter[str] = Counter()
    names = []
    for tok in toks:
        seen[tok.name] += 1
        names.append(tok.name if seen[tok.name] == 1 else f"{tok.name}#{seen[tok.name]}")
    return [t if t.name == n else _renamed(t, n) for t, n in zip(toks, names, strict=True)]


def _renamed(tok: Tokenizer, name: str) -> Tokenizer:
    import copy

    out = copy.copy(tok)
    out.name = name
    return out


def _corpus(corpus: str | Corpus | None, max_bytes: int | None, seed: int) -> Corpus | None:
    if corpus is None:
        return None
    if not isinstance(corpus, Corpus):
        from ...corpora import load_corpus

        corpus = load_corpus(str(corpus))
    return corpus.sample(max_bytes=max_bytes, seed=seed) if max_bytes else corpus


def related(a: Tokenizer, b: Tokenizer, *, min_prefix: int = MIN_PREFIX) -> bool:
    """The quick test of :attr:`PairComparison.related` (merge lineage, or Jaccard of at least
    :data:`~tokbench.metrics.compare.result.RELATED_JACCARD`) without classifying any token."""
    keys_a, keys_b = vocab_keys(a), vocab_keys(b)
    shared = len(keys_a.keys() & keys_b.keys())
    jaccard = shared / max(1, len(keys_a) + len(keys_b) - shared)
    return jaccard >= RELATED_JACCARD or tokenizer_merge_relation(a, b, min_prefix=min_prefix).related


def compare_pair(a: Tokenizer, b: Tokenizer, *, segs: tuple[Segmentation, Segmentation] | None = None,
                 min_prefix: int = MIN_PREFIX, examples: int = EXAMPLES,
                 classes: dict[str, Any] | None = None) -> PairComparison:
    """One pair: overlap, merge relation and (given both segmentations) agreement rows."""
    return PairComparison(a=a.name, b=b.name, overlap=vocab_overlap(a, b, examples=examples, classes=classes),
                          merges=tokenizer_merge_relation(a, b, min_prefix=min_prefix),
                          agreement=agreement_rows(*segs) if segs is not None else [])


def compare(
    a: TokenizerLike,
    b: TokenizerLike,
    *more: TokenizerLike,
    corpus: str | Corpus | None = None,
    max_bytes: int | None = DEFAULT_MAX_BYTES,
    seed: int = 0,
    pattern: str | None = None,
    min_prefix: int = MIN_PREFIX,
    examples: int = EXAMPLES,
) -> CompareResult:
    """Compare every pair of the given tokenizers (paths or :class:`Tokenizer` objects).

    ``corpus`` (a spec such as ``"sample:all"`` or a :class:`Corpus`) adds segmentation agreement,
    on a sample of ``max_bytes`` per category (``None``: the whole corpus) drawn with ``seed``.
    ``min_prefix`` is the shortest common merge prefix called a lineage; ``examples`` the example
    tokens per row of the ``added`` frame.

    Example:
        >>> res = compare("r50k_base.tiktoken", "gpt2/", corpus="sample:all")    # doctest: +SKIP
        >>> print(res.pairs[0].line())                                           # doctest: +SKIP
    """
    if min_prefix < 1:
        raise TokbenchError(f"min_prefix must be at least 1, got {min_prefix}")
    if max_bytes is not None and (isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1):
        raise TokbenchError(f"max_bytes must be a whole number of bytes >= 1, or None for the whole corpus; got {max_bytes!r}")
    toks = load_compared([a, b, *more], pattern=pattern)
    sample = _corpus(corpus, max_bytes, seed)
    segs = {t.name: segment(t, sample) for t in toks} if sample is not None else {}
    classes = {t.name: classify_vocab(t) for t in toks} if len(toks) > 2 else None
    pairs = [compare_pair(x, y, segs=(segs[x.name], segs[y.name]) if segs else None, min_prefix=min_prefix,
                          examples=examples, classes=classes) for x, y in itertools.combinations(toks, 2)]
    notes = [f"{p.a} vs {p.b}: {n}" for p in pairs for n in (*p.merges.notes, *p.overlap.notes)]
    for seg in segs.values():
        notes += seg.notes
    if segs:
        notes += [f"agreement on {name}'s pretokens (A of its pairs): {segs[name].pretokens}"
                  for name in dict.fromkeys(p.a for p in pairs)]
    signature = Signature(tokenizers={t.name: t.fingerprint for t in toks},
                          corpus=sample.signature() if sample is not None else {}, seed=seed,
                          options={"min_prefix": min_prefix, "max_bytes": max_bytes, "examples": examples})
    return CompareResult(pairs=pairs, signature=signature, notes=notes)
