"""The `kopru` command: run in-process (`runner`, as `server.cli.main(ARGS)`),
and as a process of its own where the process is the point: `python -m
server`, and `kopru serve` (marked `server`)."""

from __future__ import annotations

import csv
import io
import json
import os
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox
import pytest
from helpers import REPO_ROOT, copy_build, kopru_env, run_kopru, start_kopru_server

from server.namespaces import GRAPH_ASSERTED, GRAPH_ENTAILED, GRAPH_ONTOLOGY, ID, KOP

SUBCOMMANDS = ("validate", "build", "query", "export", "serve")


@pytest.fixture
def kopru(runner):
    """kopru(project, *args, input=None): `kopru --project PROJECT ARGS`, in-process."""
    def run(project, *args, input=None):
        return runner.invoke("--project", project, *args, input=input)
    return run


@pytest.fixture
def kopru_built(runner, tiny_build):
    """kopru_built(*args, input=None): `kopru ARGS` on conftest's tiny_build
    (the tiny project, built), in-process: for the tests that only read it."""
    project, state = tiny_build

    def run(*args, input=None):
        return runner.invoke("--project", project, *args, input=input,
                             env={"KOPRU_STATE_DIR": str(state)})
    return run


def no_traceback(r) -> None:
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr


# --- help and usage errors --------------------------------------------------------------


def test_help(runner):
    r = runner.invoke("--help")
    assert r.returncode == 0
    for cmd in SUBCOMMANDS:
        assert cmd in r.stdout
    for cmd in SUBCOMMANDS:
        r = runner.invoke(cmd, "--help")
        assert r.returncode == 0, r.stderr
        assert f"usage: kopru {cmd}" in r.stdout
    assert "--asserted-only" in runner.invoke("export", "--help").stdout
    assert "--workers" in runner.invoke("serve", "--help").stdout


@pytest.mark.parametrize("args, words", [
    ((), "required"),
    (("frobnicate",), "invalid choice: 'frobnicate'"),
    (("query",), "the following arguments are required: QUERY"),
    (("query", "ASK {}", "--format", "xml"), "invalid choice: 'xml'"),
    (("export", "--format", "rdfxml"), "invalid choice: 'rdfxml'"),
    (("serve", "--port", "http"), "not a port number: 'http'"),
    (("serve", "--port", "70000"), "between 0 and 65535"),
    (("serve", "--workers", "0"), "must be at least 1"),
    (("build", "--forse"), "unrecognized arguments: --forse"),
])
def test_wrong_arguments(runner, args, words):
    r = runner.invoke(*args)
    assert r.returncode == 2
    assert words in r.stderr
    assert "usage: kopru" in r.stderr
    no_traceback(r)


@pytest.mark.parametrize("cmd", ["validate", "build", "query", "export", "serve"])
def test_missing_project(runner, tmp_path, cmd):
    extra = ("ASK {}",) if cmd == "query" else ()
    r = runner.invoke("--project", tmp_path, cmd, *extra)
    assert r.returncode == 2
    assert f"kopru: error: not a Köprü project: {tmp_path} has no ontology/ folder" in r.stderr
    no_traceback(r)
    # the current directory is the default project
    r = runner.invoke(cmd, *extra, cwd=tmp_path)
    assert r.returncode == 2 and "has no ontology/ folder" in r.stderr
    r = runner.invoke("--project", tmp_path / "nope", cmd, *extra)
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_project_option_after_the_command(runner, tiny_project):
    r = runner.invoke("validate", "--project", tiny_project)
    assert r.returncode == 0, r.stderr


# --- validate -----------------------------------------------------------------------------


def test_validate_ok(kopru, tiny_project):
    r = kopru(tiny_project, "validate")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("valid: 4 files, ") and "triples" in r.stdout


def test_validate_syntax_error(kopru, tiny_project):
    (tiny_project / "graph" / "broken.ttl").write_text(
        "@prefix id: <https://w3id.org/kopru/id/> .\nid:a id:b <not an iri> .\n")
    r = kopru(tiny_project, "validate")
    assert r.returncode == 1
    assert "graph/broken.ttl:2:11: " in r.stderr
    assert "    id:a id:b <not an iri> .\n              ^" in r.stderr
    no_traceback(r)


def test_validate_violation_report(kopru, tiny_project):
    (tiny_project / "graph" / "bad.ttl").write_text(
        "@prefix kop: <https://w3id.org/kopru/ontology#> .\n"
        "@prefix id: <https://w3id.org/kopru/id/> .\n"
        "id:solo a kop:Agreement ; kop:party id:turkiye .\n")
    r = kopru(tiny_project, "validate")
    assert r.returncode == 1
    out = r.stdout
    assert "graph/bad.ttl" in out and "  id:solo (line 3)" in out
    assert "    kop:party: An agreement has at least two parties." in out
    assert "    rdfs:label: Every entity has an English label." in out
    no_traceback(r)


# --- build ---------------------------------------------------------------------------------


