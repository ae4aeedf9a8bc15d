"""Trainers: one module per tokenizer family, each returning a tokbench ``Tokenizer``.

Every trainer's tokenizer saves as the file of the library that is ground truth for it and
encodes identically there: a standard HF ``tokenizer.json`` (``bpe``, ``char_bpe``,
``superword``, ``hf-unigram``, ``hf-wordpiece``), a SentencePiece ``.model`` (``spm-bpe``,
``spm-unigram``). Trainers are found through
:data:`TRAINERS`, a :class:`~tokbench.registry.Registry` (name -> ``"module:function"``),
imported on first use so that ``import tokbench`` stays fast. What the families share is in
:mod:`tokbench.trainers._common`; the BPE engine is :mod:`tokbench.trainers.engine` over the
numba kernels of :mod:`tokbench.trainers._kernels` (readable twin: :mod:`tokbench.trainers._reference`).
The word tables of ``bpe``, ``char_bpe`` and ``superword`` are counted by
:mod:`tokbench.trainers.counting`, a document at a time (a
:class:`~tokbench.corpora.CorpusStream` is never held) and, with ``jobs=N``, in N worker
processes with the same table, so the same merges.

Example:
    >>> train = get_trainer("bpe")                                     # doctest: +SKIP
    >>> trained = train(["some text", "more text"], vocab_size=300)    # doctest: +SKIP
    >>> trained.tokenizer.vocab_size                                   # doctest: +SKIP
    300
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import TrainingError
from ..registry import Registry

__all__ = ["TRAINERS", "ALIASES", "TrainingError", "get_trainer", "train_with"]

#: Other spellings accepted by :func:`get_trainer` (the CLI's ``--trainer char``).
ALIASES: dict[str, str] = {"char": "char_bpe", "char-bpe": "char_bpe", "superbpe": "superword",
                           "spm_bpe": "spm-bpe", "spm_unigram": "spm-unigram",
                           "hf_unigram": "hf-unigram", "hf_wordpiece": "hf-wordpiece"}

#: Trainer name -> its training function, imported on first use.
TRAINERS = Registry("trainer", {
    "bpe": "tokbench.trainers.bpe:train_bpe",
    "char_bpe": "tokbench.trainers.char_bpe:train_char_bpe",
    "superword": "tokbench.trainers.superword:train_superword",
    "spm-bpe": "tokbench.trainers.baselines:train_spm_bpe",
    "spm-unigram": "tokbench.trainers.baselines:train_spm_unigram",
    "hf-unigram": "tokbench.trainers.baselines:train_hf_unigram",
    "hf-wordpiece": "tokbench.trainers.baselines:train_hf_wordpiece",
    "hybrid": "tokbench.trainers.hybrid:train_hybrid",
}, aliases=ALIASES)


def get_trainer(name: str) -> Callable[..., Any]:
    """The training function registered as ``name`` (or an alias); an unknown name raises
    :class:`~tokbench.errors.UnknownNameError` listing the valid ones."""
    return TRAINERS.get(name)


def train_with(trainer: str, corpus: Any, *, vocab_size: int, **options: Any) -> Any:
    """Train with the registered ``trainer``, passing the options its signature accepts (others are dropped), always
    without a progress bar and allowing a smaller vocabulary when the text runs out of pairs.

    Experiments call every family the same way through this; the families' own options (a
    hybrid's ``morfessor=True``) pass through to the one that takes them.
    """
    import inspect

    train = get_trainer(trainer)
    params = inspect.signature(train).parameters
    kwargs = {"vocab_size": vocab_size, "progress": False, "allow_smaller": True, **options}
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return train(corpus, **kwargs)
