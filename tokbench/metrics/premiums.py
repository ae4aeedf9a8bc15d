"""Token premiums on a parallel corpus, both ways the literature counts them, with bootstrap
confidence intervals and cross-language summaries.

premium(lang) = CTC(lang) / CTC(reference), reference ``eng_Latn`` by default, where CTC is the
corpus token count of the same sentences in each language:

* ``petrov`` — Petrov et al. (2023), "Language Model Tokenizers Introduce Unfairness Between
  Languages": all lines of a language (FLORES dev then devtest) joined with a single space and
  encoded once. Their script (``compute/compute_tokenizations.py`` in
  github.com/AleksandarPetrov/tokenization-fairness, read for this) loads each file with
  ``file.read().split("\n")`` and joins ``data_dev + data_devtest`` with ``" "``: every FLORES
  file ends with a newline, so each split contributes an empty last line, i.e. a double space
  between dev and devtest and a trailing space. ``petrov_script=True`` reproduces that text
  exactly (their published counts, usually 1–2 tokens above the plain join's);
* ``arnett`` — Arnett et al. (2025), "Explaining and Mitigating Crosslingual Tokenizer
  Inequities": every line encoded on its own, no special tokens (the counts of
  :mod:`tokbench.metrics.compression`).

Confidence intervals are percentile bootstraps over sentence indices: each replicate draws
``n`` sentence indices with replacement (one ``numpy.random.default_rng(seed)`` for the run) and
uses the *same* indices for the language and the reference, so the interval reflects which
sentences were sampled, not translation noise. For ``petrov`` the joined encoding is split into
per-sentence counts by the byte offsets of its tokens (exact for byte-exact tokenizers:
byte-level BPE, tiktoken, SentencePiece without normalisation); where token bytes do not
reproduce the text (e.g. WordPiece, which lower-cases and drops spaces) the line counts, scaled
to the joined CTC, stand in and the row's ``ci_source`` says so.

Summaries across languages (mean, max and which language, population variance, Gini
coefficient) are computed over the languages not blanked, with bootstrap intervals from the
same replicates. Following Petrov et al., a pair is blanked (premium ``None``, ``blanked=True``)
when more than ``max_unknown`` (10%) of the language's characters fall to the unknown token;
languages spelled mostly (> 50%) by byte fallback are flagged, not blanked.

Unlike :func:`tokbench.metrics.compression.compression`, which reports a line-count premium
per category as one column among many, this module is about premiums alone: both methods,
uncertainty, several tokenizers side by side.

Example:
    >>> from tokbench.corpora import load_flores
    >>> res = premiums([tok], load_flores("all", split="both"))        # doctest: +SKIP
    >>> res.to_frame().query("method == 'petrov'").nlargest(3, "premium")   # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..corpora import Corpus
from ..errors import CorpusError, TokbenchError, UnknownLanguageError
from ..model.tokenizer import Tokenizer
from ..results import Signature
from .compression import TokenTables, count_tokens, safe_encode

__all__ = ["Method", "METHODS", "PremiumResult", "premiums", "gini", "bootstrap_weights", "joined_text",
           "file_ends", "FLORES_LINES"]

Method = Literal["petrov", "arnett"]
METHODS: tuple[str, ...] = ("petrov", "arnett")
_JOINED_CHUNK = 8  # joined texts encoded per batch: bounds memory (Python int lists) on 200 languages
#: Lines of the FLORES-200 files (dev, devtest): where ``split="both"`` changes file.
FLORES_LINES = {"dev": 997, "devtest": 1012}


def gini(values: Any, axis: int = 0) -> Any:
    """Gini coefficient of non-negative values along ``axis`` (0 = all equal).

    G = sum_i sum_j |x_i - x_j| / (2 n^2 mean), computed from the sorted values as
    G = 2 sum_i i x_(i) / (n sum x) - (n + 1) / n.

    Example:
        >>> round(float(gini([1, 1, 1])), 6), round(float(gini([0, 0, 1])), 6)   # 4/(2*9*(1/3))
        (0.0, 0.666667)
    """
    import numpy as np

    x = np.sort(np.asarray(values, dtype=np.float64), axis=axis)
    n = x.shape[axis]
    shape = [1] * x.ndim
    shape[axis] = n
    ranks = np.arange(1, n + 1, dtype=np.float64).reshape(shape)
    total = x.sum(axis=axis)
    return 2.0 * (ranks * x).sum(axis=axis) / (n * total) - (n + 1.0) / n


def bootstrap_weights(n: int, n_bootstrap: int, seed: int) -> Any:
    """How often each of ``n`` sentences is drawn in each replicate: an (n_bootstrap, n) array.

    Replicate ``b`` resamples ``n`` indices with replacement; summing ``counts @ weights.T``
    gives every category's resampled CTC with the same indices for all of them.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_bootstrap, n))
    flat = draws + (np.arange(n_bootstrap) * n)[:, None]
    return np.bincount(flat.ravel(), minlength=n_bootstrap * n).reshape(n_bootstrap, n)


