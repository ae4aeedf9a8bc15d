"""Small file helpers shared by every layer: atomic writes and locating the shared data folder.

Outputs are written to a temporary file in the destination folder and renamed into place, so an
interrupted or failed run never leaves a half-written file (DESIGN.md, convention 8).

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(d / "out.txt") as f:
    ...     _ = f.write("done")
    >>> (d / "out.txt").read_text()
    'done'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal

from .errors import OutputError

__all__ = ["atomic_write", "write_csv_rows", "shared_data_dir", "sha256_of_files"]


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: Literal["w", "wb"] = "w", *, encoding: str = "utf-8"
) -> Iterator[IO]:
    """Open a temp file beside ``path``; rename it over ``path`` only if the block succeeds."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as err:
        raise OutputError(f"{target}: cannot write here ({err.strerror}); choose another output path") from err
    tmp = Path(tmp_name)
    # mkstemp creates 0600 files; give the result the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": encoding})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_csv_rows(path: str | Path, rows: list[dict[str, object]], *,
                   fieldnames: list[str] | None = None) -> None:
    """Write dict rows as CSV atomically; columns are ``fieldnames`` or every key in first-seen
    order (rows may differ in keys: missing cells are empty, as are ``None`` values)."""
    import csv

    if fieldnames is None:
        fieldnames = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_write(path) as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)


def shared_data_dir() -> Path | None:
    """The shared real-data folder: ``$TOKBENCH_DATA``, else ``../shared/data`` beside the repo.

    Returns ``None`` when neither exists; the package itself never needs it (it ships a sample).
    """
    env = os.environ.get("TOKBENCH_DATA")
    if env:
        p = Path(env).expanduser()
        return p if p.is_dir() else None
    repo_root = Path(__file__).resolve().parent.parent
    for candidate in (repo_root.parent / "shared" / "data", Path.cwd().parent / "shared" / "data"):
        if candidate.is_dir():
            return candidate
    return None


def sha256_of_files(paths: list[Path]) -> str:
    """sha256 over the bytes of one or more files, in the given order (a tokenizer fingerprint)."""
    digest = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()
