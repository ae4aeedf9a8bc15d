"""The result of :func:`tokbench.metrics.unreachable.unreachable`: one row per token, counts per class.

Example:
    >>> res = unreachable(load_tokenizer("gpt2"))          # doctest: +SKIP
    >>> res.counts["unreachable_merges"], res.to_frame().columns.tolist()   # doctest: +SKIP
    (0, ['id', 'token', 'class', 'reason', 'witness'])
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...results import Signature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["CLASSES", "REACHABLE", "UNREACHABLE", "TokenVerdict", "UnreachableResult", "counts_table"]

#: Every class, in table order (see the package docstring for what each one means).
CLASSES: tuple[str, ...] = (
    "reachable_alone", "reachable_in_context", "special",
    "unreachable_merges", "unreachable_pretokenizer", "unreachable_byte_fallback",
    "undecodable", "unresolved", "unused",
)
REACHABLE: tuple[str, ...] = ("reachable_alone", "reachable_in_context")
UNREACHABLE: tuple[str, ...] = ("unreachable_merges", "unreachable_pretokenizer",
                                "unreachable_byte_fallback", "undecodable")


@dataclass(frozen=True)
class TokenVerdict:
    """The class of one id, why, and (for reachable tokens) a text that produces it."""

    id: int
    token: str
    cls: str
    reason: str
    witness: str | None = None


@dataclass(frozen=True)
class UnreachableResult:
    """Per-token verdicts of one tokenizer, with counts per class and the search's timing."""

    tokenizer: str
    vocab_size: int
    verdicts: list[TokenVerdict]
    signature: Signature
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(v.cls for v in self.verdicts)
        return {cls: found.get(cls, 0) for cls in CLASSES}

    def to_frame(self) -> pd.DataFrame:
        """One row per classified id: ``id, token, class, reason, witness``."""
        import pandas as pd

        return pd.DataFrame([{"id": v.id, "token": v.token, "class": v.cls, "reason": v.reason,
                              "witness": v.witness} for v in self.verdicts],
                            columns=["id", "token", "class", "reason", "witness"])

    def counts_frame(self, *, examples: int = 3) -> pd.DataFrame:
        """One row per class: ``tokens``, ``percent`` of the ids classified, up to ``examples``
        example tokens (``repr``, with the witness text of reachable ones) and the run's seconds."""
        import pandas as pd

        total = max(len(self.verdicts), 1)
        rows = []
        for cls, n in self.counts.items():
            chosen = _examples([v for v in self.verdicts if v.cls == cls], examples)
            shown = [repr(v.token) + (f" in {v.witness!r}" if v.witness is not None and v.witness != v.token else "")
                     for v in chosen]
            rows.append({"tokenizer": self.tokenizer, "vocab_size": self.vocab_size, "class": cls, "tokens": n,
                         "percent": round(100.0 * n / total, 4), "examples": "; ".join(shown),
                         "seconds": round(self.seconds, 1)})
        return pd.DataFrame(rows)

    def of(self, token_id: int) -> TokenVerdict:
        """The verdict for one id."""
        for v in self.verdicts:
            if v.id == token_id:
                return v
        raise KeyError(token_id)

    def to_dict(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer, "vocab_size": self.vocab_size, "counts": self.counts,
                "seconds": self.seconds, "notes": self.notes, "signature": self.signature.to_dict()}


def _examples(verdicts: list[TokenVerdict], n: int) -> list[TokenVerdict]:
    """Up to ``n`` verdicts spread over the class (the first ids are often all raw bytes)."""
    if len(verdicts) <= n:
        return verdicts
    step = len(verdicts) / n
    return [verdicts[int(k * step + step / 2)] for k in range(n)]


def counts_table(results: list[UnreachableResult], *, examples: int = 3) -> pd.DataFrame:
    """The counts of several tokenizers in one long table (what ``results/unreachable.csv`` holds)."""
    import pandas as pd

    return pd.concat([r.counts_frame(examples=examples) for r in results], ignore_index=True)
