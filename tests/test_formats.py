"""Reading and writing every tokenizer format, checked against the files and the reference
libraries rather than against tokbench itself.

* merges recovered from rank/score files equal the merge lists shipped for the same vocabulary
  (GPT-2's ``merges.txt``; OLMo-2's cl100k-derived ``tokenizer.json``) or, for SentencePiece,
  are exactly the pieces BPE can build, in score order;
* vocabulary bytes, special tokens, kinds and fingerprints equal what the files say;
* ``save()`` writes a ``tokenizer.json`` that ``tokenizers`` loads and encodes exactly like the
  original reference library on real FLORES lines in every language and real code;
* Tekken JSON, named and explicit split patterns, corrupt input and bad text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import shutil
from pathlib import Path
from unittest import mock

import pytest
import regex
from shared_files import SHARED_TOKENIZERS as ALL
from shared_files import gpt2_byte_decoder

import tokbench
from tokbench.errors import (
    EncodingError,
    TokbenchError,
    TokenizerFormatError,
    UnsupportedTokenizerError,
)

# OpenAI's gpt-2 encoder.py pattern.
GPT2_REGEX = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


# ------------------------------------------------------------------------------------- helpers



DECODER = gpt2_byte_decoder()


def unbyte(token: str) -> bytes:
    return bytes(DECODER[c] for c in token)


def openai_spec(constructor: str, ranks_path: Path | None = None) -> dict:
    """tiktoken_ext.openai_public's own spec, its download replaced by a local file (or {})."""
    from tiktoken.load import load_tiktoken_bpe
    from tiktoken_ext import openai_public

    ranks = load_tiktoken_bpe(str(ranks_path)) if ranks_path else {}
    with mock.patch.object(openai_public, "load_tiktoken_bpe", lambda *_a, **_k: ranks):
        return getattr(openai_public, constructor)()


def tiktoken_encoding(path: Path):
    import tiktoken

    constructor = "r50k_base" if path.name.startswith("r50k") else "cl100k_base"
    return tiktoken.Encoding(**openai_spec(constructor, path))


def reference_batch(path: Path):
    """Batch encoder of the library that is ground truth for ``path``, built directly."""
    if path.name.endswith(".tiktoken"):
        return tiktoken_encoding(path).encode_ordinary_batch
    if path.name.endswith(".model"):
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(path))
        return lambda texts: sp.encode(list(texts))
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    if path.is_dir():
        hf = Tokenizer(models.BPE.from_file(str(path / "vocab.json"), str(path / "merges.txt")))
        hf.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        hf.decoder = decoders.ByteLevel()
        hf.add_special_tokens(["<|endoftext|>"])
    else:
        hf = Tokenizer.from_file(str(path))
    return hf_batch(hf)


def hf_batch(hf):
    hf.no_padding()
    hf.no_truncation()
    return lambda texts: [e.ids for e in hf.encode_batch(list(texts), add_special_tokens=False)]


def first_difference(texts, got, want) -> str:
    wrong = [i for i in range(len(texts)) if got[i] != want[i]]
    if not wrong:
        return ""
    return f"{len(wrong)} of {len(texts)} texts differ, first: {texts[wrong[0]][:80]!r}"


@pytest.fixture(scope="module")
def load(tokenizer_dir: Path):
    """Load each shared tokenizer once per module (recovered merges are then kept)."""
    cache: dict[str, tokbench.Tokenizer] = {}

    def get(name: str) -> tokbench.Tokenizer:
        if name not in cache:
            cache[name] = tokbench.load_tokenizer(tokenizer_dir / name)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def file_json(tokenizer_dir: Path):
    """Each shared tokenizer.json parsed once per module."""
    cache: dict[str, dict] = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = json.loads((tokenizer_dir / name).read_text(encoding="utf-8"))
        return cache[name]

    return get


