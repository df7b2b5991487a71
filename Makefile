# The two commands a fresh clone needs: `make grade` and `make test`. Both install first if needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install grade test test-fast labs bench clean

install: $(STAMP)

# torch==2.13.0 first: that spelling takes the CPU build on disk instead of gigabytes of CUDA.
# The venv is world-readable so the sandbox's unprivileged user can run its interpreter.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	chmod -R a+rX $(VENV)
	touch $(STAMP)

grade: $(STAMP)
	$(BIN)/autograder verify

test: $(STAMP)
	$(BIN)/python -m pytest -q --durations=15

# the inner loop: everything that needs no sandbox process and no training (under a minute)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not sandbox and not slow"

labs: $(STAMP)
	$(BIN)/autograder release

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py
	$(BIN)/python benchmarks/diagnosis.py

clean:
	rm -rf $(VENV) .pytest_cache
