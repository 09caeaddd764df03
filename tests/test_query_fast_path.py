"""The /sparql fast path (server/web/sparql/fast_path.py), in-process: a
query it answers gets the answer the Flask app gives — status, headers,
body, the query's log line and the access line — and what it does not
answer (errors, the query UI, the service description, 304s, OPTIONS)
goes to the app whole, POST bodies included."""

from __future__ import annotations

import gzip
import io
import logging
import re
import urllib.parse

import pytest
from flask import Flask, request_started
from helpers import REPO_ROOT
from werkzeug.test import Client
from werkzeug.wrappers import Response

from server.config import Config
from server.web import create_app

KOP = "https://w3id.org/kopru/ontology#"
ID = "https://w3id.org/kopru/id/"
ASSERTED = "https://w3id.org/kopru/graph/asserted"
LOOKUP = f"SELECT ?p ?o WHERE {{ <{ID}albania> ?p ?o }} ORDER BY ?p ?o"
COUNTRIES = f"SELECT ?s WHERE {{ ?s a <{KOP}Country> }} ORDER BY ?s"
CONSTRUCT = f"CONSTRUCT {{ <{ID}albania> ?p ?o }} WHERE {{ <{ID}albania> ?p ?o }}"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(scope="module")
def app(built_project) -> Flask:
    root, state = built_project
    return create_app(Config.from_env(project=root, state_dir=state))


@pytest.fixture(scope="module")
def small_limit_app(built_project) -> Flask:
    root, state = built_project
    return create_app(Config.from_env(project=root, state_dir=state, result_limit=3))


def clients(app: Flask) -> tuple[Client, Client]:
    """(through the fast path, through Flask alone)."""
    return (Client(app, Response),
            Client(lambda environ, start: Flask.wsgi_app(app, environ, start), Response))


def _headers(r) -> list[tuple[str, str]]:
    # Date is the clock's; whether it is there is the app's.
    return [(k, "<date>" if k == "Date" else v) for k, v in r.headers.items()]


def get(query=None, **params):
    if query is not None:
        params["query"] = query
    return {"path": "/sparql", "query_string": params}


def post_form(query, **params):
    return {"path": "/sparql", "method": "POST", "content_type": FORM,
            "data": urllib.parse.urlencode({"query": query, **params})}


def post_direct(query, content_type="application/sparql-query"):
    return {"path": "/sparql", "method": "POST", "content_type": content_type,
            "data": query.encode("utf-8")}


