"""Shared pytest fixtures for Köprü's tests.

Session fixtures:
    repo_root       Path of the repository (the shipped project).
    state_dir       a temporary state dir for the shipped project's store;
                    KOPRU_STATE_DIR points at it for this process and every
                    subprocess started after `built_project`.
    built_project   (project root, state dir): the shipped project built once.
    kopru_server    a `kopru serve` process on a free loopback port (default
                    args), over the built shipped project.
    remote_kopru_server   the same, served from a real `oxigraph serve` process
                    (PyPI's oxigraph) filled by `kopru build --push`
                    (`.oxigraph` is the OxigraphServer).
    any_kopru_server      parametrized ["embedded", "remote"]: the endpoint and
                    page tests that use it run against both stores.

Function fixtures:
    tiny_project    a small self-contained project in a temp dir (its own
                    tiny ontology and shapes, two graph files, one query),
                    with KOPRU_STATE_DIR pointing at a temp dir of its own.

Helpers:
    make_tiny_project(root) -> Path
    start_kopru_server(*extra_args, env=None, project=None) -> ServerProcess
    run_kopru(*args, cwd=None, env=None, input=None) -> CompletedProcess
    kopru_env(**extra) -> dict   the environment for kopru subprocesses
    free_port() -> int
    OxigraphServer(root)            a real `oxigraph serve` (start/stop/restart)
    serve_tiny_on(kind, project, state, *args, **env) -> ServerProcess
                                    `kopru serve` over a built project, from the
                                    embedded store or (kind "remote") from an
                                    Oxigraph server the build is pushed to
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_ENV = "KOPRU_STATE_DIR"

# The session's state dir for the shipped project, chosen once per session
# (one temp dir per pytest process) so every fixture and subprocess agrees.
_SESSION_STATE = Path(tempfile.mkdtemp(prefix="kopru-test-state-"))
# Never touch a developer's real state dir (<repo>/.kopru) from the tests.
os.environ[STATE_ENV] = str(_SESSION_STATE)


def kopru_env(**extra: str) -> dict[str, str]:
    """Environment for kopru subprocesses: this process's environment (so
    KOPRU_STATE_DIR is the session state dir, or a test's own when it set
    one), unbuffered output, and `extra` on top."""
    env = dict(os.environ)
    env.setdefault(STATE_ENV, str(_SESSION_STATE))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_kopru(*args: str, cwd: str | os.PathLike[str] | None = None,
              env: dict[str, str] | None = None, input: str | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m server ARGS` (the kopru command) and capture its output."""
    return subprocess.run([sys.executable, "-m", "server", *map(str, args)],
                          cwd=cwd or REPO_ROOT, env=env or kopru_env(), input=input,
                          capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str, every: float = 0.1):
    """Poll `predicate()` until it is true and return its value; fail the
    test naming `what` if it is not within `timeout` s. A hang detector:
    give it a generous deadline, never a performance bound."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what} after {timeout:g} s")
        time.sleep(every)


class ServerProcess:
    """A running `kopru serve` subprocess."""

    def __init__(self, proc: subprocess.Popen, url: str, stderr_path: Path,
                 stdout_path: Path) -> None:
        self.proc = proc
        self.url = url                      # e.g. http://127.0.0.1:43121
        self.port = int(url.rsplit(":", 1)[1])
        self.stderr_path = stderr_path
        self.stdout_path = stdout_path

    @property
    def sparql_url(self) -> str:
        return self.url + "/sparql"

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM, wait; SIGKILL the process group if it will not stop."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(5)
        return self.proc.returncode

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_kopru_server(*extra_args: str, env: dict[str, str] | None = None,
                       project: str | os.PathLike[str] | None = None,
                       port: int | None = None, timeout: float = 60) -> ServerProcess:
    """Start `kopru serve --host 127.0.0.1 --port <free> EXTRA_ARGS` over the
    shipped project (or `project`) with the session state dir, and wait
    until GET /sparql?query=ASK{} answers. Raises RuntimeError with the
    server's stderr if it dies or does not answer within `timeout` s."""
    port = port or free_port()
    logs = Path(tempfile.mkdtemp(prefix="kopru-serve-"))
    err_path, out_path = logs / "stderr.txt", logs / "stdout.txt"
    cmd = [sys.executable, "-m", "server", "--project", str(project or REPO_ROOT), "serve",
           "--host", "127.0.0.1", "--port", str(port), *map(str, extra_args)]
    with open(err_path, "wb") as err, open(out_path, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env or kopru_env(), stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
    server = ServerProcess(proc, f"http://127.0.0.1:{port}", err_path, out_path)
    probe = f"{server.url}/sparql?" + urllib.parse.urlencode({"query": "ASK{}"})
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"kopru serve exited with {proc.returncode}:\n"
                               f"{server.stderr()}\n{server.stdout()}")
        try:
            with urllib.request.urlopen(probe, timeout=2) as r:
                if r.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"kopru serve did not answer on {probe} within {timeout} s:\n"
                               f"{server.stderr()}")
        time.sleep(0.1)


