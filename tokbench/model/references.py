"""Adapters over the ground-truth libraries: ``tokenizers``, ``tiktoken`` and ``sentencepiece``.

Each adapter encodes without adding special tokens, so counts measure the text alone (as
Arnett et al. count), and exposes the same three calls. Imports happen inside the functions so
that ``import tokbench`` stays fast.

The libraries fail in their own ways on a damaged file: ``tokenizers`` raises a bare
``Exception``, ``sentencepiece`` a ``RuntimeError`` or ``OSError``, and tiktoken's Rust code
*panics* (``PanicException``, a ``BaseException`` that escapes ``except Exception``). Every call
into a library runs under :func:`library_errors`, which turns any of these into a
:class:`~tokbench.errors.TokbenchError` naming the file; only ``KeyboardInterrupt``,
``SystemExit`` and ``GeneratorExit`` pass through.

Example:
    >>> ref = HFReference.from_file("tokenizer.json")   # doctest: +SKIP
    >>> ref.library, ref.encode("hi")                     # doctest: +SKIP
    ('tokenizers', [5303])
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import EncodingError, TokbenchError, TokenizerFormatError

__all__ = ["HFReference", "TiktokenReference", "SentencePieceReference", "library_errors", "PASS_THROUGH"]

#: Exceptions that mean "stop now", never a bad file: they are re-raised untouched.
PASS_THROUGH = (KeyboardInterrupt, SystemExit, GeneratorExit)


def _short(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:300]}" if text else type(err).__name__


@contextlib.contextmanager
def library_errors(library: str, where: Any, action: str, *, loading: bool = True) -> Iterator[None]:
    """Run a call into ``library``; turn whatever it raises (panics included) into a
    :class:`TokbenchError` that names ``where`` and says what failed.

    Example:
        >>> with library_errors("tiktoken", "x.tiktoken", "build the encoding"):  # doctest: +SKIP
        ...     raise ValueError("bad rank")
        Traceback (most recent call last):
        TokenizerFormatError: x.tiktoken: tiktoken cannot build the encoding (ValueError: bad rank) ...
    """
    try:
        yield
    except (TokbenchError, *PASS_THROUGH):
        raise
    except BaseException as err:  # noqa: BLE001 - panics are BaseExceptions; see the module doc
        problem = f"{library} cannot {action} ({_short(err)})"
        if loading:
            raise TokenizerFormatError(
                where, problem,
                hint=f"the file is damaged or uses a feature this {library} version lacks; "
                     "re-download it or check that it loads with the library itself") from None
        raise EncodingError(f"{where}: {problem}") from None


class HFReference:
    """``tokenizers.Tokenizer`` with ``add_special_tokens=False``."""

    library = "tokenizers"

    def __init__(self, backend: Any, *, where: Any = None):
        # Files may ship padding/truncation settings (BERT pads batches); counts need neither.
        with library_errors(self.library, where, "read the tokenizer"):
            backend.no_padding()
            backend.no_truncation()
        self.backend = backend
        self.where = where

    @classmethod
    def from_file(cls, path: str | Path) -> HFReference:
        from tokenizers import Tokenizer as HFTokenizer

        with library_errors(cls.library, path, "read the tokenizer"):
            backend = HFTokenizer.from_file(str(path))
        return cls(backend, where=path)

    @classmethod
    def from_str(cls, text: str, *, where: Any = None) -> HFReference:
        from tokenizers import Tokenizer as HFTokenizer

        with library_errors(cls.library, where, "read the tokenizer"):
            backend = HFTokenizer.from_str(text)
        return cls(backend, where=where)

    @classmethod
    def from_gpt2_files(cls, vocab: Path, merges: Path, special_tokens: Sequence[str]) -> HFReference:
        """``BPE.from_file`` on a GPT-2 ``vocab.json`` + ``merges.txt`` with a ByteLevel pipeline."""
        from tokenizers import Tokenizer as HFTokenizer
        from tokenizers import decoders, models, pre_tokenizers

        with library_errors(cls.library, vocab.parent, "read vocab.json + merges.txt"):
            backend = HFTokenizer(models.BPE.from_file(str(vocab), str(merges)))
            backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
            backend.decoder = decoders.ByteLevel()
            backend.add_special_tokens(list(special_tokens))
        return cls(backend, where=vocab.parent)

    def encode(self, text: str) -> list[int]:
        with library_errors(self.library, self.where, "encode this text", loading=False):
            return self.backend.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        fast = getattr(self.backend, "encode_batch_fast", None)
        with library_errors(self.library, self.where, "encode these texts", loading=False):
            encodings = (fast or self.backend.encode_batch)(texts, add_special_tokens=False)
            return [e.ids for e in encodings]

    def decode(self, ids: Sequence[int]) -> str:
        with library_errors(self.library, self.where, "decode these ids", loading=False):
            return self.backend.decode(list(ids), skip_special_tokens=False)


class TiktokenReference:
    """``tiktoken.Encoding`` built from ranks; ``encode_ordinary`` (special strings as text)."""

    library = "tiktoken"

    def __init__(self, *, name: str, pattern: str, ranks: dict[bytes, int], special_tokens: dict[str, int],
                 where: Any = None):
        import tiktoken

        self.where = where if where is not None else name
        with library_errors(self.library, self.where, "build the encoding"):
            self.backend = tiktoken.Encoding(
                name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special_tokens
            )

    def encode(self, text: str) -> list[int]:
        with library_errors(self.library, self.where, "encode this text", loading=False):
            return self.backend.encode_ordinary(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        # tiktoken's own batch call submits one thread-pool task per text, which costs more than
        # the encoding on short lines (measured 2-3x slower than a loop on FLORES); one chunk
        # per core keeps the parallelism (tiktoken releases the GIL) without that overhead.
        workers = min(os.cpu_count() or 1, 8)
        encode = self.backend.encode_ordinary
        with library_errors(self.library, self.where, "encode these texts", loading=False):
            if workers == 1 or len(texts) < 64:
                return [encode(t) for t in texts]
            size = -(-len(texts) // workers)
            chunks = [texts[k : k + size] for k in range(0, len(texts), size)]
            with ThreadPoolExecutor(len(chunks)) as pool:
                parts = list(pool.map(lambda chunk: [encode(t) for t in chunk], chunks))
            return [ids for part in parts for ids in part]

    def decode(self, ids: Sequence[int]) -> str:
        with library_errors(self.library, self.where, "decode these ids", loading=False):
            return self.backend.decode(list(ids))


class SentencePieceReference:
    """``sentencepiece.SentencePieceProcessor`` (no BOS/EOS)."""

    library = "sentencepiece"

    def __init__(self, path: str | Path):
        import sentencepiece as spm

        self.where = path
        with library_errors(self.library, path, "load the model"):
            self.backend = spm.SentencePieceProcessor(model_file=str(path))

    def encode(self, text: str) -> list[int]:
        with library_errors(self.library, self.where, "encode this text", loading=False):
            return self.backend.encode(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        with library_errors(self.library, self.where, "encode these texts", loading=False):
            return self.backend.encode(texts)

    def decode(self, ids: Sequence[int]) -> str:
        with library_errors(self.library, self.where, "decode these ids", loading=False):
            return self.backend.decode(list(ids))
