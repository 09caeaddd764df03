"""The build pipeline: parse errors, the SHACL gate, the closure, the store,
the warm start and the atomic swap. Small temp projects (see conftest's
tiny project) plus one test over the shipped project."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest
from helpers import copy_build

from server.errors import (
    InconsistentGraph,
    ProjectError,
    QueryFileError,
    TurtleSyntaxError,
    ValidationFailed,
)
from server.namespaces import (
    GRAPH_ASSERTED,
    GRAPH_ENTAILED,
    GRAPH_ONTOLOGY,
    GRAPH_SHAPES,
    ID,
    KOP,
)
from server.pipeline.build import build, is_current
from server.pipeline.gallery import load_queries
from server.pipeline.parse import parse_project
from server.pipeline.project import Project
from server.pipeline.validate import validate
from server.stores.embedded import MemoryStore
from server.stores.interface import Store
from server.stores.state import current_store_dir, open_current, read_manifest

PREFIXES = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""  # 4 lines: the broken statements below start on line 5


def ask(store: Store, sparql: str, **kw) -> bool:
    return bool(store.query(f"PREFIX kop: <{KOP}> PREFIX id: <{ID}> {sparql}", **kw))


@pytest.fixture
def tiny_copy(tiny_build, tmp_path) -> Project:
    """A copy of conftest's tiny_build (the tiny project, built) to edit."""
    root, state = copy_build(*tiny_build, tmp_path / "p", tmp_path / "state")
    copy = Project(root, state_dir=state)
    assert is_current(copy)
    return copy


# --- the project ----------------------------------------------------------------


def test_project_lists_inputs(tiny_project):
    p = Project(tiny_project)
    assert [f.name for f in p.ontology_files()] == ["kopru.ttl"]
    assert p.shapes_file().name == "shapes.ttl"
    assert [f.name for f in p.graph_files()] == ["actors.ttl", "agreements.ttl"]
    assert [f.name for f in p.query_files()] == ["parties.rq"]
    assert p.state_dir == Path(__import__("os").environ["KOPRU_STATE_DIR"]).resolve()


def test_not_a_project_names_the_path(tmp_path):
    with pytest.raises(ProjectError, match=f"{tmp_path} has no ontology/ folder"):
        Project(tmp_path)
    with pytest.raises(ProjectError, match="does not exist"):
        Project(tmp_path / "nowhere")


# --- syntax errors: file, line, column ---------------------------------------------

SYNTAX_CASES = {
    # name: (statement on line 5.., expected (line, column), words in the message)
    "missing-dot": ('id:a rdfs:label "A"@en\nid:b rdfs:label "B"@en .\n', (6, 1), "dot"),
    "missing-final-dot": ('id:a rdfs:label "A"@en\n\n', (5, 23), "'.' missing"),
    "bad-iri": ('id:a rdfs:seeAlso <http://example.org/a b> .\n', (5, 19), "IRI"),
    "undefined-prefix": ('id:a rdfs:seeAlso   foo:b .\n', (5, 21), "foo:"),
    "unterminated-string": ('id:a rdfs:label "Türkiye ;\n  rdfs:comment "x" .\n', (5, 17),
                            "unterminated string"),
    "unterminated-long-string": ('id:a rdfs:label """Türkiye ;\n  rdfs:comment "x" .\n',
                                 (5, 17), "unterminated string"),
    "bad-token-after-unicode": ('id:ağ rdfs:label "Türkiye"@tr ; rdfs:comment ]\n', (5, 46),
                                "]"),
    "ill-typed-integer": ('id:a kop:count "twelve"^^xsd:integer .\n', (5, 16), "xsd:integer"),
    "ill-typed-gyear": ('id:a kop:year "96"^^xsd:gYear .\n', (5, 15), "xsd:gYear"),
    "impossible-date": ('id:a kop:date "2024-02-30"^^xsd:date .\n', (5, 15), "xsd:date"),
}


@pytest.mark.parametrize("name", sorted(SYNTAX_CASES))
def test_syntax_error_names_file_line_column(tiny_project, name):
    body, (line, column), words = SYNTAX_CASES[name]
    (tiny_project / "graph" / "broken.ttl").write_text(PREFIXES + body, encoding="utf-8")
    with pytest.raises(TurtleSyntaxError) as info:
        parse_project(Project(tiny_project))
    e = info.value
    assert (e.file, e.line, e.column) == ("graph/broken.ttl", line, column), str(e)
    assert words.lower() in e.message.lower()
    assert str(e).startswith(f"graph/broken.ttl:{line}:{column}: ")
    # the excerpt shows the line with a caret under the column
    src, caret = e.excerpt().splitlines()
    assert caret.index("^") == 4 + column - 1


