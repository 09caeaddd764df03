"""Inconsistencies: which OWL 2 RL rule found a contradiction, and in which
terms. One table holds, per rule, owlrl's wording (the reference the tests
compare with, and what the owlrl engines' messages are read back from) and
the wording a person reads (`describe`: rule id, prefixed names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from server.namespaces import OWL, RDF, RDFS, XSD


@dataclass(frozen=True)
class Rule:
    id: str
    owlrl: str      # owlrl's message, %s for each term
    says: str       # for people: {0}, {1}… are the same terms


_RULES = [
    Rule("cax-dw", "Disjoint classes %s and %s have a common individual %s",
         "{2} is an instance of {0} and of {1}, which are disjoint classes (owl:disjointWith)"),
    Rule("cax-adc", "Disjoint classes %s and %s have a common individual %s",
         "{2} is an instance of {0} and of {1}, which are disjoint classes "
         "(owl:AllDisjointClasses)"),
    Rule("cls-nothing2", "%s is defined of type 'Nothing'",
         "{0} is an instance of owl:Nothing, the empty class"),
    Rule("prp-pdw", "Erroneous usage of disjoint properties %s and %s on %s and %s",
         "{2} is linked to {3} by both {0} and {1}, which are disjoint properties"),
    Rule("prp-irp", "Irreflexive property used on %s with %s",
         "{0} is linked to itself by {1}, an irreflexive property"),
    Rule("prp-asyp", "Erroneous usage of asymmetric property %s on %s and %s",
         "{1} and {2} are linked both ways by {0}, an asymmetric property"),
    Rule("eq-diff1", "'sameAs' and 'differentFrom' cannot be used on the same "
         "subject-object pair: (%s, %s)",
         "{0} and {1} are declared different (owl:differentFrom) but are the same "
         "individual (owl:sameAs)"),
    Rule("dt-not-type", "Lexical value of the literal '%s' does not match its datatype (%s)",
         "{0} is not a valid value of its datatype {1}"),
    # Found by the owlrl engines only (the fast engine falls back to them).
    Rule("cls-com", "Violation of complementarity for classes %s and %s on element %s",
         "an individual is an instance of {0} and of its complement {1}"),
    Rule("cls-maxc1", "Erroneous usage of maximum cardinality with %s and %s",
         "{1} is a value of the property of {0}, which allows none (owl:maxCardinality 0)"),
    Rule("cls-maxqc1", "Erroneous usage of maximum qualified cardinality with %s, %s and %s",
         "{2} is a value in {1} of the property of {0}, which allows none "
         "(owl:maxQualifiedCardinality 0)"),
    Rule("eq-diff2", "'sameAs' and 'AllDifferent' cannot be used on the same subject-object "
         "pair: (%s, %s)",
         "{0} and {1} are declared different (owl:AllDifferent) but are the same individual "
         "(owl:sameAs)"),
    Rule("prp-adp", "Disjoint properties in an 'AllDisjointProperties' are not really "
         "disjoint: (%s, %s,%s) and (%s,%s,%s)",
         "{0} is linked to {2} by both {1} and {4}, which are disjoint properties "
         "(owl:AllDisjointProperties)"),
    Rule("prp-npa1", "Negative (object) property assertion violated for: (%s, %s, %s)",
         "{0} {1} {2} holds, but a negative property assertion denies it"),
    Rule("prp-npa2", "Negative (datatype) property assertion violated for: (%s, %s, %s)",
         "{0} {1} {2} holds, but a negative property assertion denies it"),
    Rule("cls-avf", "Violation of type restriction for allValuesFrom in %s for datatype %s "
         "on value %s", "{2} is not of datatype {1}, which {0} requires"),
]
RULES = {r.id: r for r in _RULES}


@dataclass(frozen=True)
class Inconsistency:
    rule: str               # the OWL 2 RL rule id (RULES), or "" for a message not understood
    terms: tuple = ()       # pyoxigraph terms, in the order of the rule's wording
    message: str = ""       # the owlrl message it was read from, if any

    def owlrl_message(self) -> str:
        """owlrl's wording, terms printed as owlrl prints them (rdflib's
        str(): the normalised lexical form of a literal)."""
        if self.rule not in RULES:
            return self.message
        return RULES[self.rule].owlrl % tuple(_owlrl_text(t) for t in self.terms)

    def describe(self, prefixes: dict[str, str] | None = None) -> str:
        """For people: "cax-dw: id:x is an instance of kop:A and of kop:B, …"."""
        if self.rule not in RULES:
            return f"OWL RL: {self.message}"
        names = TermNames(prefixes or {})
        return f"{self.rule}: " + RULES[self.rule].says.format(*(names(t) for t in self.terms))


def unique(found: Iterable[Inconsistency]) -> list[Inconsistency]:
    """Each contradiction once, in a stable order: owlrl reports one message
    where two rules (cax-dw and cax-adc) or two engine parts find the same;
    the first found is kept, cax-dw before cax-adc."""
    seen: dict[str, Inconsistency] = {}
    for i in sorted(found, key=lambda i: i.rule == "cax-adc"):
        seen.setdefault(i.owlrl_message(), i)
    return [seen[m] for m in sorted(seen)]


def describe_all(found: Iterable[Inconsistency], prefixes: dict[str, str] | None = None
                 ) -> list[str]:
    """For people: each contradiction once, sorted."""
    return sorted({i.describe(prefixes) for i in unique(found)})


# --- owlrl's messages, read back -------------------------------------------------------


def _pattern(template: str) -> re.Pattern:
    parts = [re.escape(p) for p in template.split("%s")]
    return re.compile("(.+?)".join(parts[:-1]) + "(.+)" + parts[-1] if len(parts) > 1
                      else parts[0], re.S)


_PATTERNS = [(r, _pattern(r.owlrl)) for r in _RULES if r.id != "cax-adc"]


def from_owlrl(messages: Iterable[str], graph) -> list[Inconsistency]:
    """owlrl's messages as Inconsistencies, their terms found in `graph`
    (the rdflib closure they came from). A class pair that is not declared
    owl:disjointWith came from owl:AllDisjointClasses (owlrl words both alike)."""
    from rdflib import URIRef

    terms = _TermsByText(graph)
    disjoint = URIRef(OWL + "disjointWith")
    out = []
    for m in messages:
        for rule, pattern in _PATTERNS:
            match = pattern.fullmatch(m)
            if match:
                found = [terms(text) for text in match.groups()]
                rid = rule.id
                if rid == "cax-dw" and not ((found[0], disjoint, found[1]) in graph
                                            or (found[1], disjoint, found[0]) in graph):
                    rid = "cax-adc"
                out.append(Inconsistency(rid, tuple(_to_ox(t) for t in found), m))
                break
        else:
            out.append(Inconsistency("", (), m))
    return out


class _TermsByText:
    """rdflib str() → the graph's term printed so (an IRI before a blank node
    before a literal when several print alike)."""

    def __init__(self, graph) -> None:
        self.graph = graph
        self.index: dict | None = None

    def __call__(self, text: str):
        from rdflib import BNode, Literal, URIRef

        if self.index is None:
            rank: dict[type, int] = {URIRef: 0, BNode: 1}
            self.index = {}
            for triple in self.graph:
                for t in triple:
                    old = self.index.get(str(t))
                    if old is None or rank.get(type(t), 2) < rank.get(type(old), 2):
                        self.index[str(t)] = t
        return self.index.get(text, Literal(text))


def _to_ox(t):
    from server.terms import to_oxigraph_term

    return to_oxigraph_term(t) or ox.Literal(str(t))


def _owlrl_text(t) -> str:
    if type(t) is ox.Literal:
        from server.terms import RdflibTerms

        return str(RdflibTerms().term(t))
    return t.value


# --- names for people -------------------------------------------------------------------

_STANDARD = {"rdf": RDF, "rdfs": RDFS, "owl": OWL, "xsd": XSD}
_LOCAL = re.compile(r"[A-Za-z_][\w.-]*\Z|\Z")


class TermNames:
    """pyoxigraph term → how a person reads it: a prefixed name (the
    project's prefixes and rdf/rdfs/owl/xsd), <iri>, _:blank, "literal"^^type."""

    def __init__(self, prefixes: dict[str, str] | None = None) -> None:
        merged = {**_STANDARD, **(prefixes or {})}
        # longest namespace first, so that id: wins over a shorter base
        self.prefixes = sorted(merged.items(), key=lambda kv: -len(kv[1]))

    def iri(self, value: str) -> str:
        for prefix, ns in self.prefixes:
            if value.startswith(ns) and _LOCAL.match(value, len(ns)) \
                    and not value[len(ns):].endswith("."):
                return f"{prefix}:{value[len(ns):]}"
        return f"<{value}>"

    def __call__(self, t) -> str:
        if type(t) is ox.NamedNode:
            return self.iri(t.value)
        if type(t) is ox.BlankNode:
            return f"_:{t.value}"
        text = '"' + t.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if t.language:
            return f"{text}@{t.language}"
        if t.datatype.value == XSD + "string":
            return text
        return f"{text}^^{self.iri(t.datatype.value)}"
