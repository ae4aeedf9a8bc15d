"""Outputs and caches under failure (issue 14, defects 4-6): output paths checked before the work,
multi-file outputs all-or-nothing, SIGTERM cleaning up like SIGINT, pure CSV on stdout, caches
that never execute what they read, recompute damaged entries and treat an unwritable folder as
best effort, each with one warning.
"""

from __future__ import annotations

import io
import os
import pickle  # only to plant hostile cache entries that must never be loaded
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tokbench._io import atomic_write, check_output_file, check_output_folder, output_transaction
from tokbench.cache import Cache, CacheWarning, Record
from tokbench.cli.main import main
from tokbench.errors import OutputError

ROOT = Path(__file__).resolve().parents[1]


def cache_warnings(caught) -> list:  # type: ignore[no-untyped-def]
    return [w for w in caught if issubclass(w.category, CacheWarning)]


def run(capsys, *argv) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exit_:  # argparse refused a value
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- output paths


def test_output_paths_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a folder"):
        check_output_file(tmp_path / "dir", what="--out")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_file(tmp_path / "file" / "x.csv", what="--out")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file", what="--out")
    assert check_output_file(tmp_path / "new" / "x.csv") == tmp_path / "new" / "x.csv"
    assert not (tmp_path / "new").exists()  # checking creates nothing
    with pytest.raises(OutputError, match="is a folder"), atomic_write(tmp_path / "dir") as handle:
        handle.write("never")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]


def test_coverage_checks_out_before_the_work(capsys, monkeypatch, shared_data: Path, tmp_path: Path) -> None:
    import tokbench.metrics.coverage

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the analysis ran although --out could not be written")

    monkeypatch.setattr(tokbench.metrics.coverage, "coverage", never)
    code, out, err = run(capsys, "coverage", shared_data / "tokenizers" / "gpt2", "--csv", "--out", tmp_path)
    assert code == 2 and out == ""
    assert err.startswith("tokbench coverage: error: --out ") and "is a folder" in err
    assert len(err.splitlines()) == 1


# --------------------------------------------------------------------------- all-or-nothing


def test_a_transaction_writes_every_file_or_none(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("old")
    with pytest.raises(RuntimeError), output_transaction():
        with atomic_write(tmp_path / "keep.txt") as handle:
            handle.write("new")
        with atomic_write(tmp_path / "sub" / "deeper" / "b.txt") as handle:
            handle.write("b")
        raise RuntimeError("the second half failed")
    # the old file is untouched, nothing new remains, not even the folders made for it
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["keep.txt"]
    assert (tmp_path / "keep.txt").read_text() == "old"
    with output_transaction():
        for name in ("a.txt", "sub/b.txt"):
            with atomic_write(tmp_path / name) as handle:
                handle.write(name)
        assert not (tmp_path / "a.txt").exists()
    assert (tmp_path / "a.txt").read_text() == "a.txt" and (tmp_path / "sub/b.txt").read_text() == "sub/b.txt"
    assert not list(tmp_path.rglob("*.tmp"))


def test_train_with_a_bad_trace_path_writes_no_tokenizer(capsys, shared_data: Path, tmp_path: Path) -> None:
    (tmp_path / "tracedir").mkdir()
    code, _, err = run(capsys, "train", "--corpus", "sample:eng_Latn?max_bytes=3k", "--vocab-size", "400",
                       "-o", tmp_path / "x.json", "--trace", tmp_path / "tracedir", "--no-progress")
    assert code == 2 and "--trace" in err and "is a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracedir"]


def test_train_uses_the_max_token_length_given(capsys, tmp_path: Path) -> None:
    from tokbench.formats import load_tokenizer

    code, _, err = run(capsys, "train", "--trainer", "char", "--max-token-length", "0", "--corpus",
                       "sample:eng_Latn?max_bytes=3k", "--vocab-size", "400", "-o", tmp_path / "c.json")
    assert code == 2 and len(err.splitlines()) == 1 and "--max-token-length" in err and not (tmp_path / "c.json").exists()
    code, _, _ = run(capsys, "train", "--trainer", "char", "--max-token-length", "1", "--corpus",
                     "sample:eng_Latn?max_bytes=3k", "--vocab-size", "400", "--allow-smaller", "-o",
                     tmp_path / "c.json", "--no-progress")
    if code == 0:  # a cap of one character leaves nothing to merge: no token may be longer
        tok = load_tokenizer(tmp_path / "c.json")
        specials = set(tok.special_tokens.values())
        assert max(len(tok.token_bytes(i).decode("utf-8", "replace")) for i in range(tok.vocab_size)
                   if i not in specials) == 1


