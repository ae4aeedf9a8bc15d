"""Load time against each library, and native SentencePiece Unigram throughput, in one run.

Part 1, loading: for every real tokenizer file in the shared data folder, and for two
SentencePiece Unigram models trained here (``nmt_nfkc`` and ``identity`` rules, 8,000 pieces,
on ~1 MB of FLORES dev text in four scripts), the library's own loader
(:func:`bench_encode.load_reference`: ``tiktoken``, ``tokenizers``, ``sentencepiece``) and
``tokbench.load_tokenizer`` run alternately, ``--rounds`` times each; the best time of each
counts, and the ratio is tokbench / library. For SentencePiece models the native encoder's build
time (``tok.native``: normalizer and Viterbi tables) is reported beside it.

Part 2, native Unigram: ~1 MB of FLORES devtest (the first lines of 40 languages, whole lines)
encoded by ``sentencepiece`` and by tokbench's native encoder (``backend="native"``), one line
at a time (``sp.encode(line)`` against ``tok.encode(line, backend="native")``) and as one batch
(``sp.encode(lines, num_threads=1)`` against ``tok.encode_batch(lines, backend="native")``),
rounds alternating, best round counts; then an HF Unigram ``tokenizer.json`` trained on the same
text against ``tokenizers``, one line at a time, native piece cache cleared each round. Ids
must be identical on every line.

Usage:
    python benchmarks/bench_load.py               # about a minute on 2 cores
    python benchmarks/bench_load.py --rounds 3 --out /tmp/load.csv

Results go to ``benchmarks/results/load.csv`` (written atomically): one row per file and
measurement, with the machine and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_encode  # noqa: E402  (same folder: its cases, reference loaders, machine info)

import tokbench  # noqa: E402
from tokbench._io import shared_data_dir, write_csv_rows  # noqa: E402

TRAIN_SCRIPTS = {"eng_Latn": 400_000, "hin_Deva": 300_000, "zho_Hans": 200_000, "rus_Cyrl": 200_000}
UNIGRAM_RULES = ("nmt_nfkc", "identity")


def best_alternating(contenders: dict[str, Callable[[], object]], rounds: int,
                     cpu: dict[str, float] | None = None) -> dict[str, float]:
    """Best wall time of each contender over ``rounds`` rounds, run in turn (garbage collection
    off while timed), so that both see the same moments of a shared machine. What a contender
    returns is freed after its timer stops: freeing a loaded vocabulary is not loading it.
    ``cpu``, if given, receives each contender's best process CPU time: on a machine shared with
    other jobs a longer call is preempted more often, and CPU time does not count the waits."""
    best = {name: float("inf") for name in contenders}
    best_cpu = {name: float("inf") for name in contenders}
    for r in range(rounds):
        order = list(contenders) if r % 2 == 0 else list(reversed(contenders))
        for name in order:
            gc.collect()
            gc.disable()
            try:
                start, start_cpu = time.perf_counter(), time.process_time()
                result = contenders[name]()
                best[name] = min(best[name], time.perf_counter() - start)
                best_cpu[name] = min(best_cpu[name], time.process_time() - start_cpu)
                del result
            finally:
                gc.enable()
    if cpu is not None:
        cpu.update(best_cpu)
    return best


def train_unigram_models(data: Path, folder: Path) -> dict[str, Path]:
    """The two Unigram models of part 1 and 2, trained with ``sentencepiece`` on FLORES dev text."""
    import sentencepiece as spm

    text = folder / "train.txt"
    with open(text, "w", encoding="utf-8") as out:
        for lang, size in TRAIN_SCRIPTS.items():
            raw = (data / "flores200" / "dev" / f"{lang}.dev").read_text(encoding="utf-8")
            out.write(raw[: raw.rfind("\n", 0, size) + 1])
    models = {}
    for rule in UNIGRAM_RULES:
        prefix = folder / f"unigram_{rule}"
        spm.SentencePieceTrainer.train(input=str(text), model_prefix=str(prefix), vocab_size=8000,
                                       model_type="unigram", normalization_rule_name=rule,
                                       character_coverage=0.9995, minloglevel=2, num_threads=1)
        models[rule] = prefix.with_suffix(".model")
    return models


def bench_loading(cases: list[tuple[str, Path, bench_encode.Case]], rounds: int) -> list[dict[str, object]]:
    rows = []
    for name, path, case in cases:
        cpu: dict[str, float] = {}
        times = best_alternating({"library": lambda c=case, p=path: bench_encode.load_reference(c, p),
                                  "tokbench": lambda p=path: tokbench.load_tokenizer(p)}, rounds, cpu)
        row: dict[str, object] = {
            "measure": "load", "tokenizer": name, "library": case.library, "size_MB": round(_size(path) / 1e6, 3),
            "library_s": round(times["library"], 5), "tokbench_s": round(times["tokbench"], 5),
            "ratio": round(times["tokbench"] / times["library"], 2),
            "ratio_cpu": round(cpu["tokbench"] / max(cpu["library"], 1e-6), 2)}
        if case.loader == "sentencepiece":
            build = best_alternating({"native": lambda p=path: tokbench.load_tokenizer(p).native}, rounds)
            row["tokbench_native_s"] = round(build["native"], 5)
        bench_encode.say(f"  load {name}: library {times['library'] * 1e3:.1f} ms, tokbench "
                         f"{times['tokbench'] * 1e3:.1f} ms ({row['ratio']}x; by CPU time {row['ratio_cpu']}x)")
        rows.append(row)
    return rows


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size


def flores_megabyte(data: Path, limit: int = 1_000_000) -> list[str]:
    """Whole FLORES devtest lines, round-robin over the 40 languages, up to ``limit`` UTF-8 bytes."""
    per_language = []
    for lang in bench_encode.LANGUAGES:
        path = data / "flores200" / "devtest" / f"{lang}.devtest"
        per_language.append(path.read_text(encoding="utf-8").splitlines())
    lines, size = [], 0
    for k in range(max(len(x) for x in per_language)):
        for language_lines in per_language:
            if k < len(language_lines):
                size += len(language_lines[k].encode("utf-8"))
                if size > limit:
                    return lines
                lines.append(language_lines[k])
    return lines


def bench_unigram(models: dict[str, Path], lines: list[str], rounds: int) -> list[dict[str, object]]:
    import sentencepiece as spm

    mb = sum(len(t.encode("utf-8")) for t in lines) / 1e6
    rows = []
    for rule, path in models.items():
        sp = spm.SentencePieceProcessor(model_file=str(path))
        tok = tokbench.load_tokenizer(path)
        reference = [sp.encode(t) for t in lines]
        native = [tok.encode(t, backend="native") for t in lines]
        identical = native == reference and tok.encode_batch(lines, backend="native") == reference
        for mode, ref_call, native_call in (
            ("per line", lambda: [sp.encode(t) for t in lines],  # noqa: B023 - used before the loop moves on
             lambda: [tok.encode(t, backend="native") for t in lines]),  # noqa: B023
            ("batch", lambda: sp.encode(lines, num_threads=1),  # noqa: B023
             lambda: tok.encode_batch(lines, backend="native")),  # noqa: B023
        ):
            cpu = {}
            times = best_alternating({"library": ref_call, "native": native_call}, rounds, cpu)
            row = {"measure": f"unigram {mode}", "tokenizer": f"unigram_{rule}", "library": "sentencepiece",
                   "text_MB": round(mb, 3), "n_texts": len(lines), "library_s": round(times["library"], 4),
                   "tokbench_s": round(times["native"], 4), "library_MBps": round(mb / times["library"], 2),
                   "tokbench_MBps": round(mb / times["native"], 2),
                   "ratio": round(times["native"] / times["library"], 2),
                   "ratio_cpu": round(cpu["native"] / cpu["library"], 2), "identical": identical}
            bench_encode.say(f"  {rule} {mode}: sentencepiece {row['library_MBps']} MB/s, native "
                             f"{row['tokbench_MBps']} MB/s ({row['ratio']}x the time); identical={identical}")
            rows.append(row)
    return rows


def bench_hf_unigram(folder: Path, lines: list[str], rounds: int) -> dict[str, object]:
    """An HF Unigram ``tokenizer.json`` (NFKC, Metaspace, 8,000 pieces trained by ``tokenizers``
    on the same text): ``Tokenizer.encode(line).ids`` against native, one line at a time, the
    native piece cache cleared before each round (cold)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    trained = Tokenizer(models.Unigram())
    trained.normalizer = normalizers.NFKC()
    trained.pre_tokenizer = pre_tokenizers.Metaspace()
    trained.train([str(folder / "train.txt")], trainers.UnigramTrainer(
        vocab_size=8000, special_tokens=["<unk>"], unk_token="<unk>", show_progress=False))
    path = folder / "hf_unigram.json"
    trained.save(str(path))
    reference = Tokenizer.from_file(str(path))
    tok = tokbench.load_tokenizer(path)
    identical = [reference.encode(t).ids for t in lines] == [tok.encode(t, backend="native") for t in lines]

    def native() -> None:
        tok.native.clear_cache()
        for t in lines:
            tok.encode(t, backend="native")

    cpu: dict[str, float] = {}
    times = best_alternating({"library": lambda: [reference.encode(t).ids for t in lines], "native": native}, rounds,
                             cpu)
    mb = sum(len(t.encode("utf-8")) for t in lines) / 1e6
    row = {"measure": "unigram per line (cold)", "tokenizer": "hf_unigram", "library": "tokenizers",
           "text_MB": round(mb, 3), "n_texts": len(lines), "library_s": round(times["library"], 4),
           "tokbench_s": round(times["native"], 4), "library_MBps": round(mb / times["library"], 2),
           "tokbench_MBps": round(mb / times["native"], 2), "ratio": round(times["native"] / times["library"], 2),
           "ratio_cpu": round(cpu["native"] / cpu["library"], 2), "identical": identical}
    bench_encode.say(f"  hf unigram per line: tokenizers {row['library_MBps']} MB/s, native {row['tokbench_MBps']} "
                     f"MB/s ({row['ratio']}x the time); identical={identical}")
    return row


