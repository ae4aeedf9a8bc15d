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

Two task sizes, on the same cluster: **small** (16 trials at T = 500 on 50 KB counting samples,
~0.35 s of CPU each) and **large** (8 trials at T = 2,000 on 200 KB counting samples, ~3-5 s
each), to show whether a speed-up near 2x on 2 workers needs tasks large enough to amortise
the per-task overhead. ``overhead_s_per_task`` is ``(2 x warm - serial) / tasks``: the time
each task costs beyond a perfect two-way split (scheduling, transfer, stragglers at the end).
``cpu_s`` is the CPU time of the processes that ran the trials (this one serially, the two
workers' sum on the cluster, from ``getrusage``), and ``cpu_overhead_s_per_task`` the extra CPU
per task on the cluster: unlike wall time, it does not depend on what else the machine runs.

Usage:
    python benchmarks/bench_dask_grid.py            # small and large grids, a few minutes on 2 cores
    python benchmarks/bench_dask_grid.py --quick    # 4 trials at T = 200 (small only)
    python benchmarks/bench_dask_grid.py --trials 16 --large-trials 0 --out /tmp/dask_grid.csv

Results go to ``benchmarks/results/dask_grid.csv`` (written atomically), one row per run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import time
from pathlib import Path

import pandas as pd

import tokbench
from tokbench import executor
from tokbench._io import shared_data_dir, write_csv_rows
from tokbench.experiments.mixture_controlled import run_controlled


def _cpu_seconds() -> float:
    """CPU seconds of this process (user + system): what a task costs whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _grid(trials: int, steps: int, count_bytes: int, scheduler=None):  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds of the processes that ran the trials, the frame)."""
    cpu = (lambda: sum(scheduler.run(_cpu_seconds).values())) if scheduler is not None else _cpu_seconds
    cpu_start, start = cpu(), time.perf_counter()
    result = run_controlled("lang5", trials=trials, n_steps=[steps], count_bytes=[count_bytes], jobs=1,
                            scheduler=scheduler)
    wall = time.perf_counter() - start
    return wall, cpu() - cpu_start, result.to_frame().drop(columns=["lp_seconds"])


def _tiny(n: int, scheduler=None) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    assert executor.map(abs, range(-n, 0), jobs=1, scheduler=scheduler) == list(range(n, 0, -1))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 trials at T = 200, small tasks only")
    parser.add_argument("--trials", type=int, default=None, help="small trials (default 16)")
    parser.add_argument("--large-trials", type=int, default=None, help="large trials (default 8; 0 skips them)")
    parser.add_argument("--tiny", type=int, default=2000, help="tiny tasks for the overhead (default 2000)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/dask_grid.csv"))
    args = parser.parse_args()
    if shared_data_dir() is None:
        raise SystemExit("real data not found: set TOKBENCH_DATA")
    os.environ.pop("TOKBENCH_SCHEDULER", None)  # the serial run must be serial
    grids = [("small", args.trials or (4 if args.quick else 16), 200 if args.quick else 500,
              20_000 if args.quick else 50_000)]
    large = 0 if args.quick and args.large_trials is None else (8 if args.large_trials is None else args.large_trials)
    if large:
        grids.append(("large", large, 2000, 200_000))
    from distributed import Client, LocalCluster

    _grid(1, 200, 20_000)  # imports and numba compilation out of the serial timing, as in warm workers
    serial = {name: _grid(trials, steps, cb) for name, trials, steps, cb in grids}
    tiny_serial = _tiny(args.tiny)
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster, set_as_default=False) as client:
        startup_s = time.perf_counter() - start
        runs = {name: (_grid(trials, steps, cb, client), _grid(trials, steps, cb, client))
                for name, trials, steps, cb in grids}
        tiny_dask = _tiny(args.tiny, client)
    overhead_ms = (tiny_dask - tiny_serial) / args.tiny * 1e3
    machine = f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    rows = []
    for name, trials, steps, cb in grids:
        serial_s, serial_cpu, frame = serial[name]
        (cold_s, cold_cpu, cold), (warm_s, warm_cpu, warm) = runs[name]
        for other in (cold, warm):
            pd.testing.assert_frame_equal(frame, other, check_exact=True)
        for run, seconds, cpu in (("serial", serial_s, serial_cpu), ("dask cold", cold_s, cold_cpu),
                                  ("dask warm", warm_s, warm_cpu)):
            rows.append({"tasks_size": name, "run": run, "seconds": seconds, "speedup": serial_s / seconds,
                         "tasks": trials, "steps": steps, "count_bytes": cb, "task_s_serial": serial_s / trials,
                         "overhead_s_per_task": None if run == "serial" else (2 * seconds - serial_s) / trials,
                         "cpu_s": cpu, "task_cpu_s_serial": serial_cpu / trials,
                         "cpu_overhead_s_per_task": None if run == "serial" else (cpu - serial_cpu) / trials})
    for r in rows:
        r.update(cluster_startup_s=startup_s, tiny_tasks=args.tiny, overhead_ms_per_tiny_task=overhead_ms,
                 cores=len(os.sched_getaffinity(0)), load_avg=os.getloadavg()[0], machine=machine,
                 tokbench=tokbench.__version__, date=dt.date.today().isoformat())
    write_csv_rows(args.out, rows)
    for r in rows:
        extra = "" if r["overhead_s_per_task"] is None else (
            f"  overhead {r['overhead_s_per_task']:.2f} s/task wall, {r['cpu_overhead_s_per_task']:.3f} s/task CPU")
        print(f"{r['tasks_size']:6} {r['run']:10} {r['seconds']:7.2f} s  speed-up {r['speedup']:.2f}x{extra}")
    print(f"cluster start-up {startup_s:.2f} s; overhead {overhead_ms:.2f} ms per tiny task ({args.tiny} tasks); "
          f"results identical; wrote {args.out}")


if __name__ == "__main__":
    main()
