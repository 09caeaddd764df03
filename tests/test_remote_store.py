"""A remote SPARQL store: `kopru build --push URL` and the app serving from
a remote store (`store_url`, as `kopru serve --store URL` does), against a
real `oxigraph serve` process (PyPI's `oxigraph`), and against a small fake
store where a test must see exactly what Köprü sends. The app runs
in-process: the process that matters here is the store.

Also run against both stores from the same test code: tests/test_competency.py
and tests/test_sparql_formats.py (fixtures `any_app`, `store_url`).
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
from helpers import (
    ASSERTED,
    ENTAILED,
    ID,
    ONTOLOGY,
    OTHER_TENANT_QUERIES,
    REPO_ROOT,
    SHAPES,
    ClosedPort,
    OxigraphServer,
    build_project,
    http,
    make_tiny_project,
    push_build,
    wait_for,
)

ALL = (ASSERTED, ENTAILED, ONTOLOGY, SHAPES)
META_GRAPH = "https://w3id.org/kopru/graph/meta"
COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
CARTESIAN = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . "
             "?j ?k ?l . ?m ?n2 ?o }")
SPARQL = "/sparql"
# Readers here reuse the store's version they read for 0.2 s (the default
# is a second), so a push's grace, which must outlast that and a query in
# flight, can be 0.8 s: 0.6 s for the query, as a second's reuse and a
# 1.5 s grace would leave 0.5 s.
VERSION_MAX_AGE, GRACE = 0.2, 0.8


def graph_counts(store: OxigraphServer) -> dict[str, int]:
    """Triples per graph, as the store names them (versioned)."""
    return {b["g"]["value"]: int(b["n"]["value"]) for b in store.query(COUNTS)}


def store_meta(store: OxigraphServer) -> dict[str, str]:
    return {b["p"]["value"].rsplit("#", 1)[1]: b["o"]["value"] for b in store.query(
        f"SELECT ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}")}


def versions_in(store: OxigraphServer) -> set[str]:
    """The versions whose graphs the store holds."""
    return {g.rsplit("/", 1)[1] for g in graph_counts(store)
            if any(g.startswith(c + "/") for c in ALL)}


def manifest_counts(state: Path) -> dict[str, int]:
    current = (state / "current").resolve()
    return json.loads((current / "manifest.json").read_text())["counts"]


def ask(client, query: str, **params) -> bool:
    r = client.get(SPARQL, query_string={"query": query, **params})
    assert r.status_code == 200, r.text
    return r.get_json()["boolean"]


# --- the shipped project, pushed to a real Oxigraph server ---------------------------


@pytest.mark.remote
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


@pytest.mark.remote
def test_push_again_is_skipped_when_the_store_holds_the_build(shipped_oxigraph, built_project):
    r = push_build(REPO_ROOT, built_project[1], shipped_oxigraph.url)
    assert "remote store up to date" in r.stdout, r.stdout + r.stderr


def test_push_to_a_store_that_is_not_there_fails_clearly(built_project, runner):
    with ClosedPort() as closed:
        r = runner.invoke("build", "--push", closed.url)
    assert r.returncode == 1
    assert "not answering" in r.stderr and closed.url in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.remote
def test_competency_query_from_the_remote_store(remote_app):
    query = (REPO_ROOT / "queries" / "exports-to-western-balkans-ranked.rq").read_text()
    r = remote_app.test_client().post(SPARQL, data=query, headers={
        "Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    rows = r.get_json()["results"]["bindings"]
    assert rows[0]["country"]["value"] == ID + "albania"
    assert Decimal(rows[0]["value"]["value"]) == Decimal("919500000")
    assert [b["country"]["value"].rsplit("/", 1)[1] for b in rows] == [
        "albania", "kosovo", "bosnia-and-herzegovina"]


def test_entity_page_on_both_stores(any_client):
    r = any_client.get("/id/albania", headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["Location"].endswith("/id/albania.html")
    r = any_client.get("/id/albania.html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "<title>Albania" in r.text
    r = any_client.get("/id/albania.ttl")
    assert r.status_code == 200 and '"Albania"@en' in r.text
    r = any_client.get("/id/no-such-thing.html")
    assert r.status_code == 404


@pytest.mark.parametrize("path,needle", [
    ("/", "Köprü"),
    ("/browse", "Country"),
    ("/search?q=alban", "Albania"),
    ("/ontology", "TradeFlow"),
    ("/source/article", "S21"),
    ("/.well-known/void", "void:sparqlEndpoint"),
    ("/dumps/kopru-asserted.nt", "https://w3id.org/kopru/id/albania"),
])
def test_pages_on_both_stores(any_client, path, needle):
    r = any_client.get(path)
    assert r.status_code == 200, (path, r.text[:500])
    assert needle in r.text, path


def test_syntax_error_is_400_with_line_and_column(any_client):
    r = any_client.get(SPARQL, query_string={"query": "SELECT * WHERE { ?s ?p "})
    assert r.status_code == 400, r.text
    assert "line 1, column" in r.text and "^" in r.text


def test_healthz(any_app, built_project):
    r = any_app.test_client().get("/healthz")
    assert r.status_code == 200, r.text
    doc = r.get_json()
    kind = "remote" if any_app.config["KOPRU"].remote else "embedded"
    assert doc["status"] == "ok" and doc["store"] == kind
    assert doc["triples"] == sum(manifest_counts(built_project[1]).values())
    assert r.headers["Cache-Control"] == "no-store"


# --- the tiny site on an Oxigraph server of this module's own ----------------------------
# (these tests stop it, restart it and add another tenant's graph to it)


@pytest.fixture(scope="module")
def tiny_store(tiny_site, tmp_path_factory):
    with OxigraphServer(tmp_path_factory.mktemp("oxigraph-tiny-own")) as store:
        push_build(*tiny_site, store.url)
        yield store


@pytest.fixture(scope="module")
def dead_service():
    """An allowlisted SERVICE endpoint on a port that refuses connections."""
    with ClosedPort() as closed:
        yield closed.url + "/sparql"


@pytest.fixture(scope="module")
def tiny_remote(tiny_site, tiny_store, dead_service, make_app):
    """The app over the tiny store: 2 s timeout, the dead SERVICE allowlisted;
    it reuses the store's version it read for VERSION_MAX_AGE (not a second),
    so it notices the store going away sooner."""
    return make_app(*tiny_site, store_url=tiny_store.url, query_timeout=2,
                    service_allowlist=dead_service, store_version_max_age=VERSION_MAX_AGE)


@pytest.mark.remote
def test_failing_service_call_in_the_store_is_a_clear_502(tiny_remote, dead_service):
    """The store makes the (allowlisted) SERVICE call itself; when that fails
    half-way through its answer, Köprü says so instead of passing on a
    broken document."""
    c = tiny_remote.test_client()
    q = f"SELECT * WHERE {{ SERVICE <{dead_service}> {{ ?s ?p ?o }} }}"
    for fmt in ("json", "tsv", "csv", "xml"):
        r = c.get(SPARQL, query_string={"query": q, "format": fmt})
        assert r.status_code == 502 and "SERVICE" in r.text, (fmt, r.text)
    r = c.get(SPARQL, query_string={"query": q.replace("SERVICE", "SERVICE SILENT")})
    assert r.status_code == 200 and r.get_json()["results"]["bindings"] == [{}]


@pytest.mark.remote
def test_the_dataset_is_koprus_graphs_whatever_the_store_default(tiny_remote, tiny_store):
    """Another graph in the same store (another tenant's data) is invisible
    through Köprü, as it would be in the embedded store."""
    r = http("POST", tiny_store.url + "/update",
             'INSERT DATA { GRAPH <urn:other> { <urn:secret> <urn:p> "other tenant" } }',
             {"Content-Type": "application/sparql-update"})
    assert r.status == 204, r
    try:
        c = tiny_remote.test_client()
        for q, params in OTHER_TENANT_QUERIES:
            r = c.get(SPARQL, query_string={"query": q, **params})
            assert r.status_code == 200 and r.get_json()["results"]["bindings"] == [], \
                (q, params, r.text)
        # …while Köprü's own graphs answer as in the embedded store
        r = c.get(SPARQL, query_string={"query": COUNTS})
        assert {b["g"]["value"] for b in r.get_json()["results"]["bindings"]} == set(ALL)
        r = c.get(SPARQL, query_string={
            "query": f"SELECT * FROM <{ASSERTED}> {{ <{ID}albania> a ?t }}"})
        assert [b["t"]["value"] for b in r.get_json()["results"]["bindings"]] == [
            "https://w3id.org/kopru/ontology#State"]
    finally:
        http("POST", tiny_store.url + "/update", "DROP SILENT GRAPH <urn:other>",
             {"Content-Type": "application/sparql-update"})


@pytest.mark.remote
def test_remote_timeout_is_koprus_503_and_the_server_stays_responsive(tiny_remote, tiny_store):
    """A query the store is still working on when the time is up is Köprü's
    503; requests beside it, and after it, are answered."""
    box = {}

    def heavy():
        box["reply"] = tiny_remote.test_client().get(SPARQL, query_string={"query": CARTESIAN})

    t = threading.Thread(target=heavy)
    t.start()
    try:
        # while that request waits on the store, another is answered
        assert ask(tiny_remote.test_client(), "ASK { ?s ?p ?o }") is True
        t.join(60)                    # a hang detector: the heavy request ends at 2 s
        reply = box["reply"]
        assert reply.status_code == 503, reply.text
        assert "exceeded the 2 s limit" in reply.text
        # Köprü is free again at once (Oxigraph may still be counting: its business)
        c = tiny_remote.test_client()
        for _ in range(3):
            assert ask(c, "ASK { ?s ?p ?o }") is True
    finally:
        t.join(60)
        tiny_store.restart()      # stop the runaway count


@pytest.mark.remote
def test_store_down_then_back(tiny_remote, tiny_store):
    c = tiny_remote.test_client()
    assert c.get("/healthz").status_code == 200
    tiny_store.stop()
    try:
        # Köprü reuses the store's version it read for a moment: wait for
        # it to notice, however long that moment takes here.
        r = wait_for(lambda: (lambda r: r if r.status_code != 200 else None)(
            c.get(SPARQL, query_string={"query": "ASK { ?s ?p ?o }"})),
            30, "Köprü to notice the store is gone")
        assert r.status_code in (502, 503), r.text
        assert "not answering" in r.text and tiny_store.url in r.text
        assert r.headers.get("Retry-After")
        r = c.get("/id/albania", headers={"Accept": "text/turtle"})
        assert r.status_code in (502, 503) and "not answering" in r.text, r.text
        r = c.get("/id/albania.html", headers={"Accept": "text/html"})
        assert r.status_code in (502, 503) and "not answering" in r.text, r.text
        r = c.get("/healthz")
        assert r.status_code == 503 and r.get_json()["status"] == "unavailable", r.text
        assert r.get_json()["store"] == "remote"
    finally:
        tiny_store.start()        # same port, same data
    # …and everything recovers without restarting Köprü (after the client's
    # one-second fail-fast, however long it takes here)
    wait_for(lambda: c.get("/healthz").status_code == 200, 30, "/healthz to recover")
    wait_for(lambda: c.get(SPARQL, query_string={"query": "ASK { ?s ?p ?o }"}).status_code == 200,
             30, "queries to be answered again")
    for _ in range(3):
        assert ask(c, "ASK { ?s ?p ?o }") is True
    r = c.get("/id/albania.ttl")
    assert r.status_code == 200 and '"Albania"@en' in r.text


@pytest.mark.remote
def test_update_path_and_blank_nodes(tiny_site, tmp_path):
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
        state = tiny_site[1]
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
    project = make_tiny_project(root / "project", links=True)
    lines = [CITIES] + [f'id:town-{i} a kop:City ; rdfs:label "Town {i}"@en ; '
                        f"kop:partOf id:albania .\n" for i in range(600)]
    (project / "graph" / "towns.ttl").write_text("".join(lines), encoding="utf-8")
    onto = project / "ontology" / "kopru.ttl"
    onto.write_text(onto.read_text() + 'kop:Village a owl:Class ; rdfs:subClassOf kop:Place ; '
                    'rdfs:label "village"@en .\n', encoding="utf-8")
    build_project(project, root / "state")
    return project, root / "state"


@pytest.mark.remote
def test_readers_never_see_half_a_push(tiny_site, make_app, tmp_path):
    from server.stores.http import Endpoints
    from server.stores.push import push_store_dir
    from server.stores.remote import RemoteStore

    a_project, a_state = tiny_site
    b_project, b_state = _variant_b(tmp_path / "b")
    a_dir, b_dir = (a_state / "current").resolve(), (b_state / "current").resolve()

    def as_tuple(counts: dict) -> tuple:
        return tuple(counts.get(k, 0) for k in ("asserted", "entailed", "ontology", "shapes"))

    versions = {as_tuple(manifest_counts(a_state)): "A", as_tuple(manifest_counts(b_state)): "B"}
    assert len(versions) == 2

    with OxigraphServer(tmp_path / "ox") as store:
        endpoints = Endpoints.from_url(store.url)
        push_store_dir(a_dir, endpoints)
        app = make_app(a_project, a_state, store_url=store.url, result_cache_bytes=0,
                       store_version_max_age=VERSION_MAX_AGE)
        assert app.extensions["kopru.executor"].store().version_max_age == VERSION_MAX_AGE
        seen: dict[str, list] = {"direct": [], "kopru": []}
        stop = threading.Event()
        errors: list = []

        def direct_reader():
            remote = RemoteStore(endpoints, version_max_age=VERSION_MAX_AGE)
            while not stop.is_set():
                try:
                    c = remote.triple_counts()
                except Exception as e:      # noqa: BLE001
                    errors.append(repr(e))
                    continue
                seen["direct"].append(tuple(c[g] for g in ALL))
                time.sleep(0.01)

        def kopru_reader():
            client = app.test_client()
            while not stop.is_set():
                r = client.get(SPARQL, query_string={"query": COUNTS})
                if r.status_code != 200:
                    errors.append(r.text)
                    continue
                c = {b["g"]["value"]: int(b["n"]["value"])
                     for b in r.get_json()["results"]["bindings"]}
                seen["kopru"].append(tuple(c.get(g, 0) for g in ALL))
                time.sleep(0.01)

        def enough() -> bool:
            return all(len(observed) > 20 and {versions.get(c) for c in observed} >= {"A", "B"}
                       for observed in seen.values())

        readers = [threading.Thread(target=direct_reader), threading.Thread(target=kopru_reader)]
        try:
            for t in readers:
                t.start()
            # Push B and A in turn (at least twice each) until both readers
            # have seen both versions many times over, each push keeping the
            # previous version for GRACE.
            deadline = time.monotonic() + 120          # a hang detector
            pushes = 0
            while pushes < 4 or not enough():
                push_store_dir(b_dir if pushes % 2 == 0 else a_dir, endpoints, grace=GRACE)
                pushes += 1
                assert time.monotonic() < deadline, (pushes, {k: len(v) for k, v in seen.items()})
        finally:
            stop.set()
            for t in readers:
                t.join(30)
        assert not errors, errors[:3]
        for who, observed in seen.items():
            mixed = [c for c in observed if c not in versions]
            assert not mixed, f"{who} saw a half-pushed store: {mixed[:3]}"
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
        # a short poll interval: close() waits for it
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def fake():
    store = FakeStore()
    yield store
    store.close()


@pytest.fixture
def fake_served(tiny_site, fake, make_app, monkeypatch):
    """The app over the fake store, with credentials from the environment."""
    monkeypatch.setenv("KOPRU_STORE_USER", "kopru")
    monkeypatch.setenv("KOPRU_STORE_PASSWORD", "s3cret")
    return make_app(*tiny_site, store_url=fake.url,
                    service_allowlist="https://query.wikidata.org/sparql").test_client()


def test_refused_queries_never_reach_the_store(fake_served, fake):
    c = fake_served
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
            r = c.get(SPARQL, query_string=params)
        else:
            r = c.post(SPARQL, data=body[0], headers={"Content-Type": body[1]})
        assert r.status_code == 403, (params, body, r.text)
    assert fake.requests == []
    # an allowed query does reach it, with Köprü's dataset and credentials
    r = c.get(SPARQL, query_string={"query": "SELECT ?x { ?x ?p ?o }"})
    assert r.status_code == 200 and r.get_json()["results"]["bindings"] == [
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
        r = fake_served.get(SPARQL, query_string={"query": "SELECT ?x { ?x ?p ?o }"})
        assert r.status_code == 502, r.text
        assert "credentials" in r.text and "KOPRU_STORE_USER" in r.text
    finally:
        fake.status = 200
