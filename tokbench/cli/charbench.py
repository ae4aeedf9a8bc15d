"""CharBench: generate character-level tasks, compute their tokenization features, ask a model, score answers.

Example:
    $ tokbench charbench generate --corpus sample:eng_Latn --out results/charbench/items.jsonl
    $ tokbench charbench features results/charbench/items.jsonl ../shared/data/tokenizers/gpt2 \\
          --out results/charbench/features.csv --table results/charbench/feature_table.csv \\
          --figures results/charbench
    $ tokbench charbench ask results/charbench/items.jsonl --base-url http://127.0.0.1:8000/v1 \\
          --model my-model --out answers/my-model.jsonl
    $ tokbench charbench score results/charbench/items.jsonl --answers my-model=answers/my-model.jsonl \\
          --features results/charbench/features.csv --out results/charbench/scores
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import TokbenchError
from ..reports.bundle import save_figure_png, signature_payload, write_frame_csv, write_json
from ._common import NONNEGATIVE_INT, POSITIVE_INT, check_outputs, float_in, split_list

_POSITIVE_SECONDS = float_in(0, float("inf"), low_open=True, high_open=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True

    gen = sub.add_parser("generate", help="generate CharBench items (JSONL) from a corpus")
    gen.add_argument("--corpus", default="sample:eng_Latn", help="corpus spec (default: sample:eng_Latn)")
    gen.add_argument("--out", type=Path, required=True, help="item file to write (JSONL)")
    gen.add_argument("--per-length", type=POSITIVE_INT, default=100, help="words per task and length (default 100)")
    gen.add_argument("--seed", type=int, default=0, help="shuffle seed (default 0)")
    gen.add_argument("--min-length", type=POSITIVE_INT, default=4, help="shortest word, in characters (default 4)")
    gen.add_argument("--max-length", type=POSITIVE_INT, default=10, help="longest word, in characters (default 10)")
    gen.add_argument("--word-pattern", default=None,
                     help=r"word regex (regex module syntax; default \b[a-zA-Z]+\b, e.g. \p{L}+ for any script)")
    gen.add_argument("--case", choices=("preserve", "lower", "casefold"), default="preserve",
                     help="case handling of words (default preserve)")
    gen.add_argument("--normalization", choices=("NFC", "NFKC", "NFD", "NFKD", "none"), default="NFC",
                     help="Unicode normalization of the corpus text (default NFC)")
    gen.add_argument("--tasks", default=None, help="comma-separated tasks (default: all four)")
    gen.set_defaults(_action=_generate)

    feat = sub.add_parser("features", help="tokenization features of every item under tokenizers (CSV)")
    feat.add_argument("items", type=Path, help="item file from `charbench generate`")
    feat.add_argument("tokenizer", nargs="+", metavar="TOKENIZER", help="tokenizer files or folders")
    feat.add_argument("--pattern", help="split pattern for .tiktoken files (guessed from the name when omitted)")
    feat.add_argument("--out", type=Path, required=True, help="feature CSV to write")
    feat.add_argument("--space", choices=("none", "leading"), default="none",
                      help="encode the word alone (none, default) or after a space, as mid-sentence (leading)")
    feat.add_argument("--table", type=Path, help="also write the per tokenizer × task feature table (CSV)")
    feat.add_argument("--figures", type=Path, help="also save the feature figures (PNG) in this folder")
    feat.set_defaults(_action=_features)

    ask = sub.add_parser("ask", help="ask an OpenAI-compatible chat endpoint every item (resumable)")
    ask.add_argument("items", type=Path, help="item file from `charbench generate`")
    ask.add_argument("--base-url", required=True, help="endpoint base URL, e.g. http://127.0.0.1:8000/v1")
    ask.add_argument("--model", required=True, help="model name sent to the endpoint")
    ask.add_argument("--out", type=Path, required=True, help="answer file (JSONL; appended to, resumable)")
    ask.add_argument("--api-key-env", default="OPENAI_API_KEY",
                     help="environment variable holding the API key (default OPENAI_API_KEY; unset: no key sent)")
    ask.add_argument("--rate-limit", type=_POSITIVE_SECONDS, default=None, help="at most this many requests per second")
    ask.add_argument("--retries", type=NONNEGATIVE_INT, default=4, help="retries per request (default 4)")
    ask.add_argument("--timeout", type=_POSITIVE_SECONDS, default=60.0, help="seconds per request (default 60)")
    ask.add_argument("--max-tokens", type=POSITIVE_INT, default=16, help="max_tokens of each completion (default 16)")
    ask.add_argument("--limit", type=NONNEGATIVE_INT, default=None, help="ask only the first N items")
    ask.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    ask.set_defaults(_action=_ask)

    score = sub.add_parser("score", help="score model answers: accuracy, feature correlations, error overlap")
    score.add_argument("items", type=Path, help="item file from `charbench generate`")
    score.add_argument("--answers", action="append", required=True, metavar="[NAME=]PATH",
                       help="answer file (JSONL of {id, reply}); NAME defaults to the file stem; repeatable")
    score.add_argument("--features", type=Path, help="feature CSV from `charbench features`")
    score.add_argument("--out", type=Path, help="folder for the score tables (CSV) and figure")
    score.add_argument("--bins", type=POSITIVE_INT, default=4, help="quantile bins for continuous features (default 4)")
    score.set_defaults(_action=_score)


def run(args: argparse.Namespace) -> int:
    return int(args._action(args) or 0)


def _sidecar(out: Path) -> Path:
    """``items.jsonl`` -> ``items.signature.json`` beside it."""
    return out.with_name(out.stem + ".signature.json")


def _print(frame: Any) -> None:
    import pandas as pd

    with pd.option_context("display.width", 180, "display.max_rows", 400, "display.max_columns", 30):
        print(frame.to_string(index=False, na_rep="–", float_format=lambda v: f"{v:.3f}"))


def _generate(args: argparse.Namespace) -> int:
    from ..corpora import load_corpus
    from ..metrics.charbench.tasks import DEFAULT_WORD_PATTERN, generate_charbench

    if args.min_length > args.max_length:
        raise TokbenchError(f"--min-length {args.min_length} is above --max-length {args.max_length}; swap them")
    check_outputs(args, files=("out",))
    check_outputs(argparse.Namespace(signature=_sidecar(args.out)), files=("signature",))
    corpus = load_corpus(args.corpus)
    tasks = split_list(args.tasks, flag="--tasks")
    if args.word_pattern is not None and not args.word_pattern.strip():
        raise TokbenchError("--word-pattern is empty; give a regex such as \\p{L}+, or leave it out for the default")
    bench = generate_charbench(
        corpus, tasks=tasks, per_length=args.per_length, seed=args.seed,
        pattern=DEFAULT_WORD_PATTERN if args.word_pattern is None else args.word_pattern, min_length=args.min_length,
        max_length=args.max_length, case=args.case, normalization=args.normalization,
    )
    bench.write_jsonl(args.out)
    sig_path = _sidecar(args.out)
    write_json(signature_payload(bench.signature, {"short_buckets": bench.short_buckets}), sig_path)
    counts = bench.to_frame().groupby("task").size()
    print(f"wrote {len(bench.items)} items to {args.out} ("
          + ", ".join(f"{t}: {n}" for t, n in counts.items()) + ")")
    if bench.short_buckets:
        print("buckets with fewer words than --per-length: "
              + ", ".join(f"{k}={v}" for k, v in bench.short_buckets.items()))
    print(f"signature: {bench.signature.short()}")
    return 0


def _features(args: argparse.Namespace) -> int:
    from ..formats import load_tokenizer
    from ..metrics.charbench.features import charbench_features, feature_table
    from ..metrics.charbench.tasks import read_items

    check_outputs(args, files=("out", "table"), folders=("figures",))
    check_outputs(argparse.Namespace(signature=_sidecar(args.out)), files=("signature",))
    items = read_items(args.items)
    toks = [load_tokenizer(p, pattern=args.pattern) for p in args.tokenizer]
    result = charbench_features(toks, items, space=args.space)
    frame = result.to_frame()
    write_frame_csv(frame, args.out)
    write_json(result.signature.to_dict(), _sidecar(args.out))
    table = feature_table(frame)
    if args.table:
        write_frame_csv(table, args.table)
    if args.figures:
        from ..reports.charbench_figures import feature_distribution_figure, tokens_by_length_figure

        save_figure_png(feature_distribution_figure(table), args.figures / "target_token_chars.png", dpi=150)
        save_figure_png(feature_distribution_figure(table, feature="split_share",
                                                    tasks=("count_char", "first_index", "last_index")),
                        args.figures / "split_share.png", dpi=150)
        save_figure_png(tokens_by_length_figure(frame), args.figures / "tokens_by_length.png", dpi=150)
    _print(table)
    print(f"signature: {result.signature.short()}")
    return 0


def _ask(args: argparse.Namespace) -> int:
    from ..metrics.charbench.client import ask_chat_completions
    from ..metrics.charbench.tasks import read_items

    check_outputs(args, files=("out",))
    items = read_items(args.items)
    if args.limit is not None:
        items = items[: args.limit]
    summary = ask_chat_completions(
        items, base_url=args.base_url, model=args.model, out=args.out, api_key_env=args.api_key_env,
        timeout=args.timeout, retries=args.retries, rate_limit=args.rate_limit,
        max_tokens=args.max_tokens, progress=not args.no_progress,
    )
    print(f"asked {summary.asked}, already answered {summary.skipped}, retries {summary.retries}; "
          f"answers in {summary.out}")
    return 0


def _parse_answer_arg(value: str) -> tuple[str, Path]:
    name, sep, path = value.partition("=")
    if sep and name and not Path(value).exists():
        return name, Path(path)
    p = Path(value)
    return p.stem, p


def _score(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..metrics.charbench.scoring import load_answers, score_answers
    from ..metrics.charbench.tasks import read_items

    check_outputs(args, folders=("out",))
    items = read_items(args.items)
    answers: dict[str, Any] = {}
    for value in args.answers:
        name, path = _parse_answer_arg(value)
        if name in answers:
            raise TokbenchError(f"model name {name!r} given twice; name them with NAME=PATH")
        answers[name] = load_answers(path)
    features = None
    if args.features:
        try:
            features = pd.read_csv(args.features)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
            reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise TokbenchError(f"{args.features}: cannot read the feature CSV ({reason}); give the CSV "
                                "`tokbench charbench features` wrote") from None
    result = score_answers(items, answers, features=features, feature_bins=args.bins)
    tables = {"summary": result.summary(), "by_task": result.by_task(), "by_length": result.by_length(),
              "error_overlap": result.error_overlap(), "counting_bias": result.counting_bias()}
    if features is not None:
        tables["by_feature"] = result.by_feature()
        tables["correlations"] = result.correlations()
    if args.out:
        from ..reports.bundle import write_bundle
        from ..reports.charbench_figures import accuracy_figure

        write_bundle(args.out, frames=tables, figures={"accuracy": accuracy_figure(tables["by_task"])},
                     signature=result.signature, extra_json={"notes": result.notes}, dpi=150)
    print("== summary")
    _print(tables["summary"])
    print("== accuracy per task")
    _print(tables["by_task"])
    print("== counting bias on wrong answers")
    _print(tables["counting_bias"])
    if "correlations" in tables:
        corr = tables["correlations"]
        print("== point-biserial correlations (p < 0.05)")
        _print(corr[corr["p"] < 0.05])
    print(f"signature: {result.signature.short()}")
    return 0
