"""Token premiums over all 204 FLORES-200 languages (dev + devtest, 2,009 lines each) for one
tokenizer: ``tokbench.metrics.premiums.premiums`` against the plain reference-library way.

(a) baseline — what a user would write with the reference library alone: load FLORES, encode
    every line with the library's own batch call (``encode_ordinary_batch`` for tiktoken,
    ``encode_batch`` for ``tokenizers``), encode each language's lines joined with a space once,
    and sum lengths into CTC; no bootstrap, no unknown-character accounting;
(b) tokbench — ``premiums(tok, load_flores("all", split="both"))``: both methods, 1,000
    bootstrap replicates, summaries, unknown/byte-fallback shares.

Both must agree on every CTC before the timings count. Loading FLORES is timed separately and
included in both totals. Wall-clock and CPU time (all threads) are both recorded: on a
shared machine the CPU time is the steadier figure. The machine (cores, load average) is recorded: these machines have 2
cores and are often shared, so the load average matters when comparing runs.

Usage:
    python benchmarks/bench_premiums.py                         # cl100k_base
    python benchmarks/bench_premiums.py --tokenizer llama_tokenizer.json --quick

Results: ``benchmarks/results/premiums.csv`` (appended, written atomically).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TIKTOKEN_CACHE_DIR", "")

import tokbench  # noqa: E402
from tokbench._io import atomic_write, shared_data_dir  # noqa: E402
from tokbench.corpora import flores_languages, load_flores  # noqa: E402
from tokbench.formats import load_tokenizer  # noqa: E402
from tokbench.metrics.premiums import premiums  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "premiums.csv"


def baseline(tok, corpus) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """lang -> (joined CTC, line CTC) with the reference library called directly."""
    backend = tok.reference.backend
    library = tok.reference.library
    out = {}
    for lang, docs in corpus:
        if library == "tiktoken":
            lines = sum(map(len, backend.encode_ordinary_batch(docs)))
            joined = len(backend.encode_ordinary(" ".join(docs)))
        elif library == "tokenizers":
            lines = sum(len(e.ids) for e in backend.encode_batch(docs, add_special_tokens=False))
            joined = len(backend.encode(" ".join(docs), add_special_tokens=False).ids)
        else:
            lines = sum(map(len, backend.encode(docs)))
            joined = len(backend.encode(" ".join(docs)))
        out[lang] = (joined, lines)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", default="cl100k_base.tiktoken",
                        help="file name in the shared tokenizers folder (default cl100k_base.tiktoken)")
    parser.add_argument("--quick", action="store_true", help="20 languages instead of all 204")
    parser.add_argument("--skip-baseline", action="store_true", help="time tokbench only")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        print("shared data not found (set TOKBENCH_DATA); nothing to benchmark", file=sys.stderr)
        return 1
    langs = flores_languages()
    if args.quick:
        langs = sorted(set(langs[::10]) | {"eng_Latn"})
    tok = load_tokenizer(data / "tokenizers" / args.tokenizer)
    tok.reference  # noqa: B018 - build the encoder outside the timed region

    t0 = time.perf_counter()
    corpus = load_flores(langs, split="both")
    t_load = time.perf_counter() - t0

    t0, c0 = time.perf_counter(), time.process_time()
    result = premiums(tok, corpus, n_bootstrap=1000, seed=0)
    t_tokbench, c_tokbench = time.perf_counter() - t0, time.process_time() - c0

    t_base = c_base = float("nan")
    if not args.skip_baseline:
        t0, c0 = time.perf_counter(), time.process_time()
        base = baseline(tok, corpus)
        t_base, c_base = time.perf_counter() - t0, time.process_time() - c0
        frame = result.to_frame()
        for method, col in (("petrov", 0), ("arnett", 1)):
            got = dict(frame[frame.method == method][["language", "ctc"]].itertuples(index=False))
            bad = [lang for lang in langs if got[lang] != base[lang][col]]
            if bad:
                print(f"CTC mismatch ({method}) for {bad[:5]}", file=sys.stderr)
                return 1

    ratio = t_base / t_tokbench if t_base == t_base else float("nan")
    row = {
        "timestamp": dt.datetime.now().isoformat(timespec="seconds"),
        "tokenizer": tok.name,
        "library": tok.reference.library,
        "languages": len(langs),
        "lines_per_language": corpus.n_documents("eng_Latn"),
        "mbytes": round(corpus.n_bytes() / 1e6, 1),
        "load_s": round(t_load, 2),
        "tokbench_s": round(t_tokbench, 2),
        "tokbench_total_s": round(t_load + t_tokbench, 2),
        "tokbench_cpu_s": round(c_tokbench, 2),
        "baseline_s": round(t_base, 2),
        "baseline_cpu_s": round(c_base, 2),
        "baseline_over_tokbench": round(ratio, 2),
        "tokbench_work": "petrov+arnett, 1000 bootstrap, summaries, unk/fallback shares",
        "baseline_work": "petrov+arnett CTC only",
        "cores": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "tokbench": tokbench.__version__,
    }
    for k, v in row.items():
        print(f"{k:24} {v}")
    write_header = not args.out.exists()
    previous = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    with atomic_write(args.out) as handle:
        handle.write(previous)
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if write_header:
            writer.writeheader()
        writer.writerow(row)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
