"""Incremental builds make the store a cold build makes.

After an edit to graph files, `kopru build` builds from the current store
and the changed triples (server/pipeline/incremental.py). Here every kind of
edit is made to a synthetic project (bench/generate.py), built
incrementally, and the store compared quad by quad with a cold build of the
same files in another state directory: additions (with and without blank
nodes), removals, a triple moved between files, a file added, a file
removed, several edits in a row; and the edits that need the whole pipeline
(ontology, shapes, an axiom in a graph file) fall back to it with the same
result. An edit that breaks a shape (every one of bench/generate.py's
MUTATIONS) is found by the incremental validation; the build then fails with
the report a full validation gives, and the previous store stays current.
make test runs a few mutations to that end and stops the others' builds at
the finding (what follows is the same code); `make fuzz-pipeline`
(KOPRU_LONG_PROOFS=1) runs them all to the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from helpers import copy_build, long_proof

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402  (bench/generate.py)

from server.errors import ValidationFailed  # noqa: E402
from server.pipeline.build import build  # noqa: E402
from server.pipeline.project import Project  # noqa: E402
from server.stores.state import current_store_dir, read_manifest  # noqa: E402

NEW_FACT = """
syn:project-new-{n} a kop:RoadProject ;
    rdfs:label "A road added by an edit ({n})"@en ;
    kop:fundedBy syn:agency-0 ; kop:locatedIn syn:city-0 ;
    kop:status id:status-agreed ; kop:partOf syn:project-0 ;
    kop:summary "A road project added to test incremental builds."@en ;
    kop:statedIn <https://w3id.org/kopru/source/synthetic/d00001#S00> .
"""

NEW_FLOW_WITH_BLANK_NODE = """
syn:trade-new a kop:TradeFlow ;
    rdfs:label "A trade flow added by an edit"@en ;
    kop:exporter syn:state-0 ; kop:importer syn:state-1 ;
    kop:tradeValue [ a schema:MonetaryAmount ; rdfs:label "USD 7.5"@en ;
                     schema:value 7.5 ; schema:currency "USD" ] ;
    kop:summary "Exports from one state to another, added by an edit."@en ;
    kop:statedIn <https://w3id.org/kopru/source/synthetic/d00001#S01> .
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """A synthetic project and its state dir, built once for the module:
    800 triples in files of at most 100 (several files of a kind, blank
    nodes), in which every mutation finds a match."""
    base = tmp_path_factory.mktemp("synthetic")
    generate.generate(base / "p", 800, seed=3, file_triples=100)
    assert not build(Project(base / "p", state_dir=base / "state")).skipped
    return base / "p", base / "state"


def copy_of(built: tuple[Path, Path], where: Path) -> Project:
    """A copy of the built synthetic project (files and state) to edit."""
    p = Project(*copy_build(*built, where / "p", where / "state"))
    assert build(p).skipped
    return p


@pytest.fixture
def project(built, tmp_path) -> Project:
    return copy_of(built, tmp_path)


def store_quads(p: Project) -> set[bytes]:
    store = ox.Store.read_only(str(current_store_dir(p) / "db"))
    return set(store.dump(format=ox.RdfFormat.N_QUADS).splitlines())


def assert_same_quads(p: Project, cold: Project) -> None:
    mine, theirs = store_quads(p), store_quads(cold)
    assert mine == theirs, (f"{len(mine - theirs)} quads only in the incremental store, "
                            f"{len(theirs - mine)} only in the cold one: "
                            f"{sorted(mine ^ theirs)[:3]}")


def assert_same_as_cold(p: Project, tmp_path: Path) -> None:
    cold = Project(p.root, state_dir=tmp_path / f"cold-{len(list(tmp_path.iterdir()))}")
    # The reference passes the fast validator: which validator passed the
    # data does not change the store (test_validation_engines holds the two
    # to the same reports), and pyshacl is most of a cold build's time here.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KOPRU_VALIDATOR", "shacl")
        assert build(cold, force=True).manifest["validator"] == "shacl"
    assert_same_quads(p, cold)


def graph_file(p: Project, kind: str) -> Path:
    return sorted((p.root / "graph").glob(f"{kind}-*.ttl"))[-1]


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def no_temporaries(p: Project) -> bool:
    return not list(p.stores_dir.glob(".tmp-*"))


# --- the same store as a cold build ---------------------------------------------------------


def test_addition_extends_the_saved_closure(project, tmp_path):
    append(graph_file(project, "projects"), NEW_FACT.format(n=1))
    r = build(project)
    assert r.incremental and not r.skipped
    assert r.manifest["incremental"]["entailed_added"] > 0
    assert_same_as_cold(project, tmp_path)


def test_addition_with_a_blank_node(project, tmp_path):
    append(graph_file(project, "trade"), NEW_FLOW_WITH_BLANK_NODE)
    assert build(project).incremental
    assert_same_as_cold(project, tmp_path)
    # the entailed graph names the asserted blank node (one node, not two)
    store = ox.Store.read_only(str(current_store_dir(project) / "db"))
    rows = list(store.query("""
        PREFIX kop: <https://w3id.org/kopru/ontology#>
        SELECT ?v WHERE {
          GRAPH <https://w3id.org/kopru/graph/asserted> {
            <https://w3id.org/kopru/id/synthetic/trade-new> kop:tradeValue ?v }
          GRAPH <https://w3id.org/kopru/graph/entailed> {
            <https://w3id.org/kopru/id/synthetic/trade-new> kop:amount ?v } }"""))
    assert rows


