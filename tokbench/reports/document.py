"""The report's content, independent of its output format: a title, a summary, sections of
explained tables and figures, failures, and the signature of every result.

:mod:`tokbench.reports.html` and :mod:`tokbench.reports.pdf` both render a :class:`Report`, so
the HTML and PDF reports always hold the same content. Nothing here computes a metric.

Example:
    >>> import pandas as pd
    >>> rep = Report("Demo", summary=["one tokenizer"],
    ...              sections=[Section("Sizes", "Rows per file.", pd.DataFrame({"n": [1]}))])
    >>> [t.title for t in rep.sections[0].all_tables()]
    ['Sizes']
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..results import Signature

__all__ = ["Report", "Section", "Table", "FigureItem", "SignatureItem", "safe_filename", "token_text", "format_cell"]


@dataclass
class Table:
    """A frame to show; ``columns`` picks and orders the columns shown (all by default)."""

    title: str
    frame: Any
    columns: list[str] | None = None
    max_rows: int = 500
    note: str | None = None

    def shown(self) -> Any:
        cols = [c for c in (self.columns or list(self.frame.columns)) if c in self.frame.columns]
        return self.frame[cols]


@dataclass
class FigureItem:
    """A matplotlib ``Figure`` and its caption (what to read off it)."""

    caption: str
    figure: Any


@dataclass
class SignatureItem:
    """The signature of one result: a one-line short form and the full dict."""

    name: str
    short: str
    full: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, signature: Signature | dict[str, Any] | str) -> SignatureItem:
        """From a :class:`~tokbench.results.Signature`, a signature dict (with ``short``) or a line."""
        from ..results import Signature

        if isinstance(signature, Signature):
            return cls(name, signature.short(), signature.to_dict())
        if isinstance(signature, dict):
            return cls(name, str(signature.get("short", "")), signature)
        return cls(name, str(signature), {})

    def full_text(self) -> str:
        return json.dumps(self.full, indent=1, ensure_ascii=False, default=str, sort_keys=True)


class Section:
    """One analysis: a title, two or three sentences on what it means, its tables and figures.

    ``Section(title, explanation, frame)`` (a single table named like the section) is kept for
    the first report renderer's callers. ``status`` is ``"ok"``, ``"failed"`` or ``"skipped"``;
    ``notes`` are shown under the explanation (failures, skipped items, caveats).
    """

    def __init__(self, title: str, explanation: str, table: Any = None, *, tables: list[Table] | None = None,
                 figures: list[FigureItem] | None = None, notes: list[str] | None = None, status: str = "ok"):
        self.title = title
        self.explanation = explanation
        self.tables = list(tables or [])
        if table is not None:
            self.tables.insert(0, table if isinstance(table, Table) else Table(title, table))
        self.figures = list(figures or [])
        self.notes = list(notes or [])
        self.status = status

    @property
    def table(self) -> Any:
        return self.tables[0].frame if self.tables else None

    def all_tables(self) -> list[Table]:
        return list(self.tables)


@dataclass
class Report:
    title: str
    sections: list[Section]
    summary: list[str] = field(default_factory=list)
    signatures: list[SignatureItem] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    generated: str = ""


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, *, default: str = "item", limit: int = 80) -> str:
    """A file name from an untrusted tokenizer or corpus name: no separators, no ``..``, no
    leading dot, no absolute path, bounded length.

    Example:
        >>> safe_filename("../../etc/passwd"), safe_filename("/abs/x.json"), safe_filename("..")
        ('etc_passwd', 'abs_x.json', 'item')
    """
    text = _UNSAFE.sub("_", str(name)).strip("._-")
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r"_+", "_", text)
    return text[:limit] or default


def token_text(data: bytes) -> str:
    """A vocabulary entry shown as text: UTF-8 where valid, ``\\xNN`` for other bytes, control
    characters and spaces made visible. Escaping for HTML is the renderer's job."""
    text = data.decode("utf-8", "backslashreplace")
    out = []
    for ch in text:
        if ch == " ":
            out.append("␣")
        elif ch < " " or ch == "\x7f":
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out)


def format_cell(value: Any) -> tuple[str, float | None]:
    """How a table cell is shown in every report format: (text, sort key or None for text cells).

    Example:
        >>> format_cell(1234), format_cell(0.5), format_cell(None)[0], format_cell(True)
        (('1,234', 1234.0), ('0.500', 0.5), '–', ('yes', None))
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–", math.nan
    if isinstance(value, bool):
        return ("yes" if value else "no"), None
    if isinstance(value, bytes):
        return token_text(value), None
    try:
        import numpy as np

        if isinstance(value, np.generic):
            value = value.item()
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float):
        if value != 0 and (abs(value) >= 1e5 or abs(value) < 1e-3):
            return f"{value:.3g}", value
        return f"{value:,.3f}", value
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}", float(value)
    return str(value), None
