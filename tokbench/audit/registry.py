"""The audit's analyses: name -> :class:`Analysis` (title, explanation, budget, adapter).

Each analysis is one adapter in :mod:`tokbench.audit.analyses`, named as ``"module:attribute"``
(the :mod:`tokbench.registry` shape) and imported only when it runs. The entry carries what
the report says about it (title, explanation), the options that enter its cache key, and its
budget: the fixed limits the audit runs it under (e.g. the mixture attack's merge steps and LP
time cap), which enter the cache key too. An analysis whose ``requires`` module cannot be
imported is unavailable here and left out.

Example:
    >>> ANALYSES["mixture"].budget["steps"]
    2000
    >>> ANALYSES["premiums"].title
    'Token premiums'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..corpora import Corpus
    from ..model.tokenizer import Tokenizer
    from .result import PartResult

__all__ = ["Analysis", "ANALYSES", "available_analyses"]

#: ``adapter(tokenizer, corpus, options) -> PartResult``; raises :class:`~tokbench.audit.result.Skip`
Adapter = Callable[["Tokenizer", "Corpus", Mapping[str, Any]], "PartResult"]


@dataclass(frozen=True)
class Analysis:
    """A registered analysis: its adapter (``"module:attribute"``), the report's title and
    explanation, the options that enter the cache key, and its fixed budget."""

    name: str
    title: str
    explanation: str
    adapter: str
    #: which audit options enter the cache key
    option_keys: tuple[str, ...] = ()
    #: fixed limits passed to the adapter with the options (and part of the cache key)
    budget: Mapping[str, int | float] = field(default_factory=dict)
    #: a module that must import for the analysis to be available
    requires: str | None = None
    #: rough run time relative to ``compression`` on one tokenizer; the parallel audit starts
    #: the heaviest steps first so the last one to finish is short (no result depends on it)
    weight: float = 1.0

    def load(self) -> Adapter:
        module_name, attribute = self.adapter.split(":")
        return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]

    def run(self, tokenizer: Tokenizer, corpus: Corpus, options: Mapping[str, Any]) -> PartResult:
        """Run the adapter with the audit's options plus this analysis's budget."""
        return self.load()(tokenizer, corpus, {**options, **self.budget})

    def cache_description(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """What, besides the tokenizer and corpus, changes this analysis's result."""
        return {"analysis": self.name, "options": {k: options.get(k) for k in self.option_keys},
                "budget": dict(self.budget)}

    def available(self) -> bool:
        if self.requires is None:
            return True
        try:
            importlib.import_module(self.requires)
        except ImportError:
            return False
        return True


_ADAPTERS = "tokbench.audit.analyses"

#: name -> analysis, in report order.
ANALYSES: dict[str, Analysis] = {
    "coverage": Analysis(
        "coverage", "Vocabulary coverage",
        "Every vocabulary entry is sorted into one Qtok class: single characters, word-initial "
        "('spaced') and word-internal ('inner') tokens of one script (alpha) or mixed/other, raw "
        "bytes, partial UTF-8, special and unused ids. The heatmap shows which scripts the "
        "alphabetic tokens serve: a script with a tiny share is spelled in many short pieces.",
        f"{_ADAPTERS}:run_coverage", weight=4.0),
    "compression": Analysis(
        "compression", "Compression per category",
        "Corpus token count (CTC) is how many tokens each category needs, each document encoded on "
        "its own; bytes per token is how much text one token carries (higher is cheaper). Fertility "
        "is tokens per word (per character for scripts written without spaces).",
        f"{_ADAPTERS}:run_compression"),
    "premiums": Analysis(
        "premiums", "Token premiums",
        "The premium of a language is its token count relative to English on the same parallel "
        "sentences: 2.0 means the same content costs twice as many tokens (and twice the context "
        "and price). Intervals are 95% paired bootstraps over sentences; Petrov et al. join the "
        "lines and encode once, Arnett et al. count line by line.",
        f"{_ADAPTERS}:run_premiums", ("n_bootstrap", "seed", "reference")),
    "mergefree": Analysis(
        "mergefree", "Encoding without a merge list",
        "The same vocabulary encoded without its merge list — greedy longest-prefix and "
        "minimum-token segmentation — and with damaged merge lists (shuffled, 10% deleted, "
        "truncated). Values near 1.0 mean the merge list adds little (Sawada & Goyal 2025).",
        f"{_ADAPTERS}:run_mergefree", ("seed",), weight=4.0),
    "mixture": Analysis(
        "mixture", "Training-data mixture inference",
        "The ordered merge list leaks the training data: the t-th merge was the most frequent pair "
        "after the earlier merges. A linear program over per-category pair counts recovers the "
        "proportions of each category in the training mixture (Hayase et al. 2024).",
        f"{_ADAPTERS}:run_mixture", ("seed",),
        # Few enough merge steps and a time cap that one tokenizer takes seconds, not minutes.
        budget={"steps": 2000, "time_limit": 120.0},
        requires="tokbench.attacks.mixture", weight=15.0),
}


def available_analyses() -> list[str]:
    """Names of the analyses that can run here (``mixture`` only when its module imports)."""
    return [name for name, analysis in ANALYSES.items() if analysis.available()]
