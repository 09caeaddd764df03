"""A remote SPARQL store: `kopru build --push URL` and `kopru serve --store URL`
against a real `oxigraph serve` process (PyPI's `oxigraph`), and against a
small fake store where a test must see exactly what Köprü sends.

Also run against both stores from the same test code: tests/test_competency.py
and tests/test_sparql_formats.py (fixtures `any_kopru_server`, `store_kind`).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import (
    REPO_ROOT,
    OxigraphServer,
    free_port,
    kopru_env,
    push_build,
    run_kopru,
    serve_tiny_on,
    start_kopru_server,
)
from test_sparql_protocol import (
    ASSERTED,
    ENTAILED,
    ID,
    ONTOLOGY,
    SHAPES,
    http,
    tiny_server_project,
)

ALL = (ASSERTED, ENTAILED, ONTOLOGY, SHAPES)
META_GRAPH = "https://w3id.org/kopru/graph/meta"
COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
CARTESIAN = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . "
             "?j ?k ?l . ?m ?n2 ?o }")


def oxigraph_query(store: OxigraphServer, query: str, **dataset) -> list[dict]:
    """Ask the Oxigraph server directly (not through Köprü)."""
    fields = [("query", query)] + [(k.replace("_", "-"), v) for k, vs in dataset.items()
                                   for v in vs]
    r = http("POST", store.url + "/query", urllib.parse.urlencode(fields),
             {"Content-Type": "application/x-www-form-urlencoded",
              "Accept": "application/sparql-results+json"})
    assert r.status == 200, r
    return r.json()["results"]["bindings"]


def graph_counts(store: OxigraphServer) -> dict[str, int]:
    """Triples per graph, as the store names them (versioned)."""
    return {b["g"]["value"]: int(b["n"]["value"]) for b in oxigraph_query(store, COUNTS)}


def store_meta(store: OxigraphServer) -> dict[str, str]:
    return {b["p"]["value"].rsplit("#", 1)[1]: b["o"]["value"] for b in oxigraph_query(
        store, f"SELECT ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}")}


def versions_in(store: OxigraphServer) -> set[str]:
    """The versions whose graphs the store holds."""
    return {g.rsplit("/", 1)[1] for g in graph_counts(store)
            if any(g.startswith(c + "/") for c in ALL)}


def manifest_counts(state: Path) -> dict[str, int]:
    current = (state / "current").resolve()
    return json.loads((current / "manifest.json").read_text())["counts"]


def wait_for(predicate, timeout: float = 10, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


# --- the shipped project, pushed to a real Oxigraph server ---------------------------


def test_push_loads_every_graph_and_the_version(shipped_oxigraph, built_project):
    counts = graph_counts(shipped_oxigraph)
    expected = manifest_counts(built_project[1])
    meta = store_meta(shipped_oxigraph)
    version = meta["version"]
    for key, iri in (("asserted", ASSERTED), ("entailed", ENTAILED), ("ontology", ONTOLOGY),
                     ("shapes", SHAPES)):
        assert counts[f"{iri}/{version}"] == expected[key] > 0, key
    # one version in the store, named by the pointer in the meta graph
    assert versions_in(shipped_oxigraph) == {version}
    manifest = json.loads(((built_project[1] / "current").resolve() / "manifest.json").read_text())
    assert meta["hash"] == manifest["hash"]
    assert meta["version"].split("-")[1] == manifest["hash"][:12]
    assert int(meta["triples"]) == sum(expected.values())


def test_push_again_is_skipped_when_the_store_holds_the_build(shipped_oxigraph, built_project):
    r = push_build(REPO_ROOT, built_project[1], shipped_oxigraph.url)
    assert "remote store up to date" in r.stdout, r.stdout + r.stderr


def test_push_to_a_store_that_is_not_there_fails_clearly(built_project):
    dead = f"http://127.0.0.1:{free_port()}"
    r = run_kopru("build", "--push", dead)
    assert r.returncode == 1
    assert "not answering" in r.stderr and dead in r.stderr
    assert "Traceback" not in r.stderr


def test_competency_query_from_the_remote_store(remote_kopru_server):
    query = (REPO_ROOT / "queries" / "exports-to-western-balkans-ranked.rq").read_text()
    r = http("POST", remote_kopru_server.sparql_url, query,
             {"Content-Type": "application/sparql-query",
              "Accept": "application/sparql-results+json"})
    assert r.status == 200, r
    rows = r.json()["results"]["bindings"]
    assert rows[0]["country"]["value"] == ID + "albania"
    assert Decimal(rows[0]["value"]["value"]) == Decimal("919500000")
    assert [b["country"]["value"].rsplit("/", 1)[1] for b in rows] == [
        "albania", "kosovo", "bosnia-and-herzegovina"]


def test_entity_page_on_both_stores(any_kopru_server):
    r = http("GET", any_kopru_server.url + "/id/albania", headers={"Accept": "text/html"})
    assert r.status == 303 and r.headers["Location"].endswith("/id/albania.html")
    r = http("GET", any_kopru_server.url + "/id/albania.html")
    assert r.status == 200 and r.content_type == "text/html"
    assert "<title>Albania" in r.text
    r = http("GET", any_kopru_server.url + "/id/albania.ttl")
    assert r.status == 200 and '"Albania"@en' in r.text
    r = http("GET", any_kopru_server.url + "/id/no-such-thing.html")
    assert r.status == 404


@pytest.mark.parametrize("path,needle", [
    ("/", "Köprü"),
    ("/browse", "Country"),
    ("/search?q=alban", "Albania"),
    ("/ontology", "TradeFlow"),
    ("/source/article", "S21"),
    ("/.well-known/void", "void:sparqlEndpoint"),
    ("/dumps/kopru-asserted.nt", "https://w3id.org/kopru/id/albania"),
])
def test_pages_on_both_stores(any_kopru_server, path, needle):
    r = http("GET", any_kopru_server.url + path)
    assert r.status == 200, (path, r)
    assert needle in r.text, path


def test_syntax_error_is_400_with_line_and_column(any_kopru_server):
    r = http("GET", any_kopru_server.sparql_url, params={"query": "SELECT * WHERE { ?s ?p "})
    assert r.status == 400, r
    assert "line 1, column" in r.text and "^" in r.text


def test_healthz(any_kopru_server, built_project):
    r = http("GET", any_kopru_server.url + "/healthz")
    assert r.status == 200, r
    doc = r.json()
    kind = "remote" if "--store" in " ".join(any_kopru_server.proc.args) else "embedded"
    assert doc["status"] == "ok" and doc["store"] == kind
    assert doc["triples"] == sum(manifest_counts(built_project[1]).values())
    assert r.headers["Cache-Control"] == "no-store"


# --- the tiny project on its own Oxigraph server ----------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_server_project(tmp_path_factory.mktemp("remote-store"))


@pytest.fixture(scope="module")
def tiny_store(tiny, tmp_path_factory):
    with OxigraphServer(tmp_path_factory.mktemp("oxigraph-tiny")) as store:
        push_build(*tiny, store.url)
        yield store


DEAD_SERVICE = f"http://127.0.0.1:{free_port()}/sparql"     # allowlisted, nobody listens


@pytest.fixture(scope="module")
def tiny_remote(tiny, tiny_store):
    with serve_tiny_on("remote", *tiny, "--timeout", "2", "--workers", "2",
                       store=tiny_store, KOPRU_SERVICE_ALLOWLIST=DEAD_SERVICE) as server:
        yield server


def test_failing_service_call_in_the_store_is_a_clear_502(tiny_remote):
    """The store makes the (allowlisted) SERVICE call itself; when that fails
    half-way through its answer, Köprü says so instead of passing on a
    broken document."""
    q = f"SELECT * WHERE {{ SERVICE <{DEAD_SERVICE}> {{ ?s ?p ?o }} }}"
    for fmt in ("json", "tsv", "csv", "xml"):
        r = http("GET", tiny_remote.sparql_url, params={"query": q, "format": fmt})
        assert r.status == 502 and "SERVICE" in r.text, (fmt, r)
    r = http("GET", tiny_remote.sparql_url,
             params={"query": q.replace("SERVICE", "SERVICE SILENT")})
    assert r.status == 200 and r.json()["results"]["bindings"] == [{}]


def test_the_dataset_is_koprus_graphs_whatever_the_store_default(tiny_remote, tiny_store):
    """Another graph in the same store (another tenant's data) is invisible
    through Köprü, as it would be in the embedded store."""
    r = http("POST", tiny_store.url + "/update",
             'INSERT DATA { GRAPH <urn:other> { <urn:secret> <urn:p> "other tenant" } }',
             {"Content-Type": "application/sparql-update"})
    assert r.status == 204, r
    try:
        url = tiny_remote.sparql_url
        for q, params in [
            ('SELECT * { ?s ?p "other tenant" }', {}),
            ('SELECT * { GRAPH ?g { ?s ?p "other tenant" } }', {}),
            ('SELECT * FROM <urn:other> { ?s ?p ?o }', {}),
            ('SELECT * FROM NAMED <urn:other> { GRAPH ?g { ?s ?p ?o } }', {}),
            ("SELECT * { ?s ?p ?o }", {"default-graph-uri": "urn:other"}),
            ("SELECT * { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": "urn:other"}),
        ]:
            r = http("GET", url, params={"query": q, **params})
            assert r.status == 200 and r.json()["results"]["bindings"] == [], (q, params, r)
        # …while Köprü's own graphs answer as in the embedded store
        r = http("GET", url, params={"query": COUNTS})
        assert {b["g"]["value"] for b in r.json()["results"]["bindings"]} == set(ALL)
        r = http("GET", url, params={"query": f"SELECT * FROM <{ASSERTED}> {{ <{ID}albania> a ?t }}"})
        assert [b["t"]["value"] for b in r.json()["results"]["bindings"]] == [
            "https://w3id.org/kopru/ontology#State"]
    finally:
        http("POST", tiny_store.url + "/update", "DROP SILENT GRAPH <urn:other>",
             {"Content-Type": "application/sparql-update"})


def test_remote_timeout_is_koprus_503_and_the_server_stays_responsive(tiny_remote, tiny_store):
    url = tiny_remote.sparql_url
    box = {}

    def heavy():
        t0 = time.monotonic()
        box["reply"] = http("GET", url, params={"query": CARTESIAN}, timeout=30)
        box["seconds"] = time.monotonic() - t0

    t = threading.Thread(target=heavy)
    t.start()
    try:
        time.sleep(0.3)
        # while one worker waits on the store, the other answers at once
        t0 = time.monotonic()
        r = http("GET", url, params={"query": "ASK { ?s ?p ?o }"})
        assert r.status == 200 and time.monotonic() - t0 < 1.5
        t.join(30)
        reply = box["reply"]
        assert reply.status == 503, reply
        assert "exceeded the 2 s limit" in reply.text
        assert box["seconds"] < 4
        # Köprü is free again at once (Oxigraph may still be counting: its business)
        for _ in range(3):
            r = http("GET", url, params={"query": "ASK { ?s ?p ?o }"})
            assert r.status == 200
    finally:
        t.join(30)
        tiny_store.restart()      # stop the runaway count


def test_store_down_then_back(tiny_remote, tiny_store):
    base = tiny_remote.url
    assert http("GET", base + "/healthz").status == 200
    tiny_store.stop()
    try:
        time.sleep(1.2)           # the store's version is trusted for up to a second
        r = http("GET", tiny_remote.sparql_url, params={"query": "ASK { ?s ?p ?o }"})
        assert r.status in (502, 503), r
        assert "not answering" in r.text and tiny_store.url in r.text
        assert r.headers.get("Retry-After")
        r = http("GET", base + "/id/albania", headers={"Accept": "text/turtle"})
        assert r.status in (502, 503) and "not answering" in r.text, r
        r = http("GET", base + "/id/albania.html", headers={"Accept": "text/html"})
        assert r.status in (502, 503) and "not answering" in r.text, r
        r = http("GET", base + "/healthz")
        assert r.status == 503 and r.json()["status"] == "unavailable", r
        assert r.json()["store"] == "remote"
        assert tiny_remote.alive()
    finally:
        tiny_store.start()        # same port, same data
    # …and everything recovers without restarting Köprü. Each worker notices on
    # its own: one that failed within the last second still fails fast, so give
    # that second time to pass once the store answers again.
    assert wait_for(lambda: http("GET", base + "/healthz").status == 200, 10)
    time.sleep(1.2)
    for _ in range(4):            # both workers, whichever each request reaches
        r = http("GET", tiny_remote.sparql_url, params={"query": "ASK { ?s ?p ?o }"})
        assert r.status == 200 and r.json()["boolean"] is True
    r = http("GET", base + "/id/albania.ttl")
    assert r.status == 200 and '"Albania"@en' in r.text


def test_update_path_and_blank_nodes(tiny, tmp_path):
    """Without a Graph Store Protocol endpoint the push falls back on SPARQL
    Update; blank nodes keep their identity (here within the shapes graph,
    and across two graphs)."""
    import pyoxigraph as ox

    from server.stores.http import Endpoints
    from server.stores.push import push_store_dir, replace_graphs
    from server.stores.remote import RemoteStore

    with OxigraphServer(tmp_path / "ox") as store:
        e = Endpoints.from_url(store.url, gsp_url=None)
        e = Endpoints(query=e.query, update=e.update, gsp=store.url + "/no-gsp-here")
        state = tiny[1]
        result = push_store_dir((state / "current").resolve(), e)
        assert result.method == "update"
        remote = RemoteStore(store.url)
        assert {k: remote.triple_counts()[v] for k, v in (
            ("asserted", ASSERTED), ("entailed", ENTAILED), ("ontology", ONTOLOGY),
            ("shapes", SHAPES))} == manifest_counts(state)
        join = ("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT (COUNT(*) AS ?n) WHERE { "
                f"GRAPH <{SHAPES}> {{ ?shape sh:property ?ps . ?ps sh:path ?p }} }}")
        assert int(next(iter(remote.query(join)))["n"].value) >= 3

        b = ox.BlankNode()
        p, q = ox.NamedNode("urn:p"), ox.NamedNode("urn:q")
        replace_graphs(remote, {ASSERTED: [ox.Triple(b, p, ox.Literal("x"))],
                                ENTAILED: [ox.Triple(ox.NamedNode("urn:s"), q, b)]}, grace=0)
        rows = list(remote.query(f"SELECT ?b WHERE {{ GRAPH <{ASSERTED}> {{ ?b <urn:p> \"x\" }} "
                                 f"GRAPH <{ENTAILED}> {{ <urn:s> <urn:q> ?b }} }}"))
        assert len(rows) == 1 and isinstance(rows[0]["b"], ox.BlankNode)
        # the earlier version is gone; the new one holds the two graphs only
        assert len(versions_in(store)) == 1
        assert remote.triple_counts() == {ASSERTED: 1, ENTAILED: 1, ONTOLOGY: 0, SHAPES: 0}


# --- no reader ever sees half a push ------------------------------------------------------

CITIES = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


def _variant_b(root: Path) -> tuple[Path, Path]:
    """The tiny project with more data (and so more entailments) and one
    more ontology term: every graph but shapes differs from version A."""
    from conftest import make_tiny_project

    project = make_tiny_project(root / "project")
    lines = [CITIES] + [f'id:town-{i} a kop:City ; rdfs:label "Town {i}"@en ; '
                        f"kop:partOf id:albania .\n" for i in range(600)]
    (project / "graph" / "towns.ttl").write_text("".join(lines), encoding="utf-8")
    onto = project / "ontology" / "kopru.ttl"
    onto.write_text(onto.read_text() + 'kop:Village a owl:Class ; rdfs:subClassOf kop:Place ; '
                    'rdfs:label "village"@en .\n', encoding="utf-8")
    state = root / "state"
    r = run_kopru("--project", project, "build", env=kopru_env(KOPRU_STATE_DIR=str(state)))
    assert r.returncode == 0, r.stderr
    return project, state


def test_readers_never_see_half_a_push(tiny, tmp_path):
    from server.stores.http import Endpoints
    from server.stores.push import push_store_dir
    from server.stores.remote import RemoteStore

    a_project, a_state = tiny
    b_project, b_state = _variant_b(tmp_path / "b")
    a_dir, b_dir = (a_state / "current").resolve(), (b_state / "current").resolve()

    def as_tuple(counts: dict) -> tuple:
        return tuple(counts.get(k, 0) for k in ("asserted", "entailed", "ontology", "shapes"))

    versions = {as_tuple(manifest_counts(a_state)): "A", as_tuple(manifest_counts(b_state)): "B"}
    assert len(versions) == 2

    with OxigraphServer(tmp_path / "ox") as store:
        endpoints = Endpoints.from_url(store.url)
        push_store_dir(a_dir, endpoints)
        server = serve_tiny_on("remote", a_project, a_state, store=store,
                               KOPRU_RESULT_CACHE_BYTES="0")
        seen: dict[str, list] = {"direct": [], "kopru": []}
        stop = threading.Event()
        errors: list = []

        def direct_reader():
            remote = RemoteStore(endpoints)
            while not stop.is_set():
                try:
                    c = remote.triple_counts()
                except Exception as e:      # noqa: BLE001
                    errors.append(repr(e))
                    continue
                seen["direct"].append(tuple(c[g] for g in ALL))

        def kopru_reader():
            while not stop.is_set():
                r = http("GET", server.sparql_url, params={"query": COUNTS})
                if r.status != 200:
                    errors.append(r)
                    continue
                c = {b["g"]["value"]: int(b["n"]["value"]) for b in r.json()["results"]["bindings"]}
                seen["kopru"].append(tuple(c.get(g, 0) for g in ALL))

        try:
            readers = [threading.Thread(target=direct_reader), threading.Thread(target=kopru_reader)]
            for t in readers:
                t.start()
            # grace 1.5 s: Köprü trusts the pointer it read for up to a second
            for i in range(4):
                push_store_dir(b_dir if i % 2 == 0 else a_dir, endpoints, grace=1.5)
            stop.set()
            for t in readers:
                t.join(10)
        finally:
            stop.set()
            server.stop()
        assert not errors, errors[:3]
        for who, observed in seen.items():
            assert len(observed) > 20, (who, len(observed))
            mixed = [c for c in observed if c not in versions]
            assert not mixed, f"{who} saw a half-pushed store: {mixed[:3]}"
            # both versions were really observed, several times over
            assert {versions[c] for c in observed} == {"A", "B"}, who
        # the older versions were dropped
        assert versions_in(store) == {store_meta(store)["version"]}


# --- what Köprü sends: a fake store that records every request --------------------------


class FakeStore:
    """A minimal 'SPARQL store': answers every query with true / one row,
    records each request (path, headers, form fields). status=401 makes
    it refuse every request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fields = urllib.parse.parse_qs(body)
                owner.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "fields": fields})
                if owner.status != 200:
                    self.send_response(owner.status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", "6")
                    self.end_headers()
                    self.wfile.write(b"denied")
                    return
                q = fields.get("query", [""])[0]
                if META_GRAPH in q:                  # the version pointer: none
                    data, ctype = b"?p\t?o\n", "text/tab-separated-values"
                elif q.lstrip().upper().startswith("ASK"):
                    data, ctype = b'{"head":{},"boolean":true}', "application/sparql-results+json"
                else:
                    data, ctype = b"?x\n<urn:x>\n", "text/tab-separated-values"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fake():
    store = FakeStore()
    yield store
    store.close()


@pytest.fixture(scope="module")
def fake_served(tiny, fake):
    with start_kopru_server("--store", fake.url, project=tiny[0],
                            env=kopru_env(KOPRU_STATE_DIR=str(tiny[1]), KOPRU_STORE_USER="kopru",
                                          KOPRU_STORE_PASSWORD="s3cret",
                                          KOPRU_SERVICE_ALLOWLIST="https://query.wikidata.org/sparql")) as s:
        yield s


def test_refused_queries_never_reach_the_store(fake_served, fake):
    url = fake_served.sparql_url
    fake.requests.clear()
    refused = [
        ("GET", {"query": "SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}, None),
        ("GET", {"query": "SELECT * { SERVICE ?x { ?s ?p ?o } }"}, None),
        ("GET", {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, None),
        ("GET", {"query": "DROP ALL"}, None),
        ("POST", None, ("LOAD <http://127.0.0.1:9/x>", "application/sparql-update")),
        ("POST", None, (urllib.parse.urlencode({"update": "CLEAR ALL"}),
                        "application/x-www-form-urlencoded")),
    ]
    for method, params, body in refused:
        if method == "GET":
            r = http("GET", url, params=params)
        else:
            r = http("POST", url, body[0], {"Content-Type": body[1]})
        assert r.status == 403, (params, body, r)
    assert fake.requests == []
    # an allowed query does reach it, with Köprü's dataset and credentials
    r = http("GET", url, params={"query": "SELECT ?x { ?x ?p ?o }"})
    assert r.status == 200 and r.json()["results"]["bindings"] == [
        {"x": {"type": "uri", "value": "urn:x"}}]
    sent = [q for q in fake.requests if q["fields"]["query"] == ["SELECT ?x { ?x ?p ?o }"]]
    assert len(sent) == 1
    sent = sent[0]
    assert sent["path"] == "/query"
    assert sent["fields"]["default-graph-uri"] == [ASSERTED, ONTOLOGY, ENTAILED]
    assert sorted(sent["fields"]["named-graph-uri"]) == sorted(ALL)
    assert sent["headers"]["Authorization"] == "Basic a29wcnU6czNjcmV0"   # kopru:s3cret


def test_store_refusing_koprus_credentials_is_a_502(fake_served, fake):
    fake.status = 401
    try:
        r = http("GET", fake_served.sparql_url, params={"query": "SELECT ?x { ?x ?p ?o }"})
        assert r.status == 502, r
        assert "credentials" in r.text and "KOPRU_STORE_USER" in r.text
    finally:
        fake.status = 200
