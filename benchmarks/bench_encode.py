"""Encode throughput: tokbench's ``Tokenizer.encode_batch`` against the reference library called directly.

For every real tokenizer file in the shared data folder this script measures, in one process on
one text set (FLORES-200 devtest lines in 40 languages and scripts, plus real source files of
every ``code/*.jsonl``):

(a) the reference library called directly, the way a user who skips tokbench would call it:
    ``tiktoken.Encoding(...).encode_ordinary_batch`` built from the ranks that
    ``tiktoken.load.load_tiktoken_bpe`` reads; ``tokenizers.Tokenizer.encode_batch_fast`` (or
    ``encode_batch``) with ``add_special_tokens=False`` after ``no_padding``/``no_truncation``,
    then ``.ids`` of each encoding; ``sentencepiece.SentencePieceProcessor.encode(list)``;
(b) ``tokbench.load_tokenizer(path).encode_batch(texts)`` (default backend: the same library);
(c) tokbench's own encoder, ``tok.encode(text, backend="native")`` one text at a time, on a
    byte-proportional sample of the set, after one warm-up encode (which builds its numba tables;
    ``native_build_s``). Byte-level files with a GPT-style pattern and SentencePiece Unigram run
    numba kernels; the other pipelines are Python.

(a) and (b) must give identical ids on the whole set before anything is timed. The set is then
timed as a few interleaved batches: on each batch (a) and (b) run back to back, their order
alternating, for ``--repeat`` rounds; each batch's fastest round counts, and throughput is the
set's size over the sum of those times (garbage collection is off while a call is timed, as
``timeit`` does). Pairing the two on the same batch moments apart keeps the ratio meaningful when
other processes share the machine; the CSV also holds per-round totals (the spread) and CPU
times. Load time compares the library's own loader with ``tokbench.load_tokenizer`` alone and
with the reference encoder built ("ready to encode"), best of up to 3.

Usage:
    python benchmarks/bench_encode.py            # full run, a few minutes on 2 cores
    python benchmarks/bench_encode.py --quick    # under a minute
    python benchmarks/bench_encode.py --repeat 5 --out /tmp/encode.csv

Results go to ``benchmarks/results/encode.csv`` (written atomically), one row per tokenizer,
with the machine (cores, CPU, Python, library versions, load average) and a run timestamp.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# tiktoken's loader copies every file it reads into a cache folder unless this is empty; we
# only read local files and want nothing written outside benchmarks/results.
os.environ["TIKTOKEN_CACHE_DIR"] = ""

import tokbench  # noqa: E402
import tokbench.model.tokenizer  # noqa: E402
from tokbench._io import shared_data_dir, write_csv_rows  # noqa: E402
from tokbench.errors import TokbenchError  # noqa: E402

# The validation tokbench runs on each text before encoding, timed on its own to explain the
# overhead; it has been public (check_text) and private (_check_text).
_check_text = getattr(tokbench.model.tokenizer, "check_text", None) or getattr(
    tokbench.model.tokenizer, "_check_text", None
)

EncodeBatch = Callable[[list[str]], list[list[int]]]

#: FLORES-200 languages: 40 languages, 26 scripts (Latin, Cyrillic, Greek, Arabic, Hebrew,
#: Brahmic scripts of South and South-East Asia, CJK, Hangul, Ge'ez, Georgian, Armenian, Tibetan).
LANGUAGES = (
    "eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn", "por_Latn", "pol_Latn", "tur_Latn",
    "vie_Latn", "ind_Latn", "swh_Latn", "yor_Latn", "fin_Latn",
    "rus_Cyrl", "ukr_Cyrl", "ell_Grek",
    "arb_Arab", "pes_Arab", "urd_Arab", "heb_Hebr",
    "hin_Deva", "ben_Beng", "pan_Guru", "guj_Gujr", "ory_Orya",
    "tam_Taml", "tel_Telu", "kan_Knda", "mal_Mlym", "sin_Sinh",
    "tha_Thai", "lao_Laoo", "mya_Mymr", "khm_Khmr",
    "kat_Geor", "hye_Armn", "amh_Ethi", "zho_Hans", "jpn_Jpan", "kor_Hang", "bod_Tibt",
)

# The published split patterns and special tokens of tiktoken_ext/openai_public.py, written out
# here so that the reference does not borrow tokbench's copies (cl100k's lives inside a function
# that downloads the rank file).
_R50K_PAT = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_TIKTOKEN = {
    "r50k_base": (_R50K_PAT, {"<|endoftext|>": 50256}),
    "cl100k_base": (
        _CL100K_PAT,
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}


@dataclass(frozen=True)
class Case:
    name: str
    file: str  # relative to <data>/tokenizers
    library: str  # tiktoken | tokenizers | sentencepiece
    loader: str  # how the reference is loaded: tiktoken | hf-json | gpt2-files | sentencepiece


CASES = (
    Case("gpt2", "gpt2", "tokenizers", "gpt2-files"),
    Case("r50k_base", "r50k_base.tiktoken", "tiktoken", "tiktoken"),
    Case("cl100k_base", "cl100k_base.tiktoken", "tiktoken", "tiktoken"),
    Case("olmo2", "olmo2_tokenizer.json", "tokenizers", "hf-json"),
    Case("llama", "llama_tokenizer.json", "tokenizers", "hf-json"),
    Case("qwen2", "qwen2_tokenizer.json", "tokenizers", "hf-json"),
    Case("gpt-neox", "gpt-neox_tokenizer.json", "tokenizers", "hf-json"),
    Case("bert-base-uncased", "bert-base-uncased_wordpiece_tokenizer.json", "tokenizers", "hf-json"),
    Case("mistral_v1", "mistral_v1.model", "sentencepiece", "sentencepiece"),
)


@dataclass(frozen=True)
class Settings:
    flores_lines: int  # first N devtest lines of each language
    code_bytes: int  # per code language: whole documents, in file order, up to this many bytes
    native_bytes: int  # sample size for the native encoder
    native_seconds: float  # ...and a time cap for it
    repeat: int  # timed rounds of encode_batch; also rounds of loading, up to 3
    chunks: int  # the set is timed as this many interleaved batches (see time_paired)


FULL = Settings(flores_lines=200, code_bytes=224_000, native_bytes=384_000, native_seconds=20.0,
                repeat=4, chunks=16)
QUICK = Settings(flores_lines=40, code_bytes=48_000, native_bytes=48_000, native_seconds=3.0,
                 repeat=2, chunks=8)


# ---------------------------------------------------------------------------------- text set


@dataclass
class TextSet:
    texts: list[str]
    n_flores: int
    n_code: int
    n_bytes: int
    code_languages: list[str]

    @property
    def mb(self) -> float:
        return self.n_bytes / 1e6


def build_text_set(data: Path, settings: Settings) -> TextSet:
    flores: list[str] = []
    for lang in LANGUAGES:
        path = data / "flores200" / "devtest" / f"{lang}.devtest"
        lines = path.read_text(encoding="utf-8").splitlines()
        flores.extend(line for line in lines[: settings.flores_lines] if line)
    code: list[str] = []
    code_files = sorted((data / "code").glob("*.jsonl"))
    for path in code_files:
        taken = 0
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                text = json.loads(line)["text"]
                size = len(text.encode("utf-8"))
                if taken and taken + size > settings.code_bytes:
                    break
                code.append(text)
                taken += size
    texts = flores + code
    return TextSet(
        texts=texts,
        n_flores=len(flores),
        n_code=len(code),
        n_bytes=sum(len(t.encode("utf-8")) for t in texts),
        code_languages=[p.stem for p in code_files],
    )


def native_sample(text_set: TextSet, budget: int) -> list[int]:
    """Indices of every k-th FLORES line and every k-th code document: the set's mix, smaller."""
    stride = max(1, math.ceil(text_set.n_bytes / budget))
    flores = range(0, text_set.n_flores, stride)
    code = range(text_set.n_flores, len(text_set.texts), stride)
    return [*flores, *code]


