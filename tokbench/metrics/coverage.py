"""Vocabulary coverage: a Qtok-style census of what every vocabulary entry is.

Qtok (Chelombitko et al. 2024) sorts a tokenizer's vocabulary into classes by completeness and
script. tokbench classifies every id of any tokenizer into exactly one class, so class counts
always sum to the vocabulary size:

* ``unused`` — ids with no token (rank-file gaps such as cl100k's 100256; ``b""``);
* ``special`` — control tokens (``<|endoftext|>``, ``[CLS]``, ``<s>``);
* ``bytes`` — the raw byte tokens: the single-byte tokens of a byte-level BPE (256, or fewer
  when training never saw a byte: GPT-NeoX has 243), the
  ``<0xNN>`` byte-fallback pieces of SentencePiece models, or any single byte ``>= 0x80``;
* ``partial_utf8`` — byte sequences that are not valid UTF-8 on their own (a token that stops
  or starts inside a multi-byte character);
* ``char_*`` — exactly one character (a WordPiece ``##`` marker is not counted);
* ``spaced_*`` — word-initial tokens: they begin with a space (BPE, SentencePiece's ``▁``), or,
  in WordPiece, they lack the ``##`` continuation marker;
* ``inner_*`` — continuations: no leading space, or WordPiece's ``##`` prefix.

``char``, ``spaced`` and ``inner`` split by the token's text (leading space / ``##`` removed):
``alpha`` — letters (``\\p{L}``, with combining marks ``\\p{M}``) of a single script, ignoring
Common and Inherited; ``errors`` — any character without a Unicode name (controls other than
``\\t\\n\\v\\f\\r``, unassigned, private use, surrogates) or U+FFFD; ``other`` — everything else
(mixed scripts, digits, punctuation, whitespace). Scripts come from the Unicode Script property
tables of the ``regex`` module, not from a hand-made list. Japanese tokens mixing Han and kana,
for example, are ``other`` (mixed scripts), as in Qtok.

Per-language shares of Latin- and Cyrillic-script alpha tokens use both methods, in order:

1. *alphabet*: a language's alphabet is the set of lower-case letters making up at least
   ``alphabet_min_share`` of the letters of its text in a parallel corpus (FLORES-200 by
   default), so alphabets are measured, not typed in; a token's candidate languages are those of
   its script whose alphabet holds all its letters (``ß`` leaves German, ``ґ`` Ukrainian);
2. *language ID by frequency*: among the candidates, the token goes to the language whose text,
   encoded by this tokenizer, uses it at the highest rate (occurrences per token of text). A
   token with one candidate goes to it even if unseen; a token with no candidate, or several
   candidates and no occurrence, is ``unassigned``.

This differs from :mod:`tokbench.metrics.compression`, which looks at the tokens a corpus
*uses*; coverage looks at the vocabulary itself. With ``unreachable=True`` each BPE tokenizer
with merges also gets the classes of :mod:`tokbench.metrics.unreachable` (which texts, if any,
can produce each token): ``to_frame()`` gains an ``unreachable`` column (tokens proven never
produced: shadowed merges, pretokenizer/normalizer, byte fallback, undecodable) and
``unreachable_frame()`` gives every class.

Example:
    >>> res = coverage([load_tokenizer("cl100k_base.tiktoken")])   # doctest: +SKIP
    >>> res.to_frame(percent=True)[["tokenizer", "spaced_alpha", "bytes"]]   # doctest: +SKIP
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..corpora import Corpus
from ..errors import TokbenchError, UnsupportedTokenizerError
from ..model.tokenizer import Tokenizer
from ..results import Signature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CLASSES",
    "TokenClass",
    "CoverageResult",
    "classify_token",
    "classify_vocab",
    "char_script",
    "coverage",
    "language_alphabets",
]

#: Every class, in table order; each vocabulary id falls into exactly one.
CLASSES: tuple[str, ...] = (
    "char_alpha", "char_other", "char_errors",
    "spaced_alpha", "spaced_other", "spaced_errors",
    "inner_alpha", "inner_other", "inner_errors",
    "bytes", "partial_utf8", "special", "unused",
)
#: Scripts whose alpha tokens get per-language shares.
LANGUAGE_SCRIPTS: tuple[str, ...] = ("Latin", "Cyrillic")
_FLORES_SCRIPT = {"Latin": "Latn", "Cyrillic": "Cyrl"}
_WHITESPACE_CONTROLS = frozenset("\t\n\x0b\x0c\r")
_NEUTRAL_SCRIPTS = frozenset({"Common", "Inherited", "Unknown"})


@dataclass(frozen=True)
class TokenClass:
    """The class of one vocabulary entry and, for alpha tokens, its script."""

    cls: str
    script: str | None = None
    #: The text the class was decided on (marker / leading space removed); None for non-text.
    body: str | None = None


# ------------------------------------------------------------------------------ scripts


@lru_cache(maxsize=1)
def _script_names() -> tuple[str, ...]:
    """Long Script property value names, from the ``regex`` module's Unicode tables."""
    import regex._regex as _r  # the tables regex compiles \p{Script=...} from

    by_id: dict[int, list[str]] = {}
    for alias, sid in _r.get_properties()["SCRIPT"][1].items():
        by_id.setdefault(sid, []).append(alias)
    names = []
    for aliases in by_id.values():
        # The long name is the first alias longer than a 4-letter ISO 15924 code.
        long = next((a for a in aliases if len(a) > 4), aliases[0])
        names.append(long)
    return tuple(names)


