"""Corpus loaders: FLORES-200, the shared real-code files, JSONL, text files and folders, the sample.

Each loader returns a :class:`~tokbench.corpora.corpus.Corpus` and never an empty category (an
empty file or a category without text raises :class:`~tokbench.errors.CorpusError`, because
every metric downstream divides by a per-category size). FLORES-200 (NLLB Team 2022) is read
line by line from ``flores200/{dev,devtest}/<lang>.<split>`` and checked to be line-aligned
across languages; the Hugging Face ``datasets`` loader is in :mod:`.hf_datasets`.

Example:
    >>> load_sample("eng_Latn,python").category_names
    ['eng_Latn', 'python']
    >>> load_flores("eng_Latn,fra_Latn", split="both").n_documents("fra_Latn")  # doctest: +SKIP
    2009
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from .._io import shared_data_dir
from ..errors import CorpusError, EncodingError
from .corpus import Corpus
from .languages import is_flores_code, resolve_names
from .reading import (
    Errors,
    decode_utf8,
    file_stem,
    json_lines,
    looks_binary,
    missing_path_error,
    read_bytes,
    split_lines,
)

__all__ = [
    "FloresSplit",
    "code_files",
    "code_languages",
    "flores_files",
    "flores_languages",
    "folder_files",
    "jsonl_document",
    "load_code",
    "load_flores",
    "load_jsonl",
    "load_sample",
    "load_text",
    "sample_categories",
    "sample_path",
    "text_documents",
]

FloresSplit = Literal["dev", "devtest", "both"]

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
        raise missing_path_error(folder, f"{what} folder", hint)
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
    codes_files = flores_files(languages, split=split, flores_dir=folder)
    categories: dict[str, list[str]] = {}
    sources: dict[str, str] = {}
    replaced = 0
    for code, files in codes_files.items():
        docs: list[str] = []
        for path in files:
            text, n = decode_utf8(read_bytes(path), source=path, errors=errors)
            docs.extend(split_lines(text))
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
        name=f"flores:{','.join(codes_files)}@{split}",
        categories=categories,
        sources=sources,
        replaced_chars=replaced,
        split=split,
    )


def flores_files(
    languages: str | Sequence[str], *, split: FloresSplit = "devtest", flores_dir: str | Path | None = None
) -> dict[str, list[Path]]:
    """Language code -> its FLORES-200 files (dev, devtest or both, in that order), checked to exist.

    Example:
        >>> [p.name for p in flores_files("eng_Latn", split="both")["eng_Latn"]]  # doctest: +SKIP
        ['eng_Latn.dev', 'eng_Latn.devtest']
    """
    if split not in ("dev", "devtest", "both"):
        raise CorpusError(f'FLORES split must be "dev", "devtest" or "both", got {split!r}')
    folder = _data_subdir(flores_dir, "flores200", what="FLORES-200", hint=_FLORES_HINT)
    codes = resolve_names(
        languages,
        flores_languages(folder),
        what="FLORES-200 language code",
        hint="codes are ISO 639-3 + script, e.g. eng_Latn",
    )
    splits = ("dev", "devtest") if split == "both" else (split,)
    found: dict[str, list[Path]] = {}
    for code in codes:
        files = [folder / s / f"{code}.{s}" for s in splits]
        for path in files:
            if not path.is_file():
                raise missing_path_error(
                    path, hint=f"the {path.parent.name} split is missing for {code}; {_FLORES_HINT}"
                )
        found[code] = files
    return found


def code_files(languages: str | Sequence[str], *, code_dir: str | Path | None = None) -> dict[str, Path]:
    """Programming language -> its ``<lang>.jsonl`` file in the shared code folder."""
    folder = _data_subdir(code_dir, "code", what="code", hint=_CODE_HINT)
    names = resolve_names(
        languages, code_languages(folder), what="code language", hint="see code_languages()"
    )
    return {n: folder / f"{n}.jsonl" for n in names}


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
    files = code_files(languages, code_dir=code_dir)
    parts = [load_jsonl(path, field="text", category=n, errors=errors) for n, path in files.items()]
    return Corpus.combine(parts, name=f"code:{','.join(files)}")


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
    text, replaced = decode_utf8(read_bytes(path), source=path, errors=errors)
    categories: dict[str, list[str]] = {}
    default = category or file_stem(path)
    for lineno, obj in json_lines(split_lines(text), source=path):
        where = f"{path}:{lineno}"
        doc = jsonl_document(obj, field, where=where)
        if category_field is not None:
            if category_field not in obj:
                raise CorpusError(f"{where}: no category field {category_field!r}")
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


def jsonl_document(obj: Any, field: str, *, where: str) -> str:
    """The text in ``field`` of one JSONL record, checked to be an object holding a string."""
    if not isinstance(obj, dict):
        raise CorpusError(
            f"{where}: a JSON {type(obj).__name__}, not an object; each line must be an object"
        )
    if field not in obj:
        raise CorpusError(
            f"{where}: no field {field!r} (fields: {', '.join(map(str, obj)) or 'none'}); "
            "pass field=NAME (spec option ?field=NAME)"
        )
    doc = obj[field]
    if not isinstance(doc, str):
        raise CorpusError(f"{where}: field {field!r} is a {type(doc).__name__}, not a string")
    return doc


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
        raise missing_path_error(path, "file or folder")
    if per not in (None, "line", "file"):
        raise CorpusError(f'per must be "line" or "file", got {per!r}')
    cat = category or (file_stem(path) if path.is_file() else path.resolve().name)
    skipped: list[str] = []
    if path.is_dir():
        mode = per or "file"
        docs, replaced, skipped, n_read = _read_folder(path, mode, errors)
        where = f"folder {path} ({n_read} files, a document per {mode})"
    else:
        mode = per or "line"
        text, replaced = decode_utf8(read_bytes(path), source=path, errors=errors)
        docs = text_documents(text, mode)
        where = f"text file {path} (a document per {mode})"
    if not docs:
        raise CorpusError(f"{path}: no text (empty or blank); give a file or folder with text")
    if skipped:
        where += f"; skipped binary: {', '.join(skipped)}"
    return Corpus(
        name=str(path), categories={cat: docs}, sources={cat: where}, replaced_chars=replaced
    )


def text_documents(text: str, mode: str) -> list[str]:
    """The documents of one text: the whole text, or its non-blank lines (``mode="line"``)."""
    if mode == "file":
        return [text] if text.strip() else []
    return [ln for ln in split_lines(text) if ln.strip()]


def folder_files(folder: Path) -> list[Path]:
    """Every file below ``folder``, sorted by relative path, hidden files and folders skipped."""
    files = sorted(
        (
            p
            for p in folder.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        ),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    if not files:
        raise CorpusError(f"{folder}: folder has no files; put text files in it or give a file")
    return files


def _read_folder(folder: Path, mode: str, errors: Errors) -> tuple[list[str], int, list[str], int]:
    """Documents of a text folder, replacements made, binary files skipped, files read."""
    files = folder_files(folder)
    docs: list[str] = []
    replaced = 0
    skipped: list[str] = []
    for f in files:
        data = read_bytes(f)
        if looks_binary(data):
            if errors == "strict":
                raise EncodingError(
                    f"{f}: binary file (NUL bytes) in a text folder; remove it, or pass "
                    'errors="replace" (spec option ?errors=replace) to skip binary files'
                )
            skipped.append(f.relative_to(folder).as_posix())
            continue
        text, n = decode_utf8(data, source=f, errors=errors)
        replaced += n
        docs.extend(text_documents(text, mode))
    return docs, replaced, skipped, len(files) - len(skipped)


def sample_path() -> Path:
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
    path = sample_path()
    if not path.is_file():
        raise missing_path_error(
            path,
            hint="the bundled sample is missing; reinstall tokbench or run scripts/make_sample.py",
        )
    full = load_jsonl(path, field="text", category_field="category", errors=errors)
    names = resolve_names(
        categories, full.category_names, what="sample category", hint="see sample_categories()"
    )
    sources = {
        c: "tokbench bundled sample ("
        + ("FLORES-200 devtest" if is_flores_code(c) else "real code")
        + "; see tokbench/data/DATA_LICENSES)"
        for c in names
    }
    return Corpus(
        name="sample:" + ("all" if names == full.category_names else ",".join(names)),
        categories={c: full.categories[c] for c in names},
        sources=sources,
        replaced_chars=full.replaced_chars,
    )
