"""Figures of data-mixture inference: inferred proportions per tokenizer (stacked bars, and
grouped panels), inferred vs true proportions, and controlled-experiment accuracy against merge
steps. Functions return a matplotlib ``Figure`` and write nothing.

This module holds the only implementation of :func:`inferred_vs_true_figure` and
:func:`mixture_proportions_figure`; :mod:`tokbench.reports.figures` re-exports them (the audit
report draws through that module). Frame columns: ``tokenizer, category, proportion`` and
optional ``ci_low, ci_high`` and ``reliable, unreliable_reason``
(:meth:`tokbench.attacks.mixture.MixtureResult.to_frame`): an unreliable fit is drawn grey and
hatched with its reason, never like a result. The inferred-vs-true figure reads
``category, true, inferred`` (optional ``tokenizer``, ``ci_*``)."""

from __future__ import annotations

from typing import Any

from . import style

__all__ = ["inferred_vs_true_figure", "mixture_proportions_figure", "mixture_groups_figure", "controlled_figure",
           "controlled_size_figure", "unreliable_reasons"]

#: How an unreliable fit's bars are drawn: grey and hatched, so they cannot be read as results.
UNRELIABLE_STYLE = {"color": "lightgrey", "hatch": "///", "edgecolor": "grey"}


def unreliable_reasons(frame: Any) -> dict[str, str]:
    """Tokenizer -> reason for every tokenizer whose rows say ``reliable`` is False (none when the
    frame has no ``reliable`` column, as older result files).

    Example:
        >>> import pandas as pd
        >>> unreliable_reasons(pd.DataFrame({"tokenizer": ["a"], "reliable": [False],
        ...                                  "unreliable_reason": ["stopped at time_limit, gap 0.99"]}))
        {'a': 'stopped at time_limit, gap 0.99'}
    """
    if "reliable" not in frame:
        return {}
    bad = frame[~frame["reliable"].astype(bool)]
    reasons = bad["unreliable_reason"] if "unreliable_reason" in bad else ["unreliable"] * len(bad)
    return {str(t): str(r or "unreliable") for t, r in zip(bad["tokenizer"], reasons, strict=True)}


def _has_intervals(frame: Any) -> bool:
    """True when some row has a drawn interval: the wording promises brackets only then."""
    return {"ci_low", "ci_high"} <= set(frame.columns) and bool(frame["ci_low"].notna().any())