SAME = {
    "json lookup": (get(LOOKUP), {}),
    "lookup, gzip": (get(LOOKUP), {"Accept-Encoding": "gzip, deflate"}),
    "lookup, gzip refused": (get(LOOKUP), {"Accept-Encoding": "gzip;q=0, br"}),
    "lookup, any encoding": (get(LOOKUP), {"Accept-Encoding": "*"}),
    "xml by Accept": (get(COUNTRIES), {"Accept": "application/sparql-results+xml"}),
    "csv by format=": (get(COUNTRIES, format="csv"), {}),
    "tsv by Accept with q": (get(COUNTRIES), {"Accept": "text/tab-separated-values;q=0.9, */*;q=0.1"}),
    "ask": (get("ASK { ?s ?p ?o }"), {}),
    "construct, turtle": (get(CONSTRUCT), {}),
    "construct, n-triples, gzip": (get(CONSTRUCT), {"Accept": "application/n-triples",
                                                    "Accept-Encoding": "gzip"}),
    "construct, json-ld by format=": (get(CONSTRUCT, format="json-ld"), {}),
    "select with format=n3 and an Accept": (get(COUNTRIES, format="n3"), {"Accept": "text/csv"}),
    "the asserted graph only": (get(COUNTRIES, **{"default-graph-uri": ASSERTED}), {}),
    "named graphs": (get("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g "
                         "ORDER BY ?g", **{"named-graph-uri": ASSERTED}), {}),
    "FROM in the query": (get(f"SELECT (COUNT(*) AS ?n) FROM <{ASSERTED}> {{ ?s ?p ?o }}"), {}),
    "language and agent": (get(LOOKUP), {"Accept-Language": "tr", "User-Agent": "curl/8",
                                         "Referer": "http://example.org/"}),
    "POST form": (post_form(LOOKUP), {}),
    "POST form, gzip": (post_form(LOOKUP), {"Accept-Encoding": "gzip"}),
    "POST direct": (post_direct(COUNTRIES), {"Accept": "text/csv"}),
    "POST direct, utf-8": (post_direct("ASK { ?s ?p 'Türkiye' }",
                                       "application/sparql-query; charset=utf-8"), {}),
    # what the app answers, through either door
    "syntax error": (get("SELEC ?s"), {}),
    "syntax error, browser": (get("SELECT * WHERE { ?s ?p }"), {"Accept": "text/html"}),
    "update": (get("INSERT DATA { <a:b> <a:c> <a:d> }"), {}),
    "update by POST": (post_direct("DELETE WHERE { ?s ?p ?o }", "application/sparql-update"), {}),
    "SERVICE off the allowlist": (get("SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }"),
                                  {}),
    "not acceptable": (get(COUNTRIES), {"Accept": "image/png"}),
    "two queries": ({"path": "/sparql?query=ASK{}&query=ASK{}"}, {}),
    "empty query": (get("  "), {}),
    "too long": (get("ASK {} #" + "x" * 100_001), {}),
    "bad charset": (post_direct("ASK {}", "application/sparql-query; charset=latin-1"), {}),
    "bad content type": (post_direct("ASK {}", "text/plain"), {}),
    "form without a query": ({"path": "/sparql", "method": "POST", "content_type": FORM,
                              "data": "format=json"}, {}),
    "nested too deep": (get("SELECT * { FILTER(" + "(" * 200 + "1" + ")" * 200 + ") }"), {}),
    "query UI": (get(LOOKUP), {"Accept": "text/html"}),
    "query UI by POST": (post_form(LOOKUP), {"Accept": "text/html,application/xhtml+xml"}),
    "service description": (get(), {"Accept": "text/turtle"}),
    "OPTIONS": ({"path": "/sparql", "method": "OPTIONS"}, {"Origin": "http://example.org"}),
    "HEAD": ({"path": "/sparql", "method": "HEAD", "query_string": {"query": LOOKUP}}, {}),
}


@pytest.mark.parametrize("name", list(SAME))
def test_an_answer_is_the_same_through_either_door(app, name):
    kwargs, headers = SAME[name]
    fast, flask_only = clients(app)
    a = fast.open(headers=headers, **kwargs)
    b = flask_only.open(headers=headers, **kwargs)
    assert (a.status, _headers(a)) == (b.status, _headers(b)), name
    assert a.data == b.data, name


def test_a_truncated_answer_is_the_same_through_either_door(small_limit_app):
    fast, flask_only = clients(small_limit_app)
    a, b = (c.get("/sparql", query_string={"query": COUNTRIES}) for c in (fast, flask_only))
    assert a.headers["X-Kopru-Truncated"] == "true" and a.headers["X-Kopru-Result-Limit"] == "3"
    assert (a.status, _headers(a), a.data) == (b.status, _headers(b), b.data)


def test_answers_that_are_not_the_builds_alone_are_the_same_but_for_the_values(app):
    fast, flask_only = clients(app)
    q = {"query": "SELECT (RAND() AS ?r) (STRUUID() AS ?u) WHERE {}"}
    a, b = (c.get("/sparql", query_string=q) for c in (fast, flask_only))

    def shape(r):        # a random number is not always written in as many digits
        return r.status, [(k, "<n>" if k == "Content-Length" else v) for k, v in _headers(r)]
    assert shape(a) == shape(b)
    assert a.headers["Cache-Control"] == "no-store" and "ETag" not in a.headers