def test_every_broken_file_is_reported(tiny_project):
    (tiny_project / "graph" / "a.ttl").write_text("<http://x/a> <http://x/p> .\n")
    (tiny_project / "graph" / "b.ttl").write_text(PREFIXES + "id:x kop:y nope:z .\n")
    with pytest.raises(TurtleSyntaxError) as info:
        parse_project(Project(tiny_project))
    assert [(e.file, e.line) for e in info.value.errors] == [("graph/a.ttl", 1),
                                                             ("graph/b.ttl", 5)]


def test_syntax_error_in_ontology_and_not_utf8(tiny_project):
    onto = tiny_project / "ontology" / "kopru.ttl"
    onto.write_text(onto.read_text() + "kop:Broken a \n")
    (tiny_project / "graph" / "latin1.ttl").write_bytes(
        PREFIXES.encode() + 'id:a rdfs:label "T\u00fcrkiye" .\n'.encode("latin-1"))
    with pytest.raises(TurtleSyntaxError) as info:
        parse_project(Project(tiny_project))
    errs = {e.file: e for e in info.value.errors}
    assert errs["ontology/kopru.ttl"].line is not None
    assert (errs["graph/latin1.ttl"].line, errs["graph/latin1.ttl"].column) == (5, 19)
    assert "UTF-8" in errs["graph/latin1.ttl"].message


def test_syntax_error_stops_build_and_keeps_store(tiny_copy):
    p = tiny_copy
    first = current_store_dir(p)
    (p.root / "graph" / "broken.ttl").write_text(PREFIXES + "id:a rdfs:label .\n")
    with pytest.raises(TurtleSyntaxError):
        build(p)
    assert current_store_dir(p) == first


# --- validation: the gate -----------------------------------------------------------------


def test_tiny_project_conforms(tiny_project):
    result = validate(Project(tiny_project))
    assert result.conforms, result.text_report()
    assert result.violations == []
    assert result.text_report().startswith("valid: 4 files, ")


BAD_AGREEMENT = PREFIXES + """\
id:lonely-pact a kop:Agreement ;
    rdfs:label "A pact with one party"@en ;
    kop:party id:turkiye, id:tirana ;
    kop:year "2020"^^xsd:gYear, "2021"^^xsd:gYear .
id:nameless a kop:State .
"""


def test_violation_report_grouped_by_file_and_entity(tiny_project):
    (tiny_project / "graph" / "bad.ttl").write_text(BAD_AGREEMENT)
    result = validate(Project(tiny_project))
    assert not result.conforms
    got = {(v.file, v.focus_label, v.path_label, v.message) for v in result.violations}
    assert ("graph/bad.ttl", "id:lonely-pact", "kop:party",
            "A party to an agreement is an actor.") in got
    assert ("graph/bad.ttl", "id:lonely-pact", "kop:year", "The year is one xsd:gYear.") in got
    assert ("graph/bad.ttl", "id:nameless", "rdfs:label",
            "Every entity has an English label.") in got
    v = next(v for v in result.violations if v.path_label == "kop:party")
    assert v.value == f"<{ID}tirana>" and v.severity == "Violation"
    assert v.focus_node == f"<{ID}lonely-pact>" and v.line == 5
    report = result.text_report()
    lines = report.splitlines()
    assert lines[0].startswith("3 violations")
    file_line = lines.index("graph/bad.ttl")
    assert lines[file_line + 1].strip() == "id:lonely-pact (line 5)"
    assert "    kop:party: A party to an agreement is an actor. (value: id:tirana)" in lines
    assert "  id:nameless (line 9)" in lines


def test_violation_stops_build_and_old_store_stays_current(tiny_copy):
    p = tiny_copy
    good_dir = current_store_dir(p)
    good_hash = read_manifest(good_dir)["hash"]
    stores_before = sorted(p.stores_dir.iterdir())
    (p.root / "graph" / "bad.ttl").write_text(BAD_AGREEMENT)
    with pytest.raises(ValidationFailed) as info:
        build(p)
    assert "id:lonely-pact" in str(info.value)
    # nothing swapped, nothing half-built left behind
    assert current_store_dir(p) == good_dir
    assert sorted(p.stores_dir.iterdir()) == stores_before
    assert not is_current(p)
    with open_current(p) as store:
        assert read_manifest(store.path)["hash"] == good_hash
        assert not ask(store, "ASK { id:lonely-pact ?p ?o }")
        assert ask(store, "ASK { id:pact kop:party id:albania }")


