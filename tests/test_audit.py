"""`tokbench.audit` and `tokbench audit`/`demo`: frames, failed items, caching, safe output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tokbench.audit import ANALYSES, AuditResult, audit, available_analyses

CORPUS = "sample:eng_Latn,fra_Latn,rus_Cyrl,python"
HOSTILE = ['<script>window.__pwned=1</script>', '"><img/src=x/onerror=window.__pwned=2>']


def hostile_tokenizer_file(folder: Path) -> Path:
    """A small trained BPE whose vocabulary holds HTML/script payloads, in a file whose name is one."""
    from tokbench.corpora import load_sample
    from tokbench.trainers.bpe import train_bpe

    trained = train_bpe(load_sample("eng_Latn"), vocab_size=300, progress=False, name="tiny")
    data = json.loads(trained.to_hf_json())
    vocab = data["model"]["vocab"]
    for token in HOSTILE:
        vocab[token] = len(vocab)
    path = folder / 'evil<b>"name.json'
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def audited(tmp_path_factory) -> tuple[AuditResult, Path]:
    folder = tmp_path_factory.mktemp("audit")
    tok = hostile_tokenizer_file(folder)
    out = folder / "out"
    result = audit([tok, folder / "missing.json"], corpus=CORPUS, languages=["eng_Latn", "fra_Latn", "rus_Cyrl", "python", "xxx_Latn"],
                   out=out, n_bootstrap=50, progress=False)
    result.write(out)
    return result, out


def test_frames_and_failed_items(audited) -> None:
    result, out = audited
    frames = result.to_frames()
    assert {"tokenizers", "coverage", "compression", "premiums", "premiums_summary", "mergefree", "issues"} <= set(frames)
    assert list(frames["tokenizers"]["name"]) == ['evil<b>"name']
    assert set(frames["compression"]["category"]) == {"eng_Latn", "fra_Latn", "rus_Cyrl", "python"}
    assert set(frames["premiums"]["language"]) >= {"fra_Latn", "rus_Cyrl"}
    failed = dict(result.failures)
    assert any("missing.json" in k for k in failed) and "language xxx_Latn" in failed
    assert not result.ok
    assert set(result.analyses) == set(available_analyses())


def test_report_files_escaped_and_named_safely(audited) -> None:
    result, out = audited
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<script>window" not in html and "<img/src" not in html
    assert "Failed items" in html and "xxx_Latn" in html and "missing.json" in html
    assert "Analyses run: coverage, compression, premiums, mergefree" in html
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    for path in out.rglob("*"):  # every file stays inside out/, none named after the hostile name
        assert path.resolve().is_relative_to(out.resolve())
        assert "<" not in path.name and '"' not in path.name
    assert not list(out.rglob("*.tmp"))


def test_rerun_reuses_cache(audited) -> None:
    result, out = audited
    tok = next(out.parent.glob("evil*.json"))
    again = audit([tok], corpus=CORPUS, languages=["eng_Latn", "fra_Latn", "rus_Cyrl", "python"], out=out,
                  n_bootstrap=50, progress=False)
    assert again.cache_hits == sum(len(p) for p in result.parts.values())
    assert again.to_frames()["compression"].equals(result.to_frames()["compression"])


def test_unknown_analysis_lists_valid_names() -> None:
    from tokbench.errors import UnknownNameError

    with pytest.raises(UnknownNameError, match="coverage"):
        audit([], corpus="sample:eng_Latn", analyses=["nope"], progress=False)
    assert "mixture" in ANALYSES  # registered; runs only when tokbench.attacks.mixture provides audit_entry


def test_sanitised_names_of_tokenizer_objects(tmp_path) -> None:
    from tokbench.corpora import load_sample
    from tokbench.trainers.bpe import train_bpe

    tok = train_bpe(load_sample("eng_Latn"), vocab_size=280, progress=False).tokenizer
    tok.name = "../../escape"
    result = audit([tok], corpus="sample:eng_Latn,fra_Latn", analyses=["compression"], out=tmp_path / "o", progress=False)
    result.write(tmp_path / "o", pdf=False)
    assert not (tmp_path / "escape").exists()
    assert all(p.resolve().is_relative_to((tmp_path / "o").resolve()) for p in (tmp_path / "o").rglob("*"))


def _args(**kw) -> argparse.Namespace:
    from tokbench.cli import audit as cmd

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    argv = [str(t) for t in kw.pop("tokenizer")]
    for k, v in kw.items():
        argv += [f"--{k.replace('_', '-')}"] + ([] if v is True else [str(v)])
    return parser.parse_args(argv)


def test_audit_command_exit_status(tmp_path, capsys) -> None:
    from tokbench.cli import audit as cmd

    good = hostile_tokenizer_file(tmp_path)
    bad = tmp_path / "corrupt.json"
    bad.write_text("{not json", encoding="utf-8")
    out = tmp_path / "rep"
    status = cmd.run(_args(tokenizer=[good, bad], corpus="sample:eng_Latn,fra_Latn", out=out, analyses="coverage,compression",
                           quiet=True, no_pdf=True))
    assert status == 1
    assert "corrupt.json" in capsys.readouterr().err
    assert (out / "report.html").is_file() and not (out / "report.pdf").exists()
    status = cmd.run(_args(tokenizer=[good], corpus="sample:eng_Latn,fra_Latn", out=out, analyses="compression", quiet=True,
                           no_pdf=True))
    assert status == 0


def test_demo_without_shared_data(tmp_path, monkeypatch) -> None:
    """`tokbench demo` on a machine without ../shared: TOKBENCH_DATA points to an empty folder."""
    from tokbench.cli import demo

    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("TOKBENCH_DATA", str(empty))
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    out = tmp_path / "demo-report"
    args = parser.parse_args(["--out", str(out), "--corpus", "sample:eng_Latn,fra_Latn,hin_Deva,python", "--vocab-size", "700",
                              "--trainers", "bpe,char_bpe,superword,hybrid", "--bootstrap", "20", "--quiet"])
    assert demo.run(args) == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    for name in ("bpe-700", "char_bpe-700", "superword-700", "hybrid-700"):
        assert name in html
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")


def _frames_equal(a, b) -> None:
    fa, fb = a.to_frames(), b.to_frames()
    assert list(fa) == list(fb)
    for name in fa:
        if name == "issues":
            continue
        assert fa[name].to_csv(index=False) == fb[name].to_csv(index=False), name
        assert list(fa[name].dtypes) == list(fb[name].dtypes), name


def test_damaged_cache_entries_are_ignored_and_recomputed(tmp_path, tokenizer_dir) -> None:
    """A pickle, garbage, a truncated entry or an entry of another key planted in the audit
    cache is never trusted (nor executed): the step is recomputed, the result equals the first
    run's, and the entry is rewritten so the next run hits the cache again."""
    import pickle

    toks = [tokenizer_dir / "gpt2", tokenizer_dir / "bert-base-uncased_wordpiece_tokenizer.json"]
    kw = {"corpus": "sample:eng_Latn,fra_Latn,rus_Cyrl,python", "analyses": ["coverage", "compression", "premiums"],
          "out": tmp_path, "n_bootstrap": 20, "progress": False}
    first = audit(toks, **kw)
    assert first.cache_hits == 0 and not first.failures
    entries = sorted((tmp_path / ".cache" / "audit").glob("*.npz"))
    steps = sum(len(p) for p in first.parts.values())
    assert len(entries) == steps == 6
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(p.name for p in entries)

    cached = audit(toks, **kw)
    assert cached.cache_hits == steps
    _frames_equal(first, cached)

    class Boom:  # what a malicious pickle would run on load
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    foreign = entries[1].read_bytes()
    entries[0].write_bytes(pickle.dumps(Boom()))
    entries[1].write_bytes(b"not a cache entry at all")
    entries[2].write_bytes(entries[2].read_bytes()[:200])  # truncated mid-write
    entries[3].write_bytes(foreign)  # a valid entry stored under another key
    again = audit(toks, **kw)
    assert not (tmp_path / "pwned").exists()
    assert again.cache_hits == steps - 4 and not again.failures
    _frames_equal(first, again)
    assert audit(toks, **kw).cache_hits == steps  # the damaged entries were rewritten