def print_rows(rows: list[dict[str, object]]) -> None:
    header = ("measure", "tokenizer", "library", "library", "tokbench", "tokbench / library", "by CPU time",
              "identical")
    table = [header]
    for r in rows:
        if r["measure"] == "load":
            lib, own = f"{r['library_s'] * 1e3:.1f} ms", f"{r['tokbench_s'] * 1e3:.1f} ms"  # type: ignore[operator]
            if "tokbench_native_s" in r:
                own += f" (+ native {r['tokbench_native_s'] * 1e3:.0f} ms)"  # type: ignore[operator]
        else:
            lib, own = f"{r['library_MBps']} MB/s", f"{r['tokbench_MBps']} MB/s"
        table.append((str(r["measure"]), str(r["tokenizer"]), str(r["library"]), lib, own, f"{r['ratio']}x",
                      f"{r['ratio_cpu']}x", str(r.get("identical", ""))))
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds per contender (default 7)")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "load.csv")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    data = shared_data_dir()
    if data is None:
        bench_encode.say("error: the shared data folder was not found; set TOKBENCH_DATA")
        return 2
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    load_before = bench_encode.load_average()
    with tempfile.TemporaryDirectory(prefix="bench_load_") as tmp:
        bench_encode.say("training the two Unigram models ...")
        models = train_unigram_models(data, Path(tmp))
        spm_case = next(c for c in bench_encode.CASES if c.loader == "sentencepiece")
        cases = [(c.name, data / "tokenizers" / c.file, c) for c in bench_encode.CASES]
        cases += [(f"unigram_{rule}", path, spm_case) for rule, path in models.items()]
        rows = bench_loading(cases, args.rounds)
        lines = flores_megabyte(data)
        rows += bench_unigram(models, lines, max(3, args.rounds // 2))
        rows.append(bench_hf_unigram(Path(tmp), lines, max(3, args.rounds // 2)))
    run = {"run_utc": started.isoformat(), "rounds": args.rounds, **bench_encode.machine_info(),
           "loadavg_start": load_before, "loadavg_end": bench_encode.load_average()}
    rows = [{**run, **r} for r in rows]
    print_rows(rows)
    print(f"\n{run['cpu']}, {run['usable_cores']} cores, Python {run['python']}; sentencepiece "
          f"{run['sentencepiece']}; load average {load_before} -> {run['loadavg_end']}")
    write_csv_rows(args.out, rows)
    print(f"wrote {args.out}")
    return 0 if all(r.get("identical", True) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
