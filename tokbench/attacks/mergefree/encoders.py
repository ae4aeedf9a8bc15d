"""Encoding with and without a merge list (after Sawada & Goyal 2025, "Train It and Forget It:
Merge Lists are Unnecessary for BPE Inference in Language Models").

A vocabulary released without its merge list hides the ordering the mixture attack reads
(:mod:`tokbench.attacks`). This module measures what dropping or damaging the merge list costs:

* ``bpe`` — standard merge-list BPE (numba kernel; identical ids to ``tiktoken``/``tokenizers``);
* ``greedy`` — vocabulary only: left to right, the longest vocabulary prefix;
* ``minimal`` — vocabulary only: the fewest tokens, by dynamic programming; among equally short
  segmentations the one with the longest first token (then second, …) wins;
* targeted corruptions of the merge list for ``bpe``: ``shuffle`` (random order, seeded),
  ``delete`` (drop a random fraction), ``truncate`` (keep the first k). A merge whose inputs can no
  longer be built simply never fires, so encoding falls back to the smaller tokens.

All variants run per pretoken after the tokenizer's own normalizer, added-token extraction and
pretokenizer (tokbench's native pipeline); every output decodes to its input. ``greedy`` and
``minimal`` segment the pretoken's bytes (``<0xNN>`` byte-fallback tokens count as single bytes).
``bpe`` merges what the model merges: bytes for byte-level models (numba kernel), and for
character-level models (SentencePiece, tokbench's char BPE) the model's own starting symbols
(characters, user pieces, byte fallback), merged in Python. Merging characters from the
*spelled* piece matters: a char-BPE piece keeps its spaces while a SentencePiece piece spells
them ``▁``, and rebuilding either from bytes would start from the wrong symbols.

Example:
    >>> enc = MergeFreeEncoder(tok, "minimal")            # doctest: +SKIP
    >>> tok.decode(enc.encode("Hello world")) == "Hello world"   # doctest: +SKIP
    True
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, Literal

import numpy as np

from ...errors import EncodingError, TokbenchError, UnsupportedTokenizerError
from ...model.bpe import apply_merges, merge_rank_lookup
from ...model.tokenizer import Tokenizer, check_text

__all__ = ["Mode", "MODES", "MergeFreeEncoder", "corrupt_merges", "VocabularyTrie", "is_byte_level",
           "merges_characters"]

Mode = Literal["bpe", "greedy", "minimal"]
MODES: tuple[str, ...] = ("bpe", "greedy", "minimal")
#: Formats whose vocabularies are byte-level even when their description does not say so.
_BYTE_LEVEL_FORMATS = ("tiktoken", "tekken", "gpt2-files", "trained")


def merges_characters(tokenizer: Tokenizer) -> bool:
    """Whether the model's merges combine characters (its native encoder starts from character
    symbols, as SentencePiece and tokbench's char BPE do) rather than bytes.

    Example:
        >>> merges_characters(load_tokenizer("mistral_v1.model"))   # doctest: +SKIP
        True
    """
    return hasattr(tokenizer.native, "base_symbols")


def is_byte_level(tokenizer: Tokenizer) -> bool:
    """Whether the tokenizer's merges combine bytes (not SentencePiece-style characters)."""
    return bool(tokenizer.description.get("byte_level", tokenizer.source_format in _BYTE_LEVEL_FORMATS))


class VocabularyTrie:
    """The tokenizer's vocabulary as a byte trie (numba hash table), specials and gaps excluded.

    Where two tokens have the same bytes (a SentencePiece ``<0x41>`` and ``A``), the regular
    token wins over the byte-fallback one.
    """

    def __init__(self, tokenizer: Tokenizer):
        from . import _kernels as K

        excluded = tokenizer.special_ids | tokenizer.unused_ids
        order = sorted(
            (i for i in range(tokenizer.vocab_size) if i not in excluded and tokenizer.vocab[i]),
            key=lambda i: (i in tokenizer.byte_fallback_ids, i),
        )
        pieces = [tokenizer.vocab[i] for i in order]
        lengths = np.fromiter((len(p) for p in pieces), dtype=np.int64, count=len(pieces))
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = np.frombuffer(b"".join(pieces), dtype=np.uint8)
        total = int(offsets[-1])
        self.keys, self.vals, self.node_token = K.trie_build(
            data, offsets, np.asarray(order, dtype=np.int32), K.hash_capacity(total), total + 1
        )
        self.max_token_bytes = int(lengths.max()) if len(pieces) else 0
        present = {p[0] for p in pieces if len(p) == 1}
        self.missing_bytes = sorted(set(range(256)) - present)


