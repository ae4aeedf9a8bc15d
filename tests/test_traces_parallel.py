"""Per-category traces in worker processes and on a Dask cluster (issue 16, items 2 and 3).

Real FLORES categories under real shared tokenizers: traces computed by ``jobs=2`` local
processes, by a two-worker Dask ``LocalCluster`` (processes on 127.0.0.1) and by counting one
category in chunks over workers equal the one-process traces array for array; chunked word
counting equals one-shot counting, and the pieces counted are those of the reference
pretokenizer (HF ``tokenizers``' ByteLevel for GPT-2); workers write the trace cache and a cached
category is read, not recomputed.
"""

from __future__ import annotations

import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tokbench.attacks.mixture import TraceSet
from tokbench.attacks.mixture.parallel import category_refs, parallel_word_table
from tokbench.attacks.mixture.traces import word_table
from tokbench.corpora import Corpus, load_corpus, stream_corpus
from tokbench.errors import TokbenchError
from tokbench.formats import load_tokenizer

SPEC = "flores:eng_Latn,rus_Cyrl,tha_Thai"
STEPS = 400


@pytest.fixture(scope="module")
def gpt2(tokenizer_dir: Path):
    return load_tokenizer(tokenizer_dir / "gpt2")


@pytest.fixture(scope="module")
def corpus(flores_dir: Path) -> Corpus:
    return load_corpus(SPEC)


@pytest.fixture(scope="module")
def serial(gpt2, corpus) -> TraceSet:
    return TraceSet.from_corpus(gpt2, corpus, n_steps=STEPS, replicates=2, seed=4, use_cache=False)


def assert_same(a: TraceSet, b: TraceSet) -> None:
    assert a.categories == b.categories and a.corpus == b.corpus
    assert np.array_equal(a.merges.left, b.merges.left) and np.array_equal(a.merges.result, b.merges.result)
    for x, y in zip(a.traces, b.traces, strict=True):
        ax, ay = x.to_arrays(), y.to_arrays()
        assert ax.keys() == ay.keys()
        for name in ax:
            assert ax[name].dtype == ay[name].dtype and np.array_equal(ax[name], ay[name]), name


def test_two_processes_equal_one(gpt2, corpus, serial) -> None:
    by_corpus = TraceSet.from_corpus(gpt2, corpus, n_steps=STEPS, replicates=2, seed=4, use_cache=False, jobs=2)
    by_spec = TraceSet.from_corpus(gpt2, SPEC, n_steps=STEPS, replicates=2, seed=4, use_cache=False, jobs=2)
    assert_same(serial, by_corpus)
    assert_same(serial, by_spec)    # streamed by the workers from the spec: nothing held here
    assert serial.traces[0].n_replicates == 3 and serial.traces[0].merged[:, 0].sum() > 0


def test_counting_split_over_workers_equals_one_process(gpt2, corpus, serial) -> None:
    # Fewer categories (3) than jobs (4): each category's counting is split into chunks instead.
    chunked = TraceSet.from_corpus(gpt2, corpus, n_steps=STEPS, replicates=2, seed=4, use_cache=False, jobs=4)
    assert_same(serial, chunked)


def test_sentencepiece_style_and_sampled_corpus(tokenizer_dir: Path, corpus) -> None:
    tok = load_tokenizer(tokenizer_dir / "mistral_v1.model")
    sample = corpus.sample(max_bytes=60_000, seed=2)   # workers redraw the same in-memory sample
    one = TraceSet.from_corpus(tok, sample, n_steps=300, use_cache=False)
    two = TraceSet.from_corpus(tok, sample, n_steps=300, use_cache=False, jobs=2)
    assert_same(one, two)
    assert one.alphabet is not None and np.array_equal(one.alphabet.outside, two.alphabet.outside)


def test_chunked_word_counting_equals_one_shot_and_the_reference_pretokenizer(gpt2, corpus) -> None:
    from tokenizers import decoders, pre_tokenizers

    docs = corpus.documents("rus_Cyrl")
    one = word_table(gpt2, docs, replicates=3, seed=9, chunk_docs=len(docs))
    chunks = [word_table(gpt2, iter(docs), replicates=3, seed=9, n_docs=len(docs), chunk_docs=37),
              parallel_word_table(gpt2, docs, jobs=2, replicates=3, seed=9, chunk_docs=101)]
    for other in chunks:
        for name in ("syms", "lengths", "counts", "n_bytes"):
            assert np.array_equal(getattr(one, name), getattr(other, name)), name
    # Ground truth: HF tokenizers' GPT-2 pretokenizer gives the same pieces with the same counts.
    pre, dec = pre_tokenizers.ByteLevel(add_prefix_space=False), decoders.ByteLevel()
    expected = Counter(dec.decode([piece]) for d in docs for piece, _ in pre.pre_tokenize_str(d))
    ends = np.cumsum(one.lengths)
    found = {b"".join(gpt2.vocab[s] for s in one.syms[e - n:e]).decode("utf-8"): int(c)
             for e, n, c in zip(ends, one.lengths, one.counts[:, 0], strict=True)}
    assert found == dict(expected)
    assert one.n_bytes[0] == sum(len(d.encode()) for d in docs)
    assert (one.counts[:, 1:].sum(axis=0) < one.counts[:, 0].sum()).all()   # each replicate: a half


