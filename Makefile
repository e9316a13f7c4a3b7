# Two commands for a fresh machine: `make run` (the main job) and `make test` (the suite).
# Both create .venv at the repository root when it is missing and install the project into it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench serve clean system-deps

# Debian packages WeasyPrint (PDF strategy reports) loads at run time: pango, harfbuzz, a font.
SYSTEM_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core

# Installs them with apt-get when they are missing and we are root (as in CI); otherwise says
# what to install. Checked through the dynamic loader's cache and fontconfig.
system-deps:
	@if ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so.0' \
	  && ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so.0' \
	  && fc-list 2>/dev/null | grep -qi 'dejavu'; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing WeasyPrint's system libraries: $(SYSTEM_PACKAGES)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(SYSTEM_PACKAGES); \
	else \
	  echo "PDF reports need the Debian packages $(SYSTEM_PACKAGES):" \
	    "run 'sudo apt-get install -y $(SYSTEM_PACKAGES)' (HTML reports work without them)" >&2; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m her2lab.kernels   # compile the engine's and the link's kernels once, here
	touch $(STAMP)

run: system-deps $(STAMP)
	$(BIN)/her2lab reproduce -o out

test: system-deps $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python bench/engine.py
	$(BIN)/python bench/virtual_trials.py
	$(BIN)/python bench/load.py

serve: $(STAMP)
	$(BIN)/her2lab serve

clean:
	rm -rf $(VENV) out .pytest_cache
