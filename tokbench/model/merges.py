"""Recovering an ordered merge list from files that store only ranks or scores.

tiktoken rank files and Mistral Tekken files list tokens by rank; SentencePiece BPE models list
pieces by score (minus their creation order). Neither stores merges, but BPE itself says which
merge created a token: encode the token's own bytes (or characters) allowing only tokens of
better rank, and stop when two parts remain. Those two parts are the merge, and the merges in
rank order are the merge list (for GPT-2 this reproduces ``merges.txt`` exactly; a test checks).

Tokens that BPE cannot build from two better-ranked tokens (hand-added tokens, or byte pieces)
have no merge and are skipped.

Example:
    >>> vocab = [b"a", b"b", b"ab", b"abb"]
    >>> recover_merges(vocab, ranks=[0, 1, 2, 3], base_ids=[0, 1])
    [(0, 1), (2, 1)]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["recover_merges", "split_by_rank"]


def split_by_rank(
    symbols: list[int],
    token_of: Callable[[int, int], int | None],
    rank: Sequence[float],
    limit: float,
) -> list[int]:
    """Merge ``symbols`` by best (lowest) rank, using only tokens ranked below ``limit``,
    stopping as soon as two symbols remain."""
    parts = list(symbols)
    while len(parts) > 2:
        best = None
        best_rank = limit
        for i in range(len(parts) - 1):
            merged = token_of(parts[i], parts[i + 1])
            if merged is not None and rank[merged] < best_rank:
                best, best_rank = i, rank[merged]
        if best is None:
            break
        parts[best : best + 2] = [token_of(parts[best], parts[best + 1])]  # type: ignore[list-item]
    return parts


def recover_merges(
    vocab: Sequence[bytes] | Sequence[str],
    *,
    ranks: Sequence[float],
    base_ids: Sequence[int] | None = None,
    initial_symbols: Callable[[int], list[int] | None] | None = None,
    candidates: Sequence[int] | None = None,
) -> list[tuple[int, int]]:
    """The merge list implied by token ranks, ordered by the rank of each merge's result.

    ``vocab[i]`` is token i's bytes (or string); ``ranks[i]`` its rank (lower = merged earlier).
    ``initial_symbols(i)`` gives the base symbols token i is built from (default: its single
    bytes/characters looked up among ``base_ids``). ``candidates`` restricts which tokens may
    be merge results (default: every token longer than one unit).
    """
    lookup: dict[bytes | str, int] = {}
    for i in sorted(range(len(vocab)), key=lambda t: ranks[t]):
        lookup.setdefault(vocab[i], i)

    def token_of(a: int, b: int) -> int | None:
        return lookup.get(vocab[a] + vocab[b])  # type: ignore[operator]

    if initial_symbols is None:
        base = {vocab[i]: i for i in (base_ids if base_ids is not None else range(len(vocab))) if len(vocab[i]) == 1}

        def initial_symbols(token: int) -> list[int] | None:
            unit = vocab[token]
            parts = [base.get(unit[k : k + 1]) for k in range(len(unit))]
            return None if any(p is None for p in parts) else parts  # type: ignore[return-value]

    order = candidates if candidates is not None else range(len(vocab))
    merges: list[tuple[int, tuple[int, int]]] = []
    for token in order:
        if len(vocab[token]) < 2:
            continue
        symbols = initial_symbols(token)
        if symbols is None or len(symbols) < 2:
            continue
        parts = split_by_rank(symbols, token_of, ranks, ranks[token])
        if len(parts) == 2 and token_of(parts[0], parts[1]) == token:
            merges.append((token, (parts[0], parts[1])))
    merges.sort(key=lambda item: ranks[item[0]])
    return [pair for _, pair in merges]
