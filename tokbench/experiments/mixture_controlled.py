"""Controlled data-mixture experiments (Hayase et al. 2024, §4) and the paper's baselines.

Each trial draws mixture weights uniformly from the simplex (seeded), trains a byte-level BPE
tokenizer (:func:`tokbench.trainers.bpe.train_bpe`) on text of each category in those byte
proportions taken from a *training* half of the data, traces pair counts on the other
(*counting*) half, infers the mixture (:mod:`tokbench.attacks.mixture`) and scores it by MSE
against the true byte proportions. Baselines, scored on the same trials:

* ``random`` — a second uniform draw from the simplex;
* ``TC`` (token classification) — every learned token is assigned to the category where its
  frequency (per token of that category's counting sample) is highest; proportions are the
  shares of tokens assigned;
* ``TEE`` (tokenizer encoding efficiency) — proportions proportional to the tokenizer's bytes per
  token on each category's counting sample (better compression is read as more training data).

Halves: FLORES ``dev`` trains and ``devtest`` counts; for code and other corpora the first half of
each category's documents trains and the second half counts.

Example:
    >>> rows = run_controlled(train, count, trials=2, n_steps=1000, seed=0)   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import TokbenchError
from ..attacks.mixture import TraceSet, infer_mixture, mse

__all__ = ["load_spec", "split_halves", "mixture_sample", "run_trial", "run_controlled", "tc_baseline", "tee_baseline",
           "SETTINGS"]

#: Named category sets (natural languages from FLORES, programming languages, mixed).
_LANGS30 = ("eng_Latn,fra_Latn,deu_Latn,spa_Latn,ita_Latn,por_Latn,nld_Latn,pol_Latn,ces_Latn,swe_Latn,"
            "fin_Latn,hun_Latn,ron_Latn,tur_Latn,vie_Latn,ind_Latn,rus_Cyrl,ukr_Cyrl,bul_Cyrl,ell_Grek,"
            "arb_Arab,pes_Arab,heb_Hebr,hin_Deva,ben_Beng,tha_Thai,zho_Hans,jpn_Jpan,kor_Hang,tam_Taml").split(",")
SETTINGS: dict[str, str] = {
    "lang5": "flores:" + ",".join(_LANGS30[:5]),
    "lang10": "flores:" + ",".join(_LANGS30[:10]),
    "lang30": "flores:" + ",".join(_LANGS30),
    "code5": "code:python,c,javascript,php,shell",
    "mixed": "flores:" + ",".join(_LANGS30[:5]) + "+code:python,c,javascript,php,shell",
}


def load_spec(spec: str) -> Any:
    """:func:`~tokbench.corpora.load_corpus`, except that ``flores:LANGS[@SPLIT]`` parts are read
    with :func:`~tokbench.corpora.load_flores` directly and ``+`` parts joined here: a spec of 30+
    languages is longer than a file name, which ``load_corpus``'s path probe cannot stat."""
    from ..corpora import Corpus, load_corpus, load_flores

    parts = []
    for part in spec.split("+"):
        if part.startswith("flores:") and "?" not in part and "=" not in part:
            langs, _, split = part[len("flores:"):].partition("@")
            parts.append(load_flores(langs, split=split or "devtest"))  # type: ignore[arg-type]
        else:
            parts.append(load_corpus(part))
    return parts[0] if len(parts) == 1 else Corpus.combine(parts, name=spec)


