"""The corpus-spec grammar: THE one parser of ``--corpus`` strings, and :func:`load_corpus`.

Every command, experiment and the audit parse specs here and nowhere else, so one spec string
names the same corpus everywhere::

    flores:eng_Latn,fra_Latn@both          one category per language, dev + devtest lines
    code:python,c                          the shared real-code JSONL files
    data/news.txt                          a bare path: a text file (a document per line)
    hf:json?data_files=a.jsonl&field=body  any ``datasets.load_dataset`` source
    en=flores:eng_Latn+py=code:python?max_bytes=100k&seed=1
                                           ``+`` joins specs, ``NAME=`` renames a category

A spec is ``+``-separated parts; each part is ``[NAME=]PREFIX:TARGET[?key=value&...]`` or a bare
path, and a path that exists always wins. The prefixes form a registry (prefix -> loader, and
which spec options map to which loader keyword). The full grammar is in ``docs/corpus-spec.md``.

Example:
    >>> [(p.kind, p.target, p.options) for p in parse_corpus_spec("flores:eng_Latn@dev+sample:")]
    [('flores', 'eng_Latn', {'split': 'dev'}), ('sample', '', {})]
    >>> load_corpus("sample:eng_Latn,python?max_bytes=2k").category_names
    ['eng_Latn', 'python']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from ..errors import CorpusError, TokbenchError
from ..registry import Registry
from .corpus import Corpus
from .reading import Errors, missing_path_error

__all__ = [
    "CorpusSpec",
    "is_jsonl_path",
    "SPEC_LOADERS",
    "SPEC_PREFIXES",
    "SpecKind",
    "load_corpus",
    "load_corpus_parts",
    "parse_corpus_spec",
    "with_flores_split",
]


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

_FLORES_SPLITS = ("dev", "devtest", "both")


@dataclass(frozen=True)
class SpecKind:
    """A spec prefix: its loader (``"module:attribute"``), its options, and an example.

    ``options`` maps each spec option the prefix takes to the loader's keyword argument; an
    option left out of a spec is not passed, so the loader's own default applies.
    """

    loader: str
    options: dict[str, str]
    example: str


_LOADERS = "tokbench.corpora.loaders"

# Prefix -> loader and options (convention 2: a registry, not an if/elif chain).
_SPEC_KINDS: dict[str, SpecKind] = {
    "flores": SpecKind(
        f"{_LOADERS}:load_flores",
        {"dir": "flores_dir", "split": "split"},
        "flores:eng_Latn,fra_Latn@both",
    ),
    "code": SpecKind(f"{_LOADERS}:load_code", {"dir": "code_dir"}, "code:python,c"),
    "jsonl": SpecKind(
        f"{_LOADERS}:load_jsonl",
        {"field": "field", "category_field": "category_field"},
        "jsonl:data.jsonl?field=content",
    ),
    "text": SpecKind(f"{_LOADERS}:load_text", {"per": "per"}, "text:docs/?per=line"),
    "hf": SpecKind(
        "tokbench.corpora.hf_datasets:load_hf_dataset",
        {k: k for k in ("config", "split", "field", "streaming", "data_files", "max_documents")},
        "hf:json?data_files=a.jsonl",
    ),
    "sample": SpecKind(f"{_LOADERS}:load_sample", {}, "sample:eng_Latn,python"),
}

#: Spec prefix -> loader, imported on first use; an unknown prefix lists the valid ones.
SPEC_LOADERS = Registry("corpus spec prefix", {k: v.loader for k, v in _SPEC_KINDS.items()})

SPEC_PREFIXES: tuple[str, ...] = tuple(_SPEC_KINDS)
"""The prefixes a corpus spec may start with (anything else is a path)."""

# A bare path is read as JSONL or text by its name, so it takes the options of both.
_PATH_OPTIONS = frozenset(_SPEC_KINDS["jsonl"].options) | frozenset(_SPEC_KINDS["text"].options)

_PREFIX_RE = re.compile(r"([A-Za-z][A-Za-z0-9_]*):(.*)", re.DOTALL)
_RENAME_RE = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.\-]*)=(.+)", re.DOTALL)


# --------------------------------------------------------------------------------------------
# Loading a parsed part
# --------------------------------------------------------------------------------------------


def _call_loader(kind_name: str, s: CorpusSpec, errors: Errors) -> Corpus:
    """Call the prefix's loader with the target and the options the spec gives."""
    kind = _SPEC_KINDS[kind_name]
    keywords = {kw: s.options[opt] for opt, kw in kind.options.items() if opt in s.options}
    # Only sample: may have no target, and then its loader's default ("all") applies.
    target = (s.target,) if s.target else ()
    return SPEC_LOADERS.get(kind_name)(*target, errors=errors, **keywords)


