"""The W3C OWL 2 conformance test cases, read for tests/test_reasoning_owl2.py.

The suite is vendored, pruned to the cases with an RDF/XML premise, in
tests/data/owl2/owl2-rdfxml-premises.rdf (licence and provenance beside it);
the full export at <repo>/../shared/reference/owl2-test-cases/all.rdf is
read instead when it is there (same cases). Pruning is textual (the W3C text is kept
verbatim):

    python -m tests.reasoning_owl2 prune ../shared/reference/owl2-test-cases/all.rdf \\
        tests/data/owl2/owl2-rdfxml-premises.rdf
    python -m tests.reasoning_owl2 record     # plain owlrl's outcomes, see RECORDED
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

REPO = Path(__file__).resolve().parent.parent
VENDORED = REPO / "tests" / "data" / "owl2" / "owl2-rdfxml-premises.rdf"
SHARED = Path("shared", "reference", "owl2-test-cases", "all.rdf")

TEST = "http://www.w3.org/2007/OWL/testOntology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@dataclass(frozen=True)
class Case:
    identifier: str
    types: frozenset[str]           # local names: PositiveEntailmentTest, InconsistencyTest…
    premise: str                    # RDF/XML
    conclusion: str | None          # RDF/XML, for entailment tests

    @property
    def rdf_based(self) -> bool:
        """One of the cases that exercise the OWL 2 RL/RDF rules one by one."""
        return self.identifier.startswith("rdfbased-")


def suite_path() -> Path:
    """The full export beside the repository (<repo>/../shared/…, or higher up
    for a worktree), else the vendored copy."""
    for parent in REPO.parents:
        if (parent / SHARED).is_file():
            return parent / SHARED
    return VENDORED


def _double_quoted_entities(text: str) -> str:
    """pyoxigraph's RDF/XML parser wants <!ENTITY x "…">, the export has '…'."""
    return re.sub(r"(<!ENTITY\s+\S+\s+)'([^']*)'", r'\1"\2"', text)


def load_cases(path: Path | None = None) -> list[Case]:
    """Every case with an RDF/XML premise, sorted by identifier."""
    text = _double_quoted_entities((path or suite_path()).read_text(encoding="utf-8"))
    props: dict = {}
    for q in ox.parse(text, ox.RdfFormat.RDF_XML, base_iri="http://owl.semanticweb.org/"):
        props.setdefault(q.subject, {}).setdefault(q.predicate.value, []).append(q.object)
    cases = []
    for p in props.values():
        premise = p.get(TEST + "rdfXmlPremiseOntology")
        if not premise or TEST + "identifier" not in p:
            continue
        conclusion = p.get(TEST + "rdfXmlConclusionOntology")
        types = frozenset(t.value.rsplit("#", 1)[-1] for t in p.get(RDF_TYPE, ()))
        cases.append(Case(p[TEST + "identifier"][0].value, types, premise[0].value,
                          conclusion[0].value if conclusion else None))
    return sorted(cases, key=lambda c: c.identifier)


# The export lost the host of some IRIs: "/2001/XMLSchema#integer" for
# "http://www.w3.org/2001/XMLSchema#integer", and the same for OWL's namespace.
_LOST_HOST = re.compile(r'"/(2001/XMLSchema#|2002/07/owl#|2000/01/rdf-schema#|'
                        r'1999/02/22-rdf-syntax-ns#)')


def repair(rdfxml: str) -> str:
    return _double_quoted_entities(_LOST_HOST.sub(r'"http://www.w3.org/\1', rdfxml))


def triples(rdfxml: str) -> list:
    """An RDF/XML document of the suite as pyoxigraph triples (repaired),
    blank nodes named b0, b1… in order of appearance (the parser's own
    names are random; these make results comparable between runs)."""
    names: dict = {}

    def term(t):
        if type(t) is ox.BlankNode:
            if t not in names:
                names[t] = ox.BlankNode(f"b{len(names)}")
            return names[t]
        return t

    return [ox.Triple(term(q.subject), q.predicate, term(q.object))
            for q in ox.parse(repair(rdfxml), ox.RdfFormat.RDF_XML,
                              base_iri="http://owl.semanticweb.org/test/")]


# --- plain owlrl's outcomes, recorded ---------------------------------------------------
#
# Plain owlrl takes about two minutes over the whole suite. Its outcome for
# each case is recorded in RECORDED (a digest of the entailed triples, the
# inconsistency messages); `make test` compares the engines with that, and
# `make fuzz` (KOPRU_OWL2_LIVE=1) runs owlrl again and checks the record.
# The record names the owlrl and rdflib versions; with others installed the
# tests run owlrl live.

RECORDED = REPO / "tests" / "data" / "owl2" / "owlrl-outcomes.json"


def versions() -> dict[str, str]:
    import owlrl
    import rdflib

    return {"owlrl": owlrl.__version__, "rdflib": rdflib.__version__}


def summary(outcome) -> dict:
    """What is compared of an outcome (tests.reasoning_compare.Outcome)."""
    import hashlib

    digest = hashlib.sha256("\n".join(sorted(outcome.entailed)).encode()).hexdigest()
    return {"entailed": len(outcome.entailed), "digest": digest,
            "inconsistencies": sorted(outcome.inconsistencies), "error": outcome.error}


def record(path: Path = RECORDED) -> int:
    import json

    from tests.reasoning_compare import Premises, reference

    cases = {c.identifier: summary(reference(Premises(triples(c.premise), [])))
             for c in load_cases()}
    path.write_text(json.dumps({"versions": versions(), "cases": cases}, indent=1,
                               sort_keys=True) + "\n", encoding="utf-8")
    return len(cases)


def recorded(path: Path = RECORDED) -> dict | None:
    """The recorded outcomes by case, or None when they were recorded with
    other owlrl or rdflib versions than those installed."""
    import json

    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["cases"] if data["versions"] == versions() else None


# --- pruning the export for the repository ---------------------------------------------

_CASE = re.compile(r"\t<test:TestCase .*?</test:TestCase>\n", re.S)


def prune(src: Path, dst: Path) -> int:
    """Copy `src` keeping only the test cases with an RDF/XML premise."""
    text = src.read_text(encoding="utf-8")
    first = _CASE.search(text)
    head = text[:first.start()]
    kept = [m.group(0) for m in _CASE.finditer(text) if "<test:rdfXmlPremiseOntology" in m.group(0)]
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(head + "".join(kept) + "\n</rdf:RDF>\n", encoding="utf-8")
    return len(kept)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "prune":
        print(prune(Path(sys.argv[2]), Path(sys.argv[3])), "cases kept")
    elif sys.argv[1:] == ["record"]:
        print(record(), "outcomes of plain owlrl recorded in", RECORDED)
    else:
        sys.exit(__doc__)
