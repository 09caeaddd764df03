"""JSON-LD that people can read: the published context (/context.jsonld:
the project's prefixes, a term for every class and property the ontology
declares, language maps for labels) and documents compacted with it. A
client that asks for the expanded form by profile gets pyoxigraph's
expanded JSON-LD instead. Which profile an Accept header asks for is read
here too (werkzeug's matcher does not look at `profile`).
"""

from __future__ import annotations

import json
import re

from server import namespaces as ns
from server.web.pages import data
from server.web.pages.store import handle

CONTEXT_PATH = "/context.jsonld"
JSONLD = "application/ld+json"
EXPANDED = "http://www.w3.org/ns/json-ld#expanded"
COMPACTED = "http://www.w3.org/ns/json-ld#compacted"

# Literal properties whose values are language-tagged text: a language map
# ("label": {"en": "Albania", "tr": "Arnavutluk"}) reads best.
LANGUAGE_MAPS = (ns.RDFS + "label", ns.RDFS + "comment", ns.SKOS + "prefLabel",
                 ns.SKOS + "altLabel", ns.SKOS + "definition", ns.KOP + "summary",
                 ns.KOP + "inverseLabel")
_OBJECT_KINDS = {ns.OWL + k for k in ("ObjectProperty", "TransitiveProperty",
                                       "SymmetricProperty", "InverseFunctionalProperty",
                                       "AsymmetricProperty", "ReflexiveProperty",
                                       "IrreflexiveProperty")}
_PROPERTY_KINDS = _OBJECT_KINDS | {ns.OWL + "DatatypeProperty", ns.OWL + "AnnotationProperty",
                                   ns.RDF + "Property", ns.OWL + "FunctionalProperty"}
_CLASS_KINDS = {ns.OWL + "Class", ns.RDFS + "Class"}
# RDFS's own properties, which the ontology uses without declaring them.
_RDFS_TERMS = {ns.RDFS + n: {ns.OWL + ("AnnotationProperty" if n in ("label", "comment")
                                       else "ObjectProperty")}
               for n in ("label", "comment", "seeAlso", "subClassOf", "subPropertyOf",
                         "domain", "range")}
_TERM = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def context_terms() -> dict:
    """The context's content (prefixes, then terms), worked out once per build."""
    return handle().cached("jsonld:context", _context_terms)


def _context_terms() -> dict:
    terms: dict = dict(ns.PREFIXES)
    kinds_of = {iri: set(m.get("kind", [])) for iri, m in data.ontology_meta().items()}
    for iri, kinds in _RDFS_TERMS.items():
        kinds_of.setdefault(iri, set()).update(kinds)
    # Köprü's own terms first, so that a kop:label would win over rdfs:label.
    order = sorted(kinds_of, key=lambda iri: (not iri.startswith(ns.KOP), iri))
    for iri in order:
        kinds = kinds_of[iri]
        name = _local(iri)
        if not name or name in terms or not (kinds & (_PROPERTY_KINDS | _CLASS_KINDS)):
            continue
        if kinds & _CLASS_KINDS:
            terms[name] = iri
        elif iri in LANGUAGE_MAPS:
            terms[name] = {"@id": iri, "@container": "@language"}
        elif kinds & _OBJECT_KINDS:
            terms[name] = {"@id": iri, "@type": "@id"}
        else:
            terms[name] = {"@id": iri}
    return terms


def _local(iri: str) -> str | None:
    name = re.split(r"[#/]", iri)[-1]
    return name if _TERM.match(name) else None


def context_document() -> bytes:
    return (json.dumps({"@context": context_terms()}, ensure_ascii=False, indent=2)
            + "\n").encode()


def compact(triples: list, context_url: str) -> bytes:
    """The triples as compacted JSON-LD whose @context is `context_url`."""
    from server.terms import to_rdflib_graph

    graph = to_rdflib_graph(triples)
    text = graph.serialize(format="json-ld", context=context_terms(), auto_compact=True)
    doc = json.loads(text)
    doc["@context"] = context_url
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()


# --- the profile a client asks for ------------------------------------------------

_ENTRY = re.compile(r'(?:[^,"]|"[^"]*")+')
_PARAM = re.compile(r';\s*([^=;\s]+)\s*=\s*("[^"]*"|[^;]*)')


def read_accept(header: str | None) -> tuple[str | None, bool]:
    """(the Accept header without JSON-LD profile parameters, whether the
    client's best JSON-LD entry asks for the expanded form)."""
    if not header or "profile" not in header:
        return header, False
    kept, expanded, best_q = [], False, -1.0
    for entry in _ENTRY.findall(header):
        media = entry.split(";", 1)[0].strip().lower()
        params = {k.lower(): v.strip().strip('"') for k, v in _PARAM.findall(entry)}
        if media == JSONLD and "profile" in params:
            try:
                q = float(params.get("q", "1"))
            except ValueError:
                q = 1.0
            if q > best_q:
                best_q = q
                profiles = params["profile"].split()
                expanded = EXPANDED in profiles and COMPACTED not in profiles
            entry = JSONLD + (f";q={params['q']}" if "q" in params else "")
        kept.append(entry.strip())
    return ", ".join(kept), expanded


def content_type(expanded: bool) -> str:
    return f'{JSONLD}; profile="{EXPANDED if expanded else COMPACTED}"'
