# The README's two set-up commands are `make run` and `make test`; each creates .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/baseline

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,dask]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/labecon run baseline --out $(OUT)
	@echo "Report: $(abspath $(OUT))/report.html"

test: $(STAMP)
	bash scripts/install-system-deps.sh  # Debian's chromium, for the report's browser test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest

# The benchmark suite (bench/suite.py, about 25 min; `make bench BENCH_ARGS=--quick` for a
# smoke run of a few minutes): squigglepy for the M1 peer, Dask for the scaling case.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench,dask]'
	$(BIN)/python bench/suite.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
