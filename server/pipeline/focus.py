"""Which nodes a SHACL validation has to look at, and what data it needs.

`ShapesReach` reads the shapes graph once and records, for every predicate,
how many hops from a focus node a constraint reads it (a property path is one
hop, `sh:class` on its values reads their rdf:type one hop further, `sh:node`
nests). From it:

- `affected(index, changed, reach)`: the focus nodes whose verdict a set of
  added or removed data triples can change (their subjects and objects, and
  the nodes that reach them along a path the shapes follow);
- `neighbourhood(index, nodes, reach)`: the data triples a validator needs to
  decide those nodes exactly as it would on the whole graph.

An index is anything with `outgoing(node)`, `incoming(node[, predicates])` and
`types(node)` returning pyoxigraph triples: `TripleIndex` over parsed triples, `StoreIndex` over a
graph of an Oxigraph store. Shapes whose reach cannot be bounded this way
(complex paths, recursion) make `reach.bounded` false: callers then validate
everything. See docs/scale.md ("Validation at scale").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox

from server.namespaces import OWL, RDF, RDFS

SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = RDF + "type"
_RDF_TYPE = ox.NamedNode(RDF_TYPE)
ANY = "*"              # "any predicate" (SHACL-SPARQL constraints and targets)
_MAX_DEPTH = 6         # deeper nesting is treated as unbounded

_NODE_LISTS = ("or", "and", "xone")
_ANNOTATIONS = {RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy"}


class Index(Protocol):
    def outgoing(self, node) -> list: ...
    def incoming(self, node, predicates: Iterable[str] | None = None) -> list: ...
    def types(self, node) -> list: ...


@dataclass
class ShapesReach:
    depth: dict[str, int] = field(default_factory=dict)   # predicate (or ANY) → max hops
    inverse: set[str] = field(default_factory=set)        # read from the object side
    bounded: bool = True
    why: str = ""

    @property
    def max_depth(self) -> int:
        return max(self.depth.values(), default=1)

    def record(self, predicate: str, hops: int) -> None:
        if hops > _MAX_DEPTH:
            self.unbounded(f"shapes nested deeper than {_MAX_DEPTH} hops")
        self.depth[predicate] = max(self.depth.get(predicate, 0), hops)

    def unbounded(self, why: str) -> None:
        if self.bounded:
            self.bounded, self.why = False, why


def shapes_reach(shapes_triples: Iterable) -> ShapesReach:
    """How far from a focus node the shapes read, predicate by predicate."""
    out: dict = defaultdict(list)
    for t in shapes_triples:
        out[t.subject].append((t.predicate.value, t.object))
    reach = ShapesReach()

    def objects(node, local: str) -> list:
        return [o for p, o in out.get(node, ()) if p == SH + local]

    def members(head) -> list:
        items, seen = [], set()
        while isinstance(head, (ox.BlankNode, ox.NamedNode)) and head.value != RDF + "nil":
            if head in seen:
                break
            seen.add(head)
            items += [o for p, o in out.get(head, ()) if p == RDF + "first"]
            head = next((o for p, o in out.get(head, ()) if p == RDF + "rest"), None)
        return items

    def walk(shape, hops: int, stack: tuple) -> None:
        """`shape`'s constraints apply to a node `hops` away from the focus."""
        if (shape, hops) in stack:
            reach.unbounded("recursive shapes")
            return
        stack = stack + ((shape, hops),)
        path = objects(shape, "path")
        values_at = hops
        if path:
            p = path[0]
            if not isinstance(p, ox.NamedNode):
                reach.unbounded("a property path other than a single predicate")
                return
            reach.record(p.value, hops + 1)
            values_at = hops + 1
        if objects(shape, "class"):
            reach.record(RDF_TYPE, values_at + 1)
        for s in objects(shape, "node") + objects(shape, "not") + objects(shape,
                                                                       "qualifiedValueShape"):
            walk(s, values_at, stack)
        for local in _NODE_LISTS:
            for head in objects(shape, local):
                for s in members(head):
                    walk(s, values_at, stack)
        for s in objects(shape, "property"):
            walk(s, values_at, stack)
        if objects(shape, "sparql"):
            # SHACL-SPARQL: assumed to read the node's own triples and the
            # declarations of the terms it uses (see the module docstring).
            reach.record(ANY, values_at + 1)

    for shape in list(out):
        targets = False
        if objects(shape, "targetClass"):
            reach.record(RDF_TYPE, 1)
            targets = True
        for p in objects(shape, "targetSubjectsOf"):
            reach.record(p.value, 1)
            targets = True
        for p in objects(shape, "targetObjectsOf"):
            reach.record(p.value, 1)
            reach.inverse.add(p.value)
            targets = True
        if objects(shape, "targetNode"):
            targets = True
        if objects(shape, "target"):
            reach.record(ANY, 1)
            targets = True
        kinds = {o.value for p, o in out[shape] if p == RDF_TYPE}
        if kinds & {OWL + "Class", RDFS + "Class"}:   # an implicit class target
            reach.record(RDF_TYPE, 1)
            targets = True
        if targets:
            walk(shape, 0, ())
    return reach


