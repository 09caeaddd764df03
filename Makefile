# Köprü — developer entry points. Works from a fresh clone with only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: venv build validate serve test test-deps bench fuzz clean

venv: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when pyproject.toml changed since the last install.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

build: venv
	$(BIN)/kopru build

validate: venv
	$(BIN)/kopru validate

# `kopru serve` builds first when the inputs changed.
serve: venv
	$(BIN)/kopru serve --host $(HOST) --port $(PORT)

# System packages the tests need: Debian's Chromium and ChromeDriver for the
# headless-browser tests (tests/test_browser.py). Skipped when both are there.
test-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; else \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  echo "test-deps: installing Debian's chromium and chromium-driver"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver \
	    || { echo "test-deps: could not install chromium and chromium-driver (needs root or sudo)" >&2; exit 1; }; \
	fi

test: venv test-deps
	$(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python bench/build.py

# The reasoner's long proof run (docs/reasoning.md): KOPRU_FUZZ_EXAMPLES (default
# 5000) random ontologies through both engines against plain owlrl, and every
# W3C OWL 2 case with an RDF/XML premise with owlrl live: about 20 minutes on 2 cores.
fuzz: venv
	HYPOTHESIS_PROFILE=long KOPRU_OWL2_LIVE=1 $(BIN)/python -m pytest -q -p no:cacheprovider \
	  --hypothesis-show-statistics tests/test_reasoning_fuzz.py tests/test_reasoning_owl2.py

clean:
	rm -rf .kopru .pytest_cache
