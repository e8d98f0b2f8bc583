# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PIP     := $(BIN)/pip --disable-pip-version-check -q

.PHONY: demo test e2e bench lint clean venv

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3 (nb_agents)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

## Run the demo notebooks on the built-in emulator; executed copies go to build/notebooks/.
demo: $(STAMP)
	$(BIN)/python tools/run_notebooks.py notebooks build/notebooks

## Run the whole test suite (unit, shell, widget, notebooks) on the emulator.
test: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -m "not e2e" tests

## Real browser: JupyterLab + headless Chromium (installs chromium with apt when missing; never
## `playwright install`). Screenshots and the server log go to build/e2e/ (agent_cell.png).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
e2e: $(STAMP)
	test -x /usr/bin/chromium || ($(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver)
	$(PIP) install -c constraints.txt -e ".[dev,e2e]"
	NB_AGENTS_E2E_REQUIRED=1 $(BIN)/python -m pytest -p no:cacheprovider -m e2e tests/e2e

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

## ruff, and the import contracts of pyproject.toml (layers, no cycles, the emulator's isolation)
lint: $(STAMP)
	$(BIN)/ruff check nb_agents tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) build agent_outputs
