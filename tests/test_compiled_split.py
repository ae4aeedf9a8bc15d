"""The compiled splitter (tokbench.model.compiled_split) against the ``regex`` module, which is
its readable twin: the same pieces on every FLORES language, on real code, and on random strings
built to hit every branch (contractions in any case, digits of many scripts, every kind of
whitespace and newline run, punctuation runs, text ends)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import regex

from tokbench.model.compiled_split import (
    COMPILED_PATTERNS,
    case_fold_table,
    class_table,
    compiled_split,
    plain_pattern_split,
)
from tokbench.model.normalizers import as_references_see_it
from tokbench.model.patterns import GPT2_PATTERN, PATTERNS
from tokbench.model.pretokenizers import NoPreTokenizer, PreTokenizerSequence, RegexSplit

PATTERN_IDS = {pattern: f"pattern{k}" for k, pattern in enumerate(COMPILED_PATTERNS)}

#: pieces the random strings are assembled from: each targets a branch of the kernel
_ATOMS = [
    "'s", "'S", "'ll", "'LL", "'Ve", "'re", "'d", "'m", "'t", "'x", "'", "'ſ", "''s", " 's",
    "hello", "Ölçü", "слово", "كلمة", "शब्द", "සිංහල", "ไทย", "漢字", "한국어", "ǅemal",
    "1", "12", "1234567", "٢٠١٦", "१२३", "½", "Ⅻ", "²", " 42", "x2",
    ".", "...", "!?", "—", "«»", "$", "€", "@#", "😀", "👩\u200d💻", "\u0301", "e\u0301",
    " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u2028", "\u2029", "\u3000",
    "\u1680", "\u200b", "\ufeff", "\x0b", "\x0c", "\x1c", "\x85", "\x00", "\x7f", "\uffff",
    "\U0010ffff", "\ue000", "\ufdd0", "\U0001e6c0", "x\U0001e6c0y",
]


def _random_strings(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(_ATOMS) for _ in range(rng.randint(0, 12))) for _ in range(n)]


def _regex_pieces(pattern: regex.Pattern[str], text: str) -> list[str]:
    """The twin: regex on the text as the reference libraries see it (characters of a newer
    Unicode than theirs unassigned), cut from the original text."""
    return [text[m.start():m.end()] for m in pattern.finditer(as_references_see_it(text))]


def _same_pieces(pattern: str, texts: list[str]) -> list[tuple[str, list[str], list[str]]]:
    compiled, reference = compiled_split(pattern), regex.compile(pattern)
    assert compiled is not None
    wrong = []
    for text in texts:
        ours, theirs = compiled.split(text), _regex_pieces(reference, text)
        if ours != theirs:
            wrong.append((text, ours, theirs))
    return wrong


def test_every_named_gpt_style_pattern_compiles_and_others_do_not():
    for name in ("r50k", "p50k", "cl100k", "llama3"):
        assert compiled_split(PATTERNS[name].regex) is not None, name
    assert compiled_split(GPT2_PATTERN) is not None
    # o200k (case classes and marks) and arbitrary regexes stay with the regex module
    assert compiled_split(PATTERNS["o200k"].regex) is None
    assert compiled_split(r"\w+|[^\w\s]+") is None


def test_class_table_is_the_regex_modules_classes_as_the_references_see_them():
    table = class_table()
    rng = random.Random(3)
    for cp in [*range(0x300), 0x1E6C0, *rng.sample(range(0x110000), 3000)]:
        ch = as_references_see_it(chr(cp))
        assert bool(table[cp] & 1) == bool(regex.match(r"\p{L}", ch)), hex(cp)
        assert bool(table[cp] & 2) == bool(regex.match(r"\p{N}", ch)), hex(cp)
        assert bool(table[cp] & 4) == bool(regex.match(r"\s", ch)), hex(cp)


def test_no_code_point_above_the_fold_table_folds_to_a_contraction_letter():
    assert len(case_fold_table()) == 0x180
    every_above = "".join(map(chr, range(0x180, 0x110000)))
    assert regex.search(r"(?i:[sdmtlver])", every_above) is None


@pytest.mark.parametrize("pattern", list(COMPILED_PATTERNS), ids=PATTERN_IDS.get)
def test_random_strings_split_as_regex_does(pattern: str):
    wrong = _same_pieces(pattern, _random_strings(3000, seed=len(pattern)))
    assert not wrong, wrong[:3]


@pytest.mark.parametrize("pattern", list(COMPILED_PATTERNS), ids=PATTERN_IDS.get)
def test_every_flores_language_and_real_code_split_as_regex_does(pattern: str, flores_dir: Path, code_dir: Path):
    texts = []
    for path in sorted((flores_dir / "dev").glob("*.dev")):
        lines = path.read_text(encoding="utf-8").splitlines()
        texts.append("\n".join(lines[:40]))  # 204 languages, joined so newlines are inside texts
    for path in sorted(code_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for _, line in zip(range(15), handle, strict=False))
    wrong = _same_pieces(pattern, texts)
    assert not wrong, [(t[:80], len(a), len(b)) for t, a, b in wrong[:3]]


@pytest.mark.slow
@pytest.mark.parametrize("pattern", list(COMPILED_PATTERNS), ids=PATTERN_IDS.get)
def test_all_of_flores_and_all_code_split_as_regex_does(pattern: str, flores_dir: Path, code_dir: Path):
    texts = [p.read_text(encoding="utf-8") for p in sorted(flores_dir.glob("*/*.*"))]
    for path in sorted(code_dir.glob("*.jsonl")):
        with open(path, encoding="utf-8") as handle:
            texts.extend(json.loads(line)["text"] for line in handle)
    texts += _random_strings(100_000, seed=7)
    assert not _same_pieces(pattern, texts)


def test_batch_split_keeps_texts_apart_and_equals_one_by_one():
    compiled = compiled_split(PATTERNS["cl100k"].regex)
    texts = ["", "Hello world", "   ", "end\n\n", "", "x's 123 456", "\n"]
    raw = [t.encode() for t in texts]
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in raw], out=offsets[1:])
    data = np.frombuffer(b"".join(raw), dtype=np.uint8)
    bounds, first = compiled.split_batch(data, offsets)
    for t, text in enumerate(texts):
        cut = bounds[first[t]:first[t + 1] + 1].tolist() if first[t + 1] > first[t] else []
        pieces = [bytes(data[a:b]).decode() for a, b in zip(cut, cut[1:], strict=False)]
        assert pieces == compiled.split(text) == _regex_pieces(regex.compile(compiled.pattern), text)


def test_plain_pattern_split_recognises_only_a_bare_pattern_split():
    cl100k = PATTERNS["cl100k"].regex
    assert plain_pattern_split(RegexSplit(cl100k, "removed", invert=True)) == cl100k
    assert plain_pattern_split(PreTokenizerSequence((RegexSplit(cl100k), NoPreTokenizer()))) == cl100k
    assert plain_pattern_split(RegexSplit(cl100k, "merged_with_previous")) is None
    assert plain_pattern_split(RegexSplit(cl100k, "removed")) is None  # drops the matches
    assert plain_pattern_split(PreTokenizerSequence((NoPreTokenizer(), RegexSplit(cl100k)))) is None
    assert plain_pattern_split(RegexSplit(r"\w+")) is None