def test_the_fast_paths_validator_gets_a_304_and_its_gzip_revalidates(app):
    """The fast path's ETag is the app's: the app answers the If-None-Match."""
    fast, _ = clients(app)
    first = fast.get("/sparql", query_string={"query": LOOKUP})
    again = fast.get("/sparql", query_string={"query": LOOKUP},
                     headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]
    packed = fast.get("/sparql", query_string={"query": LOOKUP},
                      headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == first.data
    assert fast.get("/sparql", query_string={"query": LOOKUP}, headers={
        "Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}).status_code == 304


def _log_lines(caplog, name: str) -> list[str]:
    # The durations and the clock are the only differences allowed.
    return [re.sub(r"\d+\.\dms", "<ms>", re.sub(r"\[[^]]+\]", "[<when>]", r.getMessage()))
            for r in caplog.records if r.name == name]


@pytest.mark.parametrize("name", ["json lookup", "POST form", "syntax error", "update",
                                  "query UI", "not acceptable", "too long"])
def test_the_same_log_lines_through_either_door(app, caplog, name):
    kwargs, headers = SAME[name]
    headers = {"User-Agent": "fast/1.0", **headers}
    caplog.set_level(logging.INFO, logger="kopru")
    lines = []
    for client in clients(app):
        caplog.clear()
        client.open(headers=headers, **kwargs)
        lines.append((_log_lines(caplog, "kopru.query"), _log_lines(caplog, "kopru.access")))
    assert lines[0] == lines[1], name
    queries, access = lines[0]
    assert len(access) == 1 and "fast/1.0" in access[0]
    if kwargs.get("query_string") or kwargs.get("data"):
        assert len(queries) == (0 if name == "too long" else 1), queries


def test_plain_queries_skip_flasks_request_machinery(app):
    """A query answered on the fast path never starts a Flask request; the
    query UI, an error and the service description do."""
    started = []

    def seen(sender, **extra):
        started.append(1)

    fast, _ = clients(app)
    with request_started.connected_to(seen, app):
        for kwargs, headers in (SAME["json lookup"], SAME["POST form"], SAME["POST direct"],
                                SAME["lookup, gzip"]):
            assert fast.open(headers=headers, **kwargs).status_code == 200
        assert started == []
        for name in ("query UI", "syntax error", "service description", "update by POST"):
            kwargs, headers = SAME[name]
            fast.open(headers=headers, **kwargs)
        assert len(started) == 4


def test_a_post_handed_to_the_app_is_read_whole(app):
    """The query UI for a browser that POSTs its form: the app reads the
    body the fast path read first, and shows the query."""
    fast, _ = clients(app)
    marker = "SELECT ?readAgain WHERE { ?readAgain ?p ?o } LIMIT 1"
    r = fast.post("/sparql", data={"query": marker}, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert "readAgain" in r.get_data(as_text=True)


def test_a_post_without_a_length_goes_to_the_app(app):
    """A chunked POST (no Content-Length): the app reads it to its end."""
    fast, flask_only = clients(app)
    body = urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}).encode()
    a, b = (c.post("/sparql", input_stream=io.BytesIO(body), content_type=FORM,
                   environ_overrides={"wsgi.input_terminated": True})
            for c in (fast, flask_only))
    assert a.status_code == 200 and a.json == {"head": {}, "boolean": True}
    assert (a.status, _headers(a), a.data) == (b.status, _headers(b), b.data)


def test_the_shipped_gallery_answers_the_same_through_either_door(app):
    from server.pipeline.gallery import load_queries
    from server.pipeline.project import Project

    fast, flask_only = clients(app)
    for q in load_queries(Project(REPO_ROOT)):
        a, b = (c.get("/sparql", query_string={"query": q.text}) for c in (fast, flask_only))
        assert (a.status, _headers(a), a.data) == (b.status, _headers(b), b.data), q.slug
