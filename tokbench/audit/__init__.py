"""Audit tokenizers side by side: every registered analysis over one corpus, one report.

``audit`` runs the analyses of :data:`ANALYSES` — vocabulary coverage (Qtok classes and
scripts), compression per category, token premiums (when the corpus holds ``eng_Latn`` and
parallel FLORES-style languages), merge-list-free encodings (Sawada & Goyal 2025) and, when
:mod:`tokbench.attacks.mixture` is installed and exposes ``audit_entry``, training-data mixture
inference (Hayase et al. 2024) — on each tokenizer, and returns an :class:`AuditResult` whose
parts are pandas frames and which writes the HTML and PDF reports.

Robust to bad input: a tokenizer file that fails to load, a corpus part that fails, a requested
language missing from the corpus, or an analysis that fails on one tokenizer is recorded as a
failed item (shown in the report, ``AuditResult.failures``, and the CLI's exit status) while
everything else still runs. Each (analysis, tokenizer) result is cached under
``<out>/.cache/`` keyed by the analysis, the tokenizer's fingerprint and name, the corpus
content hash, the options and the tokbench version, so a re-run only computes what changed.

This module orchestrates; metrics and attacks compute, :mod:`tokbench.reports` draws.

Example:
    >>> res = audit(["gpt2/", "cl100k_base.tiktoken"], corpus="sample:", out="audit")   # doctest: +SKIP
    >>> res.to_frames()["premiums"].head()                                              # doctest: +SKIP
    >>> res.to_html("audit/report.html"); res.to_pdf("audit/report.pdf")                # doctest: +SKIP
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import json
import os
import pickle
import re
import sys
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import TokbenchError, UnknownNameError

__all__ = ["ANALYSES", "Analysis", "AuditResult", "PartResult", "audit", "available_analyses"]

_FLORES = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


@dataclass(frozen=True)
class PartResult:
    """One analysis on one tokenizer: named frames and the result's signature (as a dict)."""

    frames: dict[str, Any]
    signature: dict[str, Any]
    notes: tuple[str, ...] = ()


class Skip(Exception):
    """An analysis does not apply to this tokenizer or corpus (not a failure)."""


@dataclass(frozen=True)
class Analysis:
    """A registered analysis: ``run(tokenizer, corpus, options) -> PartResult`` (raise
    :class:`Skip` when it does not apply) and the report's title and explanation."""

    name: str
    title: str
    explanation: str
    run: Callable[[Any, Any, dict[str, Any]], PartResult]
    #: which options enter the cache key
    option_keys: tuple[str, ...] = ()


def _sig(signature: Any) -> dict[str, Any]:
    data = signature.to_dict() if hasattr(signature, "to_dict") else dict(signature)
    data["short"] = signature.short() if hasattr(signature, "short") else ""
    return data


def _flores_part(corpus: Any, reference: str) -> Any | None:
    """The FLORES-style categories parallel to ``reference`` (same number of documents)."""
    if reference not in corpus:
        return None
    n = corpus.n_documents(reference)
    names = [c for c in corpus.category_names if _FLORES.match(c) and corpus.n_documents(c) == n]
    return corpus.subset(names) if len(names) >= 2 else None


# ------------------------------------------------------------------------------ analyses


def _longest_entries(tok: Any, k: int = 10) -> Any:
    import pandas as pd

    from ..reports.document import token_text

    entries = sorted(((len(b), i) for i, b in enumerate(tok.vocab) if b), reverse=True)[:k]
    return pd.DataFrame([{"tokenizer": tok.name, "id": i, "bytes": n, "token": token_text(tok.vocab[i])}
                         for n, i in entries])


