"""SentencePiece's training-time splitting: the sub-pieces within which its BPE trainer may merge.

SentencePiece's BPE trainer (``bpe_model_trainer.cc``, ``Trainer::GetPairSymbol``) counts a pair
of adjacent symbols only when their concatenation passes ``TrainerInterface::IsValidSentencePiece``
(``trainer_interface.cc``); pairs that fail are never counted and never merged. At inference the
same models only split on whitespace, so a pair-count trace built from the inference pipeline
(:mod:`tokbench.attacks.mixture.traces`) counts pairs that training could never have merged — across a
script change (``"a,"``, ``"日。"``), next to a digit with ``split_digits`` — and they act as
spurious competitors in the mixture LP (Hayase et al. 2024). This module reproduces the rules as
cut points, so that symbols on either side of a cut are never adjacent in a word table.

The rules, with the trainer-spec field that controls each (defaults in brackets):

* sentences are input lines (``TrainerInterface::LoadSentences``): a newline never joins
  anything, each line gets its own dummy-prefix ``▁``; lines longer than ``max_sentence_length``
  bytes [4192] and lines containing the reserved ``▅`` (U+2585) are skipped;
* meta pieces in the normalized text (``<unk>``, ``<s>``, user-defined and ``<0xNN>`` pieces) and
  ``pretokenization_delimiter`` become a tab, and tabs, NUL and invalid code points never merge;
* characters outside the trained alphabet (``character_coverage``) become ``▅``, which never
  merges: here, every character that is not a single-character piece of the vocabulary (the
  ones byte fallback spells as bytes);
* ``split_by_whitespace`` [true] (``SplitIntoWords``): words start at ``▁``; ``▁`` may only begin
  a piece, or with ``allow_whitespace_only_pieces`` [false] a piece may be all ``▁``;
  ``treat_whitespace_as_suffix`` [false] mirrors both;
* ``split_by_unicode_script`` [true]: no piece mixes scripts (Unicode ``Script`` property, not
  ``Script_Extensions``; unlisted characters are Common). Hiragana, Katakana and U+30FC ``ー``
  count as Han; Inherited characters (combining marks) take the script before them; ``▁`` has
  none. Common (punctuation, symbols, ASCII digits) is a script of its own: ``"a,"`` is invalid;
* ``split_by_number`` [true]: when false, decimal digits (ASCII and fullwidth only) join any
  script and restart the script check;
* ``split_digits`` [false]: a decimal digit is always a piece on its own (even ``"▁1"`` is
  invalid).

Where the trainer's rule is not a cut between two characters, the split cannot express it:
with ``allow_whitespace_only_pieces`` a run of ``▁`` stays in one word with what follows (as in
``SplitIntoWords``): the run's last ``▁`` may join the word only while it is not merged into a
run symbol — a rule on symbols, so pairs such as ``("▁▁▁▁", "x")`` are still counted (splitting
the run off instead miscounts the valid pairs; ``run_shares_space`` selects that variant). An
Inherited character keeps the script of the character before it even when it starts a symbol;
``max_sentencepiece_length`` [16] limits pieces, not positions. Both are rules on symbols, so
:meth:`TrainingSplitter.is_valid` checks a candidate piece against all the rules, and
:func:`pair_validity` hands that check to the mixture LP, which drops such pairs from the
competitors (on a model trained on FLORES + Python, the merged pair is then the most frequent
candidate at 100 % of the steps, against 7 % over all counted pairs). With
``split_by_whitespace=false`` no ``▁`` cuts are made. The script table is the ``regex``
module's (a newer Unicode than sentencepiece's own table; they differ only on recently assigned
characters).

Why hand-written: ``sentencepiece`` has no API for its training-time splitting — it happens
inside ``SentencePieceTrainer.train`` — so the facts above, read from its sources, are
reimplemented here; tests check them against pieces of real models and against the merges of
freshly trained ones.

Example:
    >>> split = TrainingSplitter(TrainerRules(split_digits=True, allow_whitespace_only_pieces=True))
    >>> split("▁東京タワーは1958年、")
    ['▁東京タワーは', '1', '9', '5', '8', '年', '、']
    >>> split("▁Hello,▁world!▁▁▁x")
    ['▁Hello', ',', '▁world', '!', '▁▁▁x']
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.pretokenizers import SPACE_MARK

if TYPE_CHECKING:
    from ..model.tokenizer import Tokenizer

__all__ = ["TrainerRules", "TrainingSplitter", "training_splitter", "training_sentences", "is_sentencepiece_style",
           "pair_validity"]

UNK_CHAR = "\u2585"  # kUNKChar: rare characters become this; sentences containing it are skipped
BOUNDARY = "\t"  # kUPPBoundaryChar: meta pieces and delimiters become this; never merges
ANY = -1  # kAnyType: a character that any script may follow

_DIGITS = frozenset("0123456789" + "".join(chr(0xFF10 + i) for i in range(10)))
#: Characters the trainer never merges with anything (surrogates, i.e. invalid code points, too).
_NEVER_MERGES = frozenset((BOUNDARY, UNK_CHAR, "\x00", " "))


@dataclass(frozen=True)
class TrainerRules:
    """The ``TrainerSpec`` fields that decide which pairs SentencePiece's trainer may merge."""

    split_by_unicode_script: bool = True
    split_by_number: bool = True
    split_by_whitespace: bool = True
    split_digits: bool = False
    treat_whitespace_as_suffix: bool = False
    allow_whitespace_only_pieces: bool = False
    max_sentencepiece_length: int = 16
    max_sentence_length: int = 4192
    pretokenization_delimiter: str = ""
    #: Where the values came from: ``"trainer_spec"`` or ``"defaults"`` (+ what the vocabulary showed).
    source: str = field(default="defaults", compare=False)

    @classmethod
    def from_model_proto(cls, data: bytes) -> TrainerRules:
        """Read the trainer spec of a serialized SentencePiece ``ModelProto``."""
        from ..formats.protobuf import iter_fields

        bools = {21: "split_by_unicode_script", 23: "split_by_number", 22: "split_by_whitespace",
                 25: "split_digits", 24: "treat_whitespace_as_suffix", 26: "allow_whitespace_only_pieces"}
        ints = {20: "max_sentencepiece_length", 18: "max_sentence_length"}
        values: dict[str, Any] = {}
        for number, _wire, value in iter_fields(data):
            if number != 2 or not isinstance(value, bytes):
                continue
            for n, _w, v in iter_fields(value):
                if n in bools and isinstance(v, int):
                    values[bools[n]] = bool(v)
                elif n in ints and isinstance(v, int):
                    values[ints[n]] = v
                elif n == 53 and isinstance(v, bytes):
                    values["pretokenization_delimiter"] = v.decode("utf-8")
        return cls(**values, source="trainer_spec")

    @classmethod
    def from_vocabulary(cls, pieces: Iterable[str]) -> TrainerRules:
        """Defaults, with what a vocabulary without a trainer spec shows (HF conversions):
        ``split_digits`` when no multi-character piece holds a digit, ``allow_whitespace_only_pieces``
        when some piece is two or more ``▁``, and a length cap no smaller than the longest piece."""
        has_digit_piece = has_space_run = False
        longest = 0
        for p in pieces:
            if len(p) > 1 and not (p.startswith("<") and p.endswith(">")):
                longest = max(longest, len(p))
                has_digit_piece = has_digit_piece or any(c in _DIGITS for c in p)
                has_space_run = has_space_run or p == SPACE_MARK * len(p)
        return cls(split_digits=not has_digit_piece, allow_whitespace_only_pieces=has_space_run,
                   max_sentencepiece_length=max(16, longest), source="defaults+vocabulary")


