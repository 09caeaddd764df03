"""The one noise filter: which closure triples never reach the entailed
graph, and why. Each term is summarised once as a set of flags (what kind
of term, which built-in role it has); `drop_reason` decides a triple from
the flags of its three terms. Both engines use it: the owlrl path over
rdflib terms (`RdflibFlags`), the fast engine over its integer ids
(`OxigraphFlags`). The reasons are explained in docs/reasoning.md.
"""

from __future__ import annotations

import enum

import pyoxigraph as ox

from server.namespaces import OWL, RDF, RDFS, XSD
from server.reasoning.vocabulary import BUILTIN_NAMESPACES


class Drop(enum.StrEnum):
    """Why a closure triple is not published (the build counts each)."""
    LITERAL_SUBJECT = "literal-subject"        # not RDF 1.1
    BAD_PREDICATE = "bad-predicate"            # literal or blank predicate: not RDF 1.1
    REFLEXIVE = "reflexive"                    # x owl:sameAs x, c rdfs:subClassOf c…
    TOP_TYPE = "top-type"                      # x rdf:type owl:Thing…
    NOTHING = "nothing"                        # owl:Nothing is a subclass of everything
    DATATYPE = "datatype"                      # owlrl's datatype machinery
    BUILTIN_VOCABULARY = "builtin-vocabulary"  # the RDF/RDFS/OWL/XSD terms' own axioms
    INCONSISTENCY = "inconsistency"            # owlrl's error report nodes


DROP_REASONS = tuple(d.value for d in Drop)


def no_drops() -> dict[str, int]:
    return dict.fromkeys(DROP_REASONS, 0)


class Flag(enum.IntFlag):
    """What the filter needs to know about one term."""
    LITERAL = 1 << 0
    BLANK = 1 << 1
    XSD = 1 << 2                     # an IRI in the XSD namespace
    BUILTIN = 1 << 3                 # an IRI in RDF, RDFS, OWL or XSD
    REFLEXIVE_PREDICATE = 1 << 4     # true of every x with itself
    TOP = 1 << 5                     # owl:Thing, rdfs:Resource
    TOP_PREDICATE = 1 << 6           # whose owl:Thing object says nothing
    NOTHING = 1 << 7                 # owl:Nothing
    NOTHING_PREDICATE = 1 << 8       # vacuous with owl:Nothing as object
    TYPE = 1 << 9                    # rdf:type
    DATATYPE_CLASS = 1 << 10         # rdfs:Datatype, rdfs:Literal
    XSD_TYPING_PREDICATE = 1 << 11   # typing/subsumption with an XSD object
    ERROR_REPORT = 1 << 12           # an owlrl error report node


_IRI_ROLES: dict[str, Flag] = {}


def _role(flag: Flag, *iris: str) -> None:
    for iri in iris:
        _IRI_ROLES[iri] = _IRI_ROLES.get(iri, Flag(0)) | flag


_role(Flag.REFLEXIVE_PREDICATE, OWL + "sameAs", RDFS + "subClassOf", OWL + "equivalentClass",
      RDFS + "subPropertyOf", OWL + "equivalentProperty")
_role(Flag.TOP, OWL + "Thing", RDFS + "Resource")
_role(Flag.TOP_PREDICATE, RDF + "type", RDFS + "subClassOf", OWL + "equivalentClass",
      RDFS + "domain", RDFS + "range")
_role(Flag.NOTHING, OWL + "Nothing")
_role(Flag.NOTHING_PREDICATE, OWL + "equivalentClass", OWL + "disjointWith", RDFS + "subClassOf")
_role(Flag.TYPE, RDF + "type")
_role(Flag.DATATYPE_CLASS, RDFS + "Datatype", RDFS + "Literal")
_role(Flag.XSD_TYPING_PREDICATE, RDF + "type", RDFS + "subClassOf", OWL + "equivalentClass")

# Plain ints for the per-triple test (IntFlag arithmetic is slow).
_LITERAL, _BLANK, _XSD, _BUILTIN = (int(Flag.LITERAL), int(Flag.BLANK), int(Flag.XSD),
                                     int(Flag.BUILTIN))
_REFLEXIVE_PREDICATE, _TOP, _TOP_PREDICATE = (int(Flag.REFLEXIVE_PREDICATE), int(Flag.TOP),
                                              int(Flag.TOP_PREDICATE))
_NOTHING, _NOTHING_PREDICATE, _TYPE = (int(Flag.NOTHING), int(Flag.NOTHING_PREDICATE),
                                       int(Flag.TYPE))
