"""Fuzz parity: tokbench's native pipeline against the reference library, 0 mismatches allowed.

Real text (tests/test_parity.py) rarely reaches the corners where two pipelines disagree: Unicode
tables of different versions, control and format characters, whitespace that is not a space,
noncharacters. Here a seeded generator glues such fragments into random strings — scripts
(Latin, Cyrillic, Arabic, Devanagari, Sinhala, Thai, CJK, Hangul...), emoji with ZWJ sequences
and skin tones, combining marks, controls, runs of every Unicode space, U+2028/U+2029, the BOM,
noncharacters, unassigned and private-use code points (including characters assigned only in
Unicode versions newer than the references' tables), digits of every script, apostrophe
contractions and CR/LF mixes — and every shared tokenizer must give the reference library's ids
through ``backend="native"``. A failure prints the seed and the string, so it reproduces.

Gemma-style files (SentencePiece BPE converted to ``tokenizer.json`` with a ``Replace(" ", "▁")``
normalizer, a no-op ``Split(" ", MergedWithPrevious)`` or no pretokenizer, byte fallback and
``fuse_unk``) are not among the shared files: they are built here from Llama's file, from a BPE
trained with ``tokenizers`` and from a SentencePiece BPE model trained as Gemma's was (the last
two on FLORES dev, so that their vocabularies have Sinhala pieces with ZERO WIDTH JOINER), and
checked on FLORES Sinhala and, in the slow suite, 16 other Brahmic and Southeast Asian scripts.
The last sections check the Unicode tables code point by code point, and HF BPE's rules for
characters outside the vocabulary on a toy file.
"""

from __future__ import annotations

import functools
import json
import random
import unicodedata
from pathlib import Path

import pytest
from shared_files import SHARED_TOKENIZERS as TOKENIZERS
from test_parity import reference_library

import tokbench

DEFAULT_STRINGS = 400
SLOW_STRINGS = 20_000
SEED = 18

# ------------------------------------------------------------------------------- the generator

WORDS = ["hello", "World", "naïve", "Straße", "ΣΟΦΟΣ", "привет", "Москва", "مرحبا", "العربية", "नमस्ते",
         "हिन्दी", "क्‍ष", "क्‌ष", "ශ්‍රී", "ලංකාව", "ක්‍ය", "ර්‍ක", "සිංහල", "ද්‍ර", "สวัสดี", "ภาษาไทย",
         "中文", "日本語", "漢字", "한국어", "안녕하세요", "עברית", "ქართული", "தமிழ்", "ਪੰਜਾਬੀ", "বাংলা",
         "ខ្មែរ", "İstanbul", "ǅemal", "ﬁne", "Ⅻ", "ＡＢＣ"]
#: (first, last) code points of script blocks random letters are drawn from.
SCRIPTS = [(0x41, 0x7A), (0xC0, 0x24F), (0x400, 0x4FF), (0x600, 0x6FF), (0x900, 0x97F), (0xD80, 0xDFF),
           (0xE00, 0xE7F), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x980, 0xAFF),
           (0x1780, 0x17FF), (0x10A0, 0x10FF), (0x3040, 0x30FF), (0x1F00, 0x1FFF)]
EMOJI = ["👩🏽‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏿", "❤️", "🧑‍🤝‍🧑", "🇫🇷", "😀", "🤷🏻‍♀️", "\u200d", "🏽", "\ufe0f",
         "🧔🏾‍♂️", "👁️‍🗨️"]
#: Unicode White_Space, and format characters that look like spaces but are not.
SPACES = [chr(c) for c in (0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028,
                           0x2029, 0x202F, 0x205F, 0x3000, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF,
                           0x1C, 0x1D, 0x1E, 0x1F)]
CONTROLS = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
NONCHARACTERS = [chr(c) for c in range(0xFDD0, 0xFDF0)] + [chr(p * 0x10000 + k) for p in range(17)
                                                           for k in (0xFFFE, 0xFFFF)]
