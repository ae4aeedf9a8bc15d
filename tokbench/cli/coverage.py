"""Classify every vocabulary entry (Qtok-style): classes, scripts, Latin/Cyrillic languages.

Several tokenizers are shown side by side with a "union of all vocabularies" reference row.
Per-language shares of Latin and Cyrillic tokens use FLORES-200 (dev) when the shared data is
available, else the bundled sample; ``--no-languages`` skips them.

Example:
    $ tokbench coverage ../shared/data/tokenizers/gpt2 ../shared/data/tokenizers/cl100k_base.tiktoken
    $ tokbench coverage tokenizer.json --csv --out results/coverage.csv
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ._common import (
    add_tokenizer_argument,
    check_outputs,
    csv_text,
    emit_text,
    float_in,
    load_from_args,
    print_notes_and_signature,
)

_LANGUAGE_SUFFIXES = ("_Latn", "_Cyrl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_tokenizer_argument(parser, many=True)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print machine-readable JSON")
    fmt.add_argument("--csv", action="store_true", help="print one CSV table (tokenizer, class, tokens, percent)")
    parser.add_argument("--out", type=Path, help="write the JSON or CSV here (atomically) instead of stdout")
    langs = parser.add_mutually_exclusive_group()
    langs.add_argument("--language-corpus", default="auto", metavar="SPEC",
                       help="parallel corpus for Latin/Cyrillic language shares (default: FLORES-200 dev "
                            "Latn/Cyrl languages, or the bundled sample without the shared data)")
    langs.add_argument("--no-languages", action="store_true", help="skip the per-language shares")
    parser.add_argument("--alphabet-min-share", type=float_in(0, 1), default=1e-4,
                        help="a letter joins a language's alphabet above this share of its letters (default 1e-4)")
    parser.add_argument("--no-union", action="store_true", help="leave out the union-of-vocabularies row")


def _language_corpus(spec: str) -> Any:
    from ..corpora import flores_languages, load_corpus, load_flores, load_sample, sample_categories
    from ..errors import CorpusError

    if spec != "auto":
        return load_corpus(spec)
    try:
        langs = [c for c in flores_languages() if c.endswith(_LANGUAGE_SUFFIXES)]
        return load_flores(langs, split="dev")
    except CorpusError:
        langs = [c for c in sample_categories() if c.endswith(_LANGUAGE_SUFFIXES)]
        return load_sample(",".join(langs))


def _csv_text(result: Any) -> str:
    from ..metrics.coverage import CLASSES

    absolute = result.to_frame()
    percent = result.to_frame(percent=True)
    rows = []
    for (_, a), (_, p) in zip(absolute.iterrows(), percent.iterrows(), strict=True):
        for cls in CLASSES:
            rows.append({"tokenizer": a["tokenizer"], "vocab_size": a["vocab_size"], "class": cls,
                         "tokens": a[cls], "percent": round(p[cls], 4)})
    import pandas as pd

    return csv_text(pd.DataFrame(rows))


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..metrics.coverage import coverage

    check_outputs(args, files=("out",))
    tokenizers = [load_from_args(path, args) for path in args.tokenizer]
    corpus = None if args.no_languages else _language_corpus(args.language_corpus)
    result = coverage(tokenizers, language_corpus=corpus, alphabet_min_share=args.alphabet_min_share,
                      union=False if args.no_union else None)
    if args.json:
        emit_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str) + "\n", args.out)
        return 0
    if args.csv:
        emit_text(_csv_text(result), args.out)
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 40, "display.max_rows", 400):
        print("Vocabulary classes (tokens)")
        print(result.to_frame().to_string(index=False))
        print("\nVocabulary classes (% of vocabulary)")
        print(result.to_frame(percent=True).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        scripts = result.scripts_frame(percent=True)
        if not scripts.empty:
            print("\nAlpha tokens by script (% of alpha tokens, top 12 scripts)")
            print(scripts.iloc[:, :13].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        languages = result.languages_frame(percent=True)
        if not languages.empty:
            print("\nLatin/Cyrillic alpha tokens by language (% of the script's alpha tokens, top 8)")
            top = (languages.sort_values("tokens", ascending=False)
                   .groupby(["tokenizer", "script"], sort=False).head(8)
                   .sort_values(["tokenizer", "script", "tokens"], ascending=[True, True, False]))
            print(top.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print_notes_and_signature(result)
    if args.out is not None:
        emit_text(_csv_text(result), args.out)
    return 0
