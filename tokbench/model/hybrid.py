"""The morphology-hybrid model: lexicon segmentation with a byte-level BPE fallback.

A morphology-hybrid tokenizer (after "Tokens with Meaning", Bayram et al. 2025) segments words
with a morpheme lexicon — a greedy longest-match root, then a chain of longest-match affixes —
and spells whatever the lexicon does not cover with a byte-level BPE fallback. It differs from
every other tokbench model in that most of its vocabulary is given, not learned, and in that two
tokens of one morpheme class (Turkish ``lar``/``ler``) share a *morpheme id*. Reading and
writing its file is :mod:`tokbench.formats.hybrid_json`; training it is
:mod:`tokbench.trainers.hybrid`.

Encoding (:class:`HybridEncoder`), text → chunks → tokens:

* the text is cut into letter runs (words), single ``" "``/``"\\n"``/``"\\t"`` characters (each
  its own explicit token), digit runs and runs of anything else (those go to the fallback);
* a capitalised word (first letter upper case, the rest lower case) becomes ``<uppercase>``
  plus the lower-cased word; with ``casing="turkish"`` lower-casing maps ``İ→i`` and ``I→ı``
  (Python's ``str.lower`` would give ``i̇`` and ``i``). Any other mixed or upper-case word
  (``ALLCAPS``, ``McDonald``) goes to the fallback as written, so nothing is lost;
* a word: the longest root that is a prefix, then repeatedly the longest affix that is a prefix
  of the rest; what is left goes to the BPE fallback. A word with no root prefix goes to the
  fallback whole. With ``apostrophe_suffixes`` a word right after ``word'`` (Turkish
  ``İstanbul'da``) is parsed as an affix chain;
* the fallback is byte-level BPE (merge rank order) applied to each leftover string as one
  piece, exactly as it was trained (:func:`tokbench.trainers.hybrid.train_hybrid`).

Shared ids and exact decoding: every *surface form* of the lexicon is its own token id with its
own bytes, so ``decode(encode(x)) == x`` for every text; the lexicon's shared id is kept per
token in :attr:`HybridTokenizer.morpheme_ids` (``-1`` for fallback tokens), and
:attr:`HybridTokenizer.token_classes` says ``root``, ``affix``, ``space``, ``special`` or
``bpe``. Decoding only has to undo ``<uppercase>``, which upper-cases the next character.

No reference library implements this model, so ``Tokenizer.reference`` is ``None`` and
``encode`` always runs this encoder. Special-token strings in the text (``<pad>``) are encoded
as ordinary text, as tiktoken does by default.

Example:
    >>> enc = HybridEncoder(roots={"ev": 2}, affixes={"ler": 3, "lar": 4}, spaces={" ": 1},
    ...                     uppercase_id=0, casing="turkish")
    >>> enc.analyse("Evler evxyz")
    [0, 2, 3, 1, 2, 'xyz']
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import regex

from ..errors import TokenizerFormatError
from .bpe import PairLookup, apply_merges, merge_rank_lookup
from .tokenizer import Tokenizer, check_ids

__all__ = [
    "HybridEncoder",
    "HybridTokenizer",
    "fallback_tables",
    "Casing",
    "TokenClass",
    "TOKEN_CLASSES",
    "UPPERCASE",
    "CHUNK_PATTERN",
    "lower_word",
    "upper_first",
    "capitalised",
]

Casing = Literal["turkish", "unicode"]
TokenClass = Literal["root", "affix", "space", "special", "bpe"]
TOKEN_CLASSES: tuple[str, ...] = ("root", "affix", "space", "special", "bpe")
UPPERCASE = "<uppercase>"
#: Letter runs (with combining marks), single explicit whitespace characters, digit runs, and
#: runs of anything else; every character of the text falls in exactly one chunk.
CHUNK_PATTERN = r"[\p{L}\p{M}]+|[ \n\t]|\p{N}+|[^\p{L}\p{M}\p{N} \n\t]+"
_APOSTROPHES = frozenset("'’")


# ------------------------------------------------------------------------------------ casing


def lower_word(word: str, casing: Casing) -> str:
    """Lower-case ``word``; ``turkish`` maps dotted ``İ→i`` and dotless ``I→ı`` first."""
    if casing == "turkish":
        word = word.replace("İ", "i").replace("I", "ı")
    return word.lower()


def upper_first(text: str, casing: Casing) -> str:
    """``text`` with its first character upper-cased (``turkish``: ``i→İ``, ``ı→I``)."""
    if not text:
        return text
    first = text[0]
    if casing == "turkish" and first in ("i", "ı"):
        upper = "İ" if first == "i" else "I"
    else:
        upper = first.upper()
        if len(upper) != 1:  # "ß".upper() == "SS": never produced by encode; keep as is
            upper = first
    return upper + text[1:]


def capitalised(word: str, casing: Casing) -> str | None:
    """The lower-cased word if ``word`` is "capitalised first letter + lower-case rest" and
    :func:`upper_first` restores it exactly; else ``None``."""
    first, rest = word[0], word[1:]
    low_first = lower_word(first, casing)
    if len(low_first) != 1 or low_first == first or upper_first(low_first, casing) != first:
        return None
    if lower_word(rest, casing) != rest:
        return None
    return low_first + rest


# ----------------------------------------------------------------------------------- encoder


class HybridEncoder:
    """Lexicon segmentation with a byte-level BPE fallback; see the module docstring.

    ``fallback`` is ``(token bytes by local id, merges as local id pairs)``; local id ``j`` is
    token id ``fallback_offset + j``. Without a fallback (``None``), :meth:`analyse` still works:
    the trainer uses it to collect the text the lexicon leaves uncovered.
    """

    def __init__(
        self,
        *,
        roots: dict[str, int],
        affixes: dict[str, int],
        spaces: dict[str, int],
        uppercase_id: int,
        casing: Casing = "unicode",
        apostrophe_suffixes: bool = True,
        fallback: tuple[Sequence[bytes], Sequence[tuple[int, int]]] | None = None,
        fallback_offset: int = 0,
        cache_size: int = 200_000,
        where: Any = None,
    ):
        self.roots = roots
        self.affixes = affixes
        self.spaces = spaces
        self.uppercase_id = uppercase_id
        self.casing: Casing = casing
        self.apostrophe_suffixes = apostrophe_suffixes
        self._max_root = max(map(len, roots), default=0)
        self._max_affix = max(map(len, affixes), default=0)
        self._chunks = regex.compile(CHUNK_PATTERN)
        self.fallback_offset = fallback_offset
        self._fallback = fallback
        if fallback is not None:
            self._byte_ids, self._lookup = fallback_tables(*fallback, where=where)
        self._cache: dict[str, list[int]] = {}
        self._cache_size = cache_size

    # -- segmentation ----------------------------------------------------------------------

    def pieces(self, text: str) -> list[str]:
        """The chunks of ``text``: words, single whitespace characters, digit and other runs."""
        return self._chunks.findall(text)

    def _longest(self, word: str, start: int, table: dict[str, int], longest: int) -> int:
        for end in range(min(len(word), start + longest), start, -1):
            if word[start:end] in table:
                return end
        return start

    def morphs(self, word: str, *, suffix: bool = False) -> list[int | str]:
        """Segment a lower-case word: lexicon token ids, then the uncovered rest as a string.

        Greedy: the longest root prefix (skipped when ``suffix``), then the longest affix
        prefix of the rest, again and again; no backtracking.
        """
        out: list[int | str] = []
        pos = 0
        if not suffix:
            end = self._longest(word, 0, self.roots, self._max_root)
            if end == 0:
                return [word]
            out.append(self.roots[word[:end]])
            pos = end
        while pos < len(word):
            end = self._longest(word, pos, self.affixes, self._max_affix)
            if end == pos:
                out.append(word[pos:])
                break
            out.append(self.affixes[word[pos:end]])
            pos = end
        return out

    def classify(self, text: str) -> list[tuple[str, str, bool]]:
        """Each chunk of ``text`` as ``(chunk, "space" | "word" | "other", parse-as-suffix)``."""
        out: list[tuple[str, str, bool]] = []
        chunks = self.pieces(text)
        for k, chunk in enumerate(chunks):
            if chunk in self.spaces:
                out.append((chunk, "space", False))
            elif chunk[0].isalpha() or _is_mark_run(chunk):
                suffix = (self.apostrophe_suffixes and k >= 2 and chunks[k - 1] in _APOSTROPHES
                          and out[k - 2][1] == "word")
                out.append((chunk, "word", suffix))
            else:
                out.append((chunk, "other", False))
        return out

    def analyse(self, text: str) -> list[int | str]:
        """``text`` as lexicon token ids and uncovered strings (for the BPE fallback)."""
        out: list[int | str] = []
        for chunk, kind, suffix in self.classify(text):
            if kind == "space":
                out.append(self.spaces[chunk])
            elif kind == "word":
                out.extend(self.word(chunk, suffix=suffix))
            else:
                out.append(chunk)
        return out

    def word(self, chunk: str, *, suffix: bool = False) -> list[int | str]:
        low = lower_word(chunk, self.casing)
        if low == chunk:
            return self.morphs(chunk, suffix=suffix)
        cap = capitalised(chunk, self.casing)
        if cap is None:
            return [chunk]  # ALLCAPS / mixed case: spelled by the fallback as written
        return [self.uppercase_id, *self.morphs(cap, suffix=suffix)]

    # -- encoding --------------------------------------------------------------------------

    def fallback_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` spelled by the BPE fallback alone (one piece, no splitting)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        if self._fallback is None:
            raise TokenizerFormatError(None, "this hybrid encoder has no BPE fallback")
        local = apply_merges([self._byte_ids[b] for b in text.encode("utf-8", errors="surrogatepass")],
                             self._lookup)
        ids = [self.fallback_offset + i for i in local]
        if len(self._cache) < self._cache_size:
            self._cache[text] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for item in self.analyse(text):
            if isinstance(item, int):
                ids.append(item)
            else:
                ids.extend(self.fallback_ids(item))
        return ids

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]


def fallback_tables(vocab: Sequence[bytes], merges: Sequence[tuple[int, int]], *,
                    where: Any = None) -> tuple[list[int], PairLookup]:
    """The fallback's local id of each byte and its merge-rank lookup; raises unless the
    fallback is byte-level and every merge makes a token of its vocabulary."""
    to_id: dict[bytes, int] = {}
    for i, tb in enumerate(vocab):
        to_id.setdefault(tb, i)
    missing = [b for b in range(256) if bytes([b]) not in to_id]
    if missing:
        raise TokenizerFormatError(where, f"the BPE fallback lacks {len(missing)} byte tokens "
                                   f"(first 0x{missing[0]:02X}); it must be byte-level")
    merged = []
    for k, (a, b) in enumerate(merges):
        new = to_id.get(vocab[a] + vocab[b])
        if new is None:
            raise TokenizerFormatError(where, f"fallback merge {k} ({a}, {b}) makes a token "
                                       "that is not in the fallback vocabulary")
        merged.append(new)
    return [to_id[bytes([b])] for b in range(256)], merge_rank_lookup(merges, merged_ids=merged)


def _is_mark_run(chunk: str) -> bool:
    """A letter-run chunk may start with a combining mark (after a digit, say)."""
    return unicodedata.category(chunk[0]).startswith("M")


# ------------------------------------------------------------------------------------- model


@dataclass(eq=False, repr=False)  # keep Tokenizer's short repr
class HybridTokenizer(Tokenizer):
    """A :class:`~tokbench.Tokenizer` whose decode undoes ``<uppercase>``; see the module doc.

    ``morpheme_ids[i]`` is the lexicon's (possibly shared) id of token ``i``, ``-1`` for BPE
    fallback tokens; ``token_classes[i]`` is one of :data:`TOKEN_CLASSES`.
    """

    morpheme_ids: tuple[int, ...] = ()
    token_classes: tuple[str, ...] = ()
    casing: Casing = "unicode"
    fallback_offset: int = 0
    uppercase_id: int = -1
    data: dict[str, Any] = field(default_factory=dict, repr=False)

    def decode(self, ids: Sequence[int]) -> str:
        """Exact inverse of ``encode``: token bytes joined, ``<uppercase>`` upper-cases the
        next character. Invalid UTF-8 (ids cut mid-character) becomes U+FFFD."""
        checked = [self._check_id(i) for i in check_ids(ids)]
        parts: list[str] = []
        buffer = bytearray()
        upper_next = False
        for i in checked:
            if i == self.uppercase_id:
                parts.append(self._flush(buffer, upper_next))
                buffer.clear()
                upper_next = True
                continue
            buffer += self.vocab[i]
        parts.append(self._flush(buffer, upper_next))
        return "".join(parts)

    def _flush(self, buffer: bytearray, upper: bool) -> str:
        text = bytes(buffer).decode("utf-8", errors="replace")
        return upper_first(text, self.casing) if upper else text

    def morpheme_of(self, token_id: int) -> int:
        """The lexicon's morpheme id of a token (``-1`` for a BPE fallback token)."""
        return self.morpheme_ids[self._check_id(token_id)]
