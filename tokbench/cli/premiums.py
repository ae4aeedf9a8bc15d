"""Token premiums on a parallel corpus (Petrov et al. joined text; Arnett et al. line by line),
with bootstrap confidence intervals, summaries across languages and unknown-token flags.

Example:
    $ tokbench premiums ../shared/data/tokenizers/cl100k_base.tiktoken --corpus flores --split both
    $ tokbench premiums gpt2/ llama.json --corpus flores:eng_Latn,fra_Latn --csv --out results/p.csv
    $ tokbench premiums gpt2/ --method petrov --petrov-script     # Petrov et al.'s counts, to the token
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ._common import (
    NONNEGATIVE_INT,
    add_tokenizer_argument,
    check_outputs,
    csv_text,
    emit_text,
    float_in,
    load_from_args,
    print_notes_and_signature,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    parser.add_argument("--corpus", default="flores",
                        help="parallel corpus spec; 'flores' means every FLORES-200 language (default)")
    parser.add_argument("--split", choices=["dev", "devtest", "both"], default="both",
                        help="FLORES split for --corpus flores (default both: dev then devtest)")
    parser.add_argument("--reference", default="eng_Latn", help="reference language (default eng_Latn)")
    parser.add_argument("--method", choices=["petrov", "arnett", "both"], default="both",
                        help="petrov: lines joined with a space, encoded once; arnett: line by line (default both)")
    parser.add_argument("--petrov-script", action="store_true",
                        help="petrov: encode exactly the text of Petrov et al.'s script (each FLORES file's "
                             "trailing newline adds an empty line: a double space between dev and devtest and "
                             "a trailing space), reproducing their published counts; needs whole FLORES files")
    parser.add_argument("--bootstrap", type=NONNEGATIVE_INT, default=1000, metavar="B",
                        help="bootstrap replicates over sentences (0: no intervals; default 1000)")
    parser.add_argument("--confidence", type=float_in(0, 1, low_open=True, high_open=True), default=0.95, help="interval level (default 0.95)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--max-unknown", type=float_in(0, 1), default=0.1,
                        help="blank a language above this share of unknown characters (default 0.1, as Petrov et al.)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print machine-readable JSON (rows, summary, signature)")
    fmt.add_argument("--csv", action="store_true", help="print the per-language rows as CSV")
    parser.add_argument("--out", type=Path, help="write the JSON or CSV here (atomically) instead of stdout")
    parser.add_argument("--summary-out", type=Path, help="also write the summary table as CSV here")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")


def _corpus(spec: str, split: str) -> Any:
    from ..corpora import load_corpus, load_flores, with_flores_split

    if spec.strip() in ("flores", "flores:", "flores:all"):
        return load_flores("all", split=split)  # type: ignore[arg-type]
    # --split applies to every FLORES part that does not name its own split.
    return load_corpus(with_flores_split(spec, split))


def run(args: argparse.Namespace) -> int:
    import sys

    import pandas as pd

    from ..metrics.premiums import premiums

    check_outputs(args, files=("out", "summary_out"))
    tokenizers = [load_from_args(path, args) for path in args.tokenizer]
    corpus = _corpus(args.corpus, args.split)
    methods = ["petrov", "arnett"] if args.method == "both" else [args.method]
    result = premiums(tokenizers, corpus, reference=args.reference, methods=methods,
                      n_bootstrap=args.bootstrap, confidence=args.confidence, seed=args.seed,
                      max_unknown=args.max_unknown, petrov_script=args.petrov_script, progress=not args.no_progress and sys.stderr.isatty())
    if args.summary_out is not None:
        emit_text(csv_text(result.summary_frame()), args.summary_out)
    if args.json:
        emit_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n", args.out)
        return 0
    if args.csv:
        emit_text(csv_text(result.to_frame()), args.out)
        return 0
    frame = result.to_frame()
    shown = frame[["tokenizer", "method", "language", "ctc", "premium", "ci_low", "ci_high", "flags"]]
    with pd.option_context("display.width", 200, "display.max_rows", 2000, "display.max_colwidth", 70):
        print(shown.to_string(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}"))
        print(f"\nSummary across languages ({result.confidence:.0%} bootstrap intervals, "
              f"{result.n_bootstrap} replicates, seed {result.seed}):")
        print(result.summary_frame().to_string(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}"))
    print_notes_and_signature(result)
    if args.out is not None:
        emit_text(csv_text(frame), args.out)
    return 0
