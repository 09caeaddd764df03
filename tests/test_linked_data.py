"""Dereferenceable IRIs, content negotiation, 404s, VoID and dumps, through
the test client.

Most tests run against the page fixture project (tests/conftest.py:
`pages_client`: the shipped ontology and source sentences plus a small graph
of test entities); a few check the shipped graph through `client` and skip
while its data is not there yet.
"""

from __future__ import annotations

import gzip
import json
import urllib.parse

import pytest
import rdflib
from helpers import ID, get

RDFS_LABEL = rdflib.RDFS.label


RDF_FORMATS = [
    ("text/turtle", "ttl", "turtle"),
    ("application/ld+json", "jsonld", "json-ld"),
    ("application/n-triples", "nt", "nt"),
    ("application/rdf+xml", "rdf", "xml"),
]


def parse(body: bytes, fmt: str, client=None) -> rdflib.Graph:
    """The triples of an RDF document. A JSON-LD document names its context
    by URL (this server's /context.jsonld): given the test client, the
    context is read from the app, as a client would fetch it."""
    if fmt == "json-ld" and client is not None:
        doc = json.loads(body)
        if isinstance(doc.get("@context"), str):
            context = client.get(urllib.parse.urlsplit(doc["@context"]).path)
            assert context.status_code == 200, doc["@context"]
            doc["@context"] = context.get_json()["@context"]
            body = json.dumps(doc).encode("utf-8")
    g = rdflib.Graph()
    g.parse(data=body, format=fmt)
    return g


# --- content negotiation ---------------------------------------------------------

@pytest.mark.parametrize("media,ext,parser", RDF_FORMATS)
def test_entity_iri_negotiates_each_rdf_format(pages_client, media, ext, parser):
    r = get(pages_client, "/id/testonia", accept=media, follow=False)
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/id/testonia.{ext}")
    assert "Accept" in r.headers["Vary"]
    doc = get(pages_client, "/id/testonia", accept=media)
    assert doc.status_code == 200
    assert doc.headers["Content-Type"].startswith(media)
    g = parse(doc.data, parser, pages_client)
    assert (rdflib.URIRef(ID + "testonia"), RDFS_LABEL, rdflib.Literal("Testonia", lang="en")) in g
    assert (rdflib.URIRef(ID + "testonia"), RDFS_LABEL, rdflib.Literal("Testonië", lang="sq")) in g


@pytest.mark.parametrize("media,ext,parser", RDF_FORMATS)
def test_per_format_urls(pages_client, media, ext, parser):
    r = get(pages_client, f"/id/test-agreement.{ext}", accept="text/html")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(media)
    g = parse(r.data, parser, pages_client)
    s = rdflib.URIRef(ID + "test-agreement")
    assert (s, RDFS_LABEL, None) in g
    assert (s, rdflib.URIRef("https://w3id.org/kopru/ontology#party"),
            rdflib.URIRef(ID + "testonia")) in g
    assert 'rel="alternate"' in r.headers["Link"]


