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
The steps run through :func:`tokbench.executor.map` (``jobs`` worker processes or a Dask
``scheduler``; :func:`run_steps`): workers get :class:`Step` records, never the loaded objects.

Example:
    >>> res = audit(["gpt2/"], corpus="sample:eng_Latn,fra_Latn", analyses=["compression"])   # doctest: +SKIP
    >>> res.to_frames()["compression"][["category", "bytes_per_token"]]                        # doctest: +SKIP
    >>> res = audit(["gpt2/", "cl100k_base.tiktoken"], corpus="sample:", jobs=2)                # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import copy
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from ..errors import TokbenchError, UnknownLanguageError, UnknownNameError
from .cache import AuditCache, StepCache, step_description
from .registry import ANALYSES, Analysis, available_analyses
from .result import TOKENIZER_COLUMNS, AuditResult, PartResult, Skip

if TYPE_CHECKING:  # pragma: no cover
    from ..corpora import Corpus, CorpusSpec
    from ..model.tokenizer import Tokenizer

__all__ = ["audit", "TokenizerInput", "compare_related_pairs", "Step", "TokenizerRef", "CorpusRef", "Outcome",
           "run_step", "run_steps"]


class _HasTokenizer(Protocol):
    """A training result (TrainedBPE and friends) carrying its ``Tokenizer``."""

    tokenizer: Tokenizer


#: What :func:`audit` accepts as one tokenizer: a path, a ``Tokenizer`` or a training result.
TokenizerInput: TypeAlias = "str | os.PathLike[str] | Tokenizer | _HasTokenizer"
Failures: TypeAlias = "list[tuple[str, str]]"
#: What a step ends with: ``("part" | "hit", PartResult)``, ``("skip", why)`` or ``("fail", why)``.
Outcome: TypeAlias = "tuple[str, Any]"


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
    jobs: int | None = 1,
    scheduler: Any = None,
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

    The (analysis, tokenizer) steps run through :func:`tokbench.executor.map`: ``jobs`` local
    worker processes (``None``: every core or ``$TOKBENCH_JOBS``; 1, the default: this process)
    or a Dask ``scheduler`` (an address or a ``distributed.Client``; ``$TOKBENCH_SCHEDULER``).
    A worker receives only small inputs (a :class:`Step`: the tokenizer's path and pattern, the
    corpus spec and languages, the analysis entry and options) and loads the tokenizer and corpus
    itself, checking their fingerprint and content hash against this process's. Steps whose
    tokenizer is an in-memory object (a freshly trained one, or a ``Tokenizer`` passed in) or
    whose corpus is a ``Corpus`` object run in this process, one after another. On a cluster of
    several machines the tokenizer files and the corpus must be readable there at the same paths
    (a worker that reads other bytes fails its steps, naming the file). Parts, skips, failures and
    cache hits are the same whatever runs them; the related-pairs comparison runs afterwards in
    this process.
    """
    from ..corpora import Corpus

    _check_jobs(jobs)  # before minutes of loading
    items = _as_items(tokenizers)
    chosen = _choose_analyses(analyses)
    failures: Failures = []
    corpus_obj = _load_corpus(corpus, languages, failures)
    toks, infos, paths = _load_tokenizers(items, pattern, failures)
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
    corpus_ref = None if isinstance(corpus, Corpus) else \
        CorpusRef(str(corpus), tuple(languages) if languages else None, corpus_obj.content_hash)
    steps = [Step(len(chosen) * t + a, ANALYSES[name], TokenizerRef(paths[t], pattern, tok.name, tok.fingerprint),
                  corpus_ref, options) for t, tok in enumerate(toks) for a, name in enumerate(chosen)]
    outcomes = run_steps(steps, toks, corpus_obj, cache=cache, jobs=jobs, scheduler=scheduler, progress=progress)
    for step in steps:
        _record(result, step, outcomes[step.index])
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


@dataclass(frozen=True)
class TokenizerRef:
    """How a worker gets a step's tokenizer: the file it was loaded from (``None``: an in-memory
    object, which never leaves this process), the split pattern, the audit's name for it and
    the fingerprint the loaded file must have."""

    path: str | None
    pattern: str | None
    name: str
    fingerprint: str


@dataclass(frozen=True)
class CorpusRef:
    """How a worker gets the audit's corpus: the spec and the kept languages, loaded the way
    :func:`audit` loads them, and the content hash the result must have."""

    spec: str
    languages: tuple[str, ...] | None
    content_hash: str


@dataclass(frozen=True)
class Step:
    """One (analysis, tokenizer) step as plain, small data (what a worker process receives).

    ``index`` is its place in the audit (tokenizer-major); ``corpus`` is ``None`` when the
    corpus is an in-memory object, and then the step runs in this process.

    Example:
        >>> step.label                                                    # doctest: +SKIP
        'compression on gpt2'
    """

    index: int
    analysis: Analysis
    tokenizer: TokenizerRef
    corpus: CorpusRef | None
    options: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.analysis.name} on {self.tokenizer.name}"

    @property
    def remote(self) -> bool:
        """Whether a worker can load this step's inputs itself."""
        return self.tokenizer.path is not None and self.corpus is not None

    def description(self) -> dict[str, Any]:
        """The cache key's description: the one :meth:`AuditCache.key` gives the loaded objects."""
        corpus_hash = self.corpus.content_hash if self.corpus is not None else ""
        return step_description(self.analysis, self.options, self.tokenizer.fingerprint, self.tokenizer.name,
                                corpus_hash)