_SCRIPT_CACHE: dict[str, str] = {}


def _pretty(name: str) -> str:
    return "_".join(part.capitalize() for part in name.split("_")) if "_" in name else name.capitalize()


def _fill_scripts(chars: Iterable[str]) -> None:
    import regex

    missing = "".join(sorted({c for c in chars if c not in _SCRIPT_CACHE}))
    if not missing:
        return
    for name in _script_names():
        for ch in regex.findall(rf"\p{{Script={name}}}", missing):
            _SCRIPT_CACHE[ch] = _pretty(name)
    for ch in missing:
        _SCRIPT_CACHE.setdefault(ch, "Unknown")


def char_script(ch: str) -> str:
    """The Unicode Script property of one character (``"Latin"``, ``"Han"``, ``"Common"``...).

    Example:
        >>> char_script("ж"), char_script("7"), char_script("\\u0301")
        ('Cyrillic', 'Common', 'Inherited')
    """
    if ch not in _SCRIPT_CACHE:
        _fill_scripts([ch])
    return _SCRIPT_CACHE[ch]


# ------------------------------------------------------------------------- classification


def _is_error_char(ch: str) -> bool:
    if ch in _WHITESPACE_CONTROLS:
        return False
    if ch == "\ufffd":
        return True
    return unicodedata.category(ch) in ("Cc", "Cn", "Co", "Cs")


def _subclass(body: str) -> tuple[str, str | None]:
    if any(_is_error_char(c) for c in body):
        return "errors", None
    if all(unicodedata.category(c)[0] in "LM" for c in body):
        scripts = {char_script(c) for c in body} - _NEUTRAL_SCRIPTS
        if len(scripts) == 1:
            return "alpha", scripts.pop()
    return "other", None


_BYTE_LEVEL_FORMATS = frozenset({"tiktoken", "gpt2-files", "tekken"})


def _byte_level(tok: Tokenizer) -> bool:
    """Byte-level BPE: every single-byte entry is a raw byte token (GPT-NeoX has only 243)."""
    if tok.description.get("byte_level") or tok.source_format in _BYTE_LEVEL_FORMATS:
        return True
    singles = {v for i, v in enumerate(tok.vocab) if len(v) == 1 and i not in tok.special_ids}
    return len(singles) == 256


def _byte_ids(tok: Tokenizer) -> frozenset[int]:
    fallback = frozenset(getattr(tok, "byte_fallback_ids", frozenset()) or ())
    if fallback:
        return fallback
    specials = tok.special_ids
    if _byte_level(tok):
        return frozenset(i for i, v in enumerate(tok.vocab) if len(v) == 1 and i not in specials)
    return frozenset(i for i, v in enumerate(tok.vocab) if len(v) == 1 and v[0] >= 0x80 and i not in specials)


