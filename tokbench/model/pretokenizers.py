"""Pretokenizers: how text is cut into pieces before the model merges inside each piece.

Plain-Python twins of HF's pretokenizers (Split/regex, ByteLevel prefix space, BertPreTokenizer,
WhitespaceSplit, Metaspace) and of SentencePiece's word split, written so that tokbench's own
encoders, the word-level metrics and the attacks can see the pieces without the reference
library. :mod:`tokbench.model.normalizers` is the stage before this one.

Example:
    >>> RegexSplit(r" ?\\p{L}+|\\s+").split("hello big world")
    ['hello', ' big', ' world']
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

import regex

from ..errors import EncodingError
from .normalizers import WHITE_SPACE, as_references_see_it, code_points
from .patterns import GPT2_PATTERN, REGEX_SECONDS_PER_CHAR, REGEX_TIMEOUT, regex_timeout

__all__ = [
    "PreTokenizer",
    "SplitBehavior",
    "RegexSplit",
    "as_references_see_it",
    "regex_timeout",
    "REGEX_TIMEOUT",
    "REGEX_SECONDS_PER_CHAR",
    "gpt2_split",
    "AddPrefixSpace",
    "BertPreTokenizer",
    "WhitespaceSplit",
    "Metaspace",
    "SentencePieceWords",
    "PreTokenizerSequence",
    "NoPreTokenizer",
    "SPACE_MARK",
]

#: SentencePiece's visible space, U+2581.
SPACE_MARK = "\u2581"


class PreTokenizer(Protocol):
    def split(self, text: str) -> list[str]: ...

    def describe(self) -> dict[str, Any]: ...


SplitBehavior = Literal["isolated", "removed", "merged_with_previous", "merged_with_next", "contiguous"]


@lru_cache(maxsize=64)
def _compile(pattern: str) -> regex.Pattern[str]:
    try:
        return regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError) as err:
        raise EncodingError(f"split pattern {pattern!r} is not a valid regex ({err}); fix the "
                            "pre_tokenizer pattern of the tokenizer file") from None


def _too_slow(pattern: str, text: str) -> EncodingError:
    return EncodingError(
        f"split pattern {pattern!r} ran over {regex_timeout(pattern, text):.1f} s on a text of "
        f"{len(text)} characters: it backtracks catastrophically (nested or overlapping "
        "quantifiers such as (a|aa)+); fix the pattern in the tokenizer file"
    )


def _spans(pattern: regex.Pattern[str], text: str, timeout: float | None = None) -> list[tuple[int, int, bool]]:
    """Cover ``text`` with (start, end, is_match) spans, gaps included."""
    spans: list[tuple[int, int, bool]] = []
    last = 0
    for m in pattern.finditer(text, timeout=timeout):
        start, end = m.span()
        if start == end:
            continue
        if start > last:
            spans.append((last, start, False))
        spans.append((start, end, True))
        last = end
    if last < len(text):
        spans.append((last, len(text), False))
    return spans


@dataclass(frozen=True)
class RegexSplit:
    """Split by a regex with HF ``Split`` semantics (default: keep matches and gaps, isolated).

    Patterns that are not vetted run under a time limit (:func:`regex_timeout`); a pattern that
    exceeds it raises :class:`~tokbench.errors.EncodingError` instead of hanging.
    """

    pattern: str
    behavior: SplitBehavior = "isolated"
    invert: bool = False

    def split(self, text: str) -> list[str]:
        pattern = _compile(self.pattern)
        timeout = regex_timeout(self.pattern, text)
        try:
            return self._split(pattern, text, timeout, as_references_see_it(text))
        except TimeoutError:
            raise _too_slow(self.pattern, text) from None

    def _split(self, pattern: regex.Pattern[str], text: str, timeout: float | None, view: str) -> list[str]:
        """Match on ``view`` (``text`` as the reference engines see it), cut ``text``."""
        if view is text and (self.behavior == "isolated" or (self.behavior == "removed" and self.invert)):
            # Fast path: findall runs in C; with "isolated" it is exact when matches cover the
            # text (true of every GPT-style pattern), which the length check confirms.
            start = time.perf_counter()
            matches = pattern.findall(text, timeout=timeout)
            if self.behavior == "removed" or sum(map(len, matches)) == len(text):
                return [m for m in matches if m] if "" in matches else matches
            if timeout is not None:  # one time budget for the whole split
                timeout = max(timeout - (time.perf_counter() - start), 0.001)
        spans = _spans(pattern, view, timeout)
        if self.invert:
            spans = [(s, e, not m) for s, e, m in spans]
        if self.behavior == "isolated":
            return [text[s:e] for s, e, _ in spans]
        if self.behavior == "removed":
            return [text[s:e] for s, e, m in spans if not m]
        # The other behaviours join neighbouring spans: build (start, end) bounds and cut once,
        # never by growing strings (which is quadratic on a long run of joined spans).
        bounds: list[list[int]] = []
        if self.behavior == "contiguous":
            # HF merges neighbouring spans that carry the same flag (after inversion).
            last_match = None
            for s, e, m in spans:
                if m and last_match is True or (self.invert and not m and last_match is False):
                    bounds[-1][1] = e
                else:
                    bounds.append([s, e])
                last_match = m
        elif self.behavior == "merged_with_previous":
            previous_match = False
            for s, e, m in spans:
                if m and bounds and not previous_match:
                    bounds[-1][1] = e
                else:
                    bounds.append([s, e])
                previous_match = m
        else:  # merged_with_next
            carry: int | None = None
            for s, e, m in spans:
                if m:
                    if carry is not None:
                        bounds.append([carry, s])
                    carry = s
                else:
                    bounds.append([s if carry is None else carry, e])
                    carry = None
            if carry is not None:
                bounds.append([carry, len(text)])
        return [text[s:e] for s, e in bounds]

    def describe(self) -> dict[str, Any]:
        return {"type": "Split", "pattern": self.pattern, "behavior": self.behavior, "invert": self.invert}


def gpt2_split() -> RegexSplit:
    """HF ``ByteLevel(use_regex=True)``: GPT-2's pattern, isolated."""
    return RegexSplit(GPT2_PATTERN)


