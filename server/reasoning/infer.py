"""The OWL 2 RL closure of a project, and the choice of engine.

    entailed = closure(ontology ∪ asserted) − asserted − ontology − noise

`engine=` (or KOPRU_REASONER, read through server.config) picks "fast"
(server.reasoning.fast, the default; falls back to "owlrl" for constructs it
does not implement), "owlrl" (owlrl tuned) or "exact" (plain owlrl, the
reference). All give the same entailed graph; see docs/reasoning.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from server.config import REASONERS, settings
from server.reasoning.result import InferResult

if TYPE_CHECKING:  # pragma: no cover
    import rdflib

ENGINES = REASONERS


class Premises(Protocol):
    """What the closure reads: a parsed project's ontology and data
    (server.pipeline.parse.ParsedProject is one)."""
    prefixes: dict[str, str]
    data_graph: rdflib.Graph
    ontology_graph: rdflib.Graph

    def triples(self, role: str) -> Iterable: ...


def default_engine() -> str:
    return settings().reasoner


def _engine(engine: str | None, exact: bool = False) -> str:
    engine = "exact" if exact else (engine or default_engine())
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    return engine


def _fast(parsed: Premises) -> tuple[InferResult | None, str]:
    """The fast engine's result, or None and why it cannot compute it."""
    from server.reasoning.fast import Unsupported, materialise

    try:
        return materialise(parsed.triples("ontology"), parsed.triples("graph")), ""
    except Unsupported as e:
        return None, str(e)


def infer_oxigraph(parsed: Premises, *, engine: str | None = None) -> InferResult:
    """The closure with the entailed graph as pyoxigraph triples (what the
    build stores; the fast engine never builds rdflib graphs)."""
    import pyoxigraph as ox

    from server.terms import to_oxigraph_term

    engine = _engine(engine)
    fallback = ""
    if engine == "fast":
        r, fallback = _fast(parsed)
        if r is not None:
            return r
        engine = "owlrl"
    r = _owlrl(parsed, engine)
    t0 = time.perf_counter()
    entailed = []
    for s, p, o in r.entailed:
        ts, tp, to = to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o)
        if ts is not None and tp is not None and to is not None:
            entailed.append(ox.Triple(ts, tp, to))
    r.entailed, r.asserted, r.ontology = entailed, None, None
    r.filter_seconds += time.perf_counter() - t0
    r.fallback = fallback
    return r


def infer(parsed: Premises, *, exact: bool = False, engine: str | None = None) -> InferResult:
    """The closure with rdflib graphs: the entailed graph, and the asserted
    and ontology graphs it was computed from. `exact=True` is engine="exact"."""
    engine = _engine(engine, exact)
    fallback = ""
    if engine == "fast":
        from server.terms import to_rdflib_graph

        r, fallback = _fast(parsed)
        if r is not None:
            t0 = time.perf_counter()
            r.entailed = to_rdflib_graph(r.entailed, parsed.prefixes)
            r.asserted, r.ontology = parsed.data_graph, parsed.ontology_graph
            r.filter_seconds += time.perf_counter() - t0
            return r
        engine = "owlrl"
    r = _owlrl(parsed, engine)
    r.fallback = fallback
    return r


def _owlrl(parsed: Premises, engine: str) -> InferResult:
    """owlrl's closure, tuned ("owlrl") or plain ("exact"), filtered."""
    from server.reasoning.inconsistency import from_owlrl, unique
    from server.reasoning.noise import filter_entailed
    from server.reasoning.owlrl_engine import closure
    from server.terms import RdflibTerms

    asserted, ontology = parsed.data_graph, parsed.ontology_graph
    t0 = time.perf_counter()
    term = RdflibTerms().term
    # in the order written: owlrl reads the first-asserted member of a list node
    premises = [(term(t.subject), term(t.predicate), term(t.object))
                for role in ("ontology", "graph") for t in parsed.triples(role)]
    work, extra = closure(premises, exact=engine == "exact")
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    entailed, dropped, errors = filter_entailed(work, asserted, ontology, extra=extra)
    for p, ns in parsed.prefixes.items():
        entailed.bind(p, ns, override=True, replace=True)
    return InferResult(entailed=entailed, inconsistencies=unique(from_owlrl(errors, work)),
                       dropped=dropped, closure_size=len(work) + len(extra), seconds=seconds,
                       filter_seconds=time.perf_counter() - t1, engine=engine,
                       asserted=asserted, ontology=ontology)