def test_audit_result_is_plain_data_following_the_result_protocol(audited) -> None:
    from tokbench.results import Result, Signature

    result, _ = audited
    assert isinstance(result, Result) and isinstance(result.signature, Signature)
    assert all(isinstance(sig, Signature) for _, sig in result.signatures())
    assert result.titles["premiums"] == ANALYSES["premiums"].title
    assert result.explanations["coverage"] == ANALYSES["coverage"].explanation
    table = result.to_frame()
    assert set(table["status"]) >= {"ok", "failed"}
    assert "language xxx_Latn" in set(table[table["status"] == "failed"]["item"])
    assert all(note.split(" on ")[0] in result.analyses for note in result.notes)


def duplicated_rank_tiktoken(source: Path, folder: Path) -> Path:
    """A copy of a real .tiktoken file whose second entry takes the first entry's rank: it parses,
    but tiktoken's Rust core panics (``pyo3_runtime.PanicException``, a BaseException) on it."""
    lines = source.read_bytes().splitlines()
    first_rank = lines[0].split()[1]
    lines[1] = lines[1].split()[0] + b" " + first_rank
    path = folder / "r50k_duplicated_rank.tiktoken"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_a_tokenizer_whose_reference_would_panic_is_a_failed_item(tmp_path, tokenizer_dir, capsys) -> None:
    """A duplicated rank (tiktoken panics on it) is caught on load and recorded in one line next
    to the broken file; gpt2 is still audited, the report is written and the command exits 1."""
    from tokbench.cli import audit as cmd

    broken = duplicated_rank_tiktoken(tokenizer_dir / "r50k_base.tiktoken", tmp_path)
    out = tmp_path / "rep"
    status = cmd.run(_args(tokenizer=[broken, tokenizer_dir / "gpt2"], corpus="sample:eng_Latn,fra_Latn", out=out,
                           analyses="coverage,compression", quiet=True))
    assert status == 1
    err = capsys.readouterr().err
    assert f"FAILED tokenizer {broken}: " in err and "given to two tokens" in err
    issues = (out / "tables" / "issues.csv").read_text(encoding="utf-8")
    assert "r50k_duplicated_rank.tiktoken" in issues and "duplicate" in issues
    for table in ("compression", "coverage"):
        frame = pd_read(out / "tables" / f"{table}.csv")
        assert set(frame["tokenizer"]) == {"gpt2"} and len(frame) > 0
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "r50k_duplicated_rank" in html and "Failed items" in html


