"""Encode text with a tokenizer; print ids and the tokens they stand for.

Example:
    $ tokbench encode ../shared/data/tokenizers/cl100k_base.tiktoken "Hello world"
    $ tokbench encode tokenizer.json --file notes.txt --json
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import EncodingError, TokbenchError
from ._common import add_tokenizer_argument, load_from_args, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("text", nargs="?", help="text to encode")
    source.add_argument("--file", type=Path, help="encode the contents of this UTF-8 file")
    parser.add_argument("--backend", choices=["auto", "reference", "native"], default="auto",
                        help="reference library (default when available) or tokbench's own encoder")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _read(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TokbenchError(f"{path}: cannot read ({err.strerror})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise EncodingError(f"{path}: invalid UTF-8 at byte {err.start}; convert the file to UTF-8") from None


def run(args: argparse.Namespace) -> int:
    tok = load_from_args(args.tokenizer, args)
    text = _read(args.file) if args.file is not None else args.text
    ids = tok.encode(text, backend=args.backend)
    tokens = [tok.token_bytes(i).decode("utf-8", errors="backslashreplace") for i in ids]
    if args.json:
        print_json({"tokenizer": tok.name, "fingerprint": tok.fingerprint, "n_tokens": len(ids),
                    "n_bytes": len(text.encode("utf-8")), "ids": ids, "tokens": tokens})
        return 0
    print(f"{len(ids)} tokens, {len(text.encode('utf-8'))} bytes")
    print("ids:   ", " ".join(map(str, ids)))
    print("tokens:", " ".join(repr(t) for t in tokens))
    return 0
