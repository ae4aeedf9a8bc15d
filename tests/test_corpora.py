"""Tests of the corpus layer: loaders, the spec syntax, sampling, encodings and signatures.

Real-data tests take the ``flores_dir`` / ``code_dir`` fixtures (skipped without the shared
data); the bundled sample and small temp files cover the rest.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
from pathlib import Path

import pytest

from tokbench import __version__
from tokbench.corpora import (
    SPEC_PREFIXES,
    Corpus,
    flores_languages,
    load_code,
    load_corpus,
    load_flores,
    load_hf_dataset,
    load_jsonl,
    load_sample,
    load_text,
    parse_corpus_spec,
    sample_categories,
)
from tokbench.errors import CorpusError, EncodingError, UnknownLanguageError, UnknownNameError

REPO = Path(__file__).resolve().parent.parent
SAMPLE_FLORES = [
    "eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn", "vie_Latn", "tur_Latn", "rus_Cyrl", "ukr_Cyrl",
    "arb_Arab", "hin_Deva", "zho_Hans", "jpn_Jpan", "kor_Hang", "mya_Mymr", "amh_Ethi", "tha_Thai",
]  # fmt: skip


# ---------------------------------------------------------------- FLORES on the real data


def test_flores_languages(flores_dir: Path) -> None:
    langs = flores_languages(flores_dir)
    assert len(langs) == 204
    assert "eng_Latn" in langs and "zho_Hant" in langs
    assert langs == sorted(langs)


def test_flores_lines_aligned_across_languages(flores_dir: Path) -> None:
    c = load_flores("eng_Latn,fra_Latn,mya_Mymr,zho_Hans", flores_dir=flores_dir)
    assert c.category_names == ["eng_Latn", "fra_Latn", "mya_Mymr", "zho_Hans"]
    assert {c.n_documents(x) for x in c.category_names} == {1012}
    assert c.split == "devtest"
    # Lines are sentences, not the whole file, and carry no newline.
    assert all("\n" not in d and d for d in c.documents("mya_Mymr"))
    assert (
        c.documents("eng_Latn")[0]
        == (flores_dir / "devtest/eng_Latn.devtest").read_text(encoding="utf-8").split("\n")[0]
    )


def test_flores_split_both_is_dev_then_devtest(flores_dir: Path) -> None:
    both = load_flores(["deu_Latn"], split="both", flores_dir=flores_dir)
    dev = load_flores("deu_Latn", split="dev", flores_dir=flores_dir)
    devtest = load_flores("deu_Latn", split="devtest", flores_dir=flores_dir)
    assert dev.n_documents() == 997 and devtest.n_documents() == 1012
    assert both.documents("deu_Latn") == dev.documents("deu_Latn") + devtest.documents("deu_Latn")
    assert both.n_documents() == 997 + 1012


def test_flores_all(flores_dir: Path) -> None:
    c = load_flores("all", split="dev", flores_dir=flores_dir)
    assert len(c) == 204 and {len(d) for _, d in c} == {997}


@pytest.mark.parametrize("code", ["eng_latn", "eng", "Eng_Latn", "eng_Ltn"])
def test_flores_unknown_code_suggests_closest(flores_dir: Path, code: str) -> None:
    with pytest.raises(UnknownLanguageError) as err:
        load_flores(f"fra_Latn,{code}", flores_dir=flores_dir)
    message = str(err.value)
    assert repr(code) in message and "closest valid codes" in message
    closest = message.split("closest valid codes: ")[1]
    assert closest.startswith("eng_Latn")


def test_flores_missing_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CorpusError, match="TOKBENCH_DATA.*dir="):
        load_flores("eng_Latn", flores_dir=tmp_path / "nope")
    monkeypatch.setenv("TOKBENCH_DATA", str(tmp_path / "absent"))
    with pytest.raises(CorpusError, match="TOKBENCH_DATA"):
        load_corpus("flores:eng_Latn")


def test_flores_misaligned_files_refused(tmp_path: Path) -> None:
    (tmp_path / "devtest").mkdir()
    (tmp_path / "devtest/aaa_Latn.devtest").write_text("a\nb\n", encoding="utf-8")
    (tmp_path / "devtest/bbb_Latn.devtest").write_text("a\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="line-aligned"):
        load_flores("all", flores_dir=tmp_path)


# ---------------------------------------------------------------- code and the bundled sample


def test_load_code(code_dir: Path) -> None:
    c = load_code("python,c", code_dir=code_dir)
    assert c.category_names == ["python", "c"]
    first = json.loads((code_dir / "python.jsonl").open(encoding="utf-8").readline())
    assert c.documents("python")[0] == first["text"]
    assert c.n_bytes("c") > 500_000
    with pytest.raises(UnknownLanguageError, match="python"):
        load_code("pyton", code_dir=code_dir)


def test_bundled_sample() -> None:
    c = load_sample()
    assert c.category_names == SAMPLE_FLORES + ["python", "c", "javascript"]
    assert sample_categories() == c.category_names
    assert {c.n_documents(x) for x in SAMPLE_FLORES} == {300}
    for code in ("python", "c", "javascript"):
        assert 30_000 < c.n_bytes(code) < 120_000
    assert "def " in c.text("python") and "#include" in c.text("c")
    sub = load_sample(["python", "eng_Latn"])
    assert sub.category_names == ["python", "eng_Latn"]
    assert sub.documents("eng_Latn") == c.documents("eng_Latn")
    with pytest.raises(UnknownLanguageError, match="eng_Latn"):
        load_sample("eng")
    size = (REPO / "tokbench/data/sample.jsonl.gz").stat().st_size
    assert size < 1_600_000
    licences = (REPO / "tokbench/data/DATA_LICENSES").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in licences and "NLLB" in licences and "gzjoin.c" in licences


def test_sample_matches_real_flores(flores_dir: Path) -> None:
    sample = load_sample("tha_Thai")
    real = load_flores("tha_Thai", flores_dir=flores_dir)
    assert sample.documents("tha_Thai") == real.documents("tha_Thai")[:300]


def test_make_sample_is_reproducible(shared_data: Path, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_sample", REPO / "scripts/make_sample.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--data", str(shared_data), "--out", str(tmp_path)]) == 0
    for name in ("sample.jsonl.gz", "DATA_LICENSES"):
        assert (tmp_path / name).read_bytes() == (REPO / "tokbench/data" / name).read_bytes()


# ---------------------------------------------------------------- files: JSONL, text, folders


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def test_jsonl_field_option(tmp_path: Path) -> None:
    path = _write_jsonl(
        tmp_path / "docs.jsonl", [{"body": "héllo", "id": 1}, {"body": "world", "id": 2}]
    )
    with pytest.raises(CorpusError, match=r"no field 'text'.*body, id.*field="):
        load_jsonl(path)
    c = load_jsonl(path, field="body")
    assert c.category_names == ["docs"] and c.documents("docs") == ["héllo", "world"]
    assert load_corpus(f"{path}?field=body").documents("docs") == ["héllo", "world"]
    assert load_corpus(f"jsonl:{path}?field=body&name=greetings").category_names == ["greetings"]


def test_jsonl_category_field_and_gzip(tmp_path: Path) -> None:
    rows = [{"lang": "a", "text": "x"}, {"lang": "b", "text": "y"}, {"lang": "a", "text": "z"}]
    raw = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path = tmp_path / "mix.jsonl.gz"
    path.write_bytes(gzip.compress(raw))
    c = load_corpus(f"{path}?category_field=lang")
    assert c.categories == {"a": ["x", "z"], "b": ["y"]}
    assert load_corpus(str(path)).category_names == ["mix"]


def test_jsonl_malformed(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{"text": \n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad.jsonl:2: not valid JSON"):
        load_jsonl(bad)


def test_text_file_per_line_and_per_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("first line\n\n   \nsecond line\r\nthird\n", encoding="utf-8")
    c = load_text(path)
    assert c.categories == {"notes": ["first line", "second line", "third"]}
    whole = load_corpus(f"text:{path}?per=file")
    assert whole.n_documents() == 1 and whole.documents("notes")[0].startswith("first line\n")


def test_text_folder_per_file(tmp_path: Path) -> None:
    root = tmp_path / "mydocs"
    (root / "sub").mkdir(parents=True)
    (root / "b.txt").write_text("bee\n", encoding="utf-8")
    (root / "a.md").write_text("ay\nay two\n", encoding="utf-8")
    (root / "sub" / "c.txt").write_text("sea", encoding="utf-8")
    (root / ".hidden").write_text("secret", encoding="utf-8")
    c = load_corpus(str(root))
    assert c.categories == {"mydocs": ["ay\nay two\n", "bee\n", "sea"]}
    assert load_text(root, per="line").documents("mydocs") == ["ay", "ay two", "bee", "sea"]
    # A binary file is an error under strict and skipped under replace.
    (root / "z.bin").write_bytes(b"\x00\x01\x02binary")
    with pytest.raises(EncodingError, match=r"z.bin: binary file.*errors=\"replace\""):
        load_text(root)
    assert load_text(root, errors="replace").n_documents() == 3


def test_missing_and_empty_inputs(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"nope.txt: no such"):
        load_corpus(str(tmp_path / "nope.txt"))
    with pytest.raises(CorpusError, match="no such"):
        load_jsonl(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match="empty"):
        load_text(empty)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="empty JSONL"):
        load_jsonl(blank)
    only_empty_docs = _write_jsonl(tmp_path / "e.jsonl", [{"text": ""}, {"text": ""}])
    with pytest.raises(CorpusError, match=r"category 'e' is empty \(only empty documents\)"):
        load_jsonl(only_empty_docs)
    with pytest.raises(CorpusError, match="no categories"):
        Corpus("x", {})
    with pytest.raises(CorpusError, match=r"category 'a' is empty \(no documents\)"):
        Corpus("x", {"a": [], "b": ["text"]})
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(CorpusError, match="no files"):
        load_corpus(str(tmp_path / "emptydir"))


# ---------------------------------------------------------------- invalid UTF-8


def test_invalid_utf8_strict_vs_replace(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    # Two invalid sequences, plus a genuine U+FFFD that must not be counted as a replacement.
    path.write_bytes(b"good line\nbad \xff byte and \xc3 cut\nreal \xef\xbf\xbd stays\n")
    with pytest.raises(EncodingError) as err:
        load_text(path)
    message = str(err.value)
    assert str(path) in message and "byte offset 14" in message and "line 2" in message
    assert 'errors="replace"' in message
    c = load_text(path, errors="replace")
    assert c.replaced_chars == 2
    assert c.documents("bad")[1] == "bad \ufffd byte and \ufffd cut"
    assert c.signature()["replaced_chars"] == 2
    assert load_corpus(f"{path}?errors=replace").replaced_chars == 2
    assert load_corpus(str(path), errors="replace").replaced_chars == 2
    jsonl = tmp_path / "bad.jsonl"
    jsonl.write_bytes(b'{"text": "ok"}\n{"text": "caf\xe9"}\n')
    with pytest.raises(EncodingError, match=r"bad.jsonl: invalid UTF-8 at byte offset 28 \(line 2"):
        load_jsonl(jsonl)
    assert load_jsonl(jsonl, errors="replace").documents("bad") == ["ok", "caf\ufffd"]


def test_invalid_utf8_in_flores_file(tmp_path: Path) -> None:
    (tmp_path / "devtest").mkdir()
    (tmp_path / "devtest/xxx_Latn.devtest").write_bytes(b"one\ntw\x80o\n")
    with pytest.raises(
        EncodingError, match=r"xxx_Latn.devtest: invalid UTF-8 at byte offset 6 \(line 2"
    ):
        load_corpus(f"flores:xxx_Latn?dir={tmp_path}")
    c = load_corpus(f"flores:xxx_Latn?dir={tmp_path}&errors=replace")
    assert c.replaced_chars == 1 and c.documents("xxx_Latn") == ["one", "tw\ufffdo"]


# ---------------------------------------------------------------- HF datasets (local JSON only)


@pytest.fixture()
def hf_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf_cache", raising=False)
    return datasets


def test_hf_dataset_through_local_json(hf_offline, tmp_path: Path) -> None:
    rows = [{"content": f"document {i} ünïcode", "n": i} for i in range(5)]
    path = _write_jsonl(tmp_path / "web.jsonl", rows)
    c = load_hf_dataset("json", data_files=str(path), field="content", cache_dir=tmp_path / "cache")
    assert c.categories == {"web": [r["content"] for r in rows]}
    assert c.split == "train"
    streamed = load_hf_dataset(
        "json", data_files=str(path), field="content", streaming=True, max_documents=2
    )
    assert streamed.documents("web") == [rows[0]["content"], rows[1]["content"]]
    spec = load_corpus(
        f"hf:json?data_files={path}&field=content&streaming=1&max_documents=3&name=w"
    )
    assert spec.categories == {"w": [r["content"] for r in rows[:3]]}
    with pytest.raises(CorpusError, match=r"no column 'text' \(columns: content, n\)"):
        load_hf_dataset("json", data_files=str(path))
    with pytest.raises(CorpusError, match="cannot load"):
        load_hf_dataset("json", data_files=str(tmp_path / "missing.jsonl"))


# ---------------------------------------------------------------- spec parsing


def test_spec_prefix_registry() -> None:
    assert set(SPEC_PREFIXES) == {"flores", "code", "jsonl", "text", "hf", "sample"}
    with pytest.raises(UnknownNameError) as err:
        parse_corpus_spec("flors:eng_Latn")
    assert "flors" in str(err.value) and "flores" in str(err.value) and "sample" in str(err.value)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("flores:eng_Latn,fra_Latn", [("flores", "eng_Latn,fra_Latn", {}, None)]),
        ("flores:all@both", [("flores", "all", {"split": "both"}, None)]),
        (
            "flores:eng_Latn@dev?dir=/x",
            [("flores", "eng_Latn", {"split": "dev", "dir": "/x"}, None)],
        ),
        ("code:python,c", [("code", "python,c", {}, None)]),
        (
            "code:all?max_bytes=2M&seed=7",
            [("code", "all", {"max_bytes": 2_000_000, "seed": 7}, None)],
        ),
        ("jsonl:a.json?field=content", [("jsonl", "a.json", {"field": "content"}, None)]),
        ("text:docs?per=line", [("text", "docs", {"per": "line"}, None)]),
        (
            "hf:user/ds?config=x&split=test&streaming=1&data_files=a.jsonl,b.jsonl",
            [
                (
                    "hf",
                    "user/ds",
                    {
                        "config": "x",
                        "split": "test",
                        "streaming": True,
                        "data_files": ["a.jsonl", "b.jsonl"],
                    },
                    None,
                )
            ],
        ),
        ("sample:", [("sample", "", {}, None)]),
        ("sample:all", [("sample", "all", {}, None)]),
        ("sample:eng_Latn,python", [("sample", "eng_Latn,python", {}, None)]),
        ("corpus.txt", [("path", "corpus.txt", {}, None)]),
        (
            "data/x.jsonl?name=web&errors=replace",
            [("path", "data/x.jsonl", {"name": "web", "errors": "replace"}, "web")],
        ),
        (
            "en=flores:eng_Latn@both+py=code:python?max_bytes=1k+sample:c",
            [
                ("flores", "eng_Latn", {"split": "both"}, "en"),
                ("code", "python", {"max_bytes": 1000}, "py"),
                ("sample", "c", {}, None),
            ],
        ),
        ("C:/corpus.txt", [("path", "C:/corpus.txt", {}, None)]),
    ],
)
def test_parse_spec_forms(spec: str, expected: list[tuple]) -> None:
    parts = parse_corpus_spec(spec)
    assert [(p.kind, p.target, p.options, p.rename) for p in parts] == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty corpus spec"),
        ("flores:eng_Latn++code:c", "empty part"),
        ("flores:", "no languages"),
        ("flores:eng_Latn@train", "unknown FLORES split"),
        ("flores:eng_Latn@dev?split=both", "split given twice"),
        ("code:c?per=line", "unknown option 'per'.*valid options"),
        ("sample:?max_bytes=lots", "bad value 'lots' for max_bytes"),
        ("sample:?seed=1&seed=2", "given twice"),
        ("hf:x?streaming=maybe", "bad value 'maybe' for streaming"),
        ("a=sample:c?name=b", "use one"),
        ("jsonl:", "nothing after"),
    ],
)
def test_parse_spec_errors(spec: str, message: str) -> None:
    with pytest.raises(CorpusError, match=message):
        parse_corpus_spec(spec)


def test_existing_paths_win_over_syntax(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("weird:name.txt").write_text("colon\n", encoding="utf-8")
    Path("rec+zstd.txt").write_text("plus\n", encoding="utf-8")
    Path("k=v.txt").write_text("equals\n", encoding="utf-8")
    assert load_corpus("weird:name.txt").categories == {"weird:name": ["colon"]}
    assert load_corpus("k=v.txt").categories == {"k=v": ["equals"]}
    c = load_corpus("rec+zstd.txt+sample:c+named=rec+zstd.txt")
    assert c.category_names == ["rec+zstd", "c", "named"]
    assert c.documents("named") == ["plus"]


def test_load_combined_spec_with_renames_and_options() -> None:
    spec = "en=sample:eng_Latn?max_bytes=3000&seed=2+sample:rus_Cyrl,python+js=sample:javascript"
    c = load_corpus(spec)
    assert c.name == spec
    assert c.category_names == ["en", "rus_Cyrl", "python", "js"]
    assert c.n_bytes("en") <= 3000 and c.n_documents("rus_Cyrl") == 300
    assert c.max_bytes is None  # parts were sampled differently
    assert "sampled max_bytes=3000 seed=2" in c.sources["en"]
    sig = c.signature()
    assert sig["corpus"] == spec and sig["categories"] == c.category_names


def test_duplicate_categories_and_bad_renames() -> None:
    with pytest.raises(CorpusError, match="duplicate name.*eng_Latn.*NAME=SPEC"):
        load_corpus("sample:eng_Latn+sample:fra_Latn,eng_Latn")
    with pytest.raises(CorpusError, match="one category"):
        load_corpus("x=sample:eng_Latn,fra_Latn")
    with pytest.raises(CorpusError, match="only apply with max_bytes"):
        load_corpus("sample:c?seed=3")


def test_flores_and_code_specs(flores_dir: Path, code_dir: Path) -> None:
    c = load_corpus(f"flores:eng_Latn,deu_Latn@both?dir={flores_dir}+code:python,c?dir={code_dir}")
    assert c.category_names == ["eng_Latn", "deu_Latn", "python", "c"]
    assert c.n_documents("deu_Latn") == 2009
    assert c.split is None  # flores "both" and code have no common split
    d = load_corpus("flores:eng_Latn?split=dev")
    assert d.n_documents() == 997 and d.split == "dev"
    with pytest.raises(UnknownLanguageError, match="eng_Latn"):
        load_corpus("flores:eng_latn")


# ---------------------------------------------------------------- Corpus API and sampling


def test_corpus_api() -> None:
    c = Corpus("toy", {"a": ["one", "two"], "b": ["три"]}, sources={"a": "made up"})
    assert c.category_names == ["a", "b"] and len(c) == 2
    assert list(c) == [("a", ["one", "two"]), ("b", ["три"])]
    assert c.n_bytes() == 12 and c.n_bytes("b") == 6 and c.n_documents("a") == 2
    assert c.text("a") == "one\ntwo" and c.text("a", joiner=" ") == "one two"
    assert c.subset("b,a").category_names == ["b", "a"]
    assert c.subset(["a"]).sources == {"a": "made up"}
    assert c.rename({"a": "x"}).category_names == ["x", "b"]
    with pytest.raises(UnknownNameError, match="valid names: a, b"):
        c.documents("z")
    with pytest.raises(UnknownNameError):
        c.subset(["a", "z"])
    assert "categories=2" in repr(c)


def test_sampling_is_deterministic_and_respects_budget() -> None:
    corpus = load_sample("eng_Latn,jpn_Jpan,python")
    a = corpus.sample(max_bytes=10_000, seed=1)
    b = corpus.sample(max_bytes=10_000, seed=1)
    other = corpus.sample(max_bytes=10_000, seed=2)
    assert a.categories == b.categories
    assert a.signature()["sha256"] == b.signature()["sha256"]
    assert a.documents("eng_Latn") != other.documents("eng_Latn")
    for cat in a.category_names:
        assert 0 < a.n_bytes(cat) <= 10_000
        # Greedy fill: the unused budget is smaller than the smallest document left out.
        left_out = [d for d in corpus.documents(cat) if d not in a.documents(cat)]
        if left_out and cat != "python":
            assert 10_000 - a.n_bytes(cat) < min(len(d.encode()) for d in left_out)
    # Chosen FLORES lines keep their original order.
    original = corpus.documents("eng_Latn")
    positions = [original.index(d) for d in a.documents("eng_Latn")]
    assert positions == sorted(positions)
    # Parallel categories of equal length are shuffled alike: the same line indices are chosen.
    par = Corpus(
        "p", {"x": [f"x{i:02d}" for i in range(50)], "y": [f"y{i:02d}" for i in range(50)]}
    )
    ps = par.sample(max_bytes=30, seed=9)
    assert [d[1:] for d in ps.documents("x")] == [d[1:] for d in ps.documents("y")]
    sig = a.signature()
    assert sig["max_bytes"] == 10_000 and sig["seed"] == 1 and sig["per_category"] is True


def test_sampling_truncates_only_the_first_document() -> None:
    big = "ü" * 1000  # 2,000 bytes
    c = Corpus("t", {"x": [big, "small"]})
    for seed in range(20):
        s = c.sample(max_bytes=101, seed=seed)
        docs = s.documents("x")
        if docs[0] != "small":  # the big document came first: cut at a character boundary
            assert docs == ["ü" * 50] and s.n_bytes("x") == 100
        else:  # "small" came first; the big one does not fit and is skipped, not cut
            assert docs == ["small"]
    assert {tuple(c.sample(max_bytes=101, seed=s).documents("x")) for s in range(20)} == {
        ("ü" * 50,),
        ("small",),
    }


def test_sampling_whole_corpus_budget() -> None:
    corpus = load_sample("eng_Latn,fra_Latn")
    s = corpus.sample(max_bytes=20_000, seed=0, per_category=False)
    assert s.n_bytes() <= 20_000 and s.category_names == ["eng_Latn", "fra_Latn"]
    assert s.signature()["per_category"] is False
    with pytest.raises(CorpusError, match="left categories"):
        Corpus("t", {"a": ["x" * 100], "b": ["y" * 100]}).sample(
            max_bytes=50, seed=0, per_category=False
        )
    with pytest.raises(CorpusError, match="positive"):
        corpus.sample(max_bytes=0, seed=0)
    with pytest.raises(CorpusError, match="max_bytes=2 left categories a empty"):
        Corpus("t", {"a": ["漢字"]}).sample(max_bytes=2, seed=0)


def test_spec_sampling_matches_api() -> None:
    via_spec = load_corpus("sample:eng_Latn,kor_Hang?max_bytes=5k&seed=4")
    via_api = load_sample("eng_Latn,kor_Hang").sample(max_bytes=5000, seed=4)
    assert via_spec.categories == via_api.categories
    assert via_spec.max_bytes == 5000 and via_spec.seed == 4


def test_signature_contents_are_stable() -> None:
    c = load_corpus("sample:eng_Latn,c")
    sig = c.signature()
    assert set(sig) >= {
        "corpus", "categories", "documents", "bytes", "sha256", "max_bytes", "seed", "tokbench_version",
    }  # fmt: skip
    assert sig["corpus"] == "sample:eng_Latn,c"
    assert sig["documents"] == {"eng_Latn": 300, "c": 6}
    assert sig["bytes"]["eng_Latn"] == c.n_bytes("eng_Latn")
    assert sig["tokbench_version"] == __version__
    assert sig["max_bytes"] is None and sig["seed"] is None
    json.dumps(sig)  # serialisable, no paths or objects
    again = load_corpus("sample:eng_Latn,c").signature()
    assert again == sig
    # The hash covers names and content: renaming or editing a document changes it.
    assert c.rename({"c": "C"}).signature()["sha256"] != sig["sha256"]
    edited = Corpus(
        "x", {"eng_Latn": c.documents("eng_Latn")[:-1] + ["changed"], "c": c.documents("c")}
    )
    assert edited.signature()["sha256"] != sig["sha256"]
    # Document boundaries matter too ("ab" + "c" is not "a" + "bc").
    assert (
        Corpus("x", {"a": ["ab", "c"]}).content_hash != Corpus("x", {"a": ["a", "bc"]}).content_hash
    )


def test_import_is_lazy() -> None:
    # datasets is heavy; loading a non-HF corpus must not import it (convention 7).
    code = "import sys, tokbench.corpora as c; c.load_corpus('sample:c'); print('datasets' in sys.modules)"
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- one spec parser, named language sets


def test_spec_longer_than_a_file_name_loads(flores_dir: Path) -> None:
    # Bug fix: the path probe raised OSError ("File name too long") on specs over NAME_MAX, which
    # is why the controlled mixture experiment parsed its own specs.
    from tokbench.corpora import LANGUAGES_30

    spec = "flores:" + ",".join(LANGUAGES_30) + f"@dev?dir={flores_dir}"
    assert len(spec) > 255
    [part] = parse_corpus_spec(spec)
    assert (part.kind, part.options["split"]) == ("flores", "dev")
    c = load_corpus(spec)
    assert c.name == spec and c.category_names == list(LANGUAGES_30)
    assert {c.n_documents(x) for x in c.category_names} == {997}


def test_load_corpus_parts_reports_failed_parts_and_keeps_the_rest(flores_dir: Path) -> None:
    from tokbench.corpora import load_corpus_parts

    spec = f"flores:eng_Latn?dir={flores_dir}+code:cobol?dir={flores_dir}+sample:python?max_bytes=1k"
    failed: list[tuple[str, str]] = []
    parts = load_corpus_parts(
        spec, on_error=lambda part, err: failed.append((part.text, type(err).__name__))
    )
    assert [p.name for p in parts] == [f"flores:eng_Latn?dir={flores_dir}", "sample:python?max_bytes=1k"]
    assert failed == [(f"code:cobol?dir={flores_dir}", "CorpusError")]
    assert parts[1].n_bytes() <= 1000
    # Without on_error the first failure raises, as load_corpus does.
    with pytest.raises(CorpusError):
        load_corpus_parts(spec)
    with pytest.raises(CorpusError):
        load_corpus(spec)
    # A spec that does not parse always raises.
    with pytest.raises(UnknownNameError):
        load_corpus_parts("nosuchprefix:x", on_error=lambda part, err: None)


def test_named_language_sets_exist_in_the_real_data(flores_dir: Path, code_dir: Path) -> None:
    from tokbench.corpora import ATTACK_LANGUAGES, CODE_LANGUAGES, LANGUAGES_30, code_languages

    assert len(LANGUAGES_30) == 30 and len(ATTACK_LANGUAGES) == 35
    assert ATTACK_LANGUAGES[:30] == LANGUAGES_30 and len(set(ATTACK_LANGUAGES)) == 35
    assert set(ATTACK_LANGUAGES) <= set(flores_languages(flores_dir))
    assert sorted(CODE_LANGUAGES) == code_languages(code_dir)


def test_flores_codes_and_scripts(flores_dir: Path) -> None:
    from tokbench.corpora import is_flores_code, script_of

    languages = flores_languages(flores_dir)
    assert all(is_flores_code(x) for x in languages)
    assert script_of("rus_Cyrl") == "Cyrl" and script_of("zho_Hant") == "Hant"
    for not_flores in ("python", "eng", "eng_latn", "eng_Latn_x", "ENG_Latn"):
        assert script_of(not_flores) == "other" and not is_flores_code(not_flores)
    assert {script_of(x) for x in languages} >= {"Latn", "Cyrl", "Arab", "Deva", "Hans", "Ethi"}


def test_with_flores_split_fills_in_only_missing_splits(flores_dir: Path) -> None:
    from tokbench.corpora import with_flores_split

    spec = f"flores:eng_Latn?dir={flores_dir}+en=flores:eng_Latn@both?dir={flores_dir}"
    spec += f"+fr=flores:fra_Latn?dir={flores_dir}&split=devtest+sample:python"
    filled = with_flores_split(spec, "dev")
    assert [p.options.get("split") for p in parse_corpus_spec(filled)] == ["dev", "both", "devtest", None]
    c = load_corpus(filled)
    assert (c.n_documents("eng_Latn"), c.n_documents("en"), c.n_documents("fr")) == (997, 2009, 1012)
    # Options stay options: the split goes before the query string.
    assert with_flores_split("flores:eng_Latn?max_bytes=1k", "dev") == "flores:eng_Latn@dev?max_bytes=1k"
    with pytest.raises(CorpusError):
        with_flores_split("flores:eng_Latn", "train")
