"""SentencePiece ``.model`` files (BPE and Unigram).

The protobuf is read directly (:mod:`tokbench.formats.protobuf`) for the pieces, their scores
and types, and the trainer/normalizer settings; ``sentencepiece`` is the reference encoder.
Loading decodes the pieces with numpy (:func:`read_model_columns`, ~8 ms for 32,000 pieces;
the readable reader :func:`read_model_proto` took 0.2 s) and leaves the charsmap as a blob until
the native encoder walks it.
Pieces become bytes with ``▁`` as a space and ``<0xNN>`` byte-fallback pieces as their byte.
Saving writes Llama's ``tokenizer.json`` layout (:func:`sentencepiece_bpe_json`). For BPE models the
merge list is recovered from the scores: a piece's score is minus its creation order, so the
pieces sorted by score are the merges in order, and each piece's merge is the split BPE itself
produces when it may use only better-scored pieces.

tokbench's native encoder follows SentencePiece's BPE: escape spaces as ``▁`` (with a dummy
prefix), start a new word at each ``▁``, merge the adjacent pair whose concatenation is the
highest-scored piece (leftmost on ties), and spell unknown characters as byte pieces; Unigram
models run sentencepiece's Viterbi (:mod:`tokbench.model.unigram`). Both start from
sentencepiece's normalizer with the model's precompiled character map (:mod:`tokbench.model.charsmap`).

Example:
    >>> tok = load_sentencepiece("mistral_v1.model")   # doctest: +SKIP
    >>> tok.kind, tok.vocab_size                        # doctest: +SKIP
    ('bpe', 32000)
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import TokbenchError, TokenizerFormatError, UnsupportedTokenizerError
from ..model.bpe import concat_rank_lookup
from ..model.charsmap import CharsMap
from ..model.charsmap import SentencePieceNormalizer as CharsMapNormalizer
from ..model.encoders import CharBPE, UnigramEncoder
from ..model.merges import recover_merges
from ..model.pretokenizers import SPACE_MARK, SentencePieceWords
from ..model.references import SentencePieceReference
from ..model.tokenizer import Tokenizer
from ..model.unigram import UnigramModel
from .hf_json import piece_to_bytes
from .protobuf import ProtobufError, as_float, iter_fields, record_chain
from .tokenizer_json import bpe_tokenizer_json

__all__ = [
    "load_sentencepiece",
    "read_model_proto",
    "read_model_columns",
    "piece_strings",
    "check_pieces",
    "sentencepiece_merges",
    "sentencepiece_bpe_json",
    "SentencePieceNormalizer",
    "NORMAL", "UNKNOWN", "CONTROL", "USER_DEFINED", "UNUSED", "BYTE",
]

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}


@dataclass(frozen=True)
class SentencePieceNormalizer:
    """Whitespace handling of SentencePiece's identity normalizer, then ``▁`` escaping."""

    add_dummy_prefix: bool = True
    remove_extra_whitespaces: bool = True
    escape_whitespaces: bool = True

    def normalize(self, text: str) -> str:
        if self.remove_extra_whitespaces:
            text = " ".join(part for part in text.split(" ") if part)
        if self.add_dummy_prefix and text:
            text = " " + text
        if self.escape_whitespaces:
            text = text.replace(" ", SPACE_MARK)
        return text

    def describe(self) -> dict[str, Any]:
        return {"type": "SentencePiece", "add_dummy_prefix": self.add_dummy_prefix,
                "remove_extra_whitespaces": self.remove_extra_whitespaces}


def read_model_proto(data: bytes) -> dict[str, Any]:
    """Pieces ``[(piece, score, type)]``, trainer spec and normalizer spec of a ModelProto.

    The readable reader, one field at a time; :func:`read_model_columns` is the fast one.
    """
    return _read_fields(iter_fields(data))