TINY_ONTOLOGY = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

<https://w3id.org/kopru/ontology> a owl:Ontology ; rdfs:label "Tiny Köprü"@en .
kop:Actor a owl:Class ; rdfs:label "actor"@en .
kop:State a owl:Class ; rdfs:subClassOf kop:Actor ; rdfs:label "state"@en .
kop:Company a owl:Class ; rdfs:subClassOf kop:Actor ; rdfs:label "company"@en ;
    owl:disjointWith kop:State .
kop:Place a owl:Class ; rdfs:label "place"@en .
kop:City a owl:Class ; rdfs:subClassOf kop:Place ; rdfs:label "city"@en .
kop:Agreement a owl:Class ; rdfs:label "agreement"@en .
kop:DefencePact a owl:Class ; rdfs:subClassOf kop:Agreement ; rdfs:label "defence pact"@en .
kop:party a owl:ObjectProperty ; rdfs:label "party"@en ;
    rdfs:domain kop:Agreement ; rdfs:range kop:Actor ; owl:inverseOf kop:partyTo .
kop:partyTo a owl:ObjectProperty ; rdfs:label "party to"@en .
kop:partOf a owl:ObjectProperty, owl:TransitiveProperty ; rdfs:label "part of"@en .
kop:locatedIn a owl:ObjectProperty ; rdfs:label "located in"@en ;
    owl:propertyChainAxiom ( kop:locatedIn kop:partOf ) .
kop:year a owl:DatatypeProperty ; rdfs:label "year"@en ; rdfs:range xsd:gYear .
"""

TINY_SHAPES = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sh-kop: <https://w3id.org/kopru/shapes#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

sh-kop:AgreementShape a sh:NodeShape ; sh:targetClass kop:Agreement ;
    sh:property [ sh:path kop:party ; sh:minCount 2 ;
                  sh:message "An agreement has at least two parties."@en ] ;
    sh:property [ sh:path kop:party ; sh:class kop:Actor ;
                  sh:message "A party to an agreement is an actor."@en ] ;
    sh:property [ sh:path kop:year ; sh:datatype xsd:gYear ; sh:maxCount 1 ;
                  sh:message "The year is one xsd:gYear."@en ] .
sh-kop:LabelShape a sh:NodeShape ; sh:targetClass kop:Actor, kop:Place, kop:Agreement ;
    sh:property [ sh:path rdfs:label ; sh:minCount 1 ;
                  sh:message "Every entity has an English label."@en ] .
"""

TINY_ACTORS = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

id:turkiye a kop:State ; rdfs:label "Türkiye"@en, "Türkiye"@tr .
id:albania a kop:State ; rdfs:label "Albania"@en, "Shqipëria"@sq ;
    kop:partOf id:western-balkans .
id:tirana a kop:City ; rdfs:label "Tirana"@en ; kop:partOf id:albania .
id:western-balkans a kop:Place ; rdfs:label "Western Balkans"@en .
"""

TINY_AGREEMENTS = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

id:pact a kop:DefencePact ; rdfs:label "Defence pact"@en ;
    kop:party id:turkiye, id:albania ;
    kop:year "2020"^^xsd:gYear ;
    kop:locatedIn id:tirana .
"""

TINY_QUERY = """\
# title: Parties to agreements
# description: Every agreement and its parties, by label.
PREFIX kop: <https://w3id.org/kopru/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?agreement ?party WHERE {
  ?a kop:party ?p . ?a rdfs:label ?agreement . ?p rdfs:label ?party .
  FILTER(lang(?agreement) = "en" && lang(?party) = "en")
} ORDER BY ?agreement ?party
"""


def make_tiny_project(root: str | os.PathLike[str]) -> Path:
    """Write the tiny project into `root` (created if needed)."""
    root = Path(root)
    for d in ("ontology", "graph", "queries"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "ontology" / "kopru.ttl").write_text(TINY_ONTOLOGY, encoding="utf-8")
    (root / "ontology" / "shapes.ttl").write_text(TINY_SHAPES, encoding="utf-8")
    (root / "graph" / "actors.ttl").write_text(TINY_ACTORS, encoding="utf-8")
    (root / "graph" / "agreements.ttl").write_text(TINY_AGREEMENTS, encoding="utf-8")
    (root / "queries" / "parties.rq").write_text(TINY_QUERY, encoding="utf-8")
    return root


