"""The two SHACL validators agree, and the report shows top-level results only.

pyshacl is the reference; the `shacl` package (a young Rust validator) is
what larger projects use, guarded: what it reports is reported again by
pyshacl from the nodes' neighbourhood, any disagreement or unsupported
shape makes pyshacl check everything. Here both run on

- every broken example of tests/shape_cases.py (one per shape), and
- generated broken variants of a synthetic project (bench/generate.py's
  MUTATIONS, one edit each, then all of them at once; at 10k triples in
  `make fuzz-pipeline`, KOPRU_LONG_PROOFS=1),

and must give the same report, row for row.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (bench/generate.py)
import shape_cases  # noqa: E402  (the broken examples, one per shape)

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


def shapes_example(root: Path, broken: str | None) -> Path:
    """tests/shape_cases.py's minimal valid project, plus a broken example."""
    shutil.copytree(REPO / "ontology", root / "ontology")
    (root / "graph").mkdir()
    (root / "graph" / "context.ttl").write_text(shape_cases.CONTEXT, encoding="utf-8")
    if broken is not None:
        (root / "graph" / "broken.ttl").write_text(shape_cases.PREFIXES + "\n" + broken + "\n",
                                                   encoding="utf-8")
    return root


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


# --- sh:detail --------------------------------------------------------------------------


def test_a_wrong_code_list_value_is_one_row(tmp_path):
    """kop:sector id:textiles fails the value's sh:node; pyshacl also lists
    why (an sh:detail result about id:textiles): that is not a second
    violation."""
    project = shapes_example(tmp_path / "p", (
        f"id:broken-deal a kop:Agreement ; {shape_cases.OK} ; "
        "kop:party id:turkiye , id:albania ; kop:sector id:textiles ."))
    result = validate(Project(project), engine="pyshacl")
    assert [(v.focus_label, v.path_label) for v in result.violations] == [
        ("id:broken-deal", "kop:sector")]
    report = result.text_report()
    assert report.startswith("1 violation:")
    assert "id:textiles (line" not in report and "skos:inScheme" not in report


# --- every shape's broken example ------------------------------------------------------------


@pytest.mark.parametrize("case", [None] + shape_cases.CASES,
                         ids=["context"] + [c.name for c in shape_cases.CASES])
def test_validators_agree_on_each_shapes_example(case, tmp_path):
    project = shapes_example(tmp_path / "p", case.turtle if case else None)
    reference, fast, parsed = both(project)
    assert fast.engine == "shacl"
    assert rows(fast) == rows(reference)
    assert raw_fast_findings(parsed) == {(v.focus_node, v.path) for v in reference.violations}
    assert bool(reference.violations) == (case is not None)


# --- generated broken variants ----------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """800 triples in files of at most 100 (several files of a kind, blank
    nodes): the smallest set in which every mutation finds a match, alone
    and all at once."""
    out = tmp_path_factory.mktemp("synthetic") / "p"
    generate.generate(out, 800, seed=3, file_triples=100)
    return out


@pytest.mark.parametrize("name", [m[0] for m in generate.MUTATIONS])
def test_validators_agree_on_generated_variant(name, synthetic, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(synthetic, project)
    what = generate.mutate(project, name)
    reference, fast, _parsed = both(project)
    assert reference.errors, f"{name} ({what}) should break a shape"
    assert rows(fast) == rows(reference), what


def all_variants_at_once(project: Path) -> None:
    for i, (name, *_rest) in enumerate(generate.MUTATIONS):
        generate.mutate(project, name, seed=i)
    reference, fast, _parsed = both(project)
    assert len(reference.errors) >= len(generate.MUTATIONS)
    assert rows(fast) == rows(reference)


def test_validators_agree_on_all_variants_at_once(synthetic, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(synthetic, project)
    all_variants_at_once(project)


@pytest.mark.skipif(os.environ.get("KOPRU_LONG_PROOFS") != "1",
                    reason="a proof run: `make fuzz-pipeline` (KOPRU_LONG_PROOFS=1) runs it; "
                           "make test checks all variants at once on 800 triples")
def test_validators_agree_on_all_variants_at_once_at_10k(tmp_path):
    project = tmp_path / "p"
    generate.generate(project, 10_000, seed=5)
    all_variants_at_once(project)


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
