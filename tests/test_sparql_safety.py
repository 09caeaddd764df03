"""Safety of /sparql: read-only, no fetches but allowlisted SERVICE calls,
a timeout that really stops the work while other clients are served."""

from __future__ import annotations

import os
import threading
import time
import urllib.parse

import pytest
from conftest import wait_for
from test_federation import CountingListener
from test_sparql_protocol import http, start_server, tiny_server_project

from server.errors import QueryRefused
from server.query import analysis as guard

CARTESIAN = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
             "?m ?n2 ?o }")
ALLOWED = ("https://query.wikidata.org/sparql", "https://dbpedia.org/sparql")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return tiny_server_project(tmp_path_factory.mktemp("sparql-safety"))


@pytest.fixture(scope="module")
def listener():
    lst = CountingListener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def server(built):
    with start_server(*built, "--workers", "2", "--timeout", "2") as s:
        yield s


@pytest.fixture(scope="module")
def url(server):
    return server.sparql_url


# --- the guard, as a function -------------------------------------------------------

EVIL = "http://127.0.0.1:9/x"


@pytest.mark.parametrize("query", [
    f"SELECT * {{ SERVICE <{EVIL}> {{ ?s ?p ?o }} }}",
    f"select * {{ service silent <{EVIL}> {{ ?s ?p ?o }} }}",
    f"SELECT * {{ SERVICE<{EVIL}>{{ ?s ?p ?o }} }}",
    f"SELECT * {{ SERVICESILENT<{EVIL}> {{ ?s ?p ?o }} }}",      # the engine reads this as SERVICE SILENT
    f"SELECT * {{ ?s ?p true SERVICE <{EVIL}> {{ }} }}",
    f"SELECT * {{ ?s ?p trueSERVICE<{EVIL}> {{ }} }}",           # …and this as `true SERVICE`
    "PREFIX e: <http://127.0.0.1:9/> SELECT * { SERVICE e:x { ?s ?p ?o } }",
    "PREFIX e: <http://127.0.0.1:9/> SELECT * { SERVICEe:x { ?s ?p ?o } }",
    "PREFIX : <http://127.0.0.1:9/> SELECT * { SERVICE:x { ?s ?p ?o } }",
    "PREFIXe:<http://127.0.0.1:9/> SELECT * { ?s ?p trueSERVICEe:x { } }",
    "SELECT * { SERVICE ?endpoint { ?s ?p ?o } }",
    "SELECT * { VALUES ?e { <http://127.0.0.1:9/> } SERVICE ?e { ?s ?p ?o } }",
    "BASE <https://query.wikidata.org/> SELECT * { SERVICE <sparql> { ?s ?p ?o } }",
    "SELECT * { SERVICE <https://query.wikidata.org/sparql?x=1> { ?s ?p ?o } }",
    "SELECT * { SERVICE <http://query.wikidata.org/sparql> { ?s ?p ?o } }",
    "SELECT * { SERVICE <http://127.0.0.1:9/\\u0078> { ?s ?p ?o } }",
    "SELECT * { # a comment\n SERVICE # another\n <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * { ?s ?p \"\"\"a \" b\"\"\" . SERVICE <http://127.0.0.1:9/> { } }",
])
def test_guard_refuses_services_off_the_allowlist(query):
    with pytest.raises(QueryRefused) as e:
        guard.check(query, ALLOWED)
    assert e.value.status in (400, 403)
    assert "SERVICE" in e.value.message


@pytest.mark.parametrize("query", [
    "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }",
    "PREFIX wds: <https://query.wikidata.org/> SELECT * { SERVICE SILENT wds:sparql { ?s ?p ?o } }",
    "SELECT * { SERVICE <https://query.wikidata.org/spar\\u0071l> { ?s ?p ?o } }",
    f'SELECT * {{ ?s ?p "SERVICE <{EVIL}> {{ }}" }}',                # in a string
    f"SELECT * {{ ?s ?p '''SERVICE <{EVIL}>''' }}",
    f"SELECT * {{ ?s ?p ?o }} # SERVICE <{EVIL}> {{ }}",             # in a comment
    "PREFIX schema: <http://schema.org/> SELECT * { ?s schema:serviceType ?o }",
    "SELECT ?service { ?service ?p ?o }",
])
def test_guard_lets_harmless_queries_through(query):
    guard.check(query, ALLOWED)


