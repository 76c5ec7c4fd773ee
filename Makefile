# Watchfloor: `make run` runs the system on the local stack, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup lint typecheck unit integration stack-up stack-down bench clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Watchfloor needs Python 3.11, 3.12 or 3.13; e.g. make PYTHON=python3.12)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==25.3
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## setup: the Python environment plus every artifact the local stack needs (downloads once per machine).
setup: $(STAMP)
	$(BIN)/watchfloor stack fetch

## run: the whole system on the local stack with the bundled demo news (FEEDS=file for real feeds).
run: setup
	$(BIN)/watchfloor demo $(if $(FEEDS),--feeds $(FEEDS))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -m "not integration" tests/unit

integration: setup
	$(BIN)/pytest -m integration tests/integration

test: lint typecheck unit integration

stack-up: setup
	$(BIN)/watchfloor stack up

stack-down: $(STAMP)
	$(BIN)/watchfloor stack down

bench: setup
	$(BIN)/python -m bench.stack
	$(BIN)/python -m bench.smoke
	$(BIN)/python -m bench.pipeline
	$(BIN)/python -m bench.notify
	$(BIN)/python -m bench.cli

clean: stack-down
	rm -rf .state $(VENV)