# ----------------------------------------------------------------------------------- scripts


@lru_cache(maxsize=1)
def _script_table() -> tuple[Any, int, int, int, int, frozenset[int]]:
    """A regex whose matching group names a character's Script, and the ids that matter."""
    import regex
    import regex._regex as _r  # the Unicode tables regex compiles \p{Script=...} from

    aliases: dict[str, int] = dict(_r.get_properties()["SCRIPT"][1])
    by_id: dict[int, str] = {}
    for alias, sid in aliases.items():
        by_id.setdefault(sid, alias)
    pattern = regex.compile("|".join(rf"(?P<s{sid}>\p{{Script={name}}})" for sid, name in sorted(by_id.items())))
    han_like = frozenset(aliases[n] for n in ("HIRAGANA", "KATAKANA"))
    return pattern, aliases["UNKNOWN"], aliases["COMMON"], aliases["INHERITED"], aliases["HAN"], han_like


_SCRIPT_CACHE: dict[str, int] = {}
INHERITED = -2


def script_class(ch: str) -> int:
    """SentencePiece's script of one character: an id, with Hiragana/Katakana/``ー`` as Han,
    unassigned as Common, and :data:`INHERITED` for combining marks."""
    sid = _SCRIPT_CACHE.get(ch)
    if sid is None:
        pattern, unknown, common, inherited, han, han_like = _script_table()
        m = pattern.match(ch)
        sid = int(m.lastgroup[1:]) if m and m.lastgroup else unknown
        if sid in han_like or ch == "\u30fc":
            sid = han
        elif sid == unknown:
            sid = common
        elif sid == inherited:
            sid = INHERITED
        _SCRIPT_CACHE[ch] = sid
    return sid