@pytest.fixture
def tiny_project(tmp_path: Path, monkeypatch) -> Path:
    """A tiny project with its own state dir (KOPRU_STATE_DIR set for this
    test and its subprocesses started with `kopru_env(KOPRU_STATE_DIR=...)`
    or os.environ)."""
    root = make_tiny_project(tmp_path / "project")
    monkeypatch.setenv(STATE_ENV, str(tmp_path / "state"))
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def state_dir() -> Path:
    return _SESSION_STATE


@pytest.fixture(scope="session")
def built_project(state_dir: Path) -> tuple[Path, Path]:
    """Build the shipped project once per session into the session state dir
    (KOPRU_STATE_DIR points there for this process and its subprocesses)."""
    from server.pipeline.build import build
    from server.pipeline.project import Project

    build(Project(REPO_ROOT, state_dir=state_dir))
    return REPO_ROOT, state_dir


@pytest.fixture(scope="session")
def kopru_server(built_project) -> ServerProcess:
    server = start_kopru_server()
    try:
        yield server
    finally:
        server.stop()


def pytest_sessionfinish(session, exitstatus) -> None:
    import shutil

    shutil.rmtree(_SESSION_STATE, ignore_errors=True)


# --- remote stores: a real Oxigraph server ------------------------------------------

STORE_KINDS = ("embedded", "remote")


def oxigraph_binary() -> str:
    import shutil

    exe = Path(sys.executable).with_name("oxigraph")
    found = str(exe) if exe.exists() else shutil.which("oxigraph")
    if not found:
        pytest.fail("the `oxigraph` command is missing: pip install 'oxigraph>=0.5,<0.6' "
                    "(it is in the test extra)")
    return found


class OxigraphServer:
    """`oxigraph serve --location ROOT/db --bind 127.0.0.1:PORT`: a real
    read-write SPARQL store. stop() and start() again keep the port and
    the data (a store that goes away and comes back)."""

    def __init__(self, root: str | os.PathLike[str], port: int | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = self.root / "oxigraph.log"

    def start(self, timeout: float = 30) -> "OxigraphServer":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [oxigraph_binary(), "serve", "--location", str(self.root / "db"),
             "--bind", f"127.0.0.1:{self.port}"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        probe = self.url + "/query?query=ASK%7B%7D"
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(probe, timeout=2):
                    return self
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("oxigraph serve did not start: "
                                       + self.log_path.read_text(errors="replace"))
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> "OxigraphServer":
        self.stop()
        return self.start()

    def __enter__(self) -> "OxigraphServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def push_build(project: str | os.PathLike[str], state: str | os.PathLike[str],
               store_url: str, *extra: str) -> subprocess.CompletedProcess:
    """`kopru --project P build --push URL` with the project's state dir."""
    r = run_kopru("--project", project, "build", "--push", store_url, *extra,
                  env=kopru_env(KOPRU_STATE_DIR=str(state)))
    assert r.returncode == 0, r.stderr + r.stdout
    return r


def serve_tiny_on(kind: str, project, state, *args: str, store: OxigraphServer | None = None,
                  **env: str) -> ServerProcess:
    """`kopru serve` over a built project: from its embedded store, or
    (kind "remote") from `store`, an Oxigraph server the build was pushed to."""
    if kind == "remote":
        assert store is not None
        args = ("--store", store.url, *args)
    return start_kopru_server(*args, project=project,
                              env=kopru_env(KOPRU_STATE_DIR=str(state), **env))


@pytest.fixture(scope="session")
def shipped_oxigraph(built_project, tmp_path_factory) -> OxigraphServer:
    """An Oxigraph server holding the shipped project (pushed once)."""
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-shipped")).start()
    try:
        push_build(REPO_ROOT, built_project[1], server.url)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def remote_kopru_server(shipped_oxigraph) -> ServerProcess:
    server = start_kopru_server("--store", shipped_oxigraph.url)
    server.oxigraph = shipped_oxigraph
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session", params=STORE_KINDS)
def any_kopru_server(request) -> ServerProcess:
    """The shipped project served from the embedded store, then from a
    real Oxigraph server (the same tests run against both)."""
    if request.param == "embedded":
        return request.getfixturevalue("kopru_server")
    return request.getfixturevalue("remote_kopru_server")
