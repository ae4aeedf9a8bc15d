"""Compression and efficiency per category: corpus token count (CTC), bytes and characters per
token, fertility, continued words, vocabulary use and Rényi efficiency.

CTC is the number of tokens a tokenizer needs for a category's documents, each encoded on its
own without special tokens (Arnett et al. 2025 count line by line); bytes per token is the
category's UTF-8 size over its CTC. On a parallel corpus such as FLORES, CTC(lang) / CTC(ref)
is the token premium (Petrov et al. 2023) shown here as ``premium``; :mod:`tokbench.metrics.premiums`
adds the joined-text variant, bootstrap intervals and cross-language summaries.

Efficiency measures (Rust et al. 2021; Zouhar et al. 2023):

* ``fertility`` — tokens per whitespace-separated word; for scripts written without spaces
  (Han, Japanese, Thai, Lao, Khmer, Myanmar, Tibetan, by the FLORES script code of the
  category) tokens per non-space character instead (``fertility_unit`` says which);
* ``continued_words`` — the share of whitespace-separated word occurrences the tokenizer splits
  into two or more pieces, each distinct word encoded once as it appears in running text (with
  its leading space where the vocabulary spells word-initial tokens with one); a piece is a token
  that spells a character of the word, so markers that spell none (a separate space token, a
  capital-letter marker, a lone SentencePiece ``▁``) do not split it; ``None`` for unspaced
  scripts, whose "words" are whole clauses;
* ``vocab_used_share`` — distinct token ids used over the declared vocabulary size;
* ``renyi_efficiency`` — Rényi entropy of order α of the unigram token distribution over
  ``log(types used)``; ``renyi_efficiency_vocab`` over ``log(vocab_size)`` (Zouhar et al.'s
  normalisation). α defaults to 2.5; α = 1 is Shannon entropy.
* ``unk_chars`` / ``fallback_chars`` — characters the tokenizer could only spell with its unknown
  token or with byte-fallback tokens (exact for byte-fallback; for the unknown token, non-space
  characters of the text minus those its known tokens spell, at least one per unknown token).

Nothing here silently yields NaN: an undefined value is ``None`` and the row's ``flags`` say why.

Word counting (the whitespace-separated words behind ``words``, ``fertility`` and
``continued_words``) runs in ``jobs`` worker processes on a large corpus
(:func:`count_by_category`: chunks of documents counted apart, tables added in order, so the
counts are exactly those of one process); encoding stays with the tokenizer's own backend.

Example:
    >>> from tokbench.corpora import load_sample
    >>> result = compression(tok, load_sample("eng_Latn,fra_Latn"))   # doctest: +SKIP
    >>> result.to_frame()[["category", "ctc", "bytes_per_token", "fertility"]]   # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..corpora import FLORES_CODE, Corpus
from ..errors import EncodingError, TokbenchError
from ..model.tokenizer import Tokenizer
from ..results import Signature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "CompressionResult",
    "TokenCounts",
    "TokenTables",
    "compression",
    "count_by_category",
    "count_tokens",
    "word_counts",
    "encode_many",
    "safe_encode",
    "renyi_entropy",
    "renyi_efficiency",
    "UNSPACED_SCRIPTS",
]

#: ISO 15924 codes of scripts written without spaces between words (fertility per character).
UNSPACED_SCRIPTS: frozenset[str] = frozenset(
    {"Hani", "Hans", "Hant", "Jpan", "Hira", "Kana", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"}
)


# ------------------------------------------------------------------------------ encoding


def encode_many(tok: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """Encode many texts with the default backend (``Tokenizer.encode_batch``)."""
    return tok.encode_batch(texts)


def safe_encode(tok: Tokenizer, texts: Sequence[str], how: Any) -> list[list[int]]:
    """``how(tok, texts)``, with a failure of the encoder turned into a clear :class:`EncodingError`."""
    try:
        return how(tok, texts)
    except TokbenchError:
        raise
    except Exception as err:  # the reference library's own error types vary
        sample = next((t[:40] for t in texts if t), "")
        raise EncodingError(
            f"{tok.name} cannot encode this text ({type(err).__name__}: {err}); first text: {sample!r}. "
            "Leave the category out or use a tokenizer with byte fallback or an unknown token"
        ) from err


@dataclass(frozen=True)
class TokenTables:
    """Per-id lookup arrays a tokenizer's counts need (built once per tokenizer)."""

    vocab_size: int
    #: UTF-8 length of each token's bytes (a special token: its text).
    byte_len: Any
    #: Non-space characters each token spells (WordPiece ``##`` removed; raw bytes: 0).
    nonspace_chars: Any
    #: 1 for byte-fallback tokens that start a character (a UTF-8 lead byte), else 0.
    fallback_lead: Any
    #: 1 for every byte-fallback token.
    fallback: Any
    unk_id: int | None
    #: Whether the tokenizer adds the word-boundary marker itself (SentencePiece, WordPiece).
    adds_word_prefix: bool

    @classmethod
    def of(cls, tok: Tokenizer) -> TokenTables:
        import numpy as np

        n = tok.vocab_size
        byte_len = np.fromiter((len(v) for v in tok.vocab), dtype=np.int64, count=n)
        wordpiece = tok.kind == "wordpiece"
        fallback_ids = sorted(getattr(tok, "byte_fallback_ids", ()) or ())
        fallback = np.zeros(n, dtype=np.int64)
        fallback[fallback_ids] = 1
        lead = np.zeros(n, dtype=np.int64)
        for i in fallback_ids:
            v = tok.vocab[i]
            lead[i] = 1 if len(v) == 1 and not 0x80 <= v[0] <= 0xBF else 0
        nonspace = np.zeros(n, dtype=np.int64)
        for i, v in enumerate(tok.vocab):
            if fallback[i]:
                continue
            text = v.decode("utf-8", errors="ignore")
            if wordpiece and text.startswith("##") and len(text) > 2:
                text = text[2:]
            nonspace[i] = sum(1 for c in text if not c.isspace())
        unk_id = _unk_id(tok)
        if wordpiece:
            adds = True
        else:
            try:
                first = tok.encode("a")
                adds = bool(first) and tok.vocab[first[0]].startswith(b" ")
            except Exception:  # a tokenizer that cannot spell "a" adds no marker we can see
                adds = False
        return cls(n, byte_len, nonspace, lead, fallback, unk_id, adds)


