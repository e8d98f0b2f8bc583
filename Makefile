# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PIP     := $(BIN)/pip --disable-pip-version-check -q

.PHONY: demo test test-sdk-floor e2e bench bench-floor lint clean venv ts-deps sdk-shapes

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (nb_agents)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

## The TypeScript SDK (pinned in tests/ts/package-lock.json) for the conformance tests: they read
## its declared response shapes and drive the emulator through it. Without npm they are skipped.
TS_DIR   := tests/ts
TS_STAMP := $(TS_DIR)/node_modules/.installed
$(TS_STAMP): $(TS_DIR)/package.json $(TS_DIR)/package-lock.json
	cd $(TS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $(TS_STAMP)

ts-deps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(TS_STAMP); \
	else echo "npm not found: the TypeScript SDK tests will be skipped"; fi

## Regenerate nb_agents/emulator/sdk_shapes.json from the pinned TypeScript SDK (after bumping it).
sdk-shapes: $(TS_STAMP)
	cd $(TS_DIR) && node sdk_shapes.mjs > ../../nb_agents/emulator/sdk_shapes.json

## Run the demo notebooks on the built-in emulator; executed copies go to build/notebooks/.
demo: $(STAMP)
	$(BIN)/python tools/run_notebooks.py notebooks build/notebooks

## Run the whole test suite (unit, shell, widget, notebooks, the docs' examples) on the emulator.
test: $(STAMP) ts-deps
	$(BIN)/python -m pytest -p no:cacheprovider -m "not e2e" tests

## The oldest supported SDK (pyproject's floor): the emulator and unit tests again in .venv-floor,
## with the same constraints except the SDK.
FLOOR_SDK   := anthropic==2.10.0
FLOOR       := .venv-floor
FLOOR_STAMP := $(FLOOR)/.installed
$(FLOOR_STAMP): pyproject.toml constraints.txt Makefile
	test -x $(FLOOR)/bin/python || $(PY) -m venv $(FLOOR)
	$(FLOOR)/bin/pip --disable-pip-version-check -q install --upgrade pip
	grep -v '^anthropic==' constraints.txt > $(FLOOR)/constraints.txt
	echo '$(FLOOR_SDK)' >> $(FLOOR)/constraints.txt
	$(FLOOR)/bin/pip --disable-pip-version-check -q install -c $(FLOOR)/constraints.txt -e ".[dev]"
	touch $(FLOOR_STAMP)

test-sdk-floor: $(FLOOR_STAMP) ts-deps
	$(FLOOR)/bin/python -c 'import anthropic; assert anthropic.__version__ == "$(FLOOR_SDK)".split("==")[1], anthropic.__version__'
	$(FLOOR)/bin/python -m pytest -p no:cacheprovider -m "not e2e" tests/emulator tests/unit

## Real browser: JupyterLab + headless Chromium (installs chromium with apt when missing; never
## `playwright install`). Screenshots and the server log go to build/e2e/ (agent_cell.png; theme_*.png and
## nbconvert_*.png with their measured contrast figures in the .txt beside them).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
e2e: $(STAMP)
	test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver)
	$(PIP) install -c constraints.txt -e ".[dev,e2e]"
	NB_AGENTS_E2E_REQUIRED=1 $(BIN)/python -m pytest -p no:cacheprovider -m e2e tests/e2e

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## One benchmark: `make bench-first_cell`, `make bench-stream_overhead`, `make bench-upload`...
bench-%: $(STAMP)
	$(BIN)/python bench/run_all.py -k $*

## The SDK-sensitive benchmarks on the oldest supported SDK (.venv-floor); results in build/bench-floor/
bench-floor: $(FLOOR_STAMP)
	$(FLOOR)/bin/python bench/run_all.py -k stream_overhead -k first_cell --out build/bench-floor

## ruff, and the import contracts of pyproject.toml (layers, no cycles, the emulator's isolation)
lint: $(STAMP)
	$(BIN)/ruff check nb_agents tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(FLOOR) build agent_outputs $(TS_DIR)/node_modules
