"""OWL 2 RL closure (owlrl) over ontology + data, and the entailed graph.

    entailed = closure(ontology ∪ asserted) − asserted − ontology − noise

owlrl computes the closure over *generalized* RDF and adds axiomatic triples
that nobody asked for. What is dropped, and why (`DROP_REASONS` counts each):

- "literal-subject": literals as subjects ("2024" rdf:type xsd:gYear) —
  not RDF 1.1; a store cannot even hold them.
- "bad-predicate": literals or blank nodes as predicates — not RDF 1.1.
- "reflexive": x owl:sameAs x, x rdfs:subClassOf x, x owl:equivalentClass x,
  p rdfs:subPropertyOf p, p owl:equivalentProperty p — true of everything,
  tell nothing.
- "top-type": x rdf:type owl:Thing / rdfs:Resource, x rdfs:subClassOf
  owl:Thing / rdfs:Resource, x owl:equivalentClass owl:Thing, p rdfs:domain /
  rdfs:range owl:Thing — every individual/class is one, every property has it.
- "nothing": any triple with owl:Nothing as subject (owl:Nothing is a
  subclass of every class), or x owl:equivalentClass/owl:disjointWith of
  owl:Nothing — vacuous.
- "datatype": typing of literals and datatypes (x rdf:type rdfs:Datatype,
  x rdf:type rdfs:Literal, anything about an xsd: datatype) — owlrl's
  datatype machinery, not knowledge.
- "builtin-vocabulary": statements whose subject is a term of RDF, RDFS, OWL
  or XSD themselves (owl:sameAs rdf:type owl:SymmetricProperty…) — the
  vocabulary's own axioms, the same in every graph.
- "inconsistency": owlrl's error report nodes (err:ErrorMessage); they are
  returned separately as `InferResult.inconsistencies`.

Nothing that follows from the ontology and data about Köprü's or the reused
vocabularies' own terms (class hierarchy closure, inverse/transitive links,
domain/range typing, property chains) is dropped.

owlrl is the semantics. Three engines compute it (`engine=`, or the
environment variable KOPRU_REASONER; default "fast"):

- "fast": `server.reasoning.fast` — owlrl closes the schema only, then the
  instance-level OWL 2 RL rules read off that closure run as a semi-naive
  fixpoint over integer-encoded triples (20–40× faster than plain owlrl
  at 10k triples, >100× at 100k, a million triples in ≈20 s; see
  docs/scale.md). When the ontology uses a construct it does not implement
  (owl:hasKey, cardinalities…) it falls back to "owlrl" and says so in
  `engine` and `fallback`.
- "owlrl": owlrl itself, tuned (see "the fast way" below): inert triples
  are kept out of it, eq-ref is not materialised, and triples that trigger
  no rule are not walked; 3–7× faster than plain owlrl.
- "exact" (`exact=True`): owlrl's plain DeductiveClosure over everything,
  the reference.

All three give the same entailed graph (tests/test_build.py and
tests/test_reasoning.py compare them on the shipped project and a 10k
synthetic one).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Protocol

from server.config import REASONERS, settings
from server.namespaces import OWL, RDF, RDFS, XSD

if TYPE_CHECKING:  # pragma: no cover
    import rdflib

_ERR_NS = "http://www.daml.org/2002/03/agents/agent-ont#"
_BUILTIN_NS = (RDF, RDFS, OWL, XSD)

DROP_REASONS = ("literal-subject", "bad-predicate", "reflexive", "top-type", "nothing",
                "datatype", "builtin-vocabulary", "inconsistency")

ENGINES = REASONERS


class Premises(Protocol):
    """What the closure reads: a parsed project's ontology and data
    (server.pipeline.parse.ParsedProject is one)."""
    prefixes: dict[str, str]
    data_graph: "rdflib.Graph"
    ontology_graph: "rdflib.Graph"

    def triples(self, role: str) -> Iterable: ...


def default_engine() -> str:
    return settings().reasoner


@dataclass
class InferResult:
    asserted: "rdflib.Graph"
    ontology: "rdflib.Graph"
    entailed: "rdflib.Graph"
    closure_size: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    inconsistencies: list[str] = field(default_factory=list)
    seconds: float = 0.0          # closure alone
    filter_seconds: float = 0.0   # subtracting and dropping noise
    engine: str = "owlrl"         # which engine ran (see ENGINES)
    fallback: str = ""            # why "fast" fell back to owlrl, if it did

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


@dataclass
class InferOxResult:
    """What the build needs from the closure: entailed pyoxigraph triples."""
    entailed: list
    closure_size: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    inconsistencies: list[str] = field(default_factory=list)
    seconds: float = 0.0
    filter_seconds: float = 0.0
    engine: str = "owlrl"
    fallback: str = ""

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


def _fast(parsed: Premises):
    """server.reasoning.fast's closure, or None (and why) when it cannot do it."""
    from server.reasoning.fast import Unsupported, materialise

    try:
        return materialise(parsed.triples("ontology"), parsed.triples("graph")), ""
    except Unsupported as e:
        return None, str(e)


