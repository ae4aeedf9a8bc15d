"""Audit tokenizer files side by side: coverage, compression, premiums, merge-free encodings
(and mixture inference where available), then an HTML and a PDF report.

Progress goes to stderr; results are cached in OUT/.cache so a re-run only computes what
changed. A tokenizer that fails to load, a corpus part that fails or a requested language the
corpus lacks is reported as failed (in the report and with exit status 1) while the rest is
still audited and written. The (analysis, tokenizer) steps run on ``--jobs`` worker processes
(default: every core, or $TOKBENCH_JOBS) or on a Dask cluster (``--scheduler tcp://HOST:PORT``
or $TOKBENCH_SCHEDULER); the report is the same for any N.

Example:
    $ tokbench audit ../shared/data/tokenizers/gpt2 ../shared/data/tokenizers/cl100k_base.tiktoken --out audit-report
    $ tokbench audit tok.json --corpus "flores:all@devtest" --analyses coverage,premiums
    $ tokbench audit gpt2 cl100k_base.tiktoken llama_tokenizer.json --jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import (
    POSITIVE_INT,
    add_report_arguments,
    add_scheduler_argument,
    add_tokenizer_argument,
    run_audit,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    parser.add_argument("--corpus", default="sample:", help="corpus spec (see docs/corpus-spec.md); default: the bundled sample")
    parser.add_argument("--languages", help="comma-separated categories to keep (missing ones are reported as failed)")
    parser.add_argument("--analyses", help="comma-separated analyses (default: every available one: "
                        "coverage, compression, premiums, mergefree, and mixture when installed)")
    parser.add_argument("--out", type=Path, default=Path("audit-report"), help="report folder (default: audit-report)")
    parser.add_argument("--title", help="report title")
    add_report_arguments(parser)
    # not add_jobs_arguments: its --no-cache is add_report_arguments' (the audit's cache is OUT/.cache)
    parser.add_argument("--jobs", type=POSITIVE_INT, default=None,
                        help="worker processes for the audit's (analysis, tokenizer) steps (default: every core, "
                        "or $TOKBENCH_JOBS); results are the same for any N")
    add_scheduler_argument(parser, "the audit's steps")


def run(args: argparse.Namespace) -> int:
    return run_audit(list(args.tokenizer), args, title="tokbench audit")
