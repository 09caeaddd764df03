"""What several test files share: small projects to build, the `kopru`
command run in-process or as a process, real servers on loopback (`kopru
serve`, `oxigraph serve`) and the HTTP client that talks to them, and waits
on events with generous deadlines. Fixtures live in conftest.py; no test
file imports from another test file.

Importing this module has no side effects (no directories, no environment).
"""

from __future__ import annotations

import contextlib
import http.client as httpclient
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_ENV = "KOPRU_STATE_DIR"

# The graphs the store keeps apart, and the entity namespace.
ASSERTED = "https://w3id.org/kopru/graph/asserted"
ENTAILED = "https://w3id.org/kopru/graph/entailed"
ONTOLOGY = "https://w3id.org/kopru/graph/ontology"
SHAPES = "https://w3id.org/kopru/graph/shapes"
KOP = "https://w3id.org/kopru/ontology#"
ID = "https://w3id.org/kopru/id/"


# --- waiting for an event ----------------------------------------------------------------


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):
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


# --- loopback ports ------------------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on right now (another process may take it
    before we do: prefer port 0 where the server can report its port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ClosedPort:
    """A loopback port that refuses every connection for as long as this
    object is open: bound, never listening, so no other process (another
    test run included) can start listening on it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> ClosedPort:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- HTTP to a real server -----------------------------------------------------------------


class Reply:
    """One HTTP answer: status, headers, body."""

    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip()

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.content_type} {self.body[:200]!r}>"


def http(method: str, url: str, body: bytes | str | None = None,
         headers: dict | None = None, params=None, timeout: float = 30) -> Reply:
    """One HTTP request, exactly as given (no headers added but Host and
    Content-Length)."""
    if params is not None:
        url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
    u = urllib.parse.urlsplit(url)
    conn = httpclient.HTTPConnection(u.hostname, u.port, timeout=timeout)
    path = u.path + ("?" + u.query if u.query else "")
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in (headers or {}).items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        return Reply(r.status, r.headers, r.read())
    finally:
        conn.close()


# --- the app through its test client -----------------------------------------------------


def get(client, path: str, accept: str | None = None, follow: bool = True, **headers):
    """GET `path` from a Flask test client, redirects followed unless
    `follow` is false; header names as keywords (Accept_Language=…)."""
    h = {k.replace("_", "-"): v for k, v in headers.items()}
    if accept is not None:
        h["Accept"] = accept
    return client.get(path, headers=h, follow_redirects=follow)


def html_page(client, path: str, status: int = 200, **headers) -> str:
    """The page at `path` as a reader's browser gets it: `status`, HTML, no
    redirect followed; header names as keywords (Accept_Language=…)."""
    r = get(client, path, accept="text/html", follow=False, **headers)
    assert r.status_code == status, (path, r.status_code, r.text[:500])
    assert r.headers["Content-Type"].startswith("text/html"), (path, r.headers["Content-Type"])
    return r.text


# --- the kopru command -------------------------------------------------------------------


@dataclass
class CliResult:
    """What a `kopru` run left: its exit status and its output."""
    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def _environment(env: dict[str, str] | None):
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_cli(*args, input: str | None = None, cwd: str | os.PathLike[str] | None = None,
            env: dict[str, str] | None = None) -> CliResult:
    """Run the `kopru` command in this process (`server.cli.main(ARGS)`)
    with its standard streams captured; `env` is set for the run only."""
    from server.cli import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)
    stdin, old_cwd = sys.stdin, os.getcwd()
    sys.stdin = io.StringIO(input or "")
    try:
        with _environment(env), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            if cwd is not None:
                os.chdir(cwd)
            try:
                code = main([str(a) for a in args])
            except SystemExit as e:           # argparse: --help, --version, usage errors
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    finally:
        sys.stdin = stdin
        os.chdir(old_cwd)
    return CliResult(code, out.buffer.getvalue().decode("utf-8"),
                     err.buffer.getvalue().decode("utf-8"))


def kopru_env(**extra: str) -> dict[str, str]:
    """Environment for kopru processes: this process's environment (so
    KOPRU_STATE_DIR is the session state dir, or a test's own when it set
    one), unbuffered output, and `extra` on top."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_kopru(*args, cwd: str | os.PathLike[str] | None = None,
              env: dict[str, str] | None = None, input: str | None = None,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m server ARGS` (the kopru command) as a process of its
    own and capture its output: for what only a process shows."""
    return subprocess.run([sys.executable, "-m", "server", *map(str, args)],
                          cwd=cwd or REPO_ROOT, env=env or kopru_env(), input=input,
                          capture_output=True, text=True, timeout=timeout)


# --- `kopru serve`: a real gunicorn server ----------------------------------------------------


class ServerProcess:
    """A running `kopru serve` process."""

    def __init__(self, proc: subprocess.Popen, logs: Path) -> None:
        self.proc = proc
        self.logs = logs
        self.stderr_path = logs / "stderr.txt"
        self.stdout_path = logs / "stdout.txt"
        self.url = ""                       # http://127.0.0.1:PORT
        self.port = 0

    @property
    def sparql_url(self) -> str:
        return self.url + "/sparql"

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, wait; SIGKILL the process group if it will not stop."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        shutil.rmtree(self.logs, ignore_errors=True)


def start_kopru_server(*extra_args: str, env: dict[str, str] | None = None,
                       project: str | os.PathLike[str] | None = None,
                       timeout: float = 120) -> ServerProcess:
    """Start `kopru serve --host 127.0.0.1 --port <free> EXTRA_ARGS` over the
    shipped project (or `project`) and wait until GET /sparql?query=ASK{}
    answers. If another process took the port first (serve says "is in
    use" and exits), try another. Raises RuntimeError with the server's log
    if it dies or does not answer within `timeout` s (a hang detector)."""
    for _attempt in range(5):
        server = _start_kopru_server_on(free_port(), extra_args, env, project, timeout)
        if server is not None:
            return server
    raise RuntimeError("kopru serve found every port it was given in use")


def _start_kopru_server_on(port: int, extra_args, env, project,
                           timeout: float) -> ServerProcess | None:
    logs = Path(tempfile.mkdtemp(prefix="kopru-serve-"))
    cmd = [sys.executable, "-m", "server", "--project", str(project or REPO_ROOT), "serve",
           "--host", "127.0.0.1", "--port", str(port), *map(str, extra_args)]
    with open(logs / "stderr.txt", "wb") as err, open(logs / "stdout.txt", "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env or kopru_env(), stdout=out,
                                stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
    server = ServerProcess(proc, logs)
    server.url, server.port = f"http://127.0.0.1:{port}", port
    deadline = time.monotonic() + timeout
    while True:
        if server.proc.poll() is not None:
            log = server.stderr()
            shutil.rmtree(logs, ignore_errors=True)
            if f"port {port} is in use" in log or "Connection in use" in log:   # serve, gunicorn
                return None
            raise RuntimeError(f"kopru serve exited with {server.proc.returncode}:\n{log}")
        with contextlib.suppress(OSError, httpclient.HTTPException):
            if http("GET", server.sparql_url, params={"query": "ASK{}"},
                    timeout=5).status == 200:
                return server
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"kopru serve did not answer within {timeout} s:\n"
                               f"{server.stderr()}")
        time.sleep(0.05)


# --- `oxigraph serve`: a real SPARQL store -------------------------------------------------


def oxigraph_binary() -> str:
    exe = Path(sys.executable).with_name("oxigraph")
    found = str(exe) if exe.exists() else shutil.which("oxigraph")
    if not found:
        pytest.fail("the `oxigraph` command is missing: pip install 'oxigraph>=0.5,<0.6' "
                    "(it is in the test extra)")
    return found


def stop_process(proc: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM, `grace` seconds to exit, then SIGKILL (a server that hangs
    on the way out still goes)."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class OxigraphServer:
    """`oxigraph serve --location ROOT/db --bind 127.0.0.1:PORT`: a real
    read-write SPARQL store. stop() and start() again keep the port and
    the data (a store that goes away and comes back). With `read_only`,
    `oxigraph serve-read-only` over data loaded from `load` (a Turtle file)."""

    def __init__(self, root: str | os.PathLike[str], *, read_only: bool = False,
                 load: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.read_only = read_only
        self.port = 0
        self.url = ""
        self.proc: subprocess.Popen | None = None
        self.log_path = self.root / "oxigraph.log"
        if load is not None:
            subprocess.run([oxigraph_binary(), "load", "--location", str(self.root / "db"),
                            "--file", str(load)], check=True, capture_output=True, timeout=120)

    def start(self, timeout: float = 60) -> OxigraphServer:
        # The first start picks a free port; if another process takes it
        # first, try another. Later starts keep the port.
        for _attempt in range(5 if not self.port else 1):
            port = self.port or free_port()
            if self._start_on(port, timeout):
                self.port, self.url = port, f"http://127.0.0.1:{port}"
                return self
        raise RuntimeError("oxigraph serve did not start: "
                           + self.log_path.read_text(errors="replace"))

    def _start_on(self, port: int, timeout: float) -> bool:
        command = "serve-read-only" if self.read_only else "serve"
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [oxigraph_binary(), command, "--location", str(self.root / "db"),
                 "--bind", f"127.0.0.1:{port}"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        probe = f"http://127.0.0.1:{port}/query?query=ASK%7B%7D"
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                return False                 # most likely: the port was taken
            with contextlib.suppress(OSError, httpclient.HTTPException):
                if http("GET", probe, timeout=5).status == 200:
                    return True
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("oxigraph serve did not answer: "
                                   + self.log_path.read_text(errors="replace"))
            time.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.proc, 15)
        self.proc = None

    def restart(self) -> OxigraphServer:
        self.stop()
        return self.start()

    def query(self, sparql: str, **dataset) -> list[dict]:
        """Ask the store directly (not through Köprü): SPARQL JSON bindings."""
        fields = [("query", sparql)] + [(k.replace("_", "-"), v) for k, vs in dataset.items()
                                        for v in vs]
        r = http("POST", self.url + "/query", urllib.parse.urlencode(fields),
                 {"Content-Type": "application/x-www-form-urlencoded",
                  "Accept": "application/sparql-results+json"})
        assert r.status == 200, r
        return r.json()["results"]["bindings"]

    def __enter__(self) -> OxigraphServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def push_build(project, state, store_url: str, *extra: str) -> CliResult:
    """`kopru --project P build --push URL` (in-process) with the project's state dir."""
    r = run_cli("--project", project, "build", "--push", store_url, *extra,
                env={STATE_ENV: str(state)})
    assert r.returncode == 0, r.stderr + r.stdout
    return r


# --- small projects ------------------------------------------------------------------------

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

# Wikidata links for the tiny project (the federation tests join through them).
TINY_LINKS = """\
@prefix id: <https://w3id.org/kopru/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
id:albania skos:exactMatch <http://www.wikidata.org/entity/Q222> .
id:turkiye skos:exactMatch <http://www.wikidata.org/entity/Q43> .
"""


def make_tiny_project(root: str | os.PathLike[str], links: bool = False) -> Path:
    """Write the tiny project into `root` (created if needed): its own tiny
    ontology and shapes, two graph files (three with `links`), one query."""
    root = Path(root)
    for d in ("ontology", "graph", "queries"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "ontology" / "kopru.ttl").write_text(TINY_ONTOLOGY, encoding="utf-8")
    (root / "ontology" / "shapes.ttl").write_text(TINY_SHAPES, encoding="utf-8")
    (root / "graph" / "actors.ttl").write_text(TINY_ACTORS, encoding="utf-8")
    (root / "graph" / "agreements.ttl").write_text(TINY_AGREEMENTS, encoding="utf-8")
    if links:
        (root / "graph" / "links.ttl").write_text(TINY_LINKS, encoding="utf-8")
    (root / "queries" / "parties.rq").write_text(TINY_QUERY, encoding="utf-8")
    return root


def make_shipped_ontology_project(root: str | os.PathLike[str], name: str, turtle: str) -> Path:
    """A project of the shipped ontology, the source sentences and one
    graph file `name` holding `turtle` (the page and view fixtures)."""
    root = Path(root)
    shutil.copytree(REPO_ROOT / "ontology", root / "ontology")
    (root / "graph").mkdir()
    shutil.copy(REPO_ROOT / "graph" / "sources.ttl", root / "graph")
    (root / "graph" / name).write_text(turtle, encoding="utf-8")
    return root


def long_proof(target: str, in_make_test: str):
    """Mark a proof run (a long version of a check): skipped unless
    KOPRU_LONG_PROOFS=1, which `make TARGET` sets; `in_make_test` says what
    `make test` checks instead."""
    return pytest.mark.skipif(
        os.environ.get("KOPRU_LONG_PROOFS") != "1",
        reason=f"a proof run: `make {target}` (KOPRU_LONG_PROOFS=1) runs it; "
               f"make test {in_make_test}")


def make_shape_cases_project(root: str | os.PathLike[str], cases) -> Path:
    """tests/shape_cases.py's minimal valid project (the shipped ontology
    and its CONTEXT) with these broken examples, each in its own file
    (Case.file)."""
    from shape_cases import CONTEXT, PREFIXES

    root = Path(root)
    shutil.copytree(REPO_ROOT / "ontology", root / "ontology")
    (root / "graph").mkdir()
    (root / "graph" / "context.ttl").write_text(CONTEXT, encoding="utf-8")
    for case in cases:
        (root / case.file).write_text(PREFIXES + "\n" + case.turtle + "\n", encoding="utf-8")
    return root


def build_project(project: str | os.PathLike[str], state: str | os.PathLike[str]):
    """Build `project` into the state dir `state`, in this process."""
    from server.pipeline.build import build
    from server.pipeline.project import Project

    return build(Project(project, state_dir=state))


def copy_build(project: str | os.PathLike[str], state: str | os.PathLike[str],
               to_project: str | os.PathLike[str], to_state: str | os.PathLike[str]
               ) -> tuple[Path, Path]:
    """Copy a built project and its state dir (the `current` link is
    relative, so the copy is a build of the copy): for a test that edits a
    build it would otherwise have to make afresh."""
    shutil.copytree(project, to_project, symlinks=True)
    shutil.copytree(state, to_state, symlinks=True)
    return Path(to_project), Path(to_state)


# The page fixture project: test entities over the shipped ontology and the
# source sentences (tests/test_linked_data.py and tests/test_pages.py).
PAGES_TTL = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix src: <https://w3id.org/kopru/source/article#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix schema: <http://schema.org/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

id:article-publication a time:Instant ; rdfs:label "Publication of the source article"@en .
id:testonia a kop:State , kop:Country ;
    rdfs:label "Testonia"@en , "Testoniya"@tr , "Testonië"@sq ;
    skos:exactMatch <http://www.wikidata.org/entity/Q4115189> ;
    geo:hasGeometry id:testonia-point .
id:testonia-point a geo:Geometry ; rdfs:label "Testonia (point)"@en ;
    geo:asWKT "POINT(17.1856 44.7758)"^^geo:wktLiteral .
id:test-hub a kop:State , kop:Country ; rdfs:label "Hubland"@en , "Hubülke"@tr .
id:test-script a kop:Company ; rdfs:label "<script>alert('x')</script> & Sons"@en .
id:test-year-2019 a time:Instant ; rdfs:label "2019"@en ; time:inXSDgYear "2019"^^xsd:gYear .
id:test-agreement a kop:StrategicPartnershipAgreement ;
    rdfs:label "Testonia–Hubland test partnership"@en ;
    kop:party id:testonia , id:test-hub , id:test-script ;
    kop:signedOn id:test-year-2019 ;
    kop:amount id:test-amount ;
    kop:summary "A test agreement between Testonia and Hubland, worth <b>bold</b> money."@en ;
    kop:statedIn src:S21 .
id:test-amount a schema:MonetaryAmount ; rdfs:label "919500000 US dollars"@en ;
    schema:value 919500000.0 ; schema:currency "USD" .
id:test-observers a kop:AnonymousGroup ; rdfs:label "Test observers (unnamed)"@en .
id:test-claim a kop:AttributedOpinion ;
    rdfs:label "Test observers: Hubland is a hub"@en ;
    prov:wasAttributedTo id:test-observers ;
    kop:about id:test-hub ;
    kop:summary "Test observers say Hubland is a hub."@en ;
    kop:statedIn src:S43 .
""" + "".join(
    f'id:test-support-{i:02d} a kop:Support ; rdfs:label "Test support {i:02d}"@en ; '
    f'kop:provider id:testonia ; kop:recipient id:test-hub ; '
    f'kop:summary "Testonia supports Hubland, test case {i:02d}."@en ; kop:statedIn src:S01 .\n'
    for i in range(1, 61))


def query_answer(result):
    """A pyoxigraph query result as a comparable value: ASK's boolean,
    SELECT's rows as sorted tuples of strings, a graph's sorted triples."""
    import pyoxigraph as ox

    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return sorted(tuple(str(row[n]) for n in names) for row in result)
    return sorted(str(t) for t in result)


# Queries that name another tenant's graph (<urn:other>, holding "other
# tenant") in every way SPARQL can: through Köprü each must answer no rows.
OTHER_TENANT_QUERIES = [
    ('SELECT * { ?s ?p "other tenant" }', {}),
    ('SELECT * { GRAPH ?g { ?s ?p "other tenant" } }', {}),
    ('SELECT * FROM <urn:other> { ?s ?p ?o }', {}),
    ('SELECT * FROM NAMED <urn:other> { GRAPH ?g { ?s ?p ?o } }', {}),
    ("SELECT * { ?s ?p ?o }", {"default-graph-uri": "urn:other"}),
    ("SELECT * { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": "urn:other"}),
    ("SELECT * { GRAPH <urn:other> { ?s ?p ?o } }", {}),
]