def _unk_id(tok: Tokenizer) -> int | None:
    options = tok.description.get("model_options") or {}
    name = options.get("unk_token")
    for candidate in (name, "<unk>", "[UNK]", "<UNK>"):
        if candidate and candidate in tok.special_tokens:
            return tok.special_tokens[candidate]
    if name:
        data = name.encode("utf-8")
        for i, v in enumerate(tok.vocab):
            if v == data:
                return i
    return None


@dataclass(frozen=True)
class TokenCounts:
    """Everything the metrics need from encoding one category once.

    ``doc_tokens[i]`` is the token count of document ``i``; ``freq[t]`` how often id ``t``
    occurs. ``unk_chars`` / ``fallback_chars`` count characters spelled by the unknown token or
    byte fallback.
    """

    doc_tokens: Any
    freq: Any
    unk_tokens: int
    unk_chars: int
    fallback_chars: int

    @property
    def ctc(self) -> int:
        return int(self.doc_tokens.sum())

    @property
    def types_used(self) -> int:
        if self.freq is None:
            raise TokbenchError("these counts were made with with_freq=False; count again with types")
        return int((self.freq > 0).sum())


def count_tokens(
    tok: Tokenizer, documents: Sequence[str], *, tables: TokenTables | None = None,
    encoded: list[list[int]] | None = None, ids: Any = None, with_freq: bool = True,
) -> TokenCounts:
    """Encode ``documents`` (each on its own) once and keep only counts (numpy arrays).

    ``encoded`` (and, already flattened, ``ids``) skip the encoding. ``with_freq=False`` keeps
    only per-document lengths (``freq`` is then ``None``) when the caller needs no type counts
    and the tokenizer has neither an unknown token nor byte fallback.
    """
    import numpy as np

    tables = tables or TokenTables.of(tok)
    lists = encoded if encoded is not None else safe_encode(tok, documents, encode_many)
    doc_tokens = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    if not with_freq and tables.unk_id is None and not tables.fallback.any():
        return TokenCounts(doc_tokens, None, 0, 0, 0)
    total = int(doc_tokens.sum())
    if ids is None:
        ids = np.fromiter(itertools.chain.from_iterable(lists), dtype=np.int64, count=total)
    freq = np.bincount(ids, minlength=tables.vocab_size)
    if freq.shape[0] > tables.vocab_size:  # pragma: no cover - a reference returned a foreign id
        raise TokbenchError(f"{tok.name}: the encoder returned ids beyond the vocabulary")
    fallback_chars = int(freq @ tables.fallback_lead)
    unk_tokens = int(freq[tables.unk_id]) if tables.unk_id is not None else 0
    unk_chars = 0
    if unk_tokens:
        text_chars = sum(1 for d in documents for c in d if not c.isspace())
        known = int(freq @ tables.nonspace_chars) - unk_tokens * int(tables.nonspace_chars[tables.unk_id])
        unk_chars = max(unk_tokens, text_chars - known - fallback_chars)
    return TokenCounts(doc_tokens, freq, unk_tokens, unk_chars, fallback_chars)


