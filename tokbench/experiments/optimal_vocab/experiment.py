"""The optimal-vocabulary experiment (Arnett et al. 2025): train, measure over a grid, fit, solve,
retrain at each language's size, compare premium variance, regress CTC on features.

:func:`optimal_vocab` runs in phases, each a list of independent tasks through
:func:`tokbench.executor.map` (so ``jobs`` worker processes and a task cache change only the
time it takes, never a number):

1. train each language once, at the largest size needed (:func:`.tasks.train_language`);
2. measure every (language, grid size) cell, and the target cell (:func:`.tasks.measure_size`);
3. fit the power law per language (:mod:`tokbench.metrics.power_law`) and solve for the target;
4. retrain the languages whose size lies past their first run, then measure every optimal size;
5. premium spread (shared size vs per-language sizes) and the regression.

Example:
    >>> res = optimal_vocab(train, evals, grid=[500, 1000, 2000], jobs=2)   # doctest: +SKIP
    >>> res.optimal_frame()[["language", "optimal_vocab", "achieved_ctc"]]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ... import executor
from ...corpora import Corpus
from ...metrics.power_law import PowerLawError, PowerLawFit, fit_power_law, regression_table
from ...results import Signature
from .options import OptimalVocabError, Target, check_grid, check_languages, parse_target, script_of
from .result import OptimalVocabResult, premium_rows, regression_input
from .tasks import (
    MeasureTask,
    MergeRun,
    TrainTask,
    measure_cache,
    measure_size,
    train_cache,
    train_language,
    truncate_bpe,
)

if TYPE_CHECKING:  # pragma: no cover
    from ...cache import Cache
    from ...model.tokenizer import Tokenizer

__all__ = ["optimal_vocab"]


@dataclass
class _Setup:
    """The checked options: sizes, target, languages, cap."""

    sizes: list[int]
    kind: str
    target: Any
    names: list[str]
    cap: int
    notes: list[str]

    @property
    def top(self) -> int:
        """The largest size any language is first trained to."""
        return max(self.sizes[-1], self.target[1] if self.kind == "language" else 0)


def _check_options(train: Corpus, evals: Corpus, *, grid: Sequence[int], target: Target, reference: str,
                   languages: Sequence[str] | None, max_vocab: int | None, unreachable: str,
                   feature_scope: str) -> _Setup:
    sizes = check_grid(grid)
    if feature_scope not in ("vocab", "eval"):
        raise OptimalVocabError(f"feature_scope must be 'vocab' or 'eval', got {feature_scope!r}")
    if unreachable not in ("raise", "flag"):
        raise OptimalVocabError(f"unreachable must be 'raise' or 'flag', got {unreachable!r}")
    kind, tvalue = parse_target(target, reference, sizes)
    notes: list[str] = []
    names = check_languages(train, evals, languages, reference)
    if languages is None:
        dropped = [c for c in train.category_names if c not in evals]
        dropped += [c for c in evals.category_names if c not in train]
        if dropped:
            notes.append(f"left out (not in both corpora): {', '.join(dropped)}")
    if kind == "language":
        t_lang, t_vocab = tvalue
        if t_lang not in names:
            names.append(t_lang)
            check_languages(train, evals, names, reference)
        if not 256 < t_vocab <= sizes[-1]:
            raise OptimalVocabError(
                f"target vocabulary {t_vocab} must be above 256 and at most the largest grid size "
                f"{sizes[-1]}; add it to the grid or choose another"
            )
    cap = int(max_vocab) if max_vocab is not None else 8 * sizes[-1]
    if cap < sizes[-1]:
        raise OptimalVocabError(f"max_vocab {cap} is below the largest grid size {sizes[-1]}")
    return _Setup(sizes, kind, tvalue, names, cap, notes)


def _leading_documents(docs: list[str], max_bytes: int | None) -> list[str]:
    """The first documents up to ``max_bytes`` (at least one); all of them for None."""
    if max_bytes is None:
        return docs
    total, out = 0, []
    for d in docs:
        total += len(d.encode("utf-8"))
        if total > max_bytes and out:
            break
        out.append(d)
    return out


@dataclass
class _Lab:
    """The languages' texts, their training runs and measured cells, and how tasks run."""

    pattern: str
    train_fn: Callable[..., Any] | None
    jobs: int | None
    cache: Cache | None
    progress: bool
    scheduler: Any = None
    docs: dict[str, list[str]] = field(default_factory=dict)
    evals: dict[str, list[str]] = field(default_factory=dict)
    overlap: dict[str, list[str]] = field(default_factory=dict)
    eval_bytes: dict[str, int] = field(default_factory=dict)
    runs: dict[str, MergeRun] = field(default_factory=dict)
    cells: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def add_language(self, name: str, train: Corpus, evals: Corpus, overlap_max_bytes: int | None) -> None:
        self.docs[name] = train.documents(name)
        self.evals[name] = evals.documents(name)
        self.overlap[name] = _leading_documents(self.docs[name], overlap_max_bytes)
        self.eval_bytes[name] = sum(len(d.encode("utf-8")) for d in self.evals[name])

    def train(self, sizes: dict[str, int], desc: str) -> None:
        """Train each language to its size (one task each); a later run replaces an earlier one."""
        tasks = [TrainTask(name, self.docs[name], size, self.pattern, self.train_fn) for name, size in sizes.items()]
        cache = train_cache(self.cache) if self.cache is not None else None
        runs = executor.map(train_language, tasks, desc=desc, cache=cache, jobs=self.jobs, progress=self.progress,
                            scheduler=self.scheduler)
        self.runs.update((task.language, run) for task, run in zip(tasks, runs, strict=True))

    def measure(self, cells: Sequence[tuple[str, int]], desc: str) -> None:
        """Measure the cells not measured yet (sizes past a run are measured at its end)."""
        todo = list(dict.fromkeys(self.clamp(name, size) for name, size in cells))
        todo = [cell for cell in todo if cell not in self.cells]
        tasks = [MeasureTask(name, size, self.runs[name], self.evals[name], self.overlap[name]) for name, size in todo]
        cache = measure_cache(self.cache) if self.cache is not None else None
        rows = executor.map(measure_size, tasks, desc=desc, cache=cache, jobs=self.jobs, progress=self.progress,
                            scheduler=self.scheduler)
        self.cells.update(zip(todo, rows, strict=True))

    def clamp(self, name: str, size: int) -> tuple[str, int]:
        return name, min(size, self.runs[name].trained_vocab)

    def cell(self, name: str, size: int) -> dict[str, Any]:
        return self.cells[self.clamp(name, size)]