def _read_fields(fields: Iterable[tuple[int, int, int | bytes]]) -> dict[str, Any]:
    """:func:`read_model_proto` of a ModelProto's top-level fields."""
    pieces: list[tuple[str, float, int]] = []
    trainer: dict[str, Any] = {"model_type": 1, "byte_fallback": False, "allow_whitespace_only_pieces": False}
    normalizer: dict[str, Any] = {"name": "nmt_nfkc", "add_dummy_prefix": True,
                                  "remove_extra_whitespaces": True, "escape_whitespaces": True,
                                  "precompiled_charsmap": b""}
    seen: set[int] = set()
    for number, _wire, value in fields:
        seen.add(number)
        if number == 1 and isinstance(value, bytes):
            pieces.append(_read_piece(value, len(pieces)))
        elif number == 2 and isinstance(value, bytes):
            _read_trainer_spec(value, trainer)
        elif number == 3 and isinstance(value, bytes):
            _read_normalizer_spec(value, normalizer)
    # Every model sentencepiece writes has both specs after the pieces; a file cut short at a
    # piece boundary still parses, so their absence is how truncation shows.
    missing = [name for number, name in ((2, "trainer_spec"), (3, "normalizer_spec")) if number not in seen]
    if missing:
        raise ProtobufError(f"no {' and no '.join(missing)} (the file looks truncated)")
    return {"pieces": pieces, "trainer": trainer, "normalizer": normalizer}


def _read_trainer_spec(message: bytes, trainer: dict[str, Any]) -> None:
    """The TrainerSpec settings tokbench uses (model type, whitespace pieces, byte fallback)."""
    for n, _w, v in iter_fields(message):
        if n == 3:
            trainer["model_type"] = v
        elif n == 26:
            trainer["allow_whitespace_only_pieces"] = bool(v)
        elif n == 35:
            trainer["byte_fallback"] = bool(v)


def _read_normalizer_spec(message: bytes, normalizer: dict[str, Any]) -> None:
    """The NormalizerSpec: rule name, precompiled map and whitespace handling."""
    for n, _w, v in iter_fields(message):
        if n == 1 and isinstance(v, bytes):
            normalizer["name"] = v.decode("utf-8")
        elif n == 2 and isinstance(v, bytes):
            normalizer["precompiled_charsmap"] = v
        elif n == 3:
            normalizer["add_dummy_prefix"] = bool(v)
        elif n == 4:
            normalizer["remove_extra_whitespaces"] = bool(v)
        elif n == 5:
            normalizer["escape_whitespaces"] = bool(v)


def _read_piece(message: bytes, index: int) -> tuple[str, float, int]:
    """One ``SentencePiece`` message: (piece, score, type)."""
    piece, score, kind = "", 0.0, NORMAL
    for n, w, v in iter_fields(message):
        if n == 1 and isinstance(v, bytes):
            piece = v.decode("utf-8")
        elif n == 2:
            if w != 5:
                raise ProtobufError(f"piece {index}: score has wire type {w}, expected a 32-bit float")
            score = as_float(v)  # type: ignore[arg-type]
        elif n == 3 and isinstance(v, int):
            kind = v
    return piece, score, kind


def read_model_columns(data: bytes) -> dict[str, Any]:
    """:func:`read_model_proto` as columns, decoded with numpy: ``raw`` (each piece's UTF-8
    bytes; :func:`piece_strings` gives them as str, decoded on first use), ``scores`` (float32
    array), ``types`` (int64 array), ``vocab`` (each piece's bytes as
    :func:`tokbench.formats.hf_json.piece_to_bytes` gives them; control and unknown pieces as
    their UTF-8 text), ``trainer``, ``normalizer``. Every piece is checked to be UTF-8 here.

    Pieces sentencepiece writes are short records of one layout (text, score, optional type); the
    leading run of those is decoded at once (:func:`tokbench.formats.protobuf.record_chain`),
    the specs after it by :func:`iter_fields`. Anything else (a longer piece, fields in another
    order or repeated, a NUL inside a piece) makes the whole file go through
    :func:`read_model_proto`, the readable reader, so both give the same result.

    Example:
        >>> piece_strings(read_model_columns(open("mistral_v1.model", "rb").read()))[:3]  # doctest: +SKIP
        ['<unk>', '<s>', '</s>']
    """
    return _columns(data, _padded(data))


def _padded(data: bytes) -> Any:
    """``data`` as a private uint8 array followed by :data:`_PAD` zero bytes."""
    d = np.empty(len(data) + _PAD, np.uint8)
    d[: len(data)] = np.frombuffer(data, np.uint8)
    d[len(data):] = 0
    return d


