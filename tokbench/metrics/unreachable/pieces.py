"""Proofs that a normalizer or split pattern never yields a token's bytes inside one piece.

Two necessary conditions for a byte-level BPE token to be produced are checked here; when one
fails, the token is proven ``unreachable_pretokenizer``:

1. *Normalizer.* With NFC (or NFKC) the model only ever sees normalized text. A character that
   normalization always replaces (``NFC(c) != c``, e.g. U+212B ANGSTROM SIGN, CJK compatibility
   ideographs) never occurs in its output; nor does an adjacent pair ``c1 c2`` of stable
   characters that normalization changes: either ``c2`` composes with the starter ``c1`` (an
   adjacent combining mark is never blocked) or the two marks are out of canonical order.
2. *Split pattern.* Every piece is a match of the pattern, so it fully matches one top-level
   alternative. Relaxing an alternative (possessive quantifiers made greedy, lookarounds dropped)
   only admits more strings, so if the token's characters are not a *factor* of any relaxed
   alternative's language, no piece contains them. Each alternative of the shipped patterns
   (GPT-2, r50k, cl100k, OLMo 2, Qwen 2, GPT-NeoX) is a literal of at most three characters, or
   a sequence ``P? R+ C*`` of an optional one-character class and class runs (``\\p{N}{1,3}``
   included); a factor's left context can then be cut to at most one character, and a right
   context exists iff the ``regex`` module's partial full match succeeds. Since the patterns only
   test the classes ``\\s \\p{L} \\p{N} \\r \\n``, the space, the apostrophe and the letters of
   the contractions, one representative character per combination of those classes is enough
   for the left context and for a partial character at either end of the token. Patterns using
   any other construct are not decided here (the token stays ``unresolved``).

Example:
    >>> proof = PatternProof(r"'s| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+")
    >>> proof.never_in_one_piece("a1", "", "")
    True
    >>> proof.never_in_one_piece(" a", "", "")
    False
"""

from __future__ import annotations

import itertools
import sys
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import regex

from .utf8 import prefix_completions, suffix_completions

__all__ = ["PatternProof", "normalizer_problem", "edge_normalizer_problem", "normalization_form", "split_patterns"]

#: The character classes the shipped split patterns test (see the module docstring).
_PROBES: tuple[str, ...] = (r"\s", r"\p{L}", r"\p{N}", r"\r", r"\n", " ", "'",
                            *"sdmtlvre", *(f"(?i:{c})" for c in "sdmtlvre"))
_KNOWN_ATOMS = (r"\p{L}", r"\p{N}", r"\s", r"\S", r"\r", r"\n", "(?i:", "(?:", "(?!", "(?=")
_SYNTAX = set("$'sdmtlvre ()|?+*{}[]^,0123456789")


@lru_cache(maxsize=1)
def _signatures() -> tuple[bytearray, dict[int, str]]:
    """Class signature id of every code point, and one representative per signature."""
    text = "".join(chr(c) if not 0xD800 <= c < 0xE000 else "\x00" for c in range(sys.maxunicode + 1))
    bits = [0] * (sys.maxunicode + 1)
    for k, probe in enumerate(_PROBES):
        for m in regex.finditer(probe, text):
            bits[m.start()] |= 1 << k
    ids: dict[int, int] = {}
    reps: dict[int, str] = {}
    sig = bytearray(sys.maxunicode + 1)
    for c, b in enumerate(bits):
        if 0xD800 <= c < 0xE000:
            continue
        sid = ids.setdefault(b, len(ids))
        sig[c] = sid
        # Prefer an assigned character as the representative (it reads better in a reason).
        if sid not in reps or (unicodedata.category(reps[sid]) == "Cn" and unicodedata.category(chr(c)) != "Cn"):
            reps[sid] = chr(c)
    return sig, reps


def _edge_reps(chars: Iterable[str]) -> list[str]:
    sig, reps = _signatures()
    return [reps[s] for s in sorted({sig[ord(c)] for c in chars})]


