"""The whole mixture attack on one tokenizer: trace, solve, resample (Hayase et al. 2024).

:func:`run_mixture_attack` traces every category of a corpus under the tokenizer's first
``n_steps`` merges (:class:`~tokbench.attacks.mixture.traceset.TraceSet`), solves the LP
(:func:`~tokbench.attacks.mixture.lp.infer_mixture`) and, with ``bootstrap`` > 0, re-solves it
on half-sample replicates warm-started with the main solve's rows, returning a
:class:`~tokbench.attacks.mixture.result.MixtureResult` with the main fit's diagnostics
(:func:`~tokbench.attacks.mixture.diagnostics.diagnose`: how well the categories explain the
merges; the replicates are not diagnosed, to keep them cheap). :func:`mse` scores an estimate
against known proportions (controlled experiments). With ``base`` (the tokenizer the attacked one
extends, :func:`base_prefix`) only the added merges are attacked, each category traced from its
segmentation by the inherited merges.

Example:
    >>> res = run_mixture_attack(tok, corpus, n_steps=2000, bootstrap=10)   # doctest: +SKIP
    >>> res.to_frame()[["category", "proportion", "ci_low", "ci_high"]]    # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ...corpora import CorpusWarning
from ...errors import TokbenchError
from .diagnostics import diagnose
from .lp import infer_mixture
from .merges import extract_merges, inherited_merges, listed_prefix
from .result import MixtureResult
from .traceset import TraceSet

if TYPE_CHECKING:  # pragma: no cover
    from ...model.tokenizer import Tokenizer

__all__ = ["run_mixture_attack", "mse", "base_prefix", "identical_categories"]


def base_prefix(tok: Tokenizer, base: Tokenizer | int | None, *, skip: int | Literal["auto"] = 0) -> int:
    """Entries of ``tok``'s cleaned merge list (:func:`extract_merges`) that ``base`` accounts for:
    ``base`` is the tokenizer ``tok`` extends (its inherited merges,
    :func:`~tokbench.attacks.mixture.merges.inherited_merges`) or a count of ``tok``'s leading
    listed merges; 0 without a base.

    Example:
        >>> base_prefix(qwen2, cl100k)   # doctest: +SKIP
        98900
    """
    if base is None:
        return 0
    if skip not in (0, None):
        raise TokbenchError("give either a base (attack an extension's added merges) or skip (drop leading merges), "
                            "not both")
    if isinstance(base, bool) or not isinstance(base, int):
        base = inherited_merges(base, tok)
    if base < 0:
        raise TokbenchError(f"the base's merge count must be non-negative, got {base}")
    return listed_prefix(tok, extract_merges(tok), base) if base else 0


def run_mixture_attack(tok: Tokenizer, corpus: Any, *, n_steps: int, skip: int | Literal["auto"] = 0,
                       solver: str = "highs", bootstrap: int = 0, seed: int = 0, cache_dir: Any = None,
                       use_cache: bool = True, progress: bool = False, diagnostics: bool = True,
                       base: Tokenizer | int | None = None, jobs: int | None = None, scheduler: Any = None,
                       **lp_options: Any) -> MixtureResult:
    """Trace every category of ``corpus`` under ``tok``, solve, diagnose the fit (``diagnostics``,
    :attr:`MixtureResult.diagnostics`) and resample (``bootstrap`` half-sample replicates, see
    :meth:`MixtureResult.intervals`); ``lp_options`` go to
    :func:`~tokbench.attacks.mixture.lp.infer_mixture`.

    ``base``: the tokenizer ``tok`` extends (or how many of ``tok``'s leading listed merges are
    inherited): the attack then infers the mixture of the data of the *added* merges only, each
    category traced from its segmentation by the inherited merges, over ``n_steps`` added merges
    (:func:`base_prefix`; Hayase et al. 2024 on Llama 3 over cl100k).

    ``jobs`` / ``scheduler``: trace the categories in worker processes or on a Dask cluster
    (:meth:`TraceSet.from_corpus`; the same traces, so the same result); ``corpus`` may then be
    a spec string or a :class:`~tokbench.corpora.CorpusStream`, never held in memory here."""
    identical = identical_categories(corpus)
    for group in identical:
        warnings.warn(f"categories {', '.join(group)} hold identical text; the mixture attack splits their share "
                      "arbitrarily (leave all but one out)", CorpusWarning, stacklevel=2)
    k = base_prefix(tok, base, skip=skip)
    ts = TraceSet.from_corpus(tok, corpus, n_steps=n_steps, skip=skip, replicates=bootstrap, seed=seed,
                              cache_dir=cache_dir, use_cache=use_cache, progress=progress, base_merges=k,
                              jobs=jobs, scheduler=scheduler)
    fit = infer_mixture(ts, solver=solver, progress=progress, **lp_options)
    diag = diagnose(ts, fit, vocab=tok.vocab) if diagnostics else None
    rep_fits = [infer_mixture(ts, solver=solver, replicate=r, warm_rows=fit.rows, **lp_options)
                for r in range(1, bootstrap + 1)]
    reps = [f.proportions for f in rep_fits]
    return MixtureResult(
        tokenizer=tok.name, fingerprint=tok.fingerprint, fit=fit, n_steps=ts.n_steps,
        replicates=np.array(reps).reshape(len(reps), len(ts.categories)), corpus=ts.corpus,
        options={"steps": ts.n_steps, "solver": solver, "bootstrap": bootstrap, **ts.merges.signature(),
                 **({"base": getattr(base, "name", base)} if base is not None else {}), **lp_options},
        seed=seed, replicates_converged=sum(f.solved for f in rep_fits),
        identical=identical, diagnostics=diag,
    )


def identical_categories(corpus: Any) -> tuple[tuple[str, ...], ...]:
    """Groups of categories holding the same text: :meth:`Corpus.identical_categories`, or one
    pass over a stream (a spec string or :class:`~tokbench.corpora.CorpusStream`) hashing each
    category's documents as they come.

    Example:
        >>> identical_categories(Corpus("toy", {"a": ["x"], "b": ["y"], "c": ["x"]}))   # doctest: +SKIP
        (('a', 'c'),)
    """
    if hasattr(corpus, "identical_categories"):
        return tuple(corpus.identical_categories())
    if isinstance(corpus, str):
        from ...corpora import stream_corpus

        corpus = stream_corpus(corpus)
    if not hasattr(corpus, "iter_records"):
        return ()
    digests: dict[str, Any] = {}
    for cat, doc in corpus.iter_records():
        data = doc.encode("utf-8", "surrogatepass")
        digests.setdefault(cat, hashlib.sha256()).update(b"D%d:" % len(data) + data)
    groups: dict[str, list[str]] = {}
    for cat, digest in digests.items():
        groups.setdefault(digest.hexdigest(), []).append(cat)
    return tuple(tuple(g) for g in groups.values() if len(g) > 1)


def mse(estimate: Sequence[float], truth: Sequence[float]) -> float:
    """Mean squared error between two proportion vectors."""
    e = np.asarray(estimate, np.float64)
    t = np.asarray(truth, np.float64)
    return float(np.mean((e - t) ** 2))

