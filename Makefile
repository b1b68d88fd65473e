# The two commands of the README: `make dev` runs the platform, `make test` runs the suite.
# Each installs what it needs (venv, pinned Python deps, npm ci for the router), idempotently.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
ROUTER := gateway/router
NODE_STAMP := $(ROUTER)/node_modules/.installed
SYSTEM_STAMP := .data/.system-deps

.PHONY: dev test bench lint deps system-deps bench-deps lock clean

deps: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip>=24"
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

$(NODE_STAMP): $(ROUTER)/package.json $(ROUTER)/package-lock.json
	cd $(ROUTER) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Test-only system packages: Chromium (GraphiQL check), PostgreSQL 15 (throwaway clusters) and
# poppler-utils (pdftoppm/pdftotext read the analytics reports back).
system-deps: $(SYSTEM_STAMP)

$(SYSTEM_STAMP):
	@if ! command -v chromium >/dev/null || ! command -v pdftoppm >/dev/null || ! (command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1); then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql poppler-utils >/dev/null; \
		else echo "install chromium, postgresql and poppler-utils (apt-get install chromium postgresql poppler-utils)"; exit 1; fi; \
	fi
	@mkdir -p $(dir $@) && touch $@

# The benchmarks' load generator: wrk (C, one thread), so the generator is not the bottleneck.
bench-deps:
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else echo "install wrk (apt-get install wrk)"; exit 1; fi; }

dev: deps
	$(VENV)/bin/spotify-agent dev

test: deps system-deps
	$(PY) -m pytest -m "" -p no:cacheprovider --durations=15

bench: deps system-deps bench-deps
	$(PY) -m tests.bench

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared subgraphs gateway tests

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) $(ROUTER)/node_modules .data