def infer_oxigraph(parsed: Premises, *, engine: str | None = None) -> InferOxResult:
    """`infer`, with the entailed graph as pyoxigraph triples (the fast
    engine never builds rdflib graphs)."""
    import pyoxigraph as ox

    from server.terms import to_oxigraph_term

    engine = engine or default_engine()
    fallback = ""
    if engine == "fast":
        r, fallback = _fast(parsed)
        if r is not None:
            return InferOxResult(entailed=r.entailed, closure_size=r.closure_size,
                                 dropped=r.dropped, inconsistencies=r.inconsistencies,
                                 seconds=r.seconds, filter_seconds=r.filter_seconds,
                                 engine="fast")
        engine = "owlrl"
    r = infer(parsed, engine=engine)
    t0 = time.perf_counter()
    entailed = []
    for s, p, o in r.entailed:
        ts, tp, to = to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o)
        if ts is not None and tp is not None and to is not None:
            entailed.append(ox.Triple(ts, tp, to))
    return InferOxResult(entailed=entailed, closure_size=r.closure_size, dropped=r.dropped,
                         inconsistencies=r.inconsistencies, seconds=r.seconds,
                         filter_seconds=r.filter_seconds + time.perf_counter() - t0,
                         engine=r.engine, fallback=fallback or r.fallback)


def infer(parsed: Premises, *, exact: bool = False,
          engine: str | None = None) -> InferResult:
    """Compute the OWL 2 RL closure of ontology + data and return the
    asserted, ontology and entailed graphs (the entailed one filtered).

    `engine` is "fast" (server.reasoning.fast; the default, or KOPRU_REASONER),
    "owlrl" (owlrl, tuned: see `_closure`) or "exact" (owlrl's plain
    DeductiveClosure over everything; also `exact=True`). All give the same
    entailed graph (tests check it)."""
    from rdflib import Graph

    engine = "exact" if exact else (engine or default_engine())
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    asserted = parsed.data_graph
    ontology = parsed.ontology_graph

    fallback = ""
    if engine == "fast":
        from server.terms import to_rdflib_graph

        r, fallback = _fast(parsed)
        if r is not None:
            t1 = time.perf_counter()
            entailed = to_rdflib_graph(r.entailed, parsed.prefixes)
            return InferResult(asserted=asserted, ontology=ontology, entailed=entailed,
                               closure_size=r.closure_size, dropped=r.dropped,
                               inconsistencies=r.inconsistencies, seconds=r.seconds,
                               filter_seconds=r.filter_seconds + time.perf_counter() - t1,
                               engine="fast")
        engine = "owlrl"

    t0 = time.perf_counter()
    work = Graph()
    if engine == "exact":
        import owlrl

        for t in ontology:
            work.add(t)
        for t in asserted:
            work.add(t)
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                               datatype_axioms=False).expand(work)
        extra: list = []
    else:
        extra = _closure(work, ontology, asserted)
    seconds = time.perf_counter() - t0

    t1 = time.perf_counter()
    entailed, dropped, errors = filter_entailed(work, asserted, ontology, extra=extra)
    for p, ns in parsed.prefixes.items():
        entailed.bind(p, ns, override=True, replace=True)
    return InferResult(asserted=asserted, ontology=ontology, entailed=entailed,
                       closure_size=len(work) + len(extra), dropped=dropped,
                       inconsistencies=errors, seconds=seconds,
                       filter_seconds=time.perf_counter() - t1, engine=engine,
                       fallback=fallback)


