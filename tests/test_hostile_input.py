"""Hostile input on every route of the app: whatever a client sends, the
answer is a deliberate one — never a 500, never a traceback, never the
client's input echoed as markup — and says `X-Content-Type-Options: nosniff`.

Every rule of the URL map is visited with hostile values in its
variables, hostile query strings, headers and methods; a test fails when a
new route is added that none of these reach.
"""

from __future__ import annotations

import re

import pytest

from server.config import Config

NASTY_VALUES = [
    "..%2f..%2fetc%2fpasswd", "%00", "%ff%fe", "a" * 5000, "<script>alert(1)</script>",
    "javascript:alert(1)", "%0d%0aSet-Cookie:%20x=1", "\u202e\u0000x", "😀" * 100,
    "-1", "99999999999999999999", "albania.ttl.html",
]
NASTY_QUERY_STRINGS = [
    "q=" + "%ff" * 1000, "page=-1", "page=99999999999999999999", "lang=%00", "lang=" + "x" * 3000,
    "format=%3Cscript%3E", "q=%3Cscript%3Ealert(1)%3C/script%3E", "query=" + "(" * 3000,
    "query=SELECT%20*%20%7B%20SERVICE%20%3Chttp://127.0.0.1:9/%3E%20%7B%7D%20%7D",
    "default-graph-uri=file:///etc/passwd&query=ASK%7B%7D", "&&&&==&&", "a=" + "b" * 20000,
]
NASTY_HEADERS = [
    {"Accept": "*/*;q=abc, text/html;q=2, " + "x/y;" * 500},
    {"Accept": "\u00ff\u00fe"}, {"Accept-Language": "tr;q=0.5, " + "xx-" * 2000},
    {"Accept-Encoding": "gzip;q=-1, br, *"}, {"Content-Type": "application/sparql-query; charset=latin1"},
    {"Host": "attacker.example"}, {"X-Forwarded-Host": "attacker.example"},
    {"If-None-Match": "\"" + "x" * 5000}, {"Range": "bytes=0-1,1-2,2-3" * 200},
]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]


@pytest.fixture(scope="module")
def app(built_project):
    from server.web import create_app

    root, state = built_project
    return create_app(Config.from_env(project=root, state_dir=state, query_timeout=5))


def _paths(app) -> list[str]:
    """A concrete path for every rule, with each variable hostile in turn."""
    return [path for paths in _rule_paths(app) for path in paths]


def _rule_paths(app) -> list[list[str]]:
    """For each rule, its concrete paths (one per hostile value)."""
    out = []
    for rule in app.url_map.iter_rules():
        names = list(rule.arguments)
        if not names:
            out.append([rule.rule])
            continue
        paths = []
        for value in NASTY_VALUES:
            path = rule.rule
            for name in names:
                path = re.sub(r"<(?:[^:<>]+:)?" + name + r">", value, path)
            paths.append(path)
        out.append(paths)
    return out


def _check(response, what: str) -> None:
    assert response.status_code < 500 or response.status_code == 503, \
        f"{what}: {response.status_code} {response.get_data()[:300]!r}"
    body = response.get_data().decode("utf-8", "replace")
    assert "Traceback" not in body, what
    # Echoed in plain text (sent with nosniff) it is only text; in anything a
    # browser renders it must not come back as markup.
    if response.mimetype != "text/plain":
        assert "<script>alert(1)</script>" not in body, f"{what}: the input came back as markup"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", what


def test_every_rule_is_visited(app):
    visited = {p.split("?")[0] for p in _paths(app)}
    for rule in app.url_map.iter_rules():
        assert any(re.fullmatch(re.sub(r"<[^>]+>", ".*", rule.rule), v) for v in visited), rule


def test_hostile_paths_and_methods(app):
    """Every path with GET (so every answer is seen to say nosniff) and with
    one other method, the methods taking turns."""
    client = app.test_client(use_cookies=False)   # the site sets no cookies
    for i, path in enumerate(_paths(app)):
        for method in ("GET", METHODS[1 + i % (len(METHODS) - 1)]):
            _check(client.open(path, method=method), f"{method} {path}")


def test_hostile_query_strings(app):
    """Every hostile query string on every rule, and on each of a rule's
    hostile paths in turn (as the methods take turns above)."""
    client = app.test_client(use_cookies=False)   # the site sets no cookies
    for paths in _rule_paths(app):
        paths = list(dict.fromkeys(p for p in paths if "%" not in p and len(p) < 100))
        for i, qs in enumerate(NASTY_QUERY_STRINGS if paths else ()):
            path = paths[i % len(paths)]
            _check(client.get(f"{path}?{qs}"), f"GET {path}?{qs[:60]}")


def test_hostile_headers(app):
    client = app.test_client(use_cookies=False)   # the site sets no cookies
    for path in ("/", "/sparql", "/id/albania", "/search", "/browse", "/ontology",
                 "/.well-known/void", "/dumps/kopru-full.ttl", "/healthz", "/static/kopru.css"):
        for headers in NASTY_HEADERS:
            _check(client.get(path, headers=headers), f"GET {path} {list(headers)}")
            _check(client.post(path, data="ASK {}", headers={
                **headers, "Content-Type": headers.get("Content-Type",
                                                       "application/sparql-query")}),
                   f"POST {path} {list(headers)}")


def test_hostile_sparql_bodies(app):
    client = app.test_client(use_cookies=False)   # the site sets no cookies
    bodies = [b"\xff\xfe\x00", b"ASK {}" + b"\x00" * 10, b"query=" + b"%ff" * 1000,
              "SELECT * { ?s ?p '\u0000' }".encode(), b"(" * 100_000, b"#" * 99_000,
              b"query=ASK%7B%7D&query=ASK%7B%7D", b"update=DROP%20ALL"]
    for body in bodies:
        for ctype in ("application/sparql-query", "application/x-www-form-urlencoded",
                      "text/plain", "multipart/form-data; boundary=x"):
            _check(client.post("/sparql", data=body, headers={"Content-Type": ctype}),
                   f"POST /sparql {ctype} {body[:30]!r}")