def _run_coverage(tok: Any, corpus: Any, options: dict[str, Any]) -> PartResult:
    from ..metrics.coverage import coverage

    languages = None
    latin_cyrillic = [c for c in corpus.category_names if _FLORES.match(c) and c[-4:] in ("Latn", "Cyrl")]
    if latin_cyrillic:
        languages = corpus.subset(latin_cyrillic)
    res = coverage([tok], language_corpus=languages, union=False)
    frames = {
        "coverage": res.to_frame(percent=True),
        "coverage_counts": res.to_frame(),
        "coverage_scripts": res.scripts_frame(),
        "coverage_languages": res.languages_frame(percent=True),
        "longest_entries": _longest_entries(tok),
    }
    return PartResult(frames, _sig(res.signature), tuple(res.notes))


def _run_compression(tok: Any, corpus: Any, options: dict[str, Any]) -> PartResult:
    from ..metrics.compression import compression

    res = compression(tok, corpus)
    return PartResult({"compression": res.to_frame()}, _sig(res.signature))


def _run_premiums(tok: Any, corpus: Any, options: dict[str, Any]) -> PartResult:
    from ..metrics.premiums import premiums

    reference = options.get("reference", "eng_Latn")
    parallel = _flores_part(corpus, reference)
    if parallel is None:
        raise Skip(f"the corpus has no {reference} with parallel FLORES-style languages (e.g. sample: or flores:all)")
    res = premiums([tok], parallel, reference=reference, n_bootstrap=options.get("n_bootstrap", 200),
                   seed=options.get("seed", 0))
    return PartResult({"premiums": res.to_frame(), "premiums_summary": res.summary_frame()}, _sig(res.signature),
                      tuple(res.notes))


def _run_mergefree(tok: Any, corpus: Any, options: dict[str, Any]) -> PartResult:
    from ..attacks.mergefree.evaluate import default_variants, evaluate_mergefree
    from ..errors import UnsupportedTokenizerError

    if tok.kind != "bpe":
        raise Skip(f"a {tok.kind} model has no BPE merge list to compare against")
    try:
        res = evaluate_mergefree(tok, corpus, variants=default_variants(tok), seed=options.get("seed", 0))
    except UnsupportedTokenizerError as err:
        raise Skip(str(err)) from None
    return PartResult({"mergefree": res.to_frame()}, _sig(res.signature))


def _mixture_entry() -> Callable[..., Any] | None:
    """``tokbench.attacks.mixture.audit_entry`` if that module exists and exposes it."""
    try:
        module = importlib.import_module("tokbench.attacks.mixture")
    except ImportError:
        return None
    entry = getattr(module, "audit_entry", None)
    return entry if callable(entry) else None


def _run_mixture(tok: Any, corpus: Any, options: dict[str, Any]) -> PartResult:
    entry = _mixture_entry()
    if entry is None:  # pragma: no cover - filtered out by available_analyses
        raise Skip("tokbench.attacks.mixture is not available")
    if not tok.has_merges:
        raise Skip("no merge list: mixture inference reads the ordered merges")
    res = entry(tok, corpus, seed=options.get("seed", 0))
    frame = res.to_frame()
    if "tokenizer" not in frame:
        frame.insert(0, "tokenizer", tok.name)
    return PartResult({"mixture": frame}, _sig(res.signature))


