# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOME_DIR ?= .comptroller
PORT ?= 8080

.PHONY: run test install dev lint fmt bench bench-gateway docs screenshots console-vendor clean

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

# The console's browser tests drive Debian's Chromium.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

dev: $(VENV)/.dev-installed $(CHROMIUM)

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

# The console tests again, over the full demo, saving every page as docs/screenshots/*.png.
screenshots: dev
	COMPTROLLER_SCREENSHOTS=docs/screenshots COMPTROLLER_E2E_SCALE=1 $(BIN)/python -m pytest tests/console -q

# Re-vendor the console's chart library from the npm registry (served from the package, no CDN).
CHARTJS_VERSION := 4.6.1
CONSOLE_VENDOR := src/comptroller/console/static/vendor
console-vendor:
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent chart.js@$(CHARTJS_VERSION) && tar xzf chart.js-$(CHARTJS_VERSION).tgz && \
	grep -v sourceMappingURL package/dist/chart.umd.min.js > $(CURDIR)/$(CONSOLE_VENDOR)/chart.umd.min.js && \
	cp package/LICENSE.md $(CURDIR)/$(CONSOLE_VENDOR)/chart.js-LICENSE.md && rm -rf $$tmp

bench: dev
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/spend_query.py

# LiteLLM lives in its own virtualenv so its pins never touch ours.
LITELLM_VENV := .bench/litellm-venv
$(LITELLM_VENV)/bin/litellm:
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/pip install --quiet 'litellm[proxy]'

bench-gateway: dev $(LITELLM_VENV)/bin/litellm
	$(BIN)/python bench/gateway.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache
