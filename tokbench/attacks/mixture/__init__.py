"""Data-mixture inference by linear programming (Hayase et al. 2024, "Data Mixture Inference:
What do BPE Tokenizers Reveal about their Training Data?").

BPE training merges, at step ``t``, the pair that is most frequent after merges ``1..t-1``. Given
per-category pair-count traces (:mod:`tokbench.attacks.mixture.traces`), the mixture weights ``α`` must
make every merged pair ``m_t`` at least as frequent as every competing pair ``p``::

    Σ_i α_i c_i,t(m_t) + v_t + v_p  ≥  Σ_i α_i c_i,t(p)      for all t, p ≠ m_t
    α ∈ simplex,  v ≥ 0,  minimise Σ_t v_t + Σ_p v_p

with slack ``v_t`` per step and ``v_p`` per pair, since real training data is never exactly a
mixture of our samples. The LP has ``T × #pairs`` rows, so it is solved by delayed row and column
generation: solve over a small row set, sweep the steps under the current ``α`` (numba,
:func:`tokbench.attacks.mixture._kernels.sweep_kernel`, a lazy max-heap keyed by ``W(p) - v_p`` so
that each step's most violated pairs are found exactly), add those rows (and the ``v_p`` columns
they need), and repeat until no row is violated by more than ``tol`` — then the solution is
optimal for the full LP. What keeps this tractable on real tokenizers, where many pairs compete
at every step: one row per violated step and sweep (``k_add``; optionally at most ``max_add``
per sweep), purging rows that are far from binding so warm-started HiGHS re-solves stay small,
and two early stops that are reported as such — a provable optimality gap below ``gap_tol``,
or proportions that no longer move (``stable_tol``; see :func:`infer_mixture`). An optional
curriculum over steps (``start_steps``, doubling whenever they are satisfied) converges faster
for T ≈ 1,000 and slower beyond. An iteration or time cap stops the generation honestly too:
every fit says whether it ``converged``, why it stopped, its largest remaining violation and gap.

Measured (docs/benchmarks.md): GPT-2 with 44 categories, T = 3,000: gap-stop after 114 s (the
curriculum with 4 rows per step: converged in 149 s, same proportions to 10⁻³); a controlled
n = 10, T = 10,000 tokenizer: stable after 48–52 s at log10 MSE −5.45, while the exact optimum is
still 24 % away in objective after 300 s (the late steps' competitors are noise-level counts).

Candidates: every pair the traces count competes, except pairs the tokenizer's trainer could
never merge — for SentencePiece models, pieces that break its ``IsValidSentencePiece`` rules
(:func:`tokbench.attacks.training_split.pair_validity`); they get infinite pair slack.

Normalisation (our choice, documented): counts of category ``i`` are divided by its total pair
count at ``t = 0`` (and multiplied by 10⁶, for solver tolerances), so ``α_i`` weighs "pairs";
byte proportions are ``β_i ∝ α_i · bytes_i / pairs_i``, which is what is reported. The paper's
code normalises per category in the same spirit; the conversion to bytes makes results
comparable to byte-proportion ground truth.

Beyond the paper: resampling intervals (half-samples of each category's documents, see
:meth:`MixtureResult.intervals`; the replicate LPs are warm-started with the main solve's rows),
and two solvers with one model:
``highs`` (HiGHS through ``scipy.optimize.linprog``) and ``pulp`` (PuLP/CBC, for cross-checks).

Example:
    >>> fit = infer_mixture(TraceSet.from_corpus(tok, corpus, n_steps=3000))   # doctest: +SKIP
    >>> fit.proportions                                                       # doctest: +SKIP
    {'eng_Latn': 0.61, ...}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ...errors import TokbenchError, UnknownNameError
from ...model.tokenizer import Tokenizer
from .merges import MergeList, extract_merges
from .traces import PairTrace, trace_category

__all__ = ["TraceSet", "MixtureFit", "MixtureResult", "infer_mixture", "solve_rows", "SOLVERS",
           "run_mixture_attack", "audit_entry", "mse", "CODE_CATEGORIES"]

#: Category names that :meth:`MixtureResult.grouped` adds up as "code".
CODE_CATEGORIES = ("python", "c", "c_header", "cpp", "javascript", "perl", "php", "tcl", "shell")

Solver = Literal["highs", "pulp"]
#: Counts per category are scaled to "pairs per million" (solver tolerances are absolute).
SCALE = 1e6


@dataclass(eq=False)
class _Packed:
    n_pairs: int
    cat_off: np.ndarray
    loc_glob: np.ndarray
    init_cnt: np.ndarray
    d_off: np.ndarray
    d_loc: np.ndarray
    d_val: np.ndarray
    merged_glob: np.ndarray
    merged: np.ndarray  # (n, T)
    total_pairs: np.ndarray  # (n,)
    n_bytes: np.ndarray  # (n,)
    exempt: np.ndarray | None = None  # (n_pairs,) +inf for pairs the trainer could never merge, else 0


@dataclass(eq=False)
class TraceSet:
    """The traces of ``n`` categories under one merge list (same steps for all)."""

    categories: list[str]
    traces: list[PairTrace]
    merges: MergeList
    corpus: dict[str, Any] = field(default_factory=dict)
    #: ``valid(left, right)``: whether the tokenizer's trainer could merge a pair at all
    #: (:func:`tokbench.attacks.training_split.pair_validity`); pairs it could not are no competitors.
    valid_pair: Callable[[int, int], bool] | None = field(default=None, repr=False)
    _packed: dict[int, _Packed] = field(default_factory=dict, repr=False)
    _exempt_cache: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.categories:
            raise TokbenchError("mixture inference needs at least one category")
        if len(self.categories) != len(self.traces):
            raise TokbenchError("one trace per category is needed")
        for name, tr in zip(self.categories, self.traces, strict=True):
            if tr.n_steps != len(self.merges):
                raise TokbenchError(f"category {name!r}: trace has {tr.n_steps} steps, merges {len(self.merges)}")
            if (tr.total_pairs() <= 0).any():
                raise TokbenchError(
                    f"category {name!r} has no adjacent symbol pairs in its sample (no data, or only "
                    "one-symbol words); give it more text or leave it out"
                )

    @property
    def n_steps(self) -> int:
        return len(self.merges)

    @property
    def n_replicates(self) -> int:
        return min(tr.n_replicates for tr in self.traces)

    @classmethod
    def from_corpus(cls, tok: Tokenizer, corpus: Any, *, n_steps: int, merges: MergeList | None = None,
                    skip: int | Literal["auto"] = 0, replicates: int = 0, seed: int = 0,
                    cache_dir: Any = None, use_cache: bool = True, progress: bool = False) -> TraceSet:
        """Trace every category of a :class:`~tokbench.corpora.Corpus` under ``tok``'s first
        ``n_steps`` merges."""
        from tqdm.auto import tqdm

        ml = (merges if merges is not None else extract_merges(tok, skip=skip)).head(n_steps)
        traces = []
        for cat in tqdm(corpus.category_names, desc="pair traces", disable=not progress, leave=False):
            traces.append(trace_category(tok, corpus.documents(cat), ml, replicates=replicates, seed=seed,
                                         cache_dir=cache_dir, use_cache=use_cache))
        from ..training_split import pair_validity

        return cls(list(corpus.category_names), traces, ml, corpus.signature(), valid_pair=pair_validity(tok))

    def pack(self, replicate: int = 0) -> _Packed:
        """Flat arrays for the sweep kernel (column ``replicate`` of every trace)."""
        if replicate in self._packed:
            return self._packed[replicate]
        keys = np.unique(np.concatenate([np.concatenate([t.init_keys, t.d_keys]) for t in self.traces]))
        cat_off = [0]
        loc_glob, init_cnt, d_loc, d_val, d_offs = [], [], [], [], []
        base = 0
        for tr in self.traces:
            local = np.unique(np.concatenate([tr.init_keys, tr.d_keys]))
            loc_glob.append(np.searchsorted(keys, local))
            cnt = np.zeros(len(local), np.int64)
            cnt[np.searchsorted(local, tr.init_keys)] = tr.init_vals[:, replicate]
            init_cnt.append(cnt)
            d_loc.append(np.searchsorted(local, tr.d_keys).astype(np.int64))
            d_val.append(np.ascontiguousarray(tr.d_vals[:, replicate]))
            d_offs.append(tr.d_off + base)
            base += len(tr.d_keys)
            cat_off.append(cat_off[-1] + len(local))
        mkeys = (self.merges.left << 32) | self.merges.right
        pos = np.searchsorted(keys, mkeys).clip(0, max(len(keys) - 1, 0))
        merged_glob = np.where(keys[pos] == mkeys, pos, -1) if len(keys) else np.full(len(mkeys), -1)
        packed = _Packed(
            n_pairs=len(keys), cat_off=np.asarray(cat_off, np.int64),
            loc_glob=np.concatenate(loc_glob).astype(np.int64), init_cnt=np.concatenate(init_cnt),
            d_off=np.ascontiguousarray(np.stack(d_offs)).astype(np.int64),
            d_loc=np.concatenate(d_loc), d_val=np.concatenate(d_val).astype(np.int64),
            merged_glob=merged_glob.astype(np.int64),
            merged=np.stack([tr.merged[:, replicate] for tr in self.traces]).astype(np.int64),
            total_pairs=np.array([tr.total_pairs()[replicate] for tr in self.traces], np.float64),
            n_bytes=np.array([tr.n_bytes[replicate] for tr in self.traces], np.float64),
            exempt=self._exempt(keys),
        )
        self._packed[replicate] = packed
        self._keys = keys
        return packed

    def _exempt(self, keys: np.ndarray) -> np.ndarray | None:
        # Shared by all replicates (same pair universe), so computed once.
        if self.valid_pair is None:
            return None
        if self._exempt_cache is None or len(self._exempt_cache) != len(keys):
            ok = np.fromiter((self.valid_pair(int(k) >> 32, int(k) & 0xFFFFFFFF) for k in keys), bool, len(keys))
            self._exempt_cache = np.where(ok, 0.0, np.inf)
        return self._exempt_cache

    def pair_of(self, glob: int) -> tuple[int, int]:
        key = int(self._keys[glob])
        return key >> 32, key & 0xFFFFFFFF


# ------------------------------------------------------------------------------------ solvers


def _solve_highs(n: int, coef: np.ndarray, row_v: np.ndarray, n_v: int) -> tuple[np.ndarray, np.ndarray, float]:
    import scipy.sparse as sp
    from scipy.optimize import linprog

    m = coef.shape[0]
    # Columns: α (n), then slack columns; row r uses its step slack and its pair slack.
    slack = sp.csr_matrix((np.full(2 * m, -1.0), (np.repeat(np.arange(m), 2), row_v.ravel())), shape=(m, n_v))
    A = sp.hstack([sp.csr_matrix(coef), slack]).tocsr()
    c = np.concatenate([np.zeros(n), np.ones(n_v)])
    A_eq = sp.csr_matrix(np.concatenate([np.ones(n), np.zeros(n_v)])[None, :])
    res = linprog(c, A_ub=A, b_ub=np.zeros(m), A_eq=A_eq, b_eq=[1.0], bounds=(0, None), method="highs")
    if res.status != 0:
        raise TokbenchError(f"the mixture LP failed in HiGHS: {res.message}")
    return np.clip(res.x[:n], 0, None), np.clip(res.x[n:], 0, None), float(res.fun)


def _cbc_command(pulp: Any) -> Any:
    """CBC through ``COIN_CMD`` (PuLP 3 deprecates ``PULP_CBC_CMD``): a ``cbc`` on the PATH,
    else the binary PuLP bundles; ``PULP_CBC_CMD`` only when neither runs."""
    import warnings

    cmd = pulp.COIN_CMD(msg=False)
    if cmd.available():
        return cmd
    bundled = getattr(getattr(getattr(pulp, "apis", None), "coin_api", None), "pulp_cbc_path", None)
    if bundled:
        cmd = pulp.COIN_CMD(path=bundled, msg=False)
        if cmd.available():
            return cmd
    with warnings.catch_warnings():  # older PuLP: the only way to reach its bundled CBC
        warnings.simplefilter("ignore")
        return pulp.PULP_CBC_CMD(msg=False)


def _solve_pulp(n: int, coef: np.ndarray, row_v: np.ndarray, n_v: int) -> tuple[np.ndarray, np.ndarray, float]:
    import pulp

    prob = pulp.LpProblem("mixture", pulp.LpMinimize)
    if hasattr(prob, "add_variable"):  # PuLP >= 3.3; the LpVariable constructor is deprecated there
        def var(name: str) -> Any:
            return prob.add_variable(name, lowBound=0)
    else:  # pragma: no cover - older PuLP
        def var(name: str) -> Any:
            return pulp.LpVariable(name, lowBound=0)
    alpha = [var(f"a{i}") for i in range(n)]
    v = [var(f"v{j}") for j in range(n_v)]
    prob += pulp.lpSum(v)
    prob += pulp.lpSum(alpha) == 1
    for r in range(coef.shape[0]):
        terms = [(alpha[i], float(coef[r, i])) for i in range(n) if coef[r, i] != 0]
        prob += pulp.LpAffineExpression(terms) - v[row_v[r, 0]] - v[row_v[r, 1]] <= 0
    status = prob.solve(_cbc_command(pulp))
    if pulp.LpStatus[status] != "Optimal":
        raise TokbenchError(f"the mixture LP failed in CBC: {pulp.LpStatus[status]}")
    a = np.array([max(x.value() or 0.0, 0.0) for x in alpha])
    return a, np.array([max(x.value() or 0.0, 0.0) for x in v]), float(pulp.value(prob.objective) or 0.0)


def _quiet(factory: Callable[[], Any]) -> Any:
    """Call ``factory`` with the process's stdout silenced (HiGHS prints a banner from C++)."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            return factory()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