# --------------------------------------------------------------------------- signals


_WRITER = textwrap.dedent("""
    import signal, sys, time
    from tokbench._io import atomic_write, install_sigterm_cleanup
    # As in an interactive session: a runner started in the background without job control
    # (e.g. `cmd &` in a script) hands its children SIGINT ignored, and Python keeps it so.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    install_sigterm_cleanup()
    try:
        with atomic_write(sys.argv[1]) as handle:
            handle.write("half")
            handle.flush()
            print("writing", flush=True)
            time.sleep(60)
    except KeyboardInterrupt as err:
        print(type(err).__name__, flush=True)
        sys.exit(143)
""")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_write_leaves_no_temporary_file(tmp_path: Path, sig: int) -> None:
    target = tmp_path / "out.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target)], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline().strip() == "writing"
    assert len(list(tmp_path.glob(".out.csv.*.tmp"))) == 1  # the write really is under way
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert out.strip() == ("Terminated" if sig == signal.SIGTERM else "KeyboardInterrupt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_sigterm_stops_the_cli_cleanly(tmp_path: Path, shared_data: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOKBENCH_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "tokbench", "train", "--corpus", "flores:all@dev",
                             "--vocab-size", "20000", "-o", str(tmp_path / "t.json"), "--trace",
                             str(tmp_path / "t.csv"), "--no-progress"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(6)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert err.strip() == "tokbench train: terminated; no partial output was written"
    assert not [p for p in tmp_path.iterdir() if p.name != "cache"]


# --------------------------------------------------------------------------- stdout CSV


def test_mergefree_csv_on_stdout_is_pure(capsys, shared_data: Path) -> None:
    code, out, err = run(capsys, "mergefree", shared_data / "tokenizers" / "gpt2", "--corpus",
                         "sample:eng_Latn,python?max_bytes=2k", "--csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert frame.to_csv(index=False) == out
    assert set(frame["category"]) == {"eng_Latn", "python"}
    assert "# tok=gpt2@" in err  # the signature moved to stderr, not lost


# --------------------------------------------------------------------------- caches


class _Plant:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def test_a_planted_cache_entry_is_never_executed(tmp_path: Path) -> None:
    from tokbench.audit.cache import AuditCache
    from tokbench.audit.registry import ANALYSES

    marker = tmp_path / "PWNED"
    cache = Cache(tmp_path / "c", namespace="audit")
    keys = [cache.key({"k": k}) for k in range(3)]
    cache.folder.mkdir(parents=True)
    cache.path(keys[0]).write_bytes(pickle.dumps(_Plant(marker)))
    hostile = np.empty(1, dtype=object)
    hostile[0] = _Plant(marker)
    with open(cache.path(keys[1]), "wb") as handle:
        np.savez(handle, __meta__=hostile, __key__=hostile)
    assert not marker.exists()  # planting did not run it
    with pytest.warns(CacheWarning) as caught:
        assert cache.load(keys[0]) is None and cache.load(keys[1]) is None
        assert AuditCache(tmp_path / "c").load(ANALYSES.get("compression"), keys[1]) is None
    assert not marker.exists()
    assert len(cache_warnings(caught)) == 1  # one warning for the folder, however many entries are damaged


@pytest.fixture(scope="module")
def gpt2_merges(shared_data: Path):  # type: ignore[no-untyped-def]
    from tokbench.attacks.mixture.merges import extract_merges
    from tokbench.formats import load_tokenizer

    tok = load_tokenizer(shared_data / "tokenizers" / "gpt2")
    return tok, extract_merges(tok).head(200)


def test_a_truncated_trace_is_recomputed_with_one_warning(tmp_path: Path, gpt2_merges) -> None:  # type: ignore[no-untyped-def]
    from tokbench.attacks.mixture.traces import trace_category
    from tokbench.corpora import load_corpus

    tok, merges = gpt2_merges
    docs = load_corpus("sample:eng_Latn?max_bytes=3k").documents("eng_Latn")
    first = trace_category(tok, docs, merges, cache_dir=tmp_path / "traces")
    (entry,) = (tmp_path / "traces").glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:300])
    with pytest.warns(CacheWarning, match="recomputing") as caught:
        again = trace_category(tok, docs, merges, cache_dir=tmp_path / "traces")
    assert len(cache_warnings(caught)) == 1, [str(w.message) for w in caught]
    assert np.array_equal(first.merged, again.merged) and np.array_equal(first.d_vals, again.d_vals)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten entry reads back without a warning
        trace_category(tok, docs, merges, cache_dir=tmp_path / "traces")