def _grid_rows(lab: _Lab, names: list[str], sizes: list[int], reference: str) -> list[dict[str, Any]]:
    """One row per (language, grid size); sizes past a language's training run leave the fit."""
    rows: list[dict[str, Any]] = []
    for name in names:
        run = lab.runs[name]
        for v in sizes:
            m = lab.cell(name, v)
            flags = []
            in_fit = True
            if v > run.trained_vocab:
                flags.append(f"training text ran out of pairs at {run.trained_vocab} tokens: measured there, left out of the fit")
                in_fit = False
            elif run.beyond_support(v):
                flags.append(f"past the supported vocabulary {run.supported_vocab} (later merges are pairs seen once)")
            rows.append({"language": name, "script": script_of(name), "vocab_size": v,
                         "log_vocab": math.log(v), **{k: m[k] for k in m if k != "fingerprint"},
                         "eval_bytes": lab.eval_bytes[name], "bytes_per_token": lab.eval_bytes[name] / m["ctc"],
                         "in_fit": in_fit, "flags": "; ".join(flags)})
    ref_ctc = {r["vocab_size"]: r["ctc"] for r in rows if r["language"] == reference}
    for r in rows:
        r["premium"] = r["ctc"] / ref_ctc[r["vocab_size"]]
    return rows


def _target_info(lab: _Lab, setup: _Setup) -> dict[str, Any]:
    """The target CTC: a language's at a size (measured), or an absolute count."""
    if setup.kind == "language":
        t_lang, t_vocab = setup.target
        target_ctc = float(lab.cell(t_lang, t_vocab)["ctc"])
        if t_vocab > lab.runs[t_lang].trained_vocab:
            raise OptimalVocabError(
                f"the target language {t_lang} trains only {lab.runs[t_lang].trained_vocab} tokens, below the "
                f"target vocabulary {t_vocab}; choose a smaller target vocabulary"
            )
        description = f"CTC of {t_lang} at vocabulary {t_vocab}"
    else:
        target_ctc = float(setup.target)
        description = "absolute CTC"
    language = setup.kind == "language"
    return {"kind": setup.kind, "ctc": target_ctc, "description": description,
            "language": setup.target[0] if language else None,
            "vocab_size": setup.target[1] if language else None}


@dataclass
class _Choice:
    """One language's fit and the size chosen for it, with why it differs from the solved one."""

    name: str
    fit: PowerLawFit
    solved: float | None
    rounded: int | None
    wanted: int
    flags: list[str] = field(default_factory=list)
    capped: bool = False
    extrapolated: bool = False