class _IncrementalHighs:
    """The same LP kept in one ``highspy`` model: new rows and slack columns are appended and
    each re-solve warm-starts from the previous basis (dual simplex), which row generation needs
    to stay fast."""

    def __init__(self, n: int):
        import highspy

        self.h = _quiet(highspy.Highs)
        self.h.setOptionValue("output_flag", False)
        self.inf = highspy.kHighsInf
        self.n = n
        self.n_rows = 0
        self.cols: dict[tuple[str, int], int] = {}
        self._add_cols(n, cost=0.0)
        self.h.addRows(1, np.array([1.0]), np.array([1.0]), n, np.array([0], np.int32),
                       np.arange(n, dtype=np.int32), np.ones(n))

    def _add_cols(self, k: int, *, cost: float) -> None:
        self.h.addCols(k, np.full(k, cost), np.zeros(k), np.full(k, self.inf), 0,
                       np.zeros(k, np.int32), np.zeros(0, np.int32), np.zeros(0))

    def _col(self, kind: str, key: int) -> int:
        found = self.cols.get((kind, key))
        if found is None:
            found = self.n + len(self.cols)
            self.cols[(kind, key)] = found
            self._add_cols(1, cost=1.0)
        return found

    def add_rows(self, coef: np.ndarray, rows_t: np.ndarray, rows_p: np.ndarray) -> None:
        m = coef.shape[0]
        if m == 0:
            return
        ct = [self._col("t", int(t)) for t in rows_t]
        cp = [self._col("p", int(p)) for p in rows_p]
        width = self.n + 2
        idx = np.empty((m, width), np.int32)
        idx[:, : self.n] = np.arange(self.n)
        idx[:, self.n] = ct
        idx[:, self.n + 1] = cp
        val = np.empty((m, width))
        val[:, : self.n] = coef
        val[:, self.n:] = -1.0
        starts = np.arange(m, dtype=np.int32) * width
        self.h.addRows(m, np.full(m, -self.inf), np.zeros(m), m * width, starts, idx.ravel(), val.ravel())
        self.n_rows += m

    def slack_rows(self, gap: float) -> np.ndarray:
        """Indices (among the generated rows, in insertion order) of rows that are not binding
        at the current solution: activity below ``-gap`` and a zero dual."""
        sol = self.h.getSolution()
        act = np.asarray(sol.row_value)[1:]
        dual = np.asarray(sol.row_dual)[1:]
        return np.flatnonzero((act < -gap) & (np.abs(dual) <= 1e-12))

    def delete_rows(self, rows: np.ndarray) -> None:
        if len(rows):
            self.h.deleteRows(len(rows), (np.asarray(rows) + 1).astype(np.int32))
            self.n_rows -= len(rows)

    def solve(self) -> tuple[np.ndarray, dict[int, float], dict[int, float], float]:
        import highspy

        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise TokbenchError(f"the mixture LP failed in HiGHS: {self.h.modelStatusToString(status)}")
        x = np.asarray(self.h.getSolution().col_value)
        alpha = np.clip(x[: self.n], 0, None)
        alpha = alpha / alpha.sum() if alpha.sum() > 0 else np.full(self.n, 1.0 / self.n)
        vt = {k: max(float(x[c]), 0.0) for (kind, k), c in self.cols.items() if kind == "t"}
        vp = {k: max(float(x[c]), 0.0) for (kind, k), c in self.cols.items() if kind == "p"}
        return alpha, vt, vp, float(self.h.getInfo().objective_function_value)


SOLVERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray, float]]] = {
    "highs": _solve_highs,
    "pulp": _solve_pulp,
}


def solve_rows(n: int, coef: np.ndarray, rows_t: np.ndarray, rows_p: np.ndarray, *,
               solver: str = "highs") -> tuple[np.ndarray, dict[int, float], dict[int, float], float]:
    """Solve the LP restricted to the rows ``(rows_t[r], rows_p[r])`` with coefficients
    ``coef[r] = c_t(p) - c_t(m_t)`` per category (already normalised).

    Returns ``(α, v_t by step, v_p by pair, objective)``.
    """
    if solver not in SOLVERS:
        raise UnknownNameError("LP solver", solver, list(SOLVERS))
    steps = np.unique(rows_t)
    pairs = np.unique(rows_p)
    row_v = np.stack([np.searchsorted(steps, rows_t), len(steps) + np.searchsorted(pairs, rows_p)], axis=1)
    if coef.shape[0] == 0:
        return np.full(n, 1.0 / n), {}, {}, 0.0
    alpha, v, obj = SOLVERS[solver](n, np.asarray(coef, np.float64), row_v, len(steps) + len(pairs))
    total = alpha.sum()
    alpha = alpha / total if total > 0 else np.full(n, 1.0 / n)
    return (alpha, {int(t): float(x) for t, x in zip(steps, v[: len(steps)], strict=True)},
            {int(p): float(x) for p, x in zip(pairs, v[len(steps):], strict=True)}, obj)