#: name -> analysis, in report order. "mixture" is added by :func:`available_analyses` when the
#: mixture attack is installed.
ANALYSES: dict[str, Analysis] = {
    "coverage": Analysis(
        "coverage", "Vocabulary coverage",
        "Every vocabulary entry is sorted into one Qtok class: single characters, word-initial "
        "('spaced') and word-internal ('inner') tokens of one script (alpha) or mixed/other, raw "
        "bytes, partial UTF-8, special and unused ids. The heatmap shows which scripts the "
        "alphabetic tokens serve: a script with a tiny share is spelled in many short pieces.",
        _run_coverage),
    "compression": Analysis(
        "compression", "Compression per category",
        "Corpus token count (CTC) is how many tokens each category needs, each document encoded on "
        "its own; bytes per token is how much text one token carries (higher is cheaper). Fertility "
        "is tokens per word (per character for scripts written without spaces).",
        _run_compression),
    "premiums": Analysis(
        "premiums", "Token premiums",
        "The premium of a language is its token count relative to English on the same parallel "
        "sentences: 2.0 means the same content costs twice as many tokens (and twice the context "
        "and price). Intervals are 95% paired bootstraps over sentences; Petrov et al. join the "
        "lines and encode once, Arnett et al. count line by line.",
        _run_premiums, ("n_bootstrap", "seed", "reference")),
    "mergefree": Analysis(
        "mergefree", "Encoding without a merge list",
        "The same vocabulary encoded without its merge list — greedy longest-prefix and "
        "minimum-token segmentation — and with damaged merge lists (shuffled, 10% deleted, "
        "truncated). Values near 1.0 mean the merge list adds little (Sawada & Goyal 2025).",
        _run_mergefree, ("seed",)),
    "mixture": Analysis(
        "mixture", "Training-data mixture inference",
        "The ordered merge list leaks the training data: the t-th merge was the most frequent pair "
        "after the earlier merges. A linear program over per-category pair counts recovers the "
        "proportions of each category in the training mixture (Hayase et al. 2024).",
        _run_mixture, ("seed",)),
}


def available_analyses() -> list[str]:
    """Names of the analyses that can run here (``mixture`` only when its module is installed)."""
    return [name for name in ANALYSES if name != "mixture" or _mixture_entry() is not None]


# ------------------------------------------------------------------------------ cache


