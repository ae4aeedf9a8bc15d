"""The one ``Tokenizer`` model every layer of tokbench works with, whatever file it came from.

A ``Tokenizer`` holds the vocabulary as raw ``bytes`` by id (byte-level spellings undone,
SentencePiece's ``▁`` as a space, ``<0xNN>`` pieces as their byte), the ordered merges as id
pairs where the model has them, the special tokens, and two ways to encode:

* ``reference`` — the library that is ground truth for the file (``tokenizers``, ``tiktoken`` or
  ``sentencepiece``), used by default because it is fast and exact by definition;
* ``native`` — tokbench's own pipeline (:mod:`tokbench.model.encoders`), which parity tests hold to
  the reference and which gives the pretokenizer pieces that word-level metrics need.

Example:
    >>> tok = load_tokenizer("r50k_base.tiktoken")          # doctest: +SKIP
    >>> tok.encode("Hello world"), tok.kind, tok.vocab_size  # doctest: +SKIP
    ([15496, 995], 'bpe', 50257)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from ..errors import EncodingError, TokbenchError, TokenizerFormatError, UnsupportedTokenizerError

__all__ = ["Tokenizer", "ReferenceEncoder", "Backend", "BACKENDS", "TokenizerKind", "check_text", "check_ids"]

TokenizerKind = Literal["bpe", "wordpiece", "unigram", "hybrid"]
Backend = Literal["auto", "reference", "native"]
BACKENDS: tuple[str, ...] = ("auto", "reference", "native")
_PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit)


class ReferenceEncoder(Protocol):
    """A thin adapter over a ground-truth library (see :mod:`tokbench.model.references`)."""

    library: str

    def encode(self, text: str) -> list[int]: ...

    def encode_batch(self, texts: list[str]) -> list[list[int]]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


class NativeEncoder(Protocol):
    def encode(self, text: str) -> list[int]: ...

    def pieces(self, text: str) -> list[str]: ...


@dataclass(eq=False)
class Tokenizer:
    """A tokenizer model; build it with :func:`tokbench.load_tokenizer` or a trainer."""

    vocab: list[bytes]
    kind: TokenizerKind
    name: str
    fingerprint: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    source_format: str = "memory"
    source_paths: tuple[Path, ...] = ()
    #: Split regex, normalizer and model options, as shown by ``tokbench info``.
    description: dict[str, Any] = field(default_factory=dict)
    #: Ids with no token (gaps in a rank file, e.g. cl100k's 100256); their bytes are ``b""``.
    unused_ids: frozenset[int] = frozenset()
    #: SentencePiece-style ``<0xNN>`` byte-fallback tokens (their vocab entry is the byte).
    byte_fallback_ids: frozenset[int] = frozenset()
    _merges: list[tuple[int, int]] | None = None
    _merges_factory: Callable[[], list[tuple[int, int]]] | None = None
    _reference_factory: Callable[[], ReferenceEncoder] | None = None
    _native_factory: Callable[[], NativeEncoder] | None = None
    _writer: Callable[[Tokenizer], str] | None = None
    _reference: ReferenceEncoder | None = field(default=None, repr=False)
    _native: NativeEncoder | None = field(default=None, repr=False)

    # ----------------------------------------------------------------------------- vocabulary

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def merges(self) -> list[tuple[int, int]] | None:
        """The ordered merge list as id pairs, or ``None`` for models without merges.

        For rank/score files the list is recovered on first use (a second or two for 100k
        tokens) and then kept.
        """
        if self._merges is None and self._merges_factory is not None:
            self._merges = self._merges_factory()
        return self._merges

    @property
    def has_merges(self) -> bool:
        return self._merges is not None or self._merges_factory is not None

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes a token stands for (a special token: its text)."""
        return self.vocab[self._check_id(token_id)]

    def _check_id(self, token_id: object) -> int:
        """``token_id`` as an int (numpy integers accepted) if it names a token; else raise."""
        try:
            if isinstance(token_id, bool):
                raise TypeError
            index = operator.index(token_id)  # type: ignore[arg-type]
        except TypeError:
            raise TokbenchError(f"token ids must be integers, got {type(token_id).__name__} {token_id!r}") from None
        if not 0 <= index < self.vocab_size:
            raise TokbenchError(
                f"token id {token_id!r} is outside this vocabulary (0..{self.vocab_size - 1})"
            )
        if index in self.unused_ids:
            raise TokbenchError(f"token id {token_id} is unused in {self.name} (a gap in its id space)")
        return index

    @property
    def special_ids(self) -> frozenset[int]:
        return frozenset(self.special_tokens.values())

    # ------------------------------------------------------------------------------ encoding

    @property
    def reference(self) -> ReferenceEncoder | None:
        if self._reference is None and self._reference_factory is not None:
            self._reference = self._reference_factory()
        return self._reference

    @property
    def native(self) -> NativeEncoder:
        if self._native is None:
            if self._native_factory is None:
                raise UnsupportedTokenizerError(
                    f"{self.name}: tokbench has no native encoder for this {self.kind} model "
                    f"({self.source_format}); use backend='reference'"
                )
            self._native = self._build_native(self._native_factory)
        return self._native

    def _build_native(self, factory: Callable[[], NativeEncoder]) -> NativeEncoder:
        """Run the native factory; a damaged file's tables fail here, so name the file."""
        try:
            return factory()
        except (TokbenchError, *_PASS_THROUGH):
            raise
        except Exception as err:  # noqa: BLE001 - the file's content, not tokbench, is at fault
            where = self.source_paths[0] if self.source_paths else self.name
            raise TokenizerFormatError(
                where, f"cannot build the native encoder ({type(err).__name__}: {err})",
                hint="the file is damaged or inconsistent; try backend='reference'") from None

    def _backend(self, backend: Backend) -> ReferenceEncoder | NativeEncoder:
        if backend not in BACKENDS:
            raise TokbenchError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
        if backend == "native":
            return self.native
        reference = self.reference
        if reference is not None:
            return reference
        if backend == "reference":
            raise UnsupportedTokenizerError(
                f"{self.name}: no reference library can encode this tokenizer; use backend='native'"
            )
        return self.native

    def encode(self, text: str, *, backend: Backend = "auto") -> list[int]:
        """Token ids of ``text``, without special tokens added (BOS/CLS are not prepended).

        Special-token strings inside ``text`` are handled as the reference library does by
        default for the format: HF files split them out as their ids; tiktoken and
        SentencePiece files treat them as ordinary text.
        """
        check_text(text)
        return self._backend(backend).encode(text)

    def encode_batch(self, texts: Iterable[str], *, backend: Backend = "auto") -> list[list[int]]:
        """Encode many texts; the reference libraries parallelise this internally."""
        batch = list(texts)
        for text in batch:
            check_text(text)
        encoder = self._backend(backend)
        if hasattr(encoder, "encode_batch"):
            return encoder.encode_batch(batch)
        return [encoder.encode(t) for t in batch]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids``; invalid UTF-8 (a token sequence cut mid-character) becomes U+FFFD."""
        ids = [self._check_id(token_id) for token_id in check_ids(ids)]
        reference = self.reference
        if reference is not None:
            return reference.decode(list(ids))
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    def pretokenize(self, text: str) -> list[str]:
        """The pieces the pretokenizer hands to the model, after normalization.

        SentencePiece's ``▁`` is shown as a space, so pieces read as text.
        """
        check_text(text)
        return self.native.pieces(text)

    def tokens(self, text: str, *, backend: Backend = "auto") -> list[bytes]:
        """The bytes of each token of ``text`` (handy for inspection)."""
        return [self.vocab[i] for i in self.encode(text, backend=backend)]

    # -------------------------------------------------------------------------------- saving

    def to_hf_json(self) -> str:
        """This tokenizer as the text of a standard HF ``tokenizer.json`` (BPE models)."""
        if self._writer is None:
            raise UnsupportedTokenizerError(
                f"{self.name}: saving a {self.kind} model from {self.source_format} as "
                "tokenizer.json is not supported; only BPE models can be saved"
            )
        return self._writer(self)

    def save(self, path: str | Path) -> Path:
        """Write the tokenizer atomically; returns the path.

        BPE models are written as a standard HF ``tokenizer.json``; a model no HF file can
        express (the morphology hybrid) is written in its own documented JSON format, which
        :func:`tokbench.load_tokenizer` reads back.
        """
        from .._io import atomic_write

        text = self.to_hf_json()
        target = Path(path)
        with atomic_write(target) as handle:
            handle.write(text)
        return target

    # ------------------------------------------------------------------------------ metadata

    def info(self) -> dict[str, Any]:
        """Everything ``tokbench info`` prints, as plain data."""
        merges = self.merges
        return {
            "name": self.name,
            "kind": self.kind,
            "format": self.source_format,
            "files": [str(p) for p in self.source_paths],
            "vocab_size": self.vocab_size,
            "merges": None if merges is None else len(merges),
            "special_tokens": dict(sorted(self.special_tokens.items(), key=lambda kv: kv[1])),
            "fingerprint": self.fingerprint,
            "reference_library": None if self._reference_factory is None else self.reference.library,
            **self.description,
        }

    def __repr__(self) -> str:
        return (
            f"Tokenizer(name={self.name!r}, kind={self.kind!r}, vocab_size={self.vocab_size}, "
            f"format={self.source_format!r}, fingerprint={self.fingerprint[:12]!r})"
        )


def check_ids(ids: object) -> list[object]:
    """``ids`` as a list if it is a sequence of token ids (not text, not a scalar); else raise.

    Example:
        >>> check_ids((1, 2))
        [1, 2]
    """
    if isinstance(ids, str | bytes | bytearray) or not isinstance(ids, Iterable):
        raise TokbenchError(
            f"decode expects a list of token ids (integers), got {type(ids).__name__}; "
            "pass e.g. tok.encode(text)"
        )
    return list(ids)


def check_text(text: object) -> None:
    """Raise :class:`EncodingError` unless ``text`` is a str that is valid Unicode."""
    if not isinstance(text, str):
        raise EncodingError(
            f"expected text (str), got {type(text).__name__}; decode bytes as UTF-8 first"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise EncodingError(
            f"text is not valid Unicode: {err.reason} at character {err.start} "
            f"({text[err.start:err.end]!r}); remove lone surrogates, e.g. by re-decoding the "
            "source bytes with errors='replace'"
        ) from None
