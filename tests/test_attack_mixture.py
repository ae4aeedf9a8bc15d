"""Data-mixture inference: merge lists, pair-count traces (kernel vs twin), the LP (HiGHS vs PuLP),
row generation, recovery on controlled mixtures, errors, and the CLI."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokbench.attacks.mixture import TraceSet, infer_mixture, mse, run_mixture_attack, solve_rows
from tokbench.attacks.mixture._reference import trace_reference
from tokbench.attacks.mixture.merges import MergeList, extract_merges
from tokbench.attacks.mixture.traces import (
    PairTrace,
    WordTable,
    pair_key,
    trace_category,
    trace_words,
)
from tokbench.corpora import Corpus
from tokbench.errors import TokbenchError, UnknownNameError, UnsupportedTokenizerError
from tokbench.trainers.bpe import train_bpe


def _ml(merges: list[tuple[int, int, int]]) -> MergeList:
    a, b, c = (np.asarray(x, np.int64) for x in zip(*merges, strict=True))
    return MergeList(a, b, c, "toy", "0" * 64)


def _table(words: list[list[int]], counts: np.ndarray) -> WordTable:
    lengths = np.array([len(w) for w in words], np.int64)
    syms = np.array([s for w in words for s in w], np.int64)
    counts = np.asarray(counts, np.int64).reshape(len(words), -1)
    return WordTable(syms, lengths, counts, np.ones(counts.shape[1], np.int64))


def _assert_twin(words, counts, merges) -> PairTrace:  # type: ignore[no-untyped-def]
    tr = trace_words(_table(words, counts), _ml(merges))
    counts = np.asarray(counts).reshape(len(words), -1)
    for r in range(counts.shape[1]):
        ref = trace_reference(words, counts[:, r].tolist(), merges)
        assert tr.merged[:, r].tolist() == ref["merged"]
        assert {k: v for k, v in zip(tr.init_keys.tolist(), tr.init_vals[:, r].tolist(), strict=True) if v} == ref["init"]
        for t, expected in enumerate(ref["deltas"]):
            lo, hi = tr.d_off[t], tr.d_off[t + 1]
            got = {k: v for k, v in zip(tr.d_keys[lo:hi].tolist(), tr.d_vals[lo:hi, r].tolist(), strict=True) if v}
            assert got == expected, t
    return tr


# ----------------------------------------------------------------------------------- traces


def test_trace_overlapping_runs_and_reconstruction() -> None:
    # "aaaa" with merge a+a: non-overlapping left to right, as BPE does.
    words = [[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0]]
    merges = [(0, 0, 5), (0, 1, 6), (5, 5, 7), (6, 6, 8)]
    tr = _assert_twin(words, [3, 2, 1], merges)
    assert tr.merged[:, 0].tolist() == [3 * 3 + 1, 2 * 2, 3, 2]
    # Any pair's count at any step is recoverable from the sparse deltas.
    assert tr.pair_count(pair_key(1, 0), 0) == 2 + 1
    assert tr.pair_count(pair_key(1, 0), 1) == 2 + 0  # "1 0 0" -> "1 5"
    assert tr.pair_count(pair_key(1, 5), 1) == 1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=8), min_size=1, max_size=6),
       st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=6),
       st.integers(1, 2))
def test_trace_kernel_matches_twin(words, pairs, reps) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(len(words))
    merges = [(a, b, 10 + k) for k, (a, b) in enumerate(pairs)]
    _assert_twin(words, rng.integers(1, 5, size=(len(words), reps)), merges)


def test_trace_on_real_tokenizers(tokenizer_dir, flores_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tokbench.corpora import load_flores
    from tokbench.formats import load_tokenizer

    docs = load_flores("fra_Latn", split="dev", flores_dir=flores_dir).documents("fra_Latn")[:40]
    for name in ("gpt2", "mistral_v1.model", "llama_tokenizer.json"):
        tok = load_tokenizer(tokenizer_dir / name)
        ml = extract_merges(tok).head(300)
        tr = trace_category(tok, docs, ml, replicates=1, seed=1, cache_dir=tmp_path)
        again = trace_category(tok, docs, ml, replicates=1, seed=1, cache_dir=tmp_path)  # from cache
        assert np.array_equal(tr.merged, again.merged)
        assert tr.merged[:, 0].max() > 0
        # The count of the merged pair equals what the tokenizer's own encoding implies: after all
        # 300 merges, total symbols = initial symbols - sum of merged counts.
        from tokbench.attacks.mixture.traces import word_table

        table = word_table(tok, docs)
        n_sym = int((table.lengths * table.counts[:, 0]).sum())
        out = trace_words(table, ml)
        assert n_sym - int(out.merged[:, 0].sum()) > 0
    assert len(list(tmp_path.glob("*.npz"))) == 3


# ----------------------------------------------------------------------------------- merges


def test_extract_merges_formats_skip_and_dedupe(tokenizer_dir) -> None:  # type: ignore[no-untyped-def]
    from tokbench.formats import load_tokenizer

    gpt2 = extract_merges(load_tokenizer(tokenizer_dir / "gpt2"))
    r50k = extract_merges(load_tokenizer(tokenizer_dir / "r50k_base.tiktoken"))
    assert len(gpt2) == len(r50k) == 50000 and gpt2.redundant == 0
    assert np.array_equal(gpt2.left, r50k.left) and np.array_equal(gpt2.result, r50k.result)
    llama = extract_merges(load_tokenizer(tokenizer_dir / "llama_tokenizer.json"))
    assert llama.redundant > 20000 and len(set(llama.result.tolist())) == len(llama)
    neox_tok = load_tokenizer(tokenizer_dir / "gpt-neox_tokenizer.json")
    neox = extract_merges(neox_tok, skip="auto")
    first = neox_tok.vocab[int(neox.left[0])] + neox_tok.vocab[int(neox.right[0])]
    assert neox.skipped >= 1 and first.strip()
    assert len(extract_merges(neox_tok, skip=5)) == len(extract_merges(neox_tok)) - 5
    with pytest.raises(UnsupportedTokenizerError):
        extract_merges(load_tokenizer(tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json"))
    with pytest.raises(TokbenchError, match="only 50000"):
        gpt2.head(50001)
    with pytest.raises(TokbenchError):
        extract_merges(load_tokenizer(tokenizer_dir / "gpt2"), skip=-1)


# ----------------------------------------------------------------------------------- the LP


def _toy_traceset(seed: int = 0) -> tuple[TraceSet, np.ndarray]:
    """Three synthetic "languages" over disjoint-ish alphabets; a tokenizer trained on a known mix."""
    tok, corpus, truth = _toy_parts(seed)
    return TraceSet.from_corpus(tok, corpus, n_steps=60, use_cache=False), truth


def _toy_parts(seed: int = 0):  # type: ignore[no-untyped-def]
    """The toy's tokenizer, corpus and true byte proportions."""
    rng = np.random.default_rng(seed)
    alphabets = ["abcdefgh", "efghijkl", "mnopqrst"]
    cats: dict[str, list[str]] = {}
    for k, alpha in enumerate(alphabets):
        probs = rng.dirichlet(np.ones(len(alpha)) * 0.5)
        words = ["".join(rng.choice(list(alpha), size=rng.integers(2, 6), p=probs)) for _ in range(60)]
        wp = rng.dirichlet(np.ones(60))
        cats[f"c{k}"] = [" ".join(rng.choice(words, size=30, p=wp)) for _ in range(80)]
    truth = np.array([0.6, 0.3, 0.1])
    texts = []
    for (_, docs), w in zip(cats.items(), truth, strict=True):
        texts += docs * int(round(w * 10))
    tok = train_bpe(texts, vocab_size=256 + 60, progress=False).tokenizer
    corpus = Corpus("toy", cats)
    real = np.array([corpus.n_bytes(c) * w * 10 for c, w in zip(cats, truth, strict=True)])
    return tok, corpus, real / real.sum()


def test_infer_recovers_known_mixture_and_solvers_agree() -> None:
    ts, truth = _toy_traceset()
    # The paper's LP: the toy counts the text it was trained on, so every α of a small polytope
    # is optimal; the noise margin widens it (the default fit still recovers the mixture).
    assert mse(infer_mixture(ts).proportions, truth) < 1e-3
    fit = infer_mixture(ts, margin_counts=0.0)
    assert fit.converged
    assert mse(fit.proportions, truth) < 1e-3
    pulp_fit = infer_mixture(ts, solver="pulp", margin_counts=0.0)
    assert pulp_fit.converged
    assert abs(pulp_fit.objective - fit.objective) < 1e-4 * max(1.0, fit.objective)
    assert np.allclose(pulp_fit.proportions, fit.proportions, atol=2e-3)


def test_solve_rows_highs_equals_pulp() -> None:
    rng = np.random.default_rng(3)
    coef = rng.normal(size=(40, 4)) * 100
    rows_t = rng.integers(0, 10, 40)
    rows_p = rng.integers(0, 15, 40)
    a1, _, _, o1 = solve_rows(4, coef, rows_t, rows_p, solver="highs")
    a2, _, _, o2 = solve_rows(4, coef, rows_t, rows_p, solver="pulp")
    assert abs(o1 - o2) < 1e-5 * max(1.0, abs(o1))
    # α may be non-unique at the optimum; both must lie on the simplex.
    assert a1.sum() == pytest.approx(1.0) and a2.sum() == pytest.approx(1.0) and (a1 >= 0).all() and (a2 >= 0).all()
    with pytest.raises(UnknownNameError):
        solve_rows(4, coef, rows_t, rows_p, solver="gurobi")