_DATATYPE_CLASS, _XSD_TYPING_PREDICATE, _ERROR_REPORT = (
    int(Flag.DATATYPE_CLASS), int(Flag.XSD_TYPING_PREDICATE), int(Flag.ERROR_REPORT))


def iri_flags(iri: str) -> int:
    f = int(_IRI_ROLES.get(iri, 0))
    if iri.startswith(BUILTIN_NAMESPACES):
        f |= _BUILTIN
        if iri.startswith(XSD):
            f |= _XSD
    return f


# Plain strings, bound once: looking up an enum member, or counting by one,
# costs more than the whole test.
(_LITERAL_SUBJECT, _BAD_PREDICATE, _REFLEXIVE, _TOP_TYPE, _NOTHING_DROP, _DATATYPE,
 _BUILTIN_VOCABULARY, _INCONSISTENCY) = DROP_REASONS


def drop_reason(fs: int, fp: int, fo: int, reflexive: bool) -> str | None:
    """Why (a Drop value) the triple whose terms have flags fs, fp, fo (and
    whose subject is its object when `reflexive`) is dropped, or None."""
    if fs & _LITERAL:
        return _LITERAL_SUBJECT
    if fp & (_LITERAL | _BLANK):
        return _BAD_PREDICATE
    if fs & _ERROR_REPORT:
        return _INCONSISTENCY
    if reflexive and fp & _REFLEXIVE_PREDICATE:
        return _REFLEXIVE
    if fp & _TOP_PREDICATE and fo & _TOP:
        return _TOP_TYPE
    if fs & _NOTHING or (fo & _NOTHING and fp & _NOTHING_PREDICATE):
        return _NOTHING_DROP
    if (fp & _TYPE and fo & _DATATYPE_CLASS) or fs & _XSD \
            or (fo & _XSD and fp & _XSD_TYPING_PREDICATE):
        return _DATATYPE
    if fs & _BUILTIN:
        return _BUILTIN_VOCABULARY
    return None


class OxigraphFlags(dict):
    """Term id → flags, for the fast engine's integer-encoded terms
    (`terms[i]` a pyoxigraph term); computed on first use."""

    def __init__(self, terms: list) -> None:
        super().__init__()
        self.terms = terms

    def __missing__(self, i: int) -> int:
        t = self.terms[i]
        tt = type(t)
        f = _LITERAL if tt is ox.Literal else _BLANK if tt is ox.BlankNode else iri_flags(t.value)
        self[i] = f
        return f

    def reason(self, s: int, p: int, o: int) -> str | None:
        return drop_reason(self[s], self[p], self[o], s == o)


class RdflibFlags(dict):
    """rdflib term → flags, for owlrl's closure; `error_nodes` are owlrl's
    error report nodes."""

    def __init__(self, error_nodes=()) -> None:
        super().__init__((n, _BLANK | _ERROR_REPORT) for n in error_nodes)
        from rdflib import BNode, Literal, URIRef

        self._kinds = (URIRef, BNode, Literal)

    def __missing__(self, t) -> int:
        URIRef, BNode, Literal = self._kinds
        f = (_LITERAL if isinstance(t, Literal) else _BLANK if isinstance(t, BNode)
             else iri_flags(str(t)) if isinstance(t, URIRef) else _BLANK)
        self[t] = f
        return f

    def reason(self, s, p, o) -> str | None:
        return drop_reason(self[s], self[p], self[o], s == o)


def filter_entailed(closure, asserted, ontology, extra=()):
    """owlrl's closure (an rdflib Graph, + extra triples) − asserted −
    ontology − noise → (entailed Graph, dropped counts, owlrl's messages)."""
    import itertools

    from rdflib import Graph, URIRef

    from server.reasoning.vocabulary import ERROR_MESSAGE, ERROR_TEXT

    err_nodes = set(closure.subjects(URIRef(RDF + "type"), URIRef(ERROR_MESSAGE)))
    errors = sorted(str(closure.value(n, URIRef(ERROR_TEXT)) or "") for n in err_nodes)
    flags = RdflibFlags(err_nodes)
    dropped = no_drops()
    entailed = Graph()
    add = entailed.add
    for t in itertools.chain(closure, extra):
        if t in asserted or t in ontology:
            continue
        why = flags.reason(*t)
        if why is None:
            add(t)
        else:
            dropped[why] += 1
    return entailed, dropped, errors
