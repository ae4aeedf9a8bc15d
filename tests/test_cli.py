"""The ``tokbench`` command line, run in-process (``tokbench.cli.main.main``) and once as the
installed console script.

``info`` is checked on every shared tokenizer against numbers read from the files and the
reference libraries; ``encode`` against the reference library's ids; every user error must
give a non-zero exit and exactly one line on stderr starting with ``tokbench``, never a
traceback.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from shared_files import SHARED_TOKENIZERS as ALL

import tokbench
from tokbench.cli.main import main
from tokbench.formats import load_tokenizer


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, out: str, err: str) -> str:
    assert code != 0
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tokbench")
    assert "Traceback" not in err
    return lines[0]


def expected_info(path: Path) -> dict:
    """vocab_size, merges and fingerprint from the files and the reference libraries.

    Rank files: every token of two or more bytes is one merge (test_formats shows the
    recovered lists equal GPT-2's merges.txt and OLMo-2's cl100k merges), so merges = ranks -
    256. SentencePiece: one merge per piece that BPE can build (counted below).
    """
    files = [path / "vocab.json", path / "merges.txt"] if path.is_dir() else [path]
    fingerprint = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()
    if path.is_dir():
        from tokenizers import Tokenizer, models

        hf = Tokenizer(models.BPE.from_file(str(files[0]), str(files[1])))
        hf.add_special_tokens(["<|endoftext|>"])
        lines = files[1].read_text(encoding="utf-8").splitlines()
        merges = len([x for x in lines if x and not x.startswith("#version")])
        return {"vocab_size": hf.get_vocab_size(with_added_tokens=True), "merges": merges, "fingerprint": fingerprint}
    if path.suffix == ".tiktoken":
        from tiktoken.load import load_tiktoken_bpe

        from tokbench.model.patterns import PATTERNS

        ranks = load_tiktoken_bpe(str(path))
        specials = PATTERNS["cl100k" if path.name.startswith("cl100k") else "r50k"].special_tokens
        return {"vocab_size": max([*ranks.values(), *specials.values()]) + 1,
                "merges": len(ranks) - 256, "fingerprint": fingerprint}
    if path.suffix == ".model":
        import sentencepiece as spm

        sp = spm.SentencePieceProcessor(model_file=str(path))
        return {"vocab_size": sp.get_piece_size(), "merges": sentencepiece_reachable_pieces(sp),
                "fingerprint": fingerprint}
    # tokenizer.json: ids of the model vocabulary and the added tokens, dense from 0.
    data = json.loads(path.read_text(encoding="utf-8"))
    ids = {*data["model"]["vocab"].values(), *(a["id"] for a in data["added_tokens"])}
    assert ids == set(range(len(ids)))
    merges = data["model"].get("merges")
    return {"vocab_size": len(ids), "merges": None if merges is None else len(merges), "fingerprint": fingerprint}


def sentencepiece_reachable_pieces(sp) -> int:
    """Normal pieces of 2+ characters that SentencePiece BPE builds from their characters
    (merge the best-scored adjacent pair, leftmost on ties, until one piece remains)."""
    normal = [i for i in range(sp.get_piece_size())
              if not (sp.is_control(i) or sp.is_unknown(i) or sp.is_byte(i) or sp.is_unused(i))]
    score = {sp.id_to_piece(i): sp.get_score(i) for i in normal}
    count = 0
    for piece in score:
        symbols = list(piece)
        if len(symbols) < 2 or any(ch not in score for ch in symbols):
            continue
        while len(symbols) > 1:
            pairs = [(score[a + b], -k) for k, (a, b) in enumerate(zip(symbols, symbols[1:], strict=False)) if a + b in score]
            if not pairs:
                break
            k = -max(pairs)[1]
            symbols[k : k + 2] = [symbols[k] + symbols[k + 1]]
        count += symbols == [piece]
    return count


# ---------------------------------------------------------------------------------------- info


@pytest.fixture
def load_once(monkeypatch):
    """Let the CLI load each file for real once, then hand back the same Tokenizer (whose
    recovered merges are kept), so that a second command on the same file costs nothing."""
    import tokbench.formats

    real = tokbench.formats.load_tokenizer
    loaded: dict[tuple, tokbench.Tokenizer] = {}

    def load(path, **options):
        key = (str(path), tuple(sorted(options.items())))
        if key not in loaded:
            loaded[key] = real(path, **options)
        return loaded[key]

    monkeypatch.setattr(tokbench.formats, "load_tokenizer", load)
    return loaded


@pytest.mark.parametrize("name", ALL)
def test_info_text_and_json(capsys, load_once, tokenizer_dir: Path, name: str):
    path = tokenizer_dir / name
    want = expected_info(path)

    code, out, err = run(capsys, "info", path, "--json")
    assert len(load_once) == 1
    assert (code, err) == (0, "")
    info = json.loads(out)
    assert {k: info[k] for k in want} == want
    assert info["kind"] == ("wordpiece" if "wordpiece" in name else "bpe")
    assert info["reference_library"] in ("tokenizers", "tiktoken", "sentencepiece")

    code, out, err = run(capsys, "info", path)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert f"vocab size     {want['vocab_size']:,}" in lines
    merges = "none" if want["merges"] is None else f"{want['merges']:,}"
    assert f"merges         {merges}" in lines
    assert f"fingerprint    sha256:{want['fingerprint']}" in lines
    assert f"kind           {info['kind']}" in lines
    assert any(line.startswith("special tokens " + str(len(info["special_tokens"]))) for line in lines)


def test_info_of_a_rank_file_with_a_named_pattern(capsys, tokenizer_dir: Path, tmp_path: Path):
    path = tmp_path / "ranks.tiktoken"
    shutil.copy(tokenizer_dir / "r50k_base.tiktoken", path)
    code, out, err = run(capsys, "info", path, "--pattern", "r50k", "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["pattern_name"] == "r50k"


# -------------------------------------------------------------------------------------- encode


def test_encode_text(capsys, tokenizer_dir: Path):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    from tokbench.model.patterns import GPT2_PATTERN

    text = "Hello world, it's 2024!"
    ranks = load_tiktoken_bpe(str(tokenizer_dir / "r50k_base.tiktoken"))
    want = tiktoken.Encoding(name="gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens={}).encode_ordinary(text)
    code, out, err = run(capsys, "encode", tokenizer_dir / "gpt2", text)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"{len(want)} tokens, {len(text.encode())} bytes"
    assert lines[1].split()[1:] == [str(i) for i in want]


@pytest.mark.parametrize("name", ["cl100k_base.tiktoken", "mistral_v1.model", "bert-base-uncased_wordpiece_tokenizer.json"])
def test_encode_file_as_json(capsys, tokenizer_dir: Path, flores_dir: Path, tmp_path: Path, name: str):
    text = "\n".join(
        (flores_dir / "devtest" / f"{lang}.devtest").read_text(encoding="utf-8").splitlines()[3]
        for lang in ("eng_Latn", "zho_Hans", "hin_Deva", "arb_Arab", "kor_Hang")
    )
    source = tmp_path / "input.txt"
    source.write_text(text, encoding="utf-8")
    tok = load_tokenizer(tokenizer_dir / name)
    want = tok.encode(text)
    code, out, err = run(capsys, "encode", tokenizer_dir / name, "--file", source, "--json")
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert result["ids"] == want
    assert result["n_tokens"] == len(want) == len(result["tokens"])
    assert result["n_bytes"] == len(text.encode("utf-8"))
    assert result["fingerprint"] == hashlib.sha256((tokenizer_dir / name).read_bytes()).hexdigest()
    code, out, _ = run(capsys, "encode", tokenizer_dir / name, "--file", source, "--json", "--backend", "native")
    assert code == 0 and json.loads(out)["ids"] == want


def test_encode_ids_equal_tiktoken(capsys, tokenizer_dir: Path):
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    from tokbench.model.patterns import PATTERNS

    path = tokenizer_dir / "cl100k_base.tiktoken"
    text = "Größe: 12345 — naïve café 日本語"
    encoding = tiktoken.Encoding(name="cl100k", pat_str=PATTERNS["cl100k"].regex,
                                 mergeable_ranks=load_tiktoken_bpe(str(path)), special_tokens={})
    code, out, err = run(capsys, "encode", path, text, "--json")
    assert (code, err) == (0, "")
    assert json.loads(out)["ids"] == encoding.encode_ordinary(text)


# -------------------------------------------------------------------------------------- errors


def test_missing_tokenizer_file(capsys, tmp_path: Path):
    line = assert_one_line_error(*run(capsys, "info", tmp_path / "nope.json"))
    assert str(tmp_path / "nope.json") in line


def test_corrupt_tokenizer_file(capsys, tokenizer_dir: Path, tmp_path: Path):
    path = tmp_path / "tokenizer.json"
    path.write_bytes((tokenizer_dir / "llama_tokenizer.json").read_bytes()[:1000])
    for argv in (["info", path], ["encode", path, "hello"]):
        line = assert_one_line_error(*run(capsys, *argv))
        assert str(path) in line


def test_corrupt_sentencepiece_model(capsys, tokenizer_dir: Path, tmp_path: Path):
    path = tmp_path / "cut.model"
    path.write_bytes((tokenizer_dir / "mistral_v1.model").read_bytes()[:100])
    line = assert_one_line_error(*run(capsys, "encode", path, "hello"))
    assert str(path) in line


def test_encode_file_that_is_not_utf8(capsys, tokenizer_dir: Path, tmp_path: Path):
    source = tmp_path / "latin1.txt"
    source.write_bytes("café\n".encode("latin-1"))
    line = assert_one_line_error(*run(capsys, "encode", tokenizer_dir / "gpt2", "--file", source))
    assert str(source) in line and "UTF-8" in line


def test_encode_file_that_is_missing(capsys, tokenizer_dir: Path, tmp_path: Path):
    line = assert_one_line_error(*run(capsys, "encode", tokenizer_dir / "gpt2", "--file", tmp_path / "absent.txt"))
    assert str(tmp_path / "absent.txt") in line


def test_rank_file_without_a_pattern(capsys, tokenizer_dir: Path, tmp_path: Path):
    path = tmp_path / "ranks.tiktoken"
    shutil.copy(tokenizer_dir / "r50k_base.tiktoken", path)
    assert "pattern" in assert_one_line_error(*run(capsys, "info", path))
    assert "pattern" in assert_one_line_error(*run(capsys, "info", path, "--pattern", "r50k(("))


def test_encode_text_with_a_lone_surrogate(capsys, tokenizer_dir: Path):
    assert_one_line_error(*run(capsys, "encode", tokenizer_dir / "gpt2", "bad \ud800 text"))


def test_sentencepiece_model_cut_at_a_piece_boundary(capsys, tokenizer_dir: Path, tmp_path: Path):
    """Regression: such a file loaded, and sentencepiece's RuntimeError escaped as a traceback."""
    data = (tokenizer_dir / "mistral_v1.model").read_bytes()
    pos = 0
    for _ in range(200):  # skip 200 pieces: key 0x0a, then a varint length
        assert data[pos] == 0x0A
        pos += 1
        length = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            length |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        pos += length
    path = tmp_path / "cut.model"
    path.write_bytes(data[:pos])
    assert_one_line_error(*run(capsys, "encode", path, "hello"))


