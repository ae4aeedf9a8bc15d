"""The numba byte-level BPE (tokbench.model.fast_bpe over tokbench._numba.bpe) against its
readable twin, tokbench.model.bpe.apply_merges: both merge rules (merge list, and tiktoken's
rank rule), pieces short enough for the rescanning path and long enough for the heap, random
vocabularies; and the native encoder's numba road against tiktoken and tokenizers on real text."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from tokbench._numba.bpe import SMALL_PIECE
from tokbench.formats import load_tokenizer
from tokbench.model.bpe import apply_merges, concat_rank_lookup, merge_rank_lookup
from tokbench.model.fast_bpe import ByteBPEKernel


def _random_merge_list(rng: random.Random, n_merges: int) -> tuple[list[bytes], list[tuple[int, int]], list[int]]:
    """Bytes 0-255 plus ``n_merges`` tokens made from pairs of earlier tokens over a, b, c, d."""
    vocab = [bytes([b]) for b in range(256)]
    index = {t: i for i, t in enumerate(vocab)}
    alive = [ord(c) for c in "abcd"]
    merges, merged = [], []
    while len(merges) < n_merges:
        a, b = rng.choice(alive), rng.choice(alive)
        joined = vocab[a] + vocab[b]
        if len(joined) > 8 or (a, b) in set(merges):
            continue
        if joined not in index:
            index[joined] = len(vocab)
            vocab.append(joined)
            alive.append(index[joined])
        merges.append((a, b))
        merged.append(index[joined])
    return vocab, merges, merged


def _pieces(rng: random.Random) -> tuple[np.ndarray, np.ndarray, list[bytes]]:
    lengths = [0, 1, 2, SMALL_PIECE, SMALL_PIECE + 1, 3 * SMALL_PIECE] + [rng.randint(1, 70) for _ in range(60)]
    pieces = [bytes(rng.choice(b"abcd") for _ in range(n)) for n in lengths]
    offsets = np.zeros(len(pieces) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in pieces], out=offsets[1:])
    return np.frombuffer(b"".join(pieces), dtype=np.uint8), offsets, pieces


@pytest.mark.parametrize("seed", range(12))
def test_merge_list_kernel_equals_apply_merges(seed: int):
    rng = random.Random(seed)
    vocab, merges, merged = _random_merge_list(rng, rng.randint(5, 60))
    kernel = ByteBPEKernel.from_merges(vocab, merges, merged)
    lookup = merge_rank_lookup(merges, merged_ids=merged)
    data, offsets, pieces = _pieces(rng)
    expected = [t for p in pieces for t in apply_merges(list(p), lookup)]
    assert kernel.encode(data, offsets, whole_first=False) == expected


@pytest.mark.parametrize("seed", range(12))
def test_rank_kernel_equals_the_concatenation_rule(seed: int):
    rng = random.Random(100 + seed)
    vocab, _, _ = _random_merge_list(rng, rng.randint(5, 60))
    kernel = ByteBPEKernel.from_ranks(vocab)
    index = {t: i for i, t in enumerate(vocab)}
    lookup = concat_rank_lookup(vocab, index, [float(i) for i in range(len(vocab))])
    data, offsets, pieces = _pieces(rng)
    expected = []
    for p in pieces:  # tiktoken: a piece that is a token is that token, else rank BPE
        expected += [index[p]] if p in index else apply_merges(list(p), lookup)
    assert kernel.encode(data, offsets, whole_first=True) == expected


def _real_texts(flores_dir: Path, code_dir: Path) -> list[str]:
    texts = []
    for path in sorted((flores_dir / "devtest").glob("*.devtest"))[::7]:
        texts += path.read_text(encoding="utf-8").splitlines()[:25]
    for path in sorted(code_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            texts += [json.loads(line)["text"] for _, line in zip(range(3), handle, strict=False)]
    return texts


@pytest.mark.parametrize("name", ["cl100k_base.tiktoken", "r50k_base.tiktoken", "gpt2", "olmo2_tokenizer.json",
                                  "qwen2_tokenizer.json", "gpt-neox_tokenizer.json"])
def test_native_numba_road_equals_the_reference(name: str, tokenizer_dir: Path, flores_dir: Path, code_dir: Path):
    tok = load_tokenizer(tokenizer_dir / name)
    texts = _real_texts(flores_dir, code_dir) + ["", " ", "<|endoftext|> after", "x\r\n\r\n  y  ", "'S'LL 1234567"]
    assert tok.native._fast_road() is not None, "this file should take the numba road"
    native = [tok.encode(t, backend="native") for t in texts]
    reference = [tok.encode(t, backend="reference") for t in texts]
    assert native == reference
