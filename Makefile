# tokbench experiment and development targets. Every target creates .venv with the machine's
# python3 when it is missing and installs the package; experiment targets only call the CLI.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOKBENCH := $(VENV)/bin/tokbench
STAMP := $(VENV)/.installed-stamp
PYTEST_FLAGS ?= -q

.PHONY: venv test test-all demo lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

test: venv
	$(PY) -m pytest -m "not slow" $(PYTEST_FLAGS)

test-all: venv
	$(PY) -m pytest $(PYTEST_FLAGS)

demo: venv
	$(TOKBENCH) demo --out demo-report

lint: venv
	$(VENV)/bin/ruff check tokbench tests benchmarks

bench: venv
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf demo-report .pytest_cache build *.egg-info
