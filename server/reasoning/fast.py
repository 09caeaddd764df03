"""Fast OWL 2 RL materialisation: owlrl's closure, computed the cheap way.

owlrl applies every rule to every triple of the graph in every cycle; its
time grows with the graph times the number of cycles (≈20–30 s at 10k
triples, ≈5 min at 100k, about an hour at 1M). This module computes the same closure in two
parts:

1. **The schema (T-box), with owlrl.** The schema triples — RDFS/OWL
   axioms (rdfs:subClassOf, rdfs:domain, owl:inverseOf,
   owl:propertyChainAxiom…), `x rdf:type owl:Class`-style declarations and
   RDF lists — are a small graph (≈1.3k triples for Köprü, from ontology
   and data alike). owlrl closes it in about half a second: that is every scm-*
   rule and everything else owlrl derives from the schema alone. The result
   is cached in the process (same schema → same closure).

2. **The instances (A-box), with a semi-naive fixpoint over integers.**
   Every term is numbered; triples are kept in a predicate → subject →
   objects index (and predicate → object → subjects for the predicates a
   rule walks backwards). The rules are read off the closed schema,
   generically (no Köprü name appears here):

   cax-sco, cax-eqc (superclasses, equivalences folded in by scm-eqc) ·
   prp-dom, prp-rng · prp-spo1, prp-eqp (superproperties) · prp-inv1/2 ·
   prp-symp · prp-trp · prp-spo2 (property chains of any length) ·
   prp-fp, prp-ifp · eq-sym, eq-trans, eq-rep-s/p/o (switched on when an
   owl:sameAs appears) · cls-int1/2, cls-uni, cls-svf1/2, cls-avf,
   cls-hv1/2, cls-oo · dt-type2 and datatype subsumption, as owlrl does
   them; and the consistency checks cax-dw, cax-adc, prp-pdw, prp-irp,
   prp-asyp, cls-nothing2, eq-diff1, dt-not-type, with owlrl's messages.

   Each new triple is run through the rules of its predicate (or of its
   class, for rdf:type) once, joined against the index — the fixpoint of the
   same rules owlrl iterates, without re-reading the whole graph per cycle.
   If the instances entail a new schema triple (a `x rdf:type owl:Class`
   through a range, say), the schema is closed again with it and the
   instances re-run: the same least fixpoint.

Constructs the fast path does not implement — owl:maxCardinality,
owl:maxQualifiedCardinality, owl:hasKey, owl:complementOf, negative
property assertions, owl:AllDifferent, owl:AllDisjointProperties — raise
`Unsupported`; `server.reasoning.infer` then falls back to owlrl.

Reflexive owl:sameAs (eq-ref) is never stored (nothing follows from it but
eq-diff1 on `x owl:differentFrom x`, checked directly); literal-subject
triples are kept inside, where a rule needs them, and never reach the
entailed graph, which is filtered by the same rules as
`server.reasoning.infer.filter_entailed` filters owlrl's (the `dropped` counts are
smaller: less noise is made). tests/test_reasoning.py checks the result
equals owlrl's on the shipped graph and on a 10k-triple synthetic one;
docs/scale.md has the figures.

`materialise()` is the one-shot entry point; `Closure` keeps the index so
that `Closure.add()` can assert more data and continue the fixpoint
(incremental for additions; removals need a recomputation).
"""

from __future__ import annotations

import contextlib
import gc
import time
from dataclasses import dataclass, field
from typing import Iterable

import pyoxigraph as ox

from server.namespaces import OWL, RDF, RDFS, XSD

_ERR_NS = "http://www.daml.org/2002/03/agents/agent-ont#"
_BUILTIN_NS = (RDF, RDFS, OWL, XSD)

# Predicates of schema triples besides rdfs:*/owl:* (rdf lists).
_LIST_PREDICATES = {RDF + "first", RDF + "rest"}
# OWL/RDFS predicates that are instance-level, not schema.
_INSTANCE_PREDICATES = {OWL + "sameAs", OWL + "differentFrom", RDF + "type"}
_ANNOTATIONS = {RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy",
                OWL + "versionInfo", OWL + "priorVersion", OWL + "backwardCompatibleWith",
                OWL + "incompatibleWith", OWL + "deprecated", OWL + "versionIRI"}