def _columns(data: Any, d: Any) -> dict[str, Any]:
    """:func:`read_model_columns` of ``data`` (bytes or a buffer) given as ``d`` too, padded."""
    starts, ends = record_chain(d[: len(data)], accept=lambda starts: _regular_pieces(d, starts))
    fast = _fast_pieces(data, d, starts, ends) if starts.size else None
    spec_fields: list[tuple[int, int, int | bytes]] = []
    if fast is not None:
        try:
            spec_fields = list(iter_fields(bytes(data[int(ends[-1]):])))
        except ProtobufError:
            fast = None  # the readable reader reports it, as it would have without the fast path
    if fast is None or any(number == 1 for number, _, _ in spec_fields):
        proto = read_model_proto(bytes(data))
        pieces = proto["pieces"]
        types = np.array([t for _, _, t in pieces], np.int64)
        vocab = [p.encode("utf-8") if t in (CONTROL, UNKNOWN) else piece_to_bytes(p) for p, _, t in pieces]
        return {"strings": [p for p, _, _ in pieces], "raw": [p.encode("utf-8") for p, _, _ in pieces],
                "scores": np.array([s for _, s, _ in pieces], np.float32), "types": types, "vocab": vocab,
                "trainer": proto["trainer"], "normalizer": proto["normalizer"]}
    text, raw, vocab, scores, types = fast
    proto = _read_fields(spec_fields)
    return {"text": text, "raw": raw, "scores": scores, "types": types, "vocab": vocab,
            "trainer": proto["trainer"], "normalizer": proto["normalizer"]}


def piece_strings(columns: dict[str, Any]) -> list[str]:
    """The pieces of :func:`read_model_columns` as str (split from the decoded text once, then kept)."""
    if "strings" not in columns:
        columns["strings"] = columns["text"].split("\0")[:-1]
    return columns["strings"]


def _regular_pieces(padded: Any, starts: Any) -> Any:
    """Which ``starts`` open a piece record ``0A len 0A n <n bytes> 15 <float32> [18 type]``
    with one-byte lengths, the layout sentencepiece writes; ``padded`` is the file's bytes with
    :data:`_PAD` zero bytes after them, so that no index needs clipping."""
    starts = starts[padded[starts + 2] == 0x0A]
    length = padded[starts + 1].astype(np.int64)
    text_len = padded[starts + 3].astype(np.int64)
    text_end = starts + 4 + text_len
    fits = (text_len < 0x80) & (padded[text_end] == 0x15)
    typed = (length == text_len + 9) & (padded[text_end + 5] == 0x18) & (padded[text_end + 6] < 0x80)
    return starts[fits & ((length == text_len + 7) | typed)]


#: Zero bytes after the data: a record with one-byte lengths reaches at most this far.
_PAD = 2 + 4 + 0x7F + 7


def _fast_pieces(data: bytes, d: Any, starts: Any, ends: Any) -> tuple[str, list[bytes], list[bytes], Any, Any] | None:
    """Decode the piece records of the chain at once (``record_chain`` kept only records with the
    layout of :func:`_regular_pieces`); None if a piece holds NUL."""
    text_len = d[starts + 3].astype(np.int64)
    text_end = starts + 4 + text_len
    has_type = ends - starts - 2 == text_len + 9
    # Each score's four bytes gathered separately: a (n, 4) index array costs more than four reads.
    bits = np.zeros(starts.shape[0], np.uint32)
    for k in range(4):
        bits |= d[text_end + 1 + k].astype(np.uint32) << np.uint32(8 * k)
    scores = bits.view("<f4")
    types = np.where(has_type, d[text_end + 6], NORMAL).astype(np.int64)
    # All texts joined in one buffer, each followed by its record's score tag turned into NUL
    # for the moment of one copy: one decode and one split instead of one per piece.
    # Work in place where possible: every temporary the size of the file costs page faults.
    size = int(ends[-1])
    inside = np.zeros(size + 1, np.int8)
    inside[starts + 4] = 1
    inside[text_end + 1] = -1
    odd = _odd_pieces(d, starts, text_len, text_end, types)
    d[text_end] = 0
    np.cumsum(inside, out=inside)
    joined = d[:size][inside[:size].view(np.bool_)].tobytes()
    d[text_end] = 0x15  # the score tags back: ``d`` may be the caller's only copy of the file
    if joined.count(b"\0") != starts.shape[0]:
        return None
    # Decoded whole (UTF-8 checked) but split into str only on demand: bytes objects are cheaper
    # to make and to hash for the duplicate check.
    text = joined.decode("utf-8")
    raw = joined.split(b"\0")[:-1]
    vocab = joined.replace(SPACE_MARK.encode("utf-8"), b" ").split(b"\0")[:-1]
    for i in odd:
        if types[i] in (CONTROL, UNKNOWN):
            vocab[i] = raw[i]
        else:
            byte = _CANONICAL_BYTE_PIECES.get(raw[i])
            vocab[i] = byte if byte is not None else piece_to_bytes(raw[i].decode("utf-8"))
    return text, raw, vocab, scores, types