# ---------------------------------------------------------------------------------- references


def load_reference(case: Case, path: Path) -> EncodeBatch:
    """The reference library loaded by its own loader; returns texts -> ids."""
    if case.loader == "tiktoken":
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        pattern, specials = _TIKTOKEN[case.name]
        encoding = tiktoken.Encoding(
            name=case.name,
            pat_str=pattern,
            mergeable_ranks=load_tiktoken_bpe(str(path)),
            special_tokens=specials,
        )
        return encoding.encode_ordinary_batch
    if case.loader == "sentencepiece":
        import sentencepiece as spm

        return spm.SentencePieceProcessor(model_file=str(path)).encode
    from tokenizers import Tokenizer

    if case.loader == "gpt2-files":
        from tokenizers import decoders, models, pre_tokenizers

        backend = Tokenizer(models.BPE.from_file(str(path / "vocab.json"), str(path / "merges.txt")))
        backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        backend.decoder = decoders.ByteLevel()
        backend.add_special_tokens(["<|endoftext|>"])
    else:
        backend = Tokenizer.from_file(str(path))
    backend.no_padding()
    backend.no_truncation()
    batch = getattr(backend, "encode_batch_fast", None) or backend.encode_batch

    def encode_batch(texts: list[str]) -> list[list[int]]:
        return [e.ids for e in batch(texts, add_special_tokens=False)]

    return encode_batch


