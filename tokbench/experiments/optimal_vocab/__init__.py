"""Per-language "optimal" vocabulary size from a power-law fit of CTC against vocabulary size
(Arnett et al. 2025, "Explaining and Mitigating Crosslingual Tokenizer Inequities").

For every language a monolingual byte-level BPE tokenizer (GPT-2 regex by default) is trained on
that language's training text and evaluated on the parallel evaluation split over a grid of
vocabulary sizes. CTC, the corpus token count, is counted line by line without special tokens, as
Arnett et al. do (:func:`tokbench.metrics.compression.count_tokens`). Per language a power law
``CTC(v) = a · v^(−b)`` (or ``+ c``) is fitted (:mod:`tokbench.metrics.power_law`) and solved for
the vocabulary that reaches a target CTC — by default the reference language's CTC at the middle
grid size. Each language is then trained at that size and the achieved CTC compared with the
predicted one; the variance of premiums across languages at one shared vocabulary is compared
with the variance at the per-language sizes, and an OLS explains CTC by tokenization features.

How it differs from :mod:`tokbench.metrics.premiums`: premiums measure given tokenizers; this
experiment trains one tokenizer per language and size and asks which size equalises them.

Data support: a vocabulary is only as good as the pairs the training text repeats. Each
language's row in :meth:`OptimalVocabResult.fits_frame` records ``supported_vocab`` (the size
up to which every merged pair occurred at least twice; empty when every merge trained so far
did) and whether training ran out of pairs; sizes past those are flagged, never silently used.
FLORES dev (~150 kB a language) supports roughly 5,000 tokens.

The modules: :mod:`.options` (checks before training), :mod:`.tasks` (train a language, measure
one cell: the executor's tasks), :mod:`.experiment` (the phases), :mod:`.result` (the tables).

Example:
    >>> train = load_flores("eng_Latn,fra_Latn,rus_Cyrl", split="dev")            # doctest: +SKIP
    >>> evals = load_flores("eng_Latn,fra_Latn,rus_Cyrl", split="devtest")        # doctest: +SKIP
    >>> res = optimal_vocab(train, evals, grid=[500, 1000, 2000, 4000], jobs=2)   # doctest: +SKIP
    >>> res.optimal_frame()[["language", "optimal_vocab", "predicted_ctc", "achieved_ctc"]]  # doctest: +SKIP
"""

from __future__ import annotations

from ...metrics.power_law import (
    REGRESSION_FEATURES,
    PowerLawFit,
    fit_power_law,
    ols,
    regression_table,
)
from .experiment import optimal_vocab
from .options import OptimalVocabError, parse_target, script_of
from .result import OptimalVocabResult
from .tasks import MergeRun, truncate_bpe

__all__ = [
    "OptimalVocabError",
    "OptimalVocabResult",
    "MergeRun",
    "PowerLawFit",
    "fit_power_law",
    "optimal_vocab",
    "ols",
    "parse_target",
    "regression_table",
    "script_of",
    "truncate_bpe",
    "REGRESSION_FEATURES",
]
