"""owlrl's OWL 2 RL closure, plain ("exact", the reference semantics) or
tuned ("owlrl": the same entailed graph, 3–7× faster). How the tuning
keeps the closure unchanged is explained in docs/reasoning.md.
"""

from __future__ import annotations

import contextlib

from server.namespaces import OWL, RDF
from server.reasoning import lists
from server.reasoning.inconsistency import RULES, TermNames
from server.reasoning.vocabulary import (
    BUILTIN_NAMESPACES,
    DECLARATION_TYPES,
    ERROR_MESSAGE,
    ERROR_TEXT,
    is_rule_vocabulary,
)


def closure(premises: list, *, exact: bool) -> tuple:
    """owlrl's closure of the premises (rdflib triples, ontology then data,
    in the order they were written: owlrl reads the first-asserted member
    of a list node): (the closed rdflib Graph, extra triples that belong to
    the closure but were kept out of owlrl: inert triples and their
    owl:sameAs copies)."""
    import owlrl
    from rdflib import Graph

    _check_list_loops(premises)
    # rdflib's store without named graphs: owlrl asks it a million times,
    # and it answers in 0.8 of the time of the default (which keeps each
    # triple's graphs); a closure is the same set of triples in either.
    work = Graph(store="SimpleMemory")
    if not exact:
        return work, _tuned(work, premises)
    for t in premises:
        work.add(t)
    # (the same rules and terms; only rdflib's namespace lookups cached)
    with _fast_namespaces(), checked_datatypes():
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                               datatype_axioms=False).expand(work)
    return work, []


@contextlib.contextmanager
def checked_datatypes():
    """While owlrl runs, its lexical checks (dt-not-type) raise ValueError for
    every ill-typed literal, as owlrl expects: its xsd:decimal check lets
    Python's decimal.InvalidOperation through ("1,5"^^xsd:decimal), and the
    whole closure would crash instead of reporting the literal.

    owlrl installs its conversions into rdflib's global table while it runs
    and, after it, puts back rdflib's own only for the datatypes rdflib
    knows (and not at all when the closure raises): rdflib's table is saved
    and restored whole here, so that no closure changes how rdflib reads
    literals for the rest of the process (the fast engine numbers literals
    by rdflib's reading)."""
    from owlrl import DatatypeHandling
    from rdflib import term as rdflib_term

    table = DatatypeHandling.AltXSDToPYTHON
    saved = dict(table)
    rdflib_table = rdflib_term._toPythonMapping
    rdflib_saved = dict(rdflib_table)
    for datatype, convert in saved.items():
        table[datatype] = _raising_value_error(convert)
    try:
        yield
    finally:
        table.clear()
        table.update(saved)
        rdflib_table.clear()
        rdflib_table.update(rdflib_saved)


def _raising_value_error(convert):
    def checked(text):
        try:
            return convert(text)
        except ValueError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure means: not a valid literal
            raise ValueError(f"invalid literal {text!r}") from e
    return checked


# --- the tuned closure --------------------------------------------------------------


def active_predicates(triples) -> set[str]:
    """Predicates that take part in OWL RL rules, as strings: those that
    occur as subject or object of a triple whose predicate is active or
    rule vocabulary (bare declarations aside), to a fixpoint."""
    triples = [(str(s), str(p), str(o)) for s, p, o in triples]
    rdf_type = RDF + "type"
    active: set[str] = set()
    pending = triples
    while True:
        grew = False
        rest = []
        for s, p, o in pending:
            if is_rule_vocabulary(p) or p in active:
                if p == rdf_type and o in DECLARATION_TYPES:
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


def expand(graph) -> None:
    """owlrl's closure of `graph`, in place, the tuned way: no reflexive
    owl:sameAs stored, only vocabulary triples walked as rule triggers
    (the fast engine closes its schema with this too)."""
    import owlrl

    with _fast_namespaces(), checked_datatypes():
        owlrl.DeductiveClosure(_semantics(), axiomatic_triples=False,
                               datatype_axioms=False).expand(graph)


def _check_list_loops(triples: list) -> None:
    """A list that loops stops the build (owlrl would raise in the middle)."""
    from rdflib import URIRef

    from server.terms import to_oxigraph_term

    name = TermNames()
    lists.refuse_loops(triples, {URIRef(p) for p in lists.HEAD_PREDICATES}, URIRef(RDF + "rest"),
                       lambda s, p: f"{name(to_oxigraph_term(s))} {name(to_oxigraph_term(p))}")


def _tuned(work, premises: list) -> list:
    """Fill `work` with the owlrl closure of the active triples; return the
    inert triples and their owl:sameAs copies (to be added to the closure)."""
    from owlrl.XsdDatatypes import OWL_RL_Datatypes
    from rdflib import Literal, URIRef

    active = active_predicates(premises)
    datatypes = set(OWL_RL_Datatypes)
    inert = []
    for t in premises:
        p, o = str(t[1]), t[2]
        # owlrl's datatype rules read every literal of an OWL RL datatype
        if p in active or is_rule_vocabulary(p) \
                or (isinstance(o, Literal) and o.datatype in datatypes):
            work.add(t)
        else:
            inert.append(t)

    expand(work)

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
    # eq-diff1 on x owl:differentFrom x (no x owl:sameAs x was stored), in owlrl's words
    different = URIRef(OWL + "differentFrom")
    for x, y in list(work.subject_objects(different)):
        if x == y:
            _add_error(work, RULES["eq-diff1"].owlrl % (x, x))
    return extra


def _add_error(graph, message: str) -> None:
    """An inconsistency report as owlrl makes them."""
    from rdflib import BNode, Literal, URIRef

    node = BNode()
    graph.add((node, URIRef(RDF + "type"), URIRef(ERROR_MESSAGE)))
    graph.add((node, URIRef(ERROR_TEXT), Literal(message)))


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

    BNode = owlrl.OWLRL.BNode

    class NoReflexiveSameAs(owlrl.OWLRL_Semantics):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.bnodes = _SetList()

        def rules(self, t, cycle_num) -> None:
            # Every owlrl rule is triggered by a triple whose predicate is
            # RDF/RDFS/OWL vocabulary and then looks the instance triples
            # up; any other triple triggers only eq-ref, not wanted here.
            if not str.startswith(t[1], BUILTIN_NAMESPACES):
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
