"""The fast OWL 2 RL engine: owlrl's closure, computed the cheap way.

owlrl closes the schema (the T-box: RDFS/OWL axioms, declarations, RDF
lists; small, and cached per process); the instance rules read off that
closed schema then run as a semi-naive fixpoint over integer-encoded
triples. Constructs it does not implement raise `Unsupported` (infer falls
back to owlrl). How, which rules, and what is proved about it:
docs/reasoning.md.

`materialise()` is the one-shot entry point; `Closure` keeps the index so
that `Closure.add()` can assert more data and continue the fixpoint.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import re
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import NamedTuple

import pyoxigraph as ox

from server.namespaces import OWL, RDF, RDFS, XSD
from server.reasoning import lists
from server.reasoning.inconsistency import Inconsistency, TermNames, from_owlrl, unique
from server.reasoning.noise import OxigraphFlags, drop_reason, no_drops
from server.reasoning.result import InferResult
from server.reasoning.vocabulary import (
    ANNOTATION_PROPERTIES,
    ERROR_MESSAGE,
    ERROR_TEXT,
    INSTANCE_PREDICATES,
    INSTANCE_TYPES,
    LIST_PREDICATES,
)

_UNSUPPORTED_PREDICATES = {
    OWL + "maxCardinality": "owl:maxCardinality (cls-maxc)",
    OWL + "maxQualifiedCardinality": "owl:maxQualifiedCardinality (cls-maxqc)",
    OWL + "hasKey": "owl:hasKey (prp-key)",
    OWL + "complementOf": "owl:complementOf (cls-com)",
    OWL + "sourceIndividual": "negative property assertions (prp-npa)",
}
_UNSUPPORTED_TYPES = {
    OWL + "AllDifferent": "owl:AllDifferent (eq-diff2/3)",
    OWL + "AllDisjointProperties": "owl:AllDisjointProperties (prp-adp)",
}


class Unsupported(Exception):
    """The schema uses an OWL 2 RL construct this module does not implement."""


# --- terms ---------------------------------------------------------------------------


# Lexical forms that rdflib's normal form leaves as they are, for the
# datatypes big graphs are full of: numbering them by value needs no
# round trip through rdflib (a third of the encoding time at 1M triples).
# tests/test_reasoning_literals.py checks each against rdflib.
_CANONICAL = {
    XSD + "integer": re.compile(r"(0|-?[1-9][0-9]*)\Z"),
    XSD + "decimal": re.compile(r"(-?(0|[1-9][0-9]*)\.[0-9]+|0|-?[1-9][0-9]*)\Z"),
    XSD + "gYear": re.compile(r"[1-9][0-9]{3}\Z"),
}


class _Terms:
    """pyoxigraph term ⇄ integer. Literals are numbered by value, as owlrl
    identifies them: rdflib's normal form for the datatypes rdflib
    normalises ("01"^^xsd:integer is "1"), the literal itself for any other;
    a value is written as its first spelling met."""

    def __init__(self) -> None:
        from rdflib.term import XSDToPython

        from server.terms import RdflibTerms

        self.ids: dict = {}          # term as written → id
        self.terms: list = []        # id → term (a literal's first spelling)
        self.by_value: dict = {}     # (rdflib's normal form, datatype) → id
        self.rdflib = RdflibTerms().term
        self.normalising = {str(dt) for dt in XSDToPython if dt is not None} - {XSD + "string"}

    def id(self, term) -> int:
        i = self.ids.get(term)
        if i is None:
            i = self._new(term)
        return i

    def _new(self, term) -> int:
        i = len(self.terms)
        if type(term) is ox.Literal and not term.language:
            datatype = term.datatype.value
            if datatype in self.normalising:
                lexical = term.value
                canonical = _CANONICAL.get(datatype)
                if canonical is None or not canonical.match(lexical):
                    lexical = str(self.rdflib(term))
                i = self.by_value.setdefault((lexical, datatype), i)
        if i == len(self.terms):
            self.terms.append(term)
        self.ids[term] = i
        return i

    def iri(self, value: str) -> int:
        return self.id(ox.NamedNode(value))

    def encode(self, triples: Iterable) -> list[tuple[int, int, int]]:
        ids, terms, new = self.ids, self.terms, self._new
        get = ids.get
        Literal = ox.Literal
        out: list[tuple[int, int, int]] = []
        append = out.append
        for t in triples:
            s, p, o = t.subject, t.predicate, t.object
            a = get(s)
            if a is None:
                a = ids[s] = len(terms)
                terms.append(s)
            b = get(p)
            if b is None:
                b = ids[p] = len(terms)
                terms.append(p)
            c = get(o)
            if c is None:
                if type(o) is Literal:          # by value
                    c = new(o)
                else:
                    c = ids[o] = len(terms)
                    terms.append(o)
            append((a, b, c))
        return out

    def normalised(self, i: int) -> str:
        """A literal's lexical form as owlrl sees it (rdflib's normal form)."""
        return str(self.rdflib(self.terms[i]))


# --- the schema: which triples, and owlrl over them -------------------------------


class _Predicate(enum.IntEnum):
    """How a predicate places its triples: schema (owlrl closes it) or instances."""
    INSTANCE = 0       # data: the fixpoint's rules read it
    SCHEMA = 1         # an RDFS/OWL axiom or an RDF list triple
    TYPE = 2           # rdf:type: schema when the class is RDF/RDFS/OWL vocabulary


_INSTANCE, _SCHEMA, _TYPE = (int(k) for k in _Predicate)   # plain ints for the cache


def _predicate_kind(term) -> int:
    v = term.value if type(term) is ox.NamedNode else ""
    if v == RDF + "type":
        return _TYPE
    if v in LIST_PREDICATES or (v.startswith((RDFS, OWL)) and v not in INSTANCE_PREDICATES
                                and v not in ANNOTATION_PROPERTIES):
        return _SCHEMA
    return _INSTANCE


def _is_schema(terms: _Terms, triple: tuple[int, int, int], pred_cache: dict) -> bool:
    s, p, o = triple
    kind = pred_cache.get(p)
    if kind is None:
        kind = pred_cache[p] = _predicate_kind(terms.terms[p])
    if kind == _TYPE:
        if type(terms.terms[s]) is ox.Literal:
            return False
        t = terms.terms[o]
        return (type(t) is ox.NamedNode and t.value.startswith((RDF, RDFS, OWL))
                and t.value not in INSTANCE_TYPES)
    return kind == _SCHEMA


_tbox_cache: dict = {}


def _close_schema(schema: list) -> tuple[list, list[Inconsistency], float]:
    """owlrl's closure of the schema triples (pyoxigraph term tuples, in
    input order): (closure as term tuples, what owlrl found inconsistent,
    seconds). Cached."""
    key = tuple(schema)
    hit = _tbox_cache.get(key)
    if hit is not None:
        return hit[0], hit[1], 0.0
    from rdflib import Graph

    from server.reasoning.owlrl_engine import expand
    from server.terms import RdflibTerms

    t0 = time.perf_counter()
    g = Graph()
    conv = RdflibTerms()
    for s, p, o in schema:
        g.add((conv.term(s), conv.term(p), conv.term(o)))
    # back to the very pyoxigraph terms (rdflib may normalise a literal's form)
    back = {r: t for t, r in conv.cache.items()}
    expand(g)
    from rdflib import URIRef

    err_type = URIRef(ERROR_MESSAGE)
    err_nodes = set(g.subjects(URIRef(RDF + "type"), err_type))
    errors = from_owlrl(sorted(str(g.value(n, URIRef(ERROR_TEXT)) or "") for n in err_nodes), g)
    closed = []
    for s, p, o in g:
        if s in err_nodes:
            continue
        closed.append((_back(back, s), _back(back, p), _back(back, o)))
    seconds = time.perf_counter() - t0
    if len(_tbox_cache) > 8:
        _tbox_cache.clear()
    _tbox_cache[key] = (closed, errors)
    return closed, errors, seconds


def _back(back: dict, term):
    from server.terms import to_oxigraph_term

    t = back.get(term)
    return t if t is not None else to_oxigraph_term(term)


def _refuse_unsupported(terms: _Terms, schema: Iterable[tuple[int, int, int]]) -> None:
    """Raise Unsupported for a construct this engine does not implement
    (checked on the input schema before owlrl closes it, and on the closure)."""
    unsupported_p = {terms.iri(k): why for k, why in _UNSUPPORTED_PREDICATES.items()}
    unsupported_t = {terms.iri(k): why for k, why in _UNSUPPORTED_TYPES.items()}
    type_id = terms.iri(RDF + "type")
    missing = {unsupported_p[p] if p in unsupported_p else unsupported_t[o]
               for s, p, o in schema
               if p in unsupported_p or (p == type_id and o in unsupported_t)}
    if missing:
        raise Unsupported("the schema uses " + ", ".join(sorted(missing))
                          + ", which the fast OWL RL path does not implement")


def _check_list_loops(terms: _Terms, schema: Iterable[tuple[int, int, int]]) -> None:
    """A list that loops stops the build (owlrl would raise in the middle)."""
    name = TermNames()
    lists.refuse_loops(schema, {terms.iri(p) for p in lists.HEAD_PREDICATES},
                       terms.iri(RDF + "rest"),
                       lambda s, p: f"{name(terms.terms[s])} {name(terms.terms[p])}")


# --- the rules, read off the closed schema ------------------------------------------


class PropertyRules(NamedTuple):
    """What a triple with this predicate triggers (the fixpoint unpacks it
    in this field order: the fastest access in its inner loop)."""
    sup: tuple = ()          # prp-spo1, prp-eqp: superproperties
    dom: tuple = ()          # prp-dom: classes
    rng: tuple = ()          # prp-rng: classes
    inv: tuple = ()          # prp-inv1/2: inverse properties
    sym: bool = False        # prp-symp
    trans: bool = False      # prp-trp
    chains: tuple = ()       # prp-spo2: (chain, position of this property, super)
    fp: bool = False         # prp-fp
    ifp: bool = False        # prp-ifp
    svf: tuple = ()          # cls-svf1/2: (restriction, class)
    avf: tuple = ()          # cls-avf: (restriction, class)
    hv: dict = {}            # cls-hv2: value → restrictions


class ClassRules(NamedTuple):
    """What `x rdf:type C` triggers for this C (unpacked in field order)."""
    svf: tuple = ()          # cls-svf1 backwards: (property, restriction)
    avf: tuple = ()          # cls-avf: (property, class)
    hv: tuple = ()           # cls-hv1: (property, value)
    int1: tuple = ()         # cls-int1: (intersection, its members)
    int2: tuple = ()         # cls-int2: members of C = intersectionOf(…)
    uni: tuple = ()          # cls-uni: unions C is a member of


class _Vocabulary:
    """The ids of the built-in terms the rules use."""

    def __init__(self, terms: _Terms) -> None:
        V = terms.iri
        self.TYPE, self.SAMEAS = V(RDF + "type"), V(OWL + "sameAs")
        self.DIFFERENT = V(OWL + "differentFrom")
        self.THING, self.NOTHING = V(OWL + "Thing"), V(OWL + "Nothing")
        self.FIRST, self.REST = V(RDF + "first"), V(RDF + "rest")
        self.SUBCLASS, self.SUBPROP = V(RDFS + "subClassOf"), V(RDFS + "subPropertyOf")
        self.EQCLASS, self.EQPROP = V(OWL + "equivalentClass"), V(OWL + "equivalentProperty")
        self.DOMAIN, self.RANGE = V(RDFS + "domain"), V(RDFS + "range")
        self.INVERSE, self.CHAIN = V(OWL + "inverseOf"), V(OWL + "propertyChainAxiom")
        self.ONPROP = V(OWL + "onProperty")
        self.SVF, self.AVF = V(OWL + "someValuesFrom"), V(OWL + "allValuesFrom")
        self.HV = V(OWL + "hasValue")
        self.INTER, self.UNION, self.ONEOF = (V(OWL + "intersectionOf"), V(OWL + "unionOf"),
                                              V(OWL + "oneOf"))
        self.DISJOINT = V(OWL + "disjointWith")
        self.PDISJOINT = V(OWL + "propertyDisjointWith")
        self.MEMBERS, self.ADC = V(OWL + "members"), V(OWL + "AllDisjointClasses")
        self.TRANSITIVE = V(OWL + "TransitiveProperty")
        self.SYMMETRIC = V(OWL + "SymmetricProperty")
        self.FUNCTIONAL = V(OWL + "FunctionalProperty")
        self.INVERSE_FUNCTIONAL = V(OWL + "InverseFunctionalProperty")
        self.ASYMMETRIC = V(OWL + "AsymmetricProperty")
        self.IRREFLEXIVE = V(OWL + "IrreflexiveProperty")


@dataclass
class RulePlan:
    """The instance rules of one closed schema, by trigger."""
    vocab: _Vocabulary
    by_predicate: dict[int, PropertyRules]
    by_class: dict[int, ClassRules]
    superclasses: dict[int, tuple]      # cax-sco, cax-eqc1/2
    seeds: list                         # cls-oo: (member, rdf:type, class)
    by_object: set                      # predicates a rule looks up by object
    # consistency checks
    disjoint: list                      # cax-dw: (class, class)
    all_disjoint: list                  # cax-adc: member classes
    property_disjoint: list             # prp-pdw: (property, property)
    asymmetric: list                    # prp-asyp
    irreflexive: list                   # prp-irp


def plan_rules(terms: _Terms, tbox: list[tuple[int, int, int]]) -> RulePlan:
    """Read the instance rules off the closed schema (integer triples)."""
    v = _Vocabulary(terms)
    _refuse_unsupported(terms, tbox)
    by_pred: dict[int, list[tuple[int, int]]] = {}
    for s, p, o in tbox:
        by_pred.setdefault(p, []).append((s, o))
    # tbox is in input order: the first-asserted rdf:first/rest win, as in owlrl
    first = lists.first_asserted(by_pred.get(v.FIRST, ()))
    rest = lists.first_asserted(by_pred.get(v.REST, ()))

    def items(head: int) -> list[int]:
        return lists.read(head, first, rest, lambda: TermNames()(terms.terms[head]))

    def pairs(pred: int):
        return by_pred.get(pred, ())

    # class hierarchy (closed by owlrl's scm-* rules; equivalences folded in)
    sup_classes: dict[int, set] = {}
    for c, d in pairs(v.SUBCLASS):
        if c != d:
            sup_classes.setdefault(c, set()).add(d)
    for c, d in pairs(v.EQCLASS):
        if c != d:
            sup_classes.setdefault(c, set()).add(d)
            sup_classes.setdefault(d, set()).add(c)

    prop: dict[int, dict[str, list]] = {}
    characteristics: dict[int, set[str]] = {}    # sym, trans, fp, ifp

    def put(p: int, field: str, value) -> None:
        prop.setdefault(p, {}).setdefault(field, []).append(value)

    def flag(p: int, field: str) -> None:
        prop.setdefault(p, {})       # a property with only a characteristic has rules too
        characteristics.setdefault(p, set()).add(field)

    for p, q in pairs(v.SUBPROP):
        if p != q:
            put(p, "sup", q)
    for p, q in pairs(v.EQPROP):
        if p != q:
            put(p, "sup", q)
            put(q, "sup", p)
    for p, c in pairs(v.DOMAIN):
        put(p, "dom", c)
    for p, c in pairs(v.RANGE):
        put(p, "rng", c)
    for p, q in pairs(v.INVERSE):
        put(p, "inv", q)
        put(q, "inv", p)
    asymmetric, irreflexive = [], []
    characteristic = {v.TRANSITIVE: "trans", v.SYMMETRIC: "sym", v.FUNCTIONAL: "fp",
                      v.INVERSE_FUNCTIONAL: "ifp"}
    for x, t in pairs(v.TYPE):
        if t in characteristic:
            flag(x, characteristic[t])
        elif t == v.ASYMMETRIC:
            asymmetric.append(x)
        elif t == v.IRREFLEXIVE:
            irreflexive.append(x)
    chains = []
    for q, head in pairs(v.CHAIN):
        chain = tuple(items(head))
        if chain:
            chains.append(chain)
            for i, p in enumerate(chain):
                put(p, "chains", (chain, i, q))

    # class expressions
    onprop: dict[int, list[int]] = {}
    for r, p in pairs(v.ONPROP):
        onprop.setdefault(r, []).append(p)
    cls: dict[int, dict[str, list]] = {}

    def cput(c: int, field: str, value) -> None:
        cls.setdefault(c, {}).setdefault(field, []).append(value)

    for r, y in pairs(v.SVF):
        for p in onprop.get(r, ()):
            put(p, "svf", (r, y))
            if y != v.THING:
                cput(y, "svf", (p, r))     # v becomes a y: its p-subjects become r
    for r, y in pairs(v.AVF):
        for p in onprop.get(r, ()):
            put(p, "avf", (r, y))
            cput(r, "avf", (p, y))
    for r, y in pairs(v.HV):
        for p in onprop.get(r, ()):
            put(p, "hv", (y, r))
            cput(r, "hv", (p, y))
    for c, head in pairs(v.INTER):
        members = tuple(items(head))
        if members:
            for m in members:
                cput(m, "int1", (c, members))
            for m in members:
                cput(c, "int2", m)
    for c, head in pairs(v.UNION):
        for m in items(head):
            cput(m, "uni", c)
    seeds = [(y, v.TYPE, c) for c, head in pairs(v.ONEOF) for y in items(head)]

    def frozen(e: dict, field: str) -> tuple:
        return tuple(dict.fromkeys(e.get(field, ())))

    def has(p: int, characteristic: str) -> bool:
        return characteristic in characteristics.get(p, ())

    by_predicate = {
        p: PropertyRules(sup=frozen(e, "sup"), dom=frozen(e, "dom"), rng=frozen(e, "rng"),
                         inv=frozen(e, "inv"), sym=has(p, "sym"),
                         trans=has(p, "trans"), chains=tuple(e.get("chains", ())),
                         fp=has(p, "fp"), ifp=has(p, "ifp"),
                         svf=tuple(e.get("svf", ())), avf=tuple(e.get("avf", ())),
                         hv=_group(e.get("hv", ())))
        for p, e in prop.items()}
    by_class = {c: ClassRules(**{k: tuple(vals) for k, vals in d.items()})
                for c, d in cls.items()}

    by_object = {p for p, r in by_predicate.items() if r.trans or r.ifp}
    for chain in chains:
        by_object.update(chain[:-1])
    for r in by_class.values():
        by_object.update(p for p, _r in r.svf)

    all_disjoint = [tuple(items(head)) for x, t in pairs(v.TYPE) if t == v.ADC
                    for a, head in pairs(v.MEMBERS) if a == x]
    return RulePlan(vocab=v, by_predicate=by_predicate, by_class=by_class,
                    superclasses={c: tuple(ds) for c, ds in sup_classes.items()},
                    seeds=seeds, by_object=by_object, disjoint=list(pairs(v.DISJOINT)),
                    all_disjoint=all_disjoint, property_disjoint=list(pairs(v.PDISJOINT)),
                    asymmetric=asymmetric, irreflexive=irreflexive)


def _group(pairs) -> dict:
    out: dict = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return {k: tuple(v) for k, v in out.items()}


# --- the fixpoint -----------------------------------------------------------------------


class _Index:
    """The closure being computed: predicate → subject → objects, and
    predicate → object → subjects for the predicates that need it."""

    def __init__(self, by_object: set) -> None:
        self.spo: dict[int, dict[int, set]] = {}
        self.pos: dict[int, dict[int, set]] = {p: {} for p in by_object}
        self.queue: list[tuple[int, int, int]] = []
        self.eq = False      # owl:sameAs seen: index everything by object too

    def add(self, s: int, p: int, o: int) -> bool:
        d = self.spo.get(p)
        if d is None:
            d = self.spo[p] = {}
        objs = d.get(s)
        if objs is None:
            d[s] = {o}
        elif o in objs:
            return False
        else:
            objs.add(o)
        r = self.pos.get(p)
        if r is not None:
            subs = r.get(o)
            if subs is None:
                r[o] = {s}
            else:
                subs.add(s)
        elif self.eq:
            self.pos[p] = {o: {s}}
        self.queue.append((s, p, o))
        return True

    def switch_eq_on(self) -> None:
        if self.eq:
            return
        self.eq = True
        for p, d in self.spo.items():
            if p in self.pos:
                continue
            r: dict[int, set] = {}
            for s, objs in d.items():
                for o in objs:
                    subs = r.get(o)
                    if subs is None:
                        r[o] = {s}
                    else:
                        subs.add(s)
            self.pos[p] = r

    def has(self, s: int, p: int, o: int) -> bool:
        d = self.spo.get(p)
        if d is None:
            return False
        objs = d.get(s)
        return objs is not None and o in objs

    def __len__(self) -> int:
        return sum(len(objs) for d in self.spo.values() for objs in d.values())


# _run unpacks the plans by position, in these orders (the fastest access in
# its inner loop): reordering a NamedTuple's fields must reorder the unpacking.
assert PropertyRules._fields == ("sup", "dom", "rng", "inv", "sym", "trans", "chains", "fp",
                                 "ifp", "svf", "avf", "hv")
assert ClassRules._fields == ("svf", "avf", "hv", "int1", "int2", "uni")


def _run(index: _Index, rules: RulePlan, start: int) -> int:
    """Process the queue from `start` to the fixpoint; return its length."""
    spo, pos, queue = index.spo, index.pos, index.queue
    add = index.add
    TYPE, SAMEAS, THING = rules.vocab.TYPE, rules.vocab.SAMEAS, rules.vocab.THING
    plan, csup, ctrig = rules.by_predicate, rules.superclasses, rules.by_class
    empty: tuple = ()
    out: list = []
    emit = out.append
    i = start
    while i < len(queue):
        s, p, o = queue[i]
        i += 1
        if p == TYPE:
            sup = csup.get(o)
            if sup:
                for d in sup:
                    emit((s, TYPE, d))
            ct = ctrig.get(o)
            if ct:
                svf, avf, hv, int1, int2, uni = ct
                for q, r in svf:          # cls-svf1: u q s, s a o → u a r
                    for u in pos[q].get(s, empty):
                        emit((u, TYPE, r))
                for q, y in avf:          # cls-avf: s a r, s q v → v a y
                    for v in spo.get(q, {}).get(s, empty):
                        emit((v, TYPE, y))
                for q, y in hv:           # cls-hv1
                    emit((s, q, y))
                if int1:                  # cls-int1
                    types = spo[TYPE].get(s, empty)
                    for c, members in int1:
                        if all(m in types for m in members):
                            emit((s, TYPE, c))
                for m in int2:            # cls-int2
                    emit((s, TYPE, m))
                for c in uni:             # cls-uni
                    emit((s, TYPE, c))
        pl = plan.get(p)
        if pl is not None:
            sup, dom, rng, inv, sym, trans, chains, fp, ifp, svf, avf, hv_by_value = pl
            for q in sup:
                emit((s, q, o))
            for c in dom:
                emit((s, TYPE, c))
            for c in rng:
                emit((o, TYPE, c))
            for q in inv:
                emit((o, q, s))
            if sym:
                emit((o, p, s))
            if trans:
                for z in spo[p].get(o, empty):
                    emit((s, p, z))
                for w in pos[p].get(s, empty):
                    emit((w, p, o))
            for chain, k, q in chains:
                left: Collection[int] = (s,)
                for j in range(k - 1, -1, -1):
                    r = pos[chain[j]]
                    nxt: set = set()
                    for v in left:
                        nxt.update(r.get(v, empty))
                    left = nxt
                    if not left:
                        break
                if not left:
                    continue
                right: Collection[int] = (o,)
                for j in range(k + 1, len(chain)):
                    d = spo.get(chain[j], {})
                    nxt = set()
                    for v in right:
                        nxt.update(d.get(v, empty))
                    right = nxt
                    if not right:
                        break
                for u in left:
                    for w in right:
                        emit((u, q, w))
            if fp:
                for y2 in spo[p].get(s, empty):
                    if y2 != o:
                        emit((o, SAMEAS, y2))
            if ifp:
                for x2 in pos[p].get(o, empty):
                    if x2 != s:
                        emit((s, SAMEAS, x2))
            for r, y in svf:              # cls-svf1/2
                if y == THING or y in spo.get(TYPE, {}).get(o, empty):
                    emit((s, TYPE, r))
            if avf:
                types = spo.get(TYPE, {}).get(s, empty)
                for r, y in avf:          # cls-avf
                    if r in types:
                        emit((o, TYPE, y))
            if hv_by_value:
                for r in hv_by_value.get(o, empty):  # cls-hv2
                    emit((s, TYPE, r))
        if p == SAMEAS and s != o:
            if not index.eq:
                index.switch_eq_on()
                pos = index.pos
            emit((o, SAMEAS, s))                                  # eq-sym
            for z in spo[SAMEAS].get(o, empty):                   # eq-trans
                if z != s:
                    emit((s, SAMEAS, z))
            for w in pos[SAMEAS].get(s, empty):
                if w != o:
                    emit((w, SAMEAS, o))
            for q, d in spo.items():                              # eq-rep-s
                for z in d.get(s, empty):
                    emit((o, q, z))
            for q, r in pos.items():                              # eq-rep-o
                for w in r.get(s, empty):
                    emit((w, q, o))
            for w, zs in spo.get(s, {}).items():                  # eq-rep-p
                for z in zs:
                    emit((w, o, z))
        if index.eq:
            same = spo[SAMEAS]
            for s2 in same.get(s, empty):
                emit((s2, p, o))
            for o2 in same.get(o, empty):
                emit((s, p, o2))
            for p2 in same.get(p, empty):
                emit((s, p2, o))
        if out:
            for t in out:
                a, b, c = t
                if b == SAMEAS and a == c:
                    continue              # eq-ref: never stored (noise, and inert)
                add(a, b, c)
            out.clear()
    return len(queue)


# --- datatypes, as owlrl's one-time rules do them ----------------------------------------


def _datatype_rules(terms: _Terms, triples: list, type_id: int):
    """owlrl's one-time datatype rules over the input: dt-type2 with owlrl's
    datatype subsumptions, dt-not-type, and the disjointness axioms of the
    datatypes in use (including the wider ones a literal belongs to).
    Returns (triples to add, axioms as term tuples, inconsistencies)."""
    from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
    from owlrl.DatatypeHandling import AltXSDToPYTHON
    from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes

    rl = {str(d) for d in OWL_RL_Datatypes}
    plain = {XSD + "string", RDF + "langString"}    # rdflib gives these no datatype
    wider = {str(k): [str(v) for v in vs] for k, vs in OWL_Datatype_Subsumptions.items()}
    convert = {str(k): v for k, v in AltXSDToPYTHON.items()}
    same_as = terms.iri(OWL + "sameAs")
    term_of = terms.terms
    add, errors = [], []
    # implicit: literal → its datatype; explicit: node → datatypes (as owlrl names them)
    implicit: dict[int, str] = {}
    explicit: dict[int, set] = {}
    same: list[tuple[int, int]] = []
    for s, p, o in triples:                 # one pass: the input may be a million triples
        if p == same_as:
            same.append((s, o))
        t = term_of[o]
        tt = type(t)
        if tt is ox.Literal:
            if o not in implicit and not t.language:
                dt = t.datatype.value
                if dt in rl and dt not in plain:
                    implicit[o] = dt
        elif p == type_id and tt is ox.NamedNode and t.value in rl:
            explicit.setdefault(s, set()).add(t.value)
    used = set(implicit.values())
    for dts in explicit.values():
        used.update(dts)
    for lit, dt in implicit.items():
        add.append((lit, type_id, terms.iri(dt)))
        f = convert.get(dt)
        if f is not None:
            try:
                f(terms.normalised(lit))
            except Exception:  # noqa: BLE001 - as owlrl_engine.checked_datatypes
                errors.append(Inconsistency("dt-not-type", (term_of[lit], ox.NamedNode(dt))))
    for s, o in same:
        if o in implicit:
            explicit.setdefault(s, set()).add(implicit[o])
        if o in explicit:                   # sic: owlrl adds the node itself
            explicit.setdefault(s, set()).add(o)
        if s in explicit:
            explicit.setdefault(o, set()).add(s)
    for node, dts in list(explicit.items()) + [(lit, {dt}) for lit, dt in implicit.items()]:
        for dt in dts:
            for new in wider.get(dt, ()) if isinstance(dt, str) else ():
                add.append((node, type_id, terms.iri(new)))
                used.add(new)
    axioms = [(ox.NamedNode(str(a)), ox.NamedNode(str(b)), ox.NamedNode(str(c)))
              for a, b, c in OWLRL_Datatypes_Disjointness
              if str(a) in used and str(c) in used]
    return add, axioms, errors


# --- consistency checks ------------------------------------------------------------------


def _check(index: _Index, rules: RulePlan, terms: _Terms) -> list[Inconsistency]:
    """The consistency rules over the closure, as owlrl words them."""
    spo = index.spo
    v = rules.vocab
    T = terms.terms.__getitem__
    found: list[Inconsistency] = []

    def report(rule: str, *ids: int) -> None:
        found.append(Inconsistency(rule, tuple(T(i) for i in ids)))

    types = spo.get(v.TYPE, {})
    for x, cs in types.items():
        if v.NOTHING in cs:
            report("cls-nothing2", x)
    if rules.disjoint:
        disjoint: dict[int, list[int]] = {}
        for a, b in rules.disjoint:
            disjoint.setdefault(a, []).append(b)
        for x, cs in types.items():
            for c1 in cs:
                for c2 in disjoint.get(c1, ()):
                    if c2 in cs:
                        report("cax-dw", c1, c2, x)
    for classes in rules.all_disjoint:
        for x, cs in types.items():
            for i in range(len(classes) - 1):
                if classes[i] in cs:
                    for c2 in classes[i + 1:]:
                        if c2 in cs:
                            report("cax-adc", classes[i], c2, x)
    for p1, p2 in rules.property_disjoint:
        for x, ys in spo.get(p1, {}).items():
            for y in ys:
                if index.has(x, p2, y):
                    report("prp-pdw", p1, p2, x, y)
    for p in rules.irreflexive:
        for x, ys in spo.get(p, {}).items():
            if x in ys:
                report("prp-irp", x, p)
    for p in rules.asymmetric:
        for x, ys in spo.get(p, {}).items():
            for y in ys:
                if index.has(y, p, x):
                    report("prp-asyp", p, x, y)
    same = spo.get(v.SAMEAS, {})
    for x, ys in spo.get(v.DIFFERENT, {}).items():
        for y in ys:
            if x == y:                          # x owl:sameAs x holds for every x (eq-ref)
                report("eq-diff1", x, x)
            elif y in same.get(x, ()):
                report("eq-diff1", x, y)
                report("eq-diff1", y, x)
    return found


@contextlib.contextmanager
def _no_gc():
    """Python's cyclic GC would walk the millions of sets and tuples of the
    index again and again while they are built (≈30% of the time at 1M
    triples); they hold no cycles, so it is paused meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- the whole thing -----------------------------------------------------------------------


