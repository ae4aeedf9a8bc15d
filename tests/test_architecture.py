"""The package's shape stays as DESIGN.md draws it: import contracts, module and function size,
no private names across modules, no pickle, and the top-level facade stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tokbench"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_import_contracts_hold():
    """`lint-imports` checks the layer contracts in pyproject.toml (import-linter)."""
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    run = subprocess.run([str(linter), "--no-cache"], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_modules_and_functions_stay_small():
    """DESIGN.md convention 13: no module over 600 lines, no function over 100."""
    too_long_modules, too_long_functions = [], []
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > 600:
            too_long_modules.append(f"{path.relative_to(PACKAGE)}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > 100:
                    too_long_functions.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({length})")
    assert not too_long_modules, too_long_modules
    assert not too_long_functions, too_long_functions


def _private_import(path: Path, node: ast.ImportFrom, name: str) -> bool:
    """True when ``from X import name`` takes a private name from another module, or a private
    module from outside the package that holds it.

    A private module is its package's business: ``_kernels.py`` serves the modules beside it, and
    ``tokbench/_io.py`` or ``tokbench/_numba/`` serve all of tokbench. A private function, class or
    constant belongs to its own module only.
    """
    base = path.parent
    for _ in range(node.level - 1):
        base = base.parent
    parts = node.module.split(".") if node.module else []
    here = path.resolve()
    for depth, part in enumerate(parts):
        owner = base.joinpath(*parts[:depth]).resolve()  # the package holding the private module
        if part.startswith("_") and not part.startswith("__") and owner not in here.parents:
            return True
    if not name.startswith("_") or name.startswith("__"):
        return False
    target = base.joinpath(*parts)
    is_module = (target / f"{name}.py").is_file() or (target / name / "__init__.py").is_file()
    return not (is_module and target.resolve() in here.parents)


def test_no_private_name_is_imported_across_modules():
    """A leading underscore means "this module's own"; sharing it makes it public by another name."""
    offenders = []
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                offenders += [f"{path.relative_to(PACKAGE)}: from {'.' * node.level}{node.module or ''} import {a.name}"
                              for a in node.names if _private_import(path, node, a.name)]
    assert not offenders, offenders


def test_nothing_executes_what_it_reads():
    """Convention 11: caches and outputs are JSON, CSV, Parquet or .npz (NumPy's loader refuses
    object arrays by default); the word for Python's object serialiser appears nowhere."""
    word = "pick" + "le"
    offenders = [f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
                 for path in MODULES
                 for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if word in line]
    assert not offenders, offenders


def test_import_tokbench_stays_light():
    """Convention 7: heavy libraries load on first use, not on ``import tokbench``."""
    code = ("import sys, tokbench; heavy = [m for m in ('numpy', 'pandas', 'numba', 'matplotlib', "
            "'tokenizers', 'scipy', 'tokbench.audit') if m in sys.modules]; print(','.join(heavy))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == ""


def test_public_audit_entry_point_is_callable_after_the_package_loads():
    """``tokbench.audit(...)`` stays a function call even once ``tokbench.audit`` (the package) is imported."""
    import tokbench
    import tokbench.audit  # noqa: F401  (binds the package to the name)

    assert callable(tokbench.audit)
