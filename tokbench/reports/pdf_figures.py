"""A figure for the PDF: rasterised once, cut into page-high strips when it is taller than a page.

The PDF's figures are drawn for its A4 text width (:func:`tokbench.reports.style.figures_for_width`),
so they are never shrunk and their text keeps the size it was drawn at; a figure taller than a
page (premiums over many languages, one panel under another) is therefore continued on the next
page rather than scaled down to an unreadable size. Each cut is placed on the least-inked pixel
row near the bottom of the page, so it falls between bars and tick labels rather than through
them.

Example:
    >>> strips = figure_strips(fig, width_mm=180, max_height_mm=250)   # doctest: +SKIP
    >>> [round(h) for _, h in strips]                                   # doctest: +SKIP
    [250, 131]
"""

from __future__ import annotations

import io
from typing import Any

__all__ = ["figure_strips", "FIGURE_DPI"]

#: figures are rasterised at this resolution (crisp when printed, a few hundred KB each)
FIGURE_DPI = 200
#: a cut is looked for in the lowest part of each strip: this share of the page height
_CUT_WINDOW = 0.2


def _least_ink_row(ink: Any, low: int, high: int) -> int:
    """The row in ``[low, high)`` with the least ink, the lowest one on ties (fuller pages)."""
    window = ink[low:high]
    best = window.min()
    return low + int(max(i for i, v in enumerate(window) if v == best))


def figure_strips(fig: Any, *, width_mm: float, max_height_mm: float,
                  first_height_mm: float | None = None) -> list[tuple[bytes, float]]:
    """``fig`` as PNG strips ``width_mm`` wide (never wider than the figure is drawn), each at most
    ``max_height_mm`` high: ``[(png, height_mm), ...]``, one strip when the figure fits.

    ``first_height_mm`` is the room left on the current page: a tall figure starts there when
    that is at least a third of a page. The strips after the first share what is left evenly, so
    the figure never ends with a sliver of axis on a page of its own.
    """
    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, facecolor="white")
    image = Image.open(io.BytesIO(buffer.getvalue())).convert("L")
    width_mm = min(width_mm, float(fig.get_size_inches()[0]) * 25.4)  # drawn for the page: its own size
    mm_per_px = width_mm / image.width
    page_rows = max(1, int(max_height_mm / mm_per_px))
    if image.height <= page_rows:
        return [(buffer.getvalue(), image.height * mm_per_px)]
    first = int((first_height_mm or 0) / mm_per_px)
    ink = (255 - np.asarray(image, dtype=np.int32)).sum(axis=1)
    cuts, top = [0], 0
    if first >= page_rows / 3:
        top = _least_ink_row(ink, first - int(_CUT_WINDOW * first), first) + 1
        cuts.append(top)
    while image.height - top > page_rows:
        left = image.height - top
        target = -(-left // -(-left // page_rows))  # the rest in equal parts, each within a page
        top = _least_ink_row(ink, top + target - int(_CUT_WINDOW * target), top + target) + 1
        cuts.append(top)
    cuts.append(image.height)
    strips = []
    for upper, lower in zip(cuts, cuts[1:], strict=False):
        out = io.BytesIO()
        image.crop((0, upper, image.width, lower)).save(out, format="PNG", optimize=True)
        strips.append((out.getvalue(), (lower - upper) * mm_per_px))
    return strips