# --- the fast way to the same closure ----------------------------------------------
#
# owlrl applies every rule to every triple of the graph in every cycle, so its
# time grows with the number of triples times the number of cycles. Two things
# cut that down without changing what is entailed (bar the noise dropped
# anyway):
#
# 1. Inert triples stay out of owlrl. A predicate is *active* when it occurs
#    as subject or object of a triple whose predicate is active or part of
#    the RDF/RDFS/OWL vocabulary (owl:inverseOf, rdfs:domain, rdf:first of a
#    property chain, owl:onProperty…), other than a bare declaration
#    (p a owl:ObjectProperty) — computed to a fixpoint. A triple whose
#    predicate is not active and not built in (labels, comments, summaries,
#    identifiers, most literals) is a premise of no OWL 2 RL rule except
#    eq-ref and eq-rep-s/o (owl:sameAs copies it to the equivalent nodes).
#    So: close the active triples with owlrl, then copy each inert triple
#    through the owl:sameAs classes of the closure (eq-rep-s/o by hand).
# 2. Reflexive owl:sameAs (rule eq-ref: x owl:sameAs x for every term) is
#    never stored: it doubles the graph owlrl walks in every cycle, yields
#    nothing through any other rule, and is dropped as noise anyway. The one
#    thing it could reveal — x owl:differentFrom x — is checked directly.
# 3. owlrl's rules are all triggered by a triple with an RDF/RDFS/OWL
#    predicate (p rdfs:domain c, c rdfs:subClassOf d, x rdf:type c…), which
#    then looks up the instance triples it needs. Triples with any other
#    predicate trigger nothing but eq-ref, so they are not walked as
#    triggers (they stay in the graph for those look-ups).

_ANNOTATION_BUILTINS = {
    RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy",
    OWL + "versionInfo", OWL + "priorVersion", OWL + "backwardCompatibleWith",
    OWL + "incompatibleWith", OWL + "deprecated", OWL + "versionIRI",
}
_DECLARATION_TYPES = {
    OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty",
    RDF + "Property", OWL + "Class", RDFS + "Class", OWL + "NamedIndividual",
    OWL + "Ontology",
}


def _active_predicates(triples) -> set[str]:
    """Predicates that take part in OWL RL rules (see above), as strings."""
    triples = [(str(s), str(p), str(o)) for s, p, o in triples]
    rdf_type = RDF + "type"

    def builtin(p: str) -> bool:
        return p.startswith(_BUILTIN_NS) and p not in _ANNOTATION_BUILTINS

    active: set[str] = set()
    pending = triples
    while True:
        grew = False
        rest = []
        for s, p, o in pending:
            if builtin(p) or p in active:
                if p == rdf_type and o in _DECLARATION_TYPES:
                    continue
                if s not in active or o not in active:
                    active.add(s)
                    active.add(o)
                    grew = True
            else:
                rest.append((s, p, o))
        if not grew:
            return active
        pending = rest


