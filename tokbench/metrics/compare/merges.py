"""Merge-list lineage of two BPE tokenizers: common prefix, set overlap and a verdict.

Merges are compared as byte pairs ``(left bytes, right bytes)``, so ids, special tokens and the
file format (tiktoken ranks, HF ``merges``, SentencePiece scores, from which
:mod:`tokbench.model.merges` recovers the list) do not matter: only which strings were joined and
in what order. The verdict reads the longest common prefix (LCP) first:

* ``identical merges`` — same list in the same order;
* ``B extends A`` — A's merges are exactly B's first ``|A|`` merges (``A extends B`` the other way);
* ``B extends A (reordered)`` / ``same merges, reordered`` — the same merges as a set over that
  prefix (or overall), in another order;
* ``B extends A minus d of A's merges`` — A's merges that B kept, in A's order, are B's first
  merges, and d of A's merges are absent from B (Qwen 2 over cl100k: the 1,100 merges that join
  digits are dropped, since Qwen splits numbers into single digits; the other 98,900 are
  Qwen's first merges in cl100k's order, then come its own);
* ``shared prefix of k merges`` — the lists agree on their first ``k >= min_prefix`` merges, then
  diverge (a shared ancestor, or the same trainer on similar data);
* ``unrelated`` — a shorter prefix (a few identical first merges, such as ``" t"``, are what any
  English-heavy BPE learns first and say nothing about lineage).

The order-free overlap (``merges_shared``: merges in both lists) is reported beside it, because a
re-trained or re-ordered list can share most merges without a long prefix. A tokenizer without
merges (WordPiece, Unigram) gets the verdict ``no merge list (...)`` instead of an error.

HF's Llama conversion lists several merges per token (every split of a piece into two pieces,
each with its own rank), where SentencePiece's own model builds each piece once; a list in which
several merges make the same token is also compared in its *canonical* form (the first merge
making each token) and the note says so.

Example:
    >>> rel = merge_relation([(b"a", b"b")], [(b"a", b"b"), (b"ab", b"c")])
    >>> rel.verdict, rel.lcp
    ('B extends A', 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ...model.tokenizer import Tokenizer

__all__ = ["MergeRelation", "merge_pairs", "merge_relation", "tokenizer_merge_relation", "RELATIONS", "MIN_PREFIX"]

BytePair = tuple[bytes, bytes]
#: Short relation codes, in the order of how close the lineage is.
RELATIONS: tuple[str, ...] = ("identical", "reordered", "b_extends_a", "a_extends_b", "prefix", "unrelated",
                              "no_merges")
#: A common prefix shorter than this is coincidence (the first merges of any English BPE agree).
MIN_PREFIX = 100


@dataclass(frozen=True)
class MergeRelation:
    """How two merge lists relate (``None`` counts when a side has no merge list)."""

    verdict: str
    relation: str
    lcp: int | None
    a_merges: int | None
    b_merges: int | None
    merges_shared: int | None
    notes: list[str] = field(default_factory=list)
    #: merges of the extended list left out of the extension (``... minus d of A's merges``)
    dropped: int = 0

    @property
    def inherited(self) -> int | None:
        """How many of the extension's first merges are the base's (all of the base's merges it
        kept, for an extension; the common prefix otherwise): where an attack on the extension's
        *own* merges starts (issue 17, item 2).

        Example:
            >>> merge_relation([(b"a", b"b")], [(b"a", b"b"), (b"ab", b"c")]).inherited
            1
        """
        if self.relation in ("identical", "reordered", "b_extends_a"):
            return (self.a_merges or 0) - self.dropped
        if self.relation == "a_extends_b":
            return (self.b_merges or 0) - self.dropped
        return self.lcp

    @property
    def related(self) -> bool:
        """True for every relation but ``unrelated`` and ``no_merges``."""
        return self.relation not in ("unrelated", "no_merges")


def merge_pairs(tok: Tokenizer) -> list[BytePair] | None:
    """``tok``'s merges as byte pairs in order, or ``None`` when it has no merge list."""
    if not tok.has_merges:
        return None
    vocab = tok.vocab
    return [(vocab[x], vocab[y]) for x, y in tok.merges or []]


def _canonical(pairs: list[BytePair]) -> list[BytePair]:
    """The first merge making each token (drops HF Llama's alternative splits of one piece)."""
    seen: set[bytes] = set()
    out = []
    for left, right in pairs:
        made = left + right
        if made not in seen:
            seen.add(made)
            out.append((left, right))
    return out


def _lcp(a: list[BytePair], b: list[BytePair]) -> int:
    n = min(len(a), len(b))
    k = 0
    while k < n and a[k] == b[k]:
        k += 1
    return k


