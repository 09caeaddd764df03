"""The SPARQL 1.1 Protocol at /sparql, over real HTTP to a real `kopru serve`.

The 34 W3C protocol cases (sparql11/protocol/manifest.ttl, as they apply to a
read-only store: see shared reference sparql-protocol.md), then the rest of
the protocol: errors with helpful messages, CORS, the service description,
the named graphs, the query UI for browsers, and real clients (SPARQLWrapper,
rdflib's SPARQLStore).

The helpers at the top (`http`, `start_server`, `tiny_server_project`) are
shared by the other endpoint test files.
"""

from __future__ import annotations

import http.client as httpclient
import json
import re
import time
import urllib.parse
from pathlib import Path

import pytest
from conftest import kopru_env, make_tiny_project, run_kopru, start_kopru_server

# --- shared helpers -------------------------------------------------------------

LINKS_TTL = """\
@prefix id: <https://w3id.org/kopru/id/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
id:albania skos:exactMatch <http://www.wikidata.org/entity/Q222> .
id:turkiye skos:exactMatch <http://www.wikidata.org/entity/Q43> .
"""

ASSERTED = "https://w3id.org/kopru/graph/asserted"
ENTAILED = "https://w3id.org/kopru/graph/entailed"
ONTOLOGY = "https://w3id.org/kopru/graph/ontology"
SHAPES = "https://w3id.org/kopru/graph/shapes"
KOP = "https://w3id.org/kopru/ontology#"
ID = "https://w3id.org/kopru/id/"


class Reply:
    def __init__(self, status, headers, body: bytes):
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

    def __repr__(self):
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


def form(**fields) -> tuple[str, dict]:
    pairs = []
    for k, v in fields.items():
        for item in (v if isinstance(v, list) else [v]):
            pairs.append((k.replace("_", "-"), item))
    return urllib.parse.urlencode(pairs), {"Content-Type": "application/x-www-form-urlencoded"}


def tiny_server_project(root: Path, links: bool = True) -> tuple[Path, Path]:
    """The conftest's tiny project (+ Wikidata links), built into its own
    state dir. Returns (project, state dir)."""
    project = make_tiny_project(root / "project")
    if links:
        (project / "graph" / "links.ttl").write_text(LINKS_TTL, encoding="utf-8")
    state = root / "state"
    r = run_kopru("--project", project, "build", env=kopru_env(KOPRU_STATE_DIR=str(state)))
    assert r.returncode == 0, r.stderr + r.stdout
    return project, state


def start_server(project: Path, state: Path, *args: str, **env: str):
    return start_kopru_server(*args, project=project,
                              env=kopru_env(KOPRU_STATE_DIR=str(state), **env))


@pytest.fixture(scope="module")
def tiny_built(tmp_path_factory):
    return tiny_server_project(tmp_path_factory.mktemp("sparql-protocol"))


@pytest.fixture(scope="module")
def server(tiny_built):
    project, state = tiny_built
    with start_server(project, state, "--workers", "2") as s:
        yield s


@pytest.fixture(scope="module")
def url(server):
    return server.sparql_url


def is_bool(reply: Reply) -> bool:
    if reply.content_type in ("application/sparql-results+json", "application/json"):
        return isinstance(reply.json().get("boolean"), bool)
    if reply.content_type in ("application/sparql-results+xml", "application/xml"):
        return b"<boolean>" in reply.body
    return False


def ok(reply: Reply) -> bool:
    return 200 <= reply.status < 400


# --- the 34 W3C protocol cases ----------------------------------------------------

D = "http://kasei.us/2009/09/sparql/data/"
QUERY_TYPE = {"Content-Type": "application/sparql-query"}
UPDATE_TYPE = {"Content-Type": "application/sparql-update"}


def test_w3c_01_query_post_form(url):
    body, h = form(query="ASK {}")
    r = http("POST", url, body, h)
    assert ok(r) and is_bool(r), r