def test_no_violated_rows_at_solution() -> None:
    from tokbench.attacks.mixture import SCALE
    from tokbench.attacks.mixture import _kernels as K

    ts, _ = _toy_traceset(1)
    fit = infer_mixture(ts, k_add=1, start_steps=10, tol=1e-6)
    pk = ts.pack()
    # Re-sweep with the final α and huge step slack: nothing may be violated any more.
    assert fit.converged and fit.n_rows > 0 and fit.max_violation <= 1e-6
    out = K.sweep_kernel(pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc, pk.d_val,
                         pk.merged_glob, fit.alpha * SCALE / pk.total_pairs, np.full(ts.n_steps, 1e12),
                         np.zeros(pk.n_pairs), np.int64(4), 1e-5, np.int64(ts.n_steps))
    assert len(out[0]) == 0
    # The curriculum, row caps and purging change the path, not the optimum.
    plain = infer_mixture(ts, k_add=8, start_steps=None, purge=False, max_add=None, tol=1e-6)
    capped = infer_mixture(ts, k_add=1, max_add=3, tol=1e-6)
    assert plain.converged and capped.converged
    assert abs(plain.objective - fit.objective) <= 1e-6 * max(1.0, fit.objective)
    assert abs(capped.objective - fit.objective) <= 1e-6 * max(1.0, fit.objective)


def test_sweep_finds_the_most_violated_pair_exactly() -> None:
    from tokbench.attacks.mixture import SCALE
    from tokbench.attacks.mixture import _kernels as K

    ts, _ = _toy_traceset(2)
    pk = ts.pack()
    scale = np.full(len(ts.categories), 1.0 / len(ts.categories)) * SCALE / pk.total_pairs
    rng = np.random.default_rng(0)
    vp = rng.uniform(0, 2000, pk.n_pairs)
    vt = np.zeros(ts.n_steps)
    out_t, out_p, out_v, _ = K.sweep_kernel(pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off,
                                            pk.d_loc, pk.d_val, pk.merged_glob, scale, vt, vp, np.int64(1),
                                            1e-9, np.int64(ts.n_steps))
    # Brute force over all pairs at every step with the slow per-pair count.
    got = dict(zip(out_t.tolist(), zip(out_p.tolist(), out_v.tolist(), strict=True), strict=True))
    for t in range(0, ts.n_steps, 7):
        w = np.zeros(pk.n_pairs)
        for g in range(pk.n_pairs):
            key = int(ts._keys[g])
            w[g] = sum(scale[i] * tr.pair_count(key, t) for i, tr in enumerate(ts.traces))
        m = pk.merged_glob[t]
        viol = w - vp - (w[m] if m >= 0 else 0.0)
        if m >= 0:
            viol[m] = -np.inf
        if viol.max() > 1e-6:
            assert got[t][1] == pytest.approx(viol.max(), rel=1e-9, abs=1e-6)
        else:
            assert t not in got


def test_caps_report_the_remaining_violation() -> None:
    ts, _ = _toy_traceset(1)
    fit = infer_mixture(ts, max_iter=1, start_steps=None, tol=1e-6)
    assert not fit.converged and fit.iterations == 1
    assert fit.max_violation > 1e-6 and fit.violated_steps > 0
    assert infer_mixture(ts, time_limit=0.0, start_steps=5, tol=1e-6).violated_steps > 0
    assert fit.stop_reason == "max_iter"