def load_tokbench_ready(path: Path) -> tokbench.Tokenizer:
    tok = tokbench.load_tokenizer(path)
    tok.reference  # noqa: B018 - builds the reference encoder, which load_tokenizer defers
    return tok


# ---------------------------------------------------------------------------------- timing


def timed(fn: Callable, *args: object) -> tuple[float, object, float]:
    """(wall seconds, result, process CPU seconds over all threads) of one call."""
    gc.collect()
    gc.disable()
    try:
        cpu = time.process_time()
        start = time.perf_counter()
        result = fn(*args)
        return time.perf_counter() - start, result, time.process_time() - cpu
    finally:
        gc.enable()


def alternate(
    contenders: Sequence[tuple[str, Callable[[], object]]], repeat: int
) -> dict[str, list[float]]:
    """Wall times of each contender run ``repeat`` times, the order reversed every other round."""
    times: dict[str, list[float]] = {label: [] for label, _ in contenders}
    for round_ in range(repeat):
        order = contenders if round_ % 2 == 0 else list(reversed(contenders))
        for label, fn in order:
            seconds, result, _ = timed(fn)
            del result
            times[label].append(seconds)
    return times


@dataclass
class Timing:
    """Seconds of one contender, ``wall[round][chunk]`` and ``cpu[round][chunk]``."""

    wall: list[list[float]]
    cpu: list[list[float]]

    @property
    def best(self) -> float:
        """Sum over chunks of each chunk's fastest round: the estimate the table reports."""
        return sum(min(column) for column in zip(*self.wall, strict=True))

    @property
    def best_cpu(self) -> float:
        return sum(min(column) for column in zip(*self.cpu, strict=True))

    @property
    def rounds(self) -> list[float]:
        return [sum(row) for row in self.wall]


def time_paired(
    contenders: Sequence[tuple[str, EncodeBatch]], chunks: list[list[str]], repeat: int
) -> dict[str, Timing]:
    """Time each contender on each chunk, the two back to back, order alternating.

    Other processes share these 2 cores, so the load changes from second to second. Timing
    the contenders on the same batch moments apart, and keeping the best round of each batch,
    makes the ratio a paired comparison instead of two measurements taken at different times.
    """
    timings = {label: Timing([[0.0] * len(chunks) for _ in range(repeat)],
                             [[0.0] * len(chunks) for _ in range(repeat)]) for label, _ in contenders}
    for round_ in range(repeat):
        for c, chunk in enumerate(chunks):
            order = contenders if (round_ + c) % 2 == 0 else list(reversed(contenders))
            for label, fn in order:
                seconds, result, cpu_seconds = timed(fn, chunk)
                del result
                timings[label].wall[round_][c] = seconds
                timings[label].cpu[round_][c] = cpu_seconds
    return timings


def validation_seconds(texts: list[str], repeat: int) -> float | None:
    if _check_text is None:
        return None

    def run() -> None:
        for text in texts:
            _check_text(text)

    return min(timed(run)[0] for _ in range(repeat))


def run_native(tok: tokbench.Tokenizer, texts: list[str], indices: list[int],
               reference: list[list[int]], settings: Settings) -> dict[str, object]:
    row: dict[str, object] = {"native_MBps": None, "native_sample_mb": None, "native_mismatches": None,
                              "native_build_s": None, "native_note": ""}
    try:
        # Building includes the first encode: the numba tables and kernels are made (and numba's
        # cache loaded) lazily, once per process, and are not what the throughput measures.
        build_s, _, _ = timed(lambda: tok.encode("warm up: 123 words.", backend="native"))
    except TokbenchError as err:
        row["native_note"] = f"unsupported: {err}"
        return row
    row["native_build_s"] = round(build_s, 3)
    done_bytes = 0
    mismatches = 0
    elapsed = 0.0
    gc.collect()
    try:
        for k, i in enumerate(indices):
            start = time.perf_counter()
            ids = tok.encode(texts[i], backend="native")
            elapsed += time.perf_counter() - start
            done_bytes += len(texts[i].encode("utf-8"))
            mismatches += ids != reference[k]
            if elapsed > settings.native_seconds:
                row["native_note"] = f"time cap {settings.native_seconds:g}s: {k + 1}/{len(indices)} texts"
                break
    except TokbenchError as err:
        row["native_note"] = f"failed: {err}"
        return row
    row["native_MBps"] = round(done_bytes / 1e6 / elapsed, 3) if elapsed else None
    row["native_sample_mb"] = round(done_bytes / 1e6, 3)
    row["native_mismatches"] = mismatches
    return row


