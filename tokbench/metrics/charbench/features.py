"""CharBench tokenization features: how a tokenizer segments each item's word, and where the
queried character falls in that segmentation (Uzan & Pinter 2025, section on token properties).

Characters are mapped to tokens through bytes: the tokens' bytes (``Tokenizer.vocab``) are
concatenated and aligned with the UTF-8 byte offsets of the word, so byte-level BPE, SentencePiece
(with byte fallback) and WordPiece are handled alike. A character belongs to the token holding its
first byte; it is *split* when its bytes run into a later token (``日`` as ``e6 97 | a5`` in GPT-2).

The word is encoded on its own, without special tokens. Leading space (``space=``):

* ``"none"`` (default) — the word exactly as given (``strawberry`` → ``st|raw|berry`` in GPT-2),
  as it appears after a quote mark in a CharBench prompt;
* ``"leading"`` — the word as it appears mid-sentence, after a space (`` strawberry`` → one token).

SentencePiece models that add a dummy prefix (Llama, Mistral) always see ``▁word``; for them both
options encode the word alone (a real space as well would give a second ``▁``). In every case the
leading marker is excluded from character positions and token lengths, and a token that is only
the marker (Llama's lone ``▁`` before ``日本語``) is not counted. WordPiece's ``##`` continuation
prefix is stripped from token bytes.

Normalizing tokenizers (BERT-uncased lowercases and strips accents) spell the word differently
from the item; when the normalized spelling has as many characters as the word, characters are
aligned by index (``normalized=True``); otherwise (``[UNK]``, length-changing normalization) the
item is ``aligned=False`` and its features are missing.

Features per item (all counts exclude the marker):

* ``n_tokens``, ``chars_per_token`` (word length / n_tokens);
* index tasks: ``target_token_chars`` / ``target_token_bytes`` (length of the token containing the
  gold index), ``target_pos_in_token`` (0-based position of the character inside it),
  ``target_split``;
* ``count_char``: ``target_tokens`` (distinct tokens holding an occurrence), ``target_split``
  (any occurrence split).

Example:
    >>> seg = segment_word(tok, "strawberry")                  # doctest: +SKIP
    >>> seg.pieces, seg.char_token                             # doctest: +SKIP
    (['st', 'raw', 'berry'], [0, 0, 1, 1, 1, 2, 2, 2, 2, 2])
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ...model.tokenizer import Tokenizer
from ...results import RowsResult, Signature
from .tasks import TASKS, CharBenchError, CharBenchItem, items_digest

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Segmentation",
    "FeatureResult",
    "FEATURE_COLUMNS",
    "segment_word",
    "segment_words",
    "item_features",
    "charbench_features",
    "feature_table",
]

Space = Literal["none", "leading"]

#: Numeric feature columns, in the order tables and correlations show them.
FEATURE_COLUMNS = (
    "length", "n_tokens", "chars_per_token", "target_token_chars", "target_token_bytes",
    "target_pos_in_token", "target_split", "target_tokens",
)


@dataclass(frozen=True)
class Segmentation:
    """A word's tokens aligned with its characters.

    ``char_token[i]`` is the token holding character ``i``'s first byte and ``char_split[i]``
    whether its bytes continue into another token. ``token_chars[t]`` counts the characters
    starting in token ``t``. When ``aligned`` is False the lists are empty.
    """

    word: str
    ids: list[int]
    pieces: list[str]
    token_bytes: list[int]
    token_chars: list[int]
    char_token: list[int]
    char_split: list[bool]
    aligned: bool
    normalized: bool = False

    @property
    def n_tokens(self) -> int:
        return len(self.pieces)


_DUMMY_PREFIX: weakref.WeakKeyDictionary[Tokenizer, bool] = weakref.WeakKeyDictionary()


def _adds_dummy_prefix(tok: Tokenizer) -> bool:
    """Whether encoding a bare word yields a leading space (SentencePiece's dummy prefix)."""
    cached = _DUMMY_PREFIX.get(tok)
    if cached is None:
        pieces = [tok.vocab[i] for i in tok.encode("hello")]
        cached = _DUMMY_PREFIX[tok] = bool(pieces) and pieces[0].startswith(b" ")
    return cached


def _continuation_prefix(tok: Tokenizer) -> bytes:
    if tok.kind != "wordpiece":
        return b""
    options = tok.description.get("model_options") or {}
    return str(options.get("continuing_subword_prefix") or "##").encode()


def _text_to_encode(tok: Tokenizer, word: str, space: Space) -> str:
    if space not in ("none", "leading"):
        raise CharBenchError(f'space must be "none" or "leading", got {space!r}')
    if space == "leading" and not _adds_dummy_prefix(tok):
        return " " + word
    return word


def _align(tok: Tokenizer, word: str, ids: Sequence[int]) -> Segmentation:
    special = tok.special_ids
    ids = [i for i in ids if i not in special]
    prefix = _continuation_prefix(tok)
    raw = [tok.token_bytes(i) for i in ids]
    if prefix:
        raw = [b if t == 0 or not b.startswith(prefix) else b[len(prefix):] for t, b in enumerate(raw)]
    # The leading marker (a real space or SentencePiece's dummy prefix) is not part of the word.
    if raw and raw[0].startswith(b" ") and not word.startswith(" "):
        raw[0] = raw[0][1:]
        if not raw[0]:
            raw, ids = raw[1:], ids[1:]
    empty = Segmentation(word, list(ids), [b.decode("utf-8", "replace") for b in raw],
                         [len(b) for b in raw], [], [], [], aligned=False)
    joined = b"".join(raw)
    target, normalized = word, False
    if joined != word.encode("utf-8"):
        try:
            spelled = joined.decode("utf-8")
        except UnicodeDecodeError:
            return empty
        if len(spelled) != len(word):
            return empty
        target, normalized = spelled, True
    # token index of every byte of the word
    byte_token: list[int] = []
    for t, b in enumerate(raw):
        byte_token.extend([t] * len(b))
    token_chars = [0] * len(raw)
    char_token: list[int] = []
    char_split: list[bool] = []
    offset = 0
    for ch in target:
        width = len(ch.encode("utf-8"))
        first, last = byte_token[offset], byte_token[offset + width - 1]
        char_token.append(first)
        char_split.append(first != last)
        token_chars[first] += 1
        offset += width
    return Segmentation(word, list(ids), [b.decode("utf-8", "replace") for b in raw],
                        [len(b) for b in raw], token_chars, char_token, char_split,
                        aligned=True, normalized=normalized)


def segment_word(tok: Tokenizer, word: str, *, space: Space = "none") -> Segmentation:
    """Tokenize ``word`` alone (no special tokens) and align its characters with the tokens."""
    return _align(tok, word, tok.encode(_text_to_encode(tok, word, space)))


def segment_words(tok: Tokenizer, words: Sequence[str], *, space: Space = "none") -> list[Segmentation]:
    """:func:`segment_word` for many words, encoded in one batch."""
    texts = [_text_to_encode(tok, w, space) for w in words]
    return [_align(tok, w, ids) for w, ids in zip(words, tok.encode_batch(texts), strict=True)]


def item_features(item: CharBenchItem, seg: Segmentation) -> dict[str, Any]:
    """The feature row of one item under one segmentation (missing features are None)."""
    row: dict[str, Any] = {
        "id": item.id, "task": item.task, "word": item.word, "char": item.char,
        "answer": item.answer, "length": item.length,
        "aligned": seg.aligned, "normalized": seg.normalized,
        "segmentation": "|".join(seg.pieces),
        "n_tokens": seg.n_tokens,
        "chars_per_token": item.length / seg.n_tokens if seg.n_tokens else None,
        "target_index": None, "target_token_chars": None, "target_token_bytes": None,
        "target_pos_in_token": None, "target_split": None, "target_tokens": None,
    }
    if not seg.aligned:
        row["chars_per_token"] = None
        return row
    kind = TASKS[item.task].kind
    if kind == "index":
        i = item.answer
        t = seg.char_token[i]
        row.update(
            target_index=i,
            target_token_chars=seg.token_chars[t],
            target_token_bytes=seg.token_bytes[t],
            target_pos_in_token=sum(1 for j in range(i) if seg.char_token[j] == t),
            target_split=seg.char_split[i],
        )
    elif item.task == "count_char" and item.char is not None:
        hits = [i for i, ch in enumerate(item.word) if ch == item.char]
        row.update(
            target_tokens=len({seg.char_token[i] for i in hits}),
            target_split=any(seg.char_split[i] for i in hits),
        )
    return row


@dataclass(frozen=True)
class FeatureResult(RowsResult):
    """Feature rows of every item under every tokenizer, with the signature; ``notes`` name the
    tokenizers whose segmentation of some words could not be aligned with the characters."""

    def to_frame(self) -> pd.DataFrame:
        frame = super().to_frame()
        for col in ("target_split",):
            frame[col] = frame[col].astype("boolean")
        return frame


def charbench_features(
    tokenizers: Tokenizer | Sequence[Tokenizer],
    items: Sequence[CharBenchItem],
    *,
    space: Space = "none",
) -> FeatureResult:
    """Tokenization features of ``items`` under each tokenizer (a ``tokenizer`` column names it).

    Example:
        >>> result = charbench_features(tok, read_items("items.jsonl"))   # doctest: +SKIP
        >>> result.to_frame().groupby("task")["target_token_chars"].mean()  # doctest: +SKIP
    """
    toks = [tokenizers] if isinstance(tokenizers, Tokenizer) else list(tokenizers)
    if not toks:
        raise CharBenchError("no tokenizers given; pass at least one")
    names = [t.name for t in toks]
    if len(set(names)) != len(names):
        raise CharBenchError(f"tokenizer names repeat ({', '.join(names)}); give each a distinct name")
    rows: list[dict[str, Any]] = []
    for tok in toks:
        segs = segment_words(tok, [i.word for i in items], space=space)
        for item, seg in zip(items, segs, strict=True):
            rows.append({"tokenizer": tok.name, **item_features(item, seg)})
    signature = Signature(
        tokenizers={t.name: t.fingerprint for t in toks},
        extra={"items_sha256": items_digest(list(items)), "items": len(items), "space": space},
    )
    return FeatureResult(rows=rows, signature=signature, notes=_alignment_notes(rows, names))


def _alignment_notes(rows: list[dict[str, Any]], names: list[str]) -> list[str]:
    notes = []
    for name in names:
        flags = [r["aligned"] for r in rows if r["tokenizer"] == name]
        unaligned = len(flags) - sum(bool(f) for f in flags)
        if unaligned:
            notes.append(f"{name}: {unaligned} of {len(flags)} words could not be aligned with their "
                         "characters (unknown token or length-changing normalization); their features are missing")
    return notes


def feature_table(frame: Any) -> Any:
    """Per tokenizer × task: items, aligned share, and mean features (the distribution table).

    ``frame`` is :meth:`FeatureResult.to_frame` (or the CSV the CLI writes, read back).
    """
    import pandas as pd

    f = frame.copy()
    f["target_split"] = f["target_split"].astype("Float64")
    grouped = f.groupby(["tokenizer", "task"], sort=False)
    table = pd.DataFrame({
        "items": grouped.size(),
        "aligned_share": grouped["aligned"].mean(),
        "mean_n_tokens": grouped["n_tokens"].mean(),
        "mean_chars_per_token": grouped["chars_per_token"].mean(),
        "mean_target_token_chars": grouped["target_token_chars"].mean(),
        "sd_target_token_chars": grouped["target_token_chars"].std(),
        "mean_target_pos_in_token": grouped["target_pos_in_token"].mean(),
        "split_share": grouped["target_split"].mean(),
        "mean_target_tokens": grouped["target_tokens"].mean(),
    })
    return table.reset_index()
