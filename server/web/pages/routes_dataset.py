"""The dataset's description (VoID + DCAT at /.well-known/void, as HTML for
browsers), the dumps and their index (/dumps/).

One meaning of the words everywhere (README, `kopru build`, the home page,
VoID, /healthz): the dataset is the SPARQL default graph, asserted +
ontology + entailed; "asserted" is the asserted graph alone (the instance
data as written in graph/*.ttl); the shapes graph is counted apart.

Dumps are serialized from the store on first request and kept in memory
for the life of the build (plain and gzip-compressed). TriG keeps the named
graphs; the other formats merge them."""

from __future__ import annotations

import gzip

import pyoxigraph as ox
from flask import Response, abort, render_template, request

from server import formats as rdf_formats
from server import namespaces as ns
from server.web.http_cache import build_time
from server.web.pages import data, formats
from server.web.pages.blueprint import bp
from server.web.pages.store import handle

DUMP_GRAPHS = {
    "full": (ns.GRAPH_ASSERTED, ns.GRAPH_ONTOLOGY, ns.GRAPH_ENTAILED),
    "asserted": (ns.GRAPH_ASSERTED,),
}
DUMP_TEXT = {
    "full": "the dataset: asserted + ontology + entailed (the SPARQL default graph)",
    "asserted": "the asserted graph: the instance data as written in graph/*.ttl",
}
# Triples formats (the graphs merged), then TriG (the named graphs kept).
DUMP_FORMATS = {"ttl": rdf_formats.TURTLE, "nt": rdf_formats.N_TRIPLES,
                "jsonld": rdf_formats.JSON_LD, "trig": rdf_formats.TRIG}
DATASET = ns.BASE + "dataset"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
PUBLISHER = "The Köprü developers"


def dump_bytes(kind: str, ext: str) -> tuple[bytes, bytes]:
    def make():
        fmt = DUMP_FORMATS[ext]
        graphs = DUMP_GRAPHS[kind]
        if fmt is rdf_formats.TRIG:
            items = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                     for g in graphs for t in data.graph_triples([g])]
        else:
            items = data.graph_triples(graphs)
        body = rdf_formats.serialize(items, fmt, formats.PREFIXES)
        return body, gzip.compress(body, compresslevel=6, mtime=0)
    return handle().cached(("dump", kind, ext), make)


@bp.route("/dumps/kopru-<kind>.<ext>")
def dump(kind: str, ext: str):
    if kind not in DUMP_GRAPHS or ext not in DUMP_FORMATS:
        abort(404)
    plain, packed = dump_bytes(kind, ext)
    fmt = DUMP_FORMATS[ext]
    headers = {"Vary": "Accept-Encoding",
               "Content-Disposition": f'inline; filename="kopru-{kind}.{ext}"'}
    if "gzip" in request.accept_encodings and request.accept_encodings["gzip"] > 0:
        resp = Response(packed, content_type=fmt.content_type, headers=headers)
        resp.headers["Content-Encoding"] = "gzip"
        return resp
    return Response(plain, content_type=fmt.content_type, headers=headers)


def dumps() -> list[dict]:
    """Every dump: kind, format, URL path, what it holds, its triple count."""
    counts = data.triple_counts()
    out = []
    for kind, graphs in DUMP_GRAPHS.items():
        for ext, fmt in DUMP_FORMATS.items():
            out.append({"kind": kind, "ext": ext, "path": f"/dumps/kopru-{kind}.{ext}",
                        "format": fmt, "holds": DUMP_TEXT[kind],
                        "named_graphs": fmt is rdf_formats.TRIG,
                        "triples": sum(counts.get(g, 0) for g in graphs)})
    return out


@bp.route("/dumps/")
def dumps_index():
    return render_template("dumps.html", dumps=dumps(), figures=figures())


def figures() -> dict:
    """The triple counts, under the names every page, document and
    command uses."""
    counts = data.triple_counts()
    asserted, ontology, entailed = (counts.get(g, 0) for g in DUMP_GRAPHS["full"])
    return {"dataset": asserted + ontology + entailed, "asserted": asserted,
            "ontology": ontology, "entailed": entailed,
            "shapes": counts.get(ns.GRAPH_SHAPES, 0)}


