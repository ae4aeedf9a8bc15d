"""How well the offered categories explain a tokenizer's merges: diagnostics of one mixture fit.

The mixture LP (Hayase et al. 2024, :mod:`~tokbench.attacks.mixture.lp`) always returns
proportions, whatever the categories offered; its slack says how far they are from explaining
the merge list, but not where. :func:`diagnose` replays the traces under the fitted weights
``α`` (pair weights, the LP's units: counts × :data:`~tokbench.attacks.mixture.lp.SCALE` / total
pairs) and asks, for every step ``t``, whether the merged pair ``m_t`` is the weighted mixture's
most frequent pair — BPE's own rule — over every candidate pair (pairs the trainer could never
merge excluded, as in the LP):

* *strictly* — ``W_t(m_t) ≥ W_t(p)`` for every ``p`` (``strict_share``). On FLORES-size samples a
  single pair can beat every merge (GPT-2 at T = 1,000: indentation ``▁▁``, frequent in the code
  categories, beats 977 of the first 1,000 merges), so this share is small for every fit;
* *under the fit* — after granting each pair the LP's pair slack ``v_p`` (the cheapest slack that
  makes ``α`` feasible for the whole LP, found here by row generation at fixed ``α``): the
  ``explained_share`` of :class:`MixtureDiagnostics`; what is left of a step is its *violation*,
  the step slack ``v_t`` it needs. Both use the fit's noise margin (``MixtureFit.margin``): a
  competitor ahead by less than the margin is a tie the LP forgives, so it is forgiven here too;
* *within count noise* — the violation is at most :data:`NOISE_Z` standard deviations of the
  Poisson noise of the two counts (``noise_share``).

Steps whose merged pair occurs in no sample (``unseen``, not checked by the LP) are unexplained
too. The unexplained merges are decoded and classed (:func:`merge_class`): URL/markup, LaTeX/Markdown,
whitespace runs, digits, punctuation, a script that no offered category is written in ("another
language: Cyrillic"), or the offered categories' own scripts — so a user can see when the
*category set*, not the method, is the problem. It differs from
:mod:`~tokbench.attacks.mixture.lp` by fitting nothing: it measures one ``α``.

Example:
    >>> diag = diagnose(ts, fit, vocab=tok.vocab)   # doctest: +SKIP
    >>> diag.share(1, 1000), diag.class_counts().head(2)   # doctest: +SKIP
    (0.31, another language: Cyrillic   133 ...)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from ...corpora.languages import FLORES_CODE
from ...errors import TokbenchError
from ...results import Signature
from .lp import SCALE

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .lp import MixtureFit
    from .traceset import TraceSet

__all__ = ["MixtureDiagnostics", "diagnose", "merge_class", "offered_scripts", "render_token", "WINDOW_EDGES",
           "LOW_EXPLAINED", "OTHER_SCRIPT_SHARE", "NEAR_RATIO", "NOISE_Z", "TOL"]

#: Step windows of the frame: 1-100, 101-1,000, 1,001-10,000, ... (early merges are the most telling:
#: their counts are large, so sampling noise cannot hide a missing category).
WINDOW_EDGES: tuple[int, ...] = (100, 1_000, 10_000, 100_000, 1_000_000)
#: Absolute tolerance of "most frequent", in the LP's units (pairs per million): float round-off only.
TOL = 1e-6
#: A violation within this many standard deviations of the counts' sampling noise is ``within_noise``.
NOISE_Z = 2.0
#: A step is *near* when its strongest competitor is at most this many times the merged pair's weight.
NEAR_RATIO = 1.1
#: :attr:`MixtureDiagnostics.notes` warns below this explained share of the first 1,000 merges. Measured at
#: T = 1,000 on FLORES devtest / code counting halves: controlled fits offered every training category explain
#: 0.53-0.56 (lang30, 3 seeds) and 0.42-0.47 (five languages + five code languages, 3 seeds: code's two halves
#: differ more); the same fits with one category withheld 0.35-0.53 (0.35: German, 49.5 % of the data);
#: off-the-shelf GPT-2, Llama and Mistral offered the 44 default categories 0.45-0.47. Below 0.4 is below
#: every complete controlled fit measured.
LOW_EXPLAINED = 0.4
#: :attr:`MixtureDiagnostics.notes` names a script no category is written in once its merges are at least
#: this share of the steps (withholding Tamil, 8.6 % of a controlled lang30 mixture: 4.8 % of 1,000 steps).
OTHER_SCRIPT_SHARE = 0.02

URL_MARKUP = "URL/markup"
LATEX_MARKDOWN = "LaTeX/Markdown"
WHITESPACE = "whitespace/indentation"
DIGITS = "digits"
PUNCTUATION = "punctuation/symbols"
SAME_SCRIPT = "same script as offered categories"
FRAGMENT = "byte fragment"
OTHER_LANGUAGE = "another language: "

_MARKUP = ("http", "www", ".com", ".org", ".net", ".html", "://", "</", "/>", '="', "='", "&nbsp", "&amp", "&quot",
           "&lt", "&gt", "&#", "href", "<!--", "-->", "<br", "<div", "<span", "<td", "<tr", "<li", "<a ")
#: LaTeX commands and Markdown syntax (``\frac``, ``**``, a table's ``|``, inline code): text of
#: papers, READMEs and forums, which neither FLORES nor source code holds much of.
_LATEX_MARKDOWN = ("\\", "**", "`", "|", "$", "##", "~~")
#: ISO 15924 codes of FLORES that name several Unicode scripts (or none of the Script property).
_ISO_SCRIPTS = {"Hans": ("Han",), "Hant": ("Han",), "Jpan": ("Han", "Hiragana", "Katakana"), "Kore": ("Hangul", "Han")}
_NEUTRAL = frozenset({"Common", "Inherited", "Unknown"})


# ------------------------------------------------------------------------------ scripts


@lru_cache(maxsize=1)
def _script_table() -> tuple[Any, dict[int, str], dict[str, str]]:
    """A regex with one named group per Unicode script, the group id -> long name (``Cyrillic``), and
    the upper-case ISO 15924 code -> long name, from the ``regex`` module's Unicode tables."""
    import regex
    import regex._regex as _r  # the tables regex compiles \p{Script=...} from

    by_id: dict[int, list[str]] = {}
    for alias, sid in _r.get_properties()["SCRIPT"][1].items():
        by_id.setdefault(sid, []).append(alias)
    long = {sid: "_".join(w.capitalize() for w in next((a for a in al if len(a) > 4), al[0]).split("_"))
            for sid, al in by_id.items()}
    iso = {a: long[sid] for sid, al in by_id.items() for a in al if len(a) == 4}
    pattern = regex.compile("|".join(rf"(?P<s{sid}>\p{{Script={al[0]}}})" for sid, al in sorted(by_id.items())))
    return pattern, long, iso


@lru_cache(maxsize=65536)
def char_script(ch: str) -> str:
    """The Unicode Script of one character (``"Cyrillic"``, ``"Han"``, ``"Common"`` ...).

    >>> char_script("ж"), char_script("7")
    ('Cyrillic', 'Common')
    """
    pattern, long, _ = _script_table()
    m = pattern.match(ch)
    return long[int(m.lastgroup[1:])] if m and m.lastgroup else "Unknown"


def offered_scripts(categories: Sequence[str]) -> frozenset[str]:
    """The Unicode scripts the categories are written in: a FLORES code's script (``rus_Cyrl`` ->
    Cyrillic, ``jpn_Jpan`` -> Han, Hiragana, Katakana); every other category (code, English
    domains, named samples) counts as Latin.

    >>> sorted(offered_scripts(["rus_Cyrl", "python"]))
    ['Cyrillic', 'Latin']
    """
    _, _, iso = _script_table()
    out: set[str] = set()
    for cat in categories:
        m = FLORES_CODE.match(str(cat))
        code = m.group(1) if m else "Latn"
        out.update(_ISO_SCRIPTS.get(code) or ((iso[code.upper()],) if code.upper() in iso else ("Latin",)))
    return frozenset(out)


def _fragment_scripts(data: bytes) -> dict[str, int]:
    """The scripts of the letters a UTF-8 fragment can start, with how many of the sampled
    candidates each has (the lead byte and the continuation bytes after it fix a range of code
    points: 64 after two bytes, 4,096 after a lone 3-byte lead); empty without a lead byte."""
    lead = next((k for k, b in enumerate(data) if b >= 0xC0), None)
    if lead is None:
        return {}
    b0 = data[lead]
    size = 2 if b0 < 0xE0 else 3 if b0 < 0xF0 else 4
    value, bits = b0 & (0x7F >> size), 0
    for b in data[lead + 1: lead + size]:
        if b & 0xC0 != 0x80:
            break
        value, bits = (value << 6) | (b & 0x3F), bits + 1
    free = 6 * (size - 1 - bits)
    lo, hi = value << free, ((value + 1) << free) - 1
    votes: dict[str, int] = {}
    for cp in range(lo, min(hi, 0x10FFFF) + 1, max(1, (hi - lo + 1) // 512)):
        ch = chr(cp)
        if unicodedata.category(ch)[0] == "L" and char_script(ch) not in _NEUTRAL:
            votes[char_script(ch)] = votes.get(char_script(ch), 0) + 1
    return votes


def render_token(data: bytes) -> str:
    r"""A merge's bytes as readable text: spaces as ``▁``, ``\n``/``\t``/``\r`` escaped, other
    invisible characters (no-break space, controls) as ``\uXXXX``, bytes that are not UTF-8 as ``\xNN``.

    >>> render_token(b" the\n"), render_token(b"\xe3\x81"), render_token("\u00a0".encode())
    ('▁the\\n', '\\xe3\\x81', '\\u00a0')
    """
    text = data.decode("utf-8", errors="backslashreplace")
    named = {" ": "▁", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(named.get(c) or (f"\\u{ord(c):04x}" if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")
                                    else c) for c in text)


def merge_class(data: bytes, offered: frozenset[str]) -> str:
    """What an unexplained merge looks like, given the scripts the categories are written in
    (:func:`offered_scripts`): :data:`URL_MARKUP`, :data:`LATEX_MARKDOWN`, :data:`WHITESPACE`, :data:`DIGITS`,
    :data:`PUNCTUATION`, ``"another language: <Script>"`` for letters of a script no category is
    written in, :data:`SAME_SCRIPT`, or :data:`FRAGMENT` (bytes of no known character).

    >>> merge_class(" в".encode(), frozenset({"Latin"})), merge_class(b"://", frozenset({"Latin"}))
    ('another language: Cyrillic', 'URL/markup')
    """
    text = data.decode("utf-8", errors="ignore")
    lowered = text.lower()
    if any(m in lowered for m in _MARKUP):
        return URL_MARKUP
    if any(m in text for m in _LATEX_MARKDOWN):
        return LATEX_MARKDOWN
    if len(text) != len(data.decode("utf-8", errors="replace")):  # a multi-byte character cut apart
        votes = _fragment_scripts(data)
        if votes and not offered.intersection(votes):  # it cannot be a character of an offered script
            return OTHER_LANGUAGE + max(votes, key=votes.__getitem__)
        if not text.strip(" "):
            return SAME_SCRIPT if votes else FRAGMENT
    if not text:
        return FRAGMENT
    if not text.strip():
        return WHITESPACE
    letters = [c for c in text if unicodedata.category(c)[0] in "LM"]
    if not letters:
        return DIGITS if any(c.isdigit() for c in text) else PUNCTUATION
    scripts = [char_script(c) for c in letters]
    unoffered = [s for s in scripts if s not in offered and s not in _NEUTRAL]
    return OTHER_LANGUAGE + unoffered[0] if unoffered else SAME_SCRIPT


# ------------------------------------------------------------------------------ measuring


def _sweep(ts: TraceSet, alpha: np.ndarray, replicate: int, pair_slack: np.ndarray | None,
           margin: float = 0.0) -> dict[str, np.ndarray]:
    """Per step: ``merged_weight`` (``W_t(m_t)``), ``violation`` (the strongest competitor's excess
    once ``pair_slack`` — ``v_p`` per global pair, or None — is subtracted from its weight; 0 when
    none beats the merged pair), ``competitor`` (its global pair id, -1: none), ``seen`` (the merged
    pair is in some sample) and ``noise``: the standard deviation of ``W_t(p) - W_t(m_t)`` were the
    counts Poisson, ``sqrt(Σ_i s_i² (c_i,t(p) + c_i,t(m_t)))`` with ``s_i`` the weight per count."""
    from ._kernels import sweep_kernel

    pk = ts.pack(replicate)
    T = ts.n_steps
    scale = np.asarray(alpha, np.float64) * SCALE / pk.total_pairs
    seen = pk.merged_glob[:T] >= 0
    # Unseen steps have no merged weight to compare against; a competitor within the fit's noise
    # margin does not count against a step (lp.py, margin_counts).
    vt = np.where(seen, margin, np.inf)
    vp = np.zeros(max(pk.n_pairs, 1)) if pk.exempt is None else pk.exempt.astype(np.float64)
    if pair_slack is not None:
        vp = vp + pair_slack
    out_t, out_p, out_v, out_c = sweep_kernel(pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc,
                                              pk.d_val, pk.merged_glob, scale, vt, vp, np.int64(1), float(TOL),
                                              np.int64(T))
    violation = np.zeros(T)
    competitor = np.full(T, -1, np.int64)
    violation[out_t] = out_v
    competitor[out_t] = out_p
    variance = (scale ** 2) @ pk.merged[:, :T]
    variance[out_t] += out_c @ (scale ** 2)
    return {"merged_weight": scale @ pk.merged[:, :T], "violation": violation, "competitor": competitor,
            "seen": seen, "noise": np.sqrt(variance)}


class _Cover:
    """The covering LP ``min Σ v_t + Σ v_p`` subject to ``v_t + v_p ≥ viol`` on every row, kept in one
    ``highspy`` model: rows (and the slack columns they need) are appended and each re-solve
    warm-starts from the last basis. Its dual is a maximum-weight bipartite matching between steps
    and pairs; the fit's noise margin keeps it small (without one, late steps' near-ties make it
    large: see lp.py)."""

    def __init__(self, n_steps: int, n_pairs: int):
        import highspy

        from .solvers import quiet

        self.h = quiet(highspy.Highs)  # HiGHS prints a banner from C++ when the model is made
        self.h.setOptionValue("output_flag", False)
        self.inf = highspy.kHighsInf
        self.col_t = np.full(n_steps, -1, np.int64)
        self.col_p = np.full(max(n_pairs, 1), -1, np.int64)
        self.n_cols = 0

    def _cols(self, owner: np.ndarray, keys: np.ndarray) -> np.ndarray:
        new = np.unique(keys[owner[keys] < 0])
        if len(new):
            owner[new] = np.arange(self.n_cols, self.n_cols + len(new))
            self.h.addCols(len(new), np.ones(len(new)), np.zeros(len(new)), np.full(len(new), self.inf), 0,
                           np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0))
            self.n_cols += len(new)
        return owner[keys]

    def add(self, viol: np.ndarray, rows_t: np.ndarray, rows_p: np.ndarray) -> None:
        m = len(viol)
        if not m:
            return
        idx = np.column_stack([self._cols(self.col_t, rows_t), self._cols(self.col_p, rows_p)]).astype(np.int32)
        self.h.addRows(m, viol, np.full(m, self.inf), 2 * m, np.arange(0, 2 * m, 2, dtype=np.int32), idx.ravel(),
                       np.ones(2 * m))

    def solve(self) -> tuple[np.ndarray, np.ndarray]:
        """``(v_t per step, v_p per pair)`` at the optimum."""
        import highspy

        self.h.run()
        status = self.h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise TokbenchError(f"the slack problem of the mixture diagnostics failed in HiGHS: "
                                f"{self.h.modelStatusToString(status)}")
        x = np.clip(np.asarray(self.h.getSolution().col_value), 0, None)
        vt, vp = np.zeros(len(self.col_t)), np.zeros(len(self.col_p))
        vt[self.col_t >= 0] = x[self.col_t[self.col_t >= 0]]
        vp[self.col_p >= 0] = x[self.col_p[self.col_p >= 0]]
        return vt, vp


def _fit_slack(ts: TraceSet, fit: MixtureFit, replicate: int, max_rounds: int = 50,
               k_add: int = 1) -> tuple[float, np.ndarray]:
    """``(Σ v_t, v_p per global pair)``: the cheapest slack that makes the fit's ``α`` feasible for
    the whole LP (the fit keeps only ``α``). Starts from the fit's rows and adds each step's most
    violated pair until none is violated by more than the LP's tolerance (row generation at fixed
    ``α``); when several splits between ``v_t`` and ``v_p`` are optimal, HiGHS picks one."""
    from ._kernels import counts_at, sweep_kernel

    pk, T = ts.pack(replicate), ts.n_steps
    scale = np.asarray(fit.alpha, np.float64) * SCALE / pk.total_pairs
    exempt = np.zeros(max(pk.n_pairs, 1)) if pk.exempt is None else pk.exempt.astype(np.float64)
    unseen = np.where(pk.merged_glob[:T] >= 0, 0.0, np.inf)
    rows_t, rows_p = (np.asarray(x, np.int64) for x in fit.rows)
    cover = _Cover(T, pk.n_pairs)
    vt, vp = np.zeros(T), np.zeros(max(pk.n_pairs, 1))
    for _ in range(max_rounds):
        if len(rows_t):  # the violations (no slack) of the rows new this round
            order = np.argsort(rows_t, kind="stable")
            rows_t, rows_p = rows_t[order], rows_p[order]
            counts = counts_at(pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc, pk.d_val,
                               len(ts.categories), T, rows_t, rows_p)
            viol = (counts - pk.merged[:, rows_t].T) @ scale - fit.margin
            keep = viol > TOL
            cover.add(viol[keep], rows_t[keep], rows_p[keep])
            if cover.n_cols:
                vt, vp = cover.solve()
        rows_t, rows_p, _, _ = sweep_kernel(pk.n_pairs, pk.cat_off, pk.loc_glob, pk.init_cnt, pk.d_off, pk.d_loc,
                                            pk.d_val, pk.merged_glob, scale, vt + fit.margin + unseen, vp + exempt,
                                            np.int64(k_add), float(fit.signature.options.get("tol", 1.0)),
                                            np.int64(T))
        if not len(rows_t):
            break
    return float(vt.sum()), vp


# ------------------------------------------------------------------------------ the result


def _windows(n_steps: int) -> list[tuple[int, int]]:
    """``(first, last)`` steps (1-based, inclusive) of each window of :data:`WINDOW_EDGES` within ``n_steps``."""
    edges = [0] + [e for e in WINDOW_EDGES if e < n_steps] + [n_steps]
    return [(a + 1, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


@dataclass(eq=False)
class MixtureDiagnostics:
    """Per-step evidence of how well a fit's categories explain the merges (module docstring).

    Arrays have one entry per step (index ``t - 1`` for step ``t``): ``seen`` (the merged pair
    occurs in some sample); ``violation`` (``max_p W_t(p) - v_p - W_t(m_t)``, ≥ 0: the step slack
    ``v_t`` the step needs once the fit's pair slacks ``v_p`` are granted; 0 for unseen steps) and
    ``strict_violation`` (the same without ``v_p``); ``merged_weight`` (``W_t(m_t)``); ``text`` (the
    merged token, :func:`render_token`), ``competitor`` (the strongest competitor's text, ``""`` when
    none beats the merged pair) and ``classes`` (:func:`merge_class`, ``""`` for explained steps).
    A step is *explained* when it is seen and its ``violation`` is 0: the merged pair is the
    mixture's most frequent once the pairs the fit discounts at every step (``pair_slacks``, the
    largest ``v_p`` with their text: e.g. indentation a tokenizer never merged early) are set
    aside. ``slack_step``/``slack_pair`` are the fit's ``Σ v_t`` and ``Σ v_p`` at its ``α``.
    A :class:`~tokbench.results.Result`.
    """

    tokenizer: str
    categories: list[str]
    seen: np.ndarray
    violation: np.ndarray
    strict_violation: np.ndarray
    merged_weight: np.ndarray
    text: list[str]
    competitor: list[str]
    classes: list[str]
    slack_step: float = float("nan")
    slack_pair: float = float("nan")
    pair_slacks: list[tuple[str, float]] = field(default_factory=list)
    examples: int = 3
    signature: Signature = field(repr=False, default_factory=lambda: Signature(tokenizers={}))
    #: Per step: the sampling noise of the violation (Poisson counts, see :func:`_sweep`); NaN when unknown.
    noise: np.ndarray | None = field(repr=False, default=None)

    @property
    def within_noise(self) -> np.ndarray:
        """Steps seen whose violation is at most :data:`NOISE_Z` standard deviations of sampling noise."""
        noise = self.noise if self.noise is not None else np.zeros(self.n_steps)
        return self.seen & (self.violation <= NOISE_Z * noise)

    @property
    def n_steps(self) -> int:
        return len(self.seen)

    @property
    def explained(self) -> np.ndarray:
        return self.seen & (self.violation <= 0)

    def share(self, first: int = 1, last: int | None = None, *, strict: bool = False) -> float:
        """Share of steps ``first..last`` (1-based, inclusive; unseen steps count as unexplained)
        whose merged pair is the mixture's most frequent — with the fit's pair slacks set aside,
        or with ``strict`` over every pair (NaN for an empty range)."""
        last = self.n_steps if last is None else min(last, self.n_steps)
        ok = self.seen & ((self.strict_violation if strict else self.violation) <= 0)
        part = ok[first - 1:last]
        return float(part.mean()) if len(part) else float("nan")

    @property
    def explained_share(self) -> float:
        """Share of all steps explained (:meth:`share`)."""
        return self.share()

    @property
    def unexplained_steps(self) -> np.ndarray:
        """1-based steps not explained: unseen first (earliest first), then by violation, largest first."""
        idx = np.flatnonzero(~self.explained)
        key = np.where(self.seen[idx], -self.violation[idx], -np.inf)
        return idx[np.lexsort((idx, key))] + 1

    def class_counts(self) -> pd.Series:
        """Unexplained steps per class, most frequent first."""
        import pandas as pd

        classes = [self.classes[t - 1] for t in self.unexplained_steps]
        return pd.Series(classes, dtype=object).value_counts() if classes else pd.Series(dtype=int)

    def class_examples(self, k: int | None = None) -> dict[str, list[str]]:
        """Up to ``k`` (default :attr:`examples`) merge texts per class, unseen and largest violations first."""
        k = self.examples if k is None else k
        out: dict[str, list[str]] = {}
        for t in self.unexplained_steps:
            texts = out.setdefault(self.classes[t - 1], [])
            if len(texts) < k:
                texts.append(self.text[t - 1])
        return out

    def classes_frame(self) -> pd.DataFrame:
        """One row per class of unexplained merges, most frequent first: ``steps`` (all of them),
        ``first_1000`` (within the first 1,000 steps), ``share`` (of all steps) and ``examples``
        (:meth:`class_examples`, joined by ``" | "``)."""
        import pandas as pd

        counts, examples = self.class_counts(), self.class_examples()
        early = pd.Series([self.classes[t - 1] for t in self.unexplained_steps if t <= 1000], dtype=object).value_counts()
        return pd.DataFrame({"tokenizer": self.tokenizer, "class": list(counts.index),
                             "steps": counts.to_numpy(dtype=np.int64),
                             "first_1000": [int(early.get(c, 0)) for c in counts.index],
                             "share": counts.to_numpy(dtype=np.float64) / max(self.n_steps, 1),
                             "examples": [" | ".join(examples[c]) for c in counts.index]},
                            columns=["tokenizer", "class", "steps", "first_1000", "share", "examples"])

    def to_frame(self) -> pd.DataFrame:
        """One row per step window (:data:`WINDOW_EDGES`) and one for all steps (``window="all"``):
        steps, unseen, explained, ``explained_share``, ``strict_share`` (no pair slack),
        ``noise_share`` (:attr:`within_noise`), ``near_share`` (the merged pair within :data:`NEAR_RATIO`
        of the strongest competitor), the summed step slack needed (``violation``) and its ratio to
        the merged pairs' summed weight (``violation_share``), and the fit's slack split (same on
        every row)."""
        import pandas as pd

        near = self.seen & (self.violation + self.merged_weight <= NEAR_RATIO * self.merged_weight)
        windows = _windows(self.n_steps)
        spans = [(f"{a}-{b}", a, b) for a, b in windows] if len(windows) > 1 else []
        rows = []
        for label, first, last in spans + [("all", 1, self.n_steps)]:
            sl = slice(first - 1, last)
            rows.append({"tokenizer": self.tokenizer, "window": label, "first": first, "last": last,
                         "steps": last - first + 1, "unseen": int((~self.seen[sl]).sum()),
                         "explained": int(self.explained[sl].sum()), "explained_share": self.share(first, last),
                         "strict_share": self.share(first, last, strict=True), "near_share": float(near[sl].mean()),
                         "noise_share": float(self.within_noise[sl].mean()),
                         "violation": float(self.violation[sl].sum()),
                         "violation_share": float(self.violation[sl].sum() / max(self.merged_weight[sl].sum(), TOL)),
                         "strict_violation": float(self.strict_violation[sl].sum()),
                         "slack_step": self.slack_step, "slack_pair": self.slack_pair})
        return pd.DataFrame(rows)

    def unexplained_frame(self) -> pd.DataFrame:
        """One row per unexplained step (:attr:`unexplained_steps` order): step, merge text, class,
        violation, the merged pair's weight and its strongest competitor's text, unseen or not."""
        import pandas as pd

        steps = self.unexplained_steps
        return pd.DataFrame({"tokenizer": self.tokenizer, "step": steps,
                             "merge": [self.text[t - 1] for t in steps], "class": [self.classes[t - 1] for t in steps],
                             "violation": self.violation[steps - 1], "merged_weight": self.merged_weight[steps - 1],
                             "competitor": [self.competitor[t - 1] for t in steps], "unseen": ~self.seen[steps - 1]})

    def summary(self) -> str:
        """One line: ``categories explain 45.2% of 1000 merges (1-100: 66%, ...), ...; fit slack ...``."""
        frame = self.to_frame()
        windows = ", ".join(f"{r.window}: {r.explained_share:.0%}" for r in frame.itertuples() if r.window != "all")
        total = self.slack_step + self.slack_pair
        slack = (f"; fit slack {total:.4g} ({self.slack_pair / total:.0%} on pair columns v_p), step slack "
                 f"{frame['violation_share'].iloc[-1]:.1%} of the merged pairs' weight" if total > 0 else "")
        return (f"categories explain {self.explained_share:.1%} of {self.n_steps} merges"
                + (f" ({windows})" if windows else "") + f", {self.within_noise.mean():.1%} within count noise, "
                + f"{self.share(strict=True):.1%} without pair slack; {int((~self.seen).sum())} unseen{slack}")

    @property
    def notes(self) -> list[str]:
        """Cautions: the offered categories explain less than :data:`LOW_EXPLAINED` of the first
        1,000 merges (naming the largest classes of what they miss), and each script no category is
        written in that at least :data:`OTHER_SCRIPT_SHARE` of the merges are written in."""
        notes = []
        share = self.share(1, 1000)
        span = min(self.n_steps, 1000)
        if share < LOW_EXPLAINED:
            counts: dict[str, int] = {}
            for t in self.unexplained_steps[self.unexplained_steps <= 1000]:
                counts[self.classes[t - 1]] = counts.get(self.classes[t - 1], 0) + 1
            miss = ", ".join(f"{c} {n / span:.0%}" for c, n in sorted(counts.items(), key=lambda kv: -kv[1])[:3])
            what = "its" if self.n_steps <= 1000 else "the first 1,000"
            notes.append(f"the offered categories explain only {share:.0%} of {what} merges (the merged pair is the "
                         "fitted mixture's most frequent; controlled fits offered every training category explain "
                         f"0.42-0.56 at 1,000 steps); unexplained: {miss}: the category set may lack the training "
                         "data's domains or languages, so read the shares as relative to the categories offered")
        for name, n in self.class_counts().items():
            if name.startswith(OTHER_LANGUAGE) and n >= max(3, OTHER_SCRIPT_SHARE * self.n_steps):
                script = name.removeprefix(OTHER_LANGUAGE)
                notes.append(f"{n} of the {self.n_steps} merges ({n / self.n_steps:.0%}) are {script} text that no "
                             f"offered category is written in (e.g. {', '.join(self.class_examples()[name])}): add a "
                             f"{script} category, or read the shares as those of the other training data")
        return notes


def _pair_slacks(ts: TraceSet, vp: np.ndarray, piece: Any, k: int = 10) -> list[tuple[str, float]]:
    """The ``k`` largest pair slacks with their pair's text."""
    top = np.argsort(-vp, kind="stable")[:k]
    return [(render_token(b"".join(piece(x) for x in ts.pair_of(int(p)))), float(vp[p])) for p in top if vp[p] > 0]


def diagnose(ts: TraceSet, fit: MixtureFit, *, vocab: Sequence[bytes], replicate: int = 0,
             examples: int = 3) -> MixtureDiagnostics:
    """Diagnostics of ``fit`` on the traces it was fitted to (module docstring); ``vocab`` is the
    tokenizer's vocabulary (``tok.vocab``), to decode the merges, and ``examples`` the merge texts
    shown per class.

    Example:
        >>> diag = diagnose(ts, fit, vocab=tok.vocab)   # doctest: +SKIP
        >>> diag.to_frame()[["window", "explained_share"]]   # doctest: +SKIP
    """
    if list(fit.categories) != list(ts.categories):
        raise TokbenchError(f"the fit's categories ({', '.join(fit.categories)}) are not the traces' "
                            f"({', '.join(ts.categories)}); diagnose a fit on the traces it was fitted to")

    def piece(i: int) -> bytes:
        if not 0 <= i < len(vocab):
            raise TokbenchError(f"token id {i} is outside the vocabulary of {len(vocab)} entries; pass the "
                                "vocabulary of the tokenizer the traces were made with")
        return bytes(vocab[i])

    slack_step, vp = _fit_slack(ts, fit, replicate)
    sw = _sweep(ts, fit.alpha, replicate, vp, fit.margin)
    merged_weight, violation, competitor, seen = sw["merged_weight"], sw["violation"], sw["competitor"], sw["seen"]
    strict = _sweep(ts, fit.alpha, replicate, None)["violation"]
    ml = ts.merges
    data = [piece(int(a)) + piece(int(b)) for a, b in zip(ml.left, ml.right, strict=True)]
    offered = offered_scripts(ts.categories)
    classes = ["" if s and v <= 0 else merge_class(d, offered) for s, v, d in zip(seen, violation, data, strict=True)]
    comp_text = ["" if p < 0 else render_token(b"".join(piece(x) for x in ts.pair_of(p))) for p in competitor.tolist()]
    signature = Signature(tokenizers={ml.tokenizer: ml.fingerprint}, corpus=ts.corpus,
                          extra={"attack": "mixture-diagnostics", **ml.signature()},
                          options={"replicate": replicate, "tol": TOL})
    return MixtureDiagnostics(ml.tokenizer, list(ts.categories), seen, violation, strict, merged_weight,
                              [render_token(d) for d in data], comp_text, classes, slack_step, float(vp.sum()),
                              _pair_slacks(ts, vp, piece), examples, signature, noise=sw["noise"])
