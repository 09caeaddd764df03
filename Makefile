# Köprü — developer entry points. Works from a fresh clone with only python3.
# The interpreter .venv is made from: the system's /usr/bin/python3 when it is
# 3.11 or later and can make a virtualenv, else the first python3 on the
# PATH. Distributions build theirs with profile-guided optimisation: Köprü's
# build, closure and pages took a fifth less CPU time on Debian's than on a
# default pyenv build (bench/interpreter.py). `make PYTHON=python3.12 …` to
# choose another (remove .venv first: it is made once).
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' \
                  >/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080

.PHONY: venv build validate serve test test-deps lint fuzz fuzz-guard fuzz-reasoning fuzz-pipeline bench clean

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

# The suite in TEST_WORKERS processes (pytest-xdist), a test module to a
# worker (its module fixtures, such as a server, start once), the longest
# modules first (tests/conftest.py). Four on two cores: a fair part of the
# suite waits on real servers, browsers and deadlines, and the other workers
# use that time. The workers build the shared projects once between them;
# each has its own servers, temp dirs and ports. `make test TEST_WORKERS=0`:
# one process. The plugins are named rather than found: pytest rewrites the
# asserts of every module of a plugin it finds by its entry point (all of
# hypothesis, about a second in each process); named, only the plugin's own.
# Likewise hypothesis's own plugins (HYPOTHESIS_NO_PLUGINS): the one installed
# is trio's, which no test uses, and finding and importing it cost each
# process a fifth of a second.
# server/ (with tests/ and bench/) is compiled once here and bytecode is kept
# during the run, even where PYTHONDONTWRITEBYTECODE is set: every process the
# suite starts (each worker, each `kopru serve`, each `kopru` run) would
# otherwise compile it again, and pytest would rewrite the test modules'
# asserts afresh on every run.
TEST_WORKERS ?= 4
TEST_PLUGINS := -p xdist.plugin -p pytest_timeout -p _hypothesis_pytestplugin
test: $(VENV)/.installed-test test-deps
	$(BIN)/python -m compileall -q server tests bench
	env -u PYTHONDONTWRITEBYTECODE PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 HYPOTHESIS_NO_PLUGINS=1 \
	  $(BIN)/python -m pytest -q $(TEST_PLUGINS) \
	  -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

# ruff and mypy over server/, and the import-layer contract.
lint: $(VENV)/.installed-lint
	$(BIN)/ruff check server bench tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Long randomised runs of the property-based tests (about half an hour on 2 cores).
# `make fuzz` runs them all, with no per-test time limit (each test is one
# long run); FUZZ_EXAMPLES=N sets how many examples each test
# draws (by default 20,000 queries for the guard, 5,000 ontologies for the reasoner).
FUZZ_EXAMPLES ?=
fuzz: fuzz-guard fuzz-reasoning fuzz-pipeline

# The query guard against the engine, with a canary listener that no query may reach.
fuzz-guard: $(VENV)/.installed-test
	KOPRU_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),20000) $(BIN)/python -m pytest -q -p no:cacheprovider --timeout=0 tests/test_guard_fuzz.py

# The reasoner's proof run (docs/reasoning.md): random ontologies through both
# engines against plain owlrl, every W3C OWL 2 case with an RDF/XML premise
# with owlrl run live rather than read from its recorded outcomes, the
# closure of the 10k-triple synthetic set against plain owlrl's, and of the
# shipped graph and a 1k set each alone (make test: those two together),
# the 10k set's validation (make test: 4.5k), and the literal shortcuts
# against rdflib on FUZZ_EXAMPLES draws (make test: 200).
fuzz-reasoning: $(VENV)/.installed-test
	HYPOTHESIS_PROFILE=long KOPRU_OWL2_LIVE=1 KOPRU_LONG_PROOFS=1 \
	  KOPRU_FUZZ_EXAMPLES=$(or $(FUZZ_EXAMPLES),5000) \
	  $(BIN)/python -m pytest -q -p no:cacheprovider --timeout=0 --hypothesis-show-statistics \
	  tests/test_reasoning_fuzz.py tests/test_reasoning_owl2.py tests/test_reasoning_literals.py \
	  tests/test_reasoning.py::test_fast_equals_owlrl_on_10k_synthetic \
	  tests/test_reasoning.py::test_fast_equals_owlrl_on_shipped_graph \
	  tests/test_reasoning.py::test_fast_equals_owlrl_on_1k_synthetic \
	  tests/test_reasoning.py::test_synthetic_10k_is_valid

# The build pipeline's proof runs: both validators on every broken variant at
# once at 10k triples, and a build killed at 20k (make test: 800 and 5k); each
# shape's broken example and each broken variant alone, through both
# validators and `kopru validate`, and each variant's incremental build to its
# full report (make test: all at once, and the incremental builds of every
# variant up to its finding, three of them to the report).
fuzz-pipeline: $(VENV)/.installed-test
	KOPRU_LONG_PROOFS=1 $(BIN)/python -m pytest -q -p no:cacheprovider --timeout=0 \
	  tests/test_validation_engines.py::test_validators_agree_on_all_variants_at_once_at_10k \
	  tests/test_validation_engines.py::test_validators_agree_on_each_shapes_example_alone \
	  tests/test_validation_engines.py::test_validators_agree_on_each_generated_variant_alone \
	  tests/test_shapes.py::test_shape_fires_on_each_broken_example_alone \
	  tests/test_incremental.py::test_every_edit_that_breaks_a_shape_fails_with_the_full_report \
	  tests/test_build_faults.py::test_a_killed_build_at_20k_leaves_nothing_the_next_build_does_not_remove

bench: $(VENV)/.installed-test
	$(BIN)/python bench/build.py

clean:
	rm -rf .kopru .pytest_cache
