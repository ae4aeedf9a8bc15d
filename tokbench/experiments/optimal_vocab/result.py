"""What the optimal-vocabulary experiment returns: :class:`OptimalVocabResult`, and the spread of
premiums across languages at one shared vocabulary versus at each language's own size.

The result holds row lists (one table each: grid, fits, optimal sizes, premium spread,
regression, coefficients) with a frame accessor per table, follows the
:class:`tokbench.results.Result` protocol (``to_frame()`` is the grid) and carries the notes a
reader must see beside the numbers (capped sizes, unreachable targets, unsupported sizes).

Example:
    >>> row = variance_row("shared", 1000, ["eng_Latn", "fra_Latn"], [1.0, 1.2])
    >>> row["max_language"], round(row["variance"], 4)
    ('fra_Latn', 0.01)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...results import Signature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ...model.tokenizer import Tokenizer

__all__ = ["OptimalVocabResult", "premium_rows", "variance_row", "regression_input"]


@dataclass(frozen=True)
class OptimalVocabResult:
    """Everything :func:`~tokbench.experiments.optimal_vocab.optimal_vocab` measured, as row lists with a frame accessor each.

    * ``to_frame()`` / ``grid_frame()``: one row per (language, grid size): language, script,
      vocab_size, actual_vocab, ctc, eval_bytes, bytes_per_token, premium (vs the reference at
      the same size), overlap, mean_token_chars, whitespace_share, eval_mean_token_chars,
      eval_whitespace_share, in_fit, flags.
    * ``fits_frame()``: language, a, b, c, r2, n_points, supported_vocab, trained_vocab,
      stop_reason, flags.
    * ``optimal_frame()``: language, target_ctc, solved_vocab (unrounded), optimal_vocab
      (rounded), realized_vocab (after caps), predicted_ctc, achieved_ctc, error (achieved /
      predicted − 1), premium (achieved / target), capped, extrapolated, flags.
    * ``premium_frame()``: setting ("shared" per grid size, or "optimal"), vocab_size,
      languages, mean, variance, std, min, max, max_language, language_set ("all", and
      "uncapped" when some languages could not reach their size), baseline_vocab,
      variance_ratio (vs the shared baseline size over the same languages), variance_reduction.
    * ``regression_frame()`` and ``coefficients_frame()``: see :func:`tokbench.metrics.power_law.regression_table`.
    """

    grid_rows: list[dict[str, Any]]
    fit_rows: list[dict[str, Any]]
    optimal_rows: list[dict[str, Any]]
    premium_rows: list[dict[str, Any]]
    regression_rows: list[dict[str, Any]]
    coefficient_rows: list[dict[str, Any]]
    signature: Signature
    target: dict[str, Any]
    grid: list[int]
    notes: list[str] = field(default_factory=list)
    tokenizers: dict[str, Tokenizer] = field(default_factory=dict, repr=False, compare=False)

    def to_frame(self) -> Any:
        return self.grid_frame()

    def grid_frame(self) -> pd.DataFrame:
        return _frame(self.grid_rows)

    def fits_frame(self) -> pd.DataFrame:
        return _frame(self.fit_rows)

    def optimal_frame(self) -> pd.DataFrame:
        return _frame(self.optimal_rows)

    def premium_frame(self) -> pd.DataFrame:
        return _frame(self.premium_rows)

    def regression_frame(self) -> pd.DataFrame:
        return _frame(self.regression_rows)

    def coefficients_frame(self) -> pd.DataFrame:
        return _frame(self.coefficient_rows)

    def frames(self) -> dict[str, Any]:
        """Every table by file stem: grid, fits, optimal, premiums, regression, coefficients."""
        return {"grid": self.grid_frame(), "fits": self.fits_frame(), "optimal": self.optimal_frame(),
                "premiums": self.premium_frame(), "regression": self.regression_frame(),
                "coefficients": self.coefficients_frame()}

    def figure_frame(self) -> Any:
        """The figure contract: language, vocab_size, ctc, bytes_per_token, in_fit, kind, and the
        fit's a, b, c, r2 on every row; the optimal points are the rows where ``kind == "optimal"``."""
        import pandas as pd

        grid = self.grid_frame()[["language", "vocab_size", "ctc", "bytes_per_token", "in_fit"]].assign(kind="grid")
        opt = self.optimal_frame()
        eval_bytes = self.grid_frame().groupby("language")["eval_bytes"].first()
        points = pd.DataFrame({
            "language": opt["language"], "vocab_size": opt["realized_vocab"], "ctc": opt["achieved_ctc"],
            "bytes_per_token": [eval_bytes[lang] / c for lang, c in zip(opt["language"], opt["achieved_ctc"], strict=True)],
            "in_fit": True, "kind": "optimal",
        })
        fits = self.fits_frame()[["language", "a", "b", "c", "r2"]]
        out = pd.concat([grid, points], ignore_index=True).merge(fits, on="language", how="left")
        out.attrs["target_ctc"] = self.target.get("ctc")
        return out

    def summary(self) -> str:
        """A few lines for the CLI: target, variance of premiums, fit and regression R²."""
        import pandas as pd

        lines = [f"target CTC {self.target['ctc']:,.0f} ({self.target['description']})"]
        prem = self.premium_frame()
        for _, r in prem.iterrows():
            where = f"@{int(r['vocab_size'])}" if r["setting"] == "shared" else ""
            where += "" if r["language_set"] == "all" else f" [{r['language_set']} languages, n={r['languages']}]"
            ratio = "" if r["variance_ratio"] is None or math.isnan(r["variance_ratio"]) else f", ×{r['variance_ratio']:.3f}"
            lines.append(f"  premiums {r['setting']}{where}: mean {r['mean']:.3f}, variance {r['variance']:.4f}{ratio}")
        fits = self.fits_frame()
        lines.append(f"power-law fit R² (log CTC): median {fits['r2'].median():.4f}, min {fits['r2'].min():.4f}")
        opt = self.optimal_frame()
        # Unreachable targets have no prediction; when none has one, the column holds only None.
        errors = pd.to_numeric(opt["error"], errors="coerce").abs().dropna()
        error = f"median {errors.median():.3%}" if len(errors) else "– (no target reachable)"
        lines.append(f"optimal vocab: median {int(opt['realized_vocab'].median())}, range "
                     f"{int(opt['realized_vocab'].min())}–{int(opt['realized_vocab'].max())}; "
                     f"|achieved/predicted − 1| {error}; "
                     f"capped {int(opt['capped'].sum())}, extrapolated {int(opt['extrapolated'].sum())}")
        for r in self.regression_rows:
            adj = "–" if r["adj_r2"] is None or math.isnan(r["adj_r2"]) else f"{r['adj_r2']:.3f}"
            lines.append(f"  R² {r['model']}: {r['r2']:.3f} (adjusted {adj}, n={r['n']})")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ premium spread


