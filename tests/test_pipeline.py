"""Normalizer and pretokenizer stages (:mod:`tokbench.model.pretokenizers`), one at a time.

Each stage has hand-worked cases (the expected pieces are derived in the docstrings or follow
from the HF documentation of ``SplitDelimiterBehavior``) and, where ``tokenizers`` has the
same stage, a comparison with ``tokenizers``' own ``pre_tokenize_str`` / ``normalize_str`` on
real FLORES-200 lines from every language. ``SentencePieceWords`` has no HF twin; it is
checked against ``sentencepiece`` itself (its word boundaries are always piece boundaries).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tokenizers import Regex, normalizers, pre_tokenizers

from tokbench.formats.hf_json import normalizer_from_json, pretokenizer_from_json
from tokbench.model import normalizers as N
from tokbench.model import pretokenizers as P
from tokbench.model.bytelevel import unicode_to_bytes

SPACE = P.SPACE_MARK


@pytest.fixture(scope="module")
def flores_lines(flores_dir: Path) -> list[str]:
    """Lines 0 and 7 of devtest in every language (204 languages, 20+ scripts)."""
    lines: list[str] = []
    for path in sorted((flores_dir / "devtest").glob("*.devtest")):
        text = path.read_text(encoding="utf-8").splitlines()
        lines.extend([text[0], text[7]])
    return lines


@pytest.fixture(scope="module")
def code_lines(code_dir: Path) -> list[str]:
    """Whitespace-heavy text: the start of the first document of each code language."""
    out = []
    for path in sorted(code_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            out.append(json.loads(handle.readline())["text"][:3000])
    return out


def hf_pieces(pretokenizer, text: str) -> list[str]:
    return [piece for piece, _ in pretokenizer.pre_tokenize_str(text)]


def assert_same_pieces(hf, ours, texts: list[str], *, byte_level: bool = False) -> None:
    for text in texts:
        want = hf_pieces(hf, text)
        if byte_level:
            want = [unicode_to_bytes(p).decode("utf-8") for p in want]
        assert ours.split(text) == want, text[:80]


def assert_same_text(hf, ours, texts: list[str]) -> None:
    for text in texts:
        assert ours.normalize(text) == hf.normalize_str(text), text[:80]


# ---------------------------------------------------------------------------------- RegexSplit

BEHAVIORS = ["isolated", "removed", "merged_with_previous", "merged_with_next", "contiguous"]

# HF docs, SplitDelimiterBehavior, for "the-final--countdown" split on "-".
COUNTDOWN = {
    "removed": ["the", "final", "countdown"],
    "isolated": ["the", "-", "final", "-", "-", "countdown"],
    "merged_with_previous": ["the-", "final-", "-", "countdown"],
    "merged_with_next": ["the", "-final", "-", "-countdown"],
    "contiguous": ["the", "-", "final", "--", "countdown"],
}


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_regex_split_behaviours_on_the_hf_documentation_example(behavior: str):
    assert P.RegexSplit("-", behavior).split("the-final--countdown") == COUNTDOWN[behavior]


# Inverted: the pattern names what to keep. "ab, cd" with \w+: spans ab | ", " | cd, and after
# inversion ", " is the "match" (the delimiter) while ab and cd are the gaps.
INVERTED = {
    "removed": ["ab", "cd"],
    "isolated": ["ab", ", ", "cd"],
    "merged_with_previous": ["ab, ", "cd"],
    "merged_with_next": ["ab", ", cd"],
    "contiguous": ["ab", ", ", "cd"],
}


@pytest.mark.parametrize("behavior", BEHAVIORS)
def test_regex_split_inverted_by_hand(behavior: str):
    assert P.RegexSplit(r"\w+", behavior, invert=True).split("ab, cd") == INVERTED[behavior]


def test_regex_split_edge_cases_by_hand():
    assert P.RegexSplit("-").split("") == []
    assert P.RegexSplit("-", "removed").split("---") == []
    assert P.RegexSplit("-", "merged_with_next").split("a-") == ["a", "-"]
    assert P.RegexSplit("-", "merged_with_previous").split("-a") == ["-", "a"]
    # Empty matches do not cut the text.
    assert P.RegexSplit(r"x*").split("ab") == ["ab"]
    # The module docstring example.
    assert P.RegexSplit(r" ?\p{L}+|\s+").split("hello big world") == ["hello", " big", " world"]


def test_regex_split_contiguous_inverted_merges_adjacent_delimiters():
    """'a--b' on '-' inverted: spans a(keep) -(delim) -(delim) b(keep); HF Contiguous joins
    the two adjacent delimiter spans: ['a', '--', 'b'] (tokenizers gives exactly this)."""
    hf = pre_tokenizers.Split(Regex("-"), behavior="contiguous", invert=True)
    assert hf_pieces(hf, "a--b") == ["a", "--", "b"]
    assert P.RegexSplit("-", "contiguous", invert=True).split("a--b") == ["a", "--", "b"]


SPLIT_PATTERNS = ["-", r"\s+", r"\p{P}", r"\d+", " ", r"[aeiou]", r"\p{L}+"]


@pytest.mark.parametrize("invert", [False, pytest.param(True)], ids=["plain", "inverted"])
def test_regex_split_contiguous_equals_hf_split(flores_lines: list[str], invert: bool):
    texts = ["the-final--countdown", "a--b", "--", " x  y "] + flores_lines
    for pattern in SPLIT_PATTERNS:
        hf = pre_tokenizers.Split(Regex(pattern), behavior="contiguous", invert=invert)
        assert_same_pieces(hf, P.RegexSplit(pattern, "contiguous", invert), texts)


@pytest.mark.parametrize("invert", [False, True], ids=["plain", "inverted"])
@pytest.mark.parametrize("behavior", ["isolated", "removed", "merged_with_previous", "merged_with_next"])
def test_regex_split_equals_hf_split(flores_lines: list[str], behavior: str, invert: bool):
    texts = ["the-final--countdown", "a--b", "--", " x  y ", "-a-"] + flores_lines
    for pattern in SPLIT_PATTERNS:
        hf = pre_tokenizers.Split(Regex(pattern), behavior=behavior, invert=invert)
        assert_same_pieces(hf, P.RegexSplit(pattern, behavior, invert), texts)


def test_gpt2_split_equals_hf_byte_level(flores_lines: list[str], code_lines: list[str]):
    hf = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    assert_same_pieces(hf, P.gpt2_split(), flores_lines + code_lines, byte_level=True)


def test_add_prefix_space_then_gpt2_split_equals_hf_byte_level(flores_lines: list[str]):
    """HF ByteLevel(add_prefix_space=True) puts one space before text that lacks one."""
    ours = P.PreTokenizerSequence((P.AddPrefixSpace(), P.gpt2_split()))
    assert ours.split("Hello world") == [" Hello", " world"]
    assert ours.split(" Hello") == [" Hello"]
    hf = pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True)
    assert_same_pieces(hf, ours, flores_lines + [" leading", "  two"], byte_level=True)


# ----------------------------------------------------------------------------------- Metaspace


def test_metaspace_by_hand():
    """Spaces become ▁; 'always'/'first' add one ▁ in front unless the text starts with one;
    split=True cuts before every ▁ (HF's MergedWithNext on the replacement)."""
    assert P.Metaspace().split("Hello world") == [f"{SPACE}Hello", f"{SPACE}world"]
    assert P.Metaspace(prepend_scheme="never").split("Hello world") == ["Hello", f"{SPACE}world"]
    assert P.Metaspace(prepend_scheme="first").split("Hello world") == [f"{SPACE}Hello", f"{SPACE}world"]
    assert P.Metaspace(split_words=False).split("Hello world") == [f"{SPACE}Hello{SPACE}world"]
    assert P.Metaspace().split(" x") == [f"{SPACE}x"]  # no second ▁
    assert P.Metaspace().split("  a") == [SPACE, f"{SPACE}a"]
    assert P.Metaspace(replacement="_", prepend_scheme="never").split("a b") == ["a", "_b"]


@pytest.mark.parametrize("split", [True, False])
@pytest.mark.parametrize("scheme", ["always", "first", "never"])
def test_metaspace_equals_hf(flores_lines: list[str], scheme: str, split: bool):
    hf = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme=scheme, split=split)
    texts = ["Hello world", "  two  spaces ", f"{SPACE}already", " ", "a"] + flores_lines
    assert_same_pieces(hf, P.Metaspace(SPACE, scheme, split), texts)


