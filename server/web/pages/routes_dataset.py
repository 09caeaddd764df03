"""The dataset's description (VoID + DCAT at /.well-known/void) and dumps.

Dumps are serialized from the store on first request and kept in memory
for the life of the store (plain and gzip-compressed)."""

from __future__ import annotations

import gzip

import pyoxigraph as ox
from flask import Response, abort, request

from server import namespaces as ns
from server.web.pages import data, formats
from server.web.pages.blueprint import bp
from server.web.pages.store import handle

DUMP_GRAPHS = {
    "full": (ns.GRAPH_ASSERTED, ns.GRAPH_ONTOLOGY, ns.GRAPH_ENTAILED),
    "asserted": (ns.GRAPH_ASSERTED,),
}
DUMP_FORMATS = {"ttl": formats.FORMATS["ttl"], "nt": formats.FORMATS["nt"],
                "jsonld": formats.FORMATS["jsonld"]}
DATASET = ns.BASE + "dataset"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


def dump_bytes(kind: str, ext: str) -> tuple[bytes, bytes]:
    def make():
        triples = data.graph_triples(DUMP_GRAPHS[kind])
        body = formats.serialize(triples, DUMP_FORMATS[ext])
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


def void_triples(root: str) -> list:
    N, L = ox.NamedNode, ox.Literal
    VOID, DCAT, DCT = ns.VOID, "http://www.w3.org/ns/dcat#", ns.DCTERMS
    XSD_INT = N(ns.XSD + "integer")
    d = N(DATASET)
    t: list = []

    def add(s, p, o):
        t.append(ox.Triple(s, N(p), o))

    counts = data.triple_counts()
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
    add(d, VOID + "uriSpace", L(ns.ID))
    add(d, VOID + "vocabulary", N(ns.KOP))
    add(d, VOID + "sparqlEndpoint", N(root + "/sparql"))
    add(d, VOID + "rootResource", N(ns.ID + "turkiye"))
    add(d, VOID + "exampleResource", N(ns.ID + "albania"))
    add(d, VOID + "uriLookupEndpoint", L(root + "/search?q="))
    total = sum(counts.get(g, 0) for g in DUMP_GRAPHS["full"])
    add(d, VOID + "triples", L(str(total), datatype=XSD_INT))
    kop_classes = {c: n for c, n in class_counts.items() if c.startswith(ns.KOP)}
    add(d, VOID + "classes", L(str(len(kop_classes)), datatype=XSD_INT))
    for kind in DUMP_GRAPHS:
        for ext, fmt in DUMP_FORMATS.items():
            url = N(f"{root}/dumps/kopru-{kind}.{ext}")
            add(d, VOID + "dataDump", url)
            dist = ox.BlankNode()
            add(d, DCAT + "distribution", dist)
            add(dist, ns.RDF + "type", N(DCAT + "Distribution"))
            add(dist, DCAT + "downloadURL", url)
            add(dist, DCAT + "mediaType", L(fmt.media_type))
            add(dist, DCT + "title", L(f"{kind} graph, {fmt.label}", language="en"))
    for g, label in ((ns.GRAPH_ASSERTED, "asserted"), (ns.GRAPH_ENTAILED, "entailed"),
                     (ns.GRAPH_ONTOLOGY, "ontology")):
        sub = N(g)
        add(d, VOID + "subset", sub)
        add(sub, ns.RDF + "type", N(VOID + "Dataset"))
        add(sub, DCT + "title", L(f"{label} triples", language="en"))
        add(sub, VOID + "triples", L(str(counts.get(g, 0)), datatype=XSD_INT))
    for c, n in sorted(kop_classes.items()):
        part = ox.BlankNode()
        add(d, VOID + "classPartition", part)
        add(part, VOID + "class", N(c))
        add(part, VOID + "entities", L(str(n), datatype=XSD_INT))
    for target, name in data.EXTERNAL.items():
        n = data.linkset_counts().get(target, 0)
        ls = N(f"{ns.BASE}linkset/{name.lower()}")
        add(ls, ns.RDF + "type", N(VOID + "Linkset"))
        add(ls, VOID + "subjectsTarget", d)
        add(ls, VOID + "objectsTarget", N(target))
        add(ls, VOID + "linkPredicate", N(ns.SKOS + "exactMatch"))
        add(ls, VOID + "triples", L(str(n), datatype=XSD_INT))
        add(ls, DCT + "title", L(f"Links to {name}", language="en"))
        add(d, VOID + "subset", ls)
    return t


@bp.route("/.well-known/void", defaults={"ext": ""})
@bp.route("/.well-known/void.<ext>")
def void(ext: str):
    fmt = formats.FORMATS.get(ext) if ext else formats.choose(request.headers.get("Accept"))
    if fmt is None or fmt is formats.HTML:
        # The description is data: browsers get Turtle too.
        fmt = formats.FORMATS["ttl"]
    root = request.host_url.rstrip("/")
    resp = Response(formats.serialize(void_triples(root), fmt), content_type=fmt.content_type)
    resp.headers["Vary"] = "Accept"
    return resp