def test_w3c_02_query_dataset_default_graphs_get(url):
    r = http("GET", url, params=[("query", "ASK { <http://kasei.us/2009/09/sparql/data/data1.rdf> ?p ?o }"),
                                 ("default-graph-uri", D + "data1.rdf"),
                                 ("default-graph-uri", D + "data2.rdf")])
    assert ok(r) and is_bool(r), r


def test_w3c_03_query_dataset_default_graphs_post(url):
    r = http("POST", url + "?" + urllib.parse.urlencode(
        [("default-graph-uri", D + "data1.rdf"), ("default-graph-uri", D + "data2.rdf")]),
        "ASK { <http://kasei.us/2009/09/sparql/data/data1.rdf> ?p ?o }", QUERY_TYPE)
    assert ok(r) and is_bool(r), r


def test_w3c_04_query_dataset_named_graphs_post(url):
    r = http("POST", url + "?" + urllib.parse.urlencode(
        [("named-graph-uri", D + "data1.rdf"), ("named-graph-uri", D + "data2.rdf")]),
        "ASK { GRAPH ?g { ?s ?p ?o } }", QUERY_TYPE)
    assert ok(r) and is_bool(r), r


def test_w3c_05_query_dataset_named_graphs_get(url):
    r = http("GET", url, params=[("query", "ASK { GRAPH ?g { ?s ?p ?o } }"),
                                 ("named-graph-uri", D + "data1.rdf"),
                                 ("named-graph-uri", D + "data2.rdf")])
    assert ok(r) and is_bool(r), r


def test_w3c_06_query_dataset_full(url):
    r = http("POST", url + "?" + urllib.parse.urlencode(
        [("default-graph-uri", D + "data3.rdf"), ("named-graph-uri", D + "data1.rdf"),
         ("named-graph-uri", D + "data2.rdf")]),
        "ASK { ?s ?p ?o . GRAPH ?g { ?s2 ?p2 ?o2 } }", QUERY_TYPE)
    assert ok(r) and is_bool(r), r


def test_w3c_07_query_multiple_dataset(url):
    # The protocol's dataset wins over FROM: with named-graph-uri = asserted
    # and the FROM naming an absent graph, GRAPH ?g finds the asserted graph.
    q = f"ASK FROM <{D}data3.rdf> {{ GRAPH <{ASSERTED}> {{ ?s ?p ?o }} }}"
    r = http("POST", url + "?" + urllib.parse.urlencode([("named-graph-uri", ASSERTED)]), q, QUERY_TYPE)
    assert ok(r) and is_bool(r), r
    assert r.json()["boolean"] is True
    r = http("POST", url, q, QUERY_TYPE)          # without it, FROM alone: no named graphs
    assert r.json()["boolean"] is False


def test_w3c_08_query_get(url):
    r = http("GET", url, params={"query": "ASK {}"})
    assert ok(r) and is_bool(r), r


def test_w3c_09_query_content_type_select(url):
    r = http("POST", url, "SELECT (1 AS ?value) {}", QUERY_TYPE)
    assert ok(r), r
    assert r.content_type in ("application/sparql-results+xml", "application/sparql-results+json",
                              "text/csv", "text/tab-separated-values")


def test_w3c_10_query_content_type_ask(url):
    r = http("POST", url, "ASK {}", QUERY_TYPE)
    assert ok(r) and is_bool(r), r
    assert r.content_type in ("application/sparql-results+xml", "application/sparql-results+json")


def test_w3c_11_query_content_type_describe(url):
    r = http("POST", url, "DESCRIBE <http://example.org/>", QUERY_TYPE)
    assert ok(r), r
    assert r.content_type in ("application/rdf+xml", "text/turtle", "application/n-triples",
                              "text/html")


def test_w3c_12_query_content_type_construct(url):
    r = http("POST", url, "CONSTRUCT { <http://example.org/s> <http://example.org/p> 1 } WHERE {}",
             QUERY_TYPE)
    assert ok(r), r
    assert r.content_type in ("application/rdf+xml", "text/turtle", "application/n-triples")


def _refused_update(r: Reply):
    assert r.status == 403, r
    assert "read-only" in r.text and "kopru build" in r.text


