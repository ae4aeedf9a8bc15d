"""The trainers experiment (`tokbench trainers-experiment`, behind `make exp-trainers`; the
experiment itself is tokbench.experiments.trainers_comparison): every family trained on FLORES
dev + even code documents, bytes/token measured on held-out text."""

from __future__ import annotations

import csv
from pathlib import Path

from tokbench.cli.main import main


def test_trainers_experiment_writes_one_row_per_trainer_size_and_category(tmp_path: Path, flores_dir: Path, capsys,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("TOKBENCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "bpt.csv"
    code = main(["trainers-experiment", "--languages", "eng_Latn,rus_Cyrl", "--code", "python",
                 "--trainers", "bpe,hybrid", "--vocab-sizes", "600,1200", "--out", str(out),
                 "--no-progress", "--jobs", "2"])
    assert code == 0
    assert "signature: tok=bpe@600@" in capsys.readouterr().out
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 2 * 2 * 3  # trainers x sizes x (2 languages + python)
    assert {r["trainer"] for r in rows} == {"bpe", "hybrid"}
    for r in rows:
        assert int(r["tokens"]) > 0
        assert abs(float(r["bytes_per_token"]) - int(r["bytes"]) / int(r["tokens"])) < 1e-3
    bpe = {(r["category"], int(r["vocab_size"])): float(r["bytes_per_token"]) for r in rows if r["trainer"] == "bpe"}
    # A larger byte-level BPE vocabulary compresses held-out text at least as well.
    for category in ("eng_Latn", "rus_Cyrl", "code:python"):
        assert bpe[(category, 1200)] >= bpe[(category, 600)]


def test_trainers_experiment_rejects_unknown_trainer(tmp_path: Path, capsys) -> None:
    assert main(["trainers-experiment", "--trainers", "nope", "--out", str(tmp_path / "x.csv")]) == 2
    assert "valid names" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()
