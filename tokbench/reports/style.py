"""The figures' shared drawing style: a new figure, the colour palette, safe labels, empty figures.

Every figure module draws through these helpers, so all figures share one palette (Okabe & Ito,
colour-blind friendly, then tab20 for long lists), one layout engine and one way of turning an
untrusted name (a tokenizer file, a corpus category) into a tick label. Nothing here draws data.

Example:
    >>> colours(2)
    ['#0072B2', '#E69F00']
    >>> short_label("a" * 40, 10)
    'aaaaaaaaa…'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "new_figure", "colours", "short_label", "empty_figure"]

#: Colour-blind-friendly palette (Okabe & Ito) used first, then tab20 for long lists.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free ``Figure`` (no global state, no display) with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def colours(n: int) -> list[Any]:
    """``n`` distinct colours: the Okabe & Ito palette, or tab20 past eight."""
    if n <= len(OKABE_ITO):
        return list(OKABE_ITO[:n])
    from matplotlib import colormaps

    cmap = colormaps["tab20"]
    return [cmap(i % 20) for i in range(n)]


def short_label(label: Any, limit: int = 28) -> str:
    """Tick labels from untrusted names: one line, bounded length (matplotlib escapes the rest)."""
    text = str(label).replace("\n", " ").replace("$", r"\$")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def empty_figure(title: str, message: str) -> Figure:
    """A small figure that says why there is nothing to draw."""
    fig = new_figure(6.0, 2.0)
    ax = fig.add_subplot()
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", wrap=True)
    ax.set_title(title)
    return fig
