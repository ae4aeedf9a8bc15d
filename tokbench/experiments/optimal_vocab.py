"""Per-language "optimal" vocabulary size from a power-law fit of CTC against vocabulary size
(Arnett et al. 2025, "Explaining and Mitigating Crosslingual Tokenizer Inequities").

For every language a monolingual byte-level BPE tokenizer (GPT-2 regex by default) is trained on
that language's training text and evaluated on the parallel evaluation split over a grid of
vocabulary sizes. CTC, the corpus token count, is counted line by line without special tokens, as
Arnett et al. do (:func:`tokbench.metrics.compression.count_tokens`). Per language a power law

    CTC(v) = a · v^(−b)            (or a · v^(−b) + c with ``offset=True``)

is fitted in log space (``log CTC = log a − b log v``: ordinary least squares; with the offset a
bounded nonlinear least-squares fit by :func:`scipy.optimize.least_squares`), and solved for the
vocabulary that reaches a target CTC: ``v* = (a / (target − c))^(1/b)``. The target is by default
the reference language's CTC at the middle size of the grid (English at a shared vocabulary), or
any language's CTC at any size, or an absolute count. Each language is then trained at ``v*``
and the achieved CTC compared with the predicted one; the variance of premiums across languages
at one shared vocabulary is compared with the variance at the per-language sizes.

BPE is greedy: merge ``t`` depends only on merges ``1..t−1``, never on the final size. So each
language is trained once, at the largest size needed, and every smaller tokenizer is the prefix
of that merge list (:func:`truncate_bpe`; a test checks truncation equals training at that size).

Beside the fit, :func:`regression_table` reproduces the paper's explanatory analysis: OLS of CTC
over the (language, vocabulary) rows on train/eval token overlap, mean token length, whitespace
proportion and script, with R², adjusted R² and each feature's R² alone (numpy least squares).

How it differs from :mod:`tokbench.metrics.premiums`: premiums measure given tokenizers;
this module trains one tokenizer per language and size and asks which size equalises them.
It is the one metric that trains (it imports :mod:`tokbench.trainers.bpe` inside its functions).

Data support: a vocabulary is only as good as the pairs the training text repeats. Each
language's row in :meth:`OptimalVocabResult.fits_frame` records ``supported_vocab`` (the size
up to which every merged pair occurred at least twice; empty when every merge trained so far did) and whether training ran out of pairs;
sizes past those are flagged, never silently used. FLORES dev (~150 kB a language) supports
roughly 5,000 tokens; a user corpus runs the same code at full scale.

Example:
    >>> train = load_flores("eng_Latn,fra_Latn,rus_Cyrl", split="dev")            # doctest: +SKIP
    >>> evals = load_flores("eng_Latn,fra_Latn,rus_Cyrl", split="devtest")        # doctest: +SKIP
    >>> res = optimal_vocab(train, evals, grid=[500, 1000, 2000, 4000])           # doctest: +SKIP
    >>> res.optimal_frame()[["language", "optimal_vocab", "predicted_ctc", "achieved_ctc"]]  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..corpora import Corpus
from ..errors import CorpusError, TokbenchError, UnknownLanguageError
from ..results import Signature
from ..model.tokenizer import Tokenizer

if TYPE_CHECKING:  # pragma: no cover
    from ..trainers.bpe import TrainedBPE

__all__ = [
    "OptimalVocabError",
    "OptimalVocabResult",
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

_FLORES_CODE = re.compile(r"^[a-z]{3}_([A-Z][a-z]{3})$")

#: Numeric regression features (columns of the grid frame) and the categorical one.
REGRESSION_FEATURES: tuple[str, ...] = ("overlap", "mean_token_chars", "whitespace_share", "script")

Target = float | int | str | tuple[str, int] | None


class OptimalVocabError(TokbenchError):
    """The optimal-vocabulary analysis cannot run as asked (grid, target or corpora)."""


# ------------------------------------------------------------------------------ helpers


def script_of(language: str) -> str:
    """The ISO 15924 script of a FLORES code (``rus_Cyrl`` → ``Cyrl``), else ``"other"``.

    Example:
        >>> script_of("rus_Cyrl"), script_of("python")
        ('Cyrl', 'other')
    """
    m = _FLORES_CODE.match(language)
    return m.group(1) if m else "other"


def truncate_bpe(trained: TrainedBPE, vocab_size: int, *, name: str | None = None) -> Tokenizer:
    """The tokenizer ``train_bpe`` would return at ``vocab_size``, from a larger training run.

    BPE training is greedy — the merge at step t is the most frequent pair after merges 1..t−1,
    whatever the final size — so training at a smaller size yields exactly the first merges of
    a longer run. The prefix ends with the merge that created token ``vocab_size − 1`` (a merge
    that re-creates an existing token adds no id, and training stops as soon as the vocabulary
    is full).
    """
    from ..formats.hf_json import byte_level_bpe_json, fingerprint_text, tokenizer_from_hf_data
    from ..model.references import HFReference
    from ..trainers.bpe import file_merges

    full = trained.tokenizer
    n_tokens = len(full.vocab)
    specials = dict(full.special_tokens)
    n_alphabet = 256 + len(specials)
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < n_alphabet:
        raise OptimalVocabError(
            f"cannot truncate to vocab_size {vocab_size!r}: it must be an integer >= {n_alphabet} "
            "(the byte alphabet and special tokens)"
        )
    if vocab_size > n_tokens:
        raise OptimalVocabError(
            f"cannot truncate {full.name} ({n_tokens} tokens) to {vocab_size}: train a larger vocabulary first"
        )
    if vocab_size == n_alphabet:
        k = 0
    else:
        k = trained.merged_ids.index(vocab_size - 1) + 1
    vocab = list(full.vocab[:vocab_size])
    text = byte_level_bpe_json(vocab, file_merges(trained.merges[:k]), pattern=trained.pattern,
                               special_tokens=specials)
    import json

    return tokenizer_from_hf_data(
        json.loads(text), name=name or f"{full.name}@{vocab_size}", fingerprint=fingerprint_text(text),
        source_format="trained", reference_factory=lambda: HFReference.from_str(text),
        original_text=text,
    )


# ------------------------------------------------------------------------------ power law


@dataclass(frozen=True)
class PowerLawFit:
    """``CTC(v) = a · v^(−b) + c`` fitted in log space; ``r2`` is R² of log CTC."""

    a: float
    b: float
    c: float
    r2: float
    n_points: int
    offset: bool

    def predict(self, vocab_size: float) -> float:
        return self.a * float(vocab_size) ** (-self.b) + self.c

    def solve(self, target: float) -> float | None:
        """The vocabulary size at which the fitted CTC equals ``target``; None when unreachable."""
        if not (target > self.c) or self.b <= 0 or self.a <= 0:
            return None
        return (self.a / (target - self.c)) ** (1.0 / self.b)


def fit_power_law(vocab_sizes: Sequence[float], ctcs: Sequence[float], *, offset: bool = False) -> PowerLawFit:
    """Fit ``CTC = a · v^(−b)`` (+ ``c`` with ``offset``) by least squares on log CTC.

    Without offset this is the straight line ``log CTC = log a − b · log v``. With ``offset`` the
    residuals ``log(a v^−b + c) − log CTC`` are minimised over ``(log a, b, c)`` with
    ``0 <= c < min(CTC)``, starting from the plain fit.

    Example:
        >>> f = fit_power_law([100, 400, 1600], [1000.0, 500.0, 250.0])
        >>> round(f.a), round(f.b, 6), round(f.r2, 6)
        (10000, 0.5, 1.0)
    """
    import numpy as np

    v = np.asarray(vocab_sizes, dtype=np.float64)
    y = np.asarray(ctcs, dtype=np.float64)
    if v.shape != y.shape or v.ndim != 1:
        raise OptimalVocabError("vocab sizes and CTCs must be two lists of the same length")
    if len(np.unique(v)) < 3:
        raise OptimalVocabError(
            f"a power-law fit needs at least 3 distinct vocabulary sizes, got {len(np.unique(v))}; "
            "give a grid of 3 or more sizes (e.g. 1000,2000,4000)"
        )
    if (v <= 0).any() or (y <= 0).any() or not np.isfinite(v).all() or not np.isfinite(y).all():
        raise OptimalVocabError("vocab sizes and CTCs must be positive finite numbers")
    x, ly = np.log(v), np.log(y)
    slope, intercept = np.polyfit(x, ly, 1)
    a, b, c = float(np.exp(intercept)), float(-slope), 0.0
    if offset:
        from scipy.optimize import least_squares

        def resid(p: Any) -> Any:
            return np.log(np.exp(p[0]) * v ** (-p[1]) + p[2]) - ly

        hi = float(y.min()) * (1 - 1e-9)
        sol = least_squares(resid, x0=[intercept, max(b, 1e-6), 0.0],
                            bounds=([-np.inf, -np.inf, 0.0], [np.inf, np.inf, hi]))
        a, b, c = float(np.exp(sol.x[0])), float(sol.x[1]), float(sol.x[2])
    pred = np.log(a * v ** (-b) + c)
    ss_res = float(((ly - pred) ** 2).sum())
    ss_tot = float(((ly - ly.mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return PowerLawFit(a=a, b=b, c=c, r2=r2, n_points=int(v.size), offset=offset)


# ------------------------------------------------------------------------------ regression


def ols(y: Sequence[float], X: Any, *, intercept: bool = True) -> dict[str, Any]:
    """Ordinary least squares with numpy: coefficients, R², adjusted R², n and k.

    ``k`` counts the predictors actually identified (the rank of the design minus the
    intercept), so a one-hot column that duplicates another does not inflate it. Adjusted R² is
    ``1 − (1 − R²)(n − 1)/(n − k − 1)``, ``None`` when ``n − k − 1 <= 0``.

    Example:
        >>> r = ols([1.0, 3.0, 5.0, 7.0], [[0.0], [1.0], [2.0], [3.0]])
        >>> [round(c, 6) for c in r["coef"]], r["r2"]
        ([1.0, 2.0], 1.0)
    """
    import numpy as np

    yv = np.asarray(y, dtype=np.float64)
    Xm = np.asarray(X, dtype=np.float64).reshape(len(yv), -1)
    if intercept:
        Xm = np.column_stack([np.ones(len(yv)), Xm])
    coef, _, rank, _ = np.linalg.lstsq(Xm, yv, rcond=None)
    resid = yv - Xm @ coef
    ss_res = float(resid @ resid)
    ss_tot = float(((yv - yv.mean()) ** 2).sum())
    n = len(yv)
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    k = int(rank) - (1 if intercept else 0)
    adj = 1.0 - (1.0 - r2) * (n - 1) / (n - k - 1) if n - k - 1 > 0 and ss_tot > 0 else None
    return {"coef": [float(c) for c in coef], "r2": r2, "adj_r2": adj, "n": n, "k": k}


def _design(frame: Any, features: Sequence[str]) -> tuple[Any, list[str]]:
    import numpy as np
    import pandas as pd

    cols: list[Any] = []
    names: list[str] = []
    for f in features:
        if f == "script":
            dummies = pd.get_dummies(frame["script"].astype(str), prefix="script", drop_first=True, dtype=float)
            cols.extend(dummies[c].to_numpy() for c in dummies.columns)
            names.extend(dummies.columns)
        else:
            cols.append(frame[f].to_numpy(dtype=np.float64))
            names.append(f)
    X = np.column_stack(cols) if cols else np.zeros((len(frame), 0))
    return X, names


def regression_table(
    grid_frame: Any, *, dependent: str = "ctc", features: Sequence[str] = REGRESSION_FEATURES,
    controls: Sequence[str] = (),
) -> tuple[Any, Any]:
    """OLS of ``dependent`` on the features over the (language, vocabulary) rows.

    Returns two frames. The model table has one row per model — each feature alone, the numeric
    features together, all features, and all features plus ``controls`` (e.g. ``log_vocab``)
    when given — with columns model, features, n, k, r2, adj_r2. The coefficient table holds the
    full model's coefficients (term, coef). Rows with a missing feature are dropped (and counted
    in ``n``). ``script`` enters as one-hot columns (first level dropped).
    """
    import pandas as pd

    numeric = [f for f in features if f != "script"]
    needed = [dependent, *numeric, *controls] + (["script"] if "script" in features else [])
    data = grid_frame.dropna(subset=needed).reset_index(drop=True)
    if len(data) < 3:
        raise OptimalVocabError(
            f"the regression needs at least 3 complete (language, vocabulary) rows, got {len(data)}"
        )
    models: list[tuple[str, list[str]]] = [(f, [f]) for f in features]
    if len(numeric) > 1:
        models.append(("numeric features", numeric))
    models.append(("all features", list(features)))
    if controls:
        models.append(("all features + " + " + ".join(controls), [*features, *controls]))
    rows = []
    full_coef: list[dict[str, Any]] = []
    y = data[dependent].to_numpy(dtype=float)
    for name, feats in models:
        X, cols = _design(data, feats)
        fit = ols(y, X)
        flags = ""
        if "script" in feats and data["script"].nunique() < 2:
            flags = "one script only: script adds nothing"
        rows.append({"model": name, "features": " + ".join(feats), "dependent": dependent,
                     "n": fit["n"], "k": fit["k"], "r2": fit["r2"], "adj_r2": fit["adj_r2"],
                     "flags": flags})
        if feats == models[-1][1]:
            full_coef = [{"model": name, "term": t, "coef": c}
                         for t, c in zip(["intercept", *cols], fit["coef"], strict=True)]
    return pd.DataFrame(rows), pd.DataFrame(full_coef)


# ------------------------------------------------------------------------------ result


@dataclass(frozen=True)
class OptimalVocabResult:
    """Everything :func:`optimal_vocab` measured, as row lists with a frame accessor each.

    * ``to_frame()`` / ``grid_frame()``: one row per (language, grid size): language, script,
      vocab_size, actual_vocab, ctc, eval_bytes, bytes_per_token, premium (vs the reference at
      the same size), overlap, mean_token_chars, whitespace_share, eval_mean_token_chars,
      eval_whitespace_share, in_fit, flags.
    * ``fits_frame()``: language, a, b, c, r2, n_points, supported_vocab, trained_vocab,
      stop_reason, flags.
    * ``optimal_frame()``: language, target_ctc, solved_vocab (unrounded), optimal_vocab
      (rounded), realized_vocab (after caps), predicted_ctc, achieved_ctc, error (achieved /
      predicted − 1), premium (achieved / target), capped, extrapolated, flags.
    * ``premium_frame()``: setting ("shared" per grid size, or "optimal"), vocab_size,
      languages, mean, variance, std, min, max, max_language, language_set ("all", and
      "uncapped" when some languages could not reach their size), baseline_vocab,
      variance_ratio (vs the shared baseline size over the same languages), variance_reduction.
    * ``regression_frame()`` and ``coefficients_frame()``: see :func:`regression_table`.
    """

    grid_rows: list[dict[str, Any]]
    fit_rows: list[dict[str, Any]]
    optimal_rows: list[dict[str, Any]]
    premium_rows: list[dict[str, Any]]
    regression_rows: list[dict[str, Any]]
    coefficient_rows: list[dict[str, Any]]
    signature: Signature
    target: dict[str, Any]
    grid: list[int]
    notes: list[str] = field(default_factory=list)
    tokenizers: dict[str, Tokenizer] = field(default_factory=dict, repr=False, compare=False)

    def to_frame(self) -> Any:
        return self.grid_frame()

    def grid_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.grid_rows)

    def fits_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.fit_rows)

    def optimal_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.optimal_rows)

    def premium_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.premium_rows)

    def regression_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.regression_rows)

    def coefficients_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.coefficient_rows)

    def frames(self) -> dict[str, Any]:
        """Every table by file stem: grid, fits, optimal, premiums, regression, coefficients."""
        return {"grid": self.grid_frame(), "fits": self.fits_frame(), "optimal": self.optimal_frame(),
                "premiums": self.premium_frame(), "regression": self.regression_frame(),
                "coefficients": self.coefficients_frame()}

    def figure_frame(self) -> Any:
        """The figure contract: language, vocab_size, ctc, bytes_per_token, in_fit, kind, and the
        fit's a, b, c, r2 on every row; the optimal points are the rows where ``kind == "optimal"``."""
        import pandas as pd

        grid = self.grid_frame()[["language", "vocab_size", "ctc", "bytes_per_token", "in_fit"]].assign(kind="grid")
        opt = self.optimal_frame()
        eval_bytes = self.grid_frame().groupby("language")["eval_bytes"].first()
        points = pd.DataFrame({
            "language": opt["language"], "vocab_size": opt["realized_vocab"], "ctc": opt["achieved_ctc"],
            "bytes_per_token": [eval_bytes[lang] / c for lang, c in zip(opt["language"], opt["achieved_ctc"], strict=True)],
            "in_fit": True, "kind": "optimal",
        })
        fits = self.fits_frame()[["language", "a", "b", "c", "r2"]]
        out = pd.concat([grid, points], ignore_index=True).merge(fits, on="language", how="left")
        out.attrs["target_ctc"] = self.target.get("ctc")
        return out

    def summary(self) -> str:
        """A few lines for the CLI: target, variance of premiums, fit and regression R²."""
        lines = [f"target CTC {self.target['ctc']:,.0f} ({self.target['description']})"]
        prem = self.premium_frame()
        for _, r in prem.iterrows():
            where = f"@{int(r['vocab_size'])}" if r["setting"] == "shared" else ""
            where += "" if r["language_set"] == "all" else f" [{r['language_set']} languages, n={r['languages']}]"
            ratio = "" if r["variance_ratio"] is None or math.isnan(r["variance_ratio"]) else f", ×{r['variance_ratio']:.3f}"
            lines.append(f"  premiums {r['setting']}{where}: mean {r['mean']:.3f}, variance {r['variance']:.4f}{ratio}")
        fits = self.fits_frame()
        lines.append(f"power-law fit R² (log CTC): median {fits['r2'].median():.4f}, min {fits['r2'].min():.4f}")
        opt = self.optimal_frame()
        lines.append(f"optimal vocab: median {int(opt['realized_vocab'].median())}, range "
                     f"{int(opt['realized_vocab'].min())}–{int(opt['realized_vocab'].max())}; "
                     f"|achieved/predicted − 1| median {opt['error'].abs().median():.3%}; "
                     f"capped {int(opt['capped'].sum())}, extrapolated {int(opt['extrapolated'].sum())}")
        for r in self.regression_rows:
            adj = "–" if r["adj_r2"] is None or math.isnan(r["adj_r2"]) else f"{r['adj_r2']:.3f}"
            lines.append(f"  R² {r['model']}: {r['r2']:.3f} (adjusted {adj}, n={r['n']})")
        return "\n".join(lines)


