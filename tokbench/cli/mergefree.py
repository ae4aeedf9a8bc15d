"""Compare standard BPE with merge-list-free (greedy, minimal) and corrupted-merge encodings.

Per corpus category: tokens per byte, tokens relative to standard BPE, the share of pretokens
segmented differently, and vocabulary use; a table on stdout, and with --out a CSV and a figure.

Example:
    $ tokbench mergefree ../shared/data/tokenizers/cl100k_base.tiktoken --corpus "flores:eng_Latn,rus_Cyrl+code:python"
    $ tokbench mergefree gpt2/ --corpus sample: --out results/mergefree
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_tokenizer_argument, load_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    parser.add_argument("--corpus", default="sample:", help="corpus spec (see docs/corpus-spec.md); default: the bundled sample")
    parser.add_argument("--seed", type=int, default=0, help="seed of the merge-list corruptions (default 0)")
    parser.add_argument("--delete-fraction", type=float, default=0.1, help="share of merges deleted at random (default 0.1)")
    parser.add_argument("--truncate-share", type=float, default=0.5, help="keep this share of the merges (default 0.5)")
    parser.add_argument("--out", type=Path, help="folder for mergefree.csv and mergefree.png")
    parser.add_argument("--csv", action="store_true", help="print CSV instead of a table")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from .._io import atomic_write
    from ..attacks.mergefree.evaluate import default_variants, evaluate_mergefree
    from ..corpora import load_corpus

    corpus = load_corpus(args.corpus)
    frames = []
    signatures = []
    for path in args.tokenizer:
        tok = load_from_args(path, args)
        variants = default_variants(tok, delete_fraction=args.delete_fraction, truncate_share=args.truncate_share)
        result = evaluate_mergefree(tok, corpus, variants=variants, seed=args.seed)
        frames.append(result.to_frame())
        signatures.append(result.signature.short())
    frame = pd.concat(frames, ignore_index=True)
    columns = ["tokenizer", "category", "variant", "tokens", "tokens_per_byte", "relative_to_standard",
               "pieces_changed_share", "vocab_used"]
    if args.csv:
        print(frame[columns].to_csv(index=False), end="")
    else:
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(frame[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for sig in signatures:
        print(f"# {sig}")
    if args.out is not None:
        from ..reports.figures import mergefree_figure

        with atomic_write(args.out / "mergefree.csv") as handle:
            frame.to_csv(handle, index=False)
        fig = mergefree_figure(frame)
        with atomic_write(args.out / "mergefree.png", "wb") as handle:
            fig.savefig(handle, format="png", dpi=110)
        print(f"wrote {args.out / 'mergefree.csv'} and {args.out / 'mergefree.png'}")
    return 0