PRIVATE_USE = [(0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD)]
CONTRACTIONS = ["'s", "'S", "'LL", "'ll", "'t", "'T", "'re", "'RE", "'ve", "'m", "'d", "'D", "’s", "n't", "'"]
NEWLINES = ["\r\n", "\r", "\n", "\n\r", "\r\r\n", "\n\n\n", " \n ", "\t\n", "\r\n\r\n"]
PUNCTUATION = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + ["«", "»", "“", "”", "—", "…", "।", "،", "。", "、",
                                                             "¿", "¡", "‘", "·"]
SPECIAL_LOOKING = ["<|endoftext|>", "<s>", "</s>", "<unk>", "[CLS]", "[UNK]", "<0x41>", "▁", "▁▁"]


_BY_CATEGORY: dict[str, list[str]] = {}
for _code in range(0x110000):
    _BY_CATEGORY.setdefault(unicodedata.category(chr(_code)), []).append(chr(_code))
DIGITS = _BY_CATEGORY["Nd"]
MARKS = sorted(_BY_CATEGORY["Mn"] + _BY_CATEGORY["Mc"] + _BY_CATEGORY["Me"])
#: Unassigned in Python's Unicode tables: holes of every plane, and characters of newer Unicode
#: versions that some engines know and others do not.
UNASSIGNED = sorted(set(_BY_CATEGORY["Cn"]) - set(NONCHARACTERS))


def _fragment(rng: random.Random) -> str:  # noqa: PLR0911 - one branch per kind of fragment
    kind = rng.randrange(17)
    if kind == 0:
        return rng.choice(WORDS)
    if kind == 1:
        first, last = rng.choice(SCRIPTS)
        return "".join(chr(rng.randint(first, last)) for _ in range(rng.randint(1, 6)))
    if kind == 2:
        return rng.choice(EMOJI)
    if kind == 3:  # a base letter under a stack of combining marks
        return rng.choice(WORDS)[: rng.randint(1, 3)] + "".join(rng.choice(MARKS) for _ in range(rng.randint(1, 3)))
    if kind == 4:
        return rng.choice(CONTROLS)
    if kind == 5:
        return "".join(rng.choice(SPACES) for _ in range(rng.randint(1, 6)))
    if kind == 6:
        return rng.choice(["\u2028", "\u2029", "\ufeff"])
    if kind == 7:
        return rng.choice(NONCHARACTERS)
    if kind == 8:
        return "".join(rng.choice(UNASSIGNED) for _ in range(rng.randint(1, 2)))
    if kind == 9:
        first, last = rng.choice(PRIVATE_USE)
        return chr(rng.randint(first, last))
    if kind == 10:
        return "".join(rng.choice(DIGITS) for _ in range(rng.randint(1, 5)))
    if kind == 11:
        return rng.choice(["I", "we", "THEY", "it", "Don"]) + rng.choice(CONTRACTIONS)
    if kind == 12:
        return rng.choice(NEWLINES)
    if kind == 13:
        return rng.choice(PUNCTUATION)
    if kind == 14:
        return rng.choice(SPECIAL_LOOKING)
    if kind == 15:  # anything at all (no surrogates: they are not text)
        code = rng.randrange(0x110000 - 0x800)
        return chr(code + 0x800 if code >= 0xD800 else code)
    return " " * rng.randint(1, 4)


def fuzz_text(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(1, 14)):
        parts.append(_fragment(rng))
        if rng.random() < 0.35:
            parts.append(" ")
    return "".join(parts)


