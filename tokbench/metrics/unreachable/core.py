"""Classify every token of a merge-list tokenizer: which texts, if any, can produce it.

See the package docstring for the classes and the argument behind ``unreachable_merges``. The
order of work: specials and unused ids; ``<0xNN>`` byte-fallback pieces (characters outside the
vocabulary that hold the byte); undecodable bytes; BPE on each token's own bytes (the shadowing
test); the witness search through the reference library; for tokens still without a witness,
the normalizer / added-token / split-pattern proofs of :mod:`.pieces`, then, for tokens cut
inside a character, the neighbour argument of :func:`_edge_neighbours` and a second search.

Example:
    >>> res = unreachable(load_tokenizer("qwen2_tokenizer.json"), ids=[124418])  # doctest: +SKIP
    >>> res.of(124418).cls        # "สุด": its pattern cuts a Thai vowel mark off   # doctest: +SKIP
    'unreachable_pretokenizer'
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ...errors import TokbenchError, UnsupportedTokenizerError
from ...model.bpe import apply_merges
from ...model.encoders import ByteLevelBPE, CharBPE
from ...model.pretokenizers import SPACE_MARK
from ...model.tokenizer import Tokenizer
from ...results import Signature
from .pieces import (
    PatternProof,
    edge_normalizer_problem,
    normalization_form,
    normalizer_problem,
    split_patterns,
)
from .result import TokenVerdict, UnreachableResult
from .utf8 import split_partial, utf8_factor_problem
from .witness import candidate_texts, own_text

__all__ = ["unreachable", "check_tokenizer"]

_NEVER_UTF8 = frozenset([0xC0, 0xC1, *range(0xF5, 0x100)])


@dataclass
class _Subject:
    """What the classifier needs of one tokenizer."""

    tok: Tokenizer
    encoder: ByteLevelBPE | CharBPE
    byte_level: bool
    dummy_prefix: str
    #: The library outputs a whole pretoken that is itself a token without running BPE
    #: (tiktoken always; HF BPE with ``ignore_merges``).
    whole_piece_shortcut: bool
    form: str | None
    proofs: list[PatternProof] = field(default_factory=list)
    #: Added tokens (HF ``added_tokens``, special or not): id -> content.
    added: dict[int, str] = field(default_factory=dict)
    #: Added-token strings cut out of every text the model sees (see :func:`_added_problem`).
    cut_out: list[str] = field(default_factory=list)
    #: Ordinary tokens by bytes, for the neighbour argument of :func:`_edge_neighbours`.
    by_bytes: dict[bytes, int] = field(default_factory=dict)

    def show(self, token_id: int) -> str:
        if token_id in self.tok.byte_fallback_ids:
            return f"<0x{self.tok.vocab[token_id][0]:02X}>"
        return self.tok.vocab[token_id].decode("utf-8", errors="backslashreplace")

    def bpe_alone(self, data: bytes) -> list[int]:
        """The model's BPE on exactly these bytes, as if they were a whole pretoken."""
        if self.byte_level:
            enc = self.encoder
            return apply_merges([enc.byte_ids[b] for b in data], enc.lookup)  # type: ignore[union-attr]
        piece = data.decode("utf-8").replace(" ", SPACE_MARK)
        return apply_merges(self.encoder.base_symbols(piece), self.encoder.lookup)  # type: ignore[union-attr]


def check_tokenizer(tok: Tokenizer) -> None:
    """Raise :class:`UnsupportedTokenizerError` unless :func:`unreachable` can classify ``tok``
    (a BPE model with merges, a reference library and a native byte-level or character encoder).

    Example:
        >>> check_tokenizer(load_tokenizer("bert-base-uncased_wordpiece_tokenizer.json"))  # doctest: +SKIP
        Traceback (most recent call last):
        UnsupportedTokenizerError: ...: unreachable-token detection needs a BPE tokenizer with merges ...
    """
    if tok.kind != "bpe" or not tok.has_merges:
        raise UnsupportedTokenizerError(
            f"{tok.name}: unreachable-token detection needs a BPE tokenizer with merges "
            f"(this one is {tok.kind}); WordPiece and Unigram models have no merge list")
    if tok.reference is None:
        raise UnsupportedTokenizerError(
            f"{tok.name}: no reference library can encode this tokenizer, so witnesses cannot be "
            "checked; load it from a tokenizer.json, .tiktoken or .model file")
    if not isinstance(tok.native, ByteLevelBPE | CharBPE):
        raise UnsupportedTokenizerError(
            f"{tok.name}: unreachable-token detection supports byte-level and character BPE encoders, "
            f"not {type(tok.native).__name__}")


