"""Result formats of /sparql, each parsed back; content negotiation; the
result-size cap and how truncation is announced.

Every test runs twice: against the embedded store, and against a real
Oxigraph server the same build was pushed to (`kopru serve --store URL`)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from conftest import STORE_KINDS, OxigraphServer, push_build, serve_tiny_on
from test_sparql_protocol import ID, http, tiny_server_project

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SELECT_LABELS = (f"SELECT ?s ?label WHERE {{ ?s <{RDFS_LABEL}> ?label }} ORDER BY ?s ?label")
CONSTRUCT_ALBANIA = f"CONSTRUCT WHERE {{ <{ID}albania> ?p ?o }}"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return tiny_server_project(tmp_path_factory.mktemp("sparql-formats"))


@pytest.fixture(scope="module", params=STORE_KINDS)
def store_kind(request):
    return request.param


@pytest.fixture(scope="module")
def remote(built, tmp_path_factory):
    """A real Oxigraph server holding the pushed build."""
    with OxigraphServer(tmp_path_factory.mktemp("oxigraph-formats")) as store:
        push_build(*built, store.url)
        yield store


@pytest.fixture(scope="module")
def store(request, store_kind):
    return request.getfixturevalue("remote") if store_kind == "remote" else None


@pytest.fixture(scope="module")
def url(built, store_kind, store):
    with serve_tiny_on(store_kind, *built, store=store) as s:
        yield s.sparql_url


@pytest.fixture(scope="module")
def capped_url(built, store_kind, store):
    with serve_tiny_on(store_kind, *built, store=store, KOPRU_RESULT_LIMIT="5") as s:
        yield s.sparql_url


def get(url, query, accept=None, **params):
    return http("GET", url, params={"query": query, **params},
                headers={"Accept": accept} if accept else {})


def labels_expected(url):
    r = get(url, SELECT_LABELS, "application/sparql-results+json")
    return [(b["s"]["value"], b["label"]["value"], b["label"].get("xml:lang"))
            for b in r.json()["results"]["bindings"]]


# --- SELECT / ASK ---------------------------------------------------------------------


def test_select_json(url):
    r = get(url, SELECT_LABELS, "application/sparql-results+json")
    assert r.status == 200 and r.content_type == "application/sparql-results+json"
    doc = r.json()
    assert doc["head"]["vars"] == ["s", "label"]
    rows = doc["results"]["bindings"]
    assert {"type": "literal", "value": "Shqipëria", "xml:lang": "sq"} in [b["label"] for b in rows]
    assert all(b["s"]["type"] == "uri" for b in rows)
    assert "X-Kopru-Truncated" not in r.headers


def test_select_xml(url):
    r = get(url, SELECT_LABELS, "application/sparql-results+xml")
    assert r.status == 200 and r.content_type == "application/sparql-results+xml"
    root = ET.fromstring(r.body)
    assert [v.get("name") for v in root.iter(SRX + "variable")] == ["s", "label"]
    rows = []
    for res in root.iter(SRX + "result"):
        b = {x.get("name"): x[0] for x in res.iter(SRX + "binding")}
        rows.append((b["s"].text, b["label"].text,
                     b["label"].get("{http://www.w3.org/XML/1998/namespace}lang")))
    assert rows == labels_expected(url)


def test_select_csv(url):
    r = get(url, SELECT_LABELS, "text/csv")
    assert r.status == 200 and r.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["s", "label"]
    assert [tuple(x) for x in rows[1:]] == [(s, lab) for s, lab, _ in labels_expected(url)]


def test_select_tsv(url):
    r = get(url, SELECT_LABELS, "text/tab-separated-values")
    assert r.status == 200 and r.content_type == "text/tab-separated-values"
    lines = r.text.rstrip("\n").split("\n")
    assert lines[0] == "?s\t?label"
    assert f'<{ID}albania>\t"Shqipëria"@sq' in lines


def test_select_parsed_by_rdflib_in_every_format(url):
    from rdflib.query import Result

    expected = len(labels_expected(url))
    for accept, fmt in [("application/sparql-results+json", "json"),
                        ("application/sparql-results+xml", "xml"),
                        ("text/csv", "csv"), ("text/tab-separated-values", "tsv")]:
        r = get(url, SELECT_LABELS, accept)
        result = Result.parse(io.BytesIO(r.body), format=fmt)
        assert len(list(result)) == expected, fmt


def test_ask_json_and_xml(url):
    assert get(url, "ASK { ?s ?p ?o }").json() == {"head": {}, "boolean": True}
    r = get(url, "ASK { <urn:x> ?p ?o }", "application/sparql-results+xml")
    assert ET.fromstring(r.body).find(SRX + "boolean").text == "false"


# --- CONSTRUCT / DESCRIBE --------------------------------------------------------------


@pytest.mark.parametrize("accept,rdflib_format", [
    ("text/turtle", "turtle"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
])
def test_construct_formats_parse_back_to_the_same_graph(url, accept, rdflib_format):
    from rdflib import Graph
    from rdflib.compare import isomorphic

    reference = Graph().parse(data=get(url, CONSTRUCT_ALBANIA, "application/n-triples").body,
                              format="nt")
    assert len(reference) >= 4
    r = get(url, CONSTRUCT_ALBANIA, accept)
    assert r.status == 200 and r.content_type == accept, r
    g = Graph().parse(data=r.body, format=rdflib_format)
    assert isomorphic(g, reference), accept


def test_describe(url):
    from rdflib import Graph, URIRef

    r = get(url, f"DESCRIBE <{ID}albania>")
    assert r.status == 200 and r.content_type == "text/turtle"
    g = Graph().parse(data=r.body, format="turtle")
    assert (URIRef(ID + "albania"), URIRef(RDFS_LABEL), None) in g


# --- content negotiation ---------------------------------------------------------------


@pytest.mark.parametrize("accept,expected", [
    (None, "application/sparql-results+json"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+json,*/*;q=0.9", "application/sparql-results+json"),
    ("application/sparql-results+xml, application/sparql-results+json;q=0.8",
     "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0.5, text/csv", "text/csv"),
    ("text/tab-separated-values;q=0.9, text/csv;q=0.1", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("application/xml", "application/sparql-results+xml"),
    ("image/png, text/*;q=0.5", "text/csv"),
])
def test_select_negotiation(url, accept, expected):
    r = get(url, "SELECT * { ?s ?p ?o } LIMIT 1", accept)
    assert r.status == 200 and r.content_type == expected, (accept, r)


@pytest.mark.parametrize("accept,expected", [
    (None, "text/turtle"),
    ("*/*", "text/turtle"),
    ("application/rdf+xml;q=0.9, application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/ld+json"),
    ("text/plain", "application/n-triples"),
    ("application/sparql-results+json", "application/ld+json"),
])
def test_construct_negotiation(url, accept, expected):
    r = get(url, CONSTRUCT_ALBANIA, accept)
    assert r.status == 200 and r.content_type == expected, (accept, r)


@pytest.mark.parametrize("param,query,expected", [
    ("json", SELECT_LABELS, "application/sparql-results+json"),
    ("xml", SELECT_LABELS, "application/sparql-results+xml"),
    ("csv", SELECT_LABELS, "text/csv"),
    ("tsv", SELECT_LABELS, "text/tab-separated-values"),
    ("ttl", CONSTRUCT_ALBANIA, "text/turtle"),
    ("nt", CONSTRUCT_ALBANIA, "application/n-triples"),
    ("jsonld", CONSTRUCT_ALBANIA, "application/ld+json"),
    ("rdfxml", CONSTRUCT_ALBANIA, "application/rdf+xml"),
    ("json", CONSTRUCT_ALBANIA, "application/ld+json"),
    ("text/csv", SELECT_LABELS, "text/csv"),
])
def test_format_parameter_overrides_accept(url, param, query, expected):
    r = get(url, query, "application/sparql-results+xml, text/turtle", format=param)
    assert r.status == 200 and r.content_type == expected, (param, r)


def test_406_lists_what_is_offered(url):
    r = get(url, SELECT_LABELS, "image/png")
    assert r.status == 406
    for t in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
              "text/tab-separated-values"):
        assert t in r.text
    r = get(url, CONSTRUCT_ALBANIA, "text/csv")
    assert r.status == 406
    for t in ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"):
        assert t in r.text
    r = get(url, SELECT_LABELS, format="ttl")
    assert r.status == 406 and "format=json" in r.text


# --- the result cap ----------------------------------------------------------------------

ALL_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


def test_truncated_json_stays_valid_sparql_json(capped_url):
    from rdflib.query import Result

    r = get(capped_url, ALL_TRIPLES)
    assert r.status == 200
    assert r.headers["X-Kopru-Truncated"] == "true"
    assert r.headers["X-Kopru-Result-Limit"] == "5"
    doc = r.json()
    assert len(doc["results"]["bindings"]) == 5
    assert doc["kopru"] == {"truncated": True, "limit": 5}
    assert len(list(Result.parse(io.BytesIO(r.body), format="json"))) == 5


@pytest.mark.parametrize("accept,count", [
    ("application/sparql-results+xml", lambda b: len(list(ET.fromstring(b).iter(SRX + "result")))),
    ("text/csv", lambda b: len(list(csv.reader(io.StringIO(b.decode(), newline="")))) - 1),
    ("text/tab-separated-values", lambda b: b.decode().rstrip("\n").count("\n")),
])
def test_truncated_other_formats_announce_by_header(capped_url, accept, count):
    r = get(capped_url, ALL_TRIPLES, accept)
    assert r.status == 200 and r.content_type == accept
    assert r.headers["X-Kopru-Truncated"] == "true"
    assert count(r.body) == 5


def test_truncated_construct(capped_url):
    from rdflib import Graph

    r = get(capped_url, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
    assert r.headers["X-Kopru-Truncated"] == "true"
    assert len(Graph().parse(data=r.body, format="nt")) == 5


def test_exactly_the_limit_is_not_truncated(capped_url):
    for accept in ("application/sparql-results+json", "text/csv", "application/sparql-results+xml"):
        r = get(capped_url, ALL_TRIPLES + " LIMIT 5", accept)
        assert "X-Kopru-Truncated" not in r.headers, accept
    r = get(capped_url, ALL_TRIPLES + " LIMIT 5")
    assert len(r.json()["results"]["bindings"]) == 5 and "kopru" not in r.json()
    r = get(capped_url, "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5")
    assert "X-Kopru-Truncated" not in r.headers


def test_truncation_headers_are_exposed_to_browsers(capped_url):
    r = get(capped_url, ALL_TRIPLES)
    assert "X-Kopru-Truncated" in r.headers["Access-Control-Expose-Headers"]


def test_unicode_round_trip(url):
    r = get(url, f'SELECT ?l WHERE {{ <{ID}turkiye> <{RDFS_LABEL}> ?l FILTER(lang(?l) = "tr") }}')
    assert r.json()["results"]["bindings"][0]["l"]["value"] == "Türkiye"
    assert "charset=utf-8" in get(url, SELECT_LABELS, "text/csv").headers["Content-Type"]
