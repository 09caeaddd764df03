"""The shapes' broken examples, one per constraint, shared by tests/test_shapes.py
(through `kopru validate`) and tests/test_validation_engines.py (each
validator against pyshacl). Each example is added to a minimal valid project
(the shipped ontology and CONTEXT) in a file of its own (Case.file), alone or
with all the others: no two examples name the same entity, so together each
one fails as it does alone.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIXES = """\
@prefix kop:     <https://w3id.org/kopru/ontology#> .
@prefix id:      <https://w3id.org/kopru/id/> .
@prefix src:     <https://w3id.org/kopru/source/article#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl:     <http://www.w3.org/2002/07/owl#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix time:    <http://www.w3.org/2006/time#> .
@prefix schema:  <http://schema.org/> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix geo:     <http://www.opengis.net/ont/geosparql#> .
"""

# The minimal valid context every case builds on: the document, one sentence,
# two states in their regions, a year, and one well-formed fact.
CONTEXT = PREFIXES + """
<https://w3id.org/kopru/source/article> a kop:SourceDocument ;
    rdfs:label "Source article"@en ;
    kop:publicationTime id:article-publication .
src:S26 a kop:SourceSentence ;
    rdfs:label "Sentence S26 (paragraph 6)"@en ;
    kop:sentenceId "S26" ; kop:paragraph 6 ;
    dcterms:isPartOf <https://w3id.org/kopru/source/article> .

id:article-publication a time:Instant ;
    rdfs:label "Publication of the source article"@en .
id:year-2021 a time:Instant ;
    rdfs:label "2021"@en ;
    time:inXSDgYear "2021"^^xsd:gYear .

id:europe a kop:Region ; rdfs:label "Europe"@en .
id:western-balkans a kop:Region ; rdfs:label "Western Balkans"@en ; kop:within id:europe .
id:turkiye a kop:State , kop:Country ;
    rdfs:label "Türkiye"@en , "Türkiye"@tr ;
    kop:within id:europe ;
    skos:exactMatch <http://www.wikidata.org/entity/Q43> , <https://sws.geonames.org/298795/> .
id:albania a kop:State , kop:Country ;
    rdfs:label "Albania"@en , "Shqipëria"@sq ;
    kop:within id:western-balkans ;
    skos:exactMatch <http://www.wikidata.org/entity/Q222> , <http://dbpedia.org/resource/Albania> .

id:turkiye-albania-strategic-partnership-agreement a kop:StrategicPartnershipAgreement ;
    rdfs:label "Türkiye–Albania strategic partnership agreement (2021)"@en ;
    kop:party id:turkiye , id:albania ;
    kop:signedOn id:year-2021 ;
    kop:sector id:sector-diplomacy ;
    kop:summary "In 2021 Türkiye and Albania agreed to raise their ties to a strategic partnership."@en ;
    kop:statedIn src:S26 .