def _subject(tok: Tokenizer) -> _Subject:
    check_tokenizer(tok)
    encoder = tok.native
    assert isinstance(encoder, ByteLevelBPE | CharBPE)  # checked above; narrows the type
    byte_level = isinstance(encoder, ByteLevelBPE)
    normalizer = encoder.normalizer.describe() if encoder.normalizer else None
    dummy = ""
    if not byte_level and encoder.normalizer is not None:
        probe = encoder.normalizer.normalize("x")
        dummy = " " if probe.endswith("x") and probe[:-1] in (SPACE_MARK, " ") else ""
    options = tok.description.get("model_options") or {}
    shortcut = tok.source_format in ("tiktoken", "tekken") or bool(options.get("ignore_merges"))
    patterns = split_patterns(encoder.pretokenizer.describe()) if byte_level else []
    raw = encoder.added.raw[1] if encoder.added.raw else {}
    normalized = encoder.added.normalized[1] if encoder.added.normalized else {}
    added = {i: content for content, i in (*raw.items(), *normalized.items())}
    # A raw added token is matched before normalization, and a normalizer could create its text
    # from other characters; only strings matched on the text the model sees are always cut out.
    cut_out = list(normalized) + (list(raw) if encoder.normalizer is None else [])
    skip = tok.special_ids | tok.unused_ids | tok.byte_fallback_ids | set(added)
    by_bytes = {data: i for i, data in enumerate(tok.vocab) if i not in skip and data}
    return _Subject(tok=tok, encoder=encoder, byte_level=byte_level, dummy_prefix=dummy,
                    whole_piece_shortcut=shortcut, form=normalization_form(normalizer),
                    proofs=[PatternProof(p) for p in patterns], added=added, cut_out=cut_out,
                    by_bytes=by_bytes)


def _search(subject: _Subject, pending: dict[int, Iterator[str]], budget: int) -> dict[int, tuple[str, bool]]:
    """Try candidate texts round by round; ``id -> (witness, encodes to exactly [id])``."""
    found: dict[int, tuple[str, bool]] = {}
    live = dict(pending)
    for _ in range(budget):
        batch: list[tuple[int, str]] = []
        for token_id, texts in list(live.items()):
            text = next(texts, None)
            if text is None:
                del live[token_id]
            else:
                batch.append((token_id, text))
        if not batch:
            break
        encoded = subject.tok.encode_batch([t for _, t in batch], backend="reference")
        for (token_id, text), ids in zip(batch, encoded, strict=True):
            if token_id in ids:
                found[token_id] = (text, ids == [token_id])
                del live[token_id]
    return found