def merge_relation(a: list[BytePair], b: list[BytePair], *, min_prefix: int = MIN_PREFIX) -> MergeRelation:
    """The relation of two merge lists given as byte pairs (see the module docstring)."""
    notes = []
    canon_a, canon_b = _canonical(a), _canonical(b)
    if len(canon_a) != len(a) or len(canon_b) != len(b):
        which = " and ".join(s for s, full, c in (("A", a, canon_a), ("B", b, canon_b)) if len(c) != len(full))
        notes.append(f"{which}: several merges make one token (HF's SentencePiece conversion does); "
                     "compared on the first merge making each token")
        a, b = canon_a, canon_b
    lcp = _lcp(a, b)
    shared = len(set(a) & set(b))
    na, nb = len(a), len(b)
    if a == b:
        verdict, relation = "identical merges", "identical"
    elif lcp == na and na < nb:
        verdict, relation = "B extends A", "b_extends_a"
    elif lcp == nb and nb < na:
        verdict, relation = "A extends B", "a_extends_b"
    elif na == nb and shared == na:
        verdict, relation = "same merges, reordered", "reordered"
    elif na < nb and set(a) == set(b[:na]):
        verdict, relation = "B extends A (reordered)", "b_extends_a"
    elif nb < na and set(b) == set(a[:nb]):
        verdict, relation = "A extends B (reordered)", "a_extends_b"
    elif (pruned := _pruned_extension(a, b, min_prefix)) is not None:
        return _pruned_relation(pruned, "A", "B", lcp, na, nb, shared, notes)
    elif (pruned := _pruned_extension(b, a, min_prefix)) is not None:
        return _pruned_relation(pruned, "B", "A", lcp, na, nb, shared, notes)
    elif lcp >= min_prefix:
        verdict, relation = f"shared prefix of {lcp} merges", "prefix"
    else:
        verdict, relation = "unrelated", "unrelated"
    return MergeRelation(verdict=verdict, relation=relation, lcp=lcp, a_merges=na, b_merges=nb,
                         merges_shared=shared, notes=notes)


def _pruned_extension(base: list[BytePair], ext: list[BytePair], min_prefix: int) -> list[BytePair] | None:
    """``base``'s merges missing from ``ext`` when the others, in ``base``'s order, open ``ext``
    and are at least half of ``base`` (and ``min_prefix`` long); else ``None``."""
    present = set(ext)
    kept = [p for p in base if p in present]
    if len(kept) == len(base) or len(kept) < max(min_prefix, len(base) / 2) or ext[: len(kept)] != kept:
        return None
    return [p for p in base if p not in present]


def _pruned_relation(dropped: list[BytePair], base: str, ext: str, lcp: int, na: int, nb: int, shared: int,
                     notes: list[str]) -> MergeRelation:
    n_base = na if base == "A" else nb
    made = [left + right for left, right in dropped]
    digits = all(m.isdigit() for m in made)
    shown = ", ".join(repr(m.decode("utf-8", errors="backslashreplace")) for m in made[:6])
    notes = [*notes, f"{ext} keeps {n_base - len(dropped):,} of {base}'s {n_base:,} merges in {base}'s order as its "
             f"first merges; the {len(dropped):,} dropped ones make {shown}{', …' if len(made) > 6 else ''}"
             + (" (every one joins digits)" if digits else "")]
    return MergeRelation(verdict=f"{ext} extends {base} minus {len(dropped)} of {base}'s merges",
                         relation=f"{ext.lower()}_extends_{base.lower()}", lcp=lcp, a_merges=na, b_merges=nb,
                         merges_shared=shared, notes=notes, dropped=len(dropped))


def tokenizer_merge_relation(a: Tokenizer, b: Tokenizer, *, min_prefix: int = MIN_PREFIX) -> MergeRelation:
    """:func:`merge_relation` of two tokenizers; a side without merges gives ``no merge list``.

    Example:
        >>> tokenizer_merge_relation(load_tokenizer("r50k_base.tiktoken"), load_tokenizer("gpt2")).verdict  # doctest: +SKIP
        'identical merges'
    """
    pa, pb = merge_pairs(a), merge_pairs(b)
    if pa is None or pb is None:
        without = [f"{t.name}: {t.kind}" for t, p in ((a, pa), (b, pb)) if p is None]
        return MergeRelation(verdict=f"no merge list ({', '.join(without)})", relation="no_merges", lcp=None,
                             a_merges=None if pa is None else len(pa), b_merges=None if pb is None else len(pb),
                             merges_shared=None)
    return merge_relation(pa, pb, min_prefix=min_prefix)
