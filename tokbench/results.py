"""The Result protocol and the Signature every result carries: what makes a number reproducible.

Every result tokbench computes (a metric, an attack, an experiment, the audit) follows one
:class:`Result` protocol: ``to_frame()`` gives its main table, ``signature`` is a
:class:`Signature`, and ``notes`` lists the cautions a reader must see beside the numbers
(unconverged fits, extrapolated shares, flagged languages). The signature holds the tokenizers'
names and fingerprints (sha256 of their files), the corpus signature (id, categories, sizes,
content hash, sample budget and seed), the analysis seed, its options and the tokbench version;
reports and the CLI print it the same way everywhere, like sacrebleu's signature strings.

Example:
    >>> sig = Signature(tokenizers={"gpt2": "ab12cd34ef56"}, corpus={"corpus": "sample:all"}, seed=0)
    >>> sig.short()
    'tok=gpt2@ab12cd34ef56|corpus=sample:all|seed=0|version=0.1.0'
    >>> Signature.from_dict(sig.to_dict()) == sig
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from . import __version__

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Signature", "Result", "RowsResult"]


@dataclass(frozen=True)
class Signature:
    """Tokenizer fingerprints, corpus signature, seed, options and version of one result."""

    tokenizers: dict[str, str]
    corpus: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signature:
        """The inverse of :meth:`to_dict`; unknown keys are ignored (older or newer versions)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def short(self) -> str:
        """One line: ``tok=NAME@FP12|corpus=ID|seed=S|version=V``."""
        toks = ",".join(f"{name}@{fp[:12]}" for name, fp in self.tokenizers.items())
        parts = [f"tok={toks}", f"corpus={self.corpus.get('corpus', '?')}"]
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        parts.append(f"version={self.version}")
        return "|".join(parts)


@runtime_checkable
class Result(Protocol):
    """What every tokbench result offers: a main table, a signature and the reader's cautions.

    ``notes`` holds sentences that must be shown beside the numbers (empty when there are none).
    """

    @property
    def signature(self) -> Signature: ...

    @property
    def notes(self) -> list[str]: ...

    def to_frame(self) -> pd.DataFrame: ...


@dataclass(frozen=True)
class RowsResult:
    """A :class:`Result` whose main table is a list of row dicts (a base for such results)."""

    rows: list[dict[str, Any]]
    signature: Signature
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows)
