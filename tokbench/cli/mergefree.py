"""Compare standard BPE with merge-list-free (greedy, minimal) and corrupted-merge encodings.

Per corpus category: tokens per byte, tokens relative to standard BPE, the share of pretokens
segmented differently, and vocabulary use; a table on stdout, and with --out a CSV and a figure.

Example:
    $ tokbench mergefree ../shared/data/tokenizers/cl100k_base.tiktoken --corpus "flores:eng_Latn,rus_Cyrl+code:python"
    $ tokbench mergefree gpt2/ --corpus sample: --out results/mergefree
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import add_tokenizer_argument, check_outputs, csv_text, float_in, load_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    parser.add_argument("--corpus", default="sample:", help="corpus spec (see docs/corpus-spec.md); default: the bundled sample")
    parser.add_argument("--seed", type=int, default=0, help="seed of the merge-list corruptions (default 0)")
    parser.add_argument("--delete-fraction", type=float_in(0, 1), default=0.1, help="share of merges deleted at random (default 0.1)")
    parser.add_argument("--truncate-share", type=float_in(0, 1, low_open=True), default=0.5, help="keep this share of the merges (default 0.5)")
    parser.add_argument("--out", type=Path, help="folder for mergefree.csv, signature.json and mergefree.png")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..attacks.mergefree.evaluate import default_variants, evaluate_mergefree
    from ..corpora import load_corpus

    check_outputs(args, folders=("out",))
    corpus = load_corpus(args.corpus)
    results = []
    signatures = {}
    for path in args.tokenizer:
        tok = load_from_args(path, args)
        variants = default_variants(tok, delete_fraction=args.delete_fraction, truncate_share=args.truncate_share)
        results.append(evaluate_mergefree(tok, corpus, variants=variants, seed=args.seed))
        key = tok.name if tok.name not in signatures else f"{tok.name}#{len(results)}"
        signatures[key] = results[-1].signature
    frame = pd.concat([r.to_frame() for r in results], ignore_index=True)
    columns = ["tokenizer", "category", "variant", "tokens", "tokens_per_byte", "relative_to_standard",
               "pieces_changed_share", "vocab_used"]
    if args.csv:
        print(csv_text(frame[columns]), end="")
    else:
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(frame[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    # With --csv, stdout is pure CSV (pandas reads it back); the signature and notes go to stderr.
    notes_to = sys.stderr if args.csv else sys.stdout
    for result in results:
        print(f"# {result.signature.short()}", file=notes_to)
        for note in result.notes:
            print(f"# note: {note}", file=notes_to)
    if args.out is not None:
        from ..reports.bundle import write_bundle
        from ..reports.figures import mergefree_figure

        written = write_bundle(args.out, frames={"mergefree": frame}, figures={"mergefree": mergefree_figure(frame)},
                               signature=signatures, extra_json={"notes": [n for r in results for n in r.notes]})
        print(f"wrote {', '.join(p.name for p in written)} to {args.out}", file=notes_to)
    return 0
