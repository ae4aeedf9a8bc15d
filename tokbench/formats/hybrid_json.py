"""tokbench's own ``tokbench-hybrid`` JSON file: reading and writing morphology-hybrid tokenizers.

The model itself — the lexicon segmentation with a byte-level BPE fallback (after "Tokens with
Meaning", Bayram et al. 2025), :class:`~tokbench.model.hybrid.HybridEncoder` and
:class:`~tokbench.model.hybrid.HybridTokenizer` — is :mod:`tokbench.model.hybrid`. No HF file
can express it, so it has this documented format, which ``HybridTokenizer.save`` writes and
:func:`tokbench.load_tokenizer` reads back::

    {"tokbench_format": "hybrid", "version": 1, "name": ..., "casing": "turkish",
     "apostrophe_suffixes": true, "lexicon": {...provenance...},
     "tokens": [[surface, class, morpheme_id], ...],          # ids 0 .. n-1
     "fallback": {"vocab": [byte-level strings], "merges": [[a, b], ...]}}  # ids n ..

Example:
    >>> data = hybrid_data(tokens=[("<uppercase>", "special", 0), (" ", "space", 1),
    ...                            ("ev", "root", 2), ("ler", "affix", 3), ("lar", "affix", 3)],
    ...                    fallback_vocab=[bytes([b]) for b in range(256)], fallback_merges=[])
    >>> tok = tokenizer_from_hybrid_data(data, name="demo")
    >>> [tok.vocab[i] for i in tok.encode("Evler")]
    [b'<uppercase>', b'ev', b'ler']
    >>> tok.decode(tok.encode("Evler evlar")), tok.morpheme_ids[3] == tok.morpheme_ids[4]
    ('Evler evlar', True)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TokenizerFormatError
from ..model.bytelevel import bytes_to_unicode, unicode_to_bytes
from ..model.hybrid import (
    CHUNK_PATTERN,
    TOKEN_CLASSES,
    UPPERCASE,
    Casing,
    HybridEncoder,
    HybridTokenizer,
)
from .hf_json import fingerprint_text

__all__ = ["FORMAT_VERSION", "hybrid_data", "tokenizer_from_hybrid_data", "load_hybrid_json"]

FORMAT_VERSION = 1


def hybrid_data(
    *,
    tokens: Sequence[tuple[str, str, int]],
    fallback_vocab: Sequence[bytes],
    fallback_merges: Sequence[tuple[int, int]],
    casing: Casing = "unicode",
    apostrophe_suffixes: bool = True,
    name: str = "hybrid",
    lexicon: dict[str, Any] | None = None,
    training: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON-ready description of a hybrid tokenizer (what the file holds)."""
    return {
        "tokbench_format": "hybrid",
        "version": FORMAT_VERSION,
        "name": name,
        "casing": casing,
        "apostrophe_suffixes": apostrophe_suffixes,
        "chunk_pattern": CHUNK_PATTERN,
        "lexicon": lexicon or {},
        "training": training or {},
        "tokens": [[s, c, int(m)] for s, c, m in tokens],
        "fallback": {"vocab": [bytes_to_unicode(b) for b in fallback_vocab],
                     "merges": [[int(a), int(b)] for a, b in fallback_merges]},
    }


def _fail(where: Any, problem: str) -> TokenizerFormatError:
    return TokenizerFormatError(where, problem, hint="expected a file written by tokbench's hybrid trainer")


@dataclass
class _LexiconTokens:
    """The file's ``tokens`` sorted into the encoder's tables, with each token's bytes, class
    and morpheme id by token id."""

    roots: dict[str, int] = field(default_factory=dict)
    affixes: dict[str, int] = field(default_factory=dict)
    spaces: dict[str, int] = field(default_factory=dict)
    specials: dict[str, int] = field(default_factory=dict)
    vocab: list[bytes] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    morphemes: list[int] = field(default_factory=list)


def _check_header(data: Any, where: Any) -> Casing:
    """Raise unless ``data`` is a hybrid file this tokbench reads; its casing."""
    if not isinstance(data, dict) or data.get("tokbench_format") != "hybrid":
        raise _fail(where, 'not a tokbench hybrid file (no "tokbench_format": "hybrid")')
    if data.get("version") != FORMAT_VERSION:
        raise _fail(where, f"unsupported hybrid file version {data.get('version')!r} (this tokbench "
                           f"reads version {FORMAT_VERSION})")
    casing = data.get("casing")
    if casing not in ("turkish", "unicode"):
        raise _fail(where, f"casing must be 'turkish' or 'unicode', got {casing!r}")
    if not isinstance(data.get("tokens"), list) or not isinstance(data.get("fallback"), dict):
        raise _fail(where, "'tokens' must be a list and 'fallback' an object")
    return casing  # type: ignore[return-value]


