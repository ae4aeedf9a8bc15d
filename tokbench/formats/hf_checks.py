"""Validating a parsed HF ``tokenizer.json`` before tokbench builds anything from it.

``tokenizers`` rejects a malformed file with one terse line (``data did not match any variant
of untagged enum``), and tokbench's own reader used to fail later with a bare ``KeyError`` or
build tables as large as the largest id in the file. :func:`check_hf_data` checks what both
rely on and names the field and the fix:

* ``added_tokens``: a list of objects with a non-empty string ``content``, an integer ``id``
  and the boolean flags ``tokenizers`` requires;
* the model: ``vocab`` of the right shape for its type (token -> integer id, or Unigram
  ``[piece, score]`` pairs), ids that are non-negative and bounded by the file's size (so a
  damaged id of 10**12 is an error, not a 2 GB table), merges that are pairs, WordPiece's
  ``unk_token`` present in the vocabulary, Unigram's ``unk_id`` in range, boolean options;
* the pipeline (normalizer, pre_tokenizer, decoder, post_processor): every ``type`` one that
  ``tokenizers`` knows, sequences that are lists, boolean options that are booleans, Metaspace
  replacements of one character, templates that keep the text.

What is not checked here (option values deeper in the pipeline) is still caught: the reference
library's own failure is wrapped into a :class:`~tokbench.errors.TokenizerFormatError` naming
the file (:mod:`tokbench.model.references`).

Example:
    >>> check_hf_data({"model": {"type": "WordPiece", "vocab": {"a": 0}, "unk_token": "[UNK]"}}, "t.json")
    Traceback (most recent call last):
    ...
    tokbench.errors.TokenizerFormatError: t.json: model.unk_token '[UNK]' is not in model.vocab (add it to the vocabulary or set unk_token to one of its tokens)
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import TokenizerFormatError

__all__ = ["check_hf_data", "id_bound", "COMPONENT_TYPES"]

#: The component types ``tokenizers`` reads, by pipeline stage.
COMPONENT_TYPES: dict[str, frozenset[str]] = {
    "normalizer": frozenset({"BertNormalizer", "Strip", "StripAccents", "NFC", "NFD", "NFKC", "NFKD",
                             "Sequence", "Lowercase", "Nmt", "Precompiled", "Replace", "Prepend",
                             "ByteLevel"}),
    "pre_tokenizer": frozenset({"BertPreTokenizer", "ByteLevel", "CharDelimiterSplit", "Metaspace",
                                "Whitespace", "Sequence", "Split", "Punctuation", "WhitespaceSplit",
                                "Digits", "UnicodeScripts", "FixedLength"}),
    "decoder": frozenset({"BPEDecoder", "ByteLevel", "WordPiece", "Metaspace", "CTC", "Sequence",
                          "Replace", "Fuse", "Strip", "ByteFallback"}),
    "post_processor": frozenset({"RobertaProcessing", "BertProcessing", "ByteLevel",
                                 "TemplateProcessing", "Sequence"}),
}
_CHILDREN = {"normalizer": "normalizers", "pre_tokenizer": "pretokenizers", "decoder": "decoders",
             "post_processor": "processors"}
_BOOL_OPTIONS = frozenset({"add_prefix_space", "trim_offsets", "use_regex", "clean_text", "handle_chinese_chars",
                           "lowercase", "invert", "individual_digits", "split", "strip_left", "strip_right",
                           "cleanup"})
_ADDED_FLAGS = ("single_word", "lstrip", "rstrip", "normalized", "special")
_MODEL_BOOLS = ("fuse_unk", "byte_fallback", "ignore_merges")


def _fail(where: Any, field: str, problem: str, fix: str) -> TokenizerFormatError:
    return TokenizerFormatError(where, f"{field} {problem}", hint=fix)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def id_bound(entries: int) -> int:
    """The largest token id (exclusive) a file with ``entries`` tokens may use: room for gaps
    (a converted rank file's unused ids), none for an id that would need a huge table."""
    return 2 * entries + 1024


def check_hf_data(data: dict[str, Any], where: Any, *, model_type: str | None = None) -> None:
    """Raise :class:`TokenizerFormatError` naming the field and the fix for a malformed file.

    ``model_type`` (``BPE``, ``WordPiece``, ``Unigram``) is the model's type when the file
    leaves ``model.type`` out (older files) and it was inferred from the fields.
    """
    model = data["model"]
    added = _check_added_tokens(data.get("added_tokens"), where)
    kind = model.get("type") or model_type
    entries = _check_vocab(model, kind, where)
    bound = id_bound(entries + added)
    _check_ids(model, kind, bound, where)
    _check_added_ids(data.get("added_tokens") or [], bound, where)
    for option in _MODEL_BOOLS:
        if model.get(option) is not None and not isinstance(model[option], bool):
            raise _fail(where, f"model.{option}", f"is {model[option]!r}, not true or false", "set a boolean")
    for key in ("unk_token", "continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key) is not None and not isinstance(model[key], str):
            raise _fail(where, f"model.{key}", f"is {model[key]!r}, not a string", "set a string or null")
    if kind == "WordPiece":
        _check_wordpiece(model, where)
    for stage in COMPONENT_TYPES:
        _check_component(data.get(stage), stage, stage, where)


def _check_added_tokens(added: Any, where: Any) -> int:
    if added is None:
        return 0
    if not isinstance(added, list):
        raise _fail(where, "added_tokens", f"is a {type(added).__name__}, not a list", "use a list of token objects")
    for k, token in enumerate(added):
        field = f"added_tokens[{k}]"
        if not isinstance(token, dict):
            raise _fail(where, field, f"is {token!r}, not an object", 'use {"id": ..., "content": ..., ...}')
        if not isinstance(token.get("content"), str) or not token["content"]:
            raise _fail(where, f"{field}.content", f"is {token.get('content')!r}, not a non-empty string",
                        "give the token's text")
        if not _is_int(token.get("id")) or token["id"] < 0:
            raise _fail(where, f"{field}.id", f"is {token.get('id')!r}, not a non-negative integer",
                        "give the token's id")
        for flag in _ADDED_FLAGS:
            if not isinstance(token.get(flag), bool):
                shown = f"is {token[flag]!r}, not true or false" if flag in token else "is missing"
                raise _fail(where, f"{field}.{flag}", shown,
                            f"tokenizers requires every added token to set {', '.join(_ADDED_FLAGS)}")
    return len(added)


def _check_vocab(model: dict[str, Any], kind: Any, where: Any) -> int:
    vocab = model.get("vocab")
    if kind == "Unigram":
        if not isinstance(vocab, list):
            raise _fail(where, "model.vocab", f"is a {type(vocab).__name__}", "a Unigram vocab is a list of [piece, score]")
        for k, entry in enumerate(vocab):
            if (not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str)
                    or not isinstance(entry[1], int | float) or isinstance(entry[1], bool)
                    or not math.isfinite(entry[1])):
                raise _fail(where, f"model.vocab[{k}]", f"is {entry!r}", "each Unigram entry is [piece, finite score]")
        return len(vocab)
    if not isinstance(vocab, dict):
        raise _fail(where, "model.vocab", f"is a {type(vocab).__name__}, not an object",
                    f"a {kind} vocab maps each token to its integer id")
    return len(vocab)


def _check_ids(model: dict[str, Any], kind: Any, bound: int, where: Any) -> None:
    if kind == "Unigram":
        unk = model.get("unk_id")
        if unk is not None and (not _is_int(unk) or not 0 <= unk < len(model["vocab"])):
            raise _fail(where, "model.unk_id", f"is {unk!r}, outside the vocabulary (0..{len(model['vocab']) - 1})",
                        "set the index of the unknown piece, or null")
        return
    for token, token_id in model["vocab"].items():
        if not _is_int(token_id) or not 0 <= token_id < bound:
            raise _fail(where, f"model.vocab[{token!r}]",
                        f"has id {token_id!r}; ids must be integers from 0 to {bound - 1} for a file of this size",
                        "the file is damaged; re-download it")
    merges = model.get("merges")
    if kind == "BPE" and merges is not None and not isinstance(merges, list):
        raise _fail(where, "model.merges", f"is a {type(merges).__name__}, not a list", 'use ["a b", ...] or [["a", "b"], ...]')


def _check_added_ids(added: list[dict[str, Any]], bound: int, where: Any) -> None:
    for k, token in enumerate(added):
        if token["id"] >= bound:
            raise _fail(where, f"added_tokens[{k}].id", f"is {token['id']}, far past the vocabulary (ids below {bound})",
                        "the file is damaged; re-download it")


def _check_wordpiece(model: dict[str, Any], where: Any) -> None:
    unk = model.get("unk_token")
    if unk is None:
        raise _fail(where, "model.unk_token", "is missing", "WordPiece needs an unknown token, e.g. \"[UNK]\"")
    if unk not in model["vocab"]:
        raise _fail(where, "model.unk_token", f"{unk!r} is not in model.vocab",
                    "add it to the vocabulary or set unk_token to one of its tokens")
    limit = model.get("max_input_chars_per_word", 100)
    if not _is_int(limit) or limit < 0:
        raise _fail(where, "model.max_input_chars_per_word", f"is {limit!r}", "set a non-negative integer")


def _check_component(spec: Any, stage: str, field: str, where: Any) -> None:
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise _fail(where, field, f"is {str(spec)[:60]!r}, not an object", "use null or an object with a 'type'")
    kind = spec.get("type")
    valid = COMPONENT_TYPES[stage]
    if kind not in valid:
        raise _fail(where, f"{field}.type", f"is {kind!r}, which tokenizers does not know",
                    f"use one of {', '.join(sorted(valid))}")
    for option in _BOOL_OPTIONS & spec.keys():
        if not isinstance(spec[option], bool):
            raise _fail(where, f"{field}.{option}", f"is {spec[option]!r}, not true or false", "set a boolean")
    if kind == "Sequence":
        children = spec.get(_CHILDREN[stage])
        if not isinstance(children, list):
            raise _fail(where, f"{field}.{_CHILDREN[stage]}", "is not a list", f"list the {stage} steps")
        for k, child in enumerate(children):
            _check_component(child, stage, f"{field}.{_CHILDREN[stage]}[{k}]", where)
    elif kind == "Metaspace" and stage == "pre_tokenizer":
        replacement = spec.get("replacement", "\u2581")
        if not isinstance(replacement, str) or len(replacement) != 1:
            raise _fail(where, f"{field}.replacement", f"is {replacement!r}", "use one character, e.g. \"\u2581\"")
    elif kind == "TemplateProcessing":
        _check_template(spec, field, where)


def _check_template(spec: dict[str, Any], field: str, where: Any) -> None:
    for key, needs in (("single", {"A"}), ("pair", {"A", "B"})):
        template = spec.get(key)
        if not isinstance(template, list):
            raise _fail(where, f"{field}.{key}", "is not a list", "use a list of SpecialToken / Sequence items")
        found = {item["Sequence"].get("id") for item in template
                 if isinstance(item, dict) and isinstance(item.get("Sequence"), dict)}
        if not needs <= found:
            raise _fail(where, f"{field}.{key}", f"has no Sequence {' and '.join(sorted(needs - found))}",
                        "without it the text itself is dropped from every encoding")