#: ``<0xNN>`` as sentencepiece spells byte pieces -> the byte (piece_to_bytes without the parsing).
_CANONICAL_BYTE_PIECES = {f"<0x{b:02X}>".encode(): bytes([b]) for b in range(256)}


def _odd_pieces(d: Any, starts: Any, text_len: Any, text_end: Any, types: Any) -> list[int]:
    """Pieces whose vocabulary bytes are not their text with ``▁`` as a space: control and
    unknown pieces (their text as is) and texts shaped like ``<0xNN>`` (their byte)."""
    # A record is at least 11 bytes, so starts + 6 is inside it.
    byte_like = ((text_len >= 6) & (text_len <= 12) & (d[starts + 4] == 0x3C) & (d[starts + 5] == 0x30)
                 & (d[starts + 6] == 0x78) & (d[text_end - 1] == 0x3E))
    return np.flatnonzero(byte_like | (types == CONTROL) | (types == UNKNOWN)).tolist()


def _read_model_file(path: Path) -> dict[str, Any]:
    """:func:`read_model_columns` of ``path`` and its ``sha256``, with format errors naming the file."""
    # Read straight into the padded array the decoder needs (no second copy of the file).
    size = path.stat().st_size
    d = np.empty(size + _PAD, np.uint8)
    with open(path, "rb") as handle:
        size = handle.readinto(memoryview(d)[:size])
    d[size:] = 0
    data = memoryview(d)[:size].toreadonly()
    # The fingerprint hashes the bytes already read (sha256_of_files would read the file again).
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        proto = _columns(data, d)
    except (ProtobufError, UnicodeDecodeError) as err:
        raise TokenizerFormatError(path, f"not a SentencePiece model ({err})",
                                   hint="the file may be truncated or not a .model file") from None
    if not proto["raw"]:
        raise TokenizerFormatError(path, "not a SentencePiece model (no pieces)")
    if not _columns_look_valid(proto):
        check_pieces(_tuples(proto), proto["trainer"]["byte_fallback"], path)
    model_type = _MODEL_TYPES.get(proto["trainer"]["model_type"], "?")
    if model_type not in ("bpe", "unigram"):
        raise UnsupportedTokenizerError(f"{path}: SentencePiece model type {model_type!r}; tokbench reads BPE and Unigram")
    proto["sha256"] = sha256
    return proto


def _tuples(proto: dict[str, Any]) -> list[tuple[str, float, int]]:
    """The columns as ``[(piece, score, type)]``, the shape :func:`read_model_proto` returns."""
    return list(zip(piece_strings(proto), proto["scores"].tolist(), proto["types"].tolist(), strict=True))


def _columns_look_valid(proto: dict[str, Any]) -> bool:
    """:func:`check_pieces`' conditions, checked on whole columns; False sends the pieces through
    :func:`check_pieces`, which names the first bad one."""
    raw, types = proto["raw"], proto["types"]
    byte_ids = np.flatnonzero(types == BYTE).tolist()
    return bool(
        b"" not in raw and len(set(raw)) == len(raw)
        and ((types >= NORMAL) & (types <= BYTE)).all() and np.isfinite(proto["scores"]).all()
        and int((types == UNKNOWN).sum()) == 1
        and all(_BYTE_PIECE_UTF8.fullmatch(raw[i]) for i in byte_ids)
        and (not proto["trainer"]["byte_fallback"] or len(byte_ids) == 256))


_BYTE_PIECE = re.compile(r"<0x[0-9A-F]{2}>")
_BYTE_PIECE_UTF8 = re.compile(rb"<0x[0-9A-F]{2}>")


