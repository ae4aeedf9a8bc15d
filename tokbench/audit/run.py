"""Run the audit: every chosen analysis on every tokenizer over one corpus, failures recorded.

:func:`audit` loads the tokenizers and the corpus (a file that fails to load, a corpus part that
fails or a requested language the corpus lacks becomes a failed item, not an exception), then
runs each (analysis, tokenizer) step through its adapter, reusing the on-disk cache
(:mod:`tokbench.audit.cache`) when the same step ran before. An analysis that does not apply is
skipped with its reason; one that fails on one tokenizer is recorded and the rest still runs.
"Fails" means anything raised, not only a ``TokbenchError``: a library bug, or the Rust panic
tiktoken raises on a duplicated rank (``pyo3_runtime.PanicException``, a ``BaseException``),
becomes a failed item with a one-line reason; only Ctrl-C and ``SystemExit`` stop the audit. A
corpus part naming an unknown language is loaded again without it (the code is a failed item).

Example:
    >>> res = audit(["gpt2/"], corpus="sample:eng_Latn,fra_Latn", analyses=["compression"])   # doctest: +SKIP
    >>> res.to_frames()["compression"][["category", "bytes_per_token"]]                        # doctest: +SKIP
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from ..errors import TokbenchError, UnknownLanguageError, UnknownNameError
from .cache import AuditCache
from .registry import ANALYSES, available_analyses
from .result import TOKENIZER_COLUMNS, AuditResult, PartResult, Skip

if TYPE_CHECKING:  # pragma: no cover
    from ..corpora import Corpus, CorpusSpec
    from ..model.tokenizer import Tokenizer

__all__ = ["audit", "TokenizerInput", "compare_related_pairs"]


class _HasTokenizer(Protocol):
    """A training result (TrainedBPE and friends) carrying its ``Tokenizer``."""

    tokenizer: Tokenizer


#: What :func:`audit` accepts as one tokenizer: a path, a ``Tokenizer`` or a training result.
TokenizerInput: TypeAlias = "str | os.PathLike[str] | Tokenizer | _HasTokenizer"
Failures: TypeAlias = "list[tuple[str, str]]"


def audit(
    tokenizers: TokenizerInput | Sequence[TokenizerInput],
    *,
    corpus: str | Corpus = "sample:",
    analyses: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    pattern: str | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    progress: bool = True,
    true_mixtures: Mapping[str, Mapping[str, float]] | None = None,
    compare_related: bool = True,
) -> AuditResult:
    """Run the analyses on each tokenizer over ``corpus`` and collect the results.

    ``tokenizers`` are paths (any format :func:`~tokbench.formats.load_tokenizer` reads),
    ``Tokenizer`` objects or trained results with a ``.tokenizer``. ``corpus`` is a spec or a
    :class:`~tokbench.corpora.Corpus`; ``languages`` keeps only these categories (missing ones
    are failed items). ``analyses`` names entries of :data:`~tokbench.audit.registry.ANALYSES`
    (default: all available). ``out`` (or ``cache_dir``) enables the on-disk cache
    (``<out>/.cache``); nothing else is written — call :meth:`AuditResult.write` for the reports.
    ``true_mixtures`` (tokenizer name -> {category: byte share}) gives the training mixture of
    tokenizers trained on a known mixture: the report then shows it beside the inferred one.
    With ``compare_related`` (the default) every pair of audited tokenizers whose merge lists or
    vocabularies show a lineage (:func:`tokbench.metrics.compare.compare`) gets a ``compare`` part
    and the report a section about it (:func:`compare_related_pairs`).
    """
    from tqdm.auto import tqdm

    items = _as_items(tokenizers)
    chosen = _choose_analyses(analyses)
    failures: Failures = []
    corpus_obj = _load_corpus(corpus, languages, failures)
    toks, infos = _load_tokenizers(items, pattern, failures)
    options: dict[str, Any] = {"n_bootstrap": n_bootstrap, "seed": seed, "reference": "eng_Latn"}
    root = cache_dir if cache_dir is not None else (Path(out) / ".cache" if out is not None else None)
    cache = AuditCache(root) if root is not None else None
    result = AuditResult(
        tokenizers=infos, analyses=chosen, parts={name: {} for name in chosen},
        corpus=corpus_obj.signature(), failures=failures,
        unavailable=[name for name in ANALYSES if name not in available_analyses()],
        options={**options, "analyses": chosen},
        titles={name: ANALYSES[name].title for name in chosen},
        explanations={name: ANALYSES[name].explanation for name in chosen},
        true_mixtures={str(t): {str(c): float(v) for c, v in shares.items()}
                       for t, shares in (true_mixtures or {}).items()},
    )
    steps = [(a, t) for t in toks for a in chosen]
    bar = tqdm(steps, desc="audit", unit="step", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    for name, tok in bar:
        bar.set_postfix_str(f"{name}: {tok.name}"[:60])
        _run_step(result, name, tok, corpus_obj, options, cache)
    bar.close()
    if compare_related and len(toks) > 1:
        compare_related_pairs(result, toks, corpus_obj)
    return result


#: the audit's compare section: title, explanation, and the corpus bytes per category it samples
COMPARE_TITLE = "Related tokenizers"
COMPARE_EXPLANATION = (
    "Pairs of audited tokenizers that share a lineage: the same or an extended merge list (merges compared "
    "as byte pairs, so ids and file formats do not matter), a long common merge prefix, or nearly the same "
    "vocabulary. For each pair: vocabulary overlap on exact token bytes (Jaccard), the merge relation, what "
    "the second tokenizer added, and on a sample of the corpus how often it cuts the first one's pretokens "
    "the same way and how its token boundaries match (precision/recall/F1 on character offsets). Unrelated "
    "pairs are left out.")
COMPARE_MAX_BYTES = 30_000


def compare_related_pairs(result: AuditResult, toks: Sequence[Tokenizer], corpus: Corpus) -> None:
    """Add a ``compare`` part per related pair of ``toks`` (``"A vs B"``) to ``result``; a pair
    that fails becomes a failed item. Nothing is added when no pair is related."""
    from ..metrics.compare import compare_pair, related, segment

    segs: dict[str, Any] = {}
    parts: dict[str, PartResult] = {}
    sample = None
    for i, a in enumerate(toks):
        for b in toks[i + 1:]:
            label = f"{a.name} vs {b.name}"
            try:
                if not related(a, b):
                    continue
                if sample is None:
                    sample = corpus.sample(max_bytes=COMPARE_MAX_BYTES, seed=int(result.options.get("seed", 0)))
                for tok in (a, b):
                    if tok.name not in segs:
                        segs[tok.name] = segment(tok, sample)
                pair = compare_pair(a, b, segs=(segs[a.name], segs[b.name]))
                parts[label] = _compare_part(pair, a, b, sample)
            except _NEVER_SWALLOWED:
                raise
            except BaseException as err:  # noqa: BLE001 — a failed pair must not lose the audit
                result.failures.append((f"compare on {label}", failure_reason(err)))
    if parts or any(item.startswith("compare on ") for item, _ in result.failures):
        result.analyses = [*result.analyses, "compare"]  # a new list: options["analyses"] shares the old one
        result.parts["compare"] = parts
        result.titles["compare"] = COMPARE_TITLE
        result.explanations["compare"] = COMPARE_EXPLANATION


def _compare_part(pair: Any, a: Tokenizer, b: Tokenizer, sample: Corpus) -> PartResult:
    """One related pair as the audit's plain frames: ``compare`` (the pair's row), ``compare_overlap``,
    ``compare_added`` and ``compare_agreement``."""
    import pandas as pd

    from ..metrics.compare import AGREEMENT_COLUMNS, PAIR_COLUMNS
    from ..results import Signature

    ids = {"a": pair.a, "b": pair.b}
    frames = {
        "compare": pd.DataFrame([pair.row()], columns=PAIR_COLUMNS),
        "compare_overlap": pd.DataFrame([{**ids, **r} for r in pair.overlap.by_class]),
        "compare_added": pd.DataFrame([{**ids, **r} for r in pair.overlap.added]),
        "compare_agreement": pd.DataFrame([{**ids, **r} for r in pair.agreement], columns=AGREEMENT_COLUMNS),
    }
    signature = Signature(tokenizers={a.name: a.fingerprint, b.name: b.fingerprint}, corpus=sample.signature(),
                          options={"max_bytes": COMPARE_MAX_BYTES})
    return PartResult(frames=frames, signature=signature, notes=(*pair.merges.notes, *pair.overlap.notes))


def _as_items(tokenizers: TokenizerInput | Sequence[TokenizerInput]) -> list[TokenizerInput]:
    single = isinstance(tokenizers, str | os.PathLike) or hasattr(tokenizers, "vocab")
    return [tokenizers] if single else list(tokenizers)  # type: ignore[arg-type, list-item]


def _choose_analyses(analyses: Sequence[str] | None) -> list[str]:
    """The analyses to run, in the given order without repeats; unknown names raise."""
    available = available_analyses()
    if analyses is None:
        return available
    for name in analyses:
        if name not in ANALYSES:
            raise UnknownNameError("analysis", name, available)
        if name not in available:
            raise TokbenchError(f"analysis {name!r} is not available here (its module is not installed); "
                                f"available: {', '.join(available)}")
    return list(dict.fromkeys(analyses))


def _run_step(result: AuditResult, name: str, tok: Tokenizer, corpus: Corpus, options: dict[str, Any],
              cache: AuditCache | None) -> None:
    """One (analysis, tokenizer) step: from the cache, or computed and stored; outcome recorded.

    Anything it raises (the cache key reads the tokenizer too) becomes a failed item."""
    analysis = ANALYSES[name]
    try:
        key = cache.key(analysis, tok, corpus, options) if cache is not None else ""
        part = cache.load(analysis, key) if cache is not None else None
        if part is not None:
            result.cache_hits += 1
        else:
            part = analysis.run(tok, corpus, options)
            if cache is not None:
                cache.store(analysis, key, part)
    except Skip as why:
        result.skipped.append((name, tok.name, str(why)))
        return
    except _NEVER_SWALLOWED:
        raise
    except BaseException as err:  # noqa: BLE001 — one analysis's failure must not lose the other results
        result.failures.append((f"{name} on {tok.name}", failure_reason(err)))
        return
    result.parts[name][tok.name] = part


#: what a failed item must never absorb: the user's Ctrl-C and an explicit exit
_NEVER_SWALLOWED = (KeyboardInterrupt, SystemExit, GeneratorExit)


def failure_reason(err: BaseException, limit: int = 400) -> str:
    """One line saying why ``err`` happened: a :class:`TokbenchError`'s message as is, anything
    else prefixed with its type (a Rust panic or a library bug is not self-explanatory), line
    breaks folded and the text capped at ``limit`` characters so the report's table stays readable.

    Example:
        >>> failure_reason(ValueError("bad\\nthing"))
        'ValueError: bad thing'
    """
    text = str(err) if isinstance(err, TokbenchError) else f"{type(err).__name__}: {err}"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _load_tokenizers(items: Sequence[TokenizerInput], pattern: str | None,
                     failures: Failures) -> tuple[list[Tokenizer], list[dict[str, Any]]]:
    """The tokenizers that load and describe themselves, with their descriptions.

    Describing one builds its reference library (tiktoken, HF tokenizers), which is where a
    file that parsed can still fail (a duplicated rank makes tiktoken panic); doing it here,
    before any analysis, turns that into a failed item instead of a crash after the analyses."""
    from ..formats import load_tokenizer
    from ..model.tokenizer import Tokenizer

    loaded: list[tuple[str, Tokenizer]] = []
    for item in items:
        try:
            if isinstance(item, Tokenizer):
                tok = item
            elif isinstance(getattr(item, "tokenizer", None), Tokenizer):  # TrainedBPE and friends
                tok = item.tokenizer  # type: ignore[union-attr]
            else:
                tok = load_tokenizer(item, pattern=pattern)  # type: ignore[arg-type]
            loaded.append((str(item) if isinstance(item, str | os.PathLike) else tok.name, tok))
        except _NEVER_SWALLOWED:
            raise
        except BaseException as err:  # noqa: BLE001 — a loader bug on a strange file must not sink the audit
            failures.append((f"tokenizer {item}", failure_reason(err)))
    toks, infos = [], []
    for (label, _), tok in zip(loaded, _unique_names([t for _, t in loaded]), strict=True):
        try:
            infos.append(_tokenizer_info(tok))
        except _NEVER_SWALLOWED:
            raise
        except BaseException as err:  # noqa: BLE001 — e.g. pyo3_runtime.PanicException
            failures.append((f"tokenizer {label}", failure_reason(err)))
        else:
            toks.append(tok)
    return toks, infos


def _unique_names(loaded: list[Tokenizer]) -> list[Tokenizer]:
    """Two files with one stem would overwrite each other's rows: the second becomes ``name#2``."""
    seen: dict[str, int] = {}
    out = []
    for tok in loaded:
        seen[tok.name] = seen.get(tok.name, 0) + 1
        if seen[tok.name] > 1:
            tok = copy.copy(tok)
            tok.name = f"{tok.name}#{seen[tok.name]}"
        out.append(tok)
    return out


