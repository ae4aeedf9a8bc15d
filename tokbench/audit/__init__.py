"""Audit tokenizers side by side: every registered analysis over one corpus, one report.

``audit`` runs the analyses of :data:`ANALYSES` — vocabulary coverage (Qtok classes and
scripts), compression per category, token premiums (when the corpus holds ``eng_Latn`` and
parallel FLORES-style languages), merge-list-free encodings (Sawada & Goyal 2025) and, when
:mod:`tokbench.attacks.mixture` is installed, training-data mixture inference (Hayase et al.
2024) — on each tokenizer, and returns an :class:`AuditResult` of plain data (pandas frames,
signatures, notes, titles) which writes the HTML and PDF reports through :mod:`tokbench.reports`.

Robust to bad input: a tokenizer file that fails to load, a corpus part that fails, a requested
language missing from the corpus, or an analysis that fails on one tokenizer is recorded as a
failed item (shown in the report, ``AuditResult.failures``, and the CLI's exit status) while
everything else still runs. Each (analysis, tokenizer) result is cached under
``<out>/.cache/audit/`` keyed by the analysis, the tokenizer's fingerprint and name, the corpus
content hash, the options and the tokbench version, so a re-run only computes what changed.

Map of the package:

* :mod:`~tokbench.audit.registry` — :class:`Analysis` entries (title, explanation, budget, adapter);
* :mod:`~tokbench.audit.analyses` — one adapter per analysis (metrics and attacks compute);
* :mod:`~tokbench.audit.run` — :func:`audit`;
* :mod:`~tokbench.audit.cache` — the on-disk cache of parts (``.npz`` + Parquet + JSON);
* :mod:`~tokbench.audit.result` — :class:`AuditResult`, :class:`PartResult`, :class:`Skip`.

Example:
    >>> res = audit(["gpt2/", "cl100k_base.tiktoken"], corpus="sample:", out="audit")   # doctest: +SKIP
    >>> res.to_frames()["premiums"].head()                                              # doctest: +SKIP
    >>> res.to_html("audit/report.html"); res.to_pdf("audit/report.pdf")                # doctest: +SKIP
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .registry import ANALYSES, Analysis, available_analyses
from .result import AuditResult, PartResult, Skip
from .run import TokenizerInput, audit

__all__ = ["ANALYSES", "Analysis", "AuditResult", "PartResult", "Skip", "TokenizerInput", "audit",
           "available_analyses"]


class _CallableModule(types.ModuleType):
    """``tokbench.audit(...)`` is the public entry point, and ``tokbench.audit`` is also this
    package: once the package is imported Python binds the name to the module, so the module
    itself forwards calls to :func:`audit`."""

    def __call__(self, *args: Any, **kwargs: Any) -> AuditResult:
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
