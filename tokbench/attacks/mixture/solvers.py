"""LP back ends for the mixture LP (Hayase et al. 2024): one model, three ways to solve it.

The restricted LP over generated rows ``(t, p)`` with coefficients ``c_t(p) - c_t(m_t)`` per
category::

    minimise Σ v   subject to   coef[r] · α - v_t(r) - v_p(r) ≤ 0,   Σ α = 1,   α, v ≥ 0

is solved by

* :class:`IncrementalHighs` — one ``highspy`` model kept across row generation: new rows and
  slack columns are appended and each re-solve warm-starts from the previous basis (what
  :func:`tokbench.attacks.mixture.lp.infer_mixture` uses with ``solver="highs"``);
* the one-shot solvers of :data:`SOLVERS` behind :func:`solve_rows`: ``highs`` (HiGHS through
  ``scipy.optimize.linprog``) and ``pulp`` (PuLP/CBC, for cross-checks).

Example:
    >>> alpha, v_t, v_p, objective = solve_rows(2, coef, rows_t, rows_p, solver="pulp")  # doctest: +SKIP
    >>> SOLVERS.names()
    ['highs', 'pulp']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...errors import TokbenchError
from ...registry import Registry

__all__ = ["SOLVERS", "solve_rows", "solve_highs", "solve_pulp", "IncrementalHighs", "quiet"]

#: One-shot solvers of the restricted LP: ``solver(n, coef, row_v, n_v) -> (α, v, objective)``.
#: Case-sensitive, as the solver names always were.
SOLVERS = Registry("LP solver", {
    "highs": "tokbench.attacks.mixture.solvers:solve_highs",
    "pulp": "tokbench.attacks.mixture.solvers:solve_pulp",
}, case_sensitive=True)


def solve_highs(n: int, coef: np.ndarray, row_v: np.ndarray, n_v: int) -> tuple[np.ndarray, np.ndarray, float]:
    """HiGHS through ``scipy.optimize.linprog``; ``row_v[r]`` are row ``r``'s two slack columns."""
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


def cbc_command(pulp: Any) -> Any:
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


def solve_pulp(n: int, coef: np.ndarray, row_v: np.ndarray, n_v: int) -> tuple[np.ndarray, np.ndarray, float]:
    """The same LP in PuLP, solved by CBC (:func:`cbc_command`)."""
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
    status = prob.solve(cbc_command(pulp))
    if pulp.LpStatus[status] != "Optimal":
        raise TokbenchError(f"the mixture LP failed in CBC: {pulp.LpStatus[status]}")
    a = np.array([max(x.value() or 0.0, 0.0) for x in alpha])
    return a, np.array([max(x.value() or 0.0, 0.0) for x in v]), float(pulp.value(prob.objective) or 0.0)


def solve_rows(n: int, coef: np.ndarray, rows_t: np.ndarray, rows_p: np.ndarray, *,
               solver: str = "highs") -> tuple[np.ndarray, dict[int, float], dict[int, float], float]:
    """Solve the LP restricted to the rows ``(rows_t[r], rows_p[r])`` with coefficients
    ``coef[r] = c_t(p) - c_t(m_t)`` per category (already normalised).

    Returns ``(α, v_t by step, v_p by pair, objective)``.
    """
    solve = SOLVERS.get(solver)  # unknown names raise UnknownNameError before any work
    steps = np.unique(rows_t)
    pairs = np.unique(rows_p)
    row_v = np.stack([np.searchsorted(steps, rows_t), len(steps) + np.searchsorted(pairs, rows_p)], axis=1)
    if coef.shape[0] == 0:
        return np.full(n, 1.0 / n), {}, {}, 0.0
    alpha, v, obj = solve(n, np.asarray(coef, np.float64), row_v, len(steps) + len(pairs))
    total = alpha.sum()
    alpha = alpha / total if total > 0 else np.full(n, 1.0 / n)
    return (alpha, {int(t): float(x) for t, x in zip(steps, v[: len(steps)], strict=True)},
            {int(p): float(x) for p, x in zip(pairs, v[len(steps):], strict=True)}, obj)


def quiet(factory: Callable[[], Any]) -> Any:
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


class IncrementalHighs:
    """The same LP kept in one ``highspy`` model: new rows and slack columns are appended and
    each re-solve warm-starts from the previous basis (dual simplex), which row generation needs
    to stay fast."""

    def __init__(self, n: int):
        import highspy

        self.h = quiet(highspy.Highs)
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
        """Append rows ``coef[r] · α - v_t - v_p ≤ 0``, adding the slack columns they need."""
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
        """Re-solve from the last basis: ``(α, v_t by step, v_p by pair, objective)``."""
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