def fuzz_texts(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [fuzz_text(rng) for _ in range(count)]


# ---------------------------------------------------------------------------------- the checks

#: Files whose decoded ids carry one space in front (SentencePiece's dummy prefix).
PREFIX_SPACE = {"llama_tokenizer.json", "mistral_v1.model"}


def _mismatches(tok: tokbench.Tokenizer, encode, texts: list[str]) -> list[tuple[int, list[int], list[int]]]:
    out = []
    for k, text in enumerate(texts):
        expected = encode(text)
        got = tok.encode(text, backend="native")
        if got != expected:
            out.append((k, got, expected))
    return out


def _report(name: str, seed: int, texts: list[str], wrong: list[tuple[int, list[int], list[int]]]) -> str:
    lines = [f"{name}: {len(wrong)} of {len(texts)} fuzz strings (seed {seed}) differ from the reference"]
    for k, got, expected in wrong[:3]:
        lines.append(f"  #{k} {texts[k]!r}\n    native    {got}\n    reference {expected}")
    return "\n".join(lines)


def _check_fuzz(tokenizer_dir: Path, name: str, seed: int, count: int) -> None:
    path = tokenizer_dir / name
    tok = tokbench.load_tokenizer(path)
    reference = reference_library(path)
    texts = fuzz_texts(seed, count)
    wrong = _mismatches(tok, reference.encode, texts)
    assert not wrong, _report(name, seed, texts, wrong)
    specials = [s for s in tok.special_tokens if s] + SPECIAL_LOOKING
    round_trips = 0
    for text in texts:
        ids = reference.encode(text)
        if reference.decode(ids) != text or any(s in text for s in specials):
            continue
        round_trips += 1
        # The reference gives the text back: so must tokbench's decode and its own vocabulary
        # bytes (read from the file independently of the reference).
        assert tok.decode(ids) == text
        if tok.kind == "wordpiece":  # its vocabulary spells continuations with "##"
            continue
        joined = b"".join(tok.vocab[i] for i in tok.encode(text, backend="native"))
        prefix = b" " if name in PREFIX_SPACE else b""
        assert joined == prefix + text.encode("utf-8"), f"{name}: vocabulary bytes of {text!r} are {joined!r}"
    if tok.kind != "wordpiece":  # BERT lowercases and drops spaces: few strings come back
        assert round_trips > count // 4, f"{name}: only {round_trips} of {count} strings round-trip"


@pytest.mark.parametrize("name", TOKENIZERS)
def test_native_ids_equal_reference_on_fuzz_strings(tokenizer_dir: Path, name: str):
    _check_fuzz(tokenizer_dir, name, SEED, DEFAULT_STRINGS)


@pytest.mark.slow
@pytest.mark.parametrize("name", TOKENIZERS)
def test_native_ids_equal_reference_on_many_fuzz_strings(tokenizer_dir: Path, name: str):
    _check_fuzz(tokenizer_dir, name, SEED + 1, SLOW_STRINGS)


def test_fuzz_strings_cover_every_kind_of_fragment():
    """The default sample reaches each class the fuzz is meant to exercise."""
    joined = "".join(fuzz_texts(SEED, DEFAULT_STRINGS))
    present = set(joined)
    assert "\u200d" in present and "🏽" in present and "\u2028" in present and "\ufeff" in present
    assert present & set(NONCHARACTERS) and present & set(UNASSIGNED) and present & set(CONTROLS)
    assert any(0xE000 <= ord(ch) <= 0xF8FF or ord(ch) >= 0xF0000 for ch in present)
    assert len(present & set(SPACES)) >= len(SPACES) // 2
    assert sum(unicodedata.category(ch) == "Nd" and not ch.isascii() for ch in present) >= 50
    assert len({unicodedata.name(ch, "?").split()[0] for ch in present if unicodedata.category(ch) == "Lo"}) >= 12
    assert "'LL" in joined or "'ll" in joined
    assert "\r\n" in joined and "ශ්\u200dරී" in joined


# --------------------------------------------------------------------------- Gemma-style files

GEMMA_NORMALIZER = {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}
GEMMA_SPLIT = {"type": "Split", "pattern": {"String": " "}, "behavior": "MergedWithPrevious", "invert": False}
GEMMA_DECODER = {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
                                                  {"type": "ByteFallback"}, {"type": "Fuse"}]}
BRAHMIC = ["sin_Sinh", "hin_Deva", "mar_Deva", "npi_Deva", "ben_Beng", "guj_Gujr", "pan_Guru", "ory_Orya",
           "tam_Taml", "tel_Telu", "kan_Knda", "mal_Mlym", "tha_Thai", "lao_Laoo", "khm_Khmr", "mya_Mymr",
           "bod_Tibt"]


def _gemma_style(data: dict, split: bool) -> dict:
    """A SentencePiece-converted BPE file laid out as Gemma's ``tokenizer.json`` is."""
    out = dict(data, normalizer=GEMMA_NORMALIZER, pre_tokenizer=GEMMA_SPLIT if split else None,
               decoder=GEMMA_DECODER, post_processor=None)
    out["model"] = dict(data["model"], byte_fallback=True, fuse_unk=True, unk_token="<unk>")
    return out


