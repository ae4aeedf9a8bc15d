"""Controlled data-mixture experiments (Hayase et al. 2024, §4) and the paper's baselines.

Each trial draws mixture weights uniformly from the simplex (seeded), trains a byte-level BPE
tokenizer (:func:`tokbench.trainers.bpe.train_bpe`) on text of each category in those byte
proportions taken from a *training* half of the data, traces pair counts on the other
(*counting*) half, infers the mixture (:mod:`tokbench.attacks.mixture`) and scores it by MSE
against the true byte proportions. Baselines, scored on the same trials:

* ``random`` — a second uniform draw from the simplex;
* ``TC`` (token classification) — every learned token is assigned to the category where its
  frequency (per token of that category's counting sample) is highest; proportions are the
  shares of tokens assigned;
* ``TEE`` (tokenizer encoding efficiency) — proportions proportional to the tokenizer's bytes per
  token on each category's counting sample (better compression is read as more training data).

Halves: FLORES ``dev`` trains and ``devtest`` counts; for code and other corpora the first half of
each category's documents trains and the second half counts.

The ``extension`` setting (``extension:SETTING``, default lang5) is the attack on an extension's
added merges (issue 17): a base BPE of ``base_steps`` merges is trained on one mixture of the
training half, continued (``initial_merges``) by ``n_steps`` merges on a second mixture (other
weights, another sample of the same half; ``disjoint=True`` gives each mixture half of each
category's documents instead), and the second mixture is inferred from the added merges,
each counting sample traced from its segmentation by the base's merges
(:class:`~tokbench.attacks.mixture.TraceSet` ``base_merges``). Beside the baselines (TC over the
added tokens only) two naive attacks that trace from bytes are scored against the same second
mixture: ``naive_skip`` (the LP over the added merges only, as ``--skip-merges``) and
``naive_all`` (the LP over every merge).

Every trial (setting × merge steps × counting size × seed) is an independent :class:`Trial`
task run through :func:`tokbench.executor.map`; a trial carries its seed, so ``jobs`` worker
processes give the same numbers as one (only the ``lp_seconds`` timings differ).

Example:
    >>> res = run_controlled(["lang5", "code5"], trials=2, n_steps=[300, 1000], jobs=2)   # doctest: +SKIP
    >>> summarise(res)                                                                      # doctest: +SKIP
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import executor
from ..attacks.mixture import TraceSet, infer_mixture, mse
from ..corpora.languages import LANGUAGES_30
from ..errors import TokbenchError
from ..results import Signature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["load_spec", "split_halves", "mixture_sample", "run_trial", "run_controlled", "tc_baseline", "tee_baseline",
           "summarise", "Trial", "run_trial_task", "ControlledResult", "SETTINGS", "run_extension_trial",
           "extension_of", "EXTENSION_BASE_STEPS"]

#: Named category sets (natural languages from FLORES, programming languages, mixed).
SETTINGS: dict[str, str] = {
    "lang5": "flores:" + ",".join(LANGUAGES_30[:5]),
    "lang10": "flores:" + ",".join(LANGUAGES_30[:10]),
    "lang30": "flores:" + ",".join(LANGUAGES_30),
    "code5": "code:python,c,javascript,php,shell",
    "mixed": "flores:" + ",".join(LANGUAGES_30[:5]) + "+code:python,c,javascript,php,shell",
}


#: Merges of the base tokenizer in the ``extension`` setting (the added merges are ``n_steps``). FLORES
#: dev is ~150 KB per language: after 1,000 base merges the added merges are mostly words of
#: dev's own articles, rare in devtest (lang5, T = 300, 10 trials, results/mixture/extension:
#: attack log10 MSE -2.06 after a 1,000-merge base, -2.97 after 300, -3.92 after 100), so the
#: default base is kept small enough for the added merges to be language-generic.
EXTENSION_BASE_STEPS = 300


def extension_of(setting: str) -> str | None:
    """The category setting of an ``extension[:SETTING]`` setting (lang5 by default), else None.

    >>> extension_of("extension"), extension_of("extension:code5"), extension_of("lang5")
    ('lang5', 'code5', None)
    """
    if setting == "extension":
        return "lang5"
    if setting.startswith("extension:"):
        inner = setting.split(":", 1)[1]
        if not inner or extension_of(inner) is not None:
            raise TokbenchError(f"extension setting {setting!r}: give extension:SETTING with SETTING one of "
                                f"{', '.join(SETTINGS)} or a corpus spec")
        return inner
    return None


def load_spec(spec: str) -> Any:
    """The corpus a spec names: :func:`~tokbench.corpora.load_corpus` (the one spec parser), kept
    as this module's entry point; its name is the spec, as everywhere."""
    from ..corpora import load_corpus

    return load_corpus(spec)


