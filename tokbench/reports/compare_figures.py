"""Figures of ``tokbench compare``: a matrix of vocabulary Jaccard and merge relation over the
compared tokenizers, and B's added tokens by script per pair. Plain frames in, ``Figure`` out.

Frame columns (:meth:`tokbench.metrics.compare.CompareResult.frames`): the ``pairs`` frame has
``a, b, jaccard, relation, merge_lcp`` (and optionally ``merges_dropped``); the ``added`` frame has ``a, b, class, script, tokens``.

Example:
    >>> import pandas as pd
    >>> pairs = pd.DataFrame({"a": ["x"], "b": ["y"], "jaccard": [0.5], "relation": ["unrelated"],
    ...                       "merge_lcp": [0]})
    >>> relation_matrix_figure(pairs).axes[0].get_title()
    'Vocabulary Jaccard (colour) and merge relation'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import style

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["relation_matrix_figure", "added_tokens_figure", "RELATION_LABELS", "added_groups"]

#: the merge relation as a cell label (row = A, column = B)
RELATION_LABELS = {"identical": "identical", "reordered": "reordered", "b_extends_a": "col extends row",
                   "a_extends_b": "row extends col", "prefix": "shared prefix", "unrelated": "unrelated",
                   "no_merges": "no merges"}
_FONT = 9


def relation_matrix_figure(pairs: Any) -> Figure:
    """An n×n matrix over the compared tokenizers: colour = vocabulary Jaccard, text = Jaccard and
    the merge relation (row = A, column = B; the lower triangle mirrors the upper)."""
    import numpy as np

    names = list(dict.fromkeys([*pairs["a"], *pairs["b"]]))
    if len(pairs) == 0:
        return style.empty_figure("Vocabulary Jaccard and merge relation", "no pairs were compared")
    n = len(names)
    index = {name: k for k, name in enumerate(names)}
    values = np.eye(n)
    labels = [["" for _ in names] for _ in names]
    for row in pairs.itertuples(index=False):
        i, j = index[row.a], index[row.b]
        values[i, j] = values[j, i] = float(row.jaccard)
        relation = RELATION_LABELS.get(str(row.relation), str(row.relation))
        if row.relation == "prefix":
            relation = f"prefix {int(row.merge_lcp):,}"
        mirrored = {"col extends row": "row extends col", "row extends col": "col extends row"}.get(relation, relation)
        dropped = int(getattr(row, "merges_dropped", 0) or 0)
        less = f" −{dropped:,}" if dropped else ""  # merges of the base the extension dropped
        labels[i][j] = f"{float(row.jaccard):.3f}\n{relation}{less}"
        labels[j][i] = f"{float(row.jaccard):.3f}\n{mirrored}{less}"
    size = 1.9 + 1.25 * n
    fig = style.new_figure(size + 1.6, size)
    ax = fig.add_subplot()
    image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis")
    for i in range(n):
        for j in range(n):
            text = labels[i][j] or ("same" if i == j else "")
            ax.text(j, i, text, ha="center", va="center", fontsize=_FONT,
                    color="black" if values[i, j] > 0.6 else "white")
    shown = [style.short_label(name, 18) for name in names]
    ax.set_xticks(range(n), shown, rotation=30, ha="right", fontsize=_FONT)
    ax.set_yticks(range(n), shown, fontsize=_FONT)
    ax.set_title("Vocabulary Jaccard (colour) and merge relation", fontsize=10)
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    bar.set_label("Jaccard of the vocabularies", fontsize=_FONT)
    bar.ax.tick_params(labelsize=_FONT)
    return fig


def added_groups(added: Any, *, top: int = 10) -> Any:
    """``pair, group, tokens``: B's added tokens per script (alphabetic tokens) or per class
    (the rest), the ``top`` largest groups of each pair and ``other`` for the remainder."""
    import pandas as pd

    if len(added) == 0:
        return pd.DataFrame(columns=["pair", "group", "tokens"])
    frame = added.assign(pair=added["a"].astype(str) + " → " + added["b"].astype(str),
                         group=[s if isinstance(s, str) and s else c for s, c in zip(added["script"], added["class"],
                                                                                    strict=True)])
    summed = frame.groupby(["pair", "group"], sort=False)["tokens"].sum().reset_index()
    rows = []
    for pair, g in summed.groupby("pair", sort=False):
        g = g.sort_values("tokens", ascending=False)
        rows.append(g.head(top))
        if len(g) > top:
            rows.append(pd.DataFrame({"pair": [pair], "group": ["other"], "tokens": [g["tokens"].iloc[top:].sum()]}))
    return pd.concat(rows, ignore_index=True)


def added_tokens_figure(added: Any, *, top: int = 10) -> Figure:
    """One panel per pair: how many tokens B has that A lacks, by script (alphabetic tokens) or
    class (digits, punctuation, partial UTF-8…), largest first."""
    groups = added_groups(added, top=top)
    pairs = list(dict.fromkeys(groups["pair"]))
    if not pairs:
        return style.empty_figure("Tokens B added over A", "B adds no token in any pair")
    rows, cols = style.panel_grid(len(pairs), 4.6)
    sizes = [int((groups["pair"] == pair).sum()) for pair in pairs]
    # each row of panels is as tall as its longest bar list, so a one-group pair stays small
    heights = [0.26 * max(sizes[r * cols:(r + 1) * cols]) + 1.0 for r in range(rows)]
    fig = style.new_figure(4.6 * cols + 0.4, sum(heights) + 0.2)
    grid = fig.add_gridspec(rows, cols, height_ratios=heights)
    for k, pair in enumerate(pairs):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        g = groups[groups["pair"] == pair].iloc[::-1]
        ax.barh([style.short_label(x, 20) for x in g["group"]], g["tokens"], color=style.colours(1)[0], height=0.7)
        ax.set_ylim(-0.6, max(len(g), 2) - 0.4)
        ax.set_title(style.short_label(pair, 44), fontsize=_FONT)
        ax.tick_params(labelsize=_FONT)
        ax.set_xlabel("tokens in B, not in A", fontsize=_FONT)
    return fig