def test_inconsistency_stops_build(tiny_project):
    (tiny_project / "graph" / "odd.ttl").write_text(
        PREFIXES + 'id:albania a kop:Company .\n')
    with pytest.raises(InconsistentGraph) as info:
        build(Project(tiny_project))
    assert "albania" in str(info.value)
    assert current_store_dir(Project(tiny_project)) is None


# --- inference ---------------------------------------------------------------------------


def test_entailed_graph_is_clean_and_useful(tiny_project):
    from rdflib import Literal, URIRef
    from rdflib.namespace import OWL, RDF, RDFS

    from server.reasoning.infer import infer

    parsed = parse_project(Project(tiny_project))
    result = infer(parsed)
    entailed, asserted = result.entailed, result.asserted
    assert len(entailed) > 0
    for s, p, o in entailed:
        assert not isinstance(s, Literal), (s, p, o)
        assert isinstance(p, URIRef), (s, p, o)
        assert (s, p, o) not in asserted and (s, p, o) not in result.ontology
        assert o not in (OWL.Thing, RDFS.Resource), (s, p, o)
        assert not (s == o and p in (OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf,
                                     OWL.equivalentClass, OWL.equivalentProperty)), (s, p, o)
        assert s != OWL.Nothing and not str(s).startswith(str(OWL))
    k, i = KOP, ID
    expected = [
        (URIRef(i + "albania"), URIRef(k + "partyTo"), URIRef(i + "pact")),      # inverse
        (URIRef(i + "tirana"), URIRef(k + "partOf"), URIRef(i + "western-balkans")),  # transitive
        (URIRef(i + "pact"), URIRef(k + "locatedIn"), URIRef(i + "albania")),    # chain
        (URIRef(i + "pact"), RDF.type, URIRef(k + "Agreement")),                 # subclass
        (URIRef(i + "turkiye"), RDF.type, URIRef(k + "Actor")),                  # range/subclass
    ]
    for t in expected:
        assert t in entailed, t
    assert result.dropped["literal-subject"] > 0  # owlrl did make generalized RDF


SAME_AS_DATA = PREFIXES + """\
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
kop:capital a owl:ObjectProperty, owl:FunctionalProperty ; rdfs:label "capital"@en .
kop:note a owl:AnnotationProperty .
id:albania kop:capital id:tirana, id:tirana-city ; kop:note "inert, copied by sameAs" .
id:tirana-city a kop:City ; rdfs:label "Tirana (city)"@en ;
    skos:altLabel "Tiranë"@sq ; kop:note "another inert one" .
id:shqiperia owl:sameAs id:albania .
id:x kop:note id:tirana .
"""


@pytest.mark.parametrize("extra", ["", SAME_AS_DATA])
def test_fast_closure_equals_owlrl(tiny_project, extra):
    """Köprü's closure (inert triples kept out of owlrl, no eq-ref) gives
    exactly the entailed graph of owlrl's plain DeductiveClosure."""
    from server.reasoning.infer import infer

    if extra:
        (tiny_project / "graph" / "same.ttl").write_text(extra)
    parsed = parse_project(Project(tiny_project))
    fast, exact = infer(parsed), infer(parsed, exact=True)
    assert set(fast.entailed) == set(exact.entailed)
    assert fast.inconsistencies == exact.inconsistencies == []
    if extra:   # the functional property made the two Tiranas the same
        from rdflib import Literal, URIRef

        note = URIRef(KOP + "note")
        assert (URIRef(ID + "tirana"), note, Literal("another inert one")) in fast.entailed
        assert (URIRef(ID + "shqiperia"), note,
                Literal("inert, copied by sameAs")) in fast.entailed
        assert (URIRef(ID + "x"), note, URIRef(ID + "tirana-city")) in fast.entailed


# The same on the shipped project: tests/test_reasoning.py
# (test_fast_equals_owlrl_on_shipped_graph).


