"""The representations of a document (an entity, the ontology, the source):
HTML and the RDF formats of server/formats.py, by file extension
(`/id/albania.ttl`) or by the Accept header. No Accept header, or `*/*`
alone, means HTML: what a link in a browser gets. JSON-LD is compacted
with the published context unless the client asks for the expanded
profile (jsonld.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from server import formats
from server import namespaces as ns
from server.terms import used_prefixes
from server.web.negotiation import best_match
from server.web.pages import jsonld


@dataclass(frozen=True)
class Representation:
    ext: str
    media_type: str
    label: str
    rdf: formats.Format | None     # None for HTML

    @property
    def content_type(self) -> str:
        return formats.content_type(self.media_type)


HTML = Representation("html", "text/html", "HTML", None)
FORMATS = {"html": HTML, **{f.extension: Representation(f.extension, f.media_type, f.label, f)
                            for f in formats.GRAPH_FORMATS}}
RDF_FORMATS = [r for r in FORMATS.values() if r.rdf is not None]

# Media types offered (the first wins a tie), with the representation each gives.
_OFFERS = {"text/html": HTML, "application/xhtml+xml": HTML,
           **{r.media_type: r for r in RDF_FORMATS},
           **{m: r for r in RDF_FORMATS for m in (r.rdf.also if r.rdf else ())}}
_OFFER_TYPES = tuple(_OFFERS)

PREFIXES = {p: iri for p, iri in ns.PREFIXES.items() if p not in ("wd", "dbr")}


def choose(accept_header: str | None) -> Representation | None:
    """The best representation for an Accept header, or None (→ 406). A
    JSON-LD profile parameter does not stop JSON-LD from matching."""
    best = best_match(_OFFER_TYPES, jsonld.read_accept(accept_header)[0])
    return None if best is None else _OFFERS[best]


def wants_expanded(accept_header: str | None) -> bool:
    return jsonld.read_accept(accept_header)[1]


def content_type(fmt: Representation, expanded: bool = False) -> str:
    """The Content-Type of a document (JSON-LD names its profile)."""
    if fmt.ext == "jsonld":
        return jsonld.content_type(expanded)
    return fmt.content_type


def split_ext(name: str) -> tuple[str, Representation | None]:
    """'albania.ttl' → ('albania', Turtle); 'albania' → ('albania', None).
    An unknown extension leaves the dot in the name (and so fails the slug check)."""
    if "." in name:
        stem, ext = name.rsplit(".", 1)
        fmt = FORMATS.get(ext)
        if fmt is not None:
            return stem, fmt
    return name, None


def serialize(triples: list, fmt: Representation, *, context_url: str | None = None,
              expanded: bool = False) -> bytes:
    """A document in an RDF format. JSON-LD is compacted with the context
    at `context_url` when one is given and the expanded form is not asked
    for; otherwise (dumps, VoID) expanded, which any parser reads offline."""
    assert fmt.rdf is not None
    if fmt.ext == "jsonld" and context_url and not expanded:
        return jsonld.compact(triples, context_url)
    return formats.serialize(triples, fmt.rdf, used_prefixes(triples, PREFIXES))


def not_found_body(fmt: Representation, what: str) -> bytes:
    """A 404 body in the negotiated RDF format: an empty graph that says why."""
    msg = what.replace("\n", " ")
    if fmt.ext in ("ttl", "nt"):
        return f"# 404 Not Found: {msg}\n".encode()
    if fmt.ext == "jsonld":
        return json.dumps({"@graph": [], "error": "not found", "message": msg},
                          ensure_ascii=False).encode() + b"\n"
    if fmt.ext == "rdf":
        safe = msg.replace("--", "- -")
        return (f'<?xml version="1.0" encoding="utf-8"?>\n<!-- 404 Not Found: {safe} -->\n'
                '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n').encode()
    return msg.encode()
