"""A compiled splitter for the GPT-style pretokenizer patterns (GPT-2, r50k/p50k, cl100k,
Llama 3 / OLMo 2, Qwen2), exact to the ``regex`` module as the native pipeline runs it.

Splitting text with the ``regex`` module costs about as much as tiktoken's whole encode (0.22 s
against 0.26 s on 3.9 MB of FLORES and code), so no encoder that splits in Python can match
tiktoken. No library exposes a fast splitter for these patterns to Python: HF ``tokenizers``'
``Split`` pre-tokenizer runs them in Rust but returns a Python tuple per piece (0.55 s on the same
text, slower than ``regex``), and tiktoken splits internally without exposing the pieces. So this
package recognises the published patterns by their exact text and runs each as a hand-written
alternation in numba (:mod:`._kernels`) over UTF-8 bytes. The character classes (``\\p{L}``,
``\\p{N}``, ``\\s``, case folding) are read from the ``regex`` module itself, with the characters
that the reference libraries' older Unicode lacks left unassigned, as
:class:`~tokbench.model.pretokenizers.RegexSplit` treats them. Any other pattern (o200k's case
classes, a user's regex) gets ``None`` from :func:`compiled_split` and keeps running through
``regex``. The readable twin is the pattern itself: tests compare the two on all of FLORES, real
code and random strings.

Example:
    >>> from tokbench.model.patterns import GPT2_PATTERN
    >>> compiled_split(GPT2_PATTERN).split("Hello world's  end")
    ['Hello', ' world', "'s", ' ', ' end']
    >>> compiled_split(r"\\w+") is None
    True
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..patterns import GPT2_PATTERN, PATTERNS
from . import _kernels as K

__all__ = ["CompiledSplit", "compiled_split", "plain_pattern_split", "class_table", "case_fold_table",
           "COMPILED_PATTERNS"]

_LLAMA3 = PATTERNS["llama3"].regex
_CL100K = PATTERNS["cl100k"].regex
_R50K = PATTERNS["r50k"].regex


def _params(contraction: int, letter_prefix: int, numbers: int, punct_newlines: int,
            space_to_end: int, space_newline: int, last_space: int) -> tuple[int, ...]:
    return (contraction, letter_prefix, numbers, punct_newlines, space_to_end, space_newline, last_space)


#: Pattern text -> the alternatives it is made of (see the ``P_*`` indices in :mod:`._kernels`).
#: Possessive and greedy spellings of a quantifier are the same pattern here: no alternative can
#: give back what it took and still match, so oniguruma's spelling shares the entry.
COMPILED_PATTERNS: dict[str, tuple[int, ...]] = {
    GPT2_PATTERN: _params(1, 0, 0, 0, 0, 0, 0),
    _R50K: _params(1, 0, 0, 0, 1, 0, 1),
    _CL100K: _params(2, 1, 3, 1, 1, 1, 1),
    _CL100K.replace(r"\p{N}{1,3}+", r"\p{N}{1,3}"): _params(2, 1, 3, 1, 1, 1, 1),
    _LLAMA3: _params(2, 1, 3, 1, 0, 1, 0),
    _LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}"): _params(2, 1, 1, 1, 0, 1, 0),  # Qwen2
}


@lru_cache(maxsize=1)
def class_table() -> np.ndarray:
    """One byte per code point: the ``LETTER``/``NUMBER``/``SPACE``/``NEWLINE`` bits, as the
    reference libraries' regex engines classify it: the ``regex`` module's classes, except that
    characters new in a Unicode version they do not have yet are unassigned
    (:func:`~tokbench.model.normalizers.as_references_see_it`). About 0.15 s, once per process."""
    import regex

    from ..normalizers import as_references_see_it

    every = as_references_see_it("".join(map(chr, range(0x110000))))
    table = np.zeros(0x110000, dtype=np.uint8)
    for pattern, bit in ((r"\p{L}", K.LETTER), (r"\p{N}", K.NUMBER), (r"\s", K.SPACE), (r"[\r\n]", K.NEWLINE)):
        hits = np.fromiter((m.start() for m in regex.finditer(pattern, every)), dtype=np.int64)
        table[hits] |= bit
    return table


@lru_cache(maxsize=1)
def case_fold_table() -> np.ndarray:
    """For code points below U+0180: the contraction letter (s d m t l v e r) each matches under
    ``regex``'s case-insensitive matching, or -1 (``S`` and ``ſ`` both match ``s``). No code point
    above U+017F matches one of these letters; a test checks it."""
    import regex

    fold = np.full(0x180, -1, dtype=np.int16)
    for letter in "sdmtlver":
        matcher = regex.compile(f"(?i:{letter})")
        for cp in range(0x180):
            if matcher.fullmatch(chr(cp)):
                fold[cp] = ord(letter)
    return fold


class CompiledSplit:
    """Splits text as its pattern does (``regex.findall``; every position of these patterns
    matches, so there are no gaps), in numba."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self.params = np.asarray(COMPILED_PATTERNS[pattern], dtype=np.int64)
        self.table = class_table()
        self.fold = case_fold_table()
        self._bounds = np.empty(1024, dtype=np.int64)

    def byte_bounds(self, data: np.ndarray) -> np.ndarray:
        """Piece boundaries of one UTF-8 text, as byte offsets (a fresh array)."""
        if self._bounds.shape[0] < data.shape[0] + 1:
            self._bounds = np.empty(2 * data.shape[0] + 1, dtype=np.int64)
        n = K.split_bytes(data, self.table, self.fold, self.params, self._bounds)
        return self._bounds[: n + 1].copy()

    def split_batch(self, data: np.ndarray, text_offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split texts stored back to back in ``data`` (text t is
        ``data[text_offsets[t]:text_offsets[t + 1]]``). Returns the piece boundaries (absolute
        byte offsets) and, per text, the index of its first piece (text t has pieces
        ``first[t]..first[t + 1] - 1``; piece j is ``data[bounds[j]:bounds[j + 1]]``)."""
        bounds = np.empty(data.shape[0] + 1, dtype=np.int64)
        first = np.empty(text_offsets.shape[0], dtype=np.int64)
        n = K.split_batch(data, text_offsets, self.table, self.fold, self.params, bounds, first)
        return bounds[: n + 1], first

    def split(self, text: str) -> list[str]:
        """The pieces of ``text``, as ``regex.findall(pattern, text)`` gives them."""
        raw = text.encode("utf-8")
        data = np.frombuffer(raw, dtype=np.uint8)
        bounds = self.byte_bounds(data)
        if len(raw) != len(text):  # byte offsets -> character offsets
            starts = np.zeros(len(raw) + 1, dtype=np.int64)
            np.cumsum((data & 0xC0) != 0x80, out=starts[1:])
            bounds = starts[bounds]
        cut = bounds.tolist()
        return [text[a:b] for a, b in zip(cut, cut[1:], strict=False)]


@lru_cache(maxsize=64)
def compiled_split(pattern: str) -> CompiledSplit | None:
    """The compiled splitter for ``pattern``, or ``None`` when it is not one of
    :data:`COMPILED_PATTERNS` (the caller then uses ``regex``)."""
    if pattern not in COMPILED_PATTERNS:
        return None
    return CompiledSplit(pattern)


def plain_pattern_split(pretokenizer: object) -> str | None:
    """The pattern when ``pretokenizer`` does nothing but split by one compiled pattern (a
    ``Split`` that keeps matches, alone or followed by steps that pass pieces through), else None.

    Example:
        >>> from tokbench.model.pretokenizers import gpt2_split
        >>> plain_pattern_split(gpt2_split()) == GPT2_PATTERN
        True
    """
    describe = getattr(pretokenizer, "describe", None)
    if describe is None:
        return None
    spec = describe()
    steps = spec.get("steps", [spec]) if spec.get("type") == "Sequence" else [spec]
    if not steps or any(step.get("type") is not None for step in steps[1:]):
        return None
    split = steps[0]
    keeps_matches = split.get("behavior") == "isolated" and not split.get("invert") or (
        split.get("behavior") == "removed" and split.get("invert"))
    if split.get("type") != "Split" or not keeps_matches or split.get("pattern") not in COMPILED_PATTERNS:
        return None
    return str(split["pattern"])
