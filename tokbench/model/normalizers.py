"""Normalizers: the text stage before pretokenizing, as HF ``tokenizer.json`` lays it out.

Plain-Python twins of HF's normalizers (NFC/NFKC, Lowercase, Prepend, Replace, Strip,
BertNormalizer, Sequence), written so that tokbench's own encoders can run without the
reference library; :mod:`tokbench.model.pretokenizers` is the stage after this one. Each stage
is a small frozen dataclass with a ``describe()`` for ``tokbench info``; parity tests check the
whole pipeline against ``tokenizers`` / ``tiktoken`` / ``sentencepiece`` on real text.

The references read Unicode from tables of other ages than Python's (14.0) and the ``regex``
module's (17.0): older for HF's normalization forms and BERT's categories, Unicode 16 for their
regex engines, 17 for Rust's lowercasing. The differences, found by comparing every code point
(tests/test_native_fuzz.py), are tables here, so that the native pipeline sees characters as
the reference does.

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
    "HF_KEPT_NONSPACING_MARKS",
    "code_point_class",
    "normalize_like_hf",
    "as_references_see_it",
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
    lowered = text.lower() if "\u03a3" not in text else "".join(ch.lower() for ch in text)
    if not _may_hold(lowered, _NEWER_CASED):
        return lowered
    return lowered.translate(_NEWER_LOWERCASE)


@dataclass(frozen=True)
class UnicodeNormalizer:
    """NFC / NFKC / NFD / NFKD."""

    form: Literal["NFC", "NFKC", "NFD", "NFKD"]

    def normalize(self, text: str) -> str:
        return normalize_like_hf(self.form, text)

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
            return self._sub(compiled, text, timeout=regex_timeout(self.pattern, text))
        except TimeoutError:
            raise EncodingError(f"Replace pattern {self.pattern!r} ran over {regex_timeout(self.pattern, text):.1f} s "
                                "on this text: it backtracks catastrophically; fix the normalizer in the "
                                "tokenizer file") from None

    def _sub(self, compiled: regex.Pattern[str], text: str, timeout: float | None) -> str:
        view = as_references_see_it(text)
        if view is text:
            # content is literal text, as in HF: a function keeps "\\1" from being a group reference
            return compiled.sub(lambda _m: self.content, text, timeout=timeout)
        out: list[str] = []
        last = 0
        for m in compiled.finditer(view, timeout=timeout):  # match as Oniguruma would, cut the text
            out += [text[last:m.start()], self.content]
            last = m.end()
        return "".join(out) + text[last:]

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


def code_point_class(ranges: str) -> regex.Pattern[str]:
    """A compiled one-character class of ``"0890-0891 08e2"``-style hex ranges.

    Example:
        >>> bool(code_point_class("0041-005a").match("Q"))
        True
    """
    parts = []
    for part in ranges.split():
        first, _, last = part.partition("-")
        parts.append(f"\\U{int(first, 16):08x}" + (f"-\\U{int(last, 16):08x}" if last else ""))
    return regex.compile("[" + "".join(parts) + "]")


#: Nonspacing marks (Mn) that BERT's accent stripping in ``tokenizers`` keeps: it asks the
#: ``unicode_categories`` crate (tables of an older Unicode than Python's), where these marks do
#: not exist yet. Found by comparing every code point with ``tokenizers``' BertNormalizer.
_KEPT_MARKS = (
    "07fd 0898-089f 08ca-08e1 09fe 0afa-0aff 0b55 0c04 0c3c 0d00 0d3b-0d3c 0d81 0eba 180f 1885-1886 "
    "1abf-1ace 1df6-1dfb a82c a8c5 a8ff a9bd 10d24-10d27 10eab-10eac 10f46-10f50 10f82-10f85 11070 "
    "11073-11074 110c2 111c9 111cf 1123e 1133b 11438-1143f 11442-11444 11446 1145e 1182f-11837 "
    "11839-1183a 1193b-1193c 1193e 11943 119d4-119d7 119da-119db 119e0 11a01-11a0a 11a33-11a38 "
    "11a3b-11a3e 11a47 11a51-11a56 11a59-11a5b 11a8a-11a96 11a98-11a99 11c30-11c36 11c38-11c3d 11c3f "
    "11c92-11ca7 11caa-11cb0 11cb2-11cb3 11cb5-11cb6 11d31-11d36 11d3a 11d3c-11d3d 11d3f-11d45 11d47 "
    "11d90-11d91 11d95 11d97 11ef3-11ef4 16f4f 16fe4 1cf00-1cf2d 1cf30-1cf46 1e000-1e006 1e008-1e018 "
    "1e01b-1e021 1e023-1e024 1e026-1e02a 1e130-1e136 1e2ae 1e2ec-1e2ef 1e944-1e94a"
)
HF_KEPT_NONSPACING_MARKS = code_points(_KEPT_MARKS)


def _hf_nonspacing_mark(ch: str) -> bool:
    """Mn as ``tokenizers`` sees it: U+1734 HANUNOO SIGN PAMUDPOD, a spacing mark since Unicode
    14, is still nonspacing (stripped) there."""
    if ch == "\u1734":
        return True
    return unicodedata.category(ch) == "Mn" and ch not in HF_KEPT_NONSPACING_MARKS


#: Characters ``tokenizers``' NFC/NFD/NFKC/NFKD (the ``unicode-normalization-alignments``
#: tables, older than Python's) does not know: to it they have no decomposition and combining
#: class 0, so they neither decompose, compose nor reorder with their neighbours.
#: Found by comparing every code point (alone, and beside marks of class 1 and 240).
_NORMALIZATION_UNKNOWN_RANGES = (
    "07fd 0898-089f 08ca-08d3 09fe 0c3c 0d3b-0d3c 0eba 1715 1abf-1ace 1df6-1dfa 32ff a7f2-a7f4 a82c "
    "ab69 10781-10785 10787-107b0 107b2-107ba 10d24-10d27 10eab-10eac 10f46-10f50 10f82-10f85 11070 "
    "1133b 1145e 11839-1183a 11938 1193d-1193e 11943 119e0 11a34 11a47 11a99 11d42 11d44-11d45 11d97 "
    "16ff0-16ff1 1e130-1e136 1e2ae 1e2ec-1e2ef 1f16c 1fbf0-1fbf9"
)
_NORMALIZATION_UNKNOWN = code_point_class(_NORMALIZATION_UNKNOWN_RANGES)
_NORMALIZATION_UNKNOWN_SET = code_points(_NORMALIZATION_UNKNOWN_RANGES)

#: Case pairs Rust's ``char::to_lowercase`` (and so ``tokenizers``' Lowercase) knows and Python's
#: Unicode tables do not yet: upper → lower, applied after ``str.lower()``.
_NEWER_LOWERCASE = {0x1C89: 0x1C8A, 0xA7CB: 0x0264, 0xA7CC: 0xA7CD, 0xA7CE: 0xA7CF, 0xA7D2: 0xA7D3,
                    0xA7D4: 0xA7D5, 0xA7DA: 0xA7DB, 0xA7DC: 0x019B,
                    **{c: c + 0x20 for c in range(0x10D50, 0x10D66)},
                    **{c: c + 0x1B for c in range(0x16EA0, 0x16EB9)}}
_NEWER_CASED = frozenset(map(chr, _NEWER_LOWERCASE))


#: Characters new in Unicode 17, which Python's ``regex`` module knows (letters, digits, marks,
#: symbols) and the references' engines do not: Oniguruma (``tokenizers``' Split) and
#: fancy-regex (``tiktoken``) use Unicode 16 tables, where they are unassigned (Cn). Found by
#: comparing ``\\p{Cn}`` over every code point with ``tokenizers``.
_NEWER_RANGES = (
    "0558 058b-058c 05c8-05c9 088f 0b53-0b54 0c5c 0cdc 1acf-1af0 208f 209d-209f 20c1-20c4 2b96 "
    "2e60-2e63 a7ce-a7cf a7d2 a7d4 a7dd a7e2 a7f1 ab6c-ab6d fbc3-fbd2 fd90-fd91 fdc8-fdce 107bb-107bf "
    "10940-10959 10ec5-10ec7 10ec9-10eee 10ef0-10efb 11b0a 11b60-11b67 11db0-11ddb 11de0-11de9 "
    "11df0-11df1 1246f 12475-1247f 12550-12686 16ea0-16eb8 16ebb-16ed3 16ff2-16ff6 187f8-187ff "
    "18cd6-18cda 18d09-18d20 18d80-18df2 18e00-19191 191a0-191d2 1b123-1b128 1b168 1ccfa-1ccfc "
    "1ceba-1ced0 1ced2-1ced4 1cedd-1cefd 1d127-1d128 1d1eb-1d1ff 1d250-1d281 1d6a6 1db00-1db1c "
    "1df1f-1df24 1df2b-1df81 1df90-1df96 1dfcd-1dfff 1e6c0-1e6de 1e6e0-1e6f5 1e6fe-1e6ff 1f1ae "
    "1f6d8-1f6d9 1f777-1f77a 1f7da-1f7db 1f7f1-1f7ff 1f8d0-1f8d8 1fa54-1fa57 1fa8a-1fa8e 1fac8 "
    "1facc-1facd 1fadd 1faea-1faeb 1faef 1faf9-1fafa 1fbfa 2b73a-2b73f 2b81e 2cea2-2cead "
    "323b0-33479 3d000-3fc3f"
)
_NEWER_THAN_REFERENCES = code_point_class(_NEWER_RANGES)
_NEWER_SET = code_points(_NEWER_RANGES)
#: The printable screen of :func:`_may_hold` is sound while Python's tables predate them all.
_NEWER_UNKNOWN_TO_PYTHON = not any(ch.isprintable() for ch in _NEWER_SET | _NEWER_CASED)
#: Unassigned in every Unicode version so far: what those characters are to the references.
_UNASSIGNED_STAND_IN = "\u0378"


def _may_hold(text: str, chars: frozenset[str]) -> bool:
    """Whether ``text`` may hold one of ``chars`` (characters newer than Python's own Unicode
    tables), screened at C speed: such a character is unassigned to Python, hence not printable,
    so a printable text (once its usual line breaks and tabs are set aside) holds none."""
    if text.isascii():
        return False
    if _NEWER_UNKNOWN_TO_PYTHON and (
        text.isprintable() or text.replace("\n", " ").replace("\r", " ").replace("\t", " ").isprintable()
    ):
        return False
    return not chars.isdisjoint(text)


def as_references_see_it(text: str) -> str:
    """``text`` with each character the references' regex engines do not know (Unicode 17
    additions) replaced by an unassigned one, so that a ``regex`` match classifies it as they do;
    same length, so match offsets carry over to ``text``.

    Example:
        >>> as_references_see_it("a\\U0001E6C0b")   # TAI YO LETTER, new in Unicode 17
        'a\\u0378b'
    """
    if not _may_hold(text, _NEWER_SET):
        return text
    return _NEWER_THAN_REFERENCES.sub(_UNASSIGNED_STAND_IN, text)


def normalize_like_hf(form: Literal["NFC", "NFD", "NFKC", "NFKD"], text: str) -> str:
    """``unicodedata.normalize`` as ``tokenizers`` does it: characters its tables do not know are
    left alone and cut the text, each side normalized on its own.

    Example:
        >>> normalize_like_hf("NFKC", "\u32ff \ufb01")   # SQUARE ERA NAME REIWA is newer than HF's tables
        '\u32ff fi'
    """
    # Text normalized by Python's (newer) tables is by HF's too: normalization is stable, and
    # HF only lacks decompositions and combining classes that Python has.
    if text.isascii() or unicodedata.is_normalized(form, text):
        return text
    if _NORMALIZATION_UNKNOWN_SET.isdisjoint(text):
        return unicodedata.normalize(form, text)
    parts = _NORMALIZATION_UNKNOWN.split(text)
    # split keeps no separators: put each unknown character back between the normalized parts
    unknown = _NORMALIZATION_UNKNOWN.findall(text)
    out = [unicodedata.normalize(form, parts[0])]
    for ch, part in zip(unknown, parts[1:], strict=True):
        out.append(ch)
        out.append(unicodedata.normalize(form, part))
    return "".join(out)


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
            text = "".join(ch for ch in normalize_like_hf("NFD", text) if not _hf_nonspacing_mark(ch))
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