def test_removal_recomputes_the_closure(project, tmp_path):
    path = graph_file(project, "projects")
    text = path.read_text(encoding="utf-8")
    assert "    kop:partOf " in text
    start = text.index("    kop:partOf ")
    path.write_text(text[:start] + text[text.index("\n", start) + 1:], encoding="utf-8")
    r = build(project)
    assert r.incremental and r.manifest["incremental"]["entailed_removed"] > 0
    assert_same_as_cold(project, tmp_path)


def test_triple_moved_to_another_file_and_a_file_added(project, tmp_path):
    path = graph_file(project, "claims")
    text = path.read_text(encoding="utf-8")
    prefixes = text[:text.index("\nsyn:")]
    block = text[text.index("\nsyn:"):text.index(" .\n", text.index("\nsyn:")) + 3]
    path.write_text(text.replace(block, "\n", 1), encoding="utf-8")
    (project.root / "graph" / "moved.ttl").write_text(prefixes + block + NEW_FACT.format(n=2),
                                                      encoding="utf-8")
    assert build(project).incremental
    assert_same_as_cold(project, tmp_path)


def test_file_removed(project, built):
    # a file nothing else needs: a new one, built, then deleted
    extra = project.root / "graph" / "extra.ttl"
    extra.write_text(generate.PREFIXES + NEW_FACT.format(n=3), encoding="utf-8")
    assert build(project).incremental
    extra.unlink()
    r = build(project)
    assert r.incremental and r.manifest["incremental"]["gone"] == ["graph/extra.ttl"]
    # the files are the module's again (the same inputs' hash), so the
    # module's first build is the cold build of them
    cold = Project(built[0], state_dir=built[1])
    assert r.manifest["hash"] == read_manifest(current_store_dir(cold))["hash"]
    assert_same_quads(project, cold)


def test_several_edits_in_a_row(project, tmp_path):
    for n in range(4):
        append(graph_file(project, "projects"), NEW_FACT.format(n=10 + n))
        assert build(project).incremental
    assert build(project).skipped
    assert_same_as_cold(project, tmp_path)


@pytest.mark.parametrize("edit", ["ontology", "shapes", "axiom-in-graph-file"])
def test_edits_that_need_the_whole_pipeline(edit, project, tmp_path):
    if edit == "ontology":
        append(project.root / "ontology" / "kopru.ttl",
               '\nkop:Bridge a owl:Class ; rdfs:subClassOf kop:Place ; '
               'rdfs:label "bridge"@en .\n')
    elif edit == "shapes":
        append(project.root / "ontology" / "shapes.ttl",
               '\nsh-kop:Extra a sh:NodeShape ; sh:targetClass kop:Region ; '
               'sh:property [ sh:path kop:within ; sh:maxCount 3 ; sh:message "x" ] .\n')
    else:
        append(graph_file(project, "places"),
               "\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
               'kop:Bridge a owl:Class ; rdfs:subClassOf kop:Place ; rdfs:label "bridge"@en .\n')
    append(graph_file(project, "projects"), NEW_FACT.format(n=4))
    messages = []
    r = build(project, progress=lambda step, s, detail: messages.append(f"{step}: {detail}"))
    assert not r.incremental
    assert any(m.startswith("incremental: not possible") for m in messages)
    assert_same_as_cold(project, tmp_path)


# --- a broken edit ---------------------------------------------------------------------

MUTATIONS = [m[0] for m in generate.MUTATIONS]
# The mutations whose build make test runs to its end, the fallback to a full
# validation (the same code for every mutation): a blank node's owner in the
# report, a SPARQL target and constraint with an sh:or, a removal with an sh:or.
END_TO_END = ["amount-blank-node-bad-currency", "undeclared-class", "aid-without-recipient"]


class BreakFound(Exception):
    """Raised by `stop_at_break`."""


def stop_at_break(step: str, seconds: float, detail: str) -> None:
    """A build's progress callback that stops the build (raising BreakFound)
    once it says the incremental validation found a broken shape, before
    the full validation it falls back to."""
    if "breaks a shape" in detail:
        raise BreakFound(detail)


@pytest.mark.parametrize("name", [n for n in MUTATIONS if n not in END_TO_END])
def test_the_incremental_validation_finds_an_edit_that_breaks_a_shape(name, project):
    """Over the nodes the edit can affect (not everything). The build is
    stopped there; what follows (the full report) is checked below, where
    the END_TO_END mutations are found the same way."""
    before = current_store_dir(project)
    generate.mutate(project.root, name)
    with pytest.raises(BreakFound):
        build(project, progress=stop_at_break)
    assert current_store_dir(project) == before
    assert no_temporaries(project)


def assert_fails_with_the_full_report(project: Project, name: str) -> None:
    """The incremental validation finds it (over the nodes the edit can
    affect), then the full validation writes the report."""
    before = current_store_dir(project)
    generate.mutate(project.root, name)
    messages = []
    with pytest.raises(ValidationFailed) as failed:
        build(project, progress=lambda step, s, detail: messages.append(f"{step}: {detail}"))
    assert any("breaks a shape" in m for m in messages), messages
    result = failed.value.result
    assert result.errors and result.files == len(list((project.root / "graph").glob("*.ttl"))) + 3
    assert current_store_dir(project) == before
    assert no_temporaries(project)


@pytest.mark.parametrize("name", END_TO_END)
def test_an_edit_that_breaks_a_shape_fails_with_the_full_report(name, project):
    assert_fails_with_the_full_report(project, name)


@long_proof("fuzz-pipeline", "runs every mutation up to the incremental validation's "
                             f"finding and {len(END_TO_END)} of them to the full report")
def test_every_edit_that_breaks_a_shape_fails_with_the_full_report(built, tmp_path):
    for name in MUTATIONS:
        assert_fails_with_the_full_report(copy_of(built, tmp_path / name), name)