@pytest.mark.parametrize("case,params", [
    ("13_update_dataset_default_graph", [("using-graph-uri", D + "data1.rdf")]),
    ("14_update_dataset_default_graphs", [("using-graph-uri", D + "data1.rdf"),
                                         ("using-graph-uri", D + "data2.rdf")]),
    ("15_update_dataset_named_graphs", [("using-named-graph-uri", D + "data1.rdf"),
                                       ("using-named-graph-uri", D + "data2.rdf")]),
    ("16_update_dataset_full", [("using-graph-uri", D + "data1.rdf"),
                               ("using-named-graph-uri", D + "data2.rdf")]),
])
def test_w3c_13_to_16_update_dataset(url, case, params):
    update = ("PREFIX dc: <http://purl.org/dc/terms/> "
              "INSERT { GRAPH <http://example.org/protocol-update-dataset-test/> { ?s a dc:BibliographicResource } } "
              "WHERE { ?s a dc:BibliographicResource }")
    _refused_update(http("POST", url + "?" + urllib.parse.urlencode(params), update, UPDATE_TYPE))
    r = http("GET", url, params={"query": "ASK { GRAPH <http://example.org/protocol-update-dataset-test/> { ?s ?p ?o } }"})
    assert ok(r) and is_bool(r) and r.json()["boolean"] is False


def test_w3c_17_update_post_form(url):
    body, h = form(update="CLEAR ALL")
    _refused_update(http("POST", url, body, h))


def test_w3c_18_update_post_direct(url):
    _refused_update(http("POST", url, "CLEAR ALL", UPDATE_TYPE))
    r = http("GET", url, params={"query": "ASK { ?s ?p ?o }"})
    assert r.json()["boolean"] is True          # nothing was cleared


def test_w3c_19_update_base_uri(url):
    _refused_update(http("POST", url, "INSERT DATA { GRAPH <http://example.org/g> { <test> a <T> } }",
                         UPDATE_TYPE))
    r = http("GET", url, params={"query": "ASK { GRAPH ?g { ?s a ?t } FILTER(isIRI(?s)) }"})
    assert ok(r) and is_bool(r)


def test_w3c_20_query_post_direct(url):
    r = http("POST", url, "ASK {}", QUERY_TYPE)
    assert ok(r) and is_bool(r), r


def test_w3c_21_bad_query_method(url):
    r = http("PUT", url + "?" + urllib.parse.urlencode({"query": "ASK {}"}))
    assert r.status == 405, r
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]
    assert "GET or POST" in r.text or "use GET" in r.text


def test_w3c_22_bad_multiple_queries(url):
    r = http("GET", url, params=[("query", "ASK {}"), ("query", "SELECT * {}")])
    assert r.status == 400, r
    assert "2 'query' parameters" in r.text


def test_w3c_23_bad_query_wrong_media_type(url):
    r = http("POST", url, "ASK {}", {"Content-Type": "text/plain"})
    assert r.status == 415, r
    assert "application/sparql-query" in r.text


def test_w3c_24_bad_query_missing_form_type(url):
    r = http("POST", url, "query=ASK%20%7B%7D")
    assert r.status == 400, r
    assert "Content-Type" in r.text


def test_w3c_25_bad_query_missing_direct_type(url):
    r = http("POST", url, "ASK {}")
    assert r.status == 400, r


def test_w3c_26_bad_query_non_utf8(url):
    r = http("POST", url, "ASK {}".encode("utf-16"),
             {"Content-Type": "application/sparql-query; charset=UTF-16"})
    assert r.status in (400, 415), r
    assert "UTF-8" in r.text


def test_w3c_27_bad_query_syntax(url):
    r = http("GET", url, params={"query": "ASK {"})
    assert r.status == 400, r
    assert "line 1, column 6" in r.text and "expected" in r.text


def test_w3c_28_bad_update_get(url):
    r = http("GET", url, params={"update": "CLEAR ALL"})
    assert 400 <= r.status < 500, r