# rdf:type objects in the builtin namespaces that type individuals (or
# literals, by a range or dt-type2), not schema.
_INSTANCE_TYPES = {OWL + "Thing", OWL + "Nothing", OWL + "NamedIndividual",
                   RDFS + "Resource", RDFS + "Literal", RDF + "langString",
                   RDF + "PlainLiteral", RDF + "XMLLiteral", RDF + "HTML", RDF + "JSON",
                   RDF + "dirLangString"}

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

DROP_REASONS = ("literal-subject", "bad-predicate", "reflexive", "top-type", "nothing",
                "datatype", "builtin-vocabulary", "inconsistency")


class Unsupported(Exception):
    """The schema uses an OWL 2 RL construct this module does not implement."""


@dataclass
class ReasonResult:
    entailed: list                  # pyoxigraph Triples, filtered
    inconsistencies: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    closure_size: int = 0           # schema closure + instances + derived (generalized)
    seconds: float = 0.0            # the whole closure
    tbox_seconds: float = 0.0       # owlrl over the schema (0 when cached)
    filter_seconds: float = 0.0     # noise filter and pyoxigraph terms
    stats: dict = field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


# --- terms ---------------------------------------------------------------------------

_IRI, _BNODE, _LITERAL = 0, 1, 2


class _Terms:
    """pyoxigraph term ⇄ integer."""

    def __init__(self) -> None:
        self.ids: dict = {}
        self.terms: list = []

    def id(self, term) -> int:
        i = self.ids.get(term)
        if i is None:
            i = self.ids[term] = len(self.terms)
            self.terms.append(term)
        return i

    def iri(self, value: str) -> int:
        return self.id(ox.NamedNode(value))

    def encode(self, triples: Iterable) -> list[tuple[int, int, int]]:
        ids, terms = self.ids, self.terms
        get = ids.get
        out = []
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
                c = ids[o] = len(terms)
                terms.append(o)
            append((a, b, c))
        return out

    def kind(self, i: int) -> int:
        t = self.terms[i]
        tt = type(t)
        return _IRI if tt is ox.NamedNode else _BNODE if tt is ox.BlankNode else _LITERAL

    def text(self, i: int) -> str:
        """What owlrl's messages print for a term (rdflib's str())."""
        return self.terms[i].value


# --- the schema: which triples, and owlrl over them -------------------------------


def _is_schema(terms: _Terms, triple: tuple[int, int, int], pred_cache: dict) -> bool:
    s, p, o = triple
    kind = pred_cache.get(p)
    if kind is None:
        term = terms.terms[p]
        v = term.value if type(term) is ox.NamedNode else ""
        if v == RDF + "type":
            kind = 2
        elif v in _LIST_PREDICATES:
            kind = 1
        elif v.startswith((RDFS, OWL)) and v not in _INSTANCE_PREDICATES \
                and v not in _ANNOTATIONS:
            kind = 1
        else:
            kind = 0
        pred_cache[p] = kind
    if kind == 2:
        if type(terms.terms[s]) is ox.Literal:
            return False
        t = terms.terms[o]
        return (type(t) is ox.NamedNode and t.value.startswith((RDF, RDFS, OWL))
                and t.value not in _INSTANCE_TYPES)
    return kind == 1


_tbox_cache: dict = {}


def _close_schema(schema: list) -> tuple[list, list[str], float]:
    """owlrl's closure of the schema triples (pyoxigraph term tuples):
    (closure as term tuples, owlrl's error messages, seconds). Cached."""
    key = frozenset(schema)
    hit = _tbox_cache.get(key)
    if hit is not None:
        return hit[0], hit[1], 0.0
    import owlrl
    from rdflib import Graph

    from server.terms import RdflibTerms

    t0 = time.perf_counter()
    g = Graph()
    conv = RdflibTerms()
    for s, p, o in schema:
        g.add((conv.term(s), conv.term(p), conv.term(o)))
    # back to the very pyoxigraph terms (rdflib may normalise a literal's form)
    back = {r: t for t, r in conv.cache.items()}
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(g)
    from rdflib import URIRef

    err_type = URIRef(_ERR_NS + "ErrorMessage")
    err_nodes = set(g.subjects(URIRef(RDF + "type"), err_type))
    errors = sorted(str(g.value(n, URIRef(_ERR_NS + "error")) or "") for n in err_nodes)
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