@dataclass(frozen=True)
class PremiumResult:
    """Premiums per (tokenizer, method, language) and summaries per (tokenizer, method).

    ``to_frame()`` columns: tokenizer, method, language, ctc, reference_ctc, premium,
    ci_low, ci_high, ci_source, unk_share, fallback_share, blanked, flags.
    ``summary_frame()`` columns: tokenizer, method, languages, blanked, mean, mean_ci_low,
    mean_ci_high, max, max_language, variance, gini, gini_ci_low, gini_ci_high.
    """

    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    signature: Signature
    reference: str
    confidence: float
    n_bootstrap: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows)

    def summary_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.summary)

    def wide(self, value: str = "premium") -> Any:
        """Languages as rows, one column per (tokenizer, method)."""
        frame = self.to_frame()
        return frame.pivot_table(index="language", columns=["tokenizer", "method"], values=value, sort=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "confidence": self.confidence,
            "n_bootstrap": self.n_bootstrap,
            "seed": self.seed,
            "rows": self.rows,
            "summary": self.summary,
            "notes": self.notes,
            "signature": self.signature.to_dict(),
        }


def _check_corpus(corpus: Corpus, reference: str, languages: Sequence[str] | None) -> list[str]:
    names = corpus.category_names if languages is None else list(languages)
    for lang in [reference, *names]:
        if lang not in corpus:
            close = difflib.get_close_matches(lang, corpus.category_names, n=5, cutoff=0.5)
            hint = f"closest: {', '.join(close)}" if close else f"the corpus has {', '.join(corpus.category_names[:8])}"
            raise UnknownLanguageError(
                f"language {lang!r} is not in corpus {corpus.name!r} ({hint}); "
                "load it, e.g. --corpus flores:all, or choose another --reference"
            )
    if reference not in names:
        names = [reference, *names]
    sizes = {c: corpus.n_documents(c) for c in names}
    if len(set(sizes.values())) > 1:
        n_ref = sizes[reference]
        odd = [c for c, n in sizes.items() if n != n_ref][:5]
        raise CorpusError(
            f"premiums need a parallel corpus (the same sentences in every language), but "
            f"{', '.join(odd)} {'has' if len(odd) == 1 else 'have'} a different number of documents "
            f"than {reference} ({n_ref}); use FLORES-200 or align the files"
        )
    return names


def _encode_joined(tok: Tokenizer, texts: Sequence[str]) -> list[list[int]]:
    return tok.encode_batch(texts)