@pytest.fixture(scope="module")
def saved(load, tmp_path_factory):
    """Each tokenizer saved once per module, alone in a fresh folder."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = load(name).save(tmp_path_factory.mktemp("saved") / "tokenizer.json")
        return cache[name]

    return get


@pytest.fixture(scope="module")
def reference_ids(tokenizer_dir: Path, sample_texts: list[str]):
    """The reference library's ids of the sample texts, once per tokenizer."""
    cache: dict[str, list[list[int]]] = {}

    def get(name: str) -> list[list[int]]:
        if name not in cache:
            cache[name] = reference_batch(tokenizer_dir / name)(sample_texts)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def sample_texts(flores_dir: Path, code_dir: Path) -> list[str]:
    """Line 10 of FLORES devtest in all 204 languages, two code documents per language, and
    one line with long numbers."""
    texts: list[str] = []
    for path in sorted((flores_dir / "devtest").glob("*.devtest")):
        texts.append(path.read_text(encoding="utf-8").splitlines()[10])
    for path in sorted(code_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            for _ in range(2):
                texts.append(json.loads(handle.readline())["text"][:4000])
    texts.append("In 2022 there were 12345 cases, up from 987 in 1999.")
    return texts


# -------------------------------------------------------------------------------------- merges


def test_r50k_recovered_merges_equal_gpt2_merges_txt(load, tokenizer_dir: Path):
    vocab_json = json.loads((tokenizer_dir / "gpt2" / "vocab.json").read_text(encoding="utf-8"))
    lines = (tokenizer_dir / "gpt2" / "merges.txt").read_text(encoding="utf-8").splitlines()
    pairs = [tuple(line.split(" ")) for line in lines if line and not line.startswith("#version")]
    expected_ids = [(vocab_json[a], vocab_json[b]) for a, b in pairs]
    expected_bytes = [(unbyte(a), unbyte(b)) for a, b in pairs]

    r50k = load("r50k_base.tiktoken")
    assert r50k.merges == expected_ids
    assert [(r50k.vocab[a], r50k.vocab[b]) for a, b in r50k.merges] == expected_bytes
    assert load("gpt2").merges == expected_ids


def test_cl100k_recovered_merges_equal_olmo2_merges(load, file_json):
    data = file_json("olmo2_tokenizer.json")
    expected = [tuple(unbyte(t) for t in (m.split(" ") if isinstance(m, str) else m)) for m in data["model"]["merges"]]
    cl100k = load("cl100k_base.tiktoken")
    got = [(cl100k.vocab[a], cl100k.vocab[b]) for a, b in cl100k.merges]
    assert len(got) == len(expected)
    assert got == expected


def test_sentencepiece_merges_are_the_reachable_pieces_in_score_order(load, tokenizer_dir: Path):
    """mistral_v1.model. The pieces that BPE can build are found here with a plain twin of
    SentencePiece's BPE (start from characters, merge the adjacent pair whose concatenation is
    the best-scored piece, leftmost on ties; the piece is reachable if that ends in the piece
    itself), and, for ``▁word`` pieces, with sentencepiece itself (encoding ``word`` gives the
    single piece exactly when BPE reaches it)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_dir / "mistral_v1.model"))
    n = sp.get_piece_size()
    normal = [i for i in range(n) if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i) or sp.is_unused(i))]
    piece = {i: sp.id_to_piece(i) for i in normal}
    piece_id = {p: i for i, p in piece.items()}
    score = {i: sp.get_score(i) for i in normal}

    def reaches(p: str) -> bool:
        symbols = list(p)
        if any(ch not in piece_id for ch in symbols):
            return False
        while len(symbols) > 1:
            best = None
            for k in range(len(symbols) - 1):
                joined = symbols[k] + symbols[k + 1]
                if joined in piece_id and (best is None or score[piece_id[joined]] > score[piece_id[best[1]]]):
                    best = (k, joined)
            if best is None:
                return False
            symbols[best[0] : best[0] + 2] = [best[1]]
        return symbols == [p]

    reachable = {i for i in normal if len(piece[i]) >= 2 and reaches(piece[i])}

    tok = load("mistral_v1.model")
    strings = [sp.id_to_piece(i) for i in range(n)]
    made: list[int] = []
    for a, b in tok.merges:
        c = piece_id[strings[a] + strings[b]]
        assert tok.vocab[a] + tok.vocab[b] == tok.vocab[c]
        # Each part is a character or was made by an earlier merge.
        assert all(len(strings[x]) == 1 or x in made for x in (a, b)), (strings[a], strings[b])
        made.append(c)
    scores = [score[c] for c in made]
    assert all(x >= y for x, y in zip(scores, scores[1:], strict=False)), "merges not in score order"
    assert len(made) == len(set(made)), "a piece is made twice"
    assert set(made) == reachable

    words = [i for i in normal if len(piece[i]) >= 2 and piece[i][0] == "▁" and "▁" not in piece[i][1:]]
    single = {i for i, ids in zip(words, sp.encode([piece[i][1:] for i in words]), strict=True) if ids == [i]}
    assert single == reachable & set(words)


# ---------------------------------------------------------------------------- vocabulary bytes


def test_gpt2_vocab_bytes_undo_the_byte_level_table(load, tokenizer_dir: Path):
    from tiktoken.load import load_tiktoken_bpe

    vocab_json = json.loads((tokenizer_dir / "gpt2" / "vocab.json").read_text(encoding="utf-8"))
    gpt2 = load("gpt2")
    assert gpt2.vocab[vocab_json["Ġthe"]] == b" the"
    assert gpt2.vocab[vocab_json["Ċ"]] == b"\n"
    for token, i in vocab_json.items():
        expected = token.encode() if token == "<|endoftext|>" else unbyte(token)
        assert gpt2.vocab[i] == expected, token
    # The same vocabulary as a rank file: raw bytes at the same ids.
    ranks = load_tiktoken_bpe(str(tokenizer_dir / "r50k_base.tiktoken"))
    r50k = load("r50k_base.tiktoken")
    assert all(r50k.vocab[rank] == token for token, rank in ranks.items())
    assert r50k.vocab == gpt2.vocab


def test_sentencepiece_vocab_bytes(load, tokenizer_dir: Path):
    """▁ is a space, <0xNN> is byte NN, control/unknown pieces keep their text."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_dir / "mistral_v1.model"))
    tok = load("mistral_v1.model")
    assert tok.vocab[sp.piece_to_id("▁the")] == b" the"
    assert tok.vocab[sp.piece_to_id("<0x0A>")] == b"\n"
    expected = []
    for i in range(sp.get_piece_size()):
        p = sp.id_to_piece(i)
        if sp.is_byte(i):
            expected.append(bytes([int(p[3:5], 16)]))
        elif sp.is_control(i) or sp.is_unknown(i):
            expected.append(p.encode())
        else:
            expected.append(p.replace("▁", " ").encode())
    assert tok.vocab == expected
    assert tok.byte_fallback_ids == {i for i in range(sp.get_piece_size()) if sp.is_byte(i)}


def test_llama_tokenizer_json_vocab_bytes(load, tokenizer_dir: Path):
    from tokenizers import Tokenizer

    hf = Tokenizer.from_file(str(tokenizer_dir / "llama_tokenizer.json"))
    tok = load("llama_tokenizer.json")
    assert tok.vocab[hf.token_to_id("▁the")] == b" the"
    assert tok.vocab[hf.token_to_id("<0x0A>")] == b"\n"
    byte_ids = {hf.token_to_id(f"<0x{b:02X}>"): b for b in range(256)}
    assert tok.byte_fallback_ids == set(byte_ids)
    for token, i in hf.get_vocab(with_added_tokens=True).items():
        if i in byte_ids:
            assert tok.vocab[i] == bytes([byte_ids[i]])
        else:
            assert tok.vocab[i] == token.replace("▁", " ").encode(), token
    assert tok.vocab_size == hf.get_vocab_size(with_added_tokens=True)


@pytest.mark.parametrize("name", ["gpt2", "r50k_base.tiktoken"])
def test_gpt2_special_token(load, tokenizer_dir: Path, name: str):
    vocab_json = json.loads((tokenizer_dir / "gpt2" / "vocab.json").read_text(encoding="utf-8"))
    spec = openai_spec("r50k_base")
    assert spec["special_tokens"] == {"<|endoftext|>": vocab_json["<|endoftext|>"]}
    assert load(name).special_tokens == spec["special_tokens"]
    assert load(name).vocab[vocab_json["<|endoftext|>"]] == b"<|endoftext|>"


def test_cl100k_special_tokens_and_unused_ids(load, tokenizer_dir: Path):
    from tiktoken.load import load_tiktoken_bpe

    spec = openai_spec("cl100k_base")
    tok = load("cl100k_base.tiktoken")
    assert tok.special_tokens == spec["special_tokens"]
    assert tok.special_tokens["<|endofprompt|>"] == 100276
    ranks = load_tiktoken_bpe(str(tokenizer_dir / "cl100k_base.tiktoken"))
    size = max(spec["special_tokens"].values()) + 1
    assert tok.vocab_size == size
    unused = set(range(size)) - set(ranks.values()) - set(spec["special_tokens"].values())
    assert 100256 in unused
    assert tok.unused_ids == unused
    assert all(tok.vocab[i] == b"" for i in unused)


@pytest.mark.parametrize("name", [n for n in ALL if n.endswith(".json")])
def test_tokenizer_json_special_tokens_are_its_special_added_tokens(load, file_json, name: str):
    data = file_json(name)
    expected = {a["content"]: a["id"] for a in data["added_tokens"] if a["special"]}
    tok = load(name)
    assert tok.special_tokens == expected
    assert all(tok.vocab[i] == s.encode() for s, i in expected.items())


def test_sentencepiece_special_tokens(load, tokenizer_dir: Path):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_dir / "mistral_v1.model"))
    expected = {sp.id_to_piece(i): i for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)}
    assert expected == {"<unk>": sp.unk_id(), "<s>": sp.bos_id(), "</s>": sp.eos_id()}
    assert load("mistral_v1.model").special_tokens == expected


