"""File helpers: atomic writes and CSV rows (tokbench._io)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tokbench._io import atomic_write, write_csv_rows


def test_write_csv_rows_unions_columns_and_blanks_missing(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "rows.csv"
    write_csv_rows(out, [{"a": 1, "b": None}, {"a": 2, "c": "x"}])
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows == [{"a": "1", "b": "", "c": ""}, {"a": "2", "b": "", "c": "x"}]
    write_csv_rows(out, [{"a": 3, "c": 4}], fieldnames=["c", "a"])
    assert out.read_text(encoding="utf-8") == "c,a\n4,3\n"


def test_a_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    out = tmp_path / "rows.csv"
    out.write_text("old\n", encoding="utf-8")
    with pytest.raises(ValueError):  # a row with a key outside the given columns
        write_csv_rows(out, [{"a": 1, "zzz": 2}], fieldnames=["a"])
    with pytest.raises(RuntimeError), atomic_write(out) as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]
