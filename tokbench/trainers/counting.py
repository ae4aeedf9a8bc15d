"""Pretokenize-and-count: the word table BPE-family trainers learn from, in chunks and in parallel.

:func:`count_words` splits every document with the pretokenizer regex and counts the pieces. It
reads its input one document at a time (a :class:`~tokbench.corpora.Corpus`, a
:class:`~tokbench.corpora.CorpusStream` or any iterable of texts), so memory grows with the
number of distinct pieces, not with the corpus. With ``jobs > 1`` the input is cut into tasks —
byte ranges of the plain files of a stream (a path and two offsets per task: the workers read
the text themselves, a block at a time; two ranges per worker), batches of about
``chunk_chars`` characters of text otherwise — counted in joblib/loky worker processes, and the
chunk tables are added in task order. Counter addition is
exact, so the table (and therefore every merge) equals the one-process table; only ``2 * jobs``
tasks are in flight at once, so memory stays bounded too.

Example:
    >>> count_words(["the cat", "the dog"], GPT2)
    {'the': 2, ' cat': 1, ' dog': 1}
    >>> count_words(["the cat", "the dog"] * 50, GPT2, jobs=2, chunk_chars=100) == count_words(["the cat", "the dog"] * 50, GPT2)
    True
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import TokbenchError
from ..model.patterns import GPT2_PATTERN as GPT2

__all__ = ["count_words", "count_texts", "count_task", "check_jobs", "CHUNK_CHARS", "GPT2"]

#: Characters of text sent per worker task (and the smallest file range): small enough to
#: balance two workers on a 20 MB corpus, large enough that merging the tables stays cheap.
CHUNK_CHARS = 4_000_000


def check_jobs(jobs: Any) -> int:
    """``jobs`` as a number of processes: ``None`` means 1 (one process, today's default)."""
    if jobs is None:
        return 1
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise TokbenchError(f"jobs must be a positive number of worker processes, got {jobs!r}")
    return jobs


def count_texts(texts: Iterable[Any], regex: str, normalization: str | None = None) -> Counter[str]:
    """Count the pieces ``regex`` makes of each text (each text split on its own).

    Pieces are the regex matches and the gaps between them (HF ``Split`` with ``Isolated``
    behaviour, which is what ``ByteLevel(use_regex=True)`` does with GPT-2's pattern).
    """
    import regex as re_module

    from ..model.pretokenizers import RegexSplit

    findall = re_module.compile(regex).findall
    splitter = RegexSplit(regex)
    counts: Counter[str] = Counter()
    for k, text in enumerate(texts):
        if not isinstance(text, str):
            raise TokbenchError(f"text {k} is a {type(text).__name__}, not str; decode it first")
        if not text:
            continue
        if normalization:
            text = unicodedata.normalize(normalization, text)
        pieces = findall(text)
        if sum(map(len, pieces)) != len(text):  # the regex skips some text: keep the gaps too
            pieces = splitter.split(text)
        counts.update(pieces)
    return counts


def count_task(task: Any, regex: str, normalization: str | None = None) -> dict[str, int]:
    """Count one :class:`~tokbench.corpora.streaming.ReadTask` (what a worker process runs)."""
    from ..corpora.streaming import read_task

    return dict(count_texts(read_task(task), regex, normalization))


def _tasks(corpus_or_texts: Any, chunk_chars: int, jobs: int) -> Iterator[Any]:
    from ..corpora.streaming import CorpusStream, text_batches

    if isinstance(corpus_or_texts, CorpusStream):
        # Two file ranges per worker: enough to balance them, few tables to merge here (merging
        # is this process's work, and on a large file it rivals the counting when ranges are small).
        return corpus_or_texts.read_tasks(chunk_chars, spread=2 * jobs)
    from ._common import texts_of

    return text_batches(texts_of(corpus_or_texts), chunk_chars)


def count_words(corpus_or_texts: Any, regex: str, *, jobs: int | None = None, normalization: str | None = None,
                chunk_chars: int = CHUNK_CHARS) -> dict[str, int]:
    """The word table ``{piece: count}`` of a corpus, stream or texts, in first-seen order.

    ``jobs`` worker processes count chunks of about ``chunk_chars`` characters (``None`` or 1:
    this process, reading one document at a time). ``normalization`` (``"NFKC"``/``"NFC"``) is
    applied to each text before splitting.
    """
    n = check_jobs(jobs)
    if isinstance(chunk_chars, bool) or not isinstance(chunk_chars, int) or chunk_chars < 1:
        raise TokbenchError(f"chunk_chars must be a positive integer, got {chunk_chars!r}")
    if n == 1:
        from ._common import texts_of

        return dict(count_texts(texts_of(corpus_or_texts), regex, normalization))
    tasks = _tasks(corpus_or_texts, chunk_chars, n)
    total: Counter[str] = Counter()
    for table in _run_bounded(tasks, n, regex, normalization):
        total.update(table)
    return dict(total)


def _run_bounded(tasks: Iterator[Any], jobs: int, regex: str, normalization: str | None) -> Iterator[dict[str, int]]:
    """The chunk tables in task order, from ``jobs`` joblib/loky worker processes, at most
    ``2 * jobs`` tasks in flight (tasks are made lazily: a corpus larger than memory is never
    listed).

    Loky, not forked workers: a fork after another library started threads (``tokenizers``,
    ``datasets``/Arrow) can leave a worker dead or deadlocked, and ``multiprocessing.Pool`` then
    waits for it forever; loky workers are fresh interpreters (about half a CPU-second each to
    start, once per process: the pool is reused) and a dead one is reported as an error.
    """
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator", pre_dispatch="2*n_jobs", batch_size=1)
    yield from parallel(delayed(count_task)(t, regex, normalization) for t in tasks)