# ------------------------------------------------------------------------------ counting words

#: characters of documents per worker task when a corpus is counted in parallel
COUNT_CHUNK_CHARS = 2_000_000
#: a corpus smaller than this (bytes) is counted here. Measured on 2 cores: starting two loky
#: workers costs 2-3 s, and each category's table is serialised back and added here, which
#: for whitespace words costs about what counting them does (flores:all@dev x 4, 154 MB: words
#: 3.3 s in one process, 7.0 s with 2 workers; letters 8.7 s vs 6.3 s)
PARALLEL_MIN_BYTES = 64_000_000


def word_counts(texts: Iterable[str]) -> Counter[str]:
    """Whitespace-separated words of ``texts`` with their counts, in first-seen order.

    Example:
        >>> word_counts(["the cat", "the  dog"])
        Counter({'the': 2, 'cat': 1, 'dog': 1})
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(text.split())
    return counts


def count_by_category(corpus: Corpus, counter: Callable[[Iterable[str]], Counter[str]], *, jobs: int | None = None,
                      chunk_chars: int | None = None,
                      min_bytes: int | None = None) -> Iterator[tuple[str, Counter[str]]]:
    """``(category, counter(its documents))`` for each category, in corpus order.

    With ``jobs > 1`` and a corpus of at least ``min_bytes`` (default :data:`PARALLEL_MIN_BYTES`),
    chunks of about ``chunk_chars`` characters (default :data:`COUNT_CHUNK_CHARS`; a large category is cut into several) are counted
    in joblib/loky worker processes and each category's chunk tables are added in order: Counter
    addition is exact
    and keeps first-seen order, so every table equals the one-process one. Only ``2 * jobs``
    chunks are in flight and one category's table is held here at a time. ``counter`` must be a
    module-level function (workers import it by name).

    Example:
        >>> c = Corpus("toy", {"a": ["x y x"], "b": ["z"]})
        >>> list(count_by_category(c, word_counts, jobs=2, min_bytes=0))
        [('a', Counter({'x': 2, 'y': 1})), ('b', Counter({'z': 1}))]
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise TokbenchError(f"jobs must be a positive number of worker processes (or None for one), got {jobs!r}")
    chunk_chars = COUNT_CHUNK_CHARS if chunk_chars is None else chunk_chars
    if isinstance(chunk_chars, bool) or not isinstance(chunk_chars, int) or chunk_chars < 1:
        raise TokbenchError(f"chunk_chars must be a positive integer, got {chunk_chars!r}")
    if jobs is None or jobs == 1 or corpus.n_bytes() < (PARALLEL_MIN_BYTES if min_bytes is None else min_bytes):
        return ((category, counter(documents)) for category, documents in corpus)
    return _count_in_workers(corpus, counter, jobs, chunk_chars)


