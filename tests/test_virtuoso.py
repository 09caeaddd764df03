"""OpenLink Virtuoso as a second real store (Debian's `virtuoso-opensource`):
`kopru build --push` into it (through its digest-protected endpoint) and
the app serving from it (`store_url`, as `kopru serve --store` does), with
the push, serve, competency, format, page and outage checks the Oxigraph
server gets, compared with the embedded store's answers. The app runs
in-process, the process that matters here is the store; a real `kopru
serve --store` over Virtuoso is in tests/test_push_safety.py.

Where the engines legitimately differ the answers are normalised, and each
normalisation names the Virtuoso behaviour it absorbs:
- it returns the same row more than once for `p+` paths  → rows as sets;
- it stores WKT points as its own geometry type, in single precision
  → points compared as coordinates rounded to 4 decimals;
- it normalises numbers ("919500000.0" → "919500000")     → numbers by value;
- it lower-cases language tags                             → tags compared lower-case.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox
import pytest
from competency_expected import EXPECTED, check
from helpers import (
    OTHER_TENANT_QUERIES,
    REPO_ROOT,
    STATE_ENV,
    push_build,
    run_cli,
    wait_for,
)
from virtuoso import PASSWORD, USER, direct_query, direct_update, reset_store

pytestmark = pytest.mark.remote        # a real Virtuoso (and Oxigraph) server

QUERIES = {p.stem: p.read_text(encoding="utf-8") for p in sorted((REPO_ROOT / "queries").glob("*.rq"))}
KOPRU_GRAPHS = {f"https://w3id.org/kopru/graph/{k}" for k in ("asserted", "entailed", "ontology",
                                                              "shapes")}
META_GRAPH = "https://w3id.org/kopru/graph/meta"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long",
                             "nonNegativeInteger", "positiveInteger")}
WKT_TYPES = {"http://www.opengis.net/ont/geosparql#wktLiteral",
             "http://www.openlinksw.com/schemas/virtrdf#Geometry"}
POINT = re.compile(r"POINT\s*\(\s*(\S+)\s+(\S+)\s*\)")
# A query Virtuoso's compiler cannot take although it is valid SPARQL 1.1
# (a FILTER and a BIND in a UNION branch inside GRAPH).
VALID_BUT_REFUSED = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?t ?k ?v WHERE { GRAPH <https://w3id.org/kopru/graph/ontology> {
  { ?t rdfs:label ?v BIND("label" AS ?k) }
  UNION { ?t rdfs:subClassOf ?v FILTER(isIRI(?v)) BIND("super" AS ?k) } } }"""
SLOW = ('SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f '
        'FILTER(REGEX(CONCAT(STR(?c), STR(?f)), "x.*y.*z")) }')


# --- normalising what the engines may write differently --------------------------------


def norm(term: dict | None):
    """A SPARQL JSON term, normalised where Virtuoso legitimately differs."""
    if term is None:
        return None
    kind, value = term["type"], term["value"]
    if kind == "bnode":
        return ("bnode",)                       # labels are the store's own
    if kind == "uri":
        return ("uri", value)
    dt, lang = term.get("datatype"), term.get("xml:lang")
    if lang:
        return ("lit", value, lang.lower())     # Virtuoso lower-cases language tags
    if dt in NUMERIC:
        try:                                    # Virtuoso normalises numbers
            return ("num", Decimal(value))
        except InvalidOperation:
            pass
    m = POINT.fullmatch(value.strip())
    if dt in WKT_TYPES and m:                   # Virtuoso's own geometry, single precision
        return ("point", round(float(m.group(1)), 4), round(float(m.group(2)), 4))
    return ("lit", value, dt or XSD + "string")


def row_set(results: dict) -> set:
    """The rows as a set (Virtuoso repeats rows for `p+` paths)."""
    cols = results["head"]["vars"]
    return {tuple(norm(b.get(c)) for c in cols) for b in results["results"]["bindings"]}


def deduplicated(results: dict) -> dict:
    """The answer without repeated rows, in order (Virtuoso repeats rows for
    `p+` paths), and with points as the article wrote them (rounded)."""
    seen, rows = set(), []
    for b in results["results"]["bindings"]:
        key = json.dumps({k: norm(v) for k, v in sorted(b.items())}, default=str)
        if key not in seen:
            seen.add(key)
            rows.append(b)
    return {"head": results["head"], "results": {"bindings": rows}}