def corrupt_merges(
    merges: Sequence[tuple[int, int]],
    how: Literal["shuffle", "delete", "truncate"],
    *,
    fraction: float = 0.1,
    keep: int | None = None,
    seed: int = 0,
) -> list[tuple[int, int]]:
    """A damaged copy of a merge list: shuffled order, a random ``fraction`` deleted, or only
    the first ``keep`` merges."""
    merges = list(merges)
    if how == "shuffle":
        random.Random(seed).shuffle(merges)
        return merges
    if how == "delete":
        if not 0.0 <= fraction <= 1.0:
            raise TokbenchError(f"delete fraction must be within [0, 1], got {fraction}")
        rng = random.Random(seed)
        dropped = set(rng.sample(range(len(merges)), round(fraction * len(merges))))
        return [m for k, m in enumerate(merges) if k not in dropped]
    if how == "truncate":
        if keep is None or keep < 0:
            raise TokbenchError("truncate needs keep=k, the number of merges to keep (k >= 0)")
        return merges[:keep]
    raise TokbenchError(f"unknown corruption {how!r}; use shuffle, delete or truncate")


@dataclass
class _Scratch:
    """Kernel work arrays, grown on demand and reused across calls."""

    size: int = 0

    def ensure(self, n: int) -> None:
        if n <= self.size:
            return
        self.size = max(n, 2 * self.size, 1024)
        s = self.size
        self.out = np.empty(s, dtype=np.int32)
        self.best = np.empty(s + 1, dtype=np.int32)
        self.choice_end = np.empty(s + 1, dtype=np.int64)
        self.choice_token = np.empty(s + 1, dtype=np.int32)
        self.ids = np.empty(s, dtype=np.int32)
        self.nxt = np.empty(s, dtype=np.int64)
        self.prv = np.empty(s, dtype=np.int64)
        self.heap_key = np.empty(3 * s, dtype=np.int64)
        self.heap_pos = np.empty(3 * s, dtype=np.int64)