# --- the rules, read off the closed schema ------------------------------------------


class _Rules:
    def __init__(self, terms: _Terms, tbox: list[tuple[int, int, int]]) -> None:
        V = terms.iri
        self.TYPE = TYPE = V(RDF + "type")
        self.SAMEAS = V(OWL + "sameAs")
        self.DIFFERENT = V(OWL + "differentFrom")
        self.THING = V(OWL + "Thing")
        self.NOTHING = V(OWL + "Nothing")
        FIRST, REST, NIL = V(RDF + "first"), V(RDF + "rest"), V(RDF + "nil")
        SUBCLASS, SUBPROP = V(RDFS + "subClassOf"), V(RDFS + "subPropertyOf")
        EQCLASS, EQPROP = V(OWL + "equivalentClass"), V(OWL + "equivalentProperty")
        DOMAIN, RANGE = V(RDFS + "domain"), V(RDFS + "range")
        INVERSE = V(OWL + "inverseOf")
        CHAIN = V(OWL + "propertyChainAxiom")
        ONPROP = V(OWL + "onProperty")
        SVF, AVF, HV = V(OWL + "someValuesFrom"), V(OWL + "allValuesFrom"), V(OWL + "hasValue")
        INTER, UNION, ONEOF = V(OWL + "intersectionOf"), V(OWL + "unionOf"), V(OWL + "oneOf")
        DISJOINT, PDISJOINT = V(OWL + "disjointWith"), V(OWL + "propertyDisjointWith")
        MEMBERS = V(OWL + "members")
        ptype = {V(OWL + n): n for n in ("TransitiveProperty", "SymmetricProperty",
                                          "FunctionalProperty", "InverseFunctionalProperty",
                                          "AsymmetricProperty", "IrreflexiveProperty")}
        ADC = V(OWL + "AllDisjointClasses")
        unsupported_p = {V(k): v for k, v in _UNSUPPORTED_PREDICATES.items()}
        unsupported_t = {V(k): v for k, v in _UNSUPPORTED_TYPES.items()}

        by_pred: dict[int, list[tuple[int, int]]] = {}
        first: dict[int, int] = {}
        rest: dict[int, int] = {}
        missing = set()
        for s, p, o in tbox:
            if p in unsupported_p:
                missing.add(unsupported_p[p])
            elif p == TYPE and o in unsupported_t:
                missing.add(unsupported_t[o])
            elif p == FIRST:
                first[s] = o
            elif p == REST:
                rest[s] = o
            by_pred.setdefault(p, []).append((s, o))
        if missing:
            raise Unsupported("the schema uses " + ", ".join(sorted(missing))
                              + ", which the fast OWL RL path does not implement")

        def items(head: int) -> list[int]:
            """rdflib's Graph.items(): the members of an RDF list."""
            out, seen = [], set()
            while head in first and head not in seen:
                seen.add(head)
                out.append(first[head])
                head = rest.get(head, NIL)
            return out

        def pairs(pred: int):
            return by_pred.get(pred, ())

        # class and property hierarchies (closed by owlrl's scm-* rules)
        self.csup: dict[int, tuple] = {}
        tmp: dict[int, set] = {}
        for c, d in pairs(SUBCLASS):
            if c != d:
                tmp.setdefault(c, set()).add(d)
        for c, d in pairs(EQCLASS):     # cax-eqc (scm-eqc has folded them in already)
            if c != d:
                tmp.setdefault(c, set()).add(d)
                tmp.setdefault(d, set()).add(c)
        self.csup = {c: tuple(ds) for c, ds in tmp.items()}

        plan: dict[int, dict] = {}

        def entry(p: int) -> dict:
            e = plan.get(p)
            if e is None:
                e = plan[p] = {}
            return e

        def put(p: int, key: str, value) -> None:
            entry(p).setdefault(key, []).append(value)

        for p, q in pairs(SUBPROP):
            if p != q:
                put(p, "sup", q)
        for p, q in pairs(EQPROP):
            if p != q:
                put(p, "sup", q)
                put(q, "sup", p)
        for p, c in pairs(DOMAIN):
            put(p, "dom", c)
        for p, c in pairs(RANGE):
            put(p, "rng", c)
        for p, q in pairs(INVERSE):
            put(p, "inv", q)
            put(q, "inv", p)
        self.asym, self.irreflexive = [], []
        for x, t in pairs(TYPE):
            kind = ptype.get(t)
            if kind == "TransitiveProperty":
                entry(x)["trans"] = True
            elif kind == "SymmetricProperty":
                entry(x)["sym"] = True
            elif kind == "FunctionalProperty":
                entry(x)["fp"] = True
            elif kind == "InverseFunctionalProperty":
                entry(x)["ifp"] = True
            elif kind == "AsymmetricProperty":
                self.asym.append(x)
            elif kind == "IrreflexiveProperty":
                self.irreflexive.append(x)
        self.chains = []
        for q, head in pairs(CHAIN):
            chain = tuple(items(head))
            if chain:
                self.chains.append((chain, q))
                for i, p in enumerate(chain):
                    put(p, "chain", (chain, i, q))

        # class expressions
        onprop: dict[int, list[int]] = {}
        for r, p in pairs(ONPROP):
            onprop.setdefault(r, []).append(p)
        ctrig: dict[int, dict] = {}

        def cput(c: int, key: str, value) -> None:
            ctrig.setdefault(c, {}).setdefault(key, []).append(value)

        for r, y in pairs(SVF):
            for p in onprop.get(r, ()):
                put(p, "svf", (r, y))
                if y != self.THING:
                    cput(y, "svf", (p, r))     # v becomes a y: its p-subjects become r
        for r, y in pairs(AVF):
            for p in onprop.get(r, ()):
                put(p, "avf", (r, y))
                cput(r, "avf", (p, y))
        for r, y in pairs(HV):
            for p in onprop.get(r, ()):
                put(p, "hv", (y, r))
                cput(r, "hv", (p, y))
        for c, head in pairs(INTER):
            members = tuple(items(head))
            if members:
                for m in members:
                    cput(m, "int1", (c, members))
                for m in members:
                    cput(c, "int2", m)
        for c, head in pairs(UNION):
            for m in items(head):
                cput(m, "uni", c)
        self.seeds = []
        for c, head in pairs(ONEOF):
            for y in items(head):
                self.seeds.append((y, TYPE, c))

        # freeze
        self.plan = {}
        for p, e in plan.items():
            self.plan[p] = (
                tuple(dict.fromkeys(e.get("sup", ()))),
                tuple(dict.fromkeys(e.get("dom", ()))),
                tuple(dict.fromkeys(e.get("rng", ()))),
                tuple(dict.fromkeys(e.get("inv", ()))),
                e.get("sym", False),
                e.get("trans", False),
                tuple(e.get("chain", ())),
                e.get("fp", False),
                e.get("ifp", False),
                tuple(e.get("svf", ())),
                tuple(e.get("avf", ())),
                _group(e.get("hv", ())),
            )
        self.ctrig = {c: (tuple(d.get("svf", ())), tuple(d.get("avf", ())),
                          tuple(d.get("hv", ())), tuple(d.get("int1", ())),
                          tuple(d.get("int2", ())), tuple(d.get("uni", ())))
                      for c, d in ctrig.items()}
        # predicates a rule looks up by object
        self.by_object = set()
        for p, e in plan.items():
            if e.get("trans") or e.get("ifp"):
                self.by_object.add(p)
        for chain, _q in self.chains:
            self.by_object.update(chain[:-1])
        for c, (svf, *_rest) in self.ctrig.items():
            for p, _r in svf:
                self.by_object.add(p)
        # consistency checks
        self.disjoint = [(a, b) for a, b in pairs(DISJOINT)]
        self.pdisjoint = [(a, b) for a, b in pairs(PDISJOINT)]
        self.all_disjoint = []
        for x, t in pairs(TYPE):
            if t == ADC:
                for _x, head in ((a, b) for a, b in pairs(MEMBERS) if a == x):
                    self.all_disjoint.append(tuple(items(head)))


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