def test_an_analysis_raising_a_base_exception_is_a_failed_item(tmp_path, tokenizer_dir, monkeypatch) -> None:
    """Rust panics derive from BaseException, not Exception: one raised inside an analysis is a
    failed item of that analysis, the other analyses and the report survive."""
    import tokbench.metrics.compression as compression_module
    from tokbench.audit import audit

    class FakePanic(BaseException):
        pass

    def panics(*args, **kwargs):
        raise FakePanic("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(compression_module, "compression", panics)
    result = audit([tokenizer_dir / "gpt2"], corpus="sample:eng_Latn,fra_Latn", analyses=["coverage", "compression"],
                   progress=False)
    assert result.failures == [("compression on gpt2", "FakePanic: called `Option::unwrap()` on a `None` value")]
    assert "gpt2" in result.parts["coverage"]
    written = result.write(tmp_path / "rep")
    assert (tmp_path / "rep" / "report.html") in written


def pd_read(path: Path):
    import pandas as pd

    return pd.read_csv(path)


def test_an_analysis_raising_a_base_exception_is_recorded(monkeypatch, tmp_path) -> None:
    """Whatever an analysis raises becomes a failed item in one line, the other analyses' results
    stay; KeyboardInterrupt and SystemExit still stop the audit."""
    from tokbench.audit import registry

    class Panic(BaseException):  # what pyo3 raises on a Rust panic: not an Exception
        pass

    def broken(tok, corpus, options):
        raise Panic("the core gave up\nsecond line")

    real = ANALYSES["coverage"]
    monkeypatch.setitem(registry.ANALYSES, "coverage", replace_run(real, broken))
    result = audit([sample_tokenizer()], corpus="sample:eng_Latn", analyses=["coverage", "compression"],
                   progress=False)
    failed = dict(result.failures)
    assert failed[f"coverage on {result.tokenizers[0]['name']}"] == "Panic: the core gave up second line"
    assert list(result.parts["compression"]) == [result.tokenizers[0]["name"]]
    result.write(tmp_path, pdf=False)
    assert (tmp_path / "tables" / "compression.csv").is_file()
    for stop in (KeyboardInterrupt, SystemExit):
        def stopping(tok, corpus, options, stop=stop):
            raise stop()

        monkeypatch.setitem(registry.ANALYSES, "coverage", replace_run(real, stopping))
        with pytest.raises(stop):
            audit([sample_tokenizer()], corpus="sample:eng_Latn", analyses=["coverage"], progress=False)


def replace_run(analysis, adapter):
    """The registered analysis with its adapter swapped for ``adapter``."""
    import dataclasses

    class Swapped(type(analysis)):
        def load(self):
            return adapter

    return Swapped(**{f.name: getattr(analysis, f.name) for f in dataclasses.fields(analysis)})


def sample_tokenizer():
    from tokbench.corpora import load_sample
    from tokbench.trainers.bpe import train_bpe

    return train_bpe(load_sample("eng_Latn"), vocab_size=280, progress=False, name="small").tokenizer


def test_unknown_language_in_corpus_spec_is_a_failed_item(tmp_path, tokenizer_dir, capsys) -> None:
    """`--corpus flores:eng_Latn,xxx_Latn@devtest`: eng_Latn is audited, xxx_Latn is a failed item
    naming the closest valid codes, the report is written, exit 1; nothing valid left -> an error
    that quotes the reason."""
    from tokbench.cli import audit as cmd
    from tokbench.errors import CorpusError

    out = tmp_path / "rep"
    status = cmd.run(_args(tokenizer=[tokenizer_dir / "gpt2"], corpus="flores:eng_Latn,xxx_Latn@devtest", out=out,
                           analyses="compression", quiet=True, no_pdf=True))
    assert status == 1
    err = capsys.readouterr().err
    assert "FAILED language xxx_Latn" in err and "closest valid codes" in err
    assert set(pd_read(out / "tables" / "compression.csv")["category"]) == {"eng_Latn"}
    assert "xxx_Latn" in (out / "report.html").read_text(encoding="utf-8")
    with pytest.raises(CorpusError, match=r"xxx_Latn.*closest valid codes"):
        audit([tokenizer_dir / "gpt2"], corpus="flores:xxx_Latn@devtest", analyses=["compression"], progress=False)


def test_every_tokenizer_failed_still_writes_a_report_saying_so(tmp_path, tokenizer_dir, capsys) -> None:
    from tokbench.cli import audit as cmd

    broken = duplicated_rank_tiktoken(tokenizer_dir / "r50k_base.tiktoken", tmp_path)
    out = tmp_path / "rep"
    status = cmd.run(_args(tokenizer=[broken, tmp_path / "missing.json"], corpus="sample:eng_Latn,fra_Latn", out=out,
                           analyses="compression", quiet=True))
    assert status == 1
    assert "NOTHING WAS AUDITED" in capsys.readouterr().out
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "NOTHING WAS AUDITED" in html and "missing.json" in html and "r50k_duplicated_rank" in html
    assert list(pd_read(out / "tables" / "tokenizers.csv").columns)[:2] == ["name", "kind"]


def test_a_pdf_that_cannot_be_drawn_leaves_the_html_and_exits_1(tmp_path, tokenizer_dir, monkeypatch, capsys) -> None:
    from tokbench.cli import audit as cmd
    from tokbench.reports import pdf

    def broken_layout(report, handle):
        raise ZeroDivisionError("float division by zero")

    out = tmp_path / "rep"
    out.mkdir()
    (out / "report.pdf").write_bytes(b"%PDF from an earlier run")
    monkeypatch.setattr(pdf, "render_pdf", broken_layout)
    status = cmd.run(_args(tokenizer=[tokenizer_dir / "gpt2"], corpus="sample:eng_Latn", out=out,
                           analyses="compression", quiet=True))
    assert status == 1
    assert "FAILED report.pdf: ZeroDivisionError: float division by zero" in capsys.readouterr().err
    assert "gpt2" in (out / "report.html").read_text(encoding="utf-8") and not (out / "report.pdf").exists()
