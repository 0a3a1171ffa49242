# The two commands a newcomer needs (README): `make report` and `make test`.
# Both create .venv with the machine's python3.11 if it is missing and install the project into it.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: report test test-fast lab lint bench clean-cache install

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --upgrade pip >/dev/null
	$(BIN)/pip install -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

report: $(STAMP)
	$(BIN)/python -m compare build

test: $(STAMP)
	$(BIN)/python -m pytest -q

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py --reports 30 --json

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

clean-cache: $(STAMP)
	$(BIN)/python -c "import shutil, compare.config as c; shutil.rmtree(c.CACHE_DIR, ignore_errors=True); print('removed', c.CACHE_DIR)"
