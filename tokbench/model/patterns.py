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

__all__ = ["SplitPattern", "PATTERNS", "GPT2_PATTERN", "VETTED_PATTERNS", "get_pattern", "resolve_split_pattern",
           "guess_pattern_name", "regex_timeout", "REGEX_TIMEOUT", "REGEX_SECONDS_PER_CHAR"]

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


def _oniguruma(pattern: str) -> str:
    # the spelling tokbench writes into tokenizer.json (formats.tokenizer_json.oniguruma_pattern)
    return re.sub(r"(?<!\\)(\{\d+(?:,\d*)?\})\+", r"\1", pattern)


#: Split regexes known to run in linear time (the named patterns, as tokbench writes them into
#: tokenizer.json too, Qwen2's digit-by-digit variant of Llama 3's, and the regexes tokbench's
#: own HF translations use). Other patterns come from files and run under a time limit.
VETTED_PATTERNS: frozenset[str] = frozenset(
    [GPT2_PATTERN, _LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}"), r"\w+|[^\w\s]+", r"\p{N}", r"\p{N}+", " {2,}"]
    + [p.regex for p in PATTERNS.values()]
    + [_oniguruma(p.regex) for p in PATTERNS.values()]
)

#: A split or replace regex that is not a vetted pattern gets this many seconds per text, plus
#: :data:`REGEX_SECONDS_PER_CHAR` per character, before it is stopped: a pattern with nested
#: quantifiers (``(a|aa)+$``) backtracks exponentially. Vetted patterns run without a limit,
#: since the ``regex`` module's timeout check costs 2.5-5x on the split itself.
REGEX_TIMEOUT = 1.0
REGEX_SECONDS_PER_CHAR = 1e-5


def regex_timeout(pattern: str, text: str) -> float | None:
    """The time limit for splitting ``text`` with ``pattern`` (None: a vetted pattern).

    Example:
        >>> regex_timeout(GPT2_PATTERN, "abc") is None, regex_timeout("(a|aa)+$", "abc")
        (True, 1.00003)
    """
    if pattern in VETTED_PATTERNS:
        return None
    return REGEX_TIMEOUT + REGEX_SECONDS_PER_CHAR * len(text)


#: A --pattern value that looks like a name (not a regex) must be a known name.
_NAME_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")


def get_pattern(name: str) -> SplitPattern:
    """The registered pattern called ``name`` (or one of its aliases)."""
    key = name.lower()
    for pattern in PATTERNS.values():
        if key == pattern.name or key in pattern.aliases:
            return pattern
    raise UnknownNameError("split pattern", name, list(PATTERNS))


def resolve_split_pattern(pattern: str) -> SplitPattern | str:
    """A named pattern, or ``pattern`` itself when it is a regex.

    A value that looks like a name (letters, digits, ``_.-``; ``cl100kk``) must be a known name
    or alias: compiling a typo as a regex would silently split text into nothing. Raises
    :class:`~tokbench.errors.UnknownNameError` listing the names, or ``ValueError`` for an
    invalid regex.

    Example:
        >>> resolve_split_pattern("cl100k").name, resolve_split_pattern("[a-z]+")
        ('cl100k', '[a-z]+')
    """
    if not isinstance(pattern, str) or not pattern:
        raise UnknownNameError("split pattern", repr(pattern), list(PATTERNS))
    try:
        return get_pattern(pattern)
    except UnknownNameError:
        if _NAME_LIKE.fullmatch(pattern):
            raise
    import regex

    try:
        regex.compile(pattern)
    except (regex.error, RecursionError, OverflowError) as err:
        raise ValueError(str(err)) from None
    return pattern


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
