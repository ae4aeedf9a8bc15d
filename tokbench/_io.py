"""Small file helpers shared by every layer: atomic writes, all-or-nothing output sets, output
path checks, and locating the shared data folder.

Outputs are written to a temporary file in the destination folder and renamed into place, so an
interrupted or failed run never leaves a half-written file (DESIGN.md, convention 8). Inside
:func:`output_transaction` the renames wait until the whole block succeeds, so a command that
writes several files leaves all of them or none. :func:`install_sigterm_cleanup` makes SIGTERM
behave like Ctrl-C: temporary files are removed and the run stops with :class:`Terminated`.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_write(d / "out.txt") as f:
    ...     _ = f.write("done")
    >>> (d / "out.txt").read_text()
    'done'
    >>> with output_transaction():
    ...     with atomic_write(d / "a.txt") as f:
    ...         _ = f.write("a")
    ...     (d / "a.txt").exists()          # not yet: renamed when the block ends
    False
    >>> (d / "a.txt").read_text()
    'a'
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from .errors import OutputError

__all__ = ["atomic_write", "write_csv_rows", "shared_data_dir", "sha256_of_files", "output_transaction",
           "check_output_file", "check_output_folder", "install_sigterm_cleanup", "Terminated",
           "remove_temp_files"]

#: Temporary files being written right now (removed on SIGTERM; see :func:`install_sigterm_cleanup`).
_LIVE: set[Path] = set()
_STATE = threading.local()


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM once :func:`install_sigterm_cleanup` ran: a
    ``KeyboardInterrupt``, so every path that cleans up after Ctrl-C cleans up after it too."""


class _Transaction:
    """Staged ``(temp, target)`` renames and the folders created for them."""

    def __init__(self) -> None:
        self.staged: dict[Path, Path] = {}
        self.created: list[Path] = []

    def stage(self, tmp: Path, target: Path) -> None:
        old = self.staged.pop(target, None)
        if old is not None:  # the same file written twice in one run: the last write wins
            _discard(old)
        self.staged[target] = tmp

    def commit(self) -> None:
        for target, tmp in list(self.staged.items()):
            os.replace(tmp, target)
            _LIVE.discard(tmp)
            del self.staged[target]

    def rollback(self) -> None:
        for tmp in self.staged.values():
            _discard(tmp)
        self.staged.clear()
        for folder in reversed(self.created):
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if still empty: never a folder someone else filled


def _discard(tmp: Path) -> None:
    tmp.unlink(missing_ok=True)
    _LIVE.discard(tmp)


def _transaction() -> _Transaction | None:
    return getattr(_STATE, "transaction", None)


@contextlib.contextmanager
def output_transaction() -> Iterator[None]:
    """Every :func:`atomic_write` in the block (this thread) is renamed into place only when the
    block ends without an exception; otherwise no new file remains. Nested blocks join the outer.

    Caches write with ``deferred=False`` so that an interrupted run keeps the work it cached.
    """
    if _transaction() is not None:
        yield
        return
    txn = _STATE.transaction = _Transaction()
    try:
        yield
    except BaseException:
        txn.rollback()
        raise
    else:
        try:
            txn.commit()
        except BaseException:
            txn.rollback()
            raise
    finally:
        _STATE.transaction = None


def _make_parents(folder: Path, txn: _Transaction | None) -> None:
    missing = []
    probe = folder
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    folder.mkdir(parents=True, exist_ok=True)
    if txn is not None:
        txn.created.extend(reversed(missing))


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: Literal["w", "wb"] = "w", *, encoding: str = "utf-8",
    deferred: bool = True,
) -> Iterator[IO]:
    """Open a temp file beside ``path``; rename it over ``path`` only if the block succeeds
    (inside :func:`output_transaction`, when the transaction succeeds, unless ``deferred=False``)."""
    target = Path(path)
    txn = _transaction() if deferred else None
    if target.is_dir():
        raise OutputError(f"{target}: is a folder; give a file name (e.g. {target / 'out'}), or remove the folder")
    try:
        _make_parents(target.parent, txn)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as err:
        raise OutputError(f"{target}: cannot write here ({err.strerror}); choose another output path") from err
    tmp = Path(tmp_name)
    _LIVE.add(tmp)
    # mkstemp creates 0600 files; give the result the permissions a plain open() would.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": encoding})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if txn is not None:
            txn.stage(tmp, target)
            return
        os.replace(tmp, target)
        _LIVE.discard(tmp)
    except BaseException as err:
        _discard(tmp)
        if isinstance(err, OSError) and not isinstance(err, OutputError):
            raise OutputError(f"{target}: cannot write ({err.strerror or err}); choose another output path") from err
        raise


def remove_temp_files() -> None:
    """Remove every temporary file :func:`atomic_write` has open or staged in this process."""
    for tmp in list(_LIVE):
        _discard(tmp)


def _on_sigterm(signum: int, frame: Any) -> None:
    remove_temp_files()
    raise Terminated()


def install_sigterm_cleanup() -> Callable[[], None]:
    """On SIGTERM remove temporary output files and raise :class:`Terminated` (the CLI exits as
    after Ctrl-C). Only from the main thread, and only over the default handler; returns a
    function that puts the previous handler back (a no-op when nothing was installed)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return lambda: None
    signal.signal(signal.SIGTERM, _on_sigterm)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _writable_ancestor(path: Path, shown: str) -> None:
    """The nearest existing ancestor of ``path`` must be a folder we can create files in."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{shown}: {probe} is a file, not a folder; choose another output path")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as err:
        raise OutputError(f"{shown}: cannot write in {probe} ({err.strerror}); choose another output path") from None


def check_output_file(path: str | os.PathLike[str], *, what: str = "output") -> Path:
    """Check, before any work, that ``path`` can be written as a file; returns it as a Path.

    Example:
        >>> folder = Path(tempfile.mkdtemp())
        >>> check_output_file(folder / "x.csv") == folder / "x.csv"
        True
        >>> check_output_file(folder, what="--out")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        tokbench.errors.OutputError: --out ...: is a folder; give a file name inside it (...) or another path
    """
    p = Path(path)
    shown = f"{what} {p}"
    if p.is_dir():
        raise OutputError(f"{shown}: is a folder; give a file name inside it (e.g. {p / 'out.csv'}) or another path")
    if p.exists() and not p.is_file():
        raise OutputError(f"{shown}: is not a regular file; give a file path")
    _writable_ancestor(p.parent, shown)
    return p


def check_output_folder(path: str | os.PathLike[str], *, what: str = "output folder") -> Path:
    """Check, before any work, that ``path`` is (or can be created as) a writable folder."""
    p = Path(path)
    shown = f"{what} {p}"
    if p.exists() and not p.is_dir():
        raise OutputError(f"{shown}: is a file, not a folder; give a folder path")
    _writable_ancestor(p, shown)
    return p


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
