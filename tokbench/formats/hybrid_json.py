"""Morphology-hybrid tokenizers: the encoder, the model and tokbench's own ``hybrid`` JSON file.

A morphology-hybrid tokenizer (after "Tokens with Meaning", Bayram et al. 2025) segments words
with a morpheme lexicon — a greedy longest-match root, then a chain of longest-match affixes —
and spells whatever the lexicon does not cover with a byte-level BPE fallback. It differs from
every other tokbench model in that most of its vocabulary is given, not learned, and in that two
tokens of one morpheme class (Turkish ``lar``/``ler``) share a *morpheme id*.

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

File (``tokbench-hybrid`` format)::

    {"tokbench_format": "hybrid", "version": 1, "name": ..., "casing": "turkish",
     "apostrophe_suffixes": true, "lexicon": {...provenance...},
     "tokens": [[surface, class, morpheme_id], ...],          # ids 0 .. n-1
     "fallback": {"vocab": [byte-level strings], "merges": [[a, b], ...]}}  # ids n ..

Example:
    >>> data = hybrid_data(tokens=[("<uppercase>", "special", 0), (" ", "space", 1),
    ...                            ("ev", "root", 2), ("ler", "affix", 3), ("lar", "affix", 3)],
    ...                    fallback_vocab=[bytes([b]) for b in range(256)], fallback_merges=[])
    >>> tok = tokenizer_from_hybrid_data(data, name="demo")
    >>> [tok.vocab[i] for i in tok.encode("Evler")]
    [b'<uppercase>', b'ev', b'ler']
    >>> tok.decode(tok.encode("Evler evlar")), tok.morpheme_ids[3] == tok.morpheme_ids[4]
    ('Evler evlar', True)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import TokenizerFormatError
from ..model.tokenizer import Tokenizer

__all__ = [
    "HybridEncoder",
    "HybridTokenizer",
    "Casing",
    "TOKEN_CLASSES",
    "hybrid_data",
    "tokenizer_from_hybrid_data",
    "load_hybrid_json",
    "lower_word",
    "upper_first",
]

Casing = Literal["turkish", "unicode"]
TokenClass = Literal["root", "affix", "space", "special", "bpe"]
TOKEN_CLASSES: tuple[str, ...] = ("root", "affix", "space", "special", "bpe")
UPPERCASE = "<uppercase>"
FORMAT_VERSION = 1
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
        import regex

        from ..model.bpe import merge_rank_lookup

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
            vocab, merges = fallback
            to_id: dict[bytes, int] = {}
            for i, tb in enumerate(vocab):
                to_id.setdefault(tb, i)
            missing = [b for b in range(256) if bytes([b]) not in to_id]
            if missing:
                raise TokenizerFormatError(where, f"the BPE fallback lacks {len(missing)} byte tokens "
                                           f"(first 0x{missing[0]:02X}); it must be byte-level")
            self._byte_ids = [to_id[bytes([b])] for b in range(256)]
            merged = []
            for k, (a, b) in enumerate(merges):
                new = to_id.get(vocab[a] + vocab[b])
                if new is None:
                    raise TokenizerFormatError(where, f"fallback merge {k} ({a}, {b}) makes a token "
                                               "that is not in the fallback vocabulary")
                merged.append(new)
            self._lookup = merge_rank_lookup(merges, merged_ids=merged)
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
        from ..model.bpe import apply_merges

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


def _is_mark_run(chunk: str) -> bool:
    """A letter-run chunk may start with a combining mark (after a digit, say)."""
    import unicodedata

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
        checked = [self._check_id(i) for i in ids]
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


# ------------------------------------------------------------------------------ file <-> model


def hybrid_data(
    *,
    tokens: Sequence[tuple[str, str, int]],
    fallback_vocab: Sequence[bytes],
    fallback_merges: Sequence[tuple[int, int]],
    casing: Casing = "unicode",
    apostrophe_suffixes: bool = True,
    name: str = "hybrid",
    lexicon: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON-ready description of a hybrid tokenizer (what the file holds)."""
    from ..model.bytelevel import bytes_to_unicode

    return {
        "tokbench_format": "hybrid",
        "version": FORMAT_VERSION,
        "name": name,
        "casing": casing,
        "apostrophe_suffixes": apostrophe_suffixes,
        "chunk_pattern": CHUNK_PATTERN,
        "lexicon": lexicon or {},
        "training": training or {},
        "tokens": [[s, c, int(m)] for s, c, m in tokens],
        "fallback": {"vocab": [bytes_to_unicode(b) for b in fallback_vocab],
                     "merges": [[int(a), int(b)] for a, b in fallback_merges]},
    }


def _fail(where: Any, problem: str) -> TokenizerFormatError:
    return TokenizerFormatError(where, problem, hint="expected a file written by tokbench's hybrid trainer")