# ------------------------------------------------------------------------------ row generation


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
    def gap(self) -> float:
        """Relative optimality gap ``(upper_bound - objective) / upper_bound`` (0 when converged)."""
        if self.converged:
            return 0.0
        return float((self.upper_bound - self.objective) / self.upper_bound) if self.upper_bound > 0 else 0.0


def _coefficients(pk: _Packed, rows_t: np.ndarray, counts: np.ndarray) -> np.ndarray:
    scale = SCALE / pk.total_pairs
    return (counts - pk.merged[:, rows_t].T) * scale[None, :]


def _bytes_share(alpha: np.ndarray, pk: _Packed) -> np.ndarray:
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


def infer_mixture(ts: TraceSet, *, solver: str = "highs", replicate: int = 0, k_add: int = 1,
                  max_add: int | None = None, max_iter: int = 1000, start_steps: int | None = None, grow: int = 2,
                  purge: bool = True, purge_gap: float = 1.0, time_limit: float | None = None,
                  tol: float = 1.0, gap_tol: float | None = 1e-4, stable_tol: float | None = 1e-3, patience: int = 20,
                  warm_rows: tuple[np.ndarray, np.ndarray] | None = None,
                  progress: bool = False) -> MixtureFit:
    """Solve the mixture LP by delayed row and column generation (module docstring).

    Each sweep replays the ``T`` steps (with ``start_steps``, a growing prefix of them) under the
    current solution and, per step, finds the ``k_add`` most violated constraints exactly (a
    heap keyed by ``W(p) - v_p``); of those, the ``max_add`` with the largest violations are
    added (``None``: all), each with its ``v_p`` column when new. Few rows per step keep the LP
    small: the worst violator of a step fixes ``v_t`` and usually covers the others.
    ``max_iter`` sweeps or ``time_limit`` seconds cap the work; a capped fit has
    ``converged=False`` and reports its ``max_violation``.
    ``tol`` is absolute in the LP's units (pairs per million of each category); the default 1.0
    is the paper's (Gurobi's feasibility tolerance 10⁻⁶ on counts divided by total pairs).

    Stability stop: on FLORES-size samples the late steps' competitors are noise-level counts,
    and the cutting planes tail off — the lower bound creeps up for minutes while ``α`` no
    longer moves (n = 10, T = 10,000: byte proportions within 10⁻³ after ~50 s, the gap still
    24 % after 300 s). With ``stable_tol`` set, generation stops once every step is being
    checked and no byte proportion has moved by more than ``stable_tol`` over the last
    ``patience`` sweeps; the fit then says ``stop_reason="stable"``, ``converged=False`` and
    its ``gap``. Generation also stops, with ``stop_reason="gap"``, once the objective is
    provably within ``gap_tol`` (relative) of the optimum. ``stable_tol=None, gap_tol=None``
    run to optimality (or a cap).
    ``warm_rows`` (``(steps, pairs)`` from an earlier fit) seed the row set.
    """
    import time

    from tqdm.auto import tqdm

    from . import _kernels as K

    if solver not in SOLVERS:
        raise UnknownNameError("LP solver", solver, list(SOLVERS))
    if not 0 <= replicate < ts.n_replicates:
        raise TokbenchError(f"replicate {replicate} does not exist; the traces have {ts.n_replicates}")
    if k_add < 1 or (max_add is not None and max_add < 1) or max_iter < 1 or patience < 1:
        raise TokbenchError(f"k_add, max_add, max_iter and patience must be positive (got {k_add}, {max_add}, "
                            f"{max_iter}, {patience})")
    started = time.perf_counter()
    pk = ts.pack(replicate)
    n = len(ts.categories)
    T = ts.n_steps
    have: set[tuple[int, int]] = set()
    rows_t: list[np.ndarray] = []
    rows_p: list[np.ndarray] = []
    coefs: list[np.ndarray] = []
    if warm_rows is not None and len(warm_rows[0]):
        wt, wp = (np.asarray(x, np.int64) for x in warm_rows)
        order = np.argsort(wt, kind="stable")
        wt, wp = wt[order], wp[order]
        counts = K.counts_at(pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc, pk.d_val, n, T, wt, wp)
        rows_t.append(wt)
        rows_p.append(wp)
        coefs.append(_coefficients(pk, wt, counts))
        have.update(zip(wt.tolist(), wp.tolist(), strict=True))
    alpha = np.full(n, 1.0 / n)
    vt = np.zeros(T)
    vp = np.zeros(max(pk.n_pairs, 1))
    obj = 0.0
    model = _IncrementalHighs(n) if solver == "highs" else None

    def resolve() -> None:
        nonlocal alpha, obj
        if model is None:
            alpha, vt_d, vp_d, obj = solve_rows(n, np.concatenate(coefs), np.concatenate(rows_t),
                                                np.concatenate(rows_p), solver=solver)
        else:
            model.add_rows(coefs[-1], rows_t[-1], rows_p[-1])
            alpha, vt_d, vp_d, obj = model.solve()
        vt[:] = 0
        vp[:] = 0
        vt[list(vt_d)] = list(vt_d.values())
        vp[list(vp_d)] = list(vp_d.values())

    if rows_t:
        resolve()
    # Curriculum over steps: the first merges (largest counts) pin α down; later steps then need
    # few rows each, instead of every sweep adding a row per step while α still zig-zags.
    t_end = T if start_steps is None else min(T, start_steps)
    purged = 0
    history: list[dict[str, Any]] = []
    recent: list[np.ndarray] = []  # byte proportions of the last sweeps over all steps
    stop_reason = "converged"
    bound = np.inf
    converged = False
    max_viol = 0.0
    n_viol = 0
    it = 0
    bar = tqdm(total=max_iter, desc="mixture LP", disable=not progress, leave=False)
    try:
        while True:
            it += 1
            scale = alpha * SCALE / pk.total_pairs
            # Pairs the trainer could never merge get infinite slack: they compete with nothing.
            vp_eff = vp if pk.exempt is None else vp + pk.exempt
            out_t, out_p, out_v, out_c = K.sweep_kernel(
                pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc, pk.d_val,
                pk.merged_glob, scale, vt, vp_eff, np.int64(k_add), float(tol), np.int64(t_end))
            fresh = np.fromiter(((t, p) not in have for t, p in zip(out_t.tolist(), out_p.tolist(), strict=True)),
                                dtype=bool, count=len(out_t))
            max_viol = float(out_v.max()) if len(out_v) else 0.0
            n_viol = len(np.unique(out_t))
            bound = obj + _repair_cost(out_t, out_v, T) if t_end >= T else np.inf
            history.append({"iteration": it, "seconds": time.perf_counter() - started, "rows": len(have),
                            "steps_checked": t_end, "objective": obj, "upper_bound": bound,
                            "violated_steps": n_viol, "max_violation": max_viol, "alpha": alpha.copy()})
            bar.update(1)
            bar.set_postfix(rows=len(have), violated=n_viol, worst=f"{max_viol:.3g}")
            if not fresh.any():
                # A violated row already in the LP can only be the solver's own tolerance.
                if t_end >= T:
                    converged = True
                    bound = obj
                    break
                t_end = min(T, t_end * grow)
                continue
            if gap_tol is not None and bound < np.inf and bound - obj <= gap_tol * bound:
                stop_reason = "gap"
                break
            if t_end >= T and stable_tol is not None and rows_t:  # (the uniform start does not count)
                recent = recent[-patience:] + [_bytes_share(alpha, pk)]
                if len(recent) > patience and np.abs(np.stack(recent[:-1]) - recent[-1]).max() <= stable_tol:
                    stop_reason = "stable"
                    break
            capped = "max_iter" if it >= max_iter else None
            if capped is None and time_limit is not None and time.perf_counter() - started > time_limit:
                capped = "time_limit"
            if capped is not None:
                stop_reason = capped
                if t_end < T:  # measure the miss over all steps, not only the curriculum's
                    out_t, _, out_v, _ = K.sweep_kernel(
                        pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc, pk.d_val,
                        pk.merged_glob, scale, vt, vp_eff, np.int64(1), float(tol), np.int64(T))
                    max_viol = float(out_v.max()) if len(out_v) else 0.0
                    n_viol = len(np.unique(out_t))
                    bound = obj + _repair_cost(out_t, out_v, T)
                break
            pick = _select(out_t, out_v, fresh, max_add)
            rows_t.append(out_t[pick])
            rows_p.append(out_p[pick])
            coefs.append(_coefficients(pk, out_t[pick], out_c[pick]))
            have.update(zip(out_t[pick].tolist(), out_p[pick].tolist(), strict=True))
            resolve()
            if model is not None and purge and model.n_rows > max(20_000, 4 * T):
                # Rows that are far from binding only slow the re-solves; dropping them keeps the
                # current solution optimal (a row that matters again is found by a later sweep).
                drop = model.slack_rows(purge_gap)
                if len(drop) > model.n_rows // 4:
                    lt, lp_ = np.concatenate(rows_t), np.concatenate(rows_p)
                    keep = np.ones(len(lt), bool)
                    keep[drop] = False
                    model.delete_rows(drop)
                    have.difference_update(zip(lt[drop].tolist(), lp_[drop].tolist(), strict=True))
                    rows_t[:] = [lt[keep]]
                    rows_p[:] = [lp_[keep]]
                    coefs[:] = [np.concatenate(coefs)[keep]]
                    purged += len(drop)
    finally:
        bar.close()
    beta = _bytes_share(alpha, pk)
    all_t = np.concatenate(rows_t) if rows_t else np.zeros(0, np.int64)
    all_p = np.concatenate(rows_p) if rows_p else np.zeros(0, np.int64)
    return MixtureFit(list(ts.categories), alpha, beta, obj, it, len(have), converged,
                      pairs_per_byte=pk.total_pairs / np.maximum(pk.n_bytes, 1),
                      max_violation=max_viol, violated_steps=n_viol, upper_bound=float(bound), stop_reason=stop_reason,
                      seconds=time.perf_counter() - started, rows=(all_t, all_p), history=history)