# ------------------------------------------------------------------------------ console script


def test_console_script_info(tokenizer_dir: Path):
    script = Path(sys.executable).with_name("tokbench")
    if not script.exists():
        pytest.skip(f"console script not installed beside {sys.executable}")
    path = tokenizer_dir / "gpt2"
    vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
    result = subprocess.run([str(script), "info", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert f"vocab size     {len(vocab):,}" in result.stdout.splitlines()


def test_python_dash_m_runs_the_cli(tmp_path: Path):
    import subprocess
    import sys

    ok = subprocess.run([sys.executable, "-m", "tokbench", "--help"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "attack" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "tokbench", "info", str(tmp_path / "missing.json")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and bad.stderr.strip()


def test_csv_text_round_trips_every_gpt2_token(tokenizer_dir) -> None:
    """Every CSV the CLI prints goes through csv_text: gpt2's vocabulary, control characters and
    a lone carriage return included, reads back equal (pandas leaves a lone "\\r" unquoted)."""
    import io

    import pandas as pd

    from tokbench.cli._common import csv_text
    from tokbench.formats import load_tokenizer

    vocab = load_tokenizer(tokenizer_dir / "gpt2").vocab
    frame = pd.DataFrame({"id": range(len(vocab)), "token": [v.decode("utf-8", "replace") for v in vocab]})
    assert "\r" in set(frame["token"])
    back = pd.read_csv(io.StringIO(csv_text(frame)), keep_default_na=False)
    assert back.equals(frame)