def _cache_key(analysis: Analysis, tok: Any, corpus: Any, options: dict[str, Any]) -> str:
    data = {
        "analysis": analysis.name,
        "tokenizer": tok.fingerprint,
        "name": tok.name,
        "corpus": corpus.content_hash,
        "options": {k: options.get(k) for k in analysis.option_keys},
        "version": __version__,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _cache_load(path: Path | None) -> PartResult | None:
    if path is None or not path.is_file():
        return None
    try:
        with open(path, "rb") as handle:
            value = pickle.load(handle)  # our own cache folder, written by _cache_store only
    except Exception:  # a stale or damaged cache entry is recomputed, never fatal
        return None
    return value if isinstance(value, PartResult) else None


def _cache_store(path: Path | None, value: PartResult) -> None:
    if path is None:
        return
    from .._io import atomic_write

    try:
        with atomic_write(path, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except (OSError, TokbenchError):  # a read-only cache folder only costs time
        pass


# ------------------------------------------------------------------------------ result


@dataclass
class AuditResult:
    """Everything an audit found: per analysis and tokenizer a :class:`PartResult`, what was
    skipped and why, what failed and why, and the corpus signature."""

    tokenizers: list[dict[str, Any]]
    analyses: list[str]
    parts: dict[str, dict[str, PartResult]]
    corpus: dict[str, Any]
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    cache_hits: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    def to_frames(self) -> dict[str, Any]:
        """Named pandas frames: ``tokenizers``, ``coverage``, ``coverage_scripts``, ``compression``,
        ``premiums``, ``premiums_summary``, ``mergefree``, ``mixture`` (those that ran), ``issues``."""
        import pandas as pd

        out: dict[str, Any] = {"tokenizers": pd.DataFrame(self.tokenizers)}
        for analysis in self.analyses:
            collected: dict[str, list[Any]] = {}
            for part in self.parts.get(analysis, {}).values():
                for name, frame in part.frames.items():
                    collected.setdefault(name, []).append(frame)
            for name, frames in collected.items():
                frames = [f for f in frames if len(f.columns)]
                if not frames:
                    continue
                if name == "coverage_scripts":
                    out[name] = pd.concat(frames, ignore_index=True).fillna(0)
                    cols = ["tokenizer"] + sorted((c for c in out[name].columns if c != "tokenizer"),
                                                  key=lambda c: -out[name][c].sum())
                    out[name] = out[name][cols]
                else:
                    out[name] = pd.concat(frames, ignore_index=True)
        issues = [{"status": "failed", "item": item, "analysis": "", "reason": msg} for item, msg in self.failures]
        issues += [{"status": "skipped", "item": tok, "analysis": a, "reason": msg} for a, tok, msg in self.skipped]
        out["issues"] = pd.DataFrame(issues, columns=["status", "item", "analysis", "reason"])
        return out

    def signatures(self) -> list[tuple[str, dict[str, Any]]]:
        return [(f"{analysis}: {tok}", part.signature)
                for analysis in self.analyses for tok, part in self.parts.get(analysis, {}).items()]

    def report(self, *, title: str | None = None) -> Any:
        """The :class:`~tokbench.reports.document.Report` (for HTML and PDF)."""
        from ..reports.audit_report import build_report

        return build_report(self, title=title)

    def to_html(self, path: str | Path, *, title: str | None = None) -> Path:
        from ..reports.html import write_html

        return write_html(self.report(title=title), path)

    def to_pdf(self, path: str | Path, *, title: str | None = None) -> Path:
        from ..reports.pdf import write_pdf

        return write_pdf(self.report(title=title), path)

    def write(self, out: str | Path, *, title: str | None = None, pdf: bool = True) -> list[Path]:
        """report.html, report.pdf and tables/<name>.csv under ``out``. Both reports are rendered
        in memory before either is written, so a rendering failure leaves no partial report."""
        import io

        from .._io import atomic_write
        from ..reports.document import safe_filename
        from ..reports.html import render_html
        from ..reports.pdf import render_pdf

        out = Path(out)
        report = self.report(title=title)
        html = render_html(report)
        pdf_bytes = None
        if pdf:
            buffer = io.BytesIO()
            render_pdf(report, buffer)
            pdf_bytes = buffer.getvalue()
        written = []
        for name, frame in self.to_frames().items():
            target = out / "tables" / f"{safe_filename(name)}.csv"
            with atomic_write(target) as handle:
                frame.to_csv(handle, index=False)
            written.append(target)
        with atomic_write(out / "report.html") as handle:
            handle.write(html)
        written.append(out / "report.html")
        if pdf_bytes is not None:
            with atomic_write(out / "report.pdf", "wb") as handle:
                handle.write(pdf_bytes)
            written.append(out / "report.pdf")
        return written


# ------------------------------------------------------------------------------ audit


def _load_tokenizers(items: Sequence[Any], pattern: str | None,
                     failures: list[tuple[str, str]]) -> list[Any]:
    from ..formats import load_tokenizer
    from ..model.tokenizer import Tokenizer

    loaded = []
    for item in items:
        if isinstance(item, Tokenizer):
            loaded.append(item)
        elif isinstance(getattr(item, "tokenizer", None), Tokenizer):  # TrainedBPE and friends
            loaded.append(item.tokenizer)
        else:
            try:
                loaded.append(load_tokenizer(item, pattern=pattern))
            except TokbenchError as err:
                failures.append((f"tokenizer {item}", str(err)))
            except Exception as err:  # a loader bug on a strange file must not sink the audit
                failures.append((f"tokenizer {item}", f"{type(err).__name__}: {err}"))
    # Unique names: two files with one stem would overwrite each other's rows.
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
    from ..corpora import Corpus, load_corpus, parse_corpus_spec

    if isinstance(corpus, Corpus):
        loaded = corpus
    else:
        spec = str(corpus)
        parts = []
        for part in parse_corpus_spec(spec):
            try:
                parts.append(load_corpus(part.text))
            except TokbenchError as err:
                failures.append((f"corpus part {part.text}", str(err)))
        if not parts:
            raise TokbenchError(f"corpus {spec!r}: no part could be loaded; see the errors above")
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


def _tokenizer_info(tok: Any) -> dict[str, Any]:
    info = tok.info()
    return {"name": tok.name, "kind": info["kind"], "format": info["format"], "vocab_size": info["vocab_size"],
            "merges": info["merges"], "special_tokens": len(info["special_tokens"]),
            "fingerprint": tok.fingerprint[:16]}


def audit(
    tokenizers: Any,
    *,
    corpus: Any = "sample:",
    analyses: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    out: str | Path | None = None,
    cache_dir: str | Path | None = None,
    pattern: str | None = None,
    n_bootstrap: int = 200,
    seed: int = 0,
    progress: bool = True,
) -> AuditResult:
    """Run the analyses on each tokenizer over ``corpus`` and collect the results.

    ``tokenizers`` are paths (any format :func:`~tokbench.formats.load_tokenizer` reads),
    ``Tokenizer`` objects or trained results with a ``.tokenizer``. ``corpus`` is a spec or a
    :class:`~tokbench.corpora.Corpus`; ``languages`` keeps only these categories (missing ones
    are failed items). ``analyses`` names entries of :data:`ANALYSES` (default: all available).
    ``out`` (or ``cache_dir``) enables the on-disk cache (``<out>/.cache``); nothing else is
    written — call :meth:`AuditResult.write` for the reports.

    Example:
        >>> res = audit(["gpt2/"], corpus="sample:eng_Latn,fra_Latn", analyses=["compression"])   # doctest: +SKIP
        >>> res.to_frames()["compression"][["category", "bytes_per_token"]]                        # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    items = [tokenizers] if isinstance(tokenizers, str | os.PathLike) or hasattr(tokenizers, "vocab") else list(tokenizers)
    available = available_analyses()
    if analyses is None:
        chosen = available
    else:
        chosen = []
        for name in analyses:
            if name not in ANALYSES:
                raise UnknownNameError("analysis", name, available)
            if name not in available:
                raise TokbenchError(f"analysis {name!r} is not available here (its module is not installed); "
                                    f"available: {', '.join(available)}")
            chosen.append(name)
        chosen = list(dict.fromkeys(chosen))
    unavailable = [name for name in ANALYSES if name not in available]
    failures: list[tuple[str, str]] = []
    corpus_obj = _load_corpus(corpus, languages, failures)
    toks = _load_tokenizers(items, pattern, failures)
    options = {"n_bootstrap": n_bootstrap, "seed": seed, "reference": "eng_Latn"}
    cache = Path(cache_dir) if cache_dir is not None else (Path(out) / ".cache" if out is not None else None)
    parts: dict[str, dict[str, PartResult]] = {name: {} for name in chosen}
    skipped: list[tuple[str, str, str]] = []
    hits = 0
    steps = [(a, t) for t in toks for a in chosen]
    bar = tqdm(steps, desc="audit", unit="step", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    for name, tok in bar:
        analysis = ANALYSES[name]
        bar.set_postfix_str(f"{name}: {tok.name}"[:60])
        key = _cache_key(analysis, tok, corpus_obj, options)
        from ..reports.document import safe_filename

        path = cache / f"{name}-{safe_filename(tok.name, limit=40)}-{key[:24]}.pkl" if cache else None
        part = _cache_load(path)
        if part is not None:
            hits += 1
        else:
            try:
                part = analysis.run(tok, corpus_obj, options)
            except Skip as why:
                skipped.append((name, tok.name, str(why)))
                continue
            except KeyboardInterrupt:
                raise
            except TokbenchError as err:
                failures.append((f"{name} on {tok.name}", str(err)))
                continue
            except Exception as err:  # one analysis's bug must not lose the other results
                failures.append((f"{name} on {tok.name}", f"{type(err).__name__}: {err}"))
                continue
            _cache_store(path, part)
        parts[name][tok.name] = part
    bar.close()
    return AuditResult(
        tokenizers=[_tokenizer_info(t) for t in toks],
        analyses=chosen,
        parts=parts,
        corpus=corpus_obj.signature(),
        skipped=skipped,
        failures=failures,
        unavailable=unavailable,
        options={**options, "analyses": chosen},
        cache_hits=hits,
    )


class _CallableModule(types.ModuleType):
    """``tokbench.audit(...)`` is the public entry point, and ``tokbench.audit`` is also this
    package: once the package is imported Python binds the name to the module, so the module
    itself forwards calls to :func:`audit`."""

    def __call__(self, *args: Any, **kwargs: Any) -> AuditResult:
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
