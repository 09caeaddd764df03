# Köprü — developer entry points. Works from a fresh clone with only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: venv build validate serve test test-deps lint fuzz bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# What each target needs, installed when pyproject.toml changed since the last
# install: serving needs the package alone; the tests and the linters more.
$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	@echo "make: installing Köprü and what it needs to serve into $(VENV)/ (a minute the first time; pip says what it fetches)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "make: installing Köprü and the test tools into $(VENV)/"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[test]'
	touch $@ $(VENV)/.installed-serve

$(VENV)/.installed-lint: pyproject.toml | $(BIN)/python
	@echo "make: installing Köprü, the test tools and the linters into $(VENV)/"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -e '.[test,lint]'
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-serve

# A developer's virtualenv: Köprü and the test tools (`make serve` needs less).
venv: $(VENV)/.installed-test

build: $(VENV)/.installed-serve
	$(BIN)/kopru build

validate: $(VENV)/.installed-serve
	$(BIN)/kopru validate

# `kopru serve` builds first when the inputs changed. `make serve PORT=9000`.
serve: $(VENV)/.installed-serve
	$(BIN)/kopru serve --host $(HOST) --port $(PORT)

# System packages the tests need: Debian's Chromium and ChromeDriver for the
# headless-browser tests (tests/test_browser.py), and OpenLink Virtuoso
# (virtuoso-t, isql-vt) for the second real remote store (tests/test_virtuoso.py,
# tests/test_push_safety.py). Only what is missing is installed.
test-deps:
	@PKGS=""; \
	if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then PKGS="chromium chromium-driver"; fi; \
	if [ ! -x /usr/bin/virtuoso-t ] || [ ! -x /usr/bin/isql-vt ]; then PKGS="$$PKGS virtuoso-opensource"; fi; \
	if [ -n "$$PKGS" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
	  echo "test-deps: installing Debian's$$PKGS"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$PKGS \
	    || { echo "test-deps: could not install$$PKGS (needs root or sudo)" >&2; exit 1; }; \
	fi

test: $(VENV)/.installed-test test-deps
	$(BIN)/python -m pytest -q

# ruff and mypy over server/, and the import-layer contract.
lint: $(VENV)/.installed-lint
	$(BIN)/ruff check server bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.installed-test
	$(BIN)/python bench/build.py

clean:
	rm -rf .kopru .pytest_cache
