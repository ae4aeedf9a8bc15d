"""The audit's (analysis, tokenizer) steps through the executor, and the word-level metrics'
parallel counting (issue 16, items 2 and 3).

An audit of two real shared tokenizers on a small FLORES corpus gives the same parts, skips,
failures and cache hits with ``jobs=1`` (this process), ``jobs=2`` (loky worker processes) and
on a real two-worker Dask ``LocalCluster``; a step that fails in a worker is a failed item and
the others survive; a cached step is never recomputed (its adapter is swapped for a broken one
with the same cache key); the parallel word and letter counts equal the one-process counts on
real FLORES text.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pandas as pd
import pytest

from tokbench.audit import ANALYSES, Analysis, audit

CORPUS = "flores:eng_Latn,fra_Latn,rus_Cyrl,tha_Thai@dev"
FAST = ["compression", "premiums"]  # a few seconds per tokenizer; coverage and mergefree take longer
#: no progress bar; no related-pairs comparison (it runs in this process whatever the jobs)
QUIET = {"progress": False, "compare_related": False}


@pytest.fixture(scope="module")
def toks(shared_data):
    return [str(shared_data / "tokenizers" / "gpt2"), str(shared_data / "tokenizers" / "r50k_base.tiktoken")]


@pytest.fixture(scope="module")
def serial(toks):
    return audit(toks, corpus=CORPUS, analyses=FAST, n_bootstrap=20, **QUIET, jobs=1)


def _assert_same(a, b) -> None:
    """Same parts (frames exact, signature, notes) in the same order, same skips and failures."""
    assert a.analyses == b.analyses
    assert a.skipped == b.skipped and a.failures == b.failures and a.cache_hits == b.cache_hits
    for name in a.parts:
        assert list(a.parts[name]) == list(b.parts[name]), name
        for tok, part in a.parts[name].items():
            other = b.parts[name][tok]
            assert list(part.frames) == list(other.frames)
            for frame in part.frames:
                pd.testing.assert_frame_equal(part.frames[frame], other.frames[frame], check_exact=True)
            assert part.signature == other.signature and part.notes == other.notes


def test_two_worker_processes_give_the_serial_parts(toks, serial):
    assert serial.ok and not serial.skipped
    assert set(serial.parts["compression"]) == {"gpt2", "r50k_base"}
    rows = serial.parts["compression"]["gpt2"].frames["compression"]
    assert set(rows["category"]) == {"eng_Latn", "fra_Latn", "rus_Cyrl", "tha_Thai"} and (rows["ctc"] > 0).all()
    parallel = audit(toks, corpus=CORPUS, analyses=FAST, n_bootstrap=20, **QUIET, jobs=2)
    _assert_same(serial, parallel)


def test_a_step_failing_in_a_worker_is_a_failed_item(toks, serial, monkeypatch):
    broken = Analysis("broken", "Broken", "An adapter that does not exist.", "tokbench.audit.analyses:no_such_adapter")
    monkeypatch.setitem(ANALYSES, "broken", broken)
    res = audit(toks, corpus=CORPUS, analyses=[*FAST, "broken"], n_bootstrap=20, **QUIET, jobs=2)
    assert [item for item, _ in res.failures] == ["broken on gpt2", "broken on r50k_base"]
    assert all("AttributeError" in why and "no_such_adapter" in why for _, why in res.failures)
    for name in FAST:  # the other steps all survived, unchanged
        for tok, part in serial.parts[name].items():
            pd.testing.assert_frame_equal(part.frames[name], res.parts[name][tok].frames[name], check_exact=True)


@pytest.mark.parametrize("jobs", [2])
def test_a_cache_hit_is_not_recomputed(toks, tmp_path, monkeypatch, jobs):
    first = audit(toks, corpus=CORPUS, analyses=["compression"], **QUIET, jobs=jobs, cache_dir=tmp_path)
    assert first.ok and first.cache_hits == 0
    # Same name, options and budget (so the same cache key), but an adapter that cannot run: a
    # recomputed step would be a failed item.
    monkeypatch.setitem(ANALYSES, "compression", replace(ANALYSES["compression"], adapter="tokbench.audit.analyses:gone"))
    again = audit(toks, corpus=CORPUS, analyses=["compression"], **QUIET, jobs=jobs, cache_dir=tmp_path)
    assert again.ok and again.cache_hits == 2
    for tok, part in first.parts["compression"].items():
        pd.testing.assert_frame_equal(part.frames["compression"], again.parts["compression"][tok].frames["compression"])
    # a new tokenizer name is a new key: computed (and here failing), the cached one still hits
    moved = audit([toks[0]], corpus=CORPUS + "?max_bytes=50k", analyses=["compression"], **QUIET,
                  jobs=jobs, cache_dir=tmp_path)
    assert moved.cache_hits == 0 and [item for item, _ in moved.failures] == ["compression on gpt2"]


def test_in_memory_tokenizers_and_corpora_run_here(shared_data, toks, serial):
    from tokbench.corpora import load_corpus
    from tokbench.formats import load_tokenizer

    objects = [load_tokenizer(toks[0]), toks[1]]  # one object (this process), one path (a worker)
    mixed = audit(objects, corpus=CORPUS, analyses=FAST, n_bootstrap=20, **QUIET, jobs=2)
    _assert_same(serial, mixed)
    in_memory = audit(toks, corpus=load_corpus(CORPUS), analyses=["compression"], **QUIET, jobs=2)
    assert in_memory.ok and set(in_memory.parts["compression"]) == set(serial.parts["compression"])
    for tok, part in serial.parts["compression"].items():
        pd.testing.assert_frame_equal(part.frames["compression"], in_memory.parts["compression"][tok].frames["compression"])


def test_bad_jobs_is_a_clear_error(toks):
    from tokbench.errors import TokbenchError

    with pytest.raises(TokbenchError, match="positive number"):
        audit(toks, corpus=CORPUS, analyses=["compression"], **QUIET, jobs=0)


def test_a_dask_cluster_gives_the_serial_parts(toks, serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as cluster:
        on_cluster = audit(toks, corpus=CORPUS, analyses=FAST, n_bootstrap=20, **QUIET,
                           scheduler=cluster.scheduler_address)
        with distributed.Client(cluster, set_as_default=False) as client:
            pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids
    _assert_same(serial, on_cluster)


# ----------------------------------------------------------------------------- word counting


@pytest.fixture(scope="module")
def flores_text(shared_data):
    from tokbench.corpora import load_corpus

    return load_corpus("flores:eng_Latn,deu_Latn,rus_Cyrl,tha_Thai,zho_Hans@dev")


def test_parallel_word_and_letter_counts_equal_one_process(flores_text):
    from tokbench.metrics.compression import count_by_category, word_counts
    from tokbench.metrics.coverage import language_alphabets, letter_counts

    for counter in (word_counts, letter_counts):
        serial = list(count_by_category(flores_text, counter))
        # small chunks: every category is cut into several worker tasks whose tables are added
        parallel = list(count_by_category(flores_text, counter, jobs=2, chunk_chars=20_000, min_bytes=0))
        assert [c for c, _ in serial] == flores_text.category_names == [c for c, _ in parallel]
        for (_, one), (_, many) in zip(serial, parallel, strict=True):
            assert list(one.items()) == list(many.items())  # same counts, same first-seen order
        # and the counts are those of the text itself
        text = flores_text.text("deu_Latn", " ")
        table = dict(parallel)["deu_Latn"]
        if counter is word_counts:
            assert sum(table.values()) == len(text.split()) and table["die"] == text.split().count("die") > 10
        else:
            assert table["ß"] == text.count("ß") > 0 and table["e"] == text.lower().count("e")
            import unicodedata
            from collections import Counter

            # counted in C and filtered per distinct character: the per-character definition
            assert list(table.items()) == list(Counter(
                c for c in flores_text.text("deu_Latn", "").lower() if unicodedata.category(c)[0] in "LM").items())
    assert language_alphabets(flores_text, jobs=2) == language_alphabets(flores_text)


def test_compression_counts_words_in_workers_with_the_same_rows(flores_text, toks, monkeypatch):
    from tokbench.formats import load_tokenizer
    from tokbench.metrics import compression as module

    tok = load_tokenizer(toks[0])
    serial = module.compression(tok, flores_text).to_frame()
    monkeypatch.setattr(module, "PARALLEL_MIN_BYTES", 0)  # this corpus is small: count it in workers anyway
    monkeypatch.setattr(module, "COUNT_CHUNK_CHARS", 20_000)
    parallel = module.compression(tok, flores_text, jobs=2).to_frame()
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    assert serial["continued_words"].notna().sum() == 3 and (serial["words"] > 0).all()


# ----------------------------------------------------------------------------- where steps run


def pid_part(tok, corpus, options):
    """An adapter saying which process ran it (workers import this module by name)."""
    from tokbench.audit import PartResult
    from tokbench.results import Signature

    frame = pd.DataFrame([{"tokenizer": tok.name, "pid": os.getpid(), "documents": corpus.n_documents()}])
    return PartResult({"pid": frame}, Signature(tokenizers={tok.name: tok.fingerprint}), ())


def die_in_a_worker(tok, corpus, options):
    """Kill the worker process running it (no clean-up, like an out-of-memory kill) for one
    tokenizer; a normal part for the other."""
    if tok.name == "gpt2" and os.getpid() != options["parent"]:
        os._exit(1)
    return pid_part(tok, corpus, options)


def test_steps_run_in_worker_processes(toks, monkeypatch):
    monkeypatch.setitem(ANALYSES, "pid", Analysis("pid", "Pid", "Which process ran the step.",
                                                  f"{__name__}:pid_part"))
    res = audit(toks, corpus=CORPUS, analyses=["pid"], **QUIET, jobs=2)
    pids = {int(part.frames["pid"]["pid"].iloc[0]) for part in res.parts["pid"].values()}
    assert res.ok and pids and os.getpid() not in pids
    from tokbench.corpora import load_corpus

    # each worker loaded the corpus from its spec: the same documents as here
    n_documents = load_corpus(CORPUS).n_documents()
    assert {int(p.frames["pid"]["documents"].iloc[0]) for p in res.parts["pid"].values()} == {n_documents}
    here = audit(toks, corpus=CORPUS, analyses=["pid"], **QUIET, jobs=1)
    assert {int(part.frames["pid"]["pid"].iloc[0]) for part in here.parts["pid"].values()} == {os.getpid()}


@pytest.mark.slow  # each crash restarts the worker pool: about 30 s here
def test_a_dead_worker_fails_only_its_step(toks, serial, monkeypatch):
    monkeypatch.setitem(ANALYSES, "die", Analysis("die", "Die", "Kills its worker for gpt2.",
                                                  f"{__name__}:die_in_a_worker", budget={"parent": os.getpid()}))
    died = audit(toks, corpus=CORPUS, analyses=["die", "compression"], **QUIET, jobs=2)
    assert [item for item, _ in died.failures] == ["die on gpt2"]
    assert "worker process stopped" in died.failures[0][1]
    assert set(died.parts["die"]) == {"r50k_base"} and set(died.parts["compression"]) == {"gpt2", "r50k_base"}
    for tok, part in serial.parts["compression"].items():
        pd.testing.assert_frame_equal(part.frames["compression"], died.parts["compression"][tok].frames["compression"])


def sleep_in_a_worker(tok, corpus, options):
    """Say it started (a file), then take a minute: long enough to be interrupted."""
    import time
    from pathlib import Path

    Path(options["marker"], f"{tok.name}.{os.getpid()}").touch()
    time.sleep(60)
    return pid_part(tok, corpus, options)


@pytest.mark.slow  # starts a Python process and its two workers: about 20 s on a busy 2-core machine
def test_ctrl_c_stops_a_parallel_audit_and_its_workers(toks, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    child = (
        "import signal, sys\n"
        # a background launch hands children SIGINT ignored: restore Python's handler
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from tokbench.audit import ANALYSES, Analysis, audit\n"
        f"ANALYSES['sleep'] = Analysis('sleep', 'S', 'x', '{__name__}:sleep_in_a_worker', "
        f"budget={{'marker': {str(tmp_path)!r}}})\n"
        "try:\n"
        f"    audit({toks!r}, corpus='sample:eng_Latn', analyses=['sleep'], progress=False, "
        "compare_related=False, jobs=2)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", child])
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        workers = [int(p.suffix[1:]) for p in tmp_path.iterdir()]
        assert len(workers) == 2 and proc.pid not in workers  # both steps are running, in workers
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130  # stopped at once, not after the minute-long steps
    finally:
        proc.kill()
    time.sleep(2)
    for pid in workers:  # and the workers did not outlive it
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