# ------------------------------------------------------------------------------- splitting


def training_sentences(text: str, rules: TrainerRules) -> Iterator[str]:
    """The lines of ``text`` that SentencePiece's trainer would load (raw, before normalization)."""
    for line in text.split("\n"):
        if line and len(line.encode("utf-8", errors="surrogatepass")) <= rules.max_sentence_length \
                and UNK_CHAR not in line:
            yield line


class TrainingSplitter:
    """Split a ``▁``-escaped piece into the sub-pieces within which SentencePiece's BPE trainer
    could merge (see the module docstring). Characters that can never merge (outside
    ``known_chars``, meta pieces, tabs) are dropped.

    ``known_chars``: the trained alphabet (single-character pieces); ``None`` means every
    character. ``meta_pieces``: strings the trainer replaces by a boundary (``<s>``, user-defined
    pieces, ``<0xNN>``...).
    """

    def __init__(self, rules: TrainerRules, *, known_chars: Iterable[str] | None = None,
                 meta_pieces: Iterable[str] = (), run_shares_space: Callable[[int], bool] | bool | None = None):
        import regex

        self.rules = rules
        self.run_shares_space = run_shares_space
        self.known = frozenset(known_chars) if known_chars is not None else None
        metas = sorted({m for m in meta_pieces if m}, key=len, reverse=True)
        if rules.pretokenization_delimiter:
            metas.insert(0, rules.pretokenization_delimiter)
        self._meta = regex.compile("|".join(regex.escape(m) for m in metas)) if metas else None
        ws = regex.escape(SPACE_MARK)
        if not rules.split_by_whitespace:
            self._words = None
        elif rules.treat_whitespace_as_suffix:
            self._words = regex.compile(rf"[^{ws}]*{ws}+|[^{ws}]+" if rules.allow_whitespace_only_pieces
                                        else rf"[^{ws}]*{ws}|[^{ws}]+")
        else:
            self._words = regex.compile(rf"{ws}+[^{ws}]*|[^{ws}]+" if rules.allow_whitespace_only_pieces
                                        else rf"{ws}[^{ws}]*|[^{ws}]+")
        self._cache: dict[str, list[str]] = {}

    def __call__(self, piece: str) -> list[str]:
        if self._meta is not None:
            piece = self._meta.sub(BOUNDARY, piece)
        words = [piece] if self._words is None else self._words.findall(piece)
        out: list[str] = []
        for word in words:
            cached = self._cache.get(word)
            if cached is None:
                cached = self._split_word(word)
                if len(self._cache) < 500_000:
                    self._cache[word] = cached
            out.extend(cached)
        return out

    def is_valid(self, piece: str) -> bool:
        """Whether the trainer could create ``piece`` (``IsValidSentencePiece``): within the
        length cap, ``▁`` only where the whitespace mode puts it (a run of ``▁`` is a piece of
        its own, never part of a word), and one sub-piece under the script, digit and alphabet
        rules. These are the rules on *symbols* that a split of the text cannot express.

        >>> TrainingSplitter(TrainerRules(allow_whitespace_only_pieces=True)).is_valid("▁▁▁x")
        False
        """
        r = self.rules
        if not piece or len(piece) > r.max_sentencepiece_length:
            return False
        if r.split_by_whitespace and SPACE_MARK in piece:
            body = piece.rstrip(SPACE_MARK) if r.treat_whitespace_as_suffix else piece.lstrip(SPACE_MARK)
            n_space = len(piece) - len(body)
            if SPACE_MARK in body or (n_space > 1 and (body or not r.allow_whitespace_only_pieces)):
                return False
        return self(piece) == [piece]

    # A word here is one SplitIntoWords word (or a whole piece when whitespace does not split).
    def _split_word(self, word: str) -> list[str]:
        r = self.rules
        if r.split_by_whitespace and r.allow_whitespace_only_pieces and len(word) > 2:
            split = self._split_space_run(word)
            if split is not None:
                return split
        if word and word == SPACE_MARK * len(word):
            return [word] if r.allow_whitespace_only_pieces or len(word) == 1 else list(word)
        return self._split_by_rules(word)

    def _split_space_run(self, word: str) -> list[str] | None:
        """A run of n ``▁`` and a word (one SplitIntoWords word). By default (``run_shares_space``
        None) they stay one word, as in training: a lone ``▁`` of the run may join the word, a
        merged run may not — a rule on symbols, not positions, so such pairs are still counted
        (returns None). Otherwise the run becomes a piece of its own and the word gets one of
        its ``▁`` (the last in prefix mode, the first in suffix mode) when ``run_shares_space(n)``."""
        r = self.rules
        body = word.rstrip(SPACE_MARK) if r.treat_whitespace_as_suffix else word.lstrip(SPACE_MARK)
        n_space = len(word) - len(body)
        if not body or n_space <= 1 or self.run_shares_space is None:
            return None
        share = self.run_shares_space
        k = 1 if (share(n_space) if callable(share) else share) else 0
        if r.treat_whitespace_as_suffix:
            return self._split_word(word[: len(body) + k]) + [word[len(body) + k:]]
        return [word[: n_space - k]] + self._split_word(word[n_space - k:])

    def _split_by_rules(self, word: str) -> list[str]:
        """Cut ``word`` where the alphabet, whitespace, digit and script rules forbid a merge."""
        r, known = self.rules, self.known
        out: list[str] = []
        cur: list[str] = []
        prev = ANY  # script of the last non-▁ character of the current sub-piece
        for ch in word:
            if ch in _NEVER_MERGES or "\ud800" <= ch <= "\udfff" or (known is not None and ch not in known):
                prev = _close(out, cur)
            elif ch == SPACE_MARK:
                prev = self._add_space_mark(out, cur, prev)
            elif ch in _DIGITS and r.split_digits:
                prev = _close(out, cur)
                out.append(ch)
            else:
                script = self._script_after(ch, prev)
                if r.split_by_unicode_script and script != ANY and prev != ANY and script != prev:
                    _close(out, cur)
                    script = self._script_after(ch, ANY)  # a new sub-piece: Inherited is no script
                cur.append(ch)
                prev = script
        _close(out, cur)
        return out

    def _add_space_mark(self, out: list[str], cur: list[str], prev: int) -> int:
        """Prefix mode: ``▁`` begins a piece; suffix mode: it ends one (SplitIntoWords has
        already put it at the word's edge, so cut only what the mode forbids). Returns the
        script the next character follows."""
        r = self.rules
        if r.split_by_whitespace and not r.treat_whitespace_as_suffix:
            if not (r.allow_whitespace_only_pieces and cur and cur[-1] == SPACE_MARK):
                prev = _close(out, cur)
            cur.append(SPACE_MARK)
            return prev
        cur.append(SPACE_MARK)
        return _close(out, cur) if r.split_by_whitespace else prev

    def _script_after(self, ch: str, prev: int) -> int:
        """The script ``ch`` counts as after a character of script ``prev``: Inherited takes
        ``prev``; without ``split_by_number`` a digit joins any script."""
        script = script_class(ch)
        if script == INHERITED:
            script = prev
        if ch in _DIGITS and not self.rules.split_by_number:
            script = ANY
        return script


