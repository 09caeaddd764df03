"""Which format a query's answer is written in.

Order of precedence: the `format=` (or `output=`) parameter, then the Accept
header, then the default (SPARQL JSON for SELECT/ASK, Turtle for
CONSTRUCT/DESCRIBE). A browser whose best choice is text/html gets the query
UI instead of results. The names and media types are those common clients
send (SPARQLWrapper, Jena, rdflib, YASGUI, Comunica); README, "Clients".
"""

from __future__ import annotations

from server import formats
from server.errors import NotAcceptable
from server.formats import Format
from server.web.negotiation import best_match

HTML = "text/html"


def _offers(fmts: tuple[Format, ...], borrowed: tuple[tuple[str, Format], ...] = ()):
    """(media type, format) in order of preference: the first wins a `*/*`."""
    pairs = [(f.media_type, f) for f in fmts]
    pairs += [(m, f) for f in fmts for m in f.also]
    pairs += borrowed
    return dict(pairs)


_BY_KIND = {
    formats.RESULTS: _offers(formats.RESULT_FORMATS),
    # Clients that ask for SPARQL results whatever the query (rdflib's
    # SPARQLStore does) get the RDF format of the same family.
    formats.GRAPH: _offers(formats.GRAPH_FORMATS, (
        (formats.JSON.media_type, formats.JSON_LD), (formats.XML.media_type, formats.RDF_XML),
        # Turtle is N3 without N3's extensions: an N3 client reads it.
        ("text/rdf+n3", formats.TURTLE), ("application/n3", formats.TURTLE),
        ("application/turtle", formats.TURTLE), ("application/x-json+ld", formats.JSON_LD))),
}
_OFFER_TYPES = {kind: (*offers, HTML) for kind, offers in _BY_KIND.items()}

# format= values: short names and the spellings clients send (media types
# work too).
_NAMES = {
    formats.RESULTS: {"json": formats.JSON, "srj": formats.JSON, "xml": formats.XML,
                      "srx": formats.XML, "csv": formats.CSV, "tsv": formats.TSV},
    formats.GRAPH: {"json": formats.JSON_LD, "xml": formats.RDF_XML, "ttl": formats.TURTLE,
                    "turtle": formats.TURTLE, "n3": formats.TURTLE, "nt": formats.N_TRIPLES,
                    "ntriples": formats.N_TRIPLES, "n-triples": formats.N_TRIPLES,
                    "jsonld": formats.JSON_LD, "json-ld": formats.JSON_LD,
                    "rdfxml": formats.RDF_XML, "rdf": formats.RDF_XML,
                    "rdf+xml": formats.RDF_XML, "rdf/xml": formats.RDF_XML},
}
_OTHER = {formats.RESULTS: formats.GRAPH, formats.GRAPH: formats.RESULTS}


def kind_of(form: str | None) -> str:
    return formats.GRAPH if form in ("CONSTRUCT", "DESCRIBE") else formats.RESULTS


def offered_text(kind: str) -> str:
    fmts = formats.RESULT_FORMATS if kind == formats.RESULTS else formats.GRAPH_FORMATS
    return ", ".join(f"{f.media_type} (format={f.name})" for f in fmts)


def choose(kind: str, format_param: str | None, accept_header: str | None) -> Format | None:
    """The format to answer in; None when the client is a browser that
    should get the query UI. Raises NotAcceptable (406)."""
    what = "a CONSTRUCT or DESCRIBE query" if kind == formats.GRAPH else "a SELECT or ASK query"
    if format_param:
        value = format_param.strip().lower()
        if value == "html":
            return None
        fmt = _named(kind, value)
        if fmt is not None:
            return fmt
        # A client that sends its one return format whatever the query
        # (SPARQLWrapper: format=n3 on a SELECT) and an Accept header it can
        # live with is answered by the Accept header.
        if not (accept_header and _named(_OTHER[kind], value)):
            raise NotAcceptable(f"format={format_param} cannot be produced for {what}; "
                                f"offered: {offered_text(kind)}.")
    best = best_match(_OFFER_TYPES[kind], accept_header)
    if best is None:
        raise NotAcceptable(
            f"None of the media types in the Accept header ({accept_header}) can be produced "
            f"for {what}; offered: {offered_text(kind)}.")
    if best == HTML:
        return None
    return _BY_KIND[kind][best]


def _named(kind: str, value: str) -> Format | None:
    return _NAMES[kind].get(value) or _BY_KIND[kind].get(value.split(";")[0].strip())
