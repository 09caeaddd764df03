"""Random small OWL 2 RL ontologies with data, for the differential tests
(tests/test_reasoning_fuzz.py): hypothesis strategies that write Turtle.

Each example first draws a tiny vocabulary (two or three classes,
properties, individuals, and a few literals, often several spellings of
one value) so that its axioms and facts meet: every rule the fast engine
implements gets premises, and so do the corners the engines got wrong
once — literals equal by value but written differently, neighbouring
datatypes, punning (a class or property used as an individual),
owl:sameAs between classes, properties and list members, and lists with a
node missing, doubled, unterminated or looping.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

CLASSES = [":C0", ":C1", ":C2", ":C3"]
OBJECT_PROPERTIES = [":p0", ":p1", ":p2", ":p3"]
DATA_PROPERTIES = [":d0", ":d1"]
INDIVIDUALS = [":a0", ":a1", ":a2", ":a3"]
# One value in several spellings (rdflib, and so owlrl, makes "01" and "+1"
# the integer "1"), a neighbour in another datatype, an ill-typed spelling.
VALUE_GROUPS = [
    ['"1"^^xsd:integer', '"01"^^xsd:integer', '"+1"^^xsd:integer', '"1"^^xsd:int',
     '"1.0"^^xsd:integer'],
    ['"1.5"^^xsd:decimal', '"01.5"^^xsd:decimal', '"+1.5"^^xsd:decimal', '"1.5"^^xsd:double',
     '"1,5"^^xsd:decimal'],
    ['"1"^^xsd:double', '"1.0E0"^^xsd:double', '"1e0"^^xsd:double', '"1"^^xsd:decimal'],
    ['"1"^^xsd:float', '"1.0"^^xsd:float', '"01"^^xsd:float', '"1"^^xsd:integer'],
    ['"true"^^xsd:boolean', '"1"^^xsd:boolean', '"1"^^xsd:integer', '"yes"^^xsd:boolean'],
    ['"2024-01-01T00:00:00Z"^^xsd:dateTime', '"2024-01-01T00:00:00+00:00"^^xsd:dateTime',
     '"2024-01-01T00:00:00.0Z"^^xsd:dateTime'],
    ['"7"^^xsd:short', '"07"^^xsd:short', '"7"^^xsd:nonNegativeInteger'],
    ['"a"', '"a"^^xsd:string', '"a"@en', '" a "^^xsd:token', '"a"^^xsd:token'],
]
OTHER_LITERALS = ['"x"^^xsd:integer', '"-1"^^xsd:nonNegativeInteger', '"2024"^^xsd:gYear',
                  '"b"@en', '"0"^^xsd:integer', '"1.50"^^xsd:decimal']
DATATYPES = ["xsd:integer", "xsd:decimal", "xsd:double", "xsd:float", "xsd:string",
             "xsd:int", "xsd:nonNegativeInteger", "xsd:boolean", "xsd:dateTime", "rdfs:Literal"]
CHARACTERISTICS = ["owl:TransitiveProperty", "owl:SymmetricProperty",
                   "owl:FunctionalProperty", "owl:InverseFunctionalProperty",
                   "owl:AsymmetricProperty", "owl:IrreflexiveProperty"]


@dataclass(frozen=True)
class Example:
    ontology: str       # Turtle, without prefixes
    data: str

    def __str__(self) -> str:
        return f"# ontology\n{self.ontology}\n# data\n{self.data}"


@dataclass(frozen=True)
class Vocabulary:
    classes: list
    properties: list
    data_properties: list
    individuals: list
    literals: list

    @property
    def cls(self):
        return st.sampled_from(self.classes)

    @property
    def cls_or_thing(self):
        return st.sampled_from(self.classes + ["owl:Thing"])

    @property
    def prop(self):
        return st.sampled_from(self.properties)

    @property
    def dprop(self):
        return st.sampled_from(self.data_properties)

    @property
    def ind(self):
        return st.sampled_from(self.individuals)

    @property
    def lit(self):
        return st.sampled_from(self.literals)

    @property
    def node(self):
        """Mostly an individual; sometimes a class or a property (punning)."""
        return st.one_of(self.ind, self.ind, self.ind, self.ind, self.ind, self.cls, self.prop)


@st.composite
def vocabularies(draw) -> Vocabulary:
    def some(names, low=2, high=3):
        return draw(st.lists(st.sampled_from(names), min_size=low, max_size=high, unique=True))

    group = draw(st.sampled_from(VALUE_GROUPS))
    literals = some(group, 2, 3) + some(OTHER_LITERALS + [x for g in VALUE_GROUPS for x in g], 1, 2)
    return Vocabulary(some(CLASSES), some(OBJECT_PROPERTIES, 1, 3),
                      some(DATA_PROPERTIES, 1, 2), some(INDIVIDUALS), literals)


def _list(items: list[str]) -> str:
    return "( " + " ".join(items) + " )"


@st.composite
def malformed_list(draw, members):
    """(head, triples) of a list that rdflib reads its own way: a node
    without rdf:first, a node with two, no closing rdf:nil — or one that
    loops back (which owlrl cannot read: the engines must say so)."""
    items = draw(st.lists(members, min_size=2, max_size=3))
    n = draw(st.integers(0, 10_000))
    nodes = [f"_:l{n}x{i}" for i in range(len(items))]
    defect = draw(st.sampled_from(["no-first", "two-firsts", "no-nil"] * 3 + ["loop"]))
    gap = draw(st.integers(0, len(items) - 1))
    lines = []
    for i, (nd, item) in enumerate(zip(nodes, items, strict=True)):
        rest = nodes[i + 1] if i + 1 < len(nodes) else "rdf:nil"
        if i + 1 == len(nodes) and defect in ("no-nil", "loop"):
            rest = nodes[gap] if defect == "loop" else None
        first = [] if defect == "no-first" and i == gap else [item]
        if defect == "two-firsts" and i == gap:
            first.append(draw(members.filter(lambda m, item=item: m != item)))
        parts = [f"rdf:first {f}" for f in first] + ([f"rdf:rest {rest}"] if rest else [])
        if parts:
            lines.append(f"{nd} " + " ; ".join(parts) + " .")
    return nodes[0], " ".join(lines)


@st.composite
def class_list(draw, v: Vocabulary):
    """A list of classes: well formed, or (one time in two) malformed."""
    if draw(st.booleans()):
        return draw(malformed_list(v.cls))
    return _list(draw(st.lists(v.cls, min_size=1, max_size=3))), ""


@st.composite
def restriction(draw, v: Vocabulary):
    """An owl:Restriction, named or blank, tied to a class."""
    kind = draw(st.sampled_from(["some", "all", "value", "datavalue", "datavalue"]))
    if kind == "some":
        body = f"owl:onProperty {draw(v.prop)} ; owl:someValuesFrom {draw(v.cls_or_thing)}"
    elif kind == "all":
        body = f"owl:onProperty {draw(v.prop)} ; owl:allValuesFrom {draw(v.cls)}"
    elif kind == "value":
        body = f"owl:onProperty {draw(v.prop)} ; owl:hasValue {draw(v.ind)}"
    else:
        body = f"owl:onProperty {draw(v.dprop)} ; owl:hasValue {draw(v.lit)}"
    link = draw(st.sampled_from(["owl:equivalentClass", "rdfs:subClassOf", "is"]))
    c = draw(v.cls)
    if link == "is":                         # the class is the restriction
        return f"{c} a owl:Restriction ; {body} ."
    if link == "rdfs:subClassOf" and draw(st.booleans()):
        return f"[ a owl:Restriction ; {body} ] rdfs:subClassOf {c} ."
    return f"{c} {link} [ a owl:Restriction ; {body} ] ."


@st.composite
def axiom(draw, v: Vocabulary) -> str:
    kind = draw(st.integers(0, 19))
    if kind == 0:
        return f"{draw(v.cls)} rdfs:subClassOf {draw(v.cls_or_thing)} ."
    if kind == 1:
        rel = draw(st.sampled_from(["owl:equivalentClass", "owl:disjointWith"]))
        return f"{draw(v.cls)} {rel} {draw(v.cls)} ."
    if kind == 2:
        head, extra = draw(class_list(v))
        return f"[] a owl:AllDisjointClasses ; owl:members {head} . {extra}"
    if kind == 3:
        rel = draw(st.sampled_from(["rdfs:subPropertyOf", "owl:equivalentProperty",
                                    "owl:inverseOf", "owl:propertyDisjointWith"]))
        return f"{draw(v.prop)} {rel} {draw(v.prop)} ."
    if kind == 4:
        rel = draw(st.sampled_from(["rdfs:subPropertyOf", "owl:equivalentProperty",
                                    "owl:propertyDisjointWith"]))
        return f"{draw(v.dprop)} {rel} {draw(v.dprop)} ."
    if kind == 5:
        return f"{draw(v.prop)} a {draw(st.sampled_from(CHARACTERISTICS))} ."
    if kind == 6:
        return f"{draw(v.dprop)} a owl:FunctionalProperty ."
    if kind == 7:
        return f"{draw(st.one_of(v.prop, v.dprop))} rdfs:domain {draw(v.cls)} ."
    if kind == 8:
        return f"{draw(v.prop)} rdfs:range {draw(v.cls_or_thing)} ."
    if kind in (9, 17):
        return f"{draw(v.dprop)} rdfs:range {draw(st.sampled_from(DATATYPES))} ."
    if kind == 10:
        inverse = v.prop.map(lambda p: f"[ owl:inverseOf {p} ]")
        links = draw(st.lists(st.one_of(v.prop, v.prop, inverse), min_size=1, max_size=3))
        return f"{draw(v.prop)} owl:propertyChainAxiom {_list(links)} ."
    if kind in (11, 12):
        head, extra = draw(class_list(v))
        rel = "owl:intersectionOf" if kind == 11 else "owl:unionOf"
        return f"{draw(v.cls)} {rel} {head} . {extra}"
    if kind == 13:
        if draw(st.integers(0, 2)) == 0:
            head, extra = draw(malformed_list(v.ind))
            return f"{draw(v.cls)} owl:oneOf {head} . {extra}"
        return f"{draw(v.cls)} owl:oneOf {_list(draw(st.lists(v.ind, min_size=1, max_size=3)))} ."
    return draw(restriction(v))


@st.composite
def fact(draw, v: Vocabulary) -> str:
    kind = draw(st.integers(0, 10))
    if kind in (0, 1, 10):
        return f"{draw(v.node)} a {draw(v.cls_or_thing)} ."
    if kind in (2, 3):
        return f"{draw(v.node)} {draw(v.prop)} {draw(v.node)} ."
    if kind in (4, 5):
        return f"{draw(v.node)} {draw(v.dprop)} {draw(v.lit)} ."
    if kind == 6:
        # sameAs between individuals, classes, properties: eq-rep copies schema too
        a = draw(st.one_of(v.ind, v.ind, v.cls, v.prop))
        b = draw(st.one_of(v.ind, v.cls, v.prop) if a in v.individuals
                 else st.one_of(v.cls, v.prop))
        return f"{a} owl:sameAs {b} ."
    if kind == 7:
        return f"{draw(v.node)} owl:differentFrom {draw(v.node)} ."
    if kind == 8:
        return f"{draw(v.ind)} :note {draw(v.lit)} ."      # a predicate no axiom mentions
    return f"{draw(v.node)} a owl:Nothing ."


@st.composite
def examples(draw) -> Example:
    v = draw(vocabularies())
    axioms = draw(st.lists(axiom(v), min_size=1, max_size=7))
    facts = draw(st.lists(fact(v), min_size=2, max_size=10))
    return Example("\n".join(axioms), "\n".join(facts))
