"""HF ``tokenizer.json`` (BPE, WordPiece, Unigram): reading it into a :class:`Tokenizer`.

Reading turns the file's token strings into raw bytes (byte-level files through GPT-2's
table; SentencePiece conversions with ``▁`` as a space and ``<0xNN>`` as the byte), maps merges
to id pairs, and translates the normalizer and pretokenizer into :mod:`tokbench.model.normalizers`
and :mod:`tokbench.model.pretokenizers` stages for the native encoder. ``tokenizers`` is the
reference encoder. Writing lives in :mod:`tokbench.formats.tokenizer_json` (the one builder of
the file); :func:`byte_level_bpe_json` is re-exported here for the trainers that import it.

Example:
    >>> tok = load_hf_json("tokenizer.json")   # doctest: +SKIP
    >>> tok.kind, len(tok.merges)               # doctest: +SKIP
    ('bpe', 50000)
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from ..errors import TokenizerFormatError, UnsupportedTokenizerError
from ..model import normalizers as N
from ..model import pretokenizers as P
from ..model.bpe import merge_rank_lookup
from ..model.bytelevel import unicode_to_bytes
from ..model.charsmap import CharsMap, HFPrecompiled
from ..model.encoders import AddedToken, ByteLevelBPE, CharBPE, UnigramEncoder, WordPiece
from ..model.patterns import GPT2_PATTERN
from ..model.references import HFReference
from ..model.tokenizer import Tokenizer
from ..model.unigram import UnigramModel
from .hf_checks import check_hf_data
from .tokenizer_json import byte_level_bpe_json, oniguruma_pattern

__all__ = [
    "tokenizer_from_json_text",
    "load_hf_json",
    "tokenizer_from_hf_data",
    "normalizer_from_json",
    "pretokenizer_from_json",
    "piece_to_bytes",
    "fingerprint_text",
    "byte_level_bpe_json",
    "oniguruma_pattern",
]

_KINDS = {"BPE": "bpe", "WordPiece": "wordpiece", "Unigram": "unigram"}
_BYTE_PIECE = re.compile(r"<0x[0-9A-F]{2}>")


def piece_to_bytes(piece: str) -> bytes:
    """A SentencePiece-style piece as bytes: ``▁`` is a space, ``<0xNN>`` is byte NN."""
    if len(piece) == 6 and piece.startswith("<0x") and piece.endswith(">"):
        try:
            return bytes([int(piece[3:5], 16)])
        except ValueError:
            pass
    return piece.replace(P.SPACE_MARK, " ").encode("utf-8")


def load_hf_json(path: str | Path, *, name: str | None = None) -> Tokenizer:
    """Load an HF ``tokenizer.json``."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except UnicodeDecodeError as err:
        raise TokenizerFormatError(path, f"not UTF-8 text ({err.reason} at byte {err.start})",
                                   hint="is this a binary file such as a SentencePiece .model?") from None
    except json.JSONDecodeError as err:
        raise TokenizerFormatError(path, f"not valid JSON ({err.msg} at line {err.lineno})",
                                   hint="the file may be truncated; re-download it") from None
    return tokenizer_from_hf_data(
        data,
        name=name or path.stem,
        fingerprint=hashlib.sha256(raw).hexdigest(),
        source_paths=(path,),
        source_format="hf-json",
        # Parse the text already in memory rather than reading the file a second time.
        reference_factory=lambda: HFReference.from_str(text, where=path),
        original_text=text,
        where=path,
    )


def tokenizer_from_json_text(text: str, *, name: str, source_format: str = "trained") -> Tokenizer:
    """A tokenizer from ``tokenizer.json`` text built in memory (a trained or truncated model);
    its fingerprint is the sha256 of the text, the reference library parses the same text.

    Example:
        >>> tok = tokenizer_from_json_text(text, name="bpe-4000")   # doctest: +SKIP
    """
    return tokenizer_from_hf_data(
        json.loads(text), name=name, fingerprint=fingerprint_text(text), source_format=source_format,
        reference_factory=lambda: HFReference.from_str(text, where=name), original_text=text, where=name,
    )


