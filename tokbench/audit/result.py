"""What an audit returns: :class:`AuditResult`, plain data the reports render.

One :class:`PartResult` per (analysis, tokenizer) holds named pandas frames, the analysis's
:class:`~tokbench.results.Signature` and its notes; :class:`AuditResult` gathers them with the
tokenizers' descriptions, the corpus signature, what was skipped or failed and why, and each
analysis's title and explanation (so :mod:`tokbench.reports.audit_report` needs nothing from
this package). ``write`` renders the HTML and PDF reports in memory first, then writes every
file atomically.

Example:
    >>> res = audit(["gpt2/"], corpus="sample:eng_Latn,fra_Latn")   # doctest: +SKIP
    >>> res.to_frames()["compression"].head()                        # doctest: +SKIP
    >>> res.write("audit-report")                                     # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..results import Signature

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..reports.document import Report

__all__ = ["PartResult", "Skip", "AuditResult", "TOKENIZER_COLUMNS"]

#: the description of each audited tokenizer (the ``tokenizers`` frame's columns)
TOKENIZER_COLUMNS = ("name", "kind", "format", "vocab_size", "merges", "special_tokens", "fingerprint")


class Skip(Exception):
    """An analysis does not apply to this tokenizer or corpus (not a failure)."""


@dataclass(frozen=True)
class PartResult:
    """One analysis on one tokenizer: named frames, the result's signature and its notes."""

    frames: dict[str, pd.DataFrame]
    signature: Signature
    notes: tuple[str, ...] = ()


