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

import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

import regex

from .normalizers import WHITE_SPACE
from .patterns import GPT2_PATTERN

__all__ = [
    "PreTokenizer",
    "SplitBehavior",
    "RegexSplit",
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
    return regex.compile(pattern)


def _spans(pattern: regex.Pattern[str], text: str) -> list[tuple[int, int, bool]]:
    """Cover ``text`` with (start, end, is_match) spans, gaps included."""
    spans: list[tuple[int, int, bool]] = []
    last = 0
    for m in pattern.finditer(text):
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
    """Split by a regex with HF ``Split`` semantics (default: keep matches and gaps, isolated)."""

    pattern: str
    behavior: SplitBehavior = "isolated"
    invert: bool = False

    def split(self, text: str) -> list[str]:
        pattern = _compile(self.pattern)
        if self.behavior == "isolated" or (self.behavior == "removed" and self.invert):
            # Fast path: findall runs in C; with "isolated" it is exact when matches cover the
            # text (true of every GPT-style pattern), which the length check confirms.
            matches = pattern.findall(text)
            if self.behavior == "removed" or sum(map(len, matches)) == len(text):
                return [m for m in matches if m] if "" in matches else matches
        spans = _spans(pattern, text)
        if self.invert:
            spans = [(s, e, not m) for s, e, m in spans]
        pieces: list[str] = []
        if self.behavior == "isolated":
            return [text[s:e] for s, e, _ in spans]
        if self.behavior == "removed":
            return [text[s:e] for s, e, m in spans if not m]
        if self.behavior == "contiguous":
            # HF merges neighbouring spans that carry the same flag (after inversion).
            last_match = None
            for s, e, m in spans:
                if m and last_match is True or (self.invert and not m and last_match is False):
                    pieces[-1] += text[s:e]
                else:
                    pieces.append(text[s:e])
                last_match = m
            return pieces
        if self.behavior == "merged_with_previous":
            previous_match = False
            for s, e, m in spans:
                if m and pieces and not previous_match:
                    pieces[-1] += text[s:e]
                else:
                    pieces.append(text[s:e])
                previous_match = m
            return pieces
        # merged_with_next
        carry = ""
        for s, e, m in spans:
            if m:
                if carry:
                    pieces.append(carry)
                carry = text[s:e]
            else:
                pieces.append(carry + text[s:e])
                carry = ""
        if carry:
            pieces.append(carry)
        return pieces

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


def _is_bert_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


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


@dataclass(frozen=True)
class SentencePieceWords:
    """SentencePiece's ``SplitIntoWords`` on escaped text: a new word starts at each ``▁``.

    With ``allow_whitespace_only_pieces`` a run of ``▁`` stays in one word with what follows.
    """

    allow_whitespace_only_pieces: bool = False

    def split(self, text: str) -> list[str]:
        if not self.allow_whitespace_only_pieces:
            return _split_before_marks(text, SPACE_MARK)
        pieces: list[str] = []
        in_space_run = False
        for i, ch in enumerate(text):
            is_space = ch == SPACE_MARK
            if i == 0 or (is_space and not in_space_run):
                pieces.append("")
                in_space_run = True
            if in_space_run and not is_space:
                in_space_run = False
            pieces[-1] += ch
        return pieces

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
