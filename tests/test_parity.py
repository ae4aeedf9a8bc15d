"""Parity with the ground-truth libraries on real multilingual text and code.

For every tokenizer in ``shared/data/tokenizers`` the reference object is built here, straight
from the library (not through tokbench's adapters), and tokbench must give identical ids both
through its default path and through its own native encoder. The default suite encodes the
first lines of FLORES devtest in every one of the 204 languages (well over 15 scripts) plus
documents from every code file; the slow suite encodes all of devtest and every code document.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import pytest
from shared_files import SHARED_TOKENIZERS as TOKENIZERS

import tokbench

LINES_PER_LANGUAGE = 6
DOCS_PER_CODE_LANGUAGE = 4
DOC_CHARS = 6000


# Models whose decode(encode(x)) gives x back (given NFC text where they normalize to NFC).
LOSSLESS = set(TOKENIZERS) - {"bert-base-uncased_wordpiece_tokenizer.json"}


def _texts(flores_dir: Path, code_dir: Path, *, full: bool) -> list[str]:
    texts: list[str] = []
    for path in sorted((flores_dir / "devtest").glob("*.devtest")):
        lines = path.read_text(encoding="utf-8").splitlines()
        texts.extend(lines if full else lines[:LINES_PER_LANGUAGE])
    for path in sorted(code_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for k, line in enumerate(handle):
                if not full and k >= DOCS_PER_CODE_LANGUAGE:
                    break
                text = json.loads(line)["text"]
                texts.append(text if full else text[:DOC_CHARS])
    return texts


class Reference(NamedTuple):
    """The ground-truth library's encode and decode for one file."""

    encode: Callable[[str], list[int]]
    decode: Callable[[list[int]], str]


def reference_library(path: Path) -> Reference:
    """Encode and decode of the library that is ground truth for this file, built straight from
    the library (not through tokbench's adapters)."""
    name = path.name
    if name.endswith(".tiktoken"):
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe
        from tiktoken_ext import openai_public

        # tiktoken's own constructor for the named encoding, with its download swapped for the local file.
        constructor = openai_public.r50k_base if name.startswith("r50k") else openai_public.cl100k_base
        with mock.patch.object(openai_public, "load_tiktoken_bpe", lambda *_a, **_k: load_tiktoken_bpe(str(path))):
            spec = constructor()
        encoding = tiktoken.Encoding(**spec)
        return Reference(encoding.encode_ordinary, encoding.decode)
    if name.endswith(".model"):
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(path))
        return Reference(sp.encode, sp.decode)
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    if path.is_dir():  # GPT-2 vocab.json + merges.txt
        hf = Tokenizer(models.BPE.from_file(str(path / "vocab.json"), str(path / "merges.txt")))
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        hf.decoder = decoders.ByteLevel()
        hf.add_special_tokens(["<|endoftext|>"])
    else:
        hf = Tokenizer.from_file(str(path))
    hf.no_padding()
    hf.no_truncation()
    return Reference(lambda text: hf.encode(text, add_special_tokens=False).ids,
                     lambda ids: hf.decode(ids, skip_special_tokens=False))


@pytest.fixture(scope="module")
def real_texts(flores_dir: Path, code_dir: Path) -> list[str]:
    return _texts(flores_dir, code_dir, full=False)


def test_text_sample_spans_languages_and_scripts(flores_dir: Path):
    languages = [p.stem for p in (flores_dir / "devtest").glob("*.devtest")]
    scripts = Counter(lang.split("_")[1] for lang in languages)
    assert len(languages) >= 50
    assert len(scripts) >= 15


def _check_parity(tokenizer_dir: Path, name: str, texts: list[str]) -> None:
    path = tokenizer_dir / name
    tok = tokbench.load_tokenizer(path)
    reference = reference_library(path).encode
    expected = [reference(t) for t in texts]
    default = tok.encode_batch(texts)
    native = [tok.encode(t, backend="native") for t in texts]
    for backend, got in (("default", default), ("native", native)):
        wrong = [i for i in range(len(texts)) if got[i] != expected[i]]
        assert not wrong, f"{name} {backend}: {len(wrong)} of {len(texts)} texts differ, first: {texts[wrong[0]][:80]!r}"
    if name in LOSSLESS:
        # A special token's text inside the input (Perl's POD "C<s>" for Llama's "<s>") is
        # encoded as that special token, whose decoding is not the original text.
        specials = [s for s in tok.special_tokens if s]
        for text, ids in zip(texts, expected, strict=True):
            if unicodedata.is_normalized("NFC", text) and not any(s in text for s in specials):
                assert tok.decode(ids) == text


@pytest.mark.parametrize("name", TOKENIZERS)
def test_ids_equal_reference_on_real_text(tokenizer_dir: Path, real_texts: list[str], name: str):
    _check_parity(tokenizer_dir, name, real_texts)


@pytest.mark.slow
@pytest.mark.parametrize("name", TOKENIZERS)
def test_ids_equal_reference_on_all_of_devtest_and_code(tokenizer_dir: Path, flores_dir: Path, code_dir: Path, name: str):
    _check_parity(tokenizer_dir, name, _texts(flores_dir, code_dir, full=True))
