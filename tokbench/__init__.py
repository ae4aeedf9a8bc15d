"""tokbench: build and audit LLM tokenizers.

Example:
    >>> import tokbench
    >>> tok = tokbench.load_tokenizer("cl100k_base.tiktoken")   # doctest: +SKIP
    >>> tok.encode("hello world")                               # doctest: +SKIP
    [15339, 1917]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import TokbenchError

__version__ = "0.1.0"

__all__ = ["__version__", "TokbenchError", "load_tokenizer", "Tokenizer", "load_corpus", "Corpus", "audit"]

if TYPE_CHECKING:  # pragma: no cover
    from .audit import audit
    from .corpora import Corpus, load_corpus
    from .formats import load_tokenizer
    from .model.tokenizer import Tokenizer

# Heavy modules are imported on first use so that `import tokbench` stays fast (convention 7).
_LAZY = {
    "load_tokenizer": ("tokbench.formats", "load_tokenizer"),
    "Tokenizer": ("tokbench.model.tokenizer", "Tokenizer"),
    "load_corpus": ("tokbench.corpora", "load_corpus"),
    "Corpus": ("tokbench.corpora", "Corpus"),
    "audit": ("tokbench.audit", "audit"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tokbench' has no attribute {name!r}")
