"""Attacks on tokenizers: infer the training-data mixture from a merge list (Hayase et al. 2024).

``tokbench attack mixture TOKENIZER...`` traces pair counts of every corpus category under each
tokenizer's merges and solves the mixture LP; ``tokbench attack controlled`` trains tokenizers on
known mixtures and measures how well the attack (and the baselines) recover them.

Example:
    $ tokbench attack mixture ../shared/data/tokenizers/gpt2 --categories "flores:eng_Latn,fra_Latn+code:python" --steps 3000
    $ tokbench attack mixture qwen2_tokenizer.json --base cl100k_base.tiktoken --steps 1000
    $ tokbench attack mixture cl100k_base.tiktoken --jobs 8 --steps 30000          # traces in 8 processes
    $ tokbench attack mixture cl100k_base.tiktoken --scheduler tcp://10.0.0.5:8786  # traces on a Dask cluster
    $ tokbench attack controlled --setting lang5 --trials 10 --steps 1000,3000 --out results/mixture
    $ tokbench attack controlled --setting extension --trials 10 --steps 300,1000 --base-steps 100,300 --out results/mixture/extension
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..corpora.languages import ATTACK_LANGUAGES
from ._common import (
    NONNEGATIVE_INT,
    POSITIVE_INT,
    add_scheduler_argument,
    add_tokenizer_argument,
    check_outputs,
    csv_text,
    float_in,
    load_from_args,
)

#: Default categories of the off-the-shelf attack: 35 FLORES languages and the nine code languages.
DEFAULT_CATEGORIES = "flores:" + ",".join(ATTACK_LANGUAGES) + "@both+code:all"


def _ints(text: str) -> list[int]:
    """``"300k,1m,500"`` -> ``[300000, 1000000, 500]``; every size must be a positive number."""
    out = []
    for part in text.split(","):
        part = part.strip().lower().replace("_", "")
        mult = 1
        if part.endswith("k"):
            part, mult = part[:-1], 1000
        elif part.endswith("m"):
            part, mult = part[:-1], 1_000_000
        try:
            value = float(part) * mult
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated sizes such as 300k,1m, got {text!r}") from None
        if not value >= 1 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"sizes must be at least 1, got {part or '(empty)'} in {text!r}")
        out.append(int(value))
    return out


def _sizes(text: str) -> list[int | None]:
    """Counting-sample sizes: like :func:`_ints`, and ``all`` (the whole sample) as ``None``."""
    return [None if part.strip().lower() == "all" else _ints(part)[0] for part in text.split(",")]


def _load(spec: str):  # type: ignore[no-untyped-def]
    from ..experiments.mixture_controlled import load_spec

    return load_spec(spec)


def _stream(spec: str):  # type: ignore[no-untyped-def]
    """The spec as a stream, or loaded when a part samples (``?max_bytes=``): a stream samples by
    seeded hashing, a loaded corpus by shuffling, and the attack must not change with --jobs."""
    from ..corpora import stream_corpus

    stream = stream_corpus(spec)
    return _load(spec) if any(part.max_bytes is not None for part in stream.parts) else stream


def _skip(text: str) -> int | str:
    return "auto" if text == "auto" else NONNEGATIVE_INT(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="attack", metavar="ATTACK")
    sub.required = True

    mix = sub.add_parser("mixture", help="infer the training-data mixture of tokenizers from their merges",
                         description="Infer byte proportions of training-data categories by linear programming.")
    add_tokenizer_argument(mix, many=True)
    mix.add_argument("--categories", default=DEFAULT_CATEGORIES,
                     help="corpus spec whose categories are the candidates (default: 35 FLORES languages + 9 code languages)")
    mix.add_argument("--max-bytes", type=_ints, default=None, help="byte budget per category sample (e.g. 300k); default: all")
    mix.add_argument("--steps", type=POSITIVE_INT, default=30_000, help="merge steps T used (default 30000; capped at the merge list)")
    mix.add_argument("--skip-merges", type=_skip, default=0, help="leading merges to skip: a number or 'auto' (whitespace merges); the text is still "
                          "traced from its base symbols without them (to attack an extension's added merges, use --base)")
    mix.add_argument("--base", metavar="TOKENIZER",
                     help="the tokenizer the attacked ones extend (their first merges are its merges, as "
                          "`tokbench compare` finds): infer the mixture of the data of the *added* merges only, "
                          "tracing each category from its segmentation by the inherited merges; --steps then "
                          "counts added merges")
    mix.add_argument("--solver", choices=["highs", "pulp"], default="highs", help="LP solver (default highs)")
    mix.add_argument("--bootstrap", type=NONNEGATIVE_INT, default=0, help="half-sample replicates for 95%% intervals (default 0; see MixtureResult.intervals)")
    mix.add_argument("--time-limit", type=float_in(0, float("inf"), low_open=True, high_open=True), default=None,
                     help="seconds per LP solve before stopping row generation (reported as converged=False with "
                          "the remaining violation); default: no limit")
    mix.add_argument("--max-iter", type=POSITIVE_INT, default=1000, help="row-generation sweeps per LP solve (default 1000)")
    mix.add_argument("--margin-counts", type=float_in(0, float("inf"), high_open=True), default=None,
                     help="noise margin: a pair ahead of the merged one by at most this many occurrences (in a "
                          "median-size category sample) costs no slack; 0 = the paper's LP, which is rarely solved "
                          "in minutes (then use --stable-tol); default 4 (attacks.mixture.lp.MARGIN_COUNTS)")
    mix.add_argument("--stable-tol", type=float_in(0, 1), default=0.0,
                     help="stop once no byte proportion moved more than this over 20 sweeps of all steps "
                          "(reported as stop_reason=stable with the optimality gap; meant for --margin-counts 0; "
                          "default 0 = off: fits run to a proven gap of 10^-3 or a cap)")
    mix.add_argument("--seed", type=int, default=0, help="seed of sampling and replicates (default 0)")
    mix.add_argument("--out", type=Path, help="folder for mixture.csv, mixture_groups.csv, diagnostics.csv, unexplained.csv, "
                                              "mixture.png, mixture_groups.png, signature.json")
    mix.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    mix.add_argument("--no-cache", action="store_true", help="do not read or write the trace cache")
    mix.add_argument("--jobs", type=POSITIVE_INT, default=None,
                     help="worker processes for the per-category traces (default: every core, or $TOKBENCH_JOBS); "
                     "without --max-bytes the workers stream their category from its files; results are the same "
                     "for any N")
    add_scheduler_argument(mix, "the per-category traces")
    mix.add_argument("--no-diagnostics", action="store_true",
                     help="skip the category diagnostics (how well the categories explain the merges: "
                          "diagnostics.csv, unexplained.csv; a few seconds at 3,000 steps)")

    ctl = sub.add_parser("controlled", help="controlled experiments: train on known mixtures, infer, score",
                         description="Train BPE tokenizers on known mixtures and score the attack and baselines.")
    ctl.add_argument("--setting", action="append",
                     help="lang5, lang10, lang30, code5, mixed, a corpus spec, or extension[:SETTING] (a base BPE "
                          "trained on one mixture, continued on another; --steps counts the added merges; "
                          "repeatable; default lang5)")
    ctl.add_argument("--trials", type=POSITIVE_INT, default=10, help="trials per grid point (default 10)")
    ctl.add_argument("--base-steps", type=_ints, default=None,
                     help="extension settings: merges of the base tokenizer, comma-separated (default 300)")
    ctl.add_argument("--steps", type=_ints, default=[1000], help="merge steps T, comma-separated (default 1000)")
    ctl.add_argument("--count-bytes", type=_sizes, default=None,
                     help="counting-sample sizes per category, comma-separated, 'all' for the whole counting half (default: all)")
    ctl.add_argument("--seed", type=int, default=0, help="first trial seed (default 0)")
    ctl.add_argument("--solver", choices=["highs", "pulp"], default="highs")
    ctl.add_argument("--no-baselines", action="store_true", help="skip the TC, TEE and random baselines")
    ctl.add_argument("--out", type=Path, help="folder for controlled.csv, controlled_summary.csv, controlled.png, signature.json")
    ctl.add_argument("--jobs", type=POSITIVE_INT, default=None,
                     help="worker processes for the trials (default: every core, or $TOKBENCH_JOBS); "
                     "results are the same for any N")
    add_scheduler_argument(ctl, "the trials")


def run(args: argparse.Namespace) -> int:
    return _run_mixture(args) if args.attack == "mixture" else _run_controlled(args)


def _print(frame, csv: bool) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    if csv:
        print(csv_text(frame), end="")
    else:
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(frame.to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def _print_diagnostics(diag, out) -> None:  # type: ignore[no-untyped-def]
    """The diagnostics block of one tokenizer: explained share overall and by window, slack, the
    pairs the fit discounts at every step, and the largest classes of unexplained merges."""
    if diag is None:
        return
    print(f"# diagnostics: {diag.summary()}", file=out)
    if diag.pair_slacks:
        print("#   pairs discounted at every step (v_p): "
              + ", ".join(f"{text} {v:.4g}" for text, v in diag.pair_slacks[:5]), file=out)
    classes = diag.classes_frame().head(5)
    for name, steps, share, examples in zip(classes["class"], classes["steps"], classes["share"], classes["examples"],
                                            strict=True):
        shown = ", ".join(f"'{e}'" for e in examples.split(" | "))
        print(f"#   unexplained {name}: {steps} steps ({share:.1%}), e.g. {shown}", file=out)


def _write_unexplained(path: Path, frames: list) -> None:  # type: ignore[type-arg]
    """``unexplained.csv``: one row per unexplained merge (free text quoted by :func:`csv_text`)."""
    import pandas as pd

    from .._io import atomic_write

    with atomic_write(path) as handle:
        handle.write(csv_text(pd.concat(frames, ignore_index=True)))


def _inherited(tok, base, skip) -> int:  # type: ignore[no-untyped-def]
    """How many of ``tok``'s merges ``base``'s are, by ``compare``'s merge relation; a
    :class:`TokbenchError` saying what compare found when ``tok`` does not extend ``base``."""
    from ..errors import TokbenchError
    from ..metrics.compare.merges import tokenizer_merge_relation

    if skip not in (0, None):
        raise TokbenchError("--base and --skip-merges exclude each other: --base already leaves the inherited merges "
                            "out of the LP (and traces from their segmentation); drop --skip-merges")
    rel = tokenizer_merge_relation(base, tok)
    if rel.relation != "b_extends_a" or not rel.inherited:
        raise TokbenchError(
            f"--base {base.name}: {tok.name} does not extend it; compare finds '{rel.verdict}' (common prefix "
            f"{rel.lcp if rel.lcp is not None else 'n/a'} merges, {rel.merges_shared or 0:,} shared)"
            + "".join(f"; {note}" for note in rel.notes)
            + ". --base needs a tokenizer whose first merges are the base's; drop --base to attack all merges"
        )
    return int(rel.inherited)


def _run_mixture(args: argparse.Namespace) -> int:
    import pandas as pd

    from ..attacks.mixture import run_mixture_attack
    from ..attacks.mixture.merges import extract_merges
    from ..executor import default_jobs, default_scheduler

    check_outputs(args, folders=("out",))
    jobs = args.jobs or default_jobs()
    scheduler = args.scheduler or default_scheduler()
    if args.max_bytes:
        corpus = _load(args.categories).sample(max_bytes=args.max_bytes[0], seed=args.seed)
    elif jobs > 1 or scheduler is not None:
        corpus = _stream(args.categories)  # workers read their category's files; nothing is held here
    else:
        corpus = _load(args.categories)
    frames, grouped, diagnostics, unexplained = [], [], [], []
    signatures = {}
    base = load_from_args(args.base, argparse.Namespace()) if args.base else None
    for path in args.tokenizer:
        tok = load_from_args(path, args)
        inherited = _inherited(tok, base, args.skip_merges) if base is not None else None
        n_merges = len(extract_merges(tok, skip=args.skip_merges))
        if inherited is not None:
            print(f"# {tok.name} extends {base.name}: {inherited:,} inherited merges; attacking the added ones",
                  file=sys.stderr if args.csv else sys.stdout)
        result = run_mixture_attack(tok, corpus, n_steps=min(args.steps, n_merges), base=inherited, skip=args.skip_merges,
                                    solver=args.solver, bootstrap=args.bootstrap, seed=args.seed,
                                    use_cache=not args.no_cache, progress=sys.stderr.isatty(), time_limit=args.time_limit,
                                    max_iter=args.max_iter, stable_tol=args.stable_tol or None,
                                    **({} if args.margin_counts is None else {"margin_counts": args.margin_counts}),
                                    diagnostics=not args.no_diagnostics, jobs=jobs, scheduler=scheduler)
        frame = result.to_frame()
        frames.append(frame)
        grouped.append(result.grouped())
        signatures[tok.name] = result.signature
        fit = result.fit
        # With --csv, stdout is pure CSV (pandas reads it back); the run lines go to stderr.
        notes_to = sys.stderr if args.csv else sys.stdout
        print(f"# {result.signature.short()} steps={result.n_steps} rows={fit.n_rows} iterations={fit.iterations} "
              f"converged={fit.converged} stop={fit.stop_reason} gap={fit.gap:.3g} "
              f"max_violation={fit.max_violation:.3g} skipped_steps={fit.skipped_steps} "
              f"alphabet_slack={fit.alphabet_slack:.3g} seconds={fit.seconds:.1f}"
              + (f" replicates_converged={result.replicates_converged}/{args.bootstrap}" if args.bootstrap else "")
              + ("" if result.reliable else f"  UNRELIABLE: {result.unreliable_reason}"), file=notes_to)
        # Every caution beside the numbers: an unfinished or unreliable fit, few candidate
        # categories, shares extrapolated or inflated by few pairs per byte.
        for note in result.notes:
            print(f"# caution: {note}", file=notes_to)
        _print_diagnostics(result.diagnostics, notes_to)
        if result.diagnostics is not None:
            diagnostics.append(result.diagnostics.to_frame())
            unexplained.append(result.diagnostics.unexplained_frame())
    frame = pd.concat(frames, ignore_index=True)
    groups = pd.concat(grouped, ignore_index=True)
    _print(groups if not args.csv else frame, args.csv)
    if args.out is not None:
        from ..reports.bundle import write_bundle
        from ..reports.mixture_figures import mixture_groups_figure, mixture_proportions_figure

        tables = {"mixture": frame, "mixture_groups": groups}
        if diagnostics:
            tables["diagnostics"] = pd.concat(diagnostics, ignore_index=True)
        write_bundle(args.out, frames=tables, signature=signatures,
                     figures={"mixture": mixture_proportions_figure(frame),
                              "mixture_groups": mixture_groups_figure(groups)})
        if unexplained:
            _write_unexplained(args.out / "unexplained.csv", unexplained)
        print(f"wrote {args.out}/{', '.join(name + '.csv' for name in tables)}"
              + (", unexplained.csv" if unexplained else "") + ", signature.json, mixture.png and mixture_groups.png",
              file=sys.stderr if args.csv else sys.stdout)
    return 0


def _run_controlled(args: argparse.Namespace) -> int:
    from ..experiments.mixture_controlled import run_controlled

    check_outputs(args, folders=("out",))
    result = run_controlled(args.setting or ["lang5"], trials=args.trials, n_steps=args.steps, seed=args.seed,
                            count_bytes=args.count_bytes, baselines=not args.no_baselines, solver=args.solver,
                            progress=sys.stderr.isatty(), jobs=args.jobs,
                            scheduler=args.scheduler, **({"base_steps": args.base_steps} if args.base_steps else {}))
    frame = result.to_frame()
    summary = result.summary()
    _print(summary, False)
    for note in result.notes:
        print(f"note: {note}")
    if args.out is not None:
        from ..reports.bundle import write_bundle
        from ..reports.mixture_figures import controlled_figure, controlled_size_figure

        figures = {"controlled": controlled_figure(frame)}
        if frame.groupby("setting")["count_bytes"].nunique().max() > 1:
            figures["controlled_size"] = controlled_size_figure(frame)
        write_bundle(args.out, frames={"controlled": frame, "controlled_summary": summary},
                     figures=figures, signature=result.signature)
        print(f"wrote {args.out}/controlled.csv, controlled_summary.csv, signature.json and "
              f"{', '.join(name + '.png' for name in figures)}")
    return 0
