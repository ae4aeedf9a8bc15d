"""The one builder of HF ``tokenizer.json`` text, and the byte-level BPE layout built with it.

Every ``tokenizer.json`` tokbench writes — byte-level BPE (trainers, GPT-2 files, rank files),
SentencePiece BPE converted to Llama's layout, character-level BPE with byte fallback — has the
same skeleton: ``added_tokens``, ``normalizer``, ``pre_tokenizer``, ``decoder`` and a ``BPE``
model. :func:`bpe_tokenizer_json` writes that skeleton, with keys in the order
``tokenizers.Tokenizer.to_str`` uses, and takes the parts that differ as parameters; the
``*_step`` helpers spell the pipeline stages the layouts share. ``tokenizers`` is the reference
reader: tests load every file written here with ``tokenizers.Tokenizer.from_str``.

Example:
    >>> text = bpe_tokenizer_json(vocab={"a": 0, "b": 1, "ab": 2}, merges=[("a", "b")],
    ...                           pre_tokenizer=split_step(r"\\w+"))
    >>> json.loads(text)["model"]["merges"]
    [['a', 'b']]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model.bytelevel import bytes_to_unicode

__all__ = [
    "bpe_tokenizer_json",
    "byte_level_bpe_json",
    "oniguruma_pattern",
    "split_step",
    "byte_level_step",
]


def split_step(regex: str) -> dict[str, Any]:
    """A ``Split`` pretokenizer that isolates each match of ``regex`` (written as given)."""
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


def byte_level_step() -> dict[str, Any]:
    """``ByteLevel`` without its own regex or prefix space (the split is done before it)."""
    return {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}


def _added_token(token_id: int, content: str) -> dict[str, Any]:
    return {"id": token_id, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def bpe_tokenizer_json(
    *,
    vocab: Mapping[str, int],
    merges: Iterable[tuple[str, str]],
    special_tokens: Iterable[tuple[str, int]] = (),
    normalizer: dict[str, Any] | None = None,
    pre_tokenizer: dict[str, Any] | None = None,
    decoder: dict[str, Any] | None = None,
    unk_token: str | None = None,
    fuse_unk: bool = False,
    byte_fallback: bool = False,
    ignore_merges: bool = False,
) -> str:
    """The text of a ``tokenizer.json`` with a BPE model.

    ``vocab`` maps token strings (as the file spells them) to ids; ``merges`` are pairs of
    those strings, in merge order; ``special_tokens`` (content, id) become special added tokens,
    written in id order. The other arguments are written into the file as given.
    """
    data = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [_added_token(i, s) for s, i in sorted(special_tokens, key=lambda kv: kv[1])],
        "normalizer": normalizer,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": None,
        "decoder": decoder,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": unk_token,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": fuse_unk,
            "byte_fallback": byte_fallback,
            "ignore_merges": ignore_merges,
            "vocab": dict(vocab),
            "merges": [[a, b] for a, b in merges],
        },
    }
    return json.dumps(data, ensure_ascii=False, indent=1)


def byte_level_bpe_json(
    vocab: Sequence[bytes],
    merges: Sequence[tuple[int, int]],
    *,
    pattern: str,
    special_tokens: dict[str, int] | None = None,
    ignore_merges: bool = False,
    normalizer: dict[str, Any] | None = None,
    unused_ids: frozenset[int] = frozenset(),
) -> str:
    """The text of a standard byte-level BPE ``tokenizer.json``.

    A ``Split`` pretokenizer with ``pattern`` followed by ``ByteLevel``, a ``ByteLevel`` decoder.
    ``vocab[i]`` is token i's bytes; ``unused_ids`` (gaps in a rank file) are skipped. Special
    tokens are written as added tokens and also into the model vocabulary, spelled as their
    text, as ``BpeTrainer`` files are: ``tokenizers`` gives an added token missing from the model
    vocabulary the id ``model.get_vocab_size()`` whatever the file says, and a merge may produce
    (and a later merge use) a string that is a special token's text.
    """
    special_tokens = special_tokens or {}
    spelled_specials = {i: s for s, i in special_tokens.items()}
    spelled = {
        i: spelled_specials.get(i) or bytes_to_unicode(tb)
        for i, tb in enumerate(vocab)
        if i not in unused_ids
    }
    model_vocab: dict[str, int] = {}
    for i, text in spelled.items():
        model_vocab.setdefault(text, i)
    return bpe_tokenizer_json(
        vocab=model_vocab,
        merges=((spelled[a], spelled[b]) for a, b in merges),
        special_tokens=special_tokens.items(),
        normalizer=normalizer,
        pre_tokenizer={"type": "Sequence",
                       "pretokenizers": [split_step(oniguruma_pattern(pattern)), byte_level_step()]},
        decoder=byte_level_step(),
        ignore_merges=ignore_merges,
    )


def oniguruma_pattern(pattern: str) -> str:
    """``pattern`` as ``tokenizers``' Oniguruma reads it like Python's ``regex`` does.

    tiktoken patterns use possessive quantifiers; Oniguruma honours ``?+``, ``*+`` and ``++``
    but reads an interval followed by ``+`` (``\\p{N}{1,3}+``) as a repeated group, which would
    keep "2022" in one piece. Dropping that ``+`` gives the same pieces here: each possessive
    interval ends its alternative, so backtracking into it cannot change the match.
    """
    return re.sub(r"(?<!\\)(\{\d+(?:,\d*)?\})\+", r"\1", pattern)