def _run(index: _Index, rules: _Rules, start: int) -> int:
    """Process the queue from `start` to the fixpoint; return its length."""
    spo, pos, queue = index.spo, index.pos, index.queue
    add = index.add
    TYPE, SAMEAS, THING = rules.TYPE, rules.SAMEAS, rules.THING
    plan, csup, ctrig = rules.plan, rules.csup, rules.ctrig
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
            sup, dom, rng, inv, sym, trans, chains, fp, ifp, svf, avf, hv = pl
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
                left = (s,)
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
                right = (o,)
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
            if hv:
                for r in hv.get(o, empty):  # cls-hv2
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
    """dt-type2 (+ owlrl's subsumptions) and dt-not-type over the literals of
    the input; returns (triples to add, disjointness axioms for the datatypes
    in use (term tuples), error messages)."""
    from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
    from owlrl.DatatypeHandling import AltXSDToPYTHON
    from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes

    rl = {str(d) for d in OWL_RL_Datatypes}
    plain = {XSD + "string", RDF + "langString"}    # rdflib gives these no datatype
    subs = {str(k): [str(v) for v in vs] for k, vs in OWL_Datatype_Subsumptions.items()}
    conv = {str(k): v for k, v in AltXSDToPYTHON.items()}
    add, errors, used = [], [], set()
    seen_literals = set()
    term_list = terms.terms
    for s, p, o in triples:
        t = term_list[o]
        if type(t) is ox.Literal:
            if o in seen_literals:
                continue
            seen_literals.add(o)
            if t.language:
                continue
            dt = t.datatype.value
            if dt in plain or dt not in rl:
                continue
            used.add(dt)
            add.append((o, type_id, terms.iri(dt)))
            for new in subs.get(dt, ()):
                add.append((o, type_id, terms.iri(new)))
            f = conv.get(dt)
            if f is not None:
                try:
                    f(t.value)
                except ValueError:
                    errors.append("Lexical value of the literal '%s' does not match its "
                                  "datatype (%s)" % (t.value, dt))
        elif p == type_id:
            ot = term_list[o]
            if type(ot) is ox.NamedNode and ot.value in rl:
                used.add(ot.value)
                for new in subs.get(ot.value, ()):
                    add.append((s, type_id, terms.iri(new)))
    axioms = [(ox.NamedNode(str(a)), ox.NamedNode(str(b)), ox.NamedNode(str(c)))
              for a, b, c in OWLRL_Datatypes_Disjointness
              if str(a) in used and str(c) in used]
    return add, axioms, errors


