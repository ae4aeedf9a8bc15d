"""Vocabulary overlap of two tokenizers on exact token bytes, and what B added over A.

Each ordinary token is keyed by its bytes (byte-level spellings undone, SentencePiece's ``▁`` as a
space), so the same string is the same token whatever its id or file format. Special tokens and
unused ids are left apart (they are control symbols, not text). SentencePiece ``<0xNN>``
byte-fallback pieces are keyed apart from ordinary tokens (``"<0x41>"``, a ``str`` key, never equal
to the ``bytes`` key ``b"A"``): a byte-fallback piece and a piece spelling the same byte are two
different tokens of one vocabulary (Llama has both ``<0x41>`` and ``A``), so one key per entry
keeps the counts exact. Classes and scripts come from :func:`tokbench.metrics.coverage.classify_vocab`
(Qtok classes), read on A's side for shared tokens and on each owner's side for the others.

WordPiece vocabularies keep their ``##`` continuation marker in the key and spell word-initial
tokens without a space, so their overlap with a BPE vocabulary is low by convention, not by
content; :func:`vocab_overlap` says so in its notes.

Example:
    >>> ov = vocab_overlap(load_tokenizer("r50k_base.tiktoken"), load_tokenizer("gpt2"))   # doctest: +SKIP
    >>> ov.jaccard, ov.a_only                                                              # doctest: +SKIP
    (1.0, 0)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...model.tokenizer import Tokenizer
from ..coverage import TokenClass, classify_vocab

__all__ = ["VocabKey", "VocabOverlap", "vocab_keys", "vocab_overlap", "show_key", "EXAMPLES"]

#: A vocabulary entry: its bytes, or ``"<0xNN>"`` for a byte-fallback piece.
VocabKey = bytes | str
#: Example tokens kept per (class, script) row of the ``added`` frame.
EXAMPLES = 8


def vocab_keys(tok: Tokenizer) -> dict[VocabKey, int]:
    """Ordinary entries of ``tok`` (specials and unused ids left out) -> their first id.

    Example:
        >>> keys = vocab_keys(load_tokenizer("gpt2"))     # doctest: +SKIP
        >>> keys[b" the"]                                 # doctest: +SKIP
        262
    """
    specials, unused, fallback = tok.special_ids, tok.unused_ids, tok.byte_fallback_ids
    keys: dict[VocabKey, int] = {}
    for i, data in enumerate(tok.vocab):
        if i in specials or i in unused or not data:
            continue
        key: VocabKey = f"<0x{data[0]:02X}>" if i in fallback else data
        keys.setdefault(key, i)
    return keys


def show_key(key: VocabKey) -> str:
    """A vocabulary key as readable text (``repr`` of the decoded string; bad UTF-8 as ``\\x..``).

    Example:
        >>> show_key(b" hello"), show_key("<0x0A>")
        ("' hello'", '<0x0A>')
    """
    if isinstance(key, str):
        return key
    return repr(key.decode("utf-8", errors="backslashreplace"))


@dataclass(frozen=True)
class VocabOverlap:
    """Counts of the two key sets and the rows of the class/script and added-token tables."""

    a_size: int
    b_size: int
    shared: int
    #: rows ``class, script, shared, a_only, b_only``
    by_class: list[dict[str, Any]]
    #: rows ``class, script, tokens, examples`` for B's tokens absent from A
    added: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)

    @property
    def a_only(self) -> int:
        return self.a_size - self.shared

    @property
    def b_only(self) -> int:
        return self.b_size - self.shared

    @property
    def jaccard(self) -> float:
        union = self.a_size + self.b_size - self.shared
        return self.shared / union if union else 1.0


def _label(k: TokenClass) -> tuple[str, str]:
    return k.cls, (k.script or "")


def vocab_overlap(a: Tokenizer, b: Tokenizer, *, examples: int = EXAMPLES,
                  classes: Mapping[str, list[TokenClass]] | None = None) -> VocabOverlap:
    """Exact-bytes overlap of ``a`` and ``b`` broken down by Qtok class and script, and the
    tokens ``b`` has that ``a`` lacks (by class/script, earliest ids first as examples).
    ``classes`` (tokenizer name -> :func:`classify_vocab`) saves classifying a vocabulary again."""
    keys_a, keys_b = vocab_keys(a), vocab_keys(b)
    known = classes or {}
    classes_a = known[a.name] if a.name in known else classify_vocab(a)
    classes_b = known[b.name] if b.name in known else classify_vocab(b)
    shared = keys_a.keys() & keys_b.keys()
    counts: dict[tuple[str, str], Counter[str]] = {}
    for key, i in keys_a.items():
        counts.setdefault(_label(classes_a[i]), Counter())["shared" if key in shared else "a_only"] += 1
    added: dict[tuple[str, str], list[int]] = {}
    for key, i in keys_b.items():
        if key in shared:
            continue
        label = _label(classes_b[i])
        counts.setdefault(label, Counter())["b_only"] += 1
        added.setdefault(label, []).append(i)
    by_class = [{"class": cls, "script": script, "shared": c["shared"], "a_only": c["a_only"], "b_only": c["b_only"]}
                for (cls, script), c in sorted(counts.items(), key=lambda kv: -sum(kv[1].values()))]
    added_rows = [{"class": cls, "script": script, "tokens": len(ids),
                   "examples": " ".join(show_key(_key_of(b, i)) for i in sorted(ids)[:examples])}
                  for (cls, script), ids in sorted(added.items(), key=lambda kv: -len(kv[1]))]
    notes = []
    if (a.kind == "wordpiece") != (b.kind == "wordpiece"):
        notes.append("one vocabulary is WordPiece (## marks continuations, word starts carry no space): "
                     "its overlap with a BPE vocabulary is low by spelling convention, not only by content")
    return VocabOverlap(a_size=len(keys_a), b_size=len(keys_b), shared=len(shared), by_class=by_class,
                        added=added_rows, notes=notes)


def _key_of(tok: Tokenizer, i: int) -> VocabKey:
    data = tok.vocab[i]
    return f"<0x{data[0]:02X}>" if i in tok.byte_fallback_ids else data
