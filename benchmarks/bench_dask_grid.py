"""An experiment grid on a local two-worker Dask cluster against the same grid in one process.

The grid is controlled mixture-inference trials (``lang5``, real FLORES data; each trial is one
task carrying its seed), run three ways: serially in this process, then twice on a
``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``. The first
("cold") cluster run includes each worker's imports, numba compilation and data loading; the
second ("warm") reuses them, as a long grid does. The serial run is timed after a one-trial
warm-up (imports, numba compilation), so "warm" is the fair comparison and "cold" shows what each
new worker pays once. The cluster's start-up is timed apart. Results must be identical (the LP's
timing column aside) before anything is reported. The overhead per tiny task is
``executor.map(abs, range(N))`` on the cluster against in-process, divided by ``N``.

Usage:
    python benchmarks/bench_dask_grid.py            # 16 trials at T = 500, under a minute on 2 cores
    python benchmarks/bench_dask_grid.py --quick    # 4 trials at T = 200
    python benchmarks/bench_dask_grid.py --trials 16 --out /tmp/dask_grid.csv

Results go to ``benchmarks/results/dask_grid.csv`` (written atomically), one row per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import time
from pathlib import Path

import pandas as pd

import tokbench
from tokbench import executor
from tokbench._io import shared_data_dir, write_csv_rows
from tokbench.experiments.mixture_controlled import run_controlled


def _grid(trials: int, steps: int, scheduler=None):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = run_controlled("lang5", trials=trials, n_steps=[steps], count_bytes=[50_000], jobs=1,
                            scheduler=scheduler)
    return time.perf_counter() - start, result.to_frame().drop(columns=["lp_seconds"])


def _tiny(n: int, scheduler=None) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    assert executor.map(abs, range(-n, 0), jobs=1, scheduler=scheduler) == list(range(n, 0, -1))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 trials at T = 200")
    parser.add_argument("--trials", type=int, default=None)
    parser.add_argument("--tiny", type=int, default=2000, help="tiny tasks for the overhead (default 2000)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/dask_grid.csv"))
    args = parser.parse_args()
    if shared_data_dir() is None:
        raise SystemExit("real data not found: set TOKBENCH_DATA")
    os.environ.pop("TOKBENCH_SCHEDULER", None)  # the serial run must be serial
    trials = args.trials or (4 if args.quick else 16)
    steps = 200 if args.quick else 500
    from distributed import Client, LocalCluster

    _grid(1, steps)  # imports and numba compilation out of the serial timing, as in warm workers
    serial_s, serial = _grid(trials, steps)
    tiny_serial = _tiny(args.tiny)
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster, set_as_default=False) as client:
        startup_s = time.perf_counter() - start
        cold_s, cold = _grid(trials, steps, client)
        warm_s, warm = _grid(trials, steps, client)
        tiny_dask = _tiny(args.tiny, client)
    for frame in (cold, warm):
        pd.testing.assert_frame_equal(serial, frame, check_exact=True)
    overhead_ms = (tiny_dask - tiny_serial) / args.tiny * 1e3
    rows = [
        {"run": "serial", "seconds": serial_s, "speedup": 1.0},
        {"run": "dask cold", "seconds": cold_s, "speedup": serial_s / cold_s},
        {"run": "dask warm", "seconds": warm_s, "speedup": serial_s / warm_s},
    ]
    machine = f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    for r in rows:
        r.update(tasks=trials, steps=steps, cluster_startup_s=startup_s, tiny_tasks=args.tiny,
                 overhead_ms_per_tiny_task=overhead_ms, cores=len(os.sched_getaffinity(0)),
                 load_avg=os.getloadavg()[0], machine=machine, tokbench=tokbench.__version__,
                 date=dt.date.today().isoformat())
    write_csv_rows(args.out, rows)
    for r in rows:
        print(f"{r['run']:10} {r['seconds']:7.2f} s  speed-up {r['speedup']:.2f}×")
    print(f"cluster start-up {startup_s:.2f} s; {trials} trials at T = {steps}; "
          f"overhead {overhead_ms:.2f} ms per tiny task ({args.tiny} tasks); results identical; wrote {args.out}")


if __name__ == "__main__":
    main()
