"""Candidate texts that might produce a token, tried in rounds through the reference library.

The search is the positive half of :mod:`tokbench.metrics.unreachable`: a token is reachable
once the ground-truth library (``tokenizers``, ``tiktoken`` or ``sentencepiece``) outputs it on
some text, and that text is kept as the witness. Candidates, in order:

1. the token's own text (for SentencePiece-style models, without the leading space that the
   dummy prefix ``▁`` supplies);
2. the text with one context on each side from :data:`CONTEXTS`: a space, a letter, a digit, a
   newline, a tab, punctuation, an apostrophe, a NUL (which no merge touches) and a character
   outside every vocabulary (U+0378, unassigned, so SentencePiece byte-falls back on it);
3. for a token that starts or ends inside a multi-byte character, every pair of completions
   of its partial characters (a spread sample of at most :data:`COMPLETIONS` per end), alone
   and in the contexts.

Example:
    >>> texts = list(candidate_texts(b" hello", dummy_prefix=""))
    >>> texts[:3]
    [' hello', '  hello', ' hello ']
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from .utf8 import prefix_completions, split_partial, suffix_completions

__all__ = ["CONTEXTS", "COMPLETIONS", "candidate_texts", "own_text"]

#: (left, right) contexts around the token's text, after the text alone.
CONTEXTS: tuple[tuple[str, str], ...] = (
    (" ", ""), ("", " "), ("a", ""), ("", "a"), ("a", "a"), ("\x00", ""), ("", "\x00"),
    ("\x00", "\x00"), ("\n", ""), ("", "\n"), ("1", ""), ("", "1"), (".", ""), ("", "."),
    (" ", " "), ("\t", ""), ("'", ""), ("\u0378", ""), ("", "\u0378"), ("\u0378", "\u0378"),
    ("x ", " x"), ("\n", "\n"), ("A", "A"), ("é", "é"),
)
#: Completions tried per partial character at either end of a token.
COMPLETIONS = 24


def _spread(items: Iterator[str], n: int, cap: int = 4096) -> list[str]:
    pool = list(itertools.islice(items, cap))
    if len(pool) <= n:
        return pool
    # The first few (2-byte, common scripts) first, then an even spread over the rest.
    first, rest = pool[: n // 3], pool[n // 3 :]
    step = len(rest) / (n - len(first))
    return first + [rest[int(k * step)] for k in range(n - len(first))]


def own_text(data: bytes, *, dummy_prefix: str) -> str | None:
    """The token's own text (the first candidate), or None when it is not whole characters."""
    head, body, tail = split_partial(data)
    if head or tail:
        return None
    text = body.decode("utf-8")
    return text[len(dummy_prefix):] if dummy_prefix and text.startswith(dummy_prefix) else text


def candidate_texts(data: bytes, *, dummy_prefix: str) -> Iterator[str]:
    """Texts to try for a token with bytes ``data`` (see the module docstring).

    ``dummy_prefix`` is ``" "`` for models that prepend ``▁`` to the text, else ``""``.
    """
    head, body, tail = split_partial(data)
    if not head and not tail:
        text = body.decode("utf-8")
        if dummy_prefix and text.startswith(dummy_prefix):
            yield text[len(dummy_prefix):]
        yield text
        for left, right in CONTEXTS:
            yield left + text + right
        return
    heads = _spread(suffix_completions(head), COMPLETIONS) if head else [""]
    tails = _spread(prefix_completions(tail), COMPLETIONS) if tail else [""]
    middle = body.decode("utf-8")
    cores = [h + middle + t for h, t in itertools.product(heads, tails)]
    if head and not body and not tail and len(head) < 3:
        # A lone continuation byte may sit in the middle of a character, not only at its end.
        cores += _spread((c for c in suffix_completions(head + b"\x80")), COMPLETIONS)
        cores += _spread((c for c in suffix_completions(head + b"\xbf")), COMPLETIONS)
    yield from cores
    for left, right in CONTEXTS[:8]:
        for core in cores:
            yield left + core + right