def _close(out: list[str], cur: list[str]) -> int:
    """End the current sub-piece (if any); the next character follows no script."""
    if cur:
        out.append("".join(cur))
        cur.clear()
    return ANY


def is_sentencepiece_style(tok: Tokenizer) -> bool:
    """Whether ``tok`` is a SentencePiece model or a conversion of one (its pipeline escapes
    spaces as ``▁``), i.e. whether SentencePiece's trainer rules apply. Character-level BPE
    trained by tokbench (:mod:`tokbench.trainers.char_bpe`) is not."""
    if tok.source_format == "sentencepiece":
        return True
    enc = tok.native
    if not hasattr(enc, "segments") or not hasattr(enc, "split_segment"):
        return False
    pieces = [p for k, (seg, tid) in enumerate(enc.segments("a b")) if tid is None
              for p in enc.split_segment(seg, k == 0)]
    return SPACE_MARK in "".join(pieces)


def _model_pieces(tok: Tokenizer) -> list[tuple[str, int]] | None:
    """``(piece, type)`` of a SentencePiece ``.model`` tokenizer, else None."""
    if tok.source_format != "sentencepiece" or not tok.source_paths:
        return None
    from ..formats.sentencepiece_model import read_model_proto

    return [(p, t) for p, _, t in read_model_proto(Path(tok.source_paths[0]).read_bytes())["pieces"]]