"""

# What a well-formed fact needs besides its type and its own properties.
OK = 'rdfs:label "A test fact"@en ; kop:summary "A summary written for this test."@en ; kop:statedIn src:S26'


@dataclass(frozen=True)
class Case:
    name: str
    turtle: str        # the broken example (prefixes are added)
    entity: str        # how the report names the focus node
    prop: str | None   # the property as a prefixed name (None: a node-level constraint)
    message: str       # a fragment of the shape's sh:message

    @property
    def file(self) -> str:
        """Where the example goes in the project, relative to its root."""
        return f"graph/{self.name}.ttl"


CASES = [
    Case("undeclared-property",
         f"id:broken-highway a kop:HighwayProject ; {OK} ; kop:fundedby id:turkiye .",
         "id:broken-highway", "kop:fundedby", "is not a term of the Köprü ontology"),
    Case("undeclared-class",
         'id:broken-thing a kop:Projekt ; rdfs:label "A misspelt class"@en .',
         "id:broken-thing", "rdf:type", "is not a term of the Köprü ontology"),
    Case("no-english-label",
         'id:broken-company a kop:Company ; rdfs:label "Bir şirket"@tr .',
         "id:broken-company", "rdfs:label", "Needs exactly one English label"),
    Case("agreement-one-party",
         f"id:broken-pact a kop:DefenceCooperationPact ; {OK} ; kop:party id:turkiye .",
         "id:broken-pact", "kop:party",
         "An agreement needs at least two parties (kop:party); add the other signatory."),
    Case("party-not-actor",
         f"id:broken-training-agreement a kop:MilitaryTrainingAgreement ; {OK} ; "
         "kop:party id:turkiye , id:sector-trade .",
         "id:broken-training-agreement", "kop:party", "a node typed as an actor"),
    Case("fact-without-source",
         'id:broken-unsourced-exercise a kop:JointExercise ; rdfs:label "Exercise"@en ; '
         'kop:summary "Two states held an exercise together."@en ; kop:participant id:turkiye , id:albania .',
         "id:broken-unsourced-exercise", "kop:statedIn", "A fact must cite at least one source sentence"),
    Case("fact-without-summary",
         'id:broken-unsummarised-exercise a kop:JointExercise ; rdfs:label "Exercise"@en ; '
         "kop:statedIn src:S26 ; kop:participant id:turkiye , id:albania .",
         "id:broken-unsummarised-exercise", "kop:summary", "A fact needs exactly one English summary"),
    Case("cites-unknown-sentence",
         'id:broken-miscited-exercise a kop:JointExercise ; rdfs:label "Exercise"@en ; '
         'kop:statedIn src:S99 ; kop:summary "Two states held an exercise together."@en ; '
         "kop:participant id:turkiye , id:albania .",
         "id:broken-miscited-exercise", "kop:statedIn", "kop:statedIn must point to a source sentence"),
    Case("year-not-gyear",
         'id:broken-year a time:Instant ; rdfs:label "1996"@en ; time:inXSDgYear 1996 .',
         "id:broken-year", "time:inXSDgYear", "time:inXSDgYear takes one xsd:gYear"),
    Case("signed-on-literal",
         f"id:broken-industry-agreement a kop:DefenceIndustryAgreement ; {OK} ; "
         'kop:party id:turkiye , id:albania ; kop:signedOn "1996"^^xsd:gYear .',
         "id:broken-industry-agreement", "kop:signedOn", "kop:signedOn points to a time individual"),
    Case("amount-not-decimal",
         f"id:broken-flow-float a kop:TradeFlow ; {OK} ; kop:exporter id:turkiye ; kop:importer id:albania ; "
         'kop:tradeValue id:broken-amount-float .\n'
         'id:broken-amount-float a schema:MonetaryAmount ; schema:value 9.195e8 ; schema:currency "USD" .',
         "id:broken-amount-float", "schema:value", "non-negative xsd:decimal"),
    Case("currency-not-iso-4217",
         f"id:broken-flow-dollar a kop:TradeFlow ; {OK} ; kop:exporter id:turkiye ; "
         'kop:importer id:albania ; kop:tradeValue id:broken-amount-dollar .\n'
         'id:broken-amount-dollar a schema:MonetaryAmount ; schema:value 919500000.0 ; schema:currency "$" .',
         "id:broken-amount-dollar", "schema:currency", "an ISO 4217 code"),
    Case("wikidata-link-malformed",
         'id:broken-kosovo a kop:State , kop:Country ; rdfs:label "Kosovo"@en ; '
         "skos:exactMatch <https://www.wikidata.org/wiki/Q1246> .",
         "id:broken-kosovo", "skos:exactMatch", "skos:exactMatch must be a Wikidata entity"),
    Case("owl-sameas",
         'id:broken-serbia a kop:State , kop:Country ; rdfs:label "Serbia"@en ; '
         "owl:sameAs <http://www.wikidata.org/entity/Q403> .",
         "id:broken-serbia", "owl:sameAs", "Do not use owl:sameAs"),
    Case("aid-item-from-wrong-list",
         f"id:broken-aid a kop:HumanitarianAidDelivery ; {OK} ; kop:provider id:turkiye ; "
         "kop:recipient id:albania ; kop:aidItem id:blankets , id:textiles .",
         "id:broken-aid", "kop:aidItem", "kop:aidItem takes a concept of id:aid-item-kinds"),
    Case("vague-quantity-as-count",
         f"id:broken-restoration a kop:ReligiousHeritageRestoration ; {OK} ; "
         'kop:assetKind id:asset-mosque ; kop:quantity "dozens"@en .',
         "id:broken-restoration", "kop:quantity", "kop:quantity is one exact count, an xsd:integer"),
    Case("claim-without-holder",
         f"id:broken-claim a kop:AttributedOpinion ; {OK} ; kop:about id:turkiye .",
         "id:broken-claim", "prov:wasAttributedTo", "A claim needs its holder (prov:wasAttributedTo)"),
    Case("sentence-id-malformed",
         'src:S47 a kop:SourceSentence ; rdfs:label "Sentence 47"@en ; kop:sentenceId "47" ; '
         "kop:paragraph 10 ; dcterms:isPartOf <https://w3id.org/kopru/source/article> .",
         "src:S47", "kop:sentenceId", 'one kop:sentenceId like "S21"'),
    Case("country-not-state",
         'id:broken-montenegro a kop:Country ; rdfs:label "Montenegro"@en ; kop:within id:western-balkans .',
         "id:broken-montenegro", None, "type the node both kop:Country and kop:State"),
    Case("wkt-malformed",
         'id:broken-town a kop:City ; rdfs:label "Banja Luka"@en ; kop:within id:albania ; '
         "geo:hasGeometry id:broken-point .\n"
         'id:broken-point a geo:Geometry ; rdfs:label "point"@en ; '
         'geo:asWKT "POINT(44.7758, 17.1856)"^^geo:wktLiteral .',
         "id:broken-point", "geo:asWKT", 'one geo:asWKT "POINT(longitude latitude)"'),
]