def sparql_json(client, query: str, **params) -> dict:
    r = client.post("/sparql", data=urllib.parse.urlencode({"query": query, **params}),
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "Accept": "application/sparql-results+json"})
    assert r.status_code == 200, (query[:200], r.status_code, r.text[:2000])
    return r.get_json()


# --- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def virtuoso(built_project, worker_virtuoso):
    """The worker's Virtuoso (conftest), emptied, holding the shipped
    project. It is locked first, where only the user `kopru` may write
    (through /sparql-auth, which asks for HTTP digest authentication), and
    loaded as such a store is: `pushes` keeps what an anonymous push, one
    with a wrong password and the user's own said
    (test_push_with_a_user_through_digest_auth reads them). Then anyone may
    update, as the direct updates of other tests need."""
    server = worker_virtuoso
    reset_store(server)
    server.allow_anonymous_updates(False)
    state = {STATE_ENV: str(built_project[1])}
    auth_url = server.base + "/sparql-auth"
    server.pushes = {
        "anonymous": run_cli("build", "--push", server.url, env=state),
        "wrong password": run_cli("build", "--push", auth_url, env={
            **state, "KOPRU_STORE_USER": USER, "KOPRU_STORE_PASSWORD": "wrong"}),
        "user": run_cli("build", "--push", auth_url, env={
            **state, "KOPRU_STORE_USER": USER, "KOPRU_STORE_PASSWORD": PASSWORD}),
    }
    r = server.pushes["user"]
    assert r.returncode == 0, r.stdout + r.stderr
    server.allow_anonymous_updates(True)
    return server


@pytest.fixture(scope="module")
def served_app(built_project, virtuoso, make_app):
    """The app over that Virtuoso, 3 s query timeout, answer cache off
    (every request reaches the store)."""
    return make_app(*built_project, store_url=virtuoso.url, query_timeout=3,
                    result_cache_bytes=0)


@pytest.fixture
def served(served_app):
    return served_app.test_client()


@pytest.fixture
def embedded(app):
    """The same project from the embedded store: the answers to compare with."""
    return app.test_client()


def manifest(state: Path) -> dict:
    return json.loads(((state / "current").resolve() / "manifest.json").read_text())


# --- push -----------------------------------------------------------------------------------