def file_ends(corpus: Corpus, n_docs: int) -> list[int]:
    """Indices of the last line of each FLORES file in a category of ``corpus`` (Petrov et al.'s
    script adds an empty line after each): ``[996, 2008]`` for ``split="both"``.

    Raises :class:`~tokbench.errors.CorpusError` when the corpus is not whole FLORES-200 files.
    """
    sizes = {"dev": [FLORES_LINES["dev"]], "devtest": [FLORES_LINES["devtest"]],
             "both": [FLORES_LINES["dev"], FLORES_LINES["devtest"]]}.get(corpus.split or "")
    if sizes is None or sum(sizes) != n_docs or corpus.max_bytes is not None:
        raise CorpusError(
            f"petrov_script reproduces Petrov et al.'s reading of whole FLORES-200 files, but corpus "
            f"{corpus.name!r} (split {corpus.split!r}, {n_docs} lines per language"
            f"{', sampled' if corpus.max_bytes is not None else ''}) is not; load it with "
            "load_flores(..., split='both') / --corpus flores, or leave petrov_script off"
        )
    import itertools

    return [n - 1 for n in itertools.accumulate(sizes)]


def joined_text(docs: Sequence[str], ends: Sequence[int] | None = None) -> str:
    """The ``petrov`` text: ``docs`` joined with one space; with ``ends`` (the last line of each
    file), an empty line after each of them too, as ``" ".join(f.read().split("\n"))`` per file.

    >>> joined_text(["a", "b", "c"]), joined_text(["a", "b", "c"], ends=[0, 2])
    ('a b c', 'a  b c ')
    """
    if ends is None:
        return " ".join(docs)
    lines: list[str] = []
    start = 0
    for end in ends:
        lines.extend(docs[start:end + 1])
        lines.append("")
        start = end + 1
    return " ".join(lines)


def _sentence_starts(docs: Sequence[str], ends: Sequence[int] | None = None) -> Any:
    """Byte offset of each document in :func:`joined_text` and the text's length in bytes."""
    import numpy as np

    lengths = np.fromiter((len(d.encode("utf-8")) for d in docs), dtype=np.int64, count=len(docs))
    gaps = np.ones(len(docs), dtype=np.int64)  # the joining space after each document
    gaps[-1] = 0
    if ends is not None:
        gaps[np.asarray(ends, dtype=np.int64)] += 1  # the empty line after each file, and its space
    starts = np.zeros(len(docs), dtype=np.int64)
    np.cumsum(lengths[:-1] + gaps[:-1], out=starts[1:])
    return starts, int(lengths.sum() + gaps.sum())


def _split_joined(ids: Any, docs: Sequence[str], tables: TokenTables, ends: Sequence[int] | None = None) -> Any | None:
    """Per-sentence token counts of the joined encoding, or None when bytes do not align."""
    import numpy as np

    starts, text_bytes = _sentence_starts(docs, ends)
    token_ends = np.cumsum(tables.byte_len[ids])
    total = int(token_ends[-1]) if token_ends.size else 0
    if total == text_bytes:
        shift = 0
    elif total == text_bytes + 1 and tables.adds_word_prefix:
        shift = 1  # SentencePiece's dummy-prefix space before the first sentence
    else:
        return None
    last = np.maximum(token_ends - 1 - shift, 0)
    sentence = np.searchsorted(starts, last, side="right") - 1
    return np.bincount(sentence, minlength=len(docs))


def _per_tokenizer(
    tok: Tokenizer, corpus: Corpus, names: list[str], methods: Sequence[str], progress: bool,
    ends: list[int] | None = None,
) -> dict[str, dict[str, Any]]:
    """method -> {"S": per-sentence counts (n_lang x n_docs), "ctc", "unk", "fallback", "source"}."""
    import numpy as np

    tables = TokenTables.of(tok)
    chars = np.array([sum(len(d) for d in corpus.documents(c)) for c in names], dtype=np.float64)
    out: dict[str, dict[str, Any]] = {}
    if "arnett" in methods:
        out["arnett"] = _line_counts(tok, corpus, names, tables, chars, progress)
    if "petrov" in methods:
        line_S = out["arnett"]["S"] if "arnett" in out else None
        out["petrov"] = _joined_counts(tok, corpus, names, tables, chars, progress, line_S, ends)
    return out


