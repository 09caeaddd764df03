# Köprü — developer entry points. Works from a fresh clone with only python3.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: venv build validate serve test test-deps bench clean

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

test: venv test-deps
	$(BIN)/python -m pytest -q

bench: venv
	$(BIN)/python bench/build.py

clean:
	rm -rf .kopru .pytest_cache
