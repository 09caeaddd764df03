"""Linked-data metadata, in-process over the session's build: the triple
counts say the same everywhere (build manifest, `kopru build` and
`validate`, the home page's data, VoID, the service description, /healthz,
the dumps), VoID/DCAT, the dumps and their index, JSON-LD profiles and the
published context, robots.txt, the sitemap and the entity page's head."""

from __future__ import annotations

import json
import re
import urllib.parse

import flask
import pyoxigraph as ox
import pytest
from helpers import REPO_ROOT, run_cli

from server import namespaces as ns
from server.config import Config
from server.stores.state import current_store_dir, read_manifest
from server.web import create_app

VOID = "http://rdfs.org/ns/void#"
DCT = ns.DCTERMS
DATASET = ox.NamedNode(ns.BASE + "dataset")
SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.fixture(scope="module")
def app(built_project):
    return create_app(Config.from_env(project=REPO_ROOT, state_dir=built_project[1]))


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def manifest(built_project):
    return read_manifest(current_store_dir_of(built_project))


def current_store_dir_of(built_project):
    from server.pipeline.project import Project

    return current_store_dir(Project(REPO_ROOT, state_dir=built_project[1]))


@pytest.fixture(scope="module")
def counts(manifest):
    c = manifest["counts"]
    return {**c, "dataset": c["asserted"] + c["ontology"] + c["entailed"]}


def graph_of(body: bytes, fmt=ox.RdfFormat.TURTLE) -> list:
    return [q.triple for q in ox.parse(body, fmt)]


def value(triples, s, p):
    found = [t.object for t in triples if t.subject == s and t.predicate == ox.NamedNode(p)]
    assert len(found) == 1, (s, p, found)
    return found[0]


@pytest.fixture(scope="module")
def void(client):
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    return graph_of(r.data)


# --- one set of figures ------------------------------------------------------------------

def test_void_counts_are_the_builds(void, counts):
    assert int(value(void, DATASET, VOID + "triples").value) == counts["dataset"]
    for key in ("asserted", "ontology", "entailed", "shapes"):
        g = ox.NamedNode(ns.GRAPH_NAMES[key])
        assert int(value(void, g, VOID + "triples").value) == counts[key], key
    subsets = {t.object for t in void if t.subject == DATASET
               and t.predicate == ox.NamedNode(VOID + "subset")}
    # The shapes graph is described, but it is not part of the dataset.
    assert ox.NamedNode(ns.GRAPH_SHAPES) not in subsets
    assert {ox.NamedNode(ns.GRAPH_NAMES[k]) for k in ("asserted", "ontology", "entailed")} <= subsets


def test_healthz_service_description_and_home_page_agree(client, app, counts):
    health = client.get("/healthz").json
    assert (health["dataset"], health["shapes"]) == (counts["dataset"], counts["shapes"])
    assert health["triples"] == counts["dataset"] + counts["shapes"]

    sd = graph_of(client.get("/sparql", headers={"Accept": "text/turtle"}).data)
    default_graph = [t.object for t in sd if t.predicate == ox.NamedNode(SD + "defaultGraph")]
    assert int(value(sd, default_graph[0], VOID + "triples").value) == counts["dataset"]
    assert not [t for t in sd if t.object == ox.NamedNode(SD + "UnionDefaultGraph")]

    seen = []

    def record(sender, template, context, **extra):
        seen.append(context)

    with flask.template_rendered.connected_to(record, app):
        assert client.get("/").status_code == 200
    home = seen[-1]             # the data the home page is rendered from
    assert (home["asserted"], home["ontology"], home["entailed"]) == (
        counts["asserted"], counts["ontology"], counts["entailed"])


def test_the_commands_say_the_same_figures(built_project, counts):
    env = {"KOPRU_STATE_DIR": str(built_project[1])}
    build = run_cli("build", env=env)
    assert build.returncode == 0, build.stderr
    assert (f"{counts['dataset']:,} triples in the dataset ({counts['asserted']:,} asserted + "
            f"{counts['ontology']:,} ontology + {counts['entailed']:,} entailed) and "
            f"{counts['shapes']:,} in the shapes graph") in build.stdout
    validate = run_cli("validate", env=env)
    assert (f"({counts['asserted']:,} asserted + {counts['ontology']:,} ontology) and "
            f"{counts['shapes']:,} in the shapes graph") in validate.stdout


