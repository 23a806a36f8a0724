# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= .comptroller
PORT ?= 8080

.PHONY: run test install dev lint fmt bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

run: install
	COMPTROLLER_HOME=$(HOME_DIR) $(BIN)/comptroller demo --if-empty
	COMPTROLLER_HOME=$(HOME_DIR) $(BIN)/comptroller serve --host 127.0.0.1 --port $(PORT)

test: dev
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

fmt: dev
	$(BIN)/ruff format src tests $(wildcard bench)
	$(BIN)/ruff check --fix src tests $(wildcard bench)

docs: dev
	$(BIN)/python -m typer comptroller.cli.main utils docs --name comptroller --output docs/cli.md

bench: dev
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/spend_query.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache
