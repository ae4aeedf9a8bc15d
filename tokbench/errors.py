"""Errors raised by tokbench.

Every error a user can cause is a :class:`TokbenchError` subclass whose message says what was
wrong and what to do about it. The CLI prints ``str(error)`` as one line on stderr and exits
non-zero; it never shows a traceback for these.

Example:
    >>> from tokbench.errors import TokenizerFormatError
    >>> try:
    ...     raise TokenizerFormatError("tok.json", "not valid JSON", hint="re-download the file")
    ... except TokbenchError as err:
    ...     print(err)
    tok.json: not valid JSON (re-download the file)
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "TokbenchError",
    "TokenizerFormatError",
    "UnsupportedTokenizerError",
    "CorpusError",
    "UnknownLanguageError",
    "EncodingError",
    "UnknownNameError",
    "OutputError",
    "TrainingError",
]


class TokbenchError(Exception):
    """Base class of every error tokbench raises on bad input."""


def _where(path: str | PathLike[str] | None) -> str:
    return f"{path}: " if path is not None else ""


class TokenizerFormatError(TokbenchError):
    """A tokenizer file is unreadable, corrupt or in an unknown format."""

    def __init__(self, path: str | PathLike[str] | None, problem: str, *, hint: str | None = None):
        self.path = path
        self.problem = problem
        message = f"{_where(path)}{problem}"
        if hint:
            message += f" ({hint})"
        super().__init__(message)


class UnsupportedTokenizerError(TokbenchError):
    """A tokenizer is well-formed but uses a feature tokbench does not handle."""


class CorpusError(TokbenchError):
    """A corpus is missing, empty or malformed, or a corpus spec cannot be parsed."""


class UnknownLanguageError(CorpusError):
    """A language code is not in the corpus; the message lists the closest valid codes."""


class EncodingError(TokbenchError):
    """Text cannot be decoded (invalid UTF-8) or encoded by a tokenizer."""


class UnknownNameError(TokbenchError):
    """A registry lookup failed; the message lists the valid names."""

    def __init__(self, kind: str, name: str, valid: list[str] | tuple[str, ...]):
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        super().__init__(f"unknown {kind} {name!r}; valid names: {', '.join(self.valid)}")


class TrainingError(TokbenchError):
    """Training cannot produce the requested tokenizer (empty corpus, impossible size, ...)."""


class OutputError(TokbenchError):
    """An output file cannot be written."""
