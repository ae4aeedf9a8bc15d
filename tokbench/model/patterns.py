"""Named pretokenizer split patterns (a registry) and guessing them from a file name.

tiktoken rank files hold no split pattern, so the user names one (``r50k``, ``p50k``,
``cl100k``, ``o200k``, ``llama3``) or gives a regex. The strings are the public patterns of
tiktoken (``tiktoken_ext.openai_public``) and of Llama 3's ``tokenizer.json``; a test checks them
against the installed tiktoken. Each named encoding also lists the special tokens that its
published encoding adds after the ranks.

Example:
    >>> get_pattern("cl100k").name
    'cl100k'
    >>> guess_pattern_name("cl100k_base.tiktoken")
    'cl100k'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UnknownNameError

__all__ = ["SplitPattern", "PATTERNS", "GPT2_PATTERN", "get_pattern", "guess_pattern_name"]

_ENDOFTEXT = "<|endoftext|>"
_FIM = {"<|fim_prefix|>": 100258, "<|fim_middle|>": 100259, "<|fim_suffix|>": 100260}

#: The pattern of the original GPT-2 release (used by HF ByteLevel with ``use_regex=True``).
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

_R50K = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
_CL100K = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_LLAMA3 = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


@dataclass(frozen=True)
class SplitPattern:
    """A named split regex and the special tokens its published encoding appends."""

    name: str
    regex: str
    special_tokens: dict[str, int] = field(default_factory=dict)
    #: Names of published encodings with this pattern, used to guess from file names.
    aliases: tuple[str, ...] = ()


PATTERNS: dict[str, SplitPattern] = {
    p.name: p
    for p in [
        SplitPattern("r50k", _R50K, {_ENDOFTEXT: 50256}, ("r50k_base", "gpt2", "gpt-2")),
        SplitPattern("p50k", _R50K, {_ENDOFTEXT: 50256}, ("p50k_base", "p50k_edit")),
        SplitPattern(
            "cl100k",
            _CL100K,
            {_ENDOFTEXT: 100257, **_FIM, "<|endofprompt|>": 100276},
            ("cl100k_base",),
        ),
        SplitPattern(
            "o200k", _O200K, {_ENDOFTEXT: 199999, "<|endofprompt|>": 200018}, ("o200k_base",)
        ),
        SplitPattern("llama3", _LLAMA3, {}, ("llama-3", "llama_3", "meta-llama-3")),
    ]
}


def get_pattern(name: str) -> SplitPattern:
    """The registered pattern called ``name`` (or one of its aliases)."""
    key = name.lower()
    for pattern in PATTERNS.values():
        if key == pattern.name or key in pattern.aliases:
            return pattern
    raise UnknownNameError("split pattern", name, list(PATTERNS))


def guess_pattern_name(path: str | Path) -> str | None:
    """Guess a named pattern from a file name such as ``cl100k_base.tiktoken``; ``None`` if unsure."""
    stem = Path(path).name.lower()
    # Longest alias first, so that "p50k_base" is not taken for "r50k".
    candidates = sorted(
        ((alias, p.name) for p in PATTERNS.values() for alias in (p.name, *p.aliases)),
        key=lambda item: -len(item[0]),
    )
    for alias, name in candidates:
        if re.search(rf"(^|[^a-z0-9]){re.escape(alias)}([^a-z0-9]|$)", stem):
            return name
    return None
