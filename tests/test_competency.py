"""The competency questions: every queries/*.rq answered by the app through
its test client (session fixture `any_app`: once from the embedded store,
once from a real Oxigraph server the build was pushed to), checked against
the answer the source article gives (tests/competency_expected.py).

- Every query file has a header (`# title:`, `# description:`) and an
  expectation, and every expectation has a query file: a new query without
  an expected answer fails here.
- Each query is sent as the SPARQL 1.1 Protocol's form POST to `/sparql`
  with `Accept: application/sparql-results+json`.
- The questions that need the OWL RL closure are sent a second time with
  the protocol's `default-graph-uri` set to the asserted and ontology graphs
  only (no entailed graph): they must give the smaller answer the asserted
  triples alone support, and the default (closed) answer must be fuller.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

import pytest
from competency_expected import EXPECTED, check, rows_of

QUERIES_DIR = Path(__file__).resolve().parent.parent / "queries"
QUERY_FILES = {p.stem: p for p in sorted(QUERIES_DIR.glob("*.rq"))}

GRAPH_ASSERTED = "https://w3id.org/kopru/graph/asserted"
GRAPH_ONTOLOGY = "https://w3id.org/kopru/graph/ontology"
WITHOUT_CLOSURE = (GRAPH_ASSERTED, GRAPH_ONTOLOGY)

CLOSURE_SLUGS = sorted(s for s, e in EXPECTED.items() if e.without is not None)

HEADER = re.compile(r"\A# title: \S.*\n# description: \S.*\n")


def sparql(client, query: str, default_graphs: tuple[str, ...] = ()) -> dict:
    """POST the query (form-encoded) to /sparql and return the SPARQL JSON
    results."""
    fields = [("query", query)] + [("default-graph-uri", g) for g in default_graphs]
    r = client.post("/sparql", data=urllib.parse.urlencode(fields),
                    headers={"Content-Type": "application/x-www-form-urlencoded",
                             "Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/sparql-results+json")
    return r.get_json()


# --------------------------------------------------------------------------
# The gallery is complete and well-formed (no server needed)
# --------------------------------------------------------------------------

def test_there_are_enough_questions():
    assert len(QUERY_FILES) >= 30, sorted(QUERY_FILES)


def test_every_query_has_an_expectation():
    missing = sorted(set(QUERY_FILES) - set(EXPECTED))
    assert not missing, f"queries without an expected answer in competency_expected.py: {missing}"


def test_every_expectation_has_a_query():
    stale = sorted(set(EXPECTED) - set(QUERY_FILES))
    assert not stale, f"expectations without a queries/<slug>.rq file: {stale}"


@pytest.mark.parametrize("slug", sorted(QUERY_FILES))
def test_query_file_is_well_formed(slug):
    text = QUERY_FILES[slug].read_text(encoding="utf-8")
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), f"{slug}: slug is not kebab-case"
    assert HEADER.match(text), f"{slug}.rq must start with '# title: …' and '# description: …'"
    body = text[HEADER.match(text).end():]
    assert body.lstrip().startswith("PREFIX"), f"{slug}.rq: PREFIX declarations follow the header"
    # deterministic answers: every SELECT with several rows is ordered
    assert "ORDER BY" in body, f"{slug}.rq has no ORDER BY"


def test_at_least_three_questions_need_the_closure():
    assert len(CLOSURE_SLUGS) >= 3, CLOSURE_SLUGS


# --------------------------------------------------------------------------
# The answers, through the endpoint
# --------------------------------------------------------------------------

@pytest.mark.parametrize("slug", sorted(QUERY_FILES))
def test_competency_question(any_client, slug):
    expect = EXPECTED.get(slug)
    if expect is None:
        pytest.fail(f"no expected answer for {slug}")
    results = sparql(any_client, QUERY_FILES[slug].read_text(encoding="utf-8"))
    problem = check(expect, results)
    assert problem is None, f"{slug}: {problem}"


@pytest.mark.parametrize("slug", CLOSURE_SLUGS)
def test_closure_gives_a_fuller_answer(any_client, slug):
    expect = EXPECTED[slug]
    query = QUERY_FILES[slug].read_text(encoding="utf-8")
    without = sparql(any_client, query, WITHOUT_CLOSURE)
    problem = check(expect.without, without)
    assert problem is None, f"{slug} without the closure: {problem}"
    # the default dataset (with the entailed graph) gives strictly more rows;
    # what they are is checked by test_competency_question
    with_closure = sparql(any_client, query)
    assert len(rows_of(with_closure)) > len(rows_of(without)), slug
