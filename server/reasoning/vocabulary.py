"""The RDF/RDFS/OWL/XSD terms both engines and the noise filter treat
specially, defined once: built-in namespaces, annotation properties,
declaration types, and the namespace of owlrl's error reports.
"""

from __future__ import annotations

from server.namespaces import OWL, RDF, RDFS, XSD

BUILTIN_NAMESPACES = (RDF, RDFS, OWL, XSD)

# owlrl reports an inconsistency as [ a err:ErrorMessage ; err:error "…" ].
ERROR_NAMESPACE = "http://www.daml.org/2002/03/agents/agent-ont#"
ERROR_MESSAGE = ERROR_NAMESPACE + "ErrorMessage"
ERROR_TEXT = ERROR_NAMESPACE + "error"

# Built-in annotation properties: premises of no OWL 2 RL rule but eq-rep.
ANNOTATION_PROPERTIES = frozenset({
    RDFS + "label", RDFS + "comment", RDFS + "seeAlso", RDFS + "isDefinedBy",
    OWL + "versionInfo", OWL + "priorVersion", OWL + "backwardCompatibleWith",
    OWL + "incompatibleWith", OWL + "deprecated", OWL + "versionIRI",
})

# `x rdf:type T` for these T declares x and feeds no instance rule.
DECLARATION_TYPES = frozenset({
    OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty",
    RDF + "Property", OWL + "Class", RDFS + "Class", OWL + "NamedIndividual",
    OWL + "Ontology",
})

# OWL/RDFS predicates about individuals, not schema.
INSTANCE_PREDICATES = frozenset({OWL + "sameAs", OWL + "differentFrom", RDF + "type"})

# rdf:type objects in the built-in namespaces that type individuals (or
# literals, through a range or dt-type2), not schema.
INSTANCE_TYPES = frozenset({
    OWL + "Thing", OWL + "Nothing", OWL + "NamedIndividual", RDFS + "Resource",
    RDFS + "Literal", RDF + "langString", RDF + "PlainLiteral", RDF + "XMLLiteral",
    RDF + "HTML", RDF + "JSON", RDF + "dirLangString",
})

# RDF lists: schema triples although they are in the RDF namespace.
LIST_PREDICATES = frozenset({RDF + "first", RDF + "rest"})


def is_rule_vocabulary(predicate: str) -> bool:
    """A predicate of the RDF/RDFS/OWL/XSD vocabulary that some OWL 2 RL
    rule reads (every built-in predicate but the annotation properties)."""
    return predicate.startswith(BUILTIN_NAMESPACES) and predicate not in ANNOTATION_PROPERTIES
