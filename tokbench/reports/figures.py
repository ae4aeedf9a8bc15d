"""Figures: functions that take result frames and return a matplotlib ``Figure``; they write
nothing (reports and commands save them).

Example:
    >>> fig = mergefree_figure(result.to_frame())   # doctest: +SKIP
    >>> fig.savefig("mergefree.png")                 # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

__all__ = ["mergefree_figure"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def mergefree_figure(frame: Any, *, title: str | None = None) -> Any:
    """Tokens relative to standard BPE per category (rows) and encoder variant (bars).

    ``frame`` is :meth:`MergeFreeResult.to_frame` output, possibly for several tokenizers
    (one panel each). Horizontal bars keep long category lists readable.
    """
    plt = _pyplot()
    tokenizers = list(dict.fromkeys(frame["tokenizer"]))
    categories = list(dict.fromkeys(frame["category"]))
    height = max(2.5, 0.45 * len(categories) * 1.0 + 1.5)
    fig, axes = plt.subplots(1, len(tokenizers), figsize=(5.5 * len(tokenizers), height), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], tokenizers, strict=True):
        part = frame[(frame["tokenizer"] == name) & (frame["variant"] != "standard")]
        variants = list(dict.fromkeys(part["variant"]))
        width = 0.8 / max(len(variants), 1)
        for k, variant in enumerate(variants):
            values = part[part["variant"] == variant].set_index("category")["relative_to_standard"]
            ys = [i + k * width - 0.4 + width / 2 for i in range(len(categories))]
            ax.barh(ys, [values.get(c, float("nan")) for c in categories], height=width, label=variant)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.set_yticks(range(len(categories)), categories)
        ax.set_xlabel("tokens relative to standard BPE (1.0 = same)")
        ax.set_title(name)
        ax.grid(axis="x", alpha=0.3)
    axes[0][0].invert_yaxis()  # shared y axis: inverting once puts the first category on top
    axes[0][0].set_ylabel("category")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
    fig.suptitle(title or "Encoding without (or with a damaged) merge list")
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    return fig
