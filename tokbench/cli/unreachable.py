"""Decide, for every token of a BPE tokenizer with merges, whether any text can produce it.

Each id gets a class (reachable alone or only in context, special, unreachable by shadowed
merges, by the pretokenizer/normalizer or by byte fallback, undecodable, unresolved), a reason
and, for reachable tokens, a witness text checked with the reference library. See
:mod:`tokbench.metrics.unreachable` for the argument behind each class.

Example:
    $ tokbench unreachable ../shared/data/tokenizers/qwen2_tokenizer.json --tokens qwen2_tokens.csv
    $ tokbench unreachable ../shared/data/tokenizers/gpt2 ../shared/data/tokenizers/llama_tokenizer.json --csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import (
    add_tokenizer_argument,
    check_outputs,
    csv_text,
    emit_text,
    int_at_least,
    load_from_args,
    print_notes_and_signature,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    parser.add_argument("--csv", action="store_true",
                        help="print the counts as CSV (tokenizer, vocab_size, class, tokens, percent, examples, seconds)")
    parser.add_argument("--out", type=Path, help="write the counts CSV here (atomically) as well")
    parser.add_argument("--tokens", type=Path, metavar="CSV",
                        help="write one row per token (tokenizer, id, token, class, reason, witness) to this CSV")
    parser.add_argument("--budget", type=int_at_least(1), default=400,
                        help="candidate texts tried per token before giving up on a witness (default 400)")
    parser.add_argument("--sample", type=int_at_least(1), metavar="N",
                        help="classify only about N evenly spaced ids per tokenizer (a quick look)")
    parser.add_argument("--examples", type=int_at_least(0), default=3, help="example tokens per class (default 3)")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..metrics.unreachable import check_tokenizer, counts_table, unreachable

    check_outputs(args, files=("out", "tokens"))
    tokenizers = [load_from_args(path, args) for path in args.tokenizer]
    for tok in tokenizers:  # every file is checked before the first one is classified
        check_tokenizer(tok)
    results = []
    for tok in tokenizers:
        ids = None if args.sample is None else range(0, tok.vocab_size, max(1, tok.vocab_size // args.sample))
        results.append(unreachable(tok, ids=ids, budget=args.budget))
    table = counts_table(results, examples=args.examples)
    if args.tokens is not None:
        frames = [r.to_frame().assign(tokenizer=r.tokenizer) for r in results]
        tokens = pd.concat(frames, ignore_index=True)
        emit_text(csv_text(tokens[["tokenizer", "id", "token", "class", "reason", "witness"]]), args.tokens)
    if args.csv:
        emit_text(csv_text(table), None)
    else:
        with pd.option_context("display.width", 200, "display.max_colwidth", 90, "display.max_rows", 400):
            print(table[table["tokens"] > 0].to_string(index=False))
        for r in results:
            print_notes_and_signature(r)
    if args.out is not None:
        emit_text(csv_text(table), args.out)
    return 0
