"""Bad input to the loaders and the native model (issue 14): every case is a clean
``TokbenchError`` whose message names the file and the field, within time and memory bounds,
and the native encoder agrees with the reference library where both run.

Each malformed file is a real shared tokenizer with one defect; where the reference library
itself fails on the defect (a panic, a bare Exception), the test shows that too, so the wrapped
error is the library's failure made readable, not tokbench being stricter than the library.
"""

from __future__ import annotations

import json
import os
import random
import time
import tracemalloc
import unicodedata
from pathlib import Path

import pytest

import tokbench
from tokbench.errors import EncodingError, TokbenchError, TokenizerFormatError, UnknownNameError

BERT = "bert-base-uncased_wordpiece_tokenizer.json"


def load_json(tokenizer_dir: Path, name: str) -> dict:
    return json.loads((tokenizer_dir / name).read_text(encoding="utf-8"))


def write_json(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def rejects(path: Path, *fields: str) -> TokbenchError:
    """Load ``path`` and encode with both backends; return the error (it must name the file and fields)."""
    with pytest.raises(TokbenchError) as info:
        tok = tokbench.load_tokenizer(path)
        tok.encode("Hello world", backend="reference")
        tok.encode("Hello world", backend="native")
    message = str(info.value)
    assert path.name in message, message
    for field in fields:
        assert field in message, message
    return info.value


def reference_fails(build) -> BaseException:
    """The reference library's own failure on the same defect (panics included)."""
    try:
        build()
    except BaseException as err:  # noqa: BLE001 - PanicException is a BaseException
        if isinstance(err, KeyboardInterrupt):
            raise
        return err
    pytest.fail("the reference library accepted the defect")


@pytest.fixture(scope="module")
def flores_lines(flores_dir: Path) -> list[str]:
    return (flores_dir / "devtest" / "eng_Latn.devtest").read_text(encoding="utf-8").splitlines()


# --------------------------------------------------------------------------- rank files (1, 2)


def _rank_file(tokenizer_dir: Path, tmp_path: Path, edit) -> Path:
    lines = (tokenizer_dir / "r50k_base.tiktoken").read_bytes().splitlines()
    edit(lines)
    path = tmp_path / "r50k_base.tiktoken"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_tiktoken_duplicated_rank_is_an_error_not_a_panic(tokenizer_dir: Path, tmp_path: Path):
    import base64

    import tiktoken

    def duplicate(lines):
        lines[1000] = lines[1000].split()[0] + b" " + lines[1001].split()[1]

    path = _rank_file(tokenizer_dir, tmp_path, duplicate)
    ranks = {base64.b64decode(t): int(r) for t, r in (line.split() for line in path.read_bytes().splitlines())}
    panic = reference_fails(lambda: tiktoken.Encoding("x", pat_str=r"\w+", mergeable_ranks=ranks, special_tokens={}))
    assert not isinstance(panic, Exception)  # PanicException: escapes `except Exception`
    assert "1001" in str(rejects(path, "rank"))


@pytest.mark.parametrize("rank", [b"-5", b"1000000000000"])
def test_tiktoken_rank_out_of_range(tokenizer_dir: Path, tmp_path: Path, rank: bytes):
    def edit(lines):
        lines[7] = lines[7].split()[0] + b" " + rank

    path = _rank_file(tokenizer_dir, tmp_path, edit)
    tracemalloc.start()
    rejects(path, "rank", rank.decode())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 300 << 20


def test_tiktoken_reference_adapter_turns_panics_into_errors(tokenizer_dir: Path):
    from tokbench.model.references import TiktokenReference

    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 5}  # rank 5 twice
    with pytest.raises(TokenizerFormatError, match="tiktoken cannot build") as info:
        TiktokenReference(name="t", pattern=r"\w+", ranks=ranks, special_tokens={}, where="t.tiktoken")
    assert "t.tiktoken" in str(info.value)


# --------------------------------------------------------------------------- GPT-2 files (1)


