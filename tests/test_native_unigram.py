"""Native Unigram encoding and SentencePiece's precompiled charsmap against the reference libraries.

Small SentencePiece Unigram models are trained here on FLORES text (Latin, Devanagari, Han),
with the ``nmt_nfkc`` and ``identity`` rules, with and without byte fallback; an HF Unigram
``tokenizer.json`` is trained with ``tokenizers``. Native ids must equal the library's on real
FLORES lines of several scripts and on whitespace/compatibility-character edge cases.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokbench.formats import load_tokenizer
from tokbench.formats.sentencepiece_model import load_sentencepiece, read_model_proto
from tokbench.model.charsmap import CharsMap, SentencePieceNormalizer, parse_charsmap
from tokbench.model.unigram import UnigramModel

spm = pytest.importorskip("sentencepiece")
tokenizers = pytest.importorskip("tokenizers")

TRAIN_LANGS = ("eng_Latn", "hin_Deva", "zho_Hans")
TEST_LANGS = ("eng_Latn", "hin_Deva", "zho_Hans", "rus_Cyrl", "arb_Arab", "jpn_Jpan", "kor_Hang",
              "tha_Thai", "amh_Ethi", "fra_Latn")
#: Whitespace runs, tabs, full-width and compatibility characters (the charsmap rewrites them),
#: the user-defined pieces, a literal ▁, characters no model has, and empty/space-only text.
EDGE_CASES = ["  hello   world  ", "\tTab\u3000ideographic ＡＢＣ ①", "ﬁ ligature ½ ㌀ ｶﾞ", "", " ",
              "a<url>b ab", "\u2581x\u2581", "ᚠᚡᚢ 𝔘 x", "e\u0301 \u1100\u1161\u11a8 x\u200dy"]


def _lines(flores_dir: Path, per_language: int) -> list[str]:
    out = []
    for lang in TEST_LANGS:
        with open(flores_dir / "devtest" / f"{lang}.devtest", encoding="utf-8") as handle:
            out.extend(line.rstrip("\n") for _, line in zip(range(per_language), handle, strict=False))
    return out + EDGE_CASES


@pytest.fixture(scope="module")
def train_file(flores_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~150 kB of FLORES dev text: the first 50 kB of each training language, whole lines."""
    parts = []
    for lang in TRAIN_LANGS:
        text = (flores_dir / "dev" / f"{lang}.dev").read_text(encoding="utf-8")
        parts.append(text[: text.rfind("\n", 0, 50_000) + 1])
    path = tmp_path_factory.mktemp("unigram") / "train.txt"
    path.write_text("".join(parts), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def spm_models(train_file: Path) -> dict[tuple[str, bool], Path]:
    models = {}
    for rule in ("nmt_nfkc", "identity"):
        for byte_fallback in (False, True):
            prefix = train_file.parent / f"{rule}_{int(byte_fallback)}"
            spm.SentencePieceTrainer.train(
                input=str(train_file), model_prefix=str(prefix), vocab_size=2500, model_type="unigram",
                normalization_rule_name=rule, byte_fallback=byte_fallback, character_coverage=0.995,
                user_defined_symbols=["<url>", "ab"], minloglevel=2, num_threads=1)
            models[rule, byte_fallback] = prefix.with_suffix(".model")
    return models


@pytest.mark.parametrize("rule", ["nmt_nfkc", "identity"])
@pytest.mark.parametrize("byte_fallback", [False, True])
def test_sentencepiece_unigram_native_matches_library(spm_models, flores_dir, rule, byte_fallback):
    path = spm_models[rule, byte_fallback]
    reference = spm.SentencePieceProcessor(model_file=str(path))
    tok = load_sentencepiece(path)
    assert tok.kind == "unigram"
    lines = _lines(flores_dir, 12)
    mismatches = [line for line in lines if tok.encode(line, backend="native") != reference.encode(line)]
    assert mismatches == []
    # The lines do reach the unknown piece (or its bytes), so that path is checked too.
    unk = reference.unk_id()
    assert any(unk in reference.encode(line) for line in lines) != byte_fallback


def _fields(items: list[tuple[int, int, int | bytes]]) -> bytes:
    """Protobuf wire bytes of ``(number, wire type, value)`` fields (the inverse of iter_fields)."""

    def varint(n: int) -> bytes:
        out = bytearray()
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                return bytes(out)

    out = bytearray()
    for number, wire, value in items:
        out += varint(number << 3 | wire)
        if wire == 0:
            out += varint(value)  # type: ignore[arg-type]
        elif wire == 2:
            out += varint(len(value)) + value  # type: ignore[arg-type,operator]
        else:
            out += int(value).to_bytes(8 if wire == 1 else 4, "little")  # type: ignore[arg-type]
    return bytes(out)


def _rescored(path: Path, score_of, target: Path) -> Path:
    """``path`` with every normal piece's score replaced by ``score_of(piece)`` (as float32)."""
    import struct

    from tokbench.formats.protobuf import iter_fields

    top = []
    for number, wire, value in iter_fields(path.read_bytes()):
        if number == 1:
            fields = list(iter_fields(value))  # type: ignore[arg-type]
            piece = next(v for n, _, v in fields if n == 1).decode("utf-8")  # type: ignore[union-attr]
            kind = next((v for n, _, v in fields if n == 3), 1)
            if kind == 1:
                bits = struct.unpack("<I", struct.pack("<f", score_of(piece)))[0]
                fields = [(n, w, bits if n == 2 else v) for n, w, v in fields]
            value = _fields(fields)
        top.append((number, wire, value))
    target.write_bytes(_fields(top))
    return target


@pytest.mark.parametrize("scoring", [
    "all_equal",
    pytest.param("by_length", marks=pytest.mark.xfail(strict=True, reason=(
        "known gap: with every segmentation tied up to float32 rounding, lines that also hold a "
        "user-defined piece ('ab') differ on a later near-tie (14 of 240 FLORES lines, all with "
        "'ab'); float32 sums otherwise match, and real models show no such case"))),
])
def test_ties_and_float32_rounding_match_sentencepiece(spm_models, flores_dir, tmp_path, scoring):
    """Scores rewritten so that many segmentations tie exactly (all -1: fewest pieces, ties
    broken by search order) or tie up to float32 rounding (-0.7 per character): sentencepiece's
    tie-breaking and float32 path sums are then what decides, and native must agree."""
    score_of = (lambda piece: -1.0) if scoring == "all_equal" else (lambda piece: -0.7 * len(piece))
    for key in (("nmt_nfkc", False), ("identity", True)):
        path = _rescored(spm_models[key], score_of, tmp_path / f"{key[0]}_{key[1]}_{scoring}.model")
        reference = spm.SentencePieceProcessor(model_file=str(path))
        tok = load_sentencepiece(path)
        lines = _lines(flores_dir, 6) + ["6 000 330 000 600.000 1000000 ---- ....", "aaaa abab ab<url>ab"]
        assert [t for t in lines if tok.encode(t, backend="native") != reference.encode(t)] == [], key


def test_charsmap_rules_normalize_like_sentencepiece(spm_models):
    """Every rule of nmt_nfkc's map, on its own and between ordinary text, as sentencepiece has it."""
    path = spm_models["nmt_nfkc", False]
    reference = spm.SentencePieceProcessor(model_file=str(path))
    spec = read_model_proto(path.read_bytes())["normalizer"]
    rules = parse_charsmap(spec["precompiled_charsmap"])
    assert len(rules) > 5000  # NFKC alone rewrites thousands of characters
    normalizer = SentencePieceNormalizer(CharsMap.from_blob(spec["precompiled_charsmap"]),
                                         spec["add_dummy_prefix"], spec["remove_extra_whitespaces"],
                                         spec["escape_whitespaces"], ("<url>", "ab"))
    keys = sorted(rules)
    sample = random.Random(18).sample(keys, 3000)
    texts = [f"x{key}y {key}" for key in sample] + ["".join(sample[i:i + 40]) for i in range(0, 3000, 40)]
    assert [t for t in texts if normalizer.normalize(t) != reference.normalize(t)] == []


def test_hf_unigram_native_matches_tokenizers(train_file, flores_dir, tmp_path):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers

    trained = Tokenizer(models.Unigram())
    trained.normalizer = normalizers.NFKC()
    trained.pre_tokenizer = pre_tokenizers.Metaspace()
    trained.train([str(train_file)], trainers.UnigramTrainer(
        vocab_size=4000, special_tokens=["<unk>", "<s>"], unk_token="<unk>", show_progress=False))
    data = json.loads(trained.to_str())
    # The same model with byte fallback: the 256 <0xNN> pieces added below every other score.
    low = min(score for _, score in data["model"]["vocab"])
    data["model"]["vocab"] += [[f"<0x{b:02X}>", low - 1.0] for b in range(256)]
    data["model"]["byte_fallback"] = True
    lines = _lines(flores_dir, 12)
    for name, reference in (("plain", trained), ("byte_fallback", Tokenizer.from_str(json.dumps(data)))):
        path = tmp_path / f"{name}.json"
        reference.save(str(path))
        tok = load_tokenizer(path)
        assert tok.kind == "unigram"
        mismatches = [line for line in lines if tok.encode(line, backend="native") != reference.encode(line).ids]
        assert mismatches == [], name


def test_hf_precompiled_unigram_conversion_matches_tokenizers(spm_models, flores_dir, tmp_path):
    """A SentencePiece Unigram model written as a tokenizer.json the way HF converts T5/XLM-R
    (Precompiled charsmap, Metaspace, Unigram): native ids equal ``tokenizers``' ids, on FLORES
    and on grapheme clusters with ZWJ, combining marks and emoji sequences."""
    import base64

    from tokenizers import Tokenizer

    proto = read_model_proto(spm_models["nmt_nfkc", False].read_bytes())
    pieces = proto["pieces"]
    metaspace = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    data = {
        "version": "1.0", "truncation": None, "padding": None, "post_processor": None, "decoder": metaspace,
        "added_tokens": [{"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, (p, _, t) in enumerate(pieces) if t in (2, 3)],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled",
             "precompiled_charsmap": base64.b64encode(proto["normalizer"]["precompiled_charsmap"]).decode()},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": metaspace,
        "model": {"type": "Unigram", "unk_id": next(i for i, (_, _, t) in enumerate(pieces) if t == 2),
                  "vocab": [[p, s] for p, s, _ in pieces], "byte_fallback": False},
    }
    path = tmp_path / "converted.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    reference = Tokenizer.from_file(str(path))
    tok = load_tokenizer(path)
    lines = _lines(flores_dir, 8) + ["\u0dc1\u0dca\u200d\u0dbb\u0dd3 \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1eb\U0001f1f7",
                                     "\u1000\u103c\u102d\u102f\u1038 \uff76\uff9e \u212b\u0301"]
    assert [t for t in lines if tok.encode(t, backend="native") != reference.encode(t, add_special_tokens=False).ids] == []


def test_mistral_with_sentencepiece_normalizer_still_exact(tokenizer_dir, flores_dir):
    tok = load_tokenizer(tokenizer_dir / "mistral_v1.model")
    reference = spm.SentencePieceProcessor(model_file=str(tokenizer_dir / "mistral_v1.model"))
    lines = _lines(flores_dir, 8)
    assert [line for line in lines if tok.encode(line, backend="native") != reference.encode(line)] == []


def test_viterbi_ties_and_unknowns_match_tokenizers():
    """Equal-scoring paths (the first one reaching an end node wins) and runs of unknown
    characters (fused into one <unk>), against HF's Unigram; sentencepiece's float32 arithmetic
    agrees here because every score is exact in float32."""
    from tokenizers import Tokenizer, models

    pieces = [("<unk>", 0.0), ("a", -1.0), ("b", -1.0), ("ab", -2.0), ("abc", -3.0), ("c", -1.0),
              ("bc", -2.0), ("ca", -2.0)]
    reference = Tokenizer(models.Unigram(pieces, unk_id=0))
    for f32 in (False, True):
        model = UnigramModel(pieces, unk_id=0, sentencepiece_scores=f32)
        for text in ("ab", "abc", "cab", "abcabc", "xyzc", "axxbcx", "bca"):
            assert model.encode(text) == reference.encode(text).ids, (text, f32)


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(st.tuples(st.text("abcé▁", min_size=1, max_size=4),
                              st.floats(-8.0, -0.125, width=32)), min_size=1, max_size=25),
    text=st.text("abcdé▁\U0001f600", max_size=40),
    f32=st.booleans(),
    byte_fallback=st.booleans(),
    fuse=st.booleans(),
)
def test_kernel_equals_readable_twin(pieces, text, f32, byte_fallback, fuse):
    """The numba Viterbi (:mod:`tokbench.model._kernels`) and :meth:`UnigramModel.segment`
    give the same path, unknowns and ties included, in float32 and float64; the kernel's ids
    (path, fused unknowns, byte spelling) equal the readable encoder's."""
    byte_pieces = [(f"<0x{b:02X}>", -20.0) for b in range(256)]
    model = UnigramModel([("<unk>", 0.0), *pieces, *byte_pieces], unk_id=0, sentencepiece_scores=f32,
                         usable=range(1 + len(pieces)), fuse_unk=fuse,
                         byte_ids=range(1 + len(pieces), 257 + len(pieces)) if byte_fallback else None)
    assert model.segment_fast(text) == model.segment(text)
    assert model.encode(text, fast=True) == model.encode(text, fast=False)
    texts = [text, text[::-1], "", text[:3]]
    assert model.encode_many(texts) == [model.encode(t, fast=False) for t in texts]


def test_sentencepiece_unigram_words_are_unions_of_pieces(spm_models, flores_dir):
    """``pretokenize`` shows sentencepiece's words; every word boundary is a boundary between the
    pieces sentencepiece emits, so word-level metrics can rely on them."""
    path = spm_models["nmt_nfkc", False]
    reference = spm.SentencePieceProcessor(model_file=str(path))
    tok = load_sentencepiece(path)
    for line in _lines(flores_dir, 5):
        words = tok.pretokenize(line)
        pieces = [p.replace("\u2581", " ") for p in reference.encode(line, out_type=str)]
        assert "".join(words) == "".join(pieces)

        def cuts(parts: list[str]) -> set[int]:
            ends, total = set(), 0
            for part in parts:
                total += len(part)
                ends.add(total)
            return ends

        assert cuts(words) <= cuts(pieces), line


# ------------------------------------------------- fast reader, normalizer kernel, one-call encode


def test_fast_model_reader_equals_readable_reader(spm_models, tokenizer_dir, tmp_path):
    """:func:`read_model_columns` (numpy) gives what :func:`read_model_proto` (one field at a
    time) gives, on real models and on seeded damaged copies of mistral (same result, or the
    same kind of error)."""
    import hashlib
    import math
    import sys

    from tokbench.formats.hf_json import piece_to_bytes
    from tokbench.formats.sentencepiece_model import (
        CONTROL,
        UNKNOWN,
        piece_strings,
        read_model_columns,
    )

    sys.path.insert(0, str(Path(__file__).parent))
    import bad_input_mutations

    def outcome(read, data):
        try:
            return read(data)
        except Exception as err:  # noqa: BLE001 - the kind of error is what is compared
            return type(err)

    def same_piece(a, b):
        return a[0] == b[0] and a[2] == b[2] and (a[1] == b[1] or math.isnan(a[1]) and math.isnan(b[1]))

    source = tokenizer_dir / "mistral_v1.model"
    rng = random.Random(18)
    files = [source, *spm_models.values()] + [bad_input_mutations.mutate(source, tmp_path / str(k), rng)[0]
                                              for k in range(16)]
    fast_files = 0
    for path in files:
        data = path.read_bytes()
        slow, fast = outcome(read_model_proto, data), outcome(read_model_columns, data)
        if isinstance(slow, type) or isinstance(fast, type):
            assert slow == fast, path
            continue
        fast_files += 1
        tuples = list(zip(piece_strings(fast), fast["scores"].tolist(), fast["types"].tolist(), strict=True))
        assert len(tuples) == len(slow["pieces"]) and all(map(same_piece, tuples, slow["pieces"])), path
        assert fast["vocab"] == [p.encode() if t in (CONTROL, UNKNOWN) else piece_to_bytes(p)
                                 for p, _, t in slow["pieces"]]
        assert (fast["trainer"], fast["normalizer"]) == (slow["trainer"], slow["normalizer"])
    assert fast_files > 5
    # The fingerprint is the file's sha256, although the loader decodes the bytes in place.
    for path in [source, *spm_models.values()]:
        assert load_sentencepiece(path).fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def nfkc_map(spm_models) -> dict:
    """The nmt_nfkc model's normalizer spec, its charsmap, the rules' keys and the trie as lists."""
    spec = read_model_proto(spm_models["nmt_nfkc", False].read_bytes())["normalizer"]
    charsmap = CharsMap.from_blob(spec["precompiled_charsmap"])
    keys = random.Random(18).sample(sorted(charsmap.rules), 4000)
    parts = st.one_of(st.sampled_from(keys), st.sampled_from([" ", "  ", "\u2581", "ab", "<url>", "a", "\t"]),
                      st.text(max_size=3))
    return {"spec": spec, "charsmap": charsmap, "parts": parts, "units": charsmap.units.tolist(),
            "strings": charsmap.strings.tobytes()}


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_normalizer_kernel_equals_readable_twin(nfkc_map, data):
    """The numba walk (:func:`tokbench.model._kernels.sp_normalize`) and its readable twin
    (:func:`tokbench.model._reference.sp_normalize_reference`) agree on text mixing charsmap rule
    keys, spaces, user-defined pieces and ordinary characters, for every whitespace option."""
    from tokbench.model._reference import sp_normalize_reference

    flags = data.draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
    users = data.draw(st.sampled_from([(), ("<url>", "ab", "a")]))
    normalizer = SentencePieceNormalizer(nfkc_map["charsmap"], add_dummy_prefix=flags[0],
                                         remove_extra_whitespaces=flags[1], escape_whitespaces=flags[2],
                                         user_defined=users)
    text = "".join(data.draw(st.lists(nfkc_map["parts"], max_size=12))).encode("utf-8", errors="surrogatepass")
    twin = sp_normalize_reference(text, units=nfkc_map["units"], strings=nfkc_map["strings"],
                                  user_defined=[u.encode() for u in users], add_dummy_prefix=flags[0],
                                  remove_extra=flags[1], escape=flags[2])
    assert normalizer.normalize_utf8(text) == twin


def test_normalizer_kernel_equals_sentencepiece_on_flores(spm_models, nfkc_map, flores_dir):
    reference = spm.SentencePieceProcessor(model_file=str(spm_models["nmt_nfkc", False]))
    normalizer = SentencePieceNormalizer(nfkc_map["charsmap"], user_defined=("<url>", "ab"))
    lines = _lines(flores_dir, 20)
    assert [t for t in lines if normalizer.normalize(t) != reference.normalize(t)] == []
    assert [t for t in lines if normalizer.normalize(t) != normalizer.normalize_chunks(t)] == []


def test_batch_encode_equals_single_and_library(spm_models, flores_dir):
    """The one-call batch kernel gives each text's ids as the library does."""
    lines = _lines(flores_dir, 10)
    for key, path in spm_models.items():
        reference = spm.SentencePieceProcessor(model_file=str(path))
        tok = load_sentencepiece(path)
        assert tok.encode_batch(lines, backend="native") == reference.encode(lines), key


def test_damaged_charsmap_trie_fails_cleanly_when_used(spm_models, tmp_path):
    """The charsmap is no longer parsed at load: a trie that points outside itself loads, and
    the native encoder raises a TokbenchError naming the file when it walks into it."""
    from tokbench.errors import TokbenchError
    from tokbench.formats.protobuf import iter_fields

    source = spm_models["nmt_nfkc", False]
    top = []
    for number, wire, value in iter_fields(source.read_bytes()):
        if number == 3:
            fields = []
            for n, w, v in iter_fields(value):  # type: ignore[arg-type]
                if n == 2:  # the root unit's offset sent far past the end of the trie
                    v = v[:4] + (0xFFFFFC00).to_bytes(4, "little") + v[8:]  # type: ignore[index,operator]
                fields.append((n, w, v))
            value = _fields(fields)
        top.append((number, wire, value))
    damaged = tmp_path / "damaged_charsmap.model"
    damaged.write_bytes(_fields(top))
    tok = load_sentencepiece(damaged)
    assert tok.vocab_size == load_sentencepiece(source).vocab_size
    with pytest.raises(TokbenchError, match="damaged_charsmap"):
        tok.encode("hello", backend="native")