def is_jsonl_path(path: Path) -> bool:
    """Whether a bare path is read as JSONL (by its name), not as text."""
    return path.name.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz"))


def _load_path(s: CorpusSpec, errors: Errors) -> Corpus:
    """A bare path: a JSONL file by its name, otherwise a text file or folder."""
    path = Path(s.target).expanduser()
    if not path.exists():
        raise missing_path_error(
            path,
            "file or folder",
            "check the path, or use a prefix such as flores:, code:, hf: or sample:",
        )
    if path.is_file() and is_jsonl_path(path):
        if "per" in s.options:
            raise CorpusError(f"{s.text}: per= applies to text files, not JSONL")
        return _call_loader("jsonl", s, errors)
    for opt in ("field", "category_field"):
        if opt in s.options:
            raise CorpusError(
                f"{s.text}: {opt}= applies to JSONL files; use jsonl:{s.target} if it is JSONL"
            )
    return _call_loader("text", s, errors)


def _load_part(s: CorpusSpec, errors: Errors) -> Corpus:
    """One parsed part, renamed and sampled as its options say, named by its spec text."""
    errors = s.options.get("errors", errors)
    corpus = _load_path(s, errors) if s.kind == "path" else _call_loader(s.kind, s, errors)
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
    return Corpus.combine([corpus], name=s.text.strip())


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


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


def _split_rename(part: str) -> tuple[str | None, str]:
    """``NAME=SPEC`` -> ``(NAME, SPEC)``; an existing path keeps its ``=``."""
    if not _exists(part):
        m = _RENAME_RE.fullmatch(part)
        if m:
            return m.group(1), m.group(2)
    return None, part


def _split_kind(part: str) -> tuple[str, str, str]:
    """``(kind, body, query)`` of a part without its ``NAME=``; an existing path is a path."""
    if _exists(part):
        return "path", part, ""
    body, _, query = part.partition("?")
    m = _PREFIX_RE.fullmatch(body)
    if m and _exists(body):
        return "path", body, query
    if m and len(m.group(1)) > 1:
        return SPEC_LOADERS.canonical(m.group(1)), m.group(2), query
    return "path", body, query  # includes Windows drive letters ("C:...")


def _parse_options(query: str, kind_name: str, original: str) -> dict[str, Any]:
    """The typed options of ``?key=value&...``, checked against what ``kind_name`` accepts."""
    options: dict[str, Any] = {}
    if not query:
        return options
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise CorpusError(
            f"{original}: cannot parse options {query!r}; write ?key=value&key=value"
        ) from None
    kind_options = _SPEC_KINDS[kind_name].options if kind_name in _SPEC_KINDS else _PATH_OPTIONS
    allowed = frozenset(kind_options) | _COMMON_OPTIONS
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
    return options


def _take_flores_split(body: str, options: dict[str, Any], original: str) -> str:
    """Move ``@SPLIT`` from a FLORES target into ``options["split"]``; return the target."""
    body, at, split = body.partition("@")
    if at:
        if split not in _FLORES_SPLITS:
            raise CorpusError(
                f"{original}: unknown FLORES split {split!r}; use @dev, @devtest or @both"
            )
        if options.get("split", split) != split:
            raise CorpusError(
                f"{original}: split given twice ({split!r} and {options['split']!r}); give it once"
            )
        options["split"] = split
    elif "split" in options and options["split"] not in _FLORES_SPLITS:
        raise CorpusError(
            f"{original}: unknown FLORES split {options['split']!r}; use dev, devtest or both"
        )
    return body


def _check_target(kind_name: str, body: str, original: str) -> None:
    """Prefixes that need a target (languages, a path, a dataset) must have one."""
    if kind_name in ("flores", "code") and not body.strip():
        example = _SPEC_KINDS[kind_name].example
        raise CorpusError(f"{original}: no languages given; e.g. {example} or {kind_name}:all")
    if kind_name in ("jsonl", "text", "hf") and not body.strip():
        example = _SPEC_KINDS[kind_name].example
        raise CorpusError(f"{original}: nothing after '{kind_name}:'; e.g. {example}")


