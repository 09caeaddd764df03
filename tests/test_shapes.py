"""The SHACL shapes (ontology/shapes.ttl), end to end through `kopru validate`.

Each broken example is a small graph file added to a minimal valid project
(the shipped ontology + a few context nodes). `kopru validate --project DIR`
must exit 1 and its report must name the broken entity, the property (as a
prefixed name) and the shape's message; the context alone must pass (exit 0).
The command runs in-process (helpers.run_cli), one case after another.

Also checked without the CLI: every class of the ontology is covered by a
shape (directly or through a superclass), every constraint has a message,
and the shipped data conforms.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO_ROOT, CliResult, run_cli
from rdflib import OWL, RDF, RDFS, Graph, Namespace, URIRef
from shape_cases import CASES, CONTEXT, PREFIXES

ONTOLOGY_DIR = REPO_ROOT / "ontology"

KOP = Namespace("https://w3id.org/kopru/ontology#")
SH = Namespace("http://www.w3.org/ns/shacl#")

# --- running the CLI ----------------------------------------------------------------


def _make_project(root: Path, extra: str | None) -> Path:
    shutil.copytree(ONTOLOGY_DIR, root / "ontology")
    (root / "graph").mkdir()
    (root / "graph" / "context.ttl").write_text(CONTEXT, encoding="utf-8")
    if extra is not None:
        (root / "graph" / "broken.ttl").write_text(PREFIXES + "\n" + extra + "\n", encoding="utf-8")
    return root


def _validate(project: Path) -> CliResult:
    return run_cli("--project", project, "validate",
                   env={"KOPRU_STATE_DIR": str(project / ".kopru-state")})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, CliResult]:
    """Validate the valid context and every broken case."""
    tmp = tmp_path_factory.mktemp("shapes")
    results = {"valid": _validate(_make_project(tmp / "valid", None))}
    for case in CASES:
        results[case.name] = _validate(_make_project(tmp / case.name, case.turtle))
    return results


def _entity_block(output: str, entity: str) -> list[str]:
    """The report lines under `entity` (its header line is '  <entity> (line N)')."""
    lines = output.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("  ") and not line.startswith("   ") and line.strip().split(" (line")[0] == entity:
            block = []
            for nxt in lines[i + 1:]:
                if not nxt.startswith("    "):
                    break
                block.append(nxt.strip())
            return block
    return []


# --- tests ---------------------------------------------------------------------------


def test_valid_minimal_project_passes(runs):
    r = runs["valid"]
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid" in r.stdout


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_shape_fires_on_broken_example(case, runs):
    r = runs[case.name]
    out = r.stdout + r.stderr
    assert r.returncode == 1, f"expected exit 1, got {r.returncode}:\n{out}"
    assert "graph/broken.ttl" in out, out
    block = _entity_block(out, case.entity)
    assert block, f"the report does not name {case.entity}:\n{out}"
    prefix = f"{case.prop}: " if case.prop else "(node): "
    hits = [line for line in block if line.startswith(prefix) and case.message in line]
    assert hits, (f"no line '{prefix}…{case.message}…' under {case.entity}:\n" + "\n".join(block)
                  + f"\n\nfull report:\n{out}")
    # The context is valid, so nothing outside the broken file may be reported.
    assert "graph/context.ttl" not in out, out


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
