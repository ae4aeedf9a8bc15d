"""The optimal-vocabulary experiment's options, checked before any training: grid, target, languages.

Everything a user can get wrong (a grid of fewer than 3 sizes, a target that names no language
or size, a language missing from one corpus, a non-parallel evaluation corpus) is caught here,
with a message that says what to do, before the long work starts (DESIGN.md convention 12).

Example:
    >>> parse_target("fra_Latn@4000", "eng_Latn", [1000, 2000])
    ('language', ('fra_Latn', 4000))
    >>> check_grid([4000, 1000, 2000])
    [1000, 2000, 4000]
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any

from ...corpora import Corpus, script_of
from ...errors import CorpusError, UnknownLanguageError
from ...metrics.power_law import PowerLawError

__all__ = ["OptimalVocabError", "Target", "script_of", "parse_target", "check_grid", "check_languages"]

Target = float | int | str | tuple[str, int] | None


class OptimalVocabError(PowerLawError):
    """The optimal-vocabulary analysis cannot run as asked (grid, target or corpora)."""


def parse_target(target: Target, reference_language: str, grid: Sequence[int]) -> tuple[str, Any]:
    """``("absolute", count)`` or ``("language", (lang, vocab))`` from a target spec.

    ``None`` means the reference language at the middle of the grid; a string is ``"LANG@V"``,
    ``"LANG"`` (at the middle of the grid) or a number.

    Example:
        >>> parse_target(None, "eng_Latn", [1000, 2000, 4000])
        ('language', ('eng_Latn', 2000))
        >>> parse_target("fra_Latn@4000", "eng_Latn", [1000]), parse_target("25e3", "eng_Latn", [1000])
        (('language', ('fra_Latn', 4000)), ('absolute', 25000.0))
    """
    middle = sorted(grid)[(len(grid) - 1) // 2] if grid else None
    if target is None:
        return "language", (reference_language, middle)
    if isinstance(target, bool):
        raise OptimalVocabError(f"target must be a CTC, LANG@VOCAB or (LANG, VOCAB), got {target!r}")
    if isinstance(target, int | float):
        value = float(target)
    elif isinstance(target, tuple):
        if len(target) != 2 or not isinstance(target[0], str) or not isinstance(target[1], int):
            raise OptimalVocabError(f"a target tuple is (language, vocab_size), got {target!r}")
        return "language", (target[0], int(target[1]))
    elif isinstance(target, str):
        try:
            value = float(target.strip())
        except ValueError:
            return _language_target(target, middle)
    else:
        raise OptimalVocabError(f"target must be a CTC, LANG@VOCAB or (LANG, VOCAB), got {target!r}")
    if not math.isfinite(value) or value <= 0:
        raise OptimalVocabError(f"an absolute target CTC must be a positive number, got {target!r}")
    return "absolute", value


def _language_target(target: str, middle: int | None) -> tuple[str, Any]:
    """``"LANG@V"`` or ``"LANG"`` (at the middle of the grid)."""
    lang, _, size = target.strip().partition("@")
    if not lang:
        raise OptimalVocabError(f"target {target!r}: give LANG@VOCAB, LANG or a CTC")
    if not size:
        return "language", (lang, middle)
    try:
        return "language", (lang, int(size.replace("_", "")))
    except ValueError:
        raise OptimalVocabError(f"target {target!r}: the vocabulary after @ must be an integer") from None


def check_grid(grid: Sequence[int]) -> list[int]:
    """The distinct grid sizes in ascending order; at least 3, all above the byte alphabet."""
    try:
        sizes = sorted({int(v) for v in grid})
    except (TypeError, ValueError):
        raise OptimalVocabError(f"the grid must be vocabulary sizes (integers), got {grid!r}") from None
    if any(isinstance(v, bool) or int(v) != v for v in grid):
        raise OptimalVocabError(f"the grid must be integer vocabulary sizes, got {list(grid)!r}")
    if len(sizes) < 3:
        raise OptimalVocabError(
            f"the grid has {len(sizes)} distinct size(s) ({', '.join(map(str, sizes)) or 'none'}); a "
            "power-law fit needs at least 3, e.g. --grid 1000,2000,4000"
        )
    if sizes[0] <= 256:
        raise OptimalVocabError(
            f"grid size {sizes[0]} leaves no merges (the byte alphabet alone is 256 tokens); use sizes above 256"
        )
    return sizes


def check_languages(train: Corpus, evals: Corpus, languages: Sequence[str] | None, reference: str) -> list[str]:
    """The languages to run (reference first when added), each in both corpora, evaluation parallel."""
    names = list(languages) if languages is not None else [c for c in evals.category_names if c in train]
    if reference not in names:
        names = [reference, *names]
    for lang in names:
        for corpus, role in ((train, "training"), (evals, "evaluation")):
            if lang not in corpus:
                raise _missing_language(lang, corpus, role, reference)
    if len(names) < 2:
        raise OptimalVocabError(
            f"only {names[0]} is in both corpora; comparing premiums needs at least 2 languages "
            f"(training has {', '.join(train.category_names[:8])}; evaluation has "
            f"{', '.join(evals.category_names[:8])})"
        )
    sizes = {c: evals.n_documents(c) for c in names}
    if len(set(sizes.values())) > 1:
        odd = [c for c, n in sizes.items() if n != sizes[reference]][:5]
        raise CorpusError(
            f"the evaluation corpus must be parallel (the same sentences in every language), but "
            f"{', '.join(odd)} differ(s) in document count from {reference} ({sizes[reference]}); "
            "use FLORES devtest or align the files"
        )
    return names


def _missing_language(lang: str, corpus: Corpus, role: str, reference: str) -> UnknownLanguageError:
    close = difflib.get_close_matches(lang, corpus.category_names, n=5, cutoff=0.5)
    hint = f"closest: {', '.join(close)}" if close else f"it has {', '.join(corpus.category_names[:8])}"
    return UnknownLanguageError(
        f"language {lang!r} is not in the {role} corpus {corpus.name!r} ({hint}); load it "
        "in both corpora (e.g. flores:LANG@dev and flores:LANG@devtest) or leave it out"
        + (" — the reference language is always needed; choose it with --reference" if lang == reference else "")
    )
