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

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "SHOWN_WIDTH_IN", "PDF_WIDTH_IN", "MIN_SHOWN_PT", "new_figure", "panel_grid", "colours",
           "short_label", "empty_figure", "shown_scale", "shown_width", "figures_for_width", "text_sizes"]

#: Colour-blind-friendly palette (Okabe & Ito) used first, then tab20 for long lists.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")


#: Widest a figure is shown: the HTML report caps images at the page's 78rem (1248 CSS px, and
#: the <img> is sized at 100 px per inch); the PDF keeps the figure's own size. Figures are made
#: no wider than this, so they are never scaled down and a font size is the size the reader sees.
SHOWN_WIDTH_IN = 12.4
#: The PDF report's text width on A4 portrait (210 mm less two 15 mm margins): its figures are
#: drawn this wide (see :func:`figures_for_width`), so the PDF never shrinks their text either.
PDF_WIDTH_IN = 180 / 25.4
#: Smallest readable text, in points at the size shown.
MIN_SHOWN_PT = 8.0

_WIDTH: contextvars.ContextVar[float] = contextvars.ContextVar("shown_width", default=SHOWN_WIDTH_IN)


def shown_width() -> float:
    """The width figures are drawn for now: :data:`SHOWN_WIDTH_IN`, or what :func:`figures_for_width` set."""
    return _WIDTH.get()


@contextmanager
def figures_for_width(inches: float) -> Iterator[None]:
    """Draw the figures made inside this block for a medium ``inches`` wide (panels re-flow into
    fewer columns rather than shrinking their text).

    >>> with figures_for_width(PDF_WIDTH_IN):
    ...     round(float(new_figure(12.0, 3.0).get_size_inches()[0]), 2), panel_grid(4, 4.5)
    (7.09, (4, 1))
    """
    token = _WIDTH.set(inches)
    try:
        yield
    finally:
        _WIDTH.reset(token)


def new_figure(width: float, height: float) -> Figure:
    """A pyplot-free ``Figure`` (no global state, no display) with constrained layout.

    The width is capped at :func:`shown_width` so the report never shrinks the text.
    """
    from matplotlib.figure import Figure

    return Figure(figsize=(min(width, shown_width()), height), layout="constrained")


def panel_grid(n: int, panel_width: float, extra: float = 1.0) -> tuple[int, int]:
    """``(rows, columns)`` for ``n`` panels of ``panel_width`` inches that fit :func:`shown_width`.

    >>> panel_grid(4, 4.5)
    (2, 2)
    """
    columns = max(1, min(n, int((shown_width() - extra) // panel_width)))
    return -(-n // columns), columns


def shown_scale(fig: Figure) -> float:
    """How much the report scales ``fig`` down: shown width / figure width (1.0 = not shrunk)."""
    width = float(fig.get_size_inches()[0])
    return min(1.0, shown_width() / width) if width > 0 else 1.0


def text_sizes(fig: Figure) -> list[tuple[str, float]]:
    """Every visible, non-empty text of ``fig`` with its font size in points as shown in the report.

    >>> fig = empty_figure("t", "nothing")
    >>> min(size for _, size in text_sizes(fig)) >= MIN_SHOWN_PT
    True
    """
    from matplotlib.text import Text

    fig.draw_without_rendering()  # tick labels get their text (and exist) only when laid out
    scale = shown_scale(fig)
    return [(t.get_text(), float(t.get_fontsize()) * scale) for t in fig.findobj(Text)
            if t.get_visible() and t.get_text().strip() and _in_visible_axes(t)]


def _in_visible_axes(text: Any) -> bool:
    axes = getattr(text, "axes", None)
    return axes is None or axes.get_visible()


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