@dataclass(frozen=True)
class AddPrefixSpace:
    """HF ``ByteLevel(add_prefix_space=True)``: a space before each piece that lacks one."""

    def split(self, text: str) -> list[str]:
        return [text if text.startswith(" ") else " " + text] if text else []

    def describe(self) -> dict[str, Any]:
        return {"type": "AddPrefixSpace"}


@dataclass(frozen=True)
class BertPreTokenizer:
    """Split on whitespace (dropped) and on every punctuation character (kept alone)."""

    def split(self, text: str) -> list[str]:
        pieces: list[str] = []
        current: list[str] = []
        for ch in text:
            if ch in WHITE_SPACE:
                if current:
                    pieces.append("".join(current))
                    current = []
            elif _is_bert_punctuation(ch):
                if current:
                    pieces.append("".join(current))
                    current = []
                pieces.append(ch)
            else:
                current.append(ch)
        if current:
            pieces.append("".join(current))
        return pieces

    def describe(self) -> dict[str, Any]:
        return {"type": "BertPreTokenizer"}


#: ``tokenizers`` decides punctuation by the ``unicode_categories`` crate's tables, of an older
#: Unicode than Python's: these characters became punctuation later (it keeps them in words) ...
_NOT_HF_PUNCTUATION = code_points(
    "061d 09fd 0a76 0c77 0c84 1b7d-1b7e 2e43-2e4f 2e52-2e5d 10ead 10f55-10f59 10f86-10f89 1144b-1144f "
    "1145a-1145b 1145d 11660-1166c 116b9 1183b 11944-11946 119e2 11a3f-11a46 11a9a-11a9c 11a9e-11aa2 "
    "11c41-11c45 11c70-11c71 11ef7-11ef8 11fff 12ff1-12ff2 16e97-16e9a 16fe2 1e95e-1e95f"
)
#: ... and these were punctuation then and are not now (it still splits on them).
_HF_PUNCTUATION_EXTRA = code_points("166d 111c9")


