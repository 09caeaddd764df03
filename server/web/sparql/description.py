"""The SPARQL 1.1 Service Description served at GET /sparql (no query).

Written as Turtle, converted with pyoxigraph's parser/serializer (no store)
to the other RDF formats.
"""

from __future__ import annotations

import pyoxigraph as ox

from server import formats
from server import namespaces as ns
from server.formats import Format

_GRAPH_TEXT = {
    ns.GRAPH_ASSERTED: "Asserted: the instance data as written in graph/*.ttl",
    ns.GRAPH_ENTAILED: "Entailed: what OWL 2 RL inference adds to ontology + data",
    ns.GRAPH_ONTOLOGY: "Ontology: the Köprü OWL ontology and declared external terms",
    ns.GRAPH_SHAPES: "Shapes: the SHACL shapes the data is validated against",
}


def _lit(text: str) -> str:
    return str(ox.Literal(text))


def turtle(endpoint: str, counts: dict[str, int] | None, config) -> str:
    counts = counts or {}
    fmts = " ,\n        ".join(
        f"<{f.iri}>" for f in (*formats.RESULT_FORMATS, *formats.GRAPH_FORMATS))
    # Not sd:UnionDefaultGraph: the default graph leaves the shapes graph out.
    features = ["sd:BasicFederatedQuery"] if config.service_allowlist else []
    default_total = sum(counts.get(g, 0) for g in ns.DEFAULT_GRAPHS)
    named = []
    for g in ns.ALL_GRAPHS:
        count = f" ;\n            void:triples {counts[g]}" if g in counts else ""
        named.append(
            f"""[ a sd:NamedGraph ;
        sd:name <{g}> ;
        sd:graph [ a sd:Graph ;
            rdfs:label {_lit(_GRAPH_TEXT[g])}@en{count} ] ]""")
    default_count = f" ;\n            void:triples {default_total}" if counts else ""
    feature_list = (" ;\n    sd:feature " + " , ".join(features)) if features else ""
    named_list = " ,\n        ".join(named)
    allow_note = (f"SERVICE may call only: {', '.join(config.service_allowlist)}."
                  if config.service_allowlist else "Federation (SERVICE) is turned off.")
    comment = (
        "Köprü's read-only SPARQL 1.1 endpoint. The default graph is the union of the "
        "asserted, ontology and entailed graphs; each is also a named graph. "
        f"Queries stop after {config.query_timeout:g} s; answers hold at most "
        f"{config.result_limit} rows or triples (truncation is announced by the header "
        f"X-Kopru-Truncated). {allow_note}")
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .

<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    dcterms:title "Köprü SPARQL endpoint"@en ;
    rdfs:comment {_lit(comment)}@en ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat {fmts}{feature_list} ;
    sd:defaultDataset [ a sd:Dataset ;
        sd:defaultGraph [ a sd:Graph ;
            rdfs:label "Union of the asserted, ontology and entailed graphs"@en{default_count} ] ;
        sd:namedGraph {named_list} ] .
"""


def render(fmt: Format, endpoint: str, counts, config) -> bytes:
    text = turtle(endpoint, counts, config)
    if fmt is formats.TURTLE:
        return text.encode()
    triples = _stable_blank_nodes(q.triple for q in ox.parse(text.encode(),
                                                             format=ox.RdfFormat.TURTLE))
    prefixes = {"sd": "http://www.w3.org/ns/sparql-service-description#",
                "void": ns.VOID, "rdfs": ns.RDFS, "dcterms": ns.DCTERMS}
    return formats.serialize(triples, fmt, prefixes if fmt is formats.RDF_XML else None)


def _stable_blank_nodes(triples) -> list:
    """The parser's blank nodes renamed b0, b1… in order: the same description
    is the same bytes every time (its ETag is strong)."""
    names: dict = {}

    def term(t):
        if isinstance(t, ox.BlankNode):
            return names.setdefault(t, ox.BlankNode(f"b{len(names)}"))
        return t

    return [ox.Triple(term(t.subject), t.predicate, term(t.object)) for t in triples]
