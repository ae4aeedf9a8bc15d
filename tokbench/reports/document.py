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

__all__ = ["Report", "Section", "Table", "FigureItem", "Card", "SignatureItem", "SignatureDigest", "digest_signatures",
           "whole_number_columns", "safe_filename", "token_text", "format_cell"]


@dataclass
class Table:
    """A frame to show; ``columns`` picks and orders the columns shown (all by default).

    ``whole`` asks the renderers to show every row at full height (no scroll box that hides
    rows); keep such tables short (the caller caps them and says so in ``note``).
    """

    title: str
    frame: Any
    columns: list[str] | None = None
    max_rows: int = 500
    note: str | None = None
    whole: bool = False

    def shown(self) -> Any:
        """The columns shown, with whole-number float columns as integers (see
        :func:`whole_number_columns`)."""
        cols = [c for c in (self.columns or list(self.frame.columns)) if c in self.frame.columns]
        return whole_number_columns(self.frame[cols])


def whole_number_columns(frame: Any) -> Any:
    """``frame`` with every float column whose values are all whole numbers or NaN turned into a
    nullable integer column, so counts print as ``3,744`` and not ``3,744.000``.

    pandas makes an integer column float as soon as one value is missing (``merges`` is NaN for a
    tokenizer without merges); real fractions keep their dtype and precision.

    Example:
        >>> import pandas as pd
        >>> f = whole_number_columns(pd.DataFrame({"n": [3744.0, float("nan")], "x": [0.5, 1.0]}))
        >>> [str(t) for t in f.dtypes], format_cell(f["n"][0])[0]
        (['Int64', 'float64'], '3,744')
    """
    import numpy as np
    import pandas as pd

    out = frame
    for i in range(frame.shape[1]):
        column = frame.iloc[:, i]
        if not pd.api.types.is_float_dtype(column):
            continue
        values = column.dropna().to_numpy(dtype=float)
        # 2**53: beyond it a float no longer holds every integer, so the cast could lie.
        if len(values) and np.isfinite(values).all() and (values == np.round(values)).all() \
                and (np.abs(values) < 2**53).all():
            if out is frame:
                out = frame.copy()
            out.isetitem(i, column.astype("Int64"))
    return out


@dataclass
class FigureItem:
    """A matplotlib ``Figure`` and its caption (what to read off it)."""

    caption: str
    figure: Any


@dataclass
class Card:
    """One tokenizer at a glance, drawn as a card near the top of the report.

    ``facts`` are short ``(label, value)`` pairs already formatted as text (vocabulary size,
    tokens per character, worst language, ...); ``findings`` are whole sentences (what it is
    good and bad at, its caveats); ``status`` is ``"ok"`` or ``"failed"`` (then ``findings``
    say why).

    Example:
        >>> Card("gpt2", "byte-level BPE, 50,257 entries", [("tokens/char", "0.262")]).facts[0][1]
        '0.262'
    """

    title: str
    headline: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    status: str = "ok"

    def as_line(self) -> str:
        """The card as one line of text (what the CLI prints).

        >>> Card("gpt2", "bpe", [("tokens/char", "0.262")], ["Cheap on code."]).as_line()
        'gpt2 (bpe): tokens/char 0.262. Cheap on code.'
        """
        facts = "; ".join(f"{label} {value}" for label, value in self.facts)
        head = f"{self.title} ({self.headline})" if self.headline else self.title
        failed = "FAILED " if self.status != "ok" else ""
        return f"{failed}{head}: " + " ".join(p for p in [facts + "." if facts else "", *self.findings] if p)


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


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


#: settings already shown in the tokenizers table (an analysis may repeat them in its options)
_SAID_ELSEWHERE = ("tokenizer", "tokenizers", "fingerprint")
#: longest settings line on a PDF page (the HTML report shows them whole)
_PDF_SETTINGS_CHARS = 240


def _settings_text(rest: dict[str, Any]) -> str:
    """``key=value; …`` of the fields that differ between results (dicts flattened one level)."""
    parts: list[str] = []
    for key, value in rest.items():
        pairs = value.items() if isinstance(value, dict) else [(key, value)]
        parts += [f"{k}={v}" for k, v in pairs if k not in _SAID_ELSEWHERE and v not in (None, "", [], {})]
    return "; ".join(parts) or "–"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 30] + "… (whole in the HTML report)"


def _corpus_label(corpus: Any) -> str:
    """``ID (N categories, sha256 PREFIX)``: how a corpus is named in the signature tables."""
    if not isinstance(corpus, dict):
        return str(corpus)
    return (f"{corpus.get('corpus', '?')} ({len(corpus.get('categories') or [])} categories, "
            f"sha256 {str(corpus.get('sha256', ''))[:12]})")