def check_pieces(pieces: list[tuple[str, float, int]], byte_fallback: bool, where: Any) -> None:
    """What ``sentencepiece`` requires of the pieces (it refuses the model otherwise), and finite
    scores, which the merge order needs: raise :class:`TokenizerFormatError` naming the piece."""
    seen: dict[str, int] = {}
    unknown = []
    for i, (piece, score, kind) in enumerate(pieces):
        problem = None
        if not piece:
            problem = "is empty"
        elif piece in seen:
            problem = f"{piece!r} repeats piece {seen[piece]}"
        elif kind not in (NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE):
            problem = f"has type {kind}; valid types are 1 (normal) to 6 (byte)"
        elif not math.isfinite(score):
            problem = f"has score {score}"
        elif kind == BYTE and not _BYTE_PIECE.fullmatch(piece):
            problem = f"{piece!r} is a byte piece but not spelled <0xNN>"
        if problem:
            raise TokenizerFormatError(where, f"piece {i} {problem}", hint="the model is damaged; re-download it")
        seen[piece] = i
        if kind == UNKNOWN:
            unknown.append(i)
    if len(unknown) != 1:
        raise TokenizerFormatError(where, f"the model has {len(unknown)} unknown (<unk>) pieces; it needs exactly one",
                                   hint="the model is damaged; re-download it")
    if byte_fallback and sum(1 for _, _, t in pieces if t == BYTE) != 256:
        raise TokenizerFormatError(where, "byte_fallback is on but the model lacks some of the 256 <0xNN> byte pieces",
                                   hint="the model is damaged; re-download it")


def load_sentencepiece(path: str | Path, *, name: str | None = None) -> Tokenizer:
    """Load a SentencePiece ``.model`` (BPE or Unigram); ``sentencepiece`` is the reference."""
    path = Path(path)
    proto = _read_model_file(path)
    types = proto["types"]
    model_type = _MODEL_TYPES[proto["trainer"]["model_type"]]
    norm_spec = proto["normalizer"]
    byte_fallback = proto["trainer"]["byte_fallback"]
    unk_id = int(np.flatnonzero(types == UNKNOWN)[0])
    memo: list[list[tuple[str, float, int]]] = []

    def pieces() -> list[tuple[str, float, int]]:
        # The (piece, score, type) tuples only for what needs them (merges, native, saving).
        if not memo:
            memo.append(_tuples(proto))
        return memo[0]

    def writer(tok: Tokenizer) -> str:
        if model_type != "bpe":
            raise UnsupportedTokenizerError(f"{path.name}: only SentencePiece BPE models can be saved as tokenizer.json")
        return sentencepiece_bpe_json(pieces(), tok.merges or [], norm_spec, unk_id=unk_id, byte_fallback=byte_fallback)

    raw = proto["raw"]
    return Tokenizer(
        vocab=proto["vocab"],
        kind=model_type,  # type: ignore[arg-type]
        name=name or path.stem,
        fingerprint=proto["sha256"],
        special_tokens={raw[i].decode("utf-8"): i
                        for i in np.flatnonzero((types == CONTROL) | (types == UNKNOWN)).tolist()},
        byte_fallback_ids=frozenset(np.flatnonzero(types == BYTE).tolist()),
        source_format="sentencepiece",
        source_paths=(path,),
        description={
            "normalizer": {k: v for k, v in norm_spec.items() if k != "precompiled_charsmap"},
            "byte_fallback": byte_fallback,
            "allow_whitespace_only_pieces": proto["trainer"]["allow_whitespace_only_pieces"],
            "user_defined_pieces": int((types == USER_DEFINED).sum()),
        },
        _merges_factory=(lambda: sentencepiece_merges(pieces())) if model_type == "bpe" else None,
        _reference_factory=lambda: SentencePieceReference(path),
        _native_factory=lambda: _native_encoder(path, {**proto, "pieces": pieces()}, model_type),
        _writer=writer,
    )


def sentencepiece_merges(pieces: list[tuple[str, float, int]]) -> list[tuple[int, int]]:
    """The merge list of a BPE model's pieces, recovered from their scores.

    Rank = position by descending score, ties by id: the creation order for BPE models.
    """
    strings = [p for p, _, _ in pieces]
    scores = [s for _, s, _ in pieces]
    mergeable = [i for i, (_, _, t) in enumerate(pieces) if t in (NORMAL, USER_DEFINED)]
    order = sorted(range(len(pieces)), key=lambda i: (-scores[i], i))
    rank = [0.0] * len(pieces)
    for position, i in enumerate(order):
        rank[i] = float(position)
    base = {strings[i]: i for i in mergeable if len(strings[i]) == 1}

    def chars(token: int) -> list[int] | None:
        parts = [base.get(ch) for ch in strings[token]]
        return None if any(p is None for p in parts) else parts  # type: ignore[return-value]

    return recover_merges(strings, ranks=rank, initial_symbols=chars,
                          candidates=[i for i in mergeable if pieces[i][2] == NORMAL])