@pytest.mark.parametrize("damaged", ["merges.txt", "vocab.json"])
def test_gpt2_files_with_bytes_that_are_not_utf8(tokenizer_dir: Path, tmp_path: Path, damaged: str):
    folder = tmp_path / "gpt2"
    folder.mkdir()
    for name in ("vocab.json", "merges.txt"):
        data = (tokenizer_dir / "gpt2" / name).read_bytes()
        if name == damaged:
            data = data[:5000] + b"\xff\xfe" + data[5000:]
        (folder / name).write_bytes(data)
    with pytest.raises(TokenizerFormatError, match="UTF-8") as info:
        tokbench.load_tokenizer(folder)
    assert damaged in str(info.value)


@pytest.mark.parametrize("value", ["12", 1.5, -1, 10**12, None])
def test_gpt2_vocab_ids_of_the_wrong_type_or_range(tokenizer_dir: Path, tmp_path: Path, value):
    folder = tmp_path / "gpt2"
    folder.mkdir()
    vocab = load_json(tokenizer_dir / "gpt2", "vocab.json")
    vocab["Ġthe"] = value
    write_json(folder / "vocab.json", vocab)
    (folder / "merges.txt").write_bytes((tokenizer_dir / "gpt2" / "merges.txt").read_bytes())
    with pytest.raises(TokenizerFormatError, match="Ġthe") as info:
        tokbench.load_tokenizer(folder)
    assert "vocab.json" in str(info.value)


# ----------------------------------------------------------------------- tokenizer.json (1, 2)

JSON_DEFECTS = {
    # name: (file, edit, words the message must contain)
    "unknown_pre_tokenizer": ("llama_tokenizer.json", lambda d: d.update(pre_tokenizer={"type": "Bogus"}),
                              ("pre_tokenizer.type", "Bogus", "Metaspace")),
    "unknown_normalizer_in_sequence": ("llama_tokenizer.json",
                                       lambda d: d["normalizer"]["normalizers"][1].update(type="Bogus"),
                                       ("normalizer.normalizers[1].type", "Bogus")),
    "unknown_decoder": ("qwen2_tokenizer.json", lambda d: d.update(decoder={"type": "Bogus"}), ("decoder.type",)),
    "vocab_value_string": ("gpt-neox_tokenizer.json", lambda d: d["model"]["vocab"].update({"Ġthe": "x"}),
                           ("model.vocab", "Ġthe")),
    "vocab_value_float": ("olmo2_tokenizer.json", lambda d: d["model"]["vocab"].update({"the": 1.5}),
                          ("model.vocab", "the")),
    "vocab_value_negative": ("llama_tokenizer.json", lambda d: d["model"]["vocab"].update({"▁the": -3}),
                             ("model.vocab", "▁the", "-3")),
    "vocab_value_huge": ("gpt-neox_tokenizer.json", lambda d: d["model"]["vocab"].update({"Ġthe": 10**12}),
                         ("model.vocab", "1000000000000")),
    "wordpiece_without_unk_token": (BERT, lambda d: d["model"].pop("unk_token"), ("model.unk_token", "missing")),
    "wordpiece_unk_not_in_vocab": (BERT, lambda d: d["model"].update(unk_token="[NOPE]"),
                                   ("model.unk_token", "[NOPE]")),
    "added_token_without_content": ("qwen2_tokenizer.json", lambda d: d["added_tokens"][3].pop("content"),
                                    ("added_tokens[3].content",)),
    "added_token_without_id": ("gpt-neox_tokenizer.json", lambda d: d["added_tokens"][2].pop("id"),
                               ("added_tokens[2].id",)),
    "added_token_flag_not_bool": ("olmo2_tokenizer.json", lambda d: d["added_tokens"][0].update(special="yes"),
                                  ("added_tokens[0].special",)),
    "merge_not_a_pair": ("llama_tokenizer.json", lambda d: d["model"]["merges"].__setitem__(10, "a b c"),
                         ("model.merges[10]",)),
    "template_without_the_text": (BERT, lambda d: d["post_processor"].update(single=d["post_processor"]["single"][:1]),
                                  ("post_processor.single", "Sequence A")),
    "metaspace_replacement_of_two_chars": (
        "llama_tokenizer.json",
        lambda d: d.update(pre_tokenizer={"type": "Metaspace", "replacement": "ab", "prepend_scheme": "always",
                                          "split": False}),
        ("pre_tokenizer.replacement",)),
}


