"""Normalizers: the text stage before pretokenizing, as HF ``tokenizer.json`` lays it out.

Plain-Python twins of HF's normalizers (NFC/NFKC, Lowercase, Prepend, Replace, Strip,
BertNormalizer, Sequence), written so that tokbench's own encoders can run without the
reference library; :mod:`tokbench.model.pretokenizers` is the stage after this one. Each stage
is a small frozen dataclass with a ``describe()`` for ``tokbench info``; parity tests check the
whole pipeline against ``tokenizers`` / ``tiktoken`` / ``sentencepiece`` on real text.

Example:
    >>> Sequence((Prepend("▁"), Replace(" ", "▁"))).normalize("a b")
    '▁a▁b'
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import regex

from ..errors import EncodingError
from .patterns import regex_timeout

__all__ = [
    "WHITE_SPACE",
    "Normalizer",
    "lowercase_like_hf",
    "UnicodeNormalizer",
    "Lowercase",
    "Prepend",
    "Replace",
    "Strip",
    "BertNormalizer",
    "bert_drops",
    "code_points",
    "HF_KEPT_FORMAT_CHARS",
    "Sequence",
]

# Unicode White_Space, the definition Rust's `char::is_whitespace` (and so HF) uses; Python's
# str.isspace() also accepts U+001C..U+001F, which would split words HF keeps whole.
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


class Normalizer(Protocol):
    def normalize(self, text: str) -> str: ...

    def describe(self) -> dict[str, Any]: ...


# --------------------------------------------------------------------------------- normalizers


def lowercase_like_hf(text: str) -> str:
    """Lowercase character by character, as HF does: ``str.lower()`` turns a word-final ``Σ``
    into ``ς`` (context-sensitive), HF's per-character mapping into ``σ``."""
    if "\u03a3" not in text:
        return text.lower()
    return "".join(ch.lower() for ch in text)


@dataclass(frozen=True)
class UnicodeNormalizer:
    """NFC / NFKC / NFD / NFKD."""

    form: Literal["NFC", "NFKC", "NFD", "NFKD"]

    def normalize(self, text: str) -> str:
        return unicodedata.normalize(self.form, text)

    def describe(self) -> dict[str, Any]:
        return {"type": self.form}


@dataclass(frozen=True)
class Lowercase:
    def normalize(self, text: str) -> str:
        return lowercase_like_hf(text)

    def describe(self) -> dict[str, Any]:
        return {"type": "Lowercase"}


@dataclass(frozen=True)
class Prepend:
    prefix: str

    def normalize(self, text: str) -> str:
        # HF prepends only to non-empty text.
        return self.prefix + text if text else text

    def describe(self) -> dict[str, Any]:
        return {"type": "Prepend", "prepend": self.prefix}


@dataclass(frozen=True)
class Replace:
    pattern: str
    content: str
    is_regex: bool = False

    def normalize(self, text: str) -> str:
        if not self.is_regex:
            return text.replace(self.pattern, self.content)
        try:
            compiled = regex.compile(self.pattern)
        except (regex.error, RecursionError, OverflowError) as err:
            raise EncodingError(f"Replace pattern {self.pattern!r} is not a valid regex ({err}); fix the "
                                "normalizer in the tokenizer file") from None
        try:
            # content is literal text, as in HF: a function keeps "\\1" from being a group reference
            return compiled.sub(lambda _m: self.content, text, timeout=regex_timeout(self.pattern, text))
        except TimeoutError:
            raise EncodingError(f"Replace pattern {self.pattern!r} ran over {regex_timeout(self.pattern, text):.1f} s "
                                "on this text: it backtracks catastrophically; fix the normalizer in the "
                                "tokenizer file") from None

    def describe(self) -> dict[str, Any]:
        return {"type": "Replace", "pattern": self.pattern, "content": self.content}


@dataclass(frozen=True)
class Strip:
    left: bool = True
    right: bool = True

    def normalize(self, text: str) -> str:
        if self.left:
            text = text.lstrip("".join(WHITE_SPACE))
        if self.right:
            text = text.rstrip("".join(WHITE_SPACE))
        return text

    def describe(self) -> dict[str, Any]:
        return {"type": "Strip", "left": self.left, "right": self.right}


def _is_chinese_char(cp: int) -> bool:
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B920 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def code_points(ranges: str) -> frozenset[str]:
    """Characters from ``"0890-0891 08e2"``-style hex ranges."""
    out: set[str] = set()
    for part in ranges.split():
        first, _, last = part.partition("-")
        out.update(chr(c) for c in range(int(first, 16), int(last or first, 16) + 1))
    return frozenset(out)


#: Format characters (Cf) that ``tokenizers`` keeps: its BertNormalizer drops "other" characters
#: by the tables of the ``unicode_categories`` crate (Cc, Cf and Co only, of an older Unicode),
#: which predate these; unassigned (Cn) and noncharacters are kept too and become [UNK].
#: Checked over every code point against ``tokenizers`` by tests/test_bad_input_files.py.
HF_KEPT_FORMAT_CHARS = code_points("0890-0891 08e2 110cd 13430-13438")


def bert_drops(ch: str) -> bool:
    """True for a character BERT's ``clean_text`` removes, as ``tokenizers`` decides it."""
    if ch in "\t\n\r":
        return False
    return ch in "\x00\ufffd" or (unicodedata.category(ch) in ("Cc", "Cf", "Co") and ch not in HF_KEPT_FORMAT_CHARS)


@dataclass(frozen=True)
class BertNormalizer:
    """BERT's cleaning, CJK spacing, accent stripping and lowercasing, in HF's order."""

    clean_text: bool = True
    handle_chinese_chars: bool = True
    strip_accents: bool | None = None
    lowercase: bool = True

    def normalize(self, text: str) -> str:
        if self.clean_text:
            out = []
            for ch in text:
                # HF drops control characters before mapping whitespace, so VT, FF and NEL
                # (control characters that are also White_Space) disappear.
                if bert_drops(ch):
                    continue
                out.append(" " if ch in WHITE_SPACE else ch)
            text = "".join(out)
        if self.handle_chinese_chars:
            text = "".join(f" {ch} " if _is_chinese_char(ord(ch)) else ch for ch in text)
        strip = self.lowercase if self.strip_accents is None else self.strip_accents
        if strip:
            text = "".join(
                ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
            )
        if self.lowercase:
            text = lowercase_like_hf(text)
        return text

    def describe(self) -> dict[str, Any]:
        return {
            "type": "BertNormalizer",
            "clean_text": self.clean_text,
            "handle_chinese_chars": self.handle_chinese_chars,
            "strip_accents": self.strip_accents,
            "lowercase": self.lowercase,
        }


@dataclass(frozen=True)
class Sequence:
    steps: tuple[Normalizer, ...]

    def normalize(self, text: str) -> str:
        for step in self.steps:
            text = step.normalize(text)
        return text

    def describe(self) -> dict[str, Any]:
        return {"type": "Sequence", "steps": [s.describe() for s in self.steps]}
