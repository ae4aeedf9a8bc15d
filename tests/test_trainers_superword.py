"""Superword BPE (SuperBPE): the saved tokenizer.json encodes in ``tokenizers`` exactly as
tokbench's native encoder does on held-out FLORES and code, the stage-1 merges are a prefix of
the final list, superwords respect the word cap and the ``": "`` rule, and bad input is clear."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex

from tokbench.corpora import load_code, load_flores
from tokbench.trainers import TrainingError, get_trainer
from tokbench.trainers.bpe import train_bpe
from tokbench.trainers.superword import resolve_transition, superword_pieces, train_superword

LANGS = "eng_Latn,vie_Latn,rus_Cyrl,zho_Hans,hin_Deva"


@pytest.fixture(scope="module")
def split_docs(shared_data: Path) -> tuple[list[str], list[str]]:
    flores = shared_data / "flores200"
    code = [d for _, docs in load_code("python", code_dir=shared_data / "code").sample(max_bytes=200_000, seed=0)
            for d in docs]
    train = [d for _, docs in load_flores(LANGS, split="dev", flores_dir=flores) for d in docs] + code[::2]
    test = [d for _, docs in load_flores(LANGS, split="devtest", flores_dir=flores) for d in docs] + code[1::2]
    return train, test


@pytest.fixture(scope="module")
def trained(split_docs):
    return train_superword(split_docs[0], vocab_size=6000, transition=0.7, progress=False)


def test_saved_file_encodes_identically_in_tokenizers(trained, split_docs, tmp_path):
    from tokenizers import Tokenizer as HFTokenizer

    from tokbench import load_tokenizer

    path = trained.save(tmp_path / "superword.json")
    hf = HFTokenizer.from_file(str(path))
    loaded = load_tokenizer(path)
    test = split_docs[1]
    native = [trained.tokenizer.encode(t, backend="native") for t in test]
    assert [e.ids for e in hf.encode_batch(test, add_special_tokens=False)] == native
    assert loaded.encode_batch(test) == native
    assert all(hf.decode(ids) == t for ids, t in zip(native[:200], test[:200], strict=True))


def test_stage1_is_a_prefix_and_superwords_respect_the_caps(trained, split_docs):
    n1 = trained.options["stage1_merges"]
    stage1 = train_bpe(split_docs[0], vocab_size=trained.options["transition"], pattern="llama3", progress=False)
    assert trained.merges[:n1] == stage1.merges
    vocab = trained.tokenizer.vocab
    multi = [v for v in vocab if len(v.split()) > 1]
    assert len(multi) > 150, "stage 2 should learn superwords"
    assert max(len(regex.findall(rb"\S+", v)) for v in vocab) <= 4
    assert not any(b": " in v for v in vocab[trained.options["transition"]:])
    data = json.loads(trained.to_hf_json())
    assert data["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"].startswith(r"\p{N}{1,3}")


def test_fewer_tokens_than_bpe_on_held_out_text(shared_data):
    flores = shared_data / "flores200"
    train = [d for _, docs in load_flores("vie_Latn", split="dev", flores_dir=flores) for d in docs]
    test = [d for _, docs in load_flores("vie_Latn", split="devtest", flores_dir=flores) for d in docs]
    bpe = train_bpe(train, vocab_size=4000, pattern="llama3", progress=False).tokenizer
    sw = train_superword(train, vocab_size=4000, progress=False).tokenizer
    n_bpe = sum(map(len, bpe.encode_batch(test)))
    n_sw = sum(map(len, sw.encode_batch(test)))
    assert n_sw < 0.9 * n_bpe


def test_pieces_and_transition_helpers():
    assert superword_pieces("a b c d e f g h i", max_words=4) == ["a b c d", " e f g h", " i"]
    assert superword_pieces("Q: why not", max_words=4) == ["Q:", " why not"]
    assert superword_pieces("a:b c", max_words=4) == ["a:b c"]
    assert superword_pieces("  x y ", max_words=1) == ["  x", " y "]
    assert resolve_transition(0.5, 1000, 256) == 500
    assert resolve_transition(300, 1000, 256) == 300
    with pytest.raises(TrainingError, match="between the alphabet"):
        resolve_transition(100, 1000, 256)
    with pytest.raises(TrainingError, match="strictly between 0 and 1"):
        resolve_transition(1.5, 1000, 256)


def test_registry_and_bad_input():
    assert get_trainer("superword") is train_superword
    assert get_trainer("superbpe") is train_superword
    with pytest.raises(TrainingError, match="corpus is empty"):
        train_superword(["", ""], vocab_size=300, transition=280, progress=False)
    with pytest.raises(TrainingError, match="smaller than the alphabet|between the alphabet"):
        train_superword(["abc"], vocab_size=100, progress=False)
    with pytest.raises(TrainingError, match="no pair left"):
        train_superword(["ab ab"], vocab_size=400, transition=257, progress=False)
    with pytest.raises(TrainingError, match="max_words"):
        train_superword(["ab"], vocab_size=300, max_words=0, progress=False)
    with pytest.raises(TrainingError, match="word-count table"):
        train_superword({"ab": 3}, vocab_size=300, progress=False)
