"""Argument helpers shared by subcommands: tokenizer paths and JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_tokenizer_argument", "load_from_args", "print_json"]


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