def _load_corpus(corpus: Any, languages: Sequence[str] | None, failures: list[tuple[str, str]]) -> Any:
    from ..corpora import Corpus, parse_corpus_spec
    from ..errors import CorpusError

    if isinstance(corpus, Corpus):
        loaded = corpus
    else:
        spec = str(corpus)
        part_failures: Failures = []
        parts = [c for part in parse_corpus_spec(spec) for c in _load_part_without_unknown(part, part_failures)]
        failures += part_failures
        if not parts:
            why = "; ".join(f"{item}: {msg}" for item, msg in part_failures)
            raise CorpusError(f"corpus {spec!r}: no part could be loaded ({why}); fix the spec "
                              "using the valid names it lists")
        loaded = Corpus.combine(parts, name=spec) if len(parts) > 1 else parts[0]
    if languages:
        wanted = list(dict.fromkeys(languages))
        missing = [name for name in wanted if name not in loaded]
        for name in missing:
            failures.append((f"language {name}", f"not in corpus {loaded.name!r} (it has {', '.join(loaded.category_names[:12])}"
                             f"{', …' if len(loaded) > 12 else ''})"))
        present = [name for name in wanted if name in loaded]
        if not present:
            raise TokbenchError(f"none of the requested languages {', '.join(wanted)} is in corpus {loaded.name!r}")
        loaded = loaded.subset(present)
    return loaded


