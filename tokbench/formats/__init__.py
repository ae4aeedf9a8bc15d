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
import os
import stat
from pathlib import Path
from typing import Any

from ..errors import TokbenchError, TokenizerFormatError
from ..model.tokenizer import Tokenizer
from ..registry import Registry

__all__ = ["load_tokenizer", "detect_format", "check_readable", "FORMATS", "MAX_FILE_BYTES"]

#: The largest tokenizer file tokbench reads (the biggest real ones are ~30 MB): a larger file,
#: or a device such as /dev/zero behind a tokenizer's name, would exhaust memory before parsing.
MAX_FILE_BYTES = 2 << 30
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit)

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
    except UnicodeDecodeError as err:
        raise TokenizerFormatError(path, f"not UTF-8 text ({err.reason} at byte {err.start})",
                                   hint="the file is damaged or binary; re-download it") from None
    except (json.JSONDecodeError, RecursionError) as err:
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


def check_readable(path: Path) -> None:
    """Raise unless ``path`` is a folder or a regular file of at most :data:`MAX_FILE_BYTES`
    (and so are the tokenizer files inside a folder)."""
    paths = [path] if not path.is_dir() else [path / n for n in ("tokenizer.json", "vocab.json", "merges.txt")]
    for p in paths:
        try:
            info = os.stat(p)
        except FileNotFoundError:
            if p is path:
                raise TokenizerFormatError(path, "no such file or folder", hint="check the path") from None
            continue
        except OSError as err:
            raise TokenizerFormatError(p, f"cannot read ({err.strerror or type(err).__name__})") from None
        if not stat.S_ISREG(info.st_mode):
            raise TokenizerFormatError(p, "not a regular file (a device, pipe or socket)",
                                       hint="pass the tokenizer file itself")
        if info.st_size > MAX_FILE_BYTES:
            raise TokenizerFormatError(p, f"is {info.st_size / 2**30:.1f} GiB; tokenizer files are at most "
                                       f"{MAX_FILE_BYTES >> 30} GiB", hint="is this really a tokenizer file?")


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
    if not isinstance(path, str | os.PathLike) or isinstance(path, bytes):
        raise TokbenchError(
            f"load_tokenizer expects a path (str or pathlib.Path) to a tokenizer file or folder, "
            f"got {type(path).__name__}" + ("; write the bytes to a file first" if isinstance(path, bytes) else "")
        )
    path = Path(path).expanduser()
    check_readable(path)
    format = FORMATS.canonical(format) if format is not None else detect_format(path)
    if format == "hf-json" and path.is_dir():
        path = path / "tokenizer.json"
    loader = FORMATS.get(format)
    kwargs: dict[str, Any] = {"name": name}
    if format == "tiktoken":
        kwargs["pattern"] = pattern
    try:
        return loader(path, **kwargs)
    except (TokbenchError, *_PASS_THROUGH):
        raise
    except MemoryError:
        raise TokenizerFormatError(path, "ran out of memory while reading it",
                                   hint="the file is larger than this machine can load, or damaged") from None
    except OSError as err:
        raise TokenizerFormatError(path, f"cannot read ({err.strerror or type(err).__name__})") from None
    except Exception as err:  # noqa: BLE001 - last line of defence: a damaged file is a user error
        raise TokenizerFormatError(
            path, f"cannot load it ({type(err).__name__}: {err})",
            hint="the file looks damaged; if it loads with its reference library, please report a tokbench bug",
        ) from None
