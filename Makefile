# The README's two commands, `make demo` and `make test`, and a few handy ones.
# Each creates .venv first and installs the pinned dependencies into it.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
# `make test-pg` works on its own database; pytest-django creates test_<name>.
PG_URL ?= postgres://postgres@127.0.0.1:5432/jindu
DEMO_ARGS ?=
PYTEST_ARGS ?= -q

.PHONY: demo test test-pg lint format browser bench clean

demo: $(VENV)/.runtime
	$(BIN)/jindu demo $(DEMO_ARGS)

# On SQLite, whatever JINDU_DATABASE_URL says; the browser tests have their own target.
test: $(VENV)/.dev
	JINDU_DATABASE_URL= $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

test-pg: $(VENV)/.dev
	JINDU_DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

browser: $(VENV)/.dev
	JINDU_DATABASE_URL= $(BIN)/pytest -m browser $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.runtime
	$(BIN)/python bench/demo_build.py

clean:
	rm -rf $(VENV) test-output .pytest_cache .ruff_cache

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11 or python3)" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "jindu needs Python 3.11 or newer; $(PYTHON) is older" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements.txt
	$(PIP) install --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PIP) install -r requirements-dev.txt
	touch $@
