# Setup is part of each target: `make tui` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SST2   := $(abspath ../shared/data/sst2)
# The CPU build of torch (a multi-GB CUDA build is pulled by an unpinned `torch`).
TORCH  ?= torch==2.13.0
# Pictures must not depend on float bits: the TUI tests also run with one BLAS/OpenMP thread.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

.PHONY: tui test test-tui-1thread check wheel-smoke bench install clean

$(BIN)/bertsent: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev,ray]'
	touch $@

install: $(BIN)/bertsent

tui: install
	@if [ -z "$$BERTSENT_DATA" ] && [ -d "$(SST2)" ]; then export BERTSENT_DATA="$(SST2)"; fi; \
	$(BIN)/bertsent-tui

test: install
	$(BIN)/python -m pytest -q

test-tui-1thread: install
	$(ONE_THREAD) $(BIN)/python -m pytest -q tests/tui

# Lint, format and the import contracts (core headless, the scripts CLI free of Textual).
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Build the wheel, install it in a fresh venv outside the checkout and use it from an empty folder.
wheel-smoke: install
	TORCH='$(TORCH)' PYTHON=$(PYTHON) bash .ci/wheel-smoke "$(SST2)"

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