def _trained_gemma_base(flores_dir: Path) -> dict:
    """A small SentencePiece-style BPE trained on FLORES dev, with ``<0xNN>`` byte pieces: unlike
    Llama's, its vocabulary has many Sinhala and Devanagari pieces with ZWJ in them."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    lines = [line for lang in ("sin_Sinh", "hin_Deva", "ben_Beng", "eng_Latn")
             for line in (flores_dir / "dev" / f"{lang}.dev").read_text(encoding="utf-8").splitlines()]
    hf = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    hf.normalizer = normalizers.Replace(" ", "\u2581")
    hf.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="never")
    hf.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=3000, special_tokens=["<pad>", "<eos>", "<bos>", "<unk>"],
                                                      limit_alphabet=250, show_progress=False))
    data = json.loads(hf.to_str())
    vocab = data["model"]["vocab"]
    for b in range(256):
        vocab.setdefault(f"<0x{b:02X}>", len(vocab))
    assert sum("\u200d" in piece for piece in vocab) >= 10
    return data


def _sentencepiece_gemma_base(flores_dir: Path, tmp_path: Path) -> dict:
    """A SentencePiece BPE model trained as Gemma's was (byte fallback, digits split, user-defined
    symbols, no dummy prefix), converted to ``tokenizer.json`` by tokbench."""
    import sentencepiece as spm

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(line for lang in ("sin_Sinh", "hin_Deva", "tam_Taml", "eng_Latn")
                                for line in (flores_dir / "dev" / f"{lang}.dev").read_text(encoding="utf-8").splitlines()),
                      encoding="utf-8")
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(tmp_path / "gemma_like"), model_type="bpe",
                                   vocab_size=4000, byte_fallback=True, split_digits=True, add_dummy_prefix=False,
                                   normalization_rule_name="identity", remove_extra_whitespaces=False,
                                   allow_whitespace_only_pieces=True, user_defined_symbols=["<mask>", "\n\n"],
                                   minloglevel=2)
    return json.loads(tokbench.load_tokenizer(tmp_path / "gemma_like.model").to_hf_json())


@pytest.fixture(scope="module")
def gemma_bases(tokenizer_dir: Path, flores_dir: Path, tmp_path_factory) -> dict[str, dict]:
    llama = json.loads((tokenizer_dir / "llama_tokenizer.json").read_text(encoding="utf-8"))
    return {"llama-vocab": llama, "trained-vocab": _trained_gemma_base(flores_dir),
            "sentencepiece-vocab": _sentencepiece_gemma_base(flores_dir, tmp_path_factory.mktemp("spm"))}


def _flores(flores_dir: Path, lang: str) -> list[str]:
    return [line for split in ("dev", "devtest")
            for line in (flores_dir / split / f"{lang}.{split}").read_text(encoding="utf-8").splitlines()]


def _check_gemma(base: dict, split: bool, texts: list[str], tmp_path: Path, label: str) -> None:
    from tokenizers import Tokenizer

    path = tmp_path / "gemma_style.json"
    path.write_text(json.dumps(_gemma_style(base, split), ensure_ascii=False), encoding="utf-8")
    tok = tokbench.load_tokenizer(path)
    hf = Tokenizer.from_file(str(path))
    wrong = _mismatches(tok, lambda t: hf.encode(t, add_special_tokens=False).ids, texts)
    assert not wrong, _report(f"Gemma-style {label} split={split}", SEED, texts, wrong)


@pytest.mark.parametrize("split", [False, True], ids=["no-pretokenizer", "split-merged-with-previous"])
@pytest.mark.parametrize("vocab", ["llama-vocab", "trained-vocab", "sentencepiece-vocab"])
def test_gemma_style_native_equals_tokenizers_on_sinhala(gemma_bases, flores_dir: Path, tmp_path: Path,
                                                         vocab: str, split: bool):
    texts = _flores(flores_dir, "sin_Sinh") + fuzz_texts(SEED, DEFAULT_STRINGS)
    assert sum("\u200d" in t for t in texts) >= 100  # the ZWJ lines the issue saw differ
    _check_gemma(gemma_bases[vocab], split, texts, tmp_path, vocab)


@pytest.mark.slow
@pytest.mark.parametrize("lang", BRAHMIC[1:])
def test_gemma_style_native_equals_tokenizers_on_brahmic_scripts(gemma_bases, flores_dir: Path, tmp_path: Path,
                                                                 lang: str):
    for vocab, base in gemma_bases.items():
        _check_gemma(base, True, _flores(flores_dir, lang), tmp_path, vocab)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in TOKENIZERS if n.endswith(".json")])
def test_hf_files_native_equal_tokenizers_on_brahmic_scripts(tokenizer_dir: Path, flores_dir: Path, name: str):
    tok = tokbench.load_tokenizer(tokenizer_dir / name)
    encode = reference_library(tokenizer_dir / name).encode
    for lang in BRAHMIC:
        texts = _flores(flores_dir, lang)
        wrong = _mismatches(tok, encode, texts)
        assert not wrong, _report(f"{name} on {lang}", SEED, texts, wrong)


# ------------------------------------------------------------- Unicode tables, code point by code point

#: Every code point that can be in a str the libraries take (surrogates are not text).
ALL_CODE_POINTS = [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]
CLASS_PATTERNS = [r"\p{L}+", r"\p{N}", r"\s+", r"[^\s\p{L}\p{N}]+", r"(?i:'s|'ll)|\p{Lu}\p{Ll}*|\p{M}"]


def _hf_normalizers():
    from tokenizers import Regex
    from tokenizers import normalizers as hf

    from tokbench.model import normalizers as native

    pairs = {form: (getattr(hf, form)(), native.UnicodeNormalizer(form)) for form in ("NFC", "NFD", "NFKC", "NFKD")}
    pairs["Lowercase"] = (hf.Lowercase(), native.Lowercase())
    words = r"[\p{L}\p{N}]+"
    pairs["Replace(regex)"] = (hf.Replace(Regex(words), "·"), native.Replace(words, "·", is_regex=True))
    for lower in (True, False):
        for strip in (True, False, None):
            pairs[f"Bert(lowercase={lower}, strip_accents={strip})"] = (
                hf.BertNormalizer(lowercase=lower, strip_accents=strip),
                native.BertNormalizer(lowercase=lower, strip_accents=strip))
    return pairs


def _code_point_sample(full: bool) -> list[int]:
    """All code points, or a random 12,000 plus every one a normalizer acts on by Python's tables
    (marks, cased letters, characters with a decomposition other than Hangul syllables)."""
    if full:
        return ALL_CODE_POINTS
    acted_on = {cp for cp in ALL_CODE_POINTS
                if unicodedata.category(chr(cp)).startswith("M") or chr(cp).lower() != chr(cp)
                or (unicodedata.decomposition(chr(cp)) and not 0xAC00 <= cp <= 0xD7A3)}
    return sorted(acted_on | set(random.Random(SEED).sample(ALL_CODE_POINTS, 12_000)))


def _check_code_points(code_points: list[int]) -> None:
    """Each normalizer, and a split by Unicode classes, on every code point in context: alone
    between letters, before and after marks of combining class 1 and 240 (which a newer
    table reorders around it), and doubled."""
    from tokenizers import Regex, pre_tokenizers

    from tokbench.model.pretokenizers import RegexSplit

    for name, (reference, native) in _hf_normalizers().items():
        wrong = [f"U+{cp:04X}" for cp in code_points
                 for text in (f"a{chr(cp)}b", f"A\u0345{chr(cp)}\u0334{chr(cp)}")
                 if reference.normalize_str(text) != native.normalize(text)]
        assert not wrong, f"{name}: {len(wrong)} differ from tokenizers, first {wrong[:10]}"
    for pattern in CLASS_PATTERNS:
        reference, native = pre_tokenizers.Split(Regex(pattern), "isolated"), RegexSplit(pattern)
        wrong = [f"U+{cp:04X}" for cp in code_points
                 for text in (f"a{chr(cp)}b 1{chr(cp)}{chr(cp)} ",)
                 if [p for p, _ in reference.pre_tokenize_str(text)] != native.split(text)]
        assert not wrong, f"Split {pattern!r}: {len(wrong)} differ from tokenizers, first {wrong[:10]}"


def test_unicode_tables_equal_tokenizers_on_sampled_code_points():
    _check_code_points(_code_point_sample(full=False))


@pytest.mark.slow
def test_unicode_tables_equal_tokenizers_on_every_code_point():
    _check_code_points(_code_point_sample(full=True))


@functools.lru_cache(maxsize=1)
def _letters_and_numbers_only_regex_knows() -> list[str]:
    """Characters Python's ``regex`` module calls letters or numbers and ``tokenizers``'
    Oniguruma does not (they are newer than its Unicode tables), found by asking both."""
    import regex
    from tokenizers import Regex, pre_tokenizers

    every = "".join(chr(cp) for cp in ALL_CODE_POINTS)
    pattern = r"[\p{L}\p{N}]"
    by_oniguruma = pre_tokenizers.Split(Regex(pattern), "removed", invert=True).pre_tokenize_str(every)
    known = set("".join(piece for piece, _ in by_oniguruma))
    return [ch for ch in regex.findall(pattern, every) if ch not in known]


@pytest.mark.parametrize("name", [n for n in TOKENIZERS if n not in PREFIX_SPACE and "bert" not in n])
def test_native_splits_newer_characters_as_the_reference_does(tokenizer_dir: Path, name: str):
    """Split patterns meet characters of Unicode versions newer than the references' tables
    (here, 1 in 25 of them) between letters, digits, punctuation and contractions."""
    newer = _letters_and_numbers_only_regex_knows()
    assert len(newer) > 1000  # the tables differ: otherwise this test checks nothing
    tok = tokbench.load_tokenizer(tokenizer_dir / name)
    reference = reference_library(tokenizer_dir / name)
    texts = [f"a{ch}b <{ch}s 1{ch}2 {ch}'s x{ch}{ch}" for ch in newer[::25]]
    wrong = _mismatches(tok, reference.encode, texts)
    assert not wrong, _report(name, SEED, texts, wrong)


# ------------------------------------------------------------------ HF BPE rules on unknown characters


def _toy_sentencepiece_bpe(unk: str | None, fuse_unk: bool, ignore_merges: bool) -> str:
    """A Gemma-style file whose vocabulary has some characters, two of the 256 byte pieces and a
    token ("bb") no merge makes: every way an unknown character can be handled."""
    vocab = {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "<0xC3>": 4, "<0xA9>": 5, "\u2581": 6, "abab": 7, "ba": 8, "bb": 9}
    data = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
            "normalizer": GEMMA_NORMALIZER, "pre_tokenizer": None, "post_processor": None, "decoder": GEMMA_DECODER,
            "model": {"type": "BPE", "dropout": None, "unk_token": unk, "continuing_subword_prefix": None,
                      "end_of_word_suffix": None, "fuse_unk": fuse_unk, "byte_fallback": True,
                      "ignore_merges": ignore_merges, "vocab": vocab,
                      "merges": [["a", "b"], ["b", "a"], ["ab", "ab"]]}}
    return json.dumps(data)


@pytest.mark.parametrize("unk", ["<unk>", None])
@pytest.mark.parametrize("fuse_unk", [True, False])
@pytest.mark.parametrize("ignore_merges", [True, False])
def test_char_bpe_handles_unknown_characters_as_tokenizers_does(unk, fuse_unk: bool, ignore_merges: bool):
    """Byte fallback per character (only when each of its bytes has a piece), the unknown token
    written after the byte pieces that follow it, fused or not, dropped without one;
    ``ignore_merges`` takes a word found whole in the vocabulary."""
    from tokenizers import Tokenizer

    from tokbench.formats.hf_json import tokenizer_from_json_text

    text = _toy_sentencepiece_bpe(unk, fuse_unk, ignore_merges)
    tok = tokenizer_from_json_text(text, name="toy")
    hf = Tokenizer.from_str(text)
    samples = ["bb", "bbb", "abab", "aé b", "xyé", "ab ab", "bab", "xy", "ééx", "xéyzé a", "ba xx bb"]
    samples += fuzz_texts(SEED, 100)
    wrong = _mismatches(tok, lambda t: hf.encode(t, add_special_tokens=False).ids, samples)
    assert not wrong, _report("toy", SEED, samples, wrong)
