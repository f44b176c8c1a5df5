# One command per task; CI calls the same ones.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs only what the app needs; the test, lint and bench tasks add the dev
# tools. Each lock has its own stamp, so one never skips the other's install.
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
UV := UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip compile -q pyproject.toml --generate-hashes --no-header

# The workspace's front-end packages (package.json) come from npm, checked against the
# integrity hashes in package-lock.json, and are copied into the Python package. The
# same install brings esbuild and typescript for the chat widget (widget/); esbuild's
# binary is an optional dependency package, so --ignore-scripts does not stop it.
VENDOR := src/threadline/web/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

.PHONY: run test check bench fuzz soak lock clean widget

$(VENDOR_STAMP): package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	touch $(VENDOR_STAMP)

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

$(DEV_STAMP): $(BIN)/python requirements-dev.lock pyproject.toml
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(DEV_STAMP)

run: $(STAMP) $(VENDOR_STAMP)  ## the demo on SQLite at http://127.0.0.1:8000
	$(BIN)/threadline demo

test: $(DEV_STAMP) $(VENDOR_STAMP)  ## the whole suite (SQLite and PostgreSQL; skips are named), then the browser tests
	$(BIN)/pytest
	$(BIN)/pytest tests/e2e

fuzz: $(DEV_STAMP)  ## the parser fuzz suite with a long budget (CI runs a short one in `make test`)
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/fuzz -q

check: $(DEV_STAMP) $(VENDOR_STAMP)  ## lint, format and types (the widget's TypeScript too)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	node_modules/.bin/tsc --noEmit -p widget

# widget.js is committed: the Python package ships it and needs no Node to install.
# tests/widget checks that it is a fresh build of widget/src.
widget: $(VENDOR_STAMP)  ## rebuild src/threadline/web/static/widget.js from widget/src
	node widget/build.mjs

bench: $(DEV_STAMP) $(VENDOR_STAMP)  ## ingest, webhook, timeline, hostile-load, realtime, workspace, widget, rules and triage benchmarks (prints the figures)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/timeline.py
	$(BIN)/python bench/hostile.py
	$(BIN)/python bench/realtime.py
	$(BIN)/python bench/ui.py
	$(BIN)/python bench/widget_bundle.py
	$(BIN)/python bench/widget.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/triage.py

soak: $(DEV_STAMP)  ## kill -9 the server 20+ times under load; every acknowledged message stored once
	$(BIN)/python bench/soak.py

# Both locks come from pyproject.toml alone. Each keeps the pins of the file it
# overwrites where they still fit; the dev lock is constrained to the runtime pins,
# so the two always agree.
lock: $(BIN)/python  ## regenerate requirements.lock (runtime) and requirements-dev.lock (+ dev)
	$(BIN)/pip install -q uv
	$(UV) -o requirements.lock
	$(UV) --extra dev --constraint requirements.lock -o requirements-dev.lock

clean:
	rm -rf $(VENV) node_modules $(VENDOR) threadline-demo.db* threadline-outbox
