"""Trainers: one module per tokenizer family, each returning a tokbench ``Tokenizer``.

Every trainer's tokenizer saves as the file of the library that is ground truth for it and
encodes identically there: a standard HF ``tokenizer.json`` (``bpe``, ``char_bpe``,
``superword``, ``hf-unigram``, ``hf-wordpiece``), a SentencePiece ``.model`` (``spm-bpe``,
``spm-unigram``). Trainers are found through
:data:`TRAINERS` (name -> ``"module:function"``), imported on first use so that
``import tokbench`` stays fast.

Example:
    >>> train = get_trainer("bpe")                                     # doctest: +SKIP
    >>> trained = train(["some text", "more text"], vocab_size=300)    # doctest: +SKIP
    >>> trained.tokenizer.vocab_size                                   # doctest: +SKIP
    300
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ..errors import TrainingError, UnknownNameError

__all__ = ["TRAINERS", "ALIASES", "TrainingError", "get_trainer"]

#: Trainer name -> ``"module:function"`` inside :mod:`tokbench.trainers`.
TRAINERS: dict[str, str] = {
    "bpe": "bpe:train_bpe",
    "char_bpe": "char_bpe:train_char_bpe",
    "superword": "superword:train_superword",
    "spm-bpe": "baselines:train_spm_bpe",
    "spm-unigram": "baselines:train_spm_unigram",
    "hf-unigram": "baselines:train_hf_unigram",
    "hf-wordpiece": "baselines:train_hf_wordpiece",
    "hybrid": "hybrid:train_hybrid",
}

#: Other spellings accepted by :func:`get_trainer` (the CLI's ``--trainer char``).
ALIASES: dict[str, str] = {"char": "char_bpe", "char-bpe": "char_bpe", "superbpe": "superword",
                           "spm_bpe": "spm-bpe", "spm_unigram": "spm-unigram",
                           "hf_unigram": "hf-unigram", "hf_wordpiece": "hf-wordpiece"}


def get_trainer(name: str) -> Callable[..., Any]:
    """The training function registered as ``name``."""
    try:
        key = name.lower()
        target = TRAINERS[ALIASES.get(key, key)]
    except KeyError:
        raise UnknownNameError("trainer", name, list(TRAINERS)) from None
    module_name, function = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, function)


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
