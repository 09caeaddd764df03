"""The fast OWL 2 RL engine (server/reasoning/fast.py) against owlrl, the reference.

- The shipped graph with a 1k-triple synthetic project (bench/generate.py)
  beside it in `make test` (one owlrl run: its time is mostly the
  ontology's), each alone and a 10k one in `make fuzz-reasoning`: the
  entailed graph of the fast engine equals that of owlrl's plain
  DeductiveClosure (`infer(parsed, exact=True)`) after the same noise
  filter, up to an explicit allowed-difference set (empty today; see
  docs/scale.md).
- Small graphs, one per OWL 2 RL construct the fast engine implements
  (equality, functional properties, chains, class expressions, disjointness
  and the other consistency checks): same entailed graph and the same
  inconsistency messages as owlrl.
- Constructs it does not implement fall back to owlrl, and say so.

The 10k comparison runs owlrl on 10k triples: about 30 s (more under load),
so it is a proof run, in `make fuzz-reasoning` (KOPRU_LONG_PROOFS=1) beside
the fuzzing; `make test` compares the shipped graph and 1k synthetic
triples together (owlrl ≈7 s, where each alone takes ≈5 s) on every run,
and validates a 4.5k set (the 10k one's validation is in the proof run too).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from helpers import long_proof

from server.pipeline.parse import parse_project
from server.pipeline.project import Project
from server.terms import to_rdflib_graph

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402  (bench/generate.py)
from reasoning_compare import PREFIXES  # noqa: E402  (the examples' prefixes)

# Triples the fast engine may entail that owlrl does not (EXTRA), or miss
# (MISSING), on the shipped and 10k graphs. Both empty: the engines agree
# exactly. Any entry added here must be explained in docs/scale.md.
ALLOWED_EXTRA: set = set()
ALLOWED_MISSING: set = set()


def _compare(parsed):
    from server.reasoning.infer import infer

    fast = infer(parsed, engine="fast")
    exact = infer(parsed, exact=True)
    assert fast.engine == "fast" and exact.engine == "exact"
    extra = set(fast.entailed) - set(exact.entailed)
    missing = set(exact.entailed) - set(fast.entailed)
    assert extra == ALLOWED_EXTRA, sorted(extra)[:20]
    assert missing == ALLOWED_MISSING, sorted(missing)[:20]
    assert _messages(fast) == _messages(exact)
    return fast, exact


def _messages(result) -> list[str]:
    return sorted(i.owlrl_message() for i in result.inconsistencies)


TOGETHER_IN_MAKE_TEST = long_proof("fuzz-reasoning", "compares the shipped graph and 1k "
                                                   "synthetic triples together")


def synthetic_1k(out: Path) -> Path:
    """1k synthetic triples in several files (as many of the fast engine's
    rules fire as at 10k)."""
    n = generate.generate(out, 1_000, seed=1, file_triples=500)
    assert 1_000 <= n < 1_100
    assert len(list((out / "graph").glob("*.ttl"))) > 5
    return out


def test_fast_equals_owlrl_on_shipped_graph_with_1k_synthetic(repo_root, tmp_path):
    """The shipped project with the 1k synthetic graph files beside its own
    (the synthetic entities are all under id/synthetic/; both use the
    shipped ontology): one owlrl run checks both kinds of data."""
    project = generate.beside_shipped(tmp_path / "p", synthetic_1k(tmp_path / "synthetic"))
    shipped = parse_project(Project(repo_root)).count("graph")
    parsed = parse_project(Project(project))
    assert parsed.count("graph") >= shipped + 1_000
    fast, _exact = _compare(parsed)
    assert len(fast.entailed) > 3_000


@TOGETHER_IN_MAKE_TEST
def test_fast_equals_owlrl_on_shipped_graph(repo_root):
    fast, _exact = _compare(parse_project(Project(repo_root)))
    assert len(fast.entailed) > 1000


def test_default_engine_is_fast_and_selectable(repo_root, monkeypatch):
    from server.reasoning.infer import infer_oxigraph

    parsed = parse_project(Project(repo_root))
    monkeypatch.delenv("KOPRU_REASONER", raising=False)
    r = infer_oxigraph(parsed)
    assert r.engine == "fast" and not r.fallback
    monkeypatch.setenv("KOPRU_REASONER", "owlrl")
    r2 = infer_oxigraph(parsed)
    assert r2.engine == "owlrl"
    assert set(r.entailed) == set(r2.entailed)
    monkeypatch.setenv("KOPRU_REASONER", "nonsense")
    with pytest.raises(ValueError, match="KOPRU_REASONER"):
        infer_oxigraph(parsed)


# --- synthetic data ----------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic_10k(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic-10k")
    n = generate.generate(out, 10_000, seed=1, file_triples=3_000)
    assert 10_000 <= n < 10_100
    return out


def test_generator_is_deterministic_and_split(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate.generate(a, 3_000, seed=7, file_triples=1_000)
    generate.generate(b, 3_000, seed=7, file_triples=1_000)
    files = sorted(p.name for p in (a / "graph").glob("*.ttl"))
    assert len(files) > 5
    assert files == sorted(p.name for p in (b / "graph").glob("*.ttl"))
    for name in files:
        assert (a / "graph" / name).read_bytes() == (b / "graph" / name).read_bytes()
    assert (a / "ontology" / "shapes.ttl").is_file()
    parsed = parse_project(Project(a))
    assert 3_000 <= parsed.count("graph") < 3_100


def test_synthetic_4k_is_valid(tmp_path, runner):
    """What the 10k set below shows, on every run: the generator's data is
    valid, over several files and past the first source document's 100
    sentences (a second document begins)."""
    generate.generate(tmp_path, 4_500, seed=1, file_triples=500)
    assert len(list((tmp_path / "graph").glob("sources-*.ttl"))) > 1
    assert "d00002" in "".join(p.read_text() for p in (tmp_path / "graph").glob("*.ttl"))
    r = runner.invoke("--project", tmp_path, "validate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("valid:")


@long_proof("fuzz-reasoning", "validates 4.5k")
def test_synthetic_10k_is_valid(synthetic_10k, runner):
    r = runner.invoke("--project", synthetic_10k, "validate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("valid:")


@TOGETHER_IN_MAKE_TEST
def test_fast_equals_owlrl_on_1k_synthetic(tmp_path):
    fast, _exact = _compare(parse_project(Project(synthetic_1k(tmp_path))))
    assert len(fast.entailed) > 2_000


@long_proof("fuzz-reasoning", "compares 1k beside the shipped graph")
def test_fast_equals_owlrl_on_10k_synthetic(synthetic_10k):
    """SLOW (owlrl's plain closure of 10k triples takes about 30 s): run by
    `make fuzz-reasoning`, not `make test`, which checks the same at 1k."""
    fast, _exact = _compare(parse_project(Project(synthetic_10k)))
    assert len(fast.entailed) > 15_000


# --- one construct at a time --------------------------------------------------------



def _triples(ttl: str) -> list:
    return [q.triple for q in ox.parse(PREFIXES + ttl, ox.RdfFormat.TURTLE)]


def _owlrl(onto: list, data: list):
    import owlrl
    from rdflib import Graph

    from server.reasoning.noise import filter_entailed

    ontology, asserted = to_rdflib_graph(onto), to_rdflib_graph(data)
    work = Graph()
    for t in ontology:
        work.add(t)
    for t in asserted:
        work.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(work)
    entailed, _dropped, errors = filter_entailed(work, asserted, ontology)
    return set(entailed), errors


def _same_as_owlrl(onto_ttl: str, data_ttl: str):
    from server.reasoning.fast import materialise

    onto, data = _triples(onto_ttl), _triples(data_ttl)
    ref, ref_errors = _owlrl(onto, data)
    r = materialise(onto, data)
    fast = set(to_rdflib_graph(r.entailed))
    assert fast - ref == set(), sorted(fast - ref)
    assert ref - fast == set(), sorted(ref - fast)
    assert sorted(i.owlrl_message() for i in r.inconsistencies) == ref_errors
    return fast, r


def _has(entailed, s, p, o) -> bool:
    from rdflib import URIRef

    ex = "http://example.org/"
    full = {"a": "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            "sameAs": "http://www.w3.org/2002/07/owl#sameAs"}
    return (URIRef(ex + s), URIRef(full.get(p, ex + p)), URIRef(ex + o)) in entailed


CASES = {
    "hierarchy, domain, range, inverse, symmetric, transitive": ("""
        :B rdfs:subClassOf :A . :C owl:equivalentClass :B .
        :p rdfs:domain :C ; rdfs:range :A ; rdfs:subPropertyOf :q .
        :q owl:inverseOf :qi . :q owl:equivalentProperty :r .
        :s a owl:SymmetricProperty . :t a owl:TransitiveProperty .
        :t rdfs:subPropertyOf :s .
    """, """
        :x :p :y . :y :t :z . :z :t :w . :w :s :v .
    """, [("x", "a", "A"), ("y", "qi", "x"), ("x", "r", "y"), ("y", "t", "w"),
          ("w", "s", "y"), ("v", "s", "w")]),
    "property chains, length 2 and 3, and an inverse in a chain": ("""
        :loc owl:propertyChainAxiom ( :loc :within ) . :within a owl:TransitiveProperty .
        :grand owl:propertyChainAxiom ( :parent :parent :parent ) .
        :child owl:propertyChainAxiom ( [ owl:inverseOf :parent ] ) .
    """, """
        :e :loc :c1 . :c1 :within :c2 . :c2 :within :c3 .
        :a :parent :b . :b :parent :c . :c :parent :d .
    """, [("e", "loc", "c3"), ("a", "grand", "d"), ("b", "child", "a")]),
    "equality: sameAs, functional and inverse-functional properties": ("""
        :capital a owl:FunctionalProperty . :code a owl:InverseFunctionalProperty .
        :name a owl:DatatypeProperty .
    """, """
        :al :capital :tirana , :tirana2 . :tirana2 :name "Tiranë" .
        :k1 :code :c . :k2 :code :c . :k2 :name "K" . :z :link :k1 .
        :sh owl:sameAs :al . :al :rel :sh .
    """, [("tirana", "sameAs", "tirana2"), ("k1", "sameAs", "k2"), ("z", "link", "k2"),
          ("sh", "capital", "tirana"), ("al", "rel", "al")]),
    "class expressions: intersection, union, values, oneOf": ("""
        :Both owl:intersectionOf ( :A :B ) .
        :Either owl:unionOf ( :A :B ) .
        :HasRed a owl:Restriction ; owl:onProperty :colour ; owl:hasValue :red .
        :SomeA a owl:Restriction ; owl:onProperty :knows ; owl:someValuesFrom :A .
        :AnyKnows a owl:Restriction ; owl:onProperty :knows ; owl:someValuesFrom owl:Thing .
        :AllA a owl:Restriction ; owl:onProperty :likes ; owl:allValuesFrom :A .
        :Primary owl:oneOf ( :red :green :blue ) .
    """, """
        :x a :A , :B . :y a :B ; :colour :red . :h a :HasRed .
        :u :knows :x . :l a :AllA ; :likes :m . :w a :Both .
    """, [("x", "a", "Both"), ("y", "a", "Either"), ("y", "a", "HasRed"),
          ("h", "colour", "red"), ("u", "a", "SomeA"), ("u", "a", "AnyKnows"), ("m", "a", "A"),
          ("w", "a", "A"), ("green", "a", "Primary")]),
    "schema entailed by the data (a second round)": ("""
        :declares rdfs:range owl:Class . :Sub rdfs:subClassOf :Super .
        :kindOf rdfs:subPropertyOf rdfs:subClassOf .
    """, """
        :doc :declares :NewClass . :Thing2 :kindOf :Super . :i a :Thing2 .
    """, [("i", "a", "Super")]),
    "inconsistencies: disjointness, properties, Nothing, differentFrom": ("""
        :A owl:disjointWith :B .
        [] a owl:AllDisjointClasses ; owl:members ( :C :D :E ) .
        :p owl:propertyDisjointWith :q . :irr a owl:IrreflexiveProperty .
        :asym a owl:AsymmetricProperty .
        :n rdfs:range xsd:integer .
    """, """
        :x a :A , :B . :y a :D , :E . :a :p :b ; :q :b . :s :irr :s .
        :m :asym :o . :o :asym :m . :z a owl:Nothing . :d owl:differentFrom :d .
        :e owl:sameAs :f . :f owl:differentFrom :e .
        :lit :n "7"^^xsd:integer , "seven" , "x"^^xsd:integer .
    """, []),
}


@pytest.mark.parametrize("name", list(CASES))
def test_construct_same_as_owlrl(name):
    onto, data, expected = CASES[name]
    entailed, r = _same_as_owlrl(onto, data)
    for t in expected:
        assert _has(entailed, *t), t
    if name.startswith("inconsistencies"):
        assert len(r.inconsistencies) >= 8, r.inconsistencies
    if name.startswith("schema"):
        assert r.stats["rounds"] == 2


@pytest.mark.parametrize("axiom", [
    ":C owl:hasKey ( :p ) .",
    ":R owl:onProperty :p ; owl:maxCardinality 1 .",
    ":C owl:complementOf :D .",
    "[] a owl:AllDifferent ; owl:members ( :a :b ) .",
])
def test_unsupported_construct_falls_back_to_owlrl(tmp_path, axiom):
    from server.reasoning.fast import Unsupported, materialise
    from server.reasoning.infer import infer_oxigraph

    with pytest.raises(Unsupported, match="does not implement"):
        materialise(_triples(axiom), [])
    (tmp_path / "ontology").mkdir()
    (tmp_path / "ontology" / "o.ttl").write_text(PREFIXES + axiom)
    r = infer_oxigraph(parse_project(Project(tmp_path)), engine="fast")
    assert r.engine == "owlrl" and "does not implement" in r.fallback


# --- the one noise filter -------------------------------------------------------------


def test_noise_filter_decides_alike_on_rdflib_and_oxigraph_terms(repo_root):
    """Every triple of owlrl's closure of the shipped ontology gets the same
    verdict whether the filter sees rdflib terms (owlrl's path) or the
    fast engine's integer ids over pyoxigraph terms."""
    import owlrl
    from rdflib import BNode, Literal, URIRef

    from server.reasoning.noise import DROP_REASONS, OxigraphFlags, RdflibFlags
    from server.terms import to_oxigraph_term

    parsed = parse_project(Project(repo_root))
    work = to_rdflib_graph(parsed.triples("ontology"))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(work)
    x = URIRef("http://example.org/x")
    generalized = [(x, BNode("p"), x), (x, Literal("p"), x)]   # owlrl removes these itself
    rdflib_flags = RdflibFlags()
    ids: dict = {}
    terms: list = []

    def oxid(t) -> int:
        if t not in ids:
            ids[t] = len(terms)
            terms.append(to_oxigraph_term(t))
        return ids[t]

    ox_flags = OxigraphFlags(terms)
    seen = dict.fromkeys(DROP_REASONS, 0)
    for s, p, o in list(work) + generalized:
        why = rdflib_flags.reason(s, p, o)
        assert ox_flags.reason(oxid(s), oxid(p), oxid(o)) == why, (s, p, o)
        if why:
            seen[why] += 1
    # the closure exercises every reason but owlrl's error reports
    assert all(n > 0 for r, n in seen.items() if r != "inconsistency"), seen


# --- incremental: one more file ---------------------------------------------------------


def test_adding_a_file_continues_the_fixpoint(repo_root):
    """Closure.add(file) gives the closure of everything, without redoing it."""
    from server.reasoning.fast import Closure, materialise

    parsed = parse_project(Project(repo_root))
    files = parsed.by_role("graph")
    last = next(f for f in files if f.relpath.endswith("projects.ttl"))
    rest = [t for f in files if f is not last for t in f.triples]
    onto = list(parsed.triples("ontology"))
    whole = materialise(onto, rest + last.triples)

    c = Closure(onto, rest)
    before = set(c.result().entailed)
    delta = c.add(last.triples)
    assert not delta.recomputed and delta.added
    after = c.result()
    assert set(after.entailed) == set(whole.entailed)
    assert _messages(after) == _messages(whole)
    assert set(delta.added) == set(after.entailed) - before
    assert set(delta.removed) == before - set(after.entailed)


def test_adding_entailed_or_schema_triples(tmp_path):
    from server.reasoning.fast import Closure, materialise

    onto = _triples(":B rdfs:subClassOf :A . :p rdfs:domain :B .")
    data = _triples(":x :p :y .")
    c = Closure(onto, data)
    assert _has(set(to_rdflib_graph(c.result().entailed)), "x", "a", "A")
    # asserting what was entailed moves it out of the entailed graph
    d = c.add(_triples(":x a :A ."))
    assert not d.recomputed and len(d.removed) == 1 and not d.added
    assert set(c.result().entailed) == set(materialise(onto, data + _triples(":x a :A ."))
                                           .entailed)
    # a schema triple in the data: recomputed, same result as from scratch
    more = _triples(":A rdfs:subClassOf :Top . :z :p :w .")
    d = c.add(more)
    assert d.recomputed and d.added
    full = materialise(onto, data + _triples(":x a :A .") + more)
    assert set(c.result().entailed) == set(full.entailed)
    assert _has(set(to_rdflib_graph(c.result().entailed)), "z", "a", "Top")


# --- what a contributor sees -------------------------------------------------------------

CONTRADICTIONS = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
id:albania a kop:Company .
id:albania owl:differentFrom id:albania .
"""


@pytest.mark.parametrize("engine", ["fast", "fast, falling back to owlrl"])
def test_inconsistency_is_a_build_failure_naming_terms_and_rule(tiny_project, runner, engine):
    """`kopru build` stops and says which rule found what, in the project's
    prefixes — with the fast engine, and when it falls back to owlrl
    (where `x owl:differentFrom x` used to crash the closure)."""
    (tiny_project / "graph" / "odd.ttl").write_text(CONTRADICTIONS)
    if "owlrl" in engine:   # owl:hasKey: a construct the fast engine leaves to owlrl
        (tiny_project / "ontology" / "keys.ttl").write_text(
            "@prefix kop: <https://w3id.org/kopru/ontology#> .\n"
            "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
            "kop:Agreement owl:hasKey ( kop:party ) .\n")
    r = runner.invoke("--project", tiny_project, "build")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "OWL RL found the ontology and data inconsistent" in r.stderr
    assert ("cax-dw: id:albania is an instance of kop:Company and of kop:State, which are "
            "disjoint classes (owl:disjointWith)") in r.stderr, r.stderr
    assert "eq-diff1: id:albania and id:albania are declared different" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "closure failed" not in r.stderr, r.stderr


def test_a_list_that_loops_is_a_clear_build_failure(tiny_project, runner):
    # in graph/: pyshacl reads the lists of ontology/ itself, before the closure
    (tiny_project / "graph" / "loop.ttl").write_text(
        "@prefix kop: <https://w3id.org/kopru/ontology#> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
        "kop:Party owl:unionOf _:a . _:a rdf:first kop:State ; rdf:rest _:b .\n"
        "_:b rdf:first kop:Company ; rdf:rest _:a .\n")
    for reasoner in ("fast", "owlrl"):
        r = runner.invoke("--project", tiny_project, "build", env={"KOPRU_REASONER": reasoner})
        assert r.returncode == 1, r.stdout + r.stderr
        assert ("the RDF list of <https://w3id.org/kopru/ontology#Party> owl:unionOf loops "
                "back on itself") in r.stderr, r.stderr
        assert "end the list with rdf:nil" in r.stderr
        assert "Traceback" not in r.stderr and "closure failed" not in r.stderr, r.stderr


def test_inconsistency_names_literals_as_written_and_owlrl_words_them_normalised():
    """A functional data property with an integer and a double: owlrl finds
    xsd:decimal (the integer's wider datatype) and xsd:double disjoint. The
    report names the literal as written; owlrl's words print its normal form."""
    from server.reasoning.fast import materialise
    from server.reasoning.inconsistency import describe_all

    onto = _triples(":d a owl:FunctionalProperty .")
    data = _triples(':x :d "01"^^xsd:integer , "1.0E0"^^xsd:double .')
    r = materialise(onto, data)
    ref, ref_errors = _owlrl(onto, data)
    assert sorted({i.owlrl_message() for i in r.inconsistencies}) == ref_errors
    assert any("Disjoint classes http://www.w3.org/2001/XMLSchema#decimal and "
               "http://www.w3.org/2001/XMLSchema#double have a common individual 1" in m
               for m in ref_errors), ref_errors
    text = "\n".join(describe_all(r.inconsistencies, {"": "http://example.org/"}))
    assert ('cax-dw: "01"^^xsd:integer is an instance of xsd:decimal and of xsd:double'
            in text), text
