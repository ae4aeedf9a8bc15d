"""Character-level BPE (KL3M-style): the cap holds, merges equal HF ``BpeTrainer``'s under the same
setup, the file round-trips through ``tokenizers``, NFKC works, compression vs plain BPE is
reported, and bad input is a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tokbench.corpora import load_code, load_flores
from tokbench.trainers import TrainingError, get_trainer
from tokbench.trainers.bpe import train_bpe
from tokbench.trainers.char_bpe import train_char_bpe

LANGS = "eng_Latn,fra_Latn,rus_Cyrl,zho_Hans"
BYTE_TOKENS = [f"<0x{b:02X}>" for b in range(256)]


@pytest.fixture(scope="module")
def docs(shared_data: Path) -> list[str]:
    flores = load_flores(LANGS, split="devtest", flores_dir=shared_data / "flores200")
    code = load_code("python", code_dir=shared_data / "code").sample(max_bytes=200_000, seed=0)
    return [d for _, ds in flores for d in ds] + [d for _, ds in code for d in ds]


@pytest.fixture(scope="module")
def held_out(shared_data: Path) -> list[str]:
    flores = load_flores(LANGS + ",arb_Arab,hin_Deva", split="dev", flores_dir=shared_data / "flores200")
    return [d for _, ds in flores for d in ds[:100]]


def _model_strings(trained) -> list[str]:
    return list(json.loads(trained.to_hf_json())["model"]["vocab"])


@pytest.mark.parametrize("cap", [3, 4])
def test_no_token_exceeds_the_cap_and_merges_equal_hf(docs: list[str], cap: int):
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers

    from tokbench.model.patterns import GPT2_PATTERN

    trained = train_char_bpe(docs, vocab_size=4000, max_token_chars=cap, progress=False)
    strings = [s for s in _model_strings(trained) if s not in BYTE_TOKENS]
    assert max(len(s) for s in strings) == cap
    assert trained.tokenizer.vocab_size == 4000
    # The same training in HF terms: byte-fallback tokens first, a strict length limit of cap + 1.
    hf = Tokenizer(models.BPE(byte_fallback=True))
    hf.pre_tokenizer = pre_tokenizers.Split(Regex(GPT2_PATTERN), behavior="isolated")
    hf.train_from_iterator(docs, trainer=trainers.BpeTrainer(
        vocab_size=4000, special_tokens=BYTE_TOKENS, max_token_length=cap + 1, show_progress=False))
    expected = json.loads(hf.to_str())["model"]
    ours = json.loads(trained.to_hf_json())["model"]
    assert [tuple(m) for m in ours["merges"]] == [tuple(m) for m in expected["merges"]]
    assert ours["vocab"] == expected["vocab"]


def test_loads_in_tokenizers_and_encodes_identically(docs, held_out, tmp_path):
    from tokenizers import Tokenizer as HFTokenizer

    trained = train_char_bpe(docs, vocab_size=3000, max_token_chars=4, special_tokens=["<s>"],
                             limit_alphabet=1500, normalization="NFKC", progress=False)
    hf = HFTokenizer.from_file(str(trained.save(tmp_path / "tokenizer.json")))
    tok = trained.tokenizer
    texts = held_out + ["ﬁne ＡＢＣ ①", "x = 1\n\tif y:  return '<s>'"]
    for text in texts:  # Arabic, Hindi and rare Chinese characters go through byte fallback
        native = tok.encode(text, backend="native")
        assert native == hf.encode(text, add_special_tokens=False).ids
        assert native == tok.encode(text, backend="reference")
    assert tok.decode(tok.encode("ﬁne ＡＢＣ")) == "fine ABC"  # NFKC folded the ligature and width
    assert get_trainer("char_bpe") is train_char_bpe


def test_compression_against_plain_bpe_is_reported(docs, held_out, capsys):
    held_out = held_out[:400]  # the four training languages only; unseen scripts say little here
    plain = train_bpe(docs, vocab_size=4000, progress=False).tokenizer
    n_bytes = sum(len(t.encode("utf-8")) for t in held_out)
    rows = {"byte-level BPE": plain}
    for cap in (3, 4):
        rows[f"char BPE cap {cap}"] = train_char_bpe(docs, vocab_size=4000, max_token_chars=cap,
                                                     progress=False).tokenizer
    ratio = {name: n_bytes / sum(len(ids) for ids in tok.encode_batch(held_out)) for name, tok in rows.items()}
    with capsys.disabled():
        print("\nbytes per token on held-out FLORES dev eng/fra/rus/zho (vocab 4000): "
              + ", ".join(f"{k} {v:.2f}" for k, v in ratio.items()))
    assert ratio["char BPE cap 3"] < ratio["char BPE cap 4"] < ratio["byte-level BPE"]


@pytest.mark.parametrize("texts", [[], [""], {}])
def test_empty_corpus_is_a_clear_error(texts):
    with pytest.raises(TrainingError, match="empty"):
        train_char_bpe(texts, vocab_size=300, progress=False)


def test_bad_sizes_and_options_are_clear_errors():
    with pytest.raises(TrainingError, match="smaller than the alphabet.*limit_alphabet"):
        train_char_bpe(["abcdef"], vocab_size=260, progress=False)
    with pytest.raises(TrainingError, match="no pair left to merge"):
        train_char_bpe(["ab ab"], vocab_size=300, progress=False)
    assert train_char_bpe(["ab ab"], vocab_size=300, allow_smaller=True, progress=False).stop_reason == "no_pairs"
    with pytest.raises(TrainingError, match="max_token_chars"):
        train_char_bpe(["abc"], vocab_size=300, max_token_chars=1, progress=False)
    with pytest.raises(TrainingError, match="normalization"):
        train_char_bpe(["abc"], vocab_size=300, normalization="NFX", progress=False)  # type: ignore[arg-type]
    with pytest.raises(TrainingError, match="single character"):
        train_char_bpe(["abc"], vocab_size=300, special_tokens=["a"], progress=False)