def _parse_part(part: str) -> CorpusSpec:
    original = part
    part = part.strip()
    if not part:
        raise CorpusError(
            "empty part in corpus spec (check for a stray '+'); e.g. flores:eng_Latn+code:python"
        )
    rename, part = _split_rename(part)
    kind_name, body, query = _split_kind(part)
    options = _parse_options(query, kind_name, original)
    if kind_name == "flores":
        body = _take_flores_split(body, options, original)
    _check_target(kind_name, body, original)
    if rename is not None and "name" in options and options["name"] != rename:
        raise CorpusError(f"{original}: both {rename}= and name={options['name']} given; use one")
    if rename is None and "name" in options:
        rename = options["name"]
    return CorpusSpec(
        kind=kind_name, target=body.strip(), options=options, rename=rename, text=original
    )


# --------------------------------------------------------------------------------------------
# The public entry points
# --------------------------------------------------------------------------------------------


def parse_corpus_spec(spec: str) -> list[CorpusSpec]:
    """Parse a corpus spec into its ``+``-separated parts (see ``docs/corpus-spec.md``).

    Example:
        >>> [(p.kind, p.target, p.options, p.rename) for p in parse_corpus_spec("en=flores:eng_Latn@both+code:c?max_bytes=1k")]
        [('flores', 'eng_Latn', {'split': 'both'}, 'en'), ('code', 'c', {'max_bytes': 1000}, None)]
    """
    if spec is not None and not isinstance(spec, str):
        raise CorpusError(
            f"a corpus spec is a string, got {type(spec).__name__}; e.g. 'flores:eng_Latn,fra_Latn' "
            "(to pass documents, build a Corpus)"
        )
    if spec is None or not spec.strip():
        raise CorpusError(
            "empty corpus spec; give e.g. sample:, flores:eng_Latn,fra_Latn, code:python or a path"
        )
    spec = spec.strip()
    return [_parse_part(p) for p in _split_plus(spec)]


def with_flores_split(spec: str, split: str) -> str:
    """``spec`` with ``@split`` added to every ``flores:`` part that names no split of its own.

    For a command's ``--split`` option, or an experiment that trains on ``dev`` and counts on
    ``devtest``: a part's own ``@dev`` or ``?split=`` still wins, and other parts are unchanged.

    Example:
        >>> with_flores_split("flores:eng_Latn?max_bytes=1k+flores:fra_Latn@dev+code:c", "devtest")
        'flores:eng_Latn@devtest?max_bytes=1k+flores:fra_Latn@dev+code:c'
    """
    if split not in _FLORES_SPLITS:
        raise CorpusError(f'FLORES split must be "dev", "devtest" or "both", got {split!r}')
    parts = []
    for part in parse_corpus_spec(spec):
        text = part.text
        if part.kind == "flores" and "split" not in part.options:
            target, mark, query = text.partition("?")
            text = f"{target}@{split}{mark}{query}"
        parts.append(text)
    return "+".join(parts)


def load_corpus_parts(
    spec: str,
    *,
    errors: Errors = "strict",
    on_error: Callable[[CorpusSpec, TokbenchError], None] | None = None,
) -> list[Corpus]:
    """The corpus of each ``+``-separated part of ``spec``, each named by its part of the spec.

    A spec that does not parse always raises. A part that fails to load raises too, unless
    ``on_error`` is given: then it is told the part and the error, and the part is left out
    (the audit reports such parts and goes on with the others).

    Example:
        >>> failed = []
        >>> parts = load_corpus_parts("sample:python+code:cobol?dir=/nowhere",
        ...                           on_error=lambda part, err: failed.append(part.text))
        >>> [p.name for p in parts], failed
        (['sample:python'], ['code:cobol?dir=/nowhere'])
    """
    loaded: list[Corpus] = []
    for part in parse_corpus_spec(spec):
        try:
            loaded.append(_load_part(part, errors))
        except TokbenchError as err:
            if on_error is None:
                raise
            on_error(part, err)
    return loaded


def load_corpus(spec: str, *, errors: Errors = "strict") -> Corpus:
    """Load the corpus a spec names; the corpus ``name`` is the spec itself.

    ``errors`` is the default for every part; a part's ``?errors=`` option overrides it.

    Example:
        >>> c = load_corpus("sample:eng_Latn,rus_Cyrl?max_bytes=5k&seed=1")
        >>> c.category_names, c.max_bytes, c.seed
        (['eng_Latn', 'rus_Cyrl'], 5000, 1)
    """
    return Corpus.combine(load_corpus_parts(spec, errors=errors), name=spec.strip())
