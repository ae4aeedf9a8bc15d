"""One on-disk cache for the audit, the mixture traces and the experiments, in safe formats only.

An entry is a :class:`Record`: JSON-able metadata, NumPy arrays and pandas frames. It is stored
as one ``.npz`` file: arrays as themselves, frames as Parquet bytes,
metadata as UTF-8 JSON, plus the entry's own key. Reading an entry validates all of it; a
missing, damaged, foreign or stale entry reads as ``None`` and the caller recomputes and
overwrites it, so a damaged cache only costs time and never executes what it reads (NumPy's
loader refuses object arrays by default: DESIGN.md convention 11). Writes are atomic, so an interrupted run leaves either the
old entry or the new one.

One rule for every user (audit, mixture traces, experiment tasks): the cache is best effort. A
damaged entry is recomputed and a cache folder that cannot be written only costs time; each
says so once per folder with a :class:`CacheWarning`.

Keys are content hashes of a JSON description (tokenizer fingerprint, corpus hash, options,
tokbench version, ...): change anything that changes the result and the key changes.

Example:
    >>> import tempfile, numpy as np
    >>> cache = Cache(tempfile.mkdtemp(), namespace="demo")
    >>> key = cache.key({"analysis": "x", "seed": 0})
    >>> cache.store(key, Record(meta={"n": 3}, arrays={"a": np.arange(3)}))
    >>> cache.load(key).meta
    {'n': 3}
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import TokbenchError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd

__all__ = ["Cache", "Record", "default_cache_root", "content_key", "CacheWarning", "warn_once"]

_META = "__meta__"
_KEY = "__key__"
_FRAME_PREFIX = "__frame__"
_WARNED: set[tuple[str, str]] = set()


class CacheWarning(UserWarning):
    """A cache entry was damaged and is recomputed, or the cache cannot be written."""


def warn_once(kind: str, folder: str | os.PathLike[str], message: str) -> None:
    """Warn with ``message`` the first time ``kind`` happens for ``folder`` in this process."""
    if (kind, str(folder)) in _WARNED:
        return
    _WARNED.add((kind, str(folder)))
    warnings.warn(message, CacheWarning, stacklevel=3)


def warn_damaged(path: str | os.PathLike[str], reason: str = "damaged or not a tokbench cache entry") -> None:
    """The one warning of a damaged entry under a cache folder (it is recomputed)."""
    folder = Path(path).parent
    warn_once("damaged", folder, f"cache entry {path} is {reason}; recomputing it (delete {folder} to clear the cache)")


def default_cache_root() -> Path:
    """``$TOKBENCH_CACHE`` or ``~/.cache/tokbench``."""
    root = os.environ.get("TOKBENCH_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "tokbench"


def content_key(description: Any) -> str:
    """sha256 of the canonical JSON of ``description`` plus the tokbench version."""
    text = json.dumps({"what": description, "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class Record:
    """What a cache entry holds: JSON metadata, plain NumPy arrays and pandas frames."""

    meta: Any = None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


class Cache:
    """Entries under ``root/namespace``, one ``.npz`` per key; see the module docstring."""

    def __init__(self, root: str | os.PathLike[str] | None = None, *, namespace: str):
        self.root = Path(root) if root is not None else default_cache_root()
        self.folder = self.root / namespace

    def key(self, description: Any) -> str:
        return content_key(description)

    def path(self, key: str) -> Path:
        return self.folder / f"{key[:40]}.npz"

    def load(self, key: str) -> Record | None:
        """The entry stored under ``key``, or ``None`` when missing, damaged or foreign."""
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            record = _read_record(path, key)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError):
            record = None  # a damaged entry is recomputed and overwritten
        except Exception:  # noqa: BLE001 - pyarrow raises its own types on corrupt Parquet
            record = None
        if record is None:
            warn_damaged(path)
        return record

    def store(self, key: str, record: Record) -> None:
        """Write the entry atomically; a read-only or full cache folder only costs time."""
        from ._io import atomic_write

        payload = _encode_record(key, record)
        try:
            # Not deferred: a cache entry is kept even when the command that made it fails later.
            with atomic_write(self.path(key), "wb", deferred=False) as handle:
                handle.write(payload)
        except (OSError, TokbenchError) as err:
            warn_once("unwritable", self.folder, f"cannot write the cache in {self.folder} ({err}); results are "
                      "not cached (set TOKBENCH_CACHE to a writable folder, or pass --no-cache)")


def _encode_record(key: str, record: Record) -> bytes:
    import numpy as np

    arrays: dict[str, np.ndarray] = {}
    for name, value in record.arrays.items():
        arr = np.asarray(value)
        if arr.dtype == object:
            raise TypeError(f"cache array {name!r} has dtype object; store it as metadata instead")
        arrays[name] = arr
    for name, frame in record.frames.items():
        buffer = io.BytesIO()
        frame.to_parquet(buffer)
        arrays[_FRAME_PREFIX + name] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    arrays[_META] = np.frombuffer(json.dumps(record.meta).encode("utf-8"), dtype=np.uint8)
    arrays[_KEY] = np.frombuffer(key.encode("ascii"), dtype=np.uint8)
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def _read_record(path: Path, key: str) -> Record | None:
    import numpy as np
    import pandas as pd

    with np.load(path) as data:
        if bytes(data[_KEY]).decode("ascii") != key:
            return None
        record = Record(meta=json.loads(bytes(data[_META]).decode("utf-8")))
        for name in data.files:
            if name.startswith(_FRAME_PREFIX):
                frame = pd.read_parquet(io.BytesIO(bytes(data[name])))
                record.frames[name[len(_FRAME_PREFIX):]] = frame
            elif name not in (_META, _KEY):
                record.arrays[name] = data[name]
    return record
