# Two entry points: `make run` (set up, then search the built-in demo data) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# The CPU build of torch: plain `torch` resolves to a multi-GB CUDA build. On a GPU machine set
# TORCH_SPEC=torch (or your CUDA wheel) before the first `make`.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup run test test-fast clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[test,onnx,dashboard]"
	touch $@

setup: $(VENV)/.installed

# A laptop-sized search of what wins on the demo data (spaces/quickstart.yaml); the full space is spaces/fusion.yaml.
run: setup
	$(PY) -m search.run spaces/quickstart.yaml

# Lint first (ruff: pyproject.toml), then the suite, in a network namespace with nothing but loopback where
# the machine allows it (tests/loopback_only.sh); the 15 slowest tests are printed. `make test-fast` skips the
# tests that start Ray or run a search end to end (markers `ray`, `slow`).
# Two pytest workers, a test file each at a time (its module fixtures run once): a Ray test leaves a third of
# 2 cores idle while its processes start and wait, and the other worker fills it (711 s -> 567 s on 2 cores).
# The files run in tests/conftest.py's order, the longest first (xdist would put the files of fewest tests last).
test: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	tests/loopback_only.sh $(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder --durations=15

test-fast: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	tests/loopback_only.sh $(PY) -m pytest -q -n 2 --dist loadfile --no-loadscope-reorder -m "not ray and not slow"

clean:
	rm -rf $(VENV) results