def _fit_language(name: str, run: MergeRun, grid_rows: list[dict[str, Any]], offset: bool) -> PowerLawFit:
    rows = [r for r in grid_rows if r["language"] == name and r["in_fit"]]
    if len(rows) < 3:
        raise OptimalVocabError(
            f"{name}: only {len(rows)} grid size(s) fit in the {run.trained_vocab} tokens its training text "
            f"allows; use smaller grid sizes (all <= {run.trained_vocab}) or more training text"
        )
    try:
        return fit_power_law([r["vocab_size"] for r in rows], [r["ctc"] for r in rows], offset=offset)
    except PowerLawError as err:
        raise OptimalVocabError(f"{name}: {err}") from None


def _fit_row(name: str, fit: PowerLawFit, run: MergeRun) -> dict[str, Any]:
    flags = [f"training text runs out of pairs at {run.trained_vocab} tokens"] if run.stop_reason == "no_pairs" else []
    return {"language": name, "script": script_of(name), "a": fit.a, "b": fit.b, "c": fit.c,
            "r2": fit.r2, "n_points": fit.n_points, "offset": fit.offset,
            "supported_vocab": run.supported_vocab, "trained_vocab": run.trained_vocab,
            "stop_reason": run.stop_reason, "flags": "; ".join(flags)}


def _choose(name: str, fit: PowerLawFit, run: MergeRun, target_ctc: float, setup: _Setup) -> _Choice:
    """Solve for the target and apply the floor (byte alphabet), the grid range and the cap."""
    solved = fit.solve(target_ctc)
    if solved is None:
        why = ("the fitted CTC does not fall with vocabulary" if fit.b <= 0
               else f"the target is below the fitted asymptote c={fit.c:,.0f}")
        choice = _Choice(name, fit, None, None, setup.cap, [f"target unreachable: {why}"])
    else:
        choice = _Choice(name, fit, solved, int(round(solved)), int(round(solved)))
    floor = 256 + len(run.special_tokens)
    if choice.wanted < floor:
        choice.flags.append(f"solved size {choice.wanted} is below the byte alphabet: using {floor} "
                            "(target above byte-level CTC)")
        choice.wanted, choice.capped = floor, True
    if choice.wanted > setup.sizes[-1] or choice.wanted < setup.sizes[0]:
        choice.extrapolated = True
        choice.flags.append("outside the grid: the power law is extrapolated")
    if choice.wanted > setup.cap:
        choice.flags.append(f"capped at max_vocab {setup.cap}")
        choice.wanted, choice.capped = setup.cap, True
    return choice


def _settle(choice: _Choice, run: MergeRun) -> None:
    """After retraining: a size past where the text runs out of pairs is capped there."""
    if choice.wanted > run.trained_vocab:
        choice.flags.append(f"capped: the training text runs out of pairs at {run.trained_vocab} tokens, "
                            f"before {choice.wanted}")
        choice.wanted, choice.capped = run.trained_vocab, True
    if run.beyond_support(choice.wanted):
        choice.flags.append(f"past the supported vocabulary {run.supported_vocab} (merges of pairs seen once)")


def _optimal_row(choice: _Choice, m: dict[str, Any], target_ctc: float) -> dict[str, Any]:
    fit, rounded = choice.fit, choice.rounded
    predicted = fit.predict(rounded) if rounded is not None else None
    return {
        "language": choice.name, "script": script_of(choice.name), "target_ctc": target_ctc,
        "solved_vocab": choice.solved, "optimal_vocab": rounded, "realized_vocab": choice.wanted,
        "predicted_ctc": predicted, "predicted_ctc_at_realized": fit.predict(choice.wanted),
        "achieved_ctc": m["ctc"],
        "error": (m["ctc"] / predicted - 1) if predicted else None,
        "premium": m["ctc"] / target_ctc, "capped": choice.capped, "extrapolated": choice.extrapolated,
        "fingerprint": m["fingerprint"], "flags": "; ".join(choice.flags),
    }


def _fit_and_choose(lab: _Lab, setup: _Setup, grid_rows: list[dict[str, Any]], target: dict[str, Any], *,
                    offset: bool, unreachable: str) -> tuple[list[dict[str, Any]], list[_Choice]]:
    """Fit rows and choices for every language; an unreachable target raises unless flagged."""
    fit_rows, choices = [], []
    for name in setup.names:
        run = lab.runs[name]
        fit = _fit_language(name, run, grid_rows, offset)
        fit_rows.append(_fit_row(name, fit, run))
        choices.append(_choose(name, fit, run, target["ctc"], setup))
    missed = [c.name for c in choices if c.solved is None]
    if missed and unreachable == "raise":
        raise OptimalVocabError(
            f"the target CTC {target['ctc']:,.0f} ({target['description']}) cannot be reached by the fitted curve of "
            f"{', '.join(missed[:8])}; choose a larger target, fit without offset, or pass "
            "unreachable='flag' (--unreachable flag) to keep them at the largest trainable size"
        )
    if missed:
        setup.notes.append(f"target unreachable for {', '.join(missed)} (kept at the largest trainable size)")
    return fit_rows, choices


