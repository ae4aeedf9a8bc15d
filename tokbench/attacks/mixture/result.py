"""What the mixture attack returns: inferred byte proportions with half-sample intervals.

A :class:`MixtureResult` holds the main LP fit (:class:`~tokbench.attacks.mixture.lp.MixtureFit`)
of one tokenizer and the proportions of its resampling replicates (half-samples of each
category's documents, McCarthy 1969), from which :meth:`MixtureResult.intervals` draws
centred intervals. It is a :class:`~tokbench.results.Result`: :meth:`~MixtureResult.to_frame`
(one row per category with the solve's diagnostics), :attr:`~MixtureResult.signature` and
:attr:`~MixtureResult.notes` (unfinished solves, extrapolated shares). Reports render it
without importing the attack.

Example:
    >>> res = run_mixture_attack(tok, corpus, n_steps=2000, bootstrap=20)   # doctest: +SKIP
    >>> res.grouped(top=5)                                                 # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...corpora.languages import CODE_LANGUAGES
from ...results import Signature
from .lp import MixtureFit

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["MixtureResult", "CODE_CATEGORIES", "centred_intervals"]

#: Category names that :meth:`MixtureResult.grouped` adds up as "code".
CODE_CATEGORIES = CODE_LANGUAGES


def centred_intervals(point: np.ndarray, replicates: np.ndarray, level: float) -> np.ndarray:
    """``point`` plus the central ``level`` quantiles of the replicates' deviations from their
    mean, clipped to [0, 1] (:meth:`MixtureResult.intervals`); NaN without replicates."""
    if replicates.shape[0] == 0:
        return np.full((len(point), 2), np.nan)
    lo = (1 - level) / 2
    dev = replicates - replicates.mean(axis=0, keepdims=True)
    q = np.quantile(dev, [lo, 1 - lo], axis=0).T
    return np.clip(point[:, None] + q, 0.0, 1.0)


@dataclass(eq=False)
class MixtureResult:
    """Inferred byte proportions of a tokenizer's training data, with half-sample intervals."""

    tokenizer: str
    fingerprint: str
    fit: MixtureFit
    n_steps: int
    replicates: np.ndarray  # (B, n) half-sample proportions (B may be 0)
    corpus: dict[str, Any]
    options: dict[str, Any]
    seed: int = 0
    replicates_converged: int = 0  # replicate LPs that converged (the rest stopped by gap, stability or a cap)

    @property
    def categories(self) -> list[str]:
        return self.fit.categories

    def intervals(self, level: float = 0.95) -> np.ndarray:
        """``(n, 2)`` intervals from the half-sample replicates (NaN without replicates).

        Half-sampling (McCarthy 1969): a random half of the documents, drawn without replacement,
        varies around its mean about as much as the full-sample estimate varies around its own —
        the finite-population factor ½ cancels the halved sample size. So the interval is the
        point estimate plus the replicates' central ``level`` quantiles of deviation from their
        mean, clipped to [0, 1]. Centring matters: the LP's estimate is not a smooth function
        of the counts, and resampled samples (with or without duplicates) fit systematically a
        little worse, which moved raw percentile intervals off the point estimate (GPT-2's
        English at T = 1,000: 0.865 outside [0.839, 0.847] with the multinomial bootstrap).
        :attr:`replicate_shift` reports that offset.
        """
        return centred_intervals(self.fit.proportions, self.replicates, level)

    @property
    def replicate_shift(self) -> np.ndarray:
        """Mean of the replicates minus the point estimate, per category (NaN without replicates)."""
        if self.replicates.shape[0] == 0:
            return np.full(len(self.categories), np.nan)
        return self.replicates.mean(axis=0) - self.fit.proportions

    def grouped(self, *, top: int = 5, level: float = 0.95) -> pd.DataFrame:
        """A pandas frame of English, code (:data:`CODE_CATEGORIES` summed), the ``top`` other
        categories and the rest as "other", with intervals of each group's summed share
        (computed from the replicates' sums, not by adding category bounds)."""
        import pandas as pd

        cats = np.asarray(self.categories)
        is_code = np.isin(cats, CODE_CATEGORIES)
        is_eng = cats == "eng_Latn"
        rest = np.flatnonzero(~is_code & ~is_eng)
        rest = rest[np.argsort(-self.fit.proportions[rest], kind="stable")]
        groups = [("English", is_eng), ("code", is_code)]
        groups += [(str(cats[i]), np.arange(len(cats)) == i) for i in rest[:top]]
        groups.append(("other", np.isin(np.arange(len(cats)), rest[top:])))
        point = np.array([self.fit.proportions[m].sum() for _, m in groups])
        reps = (np.stack([self.replicates[:, m].sum(axis=1) for _, m in groups], axis=1)
                if self.replicates.shape[0] else np.zeros((0, len(groups))))
        iv = centred_intervals(point, reps, level)
        return pd.DataFrame({"tokenizer": self.tokenizer, "group": [g for g, _ in groups], "proportion": point,
                             "ci_low": iv[:, 0], "ci_high": iv[:, 1]})

    @property
    def signature(self) -> Signature:
        return Signature(tokenizers={self.tokenizer: self.fingerprint}, corpus=self.corpus, seed=self.seed,
                         extra={"attack": "mixture", **self.options})

    @property
    def notes(self) -> list[str]:
        """The main fit's cautions (:attr:`MixtureFit.notes`) and unfinished replicate solves."""
        notes = list(self.fit.notes)
        n_reps = self.replicates.shape[0]
        if n_reps and self.replicates_converged < n_reps:
            notes.append(f"{n_reps - self.replicates_converged} of {n_reps} resampling replicates stopped "
                         "before optimality (gap, stability or a cap); the intervals rest on approximate fits")
        return notes

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        iv = self.intervals()
        return pd.DataFrame({
            "tokenizer": self.tokenizer, "category": self.categories, "proportion": self.fit.proportions,
            "ci_low": iv[:, 0], "ci_high": iv[:, 1], "replicate_shift": self.replicate_shift,
            "alpha": self.fit.alpha, "pairs_per_byte": self.fit.pairs_per_byte, "steps": self.n_steps,
            "objective": self.fit.objective, "rows": self.fit.n_rows, "converged": self.fit.converged,
            "stop_reason": self.fit.stop_reason, "max_violation": self.fit.max_violation, "gap": self.fit.gap,
            "replicates": self.replicates.shape[0],
            "replicates_converged": self.replicates_converged,
        }).sort_values("proportion", ascending=False, ignore_index=True)
