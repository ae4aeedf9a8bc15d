"""The audit report's "Related tokenizers" section: figures and tables of related pairs.

The audit (:func:`tokbench.audit.run.compare_related_pairs`) adds, for every related pair of
audited tokenizers, the frames ``compare`` (one row per pair: Jaccard, merge LCP, verdict, overall
agreement), ``compare_overlap``, ``compare_added`` and ``compare_agreement``. This module turns
them into the section's content; it reads plain frames and computes nothing but sums.

Example:
    >>> figs, tables = compare_content(frames, frames["compare"])    # doctest: +SKIP
"""

from __future__ import annotations

import re
from typing import Any

from .compare_figures import added_tokens_figure, relation_matrix_figure
from .document import FigureItem, Table

__all__ = ["compare_content", "compare_intro", "verdict_sentence"]

PAIR_COLUMNS_SHOWN = ["a", "b", "verdict", "jaccard", "shared", "a_only", "b_only", "a_merges", "b_merges", "merge_lcp",
                      "merges_shared", "identical_share", "precision", "recall", "f1", "a_tokens_per_char",
                      "b_tokens_per_char"]
AGREEMENT_COLUMNS_SHOWN = ["a", "b", "category", "aligned_docs", "documents", "identical_share", "precision", "recall",
                           "f1", "a_tokens_per_char", "b_tokens_per_char"]
#: rows of the added-token table shown per pair (the CSV has them all)
ADDED_PER_PAIR = 8


def _number(value: Any, digits: int = 3) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if number != number else f"{number:.{digits}f}"


def verdict_sentence(row: Any) -> str:
    """One pair as a sentence: ``A vs B: verdict with their names (Jaccard …, …)``.

    Example:
        >>> verdict_sentence({"a": "cl100k", "b": "olmo2", "verdict": "identical merges", "jaccard": 0.9999,
        ...                   "merge_lcp": 100000, "f1": 1.0})
        'cl100k vs olmo2: identical merges (vocabulary Jaccard 1.000, common merge prefix 100,000, boundary F1 1.000)'
    """
    lcp = row.get("merge_lcp")
    parts = [f"vocabulary Jaccard {_number(row.get('jaccard'))}"]
    if lcp is not None and lcp == lcp:
        parts.append(f"common merge prefix {int(lcp):,}")
    if row.get("f1") is not None:
        parts.append(f"boundary F1 {_number(row.get('f1'))}")
    a, b = str(row["a"]), str(row["b"])
    verdict = re.sub(r"\b[AB]\b", lambda m: a if m.group() == "A" else b, str(row["verdict"]))
    return f"{a} vs {b}: {verdict} ({', '.join(parts)})"


def compare_intro(frames: dict[str, Any]) -> str:
    """The section's opening sentence from the ``compare`` frame: each related pair's verdict
    (an entry for ``SECTION_INTROS`` of :mod:`tokbench.reports.audit_report`).

    Example:
        >>> import pandas as pd
        >>> compare_intro({"compare": pd.DataFrame([{"a": "x", "b": "y", "verdict": "B extends A",
        ...                                          "jaccard": 0.5, "merge_lcp": 300, "f1": None}])})
        'Related here: x vs y: y extends x (vocabulary Jaccard 0.500, common merge prefix 300).'
    """
    pairs = frames.get("compare")
    if pairs is None or not len(pairs):
        return ""
    return "Related here: " + "; ".join(verdict_sentence(row) for row in pairs.to_dict("records")) + "."


def compare_content(frames: dict[str, Any], pairs: Any) -> tuple[list[FigureItem], list[Table]]:
    """The section's figures (relation matrix, added tokens) and tables (pairs, agreement per
    category, added tokens with examples, overlap by class)."""
    sentences = "; ".join(verdict_sentence(row) for row in pairs.to_dict("records"))
    figs = [FigureItem("Vocabulary Jaccard and merge relation of the related pairs (row = A, column = B; "
                       "−N: merges of the base the extension left out). "
                       + sentences + ".", relation_matrix_figure(pairs))]
    added = frames.get("compare_added")
    if added is not None and len(added):
        figs.append(FigureItem("Tokens the second tokenizer of each pair has and the first lacks, by script "
                               "(alphabetic tokens) or class.", added_tokens_figure(added)))
    tables = [Table("Related pairs", pairs, columns=[c for c in PAIR_COLUMNS_SHOWN if c in pairs.columns],
                    note="identical_share: A's pretokens B cuts exactly as A; precision/recall/F1: B's token "
                         "boundaries against A's (character offsets), on a sample of the corpus")]
    agreement = frames.get("compare_agreement")
    if agreement is not None and len(agreement):
        tables.append(Table("Segmentation agreement per category", agreement,
                            columns=[c for c in AGREEMENT_COLUMNS_SHOWN if c in agreement.columns]))
    if added is not None and len(added):
        shown = added.groupby(["a", "b"], sort=False).head(ADDED_PER_PAIR)
        tables.append(Table("What B added, with examples", shown, whole=len(shown) <= 40,
                            note=f"the {ADDED_PER_PAIR} largest groups per pair; all in tables/compare_added.csv"))
    overlap = frames.get("compare_overlap")
    if overlap is not None and len(overlap):
        tables.append(Table("Shared and unique tokens by class and script", overlap))
    return figs, tables
