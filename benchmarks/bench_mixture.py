"""Speed of data-mixture inference: pair-count tracing (numba kernel vs its plain-Python twin)
and full LP solves by row/column generation.

* trace: cl100k's first T merges over a ~1 MB sample (FLORES eng + code), kernel time; the
  twin runs the first few hundred merges of the same sample for a ratio (it is O(T × words));
* solve: a tokenizer trained on a known FLORES mixture (n = 10 languages, T = 10,000; and
  n = 30, T = 30,000 with --full), traces on devtest, and the full row-generation solve, twice on
  the same traces: the paper's LP (no margin, stopped when the proportions stop moving) and the
  LP with the noise margin (``--margin-counts``, solved to a proven gap of 10⁻³ or better).

Usage:
    python benchmarks/bench_mixture.py [--quick] [--full] [--out benchmarks/results/mixture.csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import time
from pathlib import Path

import numpy as np

import tokbench
from tokbench._io import shared_data_dir, write_csv_rows


def bench_trace(data: Path, T: int, twin_steps: int) -> list[dict]:
    from tokbench.attacks.mixture._reference import trace_reference
    from tokbench.attacks.mixture.merges import extract_merges
    from tokbench.attacks.mixture.traces import trace_words, word_table
    from tokbench.corpora import load_corpus
    from tokbench.formats import load_tokenizer

    tok = load_tokenizer(data / "tokenizers" / "cl100k_base.tiktoken")
    corpus = load_corpus("flores:eng_Latn@both+code:python,c").sample(max_bytes=350_000, seed=0)
    docs = [d for _, ds in corpus for d in ds]
    n_bytes = sum(len(d.encode()) for d in docs)
    ml = extract_merges(tok)
    t0 = time.perf_counter()
    table = word_table(tok, docs)
    t_words = time.perf_counter() - t0
    trace_words(table, ml.head(10))  # compile
    t0 = time.perf_counter()
    tr = trace_words(table, ml.head(T))
    t_kernel = time.perf_counter() - t0
    words, off = [], 0
    for n in table.lengths:
        words.append(table.syms[off:off + n].tolist())
        off += n
    small = ml.head(twin_steps)
    t0 = time.perf_counter()
    trace_reference(words, table.counts[:, 0].tolist(),
                    list(zip(small.left.tolist(), small.right.tolist(), small.result.tolist(), strict=True)))
    t_twin = time.perf_counter() - t0
    t0 = time.perf_counter()
    trace_words(table, small)
    t_kernel_small = time.perf_counter() - t0
    return [{"subject": "trace", "n": 1, "T": T, "bytes": n_bytes, "seconds": round(t_kernel, 3),
             "word_table_seconds": round(t_words, 3), "deltas": len(tr.d_keys),
             "twin_ratio_at": twin_steps, "twin_over_kernel": round(t_twin / max(t_kernel_small, 1e-9), 1)}]


def bench_solve(setting: str, T: int, time_limit: float, margins: list[float]) -> list[dict]:
    from tokbench.attacks.mixture import TraceSet, infer_mixture, mse
    from tokbench.experiments.mixture_controlled import mixture_sample, split_halves
    from tokbench.trainers.bpe import train_bpe

    train, count = split_halves(setting)
    n = len(train.category_names)
    weights = np.random.default_rng(0).dirichlet(np.ones(n))
    texts, truth = mixture_sample(train, weights, 0)
    trained = train_bpe(texts, vocab_size=256 + T, progress=False, allow_smaller=True)
    steps = min(T, len(trained.merges))
    t0 = time.perf_counter()
    ts = TraceSet.from_corpus(trained.tokenizer, count, n_steps=steps, use_cache=False)
    t_trace = time.perf_counter() - t0
    rows = []
    for margin in margins:
        # The paper's LP is not solved in minutes (see lp.py): it keeps the stability stop; the
        # margin LP must prove its gap, so the stability stop is off for it.
        stops = {"stable_tol": 1e-3} if margin == 0 else {"stable_tol": None, "gap_tol": 1e-3}
        t0 = time.perf_counter()
        fit = infer_mixture(ts, time_limit=time_limit, margin_counts=margin, **stops)
        t_solve = time.perf_counter() - t0
        rows.append({"subject": f"solve {setting}", "n": n, "T": steps, "bytes": count.n_bytes(),
                     "margin_counts": margin, "seconds": round(t_trace + t_solve, 2), "trace_seconds": round(t_trace, 2),
                     "solve_seconds": round(t_solve, 2), "iterations": fit.iterations, "rows": fit.n_rows,
                     "converged": fit.converged, "stop_reason": fit.stop_reason, "gap": round(fit.gap, 4),
                     "max_violation": fit.max_violation,
                     "log10_mse": round(float(np.log10(mse(fit.proportions, truth))), 2)})
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--full", action="store_true", help="also n = 30, T = 30,000")
    parser.add_argument("--time-limit", type=float, default=600.0,
                        help="seconds per LP solve (a capped solve reports converged=False; default 600)")
    parser.add_argument("--margins", default="0,3,6",
                        help="noise margins to compare, in pair occurrences (0: the paper's LP; default 0,3,6)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/mixture.csv"))
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("shared data not found: set TOKBENCH_DATA")
    rows = bench_trace(data, 3000 if args.quick else 30_000, 100 if args.quick else 300)
    margins = [float(x) for x in args.margins.split(",")]
    rows += bench_solve("lang10", 1000 if args.quick else 10_000, args.time_limit, margins)
    if args.full:
        rows += bench_solve("lang30", 30_000, args.time_limit, margins)
    machine = f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    for r in rows:
        r.update(machine=machine, tokbench=tokbench.__version__, date=dt.date.today().isoformat())
        print(r, flush=True)
    keys = sorted({k for r in rows for k in r})
    write_csv_rows(args.out, rows, fieldnames=keys)


if __name__ == "__main__":
    main()