@pytest.mark.parametrize("case", list(JSON_DEFECTS))
def test_malformed_tokenizer_json(tokenizer_dir: Path, tmp_path: Path, case: str):
    source, edit, words = JSON_DEFECTS[case]
    data = load_json(tokenizer_dir, source)
    edit(data)
    path = write_json(tmp_path / source, data)
    rejects(path, *words)


def test_defects_the_reference_accepts_are_caught_before_encoding(tokenizer_dir: Path, tmp_path: Path):
    """tokenizers loads BERT with the [CLS]-only template and encodes every text to []: a
    silent wrong result, which is why tokbench rejects the template."""
    from tokenizers import Tokenizer

    data = load_json(tokenizer_dir, BERT)
    data["post_processor"]["single"] = data["post_processor"]["single"][:1]
    hf = Tokenizer.from_str(json.dumps(data))
    hf.no_padding()
    assert hf.encode("Hello world", add_special_tokens=False).ids == []


def test_huge_id_in_a_small_file_fails_fast_and_small(tokenizer_dir: Path, tmp_path: Path):
    """Regression: one id of 10**12 in a 7 kB file built a frozenset over range(10**12)."""
    data = load_json(tokenizer_dir, BERT)
    data["model"]["vocab"] = {t: i for t, i in list(data["model"]["vocab"].items())[:800]}
    data["model"]["vocab"]["hello"] = 10**12
    path = write_json(tmp_path / "small.json", data)
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    start = time.perf_counter()
    rejects(path, "model.vocab['hello']", "1000000000000")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert time.perf_counter() - start < 2
    assert peak < 20 << 20


@pytest.fixture(scope="module")
def unigram_json(flores_lines: list[str]) -> dict:
    """A small Unigram tokenizer.json trained by tokenizers on FLORES English."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.train_from_iterator(flores_lines[:400], trainers.UnigramTrainer(vocab_size=300, special_tokens=["<unk>"],
                                                                        unk_token="<unk>"))
    return json.loads(tok.to_str())


UNIGRAM_DEFECTS = {
    "entry_not_a_pair": (lambda m: m["vocab"].__setitem__(5, ["▁a"]), "model.vocab[5]"),
    "entry_a_string": (lambda m: m["vocab"].__setitem__(6, "▁a"), "model.vocab[6]"),
    "score_not_a_number": (lambda m: m["vocab"][7].__setitem__(1, "high"), "model.vocab[7]"),
    "unk_id_out_of_range": (lambda m: m.update(unk_id=10**6), "model.unk_id"),
    "unk_id_negative": (lambda m: m.update(unk_id=-1), "model.unk_id"),
}


@pytest.mark.parametrize("case", list(UNIGRAM_DEFECTS))
def test_malformed_unigram(unigram_json: dict, tmp_path: Path, case: str):
    data = json.loads(json.dumps(unigram_json))
    edit, field = UNIGRAM_DEFECTS[case]
    edit(data["model"])
    rejects(write_json(tmp_path / "unigram.json", data), field)


def test_the_trained_unigram_itself_loads(unigram_json: dict, tmp_path: Path, flores_lines: list[str]):
    from tokenizers import Tokenizer

    path = write_json(tmp_path / "unigram.json", unigram_json)
    want = Tokenizer.from_file(str(path)).encode(flores_lines[500], add_special_tokens=False).ids
    assert tokbench.load_tokenizer(path).encode(flores_lines[500]) == want


# ------------------------------------------------------------------------- SentencePiece (1, 2)


def test_sentencepiece_duplicated_piece(tokenizer_dir: Path, tmp_path: Path):
    import sentencepiece as spm

    data = (tokenizer_dir / "mistral_v1.model").read_bytes()
    piece = data[:2] + data[2 : 2 + data[1]]  # field 1 (first piece), length < 128
    assert data[0] == 0x0A and data[1] < 0x80
    path = tmp_path / "dup.model"
    path.write_bytes(piece + data)  # the first piece twice
    reference_fails(lambda: spm.SentencePieceProcessor(model_file=str(path)))
    rejects(path, "piece 1", "repeats piece 0")


def test_device_named_like_a_model_is_refused(tmp_path: Path):
    """Regression: a /dev/zero link named x.model read until memory ran out, then said 'cannot read ()'."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    link = tmp_path / "x.model"
    link.symlink_to("/dev/zero")
    start = time.perf_counter()
    with pytest.raises(TokenizerFormatError, match="not a regular file") as info:
        tokbench.load_tokenizer(link)
    assert str(link) in str(info.value)
    assert time.perf_counter() - start < 1


