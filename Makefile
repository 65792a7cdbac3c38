# make demo  -- the main job;  make test -- the whole suite;  make bench -- speed and memory
# (and one HVP against one gradient).
# Each target creates .venv when missing and installs the project with its extras.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test bench install dot clean

demo: $(STAMP) dot
	$(BIN)/autograd-mini demo

test: $(STAMP) dot
	$(BIN)/python -m pytest -q

# The benchmark's PyTorch column needs torch==2.13.0 (the `bench` extra; never part of
# dev/test). If it cannot be installed, the benchmark says so and skips that column.
bench: $(STAMP)
	@$(BIN)/python -c "import torch, threadpoolctl" 2>/dev/null || \
	  $(BIN)/python -m pip install --quiet -e '.[bench]' || \
	  echo "could not install the bench extra (torch==2.13.0): the PyTorch column is skipped"
	$(BIN)/python -m benchmarks.bptt --all
	$(BIN)/python -m benchmarks.hvp

install: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,docs]'
	touch $@

# Only rendering needs graphviz's `dot`; without it the renderer writes .dot sources.
dot:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "dot (graphviz) is missing: installing Debian's graphviz with apt-get"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq graphviz >/dev/null 2>&1 || \
	  { apt-get update -qq >/dev/null && apt-get install -y -qq graphviz >/dev/null; } || \
	  echo "could not install graphviz; rendering will write .dot files only"; \
	else \
	  echo "dot (graphviz) is missing: rendering will write .dot files only. Install it with"; \
	  echo "  sudo apt-get install graphviz     (Debian/Ubuntu)   or   brew install graphviz (macOS)"; \
	fi

clean:
	rm -rf $(VENV) out build *.egg-info .pytest_cache .hypothesis
