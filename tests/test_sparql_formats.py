"""Result formats of /sparql, each parsed back; content negotiation; the
result-size cap and how truncation is announced.

Every test runs twice, in-process through the test client: over the tiny
site's embedded store, and over a real Oxigraph server the same build was
pushed to (the app with `store_url`)."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from helpers import ID

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SELECT_LABELS = (f"SELECT ?s ?label WHERE {{ ?s <{RDFS_LABEL}> ?label }} ORDER BY ?s ?label")
CONSTRUCT_ALBANIA = f"CONSTRUCT WHERE {{ <{ID}albania> ?p ?o }}"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module", params=["embedded", pytest.param("remote", marks=pytest.mark.remote)])
def store_url(request):
    """None for the embedded store, else the Oxigraph server's URL."""
    return request.getfixturevalue("tiny_oxigraph").url if request.param == "remote" else None


@pytest.fixture(scope="module")
def c(tiny_site, make_app, store_url):
    """A test client of the app over that store."""
    return make_app(*tiny_site, store_url=store_url).test_client()


@pytest.fixture(scope="module")
def capped(tiny_site, make_app, store_url):
    return make_app(*tiny_site, store_url=store_url, result_limit=5).test_client()


def get(client, query, accept=None, **params):
    return client.get("/sparql", query_string={"query": query, **params},
                      headers={"Accept": accept} if accept else {})


def labels_expected(client):
    r = get(client, SELECT_LABELS, "application/sparql-results+json")
    return [(b["s"]["value"], b["label"]["value"], b["label"].get("xml:lang"))
            for b in r.get_json()["results"]["bindings"]]


# --- SELECT / ASK ---------------------------------------------------------------------


def test_select_json(c):
    r = get(c, SELECT_LABELS, "application/sparql-results+json")
    assert r.status_code == 200 and r.mimetype == "application/sparql-results+json"
    doc = r.get_json()
    assert doc["head"]["vars"] == ["s", "label"]
    rows = doc["results"]["bindings"]
    assert {"type": "literal", "value": "Shqipëria", "xml:lang": "sq"} in [b["label"] for b in rows]
    assert all(b["s"]["type"] == "uri" for b in rows)
    assert "X-Kopru-Truncated" not in r.headers


def test_select_xml(c):
    r = get(c, SELECT_LABELS, "application/sparql-results+xml")
    assert r.status_code == 200 and r.mimetype == "application/sparql-results+xml"
    root = ET.fromstring(r.data)
    assert [v.get("name") for v in root.iter(SRX + "variable")] == ["s", "label"]
    rows = []
    for res in root.iter(SRX + "result"):
        b = {x.get("name"): x[0] for x in res.iter(SRX + "binding")}
        rows.append((b["s"].text, b["label"].text,
                     b["label"].get("{http://www.w3.org/XML/1998/namespace}lang")))
    assert rows == labels_expected(c)