# --- consistency checks ------------------------------------------------------------------


def _check(index: _Index, rules: _Rules, terms: _Terms) -> list[str]:
    spo = index.spo
    TYPE = rules.TYPE
    T = terms.text
    errors: list[str] = []
    types = spo.get(TYPE, {})
    for x, cs in types.items():
        if rules.NOTHING in cs:
            errors.append("%s is defined of type 'Nothing'" % T(x))
    if rules.disjoint:
        disj: dict[int, list[int]] = {}
        for a, b in rules.disjoint:
            disj.setdefault(a, []).append(b)
        for x, cs in types.items():
            for c1 in cs:
                for c2 in disj.get(c1, ()):
                    if c2 in cs:
                        errors.append("Disjoint classes %s and %s have a common individual %s"
                                      % (T(c1), T(c2), T(x)))
    for classes in rules.all_disjoint:
        for x, cs in types.items():
            for i in range(len(classes) - 1):
                if classes[i] in cs:
                    for c2 in classes[i + 1:]:
                        if c2 in cs:
                            errors.append("Disjoint classes %s and %s have a common "
                                          "individual %s" % (T(classes[i]), T(c2), T(x)))
    for p1, p2 in rules.pdisjoint:
        for x, ys in spo.get(p1, {}).items():
            for y in ys:
                if index.has(x, p2, y):
                    errors.append("Erroneous usage of disjoint properties %s and %s on %s "
                                  "and %s" % (T(p1), T(p2), T(x), T(y)))
    for p in rules.irreflexive:
        for x, ys in spo.get(p, {}).items():
            if x in ys:
                errors.append("Irreflexive property used on %s with %s" % (T(x), T(p)))
    for p in rules.asym:
        for x, ys in spo.get(p, {}).items():
            for y in ys:
                if index.has(y, p, x):
                    errors.append("Erroneous usage of asymmetric property %s on %s and %s"
                                  % (T(p), T(x), T(y)))
    same = spo.get(rules.SAMEAS, {})
    for x, ys in spo.get(rules.DIFFERENT, {}).items():
        for y in ys:
            msg = "'sameAs' and 'differentFrom' cannot be used on the same subject-object " \
                  "pair: (%s, %s)"
            if x == y:                          # x owl:sameAs x holds for every x (eq-ref)
                errors.append(msg % (T(x), T(x)))
            elif y in same.get(x, ()):
                errors.append(msg % (T(x), T(y)))
                errors.append(msg % (T(y), T(x)))
    return errors


