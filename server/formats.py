"""Every serialization format Köprü reads or writes: one table.

Media type, file extension, W3C format IRI and label come from pyoxigraph's
own `RdfFormat` / `QueryResultsFormat`; what Köprü adds is a short name (as
in `format=json` or `--format ttl`), the kind of answer the format carries,
and the other media types and names clients use for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
from pyoxigraph import QueryResultsFormat, RdfFormat

RESULTS = "results"    # SELECT / ASK answers
GRAPH = "graph"        # triples: CONSTRUCT / DESCRIBE answers, documents, dumps
DATASET = "dataset"    # quads (named graphs kept)


@dataclass(frozen=True)
class Format:
    name: str                        # short name: format=…, --format …
    ox: RdfFormat | QueryResultsFormat  # pyoxigraph's own
    kind: str                        # RESULTS, GRAPH or DATASET
    also: tuple[str, ...] = ()       # other media types that mean this format

    @property
    def media_type(self) -> str:
        """The canonical media type, without parameters."""
        return self.ox.media_type.split(";")[0]

    @property
    def extension(self) -> str:
        return self.ox.file_extension

    @property
    def iri(self) -> str:
        return self.ox.iri

    @property
    def label(self) -> str:
        return self.ox.name.replace("SPARQL Results in ", "SPARQL ")

    @property
    def content_type(self) -> str:
        """The Content-Type header to send (UTF-8 said where it is not implied)."""
        return content_type(self.media_type)

    @property
    def rdf(self) -> RdfFormat:
        if not isinstance(self.ox, RdfFormat):
            raise TypeError(f"{self.label} is not an RDF format")
        return self.ox

    @property
    def results(self) -> QueryResultsFormat:
        if not isinstance(self.ox, QueryResultsFormat):
            raise TypeError(f"{self.label} is not a query results format")
        return self.ox


JSON = Format("json", ox.QueryResultsFormat.JSON, RESULTS, ("application/json",))
XML = Format("xml", ox.QueryResultsFormat.XML, RESULTS, ("application/xml", "text/xml"))
CSV = Format("csv", ox.QueryResultsFormat.CSV, RESULTS)
TSV = Format("tsv", ox.QueryResultsFormat.TSV, RESULTS)
TURTLE = Format("ttl", ox.RdfFormat.TURTLE, GRAPH, ("application/x-turtle", "text/n3"))
N_TRIPLES = Format("nt", ox.RdfFormat.N_TRIPLES, GRAPH, ("text/plain",))
JSON_LD = Format("jsonld", ox.RdfFormat.JSON_LD, GRAPH, ("application/json",))
RDF_XML = Format("rdfxml", ox.RdfFormat.RDF_XML, GRAPH, ("application/xml", "text/xml"))
TRIG = Format("trig", ox.RdfFormat.TRIG, DATASET)
N_QUADS = Format("nq", ox.RdfFormat.N_QUADS, DATASET)

RESULT_FORMATS = (JSON, XML, CSV, TSV)
GRAPH_FORMATS = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML)


@lru_cache(maxsize=64)
def content_type(media_type: str) -> str:
    """Text formats (and XML) say their charset; JSON is UTF-8 by definition."""
    if media_type.startswith("text/") or media_type in (
            "application/n-triples", "application/n-quads", "application/trig",
            "application/sparql-results+xml", "application/xml", "application/rdf+xml"):
        return media_type + "; charset=utf-8"
    return media_type


def serialize(items: Iterable[Any], fmt: Format, prefixes: Mapping[str, str] | None = None) -> bytes:
    """Triples (or quads) written in an RDF format; `prefixes` are declared
    where the format has prefix declarations."""
    declared = dict(prefixes) if prefixes and fmt in (TURTLE, TRIG, RDF_XML) else None
    body = ox.serialize(items, format=fmt.rdf, prefixes=declared)
    assert body is not None       # no output file given: the bytes are returned
    return body


def serialize_results(result: Any, fmt: Format) -> bytes:
    """A SELECT or ASK answer (pyoxigraph's QuerySolutions / QueryBoolean)."""
    body = result.serialize(format=fmt.results)
    assert body is not None
    return body