def test_the_readme_says_the_same_figures(counts):
    """The README's "What is in the graph" table is the build's, not a
    figure from some earlier build."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert (f"| {counts['dataset']:,} = {counts['asserted']:,} + {counts['ontology']:,} + "
            f"{counts['entailed']:,} |") in readme
    assert f"(SHACL, kept out of the default graph) | {counts['shapes']:,} |" in readme


# --- VoID / DCAT ------------------------------------------------------------------------

def test_void_says_when_who_and_under_what_licence(void, manifest):
    modified = value(void, DATASET, DCT + "modified")
    assert modified.datatype == ox.NamedNode(ns.XSD + "dateTime")
    assert modified.value == manifest["built_at"]
    for p in ("publisher", "creator"):
        agent = value(void, DATASET, DCT + p)
        assert "Köprü" in value(void, agent, ns.FOAF + "name").value
    assert value(void, DATASET, DCT + "license").value.startswith(
        "https://creativecommons.org/licenses/by/4.0")


def test_the_lookup_endpoint_is_a_service_that_looks_up(void, client):
    lookup = value(void, DATASET, VOID + "uriLookupEndpoint")
    assert isinstance(lookup, ox.NamedNode)
    path = urllib.parse.urlsplit(lookup.value)
    r = client.get(f"{path.path}?{path.query}albania")
    assert r.status_code == 200
    assert ns.ID + "albania" in [hit["iri"] for hit in r.json["results"]]


def test_void_for_browsers_and_for_curl(client, counts):
    page = client.get("/.well-known/void", headers={
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert f"{counts['dataset']:,} in the dataset" in text and "/dumps/kopru-full.trig" in text
    assert client.get("/.well-known/void").mimetype == "text/turtle"   # no Accept: data
    assert client.get("/.well-known/void", headers={"Accept": "*/*"}).mimetype == "text/turtle"


# --- dumps ----------------------------------------------------------------------------------

def test_dumps_index_lists_every_dump(client, void):
    text = client.get("/dumps/").get_data(as_text=True)
    listed = sorted(set(re.findall(r'href="(/dumps/kopru-[a-z]+\.[a-z]+)"', text)))
    assert len(listed) == 8
    distributions = {t.object.value for t in void if t.predicate == ox.NamedNode(
        "http://www.w3.org/ns/dcat#downloadURL")}
    assert {urllib.parse.urlsplit(u).path for u in distributions} == set(listed)
    for path in listed:
        assert client.get(path).status_code == 200, path


def test_trig_keeps_the_named_graphs(client, counts):
    r = client.get("/dumps/kopru-full.trig")
    assert r.mimetype == "application/trig"
    quads = list(ox.parse(r.data, ox.RdfFormat.TRIG))
    per_graph: dict[str, int] = {}
    for q in quads:
        per_graph[q.graph_name.value] = per_graph.get(q.graph_name.value, 0) + 1
    assert per_graph == {ns.GRAPH_NAMES[k]: counts[k] for k in ("asserted", "ontology",
                                                                "entailed")}


def test_asserted_means_one_thing(client, built_project, counts, tmp_path):
    over_http = graph_of(client.get("/dumps/kopru-asserted.nt").data, ox.RdfFormat.N_TRIPLES)
    out = tmp_path / "asserted.nt"
    env = {"KOPRU_STATE_DIR": str(built_project[1])}
    r = run_cli("export", "--asserted-only", "-o", str(out), env=env)
    assert r.returncode == 0, r.stderr
    exported = graph_of(out.read_bytes(), ox.RdfFormat.N_TRIPLES)
    assert set(exported) == set(over_http) and len(exported) == counts["asserted"]
    # The other meaning has its own name: data and ontology, nothing entailed.
    r = run_cli("export", "--no-entailed", "--format", "nt", env=env)
    assert len(graph_of(r.stdout.encode(), ox.RdfFormat.N_TRIPLES)) == (
        counts["asserted"] + counts["ontology"])


# --- JSON-LD ------------------------------------------------------------------------------

COMPACTED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"'
EXPANDED = 'application/ld+json;profile="http://www.w3.org/ns/json-ld#expanded"'


def pyld_loader(client):
    """pyld's document loader, reading from the app in-process."""
    def load(url, options=None):
        r = client.get(urllib.parse.urlsplit(url).path,
                       headers={"Accept": "application/ld+json"}, follow_redirects=True)
        assert r.status_code == 200, url
        return {"contentType": "application/ld+json", "contextUrl": None,
                "documentUrl": url, "document": json.loads(r.data)}
    return load