def variance_row(setting: str, vocab: int | None, names: list[str], premiums: list[float]) -> dict[str, Any]:
    """Mean, variance, spread and the worst language of one setting's premiums."""
    import numpy as np

    x = np.asarray(premiums, dtype=np.float64)
    k = int(np.argmax(x))
    return {"setting": setting, "vocab_size": vocab, "languages": len(x), "mean": float(x.mean()),
            "variance": float(x.var()), "std": float(x.std()), "min": float(x.min()), "max": float(x.max()),
            "max_language": names[k]}


def premium_rows(grid_rows: list[dict[str, Any]], optimal_rows: list[dict[str, Any]], sizes: list[int],
                 target: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    """Premium spread per setting; each ratio is against the shared baseline size over the same
    languages (capped languages, which could not reach their size, form a second set)."""
    base_vocab = target["vocab_size"] if target["vocab_size"] in sizes else sizes[(len(sizes) - 1) // 2]
    sets = {"all": [r["language"] for r in optimal_rows]}
    uncapped = [r["language"] for r in optimal_rows if not r["capped"]]
    if uncapped and len(uncapped) < len(optimal_rows):
        sets["uncapped"] = uncapped
    rows = []
    for set_name, names in sets.items():
        keep = set(names)
        block = []
        for v in sizes:
            if set_name != "all" and v != base_vocab:
                continue
            sel = [r for r in grid_rows if r["vocab_size"] == v and r["language"] in keep]
            block.append(variance_row("shared", v, [r["language"] for r in sel], [r["premium"] for r in sel]))
        sel = [r for r in optimal_rows if r["language"] in keep]
        block.append(variance_row("optimal", None, [r["language"] for r in sel], [r["premium"] for r in sel]))
        base = next(r["variance"] for r in block if r["setting"] == "shared" and r["vocab_size"] == base_vocab)
        for r in block:
            r["language_set"] = set_name
            r["baseline_vocab"] = base_vocab
            r["variance_ratio"] = r["variance"] / base if base > 0 else None
            r["variance_reduction"] = 1 - r["variance_ratio"] if r["variance_ratio"] is not None else None
        rows.extend(block)
    return rows


def regression_input(grid_rows: list[dict[str, Any]], scope: str) -> Any:
    """The grid rows in the fit, with the token-length and whitespace features of ``scope``."""
    import pandas as pd

    frame = pd.DataFrame([r for r in grid_rows if r["in_fit"]])
    if scope == "eval":
        frame["mean_token_chars"] = frame["eval_mean_token_chars"]
        frame["whitespace_share"] = frame["eval_whitespace_share"]
    return frame


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(rows)