def classify_token(data: bytes, *, wordpiece: bool = False) -> TokenClass:
    """Class of one ordinary token (not special, unused or a raw byte token) from its bytes.

    Example:
        >>> classify_token(b" world"), classify_token(b"\\xe2\\x96").cls
        (TokenClass(cls='spaced_alpha', script='Latin', body='world'), 'partial_utf8')
        >>> classify_token(b"##ing", wordpiece=True).cls, classify_token(b"7").cls
        ('inner_alpha', 'char_other')
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return TokenClass("partial_utf8")
    if not text:
        return TokenClass("unused")
    if wordpiece:
        inner = text.startswith("##") and len(text) > 2
        body = text[2:] if inner else text
        position = "inner" if inner else "spaced"
    else:
        body = text[1:] if text[0] == " " and len(text) > 1 else text
        position = "spaced" if text[0] == " " else "inner"
    if len(text if not wordpiece else body) == 1:
        position, body = "char", (body if wordpiece else text)
    sub, script = _subclass(body)
    return TokenClass(f"{position}_{sub}", script if sub == "alpha" else None, body)


def classify_vocab(tok: Tokenizer) -> list[TokenClass]:
    """One :class:`TokenClass` per id of ``tok`` (``len(result) == tok.vocab_size``)."""
    specials = tok.special_ids
    unused = tok.unused_ids
    byte_ids = _byte_ids(tok)
    wordpiece = tok.kind == "wordpiece"
    _fill_scripts({c for v in tok.vocab for c in v.decode("utf-8", errors="ignore")})
    out: list[TokenClass] = []
    for i, data in enumerate(tok.vocab):
        if i in unused or (not data and i not in specials):
            out.append(TokenClass("unused"))
        elif i in specials:
            out.append(TokenClass("special"))
        elif i in byte_ids:
            out.append(TokenClass("bytes"))
        else:
            out.append(classify_token(data, wordpiece=wordpiece))
    return out


def _union_key(data: bytes, *, wordpiece: bool) -> bytes:
    """A vocabulary entry in BPE spelling (word-initial = leading space), for the union row."""
    if not wordpiece:
        return data
    if data.startswith(b"##") and len(data) > 2:
        return data[2:]
    return data if len(data.decode("utf-8", errors="replace")) == 1 else b" " + data


# -------------------------------------------------------------------------- languages


def letter_counts(texts: Iterable[str]) -> Counter[str]:
    """Lower-case letters and marks (Unicode categories L*, M*) of ``texts`` with their counts.

    Example:
        >>> letter_counts(["Aa b!"])
        Counter({'a': 2, 'b': 1})
    """
    every: Counter[str] = Counter()
    for text in texts:
        every.update(text.lower())  # counted in C; the category test then runs once per distinct character
    return Counter({c: n for c, n in every.items() if unicodedata.category(c)[0] in "LM"})


def language_alphabets(corpus: Corpus, *, min_share: float = 1e-4,
                       jobs: int | None = None) -> dict[str, frozenset[str]]:
    """Lower-case letters making up at least ``min_share`` of each category's letters.

    ``jobs`` worker processes count the letters of a large corpus
    (:func:`~tokbench.metrics.compression.count_by_category`: exact, the same sets).

    Example:
        >>> c = Corpus("toy", {"deu_Latn": ["Straße groß"], "eng_Latn": ["street big"]})
        >>> sorted(language_alphabets(c)["deu_Latn"])[:4], "ß" in language_alphabets(c)["eng_Latn"]
        (['a', 'e', 'g', 'o'], False)
    """
    from .compression import count_by_category

    alphabets: dict[str, frozenset[str]] = {}
    for cat, counts in count_by_category(corpus, letter_counts, jobs=jobs):
        total = sum(counts.values())
        if not total:
            alphabets[cat] = frozenset()
            continue
        alphabets[cat] = frozenset(c for c, n in counts.items() if n / total >= min_share)
    return alphabets


def _language_shares(
    tok: Tokenizer,
    classes: Sequence[TokenClass],
    corpus: Corpus,
    *,
    alphabets: dict[str, frozenset[str]],
) -> dict[str, dict[str, int]]:
    """script -> language (or ``unassigned``) -> number of alpha tokens assigned."""
    import numpy as np

    out: dict[str, dict[str, int]] = {}
    for script in LANGUAGE_SCRIPTS:
        suffix = "_" + _FLORES_SCRIPT[script]
        langs = [c for c in corpus.category_names if c.endswith(suffix)]
        ids = [i for i, k in enumerate(classes) if k.script == script]
        counts = dict.fromkeys(langs, 0) | {"unassigned": 0}
        out[script] = counts
        if not ids:
            continue
        if not langs:
            counts["unassigned"] = len(ids)
            continue
        texts = [corpus.text(lang, " ") for lang in langs]
        rates = np.zeros((len(langs), tok.vocab_size))
        for row, encoded in enumerate(tok.encode_batch(texts)):
            freq = np.bincount(np.asarray(encoded, dtype=np.int64), minlength=tok.vocab_size)
            rates[row] = freq[: tok.vocab_size] / max(1, len(encoded))
        letter_sets = [alphabets[lang] for lang in langs]
        for i in ids:
            letters = set(classes[i].body.lower())  # type: ignore[union-attr]
            letters = {c for c in letters if unicodedata.category(c)[0] in "LM"}
            cand = [k for k, alpha in enumerate(letter_sets) if letters <= alpha]
            if len(cand) == 1:
                counts[langs[cand[0]]] += 1
                continue
            if not cand:
                counts["unassigned"] += 1
                continue
            col = rates[cand, i]
            best = int(np.argmax(col))
            if col[best] > 0:
                counts[langs[cand[best]]] += 1
            else:
                counts["unassigned"] += 1
    return out


# ------------------------------------------------------------------------------- result


@dataclass(frozen=True)
class CoverageResult:
    """Class counts, scripts and language shares of one or more tokenizers.

    ``counts`` maps a row name (a tokenizer, and ``"union"`` when several were given) to class ->
    count; ``scripts`` maps it to script -> number of alpha tokens; ``languages`` maps a
    tokenizer to script -> language -> tokens (``None`` when no language corpus was given, and
    always ``None`` for the union row, which has no encoder).
    """

    counts: dict[str, dict[str, int]]
    vocab_sizes: dict[str, int]
    scripts: dict[str, dict[str, int]]
    languages: dict[str, dict[str, dict[str, int]] | None]
    signature: Signature
    union: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Tokenizer -> unreachable-token class -> count (None: no merge list); empty when not computed.
    unreachable: dict[str, dict[str, int] | None] = field(default_factory=dict)

    def to_frame(self, *, percent: bool = False) -> pd.DataFrame:
        """One row per tokenizer (and the union), one column per class plus ``total``.

        With ``percent=True`` the cells are percentages of the row's vocabulary size.
        """
        import pandas as pd

        rows = []
        for name, counts in self.counts.items():
            total = self.vocab_sizes[name]
            row: dict[str, Any] = {"tokenizer": name, "vocab_size": total}
            for cls in CLASSES:
                row[cls] = 100.0 * counts[cls] / total if percent else counts[cls]
            row["total"] = 100.0 * sum(counts.values()) / total if percent else sum(counts.values())
            if self.unreachable:
                row["unreachable"] = _unreachable_cell(self.unreachable.get(name), total, percent=percent)
            rows.append(row)
        return pd.DataFrame(rows)

    def unreachable_frame(self, *, percent: bool = False) -> pd.DataFrame:
        """One row per tokenizer with merges, one column per unreachable-token class."""
        import pandas as pd

        from .unreachable import CLASSES as REACH_CLASSES

        rows = []
        for name, counts in self.unreachable.items():
            if counts is None:
                continue
            total = self.vocab_sizes[name]
            rows.append({"tokenizer": name, "vocab_size": total,
                         **{c: 100.0 * counts[c] / total if percent else counts[c] for c in REACH_CLASSES}})
        return pd.DataFrame(rows, columns=["tokenizer", "vocab_size", *REACH_CLASSES])

    def scripts_frame(self, *, percent: bool = False) -> Any:
        """Alpha tokens per script (rows: tokenizers; columns: scripts, most frequent first)."""
        import pandas as pd

        frame = pd.DataFrame.from_dict(self.scripts, orient="index").fillna(0).astype(int)
        if frame.empty:
            return frame
        frame = frame[frame.sum().sort_values(ascending=False).index]
        if percent:
            alpha = frame.sum(axis=1).replace(0, 1)
            frame = frame.div(alpha, axis=0) * 100.0
        return frame.rename_axis("tokenizer").reset_index()

    def languages_frame(self, *, percent: bool = False) -> Any:
        """Long table: tokenizer, script, language, tokens (and ``percent`` of the script's alpha tokens)."""
        import pandas as pd

        rows = []
        for name, by_script in self.languages.items():
            if by_script is None:
                continue
            for script, counts in by_script.items():
                total = sum(counts.values())
                for lang, n in counts.items():
                    row = {"tokenizer": name, "script": script, "language": lang, "tokens": n}
                    if percent:
                        row["percent"] = 100.0 * n / total if total else 0.0
                    rows.append(row)
        return pd.DataFrame(rows, columns=["tokenizer", "script", "language", "tokens"] + (["percent"] if percent else []))

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": list(CLASSES),
            "counts": self.counts,
            "vocab_sizes": self.vocab_sizes,
            "scripts": self.scripts,
            "languages": self.languages,
            "union": self.union,
            "unreachable": self.unreachable,
            "notes": self.notes,
            "signature": self.signature.to_dict(),
        }


