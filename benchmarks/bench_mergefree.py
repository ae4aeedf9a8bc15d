"""Throughput of tokbench's numba encoders (merge-list BPE, greedy, minimal) against tiktoken and
tokenizers, single-threaded, on the same FLORES + code text; and how time scales with the length
of one pretoken (a run of identical characters), where naive BPE goes quadratic.

All encoders run one text at a time in one process (tiktoken ``encode_ordinary``; tokenizers
``encode`` of one string, which does not parallelise), after a warm-up that compiles the numba
kernels. tokbench encoders cache segmented pretokens, so the first pass over the text ("cold")
and a second pass ("warm") are both reported. Outputs are checked before timing: tokbench's
merge-list BPE must equal the reference ids on every text.

Usage:
    python benchmarks/bench_mergefree.py [--quick] [--out benchmarks/results/mergefree.csv]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ["TIKTOKEN_CACHE_DIR"] = ""

import tokbench  # noqa: E402
from tokbench._io import shared_data_dir, write_csv_rows  # noqa: E402
from tokbench.attacks.mergefree.encoders import MergeFreeEncoder  # noqa: E402

TOKENIZERS = {"cl100k": "cl100k_base.tiktoken", "r50k": "r50k_base.tiktoken", "gpt2 (tokenizers)": "gpt2"}


def load_texts(data: Path, *, quick: bool) -> list[str]:
    texts: list[str] = []
    for path in sorted((data / "flores200" / "devtest").glob("*.devtest"))[:: 10 if quick else 5]:
        texts.extend(path.read_text(encoding="utf-8").splitlines()[: 50 if quick else 200])
    for path in sorted((data / "code").glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for k, line in enumerate(handle):
                if k >= (5 if quick else 30):
                    break
                texts.append(json.loads(line)["text"])
    return texts


def timed(fn, texts) -> float:
    gc.disable()
    try:
        start = time.perf_counter()
        for t in texts:
            fn(t)
        return time.perf_counter() - start
    finally:
        gc.enable()


def reference_encoder(tok: tokbench.Tokenizer):
    ref = tok.reference
    backend = ref.backend
    if ref.library == "tiktoken":
        return backend.encode_ordinary
    return lambda t: backend.encode(t, add_special_tokens=False).ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "mergefree.csv")
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("shared data not found: set TOKBENCH_DATA")
    texts = load_texts(data, quick=args.quick)
    n_bytes = sum(len(t.encode()) for t in texts)
    print(f"{len(texts)} texts, {n_bytes / 1e6:.2f} MB, RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}")
    rows = []
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "timestamp": stamp}
    for label, file in TOKENIZERS.items():
        tok = tokbench.load_tokenizer(data / "tokenizers" / file)
        ref = reference_encoder(tok)
        bpe = MergeFreeEncoder(tok, "bpe")
        bpe.encode("warm up the kernels")
        assert all(bpe.encode(t) == ref(t) for t in texts), f"{label}: tokbench BPE differs from the reference"
        ref_time = min(timed(ref, texts) for _ in range(2))
        row = {"subject": "corpus", "tokenizer": label, "encoder": f"reference ({tok.reference.library})",
               "mb_per_s": n_bytes / ref_time / 1e6, "ratio_to_reference": 1.0, **machine}
        rows.append(row)
        for mode in ("bpe", "greedy", "minimal"):
            for cache in ("cold", "warm"):
                encoder = MergeFreeEncoder(tok, mode)
                encoder.encode("warm up the kernels")
                if cache == "warm":
                    timed(encoder.encode, texts)
                seconds = timed(encoder.encode, texts)
                rows.append({"subject": "corpus", "tokenizer": label, "encoder": f"tokbench {mode} ({cache} cache)",
                             "mb_per_s": n_bytes / seconds / 1e6, "ratio_to_reference": ref_time / seconds, **machine})
    # Scaling with the length of one pretoken.
    tok = tokbench.load_tokenizer(data / "tokenizers" / "cl100k_base.tiktoken")
    ref = reference_encoder(tok)
    lengths = [1_000, 10_000, 100_000] if not args.quick else [1_000, 10_000]
    for mode in ("reference", "bpe", "greedy", "minimal"):
        for n in lengths:
            text = "a" * n
            fn = ref if mode == "reference" else MergeFreeEncoder(tok, mode).encode
            fn("a")
            start = time.perf_counter()
            fn(text)
            seconds = time.perf_counter() - start
            rows.append({"subject": "one pretoken of n identical characters", "tokenizer": "cl100k",
                         "encoder": mode if mode != "reference" else "reference (tiktoken)", "n_chars": n,
                         "seconds": seconds, "mb_per_s": n / seconds / 1e6, **machine})
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("subject", "tokenizer", "encoder"), k))
    write_csv_rows(args.out, rows, fieldnames=fields)
    for r in rows:
        extra = f"  n={r['n_chars']:>7,}  {r['seconds'] * 1000:9.1f} ms" if "n_chars" in r else f"  x{r['ratio_to_reference']:.2f} of reference"
        print(f"{r['tokenizer']:<18} {r['encoder']:<32} {r['mb_per_s']:8.2f} MB/s{extra}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