def test_stability_stop_brackets_the_optimum(flores_dir) -> None:  # type: ignore[no-untyped-def]
    from tokbench.corpora import load_flores

    # Real text: train on FLORES dev in known proportions, count on devtest. The samples differ,
    # so the LP's optimum has positive slack and generation takes many sweeps.
    langs = "eng_Latn,fra_Latn,deu_Latn,rus_Cyrl"
    dev = load_flores(langs, split="dev", flores_dir=flores_dir)
    texts = [d for k, c in enumerate(dev.category_names) for d in dev.documents(c)[: 100 * (k + 1)]]
    tok = train_bpe(texts, vocab_size=256 + 400, progress=False).tokenizer
    count = load_flores(langs, split="devtest", flores_dir=flores_dir).sample(max_bytes=40_000, seed=0)
    ts = TraceSet.from_corpus(tok, count, n_steps=400, use_cache=False)
    exact = infer_mixture(ts, start_steps=None, stable_tol=None, gap_tol=None)
    assert exact.converged and exact.stop_reason == "converged" and exact.gap == 0.0 and exact.objective > 0
    early = infer_mixture(ts, start_steps=None, stable_tol=0.5, patience=1, gap_tol=None)
    capped = infer_mixture(ts, start_steps=None, max_iter=2, stable_tol=None, gap_tol=None)
    near = infer_mixture(ts, start_steps=None, stable_tol=None, gap_tol=0.2)
    assert early.stop_reason == "stable" and capped.stop_reason == "max_iter" and near.stop_reason == "gap"
    assert near.upper_bound - near.objective <= 0.2 * near.upper_bound
    for fit in (early, capped, near):
        assert not fit.converged and fit.iterations < exact.iterations
        # The restricted LP bounds the optimum from below, the repaired solution from above.
        assert fit.objective <= exact.objective * (1 + 1e-9) <= fit.upper_bound
        assert 0.0 < fit.gap <= 1.0
        assert len(fit.history) == fit.iterations
    assert capped.history[-1]["upper_bound"] == pytest.approx(capped.upper_bound)


def test_errors() -> None:
    ts, _ = _toy_traceset()
    with pytest.raises(UnknownNameError):
        infer_mixture(ts, solver="nope")
    with pytest.raises(TokbenchError, match="replicate"):
        infer_mixture(ts, replicate=3)
    empty = PairTrace(np.zeros(0, np.int64), np.zeros((0, 1), np.int64), np.zeros((60, 1), np.int64),
                      np.zeros(61, np.int64), np.zeros(0, np.int64), np.zeros((0, 1), np.int64), np.ones(1, np.int64))
    with pytest.raises(TokbenchError, match="no adjacent symbol pairs"):
        TraceSet(["x", "y"], [ts.traces[0], empty], ts.merges)
    with pytest.raises(TokbenchError, match="only 60"):
        ts.merges.head(61)
    with pytest.raises(TokbenchError, match="at least one category"):
        TraceSet([], [], ts.merges)


def test_bootstrap_intervals_and_frame() -> None:
    rng = np.random.default_rng(0)
    cats = {"a": [" ".join(rng.choice(["ab", "abc", "ba"], 20)) for _ in range(40)],
            "b": [" ".join(rng.choice(["xy", "xyz", "zy"], 20)) for _ in range(40)]}
    corpus = Corpus("toy2", cats)
    tok = train_bpe(cats["a"] * 3 + cats["b"], vocab_size=256 + 12, progress=False).tokenizer
    res = run_mixture_attack(tok, corpus, n_steps=12, bootstrap=5, seed=0, use_cache=False)
    iv = res.intervals()
    assert res.replicates.shape == (5, 2) and res.replicates_converged == 5
    # Centred intervals always hold the point estimate, whatever the replicates' offset.
    assert np.all(iv[:, 0] <= res.fit.proportions + 1e-12) and np.all(res.fit.proportions <= iv[:, 1] + 1e-12)
    assert np.allclose(res.replicate_shift, res.replicates.mean(axis=0) - res.fit.proportions)
    g = res.grouped(top=1)
    assert list(g["group"]) == ["English", "code", "a", "other"]  # no English/code categories here
    assert g["proportion"].sum() == pytest.approx(1.0) and g.loc[2, "ci_low"] == pytest.approx(iv[0, 0])
    frame = res.to_frame()
    assert list(frame["category"])[0] == "a" and frame["proportion"].sum() == pytest.approx(1.0)
    assert "mixture" in res.signature.to_dict()["extra"]["attack"]
    assert {"ci_low", "ci_high", "converged", "max_violation", "reliable", "caution"} <= set(frame.columns)
    # Intervals exist here, so (and only so) the figure's axis promises them.
    from tokbench.reports.mixture_figures import mixture_groups_figure, mixture_proportions_figure

    assert "95% interval" in mixture_proportions_figure(frame).axes[0].get_xlabel()
    assert "95% interval" in mixture_groups_figure(g).get_supxlabel()