# ------------------------------------------------------------------------------ full attack


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
        return _centred_intervals(self.fit.proportions, self.replicates, level)

    @property
    def replicate_shift(self) -> np.ndarray:
        """Mean of the replicates minus the point estimate, per category (NaN without replicates)."""
        if self.replicates.shape[0] == 0:
            return np.full(len(self.categories), np.nan)
        return self.replicates.mean(axis=0) - self.fit.proportions

    def grouped(self, *, top: int = 5, level: float = 0.95) -> Any:
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
        iv = _centred_intervals(point, reps, level)
        return pd.DataFrame({"tokenizer": self.tokenizer, "group": [g for g, _ in groups], "proportion": point,
                             "ci_low": iv[:, 0], "ci_high": iv[:, 1]})

    @property
    def signature(self) -> Any:
        from ...results import Signature

        return Signature(tokenizers={self.tokenizer: self.fingerprint}, corpus=self.corpus, seed=self.seed,
                         extra={"attack": "mixture", **self.options})

    def to_frame(self) -> Any:
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


def _centred_intervals(point: np.ndarray, replicates: np.ndarray, level: float) -> np.ndarray:
    """``point`` plus the central ``level`` quantiles of the replicates' deviations from their
    mean, clipped to [0, 1] (:meth:`MixtureResult.intervals`); NaN without replicates."""
    if replicates.shape[0] == 0:
        return np.full((len(point), 2), np.nan)
    lo = (1 - level) / 2
    dev = replicates - replicates.mean(axis=0, keepdims=True)
    q = np.quantile(dev, [lo, 1 - lo], axis=0).T
    return np.clip(point[:, None] + q, 0.0, 1.0)


