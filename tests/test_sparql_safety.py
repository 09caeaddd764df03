"""Safety of /sparql: read-only, no fetches but allowlisted SERVICE calls,
a timeout that really stops the work while other clients are served.

The guard as a function; the endpoint through the test client of the tiny
site; the timeout that ends a gunicorn worker on a real `kopru serve`."""

from __future__ import annotations

import os
import threading
import urllib.parse

import pytest
from helpers import http, wait_for

from server.errors import QueryRefused
from server.query import analysis as guard

CARTESIAN = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
             "?m ?n2 ?o }")
ALLOWED = ("https://query.wikidata.org/sparql", "https://dbpedia.org/sparql")
SPARQL = "/sparql"


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


def test_services_off_the_allowlist_never_reach_the_network(tiny_client, listener):
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
        r = tiny_client.get(SPARQL, query_string={"query": q})
        assert r.status_code == 403, (q, r.text)
        assert "SERVICE" in r.text
    r = tiny_client.post(SPARQL, data=queries[0],
                         headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 403
    assert listener.reached() == 0


def test_refusal_names_the_allowlist(tiny_client):
    r = tiny_client.get(SPARQL, query_string={
        "query": "SELECT * { SERVICE <http://example.org/sparql> { } }"})
    assert r.status_code == 403
    assert "https://query.wikidata.org/sparql" in r.text and "https://dbpedia.org/sparql" in r.text


def test_federation_off(tiny_site, make_app):
    c = make_app(*tiny_site, service_allowlist="").test_client()
    r = c.get(SPARQL, query_string={
        "query": "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"})
    assert r.status_code == 403 and "turned off" in r.text
    r = c.get(SPARQL, headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and b"BasicFederatedQuery" not in r.data
    # …while the default allowlist does offer it
    r = make_app(*tiny_site).test_client().get(SPARQL, headers={"Accept": "text/turtle"})
    assert b"BasicFederatedQuery" in r.data


@pytest.mark.parametrize("how", ["get-query", "form-query", "direct-query", "form-update",
                                 "direct-update", "get-update"])
def test_updates_are_refused_with_how_data_changes(tiny_client, how):
    c = tiny_client
    update = ("INSERT DATA { GRAPH <https://w3id.org/kopru/graph/asserted> "
              "{ <urn:a> <urn:b> <urn:c> } }")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if how == "get-query":
        r = c.get(SPARQL, query_string={"query": update})
    elif how == "get-update":
        r = c.get(SPARQL, query_string={"update": update})
    elif how == "form-query":
        r = c.post(SPARQL, data=urllib.parse.urlencode({"query": update}), headers=form)
    elif how == "form-update":
        r = c.post(SPARQL, data=urllib.parse.urlencode({"update": update}), headers=form)
    elif how == "direct-query":
        r = c.post(SPARQL, data=update, headers={"Content-Type": "application/sparql-query"})
    else:
        r = c.post(SPARQL, data=update, headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 403, r.text
    assert "read-only" in r.text and "graph/" in r.text and "kopru build" in r.text
    r = c.get(SPARQL, query_string={"query": "ASK { <urn:a> ?p ?o }"})
    assert r.get_json()["boolean"] is False


# --- the timeout ---------------------------------------------------------------------------

# Slow on any data (an ORDER BY over 250,000 generated rows), yet over in a
# second or two: in-process the abandoned query thread runs to its end.
VALUES = " ".join(str(i) for i in range(500))
SLOW = (f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {VALUES} }} VALUES ?b {{ {VALUES} }} }} "
        "ORDER BY DESC(?a * ?b - ?a) LIMIT 1")


def test_timeout_is_a_503_that_says_what_to_do(tiny_site, make_app):
    c = make_app(*tiny_site, query_timeout=0.1).test_client()
    r = c.get(SPARQL, query_string={"query": SLOW})
    assert r.status_code == 503, r.text
    assert "exceeded the 0.1 s limit" in r.text and "LIMIT" in r.text
    # the next queries are served, by a fresh query thread (on a busy machine
    # even these may take longer than 0.1 s: wait for an answer, not a 503)
    r = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(
        c.get(SPARQL, query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 3"})),
        30, "a query to be answered after the timeout")
    assert len(r.get_json()["results"]["bindings"]) == 3


def _processes() -> dict[int, int]:
    """Every live process: pid → parent pid (zombies left out: they are gone)."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            procs[int(entry)] = int(fields[1])
    return procs


def _workers(server_pid: int) -> set[int]:
    return {pid for pid, parent in _processes().items() if parent == server_pid}


@pytest.mark.server
def test_timeout_stops_the_query_and_others_are_served(tiny_server):
    """Under gunicorn a query past its time is answered 503 and its worker
    exits (nothing else stops the query engine); a fresh worker takes its
    place, the others answer meanwhile, and the 503 is logged."""
    server, url = tiny_server, tiny_server.sparql_url
    before = wait_for(lambda: (lambda w: w if len(w) == 2 else None)(_workers(server.proc.pid)),
                      30, "both workers of the server")
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
    # the runaway query is stopped: the worker that ran it (its query
    # thread with it) is gone, and a fresh one takes its place
    after = wait_for(lambda: (lambda w: w if len(w) == 2 and len(before - w) == 1 else None)(
        _workers(server.proc.pid)), 30, "the replacement worker")
    (ended,) = before - after
    wait_for(lambda: ended not in _processes(), 30, f"worker {ended} to be gone")
    wait_for(lambda: any(" 503 " in line and "COUNT" in line
                         for line in server.stderr().splitlines()), 30,
             "the 503 log line of the timed-out query")
