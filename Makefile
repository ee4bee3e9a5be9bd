# Setup is part of each target: `make tui` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SST2   := $(abspath ../shared/data/sst2)
# The CPU build of torch (a multi-GB CUDA build is pulled by an unpinned `torch`).
TORCH  ?= torch==2.13.0
# Pictures must not depend on float bits: the TUI tests also run with one BLAS/OpenMP thread.
ONE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# The versions every install uses (make, CI, the wheel smoke test): `make lock` refreshes them.
CONSTRAINTS := constraints.txt

.PHONY: tui test test-accuracy test-tui-1thread check typecheck wheel-smoke docs bench install lock clean

$(BIN)/bertsent: pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c $(CONSTRAINTS) $(TORCH)
	$(BIN)/pip install -q -c $(CONSTRAINTS) -e '.[dev,ray,docs]'
	touch $@

install: $(BIN)/bertsent

# The newest versions pyproject.toml allows, installed and written to constraints.txt (torch stays
# at TORCH). Run the tests before committing the new file.
lock: install
	$(BIN)/pip install -q --upgrade --upgrade-strategy eager '$(TORCH)' -e '.[dev,ray,docs]'
	$(BIN)/python .ci/lock.py > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)

tui: install
	@if [ -z "$$BERTSENT_DATA" ] && [ -d "$(SST2)" ]; then export BERTSENT_DATA="$(SST2)"; fi; \
	$(BIN)/bertsent-tui

# The suite, a pytest-xdist worker per core (at most 4; a module's tests stay on one worker, so a
# module's Ray cluster starts once); the accuracy group (the real SST2 and SST-5 splits, trained in
# full) runs on its own.
test: install
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadscope -m "not accuracy"

test-accuracy: install
	$(BIN)/python -m pytest -q -m accuracy

test-tui-1thread: install
	$(ONE_THREAD) $(BIN)/python -m pytest -q tests/tui

# Lint, format, the import contracts (core headless, the scripts CLI free of Textual, the front
# ends calling jobs) and the type checker on core.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(MAKE) typecheck

# mypy reads core as installed (bertsent.core), which the checkout maps from core/: a link tree
# under build/ gives it that view.
TYPES := build/typecheck
typecheck: install
	mkdir -p $(TYPES)/bertsent && ln -sfn $(CURDIR)/core $(TYPES)/bertsent/core
	cd $(TYPES) && $(abspath $(BIN))/mypy -p bertsent.core --config-file $(CURDIR)/pyproject.toml \
		--python-executable $(abspath $(BIN))/python

# Build the wheel, install it in a fresh venv outside the checkout and use it from an empty folder.
wheel-smoke: install
	TORCH='$(TORCH)' PYTHON=$(PYTHON) CONSTRAINTS=$(abspath $(CONSTRAINTS)) bash .ci/wheel-smoke "$(SST2)"

# The docs site (mkdocs.yml): the CLI reference is built from the parser and the API reference from
# core's docstrings at build time; --strict turns every broken link or missing page into a failure.
docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