def test_guard_empty_allowlist_turns_federation_off():
    with pytest.raises(QueryRefused) as e:
        guard.check("SELECT * { SERVICE <https://query.wikidata.org/sparql> { } }", ())
    assert "turned off" in e.value.message


@pytest.mark.parametrize("update", [
    "INSERT DATA { <a:s> <a:p> <a:o> }", "DELETE WHERE { ?s ?p ?o }", "LOAD <http://example.org/>",
    "CLEAR ALL", "DROP GRAPH <a:g>", "CREATE GRAPH <a:g>", "COPY <a:g> TO <a:h>",
    "MOVE <a:g> TO <a:h>", "ADD <a:g> TO <a:h>", "WITH <a:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/> insert data { ex:a ex:b ex:c }",
])
def test_guard_recognises_updates(update):
    assert guard.analyze(update).is_update
    with pytest.raises(QueryRefused) as e:
        guard.check(update, ALLOWED)
    assert e.value.status == 403


def test_guard_sees_the_dataset_clause():
    a = guard.analyze("PREFIX g: <https://w3id.org/kopru/graph/> SELECT * FROM g:asserted "
                      "FROM NAMED <https://w3id.org/kopru/graph/entailed> { ?s ?p ?o }")
    assert a.has_dataset_clause and a.form == "SELECT"
    assert a.from_graphs == ("https://w3id.org/kopru/graph/asserted",)
    assert a.from_named_graphs == ("https://w3id.org/kopru/graph/entailed",)
    assert not guard.analyze("SELECT ?from { ?from ?p ?o }").has_dataset_clause


# --- over HTTP ---------------------------------------------------------------------------


def test_services_off_the_allowlist_never_reach_the_network(url, listener):
    target = listener.url
    base, _, local = target.rpartition("/")
    queries = [
        f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ SERVICESILENT<{target}> {{ ?s ?p ?o }} }}",
        f"PREFIX r: <{base}/> SELECT * {{ SERVICE r:{local} {{ ?s ?p ?o }} }}",
        f"SELECT * {{ ?s ?p true SERVICE <{target}> {{ }} }}",
        f"SELECT * {{ ?s ?p trueSERVICE<{target}> {{ }} }}",
        f"SELECT * {{ BIND(<{target}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        f"BASE <{base}/> SELECT * {{ SERVICE <{local}> {{ ?s ?p ?o }} }}",
    ]
    for q in queries:
        r = http("GET", url, params={"query": q})
        assert r.status == 403, (q, r)
        assert "SERVICE" in r.text
    r = http("POST", url, queries[0], {"Content-Type": "application/sparql-query"})
    assert r.status == 403
    time.sleep(0.3)
    assert listener.connections == 0


def test_refusal_names_the_allowlist(url):
    r = http("GET", url, params={"query": "SELECT * { SERVICE <http://example.org/sparql> { } }"})
    assert r.status == 403
    assert "https://query.wikidata.org/sparql" in r.text and "https://dbpedia.org/sparql" in r.text


def test_federation_off(built):
    with start_server(*built, KOPRU_SERVICE_ALLOWLIST="") as s:
        r = http("GET", s.sparql_url, params={
            "query": "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"})
        assert r.status == 403 and "turned off" in r.text
        r = http("GET", s.sparql_url, headers={"Accept": "text/turtle"})
        assert b"BasicFederatedQuery" not in r.body


@pytest.mark.parametrize("how", ["get-query", "form-query", "direct-query", "form-update",
                                 "direct-update", "get-update"])
