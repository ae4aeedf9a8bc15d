"""The result of :func:`tokbench.compare`: one :class:`PairComparison` per pair, four frames.

``to_frame()`` is the ``pairs`` frame (one row per pair: sizes, shared, Jaccard, merge LCP,
verdict, overall agreement); :meth:`CompareResult.frames` also gives ``overlap_by_class`` (shared
and unique tokens per Qtok class and script), ``added`` (B's tokens absent from A, by class and
script, with examples) and ``agreement`` (per category, when a corpus was given).

Example:
    >>> res = compare("r50k_base.tiktoken", "gpt2/")                    # doctest: +SKIP
    >>> res.to_frame()[["a", "b", "jaccard", "verdict"]]                # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...results import Signature
from .merges import MergeRelation
from .vocab import VocabOverlap

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["PairComparison", "CompareResult", "PAIR_COLUMNS", "AGREEMENT_COLUMNS", "RELATED_JACCARD"]

PAIR_COLUMNS = ["a", "b", "a_vocab", "b_vocab", "shared", "jaccard", "a_only", "b_only", "a_merges", "b_merges",
                "merge_lcp", "merges_shared", "merges_dropped", "inherited_merges", "relation", "verdict", "identical_share", "precision",
                "recall", "f1", "a_tokens_per_char", "b_tokens_per_char"]
AGREEMENT_COLUMNS = ["a", "b", "category", "documents", "aligned_docs", "chars", "a_tokens", "b_tokens", "pretokens",
                     "pretokens_identical", "identical_share", "a_boundaries", "b_boundaries", "common_boundaries",
                     "precision", "recall", "f1", "a_tokens_per_char", "b_tokens_per_char"]
#: vocabularies at least this similar (Jaccard) are related even without a merge lineage
RELATED_JACCARD = 0.9
_OVERALL_KEYS = ("identical_share", "precision", "recall", "f1", "a_tokens_per_char", "b_tokens_per_char")


@dataclass(frozen=True)
class PairComparison:
    """Tokenizer ``a`` against ``b``: vocabulary overlap, merge relation, agreement rows."""

    a: str
    b: str
    overlap: VocabOverlap
    merges: MergeRelation
    #: rows of :func:`~tokbench.metrics.compare.agreement.agreement_rows` (empty without a corpus)
    agreement: list[dict[str, Any]] = field(default_factory=list)

    @property
    def related(self) -> bool:
        """A lineage shows in the merges, or the vocabularies are mostly the same."""
        return self.merges.related or self.overlap.jaccard >= RELATED_JACCARD

    @property
    def overall(self) -> dict[str, Any]:
        """The ``(all)`` agreement row (empty without a corpus)."""
        return self.agreement[-1] if self.agreement else {}

    def row(self) -> dict[str, Any]:
        ov, m, total = self.overlap, self.merges, self.overall
        return {"a": self.a, "b": self.b, "a_vocab": ov.a_size, "b_vocab": ov.b_size, "shared": ov.shared,
                "jaccard": ov.jaccard, "a_only": ov.a_only, "b_only": ov.b_only, "a_merges": m.a_merges,
                "b_merges": m.b_merges, "merge_lcp": m.lcp, "merges_shared": m.merges_shared,
                "merges_dropped": m.dropped, "inherited_merges": m.inherited, "relation": m.relation, "verdict": m.verdict,
                **{k: total.get(k) for k in _OVERALL_KEYS}}

    @property
    def named_verdict(self) -> str:
        """The verdict with the tokenizers' names for A and B (``qwen2 extends cl100k_base …``)."""
        return re.sub(r"\b[AB]\b", lambda m: self.a if m.group() == "A" else self.b, self.merges.verdict)

    def line(self) -> str:
        """``A vs B: verdict | Jaccard …, shared …, LCP …[ | agreement …]`` for the terminal."""
        ov, m, total = self.overlap, self.merges, self.overall
        text = (f"{self.a} vs {self.b}: {self.named_verdict} | vocab {ov.a_size:,} vs {ov.b_size:,}, shared {ov.shared:,}, "
                f"Jaccard {ov.jaccard:.4f}, A-only {ov.a_only:,}, B-only {ov.b_only:,}")
        if m.lcp is not None:
            text += f" | merges {m.a_merges:,} vs {m.b_merges:,}, LCP {m.lcp:,}, in both {m.merges_shared:,}"
        if total:
            text += (f" | pretokens identical {total['identical_share']:.4f}, boundary P/R/F1 "
                     f"{total['precision']:.4f}/{total['recall']:.4f}/{total['f1']:.4f}, tokens/char "
                     f"{total['a_tokens_per_char']:.4f} vs {total['b_tokens_per_char']:.4f}")
        return text


@dataclass(frozen=True)
class CompareResult:
    """Every pair of the compared tokenizers (in the given order: A before B)."""

    pairs: list[PairComparison]
    signature: Signature
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The ``pairs`` frame (:data:`PAIR_COLUMNS`)."""
        import pandas as pd

        return pd.DataFrame([p.row() for p in self.pairs], columns=PAIR_COLUMNS)

    def overlap_frame(self) -> pd.DataFrame:
        """``a, b, class, script, shared, a_only, b_only`` per pair."""
        import pandas as pd

        rows = [{"a": p.a, "b": p.b, **r} for p in self.pairs for r in p.overlap.by_class]
        return pd.DataFrame(rows, columns=["a", "b", "class", "script", "shared", "a_only", "b_only"])

    def added_frame(self) -> pd.DataFrame:
        """``a, b, class, script, tokens, examples``: B's tokens A lacks, most numerous first."""
        import pandas as pd

        rows = [{"a": p.a, "b": p.b, **r} for p in self.pairs for r in p.overlap.added]
        return pd.DataFrame(rows, columns=["a", "b", "class", "script", "tokens", "examples"])

    def agreement_frame(self) -> pd.DataFrame:
        """Per pair and category (and ``(all)``): :data:`AGREEMENT_COLUMNS`."""
        import pandas as pd

        rows = [{"a": p.a, "b": p.b, **r} for p in self.pairs for r in p.agreement]
        return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)

    def frames(self) -> dict[str, pd.DataFrame]:
        """``pairs``, ``overlap_by_class``, ``added`` and (with a corpus) ``agreement``."""
        out = {"pairs": self.to_frame(), "overlap_by_class": self.overlap_frame(), "added": self.added_frame()}
        if any(p.agreement for p in self.pairs):
            out["agreement"] = self.agreement_frame()
        return out

    def pair(self, a: str, b: str) -> PairComparison:
        """The comparison of ``a`` against ``b`` (tokenizer names, in the order they were compared)."""
        for p in self.pairs:
            if (p.a, p.b) == (a, b):
                return p
        raise KeyError((a, b))