def run_step(step: Step, tok: Tokenizer | None = None, corpus: Corpus | None = None) -> Outcome:
    """Run one step and say how it ended; a worker process calls it with the step alone and
    loads the tokenizer and corpus it names (once per process, checked against the step).

    Anything raised becomes ``("fail", reason)`` except Ctrl-C and ``SystemExit``.
    """
    try:
        tok = tok if tok is not None else _worker_tokenizer(step.tokenizer)
        corpus = corpus if corpus is not None else _worker_corpus(step.corpus)
        return ("part", step.analysis.run(tok, corpus, step.options))
    except Skip as why:
        return ("skip", str(why))
    except _NEVER_SWALLOWED:
        raise
    except BaseException as err:  # noqa: BLE001 — one analysis's failure must not lose the other results
        return ("fail", failure_reason(err))


def run_steps(steps: Sequence[Step], toks: Sequence[Tokenizer], corpus: Corpus, *, cache: AuditCache | None,
              jobs: int | None, scheduler: Any, progress: bool) -> dict[int, Outcome]:
    """Every step's outcome by index: cache hits loaded, the rest run through
    :func:`tokbench.executor.map` (workers for steps they can load, this process for the others).

    With one job and no scheduler everything runs here on the objects already loaded. When the
    back end itself fails (a worker process killed, a Dask worker lost after its retries), the
    steps that had not finished run again one at a time, each alone in a worker, so only the
    step that kills its worker becomes a failed item.
    """
    from .. import executor

    _check_jobs(jobs)
    scheduler = scheduler if scheduler is not None else executor.default_scheduler()
    parallel = scheduler is not None or (jobs or executor.default_jobs()) > 1
    record = StepCache(cache)
    outcomes: dict[int, Outcome] = {}
    local = [s for s in steps if not (parallel and s.remote)]
    if local:  # in this process, on the loaded objects
        done = executor.map(_LocalStep({t.name: t for t in toks}, corpus), local, desc="audit", cache=record,
                            backend=executor.SerialBackend(), progress=progress)
        outcomes.update(zip((s.index for s in local), done, strict=True))
    # heaviest first (the mixture attack takes ten times a compression): the workers then end
    # together instead of one waiting for a long step started last; outcomes are kept by index
    remote = sorted((s for s in steps if parallel and s.remote), key=lambda s: -s.analysis.weight)
    with _seeded(remote, toks, corpus):  # one step left to compute runs here: no need to reload
        try:
            done = executor.map(run_step, remote, desc="audit", cache=record, jobs=jobs, scheduler=scheduler,
                                progress=progress)
            outcomes.update(zip((s.index for s in remote), done, strict=True))
        except (*_NEVER_SWALLOWED, TokbenchError):
            raise  # Ctrl-C, or a scheduler that cannot be reached
        except Exception as err:  # noqa: BLE001 — a worker died: isolate the steps it may have taken down
            outcomes.update(_isolated([s for s in remote if s.index not in record.outcomes], record, scheduler, err))
            outcomes.update({s.index: record.outcomes[s.index] for s in remote if s.index in record.outcomes})
    return outcomes


