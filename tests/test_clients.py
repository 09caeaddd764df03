"""Clients nobody here wrote, each with its own defaults, against a real
`kopru serve` (the session's `kopru_server`): SPARQLWrapper, rdflib's
SPARQLStore, the Accept headers and format names Jena and YASGUI send,
Comunica (Node) and pyld's document loader on an entity IRI."""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import tempfile
import urllib.parse
import urllib.request
import warnings
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

pytestmark = pytest.mark.server        # real clients need a real HTTP server

ID = "https://w3id.org/kopru/id/"
KOP = "https://w3id.org/kopru/ontology#"
QUERIES = {
    "SELECT": f"SELECT ?c WHERE {{ ?c a <{KOP}Country> }} ORDER BY ?c",
    "ASK": f"ASK {{ <{ID}albania> a <{KOP}Country> }}",
    "CONSTRUCT": f"CONSTRUCT {{ <{ID}albania> ?p ?o }} WHERE {{ <{ID}albania> ?p ?o }}",
    "DESCRIBE": f"DESCRIBE <{ID}albania>",
}


@pytest.fixture(scope="module")
def server(kopru_server):
    return kopru_server


def http(url: str, data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_answer(form: str, media: str, body: bytes) -> None:
    """The body parses as what the form calls for, with Albania in it."""
    if media == "text/csv":                 # CSV drops term kinds: oxigraph will not parse it
        assert body.startswith(b"c\r\n") and (ID + "albania").encode() in body
    elif form in ("SELECT", "ASK"):
        fmt = ox.QueryResultsFormat.from_media_type(media)
        assert fmt is not None, media
        result = ox.parse_query_results(body, fmt)
        if form == "ASK":
            assert bool(result) is True
        else:
            assert any(row["c"] == ox.NamedNode(ID + "albania") for row in result)
    else:
        fmt = ox.RdfFormat.from_media_type(media)
        assert fmt is not None, media
        triples = list(ox.parse(body, fmt, base_iri="http://localhost/"))
        assert any(t.subject == ox.NamedNode(ID + "albania") for t in triples)


# --- SPARQLWrapper -------------------------------------------------------------------------

def sparqlwrapper_formats():
    from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML

    return {"SELECT": [None, XML, JSON, CSV, TSV, N3], "ASK": [None, XML, JSON, N3],
            "CONSTRUCT": [None, XML, RDFXML, TURTLE, N3, JSONLD, JSON],
            "DESCRIBE": [None, XML, RDFXML, TURTLE, N3, JSONLD]}


@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper(server, form, method):
    from SPARQLWrapper import POST, SPARQLWrapper

    for fmt in sparqlwrapper_formats()[form]:
        client = SPARQLWrapper(server.sparql_url)
        if method == "POST":
            client.setMethod(POST)
        if fmt is not None:                 # None: SPARQLWrapper's default (XML)
            client.setReturnFormat(fmt)
        client.setQuery(QUERIES[form])
        with warnings.catch_warnings():     # it warns when it sends Accept: */*
            warnings.simplefilter("ignore", RuntimeWarning)
            result = client.query()
        media = result.response.headers["Content-Type"].split(";")[0]
        check_answer(form, media, result.response.read())


def test_sparqlwrapper_n3_on_construct_is_turtle(server):
    from SPARQLWrapper import N3, SPARQLWrapper

    client = SPARQLWrapper(server.sparql_url)
    client.setReturnFormat(N3)
    client.setQuery(QUERIES["CONSTRUCT"])
    text = client.queryAndConvert()         # SPARQLWrapper hands N3 over as it came
    graph = rdflib.Graph().parse(data=text, format="n3")
    assert (rdflib.URIRef(ID + "albania"), rdflib.RDF.type,
            rdflib.URIRef(KOP + "Country")) in graph


# --- rdflib's SPARQLStore -------------------------------------------------------------------

@pytest.mark.parametrize("form", list(QUERIES))
def test_rdflib_sparqlstore(server, form):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = rdflib.Graph(store=SPARQLStore(server.sparql_url))
    result = graph.query(QUERIES[form])
    if form == "ASK":
        assert result.askAnswer is True
    elif form == "SELECT":
        assert rdflib.URIRef(ID + "albania") in {row[0] for row in result}
    else:
        assert (rdflib.URIRef(ID + "albania"), rdflib.RDF.type,
                rdflib.URIRef(KOP + "Country")) in result.graph


# --- Jena and YASGUI: their Accept headers and format names ---------------------------------

# What Jena 4's QueryExecutionHTTP sends by default for each form.
JENA_ACCEPT = {
    "SELECT": "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
              "text/tab-separated-values;q=0.7, text/csv;q=0.5, application/json;q=0.2, "
              "application/xml;q=0.2, */*;q=0.1",
    "ASK": "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
           "text/plain;q=0.2, application/json;q=0.2, application/xml;q=0.2, */*;q=0.1",
    "CONSTRUCT": "text/turtle,application/n-triples;q=0.9,application/ld+json;q=0.8,"
                 "application/rdf+xml;q=0.7,*/*;q=0.5",
}
JENA_ACCEPT["DESCRIBE"] = JENA_ACCEPT["CONSTRUCT"]
# What YASGUI sends (form-encoded POST by default).
YASGUI_ACCEPT = {"SELECT": "application/sparql-results+json,*/*;q=0.9",
                 "ASK": "application/sparql-results+json,*/*;q=0.9",
                 "CONSTRUCT": "text/turtle,*/*;q=0.9", "DESCRIBE": "text/turtle,*/*;q=0.9"}


@pytest.mark.parametrize("form", list(QUERIES))
@pytest.mark.parametrize("client", ["jena", "yasgui"])
def test_jena_and_yasgui_defaults(server, form, client):
    accept = (JENA_ACCEPT if client == "jena" else YASGUI_ACCEPT)[form]
    if client == "jena":
        status, headers, body = http(server.sparql_url, QUERIES[form].encode(), {
            "Accept": accept, "Content-Type": "application/sparql-query"})
    else:
        status, headers, body = http(server.sparql_url, urllib.parse.urlencode(
            {"query": QUERIES[form]}).encode(), {
            "Accept": accept, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    media = headers["Content-Type"].split(";")[0]
    expected = "application/sparql-results+json" if form in ("SELECT", "ASK") else "text/turtle"
    assert media == expected
    check_answer(form, media, body)


FORMAT_NAMES = {
    "SELECT": {"json": "application/sparql-results+json",
               "xml": "application/sparql-results+xml", "csv": "text/csv",
               "tsv": "text/tab-separated-values", "srj": "application/sparql-results+json",
               "srx": "application/sparql-results+xml"},
    "CONSTRUCT": {"turtle": "text/turtle", "ttl": "text/turtle", "n3": "text/turtle",
                  "nt": "application/n-triples", "ntriples": "application/n-triples",
                  "n-triples": "application/n-triples", "rdf": "application/rdf+xml",
                  "rdfxml": "application/rdf+xml", "rdf/xml": "application/rdf+xml",
                  "xml": "application/rdf+xml", "jsonld": "application/ld+json",
                  "json-ld": "application/ld+json", "json": "application/ld+json"},
}


@pytest.mark.parametrize("form", list(FORMAT_NAMES))
@pytest.mark.parametrize("param", ["format", "output"])
def test_format_names_clients_send(server, form, param):
    for name, media in FORMAT_NAMES[form].items():
        query = urllib.parse.urlencode({"query": QUERIES[form], param: name})
        status, headers, body = http(f"{server.sparql_url}?{query}")
        assert status == 200, (name, body)
        assert headers["Content-Type"].split(";")[0] == media, name
        check_answer(form, media, body)


@pytest.mark.parametrize("media", ["text/rdf+n3", "application/n3", "application/turtle",
                                   "application/x-json+ld"])
def test_other_graph_media_types_clients_send(server, media):
    status, headers, body = http(f"{server.sparql_url}?" + urllib.parse.urlencode(
        {"query": QUERIES["CONSTRUCT"]}), headers={"Accept": media})
    assert status == 200
    check_answer("CONSTRUCT", headers["Content-Type"].split(";")[0], body)


def test_a_format_name_that_fits_no_form_is_still_406(server):
    query = urllib.parse.urlencode({"query": QUERIES["SELECT"], "format": "pdf"})
    status, _, body = http(f"{server.sparql_url}?{query}", headers={"Accept": "*/*"})
    assert status == 406 and b"format=json" in body


# --- pyld ------------------------------------------------------------------------------------

def test_pyld_loads_an_entity_iri(server):
    from pyld import jsonld

    url = f"{server.url}/id/albania"
    remote = jsonld.load_document(url, {"documentLoader": jsonld.get_document_loader()})
    doc = remote["document"]
    assert remote["documentUrl"].endswith("/id/albania.jsonld")
    assert doc["@context"] == f"{server.url}/context.jsonld"
    expanded = jsonld.expand(doc)           # pyld fetches the published context itself
    albania = next(n for n in expanded if n["@id"] == ID + "albania")
    labels = {(v["@value"], v.get("@language")) for v in
              albania["http://www.w3.org/2000/01/rdf-schema#label"]}
    assert ("Albania", "en") in labels and ("Arnavutluk", "tr") in labels
    assert KOP + "Country" in albania["@type"]


def test_pyld_loads_the_page_and_follows_its_alternate(server):
    from pyld import jsonld

    # A page (HTML) names its JSON-LD in a Link header: JSON-LD 1.1's way.
    remote = jsonld.load_document(f"{server.url}/id/albania.html",
                                  {"documentLoader": jsonld.get_document_loader()})
    assert remote["documentUrl"].endswith("/id/albania.jsonld")


# --- Comunica (Node) ---------------------------------------------------------------------------

COMUNICA = "@comunica/query-sparql@4"
COMUNICA_SCRIPT = r"""
const { QueryEngine } = require('@comunica/query-sparql');
const [url, select, ask, construct] = process.argv.slice(1);  // node -e: no script path
(async () => {
  const engine = new QueryEngine();
  const context = { sources: [{ type: 'sparql', value: url }] };
  const rows = await (await engine.queryBindings(select, context)).toArray();
  const yes = await engine.queryBoolean(ask, context);
  const quads = await (await engine.queryQuads(construct, context)).toArray();
  console.log(JSON.stringify({
    select: rows.map(b => b.get('c').value), ask: yes,
    construct: quads.map(q => [q.subject.value, q.predicate.value, q.object.value]) }));
})().catch(e => { console.error(e); process.exit(1); });
"""


@pytest.fixture(scope="module")
def comunica() -> Path:
    """@comunica/query-sparql 4.x installed once under the temp dir (one
    install shared by every run); skipped when npm cannot reach its registry."""
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("Comunica needs node and npm, which are not installed")
    home = Path(tempfile.gettempdir()) / "kopru-comunica-4"
    home.mkdir(exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # two test runs at once install once
        done = home / ".installed"           # written only when an install completed
        if not done.exists():
            r = subprocess.run(["npm", "install", "--prefix", str(home), "--no-audit",
                                "--no-fund", "--loglevel=error", COMUNICA],
                               capture_output=True, text=True, timeout=900)
            if r.returncode != 0:
                reach = subprocess.run(["npm", "ping"], capture_output=True, text=True,
                                       timeout=60)
                if reach.returncode != 0:
                    pytest.skip(f"npm cannot reach its registry to install {COMUNICA}")
                pytest.fail(f"npm install {COMUNICA} failed:\n{r.stderr[-2000:]}")
            done.touch()
    return home


def test_comunica(server, comunica):
    r = subprocess.run(["node", "-e", COMUNICA_SCRIPT, server.sparql_url, QUERIES["SELECT"],
                        QUERIES["ASK"], QUERIES["CONSTRUCT"]], cwd=comunica,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    answer = json.loads(r.stdout.strip().splitlines()[-1])
    assert ID + "albania" in answer["select"] and answer["ask"] is True
    assert [ID + "albania", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            KOP + "Country"] in answer["construct"]