def rdf_of(doc, client) -> set:
    from pyld import jsonld

    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads",
                                 "documentLoader": pyld_loader(client)})
    return {str(t) for t in graph_of(nquads.encode(), ox.RdfFormat.N_QUADS)
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}


@pytest.mark.parametrize("slug", ["albania", "turkiye", "mke-kosovo-ammunition-factory-agreement"])
def test_compacted_by_default_expanded_by_profile_same_triples(client, slug):
    default = client.get(f"/id/{slug}", headers={"Accept": "application/ld+json"},
                         follow_redirects=True)
    compacted = client.get(f"/id/{slug}", headers={"Accept": COMPACTED}, follow_redirects=True)
    expanded = client.get(f"/id/{slug}", headers={"Accept": EXPANDED}, follow_redirects=True)
    assert default.status_code == compacted.status_code == expanded.status_code == 200
    assert 'json-ld#compacted"' in default.headers["Content-Type"]
    assert 'json-ld#expanded"' in expanded.headers["Content-Type"]
    assert default.data == compacted.data != expanded.data
    doc = json.loads(compacted.data)
    assert doc["@context"] == "http://localhost/context.jsonld"
    node = next(n for n in doc["@graph"] if n["@id"] == f"id:{slug}")
    assert "en" in node["label"]            # a language map: "label": {"en": …}
    assert isinstance(json.loads(expanded.data), list)       # expanded: no @context
    assert rdf_of(doc, client) == rdf_of(json.loads(expanded.data), client)


def test_the_context_names_the_prefixes_and_terms(client):
    r = client.get("/context.jsonld")
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    ctx = r.json["@context"]
    assert ctx["kop"] == ns.KOP and ctx["id"] == ns.ID
    assert ctx["party"] == {"@id": ns.KOP + "party", "@type": "@id"}
    assert ctx["label"] == {"@id": ns.RDFS + "label", "@container": "@language"}
    assert ctx["Country"] == ns.KOP + "Country"


def test_one_link_header_with_one_alternate(client):
    for path, other in (("/id/albania.html", "/id/albania.jsonld"),
                        ("/id/albania.jsonld", "/id/albania.html")):
        links = client.get(path).headers.getlist("Link")
        assert len(links) == 1
        assert links[0].count('rel="alternate"') == 1 and f"<{other}>" in links[0]


# --- for crawlers ---------------------------------------------------------------------------

def test_robots_and_sitemap(client, built_project):
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in robots and "Disallow: /sparql" in robots
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    pages = re.findall(r"<loc>http://localhost/id/([a-z0-9-]+)\.html</loc>", sitemap)
    from server.pipeline.project import Project
    from server.stores.state import open_current

    store = open_current(Project(REPO_ROOT, state_dir=built_project[1]))
    subjects = {r["s"].value[len(ns.ID):] for r in store.query(
        f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), "{ns.ID}")) }}')}
    assert set(pages) == subjects and len(pages) == len(subjects)
    for slug in (pages[0], pages[-1], "albania"):
        assert client.get(f"/id/{slug}.html").status_code == 200


def test_entity_page_head(client):
    head = client.get("/id/albania.html?lang=tr").get_data(as_text=True).split("</head>")[0]
    assert '<link rel="canonical" href="http://localhost/id/albania.html">' in head
    assert re.search(r'<meta name="description" content="[^"]*Köprü', head)
    assert '<meta property="og:title" content="' in head
    assert '<meta property="og:url" content="http://localhost/id/albania.html">' in head
