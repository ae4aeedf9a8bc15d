"""The audit's adapters: one function per analysis, from (tokenizer, corpus, options) to frames.

Each adapter calls one metric or attack, decides whether it applies (raising
:class:`~tokbench.audit.result.Skip` when it does not) and turns its result into a
:class:`~tokbench.audit.result.PartResult`: named frames, the result's
:class:`~tokbench.results.Signature` and its notes. Every result follows the
:class:`~tokbench.results.Result` protocol, so no adapter inspects what it got back.

* coverage — :func:`tokbench.metrics.coverage.coverage` (Qtok classes; Latin/Cyrillic
  languages of the corpus; for BPE with merges, which tokens no text can produce:
  :mod:`tokbench.metrics.unreachable`);
* compression — :func:`tokbench.metrics.compression.compression`;
* premiums — :func:`tokbench.metrics.premiums.premiums` on the FLORES-style languages parallel
  to the reference;
* mergefree — :func:`tokbench.attacks.mergefree.evaluate.evaluate_mergefree` (BPE only);
* mixture — :func:`tokbench.attacks.mixture.run_mixture_attack` (Hayase et al. 2024) under the
  audit's budget: at most ``steps`` merges, no bootstrap, the LP capped at ``time_limit``
  seconds, traces not cached (the audit caches whole results); with its diagnostics (how well
  the categories explain the merges, per step window, and the classes of the merges they miss).

Example:
    >>> part = run_compression(tok, load_sample("eng_Latn"), {})   # doctest: +SKIP
    >>> part.frames["compression"].columns[:3].tolist()            # doctest: +SKIP
    ['tokenizer', 'category', 'documents']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..corpora.languages import FLORES_CODE
from .result import PartResult, Skip

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..corpora import Corpus
    from ..model.tokenizer import Tokenizer

__all__ = ["run_coverage", "run_compression", "run_premiums", "run_mergefree", "run_mixture",
           "longest_entries", "flores_part"]


def flores_part(corpus: Corpus, reference: str) -> Corpus | None:
    """The FLORES-style categories parallel to ``reference`` (same number of documents)."""
    if reference not in corpus:
        return None
    n = corpus.n_documents(reference)
    names = [c for c in corpus.category_names if FLORES_CODE.match(c) and corpus.n_documents(c) == n]
    return corpus.subset(names) if len(names) >= 2 else None


def longest_entries(tok: Tokenizer, k: int = 10) -> pd.DataFrame:
    """The ``k`` longest vocabulary entries (in bytes), shown as text."""
    import pandas as pd

    from ..reports.document import token_text

    entries = sorted(((len(b), i) for i, b in enumerate(tok.vocab) if b), reverse=True)[:k]
    return pd.DataFrame([{"tokenizer": tok.name, "id": i, "bytes": n, "token": token_text(tok.vocab[i])}
                         for n, i in entries])


def run_coverage(tok: Tokenizer, corpus: Corpus, options: Mapping[str, Any]) -> PartResult:
    from ..metrics.coverage import coverage

    languages = None
    latin_cyrillic = [c for c in corpus.category_names if FLORES_CODE.match(c) and c[-4:] in ("Latn", "Cyrl")]
    if latin_cyrillic:
        languages = corpus.subset(latin_cyrillic)
    res = coverage([tok], language_corpus=languages, union=False, unreachable=True)
    frames = {
        "coverage": res.to_frame(percent=True),
        "coverage_counts": res.to_frame(),
        "coverage_scripts": res.scripts_frame(),
        "coverage_languages": res.languages_frame(percent=True),
        "coverage_unreachable": res.unreachable_frame(),
        "longest_entries": longest_entries(tok),
    }
    return PartResult(frames, res.signature, tuple(res.notes))


def run_compression(tok: Tokenizer, corpus: Corpus, options: Mapping[str, Any]) -> PartResult:
    from ..metrics.compression import compression

    res = compression(tok, corpus)
    return PartResult({"compression": res.to_frame()}, res.signature, tuple(res.notes))


def run_premiums(tok: Tokenizer, corpus: Corpus, options: Mapping[str, Any]) -> PartResult:
    from ..metrics.premiums import premiums

    reference = options.get("reference", "eng_Latn")
    parallel = flores_part(corpus, reference)
    if parallel is None:
        raise Skip(f"the corpus has no {reference} with parallel FLORES-style languages (e.g. sample: or flores:all)")
    res = premiums([tok], parallel, reference=reference, n_bootstrap=options.get("n_bootstrap", 200),
                   seed=options.get("seed", 0))
    return PartResult({"premiums": res.to_frame(), "premiums_summary": res.summary_frame()}, res.signature,
                      tuple(res.notes))


def run_mergefree(tok: Tokenizer, corpus: Corpus, options: Mapping[str, Any]) -> PartResult:
    from ..attacks.mergefree.evaluate import default_variants, evaluate_mergefree
    from ..errors import UnsupportedTokenizerError

    if tok.kind != "bpe":
        raise Skip(f"a {tok.kind} model has no BPE merge list to compare against")
    try:
        res = evaluate_mergefree(tok, corpus, variants=default_variants(tok), seed=options.get("seed", 0))
    except UnsupportedTokenizerError as err:
        raise Skip(str(err)) from None
    return PartResult({"mergefree": res.to_frame()}, res.signature, tuple(res.notes))


def run_mixture(tok: Tokenizer, corpus: Corpus, options: Mapping[str, Any]) -> PartResult:
    """Infer the byte proportions of the corpus's categories in ``tok``'s training data from its
    first ``options["steps"]`` merges (fewer when the list is shorter), without bootstrap, the LP
    capped at ``options["time_limit"]`` seconds (the ``converged``/``max_violation`` columns say
    whether it finished). Frames: ``mixture`` (one row per category), ``mixture_diagnostics`` (the
    explained share per step window, :meth:`MixtureDiagnostics.to_frame`) and
    ``mixture_unexplained`` (classes of the merges the categories do not explain, with examples)."""
    from ..attacks.mixture import extract_merges, run_mixture_attack

    if not tok.has_merges:
        raise Skip("no merge list: mixture inference reads the ordered merges")
    n_merges = len(extract_merges(tok))
    res = run_mixture_attack(tok, corpus, n_steps=min(options["steps"], n_merges), seed=options.get("seed", 0),
                             use_cache=False, time_limit=options["time_limit"])
    frame = res.to_frame()
    if "tokenizer" not in frame:
        frame.insert(0, "tokenizer", tok.name)
    frames = {"mixture": frame}
    if res.diagnostics is not None:
        frames["mixture_diagnostics"] = res.diagnostics.to_frame()
        frames["mixture_unexplained"] = res.diagnostics.classes_frame()
    return PartResult(frames, res.signature, tuple(res.notes))