def _line_counts(tok: Tokenizer, corpus: Corpus, names: list[str], tables: TokenTables, chars: Any,
                 progress: bool) -> dict[str, Any]:
    """Arnett et al.: every line encoded on its own."""
    import numpy as np
    from tqdm.auto import tqdm

    line_S = np.zeros((len(names), corpus.n_documents(names[0])), dtype=np.int64)
    unk = np.zeros(len(names))
    fb = np.zeros(len(names))
    for k, lang in enumerate(tqdm(names, desc=f"{tok.name} lines", disable=not progress, unit="lang")):
        counts = count_tokens(tok, corpus.documents(lang), tables=tables, with_freq=False)
        line_S[k] = counts.doc_tokens
        unk[k], fb[k] = counts.unk_chars, counts.fallback_chars
    return {"S": line_S, "ctc": line_S.sum(axis=1), "unk": unk / chars, "fallback": fb / chars,
            "source": ["lines"] * len(names)}


def _joined_counts(tok: Tokenizer, corpus: Corpus, names: list[str], tables: TokenTables, chars: Any,
                   progress: bool, line_S: Any | None, ends: list[int] | None) -> dict[str, Any]:
    """Petrov et al.: the lines joined with a space and encoded once, split back per sentence
    (``ends``: the exact text of their script, :func:`joined_text`)."""
    import numpy as np
    from tqdm.auto import tqdm

    S = np.zeros((len(names), corpus.n_documents(names[0])), dtype=np.int64)
    ctc = np.zeros(len(names), dtype=np.int64)
    unk = np.zeros(len(names))
    fb = np.zeros(len(names))
    source = ["joined offsets"] * len(names)
    misaligned: list[int] = []
    bar = tqdm(total=len(names), desc=f"{tok.name} joined", disable=not progress, unit="lang")
    for lo in range(0, len(names), _JOINED_CHUNK):
        chunk = names[lo:lo + _JOINED_CHUNK]
        texts = [joined_text(corpus.documents(lang), ends) for lang in chunk]
        for j, (lang, text, ids) in enumerate(zip(chunk, texts, safe_encode(tok, texts, _encode_joined), strict=True)):
            k = lo + j
            arr = np.asarray(ids, dtype=np.int64)
            counts = count_tokens(tok, [text], tables=tables, encoded=[ids], ids=arr, with_freq=False)
            ctc[k] = arr.size
            unk[k], fb[k] = counts.unk_chars, counts.fallback_chars
            split = _split_joined(arr, corpus.documents(lang), tables, ends)
            if split is None:
                misaligned.append(k)
            else:
                S[k] = split
        bar.update(len(chunk))
    bar.close()
    # Scaled line counts stand in for the split; the bootstrap rescales their sums to the
    # joined CTC, so the replicates stay centred on the joined premium.
    for k in misaligned:
        S[k] = (line_S[k] if line_S is not None else
                count_tokens(tok, corpus.documents(names[k]), tables=tables, with_freq=False).doc_tokens)
        source[k] = "lines (scaled)"
    return {"S": S, "ctc": ctc, "unk": unk / chars, "fallback": fb / chars, "source": source}


def _check_options(methods: list[str], confidence: float, n_bootstrap: int, max_unknown: float) -> None:
    for m in methods:
        if m not in METHODS:
            raise TokbenchError(f"unknown premium method {m!r}; valid: {', '.join(METHODS)}")
    if not methods:
        raise TokbenchError(f"give at least one premium method ({', '.join(METHODS)})")
    if not 0 < confidence < 1:
        raise TokbenchError(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence}")
    if n_bootstrap < 0:
        raise TokbenchError(f"n_bootstrap must be >= 0 (0 = no intervals), got {n_bootstrap}")
    if not 0 <= max_unknown <= 1:
        raise TokbenchError(f"max_unknown is a share between 0 and 1, got {max_unknown}")