# --- the noise filter (as server.reasoning.infer.filter_entailed) -----------------------------------


class _Noise:
    def __init__(self, terms: _Terms) -> None:
        V = terms.iri
        self.terms = terms
        self.TYPE = V(RDF + "type")
        self.SUBCLASS = V(RDFS + "subClassOf")
        self.EQCLASS = V(OWL + "equivalentClass")
        self.DISJOINT = V(OWL + "disjointWith")
        self.NOTHING = V(OWL + "Nothing")
        self.reflexive = {V(OWL + "sameAs"), self.SUBCLASS, self.EQCLASS,
                          V(RDFS + "subPropertyOf"), V(OWL + "equivalentProperty")}
        self.top = {V(OWL + "Thing"), V(RDFS + "Resource")}
        self.top_preds = {self.TYPE, self.SUBCLASS, self.EQCLASS, V(RDFS + "domain"),
                          V(RDFS + "range")}
        self.datatype_classes = {V(RDFS + "Datatype"), V(RDFS + "Literal")}
        self.nothing_preds = {self.EQCLASS, self.DISJOINT, self.SUBCLASS}
        self.xsd_typing = {self.TYPE, self.SUBCLASS, self.EQCLASS}
        self._flags: dict[int, int] = {}

    def flags(self, i: int) -> int:
        """bit 1: literal, 2: blank node, 4: IRI in XSD, 8: IRI in RDF/RDFS/OWL/XSD."""
        f = self._flags.get(i)
        if f is None:
            t = self.terms.terms[i]
            tt = type(t)
            if tt is ox.Literal:
                f = 1
            elif tt is ox.BlankNode:
                f = 2
            else:
                f = (4 if t.value.startswith(XSD) else 0) \
                    | (8 if t.value.startswith(_BUILTIN_NS) else 0)
            self._flags[i] = f
        return f

    def reason(self, s: int, p: int, o: int) -> str | None:
        fs = self.flags(s)
        if fs & 1:
            return "literal-subject"
        if self.flags(p) & 3:
            return "bad-predicate"
        if s == o and p in self.reflexive:
            return "reflexive"
        if p in self.top_preds and o in self.top:
            return "top-type"
        if s == self.NOTHING or (o == self.NOTHING and p in self.nothing_preds):
            return "nothing"
        if (p == self.TYPE and o in self.datatype_classes) or fs & 4 \
                or (self.flags(o) & 4 and p in self.xsd_typing):
            return "datatype"
        if fs & 8:
            return "builtin-vocabulary"
        return None


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