def run_mixture_attack(tok: Tokenizer, corpus: Any, *, n_steps: int, skip: int | Literal["auto"] = 0,
                       solver: str = "highs", bootstrap: int = 0, seed: int = 0, cache_dir: Any = None,
                       use_cache: bool = True, progress: bool = False, **lp_options: Any) -> MixtureResult:
    """Trace every category of ``corpus`` under ``tok``, solve, and resample (``bootstrap``
    half-sample replicates, see :meth:`MixtureResult.intervals`)."""
    ts = TraceSet.from_corpus(tok, corpus, n_steps=n_steps, skip=skip, replicates=bootstrap, seed=seed,
                              cache_dir=cache_dir, use_cache=use_cache, progress=progress)
    fit = infer_mixture(ts, solver=solver, progress=progress, **lp_options)
    rep_fits = [infer_mixture(ts, solver=solver, replicate=r, warm_rows=fit.rows, **lp_options)
                for r in range(1, bootstrap + 1)]
    reps = [f.proportions for f in rep_fits]
    return MixtureResult(
        tokenizer=tok.name, fingerprint=tok.fingerprint, fit=fit, n_steps=ts.n_steps,
        replicates=np.array(reps).reshape(len(reps), len(ts.categories)), corpus=ts.corpus,
        options={"steps": ts.n_steps, "solver": solver, "bootstrap": bootstrap, **ts.merges.signature(),
                 **lp_options}, seed=seed, replicates_converged=sum(f.converged for f in rep_fits),
    )


