"""The Dask ``distributed`` back end of the executor (issue 16, items 3 and 4) on a real cluster:
two worker processes on 127.0.0.1, started once for the module.

A tiny controlled-mixture grid and a tiny optimal-vocabulary grid on real FLORES and code data
give the same frames on the cluster as in this process; a task's error comes back as its own
exception; a worker that dies mid-task is replaced and the task retried; ``$TOKBENCH_SCHEDULER``
is honoured; a bad address fails at once with a one-line :class:`TokbenchError`.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from tokbench import executor
from tokbench.corpora import Corpus, load_flores
from tokbench.errors import TokbenchError

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

# The helper tasks below travel by value, so the workers need not import this test module.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

LANGS = "eng_Latn,rus_Cyrl,tha_Thai"


def _pid(_: object) -> int:
    return os.getpid()


def _die_once(marker: str) -> int:
    """Kill this worker process the first time (no clean-up, like an OOM kill); then succeed."""
    path = Path(marker)
    if not path.exists():
        path.write_text(str(os.getpid()))
        os._exit(1)
    return os.getpid()


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster, set_as_default=False) as c:
        yield c


def _worker_pids(client) -> set[int]:
    return set(client.run(os.getpid).values())


def test_controlled_grid_on_the_cluster_equals_the_serial_run(shared_data, cluster):
    from tokbench.experiments.mixture_controlled import run_controlled

    args = dict(trials=2, n_steps=[200], count_bytes=[20_000], seed=3, baselines=True)
    serial = run_controlled("lang5", **args, jobs=1)
    dask = run_controlled("lang5", **args, scheduler=cluster.scheduler_address)  # by address
    timing = ["lp_seconds"]  # wall-clock time of each LP solve: the one column that may differ
    pd.testing.assert_frame_equal(serial.to_frame().drop(columns=timing),
                                  dask.to_frame().drop(columns=timing), check_exact=True)
    assert len(serial.to_frame()) == 2 and serial.to_frame()["attack"].notna().all()
    assert serial.signature == dask.signature and serial.notes == dask.notes


def test_optimal_vocab_grid_on_the_cluster_equals_the_serial_run(flores_dir, client):
    from tokbench.experiments.optimal_vocab import optimal_vocab

    dev, devtest = load_flores(LANGS, split="dev"), load_flores(LANGS, split="devtest")
    train = Corpus(dev.name + "[:200]", {c: d[:200] for c, d in dev})
    evals = Corpus(devtest.name + "[:100]", {c: d[:100] for c, d in devtest})
    args = dict(grid=[300, 400, 500], unreachable="flag")
    serial = optimal_vocab(train, evals, **args, jobs=1)
    dask = optimal_vocab(train, evals, **args, scheduler=client)  # by Client object, left open
    frames = serial.frames()
    assert len(frames["grid"] if "grid" in frames else serial.to_frame()) == 9
    for (name, left), right in zip(frames.items(), dask.frames().values(), strict=True):
        pd.testing.assert_frame_equal(left, right, check_exact=True, obj=name)
    assert serial.signature == dask.signature and serial.notes == dask.notes
    assert client.status == "running"


def test_tasks_run_on_the_workers_in_task_order(client):
    pids = executor.map(_pid, range(6), scheduler=client)
    assert len(pids) == 6 and set(pids) <= _worker_pids(client) and os.getpid() not in pids
    assert executor.map(abs, [-3, 1, -2, 0], scheduler=client) == [abs(v) for v in [-3, 1, -2, 0]]


def test_a_failing_task_raises_its_own_exception(shared_data, client):
    from tokbench.experiments.mixture_controlled import Trial, run_trial_task

    bad = Trial("flores:xxx_Nope", 100, None, 0)
    with pytest.raises(Exception) as here:
        run_trial_task(bad)
    with pytest.raises(type(here.value)) as there:
        executor.map(run_trial_task, [bad], scheduler=client)
    assert str(there.value) == str(here.value)
    with pytest.raises(ValueError, match="invalid literal"):
        executor.map(int, ["1", "x", "3"], scheduler=client)


def test_a_task_whose_worker_dies_is_retried(client, tmp_path):
    marker = tmp_path / "died"
    before = _worker_pids(client)
    [pid] = executor.map(_die_once, [str(marker)], scheduler=client)
    died = int(marker.read_text())  # the first attempt ran on a worker, and killed it
    assert died in before and pid != died
    client.wait_for_workers(2, timeout=30)  # its nanny starts a new one (the next tests want two)
    assert died not in _worker_pids(client) and pid in _worker_pids(client)


def test_the_scheduler_environment_variable_is_honoured(cluster, client, monkeypatch):
    monkeypatch.setenv("TOKBENCH_SCHEDULER", cluster.scheduler_address)
    backend = executor.get_backend(1)
    assert isinstance(backend, executor.DaskBackend) and backend.scheduler == cluster.scheduler_address
    pids = executor.map(_pid, range(4), jobs=1)
    assert set(pids) <= _worker_pids(client) and os.getpid() not in pids
    monkeypatch.delenv("TOKBENCH_SCHEDULER")
    assert isinstance(executor.get_backend(1), executor.SerialBackend)
    assert executor.map(_pid, range(2), jobs=1) == [os.getpid()] * 2


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:1", "no-port-here", "tcp://127.0.0.1:notaport"])
def test_a_bad_address_fails_fast_with_a_one_line_error(address, monkeypatch):
    monkeypatch.setattr(executor, "CONNECT_TIMEOUT", 3.0)
    start = time.perf_counter()
    with pytest.raises(TokbenchError) as err:
        executor.map(abs, [1, -1], scheduler=address)
    assert time.perf_counter() - start < 5
    message = str(err.value)
    assert "\n" not in message and address in message and "TOKBENCH_SCHEDULER" in message


def test_the_cli_takes_a_scheduler_and_reports_a_bad_one_in_one_line(shared_data, capsys):
    from tokbench.cli.main import main

    code = main(["attack", "controlled", "--setting", "lang5", "--trials", "1", "--steps", "100",
                 "--count-bytes", "20000", "--no-baselines", "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and "tcp://127.0.0.1:1" in err
