"""One executor for every grid of independent tasks: ``map(fn, tasks, *, desc, cache)``.

Experiments (vocabulary grids, controlled mixture trials, the trainers comparison), the
per-category traces and the audit's steps are lists of independent tasks. They all run through
:func:`map`, which returns the results in task order whatever the back end, shows a progress bar
(quiet when stderr is not a terminal) and, given a :class:`TaskCache`, skips tasks whose result
is already on disk. Back ends are classes with one method, ``run(fn, tasks, on_done)``:
:class:`SerialBackend` and :class:`ProcessBackend` (joblib/loky worker processes, the default
with all cores) and :class:`DaskBackend` (a Dask ``distributed`` cluster, chosen by a
``scheduler`` address or ``distributed.Client``, or ``$TOKBENCH_SCHEDULER``).

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

__all__ = ["map", "TaskCache", "Backend", "SerialBackend", "ProcessBackend", "DaskBackend", "get_backend",
           "default_jobs", "default_scheduler", "CONNECT_TIMEOUT"]

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


#: Seconds to wait for a Dask scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = 10.0


class DaskBackend:
    """Tasks on a Dask ``distributed`` cluster: a scheduler address (``tcp://HOST:PORT``) or a
    ``distributed.Client`` (or anything ``Client`` accepts, e.g. a ``LocalCluster``).

    A task whose worker dies is run again (``retries``); an error inside a task is raised here
    as its own exception type. An address is connected to for each grid and closed after it; a
    client passed in is used as is and left open.

    Example:
        >>> DaskBackend("tcp://127.0.0.1:8786").run(abs, [-1, 2], print)   # doctest: +SKIP
        0 1
        1 2
    """

    def __init__(self, scheduler: Any, *, retries: int = 2, timeout: float | None = None):
        self.scheduler = scheduler
        self.retries = retries
        self.timeout = CONNECT_TIMEOUT if timeout is None else timeout

    def __repr__(self) -> str:
        return f"DaskBackend({self.scheduler!r})"

    def run(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
            on_done: Callable[[int, Any], None]) -> None:
        if not tasks:
            return  # nothing to send: do not even connect
        try:
            from distributed import Client, as_completed
        except ImportError:
            from .errors import TokbenchError

            raise TokbenchError("a Dask scheduler was given but the `distributed` package is missing; "
                                "pip install distributed, or unset --scheduler / $TOKBENCH_SCHEDULER") from None

        owned = not isinstance(self.scheduler, Client)
        client = self._connect(Client) if owned else self.scheduler
        futures: list[Any] = []
        try:
            futures = client.map(fn, list(tasks), pure=False, retries=self.retries)
            position = {future.key: index for index, future in enumerate(futures)}
            # with_results re-raises a failed task's own exception (with its remote traceback)
            for future, result in as_completed(futures, with_results=True, loop=client.loop):
                on_done(position[future.key], result)
        finally:
            if futures:
                client.cancel(futures)  # an error or Ctrl-C leaves nothing running on the cluster
            if owned:
                client.close()

    def _connect(self, client_class: Any) -> Any:
        from .errors import TokbenchError

        try:
            if isinstance(self.scheduler, str):
                _probe(self.scheduler, self.timeout)
            return client_class(self.scheduler, timeout=self.timeout, set_as_default=False)
        except Exception as err:  # an unreachable host, a refused port and a malformed address alike
            reason = " ".join(str(err).split()) or type(err).__name__
            raise TokbenchError(
                f"cannot reach the Dask scheduler {self.scheduler!r} within {self.timeout:g} s ({reason[:200]}); "
                "check that `dask scheduler` runs there and the address is tcp://HOST:PORT "
                "(from --scheduler or $TOKBENCH_SCHEDULER), or unset it to run locally") from None


def _probe(address: str, timeout: float) -> None:
    """Open and close a TCP connection to a ``tcp://`` scheduler: a refused port fails at once, and
    a ``Client`` that failed to connect is never made (its clean-up can hang for 2 × timeout)."""
    import socket

    from distributed.comm import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme == "tcp":
        with socket.create_connection(parse_host_port(location), timeout=timeout):
            pass


def default_scheduler() -> str | None:
    """``$TOKBENCH_SCHEDULER`` (a Dask scheduler address), or ``None`` to run locally."""
    env = os.environ.get("TOKBENCH_SCHEDULER", "").strip()
    return env or None


def default_jobs() -> int:
    """``$TOKBENCH_JOBS`` or every core this process may use."""
    env = os.environ.get("TOKBENCH_JOBS")
    if env and env.strip().isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def get_backend(jobs: int | None = None, scheduler: Any = None) -> Backend:
    """A Dask cluster when ``scheduler`` (an address or a ``distributed.Client``) or
    ``$TOKBENCH_SCHEDULER`` names one (``jobs`` is then the cluster's business); otherwise
    serial for one job and local processes for more (``None``: :func:`default_jobs`).

    Example:
        >>> get_backend(1, scheduler="tcp://10.0.0.5:8786")
        DaskBackend('tcp://10.0.0.5:8786')
    """
    scheduler = scheduler if scheduler is not None else default_scheduler()
    if scheduler is not None:
        return DaskBackend(scheduler)
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
        jobs: int | None = None, backend: Backend | None = None, progress: bool | None = None,
        scheduler: Any = None) -> list[R]:
    """``[fn(task) for task in tasks]``, run by ``backend`` (default: :func:`get_backend` of
    ``jobs`` and ``scheduler``), cached per task.

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
    if backend is not None:
        runner = backend
    else:
        runner = get_backend(min(jobs or default_jobs(), max(1, len(todo))), scheduler=scheduler)

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
