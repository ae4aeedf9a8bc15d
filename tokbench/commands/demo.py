"""Train a byte-level BPE tokenizer on the bundled sample, audit it (and any tokenizer files
given) per language and code category, print the table and write an HTML report.

Works on a fresh machine without the shared data: the sample ships inside the package.

Example:
    $ tokbench demo --out demo-report
    $ tokbench demo --tokenizer ../shared/data/tokenizers/cl100k_base.tiktoken
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import TokbenchError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo-report"), help="report folder (default: demo-report)")
    parser.add_argument("--corpus", default="sample:all", help="corpus spec (default: the bundled sample)")
    parser.add_argument("--vocab-size", type=int, default=4000, help="vocabulary of the trained BPE (default 4000)")
    parser.add_argument("--tokenizer", action="append", default=[], metavar="PATH",
                        help="also audit this tokenizer file (repeatable)")
    parser.add_argument("--pattern", help="split pattern for .tiktoken files given with --tokenizer")


def train_sample_bpe(corpus, *, vocab_size: int):  # type: ignore[no-untyped-def]
    """A byte-level BPE (GPT-2 split pattern) trained with ``tokenizers`` on every category."""
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers import decoders, models, pre_tokenizers, trainers

    from ..formats.hf_json import fingerprint_text, tokenizer_from_hf_data
    from ..references import HFReference

    hf = HFTokenizer(models.BPE())
    hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  show_progress=False)
    hf.train_from_iterator((doc for _, docs in corpus for doc in docs), trainer=trainer)
    text = hf.to_str()
    return tokenizer_from_hf_data(json.loads(text), name=f"sample-bpe-{vocab_size}",
                                  fingerprint=fingerprint_text(text), source_format="trained",
                                  reference_factory=lambda: HFReference.from_str(text), original_text=text)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..corpora import load_corpus
    from ..formats import load_tokenizer
    from ..metrics.compression import compression
    from ..reports.html import Section, write_report

    if args.vocab_size < 300:
        raise TokbenchError(f"--vocab-size {args.vocab_size} is below the 256-byte alphabet plus merges; use at least 300")
    corpus = load_corpus(args.corpus)
    tokenizers = [train_sample_bpe(corpus, vocab_size=args.vocab_size)]
    tokenizers += [load_tokenizer(path, pattern=args.pattern) for path in args.tokenizer]
    results = [compression(tok, corpus) for tok in tokenizers]
    frame = pd.concat([r.to_frame() for r in results], ignore_index=True)
    columns = ["tokenizer", "category", "documents", "bytes", "ctc", "bytes_per_token",
               "chars_per_token", "vocab_used_share"] + (["premium"] if "premium" in frame else [])
    table = frame[columns]
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(table.to_string(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}"))
    infos = pd.DataFrame([{k: tok.info()[k] for k in ("name", "kind", "format", "vocab_size", "merges")}
                          for tok in tokenizers])
    sections = [
        Section("Tokenizers", "What was audited: each tokenizer's kind, source format, vocabulary size and merges.", infos),
        Section("Compression per category",
                "Corpus token count (CTC) is how many tokens each category needs; bytes per token is how much "
                "text one token carries (higher is cheaper). The premium is CTC relative to English on the same "
                "parallel sentences: 2.0 means the language pays twice as many tokens for the same content.",
                table),
    ]
    signatures = {r.signature.tokenizers and next(iter(r.signature.tokenizers)): r.signature.short() for r in results}
    out = write_report(args.out / "report.html", "tokbench demo: compression on the bundled sample", sections,
                       signatures, summary=[f"Corpus {corpus.name}: {len(corpus)} categories, "
                                            f"{corpus.n_bytes():,} bytes, {corpus.n_documents():,} documents."])
    print(f"\nreport written to {out}")
    return 0
