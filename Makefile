# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck bench screenshots browser clean soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/dunning dev --demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q --durations=15

# 2,000 invoices on the dev server and PostgreSQL through worker kills and a database restart
# (`make test` runs the same soak at 150 invoices).
soak: install
	DUNNING_SOAK_INVOICES=2000 $(BIN)/pytest -q -m soak tests/soak -s

bench: install
	$(BIN)/python -m bench.lifecycle
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.inbox --postgres
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.simulate
	$(BIN)/python -m bench.scale

# The browser tests' needs: Debian's Chromium and axe-core from npm (never `playwright install`).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	test -d tests/browser/node_modules/axe-core || npm ci --prefix tests/browser --no-audit --no-fund

# Every page, photographed by the browser tests into docs/screenshots/.
screenshots: install browser
	DUNNING_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest -q tests/browser

clean:
	rm -rf $(VENV) .dunning .pytest_cache .mypy_cache .ruff_cache .hypothesis