def _count_in_workers(corpus: Corpus, counter: Callable[[Iterable[str]], Counter[str]], jobs: int,
                      chunk_chars: int) -> Iterator[tuple[str, Counter[str]]]:
    from joblib import Parallel, delayed

    # Loky, not fork: a fork after tokenizers/Arrow started threads can deadlock a worker.
    parallel = Parallel(n_jobs=jobs, backend="loky", return_as="generator", pre_dispatch="2*n_jobs", batch_size=1)
    tables = parallel(delayed(_count_chunk)(counter, cat, docs) for cat, docs in _chunks(corpus, chunk_chars))
    current, total = None, Counter()
    for category, table in tables:
        if category != current:
            if current is not None:
                yield current, total
            current, total = category, table  # the first chunk's table, in its first-seen order
        else:
            total.update(table)
    if current is not None:
        yield current, total


def _count_chunk(counter: Callable[[Iterable[str]], Counter[str]], category: str,
                 documents: tuple[str, ...]) -> tuple[str, Counter[str]]:
    return category, counter(documents)


def _chunks(corpus: Corpus, chunk_chars: int) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``(category, documents)`` pieces of about ``chunk_chars`` characters, in corpus order."""
    from ..corpora.streaming import text_batches

    for category, documents in corpus:
        for task in text_batches(documents, chunk_chars):
            yield category, task.texts


# ------------------------------------------------------------------------------ entropy


def renyi_entropy(freq: Any, alpha: float = 2.5) -> float:
    """Rényi entropy (nats) of order ``alpha`` of the distribution given by counts ``freq``.

    Example:
        >>> round(renyi_entropy([1, 1, 1, 1], 2.5), 6) == round(math.log(4), 6)
        True
    """
    import numpy as np

    _check_alpha(alpha)
    f = np.asarray(freq, dtype=np.float64)
    f = f[f > 0]
    if f.size == 0:
        raise TokbenchError("Rényi entropy of an empty distribution is undefined; the category has no tokens")
    p = f / f.sum()
    if alpha == 1.0:
        return float(-(p * np.log(p)).sum())
    if math.isinf(alpha):
        return float(-np.log(p.max()))
    return float(np.log((p ** alpha).sum()) / (1.0 - alpha))


def renyi_efficiency(freq: Any, alpha: float = 2.5, *, vocab_size: int | None = None) -> float | None:
    """Rényi entropy over ``log(vocab_size)`` (default: over ``log`` of the types observed).

    ``None`` when the normaliser is ``log 1 = 0`` (a single type): efficiency is undefined.

    Example:
        >>> renyi_efficiency([5, 5], 2.5), renyi_efficiency([5, 5], 2.5, vocab_size=4)
        (1.0, 0.5)
    """
    import numpy as np

    f = np.asarray(freq)
    n = int((f > 0).sum()) if vocab_size is None else vocab_size
    if n <= 1:
        return None
    return renyi_entropy(f, alpha) / math.log(n)


def _check_alpha(alpha: float) -> None:
    if not isinstance(alpha, int | float) or math.isnan(alpha) or alpha <= 0:
        raise TokbenchError(f"Rényi order alpha must be a positive number, got {alpha!r} (default 2.5)")


# ------------------------------------------------------------------------------ result


@dataclass(frozen=True)
class CompressionResult:
    """Per (tokenizer, category) counts; ``to_frame()`` adds the ratios.

    Frame columns: tokenizer, category, documents, bytes, chars, ctc, types_used, vocab_size,
    words, fertility_unit, fertility, continued_words, renyi_efficiency, renyi_efficiency_vocab,
    unk_chars, fallback_chars, unk_share, fallback_share, flags, bytes_per_token,
    chars_per_token, vocab_used_share, and (with a reference category) parallel and premium.
    """

    rows: list[dict[str, Any]]
    signature: Signature
    alpha: float = 2.5
    counts: dict[str, TokenCounts] = field(default_factory=dict, repr=False, compare=False)
    #: cautions: categories spelled mostly by the unknown token or byte fallback
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.rows)
        frame["bytes_per_token"] = frame["bytes"] / frame["ctc"]
        frame["chars_per_token"] = frame["chars"] / frame["ctc"]
        frame["vocab_used_share"] = frame["types_used"] / frame["vocab_size"]
        return frame

    @cached_property
    def by_category(self) -> dict[str, dict[str, Any]]:
        return {r["category"]: r for r in self.rows}


def _word_stats(tok: Tokenizer, words: Counter[str], tables: TokenTables) -> tuple[int, float]:
    """(word occurrences, share of occurrences split into >= 2 tokens) of a word table."""
    import numpy as np

    if not words:
        return 0, 0.0
    uniq = list(words)
    texts = uniq if tables.adds_word_prefix else [" " + w for w in uniq]
    # A piece of a word is a token that spells some of its characters (or a byte of one). A token
    # that spells none, such as the hybrid's explicit space token, its capital-letter marker or a
    # lone SentencePiece "▁", marks the word without splitting it.
    spells = (tables.nonspace_chars > 0) | (tables.fallback == 1)
    specials = [i for i in tok.special_tokens.values() if 0 <= i < len(spells)]
    spells[specials] = False  # a special token's text is its name, not characters of the word
    if tables.unk_id is not None:
        spells[tables.unk_id] = True  # ... except the unknown token, which stands for some
    encoded = safe_encode(tok, texts, encode_many)
    sizes = np.fromiter(map(len, encoded), dtype=np.int64, count=len(uniq))
    flat = np.fromiter(itertools.chain.from_iterable(encoded), dtype=np.int64, count=int(sizes.sum()))
    lengths = np.bincount(np.repeat(np.arange(len(uniq)), sizes), weights=spells[flat], minlength=len(uniq))
    weights = np.fromiter(words.values(), dtype=np.int64, count=len(uniq))
    total = int(weights.sum())
    return total, float(weights[lengths > 1].sum() / total)


def compression(
    tokenizer: Tokenizer,
    corpus: Corpus,
    *,
    reference_category: str | None = "eng_Latn",
    alpha: float = 2.5,
    word_stats: bool = True,
    unspaced: Sequence[str] | None = None,
    jobs: int | None = None,
) -> CompressionResult:
    """CTC, bytes, characters, fertility, vocabulary use and Rényi efficiency per category.

    When ``reference_category`` is in the corpus, rows of categories parallel to it get
    ``premium`` = CTC / CTC(reference). A category counts as parallel when it is named like a
    FLORES language (``xxx_Xxxx``) and has as many documents as the reference; other rows (code,
    user files) get ``premium = None`` and ``parallel = False`` rather than a meaningless ratio.
    ``unspaced`` names categories whose fertility is per character (default: FLORES codes of the
    scripts in :data:`UNSPACED_SCRIPTS`). ``word_stats=False`` skips the per-word encoding
    behind ``continued_words`` (it is then ``None``). ``jobs`` worker processes count the words
    of a large corpus (:func:`count_by_category`; ``None`` or 1: this process); no number changes.
    """
    _check_alpha(alpha)
    tables = TokenTables.of(tokenizer)
    rows: list[dict[str, Any]] = []
    all_counts: dict[str, TokenCounts] = {}
    unspaced_set = set(unspaced) if unspaced is not None else None
    words_by_category = count_by_category(corpus, word_counts, jobs=jobs)
    for (category, documents), (_, words) in zip(corpus, words_by_category, strict=True):
        counts = count_tokens(tokenizer, documents, tables=tables)
        all_counts[category] = counts
        if counts.ctc == 0:
            raise TokbenchError(
                f"{tokenizer.name}: category {category!r} encodes to no tokens; it holds only text the "
                "tokenizer drops (e.g. whitespace); leave it out"
            )
        if unspaced_set is not None:
            no_spaces = category in unspaced_set
        else:
            no_spaces = bool(FLORES_CODE.match(category)) and category[-4:] in UNSPACED_SCRIPTS
        row = {"tokenizer": tokenizer.name, "category": category, "documents": len(documents),
               "bytes": corpus.n_bytes(category)}
        row.update(_category_stats(tokenizer, documents, words, counts, tables, alpha=alpha, no_spaces=no_spaces,
                                   word_stats=word_stats))
        rows.append(row)
    if reference_category is not None and reference_category in corpus:
        _add_premiums(rows, reference_category)
    signature = Signature(
        tokenizers={tokenizer.name: tokenizer.fingerprint},
        corpus=corpus.signature(),
        extra={"alpha": alpha, "counting": "each document encoded on its own, no special tokens"},
    )
    return CompressionResult(rows=rows, signature=signature, alpha=alpha, counts=all_counts, notes=_notes(rows))


def _category_stats(tokenizer: Tokenizer, documents: Sequence[str], words: Counter[str], counts: TokenCounts,
                    tables: TokenTables, *, alpha: float, no_spaces: bool, word_stats: bool) -> dict[str, Any]:
    """The row of one category from its counts (``words``: its word table): every column after
    ``bytes``, ``flags`` last."""
    ctc = counts.ctc
    chars = sum(len(d) for d in documents)
    flags: list[str] = []
    n_words = sum(words.values())
    continued = None
    if no_spaces:
        nonspace = sum(1 for d in documents for c in d if not c.isspace())
        unit, fertility = "char", ctc / nonspace
        flags.append("unspaced script: fertility per character, no continued_words")
    else:
        unit = "word"
        if word_stats:
            _, continued = _word_stats(tokenizer, words, tables)
        fertility = ctc / n_words if n_words else None
        if not n_words:
            flags.append("no whitespace-separated words: fertility undefined")
    eff_types = renyi_efficiency(counts.freq, alpha)
    eff_vocab = renyi_efficiency(counts.freq, alpha, vocab_size=tokenizer.vocab_size)
    if eff_types is None:
        flags.append("a single token type: renyi_efficiency undefined")
    unk_share = counts.unk_chars / chars if chars else 0.0
    fallback_share = counts.fallback_chars / chars if chars else 0.0
    if unk_share > 0.1:
        flags.append(f"unknown token spells {unk_share:.0%} of characters")
    if fallback_share > 0.5:
        flags.append(f"byte fallback spells {fallback_share:.0%} of characters")
    return {
        "chars": chars, "ctc": ctc, "types_used": counts.types_used, "vocab_size": tokenizer.vocab_size,
        "words": n_words, "fertility_unit": unit, "fertility": fertility, "continued_words": continued,
        "renyi_efficiency": eff_types, "renyi_efficiency_vocab": eff_vocab,
        "unk_chars": counts.unk_chars, "fallback_chars": counts.fallback_chars,
        "unk_share": unk_share, "fallback_share": fallback_share, "flags": "; ".join(flags),
    }


def _add_premiums(rows: list[dict[str, Any]], reference_category: str) -> None:
    """``parallel`` and ``premium`` columns: CTC over the reference's, for parallel FLORES rows only."""
    reference = next(r for r in rows if r["category"] == reference_category)
    for row in rows:
        row["parallel"] = bool(
            FLORES_CODE.match(row["category"]) and row["documents"] == reference["documents"]
        )
        row["premium"] = row["ctc"] / reference["ctc"] if row["parallel"] else None


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    """Cautions a reader must see beside the numbers: categories the tokenizer could not spell.

    The informational flags (unspaced scripts, undefined ratios) stay in each row's ``flags``.
    """
    notes = []
    for row in rows:
        if row["unk_share"] > 0.1:
            notes.append(f"{row['tokenizer']}/{row['category']}: the unknown token spells "
                         f"{row['unk_share']:.0%} of the characters; its counts understate the text")
        if row["fallback_share"] > 0.5:
            notes.append(f"{row['tokenizer']}/{row['category']}: byte fallback spells "
                         f"{row['fallback_share']:.0%} of the characters")
    return notes