def test_updates_are_refused_with_how_data_changes(url, how):
    update = "INSERT DATA { GRAPH <https://w3id.org/kopru/graph/asserted> { <urn:a> <urn:b> <urn:c> } }"
    if how == "get-query":
        r = http("GET", url, params={"query": update})
    elif how == "get-update":
        r = http("GET", url, params={"update": update})
    elif how == "form-query":
        r = http("POST", url, urllib.parse.urlencode({"query": update}),
                 {"Content-Type": "application/x-www-form-urlencoded"})
    elif how == "form-update":
        r = http("POST", url, urllib.parse.urlencode({"update": update}),
                 {"Content-Type": "application/x-www-form-urlencoded"})
    elif how == "direct-query":
        r = http("POST", url, update, {"Content-Type": "application/sparql-query"})
    else:
        r = http("POST", url, update, {"Content-Type": "application/sparql-update"})
    assert r.status == 403, r
    assert "read-only" in r.text and "graph/" in r.text and "kopru build" in r.text
    assert http("GET", url, params={"query": "ASK { <urn:a> ?p ?o }"}).json()["boolean"] is False


# --- the timeout ---------------------------------------------------------------------------


def _server_tree(server_pid: int) -> dict[int, tuple[int, str, int]]:
    """The server's process tree: pid → (parent pid, command line, CPU ticks so far)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":                      # a zombie burns nothing
            continue
        procs[int(entry)] = (int(fields[1]), cmdline, int(fields[11]) + int(fields[12]))

    def in_tree(pid):
        while pid > 1:
            if pid == server_pid:
                return True
            pid = procs[pid][0] if pid in procs else 1
        return False
    return {p: v for p, v in procs.items() if in_tree(p)}


def _workers(server_pid: int) -> set[int]:
    return {p for p, (ppid, _, _) in _server_tree(server_pid).items() if ppid == server_pid}


def _cpu_seconds(server_pid: int) -> float:
    return sum(t for _, _, t in _server_tree(server_pid).values()) / os.sysconf("SC_CLK_TCK")


def test_timeout_stops_the_query_and_others_are_served(server, url):
    before = _workers(server.proc.pid)
    assert len(before) == 2, before
    result = {}

    def slow():
        result["reply"] = http("GET", url, params={"query": CARTESIAN}, timeout=60)

    t = threading.Thread(target=slow)
    t.start()
    # during: the other worker answers (the deadline only detects a hang)
    r = http("GET", url, params={"query": "ASK { ?s ?p ?o }"}, timeout=30)
    assert r.status == 200 and r.json()["boolean"] is True
    t.join(60)
    reply = result["reply"]
    assert reply.status == 503, reply
    assert "2 s limit" in reply.text and "LIMIT" in reply.text
    # right after: queries are answered again and again
    for _ in range(6):
        r = http("GET", url, params={"query": "SELECT * { ?s ?p ?o } LIMIT 3"}, timeout=30)
        assert r.status == 200 and len(r.json()["results"]["bindings"]) == 3
    # the runaway query is stopped: the worker that ran it is gone and a
    # fresh one takes its place (within 30 s), and the CPU settles
    wait_for(lambda: (lambda after: len(after) == 2 and len(before - after) == 1)(
        _workers(server.proc.pid)), 30, "the replacement worker")
    wait_for(lambda: _cpu_used_in(server.proc.pid, 1.0) < 0.5, 30,
             "the server's CPU use to settle after the timeout")


def _cpu_used_in(pid: int, seconds: float) -> float:
    cpu0 = _cpu_seconds(pid)
    time.sleep(seconds)
    return _cpu_seconds(pid) - cpu0


def test_timeout_is_logged(server, url):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if any(" 503 " in line and "COUNT" in line for line in server.stderr().splitlines()):
            return
        time.sleep(0.1)
    pytest.fail("no 503 log line for the timed-out query:\n" + server.stderr()[-2000:])