def _closure(work, ontology, asserted) -> list:
    """Fill `work` with the owlrl closure of the active triples; return the
    inert triples and their owl:sameAs copies (to be added to the closure)."""
    import owlrl
    from rdflib import URIRef

    active = _active_predicates(list(ontology) + list(asserted))
    inert = []
    for g in (ontology, asserted):
        for t in g:
            p = str(t[1])
            if p in active or (p.startswith(_BUILTIN_NS) and p not in _ANNOTATION_BUILTINS):
                work.add(t)
            else:
                inert.append(t)

    with _fast_namespaces():
        owlrl.DeductiveClosure(_semantics(), axiomatic_triples=False,
                               datatype_axioms=False).expand(work)

    same_as = URIRef(OWL + "sameAs")
    equivalents: dict = {}
    for x, y in work.subject_objects(same_as):
        if x != y:
            equivalents.setdefault(x, set()).add(y)
    extra = list(inert)
    if equivalents:
        for s, p, o in inert:
            for s2 in {s} | equivalents.get(s, set()):
                for o2 in {o} | equivalents.get(o, set()):
                    if (s2, o2) != (s, o):
                        extra.append((s2, p, o2))
    different = URIRef(OWL + "differentFrom")
    for x, y in work.subject_objects(different):
        if x == y:
            work.add(_error_node(work, f"{x} is declared owl:differentFrom itself"))
    return extra


def _error_node(graph, message: str):
    from rdflib import BNode, Literal, URIRef

    node = BNode()
    graph.add((node, URIRef(RDF + "type"), URIRef(_ERR_NS + "ErrorMessage")))
    graph.add((node, URIRef(_ERR_NS + "error"), Literal(message)))
    return node


def _make_semantics():
    import owlrl
    from rdflib import URIRef

    same_as = URIRef(OWL + "sameAs")

    class _SetList(list):
        """owlrl keeps the blank nodes in a list and tests membership for
        every term of the first cycle (quadratic); same list, set lookup."""

        def __init__(self) -> None:
            super().__init__()
            self._set: set = set()

        def __contains__(self, item) -> bool:
            return item in self._set

        def append(self, item) -> None:
            self._set.add(item)
            super().append(item)

    builtin = _BUILTIN_NS
    BNode = owlrl.OWLRL.BNode

    class NoReflexiveSameAs(owlrl.OWLRL_Semantics):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.bnodes = _SetList()

        def rules(self, t, cycle_num) -> None:
            # Every owlrl rule is triggered by a triple whose predicate is
            # RDF/RDFS/OWL vocabulary (rdfs:domain, rdf:type, owl:sameAs…)
            # and then looks the instance triples up; a triple with any
            # other predicate triggers only eq-ref, which is not wanted.
            # Skip those: same closure, a fraction of the work per cycle.
            if not str.startswith(t[1], builtin):
                if cycle_num == 1:
                    for r in t:
                        if isinstance(r, BNode) and r not in self.bnodes:
                            self.bnodes.append(r)
                return
            super().rules(t, cycle_num)

        def store_triple(self, t) -> None:
            if t[0] == t[2] and t[1] == same_as:
                return
            super().store_triple(t)

        def _equality(self, triple, cycle_num) -> None:
            if triple[0] == triple[2] and triple[1] == same_as:
                return
            super()._equality(triple, cycle_num)

    return NoReflexiveSameAs


class _FastNamespace:
    """Stands in for rdflib's OWL/RDF/RDFS namespace objects inside owlrl:
    rdflib resolves `OWL.sameAs` through a slow __getattr__ on every use
    (about a million times per closure here); this caches the same URIRef
    as a plain attribute after the first lookup."""

    def __init__(self, ns) -> None:
        self._ns = ns

    def __getattr__(self, name: str):
        value = getattr(self._ns, name)
        setattr(self, name, value)
        return value

    def __getitem__(self, key):
        return self._ns[key]


