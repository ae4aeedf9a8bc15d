"""tiktoken rank files (``*.tiktoken``) and Mistral Tekken JSON: ranks, a split pattern, no merges.

A rank file is one ``base64(token bytes) rank`` pair per line; token id = rank. The split
pattern is not in the file: the user names it (``r50k``, ``cl100k`` …), passes a regex, or it is
guessed from the file name. Tekken JSON carries base64 tokens with ranks and its pattern; its
first ``default_num_special_tokens`` ids are special tokens, so id = rank + that number, and only
the first ``default_vocab_size - default_num_special_tokens`` ranks are in use.

Merges are recovered from the ranks (:mod:`tokbench.model.merges`). The reference encoder is a
``tiktoken.Encoding`` built from the same ranks; tokbench's native twin is rank-BPE with
tiktoken's whole-piece shortcut (a piece that is itself a token is emitted as is).

Example:
    >>> tok = load_tiktoken("cl100k_base.tiktoken")          # doctest: +SKIP
    >>> tok.description["pattern_name"], len(tok.merges)      # doctest: +SKIP
    ('cl100k', 100000)
"""

from __future__ import annotations

import base64
import binascii
import json
from pathlib import Path
from typing import Any

from .._io import sha256_of_files
from ..errors import TokenizerFormatError, UnknownNameError
from ..model.bpe import concat_rank_lookup
from ..model.encoders import ByteLevelBPE
from ..model.merges import recover_merges
from ..model.patterns import PATTERNS, guess_pattern_name, resolve_split_pattern
from ..model.pretokenizers import RegexSplit
from ..model.references import TiktokenReference
from ..model.tokenizer import Tokenizer
from .tokenizer_json import byte_level_bpe_json

__all__ = ["load_tiktoken", "load_tekken", "tokenizer_from_ranks", "resolve_pattern", "check_ranks"]


def resolve_pattern(pattern: str | None, path: Path) -> tuple[str, str | None, dict[str, int]]:
    """(regex, pattern name or None, special tokens of the named encoding).

    A name-like value that is not a known name (a typo such as ``cl100kk``) is an error listing
    the names: compiled as a regex it would split every text into nothing.
    """
    if pattern is None:
        guessed = guess_pattern_name(path)
        if guessed is None:
            raise TokenizerFormatError(
                path, "cannot tell which split pattern this rank file uses",
                hint="pass pattern='cl100k' (or r50k, p50k, o200k, llama3) or an explicit regex",
            )
        pattern = guessed
    try:
        named = resolve_split_pattern(pattern)
    except UnknownNameError as err:
        raise UnknownNameError("split pattern", str(pattern), err.valid) from None
    except ValueError as err:
        raise TokenizerFormatError(path, f"pattern {pattern!r} is neither a known name nor a valid regex ({err})",
                                   hint=f"use one of {', '.join(PATTERNS)} or fix the regex") from None
    if isinstance(named, str):
        return named, None, {}
    return named.regex, named.name, dict(named.special_tokens)


def _read_ranks(path: Path) -> dict[bytes, int]:
    """The ``base64-token rank`` lines of a rank file."""
    ranks: dict[bytes, int] = {}
    try:
        lines = path.read_bytes().splitlines()
    except OSError as err:
        raise TokenizerFormatError(path, f"cannot read ({err.strerror})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise TokenizerFormatError(path, f"line {number} is not 'base64-token rank'",
                                       hint="is this really a .tiktoken rank file?")
        try:
            token = base64.b64decode(parts[0], validate=True)
            rank = int(parts[1])
        except (binascii.Error, ValueError):
            raise TokenizerFormatError(path, f"line {number}: bad base64 token or rank") from None
        if token in ranks:
            raise TokenizerFormatError(path, f"line {number}: token {token!r} is listed twice")
        ranks[token] = rank
    if not ranks:
        raise TokenizerFormatError(path, "the rank file is empty")
    check_ranks(ranks, path)
    return ranks


def check_ranks(ranks: dict[bytes, int], where: Any, *, first: int = 0) -> None:
    """Ranks must be distinct integers from ``first`` up, bounded by the number of tokens (gaps
    are allowed, an id that would need a table far larger than the file is not): tiktoken
    panics on a repeated rank and overflows on a negative one."""
    bound = first + 2 * len(ranks) + 1024
    seen: dict[int, bytes] = {}
    for token, rank in ranks.items():
        if not first <= rank < bound:
            raise TokenizerFormatError(where, f"token {token!r} has rank {rank}; ranks must be from {first} "
                                       f"to {bound - 1} for {len(ranks)} tokens",
                                       hint="the file is damaged; re-download it")
        if rank in seen:
            raise TokenizerFormatError(where, f"rank {rank} is given to two tokens, {seen[rank]!r} and {token!r}",
                                       hint="each rank must be unique; the file is damaged, re-download it")
        seen[rank] = token


def load_tiktoken(path: str | Path, *, pattern: str | None = None, name: str | None = None) -> Tokenizer:
    """Load a tiktoken rank file; ``pattern`` is a named pattern or a regex."""
    path = Path(path)
    regex_text, pattern_name, specials = resolve_pattern(pattern, path)
    ranks = _read_ranks(path)
    specials = {s: i for s, i in specials.items() if i >= len(ranks)}
    return tokenizer_from_ranks(
        ranks,
        pattern=regex_text,
        special_tokens=specials,
        name=name or path.name.split(".")[0],
        fingerprint=sha256_of_files([path]),
        source_format="tiktoken",
        source_paths=(path,),
        description={"pattern_name": pattern_name, "pattern": regex_text},
    )