@dataclass
class AuditResult:
    """Everything an audit found: per analysis and tokenizer a :class:`PartResult`, what was
    skipped and why, what failed and why, the corpus signature, and each analysis's title and
    explanation (``titles``, ``explanations``: name -> text, for the report)."""

    tokenizers: list[dict[str, Any]]
    analyses: list[str]
    parts: dict[str, dict[str, PartResult]]
    corpus: dict[str, Any]
    skipped: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    cache_hits: int = 0
    titles: dict[str, str] = field(default_factory=dict)
    explanations: dict[str, str] = field(default_factory=dict)
    #: tokenizer name -> {category: byte share} of a training mixture known in advance (the demo
    #: trains on the corpus it audits); the mixture frame then shows true beside inferred
    true_mixtures: dict[str, dict[str, float]] = field(default_factory=dict)
    _reports: dict[tuple[Any, ...], Report] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failures

    @property
    def signature(self) -> Signature:
        """The audit as a whole: every tokenizer's fingerprint, the corpus, the seed and options."""
        return Signature(tokenizers={t["name"]: t["fingerprint"] for t in self.tokenizers}, corpus=self.corpus,
                         seed=self.options.get("seed"), options=dict(self.options))

    @property
    def notes(self) -> list[str]:
        """Every part's notes, prefixed with the analysis and tokenizer they belong to."""
        return [f"{analysis} on {tok}: {note}" for analysis in self.analyses
                for tok, part in self.parts.get(analysis, {}).items() for note in part.notes]

    def to_frame(self) -> pd.DataFrame:
        """One row per (analysis, tokenizer) that ran or was skipped, and per failed item."""
        import pandas as pd

        rows = [{"analysis": analysis, "item": tok, "status": "ok", "detail": part.signature.short()}
                for analysis in self.analyses for tok, part in self.parts.get(analysis, {}).items()]
        rows += [{"analysis": a, "item": tok, "status": "skipped", "detail": why} for a, tok, why in self.skipped]
        rows += [{"analysis": "", "item": item, "status": "failed", "detail": msg} for item, msg in self.failures]
        return pd.DataFrame(rows, columns=["analysis", "item", "status", "detail"])

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """Named pandas frames: ``tokenizers``, ``coverage``, ``coverage_scripts``, ``compression``,
        ``premiums``, ``premiums_summary``, ``mergefree``, ``mixture`` (those that ran), ``issues``."""
        import pandas as pd

        # fixed columns: when every tokenizer failed the table is empty but still has a header
        # (a frame without columns breaks table renderers and says nothing to the reader)
        out: dict[str, pd.DataFrame] = {"tokenizers": pd.DataFrame(self.tokenizers, columns=list(TOKENIZER_COLUMNS))}
        for analysis in self.analyses:
            for name, frames in self._collected(analysis).items():
                frames = [f for f in frames if len(f.columns)]
                if frames:
                    out[name] = _concat(name, frames)
        if "mixture" in out and self.true_mixtures:
            out["mixture"] = with_true_mixture(out["mixture"], self.true_mixtures)
        issues = [{"status": "failed", "item": item, "analysis": "", "reason": msg} for item, msg in self.failures]
        issues += [{"status": "skipped", "item": tok, "analysis": a, "reason": msg} for a, tok, msg in self.skipped]
        out["issues"] = pd.DataFrame(issues, columns=["status", "item", "analysis", "reason"])
        return out

    def _collected(self, analysis: str) -> dict[str, list[pd.DataFrame]]:
        collected: dict[str, list[pd.DataFrame]] = {}
        for part in self.parts.get(analysis, {}).values():
            for name, frame in part.frames.items():
                collected.setdefault(name, []).append(frame)
        return collected

    def signatures(self) -> list[tuple[str, Signature]]:
        """``("analysis: tokenizer", signature)`` of every part, in report order."""
        return [(f"{analysis}: {tok}", part.signature)
                for analysis in self.analyses for tok, part in self.parts.get(analysis, {}).items()]

    def report(self, *, title: str | None = None) -> Report:
        """The :class:`~tokbench.reports.document.Report` (for HTML and PDF), built once per title
        and figure width (drawing every figure takes seconds; the CLI asks for it three times)."""
        from ..reports.audit_report import build_report
        from ..reports.style import shown_width

        # what a caller may add after the audit (a failed PDF, a known mixture) is in the key
        key = (title, shown_width(), tuple(self.failures), tuple(self.analyses), repr(self.true_mixtures),
               tuple((a, tuple(p)) for a, p in self.parts.items()))
        if key not in self._reports:
            self._reports[key] = build_report(self, title=title)
        return self._reports[key]

    def to_html(self, path: str | Path, *, title: str | None = None) -> Path:
        from ..reports.html import write_html

        return write_html(self.report(title=title), path)

    def pdf_report(self, *, title: str | None = None) -> Report:
        """The report with its figures drawn for the PDF's A4 text width (panels re-flow into
        fewer columns, so no text is shrunk below the size it was drawn at)."""
        from ..reports.style import PDF_WIDTH_IN, figures_for_width

        with figures_for_width(PDF_WIDTH_IN):
            return self.report(title=title)

    def to_pdf(self, path: str | Path, *, title: str | None = None) -> Path:
        from ..reports.pdf import write_pdf

        return write_pdf(self.pdf_report(title=title), path)

    def write(self, out: str | Path, *, title: str | None = None, pdf: bool = True) -> list[Path]:
        """report.html, report.pdf and tables/<name>.csv under ``out``. Both reports are rendered
        in memory before either is written, so a rendering failure leaves no partial report."""
        import io

        from .._io import atomic_write
        from ..reports.bundle import write_frame_csv
        from ..reports.document import safe_filename
        from ..reports.html import render_html
        from ..reports.pdf import render_pdf

        out = Path(out)
        report = self.report(title=title)
        html = render_html(report)
        pdf_bytes = None
        if pdf:
            buffer = io.BytesIO()
            render_pdf(self.pdf_report(title=title), buffer)
            pdf_bytes = buffer.getvalue()
        written = [write_frame_csv(frame, out / "tables" / f"{safe_filename(name)}.csv")
                   for name, frame in self.to_frames().items()]
        with atomic_write(out / "report.html") as handle:
            handle.write(html)
        written.append(out / "report.html")
        if pdf_bytes is not None:
            with atomic_write(out / "report.pdf", "wb") as handle:
                handle.write(pdf_bytes)
            written.append(out / "report.pdf")
        return written


def with_true_mixture(mixture: pd.DataFrame, truth: dict[str, dict[str, float]]) -> pd.DataFrame:
    """``mixture`` with ``true`` (the known byte share), ``inferred`` (the fitted proportion) and
    ``error`` (inferred − true) for the tokenizers in ``truth``; other rows get NaN.

    Example:
        >>> import pandas as pd
        >>> m = pd.DataFrame({"tokenizer": ["a", "a"], "category": ["x", "y"], "proportion": [0.7, 0.3]})
        >>> with_true_mixture(m, {"a": {"x": 0.6, "y": 0.4}})["error"].round(2).tolist()
        [0.1, -0.1]
    """
    out = mixture.copy()
    out["true"] = [truth.get(t, {}).get(c, float("nan")) if t in truth else float("nan")
                   for t, c in zip(out["tokenizer"], out["category"], strict=True)]
    out["inferred"] = out["proportion"].where(out["true"].notna())
    out["error"] = out["inferred"] - out["true"]
    return out


def _concat(name: str, frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack one frame kind over the tokenizers; script columns are aligned, most used first."""
    import pandas as pd

    stacked = pd.concat(frames, ignore_index=True)
    if name != "coverage_scripts":
        return stacked
    stacked = stacked.fillna(0)
    cols = ["tokenizer"] + sorted((c for c in stacked.columns if c != "tokenizer"), key=lambda c: -stacked[c].sum())
    return stacked[cols]
