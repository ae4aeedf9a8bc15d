"""Benchmark: BPE training at scale — tokbench ``jobs=1``, ``jobs=2`` and HF ``BpeTrainer`` in one run.

Two corpora:

* **21 MB**: FLORES-200 ``dev`` of the first 51 languages (sorted codes) plus every real-code file
  of ``../shared/data/code``, held in memory as a list of documents (what ``bench_train_bpe.py``
  does), given to each trainer as that list;
* **large** (``--large-mb``, 1000 by default; 0 skips it): the same documents written again and
  again to one JSONL file until it reaches the size (repeated data: fine for timing, the merges
  equal the 21 MB ones). tokbench streams it (``stream_corpus``: worker processes read byte
  ranges of the file); HF gets the same documents from a Python generator reading the file.

Each training runs in its own child process (``python bench_train_scale.py --child ...``), so
wall time, CPU time (the child and its worker processes, ``getrusage``) and peak memory (the proportional set size
of the child and all its worker processes, summed, sampled every 50 ms — forked workers share
their parent's pages, which PSS counts once; ``ru_maxrss`` of the child alone is reported too) are those of that training alone; the documents the child loaded
before training (the 21 MB list) are in every figure alike. HF's ``BpeTrainer`` uses threads, so
its CPU time can exceed its wall time. The merge lists are compared.

Run:  .venv/bin/python benchmarks/bench_train_scale.py [--vocab-size 32000] [--large-mb 1000]
Writes benchmarks/results/train_scale.csv (atomically) and prints the table and the ratios.
"""

from __future__ import annotations

import argparse
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


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def small_documents() -> list[str]:
    from tokbench.corpora import Corpus, flores_languages, load_code, load_flores

    langs = flores_languages()[:51]
    corpus = Corpus.combine([load_flores(langs, split="dev"), load_code("all")], name="bench")
    return list(corpus.iter_documents())


def write_large(path: Path, docs: list[str], target_bytes: int) -> int:
    """The documents as JSONL, repeated until the file holds ``target_bytes``; returns its size."""
    block = "".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs).encode()
    with open(path, "wb") as handle:
        written = 0
        while written < target_bytes:
            handle.write(block)
            written += len(block)
    return path.stat().st_size


def jsonl_texts(path: Path):  # type: ignore[no-untyped-def]
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)["text"]


def hf_merges(texts, vocab_size: int) -> list:  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    hf = Tokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    hf.train_from_iterator(texts, trainer=trainer)
    return [m if isinstance(m, list) else m.split(" ") for m in json.loads(hf.to_str())["model"]["merges"]]


def tokbench_merges(source, vocab_size: int, jobs: int) -> list:  # type: ignore[no-untyped-def]
    from tokbench.trainers.bpe import train_bpe

    trained = train_bpe(source, vocab_size=vocab_size, progress=False, jobs=jobs)
    return [m if isinstance(m, list) else m.split(" ") for m in json.loads(trained.to_hf_json())["model"]["merges"]]


def _pss(pid: int) -> int:
    """Proportional set size: resident bytes, pages shared with other processes split among them
    (forked workers share their parent's pages until they write to them)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree_rss(root: int) -> int:
    """Memory (PSS) of ``root`` and every process below it (from ``/proc``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _pss(pid)
        todo += children.get(pid, [])
    return total


class TreePeak:
    """Samples the memory (PSS) of this process and its workers every ``interval`` seconds.

    ``ru_maxrss`` cannot be summed over workers (and counts a forked worker's shared pages in
    full), so the whole tree is sampled instead."""

    def __init__(self, interval: float = 0.05):
        import threading

        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self._stop.wait(self.interval)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss(os.getpid()))


