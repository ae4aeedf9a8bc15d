"""CharBench figures: functions that take result tables and return a matplotlib ``Figure``.

They write nothing (the CLI saves them) and use the object-oriented API only, so they work
under the non-interactive Agg backend.

Example:
    >>> fig = feature_distribution_figure(feature_table(result.to_frame()))   # doctest: +SKIP
    >>> fig.savefig("target-token-length.png")                               # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import style

__all__ = ["feature_distribution_figure", "tokens_by_length_figure", "accuracy_figure"]


def _grouped_bars(ax: Any, groups: Sequence[str], series: dict[str, tuple[list[float], list[float] | None]]) -> None:
    import numpy as np

    x = np.arange(len(groups))
    width = 0.8 / max(len(series), 1)
    for k, (label, (values, errors)) in enumerate(series.items()):
        ax.bar(x + (k - (len(series) - 1) / 2) * width, values, width, yerr=errors, label=label,
               capsize=2 if errors is not None else 0)
    ax.set_xticks(x, groups, rotation=30, ha="right")
    ax.legend(fontsize="small")


def feature_distribution_figure(
    table: Any,
    *,
    feature: str = "mean_target_token_chars",
    tasks: Sequence[str] = ("first_index", "last_index"),
    title: str | None = None,
) -> Any:
    """Bars of one column of :func:`~.charbench_features.feature_table` per tokenizer and task."""
    part = table[table["task"].isin(tasks)]
    tokenizers = list(dict.fromkeys(part["tokenizer"]))
    series = {}
    for task in tasks:
        rows = part[part["task"] == task].set_index("tokenizer").reindex(tokenizers)
        errors = None
        if feature == "mean_target_token_chars" and "sd_target_token_chars" in rows:
            errors = list((rows["sd_target_token_chars"] / rows["items"] ** 0.5).fillna(0))
        series[task] = (list(rows[feature]), errors)
    fig = style.new_figure(max(6.0, 0.8 * len(tokenizers) + 2), 4.0)
    ax = fig.add_subplot()
    _grouped_bars(ax, tokenizers, series)
    ax.set_ylabel(feature.replace("_", " "))
    ax.set_title(title or f"CharBench: {feature.replace('_', ' ')} per tokenizer")
    return fig


def tokens_by_length_figure(frame: Any, *, title: str | None = None) -> Any:
    """Mean number of tokens per word against word length, a line per tokenizer."""
    words = frame.drop_duplicates(["tokenizer", "word"])
    means = words.groupby(["tokenizer", "length"], sort=False)["n_tokens"].mean().reset_index()
    fig = style.new_figure(6.5, 4.0)
    ax = fig.add_subplot()
    for tok, g in means.groupby("tokenizer", sort=False):
        ax.plot(g["length"], g["n_tokens"], marker="o", label=tok)
    ax.set_xlabel("word length (characters)")
    ax.set_ylabel("mean tokens per word")
    ax.legend(fontsize="small")
    ax.set_title(title or "CharBench words: tokens per word by length")
    return fig


def accuracy_figure(by_task: Any, *, title: str | None = None) -> Any:
    """Accuracy per task, a bar per model, with binomial standard errors (``ScoreResult.by_task``)."""
    tasks = list(dict.fromkeys(by_task["task"]))
    series = {}
    for model, g in by_task.groupby("model", sort=True):
        g = g.set_index("task").reindex(tasks)
        series[str(model)] = (list(g["accuracy"]), list(g["se"].fillna(0)))
    fig = style.new_figure(6.5, 4.0)
    ax = fig.add_subplot()
    _grouped_bars(ax, tasks, series)
    ax.set_ylim(0, 1)
    ax.set_ylabel("accuracy")
    ax.set_title(title or "CharBench accuracy per task (± binomial SE)")
    return fig
