"""Helpers shared by subcommands: tokenizer arguments, JSON and text/CSV output."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_tokenizer_argument", "load_from_args", "print_json", "emit_text", "csv_text"]


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


def csv_text(frame: Any) -> str:
    """A pandas frame as CSV text, without the index."""
    import io

    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()
