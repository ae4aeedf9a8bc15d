"""Figures: functions that take result frames and return a matplotlib ``Figure``; they write
nothing (reports and commands save them).

Every function uses matplotlib's object-oriented API (``matplotlib.figure.Figure``), never the
pyplot state machine, so hundreds of figures can be made in one process without leaking and
without a display. Axes with many languages use horizontal bars, and past ``max_languages``
only the most expensive ones are drawn and the rest are summarised in a note, so labels never
overlap on a 200-language axis.

Frame contracts (the columns each function reads):

* :func:`premiums_figure` — :meth:`PremiumResult.to_frame`: tokenizer, method, language, premium,
  ci_low, ci_high (blanked rows have ``premium`` None and are left out);
* :func:`coverage_classes_figure` — :meth:`CoverageResult.to_frame` (``percent=True`` or counts);
* :func:`script_heatmap_figure` — :meth:`CoverageResult.scripts_frame` (``percent=True``);
* CTC against vocabulary size with the fitted power law: :mod:`tokbench.reports.optimal_vocab_figures`;
* :func:`inferred_vs_true_figure` — category, true, inferred, optional ci_low/ci_high and tokenizer;
* :func:`mixture_proportions_figure` — tokenizer, category, proportion, optional ci_low/ci_high;
* :func:`mergefree_figure` / :func:`mergefree_tokens_per_byte_figure` — :meth:`MergeFreeResult.to_frame`;
* :func:`charbench_target_length_figure` — :meth:`ScoreResult.by_feature` (model, tokenizer,
  task, feature, bin, accuracy, se).

Example:
    >>> fig = mergefree_figure(result.to_frame())   # doctest: +SKIP
    >>> fig.savefig("mergefree.png")                 # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..corpora.languages import script_of
from . import style

# The mixture figures live in :mod:`tokbench.reports.mixture_figures` (one implementation);
# they are re-exported here so that every figure of a report can be drawn through this module.
from .mixture_figures import inferred_vs_true_figure, mixture_proportions_figure

__all__ = [
    "mergefree_figure",
    "mergefree_tokens_per_byte_figure",
    "compression_figure",
    "premiums_figure",
    "coverage_classes_figure",
    "script_heatmap_figure",
    "inferred_vs_true_figure",
    "mixture_proportions_figure",
    "charbench_target_length_figure",
    "script_of",
]

# ------------------------------------------------------------------------------ premiums


def premiums_figure(frame: Any, *, method: str = "petrov", max_languages: int = 40,
                    title: str | None = None) -> Any:
    """Token premium per language with bootstrap CIs, sorted, bars coloured by script.

    One panel per tokenizer, each sorted by its own premiums (most expensive on top) and all
    on one x scale. Past ``max_languages`` only the most expensive are drawn; a note under
    each panel gives the range and median of the others.
    """
    part = frame[(frame["method"] == method) & frame["premium"].notna()] if "method" in frame else frame[frame["premium"].notna()]
    if part.empty:
        return style.empty_figure(title or "Token premiums", "no premiums to show (no parallel languages or all blanked)")
    tokenizers = list(dict.fromkeys(part["tokenizer"]))
    languages = part["language"].unique()
    shown_n = min(max_languages, len(languages))
    scripts = sorted({script_of(lang) for lang in languages})
    colour = dict(zip(scripts, style.colours(len(scripts)), strict=True))
    n_rows, n_cols = style.panel_grid(len(tokenizers), 4.6, extra=1.6)
    height = max(3.0, 0.22 * shown_n + 1.8)
    fig = style.new_figure(4.6 * n_cols + 1.6, height * n_rows)
    # Shared x: panels of different tokenizers are compared bar against bar. Not shared y:
    # each panel has its own order, so "most expensive on top" is true in every panel.
    grid = fig.subplots(n_rows, n_cols, sharex=True, squeeze=False)
    panels = [ax for row in grid for ax in row]
    for ax in panels[len(tokenizers):]:
        ax.set_visible(False)
    for ax, name in zip(panels, tokenizers, strict=False):
        _premium_panel(ax, part[part["tokenizer"] == name], name, colour, method, max_languages, height)
    for row in grid:
        row[0].set_ylabel("language (most expensive on top)")
    from matplotlib.patches import Patch

    fig.legend([Patch(color=colour[s]) for s in scripts], scripts, title="script", loc="outside right upper",
               fontsize=8)
    extra = f", top {shown_n} of {len(languages)} per tokenizer" if shown_n < len(languages) else ""
    fig.suptitle(title or f"Token premiums per language (95% bootstrap CI{extra})")
    return fig


def _premium_panel(ax: Any, rows: Any, name: str, colour: dict[str, Any], method: str,
                   max_languages: int, height: float) -> None:
    """One tokenizer's premiums, sorted by its own values, the most expensive on top."""
    import numpy as np

    rows = rows.drop_duplicates("language").set_index("language").sort_values("premium", ascending=False)
    shown, rest = rows.iloc[:max_languages], rows.iloc[max_languages:]
    values = shown["premium"].to_numpy(dtype=float)
    ys = np.arange(len(shown))
    err = None
    if {"ci_low", "ci_high"} <= set(shown.columns):
        lo, hi = shown["ci_low"].to_numpy(dtype=float), shown["ci_high"].to_numpy(dtype=float)
        err = np.nan_to_num(np.vstack([np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)]))
    ax.barh(ys, values, color=[colour[script_of(lang)] for lang in shown.index], xerr=err,
            error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333333"})
    ax.axvline(1.0, color="black", linewidth=0.8, linestyle="--")
    ax.set_yticks(ys, [style.short_label(lang) for lang in shown.index], fontsize=8 if len(shown) > 25 else 9)
    ax.set_ylim(len(shown) - 0.5, -0.5)  # first (most expensive) row on top
    ax.tick_params(labelleft=True, labelbottom=True)  # shared axes hide them on inner panels
    ax.set_xlabel(f"token premium vs reference ({method}; 1 = same tokens)", fontsize=9)
    ax.set_title(style.short_label(name, 40), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    if len(rest):
        others = rest["premium"]
        ax.text(0.0, -0.08 - 0.5 / height, f"{len(others)} more languages: premium "
                f"{others.min():.2f}–{others.max():.2f}, median {others.median():.2f}",
                transform=ax.transAxes, fontsize=8, va="top")


# ------------------------------------------------------------------------------ coverage

_CLASS_COLOURS = {
    "char_alpha": "#9ecae1", "char_other": "#c6dbef", "char_errors": "#fdd0a2",
    "spaced_alpha": "#08519c", "spaced_other": "#4292c6", "spaced_errors": "#fd8d3c",
    "inner_alpha": "#006d2c", "inner_other": "#41ab5d", "inner_errors": "#d94801",
    "bytes": "#756bb1", "partial_utf8": "#bcbddc", "special": "#e7298a", "unused": "#bdbdbd",
}


_NOT_CLASSES = ("tokenizer", "vocab_size", "total", "unreachable")


def coverage_classes_figure(frame: Any, *, classes: Sequence[str] | None = None, title: str | None = None) -> Any:
    """Vocabulary classes as stacked horizontal bars, one bar per tokenizer, in % of the vocabulary.

    ``classes`` orders the stacked classes; by default every column of the frame except
    ``tokenizer``, ``vocab_size`` and ``total``, in the frame's order (the order of
    :data:`tokbench.metrics.coverage.CLASSES` in :meth:`CoverageResult.to_frame`).
    """
    wanted = classes if classes is not None else [c for c in frame.columns if c not in _NOT_CLASSES]
    classes = [c for c in wanted if c in frame.columns]
    names = [style.short_label(n, 32) for n in frame["tokenizer"]]
    values = frame[classes].astype(float)
    if values.to_numpy().sum(axis=1).max() > 100.5:  # counts: convert to percent of the row total
        values = values.div(values.sum(axis=1).replace(0, 1), axis=0) * 100.0
    fig = style.new_figure(10.0, max(2.6, 0.45 * len(names) + 1.9))
    ax = fig.add_subplot()
    left = [0.0] * len(names)
    for cls in classes:
        widths = list(values[cls])
        ax.barh(range(len(names)), widths, left=left, color=_CLASS_COLOURS.get(cls), label=cls.replace("_", " "))
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of vocabulary entries (%)")
    ax.set_title(title or "Vocabulary classes (Qtok): what every entry is")
    fig.legend(loc="outside lower center", ncol=5, fontsize=8, frameon=False)
    return fig


def script_heatmap_figure(frame: Any, *, max_scripts: int = 14, title: str | None = None) -> Any:
    """Share of alpha tokens per script (columns) and tokenizer (rows), annotated in %.

    ``frame`` is :meth:`CoverageResult.scripts_frame` (percent or counts). Scripts past
    ``max_scripts`` (by total share) are summed into one "other scripts" column.
    """
    import numpy as np

    scripts = [c for c in frame.columns if c != "tokenizer"]
    if not scripts:
        return style.empty_figure(title or "Scripts of alpha tokens", "no alpha tokens")
    data = frame[scripts].astype(float)
    data = data.div(data.sum(axis=1).replace(0, 1), axis=0) * 100.0
    order = data.sum().sort_values(ascending=False).index
    keep = list(order[:max_scripts])
    matrix = data[keep].copy()
    if len(order) > max_scripts:
        matrix["other scripts"] = data[list(order[max_scripts:])].sum(axis=1)
    names = [style.short_label(n, 32) for n in frame["tokenizer"]]
    fig = style.new_figure(max(6.0, 0.62 * matrix.shape[1] + 3.4), max(3.0, 0.42 * len(names) + 2.2))
    ax = fig.add_subplot()
    from matplotlib.colors import PowerNorm

    # A square-root-like norm: a linear 0–100 scale leaves every non-Latin cell (a few %) white.
    norm = PowerNorm(gamma=0.35, vmin=0, vmax=100)
    image = ax.imshow(matrix.to_numpy(), aspect="auto", cmap="Blues", norm=norm)
    ax.set_xticks(np.arange(matrix.shape[1]), [style.short_label(c, 16) for c in matrix.columns], rotation=45, ha="right")
    ax.set_yticks(np.arange(len(names)), names)
    for (i, j), v in np.ndenumerate(matrix.to_numpy()):
        if v >= 0.05:
            ax.text(j, i, f"{v:.1f}" if v < 10 else f"{v:.0f}", ha="center", va="center", fontsize=8,
                    color="white" if norm(v) > 0.6 else "black")
    bar = fig.colorbar(image, ax=ax, ticks=[0, 1, 5, 20, 50, 100])
    bar.set_label("% of alpha tokens (power scale)", fontsize=9)
    ax.set_xlabel("script")
    ax.set_title(title or "Scripts of alpha tokens per tokenizer (%)")
    return fig


# ------------------------------------------------------------------------------ optimal vocabulary


# ------------------------------------------------------------------------------ compression


#: axis labels of the compression figure's usual columns
COMPRESSION_AXIS = {
    "bytes_per_token": "bytes per token (higher = fewer tokens for the same bytes)",
    "tokens_per_char": "tokens per character (lower = cheaper)",
    "chars_per_token": "characters per token (higher = cheaper)",
}


def compression_figure(frame: Any, *, value: str = "bytes_per_token", order: list[str] | None = None,
                       title: str | None = None) -> Any:
    """Bytes per token (or another column of :meth:`CompressionResult.to_frame`) per category,
    horizontal grouped bars, one colour per tokenizer. Categories in ``order`` when given (the
    audit groups them by script, so the chart does not rank scripts whose characters hold
    different amounts of text), else sorted by their mean value."""
    tokenizers = list(dict.fromkeys(frame["tokenizer"]))
    if order is None:
        order = list(frame.groupby("category")[value].mean().sort_values(ascending=False).index)
    colours = style.colours(len(tokenizers))
    fig = style.new_figure(8.5, max(3.0, 0.16 * len(order) * max(len(tokenizers), 2) + 1.8))
    ax = fig.add_subplot()
    width = 0.8 / max(len(tokenizers), 1)
    for k, name in enumerate(tokenizers):
        values = frame[frame["tokenizer"] == name].set_index("category")[value]
        ys = [i + k * width - 0.4 + width / 2 for i in range(len(order))]
        ax.barh(ys, [values.get(c, math.nan) for c in order], height=width, color=colours[k], label=style.short_label(name, 32))
    ax.set_yticks(range(len(order)), [style.short_label(c) for c in order], fontsize=8 if len(order) > 25 else 9)
    ax.invert_yaxis()
    ax.set_xlabel(COMPRESSION_AXIS.get(value, value.replace("_", " ")))
    ax.set_ylabel("category")
    ax.grid(axis="x", alpha=0.3)
    fig.legend(loc="outside lower center", ncol=min(len(tokenizers), 4), fontsize=8, frameon=False)
    ax.set_title(title or "Compression per category")
    return fig


# ------------------------------------------------------------------------------ merge-free


def mergefree_figure(frame: Any, *, title: str | None = None) -> Any:
    """Tokens relative to standard BPE per category (rows) and encoder variant (bars).

    ``frame`` is :meth:`MergeFreeResult.to_frame` output, possibly for several tokenizers
    (one panel each, one shared x scale). Horizontal bars keep long category lists readable.
    An outlier far past the others (a damaged merge list on a rare script) would squash every
    panel, so the x axis is clipped and each clipped bar is hatched and labelled with its value.
    """
    tokenizers = list(dict.fromkeys(frame["tokenizer"]))
    categories = list(dict.fromkeys(frame["category"]))
    # Every variant gets one colour across panels, whichever tokenizers have it.
    all_variants = [v for v in dict.fromkeys(frame["variant"]) if v != "standard"]
    colours = {v: f"C{k}" for k, v in enumerate(all_variants)}
    ratios = frame.loc[frame["variant"] != "standard", "relative_to_standard"].astype(float).dropna()
    cap = _clip_limit(ratios)
    rows, columns = style.panel_grid(len(tokenizers), 5.5, extra=0.5)
    height = max(2.5, 0.45 * len(categories) + 1.5)
    fig = style.new_figure(5.5 * columns + 0.5, height * rows)
    grid = fig.subplots(rows, columns, sharey=True, sharex=True, squeeze=False)
    panels = [ax for row in grid for ax in row]
    for ax in panels[len(tokenizers):]:
        ax.set_visible(False)
    for ax, name in zip(panels, tokenizers, strict=False):
        part = frame[(frame["tokenizer"] == name) & (frame["variant"] != "standard")]
        variants = list(dict.fromkeys(part["variant"]))
        width = 0.8 / max(len(variants), 1)
        for k, variant in enumerate(variants):
            values = part[part["variant"] == variant].set_index("category")["relative_to_standard"]
            ys = [i + k * width - 0.4 + width / 2 for i in range(len(categories))]
            _clipped_barh(ax, ys, [float(values.get(c, math.nan)) for c in categories], cap,
                          height=width, label=variant, color=colours[variant])
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(categories)), [style.short_label(c) for c in categories])
        ax.set_xlabel("tokens relative to standard BPE (1.0 = same)", fontsize=9)
        ax.tick_params(axis="x", labelbottom=True)  # sharex hides them above the last row
        ax.set_title(style.short_label(name, 40), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    lower = min(0.0, float(ratios.min())) if len(ratios) else 0.0
    grid[0][0].set_xlim(lower, cap * 1.12 if cap < math.inf else None)
    grid[0][0].invert_yaxis()  # shared y axis: inverting once puts the first category on top
    for row in grid:
        row[0].set_ylabel("category")
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[v], label=v) for v in all_variants]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(max(len(handles), 1), 5), frameon=False)
    clipped = " (hatched bars clipped; label = value)" if (ratios > cap).any() else ""
    fig.suptitle(title or f"Encoding without (or with a damaged) merge list{clipped}")
    return fig


