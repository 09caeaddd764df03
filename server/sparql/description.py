"""The SPARQL 1.1 Service Description served at GET /sparql (no query).

Written as Turtle, converted with pyoxigraph's parser/serializer (no store)
to the other RDF formats.
"""

from __future__ import annotations

from server import namespaces as ns
from server.sparql.negotiation import GRAPH_FORMATS, RESULT_FORMATS

SD_OFFERS = [
    ("text/turtle", "ttl"),
    ("application/rdf+xml", "rdfxml"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/x-turtle", "ttl"),
    ("application/json", "jsonld"),
    ("application/xml", "rdfxml"),
    ("text/plain", "nt"),
]

# W3C format IRIs (https://www.w3.org/ns/formats/).
_FORMAT_IRIS = {
    "json": "http://www.w3.org/ns/formats/SPARQL_Results_JSON",
    "xml": "http://www.w3.org/ns/formats/SPARQL_Results_XML",
    "csv": "http://www.w3.org/ns/formats/SPARQL_Results_CSV",
    "tsv": "http://www.w3.org/ns/formats/SPARQL_Results_TSV",
    "ttl": "http://www.w3.org/ns/formats/Turtle",
    "nt": "http://www.w3.org/ns/formats/N-Triples",
    "jsonld": "http://www.w3.org/ns/formats/JSON-LD",
    "rdfxml": "http://www.w3.org/ns/formats/RDF_XML",
}

_GRAPH_TEXT = {
    ns.GRAPH_ASSERTED: "Asserted: the instance data as written in graph/*.ttl",
    ns.GRAPH_ENTAILED: "Entailed: what OWL 2 RL inference adds to ontology + data",
    ns.GRAPH_ONTOLOGY: "Ontology: the Köprü OWL ontology and declared external terms",
    ns.GRAPH_SHAPES: "Shapes: the SHACL shapes the data is validated against",
}


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def turtle(endpoint: str, counts: dict[str, int] | None, config) -> str:
    counts = counts or {}
    fmts = " ,\n        ".join(f"<{_FORMAT_IRIS[k]}>" for k in (*RESULT_FORMATS, *GRAPH_FORMATS))
    features = ["sd:UnionDefaultGraph", "sd:BasicFederatedQuery"] if config.federation_enabled \
        else ["sd:UnionDefaultGraph"]
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
    feature_list = " , ".join(features)
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
    sd:resultFormat {fmts} ;
    sd:feature {feature_list} ;
    sd:defaultDataset [ a sd:Dataset ;
        sd:defaultGraph [ a sd:Graph ;
            rdfs:label "Union of the asserted, ontology and entailed graphs"@en{default_count} ] ;
        sd:namedGraph {named_list} ] .
"""


def render(fmt: str, endpoint: str, counts, config) -> bytes:
    text = turtle(endpoint, counts, config)
    if fmt == "ttl":
        return text.encode()
    import pyoxigraph as ox

    engine = {"nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
              "rdfxml": ox.RdfFormat.RDF_XML}[fmt]
    triples = [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)]
    prefixes = {"sd": "http://www.w3.org/ns/sparql-service-description#",
                "void": ns.VOID, "rdfs": ns.RDFS, "dcterms": ns.DCTERMS}
    return ox.serialize(triples, format=engine, prefixes=prefixes if fmt == "rdfxml" else None)
