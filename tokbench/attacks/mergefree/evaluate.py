"""How much merge-list-free and corrupted-merge encodings cost, per corpus category.

For each category the documents are pretokenized once by the tokenizer's own pipeline; every
variant then segments each distinct pretoken once, and counts are weighted by occurrence. Per
(category, variant) the result reports tokens per byte, tokens relative to standard BPE, the
share of pretoken occurrences segmented differently from standard BPE, and how many distinct
vocabulary entries were used (Sawada & Goyal 2025 report that greedy/minimal encodings change
few pretokens and cost little compression; this measures it for any tokenizer and corpus).

Example:
    >>> result = evaluate_mergefree(tok, load_corpus("sample:eng_Latn,python"))   # doctest: +SKIP
    >>> result.to_frame()[["category", "variant", "relative_to_standard"]]        # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...corpora import Corpus
from ...errors import TokbenchError, UnsupportedTokenizerError
from ...model.tokenizer import Tokenizer
from ...results import Signature
from .encoders import MergeFreeEncoder, corrupt_merges, is_byte_level, merges_characters

__all__ = ["Variant", "default_variants", "evaluate_mergefree", "MergeFreeResult"]


@dataclass(frozen=True)
class Variant:
    """One encoder to compare: a mode and, for ``bpe``, an optional corruption of the merges.

    ``truncate`` keeps ``keep`` merges, or when that is None the first ``keep_share`` of them.
    """

    name: str
    mode: str
    corruption: str | None = None
    fraction: float = 0.1
    keep: int | None = None
    keep_share: float | None = None


def default_variants(tokenizer: Tokenizer, *, delete_fraction: float = 0.1, truncate_share: float = 0.5) -> list[Variant]:
    """greedy and minimal, and the three merge-list corruptions.

    The corruptions are listed for every tokenizer, so that a model without a merge list gets
    a note saying so from :func:`evaluate_mergefree` instead of silently fewer rows.

    Example:
        >>> [v.name for v in default_variants(tok)]   # doctest: +SKIP
        ['greedy', 'minimal', 'shuffled merges', '10% merges deleted', 'first 50% of merges']
    """
    return [
        Variant("greedy", "greedy"),
        Variant("minimal", "minimal"),
        Variant("shuffled merges", "bpe", "shuffle"),
        Variant(f"{delete_fraction:.0%} merges deleted", "bpe", "delete", fraction=delete_fraction),
        Variant(f"first {truncate_share:.0%} of merges", "bpe", "truncate", keep_share=truncate_share),
    ]


@dataclass(frozen=True)
class MergeFreeResult:
    """Rows of (tokenizer, category, variant) counts; follows :class:`tokbench.results.Result`.

    ``notes`` names the variants that could not be built for this tokenizer, and why.
    """

    rows: list[dict[str, Any]]
    signature: Signature
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> Any:
        """One row per (category, variant), with ``tokens_per_byte`` and ``vocab_used_share``."""
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        frame["tokens_per_byte"] = frame["tokens"] / frame["bytes"]
        frame["vocab_used_share"] = frame["vocab_used"] / frame["vocab_size"]
        return frame


def _standard_segments(tokenizer: Tokenizer, pieces: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Each distinct piece as the tokenizer's own encoder segments it.

    Byte-level BPE goes through the numba kernel (tested id for id against tiktoken/tokenizers);
    every other model through its native ``encode_piece`` on the piece as the pipeline spells it.
    Rebuilding a character-level piece from its bytes would start BPE from the wrong symbols
    (a char-BPE space is not SentencePiece's "▁"), which once made "standard" 2.3× too long.
    """
    native = tokenizer.native
    if is_byte_level(tokenizer) and tokenizer.has_merges and not merges_characters(tokenizer):
        encoder = MergeFreeEncoder(tokenizer, "bpe")
        return dict(zip(pieces, encoder.encode_strings(pieces), strict=True))
    if not hasattr(native, "encode_piece"):
        raise UnsupportedTokenizerError(f"{tokenizer.name}: no per-piece encoder to compare with")
    return {p: tuple(native.encode_piece(p)) for p in pieces}