def _clip_limit(values: Any) -> float:
    """Where to clip a ratio axis: past 1.5 × the 90th percentile (never below 1.5), or nowhere
    when nothing is that far out."""
    if not len(values):
        return math.inf
    limit = max(1.5, 1.5 * float(values.quantile(0.9)))
    return limit if float(values.max()) > limit else math.inf


def _clipped_barh(ax: Any, ys: list[float], values: list[float], cap: float, **kw: Any) -> None:
    """Horizontal bars cut at ``cap``; cut bars are hatched and carry their true value."""
    ax.barh(ys, [min(v, cap) for v in values], **kw)
    for y, v in zip(ys, values, strict=True):
        if v > cap:
            ax.barh(y, cap, height=kw.get("height", 0.8), fill=False, hatch="///", edgecolor="black", linewidth=0)
            ax.text(cap * 1.01, y, f"{v:.1f}×", va="center", ha="left", fontsize=8)


def mergefree_tokens_per_byte_figure(frame: Any, *, variants: Sequence[str] = ("standard", "greedy", "minimal"),
                                     title: str | None = None) -> Any:
    """Tokens per byte per category: standard BPE against the merge-list-free encoders
    (``greedy``, ``minimal``), a panel per tokenizer, horizontal grouped bars."""
    tokenizers = list(dict.fromkeys(frame["tokenizer"]))
    categories = list(dict.fromkeys(frame["category"]))
    present = [v for v in variants if v in set(frame["variant"])]
    n_rows, n_cols = style.panel_grid(len(tokenizers), 4.5)
    fig = style.new_figure(max(6.0, 4.5 * n_cols + 1.0), max(2.8, 0.5 * len(categories) + 1.8) * n_rows)
    # One x scale for all panels: they show the same measure.
    grid = fig.subplots(n_rows, n_cols, sharey=True, sharex=True, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(tokenizers):]:
        ax.set_visible(False)
    colours = style.colours(len(present))
    width = 0.8 / max(len(present), 1)
    for ax, name in zip(axes, tokenizers, strict=False):
        part = frame[frame["tokenizer"] == name]
        for k, variant in enumerate(present):
            values = part[part["variant"] == variant].set_index("category")["tokens_per_byte"]
            ys = [i + k * width - 0.4 + width / 2 for i in range(len(categories))]
            ax.barh(ys, [values.get(c, math.nan) for c in categories], height=width, color=colours[k],
                    label=variant if ax is axes[0] else None)
        ax.set_yticks(range(len(categories)), [style.short_label(c) for c in categories])
        ax.set_xlabel("tokens per byte (lower = better compression)", fontsize=9)
        ax.tick_params(axis="x", labelbottom=True)  # sharex hides them above the last row
        ax.set_title(style.short_label(name, 40), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].invert_yaxis()
    for row in grid:
        row[0].set_ylabel("category")
    fig.legend(loc="outside lower center", ncol=len(present) or 1, frameon=False)
    fig.suptitle(title or "Merge-list-free encodings vs standard BPE: tokens per byte")
    return fig