def tokenizer_from_hf_data(
    data: Any,
    *,
    name: str,
    fingerprint: str,
    source_paths: tuple[Path, ...] = (),
    source_format: str = "hf-json",
    reference_factory: Any = None,
    original_text: str | None = None,
    where: Any = None,
) -> Tokenizer:
    """Build a :class:`Tokenizer` from parsed ``tokenizer.json`` data."""
    model, kind = _model_and_kind(data, where)
    check_hf_data(data, where, model_type={v: k for k, v in _KINDS.items()}[kind])
    byte_level = _has_byte_level(data.get("pre_tokenizer")) or _has_byte_level(data.get("decoder"))
    added = [
        AddedToken(a["content"], int(a["id"]), bool(a.get("special", False)), bool(a.get("normalized", False)))
        for a in data.get("added_tokens") or []
    ]
    strings = _model_vocab(model, kind, where)
    vocab, unused = _vocab_bytes(strings, added, kind, byte_level)
    merges = _model_merges(model, strings, where) if kind == "bpe" else None
    byte_fallback_ids = frozenset() if byte_level else frozenset(
        i for s, i in strings.items() if _BYTE_PIECE.fullmatch(s)
    )
    description = {
        "normalizer": data.get("normalizer"),
        "pretokenizer": data.get("pre_tokenizer"),
        "model_options": {k: v for k, v in model.items() if k not in ("vocab", "merges")},
        "byte_level": byte_level,
    }

    def native() -> Any:
        return _native_encoder(data, kind, strings, merges, byte_level, added, vocab, where)

    writer = (lambda _tok: original_text) if original_text is not None else None
    return Tokenizer(
        vocab=vocab,
        kind=kind,  # type: ignore[arg-type]
        name=name,
        fingerprint=fingerprint,
        special_tokens={a.content: a.id for a in added if a.special},
        byte_fallback_ids=byte_fallback_ids,
        unused_ids=unused,
        source_format=source_format,
        source_paths=source_paths,
        description=description,
        _merges=merges,
        _reference_factory=reference_factory,
        _native_factory=native,
        _writer=writer,
    )


def _model_and_kind(data: Any, where: Any) -> tuple[dict[str, Any], str]:
    """The ``model`` object and tokbench's kind for it; raises for anything else."""
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise TokenizerFormatError(where, "no 'model' object: not a tokenizer.json",
                                   hint="expected the file a tokenizers.Tokenizer saves")
    model = data["model"]
    model_type = model.get("type") or _infer_model_type(model)
    kind = _KINDS.get(model_type)
    if kind is None:
        raise UnsupportedTokenizerError(
            f"{where}: model type {model_type!r} is not supported; tokbench reads {', '.join(_KINDS)}"
            " (model.type)"
        )
    return model, kind


def _vocab_bytes(strings: dict[str, int], added: list[AddedToken], kind: str,
                 byte_level: bool) -> tuple[list[bytes], frozenset[int]]:
    """Each id's bytes, and the ids without a token (a converted rank file's gaps), which stay
    in the id space as unused ``b""`` entries."""
    by_id: dict[int, str] = {i: s for s, i in strings.items()}
    for a in added:
        by_id.setdefault(a.id, a.content)
    size = max(by_id) + 1 if by_id else 0
    unused = frozenset(i for i in range(size) if i not in by_id)
    added_ids = {a.id for a in added}
    vocab: list[bytes] = []
    for i in range(size):
        token = by_id.get(i)
        if token is None:
            vocab.append(b"")
        elif i in added_ids and token not in strings:
            vocab.append(token.encode("utf-8"))
        elif kind == "bpe" and byte_level:
            try:
                vocab.append(unicode_to_bytes(token))
            except KeyError:
                vocab.append(token.encode("utf-8"))  # a non-byte-level added token in the model vocab
        elif kind == "wordpiece":
            vocab.append(token.encode("utf-8"))
        else:
            vocab.append(piece_to_bytes(token))
    return vocab, unused


def _infer_model_type(model: dict[str, Any]) -> str | None:
    if "merges" in model:
        return "BPE"
    if isinstance(model.get("vocab"), list):
        return "Unigram"
    if "continuing_subword_prefix" in model:
        return "WordPiece"
    return None


def _model_vocab(model: dict[str, Any], kind: str, where: Any) -> dict[str, int]:
    vocab = model.get("vocab")
    if kind == "unigram":
        if not isinstance(vocab, list):
            raise TokenizerFormatError(where, "Unigram 'vocab' must be a list of [piece, score]")
        return {str(entry[0]): i for i, entry in enumerate(vocab)}
    if not isinstance(vocab, dict):
        raise TokenizerFormatError(where, f"{kind} 'vocab' must be an object of token -> id")
    return {str(k): int(v) for k, v in vocab.items()}


def _model_merges(model: dict[str, Any], strings: dict[str, int], where: Any) -> list[tuple[int, int]]:
    merges: list[tuple[int, int]] = []
    for k, entry in enumerate(model.get("merges") or []):
        parts = entry.split(" ") if isinstance(entry, str) else entry
        if not isinstance(parts, list) or len(parts) != 2 or not all(isinstance(p, str) for p in parts):
            raise TokenizerFormatError(where, f"model.merges[{k}] ({entry!r}) is not a pair of tokens",
                                       hint='write each merge as "left right" or ["left", "right"]')
        try:
            merges.append((strings[parts[0]], strings[parts[1]]))
        except KeyError as err:
            raise TokenizerFormatError(where, f"merge {k} ({entry!r}) uses {err.args[0]!r}, which is not in the vocabulary") from None
    return merges