def training_splitter(tok: Tokenizer, **overrides: Any) -> TrainingSplitter:
    """The :class:`TrainingSplitter` of a SentencePiece-style BPE tokenizer (``.rules`` says
    which rules it applies); ``overrides`` replace rules (for experiments and tests).

    A ``.model`` file gives its trainer spec and piece types; other files (HF conversions such as
    Llama's ``tokenizer.json``) get SentencePiece's defaults plus what their vocabulary shows
    (:meth:`TrainerRules.from_vocabulary`). The alphabet is the vocabulary's single-character
    pieces; meta pieces are the special, user-defined and byte pieces.
    """
    from ..formats.sentencepiece_model import BYTE, CONTROL, NORMAL, UNKNOWN, USER_DEFINED

    pieces = _model_pieces(tok)
    if pieces is not None:
        rules = TrainerRules.from_model_proto(Path(tok.source_paths[0]).read_bytes())
        known = [p for p, t in pieces if t == NORMAL and len(p) == 1]
        metas = [p for p, t in pieces if t in (UNKNOWN, CONTROL, USER_DEFINED, BYTE)]
    else:
        strings = list(getattr(tok.native, "piece_to_id", {}))
        rules = TrainerRules.from_vocabulary(strings)
        special = set(tok.special_tokens)
        known = [p for p in strings if len(p) == 1 and p not in special]
        metas = [p for p in strings if p in special or (len(p) == 6 and p.startswith("<0x") and p.endswith(">"))]
    if overrides:
        rules = replace(rules, **overrides)
    return TrainingSplitter(rules, known_chars=known, meta_pieces=metas)


def pair_validity(tok: Tokenizer) -> Callable[[int, int], bool] | None:
    """For a SentencePiece-style tokenizer, ``valid(left_id, right_id)``: whether its trainer
    could merge the two symbols (:meth:`TrainingSplitter.is_valid` of their concatenation);
    ``None`` for other tokenizers (every pair is a candidate)."""
    if not is_sentencepiece_style(tok):
        return None
    splitter = training_splitter(tok)
    pieces = {i: p for p, i in getattr(tok.native, "piece_to_id", {}).items()}

    def valid(left: int, right: int) -> bool:
        a, b = pieces.get(left), pieces.get(right)
        return a is not None and b is not None and splitter.is_valid(a + b)

    return valid