def test_store_keeps_graphs_apart(tiny_build):
    p = Project(tiny_build[0], state_dir=tiny_build[1])
    c = read_manifest(current_store_dir(p))["counts"]   # the build's counts (BuildResult.counts)
    assert c["asserted"] > 0 and c["entailed"] > 0 and c["ontology"] > 0 and c["shapes"] > 0
    with open_current(p) as store:
        assert store.triple_counts() == {GRAPH_ASSERTED: c["asserted"],
                                         GRAPH_ENTAILED: c["entailed"],
                                         GRAPH_ONTOLOGY: c["ontology"],
                                         GRAPH_SHAPES: c["shapes"]}
        # disjoint: nothing entailed is also asserted
        assert not ask(store, f"ASK {{ GRAPH <{GRAPH_ENTAILED}> {{ ?s ?p ?o }} "
                              f"GRAPH <{GRAPH_ASSERTED}> {{ ?s ?p ?o }} }}",
                       named_graphs=[GRAPH_ENTAILED, GRAPH_ASSERTED])
        assert not ask(store, f"ASK {{ GRAPH <{GRAPH_ENTAILED}> {{ ?s ?p ?o }} "
                              f"FILTER(isLiteral(?s) || !isIRI(?p)) }}")
        # the default graph is asserted + ontology + entailed, never the shapes
        assert ask(store, "ASK { id:albania kop:partyTo id:pact }")              # entailed
        assert ask(store, "ASK { id:pact kop:party id:albania }")                # asserted
        assert ask(store, "ASK { kop:State <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
                          "kop:Actor }")                                       # ontology
        assert not ask(store, "ASK { ?s a <http://www.w3.org/ns/shacl#NodeShape> }")
        assert ask(store, "ASK { ?s a <http://www.w3.org/ns/shacl#NodeShape> }",
                   default_graph=[GRAPH_SHAPES])
        # and only what was said, when asked for
        assert not ask(store, "ASK { id:albania kop:partyTo id:pact }",
                       default_graph=[GRAPH_ASSERTED])


# --- warm start, hashing, swapping -----------------------------------------------------------