def test_an_unwritable_cache_is_best_effort_for_the_attack_and_the_audit(tmp_path: Path, gpt2_merges) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    from tokbench.attacks.mixture.traces import trace_category
    from tokbench.audit.cache import AuditCache
    from tokbench.audit.registry import ANALYSES
    from tokbench.audit.result import PartResult
    from tokbench.results import Signature

    (tmp_path / "file").write_text("not a folder")
    tok, merges = gpt2_merges
    with pytest.warns(CacheWarning, match="cannot write the cache") as caught:
        trace = trace_category(tok, ["hello world, hello tokens"], merges, cache_dir=tmp_path / "file" / "traces")
        trace_category(tok, ["hello again"], merges, cache_dir=tmp_path / "file" / "traces")
    assert len(cache_warnings(caught)) == 1 and trace.merged.shape[0] == len(merges)
    audit_cache = AuditCache(tmp_path / "file" / "audit-root")
    part = PartResult({"t": pd.DataFrame({"a": [1]})}, Signature(tokenizers={"x": "0"}), ())
    with pytest.warns(CacheWarning, match="cannot write the cache"):
        audit_cache.store(ANALYSES.get("compression"), "0" * 64, part)
    assert not (tmp_path / "file").is_dir()


def test_the_cli_prints_a_cache_warning_on_one_line(capsys, tmp_path: Path, shared_data: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOKBENCH_CACHE", str(tmp_path / "file" / "cache"))
    (tmp_path / "file").write_text("x")
    code, out, err = run(capsys, "attack", "mixture", shared_data / "tokenizers" / "gpt2", "--categories",
                         "sample:eng_Latn,python?max_bytes=3k", "--steps", "100")
    assert code == 0 and "proportion" in out
    lines = [line for line in err.splitlines() if "warning" in line]
    assert len(lines) == 1 and lines[0].startswith("tokbench attack: warning: cannot write the cache")


# --------------------------------------------------------------------------- corpora


def test_hf_without_network_fails_fast_in_one_line(capsys, shared_data: Path, monkeypatch) -> None:
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    start = time.perf_counter()
    code, _, err = run(capsys, "mergefree", shared_data / "tokenizers" / "gpt2", "--corpus",
                       "hf:tokbench-no-such-user/no-such-dataset")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("tokbench mergefree: error: hf:tokbench-no-such-user/no-such-dataset")
    assert time.perf_counter() - start < 20  # 25 s of retries before


def test_identical_categories_are_found() -> None:
    from tokbench.corpora import Corpus, load_corpus

    corpus = load_corpus("a=sample:eng_Latn+b=sample:eng_Latn+sample:python")
    assert corpus.identical_categories() == [("a", "b")]
    assert Corpus("x", {"p": ["1"], "q": ["1", "2"]}).identical_categories() == []


def test_concurrent_writers_of_one_entry_leave_a_whole_entry(tmp_path: Path) -> None:
    """Threads storing and loading one key at once: every load is a whole entry or a miss, never
    a damaged one (atomic replace), and no temporary file remains."""
    from concurrent.futures import ThreadPoolExecutor

    cache = Cache(tmp_path, namespace="race")
    key = cache.key({"entry": 1})
    arrays = [np.arange(50_000) * k for k in range(1, 9)]

    def write_then_read(k: int) -> bool:
        cache.store(key, Record(meta={"k": k}, arrays={"a": arrays[k % 8]}))
        got = cache.load(key)
        return got is not None and np.array_equal(got.arrays["a"], arrays[got.meta["k"] % 8])

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)  # a damaged read would warn
        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(write_then_read, range(64)))
    assert [p.name for p in cache.folder.iterdir()] == [cache.path(key).name]
