"""Reports: figures, HTML and PDF assembled from plain result objects; nothing here computes a metric.

Map of the package:

* :mod:`~tokbench.reports.document` — the format-independent :class:`Report` (sections, tables,
  figures, signatures) and how a cell or a token is shown;
* :mod:`~tokbench.reports.html`, :mod:`~tokbench.reports.pdf` — the two renderers of a Report;
  ``html_assets`` holds the HTML's style sheet, script and template; ``pdf_doc`` (page canvas,
  literal text, code points for missing glyphs), ``pdf_fonts`` (Noto fonts found on the system),
  ``pdf_tables`` (wrapped tables) and ``pdf_figures`` (figures at full size, continued across
  pages) serve the PDF;
* :mod:`~tokbench.reports.audit_report` — an audit result as a Report; ``audit_findings`` writes
  its summary and one card per tokenizer from the frames;
* :mod:`~tokbench.reports.style` — the figures' shared palette, figure factory and labels, and
  the width figures are drawn for (the HTML page or the PDF's A4 text);
* :mod:`~tokbench.reports.figures`, ``mixture_figures``, ``charbench_figures``,
  ``optimal_vocab_figures`` — functions from frames to a matplotlib ``Figure``;
* :mod:`~tokbench.reports.bundle` — a command's output folder: CSV per frame, ``signature.json``,
  PNG per figure, each written atomically.

Reports never import the layers that compute (metrics, attacks, trainers, experiments, audit);
they read the frames, signatures and notes those layers return.

Example:
    >>> from tokbench.reports.document import Report, Section
    >>> Report("Demo", [Section("Empty", "Nothing to show.")]).sections[0].title
    'Empty'
"""
