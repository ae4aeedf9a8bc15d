"""Figures are legible at the size the report shows them (issue 13, item 3).

Every check works on the figure objects of a real audit (gpt2 + mistral on the built-in samples):
no text smaller than 8 pt as shown, one x scale across panels of one measure, each premiums
panel sorted by its own values, clipped merge-free outliers labelled, a heatmap whose small
(non-Latin) shares are coloured and whose colourbar label fits on the figure.
"""

from __future__ import annotations

import math

import pytest

from tokbench.reports import style

CORPUS = "sample:eng_Latn,fra_Latn,rus_Cyrl,hin_Deva,arb_Arab,zho_Hans,python"
NOT_CHECKED: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def audited(tokenizer_dir):
    from tokbench.audit import audit

    toks = [tokenizer_dir / "gpt2", tokenizer_dir / "mistral_v1.model"]
    analyses = ["coverage", "compression", "premiums", "mergefree"]
    return audit(toks, corpus=CORPUS, analyses=analyses, n_bootstrap=30, progress=False)


@pytest.fixture(scope="module")
def figures(audited):
    report = audited.report()
    items = [f for s in report.sections for f in s.figures]
    assert items, "the audit report has no figures"
    return items


def _figure(figures, caption_start: str):
    found = [f.figure for f in figures if f.caption.startswith(caption_start)]
    assert found, f"no figure captioned {caption_start!r}: {[f.caption for f in figures]}"
    return found[0]


def _panels(fig):
    """The data axes of ``fig`` (visible, not colourbars)."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]


def test_every_text_is_at_least_8_pt_as_shown(figures) -> None:
    small = []
    for item in figures:
        if item.caption.startswith(NOT_CHECKED):
            continue
        assert item.figure.get_size_inches()[0] <= style.SHOWN_WIDTH_IN + 1e-9
        small += [(item.caption[:30], text, round(size, 1)) for text, size in style.text_sizes(item.figure)
                  if size < style.MIN_SHOWN_PT]
    assert not small, small


def test_pdf_figures_are_drawn_for_the_page_and_keep_8_pt(audited) -> None:
    """The PDF draws its own figures for the A4 text width: none is wider (so none is shrunk on
    the page) and no text is under 8 pt there either; wide panel grids re-flow into one column."""
    report = audited.pdf_report()
    items = [f for s in report.sections for f in s.figures]
    assert items
    small = []
    with style.figures_for_width(style.PDF_WIDTH_IN):
        for item in items:
            assert item.figure.get_size_inches()[0] <= style.PDF_WIDTH_IN + 1e-9, item.caption
            assert style.shown_scale(item.figure) == 1.0
            small += [(item.caption[:30], text, round(size, 1)) for text, size in style.text_sizes(item.figure)
                      if size < style.MIN_SHOWN_PT]
    assert not small, small
    premiums = _figure(items, "Premium per language")
    assert len({round(ax.get_position().x0, 3) for ax in _panels(premiums)}) == 1  # one column of panels


def test_shown_scale_follows_the_html_width() -> None:
    from matplotlib.figure import Figure

    wide = Figure(figsize=(2 * style.SHOWN_WIDTH_IN, 3))
    wide.text(0.5, 0.5, "x", fontsize=10)
    assert style.shown_scale(wide) == pytest.approx(0.5)
    assert style.text_sizes(wide)[0][1] == pytest.approx(5.0)
    assert style.new_figure(40, 3).get_size_inches()[0] == pytest.approx(style.SHOWN_WIDTH_IN)


@pytest.mark.parametrize("caption", ["Premium per language", "Tokens per byte", "Tokens relative"])
def test_panels_of_one_measure_share_the_x_range(figures, caption) -> None:
    panels = _panels(_figure(figures, caption))
    assert len(panels) >= 2
    assert len({tuple(round(v, 9) for v in ax.get_xlim()) for ax in panels}) == 1


def test_each_premiums_panel_is_sorted_by_its_own_values(audited, figures) -> None:
    orders = []
    prem = audited.to_frames()["premiums"]
    item = next(f for f in figures if f.caption.startswith("Premium per language"))
    fig = item.figure
    method = item.caption.split("(")[1].split(" method")[0]  # "Premium per language (petrov method), …"
    part = prem[(prem["method"] == method) & prem["premium"].notna()]
    for ax in _panels(fig):
        rows = part[part["tokenizer"].map(lambda n: style.short_label(n, 40)) == ax.get_title()]
        expected = rows.sort_values("premium", ascending=False)["language"].map(style.short_label).tolist()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == expected[: len(labels)]
        orders.append(labels)
        bottom, top = ax.get_ylim()
        assert top < bottom  # the first label (most expensive) is drawn on top
        widths = [p.get_width() for p in ax.patches if not math.isnan(p.get_width())]
        assert widths == sorted(widths, reverse=True)
    assert len(orders) >= 2


def test_mergefree_outliers_are_clipped_and_labelled(audited) -> None:
    from tokbench.reports.figures import mergefree_figure

    mf = audited.to_frames()["mergefree"]
    # Make one real ratio an outlier far past the rest, as mya_Mymr is with damaged merges.
    damaged = mf[mf["variant"] != "standard"].index[0]
    mf.loc[damaged, "relative_to_standard"] = mf["relative_to_standard"].max() * 6
    fig = mergefree_figure(mf)
    panels = _panels(fig)
    high = panels[0].get_xlim()[1]
    assert high < mf.loc[damaged, "relative_to_standard"]
    texts = {t.get_text() for ax in panels for t in ax.texts}
    for value in mf.loc[mf["relative_to_standard"] > high, "relative_to_standard"]:
        assert f"{value:.1f}×" in texts


def test_script_heatmap_colours_small_shares_and_fits_its_colourbar_label(figures) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = _figure(figures, "Scripts of the alphabetic tokens")
    image = _panels(fig)[0].images[0]
    # A 1 % share must not be drawn near-white (a linear 0–100 norm gives 0.01).
    assert image.norm(1.0) > 0.15
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    bounds = fig.bbox
    bar = next(ax for ax in fig.axes if ax.get_label() == "<colorbar>")
    label = bar.yaxis.label.get_window_extent(renderer)
    assert bar.yaxis.label.get_text()
    assert bounds.x0 <= label.x0 and label.x1 <= bounds.x1 and bounds.y0 <= label.y0 and label.y1 <= bounds.y1
