"""Morphology-hybrid training: a morpheme lexicon plus a BPE fallback ("Tokens with Meaning",
Bayram et al. 2025).

The engine is language-independent and configured by a :class:`Lexicon`: roots and affixes as
``surface form → id`` tables in which allomorphs share one id (Turkish ``lar``/``ler`` → 20000),
an ``<uppercase>`` marker instead of cased duplicates, and explicit space / newline / tab tokens.
:func:`train_hybrid` segments the corpus with the lexicon (greedy longest-match root, then a chain
of longest-match affixes; :mod:`tokbench.formats.hybrid_json` has the exact rules), collects
what the lexicon leaves uncovered (unknown words, leftovers after the affix chain, digits,
punctuation, ALLCAPS words) and trains tokbench's byte-level BPE (:func:`~tokbench.trainers.bpe.train_bpe`)
on those strings; the fallback's ids follow the lexicon's tokens.

It differs from its neighbours in that the vocabulary is mostly given: only the fallback is
learned. Without a lexicon (``morfessor=True``) the lexicon is learned first with Morfessor
Baseline (Creutz & Lagus 2007; the ``morfessor`` package) on the corpus's lower-cased word
types: each word's first morph becomes a root, the others affixes (each morph its own id:
Morfessor finds no allomorphs).

Ids: each surface form is its own *token* id (so ``lar`` and ``ler`` decode to themselves and
``decode(encode(x)) == x`` holds for any text); the lexicon's shared id is the token's *morpheme*
id (``tokenizer.morpheme_ids``), which is what "same morpheme" questions should use.

Example:
    >>> lex = Lexicon.from_dicts({"<uppercase>": 0, " ": 1, "ev": 2}, {"ler": 3, "lar": 3})
    >>> t = train_hybrid(["Evler evlar ve ağaçlar"], lexicon=lex, vocab_size=300,
    ...                  allow_smaller=True, progress=False)
    >>> [t.tokenizer.vocab[i] for i in t.tokenizer.encode("Evler")]
    [b'<uppercase>', b'ev', b'ler']
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TokbenchError, TrainingError
from ..formats.hybrid_json import hybrid_data, tokenizer_from_hybrid_data
from ..model.hybrid import UPPERCASE, Casing, HybridEncoder, HybridTokenizer, lower_word
from ._common import TrainedResult, check_vocab_size, corpus_description, training_texts

__all__ = ["Lexicon", "LexiconError", "TrainedHybrid", "train_hybrid", "morfessor_lexicon",
           "RESERVED_PATTERN"]

#: Unused placeholder slots in the Tokens-with-Meaning lexicon files (``special_7``,
#: ``kok_temp_19530``, ``ek_temp_20072``): they keep their ids reserved but are not tokens.
RESERVED_PATTERN = r"(?:special|kok_temp|ek_temp)_\d+"
_SPACES = (" ", "\n", "\t")
_MARKER = re.compile(r"<[^<>\s]+>")


class LexiconError(TokbenchError):
    """A lexicon file or table has the wrong shape (not surface → integer id, empty, ...)."""


# ------------------------------------------------------------------------------------ lexicon


@dataclass(frozen=True, repr=False)
class Lexicon:
    """Roots and affixes, ``surface form → morpheme id``; allomorphs share an id.

    Entries that look like ``<name>`` are special tokens (``<uppercase>``, ``<pad>``); the
    whitespace entries ``" "``, ``"\\n"``, ``"\\t"`` are the explicit space tokens; both may sit
    in either table. Root and affix ids must be disjoint, so an id names one morpheme class.

    Example:
        >>> Lexicon.from_dicts({"ev": 0}, {"ler": 1, "lar": 1}).n_morphemes
        2
    """

    roots: dict[str, int]
    affixes: dict[str, int]
    casing: Casing = "unicode"
    name: str = "lexicon"
    sources: tuple[str, ...] = ()
    #: Placeholder entries dropped on loading (their ids stay unused).
    reserved: int = 0

    @classmethod
    def from_dicts(cls, roots: Any, affixes: Any, *, casing: Casing = "unicode", name: str = "lexicon",
                   reserved: str | None = RESERVED_PATTERN, sources: tuple[str, ...] = ()) -> Lexicon:
        """Validate two ``surface → id`` tables; raise :class:`LexiconError` on a wrong shape."""
        if casing not in ("turkish", "unicode"):
            raise LexiconError(f"casing must be 'turkish' or 'unicode', got {casing!r}")
        skip = re.compile(reserved) if reserved else None
        tables = []
        dropped = 0
        for what, table, where in (("roots", roots, sources[0] if sources else None),
                                   ("affixes", affixes, sources[1] if len(sources) > 1 else None)):
            label = f"{where}: " if where else ""
            if not isinstance(table, Mapping):
                raise LexiconError(
                    f"{label}{what} must be a JSON object mapping surface form -> integer id "
                    f"(e.g. {{\"lar\": 20000, \"ler\": 20000}}), got a {type(table).__name__}")
            if not table:
                raise LexiconError(f"{label}{what} is empty; give at least one surface form -> id entry")
            clean: dict[str, int] = {}
            for surface, ident in table.items():
                if not isinstance(surface, str) or not surface:
                    raise LexiconError(f"{label}{what}: surface form {surface!r} must be a non-empty string")
                if isinstance(ident, bool) or not isinstance(ident, int) or ident < 0:
                    raise LexiconError(f"{label}{what}: the id of {surface!r} must be a non-negative "
                                       f"integer, got {ident!r} ({type(ident).__name__})")
                if skip is not None and skip.fullmatch(surface):
                    dropped += 1
                    continue
                clean[surface] = ident
            tables.append(clean)
        root_ids = {i for s, i in tables[0].items() if not _is_marker(s)}
        affix_ids = {i for s, i in tables[1].items() if not _is_marker(s)}
        shared = sorted(root_ids & affix_ids)
        if shared:
            raise LexiconError(f"{len(shared)} ids are used by both roots and affixes (first: {shared[0]}); "
                               "give each morpheme class its own id")
        return cls(tables[0], tables[1], casing=casing, name=name, sources=sources, reserved=dropped)

    @classmethod
    def from_files(cls, roots: str | Path, affixes: str | Path, *, casing: Casing = "unicode",
                   name: str | None = None, reserved: str | None = RESERVED_PATTERN) -> Lexicon:
        """Load ``roots.json`` and ``affixes.json`` (each a JSON object ``surface → id``)."""
        paths = (Path(roots).expanduser(), Path(affixes).expanduser())
        tables = [_read_json(p) for p in paths]
        return cls.from_dicts(tables[0], tables[1], casing=casing, reserved=reserved,
                              name=name or paths[0].parent.name or "lexicon",
                              sources=tuple(str(p) for p in paths))

    @classmethod
    def from_path(cls, path: str | Path, *, casing: Casing = "unicode",
                  reserved: str | None = RESERVED_PATTERN) -> Lexicon:
        """A folder holding ``roots.json`` + ``affixes.json``, or ``"ROOTS.json,AFFIXES.json"``."""
        text = str(path)
        if "," in text and not Path(text).exists():
            parts = [p.strip() for p in text.split(",")]
            if len(parts) != 2:
                raise LexiconError(f"{text}: give a folder or two files ROOTS.json,AFFIXES.json")
            return cls.from_files(parts[0], parts[1], casing=casing, reserved=reserved)
        folder = Path(text).expanduser()
        if not folder.is_dir():
            raise LexiconError(f"{folder}: not a folder; give a folder with roots.json and affixes.json, "
                               "or ROOTS.json,AFFIXES.json")
        return cls.from_files(folder / "roots.json", folder / "affixes.json", casing=casing, reserved=reserved)

    @classmethod
    def from_turkish_dir(cls, path: str | Path) -> Lexicon:
        """The Turkish lexicon of Bayram et al. (``roots.json``, ``affixes.json``) with Turkish
        casing (``İ↔i``, ``I↔ı``); placeholder slots (:data:`RESERVED_PATTERN`) are dropped."""
        return cls.from_path(path, casing="turkish")

    def __repr__(self) -> str:
        return (f"Lexicon(name={self.name!r}, roots={len(self.roots)}, affixes={len(self.affixes)}, "
                f"casing={self.casing!r})")

    @property
    def n_morphemes(self) -> int:
        return len({i for s, i in self.roots.items() if not _is_marker(s)}
                   | {i for s, i in self.affixes.items() if not _is_marker(s)})

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "sources": list(self.sources), "casing": self.casing,
                "roots": len(self.roots), "affixes": len(self.affixes),
                "morphemes": self.n_morphemes, "reserved_dropped": self.reserved}

    def token_table(self) -> list[tuple[str, str, int]]:
        """``(surface, class, morpheme id)`` per lexicon token, in file order; ``<uppercase>``
        and the space tokens are added (with new ids) when the lexicon lacks them."""
        out: list[tuple[str, str, int]] = []
        seen: set[tuple[str, str]] = set()
        for table, kind in ((self.roots, "root"), (self.affixes, "affix")):
            for surface, ident in table.items():
                cls = "special" if _MARKER.fullmatch(surface) else "space" if surface in _SPACES else kind
                key = (surface, cls if cls in ("special", "space") else kind)
                if key in seen:
                    continue
                seen.add(key)
                out.append((surface, cls, ident))
        next_id = max((i for _, _, i in out), default=-1) + 1
        for surface, cls in ((UPPERCASE, "special"), *((s, "space") for s in _SPACES)):
            if (surface, cls) not in seen:
                out.append((surface, cls, next_id))
                next_id += 1
        return out


def _is_marker(surface: str) -> bool:
    return bool(_MARKER.fullmatch(surface)) or surface in _SPACES


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LexiconError(f"{path}: no such lexicon file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise LexiconError(f"{path}: not valid JSON ({err}); a lexicon file is a JSON object "
                           "surface form -> id") from None
    except OSError as err:
        raise LexiconError(f"{path}: cannot read ({err.strerror})") from None


# ---------------------------------------------------------------------------------- morfessor


def morfessor_lexicon(words: Mapping[str, int], *, max_morphs: int | None = None, seed: int = 0,
                      casing: Casing = "unicode", max_words: int | None = None,
                      max_epochs: int | None = None) -> Lexicon:
    """Learn a lexicon with Morfessor Baseline on word types (each type counted once).

    A word's first morph is a root, the others affixes; each distinct morph gets its own id,
    roots first, most frequent (by token count of the words it occurs in) first; ``max_morphs``
    keeps only that many. ``max_words`` trains on the most frequent word types only and
    ``max_epochs`` caps Morfessor's batch epochs: both bound the training time (Morfessor is pure
    Python, ~2 CPU-minutes on the 1 MB bundled sample without them).
    """
    try:
        import morfessor
    except ImportError:
        raise TrainingError("the morfessor mode needs the 'morfessor' package: pip install morfessor") from None
    import random

    from morfessor import utils as morfessor_utils

    random.seed(seed)  # Morfessor's batch training shuffles with the global generator
    morfessor_utils.show_progress_bar = False  # it writes dots to stderr otherwise
    training = sorted(words) if max_words is None else sorted(
        sorted(words, key=lambda w: (-words[w], w))[:max_words])
    model = morfessor.BaselineModel()
    model.load_data([(1, w) for w in training], count_modifier=lambda _count: 1)
    model.train_batch(max_epochs=max_epochs)
    roots: Counter[str] = Counter()
    affixes: Counter[str] = Counter()
    for word, count in words.items():
        morphs = model.viterbi_segment(word)[0]
        roots[morphs[0]] += count
        for m in morphs[1:]:
            affixes[m] += count
    ranked = [(c, "r", m) for m, c in roots.items()] + [(c, "a", m) for m, c in affixes.items()]
    ranked.sort(key=lambda t: (-t[0], t[1], t[2]))
    if max_morphs is not None:
        ranked = ranked[:max_morphs]
    root_ids: dict[str, int] = {UPPERCASE: 0, " ": 1, "\n": 2, "\t": 3}
    affix_ids: dict[str, int] = {}
    for _, kind, morph in sorted(ranked, key=lambda t: t[1] != "r"):
        (root_ids if kind == "r" else affix_ids)[morph] = len(root_ids) + len(affix_ids)
    return Lexicon(root_ids, affix_ids, casing=casing, name="morfessor")


# ----------------------------------------------------------------------------------- training


@dataclass(eq=False)
class TrainedHybrid(TrainedResult):
    """A trained morphology-hybrid tokenizer (a :class:`~tokbench.results.Result`; ``to_frame()``
    is the vocabulary).

    Attributes:
        tokenizer: the :class:`~tokbench.model.hybrid.HybridTokenizer`; ``save`` writes
            tokbench's ``hybrid`` JSON, which :func:`tokbench.load_tokenizer` reads back.
        lexicon: the lexicon used (given, or learned by Morfessor).
        fallback: the :class:`~tokbench.trainers.bpe.TrainedBPE` of the fallback.
        coverage: word occurrences of the training text fully covered by the lexicon, and all.
    """

    tokenizer: HybridTokenizer
    lexicon: Lexicon
    fallback: Any
    stop_reason: str
    n_word_types: int
    coverage: dict[str, int] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    corpus: dict[str, Any] = field(default_factory=dict)


def _lexicon_for(texts: list[str], *, vocab_size: int, lexicon: Lexicon | str | Path | None, morfessor: bool,
                 casing: Casing | None, max_morphs: int | None, morfessor_words: int | None,
                 morfessor_epochs: int | None, seed: int) -> Lexicon:
    """The given lexicon (loaded when a path), or one Morfessor learns from the texts' words."""
    if not morfessor:
        if isinstance(lexicon, Lexicon):
            return lexicon
        return Lexicon.from_path(lexicon, casing=casing or "unicode")  # type: ignore[arg-type]
    lower = casing or "unicode"
    words: Counter[str] = Counter()
    probe = HybridEncoder(roots={}, affixes={}, spaces={}, uppercase_id=-1, casing=lower)
    for text in texts:
        words.update(lower_word(c, lower) for c, kind, _ in probe.classify(text) if kind == "word")
    cap = max_morphs if max_morphs is not None else max(vocab_size - max(256, vocab_size // 4) - 4, 0)
    return morfessor_lexicon(words, max_morphs=cap, seed=seed, casing=lower, max_words=morfessor_words,
                             max_epochs=morfessor_epochs)


def _analyser(table: list[tuple[str, str, int]], casing: Casing, apostrophe_suffixes: bool) -> HybridEncoder:
    """The lexicon's segmenter over its token table (the first id of a surface form wins)."""
    by_class: dict[str, dict[str, int]] = {"root": {}, "affix": {}, "space": {}, "special": {}}
    for i, (surface, cls, _) in enumerate(table):
        by_class[cls].setdefault(surface, i)
    return HybridEncoder(roots=by_class["root"], affixes=by_class["affix"], spaces=by_class["space"],
                         uppercase_id=by_class["special"][UPPERCASE], casing=casing,
                         apostrophe_suffixes=apostrophe_suffixes)


def _leftovers(texts: list[str], analyser: HybridEncoder) -> tuple[Counter[str], int, int]:
    """What the lexicon leaves uncovered (unknown words, leftovers after the affix chain, digits,
    punctuation), with the words seen and those fully covered."""
    leftovers: Counter[str] = Counter()
    words_total = words_covered = 0
    for text in texts:
        for chunk, kind, suffix in analyser.classify(text):
            if kind == "other":
                leftovers[chunk] += 1
            elif kind == "word":
                rest = [x for x in analyser.word(chunk, suffix=suffix) if isinstance(x, str)]
                words_total += 1
                words_covered += not rest
                leftovers.update(rest)
    return leftovers, words_total, words_covered


def _train_fallback(leftovers: Counter[str], fallback_size: int, n_lex: int, *, min_frequency: int,
                    allow_smaller: bool, progress: bool) -> Any:
    """The byte-level BPE fallback, trained on the leftovers (the bare 256 bytes when nothing is left)."""
    from .bpe import train_bpe

    if leftovers:
        return train_bpe(dict(leftovers), vocab_size=fallback_size, min_frequency=min_frequency,
                         allow_smaller=allow_smaller, progress=progress, name="hybrid-fallback")
    if fallback_size == 256 or allow_smaller:
        return train_bpe({"\x00": 1}, vocab_size=256, progress=False, name="hybrid-fallback")
    raise TrainingError("the lexicon covers the whole corpus: nothing is left to train the BPE "
                        f"fallback on; use vocab_size {n_lex + 256} or allow_smaller=True")


def _check_options(vocab_size: Any, special_tokens: Any, lexicon: Any, morfessor: bool) -> None:
    check_vocab_size(vocab_size)
    if list(special_tokens or ()):
        raise TrainingError("the hybrid trainer takes its special tokens from the lexicon (<name> entries); "
                            "drop --special-token")
    if (lexicon is None) == (not morfessor):
        raise TrainingError("give exactly one of lexicon= (a Lexicon or a folder) and morfessor=True")


def _check_casing(casing: Any) -> None:
    if casing is not None and casing not in ("turkish", "unicode"):
        raise TrainingError(f"casing must be 'turkish' or 'unicode', got {casing!r}")


def train_hybrid(
    corpus: Any,
    *,
    vocab_size: int,
    lexicon: Lexicon | str | Path | None = None,
    morfessor: bool = False,
    casing: Casing | None = None,
    apostrophe_suffixes: bool = True,
    min_frequency: int = 0,
    max_morphs: int | None = None,
    morfessor_words: int | None = None,
    morfessor_epochs: int | None = None,
    allow_smaller: bool = False,
    special_tokens: Any = (),
    seed: int = 0,
    progress: bool = True,
    name: str | None = None,
) -> TrainedHybrid:
    """Train the BPE fallback of a morphology-hybrid tokenizer on what ``lexicon`` leaves uncovered.

    Args:
        corpus: a :class:`~tokbench.corpora.Corpus` or an iterable of texts.
        vocab_size: the total vocabulary: lexicon tokens (one per surface form, markers included)
            plus the fallback (at least its 256 byte tokens).
        lexicon: a :class:`Lexicon`, or a folder / ``"ROOTS.json,AFFIXES.json"`` to load one from.
        morfessor: learn the lexicon with Morfessor Baseline instead (no ``lexicon``); it takes at
            most ``max_morphs`` morphs (default: three quarters of ``vocab_size``).
        morfessor_words, morfessor_epochs: train Morfessor on the most frequent word types only,
            for at most this many epochs (bounds its pure-Python training time).
        casing: ``"turkish"`` or ``"unicode"``; default the lexicon's (Morfessor: unicode).
        apostrophe_suffixes: parse a word after ``word'`` as an affix chain (Turkish ``Ankara'da``).
        min_frequency, allow_smaller: passed to the fallback's :func:`~tokbench.trainers.bpe.train_bpe`.
        special_tokens: accepted for the CLI's common options; must be empty (the lexicon's own
            ``<...>`` entries are the special tokens).

    Example:
        >>> lex = Lexicon.from_dicts({"<uppercase>": 0, " ": 1, "kitap": 2}, {"lar": 3})
        >>> t = train_hybrid(["kitaplar ve kitaplarım"] * 2, lexicon=lex, vocab_size=265,
        ...                  progress=False)
        >>> t.tokenizer.decode(t.tokenizer.encode("Kitaplarım 😀")) == "Kitaplarım 😀"
        True
    """
    _check_options(vocab_size, special_tokens, lexicon, morfessor)
    texts = training_texts(corpus, trainer="the hybrid trainer", keep_blank=True)
    _check_casing(casing)
    lex = _lexicon_for(texts, vocab_size=vocab_size, lexicon=lexicon, morfessor=morfessor, casing=casing,
                       max_morphs=max_morphs, morfessor_words=morfessor_words, morfessor_epochs=morfessor_epochs,
                       seed=seed)
    use_casing: Casing = casing or lex.casing
    table = lex.token_table()
    n_lex = len(table)
    fallback_size = vocab_size - n_lex
    if fallback_size < 256:
        raise TrainingError(
            f"vocab_size {vocab_size} leaves {fallback_size} tokens for the BPE fallback after the "
            f"lexicon's {n_lex:,} surface forms; it needs at least 256 (the bytes): use vocab_size >= "
            f"{n_lex + 256:,}")
    leftovers, words_total, words_covered = _leftovers(texts, _analyser(table, use_casing, apostrophe_suffixes))
    fallback = _train_fallback(leftovers, fallback_size, n_lex, min_frequency=min_frequency,
                               allow_smaller=allow_smaller, progress=progress)
    fb_tok = fallback.tokenizer
    label = name or f"hybrid-{lex.name}-{n_lex + fb_tok.vocab_size}"
    options = {"vocab_size": vocab_size, "lexicon": lex.name, "morfessor": morfessor, "casing": use_casing,
               "apostrophe_suffixes": apostrophe_suffixes, "min_frequency": min_frequency,
               "max_morphs": max_morphs if morfessor else None, "seed": seed if morfessor else None}
    coverage = {"words": words_total, "covered_words": words_covered,
                "leftover_types": len(leftovers), "leftover_occurrences": sum(leftovers.values())}
    data = hybrid_data(tokens=table, fallback_vocab=fb_tok.vocab, fallback_merges=fb_tok.merges or [],
                       casing=use_casing, apostrophe_suffixes=apostrophe_suffixes, name=label,
                       lexicon=lex.describe(), training={**options, **coverage})
    return TrainedHybrid(
        tokenizer=tokenizer_from_hybrid_data(data, name=label, source_format="trained"), lexicon=lex,
        fallback=fallback, stop_reason=fallback.stop_reason, n_word_types=len(leftovers), coverage=coverage,
        options=options, corpus=corpus_description(corpus, words_total, len(leftovers)),
    )
