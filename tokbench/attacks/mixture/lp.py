"""The mixture LP solved by delayed row and column generation (Hayase et al. 2024).

BPE training merges, at step ``t``, the pair that is most frequent after merges ``1..t-1``, so
the mixture weights ``α`` must make every merged pair ``m_t`` at least as frequent as every
competing pair ``p``, up to slack ``v_t`` per step and ``v_p`` per pair::

    Σ_i α_i c_i,t(m_t) + v_t + v_p  ≥  Σ_i α_i c_i,t(p)      for all t, p ≠ m_t
    α ∈ simplex,  v ≥ 0,  minimise Σ_t v_t + Σ_p v_p

The LP has ``T × #pairs`` rows. :func:`infer_mixture` solves it over a small row set
(:mod:`~tokbench.attacks.mixture.solvers`), sweeps the steps under the current ``α`` (numba,
:func:`tokbench.attacks.mixture._kernels.sweep_kernel`: a lazy max-heap keyed by
``W(p) - v_p`` finds each step's most violated pairs exactly), adds those rows and the ``v_p``
columns they need, and repeats until no row is violated by more than ``tol``: the solution is
then optimal for the full LP. One row per violated step and sweep (``k_add``, at most
``max_add``), purging rows far from binding (warm-started HiGHS re-solves stay small), and two
early stops reported as such — a provable gap below ``gap_tol``, or (for the paper's LP without
the noise margin below) proportions that no longer move (``stable_tol``) — keep real tokenizers
tractable. It differs from
:mod:`~tokbench.attacks.mixture.solvers` (one restricted LP) by generating the rows.

Two departures from the paper's LP. A step whose merged pair occurs in no sample at all
(a merge from data none of the categories resembles) is not checked, as in the reference
implementation: its only constraint, ``v_t ≥ W_t(p)`` for every competitor, can be eased only by
moving weight onto categories that hold none of the competitors — dilution, not evidence
(``skipped_steps``). For SentencePiece-style models the alphabet is a row of its own
(:mod:`~tokbench.attacks.mixture.alphabet`, ``alphabet_slack``): text outside the alphabet is
at most ``1 - character_coverage`` of the training data. Without that row a category written
largely outside the alphabet (Chinese under Llama or Mistral) constrains nothing and soaks up
the weight: Llama at T = 1,000 gave ``zho_Hans`` 30 % without it, under 1 % with it.

A third departure, the noise margin (``margin_counts``): a competitor ahead of the merged pair
by at most ``ε`` costs nothing, ``Σ_i α_i (c_i,t(p) - c_i,t(m_t)) ≤ ε + v_t + v_p``, with ``ε`` worth
``margin_counts`` pair occurrences in a median-size sample (:func:`margin_in_lp_units`). The
samples are not the training data: late merges win by a few occurrences, which the samples
reproduce only up to Poisson noise, and those near-ties are what keeps the paper's LP (``ε = 0``)
from being solved. For a fixed ``α`` its slack problem is the dual of a maximum-weight matching
between steps and pairs over every pair ahead of a merge, and on FLORES-size samples that is
millions of edges (n = 10, T = 10,000: row generation at the final ``α`` alone was still short of
the optimum after 36 rounds and 1.16 M rows). With a margin of a few occurrences the near-ties
drop out and the LP is solved to proven optimality in seconds to minutes, with proportions about
as accurate as the paper's LP stopped early (log10 MSE on known mixtures: n = 10, −5.54 against
−5.50; n = 30, −5.70 against −5.81; docs/benchmarks.md, "Data-mixture inference").

Normalisation (our choice, documented): counts of category ``i`` are divided by its total pair
count at ``t = 0`` (times :data:`SCALE`, for solver tolerances), so ``α_i`` weighs pairs; byte
proportions ``β_i ∝ α_i · bytes_i / pairs_i`` are what is reported.

Example:
    >>> fit = infer_mixture(TraceSet.from_corpus(tok, corpus, n_steps=3000))   # doctest: +SKIP
    >>> fit.as_dict()                                                         # doctest: +SKIP
    {'eng_Latn': 0.61, ...}
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import TokbenchError
from ...results import Signature
from .solvers import SOLVERS, IncrementalHighs, solve_rows

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .traceset import PackedTraces, TraceSet

__all__ = ["MixtureFit", "infer_mixture", "SCALE"]

#: Counts per category are scaled to "pairs per million" (solver tolerances are absolute).
SCALE = 1e6
#: Default noise margin of :func:`infer_mixture`, in pair occurrences of a median-size sample.
MARGIN_COUNTS = 4.0
#: Step and pair key of the alphabet row in the restricted LP (no real step or pair is negative).
ALPHABET_ROW = -1


@dataclass(eq=False)
class MixtureFit:
    """One LP solution: weights over pair-normalised counts and byte proportions.

    ``converged`` is True when a full sweep found no constraint violated by more than ``tol``
    (the solution is then optimal for the whole LP); otherwise ``stop_reason`` says what
    stopped the generation — ``"gap"`` (provably near-optimal), ``"stable"`` (the proportions
    stopped moving, see :func:`infer_mixture`), ``"max_iter"`` or ``"time_limit"`` — and
    ``max_violation`` / ``violated_steps`` say by how much the last solution misses (measured
    by a full sweep after the last solve).

    ``objective`` (the restricted LP's optimum) is a lower bound on the full LP's optimum, and
    ``upper_bound`` the cost of the last ``α`` once every violated step's ``v_t`` is raised to
    cover its worst violation, a feasible point of the full LP: the optimum lies in between,
    and :attr:`gap` says how far apart they are. ``history`` has one entry per sweep (time,
    rows, bounds, violations and the ``α`` that sweep checked), for convergence plots.
    A :class:`~tokbench.results.Result`: :attr:`notes` holds the cautions, :meth:`to_frame`
    one row per category.
    """

    categories: list[str]
    alpha: np.ndarray
    proportions: np.ndarray
    objective: float
    iterations: int
    n_rows: int
    converged: bool
    max_violation: float = 0.0
    violated_steps: int = 0
    upper_bound: float = np.inf
    stop_reason: str = "converged"
    #: Mergeable pairs per UTF-8 byte of each category's sample (what ``α`` is converted with).
    pairs_per_byte: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    seconds: float = 0.0
    rows: tuple[np.ndarray, np.ndarray] = field(repr=False, default=(np.zeros(0, np.int64), np.zeros(0, np.int64)))
    history: list[dict[str, Any]] = field(repr=False, default_factory=list)
    signature: Signature = field(repr=False, default_factory=lambda: Signature(tokenizers={}))
    #: Steps not checked because their merged pair occurs in no sample (module docstring).
    skipped_steps: int = 0
    #: Slack of the alphabet row (SentencePiece models): weighted characters outside the
    #: alphabet beyond ``1 - character_coverage``, in the LP's units; NaN when there is no row.
    alphabet_slack: float = float("nan")
    #: The noise margin in the LP's units (:func:`infer_mixture`'s ``margin_counts`` converted):
    #: a competitor ahead of the merged pair by no more than this costs no slack. 0: the paper's LP.
    margin: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {c: float(p) for c, p in zip(self.categories, self.proportions, strict=True)}

    def extrapolated(self, *, ratio: float = 0.4, min_share: float = 0.02) -> list[str]:
        """Categories whose byte share (at least ``min_share``) rests on few pairs: fewer than
        ``ratio`` × the median mergeable pairs per byte — multi-byte symbols (a SentencePiece
        model's CJK characters are 3 bytes each) or text the tokenizer's trainer could not merge
        (Chinese under Llama: most characters are missing from its alphabet). A small pair
        weight ``α`` then becomes a large byte share, and such a category, whose many distinct
        rare pairs seldom beat a merge, can soak up weight that lowers every other category's
        violations. Read their shares with caution."""
        if len(self.pairs_per_byte) != len(self.categories):
            return []
        low = self.pairs_per_byte < ratio * float(np.median(self.pairs_per_byte))
        return [c for c, lo, p in zip(self.categories, low, self.proportions, strict=True) if lo and p >= min_share]

    @property
    def solved(self) -> bool:
        """Whether the LP's optimum is proven: converged, or stopped at a provable gap of at most
        ``gap_tol`` (``stop_reason="gap"``). A stability stop or a cap is not a proof."""
        return self.converged or self.stop_reason == "gap"

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(upper_bound - objective) / upper_bound`` (0 when converged)."""
        if self.converged:
            return 0.0
        return float((self.upper_bound - self.objective) / self.upper_bound) if self.upper_bound > 0 else 0.0

    @property
    def notes(self) -> list[str]:
        """Cautions to print beside the proportions: an unfinished solve, extrapolated shares."""
        notes = []
        if not self.solved:
            why = {"stable": "when the proportions stopped moving",
                   "max_iter": "at its iteration cap", "time_limit": "at its time limit"}.get(
                       self.stop_reason, f"({self.stop_reason})")
            notes.append(f"the mixture LP did not converge: it stopped {why} (gap {self.gap:.3g}, largest "
                         f"remaining violation {self.max_violation:.3g} over {self.violated_steps} steps)")
        if self.skipped_steps:
            notes.append(f"{self.skipped_steps} of the merge steps were not checked: their merged pair occurs in "
                         "no category's sample (training data unlike every category offered)")
        if self.alphabet_slack > 0:
            notes.append(f"the alphabet row has slack {self.alphabet_slack:.3g}: more weighted text falls outside "
                         "the model's alphabet than its character_coverage allows")
        median = float(np.median(self.pairs_per_byte)) if len(self.pairs_per_byte) else 0.0
        for cat in self.extrapolated():
            k = self.categories.index(cat)
            notes.append(f"{cat} has {self.pairs_per_byte[k]:.2f} mergeable pairs per byte (median {median:.2f}); "
                         f"its {self.proportions[k]:.1%} byte share is extrapolated from few pairs")
        return notes

    def to_frame(self) -> pd.DataFrame:
        """One row per category: ``category, proportion, alpha, pairs_per_byte``."""
        import pandas as pd

        return pd.DataFrame({"category": self.categories, "proportion": self.proportions, "alpha": self.alpha,
                             "pairs_per_byte": self.pairs_per_byte if len(self.pairs_per_byte) else np.nan})


def _coefficients(pk: PackedTraces, rows_t: np.ndarray, counts: np.ndarray, margin: float = 0.0) -> np.ndarray:
    """Row coefficients ``c_t(p) - c_t(m_t)`` per category, normalised, minus the noise margin:
    ``Σ α = 1``, so shifting every coefficient by ``margin`` moves the row's bound by ``margin``."""
    scale = SCALE / pk.total_pairs
    return (counts - pk.merged[:, rows_t].T) * scale[None, :] - margin


def margin_in_lp_units(margin_counts: float, pk: PackedTraces) -> float:
    """The noise margin in the LP's units: ``margin_counts`` pair occurrences in a sample of the
    median category's size (one occurrence of category ``i`` weighs ``SCALE / total_pairs_i``)."""
    return float(margin_counts) * SCALE / float(np.median(pk.total_pairs)) if margin_counts else 0.0


def _bytes_share(alpha: np.ndarray, pk: PackedTraces) -> np.ndarray:
    """Byte proportions from pair weights: ``β_i ∝ α_i · bytes_i / pairs_i`` (module docstring)."""
    beta = alpha * pk.n_bytes / pk.total_pairs
    return beta / beta.sum() if beta.sum() > 0 else np.full(len(alpha), 1.0 / len(alpha))


def _repair_cost(out_t: np.ndarray, out_v: np.ndarray, T: int) -> float:
    """What raising each step's ``v_t`` by its worst violation costs (the sweep lists each
    step's worst violations): the current solution plus this is feasible for the full LP."""
    worst = np.zeros(T)
    np.maximum.at(worst, out_t, out_v)
    return float(worst.sum())


def _select(out_t: np.ndarray, out_v: np.ndarray, fresh: np.ndarray, max_add: int | None) -> np.ndarray:
    """Indices of the rows to add: the fresh ones, at most ``max_add`` with the largest violations."""
    idx = np.flatnonzero(fresh)
    if max_add is not None and len(idx) > max_add:
        idx = idx[np.argsort(-out_v[idx], kind="stable")[:max_add]]
        idx.sort()
    return idx


class _RowSet:
    """The rows generated so far, the restricted LP over them and its current solution."""

    def __init__(self, pk: PackedTraces, n: int, n_steps: int, solver: str, margin: float = 0.0):
        self.pk, self.n, self.solver, self.margin = pk, n, solver, margin
        self.have: set[tuple[int, int]] = set()
        self.rows_t: list[np.ndarray] = []
        self.rows_p: list[np.ndarray] = []
        self.coefs: list[np.ndarray] = []
        self.alpha = np.full(n, 1.0 / n)
        self.vt = np.zeros(n_steps)
        self.vp = np.zeros(max(pk.n_pairs, 1))
        self.obj = 0.0
        self.model = IncrementalHighs(n) if solver == "highs" else None
        self.purged = 0
        self.sent = 0  # row blocks already in the incremental model
        self.alphabet_slack = float("nan")

    def add_alphabet(self, coef: np.ndarray) -> None:
        """The alphabet row (``coef · α - v ≤ 0``, keyed by step and pair :data:`ALPHABET_ROW`;
        its own slack), kept for the whole solve."""
        self.rows_t.append(np.array([ALPHABET_ROW], np.int64))
        self.rows_p.append(np.array([ALPHABET_ROW], np.int64))
        self.coefs.append(np.asarray(coef, np.float64)[None, :])
        self.have.add((ALPHABET_ROW, ALPHABET_ROW))
        self.alphabet_slack = 0.0

    def add(self, steps: np.ndarray, pairs: np.ndarray, counts: np.ndarray) -> None:
        """Append rows (counts ``c_t(p)`` per category) without solving."""
        self.rows_t.append(steps)
        self.rows_p.append(pairs)
        self.coefs.append(_coefficients(self.pk, steps, counts, self.margin))
        self.have.update(zip(steps.tolist(), pairs.tolist(), strict=True))

    def add_warm_rows(self, warm_rows: tuple[np.ndarray, np.ndarray], n_steps: int) -> None:
        """Seed the row set with ``(steps, pairs)`` of an earlier fit, counted in these traces."""
        from ._kernels import counts_at

        pk = self.pk
        wt, wp = (np.asarray(x, np.int64) for x in warm_rows)
        order = np.argsort(wt, kind="stable")
        wt, wp = wt[order], wp[order]
        counts = counts_at(pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc, pk.d_val, self.n, n_steps,
                           wt, wp)
        self.add(wt, wp, counts)

    def fresh(self, out_t: np.ndarray, out_p: np.ndarray) -> np.ndarray:
        """Which of the sweep's rows are not in the LP yet."""
        return np.fromiter(((t, p) not in self.have for t, p in zip(out_t.tolist(), out_p.tolist(), strict=True)),
                           dtype=bool, count=len(out_t))

    def resolve(self) -> None:
        if self.model is None:
            self.alpha, vt_d, vp_d, self.obj = solve_rows(
                self.n, np.concatenate(self.coefs), np.concatenate(self.rows_t), np.concatenate(self.rows_p),
                solver=self.solver)
        else:
            for k in range(self.sent, len(self.coefs)):  # the blocks added since the last solve
                self.model.add_rows(self.coefs[k], self.rows_t[k], self.rows_p[k])
            self.sent = len(self.coefs)
            self.alpha, vt_d, vp_d, self.obj = self.model.solve()
        if not np.isnan(self.alphabet_slack):
            self.alphabet_slack = vt_d.pop(ALPHABET_ROW, 0.0) + vp_d.pop(ALPHABET_ROW, 0.0)
        self.vt[:] = 0
        self.vp[:] = 0
        self.vt[list(vt_d)] = list(vt_d.values())
        self.vp[list(vp_d)] = list(vp_d.values())

    def purge(self, gap: float, n_steps: int) -> None:
        """Drop rows far from binding once the LP is large: they only slow the re-solves, and
        dropping them keeps the current solution optimal (a row that matters again is found by
        a later sweep)."""
        model = self.model
        if model is None or model.n_rows <= max(20_000, 4 * n_steps):
            return
        lt, lp_ = np.concatenate(self.rows_t), np.concatenate(self.rows_p)
        drop = model.slack_rows(gap)
        drop = drop[lt[drop] >= 0]  # the alphabet row stays: no sweep would find it again
        if len(drop) <= model.n_rows // 4:
            return
        keep = np.ones(len(lt), bool)
        keep[drop] = False
        model.delete_rows(drop)
        self.have.difference_update(zip(lt[drop].tolist(), lp_[drop].tolist(), strict=True))
        self.rows_t[:] = [lt[keep]]
        self.rows_p[:] = [lp_[keep]]
        self.coefs[:] = [np.concatenate(self.coefs)[keep]]
        self.sent = 1
        self.purged += len(drop)

    def all_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The generated ``(steps, pairs)`` (the alphabet row left out: it is not a step)."""
        if not self.rows_t:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        lt, lp_ = np.concatenate(self.rows_t), np.concatenate(self.rows_p)
        return lt[lt >= 0], lp_[lt >= 0]


@dataclass(frozen=True)
class _Options:
    """The knobs of :func:`infer_mixture` that steer the generation loop."""

    k_add: int
    max_add: int | None
    max_iter: int
    start_steps: int | None
    grow: int
    purge: bool
    purge_gap: float
    time_limit: float | None
    tol: float
    gap_tol: float | None
    stable_tol: float | None
    patience: int
    skip_unseen: bool = True
    alphabet: bool = True
    margin_counts: float = 0.0


class _RowGeneration:
    """One run of the generation loop: sweep, measure, stop or add rows and re-solve."""

    def __init__(self, rows: _RowSet, opts: _Options, n_steps: int, started: float):
        self.rows, self.opts, self.T, self.started = rows, opts, n_steps, started
        self.iterations = 0
        self.history: list[dict[str, Any]] = []
        self.recent: list[np.ndarray] = []  # byte proportions of the last sweeps over all steps
        self.stop_reason = "converged"
        self.converged = False
        self.bound = np.inf
        self.max_viol = 0.0
        self.n_viol = 0
        missing = rows.pk.merged_glob[:n_steps] < 0
        self.skipped = int(missing.sum()) if opts.skip_unseen else 0
        self.unchecked = np.where(missing, np.inf, 0.0) if self.skipped else None

    def sweep(self, t_end: int, k_add: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The ``k_add`` most violated rows of each of the first ``t_end`` steps."""
        from ._kernels import sweep_kernel

        pk, rows = self.rows.pk, self.rows
        scale = rows.alpha * SCALE / pk.total_pairs
        # Pairs the trainer could never merge get infinite slack: they compete with nothing;
        # so do the steps not checked (their merged pair is in no sample).
        vp_eff = rows.vp if pk.exempt is None else rows.vp + pk.exempt
        vt_eff = rows.vt + rows.margin if self.unchecked is None else rows.vt + rows.margin + self.unchecked
        return sweep_kernel(pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc, pk.d_val,
                            pk.merged_glob, scale, vt_eff, vp_eff, np.int64(k_add), float(self.opts.tol),
                            np.int64(t_end))

    def measure(self, out_t: np.ndarray, out_v: np.ndarray, *, complete: bool) -> None:
        """Largest violation, violated steps and (after a sweep over all steps) the upper bound."""
        self.max_viol = float(out_v.max()) if len(out_v) else 0.0
        self.n_viol = len(np.unique(out_t))
        self.bound = self.rows.obj + _repair_cost(out_t, out_v, self.T) if complete else np.inf

    def record(self, t_end: int, bar: Any) -> None:
        rows = self.rows
        self.history.append({"iteration": self.iterations, "seconds": time.perf_counter() - self.started,
                             "rows": len(rows.have), "steps_checked": t_end, "objective": rows.obj,
                             "upper_bound": self.bound, "violated_steps": self.n_viol,
                             "max_violation": self.max_viol, "alpha": rows.alpha.copy()})
        bar.update(1)
        bar.set_postfix(rows=len(rows.have), violated=self.n_viol, worst=f"{self.max_viol:.3g}")

    def early_stop(self, t_end: int) -> str | None:
        """``"gap"``, ``"stable"``, ``"max_iter"`` or ``"time_limit"`` when generation should stop."""
        opts, rows = self.opts, self.rows
        if opts.gap_tol is not None and self.bound < np.inf and self.bound - rows.obj <= opts.gap_tol * self.bound:
            return "gap"
        if t_end >= self.T and opts.stable_tol is not None and rows.rows_t:  # (the uniform start does not count)
            self.recent = self.recent[-opts.patience:] + [_bytes_share(rows.alpha, rows.pk)]
            if len(self.recent) > opts.patience and \
                    np.abs(np.stack(self.recent[:-1]) - self.recent[-1]).max() <= opts.stable_tol:
                return "stable"
        if self.iterations >= opts.max_iter:
            return "max_iter"
        if opts.time_limit is not None and time.perf_counter() - self.started > opts.time_limit:
            return "time_limit"
        return None

    def run(self, bar: Any) -> None:
        opts, T, rows = self.opts, self.T, self.rows
        t_end = T if opts.start_steps is None else min(T, opts.start_steps)
        while True:
            self.iterations += 1
            out_t, out_p, out_v, out_c = self.sweep(t_end, opts.k_add)
            fresh = rows.fresh(out_t, out_p)
            self.measure(out_t, out_v, complete=t_end >= T)
            self.record(t_end, bar)
            if not fresh.any():
                # A violated row already in the LP can only be the solver's own tolerance.
                if t_end >= T:
                    self.converged = True
                    self.bound = rows.obj
                    return
                t_end = min(T, t_end * opts.grow)
                continue
            stop = self.early_stop(t_end)
            if stop is not None:
                self.stop_reason = stop
                if stop in ("max_iter", "time_limit") and t_end < T:
                    # Measure the miss over all steps, not only the curriculum's.
                    out_t, _, out_v, _ = self.sweep(T, 1)
                    self.measure(out_t, out_v, complete=True)
                return
            pick = _select(out_t, out_v, fresh, opts.max_add)
            rows.add(out_t[pick], out_p[pick], out_c[pick])
            rows.resolve()
            if opts.purge:
                rows.purge(opts.purge_gap, T)

    def fit(self, ts: TraceSet, signature: Signature) -> MixtureFit:
        rows, pk = self.rows, self.rows.pk
        return MixtureFit(list(ts.categories), rows.alpha, _bytes_share(rows.alpha, pk), rows.obj, self.iterations,
                          len(rows.have), self.converged,
                          pairs_per_byte=pk.total_pairs / np.maximum(pk.n_bytes, 1), max_violation=self.max_viol,
                          violated_steps=self.n_viol, upper_bound=float(self.bound), stop_reason=self.stop_reason,
                          seconds=time.perf_counter() - self.started, rows=rows.all_rows(), history=self.history,
                          signature=signature, skipped_steps=self.skipped, alphabet_slack=rows.alphabet_slack,
                          margin=rows.margin)


def _check(ts: TraceSet, solver: str, replicate: int, opts: _Options) -> None:
    SOLVERS.canonical(solver)  # an unknown name raises UnknownNameError listing the solvers
    if not 0 <= replicate < ts.n_replicates:
        raise TokbenchError(f"replicate {replicate} does not exist; the traces have {ts.n_replicates}")
    if opts.k_add < 1 or (opts.max_add is not None and opts.max_add < 1) or opts.max_iter < 1 or opts.patience < 1:
        raise TokbenchError(f"k_add, max_add, max_iter and patience must be positive (got {opts.k_add}, "
                            f"{opts.max_add}, {opts.max_iter}, {opts.patience})")
    if not np.isfinite(opts.margin_counts) or opts.margin_counts < 0:
        raise TokbenchError(f"margin_counts must be a finite number >= 0 (got {opts.margin_counts}); 0 is the paper's LP")


def infer_mixture(ts: TraceSet, *, solver: str = "highs", replicate: int = 0, k_add: int = 1,
                  max_add: int | None = None, max_iter: int = 1000, start_steps: int | None = None, grow: int = 2,
                  purge: bool = True, purge_gap: float = 1.0, time_limit: float | None = None,
                  tol: float = 1.0, gap_tol: float | None = 1e-3, stable_tol: float | None = None, patience: int = 20,
                  warm_rows: tuple[np.ndarray, np.ndarray] | None = None, skip_unseen: bool = True,
                  alphabet: bool = True, margin_counts: float = MARGIN_COUNTS, progress: bool = False) -> MixtureFit:
    """Solve the mixture LP by delayed row and column generation (module docstring).

    Each sweep replays the ``T`` steps (with ``start_steps``, a growing prefix of them, doubled
    by ``grow`` whenever it is satisfied) under the current solution and, per step, finds the
    ``k_add`` most violated constraints exactly; of those, the ``max_add`` with the largest
    violations are added (``None``: all), each with its ``v_p`` column when new. Few rows per
    step keep the LP small: the worst violator of a step fixes ``v_t`` and usually covers the
    others. ``max_iter`` sweeps or ``time_limit`` seconds cap the work; a capped fit has
    ``converged=False`` and reports its ``max_violation``. ``tol`` is absolute in the LP's
    units (pairs per million of each category); the default 1.0 is the paper's (Gurobi's
    feasibility tolerance 10⁻⁶ on counts divided by total pairs).

    ``margin_counts`` is the noise margin in pair occurrences of a median-size sample (module
    docstring; default :data:`MARGIN_COUNTS` = 4). With it the LP is solved to a proven
    relative gap of ``gap_tol`` (``stop_reason="gap"``; 10⁻³ by default, ``None``: to optimality):
    n = 30 languages, T = 30,000 in 44–75 s; Llama at T = 3,000 in about 200 s. ``margin_counts=0``
    is the paper's LP, which on FLORES-size samples tails off (the late steps' competitors are
    noise-level counts: the lower bound creeps up for minutes while ``α`` no longer moves); for it
    set ``stable_tol``: generation then stops once every step is being checked and no byte
    proportion has moved by more than ``stable_tol`` over the last ``patience`` sweeps
    (``stop_reason="stable"``, the gap reported). ``warm_rows`` (``(steps, pairs)`` from an
    earlier fit) seed the row set.

    ``skip_unseen`` leaves out the steps whose merged pair no sample holds, and ``alphabet``
    adds the alphabet row of SentencePiece-style models when the traces carry one (module
    docstring); both default on, ``False`` (with ``margin_counts=0``) gives the paper's LP.
    """
    from tqdm.auto import tqdm

    opts = _Options(k_add, max_add, max_iter, start_steps, grow, purge, purge_gap, time_limit, tol, gap_tol,
                    stable_tol, patience, skip_unseen, alphabet, margin_counts)
    _check(ts, solver, replicate, opts)
    started = time.perf_counter()
    pk = ts.pack(replicate)
    rows = _RowSet(pk, len(ts.categories), ts.n_steps, solver, margin_in_lp_units(margin_counts, pk))
    if alphabet and ts.alphabet is not None:
        # One coefficient per category from the whole sample: a ratio, which half-samples share.
        rows.add_alphabet(ts.alphabet.coefficients(ts.pack(0).total_pairs, SCALE))
    if warm_rows is not None and len(warm_rows[0]):
        rows.add_warm_rows(warm_rows, ts.n_steps)
    if rows.rows_t:
        rows.resolve()
    generation = _RowGeneration(rows, opts, ts.n_steps, started)
    with tqdm(total=max_iter, desc="mixture LP", disable=not progress, leave=False) as bar:
        generation.run(bar)
    signature = Signature(tokenizers={ts.merges.tokenizer: ts.merges.fingerprint}, corpus=ts.corpus,
                          extra={"attack": "mixture", **ts.merges.signature()},
                          options={"solver": solver, "replicate": replicate, **asdict(opts)})
    return generation.fit(ts, signature)