def _check_jobs(jobs: Any) -> None:
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise TokbenchError(f"jobs must be a positive number of worker processes (or None for every core), "
                            f"got {jobs!r}")


def _isolated(steps: Sequence[Step], record: StepCache, scheduler: Any, first: BaseException) -> dict[int, Outcome]:
    """``steps`` again, each alone in a fresh worker: only one that kills its worker fails."""
    from .. import executor

    # a pool of two for a single task: joblib runs a pool of one in this process, which a step
    # that kills its process would take down
    alone = executor.get_backend(1, scheduler) if scheduler is not None else executor.ProcessBackend(2)
    outcomes: dict[int, Outcome] = {}
    for step in steps:
        try:
            outcomes[step.index] = executor.map(run_step, [step], cache=record, backend=alone, progress=False)[0]
        except _NEVER_SWALLOWED:
            raise
        except Exception as err:  # noqa: BLE001 — this step's worker died too: it is the culprit
            outcomes[step.index] = ("fail", f"its worker process stopped ({failure_reason(err, 200)}; "
                                            f"first seen as {failure_reason(first, 200)})")
    return outcomes


@contextlib.contextmanager
def _seeded(steps: Sequence[Step], toks: Sequence[Tokenizer], corpus: Corpus) -> Iterator[None]:
    """While the block runs, this process's worker tables hold the objects it already loaded
    (the executor runs a lone step here); they are emptied afterwards (nothing stays alive)."""
    named = {t.name: t for t in toks}
    for step in steps:
        _WORKER_TOKENIZERS[(step.tokenizer.path, step.tokenizer.pattern)] = named[step.tokenizer.name]  # type: ignore[index]
        if step.corpus is not None:
            _WORKER_CORPORA[(step.corpus.spec, step.corpus.languages)] = corpus
    try:
        yield
    finally:
        _WORKER_TOKENIZERS.clear()
        _WORKER_CORPORA.clear()


@dataclass(frozen=True)
class _LocalStep:
    """:func:`run_step` on the objects this process already holds (steps run here only)."""

    toks: Mapping[str, Tokenizer]
    corpus: Corpus

    def __call__(self, step: Step) -> Outcome:
        return run_step(step, self.toks[step.tokenizer.name], self.corpus)


#: per worker process: the tokenizers and corpora its steps loaded, reused by its next steps
_WORKER_TOKENIZERS: dict[tuple[str, str | None], Tokenizer] = {}
_WORKER_CORPORA: dict[tuple[str, tuple[str, ...] | None], Corpus] = {}
#: few entries: a worker serves one audit, and a vocabulary or a corpus can be large
_WORKER_KEEP = 4


def _worker_tokenizer(ref: TokenizerRef) -> Tokenizer:
    """``ref``'s tokenizer, loaded once per process and named as the audit names it; a file
    that changed since the audit loaded it is an error, not silently another tokenizer."""
    from ..formats import load_tokenizer

    if ref.path is None:
        raise TokbenchError(f"{ref.name}: an in-memory tokenizer cannot be loaded by a worker; run it with jobs=1")
    key = (ref.path, ref.pattern)
    tok = _WORKER_TOKENIZERS.get(key)
    if tok is None or tok.fingerprint != ref.fingerprint:
        tok = load_tokenizer(ref.path, pattern=ref.pattern)
        _keep(_WORKER_TOKENIZERS, key, tok)
    if tok.fingerprint != ref.fingerprint:
        raise TokbenchError(f"{ref.path} changed while the audit ran (or differs on this worker): fingerprint "
                            f"{tok.fingerprint[:12]} instead of {ref.fingerprint[:12]}; run the audit again")
    if tok.name != ref.name:
        tok = copy.copy(tok)
        tok.name = ref.name
    return tok