def test_file_over_the_size_cap_is_refused_before_reading(tmp_path: Path):
    from tokbench.formats import MAX_FILE_BYTES

    path = tmp_path / "huge.tiktoken"
    with open(path, "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk used
    with pytest.raises(TokenizerFormatError, match="GiB") as info:
        tokbench.load_tokenizer(path, pattern="cl100k")
    assert str(path) in str(info.value)


# ------------------------------------------------------------------------- silent wrong (4)


def test_pattern_typo_is_an_error_listing_the_names(tokenizer_dir: Path):
    with pytest.raises(UnknownNameError, match="cl100kk") as info:
        tokbench.load_tokenizer(tokenizer_dir / "cl100k_base.tiktoken", pattern="cl100kk")
    assert "cl100k" in info.value.valid and "o200k" in info.value.valid


def test_bogus_backend_names_the_valid_ones(tokenizer_dir: Path):
    tok = tokbench.load_tokenizer(tokenizer_dir / "gpt2")
    for call in (lambda: tok.encode("x", backend="bogus"), lambda: tok.encode_batch(["x"], backend="bogus")):
        with pytest.raises(TokbenchError, match="auto, reference, native"):
            call()


def test_bert_clean_text_and_punctuation_match_tokenizers_on_every_code_point():
    """Native BertNormalizer drops, and BertPreTokenizer splits on, exactly the characters
    tokenizers does (its tables are an older Unicode than Python's)."""
    from tokenizers import normalizers, pre_tokenizers

    from tokbench.model.normalizers import BertNormalizer
    from tokbench.model.pretokenizers import BertPreTokenizer

    hf_norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False,
                                         lowercase=False)
    ours = BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    hf_pre, our_pre = pre_tokenizers.BertPreTokenizer(), BertPreTokenizer()
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    for k in range(0, len(chars), 4096):
        text = "a".join(chars[k : k + 4096])
        assert ours.normalize(text) == hf_norm.normalize_str(text), hex(ord(chars[k]))
        assert our_pre.split("a" + text + "a") == [p for p, _ in hf_pre.pre_tokenize_str("a" + text + "a")], \
            hex(ord(chars[k]))


def _odd_characters(rng: random.Random) -> str:
    pools = [
        lambda: chr(rng.choice([0x10FFFF, 0xFFFE, 0xFFFF, 0x0E76, 0xFDD0, 0x1FFFE])),  # noncharacters, unassigned
        lambda: chr(rng.randrange(0xE000, 0xF900)),  # private use
        lambda: chr(rng.randrange(0xF0000, 0x10FFFE)),  # supplementary private use
        lambda: chr(rng.choice([c for c in range(0x3000, 0x3100) if unicodedata.category(chr(c)) == "Cn"])),
        lambda: chr(rng.randrange(0x20, 0x250)),  # Latin with accents
        lambda: chr(rng.randrange(0x4E00, 0x4F00)),  # CJK
        lambda: rng.choice([" ", "\t", "\n", "\u00a0", "\u200b", "\u0300", ".", "##", "[UNK]"]),
        lambda: chr(rng.randrange(0x1, 0x110000)),
    ]
    out = []
    for _ in range(rng.randrange(1, 12)):
        ch = rng.choice(pools)()
        out.append(ch if not 0xD800 <= ord(ch[0]) <= 0xDFFF else "x")
    return "".join(out)


def test_native_bert_matches_the_reference_on_unassigned_and_private_characters(tokenizer_dir: Path):
    tok = tokbench.load_tokenizer(tokenizer_dir / BERT)
    rng = random.Random(14)
    texts = ["\U0010ffff", "\ufffe", "\u0e76", "a\u0e76b", "x\ue000y", "\U000f0000 z"]
    texts += [_odd_characters(rng) for _ in range(400)]
    want = tok.encode_batch(texts, backend="reference")
    got = [tok.encode(t, backend="native") for t in texts]
    wrong = [(t, w, g) for t, w, g in zip(texts, want, got, strict=True) if w != g]
    assert not wrong, f"{len(wrong)} of {len(texts)} differ, first: {wrong[0]}"
    unk = tok.special_tokens["[UNK]"]
    assert want[0] == want[1] == want[2] == [unk]