@dataclass
class SignatureDigest:
    """Many result signatures said once: each distinct corpus once (``corpora``: label → the
    full corpus signature), the fields every result shares (``shared``: version, seed, …), one
    row per tokenizer (fingerprint and the analyses that used it) and one row per distinct
    analysis setting (its corpus label and options). ``others`` are items without fingerprints,
    shown as given.

    Built by :func:`digest_signatures`; the HTML report draws it as a collapsed section, the PDF
    as a few lines.
    """

    count: int
    corpora: dict[str, Any]
    shared: dict[str, Any]
    tokenizers: list[dict[str, str]]
    settings: list[dict[str, str]]
    others: list[SignatureItem]

    def shared_short(self) -> str:
        """One line of what every result shares, e.g. ``seed=0|version=0.1.0``."""
        return "|".join(f"{k}={v}" for k, v in self.shared.items() if v not in (None, "", [], {})) or "–"

    def text_blocks(self) -> list[tuple[str, list[str]]]:
        """(heading, lines) blocks for a text page: compact, fingerprints cut to 16 hex digits."""
        blocks = [(s.name, [s.short]) for s in self.others]
        if self.count:
            blocks.append((f"Shared by all {self.count} results", [self.shared_short()]))
            blocks.append(("Corpora", [f"• {label}" for label in self.corpora]))
            blocks.append(("Tokenizers (fingerprint: analyses)", [
                f"{r['tokenizer']}  {r['fingerprint'][:16]}  {r['analyses']}" for r in self.tokenizers]))
            blocks.append(("Analysis settings", [
                _cut(f"{r['analysis']} ({r['tokenizers']}; {r['corpus']}): {r['settings']}", _PDF_SETTINGS_CHARS)
                for r in self.settings]))
        return blocks


def digest_signatures(items: list[SignatureItem]) -> SignatureDigest:
    """Deduplicate signatures by content. An item named ``"analysis: tokenizer"`` whose ``full``
    dict has ``tokenizers`` (name → fingerprint) is a result signature; the rest are ``others``.

    Example:
        >>> from tokbench.results import Signature
        >>> sigs = [SignatureItem.of(f"{a}: t{i}", Signature({f"t{i}": f"{i}" * 64}, {"corpus": "c"}, extra={"k": a}))
        ...         for a in ("x", "y") for i in (1, 2)]
        >>> d = digest_signatures(sigs)
        >>> d.count, list(d.corpora), [r["analyses"] for r in d.tokenizers], [r["settings"] for r in d.settings]
        (4, ['c (0 categories, sha256 )'], ['x, y', 'x, y'], ['k=x', 'k=y'])
    """
    sigs = [s for s in items if isinstance(s.full.get("tokenizers"), dict)]
    others = [s for s in items if not isinstance(s.full.get("tokenizers"), dict)]
    corpora = {_corpus_label(s.full.get("corpus")): s.full.get("corpus") for s in sigs}
    keys = list(dict.fromkeys(k for s in sigs for k in s.full if k not in ("tokenizers", "corpus")))
    shared = {k: sigs[0].full.get(k) for k in keys if len({_canon(s.full.get(k)) for s in sigs}) == 1}
    analyses_of: dict[tuple[str, str], list[str]] = {}
    settings: dict[tuple[str, str, str], list[str]] = {}
    for s in sigs:
        analysis = s.name.split(": ", 1)[0]
        for tok, fp in s.full["tokenizers"].items():
            analyses_of.setdefault((str(tok), str(fp)), []).append(analysis)
        text = _settings_text({k: s.full.get(k) for k in keys if k not in shared})
        key = (analysis, _corpus_label(s.full.get("corpus")), text)
        settings.setdefault(key, []).extend(str(t) for t in s.full["tokenizers"])
    every = {tok for tok, _ in analyses_of}
    tok_rows = [{"tokenizer": tok, "fingerprint": fp, "analyses": ", ".join(dict.fromkeys(a))}
                for (tok, fp), a in analyses_of.items()]
    set_rows = [{"analysis": analysis, "tokenizers": "all" if set(toks) == every else ", ".join(dict.fromkeys(toks)),
                 "corpus": corpus, "settings": text} for (analysis, corpus, text), toks in settings.items()]
    return SignatureDigest(len(sigs), corpora, shared, tok_rows, set_rows, others)


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
    #: one per tokenizer, shown after the summary (empty for reports that are not audits)
    cards: list[Card] = field(default_factory=list)


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
    # pandas' NA (a missing value in an integer column) is matched by type name, so rendering a
    # cell does not import pandas.
    if value is None or (isinstance(value, float) and math.isnan(value)) or type(value).__name__ == "NAType":
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