# ------------------------------------------------------------------------------ analysis


def parse_target(target: Target, reference_language: str, grid: Sequence[int]) -> tuple[str, Any]:
    """``("absolute", count)`` or ``("language", (lang, vocab))`` from a target spec.

    ``None`` means the reference language at the middle of the grid; a string is ``"LANG@V"``,
    ``"LANG"`` (at the middle of the grid) or a number.

    Example:
        >>> parse_target(None, "eng_Latn", [1000, 2000, 4000])
        ('language', ('eng_Latn', 2000))
        >>> parse_target("fra_Latn@4000", "eng_Latn", [1000]), parse_target("25e3", "eng_Latn", [1000])
        (('language', ('fra_Latn', 4000)), ('absolute', 25000.0))
    """
    middle = sorted(grid)[(len(grid) - 1) // 2] if grid else None
    if target is None:
        return "language", (reference_language, middle)
    if isinstance(target, bool):
        raise OptimalVocabError(f"target must be a CTC, LANG@VOCAB or (LANG, VOCAB), got {target!r}")
    if isinstance(target, int | float):
        value = float(target)
    elif isinstance(target, tuple):
        if len(target) != 2 or not isinstance(target[0], str) or not isinstance(target[1], int):
            raise OptimalVocabError(f"a target tuple is (language, vocab_size), got {target!r}")
        return "language", (target[0], int(target[1]))
    elif isinstance(target, str):
        text = target.strip()
        try:
            value = float(text)
        except ValueError:
            lang, _, size = text.partition("@")
            if not lang:
                raise OptimalVocabError(f"target {target!r}: give LANG@VOCAB, LANG or a CTC") from None
            if not size:
                return "language", (lang, middle)
            try:
                return "language", (lang, int(size.replace("_", "")))
            except ValueError:
                raise OptimalVocabError(f"target {target!r}: the vocabulary after @ must be an integer") from None
    else:
        raise OptimalVocabError(f"target must be a CTC, LANG@VOCAB or (LANG, VOCAB), got {target!r}")
    if not math.isfinite(value) or value <= 0:
        raise OptimalVocabError(f"an absolute target CTC must be a positive number, got {target!r}")
    return "absolute", value


def _check_grid(grid: Sequence[int]) -> list[int]:
    try:
        sizes = sorted({int(v) for v in grid})
    except (TypeError, ValueError):
        raise OptimalVocabError(f"the grid must be vocabulary sizes (integers), got {grid!r}") from None
    if any(isinstance(v, bool) or int(v) != v for v in grid):
        raise OptimalVocabError(f"the grid must be integer vocabulary sizes, got {list(grid)!r}")
    if len(sizes) < 3:
        raise OptimalVocabError(
            f"the grid has {len(sizes)} distinct size(s) ({', '.join(map(str, sizes)) or 'none'}); a "
            "power-law fit needs at least 3, e.g. --grid 1000,2000,4000"
        )
    if sizes[0] <= 256:
        raise OptimalVocabError(
            f"grid size {sizes[0]} leaves no merges (the byte alphabet alone is 256 tokens); use sizes above 256"
        )
    return sizes


def _check_languages(train: Corpus, evals: Corpus, languages: Sequence[str] | None, reference: str) -> list[str]:
    names = list(languages) if languages is not None else [c for c in evals.category_names if c in train]
    if reference not in names:
        names = [reference, *names]
    for lang in names:
        for corpus, role in ((train, "training"), (evals, "evaluation")):
            if lang not in corpus:
                close = difflib.get_close_matches(lang, corpus.category_names, n=5, cutoff=0.5)
                hint = f"closest: {', '.join(close)}" if close else f"it has {', '.join(corpus.category_names[:8])}"
                raise UnknownLanguageError(
                    f"language {lang!r} is not in the {role} corpus {corpus.name!r} ({hint}); load it "
                    "in both corpora (e.g. flores:LANG@dev and flores:LANG@devtest) or leave it out"
                    + (" — the reference language is always needed; choose it with --reference" if lang == reference else "")
                )
    if len(names) < 2:
        raise OptimalVocabError(
            f"only {names[0]} is in both corpora; comparing premiums needs at least 2 languages "
            f"(training has {', '.join(train.category_names[:8])}; evaluation has "
            f"{', '.join(evals.category_names[:8])})"
        )
    sizes = {c: evals.n_documents(c) for c in names}
    if len(set(sizes.values())) > 1:
        odd = [c for c, n in sizes.items() if n != sizes[reference]][:5]
        raise CorpusError(
            f"the evaluation corpus must be parallel (the same sentences in every language), but "
            f"{', '.join(odd)} differ(s) in document count from {reference} ({sizes[reference]}); "
            "use FLORES devtest or align the files"
        )
    return names


def _token_tables(tok: Tokenizer) -> tuple[Any, Any, Any]:
    """Per-id characters (a UTF-8 fragment counts as one) and whether the token holds a space."""
    import numpy as np

    chars = np.fromiter((len(v.decode("utf-8", errors="replace")) for v in tok.vocab), dtype=np.float64,
                        count=len(tok.vocab))
    space = np.fromiter((b" " in v for v in tok.vocab), dtype=bool, count=len(tok.vocab))
    learned = np.zeros(len(tok.vocab), dtype=bool)
    learned[256 + len(tok.special_tokens):] = True
    return chars, space, learned


@dataclass
class _Language:
    name: str
    trained: Any
    evals: list[str]
    word_table: dict[str, int]
    overlap_docs: list[str]
    eval_bytes: int
    cache: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def trained_vocab(self) -> int:
        return len(self.trained.tokenizer.vocab)

    @property
    def supported_vocab(self) -> int | None:
        """Size up to which every merged pair occurred at least twice (None: all so far did)."""
        import numpy as np

        weak = np.flatnonzero(np.asarray(self.trained.merge_counts) < 2)
        if not weak.size:
            return None if self.trained.stop_reason == "vocab_size" else self.trained_vocab
        return 256 + len(self.trained.tokenizer.special_tokens) + int(weak[0])

    def beyond_support(self, size: int) -> bool:
        s = self.supported_vocab
        return s is not None and size > s


def _measure(lang: _Language, size: int, *, keep: dict[str, Tokenizer] | None = None) -> dict[str, Any]:
    """CTC and tokenization features of ``lang``'s tokenizer at ``size`` (cached)."""
    import numpy as np

    from ..metrics.compression import count_tokens

    size = min(size, lang.trained_vocab)
    if size in lang.cache:
        return lang.cache[size]
    tok = truncate_bpe(lang.trained, size, name=f"bpe-{lang.name}-{size}")
    counts = count_tokens(tok, lang.evals)
    freq = counts.freq.astype(np.float64)
    ctc = counts.ctc
    train_freq = count_tokens(tok, lang.overlap_docs).freq
    chars, space, learned = _token_tables(tok)
    n_learned = int(learned.sum())
    row = {
        "actual_vocab": size,
        "ctc": ctc,
        "overlap": float(freq[train_freq > 0].sum() / ctc) if ctc else None,
        "mean_token_chars": float(chars[learned].mean()) if n_learned else None,
        "whitespace_share": float(space[learned].mean()) if n_learned else None,
        "eval_mean_token_chars": float(freq @ chars / ctc) if ctc else None,
        "eval_whitespace_share": float(freq[space].sum() / ctc) if ctc else None,
        "fingerprint": tok.fingerprint,
    }
    lang.cache[size] = row
    if keep is not None:
        keep[f"{lang.name}@{size}"] = tok
    return row


def optimal_vocab(
    languages_corpus_train: Corpus,
    languages_corpus_eval: Corpus,
    *,
    grid: Sequence[int],
    target: Target = None,
    reference_language: str = "eng_Latn",
    languages: Sequence[str] | None = None,
    offset: bool = False,
    pattern: str = "gpt2",
    max_vocab: int | None = None,
    unreachable: Literal["raise", "flag"] = "raise",
    feature_scope: Literal["vocab", "eval"] = "vocab",
    overlap_max_bytes: int | None = 5_000_000,
    keep_tokenizers: bool = False,
    progress: bool = False,
    train_fn: Callable[..., Any] | None = None,
) -> OptimalVocabResult:
    """Fit CTC(v) per language, solve for the vocabulary reaching ``target``, retrain there.

    Args:
        languages_corpus_train: one category per language; each language's tokenizer is trained
            on its own documents only (monolingual).
        languages_corpus_eval: the parallel evaluation corpus (same sentences in every language).
        grid: at least 3 vocabulary sizes (> 256). Sizes past what a language's training text
            supports are flagged and left out of its fit.
        target: ``None`` (the reference language's CTC at the middle grid size), ``"LANG@V"`` or
            ``(LANG, V)`` (that language's CTC at size V, V <= max(grid)), or an absolute CTC.
        languages: which categories (default: every evaluation category also in training).
        offset: fit ``a v^−b + c`` instead of ``a v^−b``.
        max_vocab: never train past this size (default 8 × max(grid)); capped rows are flagged.
        unreachable: ``"raise"`` (default) when a fitted curve cannot reach the target (not
            decreasing, or the target below the fitted asymptote ``c``); ``"flag"`` keeps the
            language at the largest size it can train and says so.
        feature_scope: the regression's ``mean_token_chars`` and ``whitespace_share`` over the
            learned vocabulary (``"vocab"``, default) or over the evaluation tokens (``"eval"``;
            mean token length is then the characters per token, CTC's reciprocal up to size).
        overlap_max_bytes: tokenize at most this much training text per language (its first
            documents) at each grid size for the train/eval overlap feature (training itself
            always uses all of it); None for all of it. FLORES dev is far below the default.
        train_fn: the BPE trainer (default :func:`tokbench.trainers.bpe.train_bpe`), called like it
            with a word-count table of the language's training text.

    Raises:
        OptimalVocabError: fewer than 3 grid sizes, a bad target, an unreachable target.
        UnknownLanguageError: a language (or the reference) missing from either corpus.
    """
    from tqdm.auto import tqdm

    from ..trainers.bpe import word_counts

    if train_fn is None:
        from ..trainers.bpe import train_bpe as train_fn
    sizes = _check_grid(grid)
    if feature_scope not in ("vocab", "eval"):
        raise OptimalVocabError(f"feature_scope must be 'vocab' or 'eval', got {feature_scope!r}")
    if unreachable not in ("raise", "flag"):
        raise OptimalVocabError(f"unreachable must be 'raise' or 'flag', got {unreachable!r}")
    kind, tvalue = parse_target(target, reference_language, sizes)
    notes: list[str] = []
    names = _check_languages(languages_corpus_train, languages_corpus_eval, languages, reference_language)
    if languages is None:
        dropped = [c for c in languages_corpus_train.category_names if c not in languages_corpus_eval]
        dropped += [c for c in languages_corpus_eval.category_names if c not in languages_corpus_train]
        if dropped:
            notes.append(f"left out (not in both corpora): {', '.join(dropped)}")
    if kind == "language":
        t_lang, t_vocab = tvalue
        if t_lang not in names:
            names.append(t_lang)
            _check_languages(languages_corpus_train, languages_corpus_eval, names, reference_language)
        if not 256 < t_vocab <= sizes[-1]:
            raise OptimalVocabError(
                f"target vocabulary {t_vocab} must be above 256 and at most the largest grid size "
                f"{sizes[-1]}; add it to the grid or choose another"
            )
    cap = int(max_vocab) if max_vocab is not None else 8 * sizes[-1]
    if cap < sizes[-1]:
        raise OptimalVocabError(f"max_vocab {cap} is below the largest grid size {sizes[-1]}")
    keep: dict[str, Tokenizer] | None = {} if keep_tokenizers else None

    # 1. One training run per language at the largest size needed; smaller sizes are prefixes.
    langs: dict[str, _Language] = {}
    top = max(sizes[-1], tvalue[1] if kind == "language" else 0)
    for name in tqdm(names, desc="train", unit="lang", disable=not progress):
        docs = languages_corpus_train.documents(name)
        # Pretokenize once: the same word-count table serves the first run and any retraining.
        table = word_counts(docs, pattern)
        trained = train_fn(table, vocab_size=top, pattern=pattern, allow_smaller=True, progress=False,
                           name=f"bpe-{name}")
        overlap_docs = docs
        if overlap_max_bytes is not None:
            total, overlap_docs = 0, []
            for d in docs:
                total += len(d.encode("utf-8"))
                if total > overlap_max_bytes and overlap_docs:
                    break
                overlap_docs.append(d)
        evals = languages_corpus_eval.documents(name)
        langs[name] = _Language(name, trained, evals, table, overlap_docs,
                                sum(len(d.encode("utf-8")) for d in evals))

    # 2. The grid.
    grid_rows: list[dict[str, Any]] = []
    for name in tqdm(names, desc="grid", unit="lang", disable=not progress):
        lang = langs[name]
        for v in sizes:
            m = _measure(lang, v)
            flags = []
            in_fit = True
            if v > lang.trained_vocab:
                flags.append(f"training text ran out of pairs at {lang.trained_vocab} tokens: measured there, left out of the fit")
                in_fit = False
            elif lang.beyond_support(v):
                flags.append(f"past the supported vocabulary {lang.supported_vocab} (later merges are pairs seen once)")
            grid_rows.append({"language": name, "script": script_of(name), "vocab_size": v,
                              "log_vocab": math.log(v), **{k: m[k] for k in m if k != "fingerprint"},
                              "eval_bytes": lang.eval_bytes, "bytes_per_token": lang.eval_bytes / m["ctc"],
                              "in_fit": in_fit, "flags": "; ".join(flags)})
    ref_ctc = {r["vocab_size"]: r["ctc"] for r in grid_rows if r["language"] == reference_language}
    for r in grid_rows:
        r["premium"] = r["ctc"] / ref_ctc[r["vocab_size"]]

    # 3. Target.
    if kind == "language":
        t_lang, t_vocab = tvalue
        target_ctc = float(_measure(langs[t_lang], t_vocab)["ctc"])
        if t_vocab > langs[t_lang].trained_vocab:
            raise OptimalVocabError(
                f"the target language {t_lang} trains only {langs[t_lang].trained_vocab} tokens, below the "
                f"target vocabulary {t_vocab}; choose a smaller target vocabulary"
            )
        description = f"CTC of {t_lang} at vocabulary {t_vocab}"
    else:
        target_ctc = float(tvalue)
        description = "absolute CTC"
    target_info = {"kind": kind, "ctc": target_ctc, "description": description,
                   "language": tvalue[0] if kind == "language" else None,
                   "vocab_size": tvalue[1] if kind == "language" else None}

    # 4. Fits and optimal sizes.
    fit_rows: list[dict[str, Any]] = []
    optimal_rows: list[dict[str, Any]] = []
    unreachable_langs: list[str] = []
    for name in tqdm(names, desc="optimal", unit="lang", disable=not progress):
        lang = langs[name]
        rows = [r for r in grid_rows if r["language"] == name and r["in_fit"]]
        if len(rows) < 3:
            raise OptimalVocabError(
                f"{name}: only {len(rows)} grid size(s) fit in the {lang.trained_vocab} tokens its training text "
                f"allows; use smaller grid sizes (all <= {lang.trained_vocab}) or more training text"
            )
        fit = fit_power_law([r["vocab_size"] for r in rows], [r["ctc"] for r in rows], offset=offset)
        fflags = []
        if lang.trained.stop_reason == "no_pairs":
            fflags.append(f"training text runs out of pairs at {lang.trained_vocab} tokens")
        fit_rows.append({"language": name, "script": script_of(name), "a": fit.a, "b": fit.b, "c": fit.c,
                         "r2": fit.r2, "n_points": fit.n_points, "offset": offset,
                         "supported_vocab": lang.supported_vocab, "trained_vocab": lang.trained_vocab,
                         "stop_reason": lang.trained.stop_reason, "flags": "; ".join(fflags)})
        solved = fit.solve(target_ctc)
        flags: list[str] = []
        capped = extrapolated = False
        if solved is None:
            unreachable_langs.append(name)
            why = ("the fitted CTC does not fall with vocabulary" if fit.b <= 0
                   else f"the target is below the fitted asymptote c={fit.c:,.0f}")
            flags.append(f"target unreachable: {why}")
            wanted = cap
            rounded = None
        else:
            rounded = int(round(solved))
            wanted = rounded
        floor = 256 + len(lang.trained.tokenizer.special_tokens)
        if wanted < floor:
            flags.append(f"solved size {wanted} is below the byte alphabet: using {floor} (target above byte-level CTC)")
            wanted, capped = floor, True
        if wanted > sizes[-1] or wanted < sizes[0]:
            extrapolated = True
            flags.append("outside the grid: the power law is extrapolated")
        if wanted > cap:
            flags.append(f"capped at max_vocab {cap}")
            wanted, capped = cap, True
        if wanted > lang.trained_vocab and lang.trained.stop_reason == "vocab_size":
            # Train further; the smaller sizes stay prefixes of this longer merge list.
            lang.trained = train_fn(lang.word_table, vocab_size=wanted, pattern=pattern, allow_smaller=True,
                                    progress=False, name=f"bpe-{name}")
            if lang.trained.stop_reason == "no_pairs":
                fit_rows[-1]["flags"] = "; ".join(
                    [*fflags, f"training text runs out of pairs at {lang.trained_vocab} tokens"])
                fit_rows[-1]["trained_vocab"] = lang.trained_vocab
                fit_rows[-1]["stop_reason"] = "no_pairs"
        if wanted > lang.trained_vocab:
            flags.append(f"capped: the training text runs out of pairs at {lang.trained_vocab} tokens, before {wanted}")
            wanted, capped = lang.trained_vocab, True
        if lang.beyond_support(wanted):
            flags.append(f"past the supported vocabulary {lang.supported_vocab} (merges of pairs seen once)")
        m = _measure(lang, wanted, keep=keep)
        predicted = fit.predict(rounded) if rounded is not None else None
        optimal_rows.append({
            "language": name, "script": script_of(name), "target_ctc": target_ctc,
            "solved_vocab": solved, "optimal_vocab": rounded, "realized_vocab": wanted,
            "predicted_ctc": predicted, "predicted_ctc_at_realized": fit.predict(wanted),
            "achieved_ctc": m["ctc"],
            "error": (m["ctc"] / predicted - 1) if predicted else None,
            "premium": m["ctc"] / target_ctc, "capped": capped, "extrapolated": extrapolated,
            "fingerprint": m["fingerprint"], "flags": "; ".join(flags),
        })
    if unreachable_langs and unreachable == "raise":
        raise OptimalVocabError(
            f"the target CTC {target_ctc:,.0f} ({description}) cannot be reached by the fitted curve of "
            f"{', '.join(unreachable_langs[:8])}; choose a larger target, fit without offset, or pass "
            "unreachable='flag' (--unreachable flag) to keep them at the largest trainable size"
        )
    if unreachable_langs:
        notes.append(f"target unreachable for {', '.join(unreachable_langs)} (kept at the largest trainable size)")

    # 5. Premium variance: one shared size vs the per-language sizes.
    premium_rows = _premium_rows(grid_rows, optimal_rows, sizes, target_info, reference_language)

    # 6. Regression on the grid rows.
    reg_frame = _regression_input(grid_rows, feature_scope)
    reg, coef = regression_table(reg_frame, controls=("log_vocab",))
    signature = Signature(
        tokenizers={f"{r['language']}@{r['realized_vocab']}": r["fingerprint"] for r in optimal_rows},
        corpus={"corpus": f"{languages_corpus_train.name} -> {languages_corpus_eval.name}",
                "train": languages_corpus_train.signature(), "eval": languages_corpus_eval.signature()},
        extra={"method": "optimal_vocab", "grid": sizes, "target": target_info, "offset": offset,
               "pattern": pattern, "max_vocab": cap, "feature_scope": feature_scope,
               "overlap_max_bytes": overlap_max_bytes, "reference": reference_language},
    )
    for r in fit_rows:  # retraining may have revealed where support ends
        lang = langs[r["language"]]
        r.update(supported_vocab=lang.supported_vocab, trained_vocab=lang.trained_vocab,
                 stop_reason=lang.trained.stop_reason)
    if any(langs[r["language"]].beyond_support(r["realized_vocab"]) for r in optimal_rows):
        notes.append("some optimal sizes lie past what the training text supports (pairs seen once); "
                     "use more training text for those languages")
    if keep is not None:
        for name in names:
            for v in sizes:
                keep.setdefault(f"{name}@{min(v, langs[name].trained_vocab)}",
                                truncate_bpe(langs[name].trained, min(v, langs[name].trained_vocab)))
    return OptimalVocabResult(
        grid_rows=grid_rows, fit_rows=fit_rows, optimal_rows=optimal_rows, premium_rows=premium_rows,
        regression_rows=reg.to_dict("records"), coefficient_rows=coef.to_dict("records"),
        signature=signature, target=target_info, grid=sizes, notes=notes, tokenizers=keep or {},
    )


def _variance_row(setting: str, vocab: int | None, names: list[str], premiums: list[float]) -> dict[str, Any]:
    import numpy as np

    x = np.asarray(premiums, dtype=np.float64)
    k = int(np.argmax(x))
    return {"setting": setting, "vocab_size": vocab, "languages": len(x), "mean": float(x.mean()),
            "variance": float(x.var()), "std": float(x.std()), "min": float(x.min()), "max": float(x.max()),
            "max_language": names[k]}


def _premium_rows(grid_rows: list[dict[str, Any]], optimal_rows: list[dict[str, Any]], sizes: list[int],
                  target: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    """Premium spread per setting; each ratio is against the shared baseline size over the same
    languages (capped languages, which could not reach their size, form a second set)."""
    base_vocab = target["vocab_size"] if target["vocab_size"] in sizes else sizes[(len(sizes) - 1) // 2]
    sets = {"all": [r["language"] for r in optimal_rows]}
    uncapped = [r["language"] for r in optimal_rows if not r["capped"]]
    if uncapped and len(uncapped) < len(optimal_rows):
        sets["uncapped"] = uncapped
    rows = []
    for set_name, names in sets.items():
        keep = set(names)
        block = []
        for v in sizes:
            if set_name != "all" and v != base_vocab:
                continue
            sel = [r for r in grid_rows if r["vocab_size"] == v and r["language"] in keep]
            block.append(_variance_row("shared", v, [r["language"] for r in sel], [r["premium"] for r in sel]))
        sel = [r for r in optimal_rows if r["language"] in keep]
        block.append(_variance_row("optimal", None, [r["language"] for r in sel], [r["premium"] for r in sel]))
        base = next(r["variance"] for r in block if r["setting"] == "shared" and r["vocab_size"] == base_vocab)
        for r in block:
            r["language_set"] = set_name
            r["baseline_vocab"] = base_vocab
            r["variance_ratio"] = r["variance"] / base if base > 0 else None
            r["variance_reduction"] = 1 - r["variance_ratio"] if r["variance_ratio"] is not None else None
        rows.extend(block)
    return rows


def _regression_input(grid_rows: list[dict[str, Any]], scope: str) -> Any:
    import pandas as pd

    frame = pd.DataFrame([r for r in grid_rows if r["in_fit"]])
    if scope == "eval":
        frame["mean_token_chars"] = frame["eval_mean_token_chars"]
        frame["whitespace_share"] = frame["eval_whitespace_share"]
    return frame
