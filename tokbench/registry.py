"""One registry shape for every "name -> implementation" table in tokbench.

Trainers, file formats, commands, analyses, LP solvers, corpus-spec kinds and split patterns
are all looked up by name. Each is a :class:`Registry`: names map to ``"module:attribute"``
strings, the module is imported on first use (so ``import tokbench`` stays fast), aliases give
other spellings, and an unknown name raises :class:`~tokbench.errors.UnknownNameError`, whose
message lists the valid names.

Example:
    >>> solvers = Registry("demo solver", {"abs": "builtins:abs"}, aliases={"absolute": "abs"})
    >>> solvers.get("absolute")(-3)
    3
    >>> solvers.names()
    ['abs']
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from .errors import UnknownNameError

__all__ = ["Registry"]


class Registry(Mapping[str, str]):
    """``name -> "module:attribute"``, imported lazily; a read-only mapping of the targets."""

    def __init__(self, kind: str, targets: Mapping[str, str], *,
                 aliases: Mapping[str, str] | None = None, case_sensitive: bool = False):
        for name, target in targets.items():
            if target.count(":") != 1:
                raise ValueError(f"registry {kind!r}: target of {name!r} must be 'module:attribute'")
        self.kind = kind
        self._targets = dict(targets)
        self._aliases = dict(aliases or {})
        self._case_sensitive = case_sensitive

    def canonical(self, name: str) -> str:
        """The registered name that ``name`` (or its alias) stands for."""
        key = name if self._case_sensitive else name.lower()
        key = self._aliases.get(key, key)
        if key not in self._targets:
            raise UnknownNameError(self.kind, name, list(self._targets))
        return key

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        """The object registered as ``name`` (imported now); unknown names raise, never default."""
        module_name, attribute = self._targets[self.canonical(name)].split(":")
        return getattr(importlib.import_module(module_name), attribute)

    def names(self) -> list[str]:
        return list(self._targets)

    def __getitem__(self, name: str) -> str:
        return self._targets[self.canonical(name)]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        key = name if self._case_sensitive else name.lower()
        return self._aliases.get(key, key) in self._targets

    def __iter__(self) -> Iterator[str]:
        return iter(self._targets)

    def __len__(self) -> int:
        return len(self._targets)
