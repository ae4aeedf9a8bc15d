"""Train a tokenizer on a corpus and save it as a standard HF tokenizer.json.

Kinds: ``bpe`` (byte-level BPE, HF ``BpeTrainer``-exact) and ``char_bpe`` (character-level BPE
with tokens capped at ``--max-token-length`` characters, KL3M-style). ``--trace`` also writes
every merge with its pair count at its step (CSV), the input data-mixture inference needs.

Example:
    $ tokbench train --corpus flores:eng_Latn,fra_Latn+code:python --vocab-size 8000 --out bpe8k.json
    $ tokbench train --kind char_bpe --max-token-length 3 --normalization NFKC \\
          --corpus flores:eng_Latn --vocab-size 4000 --out char3.json --trace char3-merges.csv
"""

from __future__ import annotations

import argparse
import csv
import io
from pathlib import Path

from ..errors import TokbenchError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", required=True, help="corpus spec (see docs/corpus-spec.md)")
    parser.add_argument("--vocab-size", type=int, required=True, help="final vocabulary size, specials included")
    parser.add_argument("--out", type=Path, required=True, help="tokenizer.json to write")
    parser.add_argument("--kind", default="bpe", help="trainer: bpe (default) or char_bpe")
    parser.add_argument("--pattern", default="gpt2",
                        help="split pattern: gpt2 (default), r50k, p50k, cl100k, o200k, llama3 or a regex")
    parser.add_argument("--min-frequency", type=int, default=0, help="stop when the best pair is rarer")
    parser.add_argument("--special-token", action="append", default=[], metavar="TEXT",
                        help="special token, given ids 0, 1, ... (repeatable)")
    parser.add_argument("--max-token-length", type=int,
                        help="bpe: HF's max_token_length (bytes); char_bpe: the cap in characters (default 4)")
    parser.add_argument("--normalization", choices=["NFKC", "NFC"], help="char_bpe: normalize text first")
    parser.add_argument("--limit-alphabet", type=int, help="char_bpe: keep only the N most frequent characters")
    parser.add_argument("--continue-from", metavar="TOKENIZER",
                        help="bpe: replay this tokenizer's merge list first, then train on")
    parser.add_argument("--allow-smaller", action="store_true",
                        help="save a smaller vocabulary if the corpus runs out of pairs")
    parser.add_argument("--trace", type=Path, help="also write the merges and their pair counts as CSV")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from .._io import atomic_write
    from ..corpora import load_corpus
    from ..trainers import get_trainer

    train = get_trainer(args.kind)
    options: dict = {
        "vocab_size": args.vocab_size, "pattern": args.pattern, "min_frequency": args.min_frequency,
        "special_tokens": args.special_token, "allow_smaller": args.allow_smaller,
        "progress": not args.no_progress,
    }
    if args.kind == "char_bpe":
        if args.continue_from:
            raise TokbenchError("--continue-from works with --kind bpe only")
        options.update(max_token_chars=args.max_token_length or 4, normalization=args.normalization,
                       limit_alphabet=args.limit_alphabet)
    else:
        if args.normalization or args.limit_alphabet:
            raise TokbenchError("--normalization and --limit-alphabet work with --kind char_bpe only")
        options["max_token_length"] = args.max_token_length
        if args.continue_from:
            from ._common import load_from_args

            options["initial_merges"] = load_from_args(args.continue_from, argparse.Namespace())
    corpus = load_corpus(args.corpus)
    trained = train(corpus, **options)
    path = trained.save(args.out)
    tok = trained.tokenizer
    if args.trace:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["rank", "left_id", "right_id", "new_id", "count", "left", "right"])
        for k, ((a, b), new, count) in enumerate(zip(trained.merges, trained.merged_ids,
                                                      trained.merge_counts.tolist(), strict=True)):
            writer.writerow([k, a, b, new, count, repr(tok.vocab[a])[2:-1], repr(tok.vocab[b])[2:-1]])
        with atomic_write(args.trace) as handle:
            handle.write(buffer.getvalue())
    print(f"trained {tok.name}: vocab {tok.vocab_size:,}, {len(trained.merges):,} merges "
          f"(stopped: {trained.stop_reason}) on {corpus.name} "
          f"({corpus.n_bytes():,} bytes, {trained.n_word_types:,} distinct pieces)")
    print(f"written {path}  sha256:{tok.fingerprint}")
    print(f"signature {trained.signature.short()}")
    if args.trace:
        print(f"written {args.trace}")
    return 0
