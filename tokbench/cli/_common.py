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
           "add_jobs_arguments", "add_scheduler_argument", "task_cache", "split_list", "run_audit", "EXIT_PARTIAL",
           "add_report_arguments", "print_notes_and_signature", "check_outputs", "int_at_least",
           "float_in", "POSITIVE_INT", "NONNEGATIVE_INT"]

#: exit status of ``audit`` and ``demo`` when some item failed but the report was written
EXIT_PARTIAL = 1


def int_at_least(low: int) -> Any:
    """An argparse ``type``: an integer ``>= low`` (a 0 or a negative count is an error, not a default).

    Example:
        >>> int_at_least(1)("3")
        3
    """
    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


POSITIVE_INT = int_at_least(1)
NONNEGATIVE_INT = int_at_least(0)


def float_in(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Any:
    """An argparse ``type``: a finite float in ``[low, high]`` (ends open as asked).

    Example:
        >>> float_in(0, 1, low_open=True)("0.5")
        0.5
    """
    import math

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        bad_low = value <= low if low_open else value < low
        bad_high = value >= high if high_open else value > high
        if not math.isfinite(value) or bad_low or bad_high:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise argparse.ArgumentTypeError(f"must be in {interval}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def check_outputs(args: argparse.Namespace, *, files: tuple[str, ...] = (), folders: tuple[str, ...] = ()) -> None:
    """Check every output path a command will write BEFORE its work starts (DESIGN.md
    convention 12): ``files`` and ``folders`` name ``args`` attributes (``"out"`` is ``--out``);
    unset ones are skipped. A folder given as a file, a file given as a folder, or a place that
    cannot be written raises :class:`~tokbench.errors.OutputError` naming the flag."""
    from .._io import check_output_file, check_output_folder

    for attr in files:
        value = getattr(args, attr, None)
        if value is not None:
            check_output_file(value, what="--" + attr.replace("_", "-"))
    for attr in folders:
        value = getattr(args, attr, None)
        if value is not None:
            check_output_folder(value, what="--" + attr.replace("_", "-"))


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
    parser.add_argument("--bootstrap", type=NONNEGATIVE_INT, default=200, help="bootstrap replicates of premium CIs (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of bootstraps and merge corruptions (default 0)")
    parser.add_argument("--no-pdf", action="store_true", help="write only the HTML report")
    parser.add_argument("--no-cache", action="store_true", help="recompute everything (the cache is still refreshed)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def csv_text(frame: Any) -> str:
    r"""A pandas frame as CSV text, without the index.

    pandas leaves a text field holding a lone carriage return unquoted (a vocabulary entry can be
    exactly ``"\r"``), which splits the row for every CSV reader; such a frame is written with
    every text field quoted, so it reads back equal. Other frames keep pandas' minimal quoting.

    Example:
        >>> import pandas as pd
        >>> csv_text(pd.DataFrame({"token": ["a", "\r"], "id": [1, 2]}))
        '"token","id"\n"a",1\n"\r",2\n'
    """
    import csv
    import io

    texts = frame.select_dtypes(include=["object", "string"])
    carriage_return = any(isinstance(v, str) and "\r" in v for col in texts for v in texts[col])
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, quoting=csv.QUOTE_NONNUMERIC if carriage_return else csv.QUOTE_MINIMAL)
    return buffer.getvalue()


def add_jobs_arguments(parser: argparse.ArgumentParser) -> None:
    """``--jobs N``, ``--scheduler ADDRESS`` and ``--no-cache`` for commands that run a grid of
    tasks through the executor."""
    parser.add_argument("--jobs", type=POSITIVE_INT, default=None,
                        help="worker processes for the grid's tasks (default: every core, or $TOKBENCH_JOBS); "
                        "results are the same for any N")
    add_scheduler_argument(parser, "the grid's tasks")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not read or write the task cache ($TOKBENCH_CACHE or ~/.cache/tokbench)")


def add_scheduler_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--scheduler tcp://HOST:PORT``: run ``what`` on a Dask cluster instead of local processes."""
    parser.add_argument("--scheduler", metavar="ADDRESS", default=None,
                        help=f"run {what} on the Dask cluster whose scheduler is at ADDRESS (tcp://HOST:PORT; "
                        "default $TOKBENCH_SCHEDULER, else local processes); --jobs is then ignored")


def task_cache(args: argparse.Namespace, namespace: str) -> Any:
    """The on-disk task cache of a grid command, or ``None`` with ``--no-cache``."""
    if getattr(args, "no_cache", False):
        return None
    from ..cache import Cache

    return Cache(namespace=namespace)


def split_list(value: str | None, *, flag: str = "list") -> list[str] | None:
    """``"a, b"`` -> ``["a", "b"]``; ``None`` or empty -> ``None``; an empty name (``"a,,b"``, a
    trailing comma) is an error naming ``flag``, not silently dropped.

    Example:
        >>> split_list(" eng_Latn, fra_Latn"), split_list(None)
        (['eng_Latn', 'fra_Latn'], None)
    """
    if value is None or not value.strip():
        return None
    names = [v.strip() for v in value.split(",")]
    if not all(names):
        from ..errors import TokbenchError

        raise TokbenchError(f"{flag} {value!r}: empty name in the list (a stray comma?); e.g. a,b")
    return names


def run_audit(tokenizers: list[Any], args: argparse.Namespace, *, title: str) -> int:
    """Audit, write the reports, print where they are; 0 if nothing failed, else :data:`EXIT_PARTIAL`.

    Shared by ``tokbench audit`` and ``tokbench demo`` (which audits the tokenizers it trained).
    """
    import shutil

    from ..audit import audit

    check_outputs(args, folders=("out",))
    if args.no_cache and (args.out / ".cache").is_dir():
        shutil.rmtree(args.out / ".cache")
    result = audit(tokenizers, corpus=args.corpus, analyses=split_list(args.analyses, flag="--analyses"),
                   languages=split_list(args.languages, flag="--languages"), out=args.out, pattern=getattr(args, "pattern", None),
                   n_bootstrap=args.bootstrap, seed=args.seed, progress=not args.quiet and sys.stderr.isatty(),
                   true_mixtures=getattr(args, "true_mixtures", None),
                   jobs=getattr(args, "jobs", 1), scheduler=getattr(args, "scheduler", None))
    print("writing reports…", file=sys.stderr)
    written = _write_reports(result, args, title=args.title or title)
    report = result.report(title=args.title or title)  # the one just written (built once)
    for line in report.summary:
        print(line)
    for card in report.cards:
        print(card.as_line())
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