def test_select_csv(c):
    r = get(c, SELECT_LABELS, "text/csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.text, newline="")))
    assert rows[0] == ["s", "label"]
    assert [tuple(x) for x in rows[1:]] == [(s, lab) for s, lab, _ in labels_expected(c)]


def test_select_tsv(c):
    r = get(c, SELECT_LABELS, "text/tab-separated-values")
    assert r.status_code == 200 and r.mimetype == "text/tab-separated-values"
    lines = r.text.rstrip("\n").split("\n")
    assert lines[0] == "?s\t?label"
    assert f'<{ID}albania>\t"Shqipëria"@sq' in lines


def test_select_parsed_by_rdflib_in_every_format(c):
    from rdflib.query import Result

    expected = len(labels_expected(c))
    for accept, fmt in [("application/sparql-results+json", "json"),
                        ("application/sparql-results+xml", "xml"),
                        ("text/csv", "csv"), ("text/tab-separated-values", "tsv")]:
        r = get(c, SELECT_LABELS, accept)
        result = Result.parse(io.BytesIO(r.data), format=fmt)
        assert len(list(result)) == expected, fmt


def test_ask_json_and_xml(c):
    assert get(c, "ASK { ?s ?p ?o }").get_json() == {"head": {}, "boolean": True}
    r = get(c, "ASK { <urn:x> ?p ?o }", "application/sparql-results+xml")
    assert ET.fromstring(r.data).find(SRX + "boolean").text == "false"


# --- CONSTRUCT / DESCRIBE --------------------------------------------------------------


@pytest.mark.parametrize("accept,rdflib_format", [
    ("text/turtle", "turtle"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
])
def test_construct_formats_parse_back_to_the_same_graph(c, accept, rdflib_format):
    from rdflib import Graph
    from rdflib.compare import isomorphic

    reference = Graph().parse(data=get(c, CONSTRUCT_ALBANIA, "application/n-triples").data,
                              format="nt")
    assert len(reference) >= 4
    r = get(c, CONSTRUCT_ALBANIA, accept)
    assert r.status_code == 200 and r.mimetype == accept, r.text
    g = Graph().parse(data=r.data, format=rdflib_format)
    assert isomorphic(g, reference), accept


def test_describe(c):
    from rdflib import Graph, URIRef

    r = get(c, f"DESCRIBE <{ID}albania>")
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    g = Graph().parse(data=r.data, format="turtle")
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
def test_select_negotiation(c, accept, expected):
    r = get(c, "SELECT * { ?s ?p ?o } LIMIT 1", accept)
    assert r.status_code == 200 and r.mimetype == expected, (accept, r.text)


@pytest.mark.parametrize("accept,expected", [
    (None, "text/turtle"),
    ("*/*", "text/turtle"),
    ("application/rdf+xml;q=0.9, application/n-triples", "application/n-triples"),
    ("application/ld+json", "application/ld+json"),
    ("application/json", "application/ld+json"),
    ("text/plain", "application/n-triples"),
    ("application/sparql-results+json", "application/ld+json"),
])
def test_construct_negotiation(c, accept, expected):
    r = get(c, CONSTRUCT_ALBANIA, accept)
    assert r.status_code == 200 and r.mimetype == expected, (accept, r.text)


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
def test_format_parameter_overrides_accept(c, param, query, expected):
    r = get(c, query, "application/sparql-results+xml, text/turtle", format=param)
    assert r.status_code == 200 and r.mimetype == expected, (param, r.text)


def test_406_lists_what_is_offered(c):
    r = get(c, SELECT_LABELS, "image/png")
    assert r.status_code == 406
    for t in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
              "text/tab-separated-values"):
        assert t in r.text
    r = get(c, CONSTRUCT_ALBANIA, "text/csv")
    assert r.status_code == 406
    for t in ("text/turtle", "application/n-triples", "application/ld+json", "application/rdf+xml"):
        assert t in r.text
    r = get(c, SELECT_LABELS, format="ttl")
    assert r.status_code == 406 and "format=json" in r.text


# --- the result cap ----------------------------------------------------------------------

ALL_TRIPLES = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"


def test_truncated_json_stays_valid_sparql_json(capped):
    from rdflib.query import Result

    r = get(capped, ALL_TRIPLES)
    assert r.status_code == 200
    assert r.headers["X-Kopru-Truncated"] == "true"
    assert r.headers["X-Kopru-Result-Limit"] == "5"
    doc = r.get_json()
    assert len(doc["results"]["bindings"]) == 5
    assert doc["kopru"] == {"truncated": True, "limit": 5}
    assert len(list(Result.parse(io.BytesIO(r.data), format="json"))) == 5


@pytest.mark.parametrize("accept,count", [
    ("application/sparql-results+xml", lambda b: len(list(ET.fromstring(b).iter(SRX + "result")))),
    ("text/csv", lambda b: len(list(csv.reader(io.StringIO(b.decode(), newline="")))) - 1),
    ("text/tab-separated-values", lambda b: b.decode().rstrip("\n").count("\n")),
])
def test_truncated_other_formats_announce_by_header(capped, accept, count):
    r = get(capped, ALL_TRIPLES, accept)
    assert r.status_code == 200 and r.mimetype == accept
    assert r.headers["X-Kopru-Truncated"] == "true"
    assert count(r.data) == 5


def test_truncated_construct(capped):
    from rdflib import Graph

    r = get(capped, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
    assert r.headers["X-Kopru-Truncated"] == "true"
    assert len(Graph().parse(data=r.data, format="nt")) == 5


def test_exactly_the_limit_is_not_truncated(capped):
    for accept in ("application/sparql-results+json", "text/csv", "application/sparql-results+xml"):
        r = get(capped, ALL_TRIPLES + " LIMIT 5", accept)
        assert "X-Kopru-Truncated" not in r.headers, accept
    r = get(capped, ALL_TRIPLES + " LIMIT 5")
    assert len(r.get_json()["results"]["bindings"]) == 5 and "kopru" not in r.get_json()
    r = get(capped, "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 5")
    assert "X-Kopru-Truncated" not in r.headers


def test_truncation_headers_are_exposed_to_browsers(capped):
    r = get(capped, ALL_TRIPLES)
    assert "X-Kopru-Truncated" in r.headers["Access-Control-Expose-Headers"]


def test_unicode_round_trip(c):
    r = get(c, f'SELECT ?l WHERE {{ <{ID}turkiye> <{RDFS_LABEL}> ?l FILTER(lang(?l) = "tr") }}')
    assert r.get_json()["results"]["bindings"][0]["l"]["value"] == "Türkiye"
    assert "charset=utf-8" in get(c, SELECT_LABELS, "text/csv").headers["Content-Type"]