def premiums(
    tokenizers: Tokenizer | Sequence[Tokenizer],
    corpus: Corpus,
    *,
    reference: str = "eng_Latn",
    languages: Sequence[str] | None = None,
    methods: Sequence[Method] = ("petrov", "arnett"),
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    max_unknown: float = 0.1,
    mostly_fallback: float = 0.5,
    petrov_script: bool = False,
    progress: bool = False,
) -> PremiumResult:
    """Token premiums of each tokenizer on a parallel corpus (see the module docstring).

    ``petrov_script=True`` encodes, for the ``petrov`` method, exactly the text of Petrov et
    al.'s script — each FLORES file's lines plus the empty line its trailing newline leaves,
    joined with one space (:func:`joined_text`) — so that their published counts are reproduced
    to the token; it needs whole FLORES-200 files (``load_flores``, any split) and leaves
    ``arnett`` unchanged.

    Raises :class:`~tokbench.errors.UnknownLanguageError` when the reference or a requested
    language is missing and :class:`~tokbench.errors.CorpusError` when the categories are not
    parallel (different numbers of documents).

    Example:
        >>> res = premiums(tok, load_flores("eng_Latn,fra_Latn", split="both"), seed=1)   # doctest: +SKIP
        >>> res.to_frame()[["method", "language", "premium", "ci_low", "ci_high"]]        # doctest: +SKIP
    """
    import numpy as np

    toks = [tokenizers] if isinstance(tokenizers, Tokenizer) else list(tokenizers)
    if not toks:
        raise TokbenchError("premiums need at least one tokenizer")
    methods = list(dict.fromkeys(methods))
    _check_options(methods, confidence, n_bootstrap, max_unknown)
    names = _check_corpus(corpus, reference, languages)
    n_docs = corpus.n_documents(reference)
    ends = file_ends(corpus, n_docs) if petrov_script and "petrov" in methods else None
    weights = bootstrap_weights(n_docs, n_bootstrap, seed).astype(np.float64) if n_bootstrap else None
    setting = _Setting(names=names, ref_k=names.index(reference), reference=reference, weights=weights,
                       q=[(1 - confidence) / 2 * 100, (1 + confidence) / 2 * 100], max_unknown=max_unknown,
                       mostly_fallback=mostly_fallback)
    rows: list[dict[str, Any]] = []
    summary: list[dict[str, Any]] = []
    notes: list[str] = []
    for tok in toks:
        per = _per_tokenizer(tok, corpus, names, methods, progress, ends)
        for method in methods:
            summary.append(_method_rows(tok.name, method, per[method], setting, rows, notes))
    signature = Signature(
        tokenizers={t.name: t.fingerprint for t in toks},
        corpus=corpus.signature(),
        seed=seed,
        extra={"reference": reference, "methods": methods, "n_bootstrap": n_bootstrap,
               "confidence": confidence, "max_unknown": max_unknown,
               **({"petrov_script": True} if ends is not None else {})},
    )
    return PremiumResult(rows=rows, summary=summary, signature=signature, reference=reference,
                         confidence=confidence, n_bootstrap=n_bootstrap, seed=seed, notes=notes)


@dataclass(frozen=True)
class _Setting:
    """What every (tokenizer, method) shares: languages, reference, bootstrap weights, thresholds."""

    names: list[str]
    ref_k: int
    reference: str
    weights: Any  # (n_bootstrap, n_docs) or None
    q: list[float]
    max_unknown: float
    mostly_fallback: float