# --- indexes ---------------------------------------------------------------------------


class TripleIndex:
    """Outgoing and incoming triples of parsed pyoxigraph triples."""

    def __init__(self, triples: Iterable) -> None:
        self.out: dict = defaultdict(list)
        self.inc: dict = defaultdict(list)
        for t in triples:
            self.out[t.subject].append(t)
            if not isinstance(t.object, ox.Literal):
                self.inc[t.object].append(t)

    def outgoing(self, node) -> list:
        return self.out.get(node, [])

    def incoming(self, node, predicates: Iterable[str] | None = None) -> list:
        return self.inc.get(node, [])

    def types(self, node) -> list:
        return [t for t in self.out.get(node, ()) if t.predicate.value == RDF_TYPE]


class StoreIndex:
    """Outgoing and incoming triples of one named graph of an Oxigraph store."""

    def __init__(self, store: ox.Store, graph: str) -> None:
        self.store, self.graph = store, ox.NamedNode(graph)

    def outgoing(self, node) -> list:
        return [q.triple for q in self.store.quads_for_pattern(node, None, None, self.graph)]

    def incoming(self, node, predicates: Iterable[str] | None = None) -> list:
        """Triples pointing at node (only with these predicates, if given)."""
        if predicates is None:
            return [q.triple for q in self.store.quads_for_pattern(None, None, node, self.graph)]
        return [q.triple for p in predicates for q in
                self.store.quads_for_pattern(None, ox.NamedNode(p), node, self.graph)]

    def types(self, node) -> list:
        return [q.triple for q in
                self.store.quads_for_pattern(node, _RDF_TYPE, None, self.graph)]


# --- what a change touches, what a node needs -----------------------------------------------


def is_schema_triple(t) -> bool:
    """A data triple that changes what other triples mean (a declaration, an
    axiom): a change to one is validated against the whole graph."""
    p = t.predicate.value
    if p == RDF_TYPE:
        o = t.object
        return isinstance(o, ox.NamedNode) and o.value.startswith((RDF, RDFS, OWL, SH))
    return p.startswith((RDFS, OWL, SH)) and p not in _ANNOTATIONS


def affected(index: Index, changed: Iterable, reach: ShapesReach) -> set:
    """Focus nodes whose validation result the added or removed `changed`
    triples can change."""
    nodes: set = set()
    for t in changed:
        nodes.add(t.subject)
        if t.predicate.value in reach.inverse and not isinstance(t.object, ox.Literal):
            nodes.add(t.object)   # a target of sh:targetObjectsOf that predicate
        hops = max(reach.depth.get(t.predicate.value, 0), reach.depth.get(ANY, 0))
        frontier = {t.subject}
        for _ in range(hops - 1):   # walk back to the nodes that read it from afar
            frontier = {x.subject for n in frontier for x in index.incoming(n)} - nodes
            nodes |= frontier
            if not frontier:
                break
    return {n for n in nodes if isinstance(n, (ox.NamedNode, ox.BlankNode))}


def neighbourhood(index: Index, nodes: Iterable, reach: ShapesReach) -> list:
    """The triples validating `nodes` reads: everything up to the shapes'
    depth from each node (forward), what points at each node, and the
    rdf:type of every node and term seen (for sh:class, targets and the
    declared-terms check)."""
    seen_nodes: set = set()
    triples: set = set()
    frontier = set(nodes)
    for n in frontier:   # what targets it as an object (sh:targetObjectsOf)
        triples.update(t for t in index.incoming(n, reach.inverse)
                       if t.predicate.value in reach.inverse)
    for _ in range(reach.max_depth):
        nxt = set()
        for n in frontier - seen_nodes:
            seen_nodes.add(n)
            for t in index.outgoing(n):
                triples.add(t)
                if not isinstance(t.object, ox.Literal):
                    nxt.add(t.object)
        frontier = nxt
    terms = set(frontier)
    for t in list(triples):
        terms.add(t.subject)
        terms.add(t.predicate)
        if not isinstance(t.object, ox.Literal):
            terms.add(t.object)
    for n in terms - seen_nodes:
        triples.update(index.types(n))
    return list(triples)
