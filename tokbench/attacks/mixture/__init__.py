"""Data-mixture inference by linear programming (Hayase et al. 2024, "Data Mixture Inference:
What do BPE Tokenizers Reveal about their Training Data?").

BPE training merges, at step ``t``, the pair that is most frequent after merges ``1..t-1``.
Given per-category pair-count traces, the mixture weights ``α`` must make every merged pair at
least as frequent as every competing pair, up to slack: an LP over ``α`` solved by delayed row
and column generation, whose optimum gives the categories' byte proportions in the training
data. The package, in the order data flows:

* :mod:`.merges` — the tokenizer's ordered merge list, cleaned for the attack (``MergeList``,
  ``extract_merges``);
* :mod:`.traces` — one category's pair-count trace under the merges (``PairTrace``,
  ``trace_category``; cached on disk), with the numba kernel in ``_kernels.py``;
* :mod:`.parallel` — per-category traces in worker processes or on a Dask cluster, from small
  tasks (paths and specs, never documents or tokenizers: ``TraceTask``, ``run_trace_task``,
  ``parallel_word_table``);
* :mod:`.alphabet` — which characters a SentencePiece-style model spells outside its alphabet
  (byte fallback or unknown) and its ``character_coverage``, bounding such text in the LP;
* :mod:`.traceset` — every category's trace under one merge list, packed for the sweep kernel
  (``TraceSet``);
* :mod:`.solvers` — the restricted LP in HiGHS (incremental or one-shot) or PuLP/CBC
  (``SOLVERS``, ``solve_rows``);
* :mod:`.lp` — row generation (``infer_mixture``) and its fit (``MixtureFit``);
* :mod:`.diagnostics` — how well the offered categories explain the merges under a fit
  (``diagnose``, ``MixtureDiagnostics``): explained share per step window, slack, and the
  unexplained merges classed (URL/markup, whitespace, another script ...);
* :mod:`.result` — ``MixtureResult`` with half-sample intervals and grouped shares;
* :mod:`.runner` — the whole attack on one tokenizer (``run_mixture_attack``) and ``mse``.

Candidates: every pair the traces count competes, except pairs the tokenizer's trainer could
never merge — for SentencePiece models, pieces that break its ``IsValidSentencePiece`` rules
(:func:`tokbench.attacks.training_split.pair_validity`); they get infinite pair slack.

Measured (docs/benchmarks.md): GPT-2 with 44 categories, T = 3,000: gap-stop after 114 s (the
curriculum with 4 rows per step: converged in 149 s, same proportions to 10⁻³); a controlled
n = 10, T = 10,000 tokenizer: stable after 48–52 s at log10 MSE −5.45, while the exact optimum is
still 24 % away in objective after 300 s (the late steps' competitors are noise-level counts).

Beyond the paper: resampling intervals (half-samples of each category's documents, see
:meth:`MixtureResult.intervals`), two solvers with one model, and honest stops: every fit says
whether it converged, why it stopped, its largest remaining violation and gap (``notes``).

Example:
    >>> fit = infer_mixture(TraceSet.from_corpus(tok, corpus, n_steps=3000))   # doctest: +SKIP
    >>> fit.as_dict()                                                         # doctest: +SKIP
    {'eng_Latn': 0.61, ...}
"""

from __future__ import annotations

from .diagnostics import MixtureDiagnostics, diagnose
from .lp import SCALE, MixtureFit, infer_mixture
from .merges import MergeList, extract_merges
from .result import CODE_CATEGORIES, MixtureResult
from .runner import mse, run_mixture_attack
from .solvers import SOLVERS, solve_rows
from .traces import PairTrace
from .traceset import PackedTraces, TraceSet

__all__ = ["TraceSet", "PackedTraces", "PairTrace", "MergeList", "extract_merges", "MixtureFit", "MixtureResult",
           "infer_mixture", "solve_rows", "SOLVERS", "SCALE", "run_mixture_attack", "mse", "CODE_CATEGORIES",
           "MixtureDiagnostics", "diagnose"]