@pytest.mark.parametrize("scheme", ["always", "first"])
def test_metaspace_on_empty_text_equals_hf(scheme: str):
    """HF's prepend does nothing to empty text."""
    hf = pre_tokenizers.Metaspace(replacement=SPACE, prepend_scheme=scheme, split=True)
    assert hf_pieces(hf, "") == []
    assert P.Metaspace(SPACE, scheme, True).split("") == []


def test_metaspace_first_prepends_only_at_the_start_of_the_input(tokenizer_dir: Path, tmp_path: Path):
    """A Llama vocabulary with HF's Metaspace(prepend_scheme='first') pretokenizer: after the
    added token <s>, 'there' gets no ▁ in HF, so it is not '▁there'."""
    import tokbench

    data = json.loads((tokenizer_dir / "llama_tokenizer.json").read_text(encoding="utf-8"))
    data["normalizer"] = None
    data["pre_tokenizer"] = {"type": "Metaspace", "replacement": SPACE, "prepend_scheme": "first", "split": True}
    path = tmp_path / "metaspace_first.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    tok = tokbench.load_tokenizer(path)
    for text in ["Hi<s>there you", "<s>Hello world", "Hello world"]:
        assert tok.encode(text, backend="native") == tok.encode(text, backend="reference"), text


# -------------------------------------------------------------------------- SentencePieceWords


@pytest.mark.parametrize(("text", "plain", "whitespace_pieces"), [
    # A new word at every ▁ ...
    ("▁a▁b", ["▁a", "▁b"], ["▁a", "▁b"]),
    # ... a run of ▁ is one ▁ per word, or stays with the word after it.
    ("▁a▁▁b", ["▁a", "▁", "▁b"], ["▁a", "▁▁b"]),
    ("▁▁▁x", ["▁", "▁", "▁x"], ["▁▁▁x"]),
    ("ab▁", ["ab", "▁"], ["ab", "▁"]),
    ("a▁▁", ["a", "▁", "▁"], ["a", "▁▁"]),
    ("▁▁", ["▁", "▁"], ["▁▁"]),
    ("abc", ["abc"], ["abc"]),
    ("", [], []),
])
def test_sentencepiece_words_by_hand(text: str, plain: list[str], whitespace_pieces: list[str]):
    """SentencePiece's SplitIntoWords: a word begins at each ▁, except that with
    allow_whitespace_only_pieces a ▁ continuing a run of ▁ does not begin a new word."""
    assert P.SentencePieceWords(False).split(text) == plain
    assert P.SentencePieceWords(True).split(text) == whitespace_pieces
    assert "".join(P.SentencePieceWords(True).split(text)) == text


def test_sentencepiece_words_are_unions_of_sentencepiece_pieces(tokenizer_dir: Path, flores_lines: list[str], code_lines: list[str]):
    """mistral_v1.model (allow_whitespace_only_pieces, dummy prefix, no whitespace removal):
    every word boundary that SentencePieceWords draws on the escaped text is also a boundary
    between the pieces sentencepiece emits (pieces never cross words). Byte offsets, so that
    <0xNN> byte-fallback pieces count one byte each."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_dir / "mistral_v1.model"))
    words = P.SentencePieceWords(allow_whitespace_only_pieces=True)
    texts = flores_lines + [line for doc in code_lines for line in doc.splitlines()[:40] if line.strip()]
    for text, ids in zip(texts, sp.encode(texts), strict=True):
        escaped = (SPACE + text).replace(" ", SPACE)
        piece_ends, pos = set(), 0
        for i in ids:
            pos += 1 if sp.is_byte(i) else len(sp.id_to_piece(i).encode("utf-8"))
            piece_ends.add(pos)
        assert pos == len(escaped.encode("utf-8")), text[:80]
        word_ends, pos = set(), 0
        for word in words.split(escaped):
            pos += len(word.encode("utf-8"))
            word_ends.add(pos)
        assert word_ends <= piece_ends, text[:80]


# ------------------------------------------------------------------------------ BertNormalizer


@pytest.mark.parametrize(("options", "text", "expected"), [
    # lowercase=True and strip_accents=None: accents go with the case.
    ({}, "Héllo Wörld", "hello world"),
    ({"strip_accents": False}, "Héllo Wörld", "héllo wörld"),
    ({"lowercase": False}, "Héllo Wörld", "Héllo Wörld"),
    ({"lowercase": False, "strip_accents": True}, "Héllo", "Hello"),
    # CJK ideographs get a space on each side; kana and hangul do not.
    ({}, "你好", " 你  好 "),
    ({"strip_accents": False}, "かな한", "かな한"),
    # Accent stripping is NFD minus Mn, without recomposition: 한 stays as its three jamo (Lo).
    ({}, "한", "\u1112\u1161\u11ab"),
    ({"handle_chinese_chars": False}, "你好", "你好"),
    # Tab/newline/CR become spaces; NUL, U+FFFD and other control/format chars are dropped.
    ({}, "a\tb\nc\rd", "a b c d"),
    ({}, "x\x00y\ufffdz\u200bw\x07v", "xyzwv"),
    ({"clean_text": False}, "x\x07y", "x\x07y"),
    # Unicode spaces become plain spaces.
    ({}, "a\u00a0b\u3000c", "a b c"),
])
def test_bert_normalizer_by_hand(options: dict, text: str, expected: str):
    full = {"clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True, **options}
    assert N.BertNormalizer(**full).normalize(text) == expected
    assert normalizers.BertNormalizer(**options).normalize_str(text) == expected


BERT_OPTIONS = [
    {},
    {"strip_accents": False},
    {"lowercase": False},
    {"lowercase": False, "strip_accents": True, "handle_chinese_chars": False},
]


@pytest.mark.parametrize("options", BERT_OPTIONS, ids=["uncased", "keep-accents", "cased", "strip-only"])
def test_bert_normalizer_equals_hf(flores_lines: list[str], options: dict):
    full = {"clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True, **options}
    assert_same_text(normalizers.BertNormalizer(**options), N.BertNormalizer(**full), flores_lines)


@pytest.mark.parametrize("char", ["\x0b", "\x0c", "\x85"], ids=["VT", "FF", "NEL"])
def test_bert_normalizer_drops_control_characters_that_are_whitespace(char: str):
    """HF filters control characters (VT, FF, NEL are Cc) before it maps whitespace to spaces."""
    text = f"a{char}b"
    assert normalizers.BertNormalizer().normalize_str(text) == "ab"
    assert N.BertNormalizer().normalize(text) == "ab"


@pytest.mark.parametrize("stage", ["lowercase", "bert"])
def test_lowercase_of_final_sigma_equals_hf(stage: str):
    """HF lowercases char by char (Σ -> σ); str.lower() gives a word-final ς."""
    text = "ΟΔΟΣ ΑΘΗΝΑΣ"
    hf = normalizers.Lowercase() if stage == "lowercase" else normalizers.BertNormalizer()
    ours = N.Lowercase() if stage == "lowercase" else N.BertNormalizer()
    assert hf.normalize_str(text) == "οδοσ αθηνασ"
    assert ours.normalize(text) == "οδοσ αθηνασ"


# ---------------------------------------------------------------------------- BertPreTokenizer


@pytest.mark.parametrize(("text", "expected"), [
    ("Hello, world! (a-b)", ["Hello", ",", "world", "!", "(", "a", "-", "b", ")"]),
    # ASCII symbols count as punctuation for BERT, not only Unicode P*.
    ("$5+3=8^2", ["$", "5", "+", "3", "=", "8", "^", "2"]),
    ("«Bonjour»", ["«", "Bonjour", "»"]),
    ("日本。中文、", ["日本", "。", "中文", "、"]),
    ("  a\t\nb  ", ["a", "b"]),
    ("don't", ["don", "'", "t"]),
    ("", []),
])
def test_bert_pretokenizer_by_hand(text: str, expected: list[str]):
    assert P.BertPreTokenizer().split(text) == expected
    assert hf_pieces(pre_tokenizers.BertPreTokenizer(), text) == expected


def test_bert_pretokenizer_equals_hf(flores_lines: list[str], code_lines: list[str]):
    assert_same_pieces(pre_tokenizers.BertPreTokenizer(), P.BertPreTokenizer(), flores_lines + code_lines)


# --------------------------------------------------------------------- other stages against HF


@pytest.mark.parametrize(("name", "hf", "ours"), [
    ("whitespace_split", pre_tokenizers.WhitespaceSplit(), P.WhitespaceSplit()),
    ("whitespace", pre_tokenizers.Whitespace(), pretokenizer_from_json({"type": "Whitespace"})),
    ("digits", pre_tokenizers.Digits(individual_digits=True),
     pretokenizer_from_json({"type": "Digits", "individual_digits": True})),
    ("digit_runs", pre_tokenizers.Digits(individual_digits=False),
     pretokenizer_from_json({"type": "Digits", "individual_digits": False})),
], ids=lambda v: v if isinstance(v, str) else "")
def test_simple_pretokenizers_equal_hf(flores_lines: list[str], code_lines: list[str], name, hf, ours):
    assert_same_pieces(hf, ours, flores_lines + code_lines + ["a 123 b4567", "  "])


def test_no_pretokenizer_and_sequences_by_hand():
    assert P.NoPreTokenizer().split("a b") == ["a b"]
    assert P.NoPreTokenizer().split("") == []
    seq = P.PreTokenizerSequence((P.WhitespaceSplit(), P.RegexSplit(r"\d", "isolated")))
    assert seq.split("ab12 c3") == ["ab", "1", "2", "c", "3"]
    assert N.Sequence((N.Prepend(SPACE), N.Replace(" ", SPACE))).normalize("a b") == f"{SPACE}a{SPACE}b"
    assert N.Prepend(SPACE).normalize("") == ""  # HF prepends only to non-empty text
    assert N.Replace(" {2,}", " ", is_regex=True).normalize("a   b  c") == "a b c"
    assert N.Strip(left=False).normalize("  a  ") == "  a"


@pytest.mark.parametrize(("hf", "ours"), [
    (normalizers.NFC(), N.UnicodeNormalizer("NFC")),
    (normalizers.NFKC(), N.UnicodeNormalizer("NFKC")),
    (normalizers.NFD(), N.UnicodeNormalizer("NFD")),
    (normalizers.NFKD(), N.UnicodeNormalizer("NFKD")),
    (normalizers.Lowercase(), N.Lowercase()),
    (normalizers.Strip(), N.Strip()),
    (normalizers.Strip(left=True, right=False), N.Strip(True, False)),
    (normalizers.Prepend(SPACE), N.Prepend(SPACE)),
    (normalizers.Replace(" ", SPACE), N.Replace(" ", SPACE)),
    (normalizers.Replace(Regex(" {2,}"), " "), N.Replace(" {2,}", " ", True)),
    (normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()]),
     N.Sequence((N.UnicodeNormalizer("NFKC"), N.Lowercase()))),
], ids=["nfc", "nfkc", "nfd", "nfkd", "lowercase", "strip", "lstrip", "prepend", "replace", "replace-regex", "sequence"])
def test_simple_normalizers_equal_hf(flores_lines: list[str], hf, ours):
    assert_same_text(hf, ours, flores_lines + ["  padded  ", "ﬁ ① Ⅻ", "", "\u3000x\u3000"])


@pytest.mark.parametrize("name", ["qwen2_tokenizer.json", "olmo2_tokenizer.json", "gpt-neox_tokenizer.json",
                                  "llama_tokenizer.json", "bert-base-uncased_wordpiece_tokenizer.json"])
def test_stages_translated_from_real_files_equal_hf(tokenizer_dir: Path, flores_lines: list[str], code_lines: list[str], name: str):
    """The normalizer and pretokenizer objects of real tokenizer.json files, translated by
    hf_json, give what the same file's tokenizers.Tokenizer normalizer/pre_tokenizer give."""
    from tokenizers import Tokenizer

    path = tokenizer_dir / name
    data = json.loads(path.read_text(encoding="utf-8"))
    hf = Tokenizer.from_file(str(path))
    texts = flores_lines + code_lines
    ours_norm = normalizer_from_json(data.get("normalizer"))
    if hf.normalizer is not None:
        assert_same_text(hf.normalizer, ours_norm, texts)
    ours_pre = pretokenizer_from_json(data.get("pre_tokenizer"))
    if hf.pre_tokenizer is not None:
        byte_level = "ByteLevel" in json.dumps(data["pre_tokenizer"])
        for text in texts:
            normalized = ours_norm.normalize(text) if ours_norm else text
            want = hf_pieces(hf.pre_tokenizer, normalized)
            if byte_level:
                want = [unicode_to_bytes(p).decode("utf-8") for p in want]
            assert ours_pre.split(normalized) == want, text[:80]


@pytest.mark.parametrize("text", ["page\x0cbreak", "ΟΔΟΣ ΑΘΗΝΑΣ"], ids=["form-feed", "final-sigma"])
def test_bert_native_encoder_equals_tokenizers_on_these_characters(tokenizer_dir: Path, text: str):
    """The two BertNormalizer differences above, end to end through bert-base-uncased."""
    import tokbench

    tok = tokbench.load_tokenizer(tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json")
    assert tok.reference.library == "tokenizers"
    assert tok.encode(text, backend="native") == tok.encode(text, backend="reference")
