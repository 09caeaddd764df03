"""The fast engine numbers literals by value, as owlrl sees them: rdflib's
normal form. For the datatypes big graphs are full of it skips rdflib when
the lexical form is already the normal one (fast._CANONICAL); here every
such shortcut is checked against rdflib itself, on lexical forms drawn to
sit on both sides of each pattern: a few hundred draws in `make test`,
KOPRU_FUZZ_EXAMPLES (5,000 by default) in `make fuzz-reasoning`."""

from __future__ import annotations

import os

import pyoxigraph as ox
from hypothesis import given, settings
from hypothesis import strategies as st

from server.namespaces import XSD
from server.reasoning.fast import _CANONICAL, _Terms
from server.terms import RdflibTerms

# Numbers as people write them (a sign, leading zeros, a fraction with
# trailing zeros), and any string of the characters numbers are made of.
NUMBER = st.builds(lambda sign, zeros, whole, fraction: sign + zeros + whole + fraction,
                   st.sampled_from(["", "+", "-"]), st.sampled_from(["", "0", "00"]),
                   st.from_regex(r"[0-9]{0,5}", fullmatch=True),
                   st.sampled_from(["", "."]).flatmap(
                       lambda dot: st.from_regex(r"[0-9]{0,3}", fullmatch=True).map(
                           lambda digits: dot + digits if dot else "")))
LEXICAL = st.one_of(NUMBER.filter(bool),
                    st.text(alphabet="0123456789+-.eE", min_size=1, max_size=12))
SHORTCUT_DATATYPES = sorted(_CANONICAL)
EXAMPLES = int(os.environ.get("KOPRU_FUZZ_EXAMPLES", "200"))


@settings(max_examples=EXAMPLES, deadline=None)
@given(lexical=LEXICAL, datatype=st.sampled_from(SHORTCUT_DATATYPES))
def test_a_lexical_form_the_shortcut_keeps_is_rdflibs_normal_form(lexical, datatype):
    if _CANONICAL[datatype].match(lexical):
        literal = ox.Literal(lexical, datatype=ox.NamedNode(datatype))
        assert str(RdflibTerms().term(literal)) == lexical


@settings(max_examples=max(EXAMPLES // 2, 100), deadline=None)
@given(lexicals=st.lists(LEXICAL, min_size=2, max_size=6),
       datatype=st.sampled_from(SHORTCUT_DATATYPES))
def test_literals_share_a_number_exactly_when_rdflib_says_they_are_one_value(lexicals, datatype):
    terms = _Terms()
    rdflib = RdflibTerms().term
    literals = [ox.Literal(x, datatype=ox.NamedNode(datatype)) for x in lexicals]
    ids = [terms.id(lit) for lit in literals]
    normal = [str(rdflib(lit)) for lit in literals]
    for a in range(len(literals)):
        for b in range(len(literals)):
            assert (ids[a] == ids[b]) == (normal[a] == normal[b]), (lexicals[a], lexicals[b])


def test_the_shortcut_and_rdflib_meet_on_one_value():
    terms = _Terms()
    integer = ox.NamedNode(XSD + "integer")
    assert terms.id(ox.Literal("01", datatype=integer)) == terms.id(ox.Literal("1", datatype=integer))
    assert terms.id(ox.Literal("1", datatype=integer)) != terms.id(
        ox.Literal("1", datatype=ox.NamedNode(XSD + "decimal")))


def test_an_owlrl_closure_leaves_rdflibs_reading_of_literals_as_it_was():
    """owlrl swaps its own conversions into rdflib's global table and puts
    back only part of it: after a closure, rdflib (and so the fast engine's
    numbering) must read every literal as before."""
    from rdflib import Graph, Literal, URIRef
    from rdflib import term as rdflib_term

    from server.reasoning.owlrl_engine import expand

    before = dict(rdflib_term._toPythonMapping)
    graph = Graph()
    graph.add((URIRef("http://example.org/a"), URIRef("http://example.org/p"),
               Literal(" a ", datatype=URIRef(XSD + "token"))))
    expand(graph)
    assert dict(rdflib_term._toPythonMapping) == before