def _native_encoder(path: Path, proto: dict[str, Any], model_type: str) -> CharBPE | UnigramEncoder:
    """tokbench's SentencePiece encoder: sentencepiece's normalizer (precompiled charsmap
    included), then BPE by piece score or Unigram Viterbi."""
    pieces, norm_spec = proto["pieces"], proto["normalizer"]
    blob = norm_spec["precompiled_charsmap"]
    try:
        charsmap = CharsMap.from_blob(blob) if blob else None
    except TokbenchError as err:
        raise TokenizerFormatError(path, str(err)) from None
    user_defined = [p for p, _, t in pieces if t == USER_DEFINED]
    normalizer = CharsMapNormalizer(charsmap, norm_spec["add_dummy_prefix"], norm_spec["remove_extra_whitespaces"],
                                    norm_spec["escape_whitespaces"], tuple(user_defined), source=str(path))
    unk_id = next((i for i, (_, _, t) in enumerate(pieces) if t == UNKNOWN), None)
    byte_fallback = proto["trainer"]["byte_fallback"]
    if model_type == "unigram":
        by_piece = {p: i for i, (p, _, t) in enumerate(pieces) if t == BYTE}
        model = UnigramModel(
            [(p, s) for p, s, _ in pieces], unk_id=unk_id,
            usable=[i for i, (_, _, t) in enumerate(pieces) if t in (NORMAL, USER_DEFINED)],
            normal=[i for i, (_, _, t) in enumerate(pieces) if t == NORMAL],
            user_defined=[i for i, (_, _, t) in enumerate(pieces) if t == USER_DEFINED],
            byte_ids=[by_piece[f"<0x{b:02X}>"] for b in range(256)] if byte_fallback else None,
            fuse_unk=True, sentencepiece_scores=True)
        return UnigramEncoder(model=model, normalizer=normalizer,
                              words=SentencePieceWords(proto["trainer"]["allow_whitespace_only_pieces"]))
    strings = [p for p, _, _ in pieces]
    mergeable = [i for i, (_, _, t) in enumerate(pieces) if t in (NORMAL, USER_DEFINED)]
    piece_to_id = {strings[i]: i for i in mergeable}
    for i, (p, _, t) in enumerate(pieces):
        if t == BYTE:
            piece_to_id.setdefault(p, i)
    return CharBPE(
        piece_to_id=piece_to_id,
        lookup=concat_rank_lookup(strings, {strings[i]: i for i in mergeable}, [-s for _, s, _ in pieces]),
        normalizer=normalizer,
        pretokenizer=SentencePieceWords(proto["trainer"]["allow_whitespace_only_pieces"]),
        byte_fallback=byte_fallback,
        unk_id=unk_id,
        user_defined=user_defined,
    )


def sentencepiece_bpe_json(
    pieces: list[tuple[str, float, int]],
    merges: list[tuple[int, int]],
    normalizer: dict[str, Any],
    *,
    unk_id: int | None,
    byte_fallback: bool,
) -> str:
    """A SentencePiece BPE model as an HF ``tokenizer.json`` (the layout of Llama's conversion).

    Only the canonical merge of each piece is written: merge-rank BPE over those merges gives
    SentencePiece's score-ordered result (checked against ``sentencepiece`` on real text).
    """
    steps: list[dict[str, Any]] = []
    if normalizer["remove_extra_whitespaces"]:
        steps.append({"type": "Strip", "strip_left": True, "strip_right": True})
        steps.append({"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "})
    if normalizer["add_dummy_prefix"]:
        steps.append({"type": "Prepend", "prepend": SPACE_MARK})
    steps.append({"type": "Replace", "pattern": {"String": " "}, "content": SPACE_MARK})
    decoders: list[dict[str, Any]] = [{"type": "Replace", "pattern": {"String": SPACE_MARK}, "content": " "}]
    if byte_fallback:
        decoders.append({"type": "ByteFallback"})
    decoders.append({"type": "Fuse"})
    if normalizer["add_dummy_prefix"]:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    strings = [p for p, _, _ in pieces]
    return bpe_tokenizer_json(
        vocab={p: i for i, p in enumerate(strings)},
        merges=((strings[a], strings[b]) for a, b in merges),
        special_tokens=[(p, i) for i, (p, _, t) in enumerate(pieces) if t in (CONTROL, UNKNOWN)],
        normalizer={"type": "Sequence", "normalizers": steps},
        decoder={"type": "Sequence", "decoders": decoders},
        unk_token=strings[unk_id] if unk_id is not None else None,
        fuse_unk=True,
        byte_fallback=byte_fallback,
    )