def _retrain_and_settle(lab: _Lab, choices: list[_Choice], fit_rows: list[dict[str, Any]]) -> None:
    """Train further where a chosen size lies past a full first run; the smaller sizes stay
    prefixes of the longer merge list."""
    longer = {c.name: c.wanted for c in choices
              if c.wanted > lab.runs[c.name].trained_vocab and lab.runs[c.name].stop_reason == "vocab_size"}
    lab.train(longer, desc="retrain")
    for choice, row in zip(choices, fit_rows, strict=True):
        run = lab.runs[choice.name]
        if choice.name in longer and run.stop_reason == "no_pairs":
            row.update(flags=f"training text runs out of pairs at {run.trained_vocab} tokens",
                       trained_vocab=run.trained_vocab, stop_reason="no_pairs")
        _settle(choice, run)
    lab.measure([(c.name, c.wanted) for c in choices], desc="optimal")


def _signature(train: Corpus, evals: Corpus, optimal_rows: list[dict[str, Any]], setup: _Setup,
               target: dict[str, Any], options: dict[str, Any]) -> Signature:
    return Signature(
        tokenizers={f"{r['language']}@{r['realized_vocab']}": r["fingerprint"] for r in optimal_rows},
        corpus={"corpus": f"{train.name} -> {evals.name}", "train": train.signature(), "eval": evals.signature()},
        extra={"method": "optimal_vocab", "grid": setup.sizes, "target": target, "offset": options["offset"],
               "pattern": options["pattern"], "max_vocab": setup.cap, "feature_scope": options["feature_scope"],
               "overlap_max_bytes": options["overlap_max_bytes"], "reference": options["reference"]},
    )


def _kept_tokenizers(lab: _Lab, setup: _Setup, optimal_rows: list[dict[str, Any]]) -> dict[str, Tokenizer]:
    """Each language's tokenizer at its optimal size and at every grid size (for --save-tokenizers)."""
    keep: dict[str, Tokenizer] = {}
    for r in optimal_rows:
        name, size = lab.clamp(r["language"], r["realized_vocab"])
        keep[f"{name}@{size}"] = truncate_bpe(lab.runs[name], size, name=f"bpe-{name}-{size}")
    for name in setup.names:
        for v in setup.sizes:
            name, size = lab.clamp(name, v)
            if f"{name}@{size}" not in keep:
                keep[f"{name}@{size}"] = truncate_bpe(lab.runs[name], size)
    return keep


