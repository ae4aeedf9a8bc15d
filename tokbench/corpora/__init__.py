"""Corpora: named categories of documents, their loaders, and the one corpus-spec syntax.

A :class:`Corpus` maps category names (a FLORES-200 language, a programming language, a file) to
lists of documents, in insertion order, and remembers where they came from. Every command that
takes ``--corpus`` calls :func:`load_corpus`, so one spec string works everywhere::

    flores:eng_Latn,fra_Latn@both          one category per language, dev + devtest lines
    code:python,c                          the shared real-code JSONL files
    data/news.txt                          a bare path: a text file (a document per line)
    hf:json?data_files=a.jsonl&field=body  any ``datasets.load_dataset`` source
    en=flores:eng_Latn+py=code:python?max_bytes=100k&seed=1
                                           ``+`` joins specs, ``NAME=`` renames a category

The full grammar is in ``docs/corpus-spec.md``. Loaders never return an empty category: an empty
file or a category without text raises :class:`~tokbench.errors.CorpusError`, because every
metric downstream divides by a per-category size.

Example:
    >>> corpus = load_corpus("sample:eng_Latn,python")
    >>> corpus.category_names
    ['eng_Latn', 'python']
    >>> small = corpus.sample(max_bytes=2_000, seed=0)
    >>> all(small.n_bytes(c) <= 2_000 for c in small.category_names)
    True
    >>> sorted(small.signature())[:4]
    ['bytes', 'categories', 'corpus', 'documents']
"""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import random
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from .._io import shared_data_dir
from ..errors import CorpusError, EncodingError, UnknownLanguageError, UnknownNameError

__all__ = [
    "Corpus",
    "CorpusSpec",
    "Errors",
    "FloresSplit",
    "load_corpus",
    "parse_corpus_spec",
    "load_flores",
    "flores_languages",
    "load_code",
    "code_languages",
    "load_jsonl",
    "load_text",
    "load_hf_dataset",
    "load_sample",
    "sample_categories",
    "SPEC_PREFIXES",
]

Errors = Literal["strict", "replace"]
FloresSplit = Literal["dev", "devtest", "both"]

_REPLACE_HINT = 'fix the file, or load it with errors="replace" (spec option ?errors=replace) to substitute U+FFFD'