def _row(name: str, segments: dict[str, tuple[int, ...]], *, tokenizer: Tokenizer, category: str,
         n_bytes: int, counts: Counter[str], added: int,
         standard: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """One (category, variant) row; pretoken counts weight every per-piece quantity."""
    used: set[int] = set()
    for seg in segments.values():
        used.update(seg)
    total_pieces = sum(counts.values())
    changed = sum(c for p, c in counts.items() if segments[p] != standard[p])
    return {
        "tokenizer": tokenizer.name,
        "category": category,
        "variant": name,
        "bytes": n_bytes,
        "pieces": total_pieces,
        "tokens": added + sum(len(segments[p]) * c for p, c in counts.items()),
        "pieces_changed_share": changed / max(total_pieces, 1),
        "vocab_used": len(used),
        "vocab_size": tokenizer.vocab_size,
    }


def _build_encoders(tokenizer: Tokenizer, variants: Sequence[Variant],
                    seed: int) -> tuple[dict[str, MergeFreeEncoder], list[str]]:
    """An encoder per variant; a variant this tokenizer cannot run is left out with a note."""
    merges = tokenizer.merges if tokenizer.has_merges else None
    encoders: dict[str, MergeFreeEncoder] = {}
    notes: list[str] = []
    for v in variants:
        try:
            damaged = None
            if v.corruption is not None:
                if merges is None:
                    raise UnsupportedTokenizerError(f"{tokenizer.name}: has no merge list to corrupt")
                keep = v.keep if v.keep is not None or v.keep_share is None else int(len(merges) * v.keep_share)
                damaged = corrupt_merges(merges, v.corruption, fraction=v.fraction, keep=keep, seed=seed)  # type: ignore[arg-type]
            encoders[v.name] = MergeFreeEncoder(tokenizer, v.mode, merges=damaged, name=v.name)  # type: ignore[arg-type]
        except TokbenchError as err:
            # Also a merge list whose results are not vocabulary pieces: noted, not fatal.
            notes.append(f"variant {v.name!r} was not run: {err}")
    return encoders, notes


def _category_rows(tokenizer: Tokenizer, category: str, documents: Sequence[str], n_bytes: int,
                   encoders: dict[str, MergeFreeEncoder]) -> list[dict[str, Any]]:
    """The standard row and one row per variant for one category."""
    pipeline = tokenizer.native
    # Pieces are kept as the pipeline spells them: the model's own encoder and character-level
    # BPE start from that spelling; the byte-level variants convert them themselves.
    counts: Counter[str] = Counter()
    added = 0
    for doc in documents:
        for k, (segment, added_id) in enumerate(pipeline.segments(doc)):
            if added_id is None:
                counts.update(pipeline.split_segment(segment, k == 0))
            else:
                added += 1
    distinct = list(counts)
    standard = _standard_segments(tokenizer, distinct)
    context = {"tokenizer": tokenizer, "category": category, "n_bytes": n_bytes,
               "counts": counts, "added": added, "standard": standard}
    base = _row("standard", standard, **context)
    rows = [{**base, "relative_to_standard": 1.0}]
    for name, encoder in encoders.items():
        segments = dict(zip(distinct, encoder.encode_strings(distinct), strict=True))
        r = _row(name, segments, **context)
        r["relative_to_standard"] = r["tokens"] / base["tokens"]
        rows.append(r)
    return rows


def evaluate_mergefree(
    tokenizer: Tokenizer,
    corpus: Corpus,
    *,
    variants: Sequence[Variant] | None = None,
    seed: int = 0,
) -> MergeFreeResult:
    """Compare standard BPE with merge-free and corrupted-merge encoders on every category.

    Raises :class:`~tokbench.errors.UnsupportedTokenizerError` when the tokenizer has no
    native pretokenizer pipeline; a single variant it cannot run is skipped and noted.
    """
    variants = list(variants) if variants is not None else default_variants(tokenizer)
    if not hasattr(tokenizer.native, "piece_bytes"):
        raise UnsupportedTokenizerError(f"{tokenizer.name}: no pretokenizer pipeline to run merge-free encoders on")
    encoders, notes = _build_encoders(tokenizer, variants, seed)
    rows: list[dict[str, Any]] = []
    for category, documents in corpus:
        rows.extend(_category_rows(tokenizer, category, documents, corpus.n_bytes(category), encoders))
    signature = Signature(tokenizers={tokenizer.name: tokenizer.fingerprint}, corpus=corpus.signature(), seed=seed,
                          extra={"variants": [v.__dict__ for v in variants]})
    return MergeFreeResult(rows=rows, signature=signature, notes=notes)