def optimal_vocab(
    languages_corpus_train: Corpus,
    languages_corpus_eval: Corpus,
    *,
    grid: Sequence[int],
    target: Target = None,
    reference_language: str = "eng_Latn",
    languages: Sequence[str] | None = None,
    offset: bool = False,
    pattern: str = "gpt2",
    max_vocab: int | None = None,
    unreachable: Literal["raise", "flag"] = "raise",
    feature_scope: Literal["vocab", "eval"] = "vocab",
    overlap_max_bytes: int | None = 5_000_000,
    keep_tokenizers: bool = False,
    progress: bool = False,
    train_fn: Callable[..., Any] | None = None,
    jobs: int | None = 1,
    cache: Cache | None = None,
    scheduler: Any = None,
) -> OptimalVocabResult:
    """Fit CTC(v) per language, solve for the vocabulary reaching ``target``, retrain there.

    Args:
        languages_corpus_train: one category per language; each language's tokenizer is trained
            on its own documents only (monolingual).
        languages_corpus_eval: the parallel evaluation corpus (same sentences in every language).
        grid: at least 3 vocabulary sizes (> 256). Sizes past what a language's training text
            supports are flagged and left out of its fit.
        target: ``None`` (the reference language's CTC at the middle grid size), ``"LANG@V"`` or
            ``(LANG, V)`` (that language's CTC at size V, V <= max(grid)), or an absolute CTC.
        languages: which categories (default: every evaluation category also in training).
        offset: fit ``a v^−b + c`` instead of ``a v^−b``.
        max_vocab: never train past this size (default 8 × max(grid)); capped rows are flagged.
        unreachable: ``"raise"`` (default) when a fitted curve cannot reach the target (not
            decreasing, or the target below the fitted asymptote ``c``); ``"flag"`` keeps the
            language at the largest size it can train and says so.
        feature_scope: the regression's ``mean_token_chars`` and ``whitespace_share`` over the
            learned vocabulary (``"vocab"``, default) or over the evaluation tokens (``"eval"``;
            mean token length is then the characters per token, CTC's reciprocal up to size).
        overlap_max_bytes: tokenize at most this much training text per language (its first
            documents) at each grid size for the train/eval overlap feature (training itself
            always uses all of it); None for all of it. FLORES dev is far below the default.
        train_fn: the BPE trainer (default :func:`tokbench.trainers.bpe.train_bpe`), called like it
            with a word-count table of the language's training text; a module-level function
            when ``jobs`` is not 1.
        jobs: worker processes for the training and measuring tasks (1: this process; None: all
            cores). The numbers are the same whatever the count.
        cache: keep each training run and grid cell in this :class:`tokbench.cache.Cache`, so a
            rerun (or an interrupted one) skips what is done; a damaged entry is recomputed.
        scheduler: run those tasks on a Dask cluster (an address or a ``distributed.Client``;
            default ``$TOKBENCH_SCHEDULER``, else local); the numbers are the same.

    Raises:
        OptimalVocabError: fewer than 3 grid sizes, a bad target, an unreachable target.
        UnknownLanguageError: a language (or the reference) missing from either corpus.
    """
    train, evals = languages_corpus_train, languages_corpus_eval
    setup = _check_options(train, evals, grid=grid, target=target, reference=reference_language,
                           languages=languages, max_vocab=max_vocab, unreachable=unreachable,
                           feature_scope=feature_scope)
    lab = _Lab(pattern, train_fn, jobs, cache, progress, scheduler)
    for name in setup.names:
        lab.add_language(name, train, evals, overlap_max_bytes)
    lab.train(dict.fromkeys(setup.names, setup.top), desc="train")
    target_cell = [setup.target] if setup.kind == "language" else []
    lab.measure([(n, v) for n in setup.names for v in setup.sizes] + target_cell, desc="grid")
    grid_rows = _grid_rows(lab, setup.names, setup.sizes, reference_language)
    target_info = _target_info(lab, setup)
    fit_rows, choices = _fit_and_choose(lab, setup, grid_rows, target_info, offset=offset, unreachable=unreachable)
    _retrain_and_settle(lab, choices, fit_rows)
    optimal_rows = [_optimal_row(c, lab.cell(c.name, c.wanted), target_info["ctc"]) for c in choices]
    return _assemble(lab, setup, train, evals, grid_rows, fit_rows, optimal_rows, target_info, keep_tokenizers,
                     {"offset": offset, "pattern": pattern, "feature_scope": feature_scope,
                      "overlap_max_bytes": overlap_max_bytes, "reference": reference_language})


def _assemble(lab: _Lab, setup: _Setup, train: Corpus, evals: Corpus, grid_rows: list[dict[str, Any]],
              fit_rows: list[dict[str, Any]], optimal_rows: list[dict[str, Any]], target: dict[str, Any],
              keep_tokenizers: bool, options: dict[str, Any]) -> OptimalVocabResult:
    """Premium spread, regression, signature and notes around the measured rows."""
    spread = premium_rows(grid_rows, optimal_rows, setup.sizes, target, options["reference"])
    try:
        reg, coef = regression_table(regression_input(grid_rows, options["feature_scope"]), controls=("log_vocab",))
    except PowerLawError as err:
        raise OptimalVocabError(str(err)) from None
    for r in fit_rows:  # retraining may have revealed where support ends
        run = lab.runs[r["language"]]
        r.update(supported_vocab=run.supported_vocab, trained_vocab=run.trained_vocab, stop_reason=run.stop_reason)
    if any(lab.runs[r["language"]].beyond_support(r["realized_vocab"]) for r in optimal_rows):
        setup.notes.append("some optimal sizes lie past what the training text supports (pairs seen once); "
                           "use more training text for those languages")
    return OptimalVocabResult(
        grid_rows=grid_rows, fit_rows=fit_rows, optimal_rows=optimal_rows, premium_rows=spread,
        regression_rows=reg.to_dict("records"), coefficient_rows=coef.to_dict("records"),
        signature=_signature(train, evals, optimal_rows, setup, target, options), target=target,
        grid=setup.sizes, notes=setup.notes,
        tokenizers=_kept_tokenizers(lab, setup, optimal_rows) if keep_tokenizers else {},
    )
