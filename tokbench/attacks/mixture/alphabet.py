"""SentencePiece's alphabet as one more constraint of the mixture LP (Hayase et al. 2024).

Before any merge, SentencePiece's trainer picks its alphabet (``trainer_interface.cc``,
``TrainerInterface::LoadSentences``): it counts every character of the normalized training
sentences (``▁`` included), sorts them by count and keeps the most frequent ones until they
cover ``character_coverage`` of all characters (``required_chars_``); every other character
becomes ``▅`` and never merges. The alphabet is thus a fact about the training data just as the
merges are: the characters outside it made up at most ``1 - character_coverage`` of its text
(0.005 % for Mistral's 0.99995).

The pair traces (:mod:`~tokbench.attacks.mixture.traces`) cut those characters out, rightly
(training never counted their pairs), but then nothing in the LP says how much text outside the
alphabet the training data could hold. A category whose text is largely outside it — Chinese
under Llama: 22 % of its characters, Korean 32 % — keeps only flat, rare character pairs and
few pairs per byte; its weight barely moves any merge constraint, so moving weight onto it
shrinks every other category's violations (noise from samples that are not the training data,
merges no sample explains) and it soaks up the slack: Llama and Mistral gave ``zho_Hans``
34–38 %.

The constraint added here, in the LP's units (counts of category ``i`` per million of its pairs,
``SCALE / P_i``)::

    Σ_i α_i (u_i - (1 - κ) n_i) SCALE / P_i  ≤  v_alphabet,    v_alphabet ≥ 0 in the objective

with ``u_i`` the characters of category ``i``'s sample outside the alphabet, ``n_i`` all its
characters and ``κ`` the model's ``character_coverage`` (from a ``.model`` file's trainer spec;
SentencePiece's default 0.9995 for files without one, such as HF conversions). The reference
implementation has no such row; it counts pairs over every character, so pairs with characters
outside the alphabet compete as never-merged pairs — a rougher proxy for the same fact.

It differs from :mod:`tokbench.attacks.training_split` (which cuts the characters out of the
pairs) by counting them, and from :mod:`~tokbench.attacks.mixture.lp` by not solving anything.

Example:
    >>> row = alphabet_row(tok, corpus)                     # doctest: +SKIP
    >>> row.coverage, row.outside_share()[:2]               # doctest: +SKIP
    (0.99995, array([0.   , 0.066]))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ...model.tokenizer import Tokenizer

__all__ = ["AlphabetRow", "alphabet_row", "character_coverage", "DEFAULT_COVERAGE"]

#: SentencePiece's default ``character_coverage`` (``trainer_spec.proto``).
DEFAULT_COVERAGE = 0.9995
_COVERAGE_FIELD = 10  # TrainerSpec.character_coverage (float)


@dataclass(frozen=True)
class AlphabetRow:
    """Per category: characters outside the alphabet ``outside`` and all characters ``chars``
    of its sample, with the model's ``coverage`` and where that value came from."""

    categories: list[str]
    outside: np.ndarray  # (n,) int64
    chars: np.ndarray  # (n,) int64
    coverage: float
    source: str  # "trainer_spec" or "default"

    def outside_share(self) -> np.ndarray:
        """Share of each category's characters outside the alphabet."""
        return self.outside / np.maximum(self.chars, 1)

    def coefficients(self, total_pairs: np.ndarray, scale: float) -> np.ndarray:
        """The row's coefficient per category: ``(u_i - (1 - κ) n_i) · scale / P_i``."""
        excess = self.outside - (1.0 - self.coverage) * self.chars
        return excess * scale / np.asarray(total_pairs, np.float64)

    def describe(self) -> dict[str, Any]:
        share = self.outside_share()
        top = np.argsort(-share)[:3]
        return {"coverage": self.coverage, "coverage_source": self.source,
                "outside_share": {self.categories[k]: round(float(share[k]), 4) for k in top if share[k] > 0}}


def character_coverage(tok: Tokenizer) -> tuple[float, str]:
    """``(character_coverage, source)`` of a SentencePiece-style tokenizer: the ``.model``
    file's trainer spec, else SentencePiece's default."""
    from ...formats.protobuf import iter_fields

    if tok.source_format == "sentencepiece" and tok.source_paths:
        for number, _wire, value in iter_fields(Path(tok.source_paths[0]).read_bytes()):
            if number != 2 or not isinstance(value, bytes):
                continue
            for n, wire, v in iter_fields(value):
                if n == _COVERAGE_FIELD and wire == 5 and isinstance(v, int):
                    return float(np.frombuffer(v.to_bytes(4, "little"), "<f4")[0]), "trainer_spec"
    return DEFAULT_COVERAGE, "default"


def _count(documents: Sequence[str], alphabet: frozenset[str], normalize: Any, rules: Any) -> tuple[int, int]:
    """Characters outside ``alphabet`` and all characters of the trainer's sentences."""
    from ..training_split import training_sentences

    counts: Counter[str] = Counter()
    for doc in documents:
        for line in training_sentences(doc, rules):
            counts.update(normalize(line))
    total = sum(counts.values())
    outside = sum(n for ch, n in counts.items() if ch not in alphabet)
    return outside, total


def alphabet_row(tok: Tokenizer, corpus: Any) -> AlphabetRow | None:
    """The alphabet row for ``corpus``'s categories under a SentencePiece-style BPE tokenizer;
    ``None`` for other tokenizers (byte-level BPE has every byte in its alphabet)."""
    from ...model.pretokenizers import SPACE_MARK
    from ..training_split import is_sentencepiece_style, training_splitter

    if not is_sentencepiece_style(tok):
        return None
    splitter = training_splitter(tok)
    if splitter.known is None:
        return None
    normalizer = getattr(tok.native, "normalizer", None)

    def normalize(line: str) -> str:
        # As the trainer counts: the normalized sentence, spaces escaped as ▁.
        text = normalizer.normalize(line) if normalizer is not None else line
        return text.replace(" ", SPACE_MARK)

    names = list(corpus.category_names)
    pairs = [_count(corpus.documents(c), splitter.known, normalize, splitter.rules) for c in names]
    coverage, source = character_coverage(tok)
    return AlphabetRow(names, np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64),
                       coverage, source)
