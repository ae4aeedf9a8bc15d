"""Constants and independent helpers the test modules share (not tests themselves)."""

from __future__ import annotations

#: Every tokenizer file (or folder) in ``shared/data/tokenizers``.
SHARED_TOKENIZERS = [
    "gpt2",
    "r50k_base.tiktoken",
    "cl100k_base.tiktoken",
    "olmo2_tokenizer.json",
    "llama_tokenizer.json",
    "mistral_v1.model",
    "qwen2_tokenizer.json",
    "gpt-neox_tokenizer.json",
    "bert-base-uncased_wordpiece_tokenizer.json",
]


def gpt2_byte_decoder() -> dict[str, int]:
    """GPT-2's bytes_to_unicode table (OpenAI's gpt-2 encoder.py), inverted: written out here
    again on purpose, so tests do not check tokbench's table against itself."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}
