"""Result signatures: what makes a number reproducible.

Every result tokbench computes carries a :class:`Signature`: the tokenizer's name and
fingerprint (sha256 of its file), the corpus signature (id, categories, sizes, content hash,
sample budget and seed), the analysis seed, and the tokbench version. Reports and the CLI
print it, like sacrebleu's signature strings.

Example:
    >>> sig = Signature(tokenizers={"gpt2": "ab12cd34ef56"}, corpus={"corpus": "sample:all"}, seed=0)
    >>> sig.short()
    'tok=gpt2@ab12cd34ef56|corpus=sample:all|seed=0|version=0.1.0'
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from . import __version__

__all__ = ["Signature"]


@dataclass(frozen=True)
class Signature:
    """Tokenizer fingerprints, corpus signature, seed and version of one result."""

    tokenizers: dict[str, str]
    corpus: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def short(self) -> str:
        """One line: ``tok=NAME@FP12|corpus=ID|seed=S|version=V``."""
        toks = ",".join(f"{name}@{fp[:12]}" for name, fp in self.tokenizers.items())
        parts = [f"tok={toks}", f"corpus={self.corpus.get('corpus', '?')}"]
        if self.seed is not None:
            parts.append(f"seed={self.seed}")
        parts.append(f"version={self.version}")
        return "|".join(parts)