def test_w3c_29_bad_multiple_updates(url):
    body, h = form(update=["CLEAR NAMED", "CLEAR DEFAULT"])
    r = http("POST", url, body, h)
    assert 400 <= r.status < 500, r


def test_w3c_30_bad_update_wrong_media_type(url):
    r = http("POST", url, "CLEAR NAMED", {"Content-Type": "text/plain"})
    assert 400 <= r.status < 500, r


def test_w3c_31_bad_update_missing_form_type(url):
    r = http("POST", url, "update=CLEAR%20NAMED")
    assert 400 <= r.status < 500, r


def test_w3c_32_bad_update_non_utf8(url):
    r = http("POST", url, "CLEAR NAMED".encode("utf-16"),
             {"Content-Type": "application/sparql-update; charset=UTF-16"})
    assert 400 <= r.status < 500, r


def test_w3c_33_bad_update_syntax(url):
    body, h = form(update="CLEAR XYZ")
    r = http("POST", url, body, h)
    assert 400 <= r.status < 500, r


def test_w3c_34_bad_update_dataset_conflict(url):
    r = http("POST", url + "?" + urllib.parse.urlencode({"using-named-graph-uri": D + "data1.rdf"}),
             "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", UPDATE_TYPE)
    assert 400 <= r.status < 500, r


# --- more protocol ---------------------------------------------------------------


def test_other_methods_are_405_with_allow(url):
    for method in ("DELETE", "PATCH"):
        r = http(method, url)
        assert r.status == 405 and "POST" in r.headers["Allow"], r


def test_form_post_with_query_string_params(url):
    body, h = form(query=f"ASK {{ GRAPH <{ASSERTED}> {{ ?s ?p ?o }} }}", named_graph_uri=ASSERTED)
    r = http("POST", url, body, h)
    assert r.status == 200 and r.json()["boolean"] is True


def test_direct_post_with_query_param_is_400(url):
    r = http("POST", url + "?query=ASK%7B%7D", "ASK {}", QUERY_TYPE)
    assert r.status == 400 and "body" in r.text


def test_empty_query_is_400(url):
    r = http("GET", url, params={"query": "  "})
    assert r.status == 400 and "empty" in r.text


def test_invalid_utf8_body_is_refused(url):
    r = http("POST", url, b"ASK { \xff }", QUERY_TYPE)
    assert r.status in (400, 415) and "UTF-8" in r.text


def test_syntax_error_names_line_column_and_expectation(url):
    q = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?s WHERE {\n  ?s rdfs:label ?l\n  FILTER(?l = )\n}"
    r = http("GET", url, params={"query": q})
    assert r.status == 400
    assert re.search(r"line [45], column \d+: expected", r.text), r.text
    assert r.text.rstrip().endswith("^")          # the line is quoted, with a caret
    assert r.content_type == "text/plain"