def materialise(ontology: Iterable, data: Iterable, *, max_rounds: int = 10) -> ReasonResult:
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
        schema_ids = {t for t in triples if _is_schema(terms, t, self.pred_cache)}
        self.tbox_seconds = 0.0
        for round_ in range(1, self.max_rounds + 1):
            schema = [(term_of[s], term_of[p], term_of[o]) for s, p, o in schema_ids]
            closed, self.tbox_errors, secs = _close_schema(schema + dt_axioms)
            self.tbox_seconds += secs
            tbox = [(terms.id(s), terms.id(p), terms.id(o)) for s, p, o in closed]
            rules = _Rules(terms, tbox)
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
            new_schema = {t for t in index.queue[self.n_input:]
                          if _is_schema(terms, t, self.pred_cache)}
            if not new_schema:
                break
            schema_ids |= new_schema
        else:  # pragma: no cover - pathological schemas
            raise Unsupported(f"the schema kept growing after {self.max_rounds} rounds")
        self.rules, self.index, self.rounds = rules, index, round_
        # queue positions of input triples asserted by add() after the first run,
        # and the triples entailed first and asserted later (by add())
        self.added_input: set[int] = set()
        self.asserted_later: list = []
        self.input_set: set | None = None

    def inconsistencies(self) -> list[str]:
        return sorted(set(self.tbox_errors) | set(self.dt_errors)
                      | set(_check(self.index, self.rules, self.terms)))

    def _entailed(self, start: int, dropped: dict) -> list:
        """Filtered closure − input from queue position `start` on."""
        term_of = self.terms.terms
        noise = _Noise(self.terms)
        out = []
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
            why = noise.reason(s, p, o)
            if why is None:
                append(Triple(term_of[s], term_of[p], term_of[o]))
            else:
                dropped[why] += 1
        return out

    def result(self) -> ReasonResult:
        with _no_gc():
            return self._result()

    def _result(self) -> ReasonResult:
        t1 = time.perf_counter()
        errors = self.inconsistencies()
        dropped = dict.fromkeys(DROP_REASONS, 0)
        entailed = self._entailed(0, dropped)
        if self.asserted_later:
            gone = {self._triple(t) for t in self.asserted_later}
            entailed = [t for t in entailed if t not in gone]
        stats = {"input": len(self.input), "rounds": self.rounds, "tbox": self.n_tbox,
                 "derived": len(self.index.queue) - self.n_input, "eq": self.index.eq}
        return ReasonResult(entailed=entailed, inconsistencies=errors, dropped=dropped,
                            closure_size=len(self.index.queue), seconds=self.seconds,
                            tbox_seconds=self.tbox_seconds,
                            filter_seconds=time.perf_counter() - t1, stats=stats)

    def _triple(self, t):
        term_of = self.terms.terms
        return ox.Triple(term_of[t[0]], term_of[t[1]], term_of[t[2]])

    def add(self, data: Iterable) -> "Delta":
        """Assert more data triples; return what that changed in the
        entailed graph (and whether it took a full recomputation)."""
        with _no_gc():
            return self._add(data)

    def _add(self, data: Iterable) -> "Delta":
        t0 = time.perf_counter()
        new = list(dict.fromkeys(self.terms.encode(data)))
        index = self.index
        if self.input_set is None:
            self.input_set = set(self.input)
        new = [t for t in new if t not in self.input_set]
        fresh = [t for t in new if not index.has(*t)]
        # triples entailed before and asserted now leave the entailed graph
        noise = _Noise(self.terms)
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
        self.dt_errors = sorted(set(self.dt_errors) | set(dt_errors))
        start = len(index.queue)
        for t in fresh:
            if index.add(*t):
                self.added_input.add(len(index.queue) - 1)
        for t in dt_triples:
            index.add(*t)
        _run(index, self.rules, start)
        self.asserted_later = list(self.asserted_later) + now_asserted
        added = self._entailed(start, dict.fromkeys(DROP_REASONS, 0))
        removed = [self._triple(t) for t in now_asserted]
        return Delta(added=added, removed=removed, recomputed=False,
                     seconds=time.perf_counter() - t0)

    def _all_entailed_ids(self):
        queue = self.index.queue
        noise = _Noise(self.terms)
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