def test_push_loads_every_graph_whole(virtuoso, built_project):
    expected = manifest(built_project[1])
    meta = {b["p"]["value"].rsplit("#", 1)[1]: b["o"]["value"] for b in direct_query(
        virtuoso, f"SELECT ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}")}
    assert meta["hash"] == expected["hash"]
    counts = {b["g"]["value"]: int(b["n"]["value"]) for b in direct_query(
        virtuoso, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    for key, n in expected["counts"].items():
        assert counts[f"https://w3id.org/kopru/graph/{key}/{meta['version']}"] == n > 0, key
    # no other version of Köprü's graphs in the store
    versions = {g.rsplit("/", 1)[1] for g in counts if g.rsplit("/", 1)[0] in KOPRU_GRAPHS}
    assert versions == {meta["version"]}


def test_push_again_is_skipped(virtuoso, built_project):
    r = push_build(REPO_ROOT, built_project[1], virtuoso.url)
    assert "remote store up to date" in r.stdout, r.stdout + r.stderr


def test_blank_nodes_and_exact_numbers_survive_the_push(served):
    """The shapes graph's blank-node structure arrives linked (GSP, not
    INSERT DATA, which Virtuoso refuses with blank nodes), and the money
    keeps its value."""
    q = ("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT (COUNT(*) AS ?n) WHERE { GRAPH "
         "<https://w3id.org/kopru/graph/shapes> { ?shape sh:property ?ps . ?ps sh:path ?p } }")
    n = int(sparql_json(served, q)["results"]["bindings"][0]["n"]["value"])
    assert n >= 20
    q = ("PREFIX kop: <https://w3id.org/kopru/ontology#> PREFIX schema: <http://schema.org/> "
         "SELECT ?v WHERE { ?f kop:importer <https://w3id.org/kopru/id/albania> ; "
         "kop:tradeValue/schema:value ?v }")
    values = {norm(b["v"]) for b in sparql_json(served, q)["results"]["bindings"]}
    assert ("num", Decimal("919500000")) in values


# --- serve: the same answers as the embedded store ---------------------------------------


# Answers Virtuoso 7.2.5 gets wrong (its engine, not Köprü): strict, so a
# Virtuoso that answers right makes the test say so.
VIRTUOSO_WRONG = {
    "turkiye-funds-or-builds-per-country":
        "Virtuoso drops rows when a `*` path inside a UNION is joined with "
        "more patterns (each part alone answers right)",
}


@pytest.mark.parametrize("slug", [
    pytest.param(s, marks=pytest.mark.xfail(reason=VIRTUOSO_WRONG[s], strict=True))
    if s in VIRTUOSO_WRONG else s for s in sorted(QUERIES)])
def test_competency_question_on_virtuoso(served, embedded, slug):
    got = sparql_json(served, QUERIES[slug])
    problem = check(EXPECTED[slug], deduplicated(got))
    assert problem is None, f"{slug} on Virtuoso: {problem}"
    assert row_set(got) == row_set(sparql_json(embedded, QUERIES[slug])), slug


@pytest.mark.parametrize("fmt,parse", [
    ("json", None), ("xml", ox.QueryResultsFormat.XML), ("csv", None),
    ("tsv", ox.QueryResultsFormat.TSV)])
def test_select_formats(served, embedded, fmt, parse):
    q = QUERIES["exports-to-western-balkans-ranked"]
    answers = []
    for client in (served, embedded):
        r = client.get("/sparql", query_string={"query": q, "format": fmt})
        assert r.status_code == 200, r.text
        if parse is not None:                 # a document pyoxigraph reads
            countries = [str(s["country"]) for s in ox.parse_query_results(r.data, parse)]
        elif fmt == "json":
            countries = [b["country"]["value"] for b in r.get_json()["results"]["bindings"]]
        else:
            countries = [line.split(",")[0] for line in r.text.splitlines()[1:]]
        answers.append(set(countries))        # as sets: Virtuoso repeats rows for `p+`
    assert answers[0] == answers[1] and len(answers[0]) == 3


@pytest.mark.parametrize("fmt,rdf", [("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES),
                                     ("jsonld", ox.RdfFormat.JSON_LD),
                                     ("rdfxml", ox.RdfFormat.RDF_XML)])
def test_construct_formats(served, embedded, fmt, rdf):
    q = ("PREFIX kop: <https://w3id.org/kopru/ontology#> CONSTRUCT { ?a kop:party ?p } "
         "WHERE { ?a kop:party ?p }")
    graphs = []
    for client in (served, embedded):
        r = client.get("/sparql", query_string={"query": q, "format": fmt})
        assert r.status_code == 200, r.text
        graphs.append({str(t) for t in ox.parse(r.data, rdf)})
    assert graphs[0] == graphs[1] and len(graphs[0]) > 10


def test_ask_is_a_boolean(served):
    """Virtuoso answers ASK as a one-row SELECT (`__ASK_RETVAL`); Köprü
    gives the client a SPARQL boolean, true and false."""
    for q, want in (("ASK { ?s ?p ?o }", True), ("ASK { <urn:nothing> ?p ?o }", False)):
        r = served.get("/sparql", query_string={"query": q},
                       headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200 and r.get_json() == {"head": {}, "boolean": want}, r.text
        r = served.get("/sparql", query_string={"query": q, "format": "xml"})
        assert f"<boolean>{str(want).lower()}</boolean>" in r.text


def test_blank_nodes_come_back_as_blank_nodes(served):
    """Virtuoso names blank nodes `nodeID://…` in its results."""
    q = ("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?ps WHERE { GRAPH "
         "<https://w3id.org/kopru/graph/shapes> { ?shape sh:property ?ps FILTER(isBlank(?ps)) } } "
         "LIMIT 5")
    for fmt in ("json", "xml", "tsv", "csv"):
        r = served.get("/sparql", query_string={"query": q, "format": fmt})
        assert r.status_code == 200 and "nodeID://" not in r.text, (fmt, r.text[:500])
    rows = sparql_json(served, q)["results"]["bindings"]
    assert len(rows) == 5 and all(b["ps"]["type"] == "bnode" for b in rows)


def test_result_limit_cuts_virtuosos_answer(virtuoso, built_project, make_app):
    """Virtuoso's own cap (ResultSetMaxRows) is above Köprü's limit, so
    Köprü's truncation is what the client sees, and says so."""
    client = make_app(*built_project, store_url=virtuoso.url, result_limit=50).test_client()
    for fmt in ("json", "tsv"):
        r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }",
                                                "format": fmt})
        assert r.status_code == 200 and r.headers["X-Kopru-Truncated"] == "true", fmt
        rows = len(r.get_json()["results"]["bindings"]) if fmt == "json" else \
            len(r.text.splitlines()) - 1
        assert rows == 50, fmt


# --- pages --------------------------------------------------------------------------------

PAGES = ["/", "/browse", "/browse/Country", "/search?q=alban", "/ontology", "/source/article",
         "/id/albania.html", "/id/turkiye.html", "/id/tirana.html", "/timeline", "/trade",
         "/map", "/id/albania/network", "/.well-known/void"]


def links(html: str) -> set[str]:
    """Where a page links to."""
    return set(re.findall(r'href="([^"#]+)', html))


@pytest.mark.parametrize("path", PAGES)
def test_page_is_the_embedded_stores_page(served, embedded, path):
    """Each page renders from Virtuoso and links to exactly what the
    embedded store's page links to (the page queries are portable)."""
    got = served.get(path, headers={"Accept": "text/html"})
    want = embedded.get(path, headers={"Accept": "text/html"})
    assert got.status_code == want.status_code == 200, (path, got.status_code, got.text[:1000])
    assert links(got.text) == links(want.text), path


def test_entity_data_and_dumps(served, embedded):
    for path in ("/id/albania.ttl", "/id/albania.nt", "/dumps/kopru-asserted.nt"):
        graphs = []
        for client in (served, embedded):
            r = client.get(path)
            assert r.status_code == 200, (path, r.text[:500])
            fmt = ox.RdfFormat.TURTLE if path.endswith(".ttl") else ox.RdfFormat.N_TRIPLES
            graphs.append({norm_triple(t) for t in ox.parse(r.data, fmt)})
        assert graphs[0] == graphs[1], (path, graphs[0] ^ graphs[1])


def norm_triple(t) -> tuple:
    def n(x):
        if isinstance(x, ox.BlankNode):
            return ("bnode",)
        if isinstance(x, ox.NamedNode):
            return ("uri", x.value)
        term = {"type": "literal", "value": x.value}
        if x.language:
            term["xml:lang"] = x.language
        else:
            term["datatype"] = x.datatype.value
        return norm(term)
    return (n(t.subject), n(t.predicate), n(t.object))


def test_page_a_store_refuses_is_a_502_naming_it(served):
    """A valid query Virtuoso's compiler cannot take: the client learns
    that the store refused it (502, Virtuoso's words), not that the query
    is wrong, and never a bare 500."""
    r = served.get("/sparql", query_string={"query": VALID_BUT_REFUSED})
    assert r.status_code == 502, r.text
    assert "valid SPARQL 1.1" in r.text and "Virtuoso" in r.text
    assert "SPARQL query:" not in r.text        # its echo of the rewritten query is cut


def test_syntax_error_is_400_with_line_and_column(served):
    r = served.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p "})
    assert r.status_code == 400, r.text
    assert "line 1, column" in r.text and "^" in r.text


def test_healthz(served, built_project):
    r = served.get("/healthz")
    assert r.status_code == 200, r.text
    doc = r.get_json()
    assert doc["status"] == "ok" and doc["store"] == "remote"
    assert doc["triples"] == sum(manifest(built_project[1])["counts"].values())


# --- Köprü shows only Köprü's graphs ----------------------------------------------------


def test_other_graphs_stay_invisible(virtuoso, served):
    """Virtuoso's own system graphs and another tenant's graph are not
    readable through Köprü, whatever the query names."""
    direct_update(virtuoso, 'INSERT DATA { GRAPH <urn:other> { <urn:secret> <urn:p> "other tenant" } }')
    try:
        for q, params in [
            *OTHER_TENANT_QUERIES,
            ("SELECT * FROM <http://www.openlinksw.com/schemas/virtrdf#> { ?s ?p ?o }", {}),
        ]:
            r = served.get("/sparql", query_string={"query": q, **params})
            assert r.status_code == 200 and r.get_json()["results"]["bindings"] == [], \
                (q, params, r.text)
        r = served.get("/sparql", query_string={
            "query": "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }"})
        assert {b["g"]["value"] for b in r.get_json()["results"]["bindings"]} == KOPRU_GRAPHS
        # Virtuoso's own dialect never reaches it: its pragmas, its SQL functions
        r = served.get("/sparql", query_string={
            "query": "define input:default-graph-uri <urn:other> SELECT * { ?s ?p ?o }"})
        assert r.status_code == 400 and "line 1" in r.text, r.text
        for q in ('SELECT (<bif:sprintf>("%s", "x") AS ?x) {}',
                  'PREFIX s: <sql:> SELECT (s:anything() AS ?x) {}'):
            r = served.get("/sparql", query_string={"query": q})
            assert r.status_code == 403 and "store's own functions" in r.text, (q, r.text)
    finally:
        direct_update(virtuoso, "DROP SILENT GRAPH <urn:other>")


# --- the store runs slow, goes away, comes back ------------------------------------------


def ask(client) -> bool:
    r = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert r.status_code == 200, r.text
    return r.get_json()["boolean"]


def test_timeout_then_store_down_then_back(virtuoso, built_project, make_app):
    """Virtuoso does not stop a query with a dataset at its
    MaxQueryExecutionTime: Köprü stops waiting at its own limit (2 s here:
    the query keeps Virtuoso busy until it stops) and stays free for other
    requests. Then the store goes away (which also ends that runaway query:
    one restart of Virtuoso serves both halves) and comes back on the same
    ports with the same data."""
    served = make_app(*built_project, store_url=virtuoso.url, query_timeout=2,
                      result_cache_bytes=0, store_version_max_age=0.2).test_client()
    served.get("/id/albania.html")              # a page cached, as on a server that ran a while
    box = {}

    def slow():
        box["r"] = served.get("/sparql", query_string={"query": SLOW})

    t = threading.Thread(target=slow)
    t.start()
    try:
        t.join(120)                             # a hang detector: it ends at 2 s
        r = box["r"]
        assert r.status_code == 503 and "exceeded the 2 s limit" in r.text, r.text
        assert ask(served) is True
        assert served.get("/healthz").status_code == 200
    finally:
        t.join(120)
        virtuoso.stop()                         # the runaway query ends with it
    try:
        # Köprü reuses the store's version it read for a moment (and pages
        # cached for that version with it): wait for it to notice, however
        # long that moment takes here.
        paths = (("/sparql?query=ASK%7B%7D", {}), ("/id/albania.html", {"Accept": "text/html"}),
                 ("/id/albania.ttl", {}))

        def replies():
            rs = [served.get(path, headers=headers) for path, headers in paths]
            return rs if all(r.status_code != 200 for r in rs) else None

        for (path, _), r in zip(paths, wait_for(replies, 30, "Köprü to notice the store is gone"),
                                strict=True):
            assert r.status_code in (502, 503) and "not answering" in r.text, \
                (path, r.text[:300])
            assert r.headers.get("Retry-After")
        r = served.get("/healthz")
        assert r.status_code == 503 and r.get_json()["status"] == "unavailable"
    finally:
        virtuoso.start()                        # same ports, same data
    # …and everything recovers without restarting Köprü (after the client's
    # one-second fail-fast, however long it takes here)
    wait_for(lambda: served.get("/healthz").status_code == 200, 60, "/healthz to recover")
    wait_for(lambda: served.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
             .status_code == 200, 30, "queries to be answered again")
    for _ in range(4):
        assert ask(served) is True
    r = served.get("/id/albania.html", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "Albania" in r.text


# --- writes with a user: Virtuoso's digest-protected endpoints -------------------------------


def test_push_with_a_user_through_digest_auth(virtuoso, built_project, make_app):
    """The module's store was loaded by the user `kopru` through
    /sparql-auth (the `virtuoso` fixture); here is what each push said."""
    # anonymous: refused, and the message says what to configure
    r = virtuoso.pushes["anonymous"]
    assert r.returncode == 1, r.stdout + r.stderr
    assert "KOPRU_STORE_USER" in r.stderr and "Traceback" not in r.stderr
    # a wrong password: refused, clearly
    r = virtuoso.pushes["wrong password"]
    assert r.returncode == 1 and "401" in r.stderr and "Traceback" not in r.stderr, r.stderr
    # the user: pushed, and served from the same endpoint with the same credentials
    r = virtuoso.pushes["user"]
    assert r.returncode == 0 and "pushed in" in r.stdout, r.stdout + r.stderr
    client = make_app(*built_project, store_url=virtuoso.base + "/sparql-auth",
                      store_user=USER, store_password=PASSWORD).test_client()
    rows = sparql_json(client, QUERIES["exports-to-western-balkans-ranked"])
    assert len({b["country"]["value"] for b in rows["results"]["bindings"]}) == 3
    assert client.get("/healthz").status_code == 200