def expected_kind(path: Path, file_json) -> str:
    """tokenizer.json: its model type; vocab.json+merges.txt and rank files are BPE by
    definition; mistral_v1.model is SentencePiece BPE (DESIGN.md, and its pieces' scores are
    minus their creation order, which the merge test above relies on)."""
    if path.suffix == ".json":
        return {"BPE": "bpe", "WordPiece": "wordpiece", "Unigram": "unigram"}[file_json(path.name)["model"]["type"]]
    return "bpe"


@pytest.mark.parametrize("name", ALL)
def test_kind(load, file_json, tokenizer_dir: Path, name: str):
    assert load(name).kind == expected_kind(tokenizer_dir / name, file_json)


def _sha256sums(tokenizer_dir: Path) -> dict[str, str]:
    sums = {}
    for line in (tokenizer_dir / "SHA256SUMS").read_text().splitlines():
        digest, file = line.split()
        sums[file.removeprefix("./")] = digest
    return sums


@pytest.mark.parametrize("name", ALL)
def test_fingerprint_is_the_sha256_of_the_file(load, tokenizer_dir: Path, name: str):
    path = tokenizer_dir / name
    files = [path / "vocab.json", path / "merges.txt"] if path.is_dir() else [path]
    digest = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    assert load(name).fingerprint == digest
    listed = _sha256sums(tokenizer_dir)
    for f in files:
        rel = str(f.relative_to(tokenizer_dir))
        if rel in listed:
            assert hashlib.sha256(f.read_bytes()).hexdigest() == listed[rel]
    if not path.is_dir():
        assert listed[name] == digest