def _has_byte_level(component: Any) -> bool:
    if not isinstance(component, dict):
        return False
    if component.get("type") == "ByteLevel":
        return True
    children = component.get("pretokenizers") or component.get("decoders") or []
    return any(_has_byte_level(c) for c in children)


# ----------------------------------------------------------------------- native translation


def _pattern(spec: Any) -> tuple[str, bool]:
    if isinstance(spec, dict) and "Regex" in spec:
        return spec["Regex"], True
    if isinstance(spec, dict) and "String" in spec:
        return spec["String"], False
    raise UnsupportedTokenizerError(f"unrecognised pattern {spec!r}")


def normalizer_from_json(spec: Any) -> N.Normalizer | None:
    """A :mod:`tokbench.model.pretokenizers` normalizer for an HF normalizer object (``None`` for none)."""
    if spec is None:
        return None
    kind = spec.get("type")
    if kind in ("NFC", "NFD", "NFKC", "NFKD"):
        return N.UnicodeNormalizer(kind)
    if kind == "Lowercase":
        return N.Lowercase()
    if kind == "Prepend":
        return N.Prepend(spec["prepend"])
    if kind == "Replace":
        pattern, is_regex = _pattern(spec["pattern"])
        return N.Replace(pattern, spec["content"], is_regex)
    if kind == "Strip":
        return N.Strip(spec.get("strip_left", True), spec.get("strip_right", True))
    if kind == "BertNormalizer":
        return N.BertNormalizer(spec.get("clean_text", True), spec.get("handle_chinese_chars", True),
                                spec.get("strip_accents"), spec.get("lowercase", True))
    if kind == "Sequence":
        return N.Sequence(tuple(n for n in map(normalizer_from_json, spec["normalizers"]) if n))
    if kind == "Precompiled":
        return _precompiled(spec.get("precompiled_charsmap"))
    raise UnsupportedTokenizerError(f"normalizer {kind!r} has no native twin in tokbench yet")


def _precompiled(blob: Any) -> N.Normalizer | None:
    """HF's ``Precompiled`` normalizer (SentencePiece's charsmap, base64 in the file)."""
    import base64
    import binascii

    from ..errors import TokbenchError

    if not blob:
        return None  # an empty map changes nothing
    try:
        return HFPrecompiled(CharsMap.from_blob(base64.b64decode(blob, validate=True)))
    except (binascii.Error, TypeError, ValueError) as err:
        raise TokbenchError(f"normalizer Precompiled: precompiled_charsmap is not base64 ({err})") from None


_BEHAVIORS = {"Isolated": "isolated", "Removed": "removed", "MergedWithPrevious": "merged_with_previous",
              "MergedWithNext": "merged_with_next", "Contiguous": "contiguous"}


def pretokenizer_from_json(spec: Any) -> P.PreTokenizer:
    """A :mod:`tokbench.model.pretokenizers` pretokenizer for an HF pre_tokenizer object."""
    if spec is None:
        return P.NoPreTokenizer()
    kind = spec.get("type")
    if kind == "ByteLevel":
        steps: list[P.PreTokenizer] = []
        if spec.get("add_prefix_space"):
            steps.append(P.AddPrefixSpace())
        if spec.get("use_regex", True):
            steps.append(P.RegexSplit(GPT2_PATTERN))
        return P.PreTokenizerSequence(tuple(steps)) if steps else P.NoPreTokenizer()
    if kind == "Split":
        pattern, is_regex = _pattern(spec["pattern"])
        if not is_regex:
            import regex

            pattern = regex.escape(pattern)
        return P.RegexSplit(pattern, _BEHAVIORS[spec.get("behavior", "Isolated")], bool(spec.get("invert")))  # type: ignore[arg-type]
    if kind == "BertPreTokenizer":
        return P.BertPreTokenizer()
    if kind == "WhitespaceSplit":
        return P.WhitespaceSplit()
    if kind == "Whitespace":
        return P.RegexSplit(r"\w+|[^\w\s]+", "removed", invert=True)
    if kind == "Digits":
        return P.RegexSplit(r"\p{N}" if spec.get("individual_digits") else r"\p{N}+", "isolated")
    if kind == "Metaspace":
        scheme = spec.get("prepend_scheme") or ("always" if spec.get("add_prefix_space", True) else "never")
        return P.Metaspace(spec.get("replacement", P.SPACE_MARK), scheme, spec.get("split", True))
    if kind == "Sequence":
        return P.PreTokenizerSequence(tuple(pretokenizer_from_json(s) for s in spec["pretokenizers"]))
    raise UnsupportedTokenizerError(f"pretokenizer {kind!r} has no native twin in tokbench yet")


