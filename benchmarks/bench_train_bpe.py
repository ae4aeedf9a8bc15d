"""Benchmark: byte-level BPE training, tokbench vs HF ``tokenizers``' ``BpeTrainer``.

Both train on the same ≥ 10 MB corpus (FLORES-200 dev+devtest of several languages plus every
real-code file in ``../shared/data/code``) with the same pretokenizer (GPT-2 regex, ByteLevel) and
vocabulary size, in one benchmark run: each training runs in a child forked from the same process
(the loaded texts and compiled kernels are shared; the heap starts fresh, so one trainer's freed
memory does not hide the other's peak), alternating the order on repeats. Wall time covers the
whole training call from texts to tokenizer (pretokenizing and counting included). Peak memory is
the growth of the resident set (``VmHWM`` after resetting it through ``/proc/self/clear_refs``;
on systems without it, ``tracemalloc``'s Python-side peak). The merge lists are compared too.

Run:  .venv/bin/python benchmarks/bench_train_bpe.py [--vocab-size 32000] [--repeat 1]
Writes benchmarks/results/train_bpe.csv (atomically) and prints the time ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from pathlib import Path

FLORES_LANGS = ("eng_Latn,fra_Latn,deu_Latn,spa_Latn,por_Latn,ita_Latn,rus_Cyrl,ukr_Cyrl,zho_Hans,"
                "jpn_Jpan,kor_Hang,arb_Arab,hin_Deva,ben_Beng,tur_Latn,vie_Latn,ell_Grek,heb_Hebr,"
                "tha_Thai,swh_Latn")


def _status(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def measure(fn):  # type: ignore[no-untyped-def]
    """(result, seconds, peak bytes above the starting RSS, method)."""
    import gc

    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        base = _status("VmRSS")
        method = "rss"
    except OSError:
        base = None
        method = "tracemalloc"
    if base is None:
        method = "tracemalloc"
        tracemalloc.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    if method == "rss":
        peak = (_status("VmHWM") or 0) - base
    else:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, seconds, peak, method


def in_child(job):  # type: ignore[no-untyped-def]
    """Run ``job`` in a forked child (same input, already-compiled kernels, fresh heap)."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def target() -> None:
        send.send(job())
        send.close()

    child = ctx.Process(target=target)
    child.start()
    result = receive.recv()
    child.join()
    return result


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hf_train(docs: list[str], vocab_size: int) -> list:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    hf.train_from_iterator(docs, trainer=trainer)
    return [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in json.loads(hf.to_str())["model"]["merges"]]


def tokbench_train(docs: list[str], vocab_size: int) -> list:
    from tokbench.trainers.bpe import train_bpe

    trained = train_bpe(docs, vocab_size=vocab_size, progress=False)
    return [tuple(m) for m in json.loads(trained.to_hf_json())["model"]["merges"]]


def main() -> int:
    from tokbench._io import write_csv_rows
    from tokbench.corpora import Corpus, load_code, load_flores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each trainer (best time kept)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train_bpe.csv")
    args = parser.parse_args()

    corpus = Corpus.combine([load_flores(FLORES_LANGS, split="both"), load_code("all")], name="bench")
    docs = [d for _, ds in corpus for d in ds]
    n_bytes = corpus.n_bytes()
    print(f"corpus: {len(corpus)} categories, {len(docs):,} documents, {n_bytes / 1e6:.1f} MB; "
          f"vocab {args.vocab_size:,}; {os.cpu_count()} CPUs")
    tokbench_train(["warm up the numba cache"] * 3, 260)  # compilation is not what we measure

    rows = []
    results: dict[str, tuple] = {}
    trainers = {"tokenizers": hf_train, "tokbench": tokbench_train}
    for k in range(args.repeat):
        order = list(trainers) if k % 2 == 0 else list(trainers)[::-1]
        for name in order:
            run = in_child(lambda fn=trainers[name]: measure(lambda: fn(docs, args.vocab_size)))
            if name not in results or run[1] < results[name][1]:
                results[name] = run
    for name in trainers:
        best = results[name]
        print(f"{name:>10}: {best[1]:7.2f} s   peak +{best[2] / 2**20:7.1f} MiB ({best[3]})   {len(best[0]):,} merges")
    ratio = results["tokbench"][1] / results["tokenizers"][1]
    mem_ratio = results["tokbench"][2] / max(results["tokenizers"][2], 1)
    identical = results["tokbench"][0] == results["tokenizers"][0]
    print(f"time ratio tokbench/tokenizers = {ratio:.2f}  (target <= 2.0)   memory ratio = {mem_ratio:.2f}   "
          f"merge lists identical: {identical}")
    for name, (merges, seconds, peak, method) in results.items():
        rows.append({"trainer": name, "vocab_size": args.vocab_size, "corpus_bytes": n_bytes,
                     "documents": len(docs), "seconds": f"{seconds:.3f}", "peak_mib": f"{peak / 2**20:.1f}",
                     "memory_method": method, "merges": len(merges),
                     "time_ratio_vs_tokenizers": f"{seconds / results['tokenizers'][1]:.3f}",
                     "identical_merges": identical, "cpus": os.cpu_count(),
                     "machine": cpu_model(),
                     "python": platform.python_version()})
    write_csv_rows(args.out, rows)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
