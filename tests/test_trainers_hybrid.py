"""Morphology-hybrid tokenizer (lexicon + BPE fallback): exact round trips on real Turkish and code,
shared morpheme ids, the ``<uppercase>`` marker, greedy longest-match segmentation worked by hand,
the BPE fallback, lexicon validation, save/load, the CLI and the Morfessor (lexicon-free) mode."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pytest

from tokbench import load_tokenizer
from tokbench.corpora import load_code, load_flores
from tokbench.errors import TokbenchError, TokenizerFormatError
from tokbench.formats.hybrid_json import hybrid_data, tokenizer_from_hybrid_data
from tokbench.model.hybrid import HybridTokenizer
from tokbench.trainers import TRAINERS, TrainingError, get_trainer
from tokbench.trainers.hybrid import Lexicon, LexiconError, train_hybrid


@pytest.fixture(scope="module")
def turkish_dir(shared_data: Path) -> Path:
    return shared_data / "morphology" / "turkish"


@pytest.fixture(scope="module")
def lexicon(turkish_dir: Path) -> Lexicon:
    return Lexicon.from_turkish_dir(turkish_dir)


@pytest.fixture(scope="module")
def flores(shared_data: Path) -> tuple[list[str], list[str]]:
    folder = shared_data / "flores200"
    return (load_flores("tur_Latn", split="dev", flores_dir=folder).documents("tur_Latn"),
            load_flores("tur_Latn", split="devtest", flores_dir=folder).documents("tur_Latn"))


@pytest.fixture(scope="module")
def trained(lexicon, flores):
    return train_hybrid(flores[0], lexicon=lexicon, vocab_size=32768, allow_smaller=True, progress=False)


@pytest.fixture(scope="module")
def tok(trained) -> HybridTokenizer:
    return trained.tokenizer


def surfaces(tok, text: str) -> list[str]:
    return [tok.vocab[i].decode("utf-8") for i in tok.encode(text)]


# ------------------------------------------------------------------------------- round trips


def test_exact_roundtrip_on_every_flores_turkish_devtest_line(tok, flores):
    _, devtest = flores
    for line in devtest:
        assert tok.decode(tok.encode(line)) == line
    joined = "\n".join(devtest)  # newlines are explicit tokens too
    assert tok.decode(tok.encode(joined)) == joined


def test_exact_roundtrip_on_code(tok, shared_data):
    docs = []
    for language in ("python", "c", "shell"):
        docs += load_code(language, code_dir=shared_data / "code").documents(language)[:15]
    for doc in docs:
        assert tok.decode(tok.encode(doc)) == doc
    tricky = "\r\n\tMixed\u00a0spaces\u2009and ǅemal, ß, İIıi, \U0001F600 e\u0301 9\u0301x"
    assert tok.decode(tok.encode(tricky)) == tricky


# ---------------------------------------------------------------------------- shared morphemes


def test_lar_and_ler_share_a_morpheme_id_but_keep_their_surface(tok, lexicon):
    assert lexicon.affixes["lar"] == lexicon.affixes["ler"] == 20000
    evler, kitaplar = tok.encode("evler"), tok.encode("kitaplar")
    assert surfaces(tok, "evler") == ["ev", "ler"] and surfaces(tok, "kitaplar") == ["kitap", "lar"]
    ler, lar = evler[-1], kitaplar[-1]
    assert ler != lar  # distinct tokens ...
    assert tok.morpheme_ids[ler] == tok.morpheme_ids[lar] == 20000  # ... of one morpheme
    assert tok.token_classes[ler] == tok.token_classes[lar] == "affix"
    assert tok.decode([*evler[:-1], lar]) == "evlar" and tok.decode(evler) == "evler"
    assert tok.morpheme_of(kitaplar[0]) == lexicon.roots["kitap"]


# ------------------------------------------------------------------------------ <uppercase>


def test_uppercase_marker_with_turkish_casing(tok):
    up = tok.special_tokens["<uppercase>"]
    assert tok.casing == "turkish"
    # İ lower-cases to dotted i (not Python's "i̇"), and back.
    assert surfaces(tok, "İstanbul") == ["<uppercase>", "istanbul"]
    assert surfaces(tok, "Ankara") == ["<uppercase>", "ankara"]
    # dotless: I -> ı
    ids = tok.encode("Iğdır")
    assert ids[0] == up and tok.vocab[ids[1]].startswith("ı".encode())
    # Not "capital + lower-case rest": spelled by the fallback as written, no marker.
    for word in ("ISTANBUL", "ALLCAPS", "McDonald", "iPhone"):
        ids = tok.encode(word)
        assert up not in ids and tok.decode(ids) == word
        assert all(tok.token_classes[i] == "bpe" for i in ids)
    assert tok.decode([up, *tok.encode("istanbul")]) == "İstanbul"
    assert tok.decode([up, *tok.encode("ırmak")]) == "Irmak"
    assert tok.decode([up]) == ""  # a dangling marker spells nothing


def test_uppercase_with_unicode_casing_lowercases_I_to_i():
    data = hybrid_data(tokens=[("<uppercase>", "special", 0), (" ", "space", 1), ("istanbul", "root", 2)],
                       fallback_vocab=[bytes([b]) for b in range(256)], fallback_merges=[], casing="unicode")
    tok = tokenizer_from_hybrid_data(data)
    assert surfaces(tok, "Istanbul") == ["<uppercase>", "istanbul"]
    assert tok.decode(tok.encode("Istanbul İstanbul")) == "Istanbul İstanbul"
    assert tok.special_tokens["<uppercase>"] not in tok.encode("İstanbul")  # "i̇stanbul" is not lower-case-first


# --------------------------------------------------------------------------- greedy matching


def test_greedy_longest_match_worked_by_hand(tok, lexicon):
    roots, affixes = lexicon.roots, lexicon.affixes
    # evlerimizden: root prefixes in the lexicon are only "ev" -> root "ev";
    # rest "lerimizden": affix prefixes "le", "ler" -> "ler"; "imizden": "i", "im" -> "im";
    # "izden": "i", "iz" -> "iz"; "den": "de", "den" -> "den"; nothing left.
    assert [p for p in ("e", "ev", "evl", "evle", "evler") if p in roots] == ["ev"]
    assert [p for p in ("l", "le", "ler", "leri", "lerim") if p in affixes] == ["le", "ler"]
    assert surfaces(tok, "evlerimizden") == ["ev", "ler", "im", "iz", "den"]
    assert [tok.morpheme_ids[i] for i in tok.encode("evlerimizden")][1:] == [20000, 20013, 20014, 20025]
    # kitaplarımızdan: roots "kit" and "kitap" -> the longer, "kitap"; then lar, ım, ız, dan.
    assert "kit" in roots and "kitap" in roots
    assert surfaces(tok, "kitaplarımızdan") == ["kitap", "lar", "ım", "ız", "dan"]
    # gözlükçüler: roots "göz", "gözlük", "gözlükçü" -> "gözlükçü" + "ler" (longest, not morphology).
    assert all(r in roots for r in ("göz", "gözlük", "gözlükçü"))
    assert surfaces(tok, "gözlükçüler") == ["gözlükçü", "ler"]
    # Greedy means no backtracking: "evlar" takes the longer root "evla" and leaves "r".
    assert "evla" in roots and surfaces(tok, "evlar") == ["evla", "r"]
    # After "word'", the next word is an affix chain: Ankara'da -> ... ' + da (the locative).
    assert surfaces(tok, "Ankara'da") == ["<uppercase>", "ankara", "'", "da"]
    assert tok.token_classes[tok.encode("Ankara'da")[-1]] == "affix"


def test_explicit_whitespace_tokens(tok):
    ids = tok.encode("ev ev\nev\tev")
    spaces = [tok.vocab[i] for i in ids if tok.token_classes[i] == "space"]
    assert spaces == [b" ", b"\n", b"\t"]


# ------------------------------------------------------------------------------ BPE fallback


def test_bpe_fallback_covers_unknown_words(tok, trained):
    assert trained.fallback.tokenizer.vocab_size == tok.vocab_size - tok.fallback_offset
    for text in ("😀🎉", "你好世界", "ελληνικά", "xqzw", "2024", "…!?"):
        ids = tok.encode(text)
        assert tok.decode(ids) == text
        assert all(tok.token_classes[i] == "bpe" and tok.morpheme_ids[i] == -1 for i in ids)
    greek = tok.encode("Ελληνικά")  # capitalised in any script: the marker, then the fallback
    assert greek[0] == tok.special_tokens["<uppercase>"] and tok.decode(greek) == "Ελληνικά"
    # a root followed by an uncovered rest: the rest is spelled by the fallback
    mixed = tok.encode("evxqzw")
    assert tok.vocab[mixed[0]] == b"ev" and all(tok.token_classes[i] == "bpe" for i in mixed[1:])


# ------------------------------------------------------------------------- lexicon validation


def _write(folder: Path, roots, affixes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in (("roots.json", roots), ("affixes.json", affixes)):
        (folder / name).write_text(table if isinstance(table, str) else json.dumps(table), encoding="utf-8")
    return folder


@pytest.mark.parametrize(("roots", "affixes", "message"), [
    (["ev", "kitap"], {"lar": 1}, "roots must be a JSON object mapping surface form -> integer id.*got a list"),
    ({"ev": 0}, [["lar", 1]], "affixes must be a JSON object.*got a list"),
    ({"ev": "0"}, {"lar": 1}, r"roots: the id of 'ev' must be a non-negative integer, got '0' \(str\)"),
    ({"ev": 0}, {"lar": 1.5}, r"the id of 'lar' must be a non-negative integer, got 1.5 \(float\)"),
    ({"ev": True}, {"lar": 1}, "must be a non-negative integer, got True"),
    ({"ev": -3}, {"lar": 1}, "non-negative integer, got -3"),
    ({}, {"lar": 1}, "roots is empty"),
    ({"ev": 0}, {}, "affixes is empty"),
    ({"": 0}, {"lar": 1}, "must be a non-empty string"),
    ({"ev": 7}, {"lar": 7}, "used by both roots and affixes"),
    ("{not json", {"lar": 1}, "not valid JSON"),
])
def test_lexicon_with_a_wrong_shape_is_a_clear_error(tmp_path, roots, affixes, message):
    folder = _write(tmp_path / "lex", roots, affixes)
    with pytest.raises(LexiconError, match=message) as info:
        Lexicon.from_path(folder)
    assert isinstance(info.value, TokbenchError)
    assert "Traceback" not in str(info.value)


def test_lexicon_paths_errors_and_loading(tmp_path, lexicon):
    half = _write(tmp_path / "half", {"ev": 0}, {"lar": 1})
    (half / "affixes.json").unlink()
    with pytest.raises(LexiconError, match="affixes.json: no such lexicon file"):
        Lexicon.from_path(half)
    with pytest.raises(LexiconError, match="not a folder"):
        Lexicon.from_path(half / "nothing")
    with pytest.raises(LexiconError, match="no such lexicon file"):
        Lexicon.from_files(tmp_path / "missing.json", tmp_path / "missing2.json")
    good = _write(tmp_path / "good", {"<uppercase>": 0, "ev": 1}, {"ler": 2, "lar": 2})
    from_files = Lexicon.from_path(f"{good / 'roots.json'},{good / 'affixes.json'}")
    assert from_files.roots == {"<uppercase>": 0, "ev": 1} and from_files.n_morphemes == 2
    # the Turkish lexicon: placeholders dropped, markers recognised, Turkish casing
    assert lexicon.casing == "turkish" and lexicon.reserved == 747
    assert "special_7" not in lexicon.roots and "ek_temp_20072" not in lexicon.affixes
    table = lexicon.token_table()
    assert ("<uppercase>", "special", 0) in table and (" ", "space", 2) in table


def test_trainer_bad_input(lexicon, flores):
    dev = flores[0][:50]
    with pytest.raises(TrainingError, match="exactly one of lexicon"):
        train_hybrid(dev, vocab_size=30000, progress=False)
    with pytest.raises(TrainingError, match="exactly one of lexicon"):
        train_hybrid(dev, lexicon=lexicon, morfessor=True, vocab_size=30000, progress=False)
    with pytest.raises(TrainingError, match=r"use vocab_size >= 22,101"):
        train_hybrid(dev, lexicon=lexicon, vocab_size=20000, progress=False)
    with pytest.raises(TrainingError, match="corpus is empty"):
        train_hybrid(["", ""], lexicon=lexicon, vocab_size=30000, progress=False)
    with pytest.raises(TrainingError, match="too small"):  # the fallback runs out of pairs
        train_hybrid(dev, lexicon=lexicon, vocab_size=40000, progress=False)
    with pytest.raises(LexiconError):
        train_hybrid(dev, lexicon="/nonexistent/lexicon", vocab_size=30000, progress=False)


# --------------------------------------------------------------------------- save / load


def test_save_and_load_roundtrip(tok, trained, flores, tmp_path):
    path = trained.save(tmp_path / "hybrid.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["tokbench_format"] == "hybrid" and "model" not in data
    loaded = load_tokenizer(path)
    assert isinstance(loaded, HybridTokenizer) and loaded.source_format == "tokbench-hybrid"
    assert loaded.reference is None  # no reference library: encode runs natively
    assert loaded.fingerprint == tok.fingerprint
    assert loaded.vocab == tok.vocab and loaded.morpheme_ids == tok.morpheme_ids
    assert loaded.token_classes == tok.token_classes and loaded.special_tokens == tok.special_tokens
    devtest = flores[1]
    assert loaded.encode_batch(devtest) == tok.encode_batch(devtest)
    assert [loaded.decode(ids) for ids in loaded.encode_batch(devtest[:100])] == devtest[:100]
    assert loaded.info()["kind"] == "hybrid" and "Tokenizer(" in repr(loaded)


def test_corrupt_hybrid_file_is_a_format_error(tmp_path):
    base = hybrid_data(tokens=[("<uppercase>", "special", 0)], fallback_vocab=[bytes([b]) for b in range(256)],
                       fallback_merges=[])
    cases = {
        "no_upper": {**base, "tokens": [["ev", "root", 0]]},
        "bad_class": {**base, "tokens": [["<uppercase>", "special", 0], ["ev", "stem", 1]]},
        "bad_merge": {**base, "fallback": {"vocab": base["fallback"]["vocab"], "merges": [[0, 999]]}},
        "no_bytes": {**base, "fallback": {"vocab": base["fallback"]["vocab"][:10], "merges": []}},
        "version": {**base, "version": 99},
    }
    for label, data in cases.items():
        path = tmp_path / f"{label}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(TokenizerFormatError, match=str(path)):
            load_tokenizer(path)


# ------------------------------------------------------------------------------ registry / CLI


def test_registry_and_cli(turkish_dir, shared_data, tmp_path, capsys):
    from tokbench.cli import train as command

    assert "hybrid" in TRAINERS and get_trainer("hybrid") is train_hybrid
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    spec = str(shared_data / "flores200" / "dev" / "tur_Latn.dev")
    out = tmp_path / "h.json"
    base = ["--trainer", "hybrid", "--corpus", spec, "--vocab-size", "32768", "-o", str(out), "--no-progress"]
    assert command.run(parser.parse_args([*base, "--lexicon", str(turkish_dir), "--casing", "turkish",
                                          "--allow-smaller"])) == 0
    assert "written" in capsys.readouterr().out
    loaded = load_tokenizer(out)
    assert loaded.casing == "turkish" and loaded.decode(loaded.encode("İstanbul'da")) == "İstanbul'da"
    with pytest.raises(TokbenchError, match="exactly one of --lexicon"):
        command.run(parser.parse_args(base))
    with pytest.raises(TokbenchError, match="--lexicon works with --trainer hybrid only"):
        command.run(parser.parse_args(["--trainer", "bpe", "--corpus", spec, "--vocab-size", "500", "-o",
                                       str(tmp_path / "b.json"), "--lexicon", str(turkish_dir)]))
    bad = _write(tmp_path / "bad", ["ev"], {"lar": 1})
    with pytest.raises(LexiconError, match="got a list"):
        command.run(parser.parse_args([*base, "--lexicon", str(bad)]))


# ------------------------------------------------------------------------------- morfessor


def test_morfessor_mode_learns_a_lexicon(flores, tmp_path):
    pytest.importorskip("morfessor")
    dev, devtest = flores
    start = time.perf_counter()
    trained = train_hybrid(dev[:150], morfessor=True, vocab_size=4000, allow_smaller=True, progress=False)
    assert time.perf_counter() - start < 15
    tok = trained.tokenizer
    lex = trained.lexicon
    assert lex.name == "morfessor" and len(lex.roots) > 100 and len(lex.affixes) > 10
    assert tok.casing == "unicode" and tok.vocab_size <= 4000
    for line in devtest[:200]:
        assert tok.decode(tok.encode(line)) == line
    classes = [tok.token_classes[i] for line in devtest[:50] for i in tok.encode(line)]
    assert classes.count("root") > 0 and classes.count("affix") > 0
    assert load_tokenizer(trained.save(tmp_path / "m.json")).encode(devtest[0]) == tok.encode(devtest[0])
