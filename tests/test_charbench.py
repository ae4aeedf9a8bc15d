"""CharBench: gold answers checked by brute force, deterministic generation, features on
hand-worked words (byte-level BPE, SentencePiece, WordPiece and a toy tokenizer), scoring,
and the CLI end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokbench.corpora import Corpus, load_sample
from tokbench.errors import UnknownNameError
from tokbench.metrics.charbench.features import (
    charbench_features,
    feature_table,
    item_features,
    segment_word,
)
from tokbench.metrics.charbench.scoring import load_answers, parse_answer, score_answers
from tokbench.metrics.charbench.tasks import (
    TASKS,
    CharBenchError,
    CharBenchItem,
    extract_words,
    generate_charbench,
    gold_answer,
    read_items,
)
from tokbench.model.tokenizer import Tokenizer

# ------------------------------------------------------------------ brute-force gold answers


def brute(task: str, word: str, char: str | None) -> int:
    if task == "count_char":
        n = 0
        for c in word:
            if c == char:
                n += 1
        return n
    if task == "count_unique":
        seen: list[str] = []
        for c in word:
            if c not in seen:
                seen.append(c)
        return len(seen)
    hits = [i for i in range(len(word)) if word[i] == char]
    return hits[0] if task == "first_index" else hits[-1]


@settings(max_examples=200, deadline=None)
@given(word=st.text(alphabet="abcAé日", min_size=1, max_size=12), data=st.data())
def test_gold_answers_match_brute_force(word: str, data: st.DataObject) -> None:
    char = data.draw(st.sampled_from(sorted(set(word))))
    for task in TASKS:
        c = char if TASKS[task].needs_char else None
        assert gold_answer(task, word, c) == brute(task, word, c)


def test_gold_answer_rejects_a_character_not_in_the_word() -> None:
    with pytest.raises(CharBenchError, match="occurs in the word"):
        gold_answer("first_index", "banana", "z")
    with pytest.raises(UnknownNameError, match="count_char"):
        gold_answer("count_vowels", "banana")


# ------------------------------------------------------------------------------- generation

TOY = Corpus("toy", {"en": [
    "The quick brown fox jumps over the lazy dog near strawberry fields and bananas.",
    "Tokenizers split words; characters hide inside tokens. Mississippi, letter, committee!",
    "Banana BANANA banana apple apples orange oranges grapefruit pineapple coconut",
]})


def test_generated_items_are_correct_and_well_formed() -> None:
    bench = generate_charbench(TOY, per_length=3, seed=1)
    assert bench.items
    ids = [i.id for i in bench.items]
    assert len(ids) == len(set(ids))
    per_bucket: dict[tuple[str, int], int] = {}
    for item in bench.items:
        assert 4 <= item.length == len(item.word) <= 10
        assert item.answer == brute(item.task, item.word, item.char)
        if TASKS[item.task].needs_char:
            assert item.char in item.word and f'"{item.char}"' in item.prompt
        else:
            assert item.char is None
        assert f'"{item.word}"' in item.prompt
        per_bucket[(item.task, item.length)] = per_bucket.get((item.task, item.length), 0) + 1
    assert max(per_bucket.values()) == 3
    assert set(bench.short_buckets)  # some lengths have fewer than 3 words in the toy corpus


def test_generation_is_deterministic_and_seeded() -> None:
    a = generate_charbench(TOY, per_length=2, seed=7)
    b = generate_charbench(TOY, per_length=2, seed=7)
    c = generate_charbench(TOY, per_length=2, seed=8)
    assert a.items == b.items
    assert a.signature.extra["items_sha256"] == b.signature.extra["items_sha256"]
    assert [i.word for i in a.items] != [i.word for i in c.items]


def test_sample_bench_has_a_fixed_number_per_length_bucket() -> None:
    bench = generate_charbench(load_sample("eng_Latn"), per_length=20, seed=0)
    frame = bench.to_frame()
    counts = frame.groupby(["task", "length"]).size()
    assert set(counts) == {20} and len(counts) == 4 * 7
    assert frame["word"].str.fullmatch(r"[a-zA-Z]+").all()


def test_word_extraction_options() -> None:
    corpus = Corpus("ru", {"ru": ["Кошка ела рыбу, а кошка спала.", "cafe\u0301 Cafe\u0301"]})
    # the default ASCII regex takes no part of a word with other letters (\b is Unicode-aware)
    assert extract_words(corpus) == {}
    words = extract_words(corpus, pattern=r"\p{L}+", case="lower", min_length=4)
    assert list(words) == ["кошка", "рыбу", "спала", "café"]
    assert len("café") == 4
    raw = extract_words(corpus, pattern=r"\p{L}+\p{M}*", normalization="none", min_length=5, max_length=5)
    assert "cafe\u0301" in raw and "Cafe\u0301" in raw
    with pytest.raises(CharBenchError, match="invalid word regex"):
        extract_words(corpus, pattern="(")
    with pytest.raises(CharBenchError, match="no words"):
        generate_charbench(corpus, pattern=r"\d+")


def test_jsonl_round_trip_and_clear_errors(tmp_path: Path) -> None:
    bench = generate_charbench(TOY, per_length=2)
    path = bench.write_jsonl(tmp_path / "items.jsonl")
    assert read_items(path) == bench.items
    lines = path.read_text().splitlines()

    def bad(text: str, match: str) -> None:
        p = tmp_path / "bad.jsonl"
        p.write_text(text)
        with pytest.raises(CharBenchError, match=match):
            read_items(p)

    bad(lines[0] + "\n{oops\n", r"bad.jsonl:2: not valid JSON")
    bad(lines[0] + "\n" + lines[0] + "\n", "duplicate item id")
    wrong = json.loads(lines[0]) | {"answer": json.loads(lines[0])["answer"] + 1}
    bad(json.dumps(wrong) + "\n", "disagrees with the word")
    bad(json.dumps({"id": "x", "task": "count_char"}) + "\n", "no 'word' field")
    bad("", "no items")
    with pytest.raises(CharBenchError, match="no such item file"):
        read_items(tmp_path / "missing.jsonl")


# -------------------------------------------------------------------- features: a toy model


class _Greedy:
    """Greedy longest-match over byte strings: enough to exercise the alignment."""

    def __init__(self, vocab: list[bytes], prefix: bool) -> None:
        self.vocab, self.prefix = vocab, prefix

    def encode(self, text: str) -> list[int]:
        data = (" " + text if self.prefix else text).encode()
        ids, i = [], 0
        while i < len(data):
            best = max((j for j, v in enumerate(self.vocab) if v and data.startswith(v, i)),
                       key=lambda j: len(self.vocab[j]))
            ids.append(best)
            i += len(self.vocab[best])
        return ids

    def pieces(self, text: str) -> list[str]:
        return [text]


def _toy(prefix: bool = False) -> Tokenizer:
    vocab = [bytes([b]) for b in range(256)] + [b"ab", b" ab", b"abc", b"\xc3\xa9x", b" "]
    return Tokenizer(vocab=vocab, kind="bpe", name=f"toy{int(prefix)}", fingerprint="0" * 64,
                     _native_factory=lambda: _Greedy(vocab, prefix))


def test_toy_alignment_with_split_characters() -> None:
    tok = _toy()
    seg = segment_word(tok, "abcéxé")  # abc | é x | c3 | a9
    assert seg.pieces[:2] == ["abc", "éx"] and seg.n_tokens == 4
    assert seg.token_chars == [3, 2, 1, 0]
    assert seg.char_token == [0, 0, 0, 1, 1, 2]
    assert seg.char_split == [False] * 5 + [True]
    item = CharBenchItem("i", "last_index", "abcéxé", "é", 5, "", 6)
    row = item_features(item, seg)
    assert (row["target_token_chars"], row["target_token_bytes"], row["target_pos_in_token"],
            row["target_split"]) == (1, 1, 0, True)
    item = CharBenchItem("j", "first_index", "abcéxé", "é", 3, "", 6)
    row = item_features(item, seg)
    assert (row["target_token_chars"], row["target_pos_in_token"], row["target_split"]) == (2, 0, False)
    row = item_features(CharBenchItem("k", "count_char", "abcéxé", "é", 2, "", 6), seg)
    assert (row["target_tokens"], row["target_split"]) == (2, True)
    assert row["chars_per_token"] == pytest.approx(1.5)


def test_toy_leading_space_and_dummy_prefix_are_excluded() -> None:
    plain = _toy()
    seg = segment_word(plain, "abab", space="leading")  # " ab" | "ab"
    assert seg.ids[0] == 257 and seg.pieces == ["ab", "ab"] and seg.token_chars == [2, 2]
    dummy = _toy(prefix=True)  # adds a dummy prefix like SentencePiece: no second space added
    for space in ("none", "leading"):
        seg = segment_word(dummy, "abab", space=space)
        assert seg.pieces == ["ab", "ab"] and seg.char_token == [0, 0, 1, 1]
    seg = segment_word(dummy, "xy")  # " " alone is a marker-only token: not counted
    assert seg.pieces == ["x", "y"] and seg.n_tokens == 2


# -------------------------------------------------------------- features: real tokenizers


@pytest.fixture(scope="module")
def real(tokenizer_dir: Path) -> dict[str, Tokenizer]:
    from tokbench.formats import load_tokenizer

    return {
        "gpt2": load_tokenizer(tokenizer_dir / "gpt2"),
        "mistral": load_tokenizer(tokenizer_dir / "mistral_v1.model"),
        "llama": load_tokenizer(tokenizer_dir / "llama_tokenizer.json"),
        "bert": load_tokenizer(tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json"),
    }


def _row(tok: Tokenizer, task: str, word: str, char: str | None = None, space: str = "none") -> dict:
    item = CharBenchItem("x", task, word, char, gold_answer(task, word, char), "", len(word))
    return item_features(item, segment_word(tok, word, space=space))  # type: ignore[arg-type]


def test_byte_level_bpe_hand_worked(real: dict[str, Tokenizer]) -> None:
    gpt2 = real["gpt2"]
    # GPT-2: "strawberry" alone is st|raw|berry; mid-sentence " strawberry" is one token.
    first = _row(gpt2, "first_index", "strawberry", "r")  # r at 2: first char of "raw"
    assert first["segmentation"] == "st|raw|berry" and first["n_tokens"] == 3
    assert (first["target_token_chars"], first["target_pos_in_token"], first["target_split"]) == (3, 0, False)
    last = _row(gpt2, "last_index", "strawberry", "r")  # r at 8: "berry"[3]
    assert (last["target_token_chars"], last["target_pos_in_token"]) == (5, 3)
    lead = _row(gpt2, "last_index", "strawberry", "r", space="leading")
    assert lead["segmentation"] == "strawberry"
    assert (lead["n_tokens"], lead["target_token_chars"], lead["target_pos_in_token"]) == (1, 10, 8)
    # 日本語 is six byte tokens in GPT-2: every character is split across two tokens.
    seg = segment_word(gpt2, "日本語")
    assert seg.n_tokens == 6 and seg.char_split == [True] * 3 and seg.token_chars == [1, 0] * 3
    assert _row(gpt2, "count_char", "日本語", "本")["target_split"] is True


def test_sentencepiece_hand_worked(real: dict[str, Tokenizer]) -> None:
    # Mistral's ▁straw|berry: the dummy-prefix space is not a character of the word.
    row = _row(real["mistral"], "last_index", "strawberry", "w")  # w at 4: "straw"[4]
    assert row["segmentation"] == "straw|berry"
    assert (row["target_token_chars"], row["target_token_bytes"], row["target_pos_in_token"]) == (5, 5, 4)
    assert _row(real["mistral"], "first_index", "strawberry", "s", space="leading")["segmentation"] == "straw|berry"
    # Llama: ▁ alone before 日本語 is a marker-only token, left out; each character is one token.
    seg = segment_word(real["llama"], "日本語")
    assert real["llama"].encode("日本語")[0] == 29871 and seg.n_tokens == 3
    assert seg.token_chars == [1, 1, 1] and not any(seg.char_split)
    row = _row(real["llama"], "first_index", "naïve", "ï")  # ▁na|ï|ve (ï a single piece)
    assert row["segmentation"] == "na|ï|ve" and (row["target_token_chars"], row["target_token_bytes"]) == (1, 2)


def test_wordpiece_hand_worked(real: dict[str, Tokenizer]) -> None:
    bert = real["bert"]
    row = _row(bert, "last_index", "unaffable", "f")  # una|##ffa|##ble; f at 4 = "ffa"[1]
    assert row["segmentation"] == "una|ffa|ble"
    assert (row["target_token_chars"], row["target_pos_in_token"], row["normalized"]) == (3, 1, False)
    # BERT-uncased lowercases and strips accents: aligned on the normalized spelling, by index.
    row = _row(bert, "first_index", "Naïve", "ï")
    assert row["aligned"] and row["normalized"] and row["segmentation"] == "naive"
    assert (row["target_token_chars"], row["target_pos_in_token"]) == (5, 2)
    # [UNK] cannot be aligned: features are missing, not wrong.
    row = _row(bert, "first_index", "ŉŉŉŉ", "ŉ")
    assert not row["aligned"] and row["target_token_chars"] is None and row["chars_per_token"] is None


def test_feature_table_over_tokenizers(real: dict[str, Tokenizer]) -> None:
    bench = generate_charbench(load_sample("eng_Latn"), per_length=10, seed=0)
    result = charbench_features([real["gpt2"], real["bert"]], bench.items)
    frame = result.to_frame()
    assert len(frame) == 2 * len(bench.items) and frame["aligned"].all()
    index = frame[frame["task"].isin(["first_index", "last_index"])]
    assert index["target_token_chars"].notna().all()
    assert (index["target_pos_in_token"] < index["target_token_chars"]).all()
    table = feature_table(frame)
    assert set(table["tokenizer"]) == {"gpt2", real["bert"].name} and len(table) == 8
    assert set(result.signature.tokenizers) == {"gpt2", real["bert"].name}


# ---------------------------------------------------------------------------------- scoring


def test_parse_answer_is_strict() -> None:
    assert [parse_answer(r) for r in ["3", " 12\n", "-1", "+2", "007"]] == [3, 12, -1, 2, 7]
    for reply in ["3.", "three", "**3**", "The answer is 3", "3 4", "", "3.0", None, 3]:
        assert parse_answer(reply) is None


def _items() -> list[CharBenchItem]:
    words = ["banana", "letter", "apple", "strawberry", "mississippi", "kiwi"]
    out = []
    for task in TASKS:
        for k, w in enumerate(words):
            c = w[1] if TASKS[task].needs_char else None
            out.append(CharBenchItem(f"{task}-{k}", task, w, c, gold_answer(task, w, c), "", len(w)))
    return out


def test_scoring_accuracy_invalid_missing_bias_and_overlap() -> None:
    items = _items()
    # model a: right on everything except count_char where it answers gold-1 on 3 items and
    # "three" on one; model b: every count_unique answer +1; and one missing answer.
    a, b = {}, {}
    for it in items:
        a[it.id] = str(it.answer)
        b[it.id] = str(it.answer + (1 if it.task == "count_unique" else 0))
    for k in range(3):
        a[f"count_char-{k}"] = str(items[k].answer - 1)
    a["count_char-3"] = "three"
    del b["last_index-5"]
    result = score_answers(items, {"a": a, "b": b})
    by_task = result.by_task().set_index(["model", "task"])
    row = by_task.loc[("a", "count_char")]
    assert row["n"] == 6 and row["accuracy"] == pytest.approx(2 / 6) and row["invalid"] == 1
    assert row["se"] == pytest.approx(math.sqrt((2 / 6) * (4 / 6) / 6))
    assert by_task.loc[("b", "count_unique"), "accuracy"] == 0
    assert by_task.loc[("b", "last_index"), "n"] == 5
    summary = result.summary().set_index("model")
    assert summary.loc["b", "missing"] == 1 and summary.loc["a", "missing"] == 0
    bias = result.counting_bias().set_index(["model", "task"])
    assert bias.loc[("a", "count_char"), "mean_signed_error"] == -1  # invalid reply excluded
    assert bias.loc[("a", "count_char"), "wrong_valid"] == 3
    assert bias.loc[("b", "count_unique"), "mean_signed_error"] == 1
    overlap = result.error_overlap().set_index("task")
    assert overlap.loc["all", "both_wrong"] == 0 and overlap.loc["all", "wrong_a"] == 4
    assert overlap.loc["all", "n"] == len(items) - 1


def test_correlations_match_scipy_and_bins() -> None:
    import pandas as pd
    from scipy.stats import pointbiserialr

    items = [it for it in _items() if it.task == "first_index"]
    lengths = [3, 1, 4, 2, 5, 1]
    features = pd.DataFrame([{"tokenizer": "t", "id": it.id, "length": it.length, "n_tokens": n,
                              "chars_per_token": it.length / n, "target_token_chars": n + 1,
                              "target_token_bytes": n + 1, "target_pos_in_token": 0,
                              "target_split": False, "target_tokens": None, "aligned": True}
                             for it, n in zip(items, lengths, strict=True)])
    replies = {it.id: str(it.answer if k % 2 == 0 else it.answer + 1) for k, it in enumerate(items)}
    result = score_answers(items, {"m": replies}, features=features)
    corr = result.correlations().set_index("feature")
    correct = [k % 2 == 0 for k in range(len(items))]
    r, p = pointbiserialr(correct, lengths)
    assert corr.loc["n_tokens", "r"] == pytest.approx(r) and corr.loc["n_tokens", "p"] == pytest.approx(p)
    assert math.isnan(corr.loc["target_pos_in_token", "r"])  # constant feature
    bins = result.by_feature()
    tok_bins = bins[bins["feature"] == "n_tokens"].set_index("bin")
    assert tok_bins.loc["1", "n"] == 2 and tok_bins.loc["5", "accuracy"] == 1.0


def test_scoring_errors(tmp_path: Path) -> None:
    items = _items()
    with pytest.raises(CharBenchError, match="not in the item file"):
        score_answers(items, {"m": {"nope-1": "3"}})
    p = tmp_path / "ans.jsonl"
    for text, match in [
        ('{"id": "a", "reply": "1"}\nnot json\n', r"ans.jsonl:2: not valid JSON"),
        ('{"id": "a"}\n', 'with "id" and "reply"'),
        ('{"id": 3, "reply": "1"}\n', "id must be a string"),
        ('{"id": "a", "reply": 1}\n', "reply must be a string or null"),
        ('{"id": "a", "reply": "1"}\n{"id": "a", "reply": "2"}\n', "second answer"),
        ("\n", "no answers"),
    ]:
        p.write_text(text)
        with pytest.raises(CharBenchError, match=match):
            load_answers(p)
    p.write_text('{"id": "count_char-0", "reply": null, "model": "m"}\n')
    assert load_answers(p) == {"count_char-0": None}


# -------------------------------------------------------------------------------------- CLI


@pytest.fixture
def cli():  # type: ignore[no-untyped-def]
    from tokbench.cli import main as cli_module  # the module

    assert "charbench" in cli_module.COMMANDS
    return cli_module.main


def test_cli_end_to_end(cli, tmp_path: Path, tokenizer_dir: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    items = tmp_path / "items.jsonl"
    assert cli(["charbench", "generate", "--corpus", "sample:eng_Latn", "--per-length", "5",
                "--out", str(items)]) == 0
    assert len(read_items(items)) == 4 * 7 * 5
    assert (tmp_path / "items.signature.json").is_file()
    feats = tmp_path / "features.csv"
    assert cli(["charbench", "features", str(items), str(tokenizer_dir / "gpt2"),
                str(tokenizer_dir / "mistral_v1.model"), "--out", str(feats),
                "--table", str(tmp_path / "table.csv"), "--figures", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig" / "target_token_chars.png").stat().st_size > 1000
    answers = tmp_path / "m.jsonl"
    answers.write_text("".join(json.dumps({"id": it.id, "reply": str(it.answer if it.length < 8 else 0)}) + "\n"
                               for it in read_items(items)))
    out = tmp_path / "scores"
    assert cli(["charbench", "score", str(items), "--answers", f"model={answers}",
                "--features", str(feats), "--out", str(out)]) == 0
    for name in ("summary", "by_task", "by_length", "by_feature", "correlations", "error_overlap",
                 "counting_bias"):
        assert (out / f"{name}.csv").is_file()
    assert (out / "accuracy.png").is_file()
    printed = capsys.readouterr().out
    assert "accuracy per task" in printed and "signature:" in printed
    # the wrong answers are all on words of length >= 8: length correlates with correctness
    import pandas as pd

    corr = pd.read_csv(out / "correlations.csv")
    assert (corr[(corr["feature"] == "length")]["r"] < 0).all()


def test_cli_errors_are_one_line(cli, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "items.jsonl"
    bad.write_text("{broken\n")
    assert cli(["charbench", "score", str(bad), "--answers", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not valid JSON" in err
    assert not (tmp_path / "out.jsonl").exists()
    assert cli(["charbench", "generate", "--corpus", "sample:eng_Latn", "--tasks", "nope",
                "--out", str(tmp_path / "out.jsonl")]) == 2
    assert "unknown CharBench task 'nope'" in capsys.readouterr().err
    assert not (tmp_path / "out.jsonl").exists()
