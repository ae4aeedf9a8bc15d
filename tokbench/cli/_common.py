"""Helpers shared by subcommands: tokenizer arguments, JSON and text/CSV output, the audit run.

Example:
    >>> parser = argparse.ArgumentParser(); add_tokenizer_argument(parser, many=True)
    >>> parser.parse_args(["gpt2/", "--pattern", "r50k"]).tokenizer
    ['gpt2/']
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_tokenizer_argument", "load_from_args", "print_json", "emit_text", "csv_text",
           "add_jobs_arguments", "task_cache", "split_list", "run_audit", "EXIT_PARTIAL",
           "add_report_arguments", "print_notes_and_signature"]

#: exit status of ``audit`` and ``demo`` when some item failed but the report was written
EXIT_PARTIAL = 1


def add_tokenizer_argument(parser: argparse.ArgumentParser, *, many: bool = False) -> None:
    parser.add_argument(
        "tokenizer",
        nargs="+" if many else None,
        metavar="TOKENIZER",
        help="tokenizer file or folder: tokenizer.json, vocab.json+merges.txt folder, "
        "*.tiktoken, *.model (SentencePiece) or tekken.json",
    )
    parser.add_argument(
        "--pattern",
        help="split pattern of a tiktoken rank file: r50k, p50k, cl100k, o200k, llama3 or a regex "
        "(guessed from the file name when omitted)",
    )


def load_from_args(path: str, args: argparse.Namespace) -> Any:
    from ..formats import load_tokenizer

    return load_tokenizer(path, pattern=getattr(args, "pattern", None))


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
    sys.stdout.write("\n")


def emit_text(text: str, out: Path | None) -> None:
    """Print ``text``, or write it to ``out`` atomically (a failed run leaves no partial file)."""
    if out is None:
        print(text, end="" if text.endswith("\n") else "\n")
        return
    from .._io import atomic_write

    with atomic_write(out) as handle:
        handle.write(text)
    print(f"written to {out}")


def print_notes_and_signature(result: Any) -> None:
    """A result's cautions (one ``note:`` line each), then its signature line."""
    for note in result.notes:
        print(f"note: {note}")
    print(f"signature: {result.signature.short()}")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``audit`` and ``demo`` share: bootstrap, seed, PDF, cache, progress."""
    parser.add_argument("--bootstrap", type=int, default=200, help="bootstrap replicates of premium CIs (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of bootstraps and merge corruptions (default 0)")
    parser.add_argument("--no-pdf", action="store_true", help="write only the HTML report")
    parser.add_argument("--no-cache", action="store_true", help="recompute everything (the cache is still refreshed)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def csv_text(frame: Any) -> str:
    """A pandas frame as CSV text, without the index."""
    import io

    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    """``--jobs N`` and ``--no-cache`` for commands that run a grid of tasks through the executor."""
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes for the grid's tasks (default: every core, or $TOKBENCH_JOBS); "
                        "results are the same for any N")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not read or write the task cache ($TOKBENCH_CACHE or ~/.cache/tokbench)")


def task_cache(args: argparse.Namespace, namespace: str) -> Any:
    """The on-disk task cache of a grid command, or ``None`` with ``--no-cache``."""
    if getattr(args, "no_cache", False):
        return None
    from ..cache import Cache

    return Cache(namespace=namespace)


def split_list(value: str | None) -> list[str] | None:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; ``None`` or empty -> ``None``."""
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def run_audit(tokenizers: list[Any], args: argparse.Namespace, *, title: str) -> int:
    """Audit, write the reports, print where they are; 0 if nothing failed, else :data:`EXIT_PARTIAL`.

    Shared by ``tokbench audit`` and ``tokbench demo`` (which audits the tokenizers it trained).
    """
    import shutil

    from ..audit import audit

    if args.no_cache and (args.out / ".cache").is_dir():
        shutil.rmtree(args.out / ".cache")
    result = audit(tokenizers, corpus=args.corpus, analyses=split_list(args.analyses),
                   languages=split_list(args.languages), out=args.out, pattern=getattr(args, "pattern", None),
                   n_bootstrap=args.bootstrap, seed=args.seed, progress=not args.quiet,
                   true_mixtures=getattr(args, "true_mixtures", None))
    print("writing reports…", file=sys.stderr)
    written = _write_reports(result, args, title=args.title or title)
    for line in result.report(title=title).summary:
        print(line)
    for item, message in result.failures:
        print(f"FAILED {item}: {message}", file=sys.stderr)
    reports = [p for p in written if p.suffix in (".html", ".pdf")]
    print("report written to " + " and ".join(str(p) for p in reports))
    return 0 if result.ok else EXIT_PARTIAL


def _write_reports(result: Any, args: argparse.Namespace, *, title: str) -> list[Path]:
    """HTML, PDF and tables; a PDF that cannot be drawn is a failed item and the HTML is still
    written (it holds every result; losing them to a layout bug would waste the whole run)."""
    from ..audit.run import failure_reason

    try:
        return list(result.write(args.out, title=title, pdf=not args.no_pdf))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as err:  # noqa: BLE001 — retried without the PDF below
        if args.no_pdf:
            raise
        result.failures.append(("report.pdf", failure_reason(err)))
        (args.out / "report.pdf").unlink(missing_ok=True)  # an earlier run's PDF would pass for this one
        return list(result.write(args.out, title=title, pdf=False))
