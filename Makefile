# One command per task; CI calls the same ones.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check bench fuzz lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

run: $(STAMP)  ## the demo on SQLite at http://127.0.0.1:8000
	$(BIN)/threadline demo

test: $(STAMP)  ## the whole suite (SQLite and PostgreSQL; skips are named)
	$(BIN)/pytest

fuzz: $(STAMP)  ## the parser fuzz suite with a long budget (CI runs a short one in `make test`)
	HYPOTHESIS_PROFILE=long $(BIN)/pytest tests/fuzz -q

check: $(STAMP)  ## lint, format and types
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

bench: $(STAMP)  ## ingest, webhook and timeline benchmarks (prints the figures)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/timeline.py

lock:  ## regenerate requirements.lock from pyproject.toml
	$(BIN)/pip install -q uv
	UV_PYTHON_DOWNLOADS=never $(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --no-header -o requirements.lock

clean:
	rm -rf $(VENV) threadline-demo.db* threadline-outbox
