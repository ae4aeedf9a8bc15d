"""CharBench: character-level tasks over words, after Uzan & Pinter (2025), "CharBench:
Evaluating the Role of Tokenization in Character-Level Tasks".

Four tasks, each a question about one word with an integer answer:

* ``count_char``   — how many times a character occurs in the word;
* ``count_unique`` — how many distinct characters the word has;
* ``first_index``  — the 0-based index of a character's first occurrence;
* ``last_index``   — the 0-based index of its last occurrence.

In the tasks that name a character, it is drawn from the word itself (uniformly over the word's
*distinct* characters, so rare and frequent letters of a word are equally likely targets).

Words come from any :class:`~tokbench.corpora.Corpus`: unique matches of a word regex (by default
``\\b[a-zA-Z]+\\b``, as in the paper), after Unicode normalization (NFC by default) and optional
case folding, with a length (in code points) between ``min_length`` and ``max_length``. Each
(task, length) bucket is shuffled with its own seeded generator and cut to ``per_length`` words,
so the benchmark is a pure function of (corpus, options, seed). Answers are case-sensitive and
count code points.

This module generates and reads items; :mod:`.charbench_features` computes tokenization features
of each item, :mod:`.charbench_scoring` scores model answers, :mod:`.charbench_client` asks an
OpenAI-compatible endpoint, and :mod:`tokbench.reports.charbench_figures` draws the figures.

Example:
    >>> from tokbench.corpora import Corpus
    >>> bench = generate_charbench(Corpus("toy", {"en": ["the strawberry letter"]}), per_length=1)
    >>> sorted({i.word for i in bench.items})
    ['letter', 'strawberry']
    >>> item = next(i for i in bench.items if i.task == "count_unique" and i.word == "strawberry")
    >>> item.answer, item.prompt
    (8, 'How many distinct characters does the word "strawberry" contain?')
"""

from __future__ import annotations

import hashlib
import json
import random
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ...corpora import Corpus
from ...errors import TokbenchError, UnknownNameError
from ...results import Signature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CharBenchError",
    "CharBenchItem",
    "CharBench",
    "Task",
    "TASKS",
    "COUNT_TASKS",
    "INDEX_TASKS",
    "INSTRUCTION",
    "DEFAULT_WORD_PATTERN",
    "gold_answer",
    "extract_words",
    "generate_charbench",
    "read_items",
]

#: The CharBench instruction, sent as the system message by the model adapter.
INSTRUCTION = "Answer with the number only, written in digits, and nothing else."
DEFAULT_WORD_PATTERN = r"\b[a-zA-Z]+\b"

CaseHandling = Literal["preserve", "lower", "casefold"]
Normalization = Literal["NFC", "NFKC", "NFD", "NFKD", "none"]


class CharBenchError(TokbenchError):
    """A CharBench item file, answer file or option is malformed or inconsistent."""


# ---------------------------------------------------------------------------------- the tasks


def _count_char(word: str, char: str | None) -> int:
    return word.count(char or "")


def _count_unique(word: str, char: str | None) -> int:
    return len(set(word))


def _first_index(word: str, char: str | None) -> int:
    return word.index(char or "")


def _last_index(word: str, char: str | None) -> int:
    return word.rindex(char or "")


@dataclass(frozen=True)
class Task:
    """One CharBench task: its gold-answer function and question template."""

    name: str
    needs_char: bool
    answer: Callable[[str, str | None], int]
    template: str
    #: what the answer counts: "count" (a number of characters) or "index" (a position)
    kind: Literal["count", "index"]

    def prompt(self, word: str, char: str | None) -> str:
        return self.template.format(word=word, char=char)


# A registry (convention 2): name -> task, in the paper's order.
TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("count_char", True, _count_char,
             'How many times does the character "{char}" occur in the word "{word}"?', "count"),
        Task("count_unique", False, _count_unique,
             'How many distinct characters does the word "{word}" contain?', "count"),
        Task("first_index", True, _first_index,
             'At which index does the character "{char}" first occur in the word "{word}"? '
             "Indices start at 0.", "index"),
        Task("last_index", True, _last_index,
             'At which index does the character "{char}" last occur in the word "{word}"? '
             "Indices start at 0.", "index"),
    )
}
COUNT_TASKS = tuple(n for n, t in TASKS.items() if t.kind == "count")
INDEX_TASKS = tuple(n for n, t in TASKS.items() if t.kind == "index")


def _task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise UnknownNameError("CharBench task", name, list(TASKS)) from None


def gold_answer(task: str, word: str, char: str | None = None) -> int:
    """The gold answer of ``task`` for ``word`` (and ``char``, for the tasks that name one).

    Example:
        >>> gold_answer("last_index", "banana", "a"), gold_answer("count_unique", "banana")
        (5, 3)
    """
    t = _task(task)
    if t.needs_char:
        if not char or len(char) != 1 or char not in word:
            raise CharBenchError(
                f"task {task} needs one character that occurs in the word; got {char!r} for {word!r}"
            )
    return t.answer(word, char)


