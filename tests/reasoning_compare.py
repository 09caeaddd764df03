"""Each engine against plain owlrl, the reference, for the reasoning tests.

`reference()` is owlrl's plain DeductiveClosure followed by the documented
noise filter; `run(engine)` goes through `infer_oxigraph`, as the build
does. Entailed triples are compared by value (both sides through rdflib's
literal normalisation, owlrl's notion of identity), inconsistencies in
owlrl's wording. `differences()` says what differs, or "" when nothing does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

PREFIXES = """\
@prefix : <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
PREFIX_MAP = {"": "http://example.org/", "owl": "http://www.w3.org/2002/07/owl#",
              "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
              "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
              "xsd": "http://www.w3.org/2001/XMLSchema#"}


def turtle(ttl: str) -> list:
    import pyoxigraph as ox

    return [q.triple for q in ox.parse(PREFIXES + ttl, ox.RdfFormat.TURTLE)]


@dataclass
class Premises:
    """`server.reasoning.infer.Premises` over lists of pyoxigraph triples."""
    ontology: list
    data: list
    prefixes: dict = field(default_factory=lambda: dict(PREFIX_MAP))

    def triples(self, role: str):
        return iter(self.ontology if role == "ontology" else self.data)

    @cached_property
    def ontology_graph(self):
        from server.terms import to_rdflib_graph

        return to_rdflib_graph(self.ontology)

    @cached_property
    def data_graph(self):
        from server.terms import to_rdflib_graph

        return to_rdflib_graph(self.data)


@dataclass(frozen=True)
class Outcome:
    engine: str
    entailed: frozenset = frozenset()          # N-Triples, literals by value
    inconsistencies: frozenset = frozenset()   # owlrl's wording
    error: str = ""                            # what it raised instead, if it did
    result: object = None                      # the InferResult, for engines


def _key(triple) -> str:
    return " ".join(t.n3() for t in triple)


def reference(premises: Premises) -> Outcome:
    """Plain owlrl over the premises in the order written, then the
    documented filter. One repair: owlrl's xsd:decimal check lets
    decimal.InvalidOperation escape instead of raising the ValueError that
    means "ill-typed" ("1,5"^^xsd:decimal would crash the whole closure);
    both engines run with the same repair (owlrl_engine.checked_datatypes)."""
    import owlrl
    from rdflib import Graph

    from server.reasoning.noise import filter_entailed
    from server.reasoning.owlrl_engine import checked_datatypes
    from server.terms import RdflibTerms

    term = RdflibTerms().term
    work = Graph()
    for t in premises.ontology + premises.data:     # in the order written
        work.add((term(t.subject), term(t.predicate), term(t.object)))
    try:
        with checked_datatypes():
            owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                                   datatype_axioms=False).expand(work)
    except Exception as e:  # noqa: BLE001 - the reference itself may fail
        return Outcome("exact", error=f"{type(e).__name__}: {e}")
    entailed, _dropped, errors = filter_entailed(work, premises.data_graph,
                                                 premises.ontology_graph)
    return Outcome("exact", frozenset(_key(t) for t in entailed), frozenset(errors))


def run(engine: str, premises: Premises) -> Outcome:
    """An engine through infer_oxigraph (as the build runs it)."""
    from server.reasoning.infer import infer_oxigraph
    from server.terms import RdflibTerms

    try:
        r = infer_oxigraph(premises, engine=engine)
    except Exception as e:  # noqa: BLE001 - reported as a difference
        return Outcome(engine, error=f"{type(e).__name__}: {e}")
    conv = RdflibTerms().term
    entailed = frozenset(_key((conv(t.subject), conv(t.predicate), conv(t.object)))
                         for t in r.entailed)
    name = r.engine if not r.fallback else f"{engine}→{r.engine}"
    return Outcome(name, entailed, frozenset(i.owlrl_message() for i in r.inconsistencies),
                   result=r)


def differences(ref: Outcome, got: Outcome, *, limit: int = 8) -> str:
    """What `got` does differently from the reference ("" when nothing)."""
    out = []
    if ref.error or got.error:
        # where owlrl itself fails (a list that loops), an engine must stop
        # with a clear BuildError, never fail otherwise
        if not (ref.error and got.error.startswith("BuildError:")):
            out.append(f"reference raised {ref.error!r}, {got.engine} raised {got.error!r}")
        return "\n".join(out)
    for what, a, b in (("entailed", got.entailed, ref.entailed),
                       ("inconsistencies", got.inconsistencies, ref.inconsistencies)):
        extra, missing = sorted(a - b), sorted(b - a)
        if extra:
            out.append(f"{got.engine} {what} that owlrl has not ({len(extra)}): "
                       + "; ".join(extra[:limit]))
        if missing:
            out.append(f"{got.engine} misses {what} ({len(missing)}): "
                       + "; ".join(missing[:limit]))
    return "\n".join(out)