def tokenizer_from_hybrid_data(
    data: Any,
    *,
    name: str | None = None,
    fingerprint: str | None = None,
    source_format: str = "memory",
    source_paths: tuple[Path, ...] = (),
    where: Any = None,
) -> HybridTokenizer:
    """Build a :class:`HybridTokenizer` from :func:`hybrid_data` (or a parsed file)."""
    from ..model.bytelevel import unicode_to_bytes
    from .hf_json import fingerprint_text

    if not isinstance(data, dict) or data.get("tokbench_format") != "hybrid":
        raise _fail(where, 'not a tokbench hybrid file (no "tokbench_format": "hybrid")')
    if data.get("version") != FORMAT_VERSION:
        raise _fail(where, f"unsupported hybrid file version {data.get('version')!r} (this tokbench "
                           f"reads version {FORMAT_VERSION})")
    casing = data.get("casing")
    if casing not in ("turkish", "unicode"):
        raise _fail(where, f"casing must be 'turkish' or 'unicode', got {casing!r}")
    tokens = data.get("tokens")
    fallback = data.get("fallback")
    if not isinstance(tokens, list) or not isinstance(fallback, dict):
        raise _fail(where, "'tokens' must be a list and 'fallback' an object")
    roots: dict[str, int] = {}
    affixes: dict[str, int] = {}
    spaces: dict[str, int] = {}
    vocab: list[bytes] = []
    classes: list[str] = []
    morphemes: list[int] = []
    specials: dict[str, int] = {}
    for i, entry in enumerate(tokens):
        if (not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str) or not entry[0]
                or entry[1] not in TOKEN_CLASSES[:-1] or type(entry[2]) is not int):
            raise _fail(where, f"token {i} must be [surface, class, morpheme id] with class one of "
                               f"{', '.join(TOKEN_CLASSES[:-1])}; got {entry!r}")
        surface, cls, morpheme = entry
        table = {"root": roots, "affix": affixes, "space": spaces, "special": specials}[cls]
        table.setdefault(surface, i)
        vocab.append(surface.encode("utf-8"))
        classes.append(cls)
        morphemes.append(morpheme)
    if UPPERCASE not in specials:
        raise _fail(where, f"the lexicon tokens have no {UPPERCASE} special token")
    try:
        fb_vocab = [unicode_to_bytes(s) for s in fallback["vocab"]]
        fb_merges = [(int(a), int(b)) for a, b in fallback["merges"]]
    except (KeyError, TypeError, ValueError) as err:
        raise _fail(where, f"bad 'fallback' ({type(err).__name__}: {err})") from None
    if any(not (0 <= a < len(fb_vocab) and 0 <= b < len(fb_vocab)) for a, b in fb_merges):
        raise _fail(where, "a fallback merge names a token outside the fallback vocabulary")
    offset = len(vocab)
    vocab.extend(fb_vocab)
    classes.extend(["bpe"] * len(fb_vocab))
    morphemes.extend([-1] * len(fb_vocab))
    apostrophes = bool(data.get("apostrophe_suffixes", True))
    label = name or str(data.get("name") or "hybrid")

    def native() -> HybridEncoder:
        return HybridEncoder(roots=roots, affixes=affixes, spaces=spaces, uppercase_id=specials[UPPERCASE],
                             casing=casing, apostrophe_suffixes=apostrophes,
                             fallback=(fb_vocab, fb_merges), fallback_offset=offset, where=where)

    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    tok = HybridTokenizer(
        vocab=vocab,
        kind="hybrid",  # type: ignore[arg-type]  # not BPE: has no merge list over the whole vocab
        name=label,
        fingerprint=fingerprint or fingerprint_text(text),
        special_tokens=specials,
        source_format=source_format,
        source_paths=source_paths,
        description={"model": "morphology-hybrid", "casing": casing, "lexicon": data.get("lexicon", {}),
                     "lexicon_tokens": offset, "fallback_tokens": len(fb_vocab),
                     "fallback_merges": len(fb_merges), "apostrophe_suffixes": apostrophes},
        _native_factory=native,
        _writer=lambda _tok: text,
        morpheme_ids=tuple(morphemes),
        token_classes=tuple(classes),
        casing=casing,
        fallback_offset=offset,
        uppercase_id=specials[UPPERCASE],
        data=data,
    )
    native()  # validate the fallback now, not on first encode
    return tok


def load_hybrid_json(path: str | Path, *, name: str | None = None) -> HybridTokenizer:
    """Load a ``{"tokbench_format": "hybrid", ...}`` file written by ``HybridTokenizer.save``."""
    from .hf_json import fingerprint_text

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TokenizerFormatError(path, f"not valid JSON ({err})", hint="the file may be truncated") from None
    return tokenizer_from_hybrid_data(data, name=name or path.stem, fingerprint=fingerprint_text(text),
                                      source_format="tokbench-hybrid", source_paths=(path,), where=path)