def materialise(ontology: Iterable, data: Iterable, *, max_rounds: int = 10) -> InferResult:
    """The OWL 2 RL closure of ontology ∪ data (pyoxigraph triples), as
    owlrl computes it, minus the input and the noise: the entailed graph.
    Raises Unsupported for constructs the fast path does not implement."""
    return Closure(ontology, data, max_rounds=max_rounds, incremental=False).result()


class Closure:
    """The closure of ontology ∪ data, kept in memory so that it can grow.

    `add(triples)` asserts more data and continues the same fixpoint from
    where it stopped: the work is that of the new triples' consequences
    (semi-naive evaluation), not of the whole graph. When the new triples
    touch the schema (or bring a datatype not used before), the closure is
    recomputed from scratch instead; OWL RL is monotone, so additions never
    retract anything, but a removal needs a recomputation (`Closure(...)`
    again) — deletion-aware maintenance (DRed) is not implemented.
    """

    # the input triples, for add(); built on first use unless incremental
    input_set: set[tuple[int, int, int]] | None

    def __init__(self, ontology: Iterable, data: Iterable, *, max_rounds: int = 10,
                 incremental: bool = True) -> None:
        """incremental=False (what `materialise` uses) skips the set of input
        triples `add` needs; `add` then builds it on first use."""
        t0 = time.perf_counter()
        self.max_rounds = max_rounds
        self.terms = terms = _Terms()
        self.type_id = terms.iri(RDF + "type")
        self.pred_cache: dict = {}
        with _no_gc():
            triples = terms.encode(ontology)
            triples += terms.encode(data)
            self._compute(triples)
            if incremental:
                self.input_set = set(self.input)
        self.seconds = time.perf_counter() - t0

    def _compute(self, triples: list) -> None:
        terms = self.terms
        term_of = terms.terms
        self.input = triples
        dt_triples, dt_axioms, self.dt_errors = _datatype_rules(terms, triples, self.type_id)
        self.dt_axioms = set(dt_axioms)
        # in input order: owlrl reads the first-asserted rdf:first of a list node
        schema_ids = dict.fromkeys(t for t in triples if _is_schema(terms, t, self.pred_cache))
        self.tbox_seconds = 0.0
        for round_ in range(1, self.max_rounds + 1):  # noqa: B007 - read after the loop
            _refuse_unsupported(terms, schema_ids)
            _check_list_loops(terms, schema_ids)
            schema = [(term_of[s], term_of[p], term_of[o]) for s, p, o in schema_ids]
            closed, self.tbox_errors, secs = _close_schema(schema + dt_axioms)
            self.tbox_seconds += secs
            tbox = list(dict.fromkeys(list(schema_ids) + [
                (terms.id(s), terms.id(p), terms.id(o)) for s, p, o in closed]))
            rules = plan_rules(terms, tbox)
            index = _Index(rules.by_object)
            add = index.add
            for s, p, o in tbox:
                add(s, p, o)
            self.n_tbox = len(index.queue)
            self.input_in_tbox = {t for t in triples if not add(*t)}
            self.n_input = len(index.queue)
            for s, p, o in dt_triples:
                add(s, p, o)
            for s, p, o in rules.seeds:
                add(s, p, o)
            # the input (and the schema closure) go through the rules once, too
            _run(index, rules, 0)
            new_schema = [t for t in index.queue[self.n_input:]
                          if _is_schema(terms, t, self.pred_cache) and t not in schema_ids]
            if not new_schema:
                break
            schema_ids.update(dict.fromkeys(new_schema))
        else:  # pragma: no cover - pathological schemas
            raise Unsupported(f"the schema kept growing after {self.max_rounds} rounds")
        self.rules, self.index, self.rounds = rules, index, round_
        # queue positions of input triples asserted by add() after the first run,
        # and the triples entailed first and asserted later (by add())
        self.added_input: set[int] = set()
        self.asserted_later: list = []
        self.input_set = None

    def inconsistencies(self) -> list[Inconsistency]:
        """What the consistency rules found, each contradiction once."""
        found = _check(self.index, self.rules, self.terms) + self.dt_errors + self.tbox_errors
        return unique(found)

    def _entailed(self, start: int, dropped: dict) -> list:
        """Filtered closure − input from queue position `start` on."""
        term_of = self.terms.terms
        flags = OxigraphFlags(term_of)
        out: list[ox.Triple] = []
        append = out.append
        Triple = ox.Triple
        queue = self.index.queue
        n_tbox, n_input = self.n_tbox, self.n_input
        added, in_tbox = self.added_input, self.input_in_tbox
        for k in range(start, len(queue)):
            if n_tbox <= k < n_input or k in added:
                continue
            t = queue[k]
            if k < n_tbox and t in in_tbox:
                continue
            s, p, o = t
            why = drop_reason(flags[s], flags[p], flags[o], s == o)
            if why is None:
                append(Triple(term_of[s], term_of[p], term_of[o]))
            else:
                dropped[why] += 1
        return out

    def result(self) -> InferResult:
        with _no_gc():
            return self._result()

    def _result(self) -> InferResult:
        t1 = time.perf_counter()
        errors = self.inconsistencies()
        dropped = no_drops()
        entailed = self._entailed(0, dropped)
        if self.asserted_later:
            gone = {self._triple(t) for t in self.asserted_later}
            entailed = [t for t in entailed if t not in gone]
        stats = {"input": len(self.input), "rounds": self.rounds, "tbox": self.n_tbox,
                 "derived": len(self.index.queue) - self.n_input, "eq": self.index.eq}
        return InferResult(entailed=entailed, inconsistencies=errors, dropped=dropped,
                           closure_size=len(self.index.queue), seconds=self.seconds,
                           tbox_seconds=self.tbox_seconds,
                           filter_seconds=time.perf_counter() - t1, engine="fast",
                           stats=stats)

    def _triple(self, t):
        term_of = self.terms.terms
        return ox.Triple(term_of[t[0]], term_of[t[1]], term_of[t[2]])

    def add(self, data: Iterable) -> Delta:
        """Assert more data triples; return what that changed in the
        entailed graph (and whether it took a full recomputation)."""
        with _no_gc():
            return self._add(data)

    def _add(self, data: Iterable) -> Delta:
        t0 = time.perf_counter()
        new = list(dict.fromkeys(self.terms.encode(data)))
        index = self.index
        if self.input_set is None:
            self.input_set = set(self.input)
        new = [t for t in new if t not in self.input_set]
        fresh = [t for t in new if not index.has(*t)]
        # triples entailed before and asserted now leave the entailed graph
        noise = OxigraphFlags(self.terms.terms)
        now_asserted = [t for t in new if index.has(*t) and noise.reason(*t) is None]
        dt_triples, dt_axioms, dt_errors = _datatype_rules(self.terms, new, self.type_id)
        schema = any(_is_schema(self.terms, t, self.pred_cache) for t in new)
        if schema or not set(dt_axioms) <= self.dt_axioms:
            before = {self._triple(t) for t in self._all_entailed_ids()}
            self._compute(self.input + new)
            self.input_set = set(self.input)
            after = set(self.result().entailed)
            return Delta(added=sorted(after - before, key=str),
                         removed=sorted(before - after, key=str), recomputed=True,
                         seconds=time.perf_counter() - t0)
        self.input.extend(new)
        self.input_set.update(new)
        self.dt_errors = self.dt_errors + dt_errors
        start = len(index.queue)
        for t in fresh:
            if index.add(*t):
                self.added_input.add(len(index.queue) - 1)
        for t in dt_triples:
            index.add(*t)
        _run(index, self.rules, start)
        self.asserted_later = list(self.asserted_later) + now_asserted
        added = self._entailed(start, no_drops())
        removed = [self._triple(t) for t in now_asserted]
        return Delta(added=added, removed=removed, recomputed=False,
                     seconds=time.perf_counter() - t0)

    def _all_entailed_ids(self):
        queue = self.index.queue
        noise = OxigraphFlags(self.terms.terms)
        asserted_later = set(self.asserted_later)
        for k in range(len(queue)):
            if self.n_tbox <= k < self.n_input or k in self.added_input:
                continue
            t = queue[k]
            if k < self.n_tbox and t in self.input_in_tbox:
                continue
            if t in asserted_later or noise.reason(*t) is not None:
                continue
            yield t


@dataclass
class Delta:
    """What `Closure.add` changed in the entailed graph."""
    added: list
    removed: list
    recomputed: bool
    seconds: float