def test_audit_runs_the_mixture_analysis(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import tokbench
    from tokbench.audit import available_analyses

    assert "mixture" in available_analyses()
    rng = np.random.default_rng(0)
    cats = {"a": [" ".join(rng.choice(["ab", "abc", "ba"], 20)) for _ in range(40)],
            "b": [" ".join(rng.choice(["xy", "xyz", "zy"], 20)) for _ in range(40)]}
    tok = train_bpe(cats["a"] * 3 + cats["b"], vocab_size=256 + 12, progress=False).tokenizer
    res = tokbench.audit([tok], corpus=Corpus("toy2", cats), analyses=["mixture"], progress=False)
    assert not res.failures, res.failures
    frame = res.to_frames()["mixture"]
    assert {"tokenizer", "category", "proportion", "ci_low", "ci_high"} <= set(frame.columns)
    assert frame.iloc[0]["category"] == "a" and frame["proportion"].sum() == pytest.approx(1.0)
    assert res.report() is not None


def test_cli_attack_mixture(tmp_path, tokenizer_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    import argparse

    from tokbench.cli import attack

    parser = argparse.ArgumentParser()
    attack.add_arguments(parser)
    args = parser.parse_args(["mixture", str(tokenizer_dir / "gpt2"), "--categories", "sample:eng_Latn,python",
                              "--steps", "200", "--out", str(tmp_path), "--no-cache"])
    assert attack.run(args) == 0
    out = capsys.readouterr().out
    assert "English" in out and (tmp_path / "mixture.csv").exists() and (tmp_path / "mixture.png").exists()
    assert (tmp_path / "mixture_groups.png").exists()


@pytest.mark.slow
def test_controlled_lang5_small(shared_data) -> None:  # type: ignore[no-untyped-def]
    from tokbench.experiments.mixture_controlled import run_controlled, summarise

    frame = run_controlled("lang5", trials=2, n_steps=500, seed=0)
    s = summarise(frame)
    assert (s["attack_mean"] < s["random_mean"]).all()


def test_half_sample_replicates_have_no_duplicates() -> None:
    docs = [f"doc{i} " + "ab " * (i + 1) for i in range(11)]
    tok = train_bpe(docs, vocab_size=256 + 4, progress=False).tokenizer
    from tokbench.attacks.mixture.traces import word_table

    table = word_table(tok, docs, replicates=3, seed=0)
    full = sum(len(d.encode()) for d in docs)
    assert table.n_bytes[0] == full
    # Each replicate is 5 of the 11 documents, each at most once: bytes are a sum of 5 distinct docs.
    sizes = sorted(len(d.encode()) for d in docs)
    for r in (1, 2, 3):
        assert sum(sizes[:5]) <= table.n_bytes[r] <= sum(sizes[-5:])
    assert len({int(b) for b in table.n_bytes[1:]}) > 1  # seeded, but different halves
    with pytest.raises(TokbenchError, match="at least 2 documents"):
        word_table(tok, docs[:1], replicates=2)


def test_extrapolated_categories_are_flagged() -> None:
    from tokbench.attacks.mixture import MixtureFit

    # Llama-like: zho has 0.18 mergeable pairs per byte against ~0.8 for Latin-script languages.
    fit = MixtureFit(["eng", "deu", "fra", "zho", "tha"], np.full(5, 0.2), np.array([0.4, 0.15, 0.14, 0.3, 0.01]),
                     0.0, 1, 0, True, pairs_per_byte=np.array([0.8, 0.75, 0.7, 0.18, 0.1]))
    assert fit.extrapolated() == ["zho"]  # tha is as sparse, but its share is negligible
    assert fit.extrapolated(min_share=0.0) == ["zho", "tha"]
    ts, _ = _toy_traceset()
    real = infer_mixture(ts)
    assert real.pairs_per_byte.shape == (3,) and (real.pairs_per_byte > 0).all()


# ------------------------------------------------------------------------ cache and results


def _same_trace(a: PairTrace, b: PairTrace) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a.to_arrays().values(), b.to_arrays().values(), strict=True))


