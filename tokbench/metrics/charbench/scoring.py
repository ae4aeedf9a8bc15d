"""Scoring model answers on CharBench (Uzan & Pinter 2025): accuracy with binomial standard
errors, point-biserial correlation of tokenization features with correctness, error overlap
between models, and the signed bias of wrong counts.

Answers are JSONL, one object a line: ``{"id": ITEM_ID, "reply": RAW_REPLY}`` (other fields, such
as ``model``, are ignored). A reply is parsed strictly: an optional sign and decimal digits with
surrounding whitespace and nothing else (``"3"``, ``" 3\\n"``); ``"3."``, ``"three"``, ``"**3**"``
or ``"The answer is 3"`` are *invalid*, counted as wrong and reported separately. Items a model
has no answer for are *missing*: reported, and left out of its accuracies.

The standard error of an accuracy p over n items is the binomial ``sqrt(p (1 - p) / n)``.
Correlations use :func:`scipy.stats.pointbiserialr` between correctness (0/1) and one feature,
per model × tokenizer × task; they are NaN when the feature or the correctness is constant.

Example:
    >>> result = score_answers(items, {"m": load_answers("m.jsonl")}, features=frame)  # doctest: +SKIP
    >>> result.by_task()                                                               # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...corpora.reading import json_lines
from ...results import Signature
from .features import FEATURE_COLUMNS
from .tasks import TASKS, CharBenchError, CharBenchItem, items_digest, read_text_file

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["parse_answer", "load_answers", "score_answers", "ScoreResult"]

_INT = re.compile(r"\s*([+-]?[0-9]+)\s*")


def parse_answer(reply: object) -> int | None:
    """The integer a reply states, or ``None`` when it is anything but a bare integer.

    Example:
        >>> parse_answer(" 3\\n"), parse_answer("3."), parse_answer("three"), parse_answer(None)
        (3, None, None, None)
    """
    if not isinstance(reply, str):
        return None
    m = _INT.fullmatch(reply)
    return int(m.group(1)) if m else None


def load_answers(path: str | Path) -> dict[str, str | None]:
    """Item id → raw reply from a JSONL answer file; clear errors for malformed lines.

    A ``reply`` may be ``null`` (the model returned nothing): it is kept and scored invalid.
    """
    path = Path(path)
    text = read_text_file(path, "answer file")
    answers: dict[str, str | None] = {}
    lines = text.split("\n")
    shape = '{"id": ..., "reply": ...}'
    for lineno, obj in json_lines(lines, source=path, error=CharBenchError, shape=shape):
        where = f"{path}:{lineno}"
        if not isinstance(obj, dict) or "id" not in obj or "reply" not in obj:
            got = lines[lineno - 1][:80]
            raise CharBenchError(f'{where}: expected an object with "id" and "reply", got {got!r}')
        if not isinstance(obj["id"], str):
            raise CharBenchError(f"{where}: id must be a string, got {obj['id']!r}")
        if obj["reply"] is not None and not isinstance(obj["reply"], str):
            raise CharBenchError(f"{where}: reply must be a string or null, got {obj['reply']!r}")
        if obj["id"] in answers:
            raise CharBenchError(f"{where}: a second answer for item {obj['id']!r}; keep one per item")
        answers[obj["id"]] = obj["reply"]
    if not answers:
        raise CharBenchError(f"{path}: no answers (empty file)")
    return answers


def _se(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n) if n else math.nan


@dataclass(frozen=True)
class ScoreResult:
    """Per-item scores of every model; the methods aggregate them into tables."""

    #: one row per (model, answered item): model, id, task, length, answer, reply, pred, valid, correct
    items: Any
    #: the features frame (:meth:`FeatureResult.to_frame`) if one was given
    features: Any
    #: per model: how many items it did not answer
    missing: dict[str, int]
    signature: Signature
    feature_bins: int = 4
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """Cautions: models that left items unanswered (their accuracies cover fewer items)."""
        return [f"{model}: {n} item(s) without an answer are left out of its accuracies"
                for model, n in self.missing.items() if n]

    def to_frame(self) -> pd.DataFrame:
        """The main table: per model, answered, missing, invalid and overall accuracy (:meth:`summary`)."""
        return self.summary()

    def _accuracy(self, frame: Any, by: list[str]) -> Any:
        import pandas as pd

        rows = []
        for key, g in frame.groupby(by, sort=True, dropna=False):
            key = key if isinstance(key, tuple) else (key,)
            n = len(g)
            acc = float(g["correct"].mean())
            rows.append({**dict(zip(by, key, strict=True)), "n": n, "accuracy": acc,
                         "se": _se(acc, n), "invalid": int((~g["valid"]).sum()),
                         "invalid_share": float((~g["valid"]).mean())})
        return pd.DataFrame(rows)

    def summary(self) -> Any:
        """Per model: answered, missing, invalid and overall accuracy."""
        table = self._accuracy(self.items, ["model"])
        table["missing"] = table["model"].map(self.missing).fillna(0).astype(int)
        return table

    def by_task(self) -> Any:
        return self._accuracy(self.items, ["model", "task"])

    def by_length(self) -> Any:
        return self._accuracy(self.items, ["model", "task", "length"])

    def _joined(self) -> Any:
        if self.features is None:
            raise CharBenchError("no features were given; compute them with `tokbench charbench features`")
        cols = ["tokenizer", "id", *[c for c in FEATURE_COLUMNS if c != "length"], "aligned"]
        return self.items.merge(self.features[cols], on="id", how="inner")

    def by_feature(self) -> Any:
        """Accuracy per feature bin, per model × tokenizer × task.

        Integer features with at most 12 distinct values are binned by value; others (characters
        per token) by ``feature_bins`` quantiles.
        """
        import pandas as pd

        joined = self._joined()
        out = []
        for feature in FEATURE_COLUMNS:
            if feature == "length":
                continue
            f = joined[joined[feature].notna()].copy()
            if f.empty:
                continue
            values = f[feature].astype(float)
            if values.nunique() <= 12 and (values == values.round()).all():
                f["bin"] = values.astype(int).astype(str)
            else:
                f["bin"] = pd.qcut(values, q=self.feature_bins, duplicates="drop").astype(str)
            table = self._accuracy(f, ["model", "tokenizer", "task", "bin"])
            table.insert(3, "feature", feature)
            out.append(table)
        return pd.concat(out, ignore_index=True) if out else pd.DataFrame()

    def correlations(self) -> Any:
        """Point-biserial r and p between each feature and correctness, per model × tokenizer × task."""
        import numpy as np
        import pandas as pd
        from scipy.stats import pointbiserialr

        joined = self._joined()
        rows = []
        for (model, tok, task), g in joined.groupby(["model", "tokenizer", "task"], sort=True):
            for feature in FEATURE_COLUMNS:
                sub = g[g[feature].notna()]
                n = len(sub)
                x = sub[feature].astype(float).to_numpy()
                y = sub["correct"].astype(int).to_numpy()
                if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
                    r = p = math.nan
                else:
                    r, p = pointbiserialr(y, x)
                rows.append({"model": model, "tokenizer": tok, "task": task, "feature": feature,
                             "n": n, "r": float(r), "p": float(p)})
        return pd.DataFrame(rows)

    def error_overlap(self) -> Any:
        """Per task (and ``all``) and pair of models: items both got wrong, and the Jaccard overlap
        of their error sets, over the items both answered."""
        import pandas as pd

        models = sorted(self.items["model"].unique())
        rows = []
        wide = self.items.pivot_table(index="id", columns="model", values="correct", aggfunc="first")
        tasks = self.items.drop_duplicates("id").set_index("id")["task"]
        for task in [*TASKS, "all"]:
            part = wide if task == "all" else wide[tasks.reindex(wide.index) == task]
            if part.empty:
                continue
            for i, a in enumerate(models):
                for b in models[i + 1:]:
                    both = part[[a, b]].dropna()
                    wa, wb = ~both[a].astype(bool), ~both[b].astype(bool)
                    union = int((wa | wb).sum())
                    inter = int((wa & wb).sum())
                    rows.append({"task": task, "model_a": a, "model_b": b, "n": len(both),
                                 "wrong_a": int(wa.sum()), "wrong_b": int(wb.sum()),
                                 "both_wrong": inter, "jaccard": inter / union if union else math.nan})
        return pd.DataFrame(rows)

    def counting_bias(self) -> Any:
        """Mean signed error (prediction − gold) over valid wrong answers, per model × task.

        Negative means the model under-counts (or places characters too early)."""
        import pandas as pd

        rows = []
        for (model, task), g in self.items.groupby(["model", "task"], sort=True):
            w = g[g["valid"] & ~g["correct"]]
            err = (w["pred"] - w["answer"]).astype(float)
            rows.append({"model": model, "task": task, "kind": TASKS[task].kind, "wrong_valid": len(w),
                         "mean_signed_error": float(err.mean()) if len(w) else math.nan,
                         "se": float(err.std(ddof=1) / math.sqrt(len(w))) if len(w) > 1 else math.nan,
                         "share_over": float((err > 0).mean()) if len(w) else math.nan})
        return pd.DataFrame(rows)


def score_answers(
    items: Sequence[CharBenchItem],
    answers: Mapping[str, Mapping[str, str | None]],
    *,
    features: Any = None,
    feature_bins: int = 4,
) -> ScoreResult:
    """Score each model's answers against the gold answers of ``items``.

    ``answers`` maps a model name to its item id → raw reply mapping (:func:`load_answers`).
    An id that is not in ``items`` raises :class:`CharBenchError` (the answers belong to another
    benchmark); ``features`` is a feature frame with an ``id`` column, for the feature tables.
    """
    import pandas as pd

    if not answers:
        raise CharBenchError("no answer files given; pass at least one model's answers")
    by_id = {i.id: i for i in items}
    rows = []
    missing: dict[str, int] = {}
    for model, replies in answers.items():
        unknown = [k for k in replies if k not in by_id]
        if unknown:
            raise CharBenchError(
                f"answers of model {model!r} name {len(unknown)} item id(s) not in the item file "
                f"(e.g. {', '.join(map(repr, unknown[:3]))}); score them against the items they were asked on"
            )
        missing[model] = len(by_id) - len(replies)
        for item in items:
            if item.id not in replies:
                continue
            reply = replies[item.id]
            pred = parse_answer(reply)
            rows.append({"model": model, "id": item.id, "task": item.task, "length": item.length,
                         "answer": item.answer, "reply": reply, "pred": pred,
                         "valid": pred is not None, "correct": pred == item.answer})
    frame = pd.DataFrame(rows)
    if frame.empty:
        raise CharBenchError("no answers to score")
    frame["pred"] = frame["pred"].astype("Int64")
    if features is not None:
        needed = {"id", "tokenizer", *FEATURE_COLUMNS}
        lacking = needed - set(features.columns)
        if lacking:
            raise CharBenchError(f"the features table lacks columns {sorted(lacking)}; is it a charbench features file?")
        unknown = set(features["id"]) - set(by_id)
        if unknown:
            raise CharBenchError(
                f"the features table names {len(unknown)} item id(s) not in the item file "
                f"(e.g. {sorted(unknown)[:3]}); compute features on the same items"
            )
    signature = Signature(tokenizers={}, extra={"items_sha256": items_digest(list(items)),
                                                "models": list(answers)})
    return ScoreResult(items=frame, features=features, missing=missing, signature=signature,
                       feature_bins=feature_bins)
