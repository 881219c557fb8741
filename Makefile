# SixBTC — the two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)

.PHONY: install run test lint lock bench clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[dev]"
	@rm -f $(VENV)/.installed-*
	@touch $@

run: install
	$(BIN)/sixbtc run

lint: install
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