def _is_bert_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    if ch in _NOT_HF_PUNCTUATION:
        return False
    return ch in _HF_PUNCTUATION_EXTRA or unicodedata.category(ch).startswith("P")


@dataclass(frozen=True)
class WhitespaceSplit:
    """Split on whitespace, dropping it."""

    def split(self, text: str) -> list[str]:
        return [p for p in regex.split(r"[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+", text) if p]

    def describe(self) -> dict[str, Any]:
        return {"type": "WhitespaceSplit"}


@dataclass(frozen=True)
class Metaspace:
    """HF ``Metaspace``: spaces become ``▁``; optional leading ``▁``; optional split before each."""

    replacement: str = SPACE_MARK
    prepend_scheme: Literal["always", "first", "never"] = "always"
    split_words: bool = True

    def split(self, text: str, *, at_start: bool = True) -> list[str]:
        """``at_start`` is False for a segment after an added token: scheme "first" then
        prepends nothing, as HF prepends only at offset 0 of the input."""
        if not text:
            return []
        text = text.replace(" ", self.replacement)
        prepend = self.prepend_scheme == "always" or (self.prepend_scheme == "first" and at_start)
        if prepend and not text.startswith(self.replacement):
            text = self.replacement + text
        if not self.split_words:
            return [text] if text else []
        return _split_before_marks(text, self.replacement)

    def describe(self) -> dict[str, Any]:
        return {"type": "Metaspace", "prepend_scheme": self.prepend_scheme, "split": self.split_words}


def _split_before_marks(text: str, mark: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for i, ch in enumerate(text):
        if ch == mark and i > start:
            pieces.append(text[start:i])
            start = i
    if start < len(text):
        pieces.append(text[start:])
    return pieces


_WORDS_WITH_SPACE_RUNS = regex.compile(f"{SPACE_MARK}+[^{SPACE_MARK}]*|[^{SPACE_MARK}]+")


@dataclass(frozen=True)
class SentencePieceWords:
    """SentencePiece's ``SplitIntoWords`` on escaped text: a new word starts at each ``▁``.

    With ``allow_whitespace_only_pieces`` a run of ``▁`` stays in one word with what follows.
    """

    allow_whitespace_only_pieces: bool = False

    def split(self, text: str) -> list[str]:
        if not self.allow_whitespace_only_pieces:
            return _split_before_marks(text, SPACE_MARK)
        # A piece is a run of marks with the non-marks after it (or the text's non-mark start);
        # one C-level findall, linear in the text (growing a string per character was quadratic).
        return _WORDS_WITH_SPACE_RUNS.findall(text)

    def describe(self) -> dict[str, Any]:
        return {"type": "SentencePieceWords", "allow_whitespace_only_pieces": self.allow_whitespace_only_pieces}


@dataclass(frozen=True)
class NoPreTokenizer:
    """The whole normalized text is one piece (HF files with ``pre_tokenizer: null``)."""

    def split(self, text: str) -> list[str]:
        return [text] if text else []

    def describe(self) -> dict[str, Any]:
        return {"type": None}


@dataclass(frozen=True)
class PreTokenizerSequence:
    steps: tuple[PreTokenizer, ...]

    def split(self, text: str) -> list[str]:
        pieces = [text] if text else []
        for step in self.steps:
            pieces = [sub for piece in pieces for sub in step.split(piece)]
        return pieces

    def describe(self) -> dict[str, Any]:
        return {"type": "Sequence", "steps": [s.describe() for s in self.steps]}
