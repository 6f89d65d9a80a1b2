# Everything runs from a local virtual environment made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install lint typecheck layers unit test demo bench clean admin chromium screenshots

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: install admin
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd $(ADMIN) && npm run --silent format:check

typecheck: install
	$(BIN)/mypy

layers: install
	$(BIN)/lint-imports --no-cache

unit: install admin chromium
	cd $(ADMIN) && npm test --silent
	$(BIN)/pytest

test: lint typecheck layers unit

demo: install admin
	$(BIN)/aislecast demo-live $(DEMO_ARGS)

bench: install admin chromium
	$(BIN)/python benchmarks/positioning_ilc.py
	$(BIN)/python benchmarks/admin_live_layer.py

clean:
	rm -rf $(VENV) build .mypy_cache .pytest_cache .ruff_cache $(ADMIN)/dist $(ADMIN)/node_modules

# The admin page and signage player (server/admin): rebuilt from the lock file when a source changes.
# The stamp lives inside dist/, so deleting dist/ also forces a rebuild.
ADMIN := server/admin
ADMIN_STAMP := $(ADMIN)/dist/.build-stamp
ADMIN_SOURCES := $(ADMIN)/package.json $(ADMIN)/package-lock.json $(ADMIN)/vite.config.js \
	$(ADMIN)/index.html $(ADMIN)/screen.html $(shell find $(ADMIN)/src -type f 2>/dev/null)

$(ADMIN_STAMP): $(ADMIN_SOURCES)
	cd $(ADMIN) && npm ci --no-audit --no-fund && npm run build
	touch $@

admin: $(ADMIN_STAMP)

# Browser tests drive Debian's Chromium; never a downloaded browser.
CHROMIUM := /usr/bin/chromium

$(CHROMIUM):
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

chromium: $(CHROMIUM)

# Refreshes the pictures in docs/admin.md from the browser tests (1366×768, one tablet view).
screenshots: install admin chromium
	mkdir -p docs/img
	AISLECAST_SCREENSHOTS=docs/img $(BIN)/pytest tests/admin -q
