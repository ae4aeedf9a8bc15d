"""Tokenizer forensics: what one tokenizer shares with, inherits from and adds to another.

``compare(a, b, *more, corpus=...)`` compares every pair of tokenizers on three levels:

* :mod:`.vocab` — vocabulary overlap on exact token bytes (specials apart): sizes, shared,
  Jaccard, A-only, B-only, broken down by Qtok class and script
  (:func:`tokbench.metrics.coverage.classify_vocab`), and what B added over A, with examples;
* :mod:`.merges` — the merge-list relation on byte pairs: longest common prefix, order-free
  overlap and a verdict ("identical merges", "B extends A", "shared prefix of k merges",
  "unrelated", or "no merge list" for WordPiece/Unigram);
* :mod:`.agreement` — on a corpus, the share of A's pretokens B segments identically, B's
  token boundaries against A's (precision/recall/F1 on character offsets) and tokens per
  character side by side, per category and overall.

Unlike :mod:`tokbench.metrics.coverage`, which describes one vocabulary at a time, this package
relates two; unlike :mod:`tokbench.metrics.compression`, it asks whether two tokenizers cut the
same text the same way, not how many tokens each spends. Lineage from merge order follows the
reasoning of Hayase et al. (2024, "Data mixture inference"), who read a tokenizer's training
data from its ordered merges: an extension's first merges are its base's.

Example:
    >>> res = compare("cl100k_base.tiktoken", "qwen2_tokenizer.json", corpus="sample:all")  # doctest: +SKIP
    >>> res.pairs[0].merges.verdict                                                        # doctest: +SKIP
    "B extends A minus 1100 of A's merges"
"""

from .agreement import OVERALL, Segmentation, agreement_rows, segment
from .core import DEFAULT_MAX_BYTES, compare, compare_pair, load_compared, related
from .merges import (
           MIN_PREFIX,
           RELATIONS,
           MergeRelation,
           merge_pairs,
           merge_relation,
           tokenizer_merge_relation,
)
from .result import AGREEMENT_COLUMNS, PAIR_COLUMNS, CompareResult, PairComparison
from .vocab import VocabOverlap, vocab_keys, vocab_overlap

__all__ = ["compare", "compare_pair", "load_compared", "related", "CompareResult", "PairComparison", "MergeRelation",
           "VocabOverlap", "Segmentation", "segment", "agreement_rows", "merge_pairs", "merge_relation",
           "tokenizer_merge_relation", "vocab_keys", "vocab_overlap", "RELATIONS", "MIN_PREFIX", "OVERALL",
           "PAIR_COLUMNS", "AGREEMENT_COLUMNS", "DEFAULT_MAX_BYTES"]
