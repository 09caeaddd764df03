"""The query engine's copy of a small build in memory (server/query/engine.py):
it holds the very quads of the on-disk store, so every question gets the
same answer from either; a build larger than the copy's limit is read from
disk; and a build swapped in is what the next queries read."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from helpers import REPO_ROOT, query_answer, wait_for

from server import formats
from server import namespaces as ns
from server.pipeline.build import build
from server.pipeline.gallery import load_queries
from server.pipeline.project import Project
from server.query import analysis, engine
from server.query.thread_executor import ThreadExecutor


@pytest.fixture(scope="module")
def store_dir(built_project):
    return str((built_project[1] / "current").resolve())


def test_a_small_build_is_copied_whole(store_dir):
    e = engine.Engine(store_dir)
    disk = ox.Store.read_only(f"{store_dir}/db")
    assert e.in_memory
    assert sorted(map(str, e.store)) == sorted(map(str, disk))


def test_every_gallery_question_gets_the_same_answer_from_the_copy(store_dir):
    e = engine.Engine(store_dir)
    disk = ox.Store.read_only(f"{store_dir}/db")
    graphs = [ox.NamedNode(g) for g in ns.DEFAULT_GRAPHS]
    queries = load_queries(Project(REPO_ROOT))
    assert queries
    for q in queries:
        text = analysis.analyze(q.text).text.embedded
        assert query_answer(e.store.query(text, default_graph=graphs)) == \
            query_answer(disk.query(text, default_graph=graphs)), q.slug


def test_a_build_over_the_limit_is_read_from_disk(store_dir, monkeypatch):
    count = analysis.analyze("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } "
                             "GROUP BY ?g ORDER BY ?g").text
    copied = engine.Engine(store_dir)
    monkeypatch.setattr(engine, "MEMORY_COPY_QUADS", len(copied.store) - 1)
    on_disk = engine.Engine(store_dir)
    assert copied.in_memory and not on_disk.in_memory
    answers = [e.answer(count, formats.CSV, None, None, 10).body for e in (copied, on_disk)]
    assert answers[0] == answers[1] and answers[0].count(b"\r\n") == 5     # 4 graphs


def test_a_swapped_in_build_answers_the_next_query(tiny_project, tmp_path):
    state = tmp_path / "state"
    project = Project(tiny_project, state_dir=state)
    build(project)
    executor = ThreadExecutor(state / "current", timeout=10, result_limit=100)
    count = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"

    def n() -> int:
        return int(executor.run(count, formats.CSV).body.split()[1])

    before, version = n(), executor.version()
    (tiny_project / "graph" / "more.ttl").write_text(
        "@prefix id: <https://w3id.org/kopru/id/> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        'id:extra rdfs:label "Extra"@en .\n', encoding="utf-8")
    build(project)
    # The executor looks at `current` again within a second or so.
    wait_for(lambda: executor.version() != version, 30, "the new build to be seen")
    assert n() > before
