"""Figures of data-mixture inference: inferred proportions per tokenizer, and controlled-experiment
accuracy against merge steps. Functions return a matplotlib ``Figure`` and write nothing."""

from __future__ import annotations

from typing import Any

__all__ = ["mixture_proportions_figure", "controlled_figure", "group_categories"]

CODE = ("python", "c", "c_header", "cpp", "javascript", "perl", "php", "tcl", "shell")


def group_categories(frame: Any, *, top: int = 5) -> Any:
    """Per tokenizer: English, code (summed; interval bounds summed as a rough envelope), the
    ``top`` other categories by proportion, and the rest as "other"."""
    import pandas as pd

    rows = []
    for tok, g in frame.groupby("tokenizer", sort=False):
        is_code = g["category"].isin(CODE)
        eng = g[g["category"] == "eng_Latn"]
        rows.append({"tokenizer": tok, "group": "English", "proportion": eng["proportion"].sum(),
                     "low": eng["low"].sum(), "high": eng["high"].sum()})
        rows.append({"tokenizer": tok, "group": "code", "proportion": g.loc[is_code, "proportion"].sum(),
                     "low": g.loc[is_code, "low"].sum(), "high": g.loc[is_code, "high"].sum()})
        rest = g[~is_code & (g["category"] != "eng_Latn")].sort_values("proportion", ascending=False)
        for _, r in rest.head(top).iterrows():
            rows.append({"tokenizer": tok, "group": r["category"], "proportion": r["proportion"],
                         "low": r["low"], "high": r["high"]})
        rows.append({"tokenizer": tok, "group": "other", "proportion": rest["proportion"].iloc[top:].sum(),
                     "low": float("nan"), "high": float("nan")})
    return pd.DataFrame(rows)


def mixture_proportions_figure(frame: Any, *, top: int = 5) -> Any:
    """One panel per tokenizer: horizontal bars of English, code and top languages, with
    bootstrap intervals where present."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    grouped = group_categories(frame, top=top)
    toks = list(dict.fromkeys(grouped["tokenizer"]))
    ncol = min(3, len(toks))
    nrow = (len(toks) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 2.8 * nrow), squeeze=False)
    for ax, tok in zip(axes.ravel(), toks, strict=False):
        g = grouped[grouped["tokenizer"] == tok].iloc[::-1]
        err = None
        if g["low"].notna().any():
            lo = (g["proportion"] - g["low"]).clip(lower=0).fillna(0)
            hi = (g["high"] - g["proportion"]).clip(lower=0).fillna(0)
            err = [lo.to_numpy(), hi.to_numpy()]
        colors = ["tab:orange" if x == "code" else "tab:blue" if x == "English" else "tab:gray" for x in g["group"]]
        ax.barh(g["group"], g["proportion"], xerr=err, color=colors, capsize=2)
        ax.set_xlim(0, 1)
        ax.set_title(tok, fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(toks):]:
        ax.axis("off")
    fig.supxlabel("inferred share of training bytes")
    fig.tight_layout()
    return fig


def controlled_figure(frame: Any) -> Any:
    """log10 MSE (mean ± std over trials) against merge steps, per setting and method."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    methods = [m for m in ("attack", "TC", "TEE", "random") if m in frame]
    settings = list(dict.fromkeys(frame["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(4 * len(settings), 3.2), squeeze=False)
    for ax, setting in zip(axes[0], settings, strict=True):
        sub = frame[frame["setting"] == setting]
        for m in methods:
            g = sub.groupby("steps")[m].agg(["mean", "std"]).reset_index()
            ax.errorbar(g["steps"], g["mean"], yerr=g["std"].fillna(0), marker="o", label=m, capsize=2)
        ax.set_xscale("log")
        ax.set_title(setting)
        ax.set_xlabel("merge steps T")
        ax.set_ylabel("log10 MSE")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig
