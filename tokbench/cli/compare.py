"""Compare tokenizers pairwise: vocabulary overlap, merge-list lineage and, on a corpus, segmentation agreement.

For every pair (A before B, in the order given) prints the merge verdict ("identical merges",
"B extends A", "shared prefix of k merges", "unrelated", "no merge list") with the key numbers;
``--out DIR`` writes ``pairs.csv``, ``overlap_by_class.csv``, ``added.csv``, ``agreement.csv``,
``relations.png``, ``added.png`` and ``signature.json`` (all or nothing).

Example:
    $ tokbench compare ../shared/data/tokenizers/cl100k_base.tiktoken ../shared/data/tokenizers/qwen2_tokenizer.json
    $ tokbench compare gpt2/ gpt-neox_tokenizer.json --corpus sample:all --out compare-gpt2-neox
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ._common import (
    add_tokenizer_argument,
    check_outputs,
    csv_text,
    emit_text,
    int_at_least,
    print_notes_and_signature,
)


def _size(text: str) -> int:
    """``100k`` -> 100000; ``0`` means the whole corpus."""
    m = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"expected a byte count such as 100k or 2M (0: the whole corpus), got {text!r}")
    return int(m.group(1)) * {"": 1, "k": 10**3, "m": 10**6}[m.group(2).lower()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    parser.add_argument("--corpus", metavar="SPEC",
                        help="corpus spec for segmentation agreement, e.g. sample:all or "
                        "flores:eng_Latn,rus_Cyrl,zho_Hans@devtest+code:python (default: none, vocabularies and merges only)")
    parser.add_argument("--max-bytes", type=_size, default=100_000, metavar="N",
                        help="sample N bytes per corpus category (default 100k; 0: the whole corpus)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the corpus sample (default 0)")
    parser.add_argument("--min-prefix", type=int_at_least(1), default=100, metavar="K",
                        help="shortest common merge prefix called a lineage (default 100)")
    parser.add_argument("--examples", type=int_at_least(0), default=8, help="example tokens per added-token row (default 8)")
    parser.add_argument("--out", type=Path, metavar="DIR", help="write the CSV frames, figures and signature.json here")
    parser.add_argument("--csv", action="store_true", help="print the pairs frame as CSV instead of verdict lines")


def run(args: argparse.Namespace) -> int:
    from ..errors import TokbenchError
    from ..metrics.compare import compare, load_compared

    if len(args.tokenizer) < 2:
        raise TokbenchError("compare needs at least two tokenizers (A B [C …])")
    check_outputs(args, folders=("out",))
    corpus = None
    if args.corpus is not None:  # a bad spec or path fails before the tokenizers load
        from ..corpora import load_corpus

        corpus = load_corpus(args.corpus)
    toks = load_compared(args.tokenizer, pattern=args.pattern)
    result = compare(*toks, corpus=corpus, max_bytes=args.max_bytes or None, seed=args.seed,
                     min_prefix=args.min_prefix, examples=args.examples)
    frames = result.frames()
    if args.csv:
        emit_text(csv_text(frames["pairs"]), None)
    else:
        for pair in result.pairs:
            print(pair.line())
        print_notes_and_signature(result)
    if args.out is not None:
        from ..reports.bundle import write_bundle
        from ..reports.compare_figures import added_tokens_figure, relation_matrix_figure

        figures = {"relations": relation_matrix_figure(frames["pairs"]), "added": added_tokens_figure(frames["added"])}
        written = write_bundle(args.out, frames=frames, figures=figures, signature=result.signature,
                               extra_json={"notes": result.notes})
        print(f"wrote {', '.join(p.name for p in written)} to {args.out}", file=sys.stderr if args.csv else sys.stdout)
    return 0