def _worker_corpus(ref: CorpusRef | None) -> Corpus:
    """The audit's corpus rebuilt from its spec, once per process, checked by content hash."""
    if ref is None:
        raise TokbenchError("an in-memory corpus cannot be loaded by a worker; run the audit with jobs=1")
    key = (ref.spec, ref.languages)
    corpus = _WORKER_CORPORA.get(key)
    if corpus is None or corpus.content_hash != ref.content_hash:
        corpus = _load_corpus(ref.spec, ref.languages, [])
        _keep(_WORKER_CORPORA, key, corpus)
    if corpus.content_hash != ref.content_hash:
        raise TokbenchError(f"corpus {ref.spec!r} reads differently in this worker (content hash "
                            f"{corpus.content_hash[:12]} instead of {ref.content_hash[:12]}): its files changed "
                            "while the audit ran, or relative paths resolve elsewhere; use absolute paths")
    return corpus


def _keep(table: dict[Any, Any], key: Any, value: Any) -> None:
    table.pop(key, None)
    while len(table) >= _WORKER_KEEP:
        table.pop(next(iter(table)))
    table[key] = value


def _record(result: AuditResult, step: Step, outcome: Outcome) -> None:
    """Put one step's outcome where the serial audit always put it: a part, a skip or a failure."""
    kind, value = outcome
    name, tok_name = step.analysis.name, step.tokenizer.name
    if kind in ("part", "hit"):
        result.parts[name][tok_name] = value
        result.cache_hits += kind == "hit"
    elif kind == "skip":
        result.skipped.append((name, tok_name, value))
    else:
        result.failures.append((step.label, value))


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
                     failures: Failures) -> tuple[list[Tokenizer], list[dict[str, Any]], list[str | None]]:
    """The tokenizers that load and describe themselves, their descriptions, and the path each
    was loaded from (``None`` for an in-memory object: its steps run in this process).

    Describing one builds its reference library (tiktoken, HF tokenizers), which is where a
    file that parsed can still fail (a duplicated rank makes tiktoken panic); doing it here,
    before any analysis, turns that into a failed item instead of a crash after the analyses."""
    from ..formats import load_tokenizer
    from ..model.tokenizer import Tokenizer

    loaded: list[tuple[str, Tokenizer]] = []
    kept: list[TokenizerInput] = []
    for item in items:
        try:
            if isinstance(item, Tokenizer):
                tok = item
            elif isinstance(getattr(item, "tokenizer", None), Tokenizer):  # TrainedBPE and friends
                tok = item.tokenizer  # type: ignore[union-attr]
            else:
                tok = load_tokenizer(item, pattern=pattern)  # type: ignore[arg-type]
            loaded.append((str(item) if isinstance(item, str | os.PathLike) else tok.name, tok))
            kept.append(item)
        except _NEVER_SWALLOWED:
            raise
        except BaseException as err:  # noqa: BLE001 — a loader bug on a strange file must not sink the audit
            failures.append((f"tokenizer {item}", failure_reason(err)))
    toks, infos, paths = [], [], []
    for (label, _), item, tok in zip(loaded, kept, _unique_names([t for _, t in loaded]), strict=True):
        try:
            infos.append(_tokenizer_info(tok))
        except _NEVER_SWALLOWED:
            raise
        except BaseException as err:  # noqa: BLE001 — e.g. pyo3_runtime.PanicException
            failures.append((f"tokenizer {label}", failure_reason(err)))
        else:
            toks.append(tok)
            paths.append(os.path.abspath(item) if isinstance(item, str | os.PathLike) else None)
    return toks, infos, paths


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