def _load_part_without_unknown(part: CorpusSpec, failures: Failures) -> list[Corpus]:
    """One corpus part; a language code it does not know is a failed item and the part is
    loaded again without it, so ``flores:eng_Latn,xxx_Latn`` still audits eng_Latn."""
    from ..corpora import load_corpus_parts
    from ..corpora.corpus import split_names

    text, target = part.text, part.target
    errors: list[TokbenchError] = []
    for _ in range(len(split_names(target)) + 1):  # each retry drops one code at least
        errors.clear()
        loaded = load_corpus_parts(text, on_error=lambda _part, err: errors.append(err))
        if not errors:
            return loaded
        err = errors[0]
        names = split_names(target)
        unknown = [n for n in names if f"{n!r}" in str(err)] if isinstance(err, UnknownLanguageError) else []
        if not unknown or len(unknown) == len(names):
            failures.append((f"corpus part {text}", failure_reason(err)))
            return []
        failures += [(f"language {name} in corpus part {part.text}", failure_reason(err)) for name in unknown]
        kept = ",".join(n for n in names if n not in unknown)
        text, target = text.replace(target, kept, 1), kept
    return []


def _tokenizer_info(tok: Tokenizer) -> dict[str, Any]:
    info = tok.info()
    row = {"name": tok.name, "kind": info["kind"], "format": info["format"], "vocab_size": info["vocab_size"],
           "merges": info["merges"], "special_tokens": len(info["special_tokens"]),
           "fingerprint": tok.fingerprint[:16]}
    return {column: row[column] for column in TOKENIZER_COLUMNS}
