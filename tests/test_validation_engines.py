"""The two SHACL validators agree, and the report shows top-level results only.

pyshacl is the reference; the `shacl` package (a young Rust validator) is
what larger projects use, guarded: what it reports is reported again by
pyshacl from the nodes' neighbourhood, any disagreement, blank node finding
or unsupported shape makes pyshacl check everything. Here both run on

- the broken examples of tests/shape_cases.py (one per shape), all at once
  (each in its own file, no entity shared), and
- generated broken variants of a synthetic project (bench/generate.py's
  MUTATIONS, one edit each), all at once: all of them (a blank node
  finding: pyshacl checks everything), and all but those whose finding is
  a blank node (the fast validator's findings confirmed),

and must give the same report, row for row, and the fast validator's own
findings (before pyshacl confirms them) must be pyshacl's. A focused
pyshacl run (the confirmation, incremental builds: each shape's targets
narrowed to the focus nodes) gives pyshacl's results for those nodes. `make
fuzz-pipeline` (KOPRU_LONG_PROOFS=1) also runs each example and each variant
alone, and the variants at once at 10k triples. (That every variant breaks
a shape alone is also checked in make test, by tests/test_incremental.py.)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (bench/generate.py)
import shape_cases  # noqa: E402  (the broken examples, one per shape)
from helpers import long_proof, make_shape_cases_project  # noqa: E402

from server.config import Config  # noqa: E402
from server.pipeline.parse import parse_project  # noqa: E402
from server.pipeline.project import Project  # noqa: E402
from server.pipeline.validate import (  # noqa: E402
    SMALL_PROJECT,
    choose_engine,
    ontology_mixin,
    run_fast_validator,
    shapes_text,
    validate,
)

ALONE_IN_A_PROOF_RUN = long_proof("fuzz-pipeline", "checks all at once (the examples; the "
                                                  "variants on 800 triples)")


def rows(result) -> list[tuple]:
    """What a person reads in the report, one tuple per row."""
    return sorted((v.file, v.focus_node, v.path, v.message, v.severity, v.value)
                  for v in result.violations)


def both(project: Path):
    parsed = parse_project(Project(project))
    return validate(parsed, engine="pyshacl"), validate(parsed, engine="shacl"), parsed


def raw_fast_findings(parsed) -> set[tuple]:
    """The fast validator's own (focus node, path) pairs, unconfirmed."""
    import pyoxigraph as ox

    data = ox.serialize(list(parsed.triples("graph")), format=ox.RdfFormat.N_TRIPLES)
    return {(r.focus_node, r.path) for r in
            run_fast_validator(shapes_text(parsed), data, ontology_mixin(parsed))}


def assert_agree(project: Path, what: str = ""):
    """Both validators give the same rows, and the fast one decided: its own
    findings are pyshacl's (no blank node among them, so pyshacl only
    confirms them). Returns pyshacl's result."""
    reference, fast, parsed = both(project)
    assert fast.engine == "shacl", f"{what}: {fast.note}"
    assert rows(fast) == rows(reference), what
    assert raw_fast_findings(parsed) == {(v.focus_node, v.path) for v in reference.violations}, \
        what
    return reference


# --- sh:detail --------------------------------------------------------------------------


def test_a_wrong_code_list_value_is_one_row(tmp_path):
    """kop:sector id:textiles fails the value's sh:node; pyshacl also lists
    why (an sh:detail result about id:textiles): that is not a second
    violation."""
    deal = shape_cases.Case(
        "wrong-code-list-value",
        f"id:broken-deal a kop:Agreement ; {shape_cases.OK} ; "
        "kop:party id:turkiye , id:albania ; kop:sector id:textiles .",
        "id:broken-deal", "kop:sector", "")
    project = make_shape_cases_project(tmp_path / "p", [deal])
    result = validate(Project(project), engine="pyshacl")
    assert [(v.focus_label, v.path_label) for v in result.violations] == [
        ("id:broken-deal", "kop:sector")]
    report = result.text_report()
    assert report.startswith("1 violation:")
    assert "id:textiles (line" not in report and "skos:inScheme" not in report


# --- every shape's broken example ------------------------------------------------------------


def test_validators_agree_on_the_shapes_context(tmp_path):
    reference = assert_agree(make_shape_cases_project(tmp_path / "p", []))
    assert not reference.violations


def test_validators_agree_on_every_shapes_example_at_once(tmp_path):
    cases = shape_cases.CASES
    reference = assert_agree(make_shape_cases_project(tmp_path / "p", cases))
    files = {v.file for v in reference.violations}
    assert files <= {c.file for c in cases}   # nothing in the valid context
    assert [c.name for c in cases if c.file not in files] == []   # each example is reported


@ALONE_IN_A_PROOF_RUN
def test_validators_agree_on_each_shapes_example_alone(tmp_path):
    for case in shape_cases.CASES:
        reference = assert_agree(make_shape_cases_project(tmp_path / case.name, [case]),
                                 case.name)
        assert reference.violations, case.name


# --- generated broken variants ----------------------------------------------------------------

