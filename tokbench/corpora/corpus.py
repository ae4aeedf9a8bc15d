"""The :class:`Corpus` type: named categories of documents, their provenance, sampling, signature.

A corpus maps category names (a FLORES-200 language, a programming language, a file) to lists of
documents, in insertion order, and remembers where they came from. Derived corpora (a subset, a
renaming, a deterministic byte-budget sample, a combination) are new objects; the signature
(sizes, a sha256 of the content, the sample applied) is what every result records about its
corpus. Loaders live in :mod:`.loaders`, the spec syntax in :mod:`.spec`.

Example:
    >>> c = Corpus("toy", {"a": ["one", "two"], "b": ["три"]})
    >>> c.n_bytes("b"), c.sample(max_bytes=3, seed=1).documents("a")
    (6, ['two'])
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import Any

from ..errors import CorpusError, UnknownNameError

__all__ = ["Corpus", "CorpusWarning", "check_unique_names", "split_names"]


class CorpusWarning(UserWarning):
    """A corpus is usable but suspicious (e.g. two categories hold the same text)."""


@dataclass(frozen=True, repr=False)
class Corpus:
    """Named categories of documents with their provenance.

    Treat it as immutable: derived corpora (:meth:`subset`, :meth:`sample`, :meth:`rename`) are
    new objects, and byte counts and the content hash are cached on first use.

    Attributes:
        name: the corpus id, normally the spec string it was loaded from.
        categories: category -> documents, in insertion order.
        sources: category -> a human-readable description of where its documents came from.
        replaced_chars: invalid UTF-8 sequences replaced by U+FFFD while decoding (``errors="replace"``).
        split: the FLORES split ("dev", "devtest", "both") or the HF split, when there is one.
        max_bytes, seed, per_category: the byte-budget sample applied, if any (see :meth:`sample`).

    Example:
        >>> c = Corpus("toy", {"a": ["one", "two"], "b": ["три"]})
        >>> c.n_bytes("b"), c.n_documents(), len(c)
        (6, 3, 2)
    """

    name: str
    categories: dict[str, list[str]]
    sources: dict[str, str] = dataclass_field(default_factory=dict)
    replaced_chars: int = 0
    split: str | None = None
    max_bytes: int | None = None
    seed: int | None = None
    per_category: bool | None = None

    def __post_init__(self) -> None:
        if not self.categories:
            raise CorpusError(
                f"corpus {self.name!r} has no categories; give at least one language, file or dataset"
            )
        # Copy so that later changes to the caller's dict or lists cannot desynchronise the
        # cached sizes and hash from the documents.
        cats = {str(k): list(v) for k, v in self.categories.items()}
        for cat, docs in cats.items():
            if not cat:
                raise CorpusError(
                    f"corpus {self.name!r} has a category with an empty name; name it"
                )
            if not any(docs):
                what = "no documents" if not docs else "only empty documents"
                raise CorpusError(
                    f"corpus {self.name!r}: category {cat!r} is empty ({what}); "
                    "check the file or spec that produced it, or leave it out"
                )
            for doc in docs:
                if not isinstance(doc, str):
                    raise CorpusError(
                        f"corpus {self.name!r}: category {cat!r} holds a {type(doc).__name__}, "
                        "not text; documents must be str"
                    )
        object.__setattr__(self, "categories", cats)
        object.__setattr__(self, "sources", {k: self.sources.get(k, "") for k in cats})

    # -- inspection --------------------------------------------------------------------------

    @property
    def category_names(self) -> list[str]:
        """Category names in insertion order."""
        return list(self.categories)

    def documents(self, category: str) -> list[str]:
        """The documents of one category (the stored list; do not modify it)."""
        self._check_category(category)
        return self.categories[category]

    @cached_property
    def _bytes(self) -> dict[str, int]:
        return {c: sum(len(d.encode("utf-8")) for d in docs) for c, docs in self.categories.items()}

    def n_bytes(self, category: str | None = None) -> int:
        """UTF-8 size of one category, or of the whole corpus when ``category`` is None."""
        if category is None:
            return sum(self._bytes.values())
        self._check_category(category)
        return self._bytes[category]

    def n_documents(self, category: str | None = None) -> int:
        """Number of documents in one category, or in the whole corpus."""
        if category is None:
            return sum(len(d) for d in self.categories.values())
        self._check_category(category)
        return len(self.categories[category])

    def text(self, category: str, joiner: str = "\n") -> str:
        """All documents of ``category`` joined into one string.

        Petrov et al. (2023) join FLORES lines with a single space (``joiner=" "``) and encode
        once; the default newline keeps documents apart for byte-level pretokenizers.
        """
        return joiner.join(self.documents(category))

    def iter_documents(self, category: str | None = None) -> Iterator[str]:
        """The documents of one category, or of every category in order, one at a time.

        The same call works on a :class:`~tokbench.corpora.streaming.CorpusStream`, which never
        holds its corpus, so code that only reads documents once takes either.

        Example:
            >>> list(Corpus("toy", {"a": ["x", "y"], "b": ["z"]}).iter_documents())
            ['x', 'y', 'z']
        """
        if category is not None:
            yield from self.documents(category)
            return
        for docs in self.categories.values():
            yield from docs

    def __len__(self) -> int:
        return len(self.categories)

    def __iter__(self) -> Iterator[tuple[str, list[str]]]:
        return iter(self.categories.items())

    def __contains__(self, category: object) -> bool:
        return category in self.categories

    def __repr__(self) -> str:
        return (
            f"Corpus({self.name!r}, categories={len(self)}, documents={self.n_documents()}, "
            f"bytes={self.n_bytes()})"
        )

    def _check_category(self, category: str) -> None:
        if category not in self.categories:
            raise UnknownNameError(
                f"category of corpus {self.name!r}", category, list(self.categories)
            )

    # -- derived corpora ---------------------------------------------------------------------

    def _derive(self, categories: dict[str, list[str]], **changes: Any) -> Corpus:
        """This corpus with other ``categories`` (their sources kept) and other fields."""
        changes.setdefault("sources", {k: self.sources.get(k, "") for k in categories})
        return dataclasses.replace(self, categories=categories, **changes)

    def subset(self, categories: str | Iterable[str]) -> Corpus:
        """A corpus with only the given categories, in the given order.

        ``categories`` is an iterable of names or one comma-separated string.
        """
        names = split_names(categories) if isinstance(categories, str) else list(categories)
        if not names:
            raise CorpusError(
                f"subset of corpus {self.name!r}: no categories given; name at least one"
            )
        for n in names:
            self._check_category(n)
        return self._derive({n: self.categories[n] for n in names})

    def rename(self, mapping: dict[str, str]) -> Corpus:
        """A corpus whose categories are renamed by ``mapping`` (old -> new); order is kept."""
        for old in mapping:
            self._check_category(old)
        new_names = [mapping.get(c, c) for c in self.categories]
        check_unique_names(new_names, where=f"renaming categories of {self.name!r}")
        return dataclasses.replace(
            self,
            categories={mapping.get(c, c): d for c, d in self.categories.items()},
            sources={mapping.get(c, c): s for c, s in self.sources.items()},
        )

    @classmethod
    def combine(cls, parts: Sequence[Corpus], *, name: str) -> Corpus:
        """One corpus holding the categories of every part, in order; names must not repeat.

        Provenance is merged: ``replaced_chars`` adds up; ``split`` and the sample fields are kept
        when every part agrees and set to None otherwise (each category's ``sources`` entry still
        says how it was sampled).
        """
        if not parts:
            raise CorpusError(f"corpus {name!r}: nothing to combine; give at least one spec")
        if len(parts) == 1:
            return dataclasses.replace(parts[0], name=name)
        names = [c for p in parts for c in p.categories]
        check_unique_names(
            names, where=f"corpus {name!r}", hint="rename one with NAME=SPEC or ?name=NAME"
        )

        def agreed(attr: str) -> Any:
            values = {getattr(p, attr) for p in parts}
            return values.pop() if len(values) == 1 else None

        categories: dict[str, list[str]] = {}
        sources: dict[str, str] = {}
        for p in parts:
            categories.update(p.categories)
            sources.update(p.sources)
        return Corpus(
            name=name,
            categories=categories,
            sources=sources,
            replaced_chars=sum(p.replaced_chars for p in parts),
            split=agreed("split"),
            max_bytes=agreed("max_bytes"),
            seed=agreed("seed"),
            per_category=agreed("per_category"),
        )

    def sample(self, *, max_bytes: int, seed: int = 0, per_category: bool = True) -> Corpus:
        """A deterministic byte-budget sample.

        The document order is shuffled with ``random.Random(seed)``; documents are taken in that
        order while they fit in the remaining budget (UTF-8 bytes), and a document that does not
        fit is skipped, so later, smaller ones can still fill the budget. The one exception is the
        very first document of the shuffled order: if it alone exceeds the budget it is truncated
        at a UTF-8 character boundary, so that a corpus of a few huge documents still yields a
        sample. Chosen documents keep their original relative order (FLORES lines stay aligned).

        With ``per_category=True`` (the default) each category gets its own budget of
        ``max_bytes``; every category is shuffled with the same seed, so parallel categories of
        equal length (FLORES languages) visit the same line indices in the same order. With
        ``per_category=False`` the budget is for the whole corpus, drawn from one shuffle of all
        documents, so categories keep roughly their natural proportions; a category that receives
        nothing raises :class:`CorpusError`.

        Example:
            >>> c = Corpus("toy", {"a": ["aaaa", "bb", "c"]})
            >>> c.sample(max_bytes=3, seed=1).documents("a")
            ['bb', 'c']
            >>> c.sample(max_bytes=3, seed=0).documents("a")  # "aaaa" came first: cut to fit
            ['aaa']
        """
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise CorpusError(f"max_bytes must be a positive integer, got {max_bytes!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise CorpusError(f"seed must be an integer, got {seed!r}")
        budget_note = f"sampled max_bytes={max_bytes} seed={seed}"
        if per_category:
            categories = _sample_each_category(self.categories, max_bytes, seed)
            budget, hint = f"max_bytes={max_bytes} left", "raise max_bytes"
        else:
            budget_note += " (whole corpus)"
            categories = _sample_whole_corpus(self.categories, max_bytes, seed)
            budget = f"a whole-corpus budget of {max_bytes} bytes left"
            hint = "raise max_bytes or sample per category"
        starved = [c for c, docs in categories.items() if not docs]
        if starved:  # per category: only when max_bytes is smaller than one character
            raise CorpusError(
                f"corpus {self.name!r}: {budget} categories {', '.join(starved)} empty; {hint}"
            )
        sources = {
            c: f"{self.sources[c]}; {budget_note}" if self.sources.get(c) else budget_note
            for c in categories
        }
        return self._derive(
            categories, sources=sources, max_bytes=max_bytes, seed=seed, per_category=per_category
        )

    def identical_categories(self) -> list[tuple[str, ...]]:
        """Groups of two or more categories holding exactly the same documents (the same text
        under two names), in category order.

        Example:
            >>> Corpus("toy", {"a": ["x"], "b": ["y"], "c": ["x"]}).identical_categories()
            [('a', 'c')]
        """
        by_text: dict[str, list[str]] = {}
        for cat, docs in self.categories.items():
            digest = hashlib.sha256()
            for d in docs:
                data = d.encode("utf-8", "surrogatepass")
                digest.update(b"D%d:" % len(data) + data)
            by_text.setdefault(digest.hexdigest(), []).append(cat)
        return [tuple(group) for group in by_text.values() if len(group) > 1]

    # -- signature -----------------------------------------------------------------------------

    @cached_property
    def content_hash(self) -> str:
        """sha256 over category names and documents (length-prefixed, so it is unambiguous)."""
        digest = hashlib.sha256()
        for cat, docs in self.categories.items():
            name = cat.encode("utf-8")
            digest.update(b"C%d:" % len(name) + name + b"N%d;" % len(docs))
            for d in docs:
                data = d.encode("utf-8")
                digest.update(b"D%d:" % len(data) + data)
        return digest.hexdigest()

    def signature(self) -> dict[str, Any]:
        """What a result needs to say about its corpus: id, sizes, content hash, sample, version.

        JSON-serialisable and free of machine-specific paths, so equal corpora give equal
        signatures on any machine.
        """
        from .. import __version__

        return {
            "corpus": self.name,
            "categories": self.category_names,
            "documents": {c: len(d) for c, d in self.categories.items()},
            "bytes": dict(self._bytes),
            "total_documents": self.n_documents(),
            "total_bytes": self.n_bytes(),
            "sha256": self.content_hash,
            "split": self.split,
            "max_bytes": self.max_bytes,
            "seed": self.seed,
            "per_category": self.per_category,
            "replaced_chars": self.replaced_chars,
            "tokbench_version": __version__,
        }


def _sample_each_category(
    categories: dict[str, list[str]], max_bytes: int, seed: int
) -> dict[str, list[str]]:
    """A budget of ``max_bytes`` per category, every category shuffled with the same seed."""
    return {
        cat: [
            d for _, _, d in _take_budget([(0, i, d) for i, d in enumerate(docs)], max_bytes, seed)
        ]
        for cat, docs in categories.items()
    }


def _sample_whole_corpus(
    categories: dict[str, list[str]], max_bytes: int, seed: int
) -> dict[str, list[str]]:
    """One budget of ``max_bytes`` drawn from one shuffle of every document of the corpus."""
    names = list(categories)
    pool = [(k, i, d) for k, cat in enumerate(names) for i, d in enumerate(categories[cat])]
    sampled: dict[str, list[str]] = {cat: [] for cat in names}
    for k, _, d in _take_budget(pool, max_bytes, seed):
        sampled[names[k]].append(d)
    return sampled


def _take_budget(
    items: list[tuple[int, int, str]], max_bytes: int, seed: int
) -> list[tuple[int, int, str]]:
    """Seeded shuffle, greedy fill of ``max_bytes``, result back in original order."""
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    remaining = max_bytes
    taken: list[int] = []
    truncated: dict[int, str] = {}
    for rank, idx in enumerate(order):
        size = len(items[idx][2].encode("utf-8"))
        if size <= remaining:
            taken.append(idx)
            remaining -= size
        elif rank == 0:
            # errors="ignore" drops only the partial character cut at the end.
            head = items[idx][2].encode("utf-8")[:remaining].decode("utf-8", errors="ignore")
            if head:
                taken.append(idx)
                truncated[idx] = head
                remaining -= len(head.encode("utf-8"))
        if remaining <= 0:
            break
    taken.sort()
    return [(items[i][0], items[i][1], truncated.get(i, items[i][2])) for i in taken]


def check_unique_names(
    names: list[str], *, where: str, hint: str = "give each category its own name"
) -> None:
    """Raise :class:`CorpusError` naming every name that occurs more than once."""
    seen: set[str] = set()
    dupes: dict[str, None] = {}
    for n in names:
        if n in seen:
            dupes[n] = None
        seen.add(n)
    if dupes:
        raise CorpusError(f"{where}: duplicate name(s) {', '.join(dupes)}; {hint}")


def split_names(value: str | Sequence[str], *, allow_empty: bool = True) -> list[str]:
    """Names from ``"a, b"`` (comma-separated) or from a sequence; blanks are dropped, or with
    ``allow_empty=False`` an empty name (``"a,,b"``, ``"a,"``) raises :class:`CorpusError`."""
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    if not allow_empty and any(not n for n in names) and any(names):
        raise CorpusError(f"empty name in the list {value!r} (a stray comma?); e.g. eng_Latn,fra_Latn")
    return [n for n in names if n]