def test_warm_start_skips_work(tiny_project):
    p = Project(tiny_project)
    cold = build(p)
    assert not cold.skipped
    assert set(cold.timings) >= {"parse", "validate", "closure", "load", "swap", "total"}
    manifest = json.loads((cold.store_dir / "manifest.json").read_text())
    assert manifest["hash"] == p.input_hash() == cold.hash
    assert set(manifest["timings"]) >= {"parse", "validate", "closure", "load"}
    assert manifest["counts"]["entailed"] > 0 and "dropped" in manifest

    warm = build(p)
    assert warm.skipped and warm.store_dir == cold.store_dir
    assert set(warm.timings) == {"hash", "total"}   # no parse, validate, closure, load
    assert is_current(p)
    # a fresh process does not import rdflib/pyshacl/owlrl on the warm path
    code = ("import sys; from server.pipeline.project import Project; "
            "from server.pipeline.build import build;"
            f"r = build(Project({str(tiny_project)!r})); assert r.skipped;"
            "heavy = [m for m in ('rdflib', 'pyshacl', 'owlrl') if m in sys.modules];"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"

    forced = build(p, force=True)
    assert not forced.skipped and forced.store_dir != cold.store_dir


def test_changing_a_file_changes_hash_and_rebuilds(tiny_copy):
    p = tiny_copy
    tiny_project = p.root
    first_dir = current_store_dir(p)
    first_hash = read_manifest(first_dir)["hash"]
    actors = tiny_project / "graph" / "actors.ttl"
    actors.write_text(actors.read_text().replace('"Tirana"@en', '"Tirana, the capital"@en'))
    assert p.input_hash() != first_hash
    assert not is_current(p)
    second = build(p)
    assert not second.skipped and second.store_dir != first_dir
    assert second.previous_store_dir == first_dir
    with open_current(p) as store:
        assert ask(store, 'ASK { id:tirana ?p "Tirana, the capital"@en }')
    # a new file, a renamed file, and a changed query do what they should
    (tiny_project / "graph" / "more.ttl").write_text(PREFIXES + 'id:kosovo a kop:State ; '
                                                     'rdfs:label "Kosovo"@en .\n')
    h3 = p.input_hash()
    assert h3 != second.hash
    (tiny_project / "graph" / "more.ttl").rename(tiny_project / "graph" / "zmore.ttl")
    assert p.input_hash() != h3
    h4 = p.input_hash()
    (tiny_project / "queries" / "parties.rq").write_text("# title: x\nASK {}\n")
    assert p.input_hash() == h4   # queries are not build inputs
    third = build(p)
    # only the current and the previous store are kept
    assert sorted(d.name for d in p.stores_dir.iterdir()) == sorted(
        [second.store_dir.name, third.store_dir.name])


def test_readers_in_several_processes(tiny_build):
    p = Project(tiny_build[0], state_dir=tiny_build[1])
    code = ("from server.pipeline.project import Project; from server.stores.state import open_current;"
            f"s = open_current(Project({str(p.root)!r}, state_dir={str(p.state_dir)!r}));"
            "print(bool(s.query('ASK { ?s ?p ?o }')))")
    with open_current(p) as mine:
        procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(3)]
        outs = [proc.communicate(timeout=60) for proc in procs]
        assert bool(mine.query("ASK { ?s ?p ?o }"))
    for proc, (out, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "True"


def test_memory_store_same_interface():
    a, p = ox.NamedNode(ID + "a"), ox.NamedNode(KOP + "p")
    store = MemoryStore({GRAPH_ASSERTED: [ox.Triple(a, p, ox.Literal("x"))],
                         GRAPH_SHAPES: [ox.Triple(a, p, ox.Literal("shape"))]})
    assert isinstance(store, Store)
    assert store.triple_counts()[GRAPH_ASSERTED] == 1
    rows = list(store.query("SELECT ?o WHERE { ?s ?p ?o }"))
    assert [r["o"].value for r in rows] == ["x"]          # the shapes are not in the default
    # a query's own FROM wins over Köprü's default dataset
    rows = store.query(f"SELECT ?o FROM <{GRAPH_SHAPES}> WHERE {{ ?s ?p ?o }}")
    assert [r["o"].value for r in rows] == ["shape"]
    store.load({GRAPH_ASSERTED: [ox.Triple(a, p, ox.Literal("y"))]})   # replaces the graph
    assert [r["o"].value for r in store.query("SELECT ?o WHERE { ?s ?p ?o }")] == ["y"]
    store.close()


# --- queries ------------------------------------------------------------------------------


def test_queries_have_titles(tiny_project):
    (q,) = load_queries(Project(tiny_project))
    assert (q.slug, q.title) == ("parties", "Parties to agreements")
    assert q.description == "Every agreement and its parties, by label."
    assert "SELECT" in q.text
    (tiny_project / "queries" / "untitled.rq").write_text("# description: no title\nASK {}\n")
    with pytest.raises(QueryFileError, match="untitled.rq.*title"):
        load_queries(Project(tiny_project))


# --- the shipped project --------------------------------------------------------------------


def test_shipped_project_builds(built_project):
    root, state = built_project
    p = Project(root, state_dir=state)
    manifest = json.loads((current_store_dir(p) / "manifest.json").read_text())
    assert manifest["hash"] == p.input_hash()
    assert manifest["counts"]["ontology"] > 0
    assert manifest["counts"]["shapes"] >= 0
    with open_current(p) as store:
        counts = store.triple_counts()
        assert counts[GRAPH_ONTOLOGY] == manifest["counts"]["ontology"]
        assert not ask(store, f"ASK {{ GRAPH <{GRAPH_ENTAILED}> {{ ?s ?p ?o }} "
                              f"GRAPH <{GRAPH_ASSERTED}> {{ ?s ?p ?o }} }}",
                       named_graphs=[GRAPH_ENTAILED, GRAPH_ASSERTED])
    for q in load_queries(p):     # every shipped query has a title
        assert q.title


def test_shipped_ontology_parses_in_a_copy(tmp_path, repo_root, monkeypatch):
    """The repo's ontology with a one-line graph file: parses; a broken copy
    is reported against the right file."""
    monkeypatch.setenv("KOPRU_STATE_DIR", str(tmp_path / "state"))
    shutil.copytree(repo_root / "ontology", tmp_path / "p" / "ontology")
    (tmp_path / "p" / "graph").mkdir()
    (tmp_path / "p" / "graph" / "x.ttl").write_text(textwrap.dedent("""\
        @prefix id: <https://w3id.org/kopru/id/> .
        id:x <http://www.w3.org/2000/01/rdf-schema#label> "x"@en .
    """))
    parsed = parse_project(Project(tmp_path / "p"))
    assert parsed.count("ontology") > 0
    (tmp_path / "p" / "graph" / "x.ttl").write_text("@prefix id: <https://w3id.org/kopru/id/> .\n"
                                                    "id:x id:y id:z\n")
    with pytest.raises(TurtleSyntaxError) as info:
        parse_project(Project(tmp_path / "p"))
    e = info.value
    assert (e.file, e.line, e.column) == ("graph/x.ttl", 2, 15), str(e)
    assert "'.' missing" in e.message
