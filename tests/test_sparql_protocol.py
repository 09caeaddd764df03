"""The SPARQL 1.1 Protocol at /sparql, through Flask's test client over the
tiny site (tests/conftest.py: `tiny_client`).

The 34 W3C protocol cases (sparql11/protocol/manifest.ttl, as they apply to a
read-only store: see shared reference sparql-protocol.md), then the rest of
the protocol: errors with helpful messages, CORS, the service description,
the named graphs, the query UI for browsers, the answer cache and rebuilds.
Real clients (SPARQLWrapper, rdflib's SPARQLStore) and the query log talk to
a real `kopru serve` (marked `server`).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
import urllib.parse

import pytest
from helpers import ASSERTED, ENTAILED, ID, KOP, ONTOLOGY, SHAPES, build_project, http, wait_for

SPARQL = "/sparql"
ENDPOINT = "http://localhost/sparql"          # the endpoint's URL as the test client sees it


@pytest.fixture
def c(tiny_client):
    return tiny_client


def form(**fields) -> dict:
    """Keyword arguments for client.post: the fields form-encoded."""
    pairs = []
    for k, v in fields.items():
        for item in (v if isinstance(v, list) else [v]):
            pairs.append((k.replace("_", "-"), item))
    return {"data": urllib.parse.urlencode(pairs),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def with_params(params) -> str:
    return SPARQL + "?" + urllib.parse.urlencode(params)


def is_bool(r) -> bool:
    if r.mimetype in ("application/sparql-results+json", "application/json"):
        return isinstance(r.get_json().get("boolean"), bool)
    if r.mimetype in ("application/sparql-results+xml", "application/xml"):
        return b"<boolean>" in r.data
    return False


def ok(r) -> bool:
    return 200 <= r.status_code < 400


def ask(c, query: str, **params) -> bool:
    r = c.get(SPARQL, query_string={"query": query, **params})
    assert r.status_code == 200, r.text
    return r.get_json()["boolean"]


# --- the 34 W3C protocol cases ----------------------------------------------------

D = "http://kasei.us/2009/09/sparql/data/"
QUERY_TYPE = {"Content-Type": "application/sparql-query"}
UPDATE_TYPE = {"Content-Type": "application/sparql-update"}


def test_w3c_01_query_post_form(c):
    r = c.post(SPARQL, **form(query="ASK {}"))
    assert ok(r) and is_bool(r), r.text


def test_w3c_02_query_dataset_default_graphs_get(c):
    r = c.get(SPARQL, query_string=[
        ("query", "ASK { <http://kasei.us/2009/09/sparql/data/data1.rdf> ?p ?o }"),
        ("default-graph-uri", D + "data1.rdf"), ("default-graph-uri", D + "data2.rdf")])
    assert ok(r) and is_bool(r), r.text


def test_w3c_03_query_dataset_default_graphs_post(c):
    r = c.post(with_params([("default-graph-uri", D + "data1.rdf"),
                            ("default-graph-uri", D + "data2.rdf")]),
               data="ASK { <http://kasei.us/2009/09/sparql/data/data1.rdf> ?p ?o }",
               headers=QUERY_TYPE)
    assert ok(r) and is_bool(r), r.text


def test_w3c_04_query_dataset_named_graphs_post(c):
    r = c.post(with_params([("named-graph-uri", D + "data1.rdf"),
                            ("named-graph-uri", D + "data2.rdf")]),
               data="ASK { GRAPH ?g { ?s ?p ?o } }", headers=QUERY_TYPE)
    assert ok(r) and is_bool(r), r.text


def test_w3c_05_query_dataset_named_graphs_get(c):
    r = c.get(SPARQL, query_string=[("query", "ASK { GRAPH ?g { ?s ?p ?o } }"),
                                    ("named-graph-uri", D + "data1.rdf"),
                                    ("named-graph-uri", D + "data2.rdf")])
    assert ok(r) and is_bool(r), r.text


def test_w3c_06_query_dataset_full(c):
    r = c.post(with_params([("default-graph-uri", D + "data3.rdf"),
                            ("named-graph-uri", D + "data1.rdf"),
                            ("named-graph-uri", D + "data2.rdf")]),
               data="ASK { ?s ?p ?o . GRAPH ?g { ?s2 ?p2 ?o2 } }", headers=QUERY_TYPE)
    assert ok(r) and is_bool(r), r.text


def test_w3c_07_query_multiple_dataset(c):
    # The protocol's dataset wins over FROM: with named-graph-uri = asserted
    # and the FROM naming an absent graph, GRAPH ?g finds the asserted graph.
    q = f"ASK FROM <{D}data3.rdf> {{ GRAPH <{ASSERTED}> {{ ?s ?p ?o }} }}"
    r = c.post(with_params([("named-graph-uri", ASSERTED)]), data=q, headers=QUERY_TYPE)
    assert ok(r) and is_bool(r), r.text
    assert r.get_json()["boolean"] is True
    r = c.post(SPARQL, data=q, headers=QUERY_TYPE)    # without it, FROM alone: no named graphs
    assert r.get_json()["boolean"] is False


def test_w3c_08_query_get(c):
    r = c.get(SPARQL, query_string={"query": "ASK {}"})
    assert ok(r) and is_bool(r), r.text


def test_w3c_09_query_content_type_select(c):
    r = c.post(SPARQL, data="SELECT (1 AS ?value) {}", headers=QUERY_TYPE)
    assert ok(r), r.text
    assert r.mimetype in ("application/sparql-results+xml", "application/sparql-results+json",
                          "text/csv", "text/tab-separated-values")


def test_w3c_10_query_content_type_ask(c):
    r = c.post(SPARQL, data="ASK {}", headers=QUERY_TYPE)
    assert ok(r) and is_bool(r), r.text
    assert r.mimetype in ("application/sparql-results+xml", "application/sparql-results+json")


def test_w3c_11_query_content_type_describe(c):
    r = c.post(SPARQL, data="DESCRIBE <http://example.org/>", headers=QUERY_TYPE)
    assert ok(r), r.text
    assert r.mimetype in ("application/rdf+xml", "text/turtle", "application/n-triples",
                          "text/html")


def test_w3c_12_query_content_type_construct(c):
    r = c.post(SPARQL, data="CONSTRUCT { <http://example.org/s> <http://example.org/p> 1 } "
                            "WHERE {}", headers=QUERY_TYPE)
    assert ok(r), r.text
    assert r.mimetype in ("application/rdf+xml", "text/turtle", "application/n-triples")


def _refused_update(r):
    assert r.status_code == 403, r.text
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
def test_w3c_13_to_16_update_dataset(c, case, params):
    update = ("PREFIX dc: <http://purl.org/dc/terms/> "
              "INSERT { GRAPH <http://example.org/protocol-update-dataset-test/> "
              "{ ?s a dc:BibliographicResource } } WHERE { ?s a dc:BibliographicResource }")
    _refused_update(c.post(with_params(params), data=update, headers=UPDATE_TYPE))
    assert ask(c, "ASK { GRAPH <http://example.org/protocol-update-dataset-test/> "
                  "{ ?s ?p ?o } }") is False


def test_w3c_17_update_post_form(c):
    _refused_update(c.post(SPARQL, **form(update="CLEAR ALL")))


def test_w3c_18_update_post_direct(c):
    _refused_update(c.post(SPARQL, data="CLEAR ALL", headers=UPDATE_TYPE))
    assert ask(c, "ASK { ?s ?p ?o }") is True          # nothing was cleared


def test_w3c_19_update_base_uri(c):
    _refused_update(c.post(SPARQL, data="INSERT DATA { GRAPH <http://example.org/g> "
                                        "{ <test> a <T> } }", headers=UPDATE_TYPE))
    r = c.get(SPARQL, query_string={"query": "ASK { GRAPH ?g { ?s a ?t } FILTER(isIRI(?s)) }"})
    assert ok(r) and is_bool(r)


def test_w3c_20_query_post_direct(c):
    r = c.post(SPARQL, data="ASK {}", headers=QUERY_TYPE)
    assert ok(r) and is_bool(r), r.text


def test_w3c_21_bad_query_method(c):
    r = c.put(with_params({"query": "ASK {}"}))
    assert r.status_code == 405, r.text
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]
    assert "GET or POST" in r.text or "use GET" in r.text


def test_w3c_22_bad_multiple_queries(c):
    r = c.get(SPARQL, query_string=[("query", "ASK {}"), ("query", "SELECT * {}")])
    assert r.status_code == 400, r.text
    assert "2 'query' parameters" in r.text


def test_w3c_23_bad_query_wrong_media_type(c):
    r = c.post(SPARQL, data="ASK {}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415, r.text
    assert "application/sparql-query" in r.text


def test_w3c_24_bad_query_missing_form_type(c):
    r = c.open(SPARQL, method="POST", data=b"query=ASK%20%7B%7D")     # no Content-Type
    assert r.status_code == 400, r.text
    assert "Content-Type" in r.text


def test_w3c_25_bad_query_missing_direct_type(c):
    r = c.open(SPARQL, method="POST", data=b"ASK {}")
    assert r.status_code == 400, r.text


def test_w3c_26_bad_query_non_utf8(c):
    r = c.post(SPARQL, data="ASK {}".encode("utf-16"),
               headers={"Content-Type": "application/sparql-query; charset=UTF-16"})
    assert r.status_code in (400, 415), r.text
    assert "UTF-8" in r.text


def test_w3c_27_bad_query_syntax(c):
    r = c.get(SPARQL, query_string={"query": "ASK {"})
    assert r.status_code == 400, r.text
    assert "line 1, column 6" in r.text and "expected" in r.text


def test_w3c_28_bad_update_get(c):
    r = c.get(SPARQL, query_string={"update": "CLEAR ALL"})
    assert 400 <= r.status_code < 500, r.text


def test_w3c_29_bad_multiple_updates(c):
    r = c.post(SPARQL, **form(update=["CLEAR NAMED", "CLEAR DEFAULT"]))
    assert 400 <= r.status_code < 500, r.text


def test_w3c_30_bad_update_wrong_media_type(c):
    r = c.post(SPARQL, data="CLEAR NAMED", headers={"Content-Type": "text/plain"})
    assert 400 <= r.status_code < 500, r.text


def test_w3c_31_bad_update_missing_form_type(c):
    r = c.open(SPARQL, method="POST", data=b"update=CLEAR%20NAMED")
    assert 400 <= r.status_code < 500, r.text


def test_w3c_32_bad_update_non_utf8(c):
    r = c.post(SPARQL, data="CLEAR NAMED".encode("utf-16"),
               headers={"Content-Type": "application/sparql-update; charset=UTF-16"})
    assert 400 <= r.status_code < 500, r.text


def test_w3c_33_bad_update_syntax(c):
    r = c.post(SPARQL, **form(update="CLEAR XYZ"))
    assert 400 <= r.status_code < 500, r.text


def test_w3c_34_bad_update_dataset_conflict(c):
    r = c.post(with_params({"using-named-graph-uri": D + "data1.rdf"}),
               data="WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
               headers=UPDATE_TYPE)
    assert 400 <= r.status_code < 500, r.text


# --- more protocol ---------------------------------------------------------------


def test_other_methods_are_405_with_allow(c):
    for method in ("DELETE", "PATCH"):
        r = c.open(SPARQL, method=method)
        assert r.status_code == 405 and "POST" in r.headers["Allow"], r.text


def test_form_post_with_query_string_params(c):
    r = c.post(SPARQL, **form(query=f"ASK {{ GRAPH <{ASSERTED}> {{ ?s ?p ?o }} }}",
                              named_graph_uri=ASSERTED))
    assert r.status_code == 200 and r.get_json()["boolean"] is True


def test_direct_post_with_query_param_is_400(c):
    r = c.post(SPARQL + "?query=ASK%7B%7D", data="ASK {}", headers=QUERY_TYPE)
    assert r.status_code == 400 and "body" in r.text


def test_empty_query_is_400(c):
    r = c.get(SPARQL, query_string={"query": "  "})
    assert r.status_code == 400 and "empty" in r.text


def test_invalid_utf8_body_is_refused(c):
    r = c.post(SPARQL, data=b"ASK { \xff }", headers=QUERY_TYPE)
    assert r.status_code in (400, 415) and "UTF-8" in r.text


def test_syntax_error_names_line_column_and_expectation(c):
    q = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?s WHERE {\n"
         "  ?s rdfs:label ?l\n  FILTER(?l = )\n}")
    r = c.get(SPARQL, query_string={"query": q})
    assert r.status_code == 400
    assert re.search(r"line [45], column \d+: expected", r.text), r.text
    assert r.text.rstrip().endswith("^")          # the line is quoted, with a caret
    assert r.mimetype == "text/plain"


def test_cors(c):
    origin = {"Origin": "http://example.com"}
    r = c.get(SPARQL, query_string={"query": "ASK {}"}, headers=origin)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = c.post(SPARQL, data="query=ASK%20%7B%7D",
               headers={**origin, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = c.open(SPARQL, method="OPTIONS", headers={**origin,
                                                  "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "content-type"})
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "content-type" in r.headers["Access-Control-Allow-Headers"].lower()
    # errors carry it too, so a browser client can read the message
    r = c.get(SPARQL, query_string={"query": "ASK {"}, headers=origin)
    assert r.status_code == 400 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_default_graph_is_asserted_plus_ontology_plus_entailed(c):
    # id:pact is a kop:DefencePact (asserted) and a kop:Agreement (entailed).
    assert ask(c, f"ASK {{ <{ID}pact> a <{KOP}Agreement> }}") is True
    # the ontology is in the default graph
    assert ask(c, f"ASK {{ <{KOP}DefencePact> <http://www.w3.org/2000/01/rdf-schema#subClassOf>"
                  f" <{KOP}Agreement> }}") is True
    # the shapes are not
    assert ask(c, "ASK { ?s a <http://www.w3.org/ns/shacl#NodeShape> }") is False


def test_named_graphs_separate_asserted_and_entailed(c):
    said = f"<{ID}pact> a <{KOP}DefencePact>"
    follows = f"<{ID}pact> a <{KOP}Agreement>"
    assert ask(c, f"ASK {{ GRAPH <{ASSERTED}> {{ {said} }} }}")
    assert not ask(c, f"ASK {{ GRAPH <{ASSERTED}> {{ {follows} }} }}")
    assert ask(c, f"ASK {{ GRAPH <{ENTAILED}> {{ {follows} }} }}")
    assert ask(c, f"ASK {{ GRAPH <{SHAPES}> {{ ?s a <http://www.w3.org/ns/shacl#NodeShape> }} }}")
    assert ask(c, f"ASK {{ GRAPH <{ONTOLOGY}> {{ ?c a <http://www.w3.org/2002/07/owl#Class> }} }}")
    # FROM selects one graph as the default graph
    assert not ask(c, f"ASK FROM <{ASSERTED}> {{ {follows} }}")
    assert ask(c, f"ASK FROM <{ENTAILED}> {{ {follows} }}")
    # and default-graph-uri does the same through the protocol
    r = c.get(SPARQL, query_string=[("query", f"ASK {{ {follows} }}"),
                                    ("default-graph-uri", ASSERTED)])
    assert r.get_json()["boolean"] is False
    r = c.get(SPARQL, query_string=[("query", "SELECT ?g { GRAPH ?g {} }"),
                                    ("named-graph-uri", SHAPES)])
    assert [b["g"]["value"] for b in r.get_json()["results"]["bindings"]] == [SHAPES]


def test_service_description_turtle(c):
    from rdflib import Graph, Namespace, URIRef

    SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
    for accept, fmt in [(None, "turtle"), ("text/turtle", "turtle"),
                        ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")]:
        r = c.get(SPARQL, headers={"Accept": accept} if accept else {})
        assert r.status_code == 200, (accept, r.text)
        g = Graph().parse(data=r.data, format=fmt)
        service = URIRef(ENDPOINT)
        assert (service, SD.endpoint, URIRef(ENDPOINT)) in g, accept
        assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
        formats = set(g.objects(service, SD.resultFormat))
        assert URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats
        assert URIRef("http://www.w3.org/ns/formats/Turtle") in formats
        assert len(formats) == 8
        names = set(g.objects(None, SD.name))
        assert names == {URIRef(ASSERTED), URIRef(ENTAILED), URIRef(ONTOLOGY), URIRef(SHAPES)}
        counts = {str(n): int(k) for n, k in g.query(
            "SELECT ?n ?c { ?x <http://www.w3.org/ns/sparql-service-description#name> ?n ; "
            "<http://www.w3.org/ns/sparql-service-description#graph>/"
            "<http://rdfs.org/ns/void#triples> ?c }")}
        assert counts[ASSERTED] > 0 and counts[ENTAILED] > 0


def test_browser_gets_the_query_ui(c):
    accept = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    r = c.get(SPARQL, headers=accept)
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "SPARQL" in r.text and "Parties to agreements" in r.text      # the gallery
    # a link to a query opens it in the UI
    r = c.get(SPARQL, query_string={"query": "ASK { ?s ?p ?o }"}, headers=accept)
    assert r.mimetype == "text/html" and "ASK { ?s ?p ?o }" in r.text
    # but a client that takes anything gets results
    r = c.get(SPARQL, query_string={"query": "ASK {}"}, headers={"Accept": "*/*"})
    assert r.mimetype == "application/sparql-results+json"


def test_query_too_large_is_413(c):
    big = "ASK { }" + "#" * 200_000
    r = c.post(SPARQL, data=big, headers=QUERY_TYPE)
    assert r.status_code == 413, r.text
    assert c.post(SPARQL, **form(query=big)).status_code == 413
    assert c.get(SPARQL, query_string={"query": "ASK {} #" + "x" * 120_000}).status_code == 413


# --- answers are cached per build; a rebuild is served without a restart -------------------


def query_log(caplog, marker: str) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "kopru.query" and marker in r.getMessage()]


def test_repeated_query_is_answered_from_the_cache(c, caplog):
    caplog.set_level(logging.INFO, logger="kopru")
    marker = f"cache-{time.time_ns()}"
    q = f"SELECT ?s WHERE {{ ?s a ?c }} ORDER BY ?s LIMIT 2 # {marker}"
    first = c.get(SPARQL, query_string={"query": q})
    second = c.get(SPARQL, query_string={"query": q})
    assert first.status_code == second.status_code == 200 and first.data == second.data
    lines = query_log(caplog, marker)
    assert len(lines) == 2 and all(" 200 " in line for line in lines), lines
    assert "cached" not in lines[0] and "cached" in lines[1], lines
    # a query with RAND() is never cached
    r = f"SELECT (RAND() AS ?r) WHERE {{}} # {time.time_ns()}"
    values = {c.get(SPARQL, query_string={"query": r}).get_json()
              ["results"]["bindings"][0]["r"]["value"] for _ in range(4)}
    assert len(values) > 1


def test_rebuild_is_served_without_restart(tiny_site, make_app, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="kopru")
    project = tmp_path / "project"
    shutil.copytree(tiny_site[0], project)
    state = tmp_path / "state"
    build_project(project, state)
    c = make_app(project, state).test_client()
    q = f"ASK {{ <{ID}kosovo> ?p ?o }}"
    assert ask(c, q) is False
    assert ask(c, q) is False
    asks = query_log(caplog, "kosovo")
    assert len(asks) == 2 and "cached" not in asks[0] and "cached" in asks[1], asks
    (project / "graph" / "more.ttl").write_text(
        "@prefix kop: <https://w3id.org/kopru/ontology#> .\n"
        "@prefix id: <https://w3id.org/kopru/id/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'id:kosovo a kop:State ; rdfs:label "Kosovo"@en .\n', encoding="utf-8")
    build_project(project, state)
    wait_for(lambda: ask(c, q), 30, "the rebuilt store to be served")


# --- a real `kopru serve`: its log and real clients -------------------------------------


@pytest.mark.server
def test_query_log_line(tiny_server):
    marker = f"kopru_log_marker_{time.time_ns()}"
    http("GET", tiny_server.sparql_url, params={"query": f"SELECT ?{marker} {{}}"})
    lines = wait_for(lambda: [line for line in tiny_server.stderr().splitlines()
                              if marker in line], 30, "the query's log line")
    assert len(lines) == 1, tiny_server.stderr()[-2000:]
    assert " 200 " in lines[0] and "ms" in lines[0] and "SELECT" in lines[0]


@pytest.mark.server
def test_long_queries_by_get_pass_gunicorn(tiny_server):
    """gunicorn lets a GET request line as long as the query limit allows
    through: the endpoint answers it, or refuses it with its own 413."""
    r = http("GET", tiny_server.sparql_url, params={"query": "ASK {} #" + "x" * 90_000})
    assert r.status == 200 and r.json()["boolean"] is True
    r = http("GET", tiny_server.sparql_url, params={"query": "ASK {} #" + "x" * 120_000})
    assert r.status == 413 and "accepts at most 100000" in r.text, r


@pytest.mark.server
def test_sparqlwrapper_client(tiny_server):
    from SPARQLWrapper import JSON, POST, TURTLE, XML, SPARQLWrapper

    sw = SPARQLWrapper(tiny_server.sparql_url)
    sw.setQuery(f"SELECT ?l WHERE {{ <{ID}albania> "
                "<http://www.w3.org/2000/01/rdf-schema#label> ?l }")
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


@pytest.mark.server
def test_rdflib_sparqlstore_client(tiny_server):
    from rdflib import Graph, URIRef
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = Graph(store=SPARQLStore(tiny_server.sparql_url, returnFormat="json"))
    rows = list(g.query(f"SELECT ?p ?o WHERE {{ <{ID}albania> ?p ?o }}"))
    assert (URIRef("http://www.w3.org/2000/01/rdf-schema#label"),) in [(r[0],) for r in rows]
    assert len(g.query(f"CONSTRUCT WHERE {{ <{ID}albania> ?p ?o }}")) == len(rows)
    assert g.query("ASK { ?s ?p ?o }").askAnswer is True
