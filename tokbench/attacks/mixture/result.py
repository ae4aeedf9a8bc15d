"""What the mixture attack returns: inferred byte proportions with half-sample intervals.

A :class:`MixtureResult` holds the main LP fit (:class:`~tokbench.attacks.mixture.lp.MixtureFit`)
of one tokenizer and the proportions of its resampling replicates (half-samples of each
category's documents, McCarthy 1969), from which :meth:`MixtureResult.intervals` draws
centred intervals. It is a :class:`~tokbench.results.Result`: :meth:`~MixtureResult.to_frame`
(one row per category with the solve's diagnostics, ``reliable``/``unreliable_reason`` and a
per-category ``caution``), :attr:`~MixtureResult.signature` and :attr:`~MixtureResult.notes`
(unfinished or unreliable solves, few candidate categories, extrapolated or inflated shares, and
categories that explain few merges). Its :attr:`~MixtureResult.diagnostics`
(:class:`~tokbench.attacks.mixture.diagnostics.MixtureDiagnostics`, of the full-sample fit) say
how well the offered categories explain the merges. Reports render it without importing the
attack: figures read the plain columns.

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
from .diagnostics import MixtureDiagnostics
from .lp import MixtureFit

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["MixtureResult", "CODE_CATEGORIES", "centred_intervals", "MAX_RELIABLE_GAP", "FEW_CATEGORIES"]

#: Category names that :meth:`MixtureResult.grouped` adds up as "code".
CODE_CATEGORIES = CODE_LANGUAGES

#: A fit whose relative optimality gap exceeds this is marked unreliable (:attr:`MixtureResult.reliable`):
#: its proportions may be far from the LP's optimum, and time-capped audit fits reach gaps up to 0.99.
MAX_RELIABLE_GAP = 0.05

#: Below this many candidate categories the shares are relative to the few given, not to the training
#: data: any language or domain left out is credited to whichever candidate resembles it.
FEW_CATEGORIES = 10

#: Caution rule of :meth:`MixtureResult.inflated`: a share of at least ``INFLATED_SHARE`` whose category
#: has fewer than ``INFLATED_RATIO`` × the median mergeable pairs per byte. Measured on FLORES dev
#: eng,fra,rus,zho,jpn,tha at the audit's 2,000 steps (issue 13), pairs per byte / median: byte-level
#: GPT-2 0.91-1.07 and Qwen2 0.88-1.06 (every category); SentencePiece-derived Mistral v1 zho 0.65
#: (share 46 %), jpn 0.66 (9 %), tha 0.84; Llama zho 0.64 (48 %), jpn 0.87 (13 %). 0.75 sits between
#: the sparse CJK of SentencePiece models and everything else; the 0.4 ratio of
#: :meth:`MixtureFit.extrapolated` misses both Chinese shares. The share floor keeps the caution to
#: shares that dominate the answer (a 1.5x inflation moves a 9 % share by a few points).
INFLATED_RATIO = 0.75
INFLATED_SHARE = 0.2


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
    replicates_converged: int = 0  # replicate LPs solved (converged or at a proven gap; the rest stopped by stability or a cap)
    identical: tuple[tuple[str, ...], ...] = ()  # groups of candidate categories holding the same text
    #: How well the categories explain the merges under the full-sample fit (None: not computed).
    diagnostics: MixtureDiagnostics | None = None

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
                             "ci_low": iv[:, 0], "ci_high": iv[:, 1],
                             "reliable": self.reliable, "unreliable_reason": self.unreliable_reason})

    @property
    def signature(self) -> Signature:
        return Signature(tokenizers={self.tokenizer: self.fingerprint}, corpus=self.corpus, seed=self.seed,
                         extra={"attack": "mixture", **self.options})

    @property
    def notes(self) -> list[str]:
        """The main fit's cautions (:attr:`MixtureFit.notes`), unfinished replicate solves, an unreliable
        fit (:attr:`unreliable_reason`), fewer than :data:`FEW_CATEGORIES` candidates, inflated shares, and
        categories that explain few of the first merges (:attr:`MixtureDiagnostics.notes`)."""
        notes = list(self.fit.notes)
        n_reps = self.replicates.shape[0]
        if n_reps and self.replicates_converged < n_reps:
            notes.append(f"{n_reps - self.replicates_converged} of {n_reps} resampling replicates stopped "
                         "before a proven optimum (stability stop or a cap); the intervals rest on approximate fits")
        if not self.reliable:
            notes.append(f"UNRELIABLE fit ({self.unreliable_reason}): the proportions are not the LP's answer "
                         "and should not be read as results; rerun with a larger time limit or fewer steps")
        n = len(self.categories)
        if n == 1:
            notes.append(f"one candidate category ({self.categories[0]}): its share is 1.0 by construction, "
                         "not a finding; give at least two categories to compare")
        elif n < FEW_CATEGORIES:
            notes.append(f"shares are among these {n} categories only ({', '.join(self.categories)}): "
                         "training data outside them is credited to whichever candidate resembles it")
        for group in self.identical:
            notes.append(f"categories {', '.join(group)} hold identical text: the attack cannot tell them apart "
                         "and splits their share arbitrarily; read their sum, or leave all but one out")
        median = float(np.median(self.fit.pairs_per_byte)) if len(self.fit.pairs_per_byte) else 0.0
        already = set(self.fit.extrapolated())
        for cat in self.inflated():
            if cat in already:  # MixtureFit.notes already cautions about it
                continue
            k = self.categories.index(cat)
            notes.append(f"{cat}'s {self.fit.proportions[k]:.1%} byte share may be inflated: it has "
                         f"{self.fit.pairs_per_byte[k]:.2f} mergeable pairs per byte against a median of "
                         f"{median:.2f}, so each unit of pair weight becomes {median / self.fit.pairs_per_byte[k]:.1f}"
                         "x the median's byte share")
        if self.diagnostics is not None:
            notes += self.diagnostics.notes
        return notes

    @property
    def unreliable_reason(self) -> str:
        """Why the main fit cannot be read as a result, or ``""``: it stopped at a cap
        (``max_iter``, ``time_limit``), or its optimality gap exceeds :data:`MAX_RELIABLE_GAP`.

        Example:
            >>> res.unreliable_reason   # doctest: +SKIP
            'stopped at time_limit, gap 0.99'
        """
        fit = self.fit
        if fit.stop_reason in ("max_iter", "time_limit"):
            return f"stopped at {fit.stop_reason}, gap {fit.gap:.2g}"
        if fit.gap > MAX_RELIABLE_GAP:
            return f"gap {fit.gap:.2g} > {MAX_RELIABLE_GAP}"
        return ""

    @property
    def reliable(self) -> bool:
        """False when :attr:`unreliable_reason` is set (tables and figures mark such fits)."""
        return not self.unreliable_reason

    def inflated(self, *, ratio: float = INFLATED_RATIO, min_share: float = INFLATED_SHARE) -> list[str]:
        """Categories whose large byte share (at least ``min_share``) rests on fewer than ``ratio`` ×
        the median mergeable pairs per byte, plus those :meth:`MixtureFit.extrapolated` flags.

        A share is the pair weight ``α`` divided by pairs per byte, so a sparse category turns a
        modest weight into a large share (see :data:`INFLATED_RATIO` for the measured case).

        Example:
            >>> res.inflated()   # doctest: +SKIP
            ['zho_Hans']
        """
        fit = self.fit
        flagged = set(fit.extrapolated())
        if len(fit.pairs_per_byte) == len(fit.categories) and len(fit.categories):
            low = fit.pairs_per_byte < ratio * float(np.median(fit.pairs_per_byte))
            flagged |= {c for c, lo, p in zip(fit.categories, low, fit.proportions, strict=True) if lo and p >= min_share}
        return [c for c in fit.categories if c in flagged]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        iv = self.intervals()
        return pd.DataFrame({
            "tokenizer": self.tokenizer, "category": self.categories, "proportion": self.fit.proportions,
            "ci_low": iv[:, 0], "ci_high": iv[:, 1], "replicate_shift": self.replicate_shift,
            "alpha": self.fit.alpha, "pairs_per_byte": self.fit.pairs_per_byte, "steps": self.n_steps,
            "objective": self.fit.objective, "rows": self.fit.n_rows, "converged": self.fit.converged,
            "solved": self.fit.solved,
            "stop_reason": self.fit.stop_reason, "max_violation": self.fit.max_violation, "gap": self.fit.gap,
            "replicates": self.replicates.shape[0],
            "replicates_converged": self.replicates_converged,
            "reliable": self.reliable, "unreliable_reason": self.unreliable_reason,
            "caution": np.isin(self.categories, self.inflated()),
        }).sort_values("proportion", ascending=False, ignore_index=True)