# ---------------------------------------------------------------------------------- the items


@dataclass(frozen=True)
class CharBenchItem:
    """One question: the prompt, the gold answer and its metadata."""

    id: str
    task: str
    word: str
    char: str | None
    answer: int
    prompt: str
    length: int
    #: corpus category the word was first seen in
    category: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CharBench:
    """Generated items with their signature (corpus, options, seed)."""

    items: list[CharBenchItem]
    signature: Signature
    #: (task, length) buckets that held fewer words than ``per_length``: "task/length" -> count
    short_buckets: dict[str, int] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """Cautions: (task, length) buckets with fewer words than asked (their accuracy is noisier)."""
        if not self.short_buckets:
            return []
        return ["buckets with fewer words than per_length: "
                + ", ".join(f"{k}={v}" for k, v in self.short_buckets.items())]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([i.to_dict() for i in self.items])

    def write_jsonl(self, path: str | Path) -> Path:
        """Write one JSON object per item, atomically."""
        return write_items(self.items, path)


def write_items(items: Iterable[CharBenchItem], path: str | Path) -> Path:
    from ..._io import atomic_write

    target = Path(path)
    with atomic_write(target) as handle:
        for item in items:
            handle.write(json.dumps(item.to_dict(), ensure_ascii=False) + "\n")
    return target


def items_digest(items: Sequence[CharBenchItem]) -> str:
    """sha256 of the items' canonical JSON: identifies a benchmark in result signatures."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps(item.to_dict(), ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


_REQUIRED = {"id": str, "task": str, "word": str, "answer": int, "prompt": str}


def read_text_file(path: Path, what: str, *, missing: str = "") -> str:
    """The UTF-8 text of a CharBench input file, or a :class:`CharBenchError` saying what is wrong."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CharBenchError(f"{path}: no such {what}{missing}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CharBenchError(f"{path}: cannot read the {what} ({err})") from None


def read_items(path: str | Path) -> list[CharBenchItem]:
    """Read an item file written by :meth:`CharBench.write_jsonl` and check every gold answer.

    Raises :class:`CharBenchError` naming the line for invalid JSON, missing or mistyped fields,
    unknown tasks, duplicate ids, and gold answers that disagree with the word.
    """
    path = Path(path)
    text = read_text_file(path, "item file", missing="; create one with `tokbench charbench generate`")
    items: list[CharBenchItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise CharBenchError(f"{where}: not valid JSON ({err.msg}); each line must be one item object") from None
        if not isinstance(obj, dict):
            raise CharBenchError(f"{where}: a JSON {type(obj).__name__}, not an item object")
        for key, typ in _REQUIRED.items():
            if key not in obj:
                raise CharBenchError(f"{where}: item has no {key!r} field; is this a CharBench item file?")
            if not isinstance(obj[key], typ) or isinstance(obj[key], bool):
                raise CharBenchError(f"{where}: field {key!r} must be {typ.__name__}, got {obj[key]!r}")
        task = _task(obj["task"])
        char = obj.get("char")
        if obj["id"] in seen:
            raise CharBenchError(f"{where}: duplicate item id {obj['id']!r}; ids must be unique")
        seen.add(obj["id"])
        try:
            gold = gold_answer(task.name, obj["word"], char if task.needs_char else None)
        except CharBenchError as err:
            raise CharBenchError(f"{where}: {err}") from None
        if gold != obj["answer"]:
            raise CharBenchError(
                f"{where}: answer {obj['answer']} disagrees with the word ({task.name} of "
                f"{obj['word']!r}{'' if char is None else f', {char!r}'} is {gold}); the file is corrupt"
            )
        items.append(CharBenchItem(
            id=obj["id"], task=task.name, word=obj["word"], char=char if task.needs_char else None,
            answer=gold, prompt=obj["prompt"], length=len(obj["word"]),
            category=str(obj.get("category", "")),
        ))
    if not items:
        raise CharBenchError(f"{path}: no items (empty file)")
    return items


# --------------------------------------------------------------------------------- generation


def _normalizer(normalization: str) -> Callable[[str], str]:
    if normalization == "none":
        return lambda s: s
    if normalization not in ("NFC", "NFKC", "NFD", "NFKD"):
        raise UnknownNameError("Unicode normalization", normalization, ["NFC", "NFKC", "NFD", "NFKD", "none"])
    return lambda s: unicodedata.normalize(normalization, s)  # type: ignore[arg-type]


_CASES: dict[str, Callable[[str], str]] = {
    "preserve": lambda s: s,
    "lower": str.lower,
    "casefold": str.casefold,
}


def extract_words(
    corpus: Corpus,
    *,
    pattern: str = DEFAULT_WORD_PATTERN,
    min_length: int = 4,
    max_length: int = 10,
    case: CaseHandling = "preserve",
    normalization: Normalization = "NFC",
) -> dict[str, str]:
    """Unique words of ``corpus`` in first-seen order, mapped to the category they came from.

    ``pattern`` is a regex for the ``regex`` module (``\\p{L}+`` works for any script); its whole
    match is the word. Text is normalized before matching; case handling is applied after, and
    length (code points) is checked last.

    Example:
        >>> extract_words(Corpus("t", {"a": ["Dog dog cat DOGS"]}), min_length=3, case="lower")
        {'dog': 'a', 'cat': 'a', 'dogs': 'a'}
    """
    import regex

    if min_length < 1 or max_length < min_length:
        raise CharBenchError(
            f"word lengths must satisfy 1 <= min_length <= max_length; got {min_length}..{max_length}"
        )
    try:
        compiled = regex.compile(pattern)
    except regex.error as err:
        raise CharBenchError(f"invalid word regex {pattern!r} ({err})") from None
    if case not in _CASES:
        raise UnknownNameError("case handling", case, list(_CASES))
    norm, fold = _normalizer(normalization), _CASES[case]
    words: dict[str, str] = {}
    for category, docs in corpus:
        for doc in docs:
            for match in compiled.finditer(norm(doc)):
                word = fold(match.group(0))
                if min_length <= len(word) <= max_length and word not in words:
                    words[word] = category
    return words


def generate_charbench(
    corpus: Corpus,
    *,
    tasks: Sequence[str] | None = None,
    per_length: int = 100,
    seed: int = 0,
    pattern: str = DEFAULT_WORD_PATTERN,
    min_length: int = 4,
    max_length: int = 10,
    case: CaseHandling = "preserve",
    normalization: Normalization = "NFC",
) -> CharBench:
    """Generate CharBench items from the words of ``corpus``.

    For every task and every word length, the bucket's words (first-seen order) are shuffled
    with ``random.Random(f"charbench:{seed}:{task}:{length}")`` and the first ``per_length`` kept;
    a bucket with fewer words keeps them all and is listed in ``short_buckets``. The target
    character is drawn from the same generator. Item ids are ``{task}-{length:02d}-{k:04d}``.
    """
    if isinstance(per_length, bool) or not isinstance(per_length, int) or per_length < 1:
        raise CharBenchError(f"per_length must be a positive integer, got {per_length!r}")
    task_names = list(TASKS) if tasks is None else list(tasks)
    if not task_names:
        raise CharBenchError(f"no tasks given; choose from {', '.join(TASKS)}")
    chosen = [_task(t) for t in task_names]
    words = extract_words(corpus, pattern=pattern, min_length=min_length, max_length=max_length,
                          case=case, normalization=normalization)
    if not words:
        raise CharBenchError(
            f"corpus {corpus.name!r} has no words matching {pattern!r} of length "
            f"{min_length}..{max_length}; check the word regex, lengths and corpus"
        )
    by_length: dict[int, list[str]] = {n: [] for n in range(min_length, max_length + 1)}
    for word in words:
        by_length[len(word)].append(word)
    items, short = _draw_items(chosen, by_length, words, per_length=per_length, seed=seed)
    options = {
        "tasks": [t.name for t in chosen], "per_length": per_length, "pattern": pattern,
        "min_length": min_length, "max_length": max_length, "case": case,
        "normalization": normalization, "unique_words": len(words),
        "words_per_length": {str(n): len(b) for n, b in by_length.items()},
        "instruction": INSTRUCTION,
    }
    signature = Signature(tokenizers={}, corpus=corpus.signature(), seed=seed,
                          extra={"charbench": options, "items_sha256": items_digest(items)})
    return CharBench(items=items, signature=signature, short_buckets=short)


def _draw_items(tasks: Sequence[Task], by_length: dict[int, list[str]], words: dict[str, str], *,
                per_length: int, seed: int) -> tuple[list[CharBenchItem], dict[str, int]]:
    """The items of every (task, length) bucket, and the buckets that held too few words."""
    items: list[CharBenchItem] = []
    short: dict[str, int] = {}
    for task in tasks:
        for length, bucket in by_length.items():
            rng = random.Random(f"charbench:{seed}:{task.name}:{length}")
            pool = list(bucket)
            rng.shuffle(pool)
            if len(pool) < per_length:
                short[f"{task.name}/{length}"] = len(pool)
            for k, word in enumerate(pool[:per_length]):
                char = rng.choice(sorted(set(word))) if task.needs_char else None
                items.append(CharBenchItem(
                    id=f"{task.name}-{length:02d}-{k:04d}", task=task.name, word=word, char=char,
                    answer=task.answer(word, char), prompt=task.prompt(word, char), length=length,
                    category=words[word],
                ))
    return items, short