def split_halves(spec: str) -> tuple[Any, Any]:
    """``(train, count)`` corpora for a corpus spec or a :data:`SETTINGS` name (module docstring)."""
    from ..corpora import Corpus, parse_corpus_spec, with_flores_split

    spec = SETTINGS.get(spec, spec)
    parts_train, parts_count = [], []
    for parsed in parse_corpus_spec(spec):
        part = parsed.text
        if parsed.kind == "flores" and "split" not in parsed.options:
            parts_train.append(load_spec(with_flores_split(part, "dev")))
            parts_count.append(load_spec(with_flores_split(part, "devtest")))
            continue
        whole = load_spec(part)
        halves: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})
        for cat, docs in whole:
            if len(docs) < 2:
                raise TokbenchError(f"category {cat!r} has {len(docs)} document; halves need at least 2")
            halves[0][cat] = docs[: len(docs) // 2]
            halves[1][cat] = docs[len(docs) // 2:]
        parts_train.append(Corpus(f"{part}#train", halves[0]))
        parts_count.append(Corpus(f"{part}#count", halves[1]))
    return (Corpus.combine(parts_train, name=f"{spec}#train"), Corpus.combine(parts_count, name=f"{spec}#count"))


def mixture_sample(train: Any, weights: np.ndarray, seed: int) -> tuple[list[str], np.ndarray]:
    """Training texts in byte proportions ``weights``, as large as the data allows; returns the
    texts and the true (realised) byte proportions."""
    names = train.category_names
    avail = np.array([train.n_bytes(c) for c in names], np.float64)
    total = float(np.min(avail / np.maximum(weights, 1e-12)))
    texts: list[str] = []
    realised = []
    for c, w in zip(names, weights, strict=True):
        budget = int(w * total)
        if budget < 1:
            realised.append(0)
            continue
        part = train.subset([c]).sample(max_bytes=budget, seed=seed)
        texts.extend(part.documents(c))
        realised.append(part.n_bytes())
    truth = np.asarray(realised, np.float64)
    return texts, truth / truth.sum()


def tc_baseline(tok: Any, count: Any, *, first: int | None = None) -> np.ndarray:
    """Token classification (module docstring); ``first``: the first learned token id that votes
    (default: after the bytes and specials; an extension's first added token for its own merges)."""
    names = count.category_names
    first = 256 + len(tok.special_tokens) if first is None else first
    freq = np.zeros((len(names), tok.vocab_size))
    for i, c in enumerate(names):
        ids = np.concatenate([np.asarray(x, np.int64) for x in tok.encode_batch(count.documents(c))] or [np.zeros(0, np.int64)])
        freq[i] = np.bincount(ids, minlength=tok.vocab_size)[: tok.vocab_size] / max(len(ids), 1)
    learned = freq[:, first:]
    seen = learned.max(axis=0) > 0
    votes = np.bincount(learned[:, seen].argmax(axis=0), minlength=len(names)).astype(np.float64)
    return votes / votes.sum() if votes.sum() else np.full(len(names), 1.0 / len(names))


def tee_baseline(tok: Any, count: Any) -> np.ndarray:
    """Tokenizer encoding efficiency (module docstring)."""
    eff = []
    for c in count.category_names:
        n_tok = sum(len(x) for x in tok.encode_batch(count.documents(c)))
        eff.append(count.n_bytes(c) / max(n_tok, 1))
    e = np.asarray(eff)
    return e / e.sum()


def run_trial(train: Any, count: Any, *, n_steps: int, seed: int, count_bytes: int | None = None,
              baselines: bool = True, solver: str = "highs") -> dict[str, Any]:
    """One trial: weights, tokenizer, traces, inference, errors (log10 MSE) of all methods."""
    from ..trainers.bpe import train_bpe

    rng = np.random.default_rng(seed)
    n = len(train.category_names)
    weights = rng.dirichlet(np.ones(n))
    texts, truth = mixture_sample(train, weights, seed)
    trained = train_bpe(texts, vocab_size=256 + n_steps, progress=False, allow_smaller=True)
    tok = trained.tokenizer
    counting = count.sample(max_bytes=count_bytes, seed=seed) if count_bytes else count
    steps = min(n_steps, len(trained.merges))
    ts = TraceSet.from_corpus(tok, counting, n_steps=steps, use_cache=False)
    fit = infer_mixture(ts, solver=solver)
    out: dict[str, Any] = {
        "seed": seed, "n": n, "steps": n_steps, "steps_used": steps, "count_bytes": count_bytes or int(np.mean([count.n_bytes(c) for c in count.category_names])),
        "train_bytes": sum(len(t.encode("utf-8")) for t in texts),
        "attack": np.log10(max(mse(fit.proportions, truth), 1e-300)), "converged": fit.converged,
        "stop_reason": fit.stop_reason, "gap": fit.gap, "lp_seconds": fit.seconds, "rows": fit.n_rows, "truth": truth.tolist(), "estimate": fit.proportions.tolist(),
    }
    if baselines:
        out["random"] = np.log10(mse(rng.dirichlet(np.ones(n)), truth))
        out["TC"] = np.log10(max(mse(tc_baseline(tok, counting), truth), 1e-300))
        out["TEE"] = np.log10(max(mse(tee_baseline(tok, counting), truth), 1e-300))
    return out


def _document_halves(train: Any) -> tuple[Any, Any]:
    """The first and second half of each category's documents, as two corpora."""
    from ..corpora import Corpus

    halves: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})
    for cat in train.category_names:
        docs = train.documents(cat)
        if len(docs) < 2:
            raise TokbenchError(f"category {cat!r} has {len(docs)} document; the extension setting needs at least 2")
        halves[0][cat], halves[1][cat] = docs[: len(docs) // 2], docs[len(docs) // 2:]
    return Corpus(f"{train.name}#base", halves[0]), Corpus(f"{train.name}#extension", halves[1])


def _log_mse(estimate: Any, truth: np.ndarray) -> float:
    return float(np.log10(max(mse(estimate, truth), 1e-300)))


def run_extension_trial(train: Any, count: Any, *, n_steps: int, seed: int, base_steps: int = EXTENSION_BASE_STEPS,
                        count_bytes: int | None = None, baselines: bool = True, solver: str = "highs",
                        disjoint: bool = False) -> dict[str, Any]:
    """One extension trial (module docstring): base on one mixture, ``n_steps`` added merges on a
    second; the attack with the base, the naive attacks and the baselines, scored (log10 MSE)
    against the second mixture."""
    from ..attacks.mixture.runner import base_prefix
    from ..trainers.bpe import train_bpe

    rng = np.random.default_rng(seed)
    n = len(train.category_names)
    w_base, w_ext = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    base_half, ext_half = _document_halves(train) if disjoint else (train, train)
    base_texts, truth_base = mixture_sample(base_half, w_base, 2 * seed)
    ext_texts, truth = mixture_sample(ext_half, w_ext, 2 * seed + 1)
    base = train_bpe(base_texts, vocab_size=256 + base_steps, progress=False, allow_smaller=True).tokenizer
    ext = train_bpe(ext_texts, vocab_size=len(base.vocab) + n_steps, initial_merges=base, progress=False,
                    allow_smaller=True).tokenizer
    counting = count.sample(max_bytes=count_bytes, seed=seed) if count_bytes else count
    k_listed = len(base.merges or [])
    k = base_prefix(ext, base)
    ts = TraceSet.from_corpus(ext, counting, n_steps=n_steps, base_merges=k, use_cache=False)
    fit = infer_mixture(ts, solver=solver)
    naive_skip = infer_mixture(TraceSet.from_corpus(ext, counting, n_steps=ts.n_steps, skip=k_listed, use_cache=False),
                               solver=solver)
    naive_all = infer_mixture(TraceSet.from_corpus(ext, counting, n_steps=k + ts.n_steps, use_cache=False), solver=solver)
    out: dict[str, Any] = {
        "seed": seed, "n": n, "steps": n_steps, "steps_used": ts.n_steps, "base_steps": base_steps,
        "inherited": k, "count_bytes": count_bytes or int(np.mean([count.n_bytes(c) for c in count.category_names])),
        "train_bytes": sum(len(t.encode("utf-8")) for t in ext_texts),
        "base_train_bytes": sum(len(t.encode("utf-8")) for t in base_texts),
        "attack": _log_mse(fit.proportions, truth), "naive_skip": _log_mse(naive_skip.proportions, truth),
        "naive_all": _log_mse(naive_all.proportions, truth), "converged": fit.converged,
        "stop_reason": fit.stop_reason, "gap": fit.gap, "lp_seconds": fit.seconds, "rows": fit.n_rows,
        "naive_skip_gap": naive_skip.gap, "naive_all_gap": naive_all.gap,
        "truth": truth.tolist(), "truth_base": truth_base.tolist(), "estimate": fit.proportions.tolist(),
        "naive_skip_estimate": naive_skip.proportions.tolist(), "naive_all_estimate": naive_all.proportions.tolist(),
    }
    if baselines:
        out["random"] = _log_mse(rng.dirichlet(np.ones(n)), truth)
        out["TC"] = _log_mse(tc_baseline(ext, counting, first=len(base.vocab)), truth)
        out["TEE"] = _log_mse(tee_baseline(ext, counting), truth)
    return out


@dataclass(frozen=True)
class Trial:
    """One controlled trial as plain data: the setting (a :data:`SETTINGS` name or a corpus
    spec), merge steps, counting-sample size (None: the whole counting half) and seed."""

    setting: str
    n_steps: int
    count_bytes: int | None
    seed: int
    baselines: bool = True
    solver: str = "highs"
    base_steps: int = EXTENSION_BASE_STEPS  # extension settings only


@functools.lru_cache(maxsize=8)
def _halves(setting: str) -> tuple[Any, Any]:
    """:func:`split_halves`, loaded once per process (every trial of a setting shares it)."""
    return split_halves(extension_of(setting) or setting)


def run_trial_task(trial: Trial) -> dict[str, Any]:
    """:func:`run_trial` (:func:`run_extension_trial` for an extension setting) on the setting's
    halves; the row names its setting (``extension base=300`` for an extension's)."""
    train, count = _halves(trial.setting)
    options: dict[str, Any] = {"base_steps": trial.base_steps} if extension_of(trial.setting) else {}
    trial_fn = run_extension_trial if options else run_trial
    row = trial_fn(train, count, n_steps=trial.n_steps, seed=trial.seed, count_bytes=trial.count_bytes,
                   baselines=trial.baselines, solver=trial.solver, **options)
    # an extension's base size is part of its setting (figures draw one panel per setting)
    row["setting"] = f"{trial.setting} base={trial.base_steps}" if options else trial.setting
    return row


@dataclass(frozen=True)
class ControlledResult:
    """Every trial's row (log10 MSE of the attack and the baselines), with signature and notes."""

    frame: pd.DataFrame = field(repr=False)
    signature: Signature
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def summary(self) -> pd.DataFrame:
        """:func:`summarise` of the trials."""
        return summarise(self.frame)


def _trial_notes(frame: Any) -> list[str]:
    """Cautions a reader must see: LP fits that stopped before a proven optimum (a stop at the
    gap tolerance is a proof, so it is not one of them)."""
    if "converged" not in frame:
        return []
    finished = frame["converged"].astype(bool) | (frame["stop_reason"].astype(str) == "gap")
    if finished.all():
        return []
    bad = frame[~finished]
    reasons = ", ".join(sorted(set(map(str, bad["stop_reason"]))))
    return [f"{len(bad)} of {len(frame)} trials' LP did not converge (stop: {reasons}); their attack errors "
            "are those of an unfinished fit"]


def run_controlled(setting: str | Sequence[str], *, trials: int, n_steps: int | Sequence[int], seed: int = 0,
                   count_bytes: int | Sequence[int | None] | None = None, baselines: bool = True,
                   solver: str = "highs", progress: bool = False, jobs: int | None = 1,
                   scheduler: Any = None, base_steps: int | Sequence[int] = EXTENSION_BASE_STEPS) -> ControlledResult:
    """Trials over settings, merge steps and counting-sample sizes (seeds ``seed .. seed+trials-1``
    in each cell; extension settings also over ``base_steps``), one task each; ``jobs`` worker processes (None: all cores) or a Dask
    ``scheduler`` (an address or a ``distributed.Client``, see :func:`tokbench.executor.get_backend`)
    change no number.

    ``to_frame()`` has one row per trial, settings in the order given.
    """
    import pandas as pd

    if trials < 1:
        raise TokbenchError(f"trials must be at least 1, got {trials}")
    settings = [setting] if isinstance(setting, str) else list(setting)
    steps = [n_steps] if isinstance(n_steps, int) else list(n_steps)
    sizes = [count_bytes] if count_bytes is None or isinstance(count_bytes, int) else list(count_bytes)
    bases = [base_steps] if isinstance(base_steps, int) else list(base_steps)
    if not bases or any(isinstance(b, bool) or not isinstance(b, int) or b < 1 for b in bases):
        raise TokbenchError(f"base_steps must be positive integers, got {base_steps!r}")
    halves = {name: _halves(name) for name in settings}  # a bad spec fails before any trial
    tasks = [Trial(name, s, b, seed + k, baselines, solver, base)
             for name in settings for base in (bases if extension_of(name) else [EXTENSION_BASE_STEPS])
             for s in steps for b in sizes for k in range(trials)]
    try:
        rows = executor.map(run_trial_task, tasks, desc="controlled", jobs=jobs, progress=progress,
                            scheduler=scheduler)
    finally:
        _halves.cache_clear()  # the next run reads the data again
    frame = pd.DataFrame(rows)
    signature = Signature(
        tokenizers={}, seed=seed,
        corpus={"corpus": "; ".join(settings),
                **{name: {"train": train.signature(), "count": count.signature()}
                   for name, (train, count) in halves.items()}},
        extra={"method": "mixture_controlled", "trials": trials, "steps": steps, "count_bytes": sizes,
               "baselines": baselines, "solver": solver,
               **({"base_steps": bases} if any(map(extension_of, settings)) else {})},
    )
    return ControlledResult(frame, signature, _trial_notes(frame))


def summarise(frame: Any) -> Any:
    """Mean ± std of log10 MSE per setting, steps and counting size, for every method
    (of a :class:`ControlledResult` or its frame)."""
    if isinstance(frame, ControlledResult):
        frame = frame.frame
    methods = [m for m in ("attack", "naive_skip", "naive_all", "random", "TC", "TEE") if m in frame]
    keys = ["setting", "n", *(["base_steps"] if "base_steps" in frame else []), "steps", "count_bytes"]
    g = frame.groupby(keys, dropna=False)[methods]
    out = g.agg(["mean", "std"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    out["trials"] = g.size()
    return out.reset_index()
