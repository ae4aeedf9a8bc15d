r"""tokbench: build and audit LLM tokenizers.

Example:
    >>> import tokbench
    >>> tok = tokbench.load_tokenizer("cl100k_base.tiktoken")   # doctest: +SKIP
    >>> tok.encode("hello world")                               # doctest: +SKIP
    [15339, 1917]
    >>> tokbench.audit(["gpt2/", "mistral_v1.model"], corpus="sample:").write("audit-report")  # doctest: +SKIP

The layers (DESIGN.md; ``import-linter`` contracts in pyproject.toml, checked by
``tests/test_architecture.py``). A layer imports only the layers below it::

                  cli/  (one module per command; Makefile targets call the CLI only)
                   |
        audit/   experiments/      audit and experiments call reports
           \        /
            reports/               renders plain result objects (never metrics, attacks, trainers)
                   |
      metrics/   attacks/ --> trainers/     metrics never train; attacks may use the BPE engine
                   |
               formats/            one reader/writer per file format, one tokenizer.json builder
                   |
         corpora/     model/       text in; the Tokenizer and its pipeline stages
                   |
     errors . results . cache . executor . registry . _io . _numba/      (the core)

Where does X live?

=====================================  ==============================================
what                                   where
=====================================  ==============================================
the Tokenizer, encode/decode           ``model/tokenizer.py``
normalizers, pretokenizers             ``model/normalizers.py``, ``model/pretokenizers.py``
applying merges (encode time)          ``model/bpe.py``; learning merges: ``trainers/bpe.py``
merges recovered from ranks            ``model/merges.py``
native encoders (BPE, WordPiece)       ``model/encoders.py``; hybrid: ``model/hybrid.py``
ground-truth library adapters          ``model/references.py``
reading a tokenizer file               ``formats/`` (``load_tokenizer``); tokenizer.json: ``formats/tokenizer_json.py``
corpus specs (``flores:eng_Latn@dev``)  ``corpora/spec.py``; loaders ``corpora/loaders.py``
FLORES codes, scripts, language sets   ``corpora/languages.py``
training a tokenizer                   ``trainers/`` (registry in ``trainers/__init__.py``)
coverage, compression, premiums        ``metrics/``; power-law fit ``metrics/power_law.py``
CharBench                              ``metrics/charbench/``
mixture inference (Hayase et al.)      ``attacks/mixture/``; merge-free encoding ``attacks/mergefree/``
optimal vocabulary, controlled trials  ``experiments/``
the audit and its analyses             ``audit/``
figures, HTML, PDF                     ``reports/``
the command line                       ``cli/``
Result protocol, Signature             ``results.py``
on-disk cache (npz, validated)         ``cache.py``
running grids (serial, processes)      ``executor.py``
name -> implementation tables          ``registry.py``
numba heap, hash table, arrays         ``_numba/``
=====================================  ==============================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import TokbenchError

__version__ = "0.1.0"

__all__ = ["__version__", "TokbenchError", "load_tokenizer", "Tokenizer", "load_corpus", "Corpus", "audit", "compare"]

if TYPE_CHECKING:  # pragma: no cover
    from .audit import audit
    from .corpora import Corpus, load_corpus
    from .formats import load_tokenizer
    from .metrics.compare import compare
    from .model.tokenizer import Tokenizer

# Heavy modules are imported on first use so that `import tokbench` stays fast (convention 7).
_LAZY = {
    "load_tokenizer": ("tokbench.formats", "load_tokenizer"),
    "Tokenizer": ("tokbench.model.tokenizer", "Tokenizer"),
    "load_corpus": ("tokbench.corpora", "load_corpus"),
    "Corpus": ("tokbench.corpora", "Corpus"),
    "audit": ("tokbench.audit", "audit"),
    "compare": ("tokbench.metrics.compare", "compare"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        value = getattr(importlib.import_module(module_name), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tokbench' has no attribute {name!r}")
