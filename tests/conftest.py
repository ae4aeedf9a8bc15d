"""Shared fixtures: the real-data folder (``$TOKBENCH_DATA`` or ``../shared/data``).

Tests that need real data take the ``shared_data`` fixture and skip, with the reason, when the
folder is absent; CI always has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tokbench._io import shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("real data not found: set TOKBENCH_DATA or put shared/data beside the repo")
    return path


@pytest.fixture(scope="session")
def tokenizer_dir(shared_data: Path) -> Path:
    return shared_data / "tokenizers"


@pytest.fixture(scope="session")
def flores_dir(shared_data: Path) -> Path:
    return shared_data / "flores200"


@pytest.fixture(scope="session")
def code_dir(shared_data: Path) -> Path:
    return shared_data / "code"
