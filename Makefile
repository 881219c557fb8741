# SixBTC — the two commands of the quick start are `make run` and `make test`.
# Two install stamps, both pinned by requirements.lock: the runtime dependencies (enough for
# `make run`) and, on top of them, the dev extras (`make test`, `make lint`, `make install`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell cat requirements.lock pyproject.toml | sha1sum | cut -c1-12)
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(HASH)
DEV_STAMP     := $(VENV)/.installed-dev-$(HASH)
# The dashboard (web/): npm ci from the lockfile (npm registry only), then a Vite build into
# web/dist, which the API serves. Rebuilt when a source or the lockfile changes.
NPM_STAMP := web/node_modules/.ci-stamp
WEB_STAMP := web/.build-stamp
WEB_SRC   := $(shell find web/src -type f 2>/dev/null) web/index.html web/vite.config.ts web/tsconfig.json web/package.json
CHROMIUM  ?= /usr/bin/chromium

.PHONY: install install-runtime run test lint lock bench clean web chromium

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

$(NPM_STAMP): web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(WEB_STAMP): $(NPM_STAMP) $(WEB_SRC)
	cd web && npm run build
	@touch $@

web: $(WEB_STAMP)

# Debian's chromium for the Playwright tests (installed with apt when missing; without it those tests skip).
chromium:
	@test -x $(CHROMIUM) || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "warning: could not install chromium: the dashboard browser tests will skip"

run: $(RUNTIME_STAMP) $(WEB_STAMP)
	$(BIN)/sixbtc run --dashboard

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/lint-imports

test: lint $(WEB_STAMP) chromium
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^sixbtc' > requirements.lock.new
	@(echo "# Exact pins for Python 3.11 (runtime + dev). Regenerate: make lock"; cat requirements.lock.new) > requirements.lock
	@rm requirements.lock.new

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache web/node_modules web/dist $(WEB_STAMP)
