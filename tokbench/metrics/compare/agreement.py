"""Segmentation agreement of two tokenizers on a corpus: same pretokens, same boundaries?

Every document is encoded by each tokenizer (its reference library); the tokens' bytes, laid end
to end, give the token *boundaries* as byte offsets of the text. A document is *aligned* when
those bytes spell the text exactly, or the text after one leading space (SentencePiece's dummy
prefix, which is not in the text; its boundary at offset 0 is dropped), or its NFC/NFKC form
(Qwen 2 and GPT-NeoX normalize to NFC: cuts are mapped back through the unchanged stretches, and
a cut inside a recomposed character is left out). A tokenizer whose normalizer rewrites the text
otherwise (lower-casing WordPiece, an ``<unk>``) leaves documents unaligned; they count in tokens per character but not in the agreement, and ``aligned_docs``
says how many were compared.

Two measures, per category and overall (micro-averaged: counts summed, then divided):

* ``identical_share`` — the share of A's pretokens (A's own pretokenizer: its split pattern, or,
  for a model without one such as HF's Llama conversion, the text cut before each space as
  SentencePiece does) that B cuts exactly as A does: B has a boundary at both edges and the same
  boundaries inside. A's tokens never cross its pretokens' edges, so this asks whether B,
  on A's words, makes A's choices;
* boundary ``precision`` / ``recall`` / ``f1`` of B's boundaries against A's on the whole text,
  as *character* offsets: a boundary that falls inside a multi-byte character (byte-level BPE
  splitting a CJK character) is not a character boundary and is left out on both sides.

``a_tokens_per_char`` and ``b_tokens_per_char`` are side by side (all documents).

Example:
    >>> segs = [segment(t, corpus) for t in (gpt2, neox)]                        # doctest: +SKIP
    >>> agreement_rows(segs[0], segs[1])[-1]["f1"]                              # doctest: +SKIP
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...corpora import Corpus
from ...model.tokenizer import Tokenizer

__all__ = ["Segmentation", "segment", "agreement_rows", "token_cuts", "char_cuts", "OVERALL"]

#: the category name of the micro-averaged row
OVERALL = "(all)"
_WORDS = re.compile(r" *[^ ]+| +")


@dataclass
class _Doc:
    """One document as a tokenizer cut it (byte offsets; ``None`` when unaligned)."""

    n_chars: int
    n_tokens: int
    cuts: list[int] | None
    #: pretoken edges including 0 and the length (``None`` when unaligned)
    edges: list[int] | None
    #: byte offset -> character index, for the offsets that start a character (None: ASCII)
    char_at: dict[int, int] | None


@dataclass
class Segmentation:
    """How one tokenizer cuts every document of a corpus (see :func:`segment`)."""

    tokenizer: str
    categories: dict[str, list[_Doc]]
    #: how A's pretokens were made, for the notes
    pretokens: str
    notes: list[str] = field(default_factory=list)


def token_cuts(pieces: Sequence[bytes], text: bytes) -> list[int] | None:
    """Interior cut offsets (bytes) of ``pieces`` laid over ``text``, or ``None`` if they do not
    spell it (a leading space the text lacks is SentencePiece's dummy prefix and is allowed; a
    spelling that is the text's NFC or NFKC form is mapped back through the unchanged stretches,
    and cuts inside a changed stretch are left out).

    Example:
        >>> token_cuts([b" Hello", b" wor", b"ld"], b"Hello world")
        [5, 9]
        >>> token_cuts([b"hello"], b"Hello") is None
        True
    """
    surface = b"".join(pieces)
    shift = 1 if surface != text and surface[:1] == b" " and surface[1:] == text else 0
    cuts = [c - shift for c in itertools.accumulate(len(p) for p in pieces)]
    if surface[shift:] != text:
        mapped = _through_normalization(surface[shift:], text, cuts)
        if mapped is None:
            return None
        cuts = mapped
    return sorted({c for c in cuts if 0 < c < len(text)})


def _through_normalization(surface: bytes, text: bytes, cuts: list[int]) -> list[int] | None:
    """``cuts`` of ``surface`` as offsets of ``text`` when ``surface`` is ``text`` in NFC/NFKC."""
    import difflib
    import unicodedata

    try:
        spelled, original = surface.decode("utf-8"), text.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if all(spelled != unicodedata.normalize(form, original) for form in ("NFC", "NFKC")):
        return None
    blocks = difflib.SequenceMatcher(None, surface, text, autojunk=False).get_matching_blocks()
    mapped = []
    for cut in cuts:
        for s_start, t_start, size in blocks:
            if s_start <= cut <= s_start + size and size:
                mapped.append(t_start + cut - s_start)
                break
    return mapped


def char_cuts(cuts: list[int], char_at: dict[int, int] | None) -> set[int]:
    """Byte cuts as character offsets; cuts inside a character are left out.

    Example:
        >>> char_cuts([1, 2, 4], {0: 0, 1: 1, 4: 2})
        {1, 2}
    """
    if char_at is None:
        return set(cuts)
    return {char_at[c] for c in cuts if c in char_at}


def _char_index(text: str, data: bytes) -> dict[int, int] | None:
    if len(data) == len(text):
        return None
    starts = itertools.accumulate((len(ch.encode("utf-8")) for ch in text), initial=0)
    return {offset: k for k, offset in enumerate(starts)}


def _splits_words(tok: Tokenizer) -> bool:
    """Does the pretokenizer cut at spaces (else the SentencePiece word cut is used)?"""
    try:
        return len(tok.pretokenize("a b c")) > 1
    except Exception:  # noqa: BLE001 — no native pipeline: cut at spaces, as the note says
        return False


def _pretoken_pieces(tok: Tokenizer, text: str, words: bool) -> list[bytes]:
    pieces = tok.pretokenize(text) if words else [w for p in _safe_pieces(tok, text) for w in _WORDS.findall(p)]
    return [p.encode("utf-8") for p in pieces]


def _safe_pieces(tok: Tokenizer, text: str) -> list[str]:
    try:
        return tok.pretokenize(text)
    except Exception:  # noqa: BLE001 — no native pipeline: the text itself, cut at spaces by the caller
        return [text]


def segment(tok: Tokenizer, corpus: Corpus) -> Segmentation:
    """Encode every document of ``corpus`` with ``tok`` and record its cuts and pretoken edges.

    Example:
        >>> seg = segment(load_tokenizer("gpt2"), load_corpus("sample:eng_Latn"))   # doctest: +SKIP
    """
    words = _splits_words(tok)
    categories: dict[str, list[_Doc]] = {}
    unaligned = 0
    for name, docs in corpus:
        texts = [d for d in docs if d]
        encoded = tok.encode_batch(texts)
        rows = []
        for text, ids in zip(texts, encoded, strict=True):
            data = text.encode("utf-8")
            cuts = token_cuts([tok.vocab[i] for i in ids], data)
            edges = None
            if cuts is not None:
                inner = token_cuts(_pretoken_pieces(tok, text, words), data)
                edges = None if inner is None else [0, *inner, len(data)]
            unaligned += cuts is None
            rows.append(_Doc(n_chars=len(text), n_tokens=len(ids), cuts=cuts, edges=edges,
                             char_at=_char_index(text, data)))
        categories[name] = rows
    how = ("its pretokenizer's pieces" if words else
           "the text cut before each space (it has no pretokenizer; SentencePiece cuts words so)")
    why = ("WordPiece drops spaces and marks continuations with ##" if tok.kind == "wordpiece"
           else "normalized text or unknown tokens")
    notes = [f"{tok.name}: {unaligned:,} document(s) its tokens do not spell exactly ({why}) are left out of the "
             "agreement"] if unaligned else []
    return Segmentation(tokenizer=tok.name, categories=categories, pretokens=how, notes=notes)


def _identical(a: _Doc, b_cuts: list[int], n_bytes: int) -> tuple[int, int]:
    """(A's pretokens, those B cuts exactly as A) in one document."""
    assert a.edges is not None and a.cuts is not None
    b_set = set(b_cuts)
    same = 0
    for s, e in itertools.pairwise(a.edges):
        if s == e:
            continue
        lo, hi = bisect.bisect_right(a.cuts, s), bisect.bisect_left(a.cuts, e)
        lo_b, hi_b = bisect.bisect_right(b_cuts, s), bisect.bisect_left(b_cuts, e)
        edges_ok = (s == 0 or s in b_set) and (e == n_bytes or e in b_set)
        if edges_ok and a.cuts[lo:hi] == b_cuts[lo_b:hi_b]:
            same += 1
    return len(a.edges) - 1, same


def _pair_counts(docs_a: list[_Doc], docs_b: list[_Doc]) -> dict[str, int]:
    c = dict.fromkeys(("documents", "aligned_docs", "chars", "a_tokens", "b_tokens", "pretokens",
                       "pretokens_identical", "a_boundaries", "b_boundaries", "common_boundaries"), 0)
    for a, b in zip(docs_a, docs_b, strict=True):
        c["documents"] += 1
        c["chars"] += a.n_chars
        c["a_tokens"] += a.n_tokens
        c["b_tokens"] += b.n_tokens
        if a.cuts is None or b.cuts is None or a.edges is None:
            continue
        c["aligned_docs"] += 1
        pretokens, same = _identical(a, b.cuts, a.edges[-1])
        c["pretokens"] += pretokens
        c["pretokens_identical"] += same
        ca, cb = char_cuts(a.cuts, a.char_at), char_cuts(b.cuts, b.char_at)
        c["a_boundaries"] += len(ca)
        c["b_boundaries"] += len(cb)
        c["common_boundaries"] += len(ca & cb)
    return c


def _ratio(num: float, den: float) -> float:
    return num / den if den else float("nan")


def _row(category: str, c: dict[str, int]) -> dict[str, Any]:
    precision = _ratio(c["common_boundaries"], c["b_boundaries"])
    recall = _ratio(c["common_boundaries"], c["a_boundaries"])
    if not c["aligned_docs"]:
        f1 = float("nan")
    elif c["a_boundaries"] == c["b_boundaries"] == 0:  # one token per document on both sides
        precision = recall = f1 = 1.0
    else:
        f1 = _ratio(2 * c["common_boundaries"], c["a_boundaries"] + c["b_boundaries"])
    return {"category": category, **c, "identical_share": _ratio(c["pretokens_identical"], c["pretokens"]),
            "precision": precision, "recall": recall, "f1": f1,
            "a_tokens_per_char": _ratio(c["a_tokens"], c["chars"]), "b_tokens_per_char": _ratio(c["b_tokens"], c["chars"])}


def agreement_rows(a: Segmentation, b: Segmentation) -> list[dict[str, Any]]:
    """One row per category and an ``(all)`` row: counts, ``identical_share``, ``precision``,
    ``recall``, ``f1`` and tokens per character of each side."""
    rows, total = [], None
    for name, docs_a in a.categories.items():
        c = _pair_counts(docs_a, b.categories[name])
        rows.append(_row(name, c))
        total = c if total is None else {k: total[k] + v for k, v in c.items()}
    if total is not None and len(rows) > 1:
        rows.append(_row(OVERALL, total))
    elif rows:
        rows.append({**rows[0], "category": OVERALL})
    return rows
