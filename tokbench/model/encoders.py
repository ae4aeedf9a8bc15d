"""tokbench's own encoders: byte-level BPE, character BPE with byte fallback, and WordPiece.

Each encoder runs a tokenizer end to end without its reference library: added-token
extraction, normalizer, pretokenizer, then the model on each piece. They exist because
word-level metrics and the attacks need the pipeline's intermediate pieces and the model's
rules as data, and because a tokenizer that tokbench built or converted must be checked against
an independent implementation. Parity tests hold each one to ``tokenizers`` / ``tiktoken`` /
``sentencepiece`` on real text; ``Tokenizer.encode`` uses the reference library when there is one
(it is faster) and these otherwise.

* :class:`ByteLevelBPE` — GPT-2/tiktoken-style: pieces become bytes, bytes become base tokens,
  merges by merge rank (HF) or by rank of the merged token (tiktoken).
* :class:`CharBPE` — SentencePiece-style: pieces are characters (``▁`` for spaces), characters
  outside the vocabulary fall back to ``<0xNN>`` byte tokens or ``<unk>``; merges by merge rank
  (HF conversions such as Llama's) or by piece score (``.model`` files).
* :class:`WordPiece` — BERT: greedy longest-match-first with a ``##`` continuation prefix.
* :class:`UnigramEncoder` — SentencePiece / HF Unigram: Viterbi over the piece lattice
  (:mod:`tokbench.model.unigram`) on each piece.

Example:
    >>> from tokbench.model.pretokenizers import RegexSplit
    >>> enc = ByteLevelBPE(
    ...     token_bytes=[bytes([b]) for b in range(256)] + [b"ab"],
    ...     lookup=merge_rank_lookup([(97, 98)], first_new_id=256),
    ...     pretokenizer=RegexSplit(r"\\w+|\\s+"),
    ... )
    >>> enc.encode("abc ab")
    [256, 99, 32, 256]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import regex

from ..errors import EncodingError
from .bpe import PairLookup, apply_merges, merge_rank_lookup
from .normalizers import Normalizer
from .pretokenizers import SPACE_MARK, NoPreTokenizer, PreTokenizer
from .unigram import UnigramModel, WholeTextUnigram

if TYPE_CHECKING:
    from .fast_bpe import ByteBPEKernel

__all__ = ["AddedToken", "AddedTokenSplitter", "ByteLevelBPE", "CharBPE", "WordPiece", "UnigramEncoder",
           "merge_rank_lookup"]


@dataclass(frozen=True)
class AddedToken:
    """A token matched verbatim in the text before the model runs (HF ``added_tokens``)."""

    content: str
    id: int
    special: bool = True
    #: Matched on the normalized text (True) or on the raw text (False), as in HF.
    normalized: bool = False


#: Bytes that cannot appear in well-formed UTF-8.
_NON_UTF8_BYTES = frozenset([0xC0, 0xC1, *range(0xF5, 0x100)])


class AddedTokenSplitter:
    """Cut text around added tokens, leftmost-longest, as HF's ``AddedVocabulary`` does."""

    def __init__(self, tokens: Sequence[AddedToken]):
        self.raw = self._compile([t for t in tokens if not t.normalized])
        self.normalized = self._compile([t for t in tokens if t.normalized])

    @staticmethod
    def _compile(tokens: Sequence[AddedToken]) -> tuple[regex.Pattern[str], dict[str, int]] | None:
        if not tokens:
            return None
        ordered = sorted(tokens, key=lambda t: -len(t.content))
        pattern = regex.compile("|".join(regex.escape(t.content) for t in ordered))
        return pattern, {t.content: t.id for t in tokens}

    @staticmethod
    def split(text: str, compiled: tuple[regex.Pattern[str], dict[str, int]] | None) -> list[tuple[str, int | None]]:
        if compiled is None or not text:
            return [(text, None)] if text else []
        pattern, ids = compiled
        out: list[tuple[str, int | None]] = []
        last = 0
        for m in pattern.finditer(text):
            if m.start() > last:
                out.append((text[last : m.start()], None))
            out.append((m.group(), ids[m.group()]))
            last = m.end()
        if last < len(text):
            out.append((text[last:], None))
        return out