# ------------------------------------------------------------------------------ CharBench


def charbench_target_length_figure(by_feature: Any, *, feature: str = "target_token_chars",
                                   title: str | None = None) -> Any:
    """CharBench accuracy against the length (characters) of the token holding the target
    character, a panel per task, a line per model × tokenizer, ± binomial SE."""
    part = by_feature[by_feature["feature"] == feature] if "feature" in by_feature else by_feature
    if part.empty:
        return style.empty_figure(title or "CharBench accuracy", f"no {feature} bins (index tasks only)")
    tasks = list(dict.fromkeys(part["task"]))
    n_rows, n_cols = style.panel_grid(len(tasks), 3.6, extra=1.5)
    fig = style.new_figure(max(5.0, 3.6 * n_cols + 1.5), 4.0 * n_rows)
    grid = fig.subplots(n_rows, n_cols, sharey=True, squeeze=False)
    axes = [ax for row in grid for ax in row]
    for ax in axes[len(tasks):]:
        ax.set_visible(False)
    series = part.groupby(["model", "tokenizer"], sort=True) if "tokenizer" in part else part.groupby(["model"])
    keys = [k for k, _ in series]
    colours = dict(zip(keys, style.colours(len(keys)), strict=True))
    for ax, task in zip(axes, tasks, strict=False):
        for key, g in series:
            g = g[g["task"] == task]
            if g.empty:
                continue
            try:
                g = g.assign(_x=g["bin"].astype(float)).sort_values("_x")
                xs = list(g["_x"])
            except (TypeError, ValueError):
                xs = list(g["bin"].astype(str))
            label = " / ".join(style.short_label(k, 20) for k in (key if isinstance(key, tuple) else (key,)))
            ax.errorbar(xs, g["accuracy"], yerr=g["se"].fillna(0), marker="o", capsize=2, color=colours[key],
                        label=label if ax is axes[0] else None)
        ax.set_title(task.replace("_", " "), fontsize=10)
        ax.set_xlabel("target token length (characters)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    for row in grid:
        row[0].set_ylabel("accuracy (± binomial SE)")
    fig.legend(loc="outside lower center", ncol=min(len(keys), 4), fontsize=8, frameon=False)
    fig.suptitle(title or "CharBench accuracy by target-token length")
    return fig


