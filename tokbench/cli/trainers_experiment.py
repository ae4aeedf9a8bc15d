"""Compare tokenizer families at equal vocabulary on held-out text (bytes per token).

Parses the options, runs :func:`tokbench.experiments.trainers_comparison.compare_trainers` (every
family × size a task, ``--jobs`` worker processes) and writes its rows as one CSV, atomically:
one row per (trainer, vocab_size, category).

Example:
    $ tokbench trainers-experiment --languages eng_Latn,rus_Cyrl,zho_Hans --code python \\
          --vocab-sizes 8000,16000 --jobs 2 --out results/trainers.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import TokbenchError
from ..experiments.trainers_comparison import DEFAULT_LANGUAGES, DEFAULT_TRAINERS
from ._common import add_jobs_arguments, check_outputs, task_cache


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--languages", default=DEFAULT_LANGUAGES, help="FLORES-200 languages (comma-separated)")
    parser.add_argument("--code", default="python,c", help="code languages, split even/odd documents ('' for none)")
    parser.add_argument("--trainers", default=DEFAULT_TRAINERS, help=f"trainers (default {DEFAULT_TRAINERS})")
    parser.add_argument("--vocab-sizes", default="16000,32000", help="comma-separated vocabulary sizes")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write (atomically)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    add_jobs_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from .._io import write_csv_rows
    from ..experiments.trainers_comparison import compare_trainers

    check_outputs(args, files=("out",))
    from ..corpora.corpus import split_names

    for flag, value in (("--languages", args.languages), ("--code", args.code), ("--trainers", args.trainers)):
        try:
            split_names(value, allow_empty=False)
        except TokbenchError as err:
            raise TokbenchError(f"{flag}: {err}") from None
    try:
        sizes = [int(v) for v in args.vocab_sizes.split(",") if v.strip()]
    except ValueError:
        sizes = []
    if not sizes or min(sizes) < 1:
        raise TokbenchError(f"--vocab-sizes must be comma-separated positive integers, got {args.vocab_sizes!r}")
    result = compare_trainers(args.languages, args.code, trainers=args.trainers, vocab_sizes=sizes,
                              jobs=args.jobs, scheduler=args.scheduler, cache=task_cache(args, "trainers_comparison"),
                              progress=not args.no_progress and sys.stderr.isatty())
    write_csv_rows(args.out, result.rows)
    for note in result.notes:
        print(f"note: {note}")
    n_categories = len({r["category"] for r in result.rows})
    print(f"written {args.out}: {len(result.rows)} rows ({len(result.signature.extra['trainers'])} trainers x "
          f"{len(sizes)} sizes x {n_categories} categories)")
    print(f"signature: {result.signature.short()}")
    return 0