def bench_case(case: Case, data: Path, text_set: TextSet, settings: Settings) -> dict[str, object]:
    path = data / "tokenizers" / case.file
    texts = text_set.texts
    repeat = settings.repeat
    load_rounds = min(repeat, 3)
    say(f"  loading ({load_rounds}x each, alternating)")
    loads = alternate(
        [
            ("reference", lambda: load_reference(case, path)),
            ("tokbench", lambda: tokbench.load_tokenizer(path)),
            ("tokbench_ready", lambda: load_tokbench_ready(path)),
        ],
        load_rounds,
    )
    reference = load_reference(case, path)
    tok = load_tokbench_ready(path)

    say("  checking (a) reference == (b) tokbench on the whole set")
    expected = reference(texts)
    got = tok.encode_batch(texts)
    mismatched = sum(a != b for a, b in zip(expected, got, strict=True))
    n_tokens = sum(len(ids) for ids in expected)
    indices = native_sample(text_set, settings.native_bytes)
    sample_expected = [expected[i] for i in indices]
    del expected, got

    say(f"  timing encode_batch ({repeat} rounds x {settings.chunks} batches, paired)")
    # Interleaved batches (every k-th text) so that each batch mixes languages and code.
    chunks = [texts[k:: settings.chunks] for k in range(settings.chunks)]
    timings = time_paired(
        [("reference", reference), ("tokbench", tok.encode_batch)], chunks, repeat
    )
    check_s = validation_seconds(texts, repeat)

    say(f"  native encoder on a {sum(len(texts[i].encode('utf-8')) for i in indices) / 1e6:.2f} MB sample")
    native = run_native(tok, texts, indices, sample_expected, settings)

    ref, tb = timings["reference"], timings["tokbench"]
    paired = [r / t for r, t in zip(ref.rounds, tb.rounds, strict=True)]
    return {
        "tokenizer": case.name,
        "file": case.file,
        "reference_library": case.library,
        "identical": mismatched == 0,
        "mismatched_texts": mismatched,
        "n_tokens": n_tokens,
        "ref_MBps": round(text_set.mb / ref.best, 3),
        "tokbench_MBps": round(text_set.mb / tb.best, 3),
        "ratio": round(ref.best / tb.best, 4),
        "ratio_cpu": round(ref.best_cpu / tb.best_cpu, 4),
        "ratio_rounds_median": round(statistics.median(paired), 4),
        "ratio_rounds_min": round(min(paired), 4),
        "ratio_rounds_max": round(max(paired), 4),
        "ref_best_s": round(ref.best, 4),
        "tokbench_best_s": round(tb.best, 4),
        "ref_cpu_s": round(ref.best_cpu, 4),
        "tokbench_cpu_s": round(tb.best_cpu, 4),
        "ref_round_min_s": round(min(ref.rounds), 4),
        "ref_round_median_s": round(statistics.median(ref.rounds), 4),
        "ref_round_max_s": round(max(ref.rounds), 4),
        "tokbench_round_min_s": round(min(tb.rounds), 4),
        "tokbench_round_median_s": round(statistics.median(tb.rounds), 4),
        "tokbench_round_max_s": round(max(tb.rounds), 4),
        "validation_s": None if check_s is None else round(check_s, 4),
        **native,
        "native_ratio": None if native["native_MBps"] is None
        else round(float(native["native_MBps"]) / (text_set.mb / ref.best), 4),
        "load_ref_s": round(min(loads["reference"]), 4),
        "load_tokbench_s": round(min(loads["tokbench"]), 4),
        "load_tokbench_ready_s": round(min(loads["tokbench_ready"]), 4),
    }


# ---------------------------------------------------------------------------------- machine


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def machine_info() -> dict[str, object]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tokbench": tokbench.__version__,
        "tiktoken": version("tiktoken"),
        "tokenizers": version("tokenizers"),
        "sentencepiece": version("sentencepiece"),
    }


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


