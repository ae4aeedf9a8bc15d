"""Power-law fits of corpus token count against vocabulary size, and the OLS that explains CTC
(Arnett et al. 2025, "Explaining and Mitigating Crosslingual Tokenizer Inequities").

A power law ``CTC(v) = a · v^(−b)`` (or ``a · v^(−b) + c``) is fitted in log space: without the
offset ``log CTC = log a − b log v`` is a straight line (ordinary least squares); with it a
bounded nonlinear least-squares fit (:func:`scipy.optimize.least_squares`). :meth:`PowerLawFit.solve`
inverts the fit: the vocabulary that reaches a target CTC, ``v* = (a / (target − c))^(1/b)``.

:func:`regression_table` reproduces the paper's explanatory analysis: OLS (numpy least squares)
of CTC over (language, vocabulary) rows on train/eval token overlap, mean token length,
whitespace proportion and script, with R², adjusted R² and each feature's R² alone.

These are pure computations over numbers; :mod:`tokbench.experiments.optimal_vocab` trains the
tokenizers whose CTCs they fit.

Example:
    >>> fit = fit_power_law([100, 400, 1600], [1000.0, 500.0, 250.0])
    >>> round(fit.a), round(fit.b, 6), round(fit.solve(500.0))
    (10000, 0.5, 400)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import TokbenchError

__all__ = ["PowerLawError", "PowerLawFit", "fit_power_law", "ols", "regression_table", "REGRESSION_FEATURES"]

#: Numeric regression features (columns of the grid frame) and the categorical one.
REGRESSION_FEATURES: tuple[str, ...] = ("overlap", "mean_token_chars", "whitespace_share", "script")


class PowerLawError(TokbenchError):
    """A power-law fit or a regression cannot run on the numbers given."""


@dataclass(frozen=True)
class PowerLawFit:
    """``CTC(v) = a · v^(−b) + c`` fitted in log space; ``r2`` is R² of log CTC."""

    a: float
    b: float
    c: float
    r2: float
    n_points: int
    offset: bool

    def predict(self, vocab_size: float) -> float:
        return self.a * float(vocab_size) ** (-self.b) + self.c

    def solve(self, target: float) -> float | None:
        """The vocabulary size at which the fitted CTC equals ``target``; None when unreachable."""
        if not (target > self.c) or self.b <= 0 or self.a <= 0:
            return None
        return (self.a / (target - self.c)) ** (1.0 / self.b)


def fit_power_law(vocab_sizes: Sequence[float], ctcs: Sequence[float], *, offset: bool = False) -> PowerLawFit:
    """Fit ``CTC = a · v^(−b)`` (+ ``c`` with ``offset``) by least squares on log CTC.

    Without offset this is the straight line ``log CTC = log a − b · log v``. With ``offset`` the
    residuals ``log(a v^−b + c) − log CTC`` are minimised over ``(log a, b, c)`` with
    ``0 <= c < min(CTC)``, starting from the plain fit.

    Example:
        >>> f = fit_power_law([100, 400, 1600], [1000.0, 500.0, 250.0])
        >>> round(f.a), round(f.b, 6), round(f.r2, 6)
        (10000, 0.5, 1.0)
    """
    import numpy as np

    v = np.asarray(vocab_sizes, dtype=np.float64)
    y = np.asarray(ctcs, dtype=np.float64)
    if v.shape != y.shape or v.ndim != 1:
        raise PowerLawError("vocab sizes and CTCs must be two lists of the same length")
    if len(np.unique(v)) < 3:
        raise PowerLawError(
            f"a power-law fit needs at least 3 distinct vocabulary sizes, got {len(np.unique(v))}; "
            "give a grid of 3 or more sizes (e.g. 1000,2000,4000)"
        )
    if (v <= 0).any() or (y <= 0).any() or not np.isfinite(v).all() or not np.isfinite(y).all():
        raise PowerLawError("vocab sizes and CTCs must be positive finite numbers")
    x, ly = np.log(v), np.log(y)
    slope, intercept = np.polyfit(x, ly, 1)
    a, b, c = float(np.exp(intercept)), float(-slope), 0.0
    if offset:
        a, b, c = _fit_with_offset(v, y, ly, intercept, b)
    pred = np.log(a * v ** (-b) + c)
    ss_res = float(((ly - pred) ** 2).sum())
    ss_tot = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return PowerLawFit(a=a, b=b, c=c, r2=r2, n_points=int(v.size), offset=offset)


def _fit_with_offset(v: Any, y: Any, ly: Any, intercept: float, b: float) -> tuple[float, float, float]:
    """``(a, b, c)`` minimising the log residuals, ``c`` bounded below the smallest CTC."""
    import numpy as np
    from scipy.optimize import least_squares

    def resid(p: Any) -> Any:
        return np.log(np.exp(p[0]) * v ** (-p[1]) + p[2]) - ly

    hi = float(y.min()) * (1 - 1e-9)
    sol = least_squares(resid, x0=[intercept, max(b, 1e-6), 0.0],
                        bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, hi]))
    return float(np.exp(sol.x[0])), float(sol.x[1]), float(sol.x[2])


# ------------------------------------------------------------------------------ regression


def ols(y: Sequence[float], X: Any, *, intercept: bool = True) -> dict[str, Any]:
    """Ordinary least squares with numpy: coefficients, R², adjusted R², n and k.

    ``k`` counts the predictors actually identified (the rank of the design minus the
    intercept), so a one-hot column that duplicates another does not inflate it. Adjusted R² is
    ``1 − (1 − R²)(n − 1)/(n − k − 1)``, ``None`` when ``n − k − 1 <= 0``.

    Example:
        >>> r = ols([1.0, 3.0, 5.0, 7.0], [[0.0], [1.0], [2.0], [3.0]])
        >>> [round(c, 6) for c in r["coef"]], r["r2"]
        ([1.0, 2.0], 1.0)
    """
    import numpy as np

    yv = np.asarray(y, dtype=np.float64)
    Xm = np.asarray(X, dtype=np.float64).reshape(len(yv), -1)
    if intercept:
        Xm = np.column_stack([np.ones(len(yv)), Xm])
    coef, _, rank, _ = np.linalg.lstsq(Xm, yv, rcond=None)
    resid = yv - Xm @ coef
    ss_res = float(resid @ resid)
    ss_tot = float(((yv - yv.mean()) ** 2).sum())
    n = len(yv)
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    k = int(rank) - (1 if intercept else 0)
    adj = 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1) if n - k - 1 > 0 and ss_tot > 0 else None
    return {"coef": [float(c) for c in coef], "r2": r2, "adj_r2": adj, "n": n, "k": k}


def _design(frame: Any, features: Sequence[str]) -> tuple[Any, list[str]]:
    """The design matrix of ``features``: numeric columns as they are, ``script`` one-hot."""
    import numpy as np
    import pandas as pd

    cols: list[Any] = []
    names: list[str] = []
    for f in features:
        if f == "script":
            dummies = pd.get_dummies(frame["script"].astype(str), prefix="script", drop_first=True, dtype=float)
            cols.extend(dummies[c].to_numpy() for c in dummies.columns)
            names.extend(dummies.columns)
        else:
            cols.append(frame[f].to_numpy(dtype=np.float64))
            names.append(f)
    X = np.column_stack(cols) if cols else np.zeros((len(frame), 0))
    return X, names


def _models(features: Sequence[str], controls: Sequence[str]) -> list[tuple[str, list[str]]]:
    """Each feature alone, the numeric features together, all features, all plus controls."""
    numeric = [f for f in features if f != "script"]
    models: list[tuple[str, list[str]]] = [(f, [f]) for f in features]
    if len(numeric) > 1:
        models.append(("numeric features", numeric))
    models.append(("all features", list(features)))
    if controls:
        models.append(("all features + " + " + ".join(controls), [*features, *controls]))
    return models


def regression_table(
    grid_frame: Any, *, dependent: str = "ctc", features: Sequence[str] = REGRESSION_FEATURES,
    controls: Sequence[str] = (),
) -> tuple[Any, Any]:
    """OLS of ``dependent`` on the features over the (language, vocabulary) rows.

    Returns two frames. The model table has one row per model — each feature alone, the numeric
    features together, all features, and all features plus ``controls`` (e.g. ``log_vocab``)
    when given — with columns model, features, n, k, r2, adj_r2. The coefficient table holds the
    full model's coefficients (term, coef). Rows with a missing feature are dropped (and counted
    in ``n``). ``script`` enters as one-hot columns (first level dropped).
    """
    import pandas as pd

    numeric = [f for f in features if f != "script"]
    needed = [dependent, *numeric, *controls] + (["script"] if "script" in features else [])
    data = grid_frame.dropna(subset=needed).reset_index(drop=True)
    if len(data) < 3:
        raise PowerLawError(
            f"the regression needs at least 3 complete (language, vocabulary) rows, got {len(data)}"
        )
    models = _models(features, controls)
    rows = []
    full_coef: list[dict[str, Any]] = []
    y = data[dependent].to_numpy(dtype=float)
    for name, feats in models:
        X, cols = _design(data, feats)
        fit = ols(y, X)
        flags = ""
        if "script" in feats and data["script"].nunique() < 2:
            flags = "one script only: script adds nothing"
        rows.append({"model": name, "features": " + ".join(feats), "dependent": dependent,
                     "n": fit["n"], "k": fit["k"], "r2": fit["r2"], "adj_r2": fit["adj_r2"],
                     "flags": flags})
        if feats == models[-1][1]:
            full_coef = [{"model": name, "term": t, "coef": c}
                         for t, c in zip(["intercept", *cols], fit["coef"], strict=True)]
    return pd.DataFrame(rows), pd.DataFrame(full_coef)