def _method_rows(tok: str, method: str, d: dict[str, Any], setting: _Setting, rows: list[dict[str, Any]],
                 notes: list[str]) -> dict[str, Any]:
    """Append one (tokenizer, method)'s rows (and notes); return its summary row."""
    import numpy as np

    ref_k = setting.ref_k
    ctc = d["ctc"].astype(np.float64)
    if ctc[ref_k] == 0:
        raise TokbenchError(
            f"{tok}: the reference {setting.reference} encodes to no tokens; choose another reference"
        )
    point = ctc / ctc[ref_k]
    reps = ci = None
    if setting.weights is not None:
        reps = _replicates(d, ctc, setting.weights, ref_k)
        ci = np.percentile(reps, setting.q, axis=1)
    blanked = d["unk"] > setting.max_unknown
    if blanked[ref_k]:
        notes.append(f"{tok}/{method}: the reference {setting.reference} itself has "
                     f"{d['unk'][ref_k]:.0%} unknown characters; every premium is blanked")
        blanked[:] = True
    for k, lang in enumerate(setting.names):
        rows.append({
            "tokenizer": tok,
            "method": method,
            "language": lang,
            "ctc": int(ctc[k]),
            "reference_ctc": int(ctc[ref_k]),
            "premium": None if blanked[k] else float(point[k]),
            "ci_low": None if blanked[k] or reps is None else float(ci[0, k]),
            "ci_high": None if blanked[k] or reps is None else float(ci[1, k]),
            "ci_source": d["source"][k] if reps is not None else None,
            "unk_share": float(d["unk"][k]),
            "fallback_share": float(d["fallback"][k]),
            "blanked": bool(blanked[k]),
            "flags": "; ".join(_row_flags(d, k, ctc, blanked, setting)),
        })
    return _summary(tok, method, setting.names, point, reps, ~blanked, setting.q)


def _replicates(d: dict[str, Any], ctc: Any, weights: Any, ref_k: int) -> Any:
    """Bootstrap premiums (n_lang, B): resampled sentence sums over the reference's."""
    import numpy as np

    sums = d["S"].astype(np.float64) @ weights.T  # (n_lang, B)
    line_totals = d["S"].sum(axis=1).astype(np.float64)
    scale = np.divide(ctc, line_totals, out=np.ones_like(ctc), where=line_totals > 0)
    sums *= scale[:, None]  # 1 where the split is exact; joined/lines for scaled rows
    with np.errstate(divide="ignore", invalid="ignore"):
        return sums / sums[ref_k]


def _row_flags(d: dict[str, Any], k: int, ctc: Any, blanked: Any, setting: _Setting) -> list[str]:
    flags = []
    if blanked[k]:
        flags.append(f"unknown token spells {d['unk'][k]:.1%} of characters (> {setting.max_unknown:.0%}): blanked")
    if d["fallback"][k] > setting.mostly_fallback:
        flags.append(f"byte fallback spells {d['fallback'][k]:.0%} of characters")
    if ctc[k] == 0:
        flags.append("encodes to no tokens")
    if d["source"][k] == "lines (scaled)":
        flags.append("CI from scaled line counts (joined tokens do not align with the text)")
    return flags


def _summary(tok: str, method: str, names: list[str], point: Any, reps: Any, keep: Any, q: list[float]) -> dict[str, Any]:
    import numpy as np

    row: dict[str, Any] = {"tokenizer": tok, "method": method, "languages": int(keep.sum()),
                           "blanked": int((~keep).sum())}
    if not keep.any():
        row.update(mean=None, mean_ci_low=None, mean_ci_high=None, max=None, max_language=None,
                   variance=None, gini=None, gini_ci_low=None, gini_ci_high=None,
                   flags="every language blanked: no summary")
        return row
    x = point[keep]
    best = int(np.argmax(x))
    row.update(
        mean=float(x.mean()),
        max=float(x[best]),
        max_language=[n for n, k in zip(names, keep, strict=True) if k][best],
        variance=float(x.var()),
        gini=float(gini(x)),
    )
    if reps is not None:
        r = reps[keep]
        row.update(
            mean_ci_low=float(np.percentile(r.mean(axis=0), q[0])),
            mean_ci_high=float(np.percentile(r.mean(axis=0), q[1])),
            gini_ci_low=float(np.percentile(gini(r, axis=0), q[0])),
            gini_ci_high=float(np.percentile(gini(r, axis=0), q[1])),
        )
    else:
        row.update(mean_ci_low=None, mean_ci_high=None, gini_ci_low=None, gini_ci_high=None)
    row["flags"] = ""
    if math.isclose(row["mean"], 1.0) and len(x) == 1:
        row["flags"] = "only the reference: summary is trivial"
    return row
