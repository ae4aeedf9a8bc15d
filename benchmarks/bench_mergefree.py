"""Throughput of tokbench's numba encoders (merge-list BPE, greedy, minimal) and of the native
encoder (``tok.encode(text, backend="native")``) against tiktoken and tokenizers, single-threaded,
on the same FLORES + code text; and how time scales with the length of one pretoken (a run of
identical characters), where naive BPE goes quadratic.

The text is the issue's set: 200 devtest lines of every fifth FLORES language (41) and 30 files of
each code language, 3.9 MB. The reference is called one text at a time in this process (tiktoken
``encode_ordinary``; tokenizers ``encode`` of one string with ``RAYON_NUM_THREADS=1``).
tokbench's merge-free encoders are timed through ``encode_batch`` on a fresh encoder (cold: no
pretoken cache; byte-level models whose pattern compiles take the numba road, with no cache at
all) and one text at a time; the native encoder one text at a time. Outputs are checked before
timing: tokbench's merge-list BPE and the native encoder must equal the reference ids on every
text. Every contender is timed in each of ``--rounds`` rounds, back to back, and its fastest round
counts, so that a busy moment on a shared machine hits one round, not one contender.

Usage:
    python benchmarks/bench_mergefree.py [--quick] [--rounds 3] [--out benchmarks/results/mergefree.csv]
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

#: label -> file; the first two are tiktoken files (the merge-free encoders' goal is stated
#: against tiktoken), the rest HF byte-level files (native encoder against tokenizers).
TOKENIZERS = {"cl100k": "cl100k_base.tiktoken", "r50k": "r50k_base.tiktoken", "gpt2 (tokenizers)": "gpt2",
              "olmo2": "olmo2_tokenizer.json", "qwen2": "qwen2_tokenizer.json", "gpt-neox": "gpt-neox_tokenizer.json"}
MERGE_FREE_ON = ("cl100k", "r50k", "gpt2 (tokenizers)")


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


def contenders(tok: tokbench.Tokenizer, label: str) -> dict[str, object]:
    """name -> a function that builds what it needs (untimed) and returns the timed pass over
    the text list. Merge-free encoders are built fresh for each pass, so every pass is cold."""
    ref = reference_encoder(tok)
    out: dict[str, object] = {f"reference ({tok.reference.library})": lambda: lambda texts: [ref(t) for t in texts]}
    if label in MERGE_FREE_ON:
        for mode in ("bpe", "greedy", "minimal"):
            out[f"tokbench {mode} (batch, cold)"] = lambda m=mode: MergeFreeEncoder(tok, m).encode_batch

            def one_by_one(m=mode):
                encode = MergeFreeEncoder(tok, m).encode
                return lambda texts: [encode(t) for t in texts]

            out[f"tokbench {mode} (one text at a time, cold)"] = one_by_one
    out["tokbench native encode (one text at a time)"] = lambda: lambda texts: [tok.encode(t, backend="native")
                                                                                for t in texts]
    return out


def check_outputs(tok: tokbench.Tokenizer, label: str, texts: list[str]) -> None:
    expected = [reference_encoder(tok)(t) for t in texts]
    assert [tok.encode(t, backend="native") for t in texts] == expected, f"{label}: native encode differs"
    if label in MERGE_FREE_ON:
        assert MergeFreeEncoder(tok, "bpe").encode_batch(texts) == expected, f"{label}: tokbench BPE differs"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
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
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "timestamp": stamp,
               "load_average": round(os.getloadavg()[0], 2)}
    for label, file in TOKENIZERS.items():
        tok = tokbench.load_tokenizer(data / "tokenizers" / file)
        check_outputs(tok, label, texts)  # also warms every kernel and builds the native encoder
        runs = contenders(tok, label)
        best = {name: float("inf") for name in runs}
        for _ in range(args.rounds):
            for name, prepare in runs.items():
                best[name] = min(best[name], timed(prepare(), [texts]))
        ref_time = next(iter(best.values()))
        for name, seconds in best.items():
            rows.append({"subject": "corpus", "tokenizer": label, "encoder": name, "seconds": seconds,
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
