"""Reading tokenizer files of every supported format into one :class:`~tokbench.Tokenizer`.

A registry maps format names to loaders (imported lazily); :func:`detect_format` picks one
from the path and the first bytes of the file, and ``format=`` overrides it.

| format          | files                                  | reference library |
|-----------------|----------------------------------------|-------------------|
| ``hf-json``     | ``tokenizer.json`` (BPE/WordPiece/Unigram) | tokenizers     |
| ``gpt2-files``  | ``vocab.json`` + ``merges.txt``         | tokenizers        |
| ``tiktoken``    | ``*.tiktoken`` rank file + split pattern | tiktoken         |
| ``sentencepiece`` | ``*.model`` (BPE/Unigram)             | sentencepiece     |
| ``tekken``      | Mistral ``tekken.json``                 | tiktoken          |

Example:
    >>> tok = load_tokenizer("cl100k_base.tiktoken")   # doctest: +SKIP
    >>> tok.source_format                                # doctest: +SKIP
    'tiktoken'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import TokenizerFormatError
from ..model.tokenizer import Tokenizer
from ..registry import Registry

__all__ = ["load_tokenizer", "detect_format", "FORMATS"]

#: format name -> its loader, ``load(path, *, name=...)`` (imported on first use).
FORMATS = Registry("tokenizer format", {
    "hf-json": "tokbench.formats.hf_json:load_hf_json",
    "gpt2-files": "tokbench.formats.gpt2_files:load_gpt2_files",
    "tiktoken": "tokbench.formats.tiktoken_files:load_tiktoken",
    "sentencepiece": "tokbench.formats.sentencepiece_model:load_sentencepiece",
    "tekken": "tokbench.formats.tiktoken_files:load_tekken",
    "tokbench-hybrid": "tokbench.formats.hybrid_json:load_hybrid_json",
})


def detect_format(path: Path) -> str:
    """The format of ``path`` from its name and first bytes."""
    if path.is_dir():
        if (path / "tokenizer.json").is_file():
            return "hf-json"
        if (path / "vocab.json").is_file() or (path / "merges.txt").is_file():
            return "gpt2-files"
        raise TokenizerFormatError(path, "folder holds no tokenizer.json nor vocab.json + merges.txt")
    if path.name == "merges.txt":
        return "gpt2-files"
    suffix = path.suffix.lower()
    if suffix == ".tiktoken":
        return "tiktoken"
    if suffix == ".model":
        return "sentencepiece"
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        raise TokenizerFormatError(path, "the file is empty")
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        return _json_kind(path)
    first = stripped.split(b"\n", 1)[0].split()
    if len(first) == 2 and first[1].isdigit():
        return "tiktoken"
    if head[:1] == b"\x0a":  # a ModelProto starts with field 1 (pieces), length-delimited
        return "sentencepiece"
    raise TokenizerFormatError(
        path, "unknown tokenizer format",
        hint=f"expected one of {', '.join(FORMATS)}; pass format= to choose",
    )


def _json_kind(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TokenizerFormatError(path, f"not valid JSON ({err})", hint="the file may be truncated") from None
    if isinstance(data, dict) and data.get("tokbench_format") == "hybrid":
        return "tokbench-hybrid"
    if isinstance(data, dict) and "model" in data:
        return "hf-json"
    if isinstance(data, dict) and "config" in data and isinstance(data.get("vocab"), list):
        return "tekken"
    if isinstance(data, dict) and data and all(isinstance(v, int) for v in list(data.values())[:100]):
        return "gpt2-files"
    raise TokenizerFormatError(path, "JSON file is neither a tokenizer.json, a Tekken file nor a GPT-2 vocab.json")


def load_tokenizer(
    path: str | Path,
    *,
    pattern: str | None = None,
    format: str | None = None,
    name: str | None = None,
) -> Tokenizer:
    """Load a tokenizer file (or folder) of any supported format.

    ``pattern`` names the split pattern of a tiktoken rank file (``r50k``, ``p50k``,
    ``cl100k``, ``o200k``, ``llama3``) or gives a regex; it is guessed from the file name when
    omitted. Raises :class:`~tokbench.errors.TokenizerFormatError` naming the file and the
    problem for missing, unknown or corrupt input.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise TokenizerFormatError(path, "no such file or folder", hint="check the path")
    format = FORMATS.canonical(format) if format is not None else detect_format(path)
    if format == "hf-json" and path.is_dir():
        path = path / "tokenizer.json"
    loader = FORMATS.get(format)
    kwargs: dict[str, Any] = {"name": name}
    if format == "tiktoken":
        kwargs["pattern"] = pattern
    try:
        return loader(path, **kwargs)
    except (OSError, MemoryError) as err:
        raise TokenizerFormatError(path, f"cannot read ({err})") from None
