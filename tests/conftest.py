"""Köprü's test fixtures, in the manner of Flask's tutorial: `app`, `client`
and `runner`, with variants for a tiny project and for a remote store; real
servers only where the process is the point. Helpers: tests/helpers.py.

Session fixtures
    repo_root, state_dir   the repository (the shipped project) and the
                    run's temporary state dir, shared by its workers
                    (KOPRU_STATE_DIR points at it for each worker and every
                    process it starts).
    built_project   (root, state dir): the shipped project built once a run.
    app             the app (`create_app`) over the built shipped project.
    tiny_site       (project, state dir): the tiny project plus Wikidata
                    links, built once; `tiny_app` serves it.
    tiny_build      (project, state dir): the tiny project as `tiny_project`
                    writes it, built once; a test that edits it works on a
                    copy (helpers.copy_build).
    pages_site      (project, state dir): test entities over the shipped
                    ontology (entity pages, negotiation); `pages_app`.
    make_app        make_app(project, state, **settings) -> a Flask app.
    shipped_oxigraph, tiny_oxigraph   real `oxigraph serve` processes
                    holding the shipped and the tiny build (pushed once).
    remote_app      the app over the shipped store on Oxigraph.
    worker_virtuoso a real Virtuoso (tests/virtuoso.py), emptied by each
                    module that uses it.
    any_app         parametrized "embedded", "remote": the same tests run
                    against both stores, in-process.
    kopru_server, tiny_server         real `kopru serve` (gunicorn)
                    processes, for the tests where the process matters.
    chromium        the worker's headless Chromium, at kopru_server; a
                    module takes it through module_chromium (module scope:
                    state forgotten before, an empty page after).

Function fixtures
    client, tiny_client, pages_client, any_client   test clients of those apps.
    runner          runner.invoke(*args, input=, cwd=) -> CliResult: the
                    `kopru` command run in this process.
    tiny_project    a fresh tiny project in a temp dir, with KOPRU_STATE_DIR
                    set to a temp dir of its own for the test.
    listener        a loopback port that counts the connections it receives.

Workers: `make test` runs the suite in pytest-xdist workers (-n 4, a module
to a worker). The builds the session fixtures above make (the shipped
project, tiny_site, tiny_build, pages_site) are made once per run, by the first
worker that needs each, in a directory the run's workers share (made by
the controller); servers, temp dirs and ports are each worker's own. Two
runs at once (two clones) share nothing on disk but their own test-artifacts/.

Markers (pyproject.toml): `server` (a real `kopru serve`), `browser`
(headless Chromium), `remote` (a real store server). A test that uses a
fixture starting one of those must carry its marker; collection fails
otherwise, so `-m "not server"` and the like select what they say.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from attack_helpers import Canary
from helpers import (
    PAGES_TTL,
    REPO_ROOT,
    STATE_ENV,
    OxigraphServer,
    build_project,
    kopru_env,
    make_shipped_ontology_project,
    make_tiny_project,
    push_build,
    run_cli,
    start_kopru_server,
)

_SHARED = pytest.StashKey[Path]()     # the run's shared directory
_OWNER = pytest.StashKey[bool]()      # this process made it (and removes it)


def pytest_configure(config) -> None:
    # One directory for the run, made by the controller (or the only
    # process) and handed to each xdist worker: the shipped project's state
    # dir is in it, so no test ever touches a developer's <repo>/.kopru, and
    # the workers build the shipped project once between them (the build
    # lock makes the others wait for it and find it up to date).
    given = getattr(config, "workerinput", {}).get("kopru_shared")
    shared = Path(given) if given else Path(tempfile.mkdtemp(prefix="kopru-test-"))
    config.stash[_SHARED], config.stash[_OWNER] = shared, not given
    (shared / "state").mkdir(exist_ok=True)
    os.environ[STATE_ENV] = str(shared / "state")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """pytest-xdist, in the controller: tell a new worker the shared directory."""
    node.workerinput["kopru_shared"] = str(node.config.stash[_SHARED])


def pytest_unconfigure(config) -> None:
    if config.stash.get(_OWNER, False):
        shutil.rmtree(config.stash[_SHARED], ignore_errors=True)


def made_once(config, name: str, make) -> Path:
    """`make(dir)` once per run, by whichever worker asks first (the others
    wait for it): the run's shared directory / name. What is made there is
    read, never changed: a test that changes it works on a copy."""
    target = config.stash[_SHARED] / name
    with open(config.stash[_SHARED] / f"{name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".made").exists():
            shutil.rmtree(target, ignore_errors=True)
            make(target)
            (target / ".made").touch()
    return target


# Fixtures that start a process of the kind a marker names.
MARKED_FIXTURES = {
    "server": {"kopru_server", "tiny_server"},
    "browser": {"chromium"},
    "remote": {"shipped_oxigraph", "tiny_oxigraph", "remote_app", "worker_virtuoso"},
}


def pytest_collection_modifyitems(config, items) -> None:
    unmarked = []
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for marker, fixtures in MARKED_FIXTURES.items():
            if used & fixtures and item.get_closest_marker(marker) is None:
                unmarked.append(f"{item.nodeid} (uses {', '.join(sorted(used & fixtures))}: "
                                f"mark it @pytest.mark.{marker})")
    if unmarked:
        raise pytest.UsageError("tests without the marker their fixtures call for:\n  "
                                + "\n  ".join(unmarked))
    # The longest modules first: xdist hands modules out in the order its
    # workers collected them, and one started last would keep the whole run
    # waiting on a single worker. Within a module the order is unchanged.
    if hasattr(config, "workerinput"):   # an xdist worker
        items.sort(key=lambda item: LONGEST_MODULES.get(item.path.name, len(LONGEST_MODULES)))


# Modules that run on one worker, one after the other, so that the session
# server they share starts once in the run: kopru_server (and, for the two
# browser modules, the worker's one Chromium), tiny_server or worker_virtuoso.
SAME_WORKER = {
    **dict.fromkeys(("test_readers_browser.py", "test_browser.py", "test_clients.py",
                     "test_newcomer.py"), "kopru_server"),
    **dict.fromkeys(("test_sparql_protocol.py", "test_sparql_safety.py"), "tiny_server"),
    **dict.fromkeys(("test_push_safety.py", "test_virtuoso.py"), "worker_virtuoso"),
}


@pytest.hookimpl(optionalhook=True)      # a hook of pytest-xdist's, when it runs
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModulesOrGroups(LoadScopeScheduling):
        """xdist's loadscope (a module to a worker), SAME_WORKER's modules as one."""

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return SAME_WORKER.get(module.rsplit("/", 1)[-1], module)

    return ModulesOrGroups(config, log)


# By worker time, most first (make test's --durations=0, 2026-12-01, after
# the second suite-time pass); a module not listed goes after these. The
# Makefile passes --no-loadscope-reorder: xdist would otherwise order the
# modules by their number of tests.
LONGEST_MODULES = {name: rank for rank, name in enumerate((
    "test_push_safety.py", "test_incremental.py", "test_readers_browser.py",
    "test_reasoning.py", "test_limits.py", "test_virtuoso.py", "test_remote_store.py",
    "test_browser.py", "test_build_faults.py", "test_cli.py", "test_validation_engines.py",
    "test_hostile_input.py", "test_reasoning_fuzz.py", "test_http_caching.py",
    "test_worker_faults.py", "test_metadata.py", "test_competency.py", "test_clients.py"))}


# --- the shipped project -----------------------------------------------------------------


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def state_dir(pytestconfig) -> Path:
    return pytestconfig.stash[_SHARED] / "state"


@pytest.fixture(scope="session")
def built_project(state_dir: Path) -> tuple[Path, Path]:
    """Build the shipped project once per session into the session state dir."""
    build_project(REPO_ROOT, state_dir)
    return REPO_ROOT, state_dir


@pytest.fixture(scope="session")
def make_app():
    """make_app(project, state, **settings): the app over a built project;
    settings are Config fields (query_timeout=…, store_url=…)."""
    from server.config import Config
    from server.web.app import create_app

    def make(project, state, **settings):
        config = Config.from_env(project=project, state_dir=state, flask={"TESTING": True},
                                 **settings)
        return create_app(config)
    return make


@pytest.fixture(scope="session")
def app(built_project, make_app):
    return make_app(*built_project)


@pytest.fixture
def client(app):
    return app.test_client()


class KopruRunner:
    """The `kopru` command in this process: invoke(*args, input=, cwd=, env=)."""

    def invoke(self, *args, input: str | None = None, cwd=None, env=None):
        return run_cli(*args, input=input, cwd=cwd, env=env)


@pytest.fixture
def runner() -> KopruRunner:
    return KopruRunner()


@pytest.fixture
def listener() -> Canary:
    """A loopback listener that counts the connections it receives (none
    should come from a query that names it): attack_helpers.Canary."""
    with Canary() as lst:
        yield lst


# --- the tiny project ----------------------------------------------------------------------


@pytest.fixture
def tiny_project(tmp_path: Path, monkeypatch) -> Path:
    """A fresh tiny project with its own state dir (KOPRU_STATE_DIR set for
    this test, for the in-process runner and for processes it starts)."""
    root = make_tiny_project(tmp_path / "project")
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    return root


def _tiny_site(root: Path) -> None:
    build_project(make_tiny_project(root / "project", links=True), root / "state")


@pytest.fixture(scope="session")
def tiny_site(pytestconfig) -> tuple[Path, Path]:
    """The tiny project with Wikidata links, built once: (project, state).
    Shared: a test that changes it works on a copy of its own."""
    root = made_once(pytestconfig, "tiny-site", _tiny_site)
    return root / "project", root / "state"


def _tiny_build(root: Path) -> None:
    build_project(make_tiny_project(root / "project"), root / "state")


@pytest.fixture(scope="session")
def tiny_build(pytestconfig) -> tuple[Path, Path]:
    """The tiny project (no links) built once: (project, state). Shared: a
    test that changes it works on a copy (helpers.copy_build)."""
    root = made_once(pytestconfig, "tiny-build", _tiny_build)
    return root / "project", root / "state"


@pytest.fixture(scope="session")
def tiny_app(tiny_site, make_app):
    return make_app(*tiny_site)


@pytest.fixture
def tiny_client(tiny_app):
    return tiny_app.test_client()


# --- the page fixture project -----------------------------------------------------------


def _pages_site(root: Path) -> None:
    build_project(make_shipped_ontology_project(root / "project", "zz-test-pages.ttl",
                                                PAGES_TTL), root / "state")


@pytest.fixture(scope="session")
def pages_site(pytestconfig) -> tuple[Path, Path]:
    """Test entities (helpers.PAGES_TTL) over the shipped ontology and the
    source sentences, built once: (project, state)."""
    root = made_once(pytestconfig, "pages-site", _pages_site)
    return root / "project", root / "state"


@pytest.fixture(scope="session")
def pages_app(pages_site, make_app):
    return make_app(*pages_site)


@pytest.fixture
def pages_client(pages_app):
    return pages_app.test_client()


# --- remote stores: real Oxigraph servers ----------------------------------------------------


@pytest.fixture(scope="session")
def shipped_oxigraph(built_project, tmp_path_factory) -> OxigraphServer:
    """An Oxigraph server holding the shipped project (pushed once)."""
    with OxigraphServer(tmp_path_factory.mktemp("oxigraph-shipped")) as store:
        push_build(*built_project, store.url)
        yield store


@pytest.fixture(scope="session")
def remote_app(built_project, shipped_oxigraph, make_app):
    return make_app(*built_project, store_url=shipped_oxigraph.url)


@pytest.fixture(scope="session")
def worker_virtuoso(tmp_path_factory):
    """A Virtuoso for the worker's modules that use one (one worker runs them
    all: SAME_WORKER), as new: only the user virtuoso.USER may update
    (through /sparql-auth) until a module allows anyone. Each module empties
    it first (virtuoso.reset_store), and a test may stop and start it."""
    from virtuoso import PASSWORD, USER, VirtuosoServer, reset_store

    with VirtuosoServer(tmp_path_factory.mktemp("virtuoso"), users=((USER, PASSWORD),),
                        anonymous_updates=False) as store:
        reset_store(store)                # notes the graphs a new store holds
        yield store


@pytest.fixture(scope="session")
def tiny_oxigraph(tiny_site, tmp_path_factory) -> OxigraphServer:
    """An Oxigraph server holding the tiny site's build (pushed once). Tests
    that stop it or add to it use a store of their own."""
    with OxigraphServer(tmp_path_factory.mktemp("oxigraph-tiny")) as store:
        push_build(*tiny_site, store.url)
        yield store


STORE_KINDS = ("embedded", pytest.param("remote", marks=pytest.mark.remote))


@pytest.fixture(scope="session", params=STORE_KINDS)
def any_app(request):
    """The shipped project served from the embedded store, then from a real
    Oxigraph server (the same tests run against both)."""
    return request.getfixturevalue("app" if request.param == "embedded" else "remote_app")


@pytest.fixture
def any_client(any_app):
    return any_app.test_client()


# --- real `kopru serve` processes ------------------------------------------------------------


@pytest.fixture(scope="session")
def kopru_server(built_project):
    """`kopru serve` over the built shipped project (the browser tests).
    Two workers, not 2 × cores: each worker renders a page afresh the first
    time it serves it, and the one browser of a browser test is served well by two."""
    with start_kopru_server("--workers", "2") as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A browser test that fails leaves a screenshot of where it stopped:
    test-artifacts/screens/failed-<test>.png (tests/browser.py)."""
    outcome = yield
    browser = getattr(item, "funcargs", {}).get("chromium")
    if browser is not None and call.when == "call" and outcome.get_result().failed:
        import re

        try:
            browser.screenshot("failed-" + re.sub(r"[^A-Za-z0-9]+", "-", item.name), asked=True)
        except Exception:  # noqa: BLE001  (a browser that died says nothing more)
            pass


@pytest.fixture(scope="session")
def chromium(kopru_server):
    """The worker's headless Chromium (tests/browser.py), at kopru_server's
    address. Set up after the server, so it quits before the server stops:
    a socket it still held open would keep a gunicorn worker, and the stop,
    waiting. Each module that uses it does so through module_chromium."""
    from browser import DESKTOP, Browser, require_browser

    require_browser()
    browser = Browser(DESKTOP)
    browser.base = kopru_server.url
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture(scope="module")
def module_chromium(chromium):
    """The worker's Chromium for one module: what earlier modules left
    forgotten, and left on an empty page when the module ends (a page left
    open keeps drawing: a blinking cursor costs CPU for the rest of the run)."""
    chromium.forget()
    yield chromium
    chromium.driver.get("about:blank")


@pytest.fixture(scope="session")
def tiny_server(tiny_site):
    """`kopru serve --workers 2 --timeout 2` over the tiny site: real
    clients, the query log, and a timeout that ends a worker."""
    project, state = tiny_site
    with start_kopru_server("--workers", "2", "--timeout", "2", project=project,
                            env=kopru_env(KOPRU_STATE_DIR=str(state))) as server:
        yield server