def _byte_fallback_texts(subject: _Subject, ids: Iterable[int]) -> dict[int, list[str]]:
    """For each ``<0xNN>`` piece, characters containing byte NN that are not pieces themselves."""
    wanted = {subject.tok.vocab[i][0]: i for i in ids}
    pieces = subject.encoder.piece_to_id  # type: ignore[union-attr]
    out: dict[int, list[str]] = {i: [] for i in wanted.values()}
    for b, i in wanted.items():
        # The model sees a space as ``▁`` (a piece in every SentencePiece BPE vocabulary).
        if b < 0x80 and chr(b).replace(" ", SPACE_MARK) not in pieces:
            out[i].append(chr(b))
    for cp in range(0x80, 0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        ch = chr(cp)
        if ch in pieces:
            continue
        for b in ch.encode("utf-8"):
            i = wanted.get(b)
            if i is not None and len(out[i]) < 12:
                out[i].append(ch)
    return out


def _classify_byte_fallback(subject: _Subject, ids: Sequence[int], budget: int) -> list[TokenVerdict]:
    if not ids:
        return []
    texts = _byte_fallback_texts(subject, [i for i in ids if subject.tok.vocab[i][0] not in _NEVER_UTF8])
    found = _search(subject, {i: iter(t) for i, t in texts.items()}, budget)
    out = []
    for i in ids:
        b = subject.tok.vocab[i][0]
        if b in _NEVER_UTF8:
            out.append(TokenVerdict(i, subject.show(i), "undecodable", f"byte 0x{b:02X} never occurs in UTF-8"))
        elif i in found:
            out.append(TokenVerdict(i, subject.show(i), "reachable_in_context",
                                    f"byte fallback for {found[i][0]!r}, which is not a piece", found[i][0]))
        elif not texts[i]:
            out.append(TokenVerdict(i, subject.show(i), "unreachable_byte_fallback",
                                    "every character containing this byte is a piece, so the byte is never needed"))
        else:
            out.append(TokenVerdict(i, subject.show(i), "unresolved",
                                    f"no witness among {len(texts[i])} characters outside the vocabulary"))
    return out


def _merges_reason(subject: _Subject, token_id: int, parts: list[int]) -> str:
    shown = " + ".join(repr(subject.show(p)) for p in parts[:8]) + (" + ..." if len(parts) > 8 else "")
    return (f"BPE on its own bytes ends at {shown}: earlier merges shadow the ones that would build "
            "it, and context never helps (see the package docstring)")


def _unproven_reason(subject: _Subject, data: bytes, tried: int) -> tuple[str, str]:
    """Class and reason for a token with no witness whose own bytes BPE-merge to it."""
    head, body, tail = split_partial(data)
    text = body.decode("utf-8")
    if not subject.byte_level:
        text = text.replace(" ", SPACE_MARK)
    problem = normalizer_problem(text, subject.form) or edge_normalizer_problem(head, tail, subject.form)
    if problem:
        return "unreachable_pretokenizer", f"normalizer: {problem}"
    problem = _added_problem(subject, text)
    if problem:
        return "unreachable_pretokenizer", problem
    for proof in subject.proofs:
        if proof.never_in_one_piece(text, head, tail):
            return ("unreachable_pretokenizer",
                    f"no piece of the split pattern {proof.pattern!r} can contain these bytes")
    return "unresolved", f"its bytes merge to it alone, but no witness among {tried} texts and no proof"


def _added_problem(subject: _Subject, text: str) -> str | None:
    """An added-token string inside the token: the text is cut there before the model runs.

    The splitter scans left to right for the leftmost (longest) added string; any occurrence
    inside the token's span is either matched or overlapped by an earlier match, so the span is
    never one stretch of model text.
    """
    for content in subject.cut_out:
        if content and content in text:
            return f"the added token {content!r} is cut out of every text before BPE, and this token contains it"
    return None


def _edge_neighbours(subject: _Subject, token_id: int) -> dict[str, list[bytes]]:
    """For a token cut inside a character: the neighbour pairs that pass the necessary test.

    If ``t`` survives and its last character is incomplete, the final token ``u`` right after it
    holds the next bytes (continuation bytes); no merge crossed the outer edges of ``t u`` (final
    boundaries are never crossed), so by the argument of the package docstring BPE on the bytes
    of ``t u`` alone gives ``[t, u]``. Symmetrically on the left for a token that starts inside a
    character. Returns side -> the joined bytes of every pair passing the test; an empty list on
    a side proves that no text produces ``t``.
    """
    data = subject.tok.vocab[token_id]
    head, _, tail = split_partial(data)
    out: dict[str, list[bytes]] = {}
    for side, needed in (("after", tail), ("before", head)):
        if not needed:
            continue
        out[side] = []
        for u_bytes, u in subject.by_bytes.items():
            if (u_bytes[0] if side == "after" else u_bytes[-1]) < 0x80:
                continue  # an ASCII byte never continues or precedes a partial character
            joined = data + u_bytes if side == "after" else u_bytes + data
            if utf8_factor_problem(joined) is not None:
                continue
            if subject.bpe_alone(joined) == ([token_id, u] if side == "after" else [u, token_id]):
                out[side].append(joined)
    return out


def _first_pass(subject: _Subject, ids: Sequence[int], budget: int) -> tuple[
        dict[int, TokenVerdict], dict[int, list[int]], dict[int, tuple[str, bool]]]:
    """Undecodable tokens, BPE on each token's own bytes, and the witness search."""
    verdicts: dict[int, TokenVerdict] = {}
    blocked: dict[int, list[int]] = {}
    pending: dict[int, Iterator[str]] = {}
    for i in ids:
        data = subject.tok.vocab[i]
        problem = utf8_factor_problem(data)
        if problem is not None:
            verdicts[i] = TokenVerdict(i, subject.show(i), "undecodable", problem)
            continue
        parts = subject.bpe_alone(data)
        if parts != [i]:
            blocked[i] = parts
        pending[i] = candidate_texts(data, dummy_prefix=subject.dummy_prefix)
    return verdicts, blocked, _search(subject, pending, budget)


def _second_pass(subject: _Subject, ids: Sequence[int], budget: int) -> dict[int, TokenVerdict]:
    """Tokens with no witness and no pretokenizer proof: the neighbour argument, then a search
    of texts built from the neighbours that pass it."""
    verdicts: dict[int, TokenVerdict] = {}
    pending: dict[int, Iterator[str]] = {}
    for i in ids:
        data = subject.tok.vocab[i]
        cls, reason = _unproven_reason(subject, data, budget)
        verdicts[i] = TokenVerdict(i, subject.show(i), cls, reason)
        if cls != "unresolved" or not subject.byte_level:
            continue
        sides = _edge_neighbours(subject, i)
        empty = [side for side, joined in sides.items() if not joined]
        if empty:
            verdicts[i] = TokenVerdict(i, subject.show(i), "unreachable_merges", (
                f"its partial character is always continued by the token {empty[0]} it, and with every "
                f"vocabulary token that can stand {empty[0]} it, BPE merges across the two"))
        else:
            pairs = [j for joined in sides.values() for j in joined[:16]]
            pending[i] = itertools.chain.from_iterable(
                itertools.islice(candidate_texts(j, dummy_prefix=""), 9) for j in pairs)
    for i, (witness, _) in _search(subject, pending, budget).items():
        verdicts[i] = TokenVerdict(i, subject.show(i), "reachable_in_context",
                                   "produced inside a longer text (see witness)", witness)
    return verdicts


def _classify_ordinary(subject: _Subject, ids: Sequence[int], budget: int) -> tuple[list[TokenVerdict], list[str]]:
    tok = subject.tok
    verdicts, blocked, found = _first_pass(subject, ids, budget)
    notes, rest = [], []
    for i in ids:
        if i in verdicts:
            continue
        if i in found:
            witness, exact = found[i]
            own = own_text(tok.vocab[i], dummy_prefix=subject.dummy_prefix)
            alone = exact and witness == own
            if i in blocked and not (alone and subject.whole_piece_shortcut):
                notes.append(f"id {i} ({subject.show(i)!r}): produced on {witness!r} although BPE on its "
                             "bytes does not build it; the shadowing argument does not hold here")
            cls = "reachable_alone" if alone else "reachable_in_context"
            reason = ("its own text encodes to exactly this token" if alone
                      else "produced inside a longer text (see witness)")
            verdicts[i] = TokenVerdict(i, subject.show(i), cls, reason, witness)
        elif i in blocked:
            verdicts[i] = TokenVerdict(i, subject.show(i), "unreachable_merges", _merges_reason(subject, i, blocked[i]))
        else:
            rest.append(i)
    verdicts.update(_second_pass(subject, rest, budget))
    return [verdicts[i] for i in ids], notes


def unreachable(tokenizer: Tokenizer, *, ids: Iterable[int] | None = None, budget: int = 400) -> UnreachableResult:
    """Classify every id of ``tokenizer`` (or only ``ids``); see the package docstring.

    ``budget`` caps the candidate texts tried per token (rounds of the reference library).
    """
    if budget < 1:
        raise TokbenchError(f"budget must be at least 1 candidate text per token, got {budget}")
    start = time.perf_counter()
    subject = _subject(tokenizer)
    tok = tokenizer
    chosen = sorted(set(range(tok.vocab_size) if ids is None else ids))
    bad = [i for i in chosen if not 0 <= i < tok.vocab_size]
    if bad:
        raise TokbenchError(f"ids {bad[:5]} are outside the vocabulary (0..{tok.vocab_size - 1})")
    specials, fallback = tok.special_ids, tok.byte_fallback_ids
    verdicts: list[TokenVerdict] = []
    ordinary, bytes_ids = [], []
    for i in chosen:
        if i in tok.unused_ids or not tok.vocab[i]:
            verdicts.append(TokenVerdict(i, "", "unused", "no token at this id (a gap in the id space)"))
        elif i in specials or i in subject.added:
            what = "special token" if i in specials else "added token (not special)"
            verdicts.append(TokenVerdict(i, subject.show(i), "special",
                                         f"{what}: matched verbatim in the text, or only on request; never built by merges"))
        elif i in fallback:
            bytes_ids.append(i)
        else:
            ordinary.append(i)
    verdicts += _classify_byte_fallback(subject, bytes_ids, budget)
    found, notes = _classify_ordinary(subject, ordinary, budget)
    verdicts += found
    verdicts.sort(key=lambda v: v.id)
    options = tok.description.get("model_options") or {}
    if options.get("dropout"):
        notes.append(f"the file sets BPE dropout {options['dropout']}: the classes assume dropout off "
                     "(the reference library then encodes at random)")
    signature = Signature(tokenizers={tok.name: tok.fingerprint},
                          options={"budget": budget, "ids": None if ids is None else len(chosen)})
    return UnreachableResult(tokenizer=tok.name, vocab_size=tok.vocab_size, verdicts=verdicts,
                             signature=signature, seconds=time.perf_counter() - start, notes=notes)