def _native_encoder(data: dict[str, Any], kind: str, strings: dict[str, int],
                    merges: list[tuple[int, int]] | None, byte_level: bool,
                    added: list[AddedToken], vocab: list[bytes], where: Any = None) -> Any:
    try:
        return _native_pipeline(data, kind, strings, merges, byte_level, added, vocab, where)
    except UnsupportedTokenizerError as err:
        if where is None:
            raise
        raise UnsupportedTokenizerError(f"{where}: {err}") from None


def byte_bpe_kernel(vocab: list[bytes], merges: list[tuple[int, int]], merged: list[int], *,
                    excluded: set[int]) -> Any:
    """The numba tables of a byte-level merge list (imported late: numba is heavy)."""
    from ..model.fast_bpe import ByteBPEKernel

    return ByteBPEKernel.from_merges(vocab, merges, merged, excluded=excluded)


def _native_pipeline(data: dict[str, Any], kind: str, strings: dict[str, int],
                     merges: list[tuple[int, int]] | None, byte_level: bool,
                     added: list[AddedToken], vocab: list[bytes], where: Any) -> Any:
    model = data["model"]
    normalizer = normalizer_from_json(data.get("normalizer"))
    pretokenizer = pretokenizer_from_json(data.get("pre_tokenizer"))
    if kind == "wordpiece":
        return WordPiece(piece_to_id=strings, unk_id=strings[model.get("unk_token", "[UNK]")],
                         normalizer=normalizer, pretokenizer=pretokenizer,
                         prefix=model.get("continuing_subword_prefix", "##"),
                         max_input_chars_per_word=model.get("max_input_chars_per_word", 100),
                         added_tokens=added)
    if kind == "unigram":
        return _native_unigram(model, normalizer, pretokenizer, added, where)
    if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
        raise UnsupportedTokenizerError("native BPE with continuing_subword_prefix/end_of_word_suffix is not supported")
    assert merges is not None
    spelling = {i: s for s, i in strings.items()}
    merged = []
    for k, (a, b) in enumerate(merges):
        try:
            merged.append(strings[spelling[a] + spelling[b]])
        except KeyError:
            raise TokenizerFormatError(where, f"model.merges[{k}] makes a token that is not in the vocabulary",
                                       hint="the merges and the vocabulary do not belong together") from None
    lookup = merge_rank_lookup(merges, merged_ids=merged)
    if byte_level:
        return ByteLevelBPE(token_bytes=vocab, lookup=lookup, pretokenizer=pretokenizer,
                            normalizer=normalizer, added_tokens=added,
                            ignore_merges=bool(model.get("ignore_merges")),
                            kernel=lambda: byte_bpe_kernel(vocab, merges, merged, excluded={t.id for t in added}))
    unk = model.get("unk_token")
    return CharBPE(piece_to_id=strings, lookup=lookup, normalizer=normalizer, pretokenizer=pretokenizer,
                   byte_fallback=bool(model.get("byte_fallback")),
                   unk_id=strings.get(unk) if unk else None, fuse_unk=bool(model.get("fuse_unk")),
                   added_tokens=added, ignore_merges=bool(model.get("ignore_merges")))


def _native_unigram(model: dict[str, Any], normalizer: N.Normalizer | None, pretokenizer: P.PreTokenizer,
                    added: list[AddedToken], where: Any) -> UnigramEncoder:
    """HF's ``Unigram``: Viterbi in float64, unknowns fused, byte fallback when asked."""
    pieces = [(str(entry[0]), float(entry[1])) for entry in model["vocab"]]
    unk_id = model.get("unk_id")
    if unk_id is not None and not 0 <= int(unk_id) < len(pieces):
        raise TokenizerFormatError(where, f"model.unk_id {unk_id} is outside the vocabulary")
    by_piece = {p: i for i, (p, _) in enumerate(pieces)}
    byte_ids = [by_piece.get(f"<0x{b:02X}>") for b in range(256)]
    if not model.get("byte_fallback") or any(i is None for i in byte_ids):
        byte_ids = None  # type: ignore[assignment]
    unigram = UnigramModel(pieces, unk_id=None if unk_id is None else int(unk_id),
                           byte_ids=byte_ids, fuse_unk=True)  # type: ignore[arg-type]
    return UnigramEncoder(model=unigram, normalizer=normalizer, pretokenizer=pretokenizer, added_tokens=added)


def fingerprint_text(text: str) -> str:
    """The sha256 of ``text``'s UTF-8 bytes: the fingerprint of a tokenizer built in memory."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