# -------------------------------------------------------------------------------- API (7)


@pytest.mark.parametrize("bad", [123, None, b"tokenizer.json", 1.5])
def test_load_tokenizer_of_something_that_is_not_a_path(bad):
    with pytest.raises(TokbenchError, match="expects a path"):
        tokbench.load_tokenizer(bad)


@pytest.mark.parametrize("bad", [None, 5, "hello", b"ab"])
def test_decode_of_something_that_is_not_a_list_of_ids(tokenizer_dir: Path, bad):
    tok = tokbench.load_tokenizer(tokenizer_dir / "r50k_base.tiktoken")
    with pytest.raises(TokbenchError, match="list of token ids"):
        tok.decode(bad)


@pytest.mark.parametrize(("ids", "words"), [(["a"], "integers"), ([-1], "outside"), ([1.5], "integers"),
                                            ([True], "integers")])
def test_decode_of_bad_ids(tokenizer_dir: Path, ids, words: str):
    tok = tokbench.load_tokenizer(tokenizer_dir / "mistral_v1.model")
    with pytest.raises(TokbenchError, match=words):
        tok.decode(ids)


def test_encode_of_none(tokenizer_dir: Path):
    tok = tokbench.load_tokenizer(tokenizer_dir / BERT)
    with pytest.raises(EncodingError, match="expected text"):
        tok.encode(None)  # type: ignore[arg-type]


# -------------------------------------------------------------------------- regex time (8)


def test_catastrophic_split_regex_fails_cleanly(tokenizer_dir: Path, tmp_path: Path):
    """Regression: a Split regex (a|aa)+$ took 0.9 s on 30 characters, x2.7 per 2 more."""
    data = load_json(tokenizer_dir, BERT)
    data["pre_tokenizer"] = {"type": "Split", "pattern": {"Regex": "(a|aa)+$"}, "behavior": "Isolated",
                             "invert": False}
    tok = tokbench.load_tokenizer(write_json(tmp_path / "hostile.json", data))
    assert tok.encode("aab aa", backend="native") == tok.encode("aab aa", backend="reference")
    start = time.perf_counter()
    with pytest.raises(EncodingError, match="backtracks"):
        tok.encode("a" * 40 + "b", backend="native")
    assert time.perf_counter() - start < 5


def test_vetted_patterns_run_without_the_time_limit(tokenizer_dir: Path):
    """The time limit costs 2.5-5x on the split, so the patterns of every shared file are vetted."""
    from tokbench.formats.hf_json import pretokenizer_from_json
    from tokbench.model.patterns import PATTERNS
    from tokbench.model.pretokenizers import regex_timeout

    pipelines = [pretokenizer_from_json(load_json(tokenizer_dir, name)["pre_tokenizer"])
                 for name in ("qwen2_tokenizer.json", "olmo2_tokenizer.json", "gpt-neox_tokenizer.json")]
    patterns = [s.pattern for p in pipelines for s in getattr(p, "steps", (p,)) if hasattr(s, "pattern")]
    assert len(patterns) == 3
    for pattern in patterns + [p.regex for p in PATTERNS.values()]:
        assert regex_timeout(pattern, "x" * 1000) is None, pattern
    assert regex_timeout("(a|aa)+$", "x" * 1000) is not None


def test_loader_errors_are_never_empty(tokenizer_dir: Path, tmp_path: Path):
    for name, data in [("empty.json", b""), ("x.model", b"\x0a"), ("y.tiktoken", b"\n\n"), ("z.json", b"[]")]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(TokbenchError) as info:
            tokbench.load_tokenizer(path, **({"pattern": "r50k"} if name.endswith("tiktoken") else {}))
        assert str(info.value).strip() and not str(info.value).endswith("()")


@pytest.mark.skipif(os.name != "posix", reason="file permissions")
def test_unreadable_file(tokenizer_dir: Path, tmp_path: Path):
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    path = tmp_path / "tokenizer.json"
    path.write_bytes((tokenizer_dir / BERT).read_bytes())
    path.chmod(0)
    with pytest.raises(TokenizerFormatError, match="ermission") as info:
        tokbench.load_tokenizer(path)
    assert str(path) in str(info.value)