class MergeFreeEncoder:
    """Encode with tokbench's numba kernels: ``bpe`` (optionally with given merges), ``greedy``
    or ``minimal``. See the module docstring."""

    def __init__(self, tokenizer: Tokenizer, mode: Mode = "bpe", *,
                 merges: Sequence[tuple[int, int]] | None = None, name: str | None = None):
        if mode not in MODES:
            raise TokbenchError(f"unknown encoder mode {mode!r}; valid modes: {', '.join(MODES)}")
        self.tokenizer = tokenizer
        self.mode = mode
        self.name = name or mode
        pipeline = tokenizer.native
        if not hasattr(pipeline, "piece_bytes"):
            raise UnsupportedTokenizerError(f"{tokenizer.name}: no pretokenizer pipeline to run merge-free encoders on")
        self._pipeline = pipeline
        self.trie = VocabularyTrie(tokenizer)
        self._scratch = _Scratch()
        self._cache: dict[bytes, tuple[int, ...]] = {}
        self._str_cache: dict[str, tuple[int, ...]] = {}
        self._whole_piece = bool(getattr(pipeline, "ignore_merges", False)) and mode == "bpe" and merges is None
        self._bytes_to_id = {tokenizer.vocab[i]: i for i in range(tokenizer.vocab_size)
                             if i not in tokenizer.special_ids and i not in tokenizer.unused_ids}
        # Set for character-level BPE only: merges over the model's pieces, applied in Python.
        self._char_lookup: Any = None
        if mode == "bpe":
            self._init_bpe(merges if merges is not None else tokenizer.merges)
        self._compiled = self._compiled_splitter()

    def _init_bpe(self, merges: Sequence[tuple[int, int]] | None) -> None:
        from . import _kernels as K

        tok = self.tokenizer
        if merges is None:
            raise UnsupportedTokenizerError(f"{tok.name}: mode 'bpe' needs a merge list and this model has none")
        if merges_characters(tok):
            self._init_char_bpe(merges)
            return
        if not is_byte_level(tok):
            raise UnsupportedTokenizerError(
                f"{tok.name}: its merges combine neither bytes nor characters tokbench can start from; "
                "use greedy/minimal")
        byte_ids = np.full(256, -1, dtype=np.int32)
        for b in range(256):
            token = self._bytes_to_id.get(bytes([b]))
            if token is not None:
                byte_ids[b] = token
        lefts = np.fromiter((a for a, _ in merges), dtype=np.int32, count=len(merges))
        rights = np.fromiter((b for _, b in merges), dtype=np.int32, count=len(merges))
        try:
            merged = np.fromiter((self._bytes_to_id[tok.vocab[a] + tok.vocab[b]] for a, b in merges),
                                 dtype=np.int32, count=len(merges))
        except KeyError:
            raise TokbenchError(f"{tok.name}: a merge makes bytes that are not a vocabulary token") from None
        self.byte_ids = byte_ids
        self.pair_keys, self.pair_ranks, self.pair_results = K.pair_table_build(
            lefts, rights, merged, np.arange(len(merges)), K.hash_capacity(len(merges)))

    def _init_char_bpe(self, merges: Sequence[tuple[int, int]]) -> None:
        """Merges over the model's own pieces: a merge makes the piece spelled by its two inputs."""
        native = self._pipeline
        spelling = {i: piece for piece, i in native.piece_to_id.items()}
        try:
            merged = [native.piece_to_id[spelling[a] + spelling[b]] for a, b in merges]
        except KeyError:
            raise TokbenchError(f"{self.tokenizer.name}: a merge makes a piece that is not in the vocabulary") from None
        self._char_lookup = merge_rank_lookup(merges, merged_ids=merged)

    def _compiled_splitter(self) -> Any:
        """The compiled splitter when pieces are plain UTF-8 split by one GPT-style pattern."""
        from ...model.compiled_split import compiled_split, plain_pattern_split
        from ...model.encoders import ByteLevelBPE

        if self._merges_chars or type(self._pipeline) is not ByteLevelBPE:
            return None
        pattern = plain_pattern_split(self._pipeline.pretokenizer)
        return compiled_split(pattern) if pattern is not None else None

    # ---------------------------------------------------------------------------- encoding

    @property
    def _merges_chars(self) -> bool:
        return self._char_lookup is not None

    def encode_pieces(self, pieces: Sequence[bytes]) -> list[list[int]]:
        """Segment each pretoken's bytes; one kernel call for all pieces not seen before.

        Character-level ``bpe`` needs the spelled pieces: use :meth:`encode_strings`.
        """
        if self._merges_chars:
            raise UnsupportedTokenizerError(
                f"{self.tokenizer.name}: character-level BPE starts from the spelled pretoken, not its "
                "bytes; call encode_strings(pieces) with the pipeline's pieces")
        todo = [p for p in dict.fromkeys(pieces) if p not in self._cache]
        if todo:
            self._run(todo)
        return [list(self._cache[p]) for p in pieces]

    def _run(self, pieces: list[bytes]) -> None:
        data = np.frombuffer(b"".join(pieces), dtype=np.uint8)
        offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)), out=offsets[1:])
        flat, bounds = self._segment(data, offsets)
        # One conversion to Python ints, then plain list slicing: far cheaper than a numpy slice
        # and .tolist() per piece.
        cache = self._cache
        for k, p in enumerate(pieces):
            cache[p] = tuple(flat[bounds[k]:bounds[k + 1]])

    def _segment(self, data: np.ndarray, offsets: np.ndarray, *,
                 piece_bounds: bool = True) -> tuple[list[int], list[int]]:
        """Run the mode's kernel over the pieces ``data[offsets[k]:offsets[k + 1]]``: all ids as
        one list, and per piece the offset of its first id in it (empty without
        ``piece_bounds``)."""
        from . import _kernels as K

        s = self._scratch
        s.ensure(max(len(data), 1))  # pieces lie within data, so no piece is longer
        out_offsets = np.empty(len(offsets), dtype=np.int64)
        t = self.trie
        if self.mode == "greedy":
            n = K.greedy_batch(data, offsets, t.keys, t.vals, t.node_token, s.out, out_offsets)
        elif self.mode == "minimal":
            n = K.minimal_batch(data, offsets, t.keys, t.vals, t.node_token, s.out, out_offsets,
                                s.best, s.choice_end, s.choice_token)
        else:
            n = K.bpe_batch(data, offsets, self.byte_ids, self.pair_keys, self.pair_ranks,
                            self.pair_results, s.out, out_offsets, s.ids, s.nxt, s.prv,
                            s.heap_key, s.heap_pos, t.keys, t.vals, t.node_token, self._whole_piece)
        if n < 0:
            position = -n - 1
            raise EncodingError(
                f"{self.tokenizer.name}: byte 0x{int(data[position]):02X} has no token in this vocabulary "
                f"(mode {self.mode}); the vocabulary is not byte-complete (missing bytes: "
                f"{len(self.trie.missing_bytes)})")
        return s.out[:n].tolist(), out_offsets.tolist() if piece_bounds else []

    def encode_strings(self, pieces: Sequence[str]) -> list[tuple[int, ...]]:
        """Segment pretokens as the pipeline spells them (``tok.native.pieces`` without added tokens).

        Example:
            >>> MergeFreeEncoder(tok, "bpe").encode_strings(["Hello", " world"])   # doctest: +SKIP
            [(15496,), (995,)]
        """
        cache = self._str_cache
        misses = [p for p in dict.fromkeys(pieces) if p not in cache]
        if misses:
            self._fill(misses)
        return [cache[p] for p in pieces]

    def _fill(self, unique: list[str]) -> None:
        """Segment pieces not yet in the string cache."""
        cache = self._str_cache
        if self._merges_chars:
            symbols = self._pipeline.base_symbols
            lookup = self._char_lookup
            for p in unique:
                cache[p] = tuple(apply_merges(symbols(p), lookup))
            return
        as_bytes = [self._pipeline.piece_to_bytes(p) for p in unique]
        todo = [b for b in dict.fromkeys(as_bytes) if b not in self._cache]
        if todo:
            self._run(todo)
        byte_cache = self._cache
        cache.update(zip(unique, (byte_cache[b] for b in as_bytes), strict=True))

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``: added tokens as themselves, every other piece segmented."""
        if self._compiled is not None:  # the common case, without the batch's bookkeeping
            check_text(text)
            segments = self._pipeline.segments(text)
            if len(segments) == 1 and segments[0][1] is None:
                data = np.frombuffer(segments[0][0].encode("utf-8"), dtype=np.uint8)
                return self._segment(data, self._compiled.byte_bounds(data), piece_bounds=False)[0]
        return self.encode_batch([text])[0]

    def encode_batch(self, texts: Iterable[str]) -> list[list[int]]:
        """Encode many texts; pretokens not seen before go to the kernel in one call.

        Byte-level models whose pretokenizer is one GPT-style pattern take a faster road: the
        texts are split by the compiled splitter (:mod:`tokbench.model.compiled_split`) and
        segmented by the kernel in one call, with no Python object per pretoken.
        """
        if self._compiled is not None:
            return self._encode_compiled(texts)
        pipeline = self._pipeline
        cache = self._str_cache
        split = pipeline.split_segment
        plans: list[list[int | list[str]]] = []
        misses: dict[str, None] = {}
        for text in texts:
            check_text(text)
            plan: list[int | list[str]] = []
            for k, (segment, added) in enumerate(pipeline.segments(text)):
                if added is not None:
                    plan.append(added)
                    continue
                pieces = split(segment, k == 0)
                for piece in pieces:
                    if piece not in cache:
                        misses[piece] = None
                plan.append(pieces)
            plans.append(plan)
        if misses:
            self._fill(list(misses))
        out: list[list[int]] = []
        for plan in plans:
            ids: list[int] = []
            for step in plan:
                if isinstance(step, int):
                    ids.append(step)
                else:
                    ids.extend(chain.from_iterable(map(cache.__getitem__, step)))
            out.append(ids)
        return out

    #: texts are split and segmented about this many bytes at a time: the kernels' scratch arrays
    #: grow with a batch (~40 B a byte), and at 4 MB page faults made minimal 1.6x slower than here
    COMPILED_BATCH_BYTES = 1 << 18

    def _encode_compiled(self, texts: Iterable[str]) -> list[list[int]]:
        out: list[list[int]] = []
        batch: list[str] = []
        size = 0
        for text in texts:
            check_text(text)
            batch.append(text)
            size += len(text)
            if size >= self.COMPILED_BATCH_BYTES:
                out.extend(self._encode_compiled_batch(batch))
                batch, size = [], 0
        if batch:
            out.extend(self._encode_compiled_batch(batch))
        return out

    def _encode_compiled_batch(self, texts: list[str]) -> list[list[int]]:
        """Added tokens and normalization in Python, then split + segment every other segment of
        every text in two kernel calls. A plan step >= 0 is an added token's id, ~k segment k."""
        plans: list[list[int]] = []
        segments: list[bytes] = []
        for text in texts:
            plan: list[int] = []
            for segment, added in self._pipeline.segments(text):
                if added is not None:
                    plan.append(added)
                else:
                    plan.append(~len(segments))
                    segments.append(segment.encode("utf-8"))
            plans.append(plan)
        offsets = np.zeros(len(segments) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, segments), dtype=np.int64, count=len(segments)), out=offsets[1:])
        data = np.frombuffer(b"".join(segments), dtype=np.uint8)
        bounds, first = self._compiled.split_batch(data, offsets)
        flat, id_bounds = self._segment(data, bounds)
        firsts = first.tolist()
        out: list[list[int]] = []
        for plan in plans:
            ids: list[int] = []
            for step in plan:
                if step >= 0:
                    ids.append(step)
                else:
                    k = ~step
                    ids.extend(flat[id_bounds[firsts[k]]:id_bounds[firsts[k + 1]]])
            out.append(ids)
        return out

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "mode": self.mode}
