"""Every ```sh and ```python block of README.md runs as written, so an example cannot break silently.

Blocks run in a fresh working copy (README, LICENSE and scripts/ copied into ``repo/``) with the
real data at ``../shared/data`` beside it, exactly the layout the README's paths assume. Shell
blocks run line by line under ``bash -e`` with the venv's ``tokbench`` and ``python`` first on
PATH; Python blocks are ``exec``-ed in a fresh namespace. A block preceded by
``<!-- readme-test: skip (reason) -->`` is reported as skipped with that reason (make targets,
synopses with placeholders); ``<!-- readme-test: slow -->`` marks blocks that take over ~30 s.

Example:
    $ .venv/bin/python -m pytest -q -m "not slow" tests/test_readme.py -rs   # -rs lists the skips
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
#: An optional marker comment right before a fence, then the fenced block itself.
_BLOCK = re.compile(
    r"(?:<!-- readme-test: (?P<mark>skip|slow)(?: \((?P<reason>[^)]*)\))? -->\n)?"
    r"^```(?P<lang>sh|python)\n(?P<body>.*?)^```$",
    re.S | re.M,
)


@dataclass(frozen=True)
class Block:
    """One fenced example: first body line, language, text and its ``readme-test`` marker."""

    line: int
    lang: str
    body: str
    mark: str | None
    reason: str | None


def readme_blocks(text: str) -> list[Block]:
    """The README's sh and python blocks with their markers and 1-based line numbers."""
    return [Block(text.count("\n", 0, m.start("body")) + 1, m["lang"], m["body"], m["mark"], m["reason"])
            for m in _BLOCK.finditer(text)]


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))


def _param(block: Block):
    marks = []
    if block.mark == "skip":
        marks.append(pytest.mark.skip(reason=f"README.md:{block.line}: {block.reason}"))
    elif block.mark == "slow":
        marks.append(pytest.mark.slow)
    return pytest.param(block, id=f"line{block.line}-{block.lang}", marks=marks)


@pytest.fixture
def workspace(shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp/repo`` (the README's working directory) beside ``tmp/shared/data`` -> the real data."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("README.md", "LICENSE"):
        shutil.copy(ROOT / name, repo / name)
    # Copied, not linked: scripts locate results/ from their own path, which must stay in tmp.
    shutil.copytree(ROOT / "scripts", repo / "scripts")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(shared_data, target_is_directory=True)
    monkeypatch.setenv("TOKBENCH_DATA", str(tmp_path / "shared" / "data"))
    monkeypatch.setenv("TOKBENCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(repo)
    return repo


def test_readme_blocks_are_all_accounted_for() -> None:
    # A skip must say why, and most examples must actually run: skipping is the exception.
    skipped = [b for b in BLOCKS if b.mark == "skip"]
    ran = [b for b in BLOCKS if b.mark != "skip"]
    print(f"README.md: {len(ran)} blocks run ({sum(b.mark == 'slow' for b in ran)} slow), {len(skipped)} skipped")
    assert {b.lang for b in ran} == {"sh", "python"}
    assert all(b.reason for b in skipped), [b.line for b in skipped if not b.reason]
    assert len(ran) > len(skipped)
    text = README.read_text(encoding="utf-8")
    assert text.count("<!-- readme-test:") == sum(b.mark is not None for b in BLOCKS), "marker not before a block"


@pytest.mark.parametrize("block", [_param(b) for b in BLOCKS])
def test_readme_block_runs(block: Block, workspace: Path) -> None:
    if block.lang == "python":
        exec(compile(block.body, f"README.md:{block.line}", "exec"), {"__name__": "__readme__"})
        return
    done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.body], cwd=workspace,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"README.md:{block.line} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def test_superword_error_names_cli_flags(workspace: Path) -> None:
    # The README's superword example at FLORES dev size runs out of pairs; the CLI must then name
    # its own flags, not the trainer's Python keywords.
    done = subprocess.run(["tokbench", "train", "--trainer", "superword", "--transition", "0.8",
                           "--corpus", "flores:vie_Latn@dev", "--vocab-size", "8000", "-o", "sw.json",
                           "--no-progress"], cwd=workspace, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "--allow-smaller" in done.stderr and "--transition" in done.stderr
    assert "allow_smaller=True" not in done.stderr
    assert not (workspace / "sw.json").exists()