def void_triples(root: str) -> list:
    N, L = ox.NamedNode, ox.Literal
    VOID, DCAT, DCT, FOAF = ns.VOID, "http://www.w3.org/ns/dcat#", ns.DCTERMS, ns.FOAF
    XSD_INT = N(ns.XSD + "integer")
    d = N(DATASET)
    t: list = []

    def add(s, p, o):
        t.append(ox.Triple(s, N(p), o))

    def count(n: int):
        return L(str(n), datatype=XSD_INT)

    fig = figures()
    class_counts = data.class_counts()
    add(d, ns.RDF + "type", N(VOID + "Dataset"))
    add(d, ns.RDF + "type", N(DCAT + "Dataset"))
    add(d, DCT + "title", L("Köprü: Türkiye's engagement in the Western Balkans", language="en"))
    add(d, DCT + "description", L(
        "A linked-data knowledge graph of Türkiye's engagement in the Western Balkans, "
        "drawn sentence by sentence from one analysis article, with an OWL 2 RL closure.",
        language="en"))
    add(d, DCT + "license", N(LICENSE))
    add(d, DCT + "source", N(ns.SOURCE_DOCUMENT))
    when = build_time()
    if when is not None:
        add(d, DCT + "modified", L(when.isoformat(), datatype=N(ns.XSD + "dateTime")))
    # Blank nodes are named: the same build gives the same bytes (a strong ETag).
    agent = ox.BlankNode("publisher")
    add(agent, ns.RDF + "type", N(FOAF + "Organization"))
    add(agent, FOAF + "name", L(PUBLISHER))
    add(agent, FOAF + "homepage", N(ns.BASE))
    add(d, DCT + "publisher", agent)
    add(d, DCT + "creator", agent)
    add(d, DCAT + "landingPage", N(root + "/"))
    add(d, VOID + "uriSpace", L(ns.ID))
    add(d, VOID + "vocabulary", N(ns.KOP))
    add(d, VOID + "sparqlEndpoint", N(root + "/sparql"))
    add(d, VOID + "rootResource", N(ns.ID + "turkiye"))
    add(d, VOID + "exampleResource", N(ns.ID + "albania"))
    # A lookup service: the search answers ?q=label with JSON.
    add(d, VOID + "uriLookupEndpoint", N(root + "/search?format=json&q="))
    add(d, VOID + "triples", count(fig["dataset"]))
    kop_classes = {c: n for c, n in class_counts.items() if c.startswith(ns.KOP)}
    add(d, VOID + "classes", count(len(kop_classes)))
    for item in dumps():
        url = N(root + item["path"])
        fmt = item["format"]
        # void:dataDump names dumps of the dataset's triples; the TriG
        # files (named graphs kept) are listed as DCAT distributions only.
        if not item["named_graphs"]:
            add(d, VOID + "dataDump", url)
        dist = ox.BlankNode(f"dump-{item['kind']}-{item['ext']}")
        add(d, DCAT + "distribution", dist)
        add(dist, ns.RDF + "type", N(DCAT + "Distribution"))
        add(dist, DCAT + "downloadURL", url)
        add(dist, DCAT + "mediaType", L(fmt.media_type))
        add(dist, DCT + "format", N(fmt.iri))
        add(dist, DCT + "license", N(LICENSE))
        kept = ", named graphs kept" if item["named_graphs"] else ""
        add(dist, DCT + "title", L(f"{item['holds']}; {fmt.label}{kept}", language="en"))
    for g, key in ((ns.GRAPH_ASSERTED, "asserted"), (ns.GRAPH_ENTAILED, "entailed"),
                   (ns.GRAPH_ONTOLOGY, "ontology")):
        sub = N(g)
        add(d, VOID + "subset", sub)
        add(sub, ns.RDF + "type", N(VOID + "Dataset"))
        add(sub, DCT + "title", L(f"{key} graph", language="en"))
        add(sub, VOID + "triples", count(fig[key]))
    shapes = N(ns.GRAPH_SHAPES)
    add(shapes, ns.RDF + "type", N(VOID + "Dataset"))
    add(shapes, DCT + "title", L("shapes graph", language="en"))
    add(shapes, DCT + "description", L(
        "The SHACL shapes the data is validated against: a named graph of the store, "
        "not part of the dataset or its default graph.", language="en"))
    add(shapes, VOID + "triples", count(fig["shapes"]))
    add(d, ns.RDFS + "seeAlso", shapes)
    for c, n in sorted(kop_classes.items()):
        part = ox.BlankNode("class-" + c[len(ns.KOP):].replace("_", "-"))
        add(d, VOID + "classPartition", part)
        add(part, VOID + "class", N(c))
        add(part, VOID + "entities", count(n))
    for target, name in data.EXTERNAL.items():
        n = data.linkset_counts().get(target, 0)
        ls = N(f"{ns.BASE}linkset/{name.lower()}")
        add(ls, ns.RDF + "type", N(VOID + "Linkset"))
        add(ls, VOID + "subjectsTarget", d)
        add(ls, VOID + "objectsTarget", N(target))
        add(ls, VOID + "linkPredicate", N(ns.SKOS + "exactMatch"))
        add(ls, VOID + "triples", count(n))
        add(ls, DCT + "title", L(f"Links to {name}", language="en"))
        add(d, VOID + "subset", ls)
    return t


@bp.route("/.well-known/void", defaults={"ext": ""})
@bp.route("/.well-known/void.<ext>")
def void(ext: str):
    accept = request.headers.get("Accept") or ""
    fmt = formats.FORMATS.get(ext) if ext else formats.choose(accept)
    if ext and fmt is None:
        abort(404)
    if fmt is None or (fmt is formats.HTML and "html" not in accept):
        # The description is data: a client that does not ask for a page
        # (curl, */*) gets Turtle.
        fmt = formats.FORMATS["ttl"]
    root = request.host_url.rstrip("/")
    if fmt is formats.HTML:
        resp = Response(render_template("void.html", root=root, dumps=dumps(), fig=figures(),
                                        modified=build_time(), license=LICENSE,
                                        publisher=PUBLISHER, linksets=_linksets()),
                        content_type="text/html; charset=utf-8")
    else:
        resp = Response(formats.serialize(void_triples(root), fmt),
                        content_type=fmt.content_type)
    resp.headers["Vary"] = "Accept"
    return resp


def _linksets() -> list[tuple[str, str, int]]:
    counts = data.linkset_counts()
    return [(name, target, counts.get(target, 0)) for target, name in data.EXTERNAL.items()]