def child(trainer: str, corpus: str, vocab_size: int, merges_out: Path) -> None:
    """One training in this process; prints its measurements as JSON."""
    from tokbench.trainers.bpe import train_bpe

    train_bpe(["warm up the numba kernels"] * 3, vocab_size=260, progress=False)  # compilation is not measured
    if corpus == "small":
        docs = small_documents()
        source = docs
    else:
        docs = None
        path = Path(corpus)
    rss_before = _tree_rss(os.getpid())
    before = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    t0 = time.perf_counter()
    with TreePeak() as peak:
        if trainer == "tokenizers":
            merges = hf_merges(docs if docs is not None else jsonl_texts(path), vocab_size)
        else:
            jobs = int(trainer.split("=")[1])
            if docs is None:
                from tokbench.corpora import stream_corpus

                source = stream_corpus(str(path))
            merges = tokbench_merges(source, vocab_size, jobs)
        wall = time.perf_counter() - t0
    if trainer not in ("tokenizers", "jobs=1"):
        from joblib.externals.loky import get_reusable_executor

        get_reusable_executor().shutdown(wait=True)  # reap the workers so that their CPU time is counted
    after = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before, strict=True))
    merges_out.write_text(json.dumps(merges))
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_main": after[0].ru_maxrss * 1024, "peak": peak.peak,
                      "rss_before": rss_before, "merges": len(merges)}))


def run_child(trainer: str, corpus: str, vocab_size: int, tmp: Path) -> dict:
    merges_out = tmp / f"merges-{trainer.replace('=', '')}-{Path(corpus).name}.json"
    done = subprocess.run([sys.executable, __file__, "--child", trainer, "--corpus", corpus,
                           "--vocab-size", str(vocab_size), "--merges-out", str(merges_out)],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["merge_list"] = json.loads(merges_out.read_text())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--large-mb", type=int, default=1000, help="size of the repeated corpus (0: skip it)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "train_scale.csv")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", default="small", help=argparse.SUPPRESS)
    parser.add_argument("--merges-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.corpus, args.vocab_size, args.merges_out)
        return 0

    from tokbench._io import write_csv_rows

    trainers = ["tokbench jobs=1", "tokbench jobs=2", "tokenizers"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        docs = small_documents()
        small_bytes = sum(len(d.encode()) for d in docs)
        corpora = [("small", small_bytes)]
        if args.large_mb > 0:
            large = tmp / "large.jsonl"
            corpora.append((str(large), write_large(large, docs, args.large_mb * 10**6)))
        del docs
        load = os.getloadavg()[0]   # other work on the machine: CPU time near wall time means one core
        print(f"vocab {args.vocab_size:,}; {os.cpu_count()} CPUs ({cpu_model()}); load average {load:.1f} at start")
        for corpus, n_bytes in corpora:
            label = "21 MB in memory" if corpus == "small" else f"{n_bytes / 1e6:.0f} MB JSONL, streamed"
            results = {t: run_child(t.replace("tokbench ", ""), corpus, args.vocab_size, tmp) for t in trainers}
            reference = results["tokenizers"]
            for name, r in results.items():
                same = r["merge_list"] == reference["merge_list"]
                print(f"{label:>26} {name:>16}: {r['wall']:7.1f} s wall {r['cpu']:7.1f} s CPU   peak "
                      f"{r['peak'] / 2**20:7.0f} MiB (main {r['rss_main'] / 2**20:.0f}, before training "
                      f"{r['rss_before'] / 2**20:.0f})   wall/HF {r['wall'] / reference['wall']:.2f}   "
                      f"memory/HF {r['peak'] / reference['peak']:.2f}   merges = HF: {same}")
                rows.append({"corpus": label, "corpus_bytes": n_bytes, "trainer": name, "vocab_size": args.vocab_size,
                             "wall_s": f"{r['wall']:.2f}", "cpu_s": f"{r['cpu']:.2f}",
                             "peak_mib": f"{r['peak'] / 2**20:.0f}", "main_rss_mib": f"{r['rss_main'] / 2**20:.0f}",
                             "rss_before_training_mib": f"{r['rss_before'] / 2**20:.0f}",
                             "wall_ratio_vs_tokenizers": f"{r['wall'] / reference['wall']:.3f}",
                             "memory_ratio_vs_tokenizers": f"{r['peak'] / reference['peak']:.3f}",
                             "merges": r["merges"], "identical_merges": same, "cpus": os.cpu_count(),
                             "load_average_at_start": f"{load:.1f}",
                             "machine": cpu_model(), "python": platform.python_version()})
    write_csv_rows(args.out, rows)
    print(f"written {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