class _PipelineEncoder:
    """Shared driver: added tokens → normalizer → normalized added tokens → pieces → model."""

    normalizer: Normalizer | None
    pretokenizer: PreTokenizer
    added: AddedTokenSplitter

    def segments(self, text: str) -> list[tuple[str, int | None]]:
        out: list[tuple[str, int | None]] = []
        for raw, token_id in self.added.split(text, self.added.raw):
            if token_id is not None:
                out.append((raw, token_id))
                continue
            normalized = self.normalizer.normalize(raw) if self.normalizer else raw
            out.extend(self.added.split(normalized, self.added.normalized))
        return out

    def split_segment(self, segment: str, at_start: bool) -> list[str]:
        """Pretokenize one segment; only a segment at the very start of the input may get a
        Metaspace "first" prefix."""
        if not at_start and getattr(self.pretokenizer, "prepend_scheme", None) == "first":
            return self.pretokenizer.split(segment, at_start=False)  # type: ignore[call-arg]
        return self.pretokenizer.split(segment)

    def pieces(self, text: str) -> list[str]:
        """The pretokenizer's pieces of ``text`` after normalization (added tokens kept whole)."""
        out: list[str] = []
        for k, (segment, token_id) in enumerate(self.segments(text)):
            out.extend([segment] if token_id is not None else self.split_segment(segment, k == 0))
        return out

    def piece_bytes(self, text: str) -> list[tuple[bytes, int | None]]:
        """Each piece as the bytes the model segments, with the id of an added token (else None).

        This is what vocabulary-only encoders (:mod:`tokbench.attacks.mergefree.encoders`) consume.
        """
        out: list[tuple[bytes, int | None]] = []
        for k, (segment, token_id) in enumerate(self.segments(text)):
            if token_id is not None:
                out.append((b"", token_id))
            else:
                out.extend((self.piece_to_bytes(p), None) for p in self.split_segment(segment, k == 0))
        return out

    @staticmethod
    def piece_to_bytes(piece: str) -> bytes:
        return piece.encode("utf-8", errors="surrogatepass")

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for k, (segment, token_id) in enumerate(self.segments(text)):
            if token_id is not None:
                ids.append(token_id)
                continue
            for piece in self.split_segment(segment, k == 0):
                ids.extend(self.encode_piece(piece))
        return ids

    def encode_piece(self, piece: str) -> list[int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def clear_cache(self) -> None:
        """Forget the pieces encoded so far (timing a cold encode, or freeing memory)."""
        cache = getattr(self, "_cache", None)
        if cache is not None:
            cache.clear()


class ByteLevelBPE(_PipelineEncoder):
    """Byte-level BPE over pretokenized text; see the module docstring."""

    def __init__(
        self,
        *,
        token_bytes: Sequence[bytes],
        lookup: PairLookup,
        pretokenizer: PreTokenizer,
        normalizer: Normalizer | None = None,
        added_tokens: Sequence[AddedToken] = (),
        ignore_merges: bool = False,
        cache_size: int = 200_000,
        kernel: Callable[[], ByteBPEKernel] | None = None,
    ):
        self.token_bytes = token_bytes
        self._kernel_factory = kernel
        self._fast: tuple[Any, ByteBPEKernel] | None | bool = None
        self.lookup = lookup
        self.pretokenizer = pretokenizer
        self.normalizer = normalizer
        self.added = AddedTokenSplitter(added_tokens)
        self.ignore_merges = ignore_merges
        self.bytes_to_id: dict[bytes, int] = {}
        for i, tb in enumerate(token_bytes):
            self.bytes_to_id.setdefault(tb, i)
        # Bytes that never occur in UTF-8 (C0, C1, F5..FF) may be absent, as in GPT-NeoX.
        missing = [b for b in range(256) if bytes([b]) not in self.bytes_to_id and b not in _NON_UTF8_BYTES]
        if missing:
            raise EncodingError(
                f"byte-level BPE needs a token for every byte; {len(missing)} bytes have none "
                f"(first: 0x{missing[0]:02X}); this vocabulary is not byte-level"
            )
        self.byte_ids = [self.bytes_to_id.get(bytes([b]), -1) for b in range(256)]
        self._cache: dict[str, list[int]] = {}
        self._cache_size = cache_size

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``. When the pretokenizer is one GPT-style pattern and the format gave a
        kernel, the numba road (:mod:`tokbench.model.fast_bpe`); otherwise a piece at a time."""
        fast = self._fast_road()
        if fast is None:
            return super().encode(text)
        splitter, kernel = fast
        ids: list[int] = []
        for segment, token_id in self.segments(text):
            if token_id is not None:
                ids.append(token_id)
                continue
            raw = segment.encode("utf-8", errors="surrogatepass")
            ids.extend(kernel.encode_text(raw, splitter, whole_first=self.ignore_merges))
        return ids

    def _fast_road(self) -> tuple[Any, ByteBPEKernel] | None:
        if self._fast is None:
            from .compiled_split import compiled_split, plain_pattern_split

            pattern = plain_pattern_split(self.pretokenizer)
            splitter = compiled_split(pattern) if pattern is not None else None
            self._fast = False
            if splitter is not None and self._kernel_factory is not None:
                self._fast = (splitter, self._kernel_factory())
        return self._fast or None

    def encode_piece(self, piece: str) -> list[int]:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        data = piece.encode("utf-8", errors="surrogatepass")
        whole = self.bytes_to_id.get(data) if self.ignore_merges else None
        ids = [whole] if whole is not None else apply_merges([self.byte_ids[b] for b in data], self.lookup)
        if len(self._cache) < self._cache_size:
            self._cache[piece] = ids
        return ids


class CharBPE(_PipelineEncoder):
    """Character-level BPE with byte fallback (SentencePiece and its HF conversions)."""

    def __init__(
        self,
        *,
        piece_to_id: dict[str, int],
        lookup: PairLookup,
        normalizer: Normalizer | None,
        pretokenizer: PreTokenizer | None = None,
        byte_fallback: bool = True,
        unk_id: int | None = None,
        fuse_unk: bool = False,
        user_defined: Sequence[str] = (),
        added_tokens: Sequence[AddedToken] = (),
        ignore_merges: bool = False,
    ):
        self.piece_to_id = piece_to_id
        self.lookup = lookup
        self.normalizer = normalizer
        self.pretokenizer = pretokenizer or NoPreTokenizer()
        self.added = AddedTokenSplitter(added_tokens)
        self.unk_id = unk_id
        self.fuse_unk = fuse_unk
        self.ignore_merges = ignore_merges
        # Byte pieces that exist: HF falls back per character, when each of its bytes has one.
        self._byte_piece: dict[int, int] = {}
        if byte_fallback:
            found = {b: piece_to_id.get(f"<0x{b:02X}>") for b in range(256)}
            self._byte_piece = {b: i for b, i in found.items() if i is not None}
        self.byte_ids: list[int] | None = (
            [self._byte_piece[b] for b in range(256)] if len(self._byte_piece) == 256 else None
        )
        self._user = (
            regex.compile("|".join(regex.escape(p) for p in sorted(user_defined, key=len, reverse=True)))
            if user_defined
            else None
        )
        self._cache: dict[str, list[int]] = {}

    def base_symbols(self, piece: str) -> list[int]:
        """The ids a piece starts from before merging: user pieces whole, else characters (their
        byte pieces when unknown, else the unknown token).

        As in HF's BPE, an unknown character's ``unk`` waits until the next character found in
        the vocabulary (byte pieces in between come first), consecutive ones fuse into one with
        ``fuse_unk``, and without an unknown token the character is dropped.
        """
        symbols: list[int] = []
        unk_waiting = False
        i = 0
        while i < len(piece):
            match = self._user.match(piece, i) if self._user is not None else None
            ch = match.group() if match else piece[i]
            i += len(ch)
            token_id = self.piece_to_id.get(ch)
            if token_id is not None:
                if unk_waiting:
                    symbols.append(self.unk_id)  # type: ignore[arg-type]
                    unk_waiting = False
                symbols.append(token_id)
                continue
            fallback = self._fallback_bytes(ch)
            if fallback is not None:
                symbols.extend(fallback)
            elif self.unk_id is not None:
                if unk_waiting and not self.fuse_unk:
                    symbols.append(self.unk_id)
                unk_waiting = True
        if unk_waiting:
            symbols.append(self.unk_id)  # type: ignore[arg-type]
        return symbols

    def _fallback_bytes(self, ch: str) -> list[int] | None:
        if not self._byte_piece:
            return None
        ids = [self._byte_piece.get(b) for b in ch.encode("utf-8", errors="surrogatepass")]
        return None if None in ids else ids  # type: ignore[return-value]

    def encode_piece(self, piece: str) -> list[int]:
        cached = self._cache.get(piece)
        if cached is None:
            whole = self.piece_to_id.get(piece) if self.ignore_merges else None
            cached = [whole] if whole is not None else apply_merges(self.base_symbols(piece), self.lookup)
            if len(self._cache) < 200_000:
                self._cache[piece] = cached
        return cached

    def pieces(self, text: str) -> list[str]:
        return [p.replace(SPACE_MARK, " ") for p in super().pieces(text)]

    @staticmethod
    def piece_to_bytes(piece: str) -> bytes:
        # Vocabulary bytes spell SentencePiece's mark as a space.
        return piece.replace(SPACE_MARK, " ").encode("utf-8", errors="surrogatepass")


class WordPiece(_PipelineEncoder):
    """Greedy longest-match-first WordPiece (BERT)."""

    def __init__(
        self,
        *,
        piece_to_id: dict[str, int],
        unk_id: int,
        normalizer: Normalizer | None,
        pretokenizer: PreTokenizer,
        prefix: str = "##",
        max_input_chars_per_word: int = 100,
        added_tokens: Sequence[AddedToken] = (),
    ):
        self.piece_to_id = piece_to_id
        self.unk_id = unk_id
        self.normalizer = normalizer
        self.pretokenizer = pretokenizer
        self.prefix = prefix
        self.max_chars = max_input_chars_per_word
        self.added = AddedTokenSplitter(added_tokens)

    def encode_piece(self, piece: str) -> list[int]:
        if len(piece) > self.max_chars:
            return [self.unk_id]
        ids: list[int] = []
        start = 0
        while start < len(piece):
            end = len(piece)
            found = None
            while start < end:
                candidate = piece[start:end] if start == 0 else self.prefix + piece[start:end]
                found = self.piece_to_id.get(candidate)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids


class UnigramEncoder(_PipelineEncoder):
    """A Unigram model (:class:`tokbench.model.unigram.UnigramModel`) behind the usual pipeline.

    SentencePiece ``.model`` files run the model on the whole normalized text (no pretokenizer:
    splitting would restart the float32 path sums and can change ties), and show ``words`` (its
    word split) as their pieces; HF files run it on each pretokenizer piece.
    """

    def __init__(
        self,
        *,
        model: UnigramModel,
        normalizer: Normalizer | None,
        pretokenizer: PreTokenizer | None = None,
        added_tokens: Sequence[AddedToken] = (),
        cache_size: int = 200_000,
        words: PreTokenizer | None = None,
    ):
        self.model = model
        self.words = words
        self.normalizer = normalizer
        self.pretokenizer = pretokenizer or NoPreTokenizer()
        self.added = AddedTokenSplitter(added_tokens)
        self._cache: dict[str, list[int]] = {}
        self._cache_size = cache_size
        self._whole: WholeTextUnigram | None | bool = False

    def encode_piece(self, piece: str) -> list[int]:
        cached = self._cache.get(piece)
        if cached is None:
            cached = self.model.encode(piece)
            if len(self._cache) < self._cache_size and len(piece) < 256:
                self._cache[piece] = cached
        return cached

    def _whole_text(self) -> WholeTextUnigram | None:
        """The one-call kernel of a SentencePiece model (normalizer, then Viterbi on the whole
        text), or None when the pipeline has other stages (added tokens, a pretokenizer)."""
        if self._whole is False:
            plain = (self.added.raw is None and self.added.normalized is None
                     and isinstance(self.pretokenizer, NoPreTokenizer))
            self._whole = WholeTextUnigram.build(self.model, self.normalizer) if plain else None
        return self._whole  # type: ignore[return-value]

    def encode(self, text: str) -> list[int]:
        whole = self._whole_text()
        ids = whole.encode(text) if whole is not None else None
        return ids if ids is not None else self._encode_pieces(text)

    def _encode_pieces(self, text: str) -> list[int]:
        """The pipeline's ids, with every piece not in the cache encoded in one kernel call
        (:meth:`UnigramModel.encode_many`) instead of one call per piece."""
        parts: list[str | int] = []
        for k, (segment, token_id) in enumerate(self.segments(text)):
            if token_id is not None:
                parts.append(token_id)
            else:
                parts.extend(self.split_segment(segment, k == 0))
        missing = list(dict.fromkeys(p for p in parts if isinstance(p, str) and p not in self._cache))
        fresh = dict(zip(missing, self.model.encode_many(missing), strict=True)) if missing else {}
        for piece, piece_ids in fresh.items():
            if len(self._cache) < self._cache_size and len(piece) < 256:
                self._cache[piece] = piece_ids
        ids: list[int] = []
        for part in parts:
            if isinstance(part, int):
                ids.append(part)
            else:
                cached = self._cache.get(part)
                ids.extend(cached if cached is not None else fresh[part])
        return ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """:meth:`encode` of each text; a SentencePiece model encodes them all in one kernel call."""
        whole = self._whole_text()
        batch = whole.encode_batch(texts) if whole is not None else None
        return batch if batch is not None else [self.encode(t) for t in texts]

    def split_words(self, pieces: list[str]) -> list[str]:
        if self.words is None:
            return pieces
        return [word for piece in pieces for word in self.words.split(piece)]

    def pieces(self, text: str) -> list[str]:
        return [p.replace(SPACE_MARK, " ") for p in self.split_words(super().pieces(text))]

    def piece_bytes(self, text: str) -> list[tuple[bytes, int | None]]:
        out: list[tuple[bytes, int | None]] = []
        for data, token_id in super().piece_bytes(text):
            if token_id is not None or self.words is None:
                out.append((data, token_id))
            else:
                words = self.words.split(data.decode("utf-8", errors="surrogatepass").replace(" ", SPACE_MARK))
                out.extend((self.piece_to_bytes(w), None) for w in words)
        return out

    @staticmethod
    def piece_to_bytes(piece: str) -> bytes:
        return piece.replace(SPACE_MARK, " ").encode("utf-8", errors="surrogatepass")


@dataclass
class EncoderSpec:
    """What ``tokbench info`` shows of a native pipeline."""

    normalizer: dict[str, Any] | None
    pretokenizer: dict[str, Any] | None
    model: dict[str, Any] = field(default_factory=dict)


def describe_pipeline(encoder: _PipelineEncoder | None) -> EncoderSpec | None:
    if encoder is None:
        return None
    normalizer = encoder.normalizer.describe() if encoder.normalizer else None
    return EncoderSpec(normalizer=normalizer, pretokenizer=encoder.pretokenizer.describe(),
                       model={"type": type(encoder).__name__})

