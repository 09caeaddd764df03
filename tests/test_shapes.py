"""The SHACL shapes (ontology/shapes.ttl), end to end through `kopru validate`.

Each broken example (tests/shape_cases.py) is a small graph file added to a
minimal valid project (the shipped ontology + a few context nodes). `kopru
validate --project DIR` must exit 1 and its report must name, under the
example's file, the broken entity, the property (as a prefixed name) and the
shape's message, and nothing outside the broken files; the context alone must
pass (exit 0). The command runs in-process (helpers.run_cli): make test
validates every example at once, in one project (no two examples name the
same entity); `make fuzz-pipeline` (KOPRU_LONG_PROOFS=1) also each one alone.

Also checked without the CLI: every class of the ontology is covered by a
shape (directly or through a superclass), every constraint has a message,
and the shipped data conforms.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REPO_ROOT, CliResult, long_proof, make_shape_cases_project, run_cli
from rdflib import OWL, RDF, RDFS, Graph, Namespace, URIRef
from shape_cases import CASES, Case

ONTOLOGY_DIR = REPO_ROOT / "ontology"

KOP = Namespace("https://w3id.org/kopru/ontology#")
SH = Namespace("http://www.w3.org/ns/shacl#")

# --- running the CLI ----------------------------------------------------------------


def _validate(project: Path) -> CliResult:
    return run_cli("--project", project, "validate",
                   env={"KOPRU_STATE_DIR": str(project / ".kopru-state")})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, CliResult]:
    """Validate the valid context alone, and with every broken example."""
    tmp = tmp_path_factory.mktemp("shapes")
    return {"valid": _validate(make_shape_cases_project(tmp / "valid", [])),
            "all": _validate(make_shape_cases_project(tmp / "all", CASES))}


def _report(output: str) -> dict[tuple[str, str], list[str]]:
    """The report's lines by (file, entity): a file is a line of its own
    ('graph/x.ttl'), each entity under it '  <entity> (line N)', then the
    entity's lines, indented by four."""
    blocks: dict[tuple[str, str], list[str]] = {}
    file, block = "", None
    for line in output.splitlines():
        if line.startswith("graph/"):
            file, block = line.strip(), None
        elif line.startswith("    ") and block is not None:
            block.append(line.strip())
        elif line.startswith("  ") and not line.startswith("   ") and file:
            block = blocks.setdefault((file, line.strip().split(" (line")[0]), [])
        else:
            block = None
    return blocks


def _assert_fires(r: CliResult, case: Case, cases: list[Case]) -> None:
    """`kopru validate` over `cases` (`case` among them) fails, and reports
    `case` as its broken example."""
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"expected exit 1, got {r.returncode}:\n{out}"
    blocks = _report(out)
    block = blocks.get((case.file, case.entity))
    assert block, f"the report does not name {case.entity} under {case.file}:\n{out}"
    prefix = f"{case.prop}: " if case.prop else "(node): "
    hits = [line for line in block if line.startswith(prefix) and case.message in line]
    assert hits, (f"no line '{prefix}…{case.message}…' under {case.entity}:\n" + "\n".join(block)
                  + f"\n\nfull report:\n{out}")
    # The context is valid, so nothing outside the broken files may be reported.
    assert {file for file, _entity in blocks} <= {c.file for c in cases}, out
    assert "graph/context.ttl" not in out, out


# --- tests ---------------------------------------------------------------------------


def test_valid_minimal_project_passes(runs):
    r = runs["valid"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid" in r.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_shape_fires_on_broken_example(case, runs):
    _assert_fires(runs["all"], case, CASES)


@long_proof("fuzz-pipeline", "validates every example at once")
def test_shape_fires_on_each_broken_example_alone(tmp_path):
    for case in CASES:
        _assert_fires(_validate(make_shape_cases_project(tmp_path / case.name, [case])),
                      case, [case])


def test_shipped_data_conforms():
    r = _validate(REPO_ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


# --- static checks on the shapes ---------------------------------------------------


def _graph(*names: str) -> Graph:
    g = Graph()
    for n in names:
        g.parse(ONTOLOGY_DIR / n)
    return g


def test_every_ontology_class_is_covered_by_a_shape():
    onto = _graph("kopru.ttl", "external.ttl")
    shapes = _graph("shapes.ttl")
    targeted = set(shapes.objects(None, SH.targetClass))
    missing = []
    for cls in onto.subjects(RDF.type, OWL.Class):
        if not str(cls).startswith(str(KOP)):
            continue
        supers = set(onto.transitive_objects(cls, RDFS.subClassOf))  # includes cls itself
        if not supers & targeted:
            missing.append(cls.n3(onto.namespace_manager))
    assert not missing, f"classes no shape targets (directly or via a superclass): {missing}"


def test_every_constraint_has_a_message():
    shapes = _graph("shapes.ttl")
    lacking = []
    for owner, prop_shape in shapes.subject_objects(SH.property):
        # The code-list helpers (sh-kop:InSectors…) are reached through sh:node
        # from a property shape that carries the message.
        if isinstance(owner, URIRef) and owner.split("#")[-1].startswith("In"):
            continue
        if shapes.value(prop_shape, SH.message) is None:
            lacking.append(f"{owner} sh:property {prop_shape}")
    for node_shape in shapes.subjects(RDF.type, SH.NodeShape):
        has_node_level = any(shapes.value(node_shape, p) is not None for p in (SH["class"], SH["or"]))
        if has_node_level and shapes.value(node_shape, SH.message) is None:
            lacking.append(str(node_shape))
        for constraint in shapes.objects(node_shape, SH.sparql):
            if shapes.value(constraint, SH.message) is None:
                lacking.append(f"{node_shape} sh:sparql")
    assert not lacking, f"constraints without sh:message: {lacking}"


def test_ontology_terms_are_labelled():
    onto = _graph("kopru.ttl")
    problems = []
    terms = {s for s in onto.subjects(RDF.type, None)
             if isinstance(s, URIRef) and str(s).startswith(str(KOP))}
    for term in terms:
        langs = {label.language for label in onto.objects(term, RDFS.label)}
        if "en" not in langs:
            problems.append(f"{term}: no English rdfs:label")
        if "tr" not in langs:
            problems.append(f"{term}: no Turkish rdfs:label")
        if not any(c.language == "en" for c in onto.objects(term, RDFS.comment)):
            problems.append(f"{term}: no English rdfs:comment")
    assert not problems, "\n".join(sorted(problems))
