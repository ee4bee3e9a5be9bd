# Setup is part of each target: `make tui` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SST2   := $(abspath ../shared/data/sst2)
# The CPU build of torch (a multi-GB CUDA build is pulled by an unpinned `torch`).
TORCH  ?= torch==2.13.0

.PHONY: tui test bench install clean

$(BIN)/bertsent: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(BIN)/bertsent

tui: install
	@if [ -z "$$BERTSENT_DATA" ] && [ -d "$(SST2)" ]; then export BERTSENT_DATA="$(SST2)"; fi; \
	$(BIN)/bertsent-tui

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build *.egg-info