def test_build_progress_and_warm_start(kopru, tiny_project):
    r = kopru(tiny_project, "build")
    assert r.returncode == 0, r.stderr
    for step in ("parse", "validate", "closure", "load", "swap"):
        assert f"  {step}" in r.stderr
    assert r.stdout.startswith("built in ") and "entailed" in r.stdout
    r = kopru(tiny_project, "build")
    assert r.returncode == 0 and r.stdout.startswith("up to date")
    r = kopru(tiny_project, "build", "--force")
    assert r.returncode == 0 and r.stdout.startswith("built in ")


def test_build_stops_on_violation(kopru, tiny_project):
    (tiny_project / "graph" / "bad.ttl").write_text(
        "@prefix kop: <https://w3id.org/kopru/ontology#> .\n"
        "@prefix id: <https://w3id.org/kopru/id/> .\n"
        "id:solo a kop:Agreement ; kop:party id:turkiye .\n")
    r = kopru(tiny_project, "build")
    assert r.returncode == 1
    assert "nothing was built" in r.stderr and "id:solo" in r.stderr
    no_traceback(r)


# --- query ----------------------------------------------------------------------------------


def test_query_table_builds_first(kopru, tiny_project):
    r = kopru(tiny_project, "query", "SELECT ?s ?l WHERE { ?s a kop:State ; rdfs:label ?l "
                                     "FILTER(lang(?l) = 'en') } ORDER BY ?l")
    assert r.returncode == 0, r.stderr
    assert "building" in r.stderr           # no store yet: built on the way
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["s", "l"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["id:albania", "Albania@en"]
    assert lines[3].split() == ["id:turkiye", "Türkiye@en"]
    assert lines[-1] == "(2 rows)"
    # columns aligned: the second column starts at the same offset on every row
    assert lines[0].index("l") == lines[2].index("Albania") == lines[3].index("Türkiye")


def test_query_file_and_name_and_stdin(kopru_built, tiny_build):
    query_file = tiny_build[0] / "queries" / "parties.rq"
    by_file = kopru_built("query", query_file)
    by_name = kopru_built("query", "parties")
    by_stdin = kopru_built("query", "-", input=query_file.read_text())
    for r in (by_file, by_name, by_stdin):
        assert r.returncode == 0, r.stderr
        assert "Defence pact@en  Albania@en" in r.stdout.replace("   ", "  ")
    assert by_file.stdout == by_name.stdout == by_stdin.stdout


def test_query_uses_the_closure(kopru_built):
    # kop:partyTo is never asserted: it comes from owl:inverseOf
    r = kopru_built("query", "SELECT ?x WHERE { ?x kop:partyTo id:pact } ORDER BY ?x",
                    "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows == [["x"], [ID + "albania"], [ID + "turkiye"]]


def test_query_json_ask_construct(kopru_built):
    r = kopru_built("query", "SELECT ?p WHERE { id:pact kop:party ?p }", "-f", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["head"]["vars"] == ["p"]
    assert sorted(b["p"]["value"] for b in data["results"]["bindings"]) == [
        ID + "albania", ID + "turkiye"]
    r = kopru_built("query", "ASK { id:tirana kop:partOf id:western-balkans }")
    assert (r.returncode, r.stdout) == (0, "true\n")
    r = kopru_built("query", "ASK { id:tirana kop:partOf id:pact }", "-f", "json")
    assert json.loads(r.stdout)["boolean"] is False
    r = kopru_built("query", "CONSTRUCT { ?a kop:partyTo ?b } WHERE { ?a kop:partyTo ?b }")
    assert r.returncode == 0, r.stderr
    triples = list(ox.parse(r.stdout, ox.RdfFormat.TURTLE))
    assert len(triples) == 2 and "@prefix id:" in r.stdout


def test_query_errors(kopru_built):
    r = kopru_built("query", "SELECT * WHERE { ?s ?p }")
    assert r.returncode == 1
    assert "kopru: SPARQL syntax error at line 1, column 25: " in r.stderr
    assert "SELECT * WHERE { ?s ?p }\n" + " " * 26 + "^" in r.stderr
    no_traceback(r)
    r = kopru_built("query", "no-such-query")
    assert r.returncode == 2 and "neither a SPARQL query nor the name of a query" in r.stderr
    r = kopru_built("query", "missing.rq")
    assert r.returncode == 2 and "no such query file: missing.rq" in r.stderr
    no_traceback(r)


# --- export ---------------------------------------------------------------------------------


def _triples(data: bytes, fmt) -> set:
    return {(q.subject, q.predicate, q.object) for q in ox.parse(data, fmt)}


def test_export_formats(kopru_built, tmp_path):
    inverse = (ox.NamedNode(ID + "albania"), ox.NamedNode(KOP + "partyTo"),
               ox.NamedNode(ID + "pact"))
    asserted = (ox.NamedNode(ID + "pact"), ox.NamedNode(KOP + "party"),
                ox.NamedNode(ID + "albania"))
    r = kopru_built("export")   # ttl on stdout
    assert r.returncode == 0, r.stderr
    ttl = _triples(r.stdout.encode(), ox.RdfFormat.TURTLE)
    assert inverse in ttl and asserted in ttl

    r = kopru_built("export", "--asserted-only", "--format", "nt")
    nt = _triples(r.stdout.encode(), ox.RdfFormat.N_TRIPLES)
    assert asserted in nt and inverse not in nt
    assert nt < ttl

    out = tmp_path / "graph.jsonld"
    r = kopru_built("export", "-o", out)
    assert r.returncode == 0, r.stderr
    assert _triples(out.read_bytes(), ox.RdfFormat.JSON_LD) == ttl

    r = kopru_built("export", "--format", "trig", "-o", tmp_path / "all.trig")
    quads = list(ox.parse((tmp_path / "all.trig").read_bytes(), ox.RdfFormat.TRIG))
    graphs = {q.graph_name.value for q in quads}
    assert graphs == {GRAPH_ASSERTED, GRAPH_ONTOLOGY, GRAPH_ENTAILED}
    assert any((q.subject, q.predicate, q.object) == inverse and
               q.graph_name.value == GRAPH_ENTAILED for q in quads)

    r = kopru_built("export", "-o", tmp_path / "graph.xyz")
    assert r.returncode == 2 and "cannot tell the format" in r.stderr
    r = kopru_built("export", "-o", tmp_path / "no" / "dir" / "x.ttl")
    assert r.returncode == 1 and "cannot write" in r.stderr
    no_traceback(r)


# --- serve ----------------------------------------------------------------------------------


def query_url(server, sparql: str) -> str:
    return f"{server.url}/sparql?" + urllib.parse.urlencode({"query": sparql})


BROKEN_TTL = "@prefix id: <https://w3id.org/kopru/id/> .\nid:a id:b .\n"


@pytest.fixture(scope="module")
def last_good_server(tiny_build, tmp_path_factory):
    """`kopru serve --result-limit 1 --service-allowlist ""` over a copy of
    conftest's tiny_build whose last edit broke it: one server for the two
    tests below (the flags reach the endpoint; the last good build is served)."""
    root = tmp_path_factory.mktemp("last-good")
    project, state = copy_build(*tiny_build, root / "p", root / "state")
    (project / "graph" / "broken.ttl").write_text(BROKEN_TTL)
    with start_kopru_server("--result-limit", "1", "--service-allowlist", "", project=project,
                            env=kopru_env(KOPRU_STATE_DIR=str(state))) as server:
        yield server


@pytest.mark.server
def test_serve_answers_with_the_limits_its_flags_set(last_good_server):
    """`kopru serve` serves the closure; --result-limit and --service-allowlist
    on the command line reach the endpoint."""
    server = last_good_server
    req = urllib.request.Request(query_url(server, f"ASK {{ ?x <{KOP}partyTo> ?y }}"),
                                 headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert json.loads(resp.read())["boolean"] is True
    req = urllib.request.Request(query_url(server, "SELECT * WHERE { ?s ?p ?o }"),
                                 headers={"Accept": "text/csv"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.headers["X-Kopru-Truncated"] == "true"
        assert len(resp.read().decode().strip().splitlines()) == 2  # header + 1 row
    service = "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(query_url(server, service), timeout=30)
    assert err.value.code in (400, 403)
    assert "federation is turned off" in err.value.read().decode()


def test_python_m_server_is_kopru():
    r = run_kopru("--version")
    assert r.returncode == 0 and r.stdout.startswith("kopru ")
    assert os.path.exists(REPO_ROOT / "server" / "__main__.py")


@pytest.mark.server
def test_serve_keeps_the_last_good_build(tiny_project, last_good_server):
    """A broken edit does not take the endpoint down: serve reports it and
    serves the last good build; with no good build at all it exits 1. (Run
    as processes: serve builds in a child process of its own.)"""
    (tiny_project / "graph" / "broken.ttl").write_text(BROKEN_TTL)
    r = run_kopru("--project", tiny_project, "serve", "--port", "0")
    assert r.returncode == 1 and "graph/broken.ttl:2:" in r.stderr
    no_traceback(r)
    assert "serving the last good build" in last_good_server.stderr()
    assert "graph/broken.ttl:2:" in last_good_server.stderr()


@pytest.mark.server
def test_serve_after_a_build_shuts_down_cleanly(tiny_project, tmp_path):
    """`kopru serve` that had to build first still stops cleanly on SIGTERM:
    every worker exits by itself, none has to be killed by gunicorn (a worker
    forked from a process that had opened the store would hang at exit)."""
    env = kopru_env(KOPRU_STATE_DIR=str(tmp_path / "state"))  # nothing built yet
    # --timeout 100 gives gunicorn a 105 s grace period: a hung worker keeps the
    # master alive past stop()'s 60 s wait, and stop() then has to kill it (-9).
    with start_kopru_server("--timeout", "100", "--workers", "2", project=tiny_project,
                            env=env) as server:
        try:
            with urllib.request.urlopen(f"{server.url}/sparql?query=ASK%7B%7D", timeout=30) as r:
                assert r.status == 200
        finally:
            code = server.stop(timeout=60)
        log = server.stderr()
    assert "building" in log
    assert code == 0 and "SIGKILL" not in log, log[-2000:]