def _stored_key(entry) -> str:  # type: ignore[no-untyped-def]
    """The full key a cache entry was stored under (its file name is only a prefix of it)."""
    with np.load(entry) as data:
        return bytes(data["__key__"]).decode("ascii")


def test_damaged_trace_cache_entries_are_recomputed(tokenizer_dir, flores_dir, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tokbench.attacks.mixture.traces as traces_module
    from tokbench.cache import Record
    from tokbench.corpora import load_flores
    from tokbench.formats import load_tokenizer

    docs = load_flores("fra_Latn", split="dev", flores_dir=flores_dir).documents("fra_Latn")[:30]
    tok = load_tokenizer(tokenizer_dir / "gpt2")
    ml = extract_merges(tok).head(200)
    fresh = trace_category(tok, docs, ml, replicates=2, seed=3, use_cache=False)
    assert _same_trace(trace_category(tok, docs, ml, replicates=2, seed=3, cache_dir=tmp_path), fresh)
    (entry,) = tmp_path.glob("*.npz")  # a given cache_dir holds the entries themselves
    valid, key = entry.read_bytes(), _stored_key(entry)
    cache = traces_module.trace_cache(tmp_path)
    damages = {
        "truncated": lambda: entry.write_bytes(valid[: len(valid) // 2]),
        "garbage": lambda: entry.write_bytes(b"not an npz file" * 50),
        "empty": lambda: entry.write_bytes(b""),
        "missing arrays": lambda: cache.store(key, Record(meta={}, arrays={"merged": fresh.merged})),
        "wrong shapes": lambda: cache.store(key, Record(meta={}, arrays={**fresh.to_arrays(), "d_off": fresh.d_off[:-1]})),
    }
    for name, damage in damages.items():
        damage()
        assert _same_trace(trace_category(tok, docs, ml, replicates=2, seed=3, cache_dir=tmp_path), fresh), name
        stored = cache.load(key)  # overwritten with the recomputed trace
        assert stored is not None and _same_trace(PairTrace(**stored.arrays), fresh), name
    # A whole entry is read, not recomputed.
    with monkeypatch.context() as patch:
        patch.setattr(traces_module, "word_table", lambda *a, **k: pytest.fail("recomputed a valid entry"))
        assert _same_trace(trace_category(tok, docs, ml, replicates=2, seed=3, cache_dir=tmp_path), fresh)
    # Without cache_dir, entries go to $TOKBENCH_CACHE/traces.
    monkeypatch.setenv("TOKBENCH_CACHE", str(tmp_path / "env"))
    trace_category(tok, docs, ml, replicates=2, seed=3)
    assert [p.name for p in (tmp_path / "env" / "traces").glob("*.npz")] == [entry.name]


def test_results_follow_the_result_protocol() -> None:
    from tokbench.attacks.mixture import SOLVERS
    from tokbench.results import Result

    assert SOLVERS.names() == ["highs", "pulp"] and callable(SOLVERS.get("pulp"))
    rng = np.random.default_rng(0)
    cats = {"a": [" ".join(rng.choice(["ab", "abc", "ba"], 20)) for _ in range(40)],
            "b": [" ".join(rng.choice(["xy", "xyz", "zy"], 20)) for _ in range(40)]}
    tok = train_bpe(cats["a"] * 3 + cats["b"], vocab_size=256 + 12, progress=False).tokenizer
    done = run_mixture_attack(tok, Corpus("toy2", cats), n_steps=12, bootstrap=2, use_cache=False)
    capped = run_mixture_attack(tok, Corpus("toy2", cats), n_steps=12, bootstrap=2, use_cache=False,
                                max_iter=1, start_steps=None, tol=1e-9)
    for res in (done, capped):
        assert isinstance(res, Result) and isinstance(res.fit, Result)
        assert res.signature.tokenizers == {tok.name: tok.fingerprint} == res.fit.signature.tokenizers
        assert list(res.fit.to_frame()["category"]) == ["a", "b"]
    # Two candidates: the only caution of a finished fit is that shares are among them alone.
    assert done.fit.notes == [] and done.notes == [n for n in done.notes if n.startswith("shares are among these 2")]
    assert len(done.notes) == 1 and done.reliable and not capped.reliable
    assert not capped.fit.converged and "iteration cap" in capped.notes[0]
    assert any("2 of 2 resampling replicates" in note for note in capped.notes)
    # Extrapolated shares are cautions too.
    fit = _fit_with_a_sparse_category()
    assert len(fit.notes) == 1 and fit.notes[0].startswith("zho has 0.18 mergeable pairs per byte")


def _fit_with_a_sparse_category():  # type: ignore[no-untyped-def]
    from tokbench.attacks.mixture import MixtureFit

    return MixtureFit(["eng", "deu", "fra", "zho"], np.full(4, 0.25), np.array([0.4, 0.15, 0.15, 0.3]),
                      0.0, 1, 0, True, pairs_per_byte=np.array([0.8, 0.75, 0.7, 0.18]))


# ------------------------------------------------------------------- unreliable fits and cautions


def _texts(fig) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.get_text() for ax in fig.axes for t in ax.texts + [ax.title]]


def test_capped_real_fit_is_marked_unreliable_and_drawn_as_such(tokenizer_dir, flores_dir) -> None:  # type: ignore[no-untyped-def]
    from tokbench.attacks.mixture.result import FEW_CATEGORIES
    from tokbench.corpora import load_flores
    from tokbench.formats import load_tokenizer
    from tokbench.reports.mixture_figures import mixture_groups_figure, mixture_proportions_figure

    tok = load_tokenizer(tokenizer_dir / "gpt2")
    corpus = load_flores("eng_Latn,fra_Latn,rus_Cyrl", flores_dir=flores_dir).sample(max_bytes=15_000, seed=0)
    capped = run_mixture_attack(tok, corpus, n_steps=300, use_cache=False, max_iter=1, start_steps=None, tol=1e-9)
    assert capped.fit.stop_reason == "max_iter" and not capped.reliable
    assert capped.unreliable_reason.startswith("stopped at max_iter")
    frame = capped.to_frame()
    assert not frame["reliable"].any() and (frame["unreliable_reason"] == capped.unreliable_reason).all()
    assert any(n.startswith("UNRELIABLE fit (stopped at max_iter") for n in capped.notes)
    assert len(capped.categories) < FEW_CATEGORIES
    assert any(n.startswith("shares are among these 3 categories only") for n in capped.notes)
    # The figures draw it hatched and grey with its reason, and promise no intervals (none exist).
    fig = mixture_proportions_figure(frame)
    assert f"unreliable: {capped.unreliable_reason}" in _texts(fig)
    bars = [p for p in fig.axes[0].patches if p.get_width() > 0]
    assert bars and all(p.get_hatch() == "///" for p in bars)
    assert "interval" not in fig.axes[0].get_xlabel()
    groups = mixture_groups_figure(capped.grouped())
    assert any(f"unreliable: {capped.unreliable_reason}" in t for t in _texts(groups))
    assert "interval" not in groups.get_supxlabel()
    # The same data solved to the end is a result: no marking, ordinary colours.
    done = run_mixture_attack(tok, corpus, n_steps=300, use_cache=False)
    assert done.reliable and done.to_frame()["reliable"].all()
    assert not any("UNRELIABLE" in n for n in done.notes)
    assert not any(p.get_hatch() for p in mixture_proportions_figure(done.to_frame()).axes[0].patches)


def test_gap_above_the_threshold_is_unreliable() -> None:
    from dataclasses import replace

    from tokbench.attacks.mixture.result import MAX_RELIABLE_GAP, MixtureResult

    ts, _ = _toy_traceset()
    fit = infer_mixture(ts)

    def stopped_stable(gap: float) -> MixtureResult:
        # A "stable" stop is not a cap: only its gap decides.
        f = replace(fit, converged=False, stop_reason="stable", objective=1.0, upper_bound=1.0 / (1.0 - gap))
        return MixtureResult("toy", "0" * 64, f, ts.n_steps, np.zeros((0, 3)), ts.corpus, {})

    wide, narrow = stopped_stable(4 * MAX_RELIABLE_GAP), stopped_stable(MAX_RELIABLE_GAP / 5)
    assert wide.fit.gap > MAX_RELIABLE_GAP >= narrow.fit.gap
    assert not wide.reliable and wide.unreliable_reason == f"gap {wide.fit.gap:.2g} > {MAX_RELIABLE_GAP}"
    assert narrow.reliable and narrow.unreliable_reason == ""


def _mistral_six(tokenizer_dir, flores_dir, max_bytes, steps):  # type: ignore[no-untyped-def]
    from tokbench.corpora import load_flores
    from tokbench.formats import load_tokenizer

    tok = load_tokenizer(tokenizer_dir / "mistral_v1.model")
    corpus = load_flores("eng_Latn,fra_Latn,rus_Cyrl,zho_Hans,jpn_Jpan,tha_Thai", flores_dir=flores_dir)
    if max_bytes:
        corpus = corpus.sample(max_bytes=max_bytes, seed=0)
    # The paper's LP (no noise margin), where Chinese soaks up weight: the case the caution rule
    # is for. (With the default margin this sample gives zho_Hans no share at all.)
    return run_mixture_attack(tok, corpus, n_steps=steps, use_cache=False, time_limit=120.0, margin_counts=0.0,
                              stable_tol=1e-3)


def _assert_inflated_share_is_cautioned(res) -> None:  # type: ignore[no-untyped-def]
    from tokbench.attacks.mixture.result import INFLATED_RATIO, INFLATED_SHARE

    fit = res.fit
    ppb = dict(zip(fit.categories, fit.pairs_per_byte, strict=True))
    share = fit.as_dict()
    median = float(np.median(fit.pairs_per_byte))
    # The case: Chinese has far fewer pairs per byte than the median and a large share,
    # which the 0.4 x median rule of MixtureFit.extrapolated does not catch.
    assert "zho_Hans" not in fit.extrapolated()
    assert ppb["zho_Hans"] < INFLATED_RATIO * median and share["zho_Hans"] >= INFLATED_SHARE
    assert "zho_Hans" in res.inflated()
    frame = res.to_frame().set_index("category")
    assert bool(frame.loc["zho_Hans", "caution"]) and not frame.loc["eng_Latn", "caution"]
    assert any(n.startswith("zho_Hans's") and "may be inflated" in n for n in res.notes)
    # The rule flags exactly the large shares below the ratio.
    expected = [c for c in fit.categories if ppb[c] < INFLATED_RATIO * median and share[c] >= INFLATED_SHARE]
    assert res.inflated() == expected


def test_inflated_share_caution_on_real_mistral_traces(tokenizer_dir, flores_dir) -> None:  # type: ignore[no-untyped-def]
    _assert_inflated_share_is_cautioned(_mistral_six(tokenizer_dir, flores_dir, 15_000, 300))


@pytest.mark.slow
def test_inflated_share_caution_mistral_six_languages_at_audit_budget(tokenizer_dir, flores_dir) -> None:  # type: ignore[no-untyped-def]
    from tokbench.audit.registry import ANALYSES

    res = _mistral_six(tokenizer_dir, flores_dir, None, ANALYSES["mixture"].budget["steps"])
    assert res.reliable
    _assert_inflated_share_is_cautioned(res)


def test_steps_no_sample_explains_are_not_checked() -> None:
    """Leave out the category that made some merges: their merged pairs occur in no sample. Those
    steps are skipped (as the reference implementation does), so the fit is the fit without
    them; checked, they only add slack that moving weight around can ease."""
    tok, full, _ = _toy_parts()
    corpus = full.subset(["c0", "c1"])
    both = TraceSet.from_corpus(tok, corpus, n_steps=60, use_cache=False)
    unseen = both.pack().merged_glob < 0
    assert unseen.any() and not unseen.all()
    ml = both.merges
    keep = np.flatnonzero(~unseen)
    seen_only = MergeList(ml.left[keep], ml.right[keep], ml.result[keep], ml.tokenizer, ml.fingerprint)
    fewer = TraceSet.from_corpus(tok, corpus, n_steps=len(keep), merges=seen_only, use_cache=False)
    skipped, reference = infer_mixture(both), infer_mixture(fewer)
    assert skipped.skipped_steps == int(unseen.sum()) and reference.skipped_steps == 0
    assert skipped.objective == pytest.approx(reference.objective, rel=1e-6, abs=1e-6)
    assert np.allclose(skipped.proportions, reference.proportions, atol=1e-6)
    checked = infer_mixture(both, skip_unseen=False)
    assert checked.skipped_steps == 0 and checked.objective > skipped.objective
