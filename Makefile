# SixBTC — the two commands of the quick start are `make run` and `make test`.
# Two install stamps, both pinned by requirements.lock: the runtime dependencies (enough for
# `make run`) and, on top of them, the dev extras (`make test`, `make lint`, `make install`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(HASH)
DEV_STAMP     := $(VENV)/.installed-dev-$(HASH)

.PHONY: install install-runtime run test lint lock bench clean

install: $(DEV_STAMP)

install-runtime: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	@rm -f $(VENV)/.installed-runtime-*
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@rm -f $(VENV)/.installed-dev-*
	@touch $@

run: $(RUNTIME_STAMP)
	$(BIN)/sixbtc run

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^sixbtc' > requirements.lock.new
	@(echo "# Exact pins for Python 3.11 (runtime + dev). Regenerate: make lock"; cat requirements.lock.new) > requirements.lock
	@rm requirements.lock.new

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
