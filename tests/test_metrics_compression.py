"""Compression and efficiency metrics: hand-worked toys and real files.

The toy tokenizer here (``char_tokenizer``) is shared with the other metric tests: a greedy
longest-match encoder over a few strings, no normalisation, so every count can be derived by hand.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from tokbench.corpora import Corpus, load_sample
from tokbench.errors import TokbenchError
from tokbench.formats import load_tokenizer
from tokbench.metrics.compression import (
    compression,
    count_tokens,
    renyi_efficiency,
    renyi_entropy,
)
from tokbench.model.tokenizer import Tokenizer


class _CharEncoder:
    library = "toy"

    def __init__(self, vocab: list[bytes], unk: int | None):
        self.index = {v.decode("utf-8"): i for i, v in enumerate(vocab) if v and i != unk}
        self.longest_first = sorted(self.index, key=len, reverse=True)
        self.unk = unk

    def encode(self, text: str) -> list[int]:
        out, i = [], 0
        while i < len(text):
            for piece in self.longest_first:  # greedy longest match
                if text.startswith(piece, i):
                    out.append(self.index[piece])
                    i += len(piece)
                    break
            else:
                if self.unk is None:
                    raise ValueError(text[i])
                out.append(self.unk)
                i += 1
        return out

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [self.encode(t) for t in texts]

    def decode(self, ids: list[int]) -> str:
        inverse = {i: c for c, i in self.index.items()}
        return "".join(inverse.get(i, "\ufffd") for i in ids)


def char_tokenizer(chars: str, *, unk: bool = False, name: str = "toy", extra: list[bytes] | None = None) -> Tokenizer:
    vocab = ([b"<unk>"] if unk else []) + [c.encode("utf-8") for c in chars] + list(extra or [])
    specials = {"<unk>": 0} if unk else {}
    unk_id = 0 if unk else None
    return Tokenizer(
        vocab=vocab, kind="bpe", name=name, fingerprint="0" * 64, special_tokens=specials,
        description={"model_options": {"unk_token": "<unk>"}} if unk else {},
        _reference_factory=lambda: _CharEncoder(vocab, unk_id),
    )


# ------------------------------------------------------------------------------- by hand


def test_toy_compression_by_hand():
    """Vocab: " ", a, b, c, d, " ab", " cd" (7 ids). Documents "ab cd" and "a".

    Greedy longest match: "ab cd" -> a | b | " cd" (3), "a" -> a (1): CTC 4, 6 bytes, 6 chars,
    so bytes/token = chars/token = 1.5. Words: ab, cd, a (3): fertility 4/3.
    Continued words: each word encoded as in running text, " ab" -> 1 token, " cd" -> 1,
    " a" -> " " | a: the space token spells none of the word, so "a" is one piece: 0 of 3.
    Frequencies a:2 b:1 " cd":1 -> p = (1/2, 1/4, 1/4); Rényi α=2: H = -ln(1/4+1/16+1/16)
    = -ln 0.375; efficiency H/ln 3 (types) and H/ln 7 (vocabulary). Types used 3 of 7.
    """
    tok = char_tokenizer(" abcd", extra=[b" ab", b" cd"])
    res = compression(tok, Corpus("toy", {"eng_Latn": ["ab cd", "a"]}), alpha=2.0)
    row = res.to_frame().iloc[0]
    assert (row.ctc, row.bytes, row.chars, row.words, row.types_used) == (4, 6, 6, 3, 3)
    assert row.bytes_per_token == 1.5 and row.chars_per_token == 1.5
    assert row.fertility == pytest.approx(4 / 3) and row.fertility_unit == "word"
    assert row.continued_words == 0
    h = -math.log(0.375)
    assert row.renyi_efficiency == pytest.approx(h / math.log(3))
    assert row.renyi_efficiency_vocab == pytest.approx(h / math.log(7))
    assert row.vocab_used_share == pytest.approx(3 / 7)
    assert row.premium == 1.0 and row["flags"] == ""


def test_continued_words_counts_pieces_not_markers():
    """Words of "abc ab a", each encoded with its leading space: " abc" -> " ab" | c (2 pieces:
    continued), " ab" -> " ab" (1), " a" -> " " | a (the space token spells no character of the
    word, like the hybrid's explicit space and case tokens: 1 piece). 1 of 3 is continued."""
    tok = char_tokenizer(" abc", extra=[b" ab"])
    row = compression(tok, Corpus("toy", {"eng_Latn": ["abc ab a"]})).to_frame().iloc[0]
    assert row.continued_words == pytest.approx(1 / 3)


def test_hybrid_space_and_case_tokens_do_not_continue_words():
    """The hybrid spells " The" as space | <uppercase> | the: one piece, not a continued word
    (it was 1.000 for every category before); a word its lexicon lacks is split by the fallback."""
    from tokbench.formats.hybrid_json import hybrid_data, tokenizer_from_hybrid_data

    data = hybrid_data(tokens=[("<uppercase>", "special", 0), (" ", "space", 1), ("the", "root", 2)],
                       fallback_vocab=[bytes([b]) for b in range(256)], fallback_merges=[])
    tok = tokenizer_from_hybrid_data(data)
    assert len(tok.encode(" The")) == 3
    row = compression(tok, Corpus("toy", {"eng_Latn": ["The the"]})).to_frame().iloc[0]
    assert row.continued_words == 0 and row.ctc == 4  # <uppercase> the ␣ the


def test_renyi_by_hand():
    """p = (1/2, 1/4, 1/4): α=2 -> -ln(3/8); α=1 (Shannon) -> 1.5 ln 2; uniform -> ln n for any α."""
    assert renyi_entropy([2, 1, 1], 2.0) == pytest.approx(-math.log(0.375))
    assert renyi_entropy([2, 1, 1], 1.0) == pytest.approx(1.5 * math.log(2))
    assert renyi_entropy([3, 3, 3, 3], 2.5) == pytest.approx(math.log(4))
    assert renyi_efficiency([3, 3, 3, 3], 2.5) == pytest.approx(1.0)
    assert renyi_efficiency([3, 3, 3, 3], 2.5, vocab_size=16) == pytest.approx(0.5)
    assert renyi_efficiency([7], 2.5) is None  # log 1 = 0: undefined, said explicitly
    for bad in (0, -1, float("nan")):
        with pytest.raises(TokbenchError, match="alpha"):
            renyi_entropy([1, 2], bad)
    with pytest.raises(TokbenchError, match="empty"):
        renyi_entropy([0, 0], 2.5)


def test_unknown_characters_by_hand():
    """Vocab <unk>, a, b, " ". "abx y" -> a b <unk> " " <unk>: 2 unknown tokens. Non-space
    characters: a b x y = 4; known tokens spell a, b = 2; so 4 - 2 = 2 unknown characters of 5
    (share 0.4 > 0.1: flagged)."""
    tok = char_tokenizer("ab ", unk=True)
    counts = count_tokens(tok, ["abx y"])
    assert (counts.ctc, counts.unk_tokens, counts.unk_chars, counts.fallback_chars) == (5, 2, 2, 0)
    row = compression(tok, Corpus("toy", {"x": ["abx y"]})).to_frame().iloc[0]
    assert row.unk_share == pytest.approx(0.4) and "unknown token" in row["flags"]


def test_unspaced_scripts_use_characters():
    """zho_Hans: fertility per non-space character; continued_words is None, with a flag."""
    tok = char_tokenizer("中文 ")
    row = compression(tok, Corpus("toy", {"zho_Hans": ["中文中"]})).to_frame().iloc[0]
    assert row.fertility_unit == "char" and row.fertility == 1.0
    assert row.continued_words is None or math.isnan(row.continued_words)
    assert "unspaced" in row["flags"]


def test_single_type_flags_instead_of_nan():
    tok = char_tokenizer("a ")
    row = compression(tok, Corpus("toy", {"x": ["aaaa"]})).rows[0]
    assert row["renyi_efficiency"] is None and "single token type" in row["flags"]


def test_demo_columns_stay():
    tok = char_tokenizer(" abcdefghijklmnopqrstuvwxyz")
    frame = compression(tok, Corpus("toy", {"eng_Latn": ["a b"], "fra_Latn": ["ab c"], "code": ["x"]})).to_frame()
    for col in ("tokenizer", "category", "documents", "bytes", "ctc", "bytes_per_token",
                "chars_per_token", "vocab_used_share", "premium"):
        assert col in frame
    assert frame.set_index("category").loc["code", "parallel"] == False  # noqa: E712
    assert pd.isna(frame.set_index("category").loc["code", "premium"])


# ------------------------------------------------------------------------------- real files


@pytest.mark.parametrize("name", ["cl100k_base.tiktoken", "llama_tokenizer.json", "bert-base-uncased_wordpiece_tokenizer.json"])
def test_real_renyi_matches_direct_computation(tokenizer_dir, name):
    """Rényi efficiency of compression() equals the formula applied to a Counter of token ids."""
    tok = load_tokenizer(tokenizer_dir / name)
    corpus = load_sample("eng_Latn,hin_Deva")
    res = compression(tok, corpus, alpha=2.5, word_stats=False)
    for row in res.rows:
        freq = Counter(i for doc in corpus.documents(row["category"]) for i in tok.encode(doc))
        p = np.array(list(freq.values()), dtype=float)
        p /= p.sum()
        h = math.log((p ** 2.5).sum()) / (1 - 2.5)
        assert row["ctc"] == sum(freq.values())
        assert row["types_used"] == len(freq)
        assert row["renyi_efficiency"] == pytest.approx(h / math.log(len(freq)), rel=1e-12)
        assert row["renyi_efficiency_vocab"] == pytest.approx(h / math.log(tok.vocab_size), rel=1e-12)


def test_real_fallback_chars_llama(tokenizer_dir):
    """Llama spells Ge'ez with byte fallback: each character's lead byte counts once."""
    tok = load_tokenizer(tokenizer_dir / "llama_tokenizer.json")
    text = "ሰላም"  # three Ethiopic characters, none in Llama's vocabulary as a piece? counted either way
    counts = count_tokens(tok, [text])
    ids = tok.encode(text)
    leads = sum(1 for i in ids if i in tok.byte_fallback_ids and not 0x80 <= tok.vocab[i][0] <= 0xBF)
    assert counts.fallback_chars == leads


def test_real_result_protocol_and_unknown_token_notes(tokenizer_dir, flores_dir):
    """CompressionResult follows tokbench.results.Result; BERT-uncased spells Amharic with [UNK],
    which the notes say; French, spelled with ordinary tokens, gets no note."""
    from tokbench.corpora import load_flores
    from tokbench.results import Result, Signature

    tok = load_tokenizer(tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json")
    res = compression(tok, load_flores("eng_Latn,amh_Ethi,fra_Latn", split="dev"), word_stats=False)
    assert isinstance(res, Result) and isinstance(res.signature, Signature)
    frame = res.to_frame()
    assert frame.set_index("category").loc["amh_Ethi", "unk_share"] > 0.1
    assert len(res.notes) == 1 and res.notes[0].startswith(f"{tok.name}/amh_Ethi: the unknown token spells")