def _relax(alternative: str) -> str:
    out = regex.sub(r"\(\?[!=](?:[^()\\]|\\.)*\)", "", alternative)
    out = out.replace("$", "")  # an end anchor only restricts where a match may stop
    return regex.sub(r"(?<=(?:[+*?]|\{\d+(?:,\d*)?\}))\+", "", out)


def _top_level_alternatives(pattern: str) -> list[str]:
    parts, depth, in_class, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


class PatternProof:
    """Decide whether a split pattern can ever put given characters inside one piece."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        rest = pattern
        for atom in _KNOWN_ATOMS:
            rest = rest.replace(atom, "")
        #: Whether this pattern uses only the constructs the module docstring's argument covers.
        self.decidable = set(rest.replace("\\", "")) <= _SYNTAX | set("SDMTLVRE")
        self.alternatives = [regex.compile(_relax(a)) for a in _top_level_alternatives(pattern)]
        _, reps = _signatures()
        self.left_contexts = ["", *reps.values()]
        # Characters no alternative matches would form gap pieces; the argument then does not hold.
        self.decidable = self.decidable and all(
            any(a.fullmatch(c, partial=True) for a in self.alternatives) for c in reps.values())

    def can_contain(self, text: str) -> bool:
        """Some relaxed alternative matches ``x + text + y`` for some strings x, y."""
        return any(a.fullmatch(x + text, partial=True) is not None
                   for a in self.alternatives for x in self.left_contexts)

    def never_in_one_piece(self, body: str, head: bytes, tail: bytes) -> bool:
        """True when proven: no piece contains ``head + body + tail`` (head/tail: partial characters).

        False means "not proven" (it may still be impossible for other reasons).
        """
        if not self.decidable:
            return False
        heads = _edge_reps(suffix_completions(head)) if head else [""]
        tails = _edge_reps(prefix_completions(tail)) if tail else [""]
        return not any(self.can_contain(h + body + t) for h, t in itertools.product(heads, tails))


def normalization_form(description: Any) -> str | None:
    """``"NFC"``/``"NFKC"``/... if a normalizer description contains that Unicode normalization."""
    if isinstance(description, dict):
        if description.get("type") in ("NFC", "NFKC", "NFD", "NFKD"):
            return description["type"]
        description = list(description.values())
    if isinstance(description, list | tuple):
        for item in description:
            form = normalization_form(item)
            if form:
                return form
    return None


def normalizer_problem(body: str, form: str | None) -> str | None:
    """Why ``form`` normalization never outputs ``body`` (whole characters), or None."""
    if form not in ("NFC", "NFKC"):
        return None
    for c in body:
        if unicodedata.normalize(form, c) != c:
            return f"{form} always replaces U+{ord(c):04X} ({unicodedata.name(c, '?')})"
    for a, b in itertools.pairwise(body):
        if unicodedata.normalize(form, a + b) != a + b:
            return f"{form} never leaves U+{ord(a):04X} U+{ord(b):04X} side by side (composes or reorders them)"
    return None


def edge_normalizer_problem(head: bytes, tail: bytes, form: str | None) -> str | None:
    """Why ``form`` never outputs a character that a token's partial edge (``head``: its last
    bytes, ``tail``: its first bytes) could belong to, or None."""
    if form not in ("NFC", "NFKC"):
        return None
    for what, chars in (("ends", suffix_completions(head) if head else None),
                        ("starts", prefix_completions(tail) if tail else None)):
        if chars is None:
            continue
        stable = next((c for c in chars if unicodedata.normalize(form, c) == c), None)
        if stable is None:
            part = (head if what == "ends" else tail).hex(" ").upper()
            return f"{form} replaces every character whose UTF-8 {what} with {part}"
    return None


def split_patterns(description: Any) -> list[str]:
    """The regex patterns of the Split steps in a pretokenizer description."""
    found: list[str] = []
    if isinstance(description, dict):
        if description.get("type") == "Split" and isinstance(description.get("pattern"), str):
            found.append(description["pattern"])
        for value in description.values():
            if isinstance(value, list | dict):
                found.extend(split_patterns(value))
    elif isinstance(description, list):
        for item in description:
            found.extend(split_patterns(item))
    return found