def test_browser_gets_html_page(pages_client):
    r = get(pages_client, "/id/testonia", follow=False,
            accept="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert r.status_code == 303 and r.headers["Location"].endswith("/id/testonia.html")
    page = get(pages_client, "/id/testonia", accept="text/html")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<h1" in page.text and "Testonia" in page.text


def test_q_values_are_honoured(pages_client):
    r = get(pages_client, "/id/testonia", follow=False,
            accept="text/html;q=0.5, application/rdf+xml;q=0.4, text/turtle;q=0.9")
    assert r.headers["Location"].endswith(".ttl")
    r = get(pages_client, "/id/testonia", follow=False,
            accept="text/turtle;q=0.2, application/ld+json")
    assert r.headers["Location"].endswith(".jsonld")
    r = get(pages_client, "/id/testonia", follow=False, accept="*/*")
    assert r.headers["Location"].endswith(".html")


def test_unsupported_type_is_406(pages_client):
    r = get(pages_client, "/id/testonia", accept="image/png", follow=False)
    assert r.status_code == 406
    assert "text/turtle" in r.text


def test_lang_parameter_survives_the_redirect(pages_client):
    r = get(pages_client, "/id/testonia?lang=tr", accept="text/html", follow=False)
    assert r.headers["Location"].endswith("/id/testonia.html?lang=tr")


# --- 404s ------------------------------------------------------------------------

@pytest.mark.parametrize("media,ext,parser", RDF_FORMATS)
def test_unknown_entity_is_404_in_the_negotiated_format(pages_client, media, ext, parser):
    r = get(pages_client, "/id/no-such-entity", accept=media)
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith(media)
    assert len(parse(r.data, parser)) == 0      # a valid, empty RDF document
    r = get(pages_client, f"/id/no-such-entity.{ext}")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith(media)


def test_unknown_entity_is_404_html_for_browsers(pages_client):
    r = get(pages_client, "/id/no-such-entity", accept="text/html")
    assert r.status_code == 404 and r.headers["Content-Type"].startswith("text/html")
    assert "no-such-entity" in r.text


@pytest.mark.parametrize("path", [
    "/id/../etc/passwd", "/id/..%2f..%2fetc%2fpasswd", "/id/%2e%2e", "/id/%2e%2e/%2e%2e/etc/passwd",
    "/id/Albania", "/id/albania/", "/id/al bania", "/id/alb%00ania", "/id/-albania",
    "/id/albania.exe", "/id/" + "a" * 300, "/id/", "/id/albania.ttl.ttl",
])
def test_malformed_slugs_are_404(pages_client, path):
    r = pages_client.get(path.replace(" ", "%20"), headers={"Accept": "text/turtle"})
    assert r.status_code in (404, 400), (path, r.status_code)
    assert b"root:" not in r.data


def test_ontology_iris_are_left_alone_under_id(pages_client):
    # Only https://w3id.org/kopru/id/… lives under /id/.
    r = get(pages_client, "/id/ontology", accept="text/turtle")
    assert r.status_code == 404


# --- documents: the source article, the ontology ------------------------------------

def test_source_article_negotiated_in_place(pages_client):
    r = get(pages_client, "/source/article", accept="text/turtle")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert r.headers["Content-Location"] == "/source/article.ttl"
    assert "Accept" in r.headers["Vary"]
    g = parse(r.data, "turtle")
    s21 = rdflib.URIRef("https://w3id.org/kopru/source/article#S21")
    assert (s21, rdflib.URIRef("https://w3id.org/kopru/ontology#paragraph"), None) in g
    html = get(pages_client, "/source/article", accept="text/html")
    assert 'id="S21"' in html.text
    assert "/id/test-agreement" in html.text       # the fact S21 supports


def test_ontology_document(pages_client):
    r = get(pages_client, "/ontology", accept="text/turtle")
    assert r.status_code == 200 and r.headers["Content-Location"] == "/ontology.ttl"
    g = parse(r.data, "turtle")
    assert (rdflib.URIRef("https://w3id.org/kopru/ontology#Country"), rdflib.RDF.type,
            rdflib.OWL.Class) in g
    html = get(pages_client, "/ontology", accept="text/html")
    assert 'id="Country"' in html.text and 'id="party"' in html.text


# --- VoID and dumps -------------------------------------------------------------------

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")


def test_void_and_its_dumps(pages_client):
    r = get(pages_client, "/.well-known/void", accept="text/turtle")
    assert r.status_code == 200
    g = parse(r.data, "turtle")
    ds = rdflib.URIRef("https://w3id.org/kopru/dataset")
    assert (ds, rdflib.RDF.type, VOID.Dataset) in g
    assert (ds, VOID.sparqlEndpoint, rdflib.URIRef("http://localhost/sparql")) in g
    assert int(g.value(ds, VOID.triples)) > 1000
    linksets = list(g.subjects(rdflib.RDF.type, VOID.Linkset))
    assert len(linksets) == 3
    wikidata = [ls for ls in linksets if "wikidata" in str(g.value(ls, VOID.objectsTarget))]
    assert int(g.value(wikidata[0], VOID.triples)) >= 1
    dumps = sorted(str(d) for d in g.objects(ds, VOID.dataDump))
    assert len(dumps) == 6
    parsed = {}
    for url in dumps:
        ext = url.rsplit(".", 1)[-1]
        assert url.startswith("http://localhost/dumps/"), url     # served here
        plain = get(pages_client, urllib.parse.urlsplit(url).path)
        assert plain.status_code == 200, url
        packed = get(pages_client, urllib.parse.urlsplit(url).path, Accept_Encoding="gzip")
        assert packed.headers.get("Content-Encoding") == "gzip"
        assert gzip.decompress(packed.data) == plain.data
        parsed[url] = parse(plain.data, {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}[ext])
    full = next(v for k, v in parsed.items() if k.endswith("kopru-full.nt"))
    asserted = next(v for k, v in parsed.items() if k.endswith("kopru-asserted.nt"))
    label = (rdflib.URIRef(ID + "testonia"), RDFS_LABEL, rdflib.Literal("Testonia", lang="en"))
    assert label in full and label in asserted
    assert len(full) > len(asserted)
    # Entailed triples are only in the full dump.
    inferred = (rdflib.URIRef(ID + "test-agreement"), rdflib.RDF.type,
                rdflib.URIRef("https://w3id.org/kopru/ontology#Agreement"))
    assert inferred in full and inferred not in asserted


# --- the shipped graph --------------------------------------------------------------

SHIPPED = ["turkiye", "albania", "kosovo", "bosnia-and-herzegovina", "serbia", "banja-luka",
           "tika", "mke", "sarajevo-belgrade-highway", "turkiye-albania-strategic-partnership-agreement",
           "turkish-exports-to-albania-last-year", "claim-reassert-historical-dominance"]


@pytest.mark.parametrize("slug", SHIPPED)
def test_shipped_entities_dereference(client, slug):
    r = get(client, f"/id/{slug}.nt")
    if r.status_code == 404:
        pytest.skip(f"the shipped graph has no id:{slug} yet")
    assert r.status_code == 200
    g = parse(r.data, "nt")
    assert (rdflib.URIRef(ID + slug), RDFS_LABEL, None) in g
    page = get(client, f"/id/{slug}", accept="text/html")
    assert page.status_code == 200 and "<h1" in page.text