def load_tekken(path: str | Path, *, name: str | None = None, data: Any = None) -> Tokenizer:
    """Load a Mistral Tekken ``tekken.json``."""
    path = Path(path)
    if data is None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise TokenizerFormatError(path, f"not valid JSON ({err})") from None
    try:
        config = data["config"]
        pattern = config["pattern"]
        n_special = int(config.get("default_num_special_tokens", len(data.get("special_tokens", []))))
        entries = data["vocab"]
        if "default_vocab_size" in config:
            entries = entries[: int(config["default_vocab_size"]) - n_special]
        if not isinstance(entries, list) or not 0 <= n_special < 1 << 20 or not isinstance(pattern, str):
            raise TypeError("config.pattern, config.default_num_special_tokens or vocab")
        ranks = {base64.b64decode(e["token_bytes"], validate=True): int(e["rank"]) + n_special for e in entries}
        specials_by_rank = {int(s["rank"]): str(s["token_str"]) for s in data.get("special_tokens", [])}
    except (KeyError, TypeError, ValueError, AttributeError, binascii.Error) as err:
        raise TokenizerFormatError(path, f"not a Tekken file: missing or malformed {err}",
                                   hint="expected config.pattern, vocab[{rank, token_bytes}] and special_tokens") from None
    if len(ranks) != len(entries):
        raise TokenizerFormatError(path, "a token is listed twice in vocab")
    check_ranks(ranks, path, first=n_special)
    specials = {specials_by_rank.get(i, f"<SPECIAL_{i}>"): i for i in range(n_special)}
    return tokenizer_from_ranks(
        ranks,
        pattern=pattern,
        special_tokens=specials,
        name=name or path.stem,
        fingerprint=sha256_of_files([path]),
        source_format="tekken",
        source_paths=(path,),
        description={"pattern_name": None, "pattern": pattern, "num_special_tokens": n_special},
    )


def _vocab_from_ranks(ranks: dict[bytes, int], special_tokens: dict[str, int],
                      where: Any) -> tuple[list[bytes], frozenset[int]]:
    """Each id's bytes (a special token: its text) and the ids nothing uses (``b""``)."""
    size = max([*ranks.values(), *special_tokens.values()]) + 1
    if size > 2 * (len(ranks) + len(special_tokens)) + 1024 or min([0, *special_tokens.values()]) < 0:
        raise TokenizerFormatError(where, f"ids run up to {size - 1} for only {len(ranks) + len(special_tokens)} tokens",
                                   hint="a rank or special-token id is damaged")
    vocab: list[bytes] = [b""] * size
    used = [False] * size
    for token, rank in ranks.items():
        vocab[rank] = token
        used[rank] = True
    for content, token_id in special_tokens.items():
        if used[token_id]:
            raise TokenizerFormatError(where, f"special token {content!r} has id {token_id}, which a ranked token already uses")
        vocab[token_id] = content.encode("utf-8")
        used[token_id] = True
    return vocab, frozenset(i for i, u in enumerate(used) if not u)


def tokenizer_from_ranks(
    ranks: dict[bytes, int],
    *,
    pattern: str,
    special_tokens: dict[str, int],
    name: str,
    fingerprint: str,
    source_format: str,
    source_paths: tuple[Path, ...] = (),
    description: dict[str, Any] | None = None,
) -> Tokenizer:
    """A tokenizer from tiktoken-style ranks (token id = rank); gaps become unused empty ids."""
    vocab, unused = _vocab_from_ranks(ranks, special_tokens, source_paths[0] if source_paths else None)
    size = len(vocab)
    merge_ranks = [float(i) for i in range(size)]
    ranked_ids = sorted(ranks.values())
    single_bytes = [i for i in ranked_ids if len(vocab[i]) == 1]
    description = {**(description or {}), "unused_ids": len(unused)}

    def merges() -> list[tuple[int, int]]:
        return recover_merges(vocab, ranks=merge_ranks, base_ids=single_bytes, candidates=ranked_ids)

    def reference() -> TiktokenReference:
        return TiktokenReference(name=name, pattern=pattern, ranks=ranks, special_tokens=special_tokens,
                                 where=source_paths[0] if source_paths else name)

    def kernel() -> Any:
        from ..model.fast_bpe import ByteBPEKernel  # numba: imported when first encoding

        return ByteBPEKernel.from_ranks(vocab, excluded=set(special_tokens.values()))

    def native() -> ByteLevelBPE:
        bytes_to_id = dict(ranks)
        return ByteLevelBPE(
            token_bytes=vocab,
            lookup=concat_rank_lookup(vocab, bytes_to_id, merge_ranks),
            pretokenizer=RegexSplit(pattern, "removed", invert=True),
            ignore_merges=True,
            kernel=kernel,
        )

    def writer(tok: Tokenizer) -> str:
        return byte_level_bpe_json(tok.vocab, tok.merges or [], pattern=pattern,
                                   special_tokens=special_tokens, ignore_merges=True, unused_ids=unused)

    return Tokenizer(
        vocab=vocab,
        kind="bpe",
        name=name,
        fingerprint=fingerprint,
        special_tokens=dict(special_tokens),
        source_format=source_format,
        source_paths=source_paths,
        description=description,
        unused_ids=unused,
        _merges_factory=merges,
        _reference_factory=reference,
        _native_factory=native,
        _writer=writer,
    )