# --------------------------------------------------------------------------------------------
# The Corpus type
# --------------------------------------------------------------------------------------------


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
        fields = {
            "name": self.name,
            "sources": {k: self.sources.get(k, "") for k in categories},
            "replaced_chars": self.replaced_chars,
            "split": self.split,
            "max_bytes": self.max_bytes,
            "seed": self.seed,
            "per_category": self.per_category,
        }
        fields.update(changes)
        return Corpus(categories=categories, **fields)

    def subset(self, categories: str | Iterable[str]) -> Corpus:
        """A corpus with only the given categories, in the given order.

        ``categories`` is an iterable of names or one comma-separated string.
        """
        names = _split_names(categories) if isinstance(categories, str) else list(categories)
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
        _check_unique(new_names, where=f"renaming categories of {self.name!r}")
        return Corpus(
            name=self.name,
            categories={mapping.get(c, c): d for c, d in self.categories.items()},
            sources={mapping.get(c, c): s for c, s in self.sources.items()},
            replaced_chars=self.replaced_chars,
            split=self.split,
            max_bytes=self.max_bytes,
            seed=self.seed,
            per_category=self.per_category,
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
            return Corpus(
                name=name,
                categories=parts[0].categories,
                sources=parts[0].sources,
                replaced_chars=parts[0].replaced_chars,
                split=parts[0].split,
                max_bytes=parts[0].max_bytes,
                seed=parts[0].seed,
                per_category=parts[0].per_category,
            )
        names = [c for p in parts for c in p.categories]
        _check_unique(
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
            chosen = {
                cat: _take_budget([(0, i, d) for i, d in enumerate(docs)], max_bytes, seed)
                for cat, docs in self.categories.items()
            }
            categories = {cat: [d for _, _, d in items] for cat, items in chosen.items()}
            starved = [c for c, docs in categories.items() if not docs]
            if starved:  # only when max_bytes is smaller than one character
                raise CorpusError(
                    f"corpus {self.name!r}: max_bytes={max_bytes} left categories "
                    f"{', '.join(starved)} empty; raise max_bytes"
                )
        else:
            budget_note += " (whole corpus)"
            names = list(self.categories)
            pool = [
                (k, i, d) for k, cat in enumerate(names) for i, d in enumerate(self.categories[cat])
            ]
            picked = _take_budget(pool, max_bytes, seed)
            categories = {cat: [] for cat in names}
            for k, _, d in picked:
                categories[names[k]].append(d)
            starved = [c for c, docs in categories.items() if not docs]
            if starved:
                raise CorpusError(
                    f"corpus {self.name!r}: a whole-corpus budget of {max_bytes} bytes left "
                    f"categories {', '.join(starved)} empty; raise max_bytes or sample per category"
                )
        sources = {
            c: f"{self.sources[c]}; {budget_note}" if self.sources.get(c) else budget_note
            for c in categories
        }
        return self._derive(
            categories, sources=sources, max_bytes=max_bytes, seed=seed, per_category=per_category
        )

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


def _check_unique(
    names: list[str], *, where: str, hint: str = "give each category its own name"
) -> None:
    seen: set[str] = set()
    dupes: dict[str, None] = {}
    for n in names:
        if n in seen:
            dupes[n] = None
        seen.add(n)
    if dupes:
        raise CorpusError(f"{where}: duplicate name(s) {', '.join(dupes)}; {hint}")


# --------------------------------------------------------------------------------------------
# Reading and decoding files
# --------------------------------------------------------------------------------------------


def _missing(path: Path, what: str = "file", hint: str | None = None) -> CorpusError:
    hint = hint or f"check the path (relative paths are resolved from {Path.cwd()})"
    return CorpusError(f"{path}: no such {what}; {hint}")


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise _missing(path)
    if path.is_dir():
        raise CorpusError(
            f"{path}: is a folder, not a file; use text:{path} for a folder of text files"
        )
    try:
        data = path.read_bytes()
        # Transparent gzip so that large JSONL/text corpora can stay compressed on disk.
        return gzip.decompress(data) if path.suffix == ".gz" else data
    except (OSError, EOFError, zlib.error) as err:
        raise CorpusError(f"{path}: cannot read ({err}); check the file") from err


def _decode(data: bytes, *, source: str | Path, errors: Errors) -> tuple[str, int]:
    """UTF-8 text of ``data`` and the number of U+FFFD replacements made."""
    if errors not in ("strict", "replace"):
        raise CorpusError(f'errors must be "strict" or "replace", got {errors!r}')
    try:
        text = data.decode("utf-8")
        replaced = 0
    except UnicodeDecodeError as err:
        if errors == "strict":
            line = data.count(b"\n", 0, err.start) + 1
            raise EncodingError(
                f"{source}: invalid UTF-8 at byte offset {err.start} (line {line}: {err.reason}); "
                f"{_REPLACE_HINT}"
            ) from None
        text = data.decode("utf-8", errors="replace")
        # U+FFFD already present in the file (EF BF BD) is text, not a replacement.
        replaced = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    # A BOM is an editor artefact, not text; left in, it would become a token of the first line.
    return text.removeprefix("\ufeff"), replaced


def _lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines() would also split on U+2028, form feeds and other
    # separators that occur inside real sentences, breaking FLORES line alignment.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln.removesuffix("\r") for ln in lines]


def _stem(path: Path) -> str:
    # "python.jsonl.gz" -> "python": the compression suffix is not part of the name.
    return Path(path.name.removesuffix(".gz")).stem or path.name


def _split_names(value: str | Sequence[str]) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def _resolve_names(
    requested: str | Sequence[str], valid: list[str], *, what: str, hint: str
) -> list[str]:
    """Requested names (``"all"``, ``"a,b"`` or a list) checked against ``valid``, in request order."""
    if isinstance(requested, str) and requested.strip() in ("all", "*"):
        return list(valid)
    names = _split_names(requested)
    if not names:
        raise CorpusError(f"no {what} given; name at least one, or 'all'")
    _check_unique(names, where=f"{what} list", hint="list each once")
    valid_set = set(valid)
    for name in names:
        if name not in valid_set:
            raise UnknownLanguageError(_unknown_message(name, valid, what=what, hint=hint))
    return names


def _unknown_message(name: str, valid: list[str], *, what: str, hint: str) -> str:
    lowered = {v.lower(): v for v in valid}
    key = name.lower()
    # Case slips ("eng_latn") and bare ISO codes ("eng") are the usual mistakes; difflib alone
    # ranks them below look-alike codes, so they go first.
    close = [v for v in valid if v.lower() == key]
    close += [v for v in valid if v.lower().split("_")[0] == key or v.lower().startswith(key)]
    close += [lowered[m] for m in difflib.get_close_matches(key, list(lowered), n=5, cutoff=0.5)]
    close = list(dict.fromkeys(close))[:5]
    if close:
        suggestion = f"closest valid codes: {', '.join(close)}"
    else:
        suggestion = (
            f"valid codes include: {', '.join(valid[:8])}{', ...' if len(valid) > 8 else ''}"
        )
    return f"unknown {what} {name!r}; {suggestion} ({hint})"


# --------------------------------------------------------------------------------------------
# Loaders
# --------------------------------------------------------------------------------------------

_FLORES_CODE_RE = re.compile(r"[a-z]{3}_[A-Z][a-z]{3}")
_FLORES_HINT = "set TOKBENCH_DATA to the shared data folder or pass dir=PATH (flores_dir=PATH)"
_CODE_HINT = "set TOKBENCH_DATA to the shared data folder or pass dir=PATH (code_dir=PATH)"


def _data_subdir(given: str | Path | None, sub: str, *, what: str, hint: str) -> Path:
    if given is not None:
        folder = Path(given).expanduser()
    else:
        root = shared_data_dir()
        if root is None:
            raise CorpusError(f"{what} folder not found (no shared data folder); {hint}")
        folder = root / sub
    if not folder.is_dir():
        raise _missing(folder, f"{what} folder", hint)
    return folder


def flores_languages(flores_dir: str | Path | None = None) -> list[str]:
    """The FLORES-200 language codes available (``eng_Latn``, ...), sorted."""
    folder = _data_subdir(flores_dir, "flores200", what="FLORES-200", hint=_FLORES_HINT)
    for split in ("devtest", "dev"):
        codes = sorted(
            p.name.removesuffix(f".{split}") for p in (folder / split).glob(f"*.{split}")
        )
        if codes:
            return codes
    raise CorpusError(
        f"{folder}: no dev/<lang>.dev or devtest/<lang>.devtest files; {_FLORES_HINT}"
    )


def load_flores(
    languages: str | Sequence[str],
    *,
    split: FloresSplit = "devtest",
    flores_dir: str | Path | None = None,
    errors: Errors = "strict",
) -> Corpus:
    """FLORES-200 sentences, one category per language and one document per line.

    ``languages`` is ``"all"``, a comma-separated string or a list of codes such as ``eng_Latn``.
    ``split="both"`` gives the 997 dev lines followed by the 1,012 devtest lines. Lines are
    aligned across languages (checked: differing line counts raise :class:`CorpusError`).

    Example:
        >>> load_flores("eng_Latn,fra_Latn", split="both").n_documents("fra_Latn")  # doctest: +SKIP
        2009
    """
    if split not in ("dev", "devtest", "both"):
        raise CorpusError(f'FLORES split must be "dev", "devtest" or "both", got {split!r}')
    folder = _data_subdir(flores_dir, "flores200", what="FLORES-200", hint=_FLORES_HINT)
    valid = flores_languages(folder)
    codes = _resolve_names(
        languages,
        valid,
        what="FLORES-200 language code",
        hint="codes are ISO 639-3 + script, e.g. eng_Latn",
    )
    splits = ("dev", "devtest") if split == "both" else (split,)
    categories: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    replaced = 0
    for code in codes:
        docs: list[str] = []
        files = [folder / s / f"{code}.{s}" for s in splits]
        for path in files:
            if not path.is_file():
                raise _missing(
                    path, hint=f"the {path.parent.name} split is missing for {code}; {_FLORES_HINT}"
                )
            text, n = _decode(_read_bytes(path), source=path, errors=errors)
            docs.extend(_lines(text))
            replaced += n
        categories[code] = docs
        sources[code] = f"FLORES-200 {split}: " + " + ".join(str(p) for p in files)
    counts = {c: len(d) for c, d in categories.items()}
    if len(set(counts.values())) > 1:
        raise CorpusError(
            f"{folder}: FLORES files are not line-aligned ({counts}); the files must have one "
            "sentence per line in the same order; re-fetch the damaged ones"
        )
    return Corpus(
        name=f"flores:{','.join(codes)}@{split}",
        categories=categories,
        sources=sources,
        replaced_chars=replaced,
        split=split,
    )


def code_languages(code_dir: str | Path | None = None) -> list[str]:
    """The programming languages of the shared code folder (``<lang>.jsonl`` stems), sorted."""
    folder = _data_subdir(code_dir, "code", what="code", hint=_CODE_HINT)
    names = sorted(p.name.removesuffix(".jsonl") for p in folder.glob("*.jsonl"))
    if not names:
        raise CorpusError(f"{folder}: no <language>.jsonl files; {_CODE_HINT}")
    return names


def load_code(
    languages: str | Sequence[str],
    *,
    code_dir: str | Path | None = None,
    errors: Errors = "strict",
) -> Corpus:
    """Real source files from ``$TOKBENCH_DATA/code/<lang>.jsonl``, one category per language."""
    folder = _data_subdir(code_dir, "code", what="code", hint=_CODE_HINT)
    names = _resolve_names(
        languages, code_languages(folder), what="code language", hint="see code_languages()"
    )
    parts = [
        load_jsonl(folder / f"{n}.jsonl", field="text", category=n, errors=errors) for n in names
    ]
    return Corpus.combine(parts, name=f"code:{','.join(names)}")


def load_jsonl(
    path: str | Path,
    *,
    field: str = "text",
    category: str | None = None,
    category_field: str | None = None,
    errors: Errors = "strict",
) -> Corpus:
    """A JSONL file (optionally ``.gz``): one JSON object a line, the document in ``field``.

    The category is ``category`` or the file stem; with ``category_field`` each line's category is
    read from that field instead (a multi-category file, like the bundled sample).
    """
    path = Path(path).expanduser()
    text, replaced = _decode(_read_bytes(path), source=path, errors=errors)
    categories: dict[str, list[str]] = {}
    default = category or _stem(path)
    for lineno, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusError(
                f"{path}:{lineno}: not valid JSON ({err.msg}); each line must be one JSON object"
            ) from None
        if not isinstance(obj, dict):
            raise CorpusError(
                f"{path}:{lineno}: a JSON {type(obj).__name__}, not an object; each line must be an object"
            )
        if field not in obj:
            raise CorpusError(
                f"{path}:{lineno}: no field {field!r} (fields: {', '.join(map(str, obj)) or 'none'}); "
                "pass field=NAME (spec option ?field=NAME)"
            )
        doc = obj[field]
        if not isinstance(doc, str):
            raise CorpusError(
                f"{path}:{lineno}: field {field!r} is a {type(doc).__name__}, not a string"
            )
        if category_field is not None:
            if category_field not in obj:
                raise CorpusError(f"{path}:{lineno}: no category field {category_field!r}")
            cat = str(obj[category_field])
        else:
            cat = default
        categories.setdefault(cat, []).append(doc)
    if not categories:
        raise CorpusError(f"{path}: empty JSONL file (no objects); give a file with documents")
    return Corpus(
        name=str(path),
        categories=categories,
        sources={c: f"JSONL {path} field {field!r}" for c in categories},
        replaced_chars=replaced,
    )


def _looks_binary(data: bytes) -> bool:
    return b"\x00" in data[:8192]


def load_text(
    path: str | Path,
    *,
    per: Literal["line", "file"] | None = None,
    category: str | None = None,
    errors: Errors = "strict",
) -> Corpus:
    """A text file or a folder of text files, as one category (named after the file or folder).

    A file is a document per line by default (blank lines dropped); a folder is a document per
    file by default: every file below it, recursively, sorted by relative path, hidden files and
    folders (``.git``) skipped. Binary files (containing NUL bytes) in a folder are an
    :class:`EncodingError` under ``errors="strict"`` and skipped under ``errors="replace"``;
    invalid UTF-8 is an error under strict and replaced by U+FFFD otherwise.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise _missing(path, "file or folder")
    if per not in (None, "line", "file"):
        raise CorpusError(f'per must be "line" or "file", got {per!r}')
    cat = category or (_stem(path) if path.is_file() else path.resolve().name)
    replaced = 0
    skipped: list[str] = []
    docs: list[str] = []
    if path.is_dir():
        mode = per or "file"
        files = sorted(
            (
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            ),
            key=lambda p: p.relative_to(path).as_posix(),
        )
        if not files:
            raise CorpusError(f"{path}: folder has no files; put text files in it or give a file")
        for f in files:
            data = _read_bytes(f)
            if _looks_binary(data):
                if errors == "strict":
                    raise EncodingError(
                        f"{f}: binary file (NUL bytes) in a text folder; remove it, or pass "
                        'errors="replace" (spec option ?errors=replace) to skip binary files'
                    )
                skipped.append(f.relative_to(path).as_posix())
                continue
            text, n = _decode(data, source=f, errors=errors)
            replaced += n
            if mode == "file":
                if text.strip():
                    docs.append(text)
            else:
                docs.extend(ln for ln in _lines(text) if ln.strip())
        where = f"folder {path} ({len(files) - len(skipped)} files, a document per {mode})"
    else:
        mode = per or "line"
        text, replaced = _decode(_read_bytes(path), source=path, errors=errors)
        if mode == "file":
            docs = [text] if text.strip() else []
        else:
            docs = [ln for ln in _lines(text) if ln.strip()]
        where = f"text file {path} (a document per {mode})"
    if not docs:
        raise CorpusError(f"{path}: no text (empty or blank); give a file or folder with text")
    if skipped:
        where += f"; skipped binary: {', '.join(skipped)}"
    return Corpus(
        name=str(path), categories={cat: docs}, sources={cat: where}, replaced_chars=replaced
    )


_PACKAGED_BUILDERS = {"json", "text", "csv", "parquet", "arrow", "webdataset"}


def load_hf_dataset(
    name: str,
    *,
    config: str | None = None,
    split: str = "train",
    field: str = "text",
    streaming: bool = False,
    data_files: str | Sequence[str] | None = None,
    max_documents: int | None = None,
    category: str | None = None,
    cache_dir: str | Path | None = None,
    errors: Errors = "strict",
) -> Corpus:
    """Documents from ``datasets.load_dataset(name, config, split=..., ...)``, column ``field``.

    ``streaming=True`` avoids downloading a whole dataset; combine it with ``max_documents``.
    The category is ``category``, else the data file stem for packaged builders (``json``,
    ``text``, ...), else the last part of ``name``. ``errors`` applies to ``bytes`` values.
    """
    import datasets  # heavy: imported only when a HF corpus is asked for

    if max_documents is not None and max_documents <= 0:
        raise CorpusError(f"max_documents must be positive, got {max_documents}")
    files: str | list[str] | None
    files = data_files if data_files is None or isinstance(data_files, str) else list(data_files)
    label = f"hf:{name}" + (f"/{config}" if config else "") + f"[{split}]"
    try:
        ds = datasets.load_dataset(
            name,
            config,
            split=split,
            streaming=streaming,
            data_files=files,
            cache_dir=str(cache_dir) if cache_dir is not None else None,
        )
    except Exception as err:  # datasets raises many unrelated types for "cannot load"
        raise CorpusError(
            f"{label}: cannot load ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
            "check the name, config, split and data_files, and network access or HF_DATASETS_OFFLINE"
        ) from err
    docs: list[str] = []
    replaced = 0
    for i, row in enumerate(ds):
        if max_documents is not None and i >= max_documents:
            break
        if field not in row:
            raise CorpusError(
                f"{label}: no column {field!r} (columns: {', '.join(map(str, row))}); "
                "pass field=NAME (spec option ?field=NAME)"
            )
        value = row[field]
        if isinstance(value, bytes):
            value, n = _decode(value, source=f"{label} row {i}", errors=errors)
            replaced += n
        if not isinstance(value, str):
            raise CorpusError(
                f"{label}: column {field!r} holds {type(value).__name__}, not text; choose a text column"
            )
        docs.append(value)
    if category is None:
        if name in _PACKAGED_BUILDERS and isinstance(files, str):
            category = _stem(Path(files))
        else:
            category = name.rstrip("/").split("/")[-1]
    if not docs:
        raise CorpusError(f"{label}: no rows; check the split and data_files")
    return Corpus(
        name=label,
        categories={category: docs},
        sources={
            category: f"datasets.load_dataset {label} column {field!r}"
            + (" (streaming)" if streaming else "")
        },
        replaced_chars=replaced,
        split=split,
    )


def _sample_path() -> Path:
    from importlib.resources import files

    return Path(str(files("tokbench") / "data" / "sample.jsonl.gz"))


def sample_categories() -> list[str]:
    """Categories of the bundled sample, in file order (FLORES languages, then code)."""
    return load_sample().category_names


def load_sample(categories: str | Sequence[str] = "all", *, errors: Errors = "strict") -> Corpus:
    """The bundled sample: FLORES-200 devtest lines for ~16 languages and a little real code.

    It ships with the package (``tokbench/data/sample.jsonl.gz``; licences in
    ``tokbench/data/DATA_LICENSES``), so it works without the shared data folder.
    """
    path = _sample_path()
    if not path.is_file():
        raise _missing(
            path,
            hint="the bundled sample is missing; reinstall tokbench or run scripts/make_sample.py",
        )
    full = load_jsonl(path, field="text", category_field="category", errors=errors)
    names = _resolve_names(
        categories, full.category_names, what="sample category", hint="see sample_categories()"
    )
    sources = {
        c: "tokbench bundled sample ("
        + ("FLORES-200 devtest" if _FLORES_CODE_RE.fullmatch(c) else "real code")
        + "; see tokbench/data/DATA_LICENSES)"
        for c in names
    }
    return Corpus(
        name="sample:" + ("all" if names == full.category_names else ",".join(names)),
        categories={c: full.categories[c] for c in names},
        sources=sources,
        replaced_chars=full.replaced_chars,
    )


# --------------------------------------------------------------------------------------------
# The corpus spec
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpusSpec:
    """One ``+``-separated part of a corpus spec, parsed and with typed options.

    ``kind`` is a registry prefix (``flores``, ``code``, ``jsonl``, ``text``, ``hf``, ``sample``)
    or ``path`` for a bare path; ``target`` is what follows the prefix (a path, a language list,
    a dataset name) without options; ``rename`` is the ``NAME=`` prefix, if any.
    """

    kind: str
    target: str
    options: dict[str, Any]
    rename: str | None
    text: str


def _parse_size(value: str) -> int:
    m = re.fullmatch(r"\s*(\d+)\s*([kKMG]?)\s*", value)
    if not m:
        raise ValueError("expected a whole number of bytes, optionally with k, M or G")
    return int(m.group(1)) * {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}[m.group(2)]


def _parse_bool(value: str) -> bool:
    v = value.strip().lower()
    if v in ("1", "true", "yes", "on"):
        return True
    if v in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1/0, true/false or yes/no")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"expected one of {', '.join(allowed)}")
        return value

    return parse


def _files_list(value: str) -> str | list[str]:
    parts = [v for v in value.split(",") if v]
    if not parts:
        raise ValueError("expected a file or comma-separated files")
    return parts[0] if len(parts) == 1 else parts


def _positive_int(value: str) -> int:
    n = int(value)
    if n <= 0:
        raise ValueError("expected a positive integer")
    return n


# Option name -> parser turning the query-string text into a typed value.
_OPTION_PARSERS: dict[str, Callable[[str], Any]] = {
    "max_bytes": _parse_size,
    "seed": int,
    "per_category": _parse_bool,
    "name": str,
    "errors": _choice("strict", "replace"),
    "dir": str,
    "field": str,
    "category_field": str,
    "per": _choice("line", "file"),
    "config": str,
    "split": str,
    "streaming": _parse_bool,
    "data_files": _files_list,
    "max_documents": _positive_int,
}
_COMMON_OPTIONS = frozenset({"max_bytes", "seed", "per_category", "name", "errors"})


def _opt_flores(s: CorpusSpec, errors: Errors) -> Corpus:
    return load_flores(
        s.target,
        split=s.options.get("split", "devtest"),
        flores_dir=s.options.get("dir"),
        errors=errors,
    )


def _opt_code(s: CorpusSpec, errors: Errors) -> Corpus:
    return load_code(s.target, code_dir=s.options.get("dir"), errors=errors)


def _opt_jsonl(s: CorpusSpec, errors: Errors) -> Corpus:
    return load_jsonl(
        s.target,
        field=s.options.get("field", "text"),
        category_field=s.options.get("category_field"),
        errors=errors,
    )


def _opt_text(s: CorpusSpec, errors: Errors) -> Corpus:
    return load_text(s.target, per=s.options.get("per"), errors=errors)


def _opt_hf(s: CorpusSpec, errors: Errors) -> Corpus:
    return load_hf_dataset(
        s.target,
        config=s.options.get("config"),
        split=s.options.get("split", "train"),
        field=s.options.get("field", "text"),
        streaming=s.options.get("streaming", False),
        data_files=s.options.get("data_files"),
        max_documents=s.options.get("max_documents"),
        errors=errors,
    )


def _opt_sample(s: CorpusSpec, errors: Errors) -> Corpus:
    return load_sample(s.target or "all", errors=errors)


def _is_jsonl_path(path: Path) -> bool:
    return path.name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"))


def _opt_path(s: CorpusSpec, errors: Errors) -> Corpus:
    path = Path(s.target).expanduser()
    if not path.exists():
        raise _missing(
            path,
            "file or folder",
            "check the path, or use a prefix such as flores:, code:, hf: or sample:",
        )
    if path.is_file() and _is_jsonl_path(path):
        if "per" in s.options:
            raise CorpusError(f"{s.text}: per= applies to text files, not JSONL")
        return _opt_jsonl(s, errors)
    for opt in ("field", "category_field"):
        if opt in s.options:
            raise CorpusError(
                f"{s.text}: {opt}= applies to JSONL files; use jsonl:{s.target} if it is JSONL"
            )
    return _opt_text(s, errors)


@dataclass(frozen=True)
class _SpecKind:
    loader: Callable[[CorpusSpec, Errors], Corpus]
    options: frozenset[str]
    example: str


# The registry: prefix -> loader and its options (convention 2: a dict, not an if/elif chain).
_SPEC_KINDS: dict[str, _SpecKind] = {
    "flores": _SpecKind(_opt_flores, frozenset({"dir", "split"}), "flores:eng_Latn,fra_Latn@both"),
    "code": _SpecKind(_opt_code, frozenset({"dir"}), "code:python,c"),
    "jsonl": _SpecKind(
        _opt_jsonl, frozenset({"field", "category_field"}), "jsonl:data.jsonl?field=content"
    ),
    "text": _SpecKind(_opt_text, frozenset({"per"}), "text:docs/?per=line"),
    "hf": _SpecKind(
        _opt_hf,
        frozenset({"config", "split", "field", "streaming", "data_files", "max_documents"}),
        "hf:json?data_files=a.jsonl",
    ),
    "sample": _SpecKind(_opt_sample, frozenset(), "sample:eng_Latn,python"),
}
_PATH_KIND = _SpecKind(_opt_path, frozenset({"field", "category_field", "per"}), "data/news.txt")

SPEC_PREFIXES: tuple[str, ...] = tuple(_SPEC_KINDS)
"""The prefixes a corpus spec may start with (anything else is a path)."""

_PREFIX_RE = re.compile(r"([A-Za-z][A-Za-z0-9_]*):(.*)", re.DOTALL)
_RENAME_RE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-]*)=(.+)", re.DOTALL)


def _names_existing_path(part: str) -> bool:
    """Whether a spec part names a path that exists, with or without NAME=, prefix and options."""
    candidates = [part]
    m = _RENAME_RE.fullmatch(part)
    if m:
        candidates.append(m.group(2))
    candidates += [
        c.removeprefix(p) for c in candidates for p in ("jsonl:", "text:") if c.startswith(p)
    ]
    candidates += [c.split("?", 1)[0] for c in candidates]
    return any(c and _exists(c) for c in candidates)


def _exists(candidate: str) -> bool:
    # A long spec ("flores:" + 200 language codes) is no path; the OS says so with an error
    # (name too long) rather than False.
    try:
        return Path(candidate).expanduser().exists()
    except (OSError, ValueError):
        return False


def _split_plus(spec: str) -> list[str]:
    """Split on ``+``, except inside a path that exists (``record+zstd.sh``)."""
    tokens = spec.split("+")
    parts: list[str] = []
    i = 0
    while i < len(tokens):
        j = len(tokens)
        while j > i + 1:
            if _names_existing_path("+".join(tokens[i:j])):
                break
            j -= 1
        parts.append("+".join(tokens[i:j]))
        i = j
    return parts


def _parse_part(part: str) -> CorpusSpec:
    original = part
    part = part.strip()
    if not part:
        raise CorpusError(
            "empty part in corpus spec (check for a stray '+'); e.g. flores:eng_Latn+code:python"
        )
    rename = None
    if not Path(part).expanduser().exists():
        m = _RENAME_RE.fullmatch(part)
        if m:
            rename, part = m.group(1), m.group(2)

    if Path(part).expanduser().exists():
        kind_name, body, query = "path", part, ""
    else:
        body, _, query = part.partition("?")
        m = _PREFIX_RE.fullmatch(body)
        if m and Path(body).expanduser().exists():
            kind_name = "path"
        elif m and len(m.group(1)) > 1:
            kind_name, body = m.group(1).lower(), m.group(2)
            if kind_name not in _SPEC_KINDS:
                raise UnknownNameError("corpus spec prefix", m.group(1), list(_SPEC_KINDS))
        else:
            kind_name = "path"  # includes Windows drive letters ("C:...")
    kind = _SPEC_KINDS.get(kind_name, _PATH_KIND)

    options: dict[str, Any] = {}
    if query:
        try:
            pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise CorpusError(
                f"{original}: cannot parse options {query!r}; write ?key=value&key=value"
            ) from None
        allowed = kind.options | _COMMON_OPTIONS
        for key, value in pairs:
            if key not in allowed:
                raise CorpusError(
                    f"{original}: unknown option {key!r} for {kind_name} specs; "
                    f"valid options: {', '.join(sorted(allowed))}"
                )
            if key in options:
                raise CorpusError(f"{original}: option {key!r} given twice; give it once")
            try:
                options[key] = _OPTION_PARSERS[key](value)
            except ValueError as err:
                raise CorpusError(f"{original}: bad value {value!r} for {key} ({err})") from None

    if kind_name == "flores":
        body, at, split = body.partition("@")
        if at:
            if split not in ("dev", "devtest", "both"):
                raise CorpusError(
                    f"{original}: unknown FLORES split {split!r}; use @dev, @devtest or @both"
                )
            if options.get("split", split) != split:
                raise CorpusError(
                    f"{original}: split given twice ({split!r} and {options['split']!r}); give it once"
                )
            options["split"] = split
        elif "split" in options and options["split"] not in ("dev", "devtest", "both"):
            raise CorpusError(
                f"{original}: unknown FLORES split {options['split']!r}; use dev, devtest or both"
            )
    if kind_name in ("flores", "code") and not body.strip():
        raise CorpusError(f"{original}: no languages given; e.g. {kind.example} or {kind_name}:all")
    if kind_name in ("jsonl", "text", "hf") and not body.strip():
        raise CorpusError(f"{original}: nothing after '{kind_name}:'; e.g. {kind.example}")
    if rename is not None and "name" in options and options["name"] != rename:
        raise CorpusError(f"{original}: both {rename}= and name={options['name']} given; use one")
    if rename is None and "name" in options:
        rename = options["name"]
    return CorpusSpec(
        kind=kind_name, target=body.strip(), options=options, rename=rename, text=original
    )


def parse_corpus_spec(spec: str) -> list[CorpusSpec]:
    """Parse a corpus spec into its ``+``-separated parts (see ``docs/corpus-spec.md``).

    Example:
        >>> [(p.kind, p.target, p.options, p.rename) for p in parse_corpus_spec("en=flores:eng_Latn@both+code:c?max_bytes=1k")]
        [('flores', 'eng_Latn', {'split': 'both'}, 'en'), ('code', 'c', {'max_bytes': 1000}, None)]
    """
    if not isinstance(spec, str) or not spec.strip():
        raise CorpusError(
            "empty corpus spec; give e.g. sample:, flores:eng_Latn,fra_Latn, code:python or a path"
        )
    spec = spec.strip()
    return [_parse_part(p) for p in _split_plus(spec)]


def load_corpus(spec: str, *, errors: Errors = "strict") -> Corpus:
    """Load the corpus a spec names; the corpus ``name`` is the spec itself.

    ``errors`` is the default for every part; a part's ``?errors=`` option overrides it.

    Example:
        >>> c = load_corpus("sample:eng_Latn,rus_Cyrl?max_bytes=5k&seed=1")
        >>> c.category_names, c.max_bytes, c.seed
        (['eng_Latn', 'rus_Cyrl'], 5000, 1)
    """
    parts: list[Corpus] = []
    for s in parse_corpus_spec(spec):
        kind = _SPEC_KINDS.get(s.kind, _PATH_KIND)
        corpus = kind.loader(s, s.options.get("errors", errors))
        if s.rename is not None:
            if len(corpus) != 1:
                raise CorpusError(
                    f"{s.text}: a name applies to one category, but this spec has {len(corpus)} "
                    f"({', '.join(corpus.category_names[:5])}); split it into one spec per category"
                )
            corpus = corpus.rename({corpus.category_names[0]: s.rename})
        if "max_bytes" in s.options:
            corpus = corpus.sample(
                max_bytes=s.options["max_bytes"],
                seed=s.options.get("seed", 0),
                per_category=s.options.get("per_category", True),
            )
        elif "seed" in s.options or "per_category" in s.options:
            raise CorpusError(f"{s.text}: seed=/per_category= only apply with max_bytes=N; add it")
        parts.append(corpus)
    return Corpus.combine(parts, name=spec.strip())
