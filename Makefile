# Everything runs from a local virtual environment made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lint typecheck layers unit test demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports --no-cache

unit: install
	$(BIN)/pytest

test: lint typecheck layers unit

demo: install
	$(BIN)/aislecast demo

bench: install
	$(BIN)/python benchmarks/positioning_ilc.py

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache
