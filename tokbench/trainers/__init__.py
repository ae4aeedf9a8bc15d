"""Trainers: one module per tokenizer family, each returning a tokbench ``Tokenizer``.

Every trainer's tokenizer saves as a standard HF ``tokenizer.json`` that
``tokenizers.Tokenizer.from_file`` loads and encodes identically. Trainers are found through
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

__all__ = ["TRAINERS", "TrainingError", "get_trainer"]

#: Trainer name -> ``"module:function"`` inside :mod:`tokbench.trainers`.
TRAINERS: dict[str, str] = {
    "bpe": "bpe:train_bpe",
    "char_bpe": "char_bpe:train_char_bpe",
}


def get_trainer(name: str) -> Callable[..., Any]:
    """The training function registered as ``name``."""
    try:
        target = TRAINERS[name.lower()]
    except KeyError:
        raise UnknownNameError("trainer", name, list(TRAINERS)) from None
    module_name, function = target.split(":")
    module = importlib.import_module(f"{__name__}.{module_name}")
    return getattr(module, function)