def test_workers_write_the_cache_and_a_cached_category_is_read(gpt2, corpus, serial, tmp_path: Path) -> None:
    first = TraceSet.from_corpus(gpt2, corpus, n_steps=STEPS, replicates=2, seed=4, cache_dir=tmp_path, jobs=2)
    entries = sorted(tmp_path.iterdir())
    assert len(entries) == 3
    stamps = [p.stat().st_mtime_ns for p in entries]
    again = TraceSet.from_corpus(gpt2, SPEC, n_steps=STEPS, replicates=2, seed=4, cache_dir=tmp_path, jobs=2)
    assert [p.stat().st_mtime_ns for p in sorted(tmp_path.iterdir())] == stamps   # read, not rewritten
    assert_same(serial, first)
    assert_same(serial, again)
    here = TraceSet.from_corpus(gpt2, corpus, n_steps=STEPS, replicates=2, seed=4, cache_dir=tmp_path)
    assert_same(serial, here)    # one process finds the workers' entries


def test_corpora_workers_cannot_reload(gpt2, corpus) -> None:
    edited = Corpus(corpus.name, {c: d[:50] for c, d in corpus})   # named by its spec, but not what it reads
    refs = category_refs(edited)
    assert isinstance(refs, list)
    with pytest.raises(TokbenchError, match="differs from the corpus given"):
        TraceSet.from_corpus(gpt2, edited, n_steps=100, use_cache=False, jobs=2)
    memory = Corpus("toy", {"a": corpus.documents("eng_Latn")[:40], "b": corpus.documents("tha_Thai")[:40]})
    assert isinstance(category_refs(memory), str)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        two = TraceSet.from_corpus(gpt2, memory, n_steps=100, use_cache=False, jobs=2)
    assert any("workers cannot reload" in str(w.message) for w in caught)
    assert_same(TraceSet.from_corpus(gpt2, memory, n_steps=100, use_cache=False), two)
    with pytest.raises(TokbenchError, match="jobs must be"):
        TraceSet.from_corpus(gpt2, memory, n_steps=100, use_cache=False, jobs=0)


def test_a_stream_is_reloadable_and_equals_its_corpus(corpus) -> None:
    refs = category_refs(stream_corpus(SPEC))
    assert [r.category for r in refs] == corpus.category_names and all(r.sha256 is None for r in refs)
    assert isinstance(category_refs(stream_corpus(corpus)), str)   # a wrapped in-memory corpus is not


def test_two_worker_dask_cluster_equals_one_process(gpt2, serial) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        on_cluster = TraceSet.from_corpus(gpt2, SPEC, n_steps=STEPS, replicates=2, seed=4, use_cache=False,
                                          scheduler=client)
        by_address = TraceSet.from_corpus(gpt2, SPEC, n_steps=STEPS, replicates=2, seed=4, use_cache=False,
                                          scheduler=cluster.scheduler_address)
        pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids   # two worker processes, not this one
    assert_same(serial, on_cluster)
    assert_same(serial, by_address)


def test_cli_attack_mixture_jobs_change_no_number(tokenizer_dir: Path, capsys) -> None:
    import argparse
    import io

    import pandas as pd

    from tokbench.cli import attack

    parser = argparse.ArgumentParser()
    attack.add_arguments(parser)
    frames = []
    for jobs in ("1", "2"):
        args = parser.parse_args(["mixture", str(tokenizer_dir / "gpt2"), "--categories", SPEC, "--steps", "200",
                                  "--no-cache", "--no-diagnostics", "--csv", "--jobs", jobs])
        assert args.jobs == int(jobs) and args.scheduler is None
        assert attack.run(args) == 0
        frames.append(pd.read_csv(io.StringIO(capsys.readouterr().out)))
    assert sorted(frames[0]["category"]) == ["eng_Latn", "rus_Cyrl", "tha_Thai"]
    assert abs(frames[0]["proportion"].sum() - 1) < 1e-6
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)


def test_a_tokenizer_in_memory_is_traced_here_with_a_warning(corpus) -> None:
    from tokbench.trainers.bpe import train_bpe

    docs = corpus.documents("eng_Latn")[:300]
    tok = train_bpe(docs, vocab_size=256 + 120, progress=False).tokenizer
    with pytest.warns(UserWarning, match="lives in memory only"):
        two = TraceSet.from_corpus(tok, load_corpus(SPEC), n_steps=100, use_cache=False, jobs=2)
    assert_same(TraceSet.from_corpus(tok, load_corpus(SPEC), n_steps=100, use_cache=False), two)
    assert two.n_steps == 100 and all(t.merged[:, 0].sum() > 0 for t in two.traces)
