"""The bad-input matrix (issue 14): every CLI case and Python API call of ``tests/bad_input/cases.py``
must come out ``clean`` (see ``tests/bad_input/run.py`` for what that means): a one-line error
with the exit status due and no file written or changed, or, for the valid runs, the right output
(pure CSV, the value given used, the warning or note due). Fast cases run here in one process;
the ones that need an audit, a signal or a FIFO are marked slow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bad_input.cases import API_CASES, CLI_CASES
from bad_input.run import OUTCOMES, classify, run_api_case, run_case


def _params(cases):  # type: ignore[no-untyped-def]
    return [pytest.param(c, id=c.id, marks=[pytest.mark.slow] if c.slow else []) for c in cases]


def test_the_matrix_is_broad_and_its_ids_unique() -> None:
    ids = [c.id for c in CLI_CASES] + [c.id for c in API_CASES]
    assert len(ids) == len(set(ids))
    assert len(CLI_CASES) >= 120
    commands = {c.argv[0] for c in CLI_CASES if c.argv}
    from tokbench.cli.main import COMMANDS

    assert set(COMMANDS) <= commands, f"subcommands without a case: {set(COMMANDS) - commands}"


@pytest.mark.parametrize("case", _params(CLI_CASES))
def test_cli_case(case, tmp_path: Path, shared_data: Path) -> None:
    result = run_case(case, tmp_path)
    assert result.outcome == "clean", f"{case.id}: {result.outcome}: {result.detail}"


@pytest.fixture(scope="module")
def gpt2(shared_data: Path):  # type: ignore[no-untyped-def]
    from tokbench.formats import load_tokenizer

    return load_tokenizer(shared_data / "tokenizers" / "gpt2")


@pytest.mark.parametrize("case", _params(API_CASES))
def test_api_case(case, tmp_path: Path, gpt2) -> None:  # type: ignore[no-untyped-def]
    result = run_api_case(case, tmp_path, gpt2)
    assert result.outcome == "clean", f"{case.id}: {result.outcome}: {result.detail}"


def test_the_classifier_tells_the_outcomes_apart(tmp_path: Path) -> None:
    """The runner's own judgement, on made-up runs: a wrong verdict would hide real findings."""
    from bad_input.cases import Case

    error = Case("x", ("info",))
    ok = Case("y", ("info",), expect=0)
    same: dict = {}
    line = "tokbench info: error: x.json: no such file (check the path)\n"
    assert classify(error, 2, "", line, False, same, same, tmp_path)[0] == "clean"
    usage = "usage: tokbench info [-h]\n              TOKENIZER\ntokbench info: error: the following ...\n"
    assert classify(error, 2, "", usage, False, same, same, tmp_path)[0] == "clean"
    assert classify(error, None, "", "Traceback (most recent call last):\nKeyError: 1\n", False, same, same,
                    tmp_path)[0] == "traceback"
    assert classify(error, 0, "42 tokens", "", False, same, same, tmp_path)[0] == "wrong"
    assert classify(error, 2, "", line, False, same, {"out.csv": (3, 1)}, tmp_path)[0] == "wrong"
    assert classify(error, 2, "", "Retrying in 8s\n" * 3 + line, False, same, same, tmp_path)[0] == "noisy"
    assert classify(error, None, "", "", True, same, same, tmp_path)[0] == "hang"
    late = Case("z", ("coverage",), within=5.0)
    assert classify(late, 2, "", line, False, same, same, tmp_path, 0.3)[0] == "clean"
    assert classify(late, 2, "", line, False, same, same, tmp_path, 25.0)[0] == "wrong"
    assert classify(ok, 2, "", line, False, same, same, tmp_path)[0] == "wrong"
    assert classify(ok, 0, "", "", False, same, {".o.json.x1.tmp": (1, 1)}, tmp_path)[0] == "wrong"
    assert set(OUTCOMES) == {"clean", "traceback", "wrong", "noisy", "hang"}
