"""The noise margin of the mixture LP (tokbench.attacks.mixture.lp, ``margin_counts``).

The margin LP is only worth having if what row generation returns is its optimum: these tests
build the *whole* LP (every step against every pair any sample holds) and solve it in one go.
"""

from __future__ import annotations

import numpy as np
import pytest

from tokbench.attacks.mixture import SCALE, TraceSet, infer_mixture, mse, solve_rows
from tokbench.attacks.mixture import _kernels as K
from tokbench.attacks.mixture.lp import margin_in_lp_units
from tokbench.errors import TokbenchError
from tokbench.trainers.bpe import train_bpe


def _all_rows(ts: TraceSet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every ``(t, p)`` with the per-category counts of ``p`` at step ``t``: a sweep that treats
    every pair as violating (step slack -1e12) and returns all of them."""
    pk = ts.pack()
    n = len(ts.categories)
    scale = np.full(n, 1.0 / n) * SCALE / pk.total_pairs
    out_t, out_p, _, out_c = K.sweep_kernel(pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc,
                                            pk.d_val, pk.merged_glob, scale, np.full(ts.n_steps, -1e12),
                                            np.zeros(pk.n_pairs), np.int64(pk.n_pairs), -np.inf,
                                            np.int64(ts.n_steps))
    keep = pk.merged_glob[out_t] >= 0  # steps no sample explains are not checked (lp.py)
    return out_t[keep], out_p[keep], out_c[keep]


def _full_lp_objective(ts: TraceSet, margin: float) -> float:
    pk = ts.pack()
    steps, pairs, counts = _all_rows(ts)
    coef = (counts - pk.merged[:, steps].T) * (SCALE / pk.total_pairs)[None, :] - margin
    return solve_rows(len(ts.categories), coef, steps, pairs)[3]


def _flores_traces(flores_dir, steps: int = 150) -> tuple[TraceSet, np.ndarray]:  # type: ignore[no-untyped-def]
    from tokbench.corpora import load_flores

    langs = "eng_Latn,fra_Latn,rus_Cyrl"
    dev = load_flores(langs, split="dev", flores_dir=flores_dir)
    weights = np.array([0.6, 0.3, 0.1])
    texts = [d for w, c in zip(weights, dev.category_names, strict=True) for d in dev.documents(c)[: int(900 * w)]]
    tok = train_bpe(texts, vocab_size=256 + steps, progress=False).tokenizer
    count = load_flores(langs, split="devtest", flores_dir=flores_dir).sample(max_bytes=25_000, seed=0)
    sizes = np.array([sum(len(d.encode()) for d in dev.documents(c)[: int(900 * w)])
                      for w, c in zip(weights, dev.category_names, strict=True)], float)
    return TraceSet.from_corpus(tok, count, n_steps=steps, use_cache=False), sizes / sizes.sum()


@pytest.mark.parametrize("margin_counts", [0.0, 2.0, 6.0])
def test_row_generation_reaches_the_whole_lps_optimum(flores_dir, margin_counts) -> None:  # type: ignore[no-untyped-def]
    ts, _ = _flores_traces(flores_dir)
    fit = infer_mixture(ts, margin_counts=margin_counts, stable_tol=None, gap_tol=None, tol=1e-6)
    assert fit.converged and fit.gap == 0.0
    assert fit.margin == pytest.approx(margin_in_lp_units(margin_counts, ts.pack()))
    whole = _full_lp_objective(ts, fit.margin)
    assert fit.objective == pytest.approx(whole, rel=1e-6, abs=1e-3)
    if margin_counts:
        # The margin forgives near-ties, so the optimum can only be lower than the paper's LP's.
        assert fit.objective < _full_lp_objective(ts, 0.0)


def test_margin_is_counted_in_occurrences_of_a_median_sample(flores_dir) -> None:  # type: ignore[no-untyped-def]
    ts, _ = _flores_traces(flores_dir, steps=40)
    pk = ts.pack()
    # One occurrence in the median category weighs SCALE / its pair total in the LP's units.
    assert margin_in_lp_units(1.0, pk) == pytest.approx(SCALE / np.median(pk.total_pairs))
    assert margin_in_lp_units(0.0, pk) == 0.0


def test_margin_keeps_the_proportions_and_proves_optimality_faster(flores_dir) -> None:  # type: ignore[no-untyped-def]
    ts, truth = _flores_traces(flores_dir, steps=400)
    paper = infer_mixture(ts, margin_counts=0.0, stable_tol=None, gap_tol=None)
    margin = infer_mixture(ts, margin_counts=4.0, stable_tol=None, gap_tol=None)
    assert paper.converged and margin.converged
    assert margin.n_rows < paper.n_rows
    assert np.abs(margin.proportions - paper.proportions).max() < 0.05
    assert mse(margin.proportions, truth) < 4 * mse(paper.proportions, truth) + 1e-4


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_margin_is_a_clear_error(flores_dir, bad) -> None:  # type: ignore[no-untyped-def]
    ts, _ = _flores_traces(flores_dir, steps=20)
    with pytest.raises(TokbenchError, match="margin_counts"):
        infer_mixture(ts, margin_counts=bad)
