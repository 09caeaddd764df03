"""Representations of a resource and how a request picks one.

Per-format URLs use an extension (`/id/albania.ttl`); the bare IRI picks by
the Accept header (q-values and wildcards honoured, werkzeug's parser); no
Accept header, or `*/*` alone, means HTML (what a link in a browser gets).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyoxigraph as ox

from server import namespaces as ns


@dataclass(frozen=True)
class Format:
    ext: str
    media_type: str
    label: str
    rdf: object | None  # pyoxigraph RdfFormat, None for HTML

    @property
    def content_type(self) -> str:
        if self.media_type in ("application/ld+json",):
            return self.media_type
        return self.media_type + "; charset=utf-8"


HTML = Format("html", "text/html", "HTML", None)
FORMATS = {
    "html": HTML,
    "ttl": Format("ttl", "text/turtle", "Turtle", ox.RdfFormat.TURTLE),
    "jsonld": Format("jsonld", "application/ld+json", "JSON-LD", ox.RdfFormat.JSON_LD),
    "nt": Format("nt", "application/n-triples", "N-Triples", ox.RdfFormat.N_TRIPLES),
    "rdf": Format("rdf", "application/rdf+xml", "RDF/XML", ox.RdfFormat.RDF_XML),
}
# Media types offered (first wins a tie), with the format each gives.
OFFERS = [
    ("text/html", "html"),
    ("application/xhtml+xml", "html"),
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("application/x-turtle", "ttl"),
    ("text/n3", "ttl"),
    ("application/json", "jsonld"),
    ("text/plain", "nt"),
    ("application/xml", "rdf"),
    ("text/xml", "rdf"),
]
_OFFER_MAP = dict(OFFERS)
_OFFER_TYPES = [t for t, _ in OFFERS]


def choose(accept) -> Format | None:
    """The best format for werkzeug's MIMEAccept, or None (→ 406)."""
    if not accept:
        return HTML
    best = accept.best_match(_OFFER_TYPES)
    if best is None:
        return None
    return FORMATS[_OFFER_MAP[best]]


def split_ext(name: str) -> tuple[str, Format | None]:
    """'albania.ttl' → ('albania', Turtle); 'albania' → ('albania', None).
    An unknown extension leaves the dot in the name (and so fails the slug check)."""
    if "." in name:
        stem, ext = name.rsplit(".", 1)
        fmt = FORMATS.get(ext)
        if fmt is not None:
            return stem, fmt
    return name, None


PREFIXES = {p: iri for p, iri in ns.PREFIXES.items() if p not in ("wd", "dbr")}


def serialize(triples, fmt: Format) -> bytes:
    if fmt.rdf == ox.RdfFormat.JSON_LD:
        # Plain JSON-LD (expanded, no remote context): any parser reads it.
        return ox.serialize(triples, format=fmt.rdf)
    if fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        return ox.serialize(triples, format=fmt.rdf, prefixes=_used_prefixes(triples))
    return ox.serialize(triples, format=fmt.rdf)


def _used_prefixes(triples) -> dict[str, str]:
    seen = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                seen.add(term.value)
            elif isinstance(term, ox.Literal) and term.datatype is not None:
                seen.add(term.datatype.value)
    out = {}
    for p, base in PREFIXES.items():
        if any(i.startswith(base) for i in seen):
            out[p] = base
    return out


def not_found_body(fmt: Format, what: str) -> bytes:
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
