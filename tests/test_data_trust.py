"""Trust in the data (issue 11, "Trust"): the graph says what the article
says, no more, and what it publishes describes the world, not the editing.

Checked on the built store of the shipped project (session fixture
`built_project`), in its named graphs: what was said (asserted), what the
OWL RL closure adds (entailed) and the ontology. Nothing here imports the
server package: the store is opened read-only with pyoxigraph.

1. No fact node carries an opinion. A claim (kop:Claim and its subclasses)
   is where an opinion lives, with its holder; a plain fact must not carry a
   holder or a claim's topic, nor take an evaluative word, purpose or effect
   from a sentence whose own statement is a judgement.
2. No published literal is an editor's note.
3. No funding, asserted or inferred, for anything whose cited sentences name
   no funder.
4. Citations are real: every fact cites existing sentences, every sentence
   is cited, statements cite the sentence that makes them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

KOP = "https://w3id.org/kopru/ontology#"
ID = "https://w3id.org/kopru/id/"
SRC = "https://w3id.org/kopru/source/article#"
PROV = "http://www.w3.org/ns/prov#"
GRAPH = "https://w3id.org/kopru/graph/"
ASSERTED = ox.NamedNode(GRAPH + "asserted")
ENTAILED = ox.NamedNode(GRAPH + "entailed")
ONTOLOGY = ox.NamedNode(GRAPH + "ontology")

PREFIXES = f"""PREFIX kop: <{KOP}>
PREFIX id: <{ID}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX prov: <{PROV}>
"""


# ---------------------------------------------------------------------------
# The article, read sentence by sentence (the ids are those of
# ../shared/source/sentences.txt; the texts are not reproduced here)
# ---------------------------------------------------------------------------

# Sentences whose own statement is a judgement, a reported opinion or a
# position, not a fact about the world. Whatever comes from them is a claim.
EVALUATIVE_SENTENCES = {
    "S02": "some analysts debate whether the policy is only rhetoric",
    "S03": "what some commentators focus on and others emphasise",
    "S04": "the article's own comparison with Russia and China ('more neutral')",
    "S15": "building highways 'is considered' vital for prosperity",
    "S32": "the partnership 'is considered' a pivot",
    "S37": "Türkiye 'positions itself' as a neutral mediator",
    "S39": "Türkiye 'is considered' an ardent supporter of Muslim communities",
    "S43": "'paramount importance', and what numerous observers assert",
    "S44": "what Türkiye 'maintains' its aim is",
    "S45": "the article's own evaluation: rising Islamophobia provokes discomfort",
    "S46": "what the European Islamophobia Report 'reveals'",
}

# Sentences that name who pays (funds, finances, invests). Read and decided
# one by one; the ones not listed name no funder, notably: S09 (facilitating
# development), S12–S13 (giving and sending aid), S17 (companies renovating:
# who does the work), S18 (airports as parts of a strategy), S22
# ('contributing to' energy infrastructure), S27 ('economic assistance', no
# project), S31 (MKE to make a factory operational), S41 (mosques 'being
# restored by' Türkiye: who does it, not who pays) and S42 (15 mosques
# repaired, by nobody named).
FUNDER_NAMING_SENTENCES = {
    "S08": "Ankara has accelerated its investments",
    "S10": "the Turkish government is a huge investor in Albania",
    "S11": "it (the Turkish government) is a top investor in Kosovo",
    "S14": "Ankara has made considerable investments in roads, airports, railways",
    "S16": "the Sarajevo–Belgrade highway, funded by Türkiye",
    "S19": "Ankara continues its investment in the Balkans",
    "S40": "TİKA provides financial support for restoring mosques and sites",
}

# The only sentence that speaks of Muslim majorities ("overwhelmingly Muslim
# populations"); S39 mentions the same communities but not majorities.
MAJORITY_SENTENCES = {"S05"}

# Properties that make a node an opinion wherever they appear: only a claim
# has a holder or a claim topic. Those with rdfs:domain kop:Claim (or a
# subclass) are added from the ontology by `opinion_properties`.
OPINION_PROPERTIES = {
    PROV + "wasAttributedTo": "the holder of a view: only claims are held by someone",
    KOP + "about": "what a claim is about (rdfs:domain kop:Claim)",
}

# Literal properties that carry the article's own words about a fact. On a
# fact they record the article's precision ("huge investor", "one of the
# first", "a strong backlash") and stay; they are an opinion when taken from
# a sentence whose statement is itself a judgement ("is considered a pivot",
# "is considered vital for prosperity"). So: a fact that is not a claim must
# not carry them if it cites an EVALUATIVE_SENTENCE.
EVALUATIVE_PROPERTIES = {
    KOP + "characterisation": "the article's qualitative word for a fact",
    KOP + "purpose": "what a fact is for; 'considered vital for' is a view, not a purpose",
    KOP + "effect": "a reported consequence; 'provokes discomfort' in S45 is a judgement",
}

# Wording that is a note for contributors, not a description of the thing,
# in any published literal of the asserted and the ontology graphs.
EDITORIAL_PATTERNS = [
    (re.compile(r"not yet linked", re.I), "linking status: a note for contributors"),
    (re.compile(r"\b(?:no|un)verified\b|verified (?:identifier|record|id)", re.I),
     "verification status of a link out"),
    (re.compile(r"\bgarbled\b", re.I), "an editor's verdict on the source text"),
    (re.compile(r"\bmost likely\b|\bprobabl[ey] (?:means?|meant|reading)\b|\bprobable reading\b",
                re.I), "an editor's guess at the source's meaning"),
    (re.compile(r"\bmisnames?\b|\bmisspell", re.I), "an editor's correction of the source"),
    (re.compile(r"\b(?:TODO|FIXME|XXX|TBD)\b"), "a to-do marker"),
    (re.compile(r"the article's\s*['‘\"“]", re.I), "how a word of the article maps to a node"),
    (re.compile(r"\b(?:is|are) read as\b|\bleft open here\b|\bthe graph does not choose\b"
                r"|\bboth (?:readings )?are kept\b|\bkept as the article\b|\bdata author",
                re.I), "a modelling decision, not the thing"),
    (re.compile(r"\bnote:|\beditor'?s note\b|\bnote for contributors\b", re.I), "a note"),
]

# Only in the data (asserted graph): the ontology's own documentation shows
# the sentence-id format ('S21') and points data authors to code lists (id:…).
DATA_ONLY_PATTERNS = [
    (re.compile(r"\bS\d\d\b"), "a sentence id in prose: provenance is kop:statedIn"),
    (re.compile(r"\bid:[a-z0-9]"), "another node's IRI in prose: a link belongs in a triple"),
]


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def store(built_project) -> ox.Store:
    _root, state = built_project
    db = Path(state) / "current" / "db"
    assert db.is_dir(), f"no built store at {db}"
    return ox.Store.read_only(str(db))


def select(store: ox.Store, query: str, *graphs: ox.NamedNode) -> list[dict]:
    """Run a SELECT with `graphs` as the default graph; rows as {var: term}."""
    result = store.query(PREFIXES + query, default_graph=list(graphs))
    names = [v.value for v in result.variables]
    return [{n: row[n] for n in names} for row in result]


def short(term) -> str:
    v = term.value if term is not None else ""
    for prefix, ns in (("id:", ID), ("kop:", KOP), ("src:", SRC), ("prov:", PROV),
                       ("rdfs:", "http://www.w3.org/2000/01/rdf-schema#"),
                       ("skos:", "http://www.w3.org/2004/02/skos/core#"),
                       ("dcterms:", "http://purl.org/dc/terms/")):
        if v.startswith(ns):
            return prefix + v[len(ns):]
    return v


def claim_classes(store: ox.Store) -> set[str]:
    rows = select(store, "SELECT DISTINCT ?c WHERE { ?c rdfs:subClassOf* kop:Claim }", ONTOLOGY)
    return {r["c"].value for r in rows}


def claim_nodes(store: ox.Store) -> set[str]:
    """Nodes asserted to be of a claim class. The asserted type decides: the
    closure would make anything with kop:about a kop:Claim (its domain), so
    an opinion property slipped onto a fact must not excuse itself."""
    classes = claim_classes(store)
    rows = select(store, "SELECT DISTINCT ?x ?t WHERE { ?x a ?t }", ASSERTED)
    return {r["x"].value for r in rows if r["t"].value in classes}


def fact_nodes(store: ox.Store) -> set[str]:
    rows = select(store, "SELECT DISTINCT ?x WHERE { ?x a kop:Fact }", ASSERTED, ENTAILED)
    return {r["x"].value for r in rows}


def cited(store: ox.Store) -> dict[str, set[str]]:
    """node → the ids of the sentences it cites (kop:statedIn)."""
    rows = select(store, """SELECT ?x ?sid WHERE {
        ?x kop:statedIn ?s . ?s kop:sentenceId ?sid }""", ASSERTED, ENTAILED)
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["x"].value, set()).add(r["sid"].value)
    return out


def opinion_properties(store: ox.Store) -> dict[str, str]:
    props = dict(OPINION_PROPERTIES)
    rows = select(store, """SELECT DISTINCT ?p WHERE {
        ?p rdfs:domain ?c . ?c rdfs:subClassOf* kop:Claim }""", ONTOLOGY)
    for r in rows:
        props.setdefault(r["p"].value, "rdfs:domain is a claim class")
    return props


def funding_properties(store: ox.Store) -> tuple[set[str], set[str]]:
    """(properties ⊑ kop:financedBy, their inverses), from the ontology."""
    rows = select(store, "SELECT DISTINCT ?p WHERE { ?p rdfs:subPropertyOf* kop:financedBy }",
                  ONTOLOGY)
    direct = {r["p"].value for r in rows}
    rows = select(store, """SELECT DISTINCT ?q WHERE {
        ?p rdfs:subPropertyOf* kop:financedBy .
        { ?q owl:inverseOf ?p } UNION { ?p owl:inverseOf ?q } }""", ONTOLOGY)
    return direct, {r["q"].value for r in rows}


def funded(store: ox.Store) -> dict[str, set[str]]:
    """thing → its funders, from every funding triple asserted or inferred
    (a kop:financedBy sub-property, or an inverse of one read backwards)."""
    direct, inverse = funding_properties(store)
    rows = select(store, "SELECT ?x ?p ?y WHERE { ?x ?p ?y FILTER(isIRI(?y)) }",
                  ASSERTED, ENTAILED)
    out: dict[str, set[str]] = {}
    for r in rows:
        p = r["p"].value
        if p in direct:
            out.setdefault(r["x"].value, set()).add(r["y"].value)
        elif p in inverse:
            out.setdefault(r["y"].value, set()).add(r["x"].value)
    return out


# ---------------------------------------------------------------------------
# 1. Opinions stay in claims
# ---------------------------------------------------------------------------

def test_opinion_and_evaluative_properties_are_declared(store):
    """The lists above name real terms (a renamed property would make the
    checks below pass vacuously)."""
    rows = select(store, "SELECT DISTINCT ?p WHERE { ?p a ?k . "
                         "FILTER(?k IN (owl:ObjectProperty, owl:DatatypeProperty)) }", ONTOLOGY)
    declared = {r["p"].value for r in rows}
    missing = [short(ox.NamedNode(p)) for p in [*OPINION_PROPERTIES, *EVALUATIVE_PROPERTIES]
               if p not in declared]
    assert not missing, f"not declared in the ontology: {missing}"


def test_no_fact_carries_a_holder_or_a_claim_topic(store):
    """A node that is a kop:Fact (asserted or inferred) and not asserted to be
    a claim carries no opinion property, in the asserted or entailed graph."""
    props = opinion_properties(store)
    claims = claim_nodes(store)
    facts = fact_nodes(store) - claims
    rows = select(store, "SELECT ?x ?p ?v WHERE { ?x ?p ?v }", ASSERTED, ENTAILED)
    bad = sorted({(short(r["x"]), short(r["p"]), short(r["v"])) for r in rows
                  if r["x"].value in facts and r["p"].value in props})
    assert not bad, ("facts (not claims) carrying an opinion property — make them a "
                     "kop:Claim with its holder, or drop the property:\n"
                     + "\n".join(f"  {x} {p} {v}" for x, p, v in bad))


def test_no_fact_takes_an_evaluative_word_from_a_judgement(store):
    """The pivot of S32, the prosperity of S15, the discomfort of S45: an
    evaluative word, purpose or effect on a plain fact must not come from a
    sentence whose statement is a judgement (EVALUATIVE_SENTENCES)."""
    claims = claim_nodes(store)
    facts = fact_nodes(store) - claims
    sentences = cited(store)
    rows = select(store, "SELECT ?x ?p ?v WHERE { ?x ?p ?v FILTER(isLiteral(?v)) }",
                  ASSERTED, ENTAILED)
    bad = []
    for r in rows:
        x, p = r["x"].value, r["p"].value
        if x in facts and p in EVALUATIVE_PROPERTIES:
            judgements = sorted(sentences.get(x, set()) & set(EVALUATIVE_SENTENCES))
            if judgements:
                bad.append(f"  {short(r['x'])} {short(r['p'])} {r['v'].value!r} "
                           f"(cites {', '.join(judgements)})")
    assert not bad, ("a fact takes an evaluative word from a sentence that states an "
                     "opinion; record it on a kop:Claim with its holder instead:\n"
                     + "\n".join(sorted(bad)))


@pytest.mark.parametrize("sid", sorted(EVALUATIVE_SENTENCES))
def test_every_judgement_is_recorded_as_a_claim(store, sid):
    """Each evaluative sentence is cited by at least one claim with a holder
    (S45 used to be a kop:Trend: a fact with nobody holding it)."""
    rows = select(store, f"""SELECT DISTINCT ?c ?holder WHERE {{
        ?c kop:statedIn <{SRC}{sid}> ; prov:wasAttributedTo ?holder }}""", ASSERTED)
    claims = claim_nodes(store)
    held = [r for r in rows if r["c"].value in claims]
    assert held, (f"{sid} ({EVALUATIVE_SENTENCES[sid]}) is a judgement but no claim "
                  f"(kop:AttributedOpinion, kop:StatedPosition, kop:Assessment) with a "
                  f"holder cites it")


# ---------------------------------------------------------------------------
# 2. Published literals describe the thing, not the editing
# ---------------------------------------------------------------------------

def _published_literals(store: ox.Store, graph: ox.NamedNode,
                        skip_subjects: set[str] = frozenset()) -> list[tuple[str, str, str]]:
    """(subject, property, text) of every text literal of `graph`: labels,
    comments, summaries, definitions, descriptions… (kop:sentenceId, an
    identifier, is not prose)."""
    rows = select(store, """SELECT ?s ?p ?o WHERE { ?s ?p ?o
        FILTER(isLiteral(?o) && (lang(?o) != "" || datatype(?o) = xsd:string))
        FILTER(?p != kop:sentenceId) }""", graph)
    return [(short(r["s"]), short(r["p"]), r["o"].value) for r in rows
            if r["s"].value not in skip_subjects]


@pytest.mark.parametrize("graph", [ASSERTED, ONTOLOGY], ids=["asserted", "ontology"])
def test_no_published_literal_is_an_editors_note(store, graph):
    literals = _published_literals(store, graph)
    assert literals, "no literals found: is the store built?"
    bad = [f"  {s} {p}: {why}: {text[:110]!r}"
           for s, p, text in literals for rx, why in EDITORIAL_PATTERNS if rx.search(text)]
    assert not bad, ("published literals (shown on the pages) that are notes for "
                     "contributors; move them to Turtle # comments or docs/coverage.md:\n"
                     + "\n".join(sorted(bad)))


def test_no_data_literal_cites_sentence_ids_or_iris(store):
    """A sentence's own label names its id ('Sentence S05 (paragraph 2)'):
    that describes the thing, so the sentences are left out."""
    sentences = {r["s"].value for r in select(
        store, "SELECT ?s WHERE { ?s a kop:SourceSentence }", ASSERTED)}
    literals = _published_literals(store, ASSERTED, skip_subjects=sentences)
    bad = [f"  {s} {p}: {why}: {text[:110]!r}"
           for s, p, text in literals for rx, why in DATA_ONLY_PATTERNS if rx.search(text)]
    assert not bad, "editorial cross-references in published literals:\n" + "\n".join(sorted(bad))


# ---------------------------------------------------------------------------
# 3. Funding only where the article names a funder
# ---------------------------------------------------------------------------

def test_funding_properties_come_from_the_ontology(store):
    direct, inverse = funding_properties(store)
    assert {KOP + "financedBy", KOP + "fundedBy", KOP + "investor"} <= direct, direct
    assert {KOP + "finances", KOP + "funds"} <= inverse, inverse


def test_funding_only_where_a_cited_sentence_names_a_funder(store):
    """Every fact with a funding triple (asserted or inferred by the closure:
    sub-properties, inverses, the property chains) cites at least one
    sentence that names a funder."""
    funders = funded(store)
    sentences = cited(store)
    assert ID + "sarajevo-belgrade-highway" in funders, \
        "the funding query found nothing: the check would be vacuous"
    listing = "\n".join(
        f"  {short(ox.NamedNode(x))}: cites {sorted(sentences.get(x, set()))}, "
        f"funded by {sorted(short(ox.NamedNode(f)) for f in fs)}"
        for x, fs in sorted(funders.items()))
    bad = [x for x in funders if not sentences.get(x, set()) & set(FUNDER_NAMING_SENTENCES)]
    assert not bad, (
        "funding (asserted or inferred) for facts whose sentences name no funder: "
        f"{sorted(short(ox.NamedNode(x)) for x in bad)}\nall funded facts:\n{listing}")


@pytest.mark.parametrize("slug", ["bosnia-war-damaged-mosques-restoration",
                                  "banja-luka-mosque-repairs"])
def test_bosnian_mosque_restorations_are_carried_out_by_turkiye_not_funded(store, slug):
    """S41: 'are being restored by Türkiye'; S42: Banja Luka's 15, an example.
    Neither names a funder, so nothing — TİKA's programme included — may be
    inferred to pay for them."""
    node = ID + slug
    assert node not in funded(store), (
        f"{slug} has a funder {sorted(funded(store)[node])}, asserted or inferred; "
        "the article names none (is it kop:partOf a funded programme?)")
    rows = select(store, f"SELECT (1 AS ?ok) WHERE {{ <{node}> kop:implementedBy id:turkiye }}",
                  ASSERTED, ENTAILED)
    assert rows, f"{slug}: S41 says Türkiye carries out the restoration (kop:implementedBy)"


# ---------------------------------------------------------------------------
# 4. Citations are real
# ---------------------------------------------------------------------------

def _sentences(store: ox.Store) -> dict[str, str]:
    rows = select(store, "SELECT ?s ?sid WHERE { ?s a kop:SourceSentence ; kop:sentenceId ?sid }",
                  ASSERTED)
    return {r["s"].value: r["sid"].value for r in rows}


def test_the_source_has_its_46_sentences(store):
    sentences = _sentences(store)
    assert sorted(sentences.values()) == [f"S{i:02d}" for i in range(1, 47)]
    for iri, sid in sentences.items():
        assert iri == SRC + sid, (iri, sid)


def test_every_fact_cites_an_existing_sentence(store):
    """Also the nodes only the closure makes facts (a kop:fundedBy makes its
    subject a kop:Project): the shapes see only the asserted graph."""
    sentences = _sentences(store)
    rows = select(store, "SELECT ?x ?s WHERE { ?x kop:statedIn ?s }", ASSERTED, ENTAILED)
    cites: dict[str, set[str]] = {}
    for r in rows:
        cites.setdefault(r["x"].value, set()).add(r["s"].value)
    dangling = sorted(f"{short(ox.NamedNode(x))} → {short(ox.NamedNode(s))}"
                      for x, ss in cites.items() for s in ss if s not in sentences)
    assert not dangling, f"citations of sentences that do not exist: {dangling}"
    uncited = sorted(short(ox.NamedNode(x)) for x in fact_nodes(store) if not cites.get(x))
    assert not uncited, f"facts (asserted or inferred) citing no sentence: {uncited}"


def test_every_sentence_is_cited_by_a_fact(store):
    sentences = set(_sentences(store).values())
    facts = fact_nodes(store)
    citing = {sid for x, sids in cited(store).items() if x in facts for sid in sids}
    assert sentences - citing == set(), f"sentences no fact cites: {sorted(sentences - citing)}"


def test_majorities_cite_the_sentence_about_majorities(store):
    """kop:majorityIn nodes (Muslim majorities in Bosnia and Herzegovina,
    Kosovo, Albania) cite S05 and no sentence that says nothing of majorities
    (they used to cite S39 too)."""
    rows = select(store, "SELECT DISTINCT ?x WHERE { ?x kop:majorityIn ?place }", ASSERTED)
    nodes = [r["x"].value for r in rows]
    assert nodes, "no kop:majorityIn statement found"
    sentences = cited(store)
    for x in nodes:
        got = sentences.get(x, set())
        assert got & MAJORITY_SENTENCES, f"{short(ox.NamedNode(x))} cites {sorted(got)}"
        assert got <= MAJORITY_SENTENCES, (
            f"{short(ox.NamedNode(x))} cites {sorted(got - MAJORITY_SENTENCES)}, "
            "which say nothing of majorities")
