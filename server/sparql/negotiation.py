"""Result formats of the endpoint and how a request picks one.

Order of precedence: the `format=` (or `output=`) parameter, then the Accept
header (q-values and wildcards, werkzeug's parser), then the default
(SPARQL JSON for SELECT/ASK, Turtle for CONSTRUCT/DESCRIBE). A browser whose
best choice is text/html gets the query UI instead of results.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Format:
    key: str            # short name, as in format=…
    media_type: str     # canonical media type
    engine: str         # pyoxigraph QueryResultsFormat / RdfFormat attribute
    kind: str           # "results" (SELECT/ASK) or "graph" (CONSTRUCT/DESCRIBE)
    label: str


RESULT_FORMATS = {
    "json": Format("json", "application/sparql-results+json", "JSON", "results", "SPARQL JSON"),
    "xml": Format("xml", "application/sparql-results+xml", "XML", "results", "SPARQL XML"),
    "csv": Format("csv", "text/csv", "CSV", "results", "CSV"),
    "tsv": Format("tsv", "text/tab-separated-values", "TSV", "results", "TSV"),
}
GRAPH_FORMATS = {
    "ttl": Format("ttl", "text/turtle", "TURTLE", "graph", "Turtle"),
    "nt": Format("nt", "application/n-triples", "N_TRIPLES", "graph", "N-Triples"),
    "jsonld": Format("jsonld", "application/ld+json", "JSON_LD", "graph", "JSON-LD"),
    "rdfxml": Format("rdfxml", "application/rdf+xml", "RDF_XML", "graph", "RDF/XML"),
}
ALL_FORMATS = {**RESULT_FORMATS, **GRAPH_FORMATS}

HTML = "text/html"

# Media types offered, in order of preference (the first wins a `*/*`), with
# the format each one produces. The answer always carries the format's
# canonical media type.
_RESULT_OFFERS = [
    ("application/sparql-results+json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
]
_GRAPH_OFFERS = [
    ("text/turtle", "ttl"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "rdfxml"),
    ("application/x-turtle", "ttl"),
    ("text/n3", "ttl"),
    ("text/plain", "nt"),
    ("application/json", "jsonld"),
    ("application/xml", "rdfxml"),
    ("text/xml", "rdfxml"),
    # Clients that ask for SPARQL results whatever the query (rdflib's
    # SPARQLStore does) get the RDF format of the same family.
    ("application/sparql-results+json", "jsonld"),
    ("application/sparql-results+xml", "rdfxml"),
]
_OFFERS = {"results": _RESULT_OFFERS, "graph": _GRAPH_OFFERS}
_OFFER_TYPES = {kind: [t for t, _ in offers] + [HTML] for kind, offers in _OFFERS.items()}
_OFFER_MAP = {kind: dict(offers) for kind, offers in _OFFERS.items()}

# format= values: short names, common spellings, and media types.
_PARAM_ALIASES = {
    "json": {"results": "json", "graph": "jsonld"},
    "srj": {"results": "json"},
    "xml": {"results": "xml", "graph": "rdfxml"},
    "srx": {"results": "xml"},
    "csv": {"results": "csv"},
    "tsv": {"results": "tsv"},
    "ttl": {"graph": "ttl"},
    "turtle": {"graph": "ttl"},
    "nt": {"graph": "nt"},
    "ntriples": {"graph": "nt"},
    "n-triples": {"graph": "nt"},
    "jsonld": {"graph": "jsonld"},
    "json-ld": {"graph": "jsonld"},
    "rdfxml": {"graph": "rdfxml"},
    "rdf": {"graph": "rdfxml"},
    "rdf+xml": {"graph": "rdfxml"},
    "html": {"results": "html", "graph": "html"},
}


class NotAcceptable(Exception):
    """406: nothing offered fits. The message lists what is offered."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def kind_of(form: str | None) -> str:
    return "graph" if form in ("CONSTRUCT", "DESCRIBE") else "results"


def offered_text(kind: str) -> str:
    fmts = RESULT_FORMATS if kind == "results" else GRAPH_FORMATS
    return ", ".join(f"{f.media_type} (format={f.key})" for f in fmts.values())


_cache: dict = {}


def choose_cached(kind: str, format_param: str | None, accept_header: str | None) -> tuple[str, str]:
    """choose() for a raw Accept header, memoized: clients send the same
    header again and again, and parsing it is a good part of a small
    query's cost."""
    key = (kind, format_param, accept_header)
    hit = _cache.get(key)
    if hit is None:
        from werkzeug.datastructures import MIMEAccept
        from werkzeug.http import parse_accept_header

        accept = parse_accept_header(accept_header, MIMEAccept) if accept_header else None
        try:
            hit = choose(kind, format_param, accept)
        except NotAcceptable as e:
            hit = e
        if len(_cache) > 512:
            _cache.clear()
        _cache[key] = hit
    if isinstance(hit, NotAcceptable):
        raise NotAcceptable(hit.message)
    return hit


def choose(kind: str, format_param: str | None, accept) -> tuple[str, str]:
    """Return (format key or "html", media type to answer with).

    `accept` is werkzeug's MIMEAccept (request.accept_mimetypes) or None.
    """
    what = "a CONSTRUCT or DESCRIBE query" if kind == "graph" else "a SELECT or ASK query"
    if format_param:
        value = format_param.strip().lower()
        by_kind = _PARAM_ALIASES.get(value)
        key = by_kind.get(kind) if by_kind else _OFFER_MAP[kind].get(value.split(";")[0].strip())
        if key is None:
            raise NotAcceptable(
                f"format={format_param} cannot be produced for {what}; "
                f"offered: {offered_text(kind)}.")
        if key == "html":
            return "html", HTML
        return key, ALL_FORMATS[key].media_type
    if not accept:                       # no Accept header: the default
        f = RESULT_FORMATS["json"] if kind == "results" else GRAPH_FORMATS["ttl"]
        return f.key, f.media_type
    best = accept.best_match(_OFFER_TYPES[kind])
    if best is None:
        raise NotAcceptable(
            f"None of the media types in the Accept header ({accept}) can be produced "
            f"for {what}; offered: {offered_text(kind)}.")
    if best == HTML:
        return "html", HTML
    key = _OFFER_MAP[kind][best]
    return key, ALL_FORMATS[key].media_type


@lru_cache(maxsize=64)
def content_type(media_type: str) -> str:
    if media_type.startswith("text/") or media_type in (
            "application/n-triples", "application/sparql-results+xml", "application/xml",
            "application/rdf+xml"):
        return media_type + "; charset=utf-8"
    return media_type
