"""RDF lists, read the way owlrl reads them (rdflib's `Graph.items`): from
the head, the first-asserted rdf:first of each node is a member (a node
without one adds nothing), the first-asserted rdf:rest leads on, and the
list ends at a node without rdf:rest. A list whose rdf:rest chain comes
back to one of its nodes cannot be read: both engines stop with a clear
error (owlrl itself raises a ValueError). Works on any hashable terms.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from server.errors import BuildError
from server.namespaces import OWL

# Predicates whose object is the head of a list that some OWL 2 RL rule reads.
HEAD_PREDICATES = frozenset(OWL + p for p in (
    "intersectionOf", "unionOf", "oneOf", "propertyChainAxiom", "members",
    "distinctMembers", "hasKey"))


def first_asserted(pairs: Iterable[tuple]) -> dict:
    """node → the first value met for it, from (node, value) pairs in order."""
    out: dict = {}
    for node, value in pairs:
        out.setdefault(node, value)
    return out


def read(head: Hashable, first: dict, rest: dict,
         where: Callable[[], str] = lambda: "") -> list:
    """The members of the list at `head`; `first` and `rest` map a node to
    its first-asserted rdf:first / rdf:rest. A loop is a BuildError that
    says which list (`where()`: e.g. "kop:Party owl:unionOf")."""
    members, seen, node = [], {head}, head
    while node is not None:
        item = first.get(node)
        if item is not None:
            members.append(item)
        node = rest.get(node)
        if node in seen:
            raise BuildError(f"the RDF list of {where() or 'a node'} loops back on itself "
                             "(its rdf:rest chain returns to a node it already passed), so "
                             "OWL RL cannot read it; end the list with rdf:nil")
        seen.add(node)
    return members


def refuse_loops(triples: Iterable[tuple], heads: set, rest_predicate: Hashable,
                 describe: Callable[[Any, Any], str]) -> None:
    """A BuildError if a list that an axiom heads (its predicate in `heads`)
    loops; `describe(subject, predicate)` names the axiom for the message."""
    triples = list(triples)
    rest = first_asserted((s, o) for s, p, o in triples if p == rest_predicate)
    for s, p, o in triples:
        if p in heads:
            read(o, {}, rest, functools.partial(describe, s, p))
