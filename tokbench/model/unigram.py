"""Unigram language-model segmentation: Viterbi over the piece lattice (Kudo 2018).

Where BPE (:mod:`tokbench.model.bpe`) replays merges, a Unigram model scores every way of
cutting the text into vocabulary pieces and keeps the one with the highest sum of piece
log-probabilities. This module replays the forward Viterbi of ``sentencepiece``'s
``unigram_model.cc`` and of HF ``tokenizers``' ``Unigram`` rule for rule, because their outputs
differ only in those rules:

* the lattice is walked left to right, one character at a time; at each start the pieces that
  begin there are tried shortest first, and a later candidate replaces an end node's best path
  only when strictly better — ties keep the first one found;
* a character no piece starts with gets the unknown piece, scored ``min_score - 10``;
* ``sentencepiece`` adds and compares path scores in float32 (the released library rounds each
  candidate sum to float32 before comparing: on a tie of "0"+"00" against "00"+"0" this decides),
  gives user-defined pieces ``len_bytes * max_score - 0.1`` so they always win, takes min/max
  over normal pieces only, and skips unused pieces; HF keeps float64, takes the minimum over all
  pieces and scores every piece by its own score;
* consecutive unknown characters come out as one unknown piece (``sentencepiece`` always,
  HF with ``fuse_unk``); with byte fallback an unknown piece is spelled as ``<0xNN>`` pieces.

Example:
    >>> model = UnigramModel([("<unk>", 0.0), ("a", -1.0), ("b", -1.0), ("ab", -1.5)], unk_id=0)
    >>> model.encode("abc")
    [3, 0]
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Callable, Sequence

from ..errors import EncodingError

__all__ = ["UnigramModel", "WholeTextUnigram", "UNK_PENALTY"]

#: What ``sentencepiece`` and ``tokenizers`` subtract from the lowest piece score for ``<unk>``.
UNK_PENALTY = 10.0
#: C's FLT_MIN: sentencepiece's starting maximum score (so max_score is never below it).
_FLT_MIN = 1.1754943508222875e-38
_F32 = struct.Struct("<f")


def to_float32(value: float) -> float:
    """``value`` rounded to the nearest float32, as C++ ``float`` arithmetic stores it.

    Example:
        >>> to_float32(0.1) == 0.1
        False
    """
    return _F32.unpack(_F32.pack(value))[0]


class UnigramModel:
    """Viterbi segmentation of normalized text into piece ids.

    ``pieces`` are ``(piece, score)`` by id; ``usable`` (default: all) are the ids the lattice
    may use; ``user_defined`` get sentencepiece's always-win score; ``byte_ids`` (the 256
    ``<0xNN>`` ids) turn unknown pieces into bytes. ``sentencepiece_scores`` selects
    sentencepiece's float32 arithmetic and min/max over ``normal`` ids, else HF's float64 and
    min over all pieces.
    """

    def __init__(
        self,
        pieces: Sequence[tuple[str, float]],
        *,
        unk_id: int | None,
        usable: Sequence[int] | None = None,
        normal: Sequence[int] | None = None,
        user_defined: Sequence[int] = (),
        byte_ids: Sequence[int] | None = None,
        fuse_unk: bool = True,
        sentencepiece_scores: bool = False,
    ):
        self.unk_id = unk_id
        self.fuse_unk = fuse_unk
        self.byte_ids = list(byte_ids) if byte_ids is not None else None
        self.f32 = sentencepiece_scores
        self._tables: tuple | None = None
        ids = range(len(pieces)) if usable is None else usable
        self.piece_to_id: dict[str, int] = {}
        for i in ids:
            self.piece_to_id.setdefault(pieces[i][0], i)
        # Longest piece per first character bounds the lattice walk from each position.
        self.max_len: dict[str, int] = {}
        for piece in self.piece_to_id:
            if len(piece) > self.max_len.get(piece[0], 0):
                self.max_len[piece[0]] = len(piece)
        scored = [pieces[i][1] for i in (range(len(pieces)) if normal is None else normal)]
        min_score = min(scored, default=0.0)
        self.score = [s for _, s in pieces]
        if sentencepiece_scores:
            max_score = max([_FLT_MIN, *scored])
            self.unk_score = to_float32(to_float32(min_score) - UNK_PENALTY)
            for i in user_defined:
                self.score[i] = to_float32(to_float32(len(pieces[i][0].encode("utf-8")) * max_score) - 0.1)
        else:
            self.unk_score = min_score - UNK_PENALTY

    def segment(self, text: str) -> list[tuple[int, int, int]]:
        """The best path as ``(start, end, id)`` character spans (``id`` is ``unk_id`` for unknowns)."""
        size = len(text)
        best: array[float] | list[float] = array("f", bytes(4 * (size + 1))) if self.f32 else [0.0] * (size + 1)
        start_of = [-1] * (size + 1)
        id_of = [-1] * (size + 1)
        get_id, score, max_len = self.piece_to_id.get, self.score, self.max_len.get
        for start in range(size):
            here = best[start]
            single = False
            for end in range(start + 1, start + 1 + min(max_len(text[start], 0), size - start)):
                token = get_id(text[start:end])
                if token is None:
                    continue
                candidate = to_float32(score[token] + here) if self.f32 else score[token] + here
                if start_of[end] == -1 or candidate > best[end]:
                    best[end], start_of[end], id_of[end] = candidate, start, token
                if end == start + 1:
                    single = True
            if not single:
                end = start + 1
                candidate = to_float32(self.unk_score + here) if self.f32 else self.unk_score + here
                if start_of[end] == -1 or candidate > best[end]:
                    best[end], start_of[end], id_of[end] = candidate, start, self.unk_id if self.unk_id is not None else -1
        path: list[tuple[int, int, int]] = []
        end = size
        while end > 0:
            path.append((start_of[end], end, id_of[end]))
            end = start_of[end]
        path.reverse()
        return path

    def kernel_tables(self) -> tuple:
        """The model's arguments of :func:`tokbench.model._kernels.unigram_ids` after the code
        points: piece trie, longest piece, scores, unknown score and id (built once)."""
        import numpy as np

        from ._kernels import build_trie, pack_trie

        if self._tables is None:
            dtype = np.float32 if self.f32 else np.float64
            pieces = list(self.piece_to_id)
            byte_ids = np.array(self.byte_ids if self.byte_ids is not None else [], np.int64)
            self._tables = (*pack_trie(*build_trie(pieces, [self.piece_to_id[p] for p in pieces])),
                            np.array(self.score, dtype), dtype(self.unk_score),
                            -1 if self.unk_id is None else self.unk_id, self.fuse_unk, byte_ids)
        return self._tables

    def segment_fast(self, text: str) -> list[tuple[int, int, int]]:
        """:meth:`segment` by the numba kernel (:mod:`tokbench.model._kernels`)."""
        import numpy as np

        from ._kernels import viterbi

        pairs, root, node_token, max_len, scores, unk_score, unk_id, _, _ = self.kernel_tables()
        size = len(text)
        cps = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), np.uint32).astype(np.int64)
        best = np.zeros(size + 1, scores.dtype)
        start_of = np.full(size + 1, -1, np.int64)
        id_of = np.full(size + 1, -1, np.int64)
        viterbi(cps, pairs, root, node_token, max_len, scores, unk_score, unk_id, best, start_of, id_of)
        starts, ids = start_of.tolist(), id_of.tolist()
        path: list[tuple[int, int, int]] = []
        end = size
        while end > 0:
            path.append((starts[end], end, ids[end]))
            end = starts[end]
        path.reverse()
        return path

    def encode_fast(self, text: str) -> list[int]:
        """:meth:`encode` with path, unknown fusing and byte spelling all in the kernel
        (:func:`tokbench.model._kernels.unigram_ids`)."""
        import numpy as np

        from ._kernels import unigram_ids

        cps = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), np.uint32).astype(np.int64)
        out = np.empty(4 * len(text), np.int64)
        n = unigram_ids(cps, *self.kernel_tables(), out)
        if n < 0:
            return self.encode(text, fast=False)  # raises the error that names the character
        return out[:n].tolist()

    def encode_many(self, texts: Sequence[str]) -> list[list[int]]:
        """:meth:`encode` of each text, all in one kernel call
        (:func:`tokbench.model._kernels.unigram_ids_batch`)."""
        import numpy as np

        from ._kernels import unigram_ids_batch

        cps = np.frombuffer("".join(texts).encode("utf-32-le", errors="surrogatepass"), np.uint32).astype(np.int64)
        offsets = np.zeros(len(texts) + 1, np.int64)
        np.cumsum([len(t) for t in texts], out=offsets[1:])
        status, ids, id_offsets = unigram_ids_batch(cps, offsets, *self.kernel_tables())
        if status != 0:
            return [self.encode(t, fast=False) for t in texts]  # raises the error naming the character
        flat, cuts = ids.tolist(), id_offsets.tolist()
        return [flat[cuts[i]:cuts[i + 1]] for i in range(len(texts))]

    def encode(self, text: str, *, fast: bool | None = None) -> list[int]:
        """Ids of ``text`` (already normalized), unknowns fused and byte-spelled as configured.

        ``fast`` picks the numba kernel (True) or the readable twin (False); by default the kernel
        runs on texts of 16 characters or more, where it wins over its call overhead.
        """
        if fast is None:
            fast = len(text) >= 16
        if fast:
            return self.encode_fast(text)
        spans: list[tuple[int, int, int]] = []
        for start, end, token in self.segment(text):
            if token == -1:
                raise EncodingError(
                    f"character {text[start]!r} is not in the vocabulary and the Unigram model has no "
                    "unknown piece")
            if self.fuse_unk and token == self.unk_id and spans and spans[-1][2] == token:
                spans[-1] = (spans[-1][0], end, token)
            else:
                spans.append((start, end, token))
        if self.byte_ids is None:
            return [token for _, _, token in spans]
        ids: list[int] = []
        for start, end, token in spans:
            if token == self.unk_id:
                ids.extend(self.byte_ids[b] for b in text[start:end].encode("utf-8", errors="surrogatepass"))
            else:
                ids.append(token)
        return ids


class WholeTextUnigram:
    """A SentencePiece Unigram model end to end in one kernel call per text or per batch:
    sentencepiece's normalizer (:func:`tokbench.model._kernels.sp_normalize`), then Viterbi on
    the whole normalized text (:func:`tokbench.model._kernels.sentencepiece_unigram`).

    :meth:`encode` returns None where the Python pipeline must answer instead: a text with lone
    surrogates (no UTF-8 for the kernel), or an unknown character in a model without ``<unk>``
    (the Python path raises the error that names it).
    """

    def __init__(self, args: tuple, damaged: Callable[[], Exception]):
        self.args = args
        self.damaged = damaged

    @classmethod
    def build(cls, model: UnigramModel, normalizer: object) -> WholeTextUnigram | None:
        """The kernel for ``model`` behind ``normalizer`` (a
        :class:`tokbench.model.charsmap.SentencePieceNormalizer` with a trie), else None."""
        normalizer_args = getattr(normalizer, "kernel_args", None)
        if not (model.f32 and model.fuse_unk and normalizer_args is not None):
            return None
        tables = model.kernel_tables()
        # unigram_ids' fuse_unk flag is not an argument here: sentencepiece always fuses.
        return cls((*normalizer_args, *tables[:-2], tables[-1]), normalizer.damaged)  # type: ignore[attr-defined]

    def encode(self, text: str) -> list[int] | None:
        import numpy as np

        from ._kernels import sentencepiece_unigram

        data = _utf8(text)
        if data is None:
            return None
        status, ids = sentencepiece_unigram(np.frombuffer(data, np.uint8), *self.args)
        return ids.tolist() if status == 0 else self._failed(status)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]] | None:
        import numpy as np

        from ._kernels import sentencepiece_unigram_batch

        data = [_utf8(t) for t in texts]
        if any(d is None for d in data):
            return None
        offsets = np.zeros(len(data) + 1, np.int64)
        np.cumsum([len(d) for d in data], out=offsets[1:])  # type: ignore[arg-type]
        status, ids, id_offsets = sentencepiece_unigram_batch(np.frombuffer(b"".join(data), np.uint8),  # type: ignore[arg-type]
                                                              offsets, *self.args)
        if status != 0:
            return self._failed(status)
        flat, cuts = ids.tolist(), id_offsets.tolist()
        return [flat[cuts[i]:cuts[i + 1]] for i in range(len(texts))]

    def _failed(self, status: int) -> None:
        from ._kernels import DAMAGED

        if status == DAMAGED:
            raise self.damaged()
        return None


def _utf8(text: str) -> bytes | None:
    """``text`` as UTF-8, or None when it holds lone surrogates."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return None