MUTATIONS = [m[0] for m in generate.MUTATIONS]
# Their finding is a blank node: the fast validator hands over to pyshacl.
BLANK_NODE_FINDINGS = ["amount-blank-node-bad-currency"]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """800 triples in files of at most 100 (several files of a kind, blank
    nodes): the smallest set in which every mutation finds a match, alone
    and all at once."""
    out = tmp_path_factory.mktemp("synthetic") / "p"
    generate.generate(out, 800, seed=3, file_triples=100)
    return out


def variants_at_once(base: Path, project: Path, names: list[str]) -> Path:
    """A copy of `base` with the mutations `names`, each to its own match."""
    shutil.copytree(base, project)
    for i, name in enumerate(MUTATIONS):
        if name in names:
            generate.mutate(project, name, seed=i)
    return project


def assert_agree_on_all_variants_at_once(base: Path, tmp_path: Path) -> None:
    reference, fast, _parsed = both(variants_at_once(base, tmp_path / "all", MUTATIONS))
    assert len(reference.errors) >= len(MUTATIONS)
    assert fast.engine == "pyshacl" and "blank node" in fast.note   # it handed over
    assert rows(fast) == rows(reference)
    # and without the blank node findings the fast validator decides
    iri_findings = [n for n in MUTATIONS if n not in BLANK_NODE_FINDINGS]
    reference = assert_agree(variants_at_once(base, tmp_path / "iri", iri_findings))
    assert len(reference.errors) >= len(iri_findings)


def test_validators_agree_on_all_variants_at_once(synthetic, tmp_path):
    assert_agree_on_all_variants_at_once(synthetic, tmp_path)


@long_proof("fuzz-pipeline", "checks all variants at once on 800 triples")
def test_validators_agree_on_all_variants_at_once_at_10k(tmp_path):
    generate.generate(tmp_path / "base", 10_000, seed=5)
    assert_agree_on_all_variants_at_once(tmp_path / "base", tmp_path)


@ALONE_IN_A_PROOF_RUN
def test_validators_agree_on_each_generated_variant_alone(synthetic, tmp_path):
    for name in MUTATIONS:
        project = tmp_path / name
        shutil.copytree(synthetic, project)
        what = f"{name} ({generate.mutate(project, name)})"
        if name in BLANK_NODE_FINDINGS:
            reference, fast, _parsed = both(project)
            assert rows(fast) == rows(reference), what
        else:
            reference = assert_agree(project, what)
        assert reference.errors, f"{what} should break a shape"


# --- which validator runs ----------------------------------------------------------------------


def test_small_projects_use_pyshacl_large_ones_the_fast_validator(tmp_path, synthetic):
    parsed = parse_project(Project(synthetic))
    assert parsed.count("graph") < SMALL_PROJECT
    assert choose_engine(parsed, "auto") == ("pyshacl", "")
    large = tmp_path / "large"
    generate.generate(large, SMALL_PROJECT + 1_000, seed=1)
    parsed = parse_project(Project(large))
    assert choose_engine(parsed, "auto") == ("shacl", "")
    assert choose_engine(parsed, "pyshacl") == ("pyshacl", "")
    result = validate(parsed)
    assert result.conforms and result.engine == "shacl"


def test_a_shape_feature_the_fast_validator_is_not_checked_on_means_pyshacl(synthetic,
                                                                            tmp_path):
    project = tmp_path / "p"
    shutil.copytree(synthetic, project)
    shapes = project / "ontology" / "shapes.ttl"
    shapes.write_text(shapes.read_text(encoding="utf-8") + """
sh-kop:ClosedTimeShape a sh:NodeShape ; sh:targetClass kop:NoSuchClass ; sh:closed true .
""", encoding="utf-8")
    parsed = parse_project(Project(project))
    # a large project's choice (its size given: the data need not be large)
    engine, why = choose_engine(parsed, "auto", data_triples=SMALL_PROJECT + 1_000)
    assert engine == "pyshacl" and "sh:closed" in why


def test_validator_setting():
    assert Config.from_env({"KOPRU_VALIDATOR": "pyshacl"}).validator == "pyshacl"
    assert Config.from_env({}).validator == "auto"
    with pytest.raises(ValueError, match="KOPRU_VALIDATOR"):
        Config.from_env({"KOPRU_VALIDATOR": "fastest"})


# --- a focused run: the reference's results for the focus nodes --------------------------------

FOCUS_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/> .
ex:ByClass a sh:NodeShape ; sh:targetClass ex:Place ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ] .
ex:BySubject a sh:NodeShape ; sh:targetSubjectsOf ex:within ;
    sh:property [ sh:path ex:within ; sh:class ex:Place ] .
ex:ByObject a sh:NodeShape ; sh:targetObjectsOf ex:within ; sh:nodeKind sh:IRI .
ex:ByNode a sh:NodeShape ; sh:targetNode ex:a , ex:nowhere ;
    sh:property [ sh:path ex:name ; sh:datatype xsd:string ] .
