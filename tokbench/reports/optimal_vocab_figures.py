"""Optimal-vocabulary figures: CTC (or bytes per token) against vocabulary size per language, with
the fitted power law ``a · v^(−b) + c`` and each language's optimal point.

The function takes a frame and returns a matplotlib ``Figure``; it writes nothing and computes no
metric (the fitted parameters come in the frame). Frame contract — one row per point:

* ``language``, ``vocab_size``, ``ctc`` (required);
* ``a``, ``b`` and optionally ``c`` (the language's fit, repeated on its rows) to draw the curve;
* ``kind``: ``"grid"`` or ``"optimal"`` (optional; optimal points are drawn as stars);
* ``in_fit`` (optional): grid points left out of the fit (the training text ran out of pairs)
  are drawn hollow;
* ``bytes_per_token`` for ``y="bytes_per_token"`` (the curve is then ``bytes / CTC(v)``, with the
  language's bytes taken from its first grid row).

:meth:`tokbench.experiments.optimal_vocab.OptimalVocabResult.figure_frame` returns this frame.

Example:
    >>> fig = optimal_vocab_figure(result.figure_frame(), target_ctc=result.target["ctc"])   # doctest: +SKIP
    >>> fig.savefig("optimal_vocab.png")                                                    # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["optimal_vocab_figure"]


def optimal_vocab_figure(
    frame: Any,
    *,
    y: Literal["ctc", "bytes_per_token"] = "ctc",
    target_ctc: float | None = None,
    languages: list[str] | None = None,
    title: str | None = None,
) -> Any:
    """CTC (log-log) or bytes per token against vocabulary size, one colour per language.

    Grid points are dots, the fitted power law a line over the range of the language's points,
    the optimal points stars; ``target_ctc`` draws the target as a horizontal line (CTC only).
    """
    from matplotlib.figure import Figure

    _check_frame(frame, y)
    names = languages or list(dict.fromkeys(frame["language"]))
    n = len(names)
    fig = Figure(figsize=(9, 6 if n <= 12 else 7.5), layout="constrained")
    ax = fig.add_subplot()
    palette = _palette(n)
    has_fit = {"a", "b"}.issubset(frame.columns)
    for k, lang in enumerate(names):
        rows = frame[frame["language"] == lang]
        if not rows.empty:
            _draw_language(ax, rows, lang, y=y, color=palette[k % len(palette)], has_fit=has_fit)
    ax.set_xscale("log")
    if y == "ctc":
        ax.set_yscale("log")
        ax.set_ylabel("corpus token count (CTC) on the evaluation split")
        if target_ctc is not None:
            ax.axhline(target_ctc, color="black", linestyle="--", linewidth=0.8, label="target CTC")
    else:
        ax.set_ylabel("UTF-8 bytes per token")
    ax.set_xlabel("vocabulary size")
    ax.set_title(title or "CTC against vocabulary size: grid (dots; hollow: not fitted), power-law fit (lines), optimal size (stars)",
                 fontsize="medium")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small", ncol=2 if n > 12 else 1, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def _check_frame(frame: Any, y: str) -> None:
    for col in ("language", "vocab_size", "ctc"):
        if col not in frame.columns:
            raise ValueError(f"the figure frame needs a {col!r} column (language, vocab_size, ctc, a, b[, c])")
    if y not in ("ctc", "bytes_per_token"):
        raise ValueError(f"y must be 'ctc' or 'bytes_per_token', got {y!r}")
    if y == "bytes_per_token" and "bytes_per_token" not in frame.columns:
        raise ValueError("y='bytes_per_token' needs a bytes_per_token column")


def _palette(n: int) -> list[Any]:
    from matplotlib import colormaps

    if n <= 10:
        return [colormaps["tab10"](i) for i in range(10)]
    return [colormaps[m](i) for m in ("tab20", "tab20b") for i in range(20)]  # 40 colours before repeats


def _draw_language(ax: Any, rows: Any, lang: str, *, y: str, color: Any, has_fit: bool) -> None:
    """One language: grid points (hollow when left out of the fit), optimal stars, fitted curve."""
    import numpy as np

    kind = rows["kind"] if "kind" in rows.columns else None
    grid = rows if kind is None else rows[kind != "optimal"]
    opt = rows.iloc[0:0] if kind is None else rows[kind == "optimal"]
    fitted = grid["in_fit"].astype(bool) if "in_fit" in grid.columns else None
    inside = grid if fitted is None else grid[fitted]
    ax.scatter(inside["vocab_size"], inside[y], s=14, color=color, label=lang, zorder=3)
    if fitted is not None and (~fitted).any():
        out = grid[~fitted]
        ax.scatter(out["vocab_size"], out[y], s=14, facecolors="none", edgecolors=color, zorder=3)
    if not opt.empty:
        ax.scatter(opt["vocab_size"], opt[y], s=90, marker="*", color=color, edgecolor="black",
                   linewidth=0.5, zorder=4)
    if has_fit and not np.isnan(float(rows["a"].iloc[0])):
        rows = rows if fitted is None else rows[~rows.index.isin(grid.index[~fitted])]
        _draw_fit(ax, rows, grid, y=y, color=color)


def _draw_fit(ax: Any, rows: Any, grid: Any, *, y: str, color: Any) -> None:
    """The power law ``a · v^(−b) + c`` over the range of the fitted points (as bytes/token if asked)."""
    import numpy as np

    a, b = float(rows["a"].iloc[0]), float(rows["b"].iloc[0])
    c = float(rows["c"].iloc[0]) if "c" in rows.columns and not np.isnan(float(rows["c"].iloc[0])) else 0.0
    lo, hi = float(rows["vocab_size"].min()), float(rows["vocab_size"].max())
    v = np.geomspace(lo, hi, 100)
    curve = a * v ** (-b) + c
    if y == "bytes_per_token":
        first = grid.iloc[0] if not grid.empty else rows.iloc[0]
        curve = float(first["bytes_per_token"]) * float(first["ctc"]) / curve
    ax.plot(v, curve, color=color, linewidth=1, alpha=0.8)
