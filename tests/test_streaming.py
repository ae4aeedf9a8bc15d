"""Streaming corpora and parallel counting (issue 16, items 1 and 2).

A :class:`CorpusStream` must yield exactly the documents (and the signature) of the in-memory
loaders on real files; its byte-budget sample must be the seeded-priority run described in
:mod:`tokbench.corpora.streaming`; counting in worker processes must give the one-process table,
so BPE merges stay equal to HF ``BpeTrainer``'s; and counting a file larger than a memory cap must
not grow the process by anything like the file's size (peak RSS, measured in a child process).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tokbench.corpora import load_corpus, load_flores, stream_corpus
from tokbench.corpora.sources import FileSource
from tokbench.corpora.streaming import document_priority, sample_records
from tokbench.errors import CorpusError, TokbenchError
from tokbench.trainers.bpe import train_bpe, word_counts
from tokbench.trainers.char_bpe import train_char_bpe
from tokbench.trainers.superword import train_superword

REPO = Path(__file__).resolve().parent.parent


def _grouped(stream) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for cat, doc in stream.iter_records():
        out.setdefault(cat, []).append(doc)
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory, shared_data: Path) -> dict[str, Path]:
    """Real text in every format a loader reads: a text file (CRLF, BOM, blank lines), a
    gzipped JSONL, a folder of files, and a multi-category JSONL."""
    root = tmp_path_factory.mktemp("stream")
    eng = (shared_data / "flores200" / "dev" / "eng_Latn.dev").read_text(encoding="utf-8").splitlines()
    rus = (shared_data / "flores200" / "dev" / "rus_Cyrl.dev").read_text(encoding="utf-8").splitlines()
    text = root / "news.txt"
    text.write_bytes(("\ufeff" + "\r\n".join(eng[:300]) + "\n\n\n" + "\n".join(rus[:300]) + "\n").encode())
    code = [json.loads(ln)["text"] for ln in (shared_data / "code" / "tcl.jsonl").read_text().splitlines()[:40]]
    gz = root / "tcl.jsonl.gz"
    gz.write_bytes(gzip.compress("".join(json.dumps({"text": t}) + "\n" for t in code).encode()))
    folder = root / "docs"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("\n".join(eng[300:320]))
    (folder / "sub" / "b.txt").write_text("\n".join(rus[300:320]) + "\n")
    (folder / ".hidden").write_text("never read")
    mixed = root / "mixed.jsonl"
    mixed.write_text("".join(json.dumps({"lang": lang, "body": s}) + "\n"
                             for k in range(50) for lang, s in (("en", eng[k]), ("ru", rus[k]))))
    return {"text": text, "gz": gz, "folder": folder, "mixed": mixed}


def test_streams_yield_the_loaded_documents_and_signature(files):
    specs = [
        "flores:eng_Latn,zho_Hans@both+code:python,tcl",
        str(files["text"]), str(files["gz"]), f"text:{files['folder']}?per=line", str(files["folder"]),
        f"jsonl:{files['mixed']}?field=body&category_field=lang", "sample:",
        f"en=text:{files['text']}+{files['gz']}",
    ]
    for spec in specs:
        corpus, stream = load_corpus(spec), stream_corpus(spec)
        assert _grouped(stream) == corpus.categories, spec
        assert stream.category_names == corpus.category_names, spec
        assert stream.signature() == corpus.signature(), spec


def test_byte_ranges_start_at_lines_and_cover_the_file(shared_data: Path, files):
    path = shared_data / "code" / "perl.jsonl"
    source = FileSource(str(path), "jsonl", category="perl")
    ranges = source.ranges(100_000)
    assert len(ranges) > 5 and ranges[0][0] == 0 and ranges[-1][1] == path.stat().st_size
    data = path.read_bytes()
    assert all(data[a - 1:a] == b"\n" for a, _ in ranges[1:])
    assert all(b == a2 for (_, b), (a2, _) in zip(ranges, ranges[1:], strict=False))
    whole = [d for _, d in source.records()]
    assert [d for r in ranges for _, d in source.records(*r)] == whole
    assert whole == load_corpus(str(path)).documents("perl")
    with pytest.raises(CorpusError, match="gzip"):
        list(FileSource(str(files["gz"]), "jsonl", category="x").records(10, 20))


def test_parquet_streams_through_datasets(tmp_path, shared_data: Path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("datasets")
    lines = (shared_data / "flores200" / "dev" / "hin_Deva.dev").read_text(encoding="utf-8").splitlines()
    path = tmp_path / "hindi.parquet"
    pq.write_table(pa.table({"text": lines, "n": list(range(len(lines)))}), path, row_group_size=100)
    spec = f"hf:parquet?data_files={path}"
    stream = stream_corpus(spec)
    assert list(stream.iter_documents()) == lines
    assert stream.signature() == load_corpus(spec).signature()
    assert sum(1 for _ in stream_corpus(spec + "&max_documents=7").iter_documents()) == 7


def _reference_sample(docs: list[str], max_bytes: int, seed: int) -> list[str]:
    """The rule, computed the slow way: sort by priority, take the run that fits, keep order."""
    order = sorted(range(len(docs)), key=lambda i: document_priority(seed, i))
    taken, used = [], 0
    for i in order:
        size = len(docs[i].encode())
        if used + size > max_bytes:
            break
        taken.append(i)
        used += size
    return [docs[i] for i in sorted(taken)]


def test_stream_sampling_is_the_seeded_priority_run(flores_dir: Path):
    spec = f"flores:eng_Latn,jpn_Jpan?dir={flores_dir}&max_bytes=20k&seed=3"
    sample = _grouped(stream_corpus(spec))
    full = load_flores("eng_Latn,jpn_Jpan", flores_dir=flores_dir)
    for lang, docs in sample.items():
        assert docs == _reference_sample(full.documents(lang), 20_000, 3)
        assert 19_000 < sum(len(d.encode()) for d in docs) <= 20_000
    # Parallel languages visit the same lines in the same order (each takes a run of it, whose
    # length depends on its bytes); another seed picks others; the same seed repeats.
    eng = {i for i, d in enumerate(full.documents("eng_Latn")) if d in set(sample["eng_Latn"])}
    jpn = {i for i, d in enumerate(full.documents("jpn_Jpan")) if d in set(sample["jpn_Jpan"])}
    assert eng <= jpn or jpn <= eng
    assert len(eng & jpn) > 50
    assert _grouped(stream_corpus(spec)) == sample
    assert _grouped(stream_corpus(spec.replace("seed=3", "seed=4")))["eng_Latn"] != sample["eng_Latn"]


def test_stream_sampling_whole_corpus_truncation_and_errors(flores_dir: Path):
    full = load_flores("eng_Latn,tha_Thai", split="dev", flores_dir=flores_dir)
    records = [(c, d) for c, docs in full for d in docs]
    picked = list(sample_records(iter(records), max_bytes=30_000, seed=5, per_category=False))
    # One budget over both languages, drawn in priority order of (seed, category, line).
    keyed = sorted((document_priority(5, i, k), c, i) for k, (c, docs) in enumerate(full) for i in range(len(docs)))
    used, expected = 0, set()
    for _, c, i in keyed:
        size = len(full.documents(c)[i].encode())
        if used + size > 30_000:
            break
        used += size
        expected.add((c, i))
    want = [(c, d) for c, docs in full for i, d in enumerate(docs) if (c, i) in expected]
    assert picked == want and {c for c, _ in picked} == {"eng_Latn", "tha_Thai"}
    # One huge document: cut to the budget at a character boundary (a 3-byte character is not split).
    assert list(sample_records(iter([("c", "日本語テキスト")]), max_bytes=7, seed=0)) == [("c", "日本")]
    with pytest.raises(CorpusError, match="empty"):
        list(sample_records(iter([("a", "x" * 9), ("b", "y" * 9)]), max_bytes=10, seed=0, per_category=False))
    with pytest.raises(CorpusError, match="max_bytes"):
        stream_corpus("sample:python?seed=1")
    with pytest.raises(CorpusError, match="one category"):
        list(stream_corpus(f"x=flores:eng_Latn,tha_Thai?dir={flores_dir}").iter_documents())


def test_parallel_counts_equal_one_process(shared_data: Path, files):
    spec = f"flores:eng_Latn,zho_Hans,arb_Arab@dev+code:c,shell+{files['text']}"
    corpus, stream = load_corpus(spec), stream_corpus(spec)
    one = word_counts(corpus)
    # Small chunks so that several tasks run: byte ranges for the plain files, text batches else.
    from tokbench.trainers.counting import GPT2, count_words

    for source in (corpus, stream):
        table = count_words(source, GPT2, jobs=2, chunk_chars=200_000)
        assert table == one and list(table) == list(one)
    assert word_counts(stream) == one
    with pytest.raises(TokbenchError, match="jobs"):
        word_counts(corpus, jobs=0)


def test_parallel_bpe_merges_equal_hf_bpe_trainer(shared_data: Path):
    from test_trainers_bpe import file_merges, hf_train

    spec = f"flores:eng_Latn,rus_Cyrl,zho_Hans@devtest?dir={shared_data / 'flores200'}+code:python?max_bytes=300k"
    stream = stream_corpus(spec)   # the code part is sampled by the stream's own (seeded-hash) rule
    docs = list(stream.iter_documents())
    ours = train_bpe(stream, vocab_size=3000, progress=False, jobs=2)
    assert file_merges(json.loads(ours.to_hf_json())) == file_merges(hf_train(docs, 3000))
    assert ours.merges == train_bpe(docs, vocab_size=3000, progress=False).merges
    # A streamed training records its files by name, size and the sha256 of their bytes.
    eng = shared_data / "flores200" / "devtest" / "eng_Latn.devtest"
    assert ours.corpus["sources"][0] == {"kind": "lines-keep-blank", "category": "eng_Latn", "field": "text",
                                         "category_field": None, "file": eng.name, "bytes": eng.stat().st_size,
                                         "sha256": hashlib.sha256(eng.read_bytes()).hexdigest()}
    assert ours.corpus["samples"] == [[300_000, 0, True]]


def test_parallel_char_bpe_and_superword_merges_equal_one_process(shared_data: Path):
    docs = load_flores("eng_Latn,vie_Latn,kor_Hang", split="dev", flores_dir=shared_data / "flores200")
    one = train_char_bpe(docs, vocab_size=2500, normalization="NFKC", progress=False)
    two = train_char_bpe(docs, vocab_size=2500, normalization="NFKC", progress=False, jobs=2)
    assert one.merges == two.merges and one.n_word_types == two.n_word_types
    one = train_superword(docs, vocab_size=2000, progress=False)
    two = train_superword(stream_corpus(docs), vocab_size=2000, progress=False, jobs=2)
    assert one.merges == two.merges and one.options["stage1_merges"] == two.options["stage1_merges"]


def test_train_command_with_jobs_and_stream_writes_the_same_tokenizer(tmp_path, shared_data, capsys):
    from tokbench.cli.main import main

    spec = f"flores:eng_Latn,fra_Latn@dev?dir={shared_data / 'flores200'}"
    assert main(["train", "--corpus", spec, "--vocab-size", "1500", "-o", str(tmp_path / "a.json"),
                 "--no-progress"]) == 0
    assert main(["train", "--corpus", spec, "--vocab-size", "1500", "-o", str(tmp_path / "b.json"),
                 "--no-progress", "--jobs", "2", "--stream"]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    out = capsys.readouterr().out
    assert f"({load_corpus(spec).n_bytes():,} bytes" in out
    files = [shared_data / "flores200" / "dev" / f"{lang}.dev" for lang in ("eng_Latn", "fra_Latn")]
    assert f"streamed, {sum(f.stat().st_size for f in files):,} bytes of files" in out
    assert main(["train", "--corpus", spec, "--vocab-size", "1500", "-o", str(tmp_path / "c.json"),
                 "--trainer", "spm-bpe", "--jobs", "2"]) != 0
    assert "--jobs works with" in capsys.readouterr().err
    assert not (tmp_path / "c.json").exists()


# ------------------------------------------------------------------------------- memory cap

# Run in a child: cap the address space at what the imports use plus CAP bytes, then count.
# With jobs > 1 the workers start before the cap (their imports are not the corpus), so the cap
# bounds the process that reads ranges and merges the tables; each worker reads one range.
_CHILD = textwrap.dedent("""
    import json, resource, sys
    from tokbench.corpora import load_corpus, stream_corpus
    from tokbench.trainers.counting import GPT2, count_words
    import regex, tokbench.model.pretokenizers  # imports are not the corpus
    mode, path, jobs, cap = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    count_words(["warm up"], GPT2, jobs=jobs)   # start the workers before the cap
    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    base = status("VmSize")
    resource.setrlimit(resource.RLIMIT_AS, (base + cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    try:
        source = stream_corpus(path) if mode == "stream" else load_corpus(path)
        table = count_words(source, GPT2, jobs=jobs)
        out = {"ok": True, "pieces": sum(table.values()), "types": len(table)}
    except MemoryError:
        out = {"ok": False}
    print(json.dumps(out))
""")


def _big_file(path: Path, shared_data: Path, target_bytes: int) -> int:
    """Write ~``target_bytes`` of real text (FLORES dev of several languages, repeated)."""
    unit = "".join((shared_data / "flores200" / "dev" / f"{lang}.dev").read_text(encoding="utf-8")
                   for lang in ("eng_Latn", "fra_Latn", "deu_Latn", "spa_Latn")).encode()
    repeats = max(1, target_bytes // len(unit))
    with open(path, "wb") as handle:
        for _ in range(repeats):
            handle.write(unit)
    return repeats * len(unit)


def _child(mode: str, path: Path, jobs: int, cap: int) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, mode, str(path), str(jobs), str(cap)],
                          capture_output=True, text=True, check=True, cwd=REPO, timeout=900)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_streaming_count_stays_under_a_memory_cap(tmp_path, shared_data):
    path = tmp_path / "big.txt"
    size = _big_file(path, shared_data, 40_000_000)
    cap = size // 2
    streamed = _child("stream", path, 1, cap)
    assert streamed["ok"], f"a streaming count of {size:,} bytes needed more than {cap:,} bytes of memory"
    unit_types = len(word_counts(load_flores("eng_Latn,fra_Latn,deu_Latn,spa_Latn", split="dev",
                                             flores_dir=shared_data / "flores200")))
    assert streamed["types"] == unit_types and streamed["pieces"] > 5_000_000
    # The cap is real: loading the same file into memory (as load_corpus does) fails under it.
    assert not _child("load", path, 1, cap)["ok"]


@pytest.mark.slow
def test_streaming_parallel_count_of_200_mb_stays_under_a_memory_cap(tmp_path, shared_data):
    path = tmp_path / "big.txt"
    size = _big_file(path, shared_data, 200_000_000)
    one = _child("stream", path, 1, size // 10)
    two = _child("stream", path, 2, size // 10)
    assert one["ok"] and two["ok"], f"a streaming count of {size:,} bytes needed more than {size // 10:,}"
    assert one == two