# ---------------------------------------------------------------------------------- output


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fmt(value: object, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(rows: list[dict[str, object]]) -> None:
    header = ("tokenizer", "library", "ref MB/s", "tokbench MB/s", "ratio", "cpu ratio", "native MB/s",
              "native/ref", "load ref s", "load tokbench s", "identical")
    lines = [header]
    for r in rows:
        lines.append((
            str(r["tokenizer"]), str(r["reference_library"]),
            fmt(r["ref_MBps"]), fmt(r["tokbench_MBps"]), fmt(r["ratio"], 3), fmt(r["ratio_cpu"], 3),
            fmt(r["native_MBps"], 3), fmt(r["native_ratio"], 3),
            fmt(r["load_ref_s"]), f"{fmt(r['load_tokbench_s'])} ({fmt(r['load_tokbench_ready_s'])})",
            "yes" if r["identical"] else f"NO ({r['mismatched_texts']})",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))))
        if n == 0:
            print("  ".join("-" * w for w in widths))


# ---------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller text set and 2 rounds (< 1 min)")
    parser.add_argument("--repeat", type=int, default=None, metavar="N",
                        help=f"timed rounds per contender; the best counts (default {FULL.repeat}, "
                             f"--quick {QUICK.repeat})")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "encode.csv",
                        help="results CSV (default: benchmarks/results/encode.csv)")
    parser.add_argument("--only", action="append", metavar="NAME",
                        help=f"run only these tokenizers (repeatable): {', '.join(c.name for c in CASES)}")
    args = parser.parse_args(argv)

    settings = QUICK if args.quick else FULL
    if args.repeat is not None:
        if args.repeat < 1:
            parser.error("--repeat must be at least 1")
        settings = Settings(**{**settings.__dict__, "repeat": args.repeat})
    cases = CASES
    if args.only:
        unknown = sorted(set(args.only) - {c.name for c in CASES})
        if unknown:
            parser.error(f"unknown tokenizer(s) {', '.join(unknown)}; choose from {', '.join(c.name for c in CASES)}")
        cases = tuple(c for c in CASES if c.name in args.only)

    data = shared_data_dir()
    if data is None:
        say("error: the shared data folder was not found; set TOKBENCH_DATA to the folder holding "
            "tokenizers/, flores200/ and code/")
        return 2

    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    load_before = load_average()
    text_set = build_text_set(data, settings)
    say(f"text set: {len(text_set.texts)} texts, {text_set.mb:.2f} MB "
        f"({text_set.n_flores} FLORES lines in {len(LANGUAGES)} languages, {text_set.n_code} code files "
        f"in {len(text_set.code_languages)} languages); {settings.repeat} rounds; "
        f"load average {load_before}")

    results = []
    t0 = time.perf_counter()
    for n, case in enumerate(cases, 1):
        say(f"[{n}/{len(cases)}] {case.name} ({case.file}, {case.library})")
        results.append(bench_case(case, data, text_set, settings))
    wall = time.perf_counter() - t0

    run = {
        "run_utc": started.isoformat(),
        "mode": "quick" if args.quick else "full",
        "repeat": settings.repeat,
        "chunks": settings.chunks,
        "text_mb": round(text_set.mb, 4),
        "n_texts": len(text_set.texts),
        "n_flores_lines": text_set.n_flores,
        "n_languages": len(LANGUAGES),
        "n_code_docs": text_set.n_code,
        **machine_info(),
        "loadavg_start": load_before,
        "loadavg_end": load_average(),
        "wall_s": round(wall, 1),
    }
    rows = [{**run, **r} for r in results]
    print()
    print(f"encode throughput, {text_set.mb:.2f} MB of FLORES + code in {settings.chunks} batches, "
          f"best of {settings.repeat} rounds per batch (MB = 10^6 UTF-8 bytes; ratio = tokbench "
          f"throughput / reference throughput, by wall and by CPU time; load tokbench: "
          f"load_tokenizer (+ reference built))")
    print_table(rows)
    print(f"\n{run['cpu']}, {run['usable_cores']} cores, Python {run['python']}; tiktoken "
          f"{run['tiktoken']}, tokenizers {run['tokenizers']}, sentencepiece {run['sentencepiece']}; "
          f"load average {load_before} -> {run['loadavg_end']}; {wall:.0f}s")
    write_csv_rows(args.out, rows, fieldnames=list(rows[0]))
    print(f"wrote {args.out}")
    if not all(r["identical"] for r in results):
        say("error: tokbench and the reference library disagree on some texts (see 'identical')")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