def mixture_groups_figure(grouped: Any) -> Any:
    """One panel per tokenizer: horizontal bars of English, code and top languages, with
    intervals where present. ``grouped`` has ``tokenizer, group, proportion, ci_low, ci_high``
    rows (:meth:`tokbench.attacks.mixture.MixtureResult.grouped`, concatenated)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    toks = list(dict.fromkeys(grouped["tokenizer"]))
    ncol = min(3, len(toks))
    nrow = (len(toks) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.1 * ncol, 2.8 * nrow), squeeze=False)
    bad = unreliable_reasons(grouped)
    for ax, tok in zip(axes.ravel(), toks, strict=False):
        g = grouped[grouped["tokenizer"] == tok].iloc[::-1]
        err = None
        if g["ci_low"].notna().any():
            lo = (g["proportion"] - g["ci_low"]).clip(lower=0).fillna(0)
            hi = (g["ci_high"] - g["proportion"]).clip(lower=0).fillna(0)
            err = [lo.to_numpy(), hi.to_numpy()]
        if tok in bad:
            ax.barh(g["group"], g["proportion"], xerr=err, capsize=2, **UNRELIABLE_STYLE)
            ax.set_title(f"{tok}\nunreliable: {bad[tok]}", fontsize=8, color="firebrick")
        else:
            colors = ["tab:orange" if x == "code" else "tab:blue" if x == "English" else "tab:gray" for x in g["group"]]
            ax.barh(g["group"], g["proportion"], xerr=err, color=colors, capsize=2)
            ax.set_title(tok, fontsize=9)
        ax.set_xlim(0, 1)
        ax.tick_params(labelsize=8)
    for ax in axes.ravel()[len(toks):]:
        ax.axis("off")
    fig.supxlabel("inferred share of training bytes" + (" (bars: 95% interval)" if _has_intervals(grouped) else ""))
    fig.tight_layout()
    return fig


def inferred_vs_true_figure(frame: Any, *, title: str | None = None) -> Any:
    """Inferred against true category proportions, with the identity line. Rows without a true
    share are left out; an unreliable fit (``reliable`` False) is drawn with hollow markers and
    says so in the legend; with more than 12 points per tokenizer only each tokenizer's largest
    miss is labelled (when over half a point); error bars only where an interval was computed."""
    import numpy as np

    frame = frame[frame["true"].notna() & frame["inferred"].notna()]
    fig = style.new_figure(5.8, 5.4)
    ax = fig.add_subplot()
    groups = list(frame.groupby("tokenizer", sort=False)) if "tokenizer" in frame else [("", frame)]
    bad = unreliable_reasons(frame)
    for (name, g), c in zip(groups, style.colours(len(groups)), strict=True):
        err = None
        if {"ci_low", "ci_high"} <= set(g.columns) and g[["ci_low", "ci_high"]].notna().any().all():
            err = np.nan_to_num(np.vstack([np.clip(g["inferred"] - g["ci_low"], 0, None),
                                           np.clip(g["ci_high"] - g["inferred"], 0, None)]).astype(float))
        label = style.short_label(name) or None
        marker = {"fmt": "o", "color": c, "capsize": 2}
        if name in bad:  # hollow: visibly not a result, still told apart by colour
            marker = {"fmt": "o", "color": c, "mfc": "none", "capsize": 2}
            label = f"{label} (unreliable fit)"
        ax.errorbar(g["true"], g["inferred"], yerr=err, label=label, **marker)
        miss = (g["inferred"] - g["true"]).abs()
        # every point when few; else the misses a reader can see (over half a percentage point)
        shown = g if len(g) <= 12 else g.loc[[miss.idxmax()]] if miss.max() > 0.005 else g.iloc[:0]
        for _, row in shown.iterrows():
            ax.annotate(style.short_label(row["category"], 14), (row["true"], row["inferred"]), fontsize=8,
                        xytext=(5, -3), textcoords="offset points", color=c)
    top = max(float(frame["true"].max()), float(frame["inferred"].max()), 0.05) * 1.1 if len(frame) else 1.0
    ax.plot([0, top], [0, top], "--", color="grey", linewidth=1, label="perfect inference")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("true proportion in the training data")
    ax.set_ylabel("inferred proportion")
    ax.legend(fontsize=8)
    ax.set_title(title or "Mixture inference: inferred vs true proportions")
    return fig


def mixture_proportions_figure(frame: Any, *, max_categories: int = 10, title: str | None = None) -> Any:
    """Inferred training-data proportions per tokenizer as stacked bars; the largest
    ``max_categories`` categories are shown, the rest summed into "other". Categories above 4%
    are labelled with their interval when ``ci_low``/``ci_high`` hold one. A tokenizer whose fit is
    unreliable (``reliable`` False) is drawn grey and hatched, labelled "unreliable: <reason>"."""
    totals = frame.groupby("category")["proportion"].mean().sort_values(ascending=False)
    keep = list(totals.index[:max_categories])
    tokenizers = list(dict.fromkeys(frame["tokenizer"]))
    colours = dict(zip(keep + ["other"], style.colours(len(keep) + 1), strict=True))
    fig = style.new_figure(10.0, max(2.6, 0.6 * len(tokenizers) + 2.0))
    ax = fig.add_subplot()
    has_ci = _has_intervals(frame)
    bad = unreliable_reasons(frame)
    for i, name in enumerate(tokenizers):
        rows = frame[frame["tokenizer"] == name].set_index("category")
        if name in bad:
            _unreliable_bar(ax, i, rows, bad[name])
            continue
        left = 0.0
        for cat in keep + ["other"]:
            if cat == "other":
                value = float(rows["proportion"].drop(index=keep, errors="ignore").sum())
            else:
                value = float(rows["proportion"].get(cat, 0.0))
            if value <= 0:
                continue
            ax.barh(i, value * 100, left=left * 100, color=colours[cat], edgecolor="white",
                    label=style.short_label(cat, 20) if i == 0 or cat not in ax.get_legend_handles_labels()[1] else None)
            if value >= 0.04:
                text = f"{value:.0%}"
                if has_ci and cat != "other" and cat in rows.index and rows["ci_low"].notna().get(cat, False):
                    text += f"\n[{rows['ci_low'][cat]:.0%}–{rows['ci_high'][cat]:.0%}]"
                ax.text((left + value / 2) * 100, i, text, ha="center", va="center", fontsize=8)
            left += value
    ax.set_yticks(range(len(tokenizers)), [style.short_label(n, 32) for n in tokenizers])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("inferred share of training data (%" + ("; brackets: 95% interval)" if has_ci else ")"))
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    if unique:  # empty when every fit is unreliable: no category colours to explain
        fig.legend(unique.values(), unique.keys(), loc="outside lower center", ncol=min(6, len(unique)),
                   fontsize=8, frameon=False)
    ax.set_title(title or "Inferred training-data mixture (merge-list attack)")
    return fig


def _unreliable_bar(ax: Any, i: int, rows: Any, reason: str) -> None:
    """One hatched grey bar for an unreliable fit: segment edges show the split, but no colour
    ties a segment to a category legend, and the text says why it is not a result."""
    left = 0.0
    for value in rows["proportion"].sort_values(ascending=False):
        if value > 0:
            ax.barh(i, value * 100, left=left * 100, linewidth=0.5, **UNRELIABLE_STYLE)
            left += float(value)
    ax.text(50, i, f"unreliable: {reason}", ha="center", va="center", fontsize=8, color="firebrick",
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})


def controlled_figure(frame: Any) -> Any:
    """log10 MSE (mean ± std over trials) against merge steps, per setting and method."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    methods = [m for m in ("attack", "naive_skip", "naive_all", "TC", "TEE", "random") if m in frame]
    settings = list(dict.fromkeys(frame["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(4 * len(settings), 3.2), squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=True):
        sub = frame[frame["setting"] == setting]
        for m in methods:
            g = sub.groupby("steps")[m].agg(["mean", "std"]).reset_index()
            ax.errorbar(g["steps"], g["mean"], yerr=g["std"].fillna(0), marker="o", label=m, capsize=2)
        ax.set_xscale("log")
        steps = sorted(sub["steps"].unique())
        ax.set_xticks(steps, [f"{v:,}" for v in steps])
        ax.minorticks_off()
        ax.set_title(setting)
        ax.set_xlabel("merge steps T")
        ax.set_ylabel("log10 MSE")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    return fig


def controlled_size_figure(frame: Any) -> Any:
    """The attack's log10 MSE (mean ± std over trials) against the counting-sample size per
    category, one line per merge-step count T, one panel per setting."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    settings = list(dict.fromkeys(frame["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(4 * len(settings), 3.2), squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=True):
        sub = frame[frame["setting"] == setting]
        for steps, g in sub.groupby("steps"):
            agg = g.groupby("count_bytes")["attack"].agg(["mean", "std"]).reset_index()
            ax.errorbar(agg["count_bytes"] / 1e3, agg["mean"], yerr=agg["std"].fillna(0), marker="o",
                        label=f"T = {steps:,}", capsize=2)
        ax.set_xscale("log")
        sizes = sorted(sub["count_bytes"].unique() / 1e3)
        ax.set_xticks(sizes, [f"{v:,.0f}" for v in sizes])
        ax.minorticks_off()
        ax.set_title(setting)
        ax.set_xlabel("counting sample per category (kB)")
        ax.set_ylabel("attack log10 MSE")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
