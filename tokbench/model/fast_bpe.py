"""Byte-level BPE through numba kernels: the native encoder's fast road for byte-level models
whose pretokenizer is one GPT-style pattern (tiktoken files, GPT-2, OLMo 2, Qwen2, GPT-NeoX).

:class:`~tokbench.model.encoders.ByteLevelBPE` encodes a piece at a time in Python
(:func:`tokbench.model.bpe.apply_merges`, the readable twin); that costs a few microseconds a
pretoken, 5-20x tiktoken's time. Here a text is split by :mod:`tokbench.model.compiled_split` and
every piece is merged by :func:`tokbench._numba.bpe.bpe_batch` in one call. The two merge rules
of byte-level files are both exact:

* merge-list BPE (HF ``tokenizer.json``, GPT-2 files): a pair merges if it is in the merge list,
  by its rank (:meth:`ByteBPEKernel.from_merges`);
* rank BPE (tiktoken): a pair merges whenever the two tokens joined are a token, by that token's
  rank (:meth:`ByteBPEKernel.from_ranks`, which lists every split of every token into two tokens).

Example:
    >>> import numpy as np
    >>> vocab = [bytes([b]) for b in range(256)] + [b"ab"]
    >>> kernel = ByteBPEKernel.from_merges(vocab, [(97, 98)], [256])
    >>> kernel.encode(np.frombuffer(b"abcab", np.uint8), np.array([0, 3, 5]), whole_first=False)
    [256, 99, 256]
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np

from .._numba.bpe import bpe_batch, concat_pairs, pair_table_build
from .._numba.trie import hash_capacity, trie_build
from ..errors import EncodingError

__all__ = ["ByteBPEKernel"]


def _packed(token_bytes: Sequence[bytes], excluded: Collection[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tokens other than ``excluded`` and empty ones, as one buffer, offsets and ids."""
    ids = [i for i, b in enumerate(token_bytes) if b and i not in excluded]
    pieces = [token_bytes[i] for i in ids]
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)), out=offsets[1:])
    return np.frombuffer(b"".join(pieces), dtype=np.uint8), offsets, np.asarray(ids, dtype=np.int32)


def _trie(data: np.ndarray, offsets: np.ndarray, ids: np.ndarray) -> tuple:
    """The byte trie of packed tokens (keys, vals, node_token)."""
    total = int(offsets[-1])
    return trie_build(data, offsets, ids, hash_capacity(total), total + 1)


class ByteBPEKernel:
    """A vocabulary's byte trie and pair table, and scratch arrays for :func:`bpe_batch`."""

    def __init__(self, token_bytes: Sequence[bytes], lefts: np.ndarray, rights: np.ndarray, merged: np.ndarray,
                 priority: np.ndarray, *, excluded: Collection[int] = (), trie: tuple | None = None):
        data, offsets, ids = _packed(token_bytes, excluded)
        self.trie = trie if trie is not None else _trie(data, offsets, ids)
        self.pairs = pair_table_build(lefts, rights, merged, priority, hash_capacity(len(lefts)))
        self.byte_ids = np.full(256, -1, dtype=np.int32)
        for i, b in zip(ids.tolist(), (token_bytes[i] for i in ids.tolist()), strict=True):
            if len(b) == 1 and self.byte_ids[b[0]] < 0:
                self.byte_ids[b[0]] = i
        self._size = 0
        self._grow(1024)

    @classmethod
    def from_merges(cls, token_bytes: Sequence[bytes], merges: Sequence[tuple[int, int]], merged_ids: Sequence[int],
                    *, excluded: Collection[int] = ()) -> ByteBPEKernel:
        """Merge-list BPE: merge k joins ``merges[k]`` into ``merged_ids[k]``, rank k."""
        count = len(merges)
        lefts = np.fromiter((a for a, _ in merges), dtype=np.int32, count=count)
        rights = np.fromiter((b for _, b in merges), dtype=np.int32, count=count)
        merged = np.asarray(merged_ids, dtype=np.int32).reshape(count)
        return cls(token_bytes, lefts, rights, merged, np.arange(count), excluded=excluded)

    @classmethod
    def from_ranks(cls, token_bytes: Sequence[bytes], *, excluded: Collection[int] = ()) -> ByteBPEKernel:
        """Rank BPE (tiktoken; token id = rank): any two tokens merge when joined they are a
        token, the lowest such rank first."""
        data, offsets, ids = _packed(token_bytes, excluded)
        trie = _trie(data, offsets, ids)
        lefts, rights, merged = concat_pairs(data, offsets, ids, *trie)
        return cls(token_bytes, lefts, rights, merged, merged.astype(np.int64), excluded=excluded, trie=trie)

    def _grow(self, n: int) -> None:
        if n <= self._size:
            return
        self._size = size = max(n, 2 * self._size)
        self._out = np.empty(size, dtype=np.int32)
        self._ids = np.empty(size, dtype=np.int32)
        self._nxt = np.empty(size, dtype=np.int64)
        self._prv = np.empty(size, dtype=np.int64)
        self._heap_key = np.empty(3 * size, dtype=np.int64)
        self._heap_pos = np.empty(3 * size, dtype=np.int64)

    def encode_text(self, raw: bytes, splitter: Any, *, whole_first: bool) -> list[int]:
        """Ids of the UTF-8 text ``raw`` split by ``splitter`` (a
        :class:`~tokbench.model.compiled_split.CompiledSplit`)."""
        data = np.frombuffer(raw, dtype=np.uint8)
        return self.encode(data, splitter.byte_bounds(data), whole_first=whole_first)

    def encode(self, data: np.ndarray, bounds: np.ndarray, *, whole_first: bool) -> list[int]:
        """Ids of the pieces ``data[bounds[k]:bounds[k + 1]]``, in order. With ``whole_first`` a
        piece that is a token is that token (tiktoken, and HF's ``ignore_merges``)."""
        self._grow(max(data.shape[0], 1))
        out_offsets = np.empty(bounds.shape[0], dtype=np.int64)
        n = bpe_batch(data, bounds, self.byte_ids, *self.pairs, self._out, out_offsets, self._ids,
                      self._nxt, self._prv, self._heap_key, self._heap_pos, *self.trie, whole_first)
        if n < 0:
            raise EncodingError(f"byte 0x{int(data[-n - 1]):02X} has no token in this byte-level vocabulary")
        return self._out[:n].tolist()