def _unreachable_cell(counts: dict[str, int] | None, total: int, *, percent: bool) -> float | None:
    """Tokens proven never produced (None for rows without a merge list, e.g. the union)."""
    if counts is None:
        return None
    from .unreachable import UNREACHABLE

    n = sum(counts[c] for c in UNREACHABLE)
    return 100.0 * n / total if percent else n


def _unreachable_counts(tok: Tokenizer, budget: int) -> dict[str, int] | None:
    """Unreachable-token class counts of a BPE tokenizer with merges and a reference, else None."""
    from .unreachable import check_tokenizer, unreachable

    try:
        check_tokenizer(tok)
    except UnsupportedTokenizerError:  # WordPiece, Unigram, no reference: no row, not a failure
        return None
    return unreachable(tok, budget=budget).counts


def _count(classes: Iterable[TokenClass]) -> tuple[dict[str, int], dict[str, int]]:
    counts = dict.fromkeys(CLASSES, 0)
    scripts: Counter[str] = Counter()
    for k in classes:
        counts[k.cls] += 1
        if k.script is not None:
            scripts[k.script] += 1
    return counts, dict(scripts.most_common())


def coverage(
    tokenizers: Tokenizer | Sequence[Tokenizer],
    *,
    language_corpus: Corpus | None = None,
    alphabet_min_share: float = 1e-4,
    union: bool | None = None,
    unreachable: bool = False,
    unreachable_budget: int = 400,
    jobs: int | None = None,
) -> CoverageResult:
    """Classify every vocabulary entry of each tokenizer (see the module docstring).

    ``language_corpus`` (categories named like FLORES codes, e.g. ``fra_Latn``) enables the
    per-language shares of Latin and Cyrillic tokens. ``union`` adds a row for the union of all
    vocabularies (default: when more than one tokenizer is given); WordPiece entries enter the
    union in BPE spelling (``##ing`` as ``ing``, word-initial ``ing`` as `` ing``).
    ``unreachable`` adds the unreachable-token classes of every BPE tokenizer with merges (about
    20 s per 100k-token vocabulary; see :mod:`tokbench.metrics.unreachable`). ``jobs`` worker
    processes count the letters of a large ``language_corpus`` (:func:`language_alphabets`,
    once for all tokenizers; ``None`` or 1: this process); no number changes.

    Example:
        >>> res = coverage([gpt2, cl100k], language_corpus=load_flores("all", split="dev"))   # doctest: +SKIP
        >>> res.to_frame(percent=True)                                                       # doctest: +SKIP
    """
    toks = [tokenizers] if isinstance(tokenizers, Tokenizer) else list(tokenizers)
    if not toks:
        raise TokbenchError("coverage needs at least one tokenizer; give one or more files")
    names = _distinct_names([t.name for t in toks])
    if union is None:
        union = len(toks) > 1
    counts: dict[str, dict[str, int]] = {}
    sizes: dict[str, int] = {}
    scripts: dict[str, dict[str, int]] = {}
    languages: dict[str, dict[str, dict[str, int]] | None] = {}
    union_entries: dict[bytes, str] = {}
    alphabets = (language_alphabets(language_corpus, min_share=alphabet_min_share, jobs=jobs)
                 if language_corpus is not None else {})
    for name, tok in zip(names, toks, strict=True):
        classes = classify_vocab(tok)
        counts[name], scripts[name] = _count(classes)
        sizes[name] = tok.vocab_size
        if sum(counts[name].values()) != tok.vocab_size:  # pragma: no cover - a classification bug
            raise TokbenchError(f"{name}: class counts do not sum to the vocabulary size; report this")
        languages[name] = (
            _language_shares(tok, classes, language_corpus, alphabets=alphabets)
            if language_corpus is not None else None
        )
        if union:
            _add_to_union(union_entries, tok, classes)
    notes: list[str] = []
    union_name = None
    if union:
        union_name = "union"
        counts[union_name], scripts[union_name], sizes[union_name] = _union_counts(union_entries)
        languages[union_name] = None
        notes.append("union: distinct entries of all vocabularies (bytes), WordPiece in BPE spelling; "
                     "no per-language shares (no encoder)")
    if language_corpus is not None:
        notes.append(f"languages: alphabet (letters >= {alphabet_min_share:g} of a language's letters) "
                     "then language ID by frequency in the tokenizer's encoding of the corpus")
    reach = {n: _unreachable_counts(t, unreachable_budget) for n, t in zip(names, toks, strict=True)} if unreachable else {}
    if union_name is not None and reach:
        reach[union_name] = None
    if reach:
        notes.append("unreachable: tokens no text can produce (shadowed merges, pretokenizer/normalizer, "
                     "byte fallback never needed, invalid UTF-8); see tokbench unreachable for each token")
    signature = Signature(
        tokenizers={n: t.fingerprint for n, t in zip(names, toks, strict=True)},
        corpus=language_corpus.signature() if language_corpus is not None else {},
        extra={"alphabet_min_share": alphabet_min_share, "union": union,
               **({"unreachable_budget": unreachable_budget} if unreachable else {})},
    )
    return CoverageResult(counts=counts, vocab_sizes=sizes, scripts=scripts, languages=languages,
                          signature=signature, union=union_name, notes=notes, unreachable=reach)


