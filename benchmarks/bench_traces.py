"""Benchmark: pair traces of many large categories (Hayase et al.'s setting), ``--jobs 1`` vs ``--jobs 2``.

The data: 44 FLORES-200 languages (the first 44 codes in sorted order), each one's ``dev`` +
``devtest`` lines written again and again to a text file of its own until it holds ``--mb``
megabytes (25 by default; 44 x 25 MB = 1.1 GB). **Repeated data**: the counting reads every
byte, but each category has only the distinct words of its ~300 KB of FLORES, so the trace
kernel's work (and the word tables' memory) is that of the small sample — fine for timing the
reading and counting that dominate at this size, not for the kernel on 25 MB of distinct text.

The tokenizer is cl100k (``../shared/data/tokenizers``), traced for T = 30,000 merges. The
corpus is given as its spec (the 44 paths): the categories stream from their files, in this
process (``jobs=1``) or in two worker processes that each read their own category
(``jobs=2``, :mod:`tokbench.attacks.mixture.parallel`). The trace cache is off.

Each run is a child process (``--child JOBS``): wall and CPU time (the child and its workers,
``getrusage``) and peak memory of its process tree (PSS summed over the child and its workers,
sampled every 0.5 s, :class:`TreeSampler`; ``cpu_tree_s`` sums each process's CPU ticks from
``/proc``, ``cpu_s`` is ``getrusage`` of the child and its reaped workers). The corpus signature (two passes
over all files, in the parent process of the run) is timed apart from the traces. The traces of
both runs are compared (a SHA-256 over every array of every trace) before anything is written.

Run:    nice -n 5 .venv/bin/python benchmarks/bench_traces.py            # 44 x 25 MB, T = 30,000
        .venv/bin/python benchmarks/bench_traces.py --quick                # 6 x 2 MB, T = 3,000
Writes benchmarks/results/traces.csv (atomically) and prints the table and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def write_categories(folder: Path, n_categories: int, megabytes: float) -> list[Path]:
    """One text file per FLORES language: its dev + devtest lines repeated to ``megabytes``."""
    from tokbench.corpora import flores_languages, load_flores

    paths = []
    for lang in flores_languages()[:n_categories]:
        block = ("\n".join(load_flores(lang, split="both").documents(lang)) + "\n").encode()
        path = folder / f"{lang}.txt"
        with open(path, "wb") as handle:
            for _ in range(max(1, round(megabytes * 1e6 / len(block)))):
                handle.write(block)
        paths.append(path)
    return paths


def traces_digest(ts) -> str:  # type: ignore[no-untyped-def]
    digest = hashlib.sha256()
    for name, trace in zip(ts.categories, ts.traces, strict=True):
        digest.update(name.encode())
        for key, array in sorted(trace.to_arrays().items()):
            digest.update(key.encode() + array.dtype.str.encode() + repr(array.shape).encode() + array.tobytes())
    return digest.hexdigest()


class TreeSampler:
    """Every ``interval`` seconds: the memory (PSS, summed) of this process and all below it, and
    each one's CPU ticks from ``/proc/PID/stat`` (the last value seen per process, so a worker
    that is never reaped still counts; ``getrusage`` only counts reaped children).

    Half a second, not 50 ms: each sample reads ``/proc`` of every process on the machine (2.5 ms
    of CPU at 85 processes, more on a busy machine), in this process and under its GIL; at 20
    samples a second over a 20-minute run that is a minute of CPU charged to the run measured."""

    def __init__(self, interval: float = 0.5):
        import threading

        sys.path.insert(0, str(HERE))
        from bench_train_scale import _tree_rss

        self._tree_rss = _tree_rss
        self.interval, self.peak, self.ticks = interval, 0, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cpu(self) -> None:
        children: dict[int, list[int]] = {}
        stats: dict[int, list[str]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                stats[int(entry.name)] = fields
                children.setdefault(int(fields[1]), []).append(int(entry.name))
        todo = [os.getpid()]
        while todo:
            pid = todo.pop()
            if pid in stats:   # fields after ")": state ppid ... utime (12) stime (13)
                self.ticks[pid] = int(stats[pid][11]) + int(stats[pid][12])
            todo += children.get(pid, [])

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._tree_rss(os.getpid()))
            self._cpu()
            self._stop.wait(self.interval)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.ticks.values()) / os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._tree_rss(os.getpid()))
        self._cpu()


def child(spec: str, jobs: int, steps: int) -> dict:  # type: ignore[type-arg]

    from tokbench._io import shared_data_dir
    from tokbench.attacks.mixture import TraceSet
    from tokbench.corpora import stream_corpus
    from tokbench.formats import load_tokenizer

    tok = load_tokenizer(shared_data_dir() / "tokenizers" / "cl100k_base.tiktoken")
    stream = stream_corpus(spec)
    with TreeSampler() as peak:
        start = time.perf_counter()
        signature = stream.signature()   # cached on the stream: from_corpus reuses it
        signature_s = time.perf_counter() - start
        start = time.perf_counter()
        ts = TraceSet.from_corpus(tok, stream, n_steps=steps, use_cache=False, jobs=jobs)
        traces_s = time.perf_counter() - start
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)   # reaped workers count in RUSAGE_CHILDREN
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"jobs": jobs, "traces_s": traces_s, "signature_s": signature_s,
            "cpu_s": own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime, "cpu_tree_s": peak.cpu_seconds,
            "processes": len(peak.ticks),
            "peak_tree_mib": peak.peak / 2**20, "maxrss_parent_mib": own.ru_maxrss / 1024,
            "categories": len(ts.categories), "corpus_mb": signature["total_bytes"] / 1e6,
            "pairs_max": max(int(t.init_keys.shape[0]) for t in ts.traces), "digest": traces_digest(ts)}


def run_child(spec_file: Path, jobs: int, steps: int) -> dict:  # type: ignore[type-arg]
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", str(jobs), "--spec-file", str(spec_file),
                          "--steps", str(steps)], check=True, capture_output=True, text=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["wall_s"] = time.perf_counter() - start
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 categories of 2 MB, T = 3,000")
    parser.add_argument("--categories", type=int, default=None, help="FLORES languages (default 44)")
    parser.add_argument("--mb", type=float, default=None, help="megabytes per category (default 25)")
    parser.add_argument("--steps", type=int, default=None, help="merges T (default 30,000)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "traces.csv")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--spec-file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    steps = args.steps or (3000 if args.quick else 30_000)
    if args.child is not None:
        print(json.dumps(child(args.spec_file.read_text(), args.child, steps)))
        return
    from tokbench import __version__
    from tokbench._io import shared_data_dir, write_csv_rows

    if shared_data_dir() is None:
        raise SystemExit("real data not found: set TOKBENCH_DATA")
    os.environ.pop("TOKBENCH_SCHEDULER", None)
    n_cat = args.categories or (6 if args.quick else 44)
    megabytes = args.mb or (2.0 if args.quick else 25.0)
    with tempfile.TemporaryDirectory(prefix="bench_traces_") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        paths = write_categories(folder, n_cat, megabytes)
        print(f"wrote {n_cat} categories of ~{megabytes:g} MB in {time.perf_counter() - start:.0f} s", flush=True)
        spec_file = folder / "spec.txt"
        spec_file.write_text("+".join(str(p) for p in paths))
        rows = []
        for jobs in (1, 2):
            rows.append(run_child(spec_file, jobs, steps))
            r = rows[-1]
            print(f"jobs={jobs}: traces {r['traces_s']:.1f} s, signature {r['signature_s']:.1f} s, "
                  f"CPU {r['cpu_tree_s']:.1f} s (rusage {r['cpu_s']:.1f} s), peak {r['peak_tree_mib']:.0f} MiB", flush=True)
    if rows[0]["digest"] != rows[1]["digest"]:
        raise SystemExit("the traces of jobs=1 and jobs=2 differ: nothing written")
    machine = f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    for r in rows:
        r.update(speedup=rows[0]["traces_s"] / r["traces_s"], steps=steps, tokenizer="cl100k_base",
                 mb_per_category=megabytes, repeated_data=True, cores=len(os.sched_getaffinity(0)),
                 load_avg=os.getloadavg()[0], machine=machine, tokbench=__version__, date=dt.date.today().isoformat())
        r["digest"] = r["digest"][:16]
    write_csv_rows(args.out, rows)
    print(f"traces identical; speed-up {rows[1]['speedup']:.2f}x with 2 workers; wrote {args.out}")


if __name__ == "__main__":
    main()