# -------------------------------------------------------------------------------------- saving

SAVED = [
    "r50k_base.tiktoken",
    pytest.param("cl100k_base.tiktoken"),
    "gpt2",
    "mistral_v1.model",
    "llama_tokenizer.json",
    # Saved verbatim like llama's file, but 11 MB: left to the slow suite.
    pytest.param("qwen2_tokenizer.json", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("name", SAVED)
def test_saved_tokenizer_json_encodes_like_the_reference_library(saved, reference_ids, sample_texts: list[str], name: str):
    from tokenizers import Tokenizer

    path = saved(name)
    assert [p.name for p in path.parent.iterdir()] == ["tokenizer.json"]  # no temp file left
    want = reference_ids(name)
    got = hf_batch(Tokenizer.from_file(str(path)))(sample_texts)
    assert got == want, first_difference(sample_texts, got, want)


@pytest.mark.parametrize("name", [
    "r50k_base.tiktoken",
    pytest.param("cl100k_base.tiktoken"),
    "gpt2",
    "mistral_v1.model",
    "llama_tokenizer.json",
    pytest.param("qwen2_tokenizer.json", marks=pytest.mark.slow),
])
def test_saved_tokenizer_json_reloads_in_tokbench(load, saved, reference_ids, sample_texts: list[str], name: str):
    again = tokbench.load_tokenizer(saved(name))
    want = reference_ids(name)
    got = again.encode_batch(sample_texts)
    assert got == want, first_difference(sample_texts, got, want)
    some = sample_texts[::3]
    native = [again.encode(t, backend="native") for t in some]
    assert native == want[::3], first_difference(some, native, want[::3])
    assert again.vocab == load(name).vocab


def test_saved_cl100k_splits_long_numbers_like_tiktoken(saved, tokenizer_dir: Path):
    """Regression: tokenizers' Oniguruma reads tiktoken's possessive '\\p{N}{1,3}+' as
    '(\\p{N}{1,3})+', so a saved regex copied verbatim kept '2022' whole ('20'+'22')."""
    from tokenizers import Tokenizer

    text = "in 2022 and 1234567"
    want = tiktoken_encoding(tokenizer_dir / "cl100k_base.tiktoken").encode_ordinary(text)
    hf = Tokenizer.from_file(str(saved("cl100k_base.tiktoken")))
    assert hf.encode(text, add_special_tokens=False).ids == want


def test_wordpiece_cannot_be_written_as_a_new_tokenizer_json(tokenizer_dir: Path, tmp_path: Path):
    from tokbench.formats.hf_json import tokenizer_from_hf_data

    data = json.loads((tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json").read_text(encoding="utf-8"))
    tok = tokenizer_from_hf_data(data, name="bert", fingerprint="0" * 64)
    assert tok.kind == "wordpiece"
    with pytest.raises(UnsupportedTokenizerError):
        tok.save(tmp_path / "bert.json")
    assert not (tmp_path / "bert.json").exists()


def test_wordpiece_loaded_from_a_file_saves_that_file_verbatim(load, tokenizer_dir: Path, tmp_path: Path):
    """A WordPiece model has no byte-level BPE writer; a loaded file is saved as itself."""
    source = tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json"
    saved = load(source.name).save(tmp_path / "bert.json")
    assert saved.read_bytes() == source.read_bytes()


# -------------------------------------------------------------------------------------- Tekken

N_SPECIAL = 3


def write_tekken(tokenizer_dir: Path, path: Path, *, n_vocab: int | None = None, specials=("<unk>", "<s>", "</s>")) -> dict:
    """A Tekken file from r50k's ranks: config, base64 vocab by rank, special tokens."""
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(str(tokenizer_dir / "r50k_base.tiktoken"))
    pattern = openai_spec("r50k_base")["pat_str"]
    n_vocab = len(ranks) if n_vocab is None else n_vocab
    data = {
        "config": {"pattern": pattern, "default_vocab_size": n_vocab + N_SPECIAL,
                   "default_num_special_tokens": N_SPECIAL, "version": "v7"},
        "vocab": [{"rank": r, "token_bytes": base64.b64encode(t).decode("ascii"), "token_str": None}
                  for t, r in sorted(ranks.items(), key=lambda kv: kv[1])],
        "special_tokens": [{"rank": i, "token_str": s, "is_control": True} for i, s in enumerate(specials)],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    return {"ranks": ranks, "pattern": pattern}


def test_tekken_ids_are_tiktoken_ids_plus_the_special_count(tokenizer_dir: Path, tmp_path: Path, sample_texts, load):
    import tiktoken

    made = write_tekken(tokenizer_dir, tmp_path / "tekken.json")
    tok = tokbench.load_tokenizer(tmp_path / "tekken.json")
    assert tok.source_format == "tekken"
    assert tok.special_tokens == {"<unk>": 0, "<s>": 1, "</s>": 2}
    assert tok.vocab[:N_SPECIAL] == [b"<unk>", b"<s>", b"</s>"]
    assert tok.vocab_size == len(made["ranks"]) + N_SPECIAL
    encoding = tiktoken.Encoding(name="r50k_ranks", pat_str=made["pattern"], mergeable_ranks=made["ranks"], special_tokens={})
    want = [[i + N_SPECIAL for i in ids] for ids in encoding.encode_ordinary_batch(sample_texts)]
    assert tok.encode_batch(sample_texts) == want
    assert [tok.encode(t, backend="native") for t in sample_texts[:60]] == want[:60]
    assert tok.decode(want[0]) == sample_texts[0]


def test_tekken_vocab_is_cut_to_default_vocab_size(tokenizer_dir: Path, tmp_path: Path, sample_texts, load):
    """default_vocab_size 1003 with 3 specials keeps ranks 0..999. r50k's ranks 0..255 are the
    single bytes, so 1000 - 256 = 744 merges remain: r50k's first 744, shifted by 3."""
    import tiktoken

    made = write_tekken(tokenizer_dir, tmp_path / "tekken.json", n_vocab=1000)
    tok = tokbench.load_tokenizer(tmp_path / "tekken.json")
    assert tok.vocab_size == 1000 + N_SPECIAL
    assert all(len(t) == 1 for t, r in made["ranks"].items() if r < 256)
    small = {t: r for t, r in made["ranks"].items() if r < 1000}
    encoding = tiktoken.Encoding(name="r50k_1000", pat_str=made["pattern"], mergeable_ranks=small, special_tokens={})
    texts = sample_texts[:80]
    want = [[i + N_SPECIAL for i in ids] for ids in encoding.encode_ordinary_batch(texts)]
    assert tok.encode_batch(texts) == want
    assert [tok.encode(t, backend="native") for t in texts] == want
    assert tok.merges == [(a + N_SPECIAL, b + N_SPECIAL) for a, b in load("r50k_base.tiktoken").merges[:744]]


def test_tekken_fills_unnamed_special_tokens(tokenizer_dir: Path, tmp_path: Path):
    """Fewer named specials than default_num_special_tokens: the rest are <SPECIAL_i>, as
    mistral-common names them."""
    write_tekken(tokenizer_dir, tmp_path / "tekken.json", n_vocab=300, specials=("<unk>",))
    tok = tokbench.load_tokenizer(tmp_path / "tekken.json")
    assert tok.special_tokens == {"<unk>": 0, "<SPECIAL_1>": 1, "<SPECIAL_2>": 2}


# ------------------------------------------------------------------------------------ patterns


def test_rank_file_with_a_neutral_name_needs_a_pattern(tokenizer_dir: Path, tmp_path: Path):
    path = tmp_path / "ranks.tiktoken"
    shutil.copy(tokenizer_dir / "r50k_base.tiktoken", path)
    with pytest.raises(TokenizerFormatError, match="pattern") as info:
        tokbench.load_tokenizer(path)
    assert str(path) in str(info.value)


def test_named_and_explicit_patterns_both_work(tokenizer_dir: Path, tmp_path: Path, sample_texts):
    path = tmp_path / "ranks.tiktoken"
    shutil.copy(tokenizer_dir / "cl100k_base.tiktoken", path)
    spec = openai_spec("cl100k_base", tokenizer_dir / "cl100k_base.tiktoken")
    want = tiktoken_encoding(tokenizer_dir / "cl100k_base.tiktoken").encode_ordinary_batch(sample_texts)
    named = tokbench.load_tokenizer(path, pattern="cl100k")
    explicit = tokbench.load_tokenizer(path, pattern=spec["pat_str"])
    assert named.description["pattern_name"] == "cl100k"
    assert explicit.description["pattern"] == spec["pat_str"]
    assert named.special_tokens == spec["special_tokens"]
    assert explicit.special_tokens == {}  # a bare regex names no published specials
    for tok in (named, explicit):
        assert tok.encode_batch(sample_texts) == want
        assert [tok.encode(t, backend="native") for t in sample_texts[:40]] == want[:40]


def test_pattern_that_is_neither_a_name_nor_a_regex(tokenizer_dir: Path, tmp_path: Path):
    path = tmp_path / "ranks.tiktoken"
    shutil.copy(tokenizer_dir / "r50k_base.tiktoken", path)
    with pytest.raises(TokenizerFormatError, match="cl100k\\(") as info:
        tokbench.load_tokenizer(path, pattern="cl100k(")
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("ours", "theirs"), [("r50k", "r50k_base"), ("p50k", "p50k_base"),
                                              ("cl100k", "cl100k_base"), ("o200k", "o200k_base")])
def test_named_patterns_equal_tiktoken(ours: str, theirs: str):
    from tokbench.model.patterns import PATTERNS

    spec = openai_spec(theirs)
    assert PATTERNS[ours].regex == spec["pat_str"]
    assert PATTERNS[ours].special_tokens == spec["special_tokens"]


@pytest.mark.parametrize(("filename", "expected"), [
    ("cl100k_base.tiktoken", "cl100k"), ("p50k_base.tiktoken", "p50k"), ("r50k_base.tiktoken", "r50k"),
    ("o200k_base.tiktoken", "o200k"), ("my-gpt2.tiktoken", "r50k"), ("ranks.tiktoken", None),
])
def test_pattern_guessed_from_file_name(filename: str, expected: str | None):
    from tokbench.model.patterns import guess_pattern_name

    assert guess_pattern_name(filename) == expected


# ---------------------------------------------------------------------------------- bad files


def _first_bytes(tokenizer_dir: Path, name: str, n: int):
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes((tokenizer_dir / name).read_bytes()[:n])
        return path
    return make


def _write(name: str, data: bytes):
    def make(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path
    return make


def _rank_lines(tokenizer_dir: Path, extra: bytes):
    def make(tmp: Path) -> Path:
        path = tmp / "r50k_base.tiktoken"
        lines = (tokenizer_dir / "r50k_base.tiktoken").read_bytes().splitlines()[:300]
        path.write_bytes(b"\n".join([*lines, extra]) + b"\n")
        return path
    return make


def _bad_merge(tokenizer_dir: Path):
    def make(tmp: Path) -> Path:
        data = json.loads((tokenizer_dir / "gpt-neox_tokenizer.json").read_text(encoding="utf-8"))
        data["model"]["merges"].append("Ġthe zzzqqqzzz")
        path = tmp / "tokenizer.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return path
    return make


def _only_vocab(tokenizer_dir: Path):
    def make(tmp: Path) -> Path:
        folder = tmp / "gpt2_half"
        folder.mkdir()
        shutil.copy(tokenizer_dir / "gpt2" / "vocab.json", folder / "vocab.json")
        return folder
    return make


BAD_FILES = {
    "missing": lambda d: lambda tmp: tmp / "nothing_here.json",
    "empty_json": lambda d: _write("tokenizer.json", b""),
    "empty_tiktoken": lambda d: _write("r50k_base.tiktoken", b""),
    "empty_model": lambda d: _write("empty.model", b""),
    "truncated_tokenizer_json": lambda d: _first_bytes(d, "llama_tokenizer.json", 1000),
    "json_without_model": lambda d: _write("tokenizer.json", b'{"version": "1.0", "normalizer": null}'),
    "merge_of_unknown_token": _bad_merge,
    "tiktoken_malformed_line": lambda d: _rank_lines(d, b"justonefield"),
    "tiktoken_bad_base64": lambda d: _rank_lines(d, b"!!notbase64!! 300"),
    "tiktoken_bad_rank": lambda d: _rank_lines(d, b"YWJj notanumber"),
    "model_random_bytes": lambda d: _write("random.model", random.Random(1234).randbytes(3000)),
    "model_first_100_bytes": lambda d: _first_bytes(d, "mistral_v1.model", 100),
    "folder_with_only_vocab_json": _only_vocab,
    "binary_unknown_extension": lambda d: _write("blob.bin", bytes(range(256)) * 8),
    "empty_folder": lambda d: (lambda tmp: (tmp / "empty_dir").mkdir() or tmp / "empty_dir"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_a_format_error_naming_the_file(tokenizer_dir: Path, tmp_path: Path, case: str):
    path = BAD_FILES[case](tokenizer_dir)(tmp_path)
    with pytest.raises(TokenizerFormatError) as info:
        tokbench.load_tokenizer(path)
    assert str(path) in str(info.value)


def test_json_without_model_forced_as_tokenizer_json(tmp_path: Path):
    path = tmp_path / "tokenizer.json"
    path.write_text('{"version": "1.0"}', encoding="utf-8")
    with pytest.raises(TokenizerFormatError, match="model") as info:
        tokbench.load_tokenizer(path, format="hf-json")
    assert str(path) in str(info.value)


def _model_cut_after_pieces(tokenizer_dir: Path, n_pieces: int) -> bytes:
    """mistral_v1.model cut right after its n-th piece (field 1, length-delimited)."""
    data = (tokenizer_dir / "mistral_v1.model").read_bytes()

    def varint(pos: int) -> tuple[int, int]:
        shift = value = 0
        while True:
            byte = data[pos]
            value |= (byte & 0x7F) << shift
            pos += 1
            if byte < 0x80:
                return value, pos
            shift += 7

    pos = 0
    for _ in range(n_pieces):
        key, pos = varint(pos)
        assert key == (1 << 3) | 2
        length, pos = varint(pos)
        pos += length
    return data[:pos]


def test_model_truncated_at_a_piece_boundary(tokenizer_dir: Path, tmp_path: Path):
    """Regression: a .model cut between two pieces is a well-formed protobuf without trainer and
    normalizer specs; it loaded as a Unigram model and then failed inside sentencepiece."""
    path = tmp_path / "cut.model"
    path.write_bytes(_model_cut_after_pieces(tokenizer_dir, 500))
    with pytest.raises(TokbenchError) as info:
        tok = tokbench.load_tokenizer(path)
        tok.encode("hello world")
    assert str(path) in str(info.value)


def test_model_with_a_64_bit_score_field(tmp_path: Path):
    """A ModelProto with one piece {piece: "a", score: <fixed64 field 2>}, hand-encoded:
    0x0a len [0x0a 0x01 'a'] [0x11 + 8 bytes]. Regression: struct.error escaped the loader."""
    piece = b"\x0a\x01a" + b"\x11" + b"\xff" * 8
    path = tmp_path / "odd.model"
    path.write_bytes(b"\x0a" + bytes([len(piece)]) + piece)
    with pytest.raises(TokenizerFormatError) as info:
        tokbench.load_tokenizer(path)
    assert str(path) in str(info.value)


# ----------------------------------------------------------------------------- bad text and ids


@pytest.mark.parametrize("name", ALL)
def test_text_that_is_not_valid_unicode_str(load, name: str):
    tok = load(name)
    for bad in ["abc\ud800def", b"abc", None, 5]:
        with pytest.raises(EncodingError):
            tok.encode(bad)
        with pytest.raises(EncodingError):
            tok.encode_batch(["fine", bad])
    with pytest.raises(EncodingError):
        tok.pretokenize("\udfff")


@pytest.mark.parametrize("name", ALL)
def test_decode_of_an_id_past_the_vocabulary(load, name: str):
    tok = load(name)
    for ids in ([tok.vocab_size], [0, 10**9]):
        with pytest.raises(TokbenchError, match="outside"):
            tok.decode(ids)
    with pytest.raises(TokbenchError):
        tok.token_bytes(tok.vocab_size)


@pytest.mark.parametrize("name", ["gpt2", "cl100k_base.tiktoken", "mistral_v1.model"])
def test_decode_of_a_negative_id(load, name: str):
    """Regression: -1 wrapped to the last token in token_bytes and reached the reference library."""
    tok = load(name)
    with pytest.raises(TokbenchError):
        tok.token_bytes(-1)
    with pytest.raises(TokbenchError):
        tok.decode([-1])


@pytest.mark.parametrize("bad", ["7", None, 1.5], ids=["str", "None", "float"])
def test_decode_of_a_non_integer_id(load, bad):
    """Regression: decode compared the id with 0 first and raised a bare TypeError."""
    with pytest.raises(TokbenchError):
        load("gpt2").decode([bad])
    with pytest.raises(TokbenchError):
        load("gpt2").token_bytes(bad)


def test_decode_of_an_unused_id(load):
    """cl100k's id 100256 has no token: either '' or a TokbenchError, not tiktoken's KeyError."""
    tok = load("cl100k_base.tiktoken")
    try:
        assert tok.decode([100256]) == ""
    except TokbenchError:
        pass


@pytest.mark.parametrize("name", ALL)
def test_empty_text_encodes_to_no_ids(load, name: str):
    tok = load(name)
    assert tok.encode("") == []
    assert tok.encode("", backend="native") == []
    assert tok.encode_batch(["", ""]) == [[], []]
    assert tok.pretokenize("") == []
    assert tok.decode([]) == ""


# -------------------------------------------------------------------------------- pretokenize


def test_gpt2_pretokenize(load):
    """GPT-2's regex: contractions alone, one optional leading space per letter/number run."""
    text = "Hello world's 123"
    assert regex.findall(GPT2_REGEX, text) == ["Hello", " world", "'s", " 123"]
    assert load("gpt2").pretokenize(text) == ["Hello", " world", "'s", " 123"]


def test_cl100k_pretokenize_covers_the_text(load, sample_texts: list[str]):
    spec = openai_spec("cl100k_base")
    tok = load("cl100k_base.tiktoken")
    for text in sample_texts:
        pieces = tok.pretokenize(text)
        assert "".join(pieces) == text
        assert pieces == regex.findall(spec["pat_str"], text)


def test_mistral_pretokenize_shows_words_with_a_leading_space(load, sample_texts: list[str]):
    """Dummy prefix and no whitespace removal: the pieces are " " + text cut before each space
    (a run of spaces stays with the word after it)."""
    tok = load("mistral_v1.model")
    assert tok.pretokenize("Hello world") == [" Hello", " world"]
    assert tok.pretokenize("a  b") == [" a", "  b"]
    for text in sample_texts[:204]:
        pieces = tok.pretokenize(text)
        assert all(p.startswith(" ") for p in pieces), text[:80]
        assert "".join(pieces) == " " + text
