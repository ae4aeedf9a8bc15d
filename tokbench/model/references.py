"""Adapters over the ground-truth libraries: ``tokenizers``, ``tiktoken`` and ``sentencepiece``.

Each adapter encodes without adding special tokens, so counts measure the text alone (as
Arnett et al. count), and exposes the same three calls. Imports happen inside the functions so
that ``import tokbench`` stays fast.

Example:
    >>> ref = hf_reference_from_file("tokenizer.json")   # doctest: +SKIP
    >>> ref.library, ref.encode("hi")                      # doctest: +SKIP
    ('tokenizers', [5303])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

__all__ = ["HFReference", "TiktokenReference", "SentencePieceReference"]


class HFReference:
    """``tokenizers.Tokenizer`` with ``add_special_tokens=False``."""

    library = "tokenizers"

    def __init__(self, backend: Any):
        # Files may ship padding/truncation settings (BERT pads batches); counts need neither.
        backend.no_padding()
        backend.no_truncation()
        self.backend = backend

    @classmethod
    def from_file(cls, path: str | Path) -> HFReference:
        from tokenizers import Tokenizer as HFTokenizer

        return cls(HFTokenizer.from_file(str(path)))

    @classmethod
    def from_str(cls, text: str) -> HFReference:
        from tokenizers import Tokenizer as HFTokenizer

        return cls(HFTokenizer.from_str(text))

    def encode(self, text: str) -> list[int]:
        return self.backend.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        fast = getattr(self.backend, "encode_batch_fast", None)
        encodings = (fast or self.backend.encode_batch)(texts, add_special_tokens=False)
        return [e.ids for e in encodings]

    def decode(self, ids: Sequence[int]) -> str:
        return self.backend.decode(list(ids), skip_special_tokens=False)


class TiktokenReference:
    """``tiktoken.Encoding`` built from ranks; ``encode_ordinary`` (special strings as text)."""

    library = "tiktoken"

    def __init__(self, *, name: str, pattern: str, ranks: dict[bytes, int], special_tokens: dict[str, int]):
        import tiktoken

        self.backend = tiktoken.Encoding(
            name=name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special_tokens
        )

    def encode(self, text: str) -> list[int]:
        return self.backend.encode_ordinary(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        # tiktoken's own batch call submits one thread-pool task per text, which costs more than
        # the encoding on short lines (measured 2-3x slower than a loop on FLORES); one chunk
        # per core keeps the parallelism (tiktoken releases the GIL) without that overhead.
        workers = min(os.cpu_count() or 1, 8)
        if workers == 1 or len(texts) < 64:
            return [self.backend.encode_ordinary(t) for t in texts]
        size = -(-len(texts) // workers)
        chunks = [texts[k : k + size] for k in range(0, len(texts), size)]
        encode = self.backend.encode_ordinary
        with ThreadPoolExecutor(len(chunks)) as pool:
            parts = list(pool.map(lambda chunk: [encode(t) for t in chunk], chunks))
        return [ids for part in parts for ids in part]

    def decode(self, ids: Sequence[int]) -> str:
        return self.backend.decode(list(ids))


class SentencePieceReference:
    """``sentencepiece.SentencePieceProcessor`` (no BOS/EOS)."""

    library = "sentencepiece"

    def __init__(self, path: str | Path):
        import sentencepiece as spm

        self.backend = spm.SentencePieceProcessor(model_file=str(path))

    def encode(self, text: str) -> list[int]:
        return self.backend.encode(text)

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return self.backend.encode(texts)

    def decode(self, ids: Sequence[int]) -> str:
        return self.backend.decode(list(ids))