def _read_lexicon_tokens(tokens: list[Any], where: Any) -> _LexiconTokens:
    lexicon = _LexiconTokens()
    tables = {"root": lexicon.roots, "affix": lexicon.affixes, "space": lexicon.spaces,
              "special": lexicon.specials}
    for i, entry in enumerate(tokens):
        if (not isinstance(entry, list) or len(entry) != 3 or not isinstance(entry[0], str) or not entry[0]
                or entry[1] not in TOKEN_CLASSES[:-1] or type(entry[2]) is not int):
            raise _fail(where, f"token {i} must be [surface, class, morpheme id] with class one of "
                               f"{', '.join(TOKEN_CLASSES[:-1])}; got {entry!r}")
        surface, cls, morpheme = entry
        tables[cls].setdefault(surface, i)
        lexicon.vocab.append(surface.encode("utf-8"))
        lexicon.classes.append(cls)
        lexicon.morphemes.append(morpheme)
    if UPPERCASE not in lexicon.specials:
        raise _fail(where, f"the lexicon tokens have no {UPPERCASE} special token")
    return lexicon


def _read_fallback(fallback: dict[str, Any], where: Any) -> tuple[list[bytes], list[tuple[int, int]]]:
    try:
        fb_vocab = [unicode_to_bytes(s) for s in fallback["vocab"]]
        fb_merges = [(int(a), int(b)) for a, b in fallback["merges"]]
    except (KeyError, TypeError, ValueError) as err:
        raise _fail(where, f"bad 'fallback' ({type(err).__name__}: {err})") from None
    if any(not (0 <= a < len(fb_vocab) and 0 <= b < len(fb_vocab)) for a, b in fb_merges):
        raise _fail(where, "a fallback merge names a token outside the fallback vocabulary")
    return fb_vocab, fb_merges


def tokenizer_from_hybrid_data(
    data: Any,
    *,
    name: str | None = None,
    fingerprint: str | None = None,
    source_format: str = "memory",
    source_paths: tuple[Path, ...] = (),
    where: Any = None,
) -> HybridTokenizer:
    """Build a :class:`HybridTokenizer` from :func:`hybrid_data` (or a parsed file)."""
    casing = _check_header(data, where)
    lex = _read_lexicon_tokens(data["tokens"], where)
    fb_vocab, fb_merges = _read_fallback(data["fallback"], where)
    offset = len(lex.vocab)
    apostrophes = bool(data.get("apostrophe_suffixes", True))
    uppercase_id = lex.specials[UPPERCASE]

    def native() -> HybridEncoder:
        return HybridEncoder(roots=lex.roots, affixes=lex.affixes, spaces=lex.spaces, uppercase_id=uppercase_id,
                             casing=casing, apostrophe_suffixes=apostrophes,
                             fallback=(fb_vocab, fb_merges), fallback_offset=offset, where=where)

    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    tok = HybridTokenizer(
        vocab=lex.vocab + fb_vocab,
        kind="hybrid",  # type: ignore[arg-type]  # not BPE: has no merge list over the whole vocab
        name=name or str(data.get("name") or "hybrid"),
        fingerprint=fingerprint or fingerprint_text(text),
        special_tokens=lex.specials,
        source_format=source_format,
        source_paths=source_paths,
        description={"model": "morphology-hybrid", "casing": casing, "lexicon": data.get("lexicon", {}),
                     "lexicon_tokens": offset, "fallback_tokens": len(fb_vocab),
                     "fallback_merges": len(fb_merges), "apostrophe_suffixes": apostrophes},
        _native_factory=native,
        _writer=lambda _tok: text,
        morpheme_ids=tuple(lex.morphemes + [-1] * len(fb_vocab)),
        token_classes=tuple(lex.classes + ["bpe"] * len(fb_vocab)),
        casing=casing,
        fallback_offset=offset,
        uppercase_id=uppercase_id,
        data=data,
    )
    native()  # validate the fallback now, not on first encode
    return tok


def load_hybrid_json(path: str | Path, *, name: str | None = None) -> HybridTokenizer:
    """Load a ``{"tokbench_format": "hybrid", ...}`` file written by ``HybridTokenizer.save``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TokenizerFormatError(path, f"not valid JSON ({err})", hint="the file may be truncated") from None
    return tokenizer_from_hybrid_data(data, name=name or path.stem, fingerprint=fingerprint_text(text),
                                      source_format="tokbench-hybrid", source_paths=(path,), where=path)