def test_cors(url):
    r = http("GET", url, params={"query": "ASK {}"}, headers={"Origin": "http://example.com"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    body, h = form(query="ASK {}")
    r = http("POST", url, body, {**h, "Origin": "http://example.com"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = http("OPTIONS", url, headers={"Origin": "http://example.com",
                                      "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "content-type"})
    assert r.status in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()
    # errors carry it too, so a browser client can read the message
    r = http("GET", url, params={"query": "ASK {"}, headers={"Origin": "http://example.com"})
    assert r.status == 400 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_default_graph_is_asserted_plus_ontology_plus_entailed(url):
    # id:pact is a kop:DefencePact (asserted) and a kop:Agreement (entailed).
    q = f"ASK {{ <{ID}pact> a <{KOP}Agreement> }}"
    assert http("GET", url, params={"query": q}).json()["boolean"] is True
    # the ontology is in the default graph
    q = f"ASK {{ <{KOP}DefencePact> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{KOP}Agreement> }}"
    assert http("GET", url, params={"query": q}).json()["boolean"] is True
    # the shapes are not
    q = "ASK { ?s a <http://www.w3.org/ns/shacl#NodeShape> }"
    assert http("GET", url, params={"query": q}).json()["boolean"] is False


def test_named_graphs_separate_asserted_and_entailed(url):
    def ask(q):
        return http("GET", url, params={"query": q}).json()["boolean"]
    said = f"<{ID}pact> a <{KOP}DefencePact>"
    follows = f"<{ID}pact> a <{KOP}Agreement>"
    assert ask(f"ASK {{ GRAPH <{ASSERTED}> {{ {said} }} }}")
    assert not ask(f"ASK {{ GRAPH <{ASSERTED}> {{ {follows} }} }}")
    assert ask(f"ASK {{ GRAPH <{ENTAILED}> {{ {follows} }} }}")
    assert ask(f"ASK {{ GRAPH <{SHAPES}> {{ ?s a <http://www.w3.org/ns/shacl#NodeShape> }} }}")
    assert ask(f"ASK {{ GRAPH <{ONTOLOGY}> {{ ?c a <http://www.w3.org/2002/07/owl#Class> }} }}")
    # FROM selects one graph as the default graph
    assert not ask(f"ASK FROM <{ASSERTED}> {{ {follows} }}")
    assert ask(f"ASK FROM <{ENTAILED}> {{ {follows} }}")
    # and default-graph-uri does the same through the protocol
    r = http("GET", url, params=[("query", f"ASK {{ {follows} }}"), ("default-graph-uri", ASSERTED)])
    assert r.json()["boolean"] is False
    r = http("GET", url, params=[("query", "SELECT ?g { GRAPH ?g {} }"), ("named-graph-uri", SHAPES)])
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [SHAPES]


def test_service_description_turtle(url):
    from rdflib import Graph, Namespace, URIRef

    SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
    for accept, fmt in [(None, "turtle"), ("text/turtle", "turtle"),
                        ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")]:
        r = http("GET", url, headers={"Accept": accept} if accept else {})
        assert r.status == 200, (accept, r)
        g = Graph().parse(data=r.body, format=fmt)
        service = URIRef(url)
        assert (service, SD.endpoint, URIRef(url)) in g, accept
        assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
        formats = set(g.objects(service, SD.resultFormat))
        assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
        assert URIRef("http://www.w3.org/ns/formats/Turtle") in formats
        assert len(formats) == 8
        names = set(g.objects(None, SD.name))
        assert names == {URIRef(ASSERTED), URIRef(ENTAILED), URIRef(ONTOLOGY), URIRef(SHAPES)}
        counts = {str(n): int(c) for n, c in g.query(
            "SELECT ?n ?c { ?x <http://www.w3.org/ns/sparql-service-description#name> ?n ; "
            "<http://www.w3.org/ns/sparql-service-description#graph>/<http://rdfs.org/ns/void#triples> ?c }")}
        assert counts[ASSERTED] > 0 and counts[ENTAILED] > 0


def test_browser_gets_the_query_ui(url):
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = http("GET", url, headers={"Accept": accept})
    assert r.status == 200 and r.content_type == "text/html"
    assert "SPARQL" in r.text and "Parties to agreements" in r.text      # the gallery
    # a link to a query opens it in the UI
    r = http("GET", url, params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": accept})
    assert r.content_type == "text/html" and "ASK { ?s ?p ?o }" in r.text
    # but a client that takes anything gets results
    r = http("GET", url, params={"query": "ASK {}"}, headers={"Accept": "*/*"})
    assert r.content_type == "application/sparql-results+json"


def test_query_log_line(server, url):
    marker = "kopru_log_marker_%d" % time.time_ns()
    http("GET", url, params={"query": f"SELECT ?{marker} {{}}"})
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in server.stderr().splitlines() if marker in line]
        if lines:
            break
        time.sleep(0.1)
    assert len(lines) == 1, server.stderr()[-2000:]
    assert " 200 " in lines[0] and "ms" in lines[0] and "SELECT" in lines[0]


def test_query_too_large_is_413(url):
    big = "ASK { }" + "#" * 200_000
    r = http("POST", url, big, QUERY_TYPE)
    assert r.status == 413, r
    body, h = form(query=big)
    assert http("POST", url, body, h).status == 413
    assert http("GET", url, params={"query": "ASK {} #" + "x" * 120_000}).status == 413


# --- real clients ------------------------------------------------------------------


def test_sparqlwrapper_client(url):
    from SPARQLWrapper import JSON, POST, TURTLE, XML, SPARQLWrapper

    sw = SPARQLWrapper(url)
    sw.setQuery(f"SELECT ?l WHERE {{ <{ID}albania> <http://www.w3.org/2000/01/rdf-schema#label> ?l }}")
    sw.setReturnFormat(JSON)
    labels = {b["l"]["value"] for b in sw.query().convert()["results"]["bindings"]}
    assert {"Albania", "Shqipëria"} <= labels
    sw.setMethod(POST)
    sw.setReturnFormat(XML)
    doc = sw.query().convert()          # an xml.dom document
    assert len(doc.getElementsByTagName("result")) == len(labels)
    sw.setQuery(f"CONSTRUCT WHERE {{ <{ID}albania> ?p ?o }}")
    sw.setReturnFormat(TURTLE)
    ttl = sw.query().convert()
    assert b"Albania" in ttl
    sw.setQuery("ASK {}")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True


def test_rdflib_sparqlstore_client(url):
    from rdflib import Graph, URIRef
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = Graph(store=SPARQLStore(url, returnFormat="json"))
    rows = list(g.query(f"SELECT ?p ?o WHERE {{ <{ID}albania> ?p ?o }}"))
    assert (URIRef("http://www.w3.org/2000/01/rdf-schema#label"),) in [(r[0],) for r in rows]
    assert len(g.query(f"CONSTRUCT WHERE {{ <{ID}albania> ?p ?o }}")) == len(rows)
    assert g.query("ASK { ?s ?p ?o }").askAnswer is True


# --- answers are cached per build; a rebuild is served without a restart -------------------


def test_repeated_query_is_answered_from_the_cache(server, url):
    q = "SELECT ?s WHERE { ?s a ?c } ORDER BY ?s LIMIT 2 # cache-%d" % time.time_ns()
    first = http("GET", url, params={"query": q})
    second = http("GET", url, params={"query": q})
    assert first.status == second.status == 200 and first.body == second.body
    # a query with RAND() is never cached
    r = "SELECT (RAND() AS ?r) WHERE {} # %d" % time.time_ns()
    values = {http("GET", url, params={"query": r}).json()["results"]["bindings"][0]["r"]["value"]
              for _ in range(4)}
    assert len(values) > 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [line for line in server.stderr().splitlines() if q.split("#")[1] in line]
        if len(lines) >= 2:
            break
        time.sleep(0.1)
    # two workers: the second request may land on the other worker's cache
    assert len(lines) == 2 and all(" 200 " in line for line in lines)


def test_rebuild_is_served_without_restart(tmp_path):
    project, state = tiny_server_project(tmp_path)
    q = f"ASK {{ <{ID}kosovo> ?p ?o }}"
    with start_server(project, state, "--workers", "1") as s:
        assert http("GET", s.sparql_url, params={"query": q}).json()["boolean"] is False
        assert http("GET", s.sparql_url, params={"query": q}).json()["boolean"] is False
        time.sleep(0.3)
        asks = [line for line in s.stderr().splitlines() if "kosovo" in line and "sparql 200" in line]
        assert len(asks) == 2 and "cached" not in asks[0] and "cached" in asks[1], asks
        (project / "graph" / "more.ttl").write_text(
            "@prefix kop: <https://w3id.org/kopru/ontology#> .\n"
            "@prefix id: <https://w3id.org/kopru/id/> .\n"
            "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
            'id:kosovo a kop:State ; rdfs:label "Kosovo"@en .\n', encoding="utf-8")
        r = run_kopru("--project", project, "build", env=kopru_env(KOPRU_STATE_DIR=str(state)))
        assert r.returncode == 0, r.stderr
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if http("GET", s.sparql_url, params={"query": q}).json()["boolean"]:
                break
            time.sleep(0.3)
        else:
            pytest.fail("the rebuilt store was not served")
