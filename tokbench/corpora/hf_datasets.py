"""The Hugging Face ``datasets`` loader: one text column of any ``datasets.load_dataset`` source.

``datasets`` is imported only when a ``hf:`` corpus is asked for, because it is heavy and
optional. Packaged builders (``json``, ``text``, ``csv``, ``parquet``, ...) read local or remote
data files; streaming with ``max_documents`` reads the first rows of a large dataset without
downloading it. Without network to the Hub, a quick connection probe (a few seconds at most)
switches ``datasets`` to offline mode for the call, so a dataset that is not cached fails at
once with one line instead of retrying for half a minute.

Example:
    >>> corpus = load_hf_dataset("json", data_files="news.jsonl", field="body")  # doctest: +SKIP
    >>> corpus.category_names  # doctest: +SKIP
    ['news']
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import CorpusError
from .corpus import Corpus
from .reading import Errors, decode_utf8, file_stem

__all__ = ["load_hf_dataset", "iter_hf_documents", "hf_category"]

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
    if max_documents is not None and max_documents <= 0:
        raise CorpusError(f"max_documents must be positive, got {max_documents}")
    files: str | list[str] | None
    files = data_files if data_files is None or isinstance(data_files, str) else list(data_files)
    label = f"hf:{name}" + (f"/{config}" if config else "") + f"[{split}]"
    rows = _open_dataset(
        name,
        config,
        split=split,
        streaming=streaming,
        files=files,
        cache_dir=cache_dir,
        label=label,
    )
    docs, replaced = _column_documents(rows, field, max_documents, label=label, errors=errors)
    if category is None:
        category = hf_category(name, files)
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


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the Hub (``$HF_ENDPOINT`` or huggingface.co) opens quickly.
    Behind a proxy a direct connection proves nothing, so the Hub is then taken as reachable."""
    import socket
    from urllib.parse import urlparse

    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True

    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = url.hostname or "huggingface.co", url.port or (80 if url.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _needs_hub(name: str, files: str | list[str] | None) -> bool:
    """A packaged builder over local files, or a local folder, never talks to the Hub."""
    if name in _PACKAGED_BUILDERS:
        local = [files] if isinstance(files, str) else list(files or [])
        return not local or any("://" in f for f in local)
    return not Path(name).expanduser().exists()


@contextlib.contextmanager
def _offline(datasets: object) -> Iterator[None]:
    """``datasets`` and ``huggingface_hub`` in offline mode for the block (restored after)."""
    import huggingface_hub.constants as hub

    config = datasets.config  # type: ignore[attr-defined]
    saved = (config.HF_HUB_OFFLINE, getattr(config, "HF_DATASETS_OFFLINE", None), hub.HF_HUB_OFFLINE)
    config.HF_HUB_OFFLINE = hub.HF_HUB_OFFLINE = True
    if saved[1] is not None:
        config.HF_DATASETS_OFFLINE = True
    try:
        yield
    finally:
        config.HF_HUB_OFFLINE, hub.HF_HUB_OFFLINE = saved[0], saved[2]
        if saved[1] is not None:
            config.HF_DATASETS_OFFLINE = saved[1]


def _open_dataset(
    name: str,
    config: str | None,
    *,
    split: str,
    streaming: bool,
    files: str | list[str] | None,
    cache_dir: str | Path | None,
    label: str,
) -> Iterable[dict[str, Any]]:
    """``datasets.load_dataset`` with its many failure types turned into one CorpusError."""
    import datasets  # heavy: imported only when a HF corpus is asked for

    offline = _needs_hub(name, files) and not datasets.config.HF_HUB_OFFLINE and not _hub_reachable()
    try:
        with _offline(datasets) if offline else contextlib.nullcontext():
            return datasets.load_dataset(
                name,
                config,
                split=split,
                streaming=streaming,
                data_files=files,
                cache_dir=str(cache_dir) if cache_dir is not None else None,
            )
    except Exception as err:  # datasets raises many unrelated types for "cannot load"
        if offline:
            raise CorpusError(
                f"{label}: cannot reach the Hugging Face Hub (no network) and the dataset is not in the local "
                "cache; connect, or give local files (e.g. hf:json?data_files=FILE.jsonl or a path)"
            ) from err
        raise CorpusError(
            f"{label}: cannot load ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}); "
            "check the name, config, split and data_files, and network access or HF_DATASETS_OFFLINE"
        ) from err


def _column_documents(
    rows: Iterable[dict[str, Any]],
    field: str,
    max_documents: int | None,
    *,
    label: str,
    errors: Errors,
) -> tuple[list[str], int]:
    """The text of column ``field`` in the first ``max_documents`` rows, and U+FFFD replacements."""
    replaced = [0]
    docs = list(_iter_column(rows, field, max_documents, label=label, errors=errors, replaced=replaced))
    return docs, replaced[0]


def _iter_column(
    rows: Iterable[dict[str, Any]],
    field: str,
    max_documents: int | None,
    *,
    label: str,
    errors: Errors,
    replaced: list[int],
) -> Iterator[str]:
    """The text of column ``field``, row by row; replacements are added to ``replaced[0]``."""
    for i, row in enumerate(rows):
        if max_documents is not None and i >= max_documents:
            break
        if field not in row:
            raise CorpusError(
                f"{label}: no column {field!r} (columns: {', '.join(map(str, row))}); "
                "pass field=NAME (spec option ?field=NAME)"
            )
        value = row[field]
        if isinstance(value, bytes):
            value, n = decode_utf8(value, source=f"{label} row {i}", errors=errors)
            replaced[0] += n
        if not isinstance(value, str):
            raise CorpusError(
                f"{label}: column {field!r} holds {type(value).__name__}, not text; choose a text column"
            )
        yield value


def hf_category(name: str, data_files: str | Sequence[str] | None) -> str:
    """The category a ``datasets`` source gives: the data file stem for a packaged builder
    with one file, else the last part of the name."""
    if name in _PACKAGED_BUILDERS and isinstance(data_files, str):
        return file_stem(Path(data_files))
    return name.rstrip("/").split("/")[-1]


def iter_hf_documents(
    name: str,
    *,
    config: str | None = None,
    split: str = "train",
    field: str = "text",
    data_files: str | Sequence[str] | None = None,
    max_documents: int | None = None,
    cache_dir: str | Path | None = None,
    errors: Errors = "strict",
    replaced: list[int] | None = None,
) -> Iterator[str]:
    """The documents of :func:`load_hf_dataset`, one at a time, from a dataset opened with
    ``streaming=True`` (a stream never holds the table).

    Example:
        >>> docs = iter_hf_documents("parquet", data_files="big.parquet")  # doctest: +SKIP
        >>> next(docs)  # doctest: +SKIP
        'the first row'
    """
    files = data_files if data_files is None or isinstance(data_files, str) else list(data_files)
    label = f"hf:{name}" + (f"/{config}" if config else "") + f"[{split}]"
    rows = _open_dataset(name, config, split=split, streaming=True, files=files, cache_dir=cache_dir, label=label)
    counter = replaced if replaced is not None else [0]
    n = 0
    for doc in _iter_column(rows, field, max_documents, label=label, errors=errors, replaced=counter):
        n += 1
        yield doc
    if not n:
        raise CorpusError(f"{label}: no rows; check the split and data_files")