#: What the audit runs: few enough steps and a time cap so that one tokenizer takes seconds.
AUDIT_STEPS = 2000
AUDIT_TIME_LIMIT = 120.0


def audit_entry(tok: Tokenizer, corpus: Any, *, seed: int = 0) -> MixtureResult:
    """The ``mixture`` analysis of :func:`tokbench.audit`: infer the byte proportions of the
    corpus's categories in ``tok``'s training data from its first :data:`AUDIT_STEPS` merges
    (fewer when the list is shorter), without bootstrap, the LP capped at
    :data:`AUDIT_TIME_LIMIT` seconds (``converged``/``max_violation`` columns say whether it
    finished). Traces are not cached (the audit caches whole results).

    ``to_frame()`` has ``tokenizer, category, proportion, ci_low, ci_high`` (intervals NaN
    without bootstrap) and the solve's diagnostics.
    """
    n_merges = len(extract_merges(tok))
    return run_mixture_attack(tok, corpus, n_steps=min(AUDIT_STEPS, n_merges), seed=seed, use_cache=False,
                              time_limit=AUDIT_TIME_LIMIT)


def mse(estimate: Sequence[float], truth: Sequence[float]) -> float:
    """Mean squared error between two proportion vectors."""
    e = np.asarray(estimate, np.float64)
    t = np.asarray(truth, np.float64)
    return float(np.mean((e - t) ** 2))

