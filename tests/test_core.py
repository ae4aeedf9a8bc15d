"""The core every layer shares: the cache (safe formats, damaged entries recomputed), the
executor (same results on every back end, per-task cache), the registry shape and the Result
protocol's Signature round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tokbench import executor
from tokbench.cache import Cache, Record
from tokbench.errors import UnknownNameError
from tokbench.registry import Registry
from tokbench.results import Result, Signature


def _sample_record() -> Record:
    frame = pd.DataFrame({"language": ["eng_Latn", "zho_Hans"], "tokens": [123, 456],
                          "share": [0.1 + 0.2, 1 / 3]})
    return Record(meta={"name": "x", "n": [1, 2]}, arrays={"counts": np.arange(5, dtype=np.int64)},
                  frames={"rows": frame})


def test_cache_round_trip_is_exact(tmp_path):
    cache = Cache(tmp_path, namespace="unit")
    key = cache.key({"what": "round trip"})
    record = _sample_record()
    cache.store(key, record)
    back = cache.load(key)
    assert back.meta == record.meta
    np.testing.assert_array_equal(back.arrays["counts"], record.arrays["counts"])
    pd.testing.assert_frame_equal(back.frames["rows"], record.frames["rows"])  # floats bit-exact


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty", "other_key", "object_array"])
def test_damaged_or_foreign_cache_entry_reads_as_missing(tmp_path, damage):
    cache = Cache(tmp_path, namespace="unit")
    key = cache.key({"what": damage})
    cache.store(key, _sample_record())
    path = cache.path(key)
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04\x95cos\nsystem\n(S'echo owned'\ntR.")  # a serialised-object payload
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "other_key":
        other = cache.key({"what": "something else"})
        cache.store(other, _sample_record())
        path.write_bytes(cache.path(other).read_bytes())
    elif damage == "object_array":
        np.savez(path, __meta__=np.array([{"a": 1}], dtype=object), __key__=np.frombuffer(key.encode(), np.uint8))
    assert cache.load(key) is None
    cache.store(key, _sample_record())  # recomputed and overwritten
    assert cache.load(key).meta == {"name": "x", "n": [1, 2]}


def test_cache_refuses_object_arrays_without_writing(tmp_path):
    cache = Cache(tmp_path, namespace="unit")
    key = cache.key("objects")
    with pytest.raises(TypeError, match="dtype object"):  # a programming error, said at once
        cache.store(key, Record(arrays={"bad": np.array([{"x": 1}], dtype=object)}))
    assert not cache.path(key).exists()


def _square_chars(text: str) -> int:
    return sum(ord(ch) for ch in text) ** 2 % 1_000_003


def test_executor_gives_identical_results_serial_and_in_processes(flores_dir):
    tasks = (flores_dir / "devtest" / "zho_Hans.devtest").read_text(encoding="utf-8").splitlines()[:24]
    serial = executor.map(_square_chars, tasks, jobs=1)
    parallel = executor.map(_square_chars, tasks, jobs=2)
    assert serial == parallel == [_square_chars(t) for t in tasks]


def test_executor_cache_skips_done_tasks_and_recomputes_damaged_ones(tmp_path):
    calls: list[str] = []

    def counted(text: str) -> int:
        calls.append(text)
        return _square_chars(text)

    task_cache = executor.TaskCache(
        Cache(tmp_path, namespace="squares"), describe=lambda t: {"text": t},
        encode=lambda r: Record(meta={"value": r}), decode=lambda rec: int(rec.meta["value"]))
    tasks = ["alpha", "beta", "gamma"]
    first = executor.map(counted, tasks, cache=task_cache, jobs=1)
    assert calls == tasks
    calls.clear()
    assert executor.map(counted, tasks, cache=task_cache, jobs=1) == first and calls == []
    task_cache.cache.path(task_cache.key("beta")).write_bytes(b"damaged")
    assert executor.map(counted, tasks, cache=task_cache, jobs=1) == first and calls == ["beta"]


def test_registry_lists_valid_names_and_imports_lazily():
    reg = Registry("demo thing", {"json": "json:dumps", "abs": "builtins:abs"}, aliases={"absolute": "abs"})
    assert reg.get("ABSOLUTE")(-2) == 2 and "json" in reg and "yaml" not in reg
    with pytest.raises(UnknownNameError, match="valid names: abs, json"):
        reg.get("yaml")
    with pytest.raises(ValueError):
        Registry("bad", {"x": "no-colon"})


def test_signature_round_trips_and_result_protocol_is_checkable():
    sig = Signature(tokenizers={"gpt2": "0" * 64}, corpus={"corpus": "flores:eng_Latn"}, seed=3,
                    options={"steps": 1000})
    assert Signature.from_dict(sig.to_dict() | {"future_field": 1}) == sig

    class Minimal:
        signature = sig
        notes: list[str] = []

        def to_frame(self) -> pd.DataFrame:
            return pd.DataFrame()

    assert isinstance(Minimal(), Result)
    assert not isinstance(object(), Result)