def split_halves(spec: str) -> tuple[Any, Any]:
    """``(train, count)`` corpora for a corpus spec or a :data:`SETTINGS` name (module docstring)."""
    from ..corpora import Corpus

    spec = SETTINGS.get(spec, spec)
    parts_train, parts_count = [], []
    for part in spec.split("+"):
        if part.startswith("flores:") and "@" not in part:
            parts_train.append(load_spec(part + "@dev"))
            parts_count.append(load_spec(part + "@devtest"))
            continue
        whole = load_spec(part)
        halves: tuple[dict[str, list[str]], dict[str, list[str]]] = ({}, {})
        for cat, docs in whole:
            if len(docs) < 2:
                raise TokbenchError(f"category {cat!r} has {len(docs)} document; halves need at least 2")
            halves[0][cat] = docs[: len(docs) // 2]
            halves[1][cat] = docs[len(docs) // 2:]
        parts_train.append(Corpus(f"{part}#train", halves[0]))
        parts_count.append(Corpus(f"{part}#count", halves[1]))
    return (Corpus.combine(parts_train, name=f"{spec}#train"), Corpus.combine(parts_count, name=f"{spec}#count"))


def mixture_sample(train: Any, weights: np.ndarray, seed: int) -> tuple[list[str], np.ndarray]:
    """Training texts in byte proportions ``weights``, as large as the data allows; returns the
    texts and the true (realised) byte proportions."""
    names = train.category_names
    avail = np.array([train.n_bytes(c) for c in names], np.float64)
    total = float(np.min(avail / np.maximum(weights, 1e-12)))
    texts: list[str] = []
    realised = []
    for c, w in zip(names, weights, strict=True):
        budget = int(w * total)
        if budget < 1:
            realised.append(0)
            continue
        part = train.subset([c]).sample(max_bytes=budget, seed=seed)
        texts.extend(part.documents(c))
        realised.append(part.n_bytes())
    truth = np.asarray(realised, np.float64)
    return texts, truth / truth.sum()


def tc_baseline(tok: Any, count: Any) -> np.ndarray:
    """Token classification (module docstring)."""
    names = count.category_names
    first = 256 + len(tok.special_tokens)
    freq = np.zeros((len(names), tok.vocab_size))
    for i, c in enumerate(names):
        ids = np.concatenate([np.asarray(x, np.int64) for x in tok.encode_batch(count.documents(c))] or [np.zeros(0, np.int64)])
        freq[i] = np.bincount(ids, minlength=tok.vocab_size)[: tok.vocab_size] / max(len(ids), 1)
    learned = freq[:, first:]
    seen = learned.max(axis=0) > 0
    votes = np.bincount(learned[:, seen].argmax(axis=0), minlength=len(names)).astype(np.float64)
    return votes / votes.sum() if votes.sum() else np.full(len(names), 1.0 / len(names))


def tee_baseline(tok: Any, count: Any) -> np.ndarray:
    """Tokenizer encoding efficiency (module docstring)."""
    eff = []
    for c in count.category_names:
        n_tok = sum(len(x) for x in tok.encode_batch(count.documents(c)))
        eff.append(count.n_bytes(c) / max(n_tok, 1))
    e = np.asarray(eff)
    return e / e.sum()


def run_trial(train: Any, count: Any, *, n_steps: int, seed: int, count_bytes: int | None = None,
              baselines: bool = True, solver: str = "highs") -> dict[str, Any]:
    """One trial: weights, tokenizer, traces, inference, errors (log10 MSE) of all methods."""
    from ..trainers.bpe import train_bpe

    rng = np.random.default_rng(seed)
    n = len(train.category_names)
    weights = rng.dirichlet(np.ones(n))
    texts, truth = mixture_sample(train, weights, seed)
    trained = train_bpe(texts, vocab_size=256 + n_steps, progress=False, allow_smaller=True)
    tok = trained.tokenizer
    counting = count.sample(max_bytes=count_bytes, seed=seed) if count_bytes else count
    steps = min(n_steps, len(trained.merges))
    ts = TraceSet.from_corpus(tok, counting, n_steps=steps, use_cache=False)
    fit = infer_mixture(ts, solver=solver)
    out: dict[str, Any] = {
        "seed": seed, "n": n, "steps": n_steps, "steps_used": steps, "count_bytes": count_bytes or int(np.mean([count.n_bytes(c) for c in count.category_names])),
        "train_bytes": sum(len(t.encode("utf-8")) for t in texts),
        "attack": np.log10(max(mse(fit.proportions, truth), 1e-300)), "converged": fit.converged,
        "stop_reason": fit.stop_reason, "gap": fit.gap, "lp_seconds": fit.seconds, "rows": fit.n_rows, "truth": truth.tolist(), "estimate": fit.proportions.tolist(),
    }
    if baselines:
        out["random"] = np.log10(mse(rng.dirichlet(np.ones(n)), truth))
        out["TC"] = np.log10(max(mse(tc_baseline(tok, counting), truth), 1e-300))
        out["TEE"] = np.log10(max(mse(tee_baseline(tok, counting), truth), 1e-300))
    return out


def run_controlled(setting: str, *, trials: int, n_steps: int | Sequence[int], seed: int = 0,
                   count_bytes: int | Sequence[int | None] | None = None, baselines: bool = True,
                   solver: str = "highs", progress: bool = False) -> Any:
    """Trials over a grid of merge steps and counting-sample sizes; a pandas frame, one row per trial."""
    import pandas as pd
    from tqdm.auto import tqdm

    if trials < 1:
        raise TokbenchError(f"trials must be at least 1, got {trials}")
    steps = [n_steps] if isinstance(n_steps, int) else list(n_steps)
    sizes = [count_bytes] if count_bytes is None or isinstance(count_bytes, int) else list(count_bytes)
    train, count = split_halves(setting)
    rows = []
    grid = [(s, b, k) for s in steps for b in sizes for k in range(trials)]
    for s, b, k in tqdm(grid, desc=f"controlled {setting}", disable=not progress):
        row = run_trial(train, count, n_steps=s, seed=seed + k, count_bytes=b, baselines=baselines, solver=solver)
        row["setting"] = setting
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(frame: Any) -> Any:
    """Mean ± std of log10 MSE per setting, steps and counting size, for every method."""
    methods = [m for m in ("attack", "random", "TC", "TEE") if m in frame]
    g = frame.groupby(["setting", "n", "steps", "count_bytes"])[methods]
    out = g.agg(["mean", "std"])
    out.columns = [f"{m}_{s}" for m, s in out.columns]
    out["trials"] = g.size()
    return out.reset_index()
