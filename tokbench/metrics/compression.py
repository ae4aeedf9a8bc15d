"""Compression per category: corpus token count (CTC), bytes and characters per token, and
the share of the vocabulary a corpus uses.

CTC is the number of tokens a tokenizer needs for a category's documents, each encoded on its
own without special tokens (Arnett et al. 2025 count line by line); bytes per token is the
category's UTF-8 size over its CTC. On a parallel corpus such as FLORES, CTC(lang) / CTC(ref)
is the token premium (Petrov et al. 2023) shown here as ``premium``.

Example:
    >>> from tokbench.corpora import load_sample
    >>> result = compression(tok, load_sample("eng_Latn,fra_Latn"))   # doctest: +SKIP
    >>> result.to_frame()[["category", "ctc", "bytes_per_token"]]      # doctest: +SKIP
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..corpora import Corpus
from ..results import Signature
from ..tokenizer import Tokenizer

__all__ = ["CompressionResult", "compression"]

_FLORES_CODE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


@dataclass(frozen=True)
class CompressionResult:
    """Per (tokenizer, category) counts; ``to_frame()`` adds the ratios."""

    rows: list[dict[str, Any]]
    signature: Signature

    def to_frame(self) -> Any:
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        frame["bytes_per_token"] = frame["bytes"] / frame["ctc"]
        frame["chars_per_token"] = frame["chars"] / frame["ctc"]
        frame["vocab_used_share"] = frame["types_used"] / frame["vocab_size"]
        return frame


def compression(
    tokenizer: Tokenizer,
    corpus: Corpus,
    *,
    reference_category: str | None = "eng_Latn",
) -> CompressionResult:
    """CTC, bytes, characters and vocabulary use per category of ``corpus``.

    When ``reference_category`` is in the corpus, rows of categories parallel to it get
    ``premium`` = CTC / CTC(reference). A category counts as parallel when it is named like a
    FLORES language (``xxx_Xxxx``) and has as many documents as the reference; other rows (code,
    user files) get ``premium = None`` and ``parallel = False`` rather than a meaningless ratio.
    """
    rows: list[dict[str, Any]] = []
    for category, documents in corpus:
        ids_per_doc = tokenizer.encode_batch(documents)
        used: set[int] = set()
        ctc = 0
        for ids in ids_per_doc:
            ctc += len(ids)
            used.update(ids)
        rows.append({
            "tokenizer": tokenizer.name,
            "category": category,
            "documents": len(documents),
            "bytes": corpus.n_bytes(category),
            "chars": sum(len(d) for d in documents),
            "ctc": ctc,
            "types_used": len(used),
            "vocab_size": tokenizer.vocab_size,
        })
    if reference_category is not None and reference_category in corpus:
        reference = next(r for r in rows if r["category"] == reference_category)
        for row in rows:
            row["parallel"] = bool(
                _FLORES_CODE.match(row["category"]) and row["documents"] == reference["documents"]
            )
            row["premium"] = row["ctc"] / reference["ctc"] if row["parallel"] else None
    signature = Signature(tokenizers={tokenizer.name: tokenizer.fingerprint}, corpus=corpus.signature())
    return CompressionResult(rows=rows, signature=signature)
