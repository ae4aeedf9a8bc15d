"""Audit tokenizer files side by side: coverage, compression, premiums, merge-free encodings
(and mixture inference where available), then an HTML and a PDF report.

Progress goes to stderr; results are cached in OUT/.cache so a re-run only computes what
changed. A tokenizer that fails to load, a corpus part that fails or a requested language the
corpus lacks is reported as failed (in the report and with exit status 1) while the rest is
still audited and written.

Example:
    $ tokbench audit ../shared/data/tokenizers/gpt2 ../shared/data/tokenizers/cl100k_base.tiktoken --out audit-report
    $ tokbench audit tok.json --corpus "flores:all@devtest" --analyses coverage,premiums
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_tokenizer_argument

EXIT_PARTIAL = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    parser.add_argument("--corpus", default="sample:", help="corpus spec (see docs/corpus-spec.md); default: the bundled sample")
    parser.add_argument("--languages", help="comma-separated categories to keep (missing ones are reported as failed)")
    parser.add_argument("--analyses", help="comma-separated analyses (default: every available one: "
                        "coverage, compression, premiums, mergefree, and mixture when installed)")
    parser.add_argument("--out", type=Path, default=Path("audit-report"), help="report folder (default: audit-report)")
    parser.add_argument("--title", help="report title")
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates of premium CIs (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of bootstraps and merge corruptions (default 0)")
    parser.add_argument("--no-pdf", action="store_true", help="write only the HTML report")
    parser.add_argument("--no-cache", action="store_true", help="recompute everything (the cache is still refreshed)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def run_audit(tokenizers: list, args: argparse.Namespace, *, title: str) -> int:  # type: ignore[type-arg]
    """Audit, write the reports, print where they are; 0 if nothing failed, else 1."""
    import shutil
    import sys

    from ..audit import audit

    if args.no_cache and (args.out / ".cache").is_dir():
        shutil.rmtree(args.out / ".cache")
    result = audit(tokenizers, corpus=args.corpus, analyses=_split(args.analyses), languages=_split(args.languages),
                   out=args.out, pattern=getattr(args, "pattern", None), n_bootstrap=args.bootstrap, seed=args.seed,
                   progress=not args.quiet)
    print("writing reports…", file=sys.stderr)
    written = result.write(args.out, title=args.title or title, pdf=not args.no_pdf)
    for line in result.report(title=title).summary:
        print(line)
    for item, message in result.failures:
        print(f"FAILED {item}: {message}", file=sys.stderr)
    reports = [p for p in written if p.suffix in (".html", ".pdf")]
    print("report written to " + " and ".join(str(p) for p in reports))
    return 0 if result.ok else EXIT_PARTIAL


def run(args: argparse.Namespace) -> int:
    return run_audit(list(args.tokenizer), args, title="tokbench audit")
