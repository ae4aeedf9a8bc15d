"""What the trainer families share: reading the training text, describing it, checking options,
and the result base class that makes every trained tokenizer a :class:`tokbench.results.Result`.

Every trainer takes a :class:`~tokbench.corpora.Corpus`, an iterable of texts or (BPE and
character BPE) a word-count table; :func:`texts_of` and :func:`training_texts` read the first
two the same way everywhere, and :func:`corpus_description` is what the result's signature says
about where the text came from. :class:`TrainedResult` gives each family's result class its
``signature``, ``notes``, ``to_frame()`` (the vocabulary) and ``save``.

Example:
    >>> list(texts_of("one text"))
    ['one text']
    >>> corpus_description(["a b", "c"], 3, 2)
    {'corpus': 'texts', 'pieces': 3, 'piece_types': 2}
    >>> check_vocab_size(0)
    Traceback (most recent call last):
    ...
    tokbench.errors.TrainingError: vocab_size must be a positive integer, got 0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import TokbenchError, TrainingError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..model.tokenizer import Tokenizer
    from ..results import Signature

__all__ = ["texts_of", "training_texts", "corpus_description", "piece_table", "check_vocab_size",
           "TrainedResult"]

#: Why training stopped before the vocabulary size, as a reader is told (see :attr:`TrainedResult.notes`).
_STOP_EXPLANATIONS = {
    "no_pairs": "the training text ran out of pairs to merge (give more text or a smaller vocab_size)",
    "min_frequency": "the most frequent pair fell below min_frequency",
}


def texts_of(corpus_or_texts: Any) -> Iterable[str]:
    """The documents of a Corpus or CorpusStream (every category), a single text, or the iterable as given."""
    iter_documents = getattr(corpus_or_texts, "iter_documents", None)
    if callable(iter_documents):  # a Corpus or a CorpusStream (read a document at a time)
        return iter_documents()
    if isinstance(corpus_or_texts, str):
        return [corpus_or_texts]
    return corpus_or_texts


def training_texts(corpus_or_texts: Any, *, trainer: str = "this trainer", keep_blank: bool = False) -> list[str]:
    """The texts to train on, checked: ``str`` only, empty ones (and with ``keep_blank=False``
    whitespace-only ones) dropped; a clear error when none is left or a word-count table is given."""
    if isinstance(corpus_or_texts, Mapping):
        raise TrainingError(f"{trainer} needs texts (or a Corpus), not a word-count table")
    texts: list[str] = []
    for k, text in enumerate(texts_of(corpus_or_texts)):
        if not isinstance(text, str):
            raise TokbenchError(f"text {k} is a {type(text).__name__}, not str; decode it first")
        if text if keep_blank else text.strip():
            texts.append(text)
    if not texts:
        raise TrainingError("the corpus is empty: no text to train on; give at least one non-empty text")
    return texts


def corpus_description(corpus_or_texts: Any, n_pieces: int, n_types: int) -> dict[str, Any]:
    """A corpus's signature, or what is known of plain texts / a word-count table."""
    from ..corpora import Corpus, CorpusStream

    if isinstance(corpus_or_texts, Corpus):
        return corpus_or_texts.signature()
    if isinstance(corpus_or_texts, CorpusStream):  # its files' hashes: a full signature decodes it twice
        return corpus_or_texts.description()
    kind = "word-count table" if isinstance(corpus_or_texts, Mapping) else "texts"
    return {"corpus": kind, "pieces": n_pieces, "piece_types": n_types}


def piece_table(table: Mapping[Any, Any]) -> dict[str, int]:
    """A given word-count table with empty pieces and non-positive counts dropped."""
    return {str(k): int(v) for k, v in table.items() if k and int(v) > 0}


def check_vocab_size(vocab_size: Any) -> int:
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise TrainingError(f"vocab_size must be a positive integer, got {vocab_size!r}")
    return vocab_size


class TrainedResult:
    """The :class:`~tokbench.results.Result` side of a trained tokenizer.

    A family's result class (a dataclass) has the fields ``tokenizer``, ``stop_reason``,
    ``options`` (with the requested ``vocab_size``) and ``corpus``; this base adds the signature,
    the notes a reader must see, the vocabulary as a table and :meth:`save`.
    """

    tokenizer: Tokenizer
    stop_reason: str
    options: dict[str, Any]
    corpus: dict[str, Any]

    @property
    def signature(self) -> Signature:
        """The :class:`~tokbench.results.Signature` of this training run."""
        from ..results import Signature

        return Signature(tokenizers={self.tokenizer.name: self.tokenizer.fingerprint},
                         corpus=self.corpus, extra={"trainer": self.options})

    @property
    def notes(self) -> list[str]:
        """Why the vocabulary is smaller than asked for, when it is."""
        wanted = self.options.get("vocab_size")
        if self.stop_reason == "vocab_size" or not isinstance(wanted, int):
            return []
        why = _STOP_EXPLANATIONS.get(self.stop_reason, self.stop_reason)
        return [f"{self.tokenizer.name} has {self.tokenizer.vocab_size:,} tokens, not the {wanted:,} "
                f"asked for: {why}."]

    def to_frame(self) -> pd.DataFrame:
        """The vocabulary: ``id``, ``token`` (bytes), ``n_bytes``, ``special``."""
        import pandas as pd

        tok = self.tokenizer
        special = tok.special_ids
        return pd.DataFrame({"id": range(tok.vocab_size), "token": list(tok.vocab),
                             "n_bytes": [len(t) for t in tok.vocab],
                             "special": [i in special for i in range(tok.vocab_size)]})

    def save(self, path: str | Path) -> Path:
        """Write the tokenizer file (atomically); returns the path written."""
        return self.tokenizer.save(path)
