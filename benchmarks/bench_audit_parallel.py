"""The audit's (analysis x tokenizer) steps on worker processes: ``audit(..., jobs=1)`` against
``jobs=2`` in one run, and word/letter counting of the metrics in one process against 2 workers.

Each audit runs in a fresh child process (worker start-up included, no cache): gpt2, cl100k and
llama (3 tokenizers x 5 analyses) on the bundled ``sample:`` corpus. Both runs must give the same
result (a SHA-256 over every part's frames, signature and notes, and the failures) before their
times are reported. The counting part counts ``flores:all@dev`` (whitespace words, and letters)
through ``metrics.compression.count_by_category`` with jobs 1 and 2.

Usage:
    python benchmarks/bench_audit_parallel.py [--out benchmarks/results/audit_parallel.csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from tokbench._io import shared_data_dir, write_csv_rows

TOKENIZERS = ["gpt2", "cl100k_base.tiktoken", "llama_tokenizer.json"]

AUDIT_CHILD = r'''
import hashlib, json, resource, sys, time
from tokbench.audit import audit
jobs, toks = int(sys.argv[1]), json.loads(sys.argv[2])
start = time.perf_counter()
res = audit(toks, corpus="sample:", progress=False, jobs=jobs)
wall = time.perf_counter() - start
digest = hashlib.sha256()
for name in res.analyses:
    for tok, part in res.parts.get(name, {}).items():
        for frame_name, frame in part.frames.items():
            digest.update(f"{name}/{tok}/{frame_name}".encode())
            digest.update(frame.to_csv(index=False).encode())
        digest.update(repr((part.signature.to_dict(), part.notes)).encode())
digest.update(repr((res.skipped, res.failures)).encode())
me = resource.getrusage(resource.RUSAGE_SELF)  # loky workers outlive the call: not counted
print(json.dumps({"wall_s": wall, "cpu_s_audit_process": me.ru_utime + me.ru_stime,
                  "parent_peak_mib": me.ru_maxrss / 1024, "result_sha256": digest.hexdigest()[:16],
                  "steps": sum(len(p) for p in res.parts.values()), "failures": len(res.failures)}))
'''

COUNT_CHILD = r'''
import hashlib, json, sys, time
from tokbench.corpora import load_corpus
from tokbench.metrics.compression import count_by_category, word_counts
from tokbench.metrics.coverage import letter_counts
corpus = load_corpus("flores:all@dev")
rows = []
for counter in (word_counts, letter_counts):
    for jobs in (1, 2):
        start = time.perf_counter()
        tables = [(k, sorted(v.items())) for k, v in count_by_category(corpus, counter, jobs=jobs, min_bytes=0)]
        rows.append({"count": counter.__name__, "jobs": jobs, "wall_s": time.perf_counter() - start,
                     "corpus_mb": corpus.n_bytes() / 1e6,
                     "result_sha256": hashlib.sha256(repr(tables).encode()).hexdigest()[:16]})
print(json.dumps(rows))
'''


def child(code: str, *args: str) -> object:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "audit_parallel.csv")
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("shared data not found: set TOKBENCH_DATA")
    toks = json.dumps([str(data / "tokenizers" / name) for name in TOKENIZERS])
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    machine = {"cores": os.cpu_count(), "timestamp": stamp, "load_before": round(os.getloadavg()[0], 2)}
    rows = []
    for jobs in (1, 2):
        row = {"subject": "audit", "jobs": jobs, **child(AUDIT_CHILD, str(jobs), toks), **machine}
        rows.append(row)
        print(f"audit --jobs {jobs}: {row['wall_s']:.1f} s wall, {row['cpu_s_audit_process']:.1f} s CPU in the "
              f"audit's own process (workers not counted), {row['steps']} steps")
    if rows[0]["result_sha256"] != rows[1]["result_sha256"]:
        raise SystemExit("jobs=1 and jobs=2 audits differ")
    print(f"audit speed-up with 2 workers: {rows[0]['wall_s'] / rows[1]['wall_s']:.2f}x")
    counts = child(COUNT_CHILD)
    for row in counts:
        rows.append({"subject": f"count {row['count']}", **row, **machine})
    for name in ("word_counts", "letter_counts"):
        one, two = (r for r in counts if r["count"] == name)
        if one["result_sha256"] != two["result_sha256"]:
            raise SystemExit(f"{name}: 1 and 2 workers differ")
        print(f"{name} of {one['corpus_mb']:.0f} MB: {one['wall_s']:.2f} s vs {two['wall_s']:.2f} s "
              f"({one['wall_s'] / two['wall_s']:.2f}x)")
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("subject", "jobs"), k))
    write_csv_rows(args.out, rows, fieldnames=fields)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