@contextlib.contextmanager
def _fast_namespaces():
    import owlrl.Closure
    import owlrl.OWLRL

    saved = []
    for module, names in ((owlrl.OWLRL, ("OWL", "RDF", "RDFS")), (owlrl.Closure, ("RDF",))):
        for name in names:
            original = getattr(module, name, None)
            if original is not None and not isinstance(original, _FastNamespace):
                saved.append((module, name, original))
                setattr(module, name, _FastNamespace(original))
    try:
        yield
    finally:
        for module, name, original in saved:
            setattr(module, name, original)


_semantics_cache: list = []


def _semantics():
    """The owlrl subclass, built on first use (keeps owlrl off the import path)."""
    if not _semantics_cache:
        _semantics_cache.append(_make_semantics())
    return _semantics_cache[0]


def filter_entailed(closure, asserted, ontology, extra=()):
    """closure (+ extra triples) − asserted − ontology − noise → (entailed
    Graph, dropped counts by reason, owlrl's inconsistency messages)."""
    import itertools

    from rdflib import BNode, Graph, Literal, URIRef

    OWL_SAMEAS = URIRef(OWL + "sameAs")
    OWL_THING = URIRef(OWL + "Thing")
    OWL_NOTHING = URIRef(OWL + "Nothing")
    OWL_EQCLASS = URIRef(OWL + "equivalentClass")
    OWL_EQPROP = URIRef(OWL + "equivalentProperty")
    OWL_DISJOINT = URIRef(OWL + "disjointWith")
    RDF_TYPE = URIRef(RDF + "type")
    RDFS_SUBCLASS = URIRef(RDFS + "subClassOf")
    RDFS_SUBPROP = URIRef(RDFS + "subPropertyOf")
    RDFS_RESOURCE = URIRef(RDFS + "Resource")
    RDFS_LITERAL = URIRef(RDFS + "Literal")
    RDFS_DATATYPE = URIRef(RDFS + "Datatype")
    reflexive_preds = {OWL_SAMEAS, RDFS_SUBCLASS, OWL_EQCLASS, RDFS_SUBPROP, OWL_EQPROP}
    top = {OWL_THING, RDFS_RESOURCE}
    top_preds = {RDF_TYPE, RDFS_SUBCLASS, OWL_EQCLASS, URIRef(RDFS + "domain"),
                 URIRef(RDFS + "range")}

    # owlrl's inconsistency reports: [ a err:ErrorMessage ; err:error "..." ]
    err_nodes = set(closure.subjects(RDF_TYPE, URIRef(_ERR_NS + "ErrorMessage")))
    errors = sorted(str(closure.value(n, URIRef(_ERR_NS + "error")) or "")
                    for n in err_nodes)

    dropped = dict.fromkeys(DROP_REASONS, 0)
    entailed = Graph()
    add = entailed.add
    for t in itertools.chain(closure, extra):
        if t in asserted or t in ontology:
            continue
        s, p, o = t
        reason = None
        if isinstance(s, Literal):
            reason = "literal-subject"
        elif isinstance(p, (Literal, BNode)):
            reason = "bad-predicate"
        elif s in err_nodes:
            reason = "inconsistency"
        elif s == o and p in reflexive_preds:
            reason = "reflexive"
        elif p in top_preds and o in top:
            reason = "top-type"
        elif s == OWL_NOTHING or (o == OWL_NOTHING and p in (OWL_EQCLASS, OWL_DISJOINT,
                                                              RDFS_SUBCLASS)):
            reason = "nothing"
        elif ((p == RDF_TYPE and o in (RDFS_DATATYPE, RDFS_LITERAL))
              or (isinstance(s, URIRef) and str(s).startswith(XSD))
              or (isinstance(o, URIRef) and str(o).startswith(XSD)
                  and p in (RDF_TYPE, RDFS_SUBCLASS, OWL_EQCLASS))):
            reason = "datatype"
        elif isinstance(s, URIRef) and str(s).startswith(_BUILTIN_NS):
            reason = "builtin-vocabulary"
        if reason:
            dropped[reason] += 1
        else:
            add(t)
    return entailed, dropped, errors