ex:Town a sh:NodeShape , rdfs:Class ; sh:property [ sh:path ex:mayor ; sh:minCount 1 ] .
ex:BySparql a sh:NodeShape ;
    sh:target [ a sh:SPARQLTarget ;
                sh:select "SELECT ?this WHERE { ?this <http://example.org/name> ?n }" ] ;
    sh:property [ sh:path ex:name ; sh:maxCount 1 ] .
"""

FOCUS_DATA = """
@prefix ex: <http://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:City rdfs:subClassOf ex:Place .
ex:a a ex:City ; ex:within ex:b , "somewhere" ; ex:name 7 .
ex:b ex:name "B" , "Bee" ; ex:within ex:c .
ex:c a ex:Place , ex:Town ; ex:name "C" .
_:d a ex:Place ; ex:within ex:a .
ex:e a ex:City .
"""


def test_the_graphs_a_pyshacl_run_is_handed_are_the_plain_ones(repo_root):
    """A pyshacl run clones its graphs from pickled copies (the mix-in once
    a process, the shapes once a parse) instead of building them: the same
    triples and the same prefixes as building them (pyshacl's messages
    shorten IRIs with them), with a prefix that clashes with one of
    rdflib's defaults kept as written, and the original left untouched."""
    from itertools import chain

    import pyoxigraph as ox
    from rdflib import Graph, Literal, URIRef

    from server.pipeline import validate
    from server.terms import to_rdflib_graph

    plain = Graph()
    plain.bind("schema", "http://schema.org/", override=True, replace=True)  # rdflib: https
    plain.add((URIRef("http://schema.org/a"), URIRef("http://schema.org/name"), Literal("a")))
    copy = validate._copy(plain)
    assert set(copy) == set(plain) and dict(copy.namespaces()) == dict(plain.namespaces())
    copy.add((URIRef("http://schema.org/b"), URIRef("http://schema.org/name"), Literal("b")))
    assert len(plain) == 1

    parsed = parse_project(Project(repo_root))
    data = list(parsed.triples("graph"))
    mixin = [q.triple for q in ox.parse(validate.ontology_mixin(parsed).encode(),
                                        ox.RdfFormat.N_TRIPLES)]
    built = to_rdflib_graph(chain(data, mixin), parsed.prefixes)
    for _ in range(2):                  # the second from the process's pickled mix-in
        cloned = to_rdflib_graph(data, parsed.prefixes, into=validate._clone(
            validate._mixin_graph_blob(validate.ontology_mixin(parsed))))
        assert set(cloned) == set(built)
        assert dict(cloned.namespaces()) == dict(built.namespaces())
    shapes = validate._copy_of_shapes(parsed)
    assert set(shapes) == set(parsed.shapes_graph)
    assert dict(shapes.namespaces()) == dict(parsed.shapes_graph.namespaces())


def test_a_focused_pyshacl_run_gives_the_reference_results_for_its_focus_nodes():
    """validate.targets_within, which incremental builds and the fast
    validator's confirmation use: pyshacl on the retargeted shapes finds,
    for each set of focus nodes, exactly what pyshacl on the shapes as
    written finds for them, whatever kind of target selects them (class
    and subclass, subjects and objects of a property, a node list, a shape
    that is a class, a SPARQL target). The last two keep their targets
    (what they add is filtered afterwards); the others look no further."""
    import itertools

    import pyshacl
    from rdflib import Graph
    from rdflib.namespace import SH

    from server.pipeline.validate import targets_within

    shapes = Graph().parse(data=FOCUS_SHAPES, format="turtle")

    def results(shapes, data) -> set[tuple]:
        """(focus node, the top-level shape's name, constraint component)"""
        _conforms, report, _text = pyshacl.validate(
            data, shacl_graph=shapes, advanced=True, inference="none", allow_warnings=True)
        out = set()
        for r in report.subjects(SH.focusNode, None):
            shape = report.value(r, SH.sourceShape)
            shape = shapes.value(None, SH.property, shape) or shape   # a property's node shape
            out.add((report.value(r, SH.focusNode).n3(), str(shape).rsplit("/", 1)[-1],
                     str(report.value(r, SH.sourceConstraintComponent))))
        return out

    data = Graph().parse(data=FOCUS_DATA, format="turtle")
    reference = results(shapes, data)
    blank = next(n.n3() for n in data.subjects() if n.n3().startswith("_:"))
    nodes = ["<http://example.org/a>", "<http://example.org/b>", "<http://example.org/c>",
             "<http://example.org/e>", blank, '"somewhere"']
    # every shape finds something, so a target kind the rewrite lost would show
    assert {shape for _focus, shape, _c in reference} == {
        "ByClass", "BySubject", "ByObject", "ByNode", "Town", "BySparql"}, reference
    before = set(shapes)
    for size in (1, 2, len(nodes)):
        for focus in map(set, itertools.combinations(nodes, size)):
            found = results(targets_within(shapes, data, focus), data)
            assert {r for r in found if r[0] in focus} == {r for r in reference if r[0] in focus}
            # only the shapes that keep their targets look further
            assert {shape for node, shape, _c in found if node not in focus} <= {
                "Town", "BySparql"}, focus
    assert set(shapes) == before                      # the shapes as written are untouched
