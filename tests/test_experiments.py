"""Experiments as task grids (DESIGN.md "Scale-out"): the numbers do not depend on the number of
worker processes, a second run is read from the task cache, and a damaged cache entry is
recomputed. Tiny grids on real FLORES and code data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tokbench.cache import Cache
from tokbench.corpora import Corpus, load_flores
from tokbench.results import Result

LANGS = "eng_Latn,rus_Cyrl,tha_Thai"


@pytest.fixture(scope="module")
def flores_tiny(flores_dir):
    """200 dev lines to train, 100 devtest lines to evaluate, three scripts."""
    dev, devtest = load_flores(LANGS, split="dev"), load_flores(LANGS, split="devtest")
    return (Corpus(dev.name + "[:200]", {c: d[:200] for c, d in dev}),
            Corpus(devtest.name + "[:100]", {c: d[:100] for c, d in devtest}))


def _optimal_vocab(corpora, **kwargs):
    from tokbench.experiments.optimal_vocab import optimal_vocab

    train, evals = corpora
    return optimal_vocab(train, evals, grid=[300, 400, 500], unreachable="flag", **kwargs)


def _same_tables(a, b) -> None:
    for (name, left), right in zip(a.frames().items(), b.frames().values(), strict=True):
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=name)
    assert a.signature == b.signature and a.notes == b.notes


def _counting(monkeypatch, module, name: str) -> list[object]:
    """Replace ``module.name`` by a wrapper that records each task it runs (serial runs only)."""
    calls: list[object] = []
    original = getattr(module, name)

    def counted(task):  # type: ignore[no-untyped-def]
        calls.append(task)
        return original(task)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_optimal_vocab_is_the_same_with_one_or_two_workers(flores_tiny):
    serial = _optimal_vocab(flores_tiny, jobs=1)
    parallel = _optimal_vocab(flores_tiny, jobs=2)
    _same_tables(serial, parallel)
    assert isinstance(serial, Result) and len(serial.to_frame()) == 9


def test_optimal_vocab_reads_its_cache_and_recomputes_a_damaged_entry(flores_tiny, tmp_path, monkeypatch):
    from tokbench.experiments.optimal_vocab import experiment

    cache = Cache(tmp_path, namespace="optimal_vocab")
    trained = _counting(monkeypatch, experiment, "train_language")
    measured = _counting(monkeypatch, experiment, "measure_size")
    first = _optimal_vocab(flores_tiny, cache=cache)
    n_tasks = len(trained) + len(measured)
    assert len(trained) >= 3 and len(measured) >= 9
    entries = sorted(cache.folder.glob("*.npz"))
    assert len(entries) == n_tasks

    trained.clear(), measured.clear()
    second = _optimal_vocab(flores_tiny, cache=cache)
    assert trained == [] and measured == []  # every task came from the cache
    _same_tables(first, second)

    entries[0].write_bytes(entries[0].read_bytes()[: 100])  # a truncated file: damaged
    entries[1].write_bytes(b"not an npz file at all")
    third = _optimal_vocab(flores_tiny, cache=cache)
    assert len(trained) + len(measured) == 2  # only the damaged entries were recomputed
    _same_tables(first, third)
    assert np.load(entries[0]).files  # and rewritten whole


def test_trainers_comparison_is_a_result_and_independent_of_workers(flores_dir, code_dir, tmp_path, monkeypatch):
    from tokbench.experiments import trainers_comparison as tc

    args = dict(languages="eng_Latn,rus_Cyrl", code="python", trainers="bpe,char", vocab_sizes=[700, 1000])
    serial = tc.compare_trainers(**args, jobs=1)
    parallel = tc.compare_trainers(**args, jobs=2)
    assert serial.rows == parallel.rows and serial.signature == parallel.signature
    assert isinstance(serial, Result)
    frame = serial.to_frame()
    assert len(frame) == 2 * 2 * 3 and set(frame["trainer"]) == {"bpe", "char_bpe"}
    assert set(serial.signature.tokenizers) == {"bpe@700", "bpe@1000", "char_bpe@700", "char_bpe@1000"}

    cache = Cache(tmp_path, namespace="trainers_comparison")
    calls = _counting(monkeypatch, tc, "train_and_measure")
    tc.compare_trainers(**args, cache=cache)
    assert len(calls) == 4
    again = tc.compare_trainers(**args, cache=cache)
    assert len(calls) == 4 and again.rows == serial.rows


def test_controlled_trials_are_the_same_with_one_or_two_workers(shared_data):
    from tokbench.experiments.mixture_controlled import run_controlled, summarise

    args = dict(trials=2, n_steps=[200], count_bytes=[20_000], seed=3, baselines=True)
    serial = run_controlled("lang5", **args, jobs=1)
    parallel = run_controlled("lang5", **args, jobs=2)
    assert isinstance(serial, Result)
    timing = ["lp_seconds"]  # wall-clock time of each LP solve: the one column that may differ
    pd.testing.assert_frame_equal(serial.to_frame().drop(columns=timing),
                                  parallel.to_frame().drop(columns=timing), check_exact=True)
    assert list(serial.to_frame()["seed"]) == [3, 4]
    assert serial.signature == parallel.signature
    pd.testing.assert_frame_equal(summarise(serial), serial.summary())
