"""GPT-2 style ``vocab.json`` + ``merges.txt`` (byte-level BPE with GPT-2's split pattern).

The reference encoder is ``tokenizers``' own ``BPE.from_file`` on the same two files with a
``ByteLevel`` pretokenizer, so parity tests compare tokbench's parsing with the library's.

Example:
    >>> tok = load_gpt2_files("gpt2/")        # doctest: +SKIP
    >>> tok.vocab_size, len(tok.merges)        # doctest: +SKIP
    (50257, 50000)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .._io import sha256_of_files
from ..errors import TokenizerFormatError
from ..model.bpe import merge_rank_lookup
from ..model.bytelevel import unicode_to_bytes
from ..model.encoders import AddedToken, ByteLevelBPE
from ..model.patterns import GPT2_PATTERN
from ..model.pretokenizers import RegexSplit
from ..model.references import HFReference
from ..model.tokenizer import Tokenizer
from .tokenizer_json import byte_level_bpe_json

__all__ = ["load_gpt2_files", "find_gpt2_pair"]

_SPECIAL_NAMES = ("<|endoftext|>",)


def _read_vocab(vocab_path: Path) -> tuple[dict[str, int], list[bytes]]:
    """``vocab.json`` as token string -> id, and each id's bytes (ids must be dense)."""
    try:
        strings = json.loads(vocab_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise TokenizerFormatError(vocab_path, f"not UTF-8 text ({err.reason} at byte {err.start})",
                                   hint="the file is damaged; re-download it") from None
    except ValueError as err:
        raise TokenizerFormatError(vocab_path, f"not valid JSON ({err})", hint="the file may be truncated") from None
    if not isinstance(strings, dict) or not strings:
        raise TokenizerFormatError(vocab_path, "not a GPT-2 vocab.json (expected a non-empty object of token -> id)")
    for token, token_id in strings.items():
        if not isinstance(token_id, int) or isinstance(token_id, bool) or not 0 <= token_id < len(strings):
            raise TokenizerFormatError(vocab_path, f"token {token!r} has id {token_id!r}; ids must be the "
                                       f"integers 0..{len(strings) - 1}", hint="the file is damaged; re-download it")
    size = len(strings)
    by_id = {i: s for s, i in strings.items()}
    if len(by_id) != size:
        raise TokenizerFormatError(vocab_path, f"ids are not dense: {len(by_id)} distinct ids for {size} tokens")
    try:
        vocab = [unicode_to_bytes(by_id[i]) if by_id[i] not in _SPECIAL_NAMES else by_id[i].encode() for i in range(size)]
    except KeyError as err:
        raise TokenizerFormatError(vocab_path, f"token uses {err.args[0]!r}, which is outside the byte-level alphabet") from None
    return strings, vocab


def _read_merges(merges_path: Path, strings: dict[str, int]) -> tuple[list[tuple[int, int]], list[int]]:
    """``merges.txt`` as id pairs, and the id each merge makes."""
    merges: list[tuple[int, int]] = []
    merged_ids: list[int] = []
    try:
        lines = merges_path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise TokenizerFormatError(merges_path, f"not UTF-8 text ({err.reason} at byte {err.start})",
                                   hint="the file is damaged; re-download it") from None
    for number, line in enumerate(lines, 1):
        if not line or (number == 1 and line.startswith("#version")):
            continue
        parts = line.split(" ")
        try:
            left, right = parts
            merges.append((strings[left], strings[right]))
            merged_ids.append(strings[left + right])
        except (ValueError, KeyError):
            raise TokenizerFormatError(merges_path, f"line {number} ({line!r}) is not a merge of two vocabulary tokens") from None
    return merges, merged_ids


def find_gpt2_pair(path: Path) -> tuple[Path, Path]:
    """(vocab.json, merges.txt) from a folder or from either file of the pair."""
    folder = path if path.is_dir() else path.parent
    vocab, merges = folder / "vocab.json", folder / "merges.txt"
    if path.is_file() and path.suffix == ".json":
        vocab = path
    elif path.is_file() and path.suffix == ".txt":
        merges = path
    missing = [str(p) for p in (vocab, merges) if not p.is_file()]
    if missing:
        raise TokenizerFormatError(path, f"a GPT-2 tokenizer needs vocab.json and merges.txt; missing {', '.join(missing)}",
                                   hint="put both files in one folder and pass the folder")
    return vocab, merges


def load_gpt2_files(path: str | Path, *, name: str | None = None) -> Tokenizer:
    """Load ``vocab.json`` + ``merges.txt`` (a folder or either file of the pair)."""
    vocab_path, merges_path = find_gpt2_pair(Path(path))
    strings, vocab = _read_vocab(vocab_path)
    merges, merged_ids = _read_merges(merges_path, strings)
    specials = {s: strings[s] for s in _SPECIAL_NAMES if s in strings}

    def reference() -> HFReference:
        return HFReference.from_gpt2_files(vocab_path, merges_path, list(specials))

    def kernel() -> Any:
        from ..model.fast_bpe import ByteBPEKernel  # numba: imported when first encoding

        return ByteBPEKernel.from_merges(vocab, merges, merged_ids, excluded=set(specials.values()))

    def native() -> ByteLevelBPE:
        return ByteLevelBPE(
            token_bytes=vocab,
            lookup=merge_rank_lookup(merges, merged_ids=merged_ids),
            pretokenizer=RegexSplit(GPT2_PATTERN),
            added_tokens=[AddedToken(s, i) for s, i in specials.items()],
            kernel=kernel,
        )

    def writer(tok: Tokenizer) -> str:
        return byte_level_bpe_json(tok.vocab, merges, pattern=GPT2_PATTERN, special_tokens=specials)

    return Tokenizer(
        vocab=vocab,
        kind="bpe",
        name=name or vocab_path.parent.name,
        fingerprint=sha256_of_files([vocab_path, merges_path]),
        special_tokens=specials,
        source_format="gpt2-files",
        source_paths=(vocab_path, merges_path),
        description={"pattern_name": "gpt2", "pattern": GPT2_PATTERN},
        _merges=merges,
        _reference_factory=reference,
        _native_factory=native,
        _writer=writer,
    )