def _distinct_names(names: list[str]) -> list[str]:
    """Two files with the same stem would overwrite each other's rows: repeats become ``name#k``."""
    if len(set(names)) == len(names):
        return names
    seen: Counter[str] = Counter()
    renamed = []
    for n in names:
        seen[n] += 1
        renamed.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return renamed


def _union_counts(union_entries: dict[bytes, str]) -> tuple[dict[str, int], dict[str, int], int]:
    """Class counts, script counts and size of the union of the vocabularies."""
    union_classes = [TokenClass(cls) if cls else classify_token(key) for key, cls in union_entries.items()]
    counts, scripts = _count(union_classes)
    return counts, scripts, len(union_classes)


def _add_to_union(union_entries: dict[bytes, str], tok: Tokenizer, classes: Sequence[TokenClass]) -> None:
    """Add ``tok``'s entries to the union (key: BPE spelling; value: "special", "bytes" or "")."""
    wordpiece = tok.kind == "wordpiece"
    for i, k in enumerate(classes):
        if k.cls == "unused":
            continue
        key = _union_key(tok.vocab[i], wordpiece=wordpiece and k.cls not in ("special", "bytes"))
        # A byte or special token in any tokenizer is one in the union ("" = by its text).
        marker = k.cls if k.cls in ("special", "bytes") else ""
        previous = union_entries.get(key)
        if previous is None or (previous != "special" and marker):
            union_entries[key] = marker
