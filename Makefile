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
	$(BIN)/python -m nb_agents.demo notebooks build/notebooks

## Run the whole test suite (unit, shell, widget, notebooks) on the emulator.
test: $(STAMP)
	$(BIN)/python -m pytest -p no:cacheprovider -m "not e2e" tests

## Real browser: JupyterLab + headless Chromium (installs chromium with apt when missing).
e2e: $(STAMP)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium chromium-driver)
	$(PIP) install -c constraints.txt -e ".[dev,e2e]"
	$(BIN)/python -m pytest -p no:cacheprovider -m e2e tests/e2e

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

lint: $(STAMP)
	$(BIN)/ruff check nb_agents tests bench

clean:
	rm -rf $(VENV) build agent_outputs
