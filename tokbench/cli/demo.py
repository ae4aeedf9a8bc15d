"""Train BPE, character-level, superword and hybrid tokenizers (whichever trainers are
registered) on the bundled sample, audit them side by side and write demo-report/report.html
and report.pdf.

Works on a fresh machine without the shared data: the sample ships inside the package. A
trainer that fails is reported as a failed item; the others are still audited.

Example:
    $ tokbench demo --out demo-report
    $ tokbench demo --tokenizer ../shared/data/tokenizers/cl100k_base.tiktoken
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import TokbenchError
from ._common import add_report_arguments

#: Trainers the demo tries, in report order, with their options on the ~1 MB sample (small
#: vocabularies keep `make demo` to a couple of minutes on 2 cores).
DEMO_TRAINERS: dict[str, dict[str, Any]] = {
    "bpe": {},
    "char_bpe": {"max_token_chars": 4, "limit_alphabet": 1000},
    "superword": {},
    # No lexicon ships with the package, so the demo's hybrid learns its morphs with Morfessor,
    # on the 20,000 most frequent word types for at most 3 epochs (about 30 s).
    "hybrid": {"morfessor": True, "morfessor_words": 20_000, "morfessor_epochs": 3},
}

#: trainers whose merge list is learned from every byte of the training corpus
WHOLE_CORPUS_MERGES = ("bpe", "char_bpe", "superword")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo-report"), help="report folder (default: demo-report)")
    parser.add_argument("--corpus", default="sample:all", help="corpus spec (default: the bundled sample)")
    parser.add_argument("--vocab-size", type=int, default=4000, help="vocabulary of the trained tokenizers (default 4000)")
    parser.add_argument("--trainers", default=",".join(DEMO_TRAINERS),
                        help="comma-separated trainers to try (default: %(default)s; unregistered ones are skipped)")
    parser.add_argument("--tokenizer", action="append", default=[], metavar="PATH",
                        help="also audit this tokenizer file (repeatable)")
    parser.add_argument("--pattern", help="split pattern for .tiktoken files given with --tokenizer")
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ..corpora import load_corpus
    from ..trainers import TRAINERS, train_with
    from ._common import run_audit

    if args.vocab_size < 300:
        raise TokbenchError(f"--vocab-size {args.vocab_size} is below the 256-byte alphabet plus merges; use at least 300")
    corpus = load_corpus(args.corpus)
    wanted = [t.strip() for t in args.trainers.split(",") if t.strip()]
    tokenizers: list[Any] = []
    trained_with: list[str] = []
    failed: list[str] = []
    for name in wanted:
        if name not in TRAINERS:
            print(f"trainer {name!r} is not registered here; skipped (registered: {', '.join(TRAINERS)})", file=sys.stderr)
            continue
        print(f"training {name} (vocabulary {args.vocab_size}) on {corpus.name}…", file=sys.stderr)
        try:
            trained = train_with(name, corpus, vocab_size=args.vocab_size, name=f"{name}-{args.vocab_size}",
                                 **DEMO_TRAINERS.get(name, {}))
        except TokbenchError as err:
            print(f"FAILED training {name}: {err}", file=sys.stderr)
            failed.append(name)
            continue
        tokenizers.append(getattr(trained, "tokenizer", trained))
        trained_with.append(name)
    # The demo knows what its tokenizers were trained on, so the report can set the mixture
    # attack's answer beside the truth: the corpus's byte shares, for the trainers whose merges
    # are learned from every byte of it (the hybrid learns its fallback merges only from what its
    # lexicon leaves uncovered, so its true mixture is not the corpus's).
    total = corpus.n_bytes()
    shares = {c: corpus.n_bytes(c) / total for c in corpus.category_names} if total else {}
    args.true_mixtures = {tok.name: shares for tok, trainer in zip(tokenizers, trained_with, strict=True)
                          if trainer in WHOLE_CORPUS_MERGES}
    tokenizers += list(args.tokenizer)
    if not tokenizers:
        raise TokbenchError("no tokenizer could be trained or loaded; see the errors above")
    args.analyses = None
    args.languages = None
    args.title = None
    status = run_audit(tokenizers, args, title=f"tokbench demo: {len(tokenizers)} tokenizers on {corpus.name}")
    return 1 if failed else status
