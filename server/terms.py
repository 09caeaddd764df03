"""Conversion between pyoxigraph terms (what is parsed and stored) and
rdflib terms (what pyshacl and owlrl work on), faithful both ways:
xsd:string literals are plain literals, as rdflib's parser makes them, and
blank-node ids are kept so both sides name the same nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox

from server.namespaces import XSD

if TYPE_CHECKING:  # pragma: no cover
    import rdflib

_XSD_STRING = XSD + "string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def to_rdflib_graph(triples: Iterable, prefixes: dict[str, str] | None = None, *,
                    into: rdflib.Graph | None = None) -> rdflib.Graph:
    """pyoxigraph triples → a new rdflib Graph, or added to `into` (terms
    converted faithfully: xsd:string literals become plain literals, as
    rdflib's parser makes them; blank-node ids are kept, so both sides name
    the same nodes)."""
    from rdflib import Graph

    g = Graph() if into is None else into
    conv = RdflibTerms()
    add = g.add
    c = conv.term
    for t in triples:
        add((c(t.subject), c(t.predicate), c(t.object)))
    for p, ns in (prefixes or {}).items():
        g.bind(p, ns, override=True, replace=True)
    return g


class RdflibTerms:
    """pyoxigraph term → rdflib term, memoised."""

    def __init__(self) -> None:
        from rdflib import BNode, Literal, URIRef

        self.URIRef, self.BNode, self.Literal = URIRef, BNode, Literal
        self.cache: dict = {}

    def term(self, t):
        r = self.cache.get(t)
        if r is not None:
            return r
        tt = type(t)
        if tt is ox.NamedNode:
            r = self.URIRef(t.value)
        elif tt is ox.BlankNode:
            r = self.BNode(t.value)
        elif tt is ox.Literal:
            if t.language:
                r = self.Literal(t.value, lang=t.language)
            else:
                dt = t.datatype.value
                r = (self.Literal(t.value) if dt == _XSD_STRING
                     else self.Literal(t.value, datatype=self.URIRef(dt)))
        else:
            raise TypeError(f"unsupported term {t!r}")
        self.cache[t] = r
        return r


def to_oxigraph_term(t):
    """rdflib term → pyoxigraph term (None for things RDF 1.1 cannot hold,
    such as rdflib Variables or graph terms)."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(t, URIRef):
        return ox.NamedNode(str(t))
    if isinstance(t, BNode):
        return ox.BlankNode(str(t))
    if isinstance(t, Literal):
        if t.language:
            return ox.Literal(str(t), language=t.language)
        if t.datatype is not None and str(t.datatype) not in (_XSD_STRING, _RDF_LANGSTRING):
            return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype)))
        return ox.Literal(str(t))
    return None


def used_prefixes(items: Iterable, prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes whose namespace some IRI in `items` (triples or quads)
    starts with: a serialization declares only those."""
    iris = set()
    for t in items:
        for x in (t.subject, t.predicate, t.object, getattr(t, "graph_name", None)):
            if isinstance(x, ox.NamedNode):
                iris.add(x.value)
            elif isinstance(x, ox.Literal):
                iris.add(x.datatype.value)
    return {p: ns for p, ns in prefixes.items()
            if any(i.startswith(ns) and len(i) > len(ns) for i in iris)}
