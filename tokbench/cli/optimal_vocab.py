"""Per-language optimal vocabulary size (Arnett et al. 2025): train monolingual BPE over a grid, fit CTC(v) = a·v^-b, solve for a target CTC, retrain there, compare premium variance; regress CTC on tokenization features.

Parses the options, runs :func:`tokbench.experiments.optimal_vocab.optimal_vocab` (its training
and measuring tasks on ``--jobs`` worker processes, kept in the task cache unless ``--no-cache``)
and writes grid.csv, fits.csv, optimal.csv, premiums.csv, regression.csv, coefficients.csv,
signature.json and (unless --no-figure) optimal_vocab.png to --out, each atomically
(:func:`tokbench.reports.bundle.write_bundle`).

Example:
    $ tokbench optimal-vocab --corpus-train flores:eng_Latn,fra_Latn,rus_Cyrl@dev \\
        --corpus-eval flores:eng_Latn,fra_Latn,rus_Cyrl@devtest --grid 500,1000,2000,4000 --jobs 2 --out results/ov
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ._common import (
    POSITIVE_INT,
    add_jobs_arguments,
    check_outputs,
    print_notes_and_signature,
    split_list,
    task_cache,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus-train", required=True,
                        help="training corpus spec, one category per language (e.g. flores:eng_Latn,fra_Latn@dev)")
    parser.add_argument("--corpus-eval", required=True,
                        help="parallel evaluation corpus spec (e.g. flores:eng_Latn,fra_Latn@devtest)")
    parser.add_argument("--grid", required=True,
                        help="comma-separated vocabulary sizes, at least 3 (e.g. 1000,2000,4000,8000,16000)")
    parser.add_argument("--target", default=None,
                        help="LANG@VOCAB (that language's CTC at that size), LANG, or an absolute CTC "
                        "(default: the reference language at the middle grid size)")
    parser.add_argument("--reference", default="eng_Latn", help="reference language for premiums (default eng_Latn)")
    parser.add_argument("--languages", default=None,
                        help="comma-separated subset of languages (default: every language in both corpora)")
    parser.add_argument("--pattern", default="gpt2", help="split pattern for training (default gpt2)")
    parser.add_argument("--offset", action="store_true", help="fit a·v^-b + c instead of a·v^-b")
    parser.add_argument("--max-vocab", type=POSITIVE_INT, default=None,
                        help="never train past this size (default 8 × the largest grid size)")
    parser.add_argument("--unreachable", choices=["raise", "flag"], default="raise",
                        help="a target a language's fit cannot reach: error (default) or flag and keep the largest size")
    parser.add_argument("--feature-scope", choices=["vocab", "eval"], default="vocab",
                        help="token length and whitespace share over the learned vocabulary (default) or the eval tokens")
    parser.add_argument("--out", type=Path, required=True, help="output folder for the CSVs, signature and figure")
    parser.add_argument("--save-tokenizers", action="store_true",
                        help="also write each language's tokenizer at its optimal size to OUT/tokenizers/")
    parser.add_argument("--no-figure", action="store_true", help="do not draw optimal_vocab.png")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars on stderr")
    add_jobs_arguments(parser)


def _grid(text: str) -> list[int]:
    from ..experiments.optimal_vocab import OptimalVocabError

    try:
        return [int(part.strip().replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError:
        raise OptimalVocabError(f"--grid {text!r}: give comma-separated integers, e.g. 1000,2000,4000") from None


def _load(spec: str, role: str) -> Any:
    import errno

    from ..corpora import load_corpus
    from ..experiments.optimal_vocab import OptimalVocabError

    try:
        return load_corpus(spec)
    except OSError as err:
        # The spec parser first tries the whole spec as a file name; a long language list
        # exceeds the OS's name limit there.
        if err.errno != errno.ENAMETOOLONG:
            raise
        raise OptimalVocabError(
            f"--corpus-{role}: the spec is too long to parse ({len(spec)} characters); load every "
            "language and choose with --languages, e.g. --corpus-train flores:all@dev "
            "--corpus-eval flores:all@devtest --languages eng_Latn,fra_Latn,..."
        ) from None


def run(args: argparse.Namespace) -> int:
    import time

    from ..experiments.optimal_vocab import optimal_vocab

    start = time.perf_counter()
    check_outputs(args, folders=("out",))
    grid = _grid(args.grid)
    train = _load(args.corpus_train, "train")
    evals = _load(args.corpus_eval, "eval")
    languages = split_list(args.languages, flag="--languages")
    result = optimal_vocab(
        train, evals, grid=grid, target=args.target, reference_language=args.reference, languages=languages,
        offset=args.offset, pattern=args.pattern, max_vocab=args.max_vocab, unreachable=args.unreachable,
        feature_scope=args.feature_scope, keep_tokenizers=args.save_tokenizers,
        progress=not args.no_progress and sys.stderr.isatty(), jobs=args.jobs, scheduler=args.scheduler,
        cache=task_cache(args, "optimal_vocab"),
    )
    elapsed = time.perf_counter() - start
    written = _write(result, args, elapsed)
    _print_summary(result)
    print(f"{len(result.fit_rows)} languages × {len(result.grid)} sizes in {elapsed:.1f} s; "
          f"wrote {', '.join(written)} to {args.out}")
    return 0


def _write(result: Any, args: argparse.Namespace, elapsed: float) -> list[str]:
    """The tables, signature.json, the figure and (asked for) the tokenizers; the names written."""
    from ..reports.bundle import write_bundle

    figures = {}
    if not args.no_figure:
        from ..reports.optimal_vocab_figures import optimal_vocab_figure

        figures["optimal_vocab"] = optimal_vocab_figure(result.figure_frame(), target_ctc=result.target["ctc"])
    paths = write_bundle(args.out, frames=result.frames(), figures=figures, signature=result.signature,
                         extra_json={"target": result.target, "grid": result.grid, "notes": result.notes,
                                     "seconds": round(elapsed, 2)}, dpi=120)
    written = [p.name for p in paths]
    if args.save_tokenizers:
        for r in result.optimal_rows:
            tok = result.tokenizers.get(f"{r['language']}@{r['realized_vocab']}")
            if tok is not None:
                tok.save(args.out / "tokenizers" / f"{r['language']}-{r['realized_vocab']}.json")
        written.append("tokenizers/")
    return written


def _print_summary(result: Any) -> None:
    import pandas as pd

    opt = result.optimal_frame()[["language", "optimal_vocab", "realized_vocab", "predicted_ctc",
                                  "achieved_ctc", "error", "premium", "flags"]]
    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_colwidth", 60):
        print(opt.to_string(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}"))
    print()
    print(result.summary())
    print_notes_and_signature(result)
