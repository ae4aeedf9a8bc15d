"""Describe a tokenizer: kind, vocabulary size, merges, special tokens, pipeline, fingerprint.

Example:
    $ tokbench info ../shared/data/tokenizers/gpt2 --json
"""

from __future__ import annotations

import argparse

from ._common import add_tokenizer_argument, load_from_args, print_json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser)
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def run(args: argparse.Namespace) -> int:
    tok = load_from_args(args.tokenizer, args)
    info = tok.info()
    if args.json:
        print_json(info)
        return 0
    specials = info["special_tokens"]
    shown = ", ".join(f"{k}={v}" for k, v in list(specials.items())[:8])
    more = f" (+{len(specials) - 8} more)" if len(specials) > 8 else ""
    lines = [
        f"name           {info['name']}",
        f"format         {info['format']}  ({', '.join(info['files'])})",
        f"kind           {info['kind']}",
        f"vocab size     {info['vocab_size']:,}",
        f"merges         {'none' if info['merges'] is None else format(info['merges'], ',')}",
        f"special tokens {len(specials)}: {shown}{more}",
        f"reference      {info['reference_library']}",
        f"fingerprint    sha256:{info['fingerprint']}",
    ]
    for key in ("pattern_name", "pattern", "normalizer", "pretokenizer", "byte_level", "byte_fallback"):
        if info.get(key) is not None:
            lines.append(f"{key:<14} {info[key]}")
    print("\n".join(lines))
    return 0
