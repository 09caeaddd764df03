"""Fixed namespaces and named-graph IRIs of Köprü (see docs/CONVENTIONS.md).

Plain strings only, so that importing this module costs nothing (no rdflib).
"""

from __future__ import annotations

BASE = "https://w3id.org/kopru/"

KOP = BASE + "ontology#"
ID = BASE + "id/"
SRC = BASE + "source/article#"
SOURCE_DOCUMENT = BASE + "source/article"
SH_KOP = BASE + "shapes#"

# Named graphs.
GRAPH_ASSERTED = BASE + "graph/asserted"
GRAPH_ENTAILED = BASE + "graph/entailed"
GRAPH_ONTOLOGY = BASE + "graph/ontology"
GRAPH_SHAPES = BASE + "graph/shapes"

ALL_GRAPHS = (GRAPH_ASSERTED, GRAPH_ENTAILED, GRAPH_ONTOLOGY, GRAPH_SHAPES)
# The SPARQL default graph is the union of these three (never the shapes).
DEFAULT_GRAPHS = (GRAPH_ASSERTED, GRAPH_ONTOLOGY, GRAPH_ENTAILED)
# Short names used in manifests and by the CLI.
GRAPH_NAMES = {
    "asserted": GRAPH_ASSERTED,
    "entailed": GRAPH_ENTAILED,
    "ontology": GRAPH_ONTOLOGY,
    "shapes": GRAPH_SHAPES,
}

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
ORG = "http://www.w3.org/ns/org#"
SEM = "http://semanticweb.cs.vu.nl/2009/11/sem/"
TIME = "http://www.w3.org/2006/time#"
SCHEMA = "http://schema.org/"
GEO = "http://www.opengis.net/ont/geosparql#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
WD = "http://www.wikidata.org/entity/"
DBR = "http://dbpedia.org/resource/"
VOID = "http://rdfs.org/ns/void#"

# Prefix → namespace, in the order used to shorten IRIs for display.
# Köprü's own first; then the standard vocabularies.
PREFIXES: dict[str, str] = {
    "kop": KOP,
    "id": ID,
    "src": SRC,
    "sh-kop": SH_KOP,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "sh": SH,
    "skos": SKOS,
    "prov": PROV,
    "org": ORG,
    "sem": SEM,
    "time": TIME,
    "schema": SCHEMA,
    "geo": GEO,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "wd": WD,
    "dbr": DBR,
    "void": VOID,
}


def shorten(iri: str, prefixes: dict[str, str] | None = None) -> str:
    """Return `prefix:local` for an IRI in a known namespace, else `<iri>`.

    The longest matching namespace wins; the local part must be non-empty and
    contain no '/' or '#', so the result stays a valid-looking prefixed name.
    """
    best = None
    for prefix, ns in (prefixes or PREFIXES).items():
        if iri.startswith(ns) and (best is None or len(ns) > len(best[1])):
            local = iri[len(ns):]
            if local and not any(c in local for c in "/#?"):
                best = (prefix, ns)
    if best is None:
        return f"<{iri}>"
    return f"{best[0]}:{iri[len(best[1]):]}"


def sparql_prefixes(prefixes: dict[str, str] | None = None) -> str:
    """PREFIX declarations for all known prefixes, one per line."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or PREFIXES).items())
