"""Baseline trainers (SentencePiece BPE/Unigram, HF Unigram/WordPiece), the trainer registry and
``tokbench train --trainer``: every trained tokenizer loads back through ``load_tokenizer`` and
through its reference library with identical encodings; bad input gives clear errors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tokbench import load_tokenizer
from tokbench.corpora import load_flores
from tokbench.errors import TokbenchError, UnknownNameError
from tokbench.trainers import TRAINERS, TrainingError, get_trainer

BASELINES = ["spm-bpe", "spm-unigram", "hf-unigram", "hf-wordpiece"]


@pytest.fixture(scope="module")
def docs(shared_data: Path) -> tuple[list[str], list[str]]:
    flores = shared_data / "flores200"
    langs = "eng_Latn,rus_Cyrl,zho_Hans"
    train = [d for _, ds in load_flores(langs, split="dev", flores_dir=flores) for d in ds[:400]]
    test = [d for _, ds in load_flores(langs, split="devtest", flores_dir=flores) for d in ds[:100]]
    return train, test


def reference_encode(path: Path, texts: list[str]) -> list[list[int]]:
    if path.suffix == ".model":
        import sentencepiece as spm

        return spm.SentencePieceProcessor(model_file=str(path)).encode(texts)
    from tokenizers import Tokenizer as HFTokenizer

    return [e.ids for e in HFTokenizer.from_file(str(path)).encode_batch(texts, add_special_tokens=False)]


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_round_trips_through_load_tokenizer_and_reference(name, docs, tmp_path):
    train, test = docs
    trained = get_trainer(name)(train, vocab_size=3000, progress=False)
    path = trained.save(tmp_path / "tok.json")
    assert path.exists() and (path.suffix == ".model") == name.startswith("spm")
    loaded = load_tokenizer(path)
    ours = trained.tokenizer.encode_batch(test)
    assert loaded.encode_batch(test) == ours
    assert reference_encode(path, test) == ours
    assert loaded.vocab_size == trained.tokenizer.vocab_size
    if name != "hf-wordpiece":  # WordPiece adds every character of the alphabet on top
        assert loaded.vocab_size == 3000
    if name == "spm-bpe":  # tokbench's native SentencePiece-BPE encoder agrees too
        assert [loaded.encode(t, backend="native") for t in test] == ours


@pytest.mark.parametrize("name", BASELINES)
def test_baseline_bad_input(name):
    train = get_trainer(name)
    with pytest.raises(TrainingError, match="corpus is empty"):
        train(["", "  "], vocab_size=1000, progress=False)
    with pytest.raises(TrainingError, match="smaller than the alphabet"):
        train(["abcdefghij klmnop"] * 5, vocab_size=5, progress=False)
    with pytest.raises(TrainingError, match="vocab_size"):
        train(["the cat sat on the mat"] * 3, vocab_size=5000, progress=False)


def test_registry_lists_every_family_and_rejects_unknown_names():
    assert set(TRAINERS) == {"bpe", "char_bpe", "superword", "hybrid", "spm-bpe", "spm-unigram",
                             "hf-unigram", "hf-wordpiece"}
    assert get_trainer("char") is get_trainer("char_bpe")
    with pytest.raises(UnknownNameError, match="valid names: bpe, char_bpe"):
        get_trainer("wordpiece")


def _parser() -> argparse.ArgumentParser:
    from tokbench.cli import train as command

    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    return parser


@pytest.mark.parametrize("trainer", ["char", "superword", "spm-unigram", "hf-wordpiece"])
def test_train_command_for_each_trainer(trainer, shared_data, tmp_path, capsys):
    from tokbench.cli import train as command

    spec = str(shared_data / "flores200" / "dev" / "eng_Latn.dev")
    out = tmp_path / "tok.json"
    args = _parser().parse_args(["--trainer", trainer, "--corpus", spec, "--vocab-size", "1200", "-o", str(out),
                                 "--no-progress"])
    assert command.run(args) == 0
    printed = capsys.readouterr().out
    written = Path(printed.split("written ")[1].split()[0])
    assert written.exists()
    text = (shared_data / "flores200" / "devtest" / "eng_Latn.devtest").read_text(encoding="utf-8").splitlines()[:50]
    assert load_tokenizer(written).encode_batch(text) == reference_encode(written, text)


def test_train_command_rejects_options_a_trainer_cannot_use(shared_data, tmp_path):
    from tokbench.cli import train as command

    spec = str(shared_data / "flores200" / "dev" / "eng_Latn.dev")
    base = ["--corpus", spec, "--vocab-size", "1200", "-o", str(tmp_path / "t.json")]
    with pytest.raises(TokbenchError, match="--transition works with --trainer superword only"):
        command.run(_parser().parse_args([*base, "--trainer", "spm-bpe", "--transition", "0.5"]))
    with pytest.raises(TokbenchError, match="--max-words works with --trainer superword only"):
        command.run(_parser().parse_args([*base, "--kind", "bpe", "--max-words", "3"]))
    with pytest.raises(TokbenchError, match="--continue-from works with --kind bpe only"):
        command.run(_parser().parse_args([*base, "--trainer", "superword", "--continue-from", "x.json"]))
    with pytest.raises(UnknownNameError, match="unknown trainer"):
        command.run(_parser().parse_args([*base, "--trainer", "nope"]))
    assert not (tmp_path / "t.json").exists()
