"""One executor for every grid of independent tasks: ``map(fn, tasks, *, desc, cache)``.

Experiments (vocabulary grids, controlled mixture trials, the trainers comparison), the
per-category traces and the audit's steps are lists of independent tasks. They all run through
:func:`map`, which returns the results in task order whatever the back end, shows a progress bar
(quiet when stderr is not a terminal) and, given a :class:`TaskCache`, skips tasks whose result
is already on disk. Back ends are classes with one method, ``run(fn, tasks, on_done)``:
:class:`SerialBackend` and :class:`ProcessBackend` (joblib/loky worker processes, the default
with all cores); a Dask ``distributed`` back end is one more class of the same shape.

Results are identical whatever the back end because tasks carry everything they need (seeds
included) and nothing depends on the order in which workers finish.

Example:
    >>> map(abs, [-2, 3, -5], desc="abs", jobs=1)
    [2, 3, 5]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from .cache import Cache, Record, warn_damaged

__all__ = ["map", "TaskCache", "Backend", "SerialBackend", "ProcessBackend", "get_backend", "default_jobs"]

T = TypeVar("T")
R = TypeVar("R")


class Backend(Protocol):
    """Runs ``fn`` over ``tasks``; calls ``on_done(index, result)`` as each one finishes."""

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
            on_done: Callable[[int, Any], None]) -> None: ...


class SerialBackend:
    """Every task in this process, one after another (debugging, tiny grids, ``--jobs 1``)."""

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
            on_done: Callable[[int, Any], None]) -> None:
        for index, task in enumerate(tasks):
            on_done(index, fn(task))


@dataclass(frozen=True)
class ProcessBackend:
    """Local worker processes through joblib's loky back end; results stream back in order."""

    jobs: int

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
            on_done: Callable[[int, Any], None]) -> None:
        from joblib import Parallel, delayed

        parallel = Parallel(n_jobs=self.jobs, backend="loky", return_as="generator")
        for index, result in enumerate(parallel(delayed(fn)(task) for task in tasks)):
            on_done(index, result)


def default_jobs() -> int:
    """``$TOKBENCH_JOBS`` or every core this process may use."""
    env = os.environ.get("TOKBENCH_JOBS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def get_backend(jobs: int | None = None) -> Backend:
    """Serial for one job, local processes otherwise (``None``: :func:`default_jobs`)."""
    n = default_jobs() if jobs is None else jobs
    return SerialBackend() if n <= 1 else ProcessBackend(n)


class TaskCache(Generic[T, R]):
    """How one kind of task is cached: its key, and its result to and from a :class:`Record`."""

    def __init__(self, cache: Cache, *, describe: Callable[[T], Any],
                 encode: Callable[[R], Record], decode: Callable[[Record], R]):
        self.cache = cache
        self.describe = describe
        self.encode = encode
        self.decode = decode

    def key(self, task: T) -> str:
        return self.cache.key(self.describe(task))

    def load(self, task: T) -> R | None:
        key = self.key(task)
        record = self.cache.load(key)
        if record is None:
            return None
        try:
            return self.decode(record)
        except (KeyError, ValueError, TypeError, IndexError):
            warn_damaged(self.cache.path(key), "not a well-formed task entry")
            return None  # an entry of another shape is recomputed

    def store(self, task: T, result: R) -> None:
        self.cache.store(self.key(task), self.encode(result))


def map(fn: Callable[[T], R], tasks: Sequence[T], *, desc: str = "", cache: TaskCache[T, R] | None = None,
        jobs: int | None = None, backend: Backend | None = None, progress: bool | None = None) -> list[R]:
    """``[fn(task) for task in tasks]``, run by ``backend`` (default from ``jobs``), cached per task.

    ``fn`` must be a module-level function and tasks plain data, so that worker processes can
    receive them. Results are stored in the cache as they arrive, so an interrupted grid resumes.
    """
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        from .errors import TokbenchError

        raise TokbenchError(f"jobs must be a positive number of worker processes, got {jobs!r}")
    tasks = list(tasks)
    results: list[Any] = [None] * len(tasks)
    todo = list(range(len(tasks)))
    if cache is not None:
        todo = []
        for index, task in enumerate(tasks):
            hit = cache.load(task)
            if hit is None:
                todo.append(index)
            else:
                results[index] = hit
    bar = _progress(len(tasks), desc, progress, done=len(tasks) - len(todo))
    runner = backend if backend is not None else get_backend(min(jobs or default_jobs(), max(1, len(todo))))

    def on_done(position: int, result: Any) -> None:
        index = todo[position]
        results[index] = result
        if cache is not None:
            cache.store(tasks[index], result)
        bar.update(1)

    try:
        runner.run(fn, [tasks[i] for i in todo], on_done)
    finally:
        bar.close()
    return results


def _progress(total: int, desc: str, enabled: bool | None, *, done: int) -> Any:
    from tqdm.auto import tqdm

    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(total=total, initial=done, desc=desc or None, unit="task", disable=not show, leave=False)
