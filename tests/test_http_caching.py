"""HTTP caching and compression, in-process (the app through Flask's test
client over the session's build): validators and 304s on everything a
build determines, none where the answer is not the build's alone, gzip
only for clients that accept it, fingerprinted static files, nosniff, and
the access log."""

from __future__ import annotations

import gzip
import logging
import re
import urllib.parse

import pytest
from helpers import REPO_ROOT, copy_build, wait_for

from server.config import Config
from server.pipeline.build import build
from server.pipeline.project import Project
from server.web import create_app

SELECT = "SELECT ?s WHERE { ?s a <https://w3id.org/kopru/ontology#Country> } ORDER BY ?s"


def sparql(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query})


@pytest.fixture(scope="module")
def client(built_project):
    app = create_app(Config.from_env(project=REPO_ROOT, state_dir=built_project[1]))
    return app.test_client()


BUILD_DETERMINED = [
    ("/", "text/html"),
    ("/id/albania.html", "text/html"),
    ("/id/albania.ttl", "text/turtle"),
    ("/id/albania.jsonld", "application/ld+json"),
    ("/ontology", "text/html"),
    ("/browse", "text/html"),
    ("/search?q=alban", "text/html"),
    ("/dumps/kopru-full.nt", "application/n-triples"),
    ("/dumps/", "text/html"),
    ("/.well-known/void", "text/turtle"),
    ("/context.jsonld", "application/ld+json"),
    ("/sitemap.xml", "application/xml"),
    (sparql(SELECT), "application/sparql-results+json"),
    ("/sparql", "text/turtle"),                     # the service description
]


@pytest.mark.parametrize("path,accept", BUILD_DETERMINED)
def test_200_then_304(client, path, accept):
    first = client.get(path, headers={"Accept": accept})
    assert first.status_code == 200, path
    etag, modified = first.headers.get("ETag"), first.headers.get("Last-Modified")
    assert etag and modified, (path, dict(first.headers))
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(path, headers={"Accept": accept, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get(path, headers={"Accept": accept, "If-Modified-Since": modified})
    assert since.status_code == 304
    stale = client.get(path, headers={"Accept": accept, "If-None-Match": '"not-this-build"'})
    assert stale.status_code == 200 and stale.data == first.data


def test_each_representation_has_its_own_etag(client):
    ttl = client.get("/id/albania", headers={"Accept": "text/turtle"}, follow_redirects=True)
    nt = client.get("/id/albania", headers={"Accept": "application/n-triples"},
                    follow_redirects=True)
    assert ttl.headers["ETag"] != nt.headers["ETag"]
    en = client.get("/id/albania.html", headers={"Accept-Language": "en"})
    tr = client.get("/id/albania.html", headers={"Accept-Language": "tr"})
    assert en.headers["ETag"] != tr.headers["ETag"] and en.data != tr.data
    # A Turkish reader's validator does not get an English reader a 304.
    r = client.get("/id/albania.html", headers={"Accept-Language": "en",
                                                 "If-None-Match": tr.headers["ETag"]})
    assert r.status_code == 200


@pytest.mark.parametrize("path", [
    sparql("SELECT (RAND() AS ?r) WHERE {}"),
    sparql("SELECT (NOW() AS ?t) WHERE {}"),
    "/healthz",
])
def test_answers_that_are_not_the_builds_alone_are_not_validated(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert "ETag" not in r.headers and "Last-Modified" not in r.headers
    assert r.headers["Cache-Control"] == "no-store"


def test_a_rebuild_changes_the_validator(tiny_build, tmp_path):
    tiny_project, state = copy_build(*tiny_build, tmp_path / "p", tmp_path / "state")
    project = Project(tiny_project, state_dir=state)   # built: a copy of conftest's tiny_build
    app = create_app(Config.from_env(project=tiny_project, state_dir=state))
    client = app.test_client()
    first = client.get("/id/albania.ttl")
    assert first.status_code == 200
    build(project, force=True)
    # The server picks the new build up within a second or so; until then
    # it serves the old one, and 304 is right for it.
    after = wait_for(lambda: (r := client.get("/id/albania.ttl", headers={
        "If-None-Match": first.headers["ETag"]})).status_code == 200 and r, 30,
        "the rebuilt store to be served")
    assert after.headers["ETag"] != first.headers["ETag"] and after.data == first.data


# --- compression -----------------------------------------------------------------------

@pytest.mark.parametrize("path,accept", [
    ("/id/albania.html", "text/html"), ("/ontology", "text/html"),
    ("/id/albania.ttl", "text/turtle"), (sparql(SELECT), "application/sparql-results+xml"),
    ("/.well-known/void", "text/turtle"),
])
def test_gzip_only_when_accepted(client, path, accept):
    plain = client.get(path, headers={"Accept": accept})
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    packed = client.get(path, headers={"Accept": accept, "Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]
    refused = client.get(path, headers={"Accept": accept, "Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data
    # and the compressed variant revalidates too
    again = client.get(path, headers={"Accept": accept, "Accept-Encoding": "gzip",
                                      "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304


def test_the_yasgui_bundle_goes_out_compressed(client):
    raw = (REPO_ROOT / "server/web/static/yasgui/yasgui.min.js").read_bytes()
    r = client.get("/static/yasgui/yasgui.min.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert int(r.headers["Content-Length"]) == len(r.data) < len(raw) // 2
    assert gzip.decompress(r.data) == raw
    assert "Accept-Encoding" in r.headers["Vary"]
    plain = client.get("/static/yasgui/yasgui.min.js")
    assert "Content-Encoding" not in plain.headers and plain.get_data() == raw


def test_static_files_are_fingerprinted_and_cached_for_a_year(client):
    page = client.get("/sparql", headers={"Accept": "text/html"}).get_data(as_text=True)
    urls = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert urls and all("?v=" in u for u in urls), urls
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", url
    old = client.get(urls[0].split("?")[0] + "?v=000000000000")
    assert "immutable" not in old.headers.get("Cache-Control", "")


def test_nosniff_everywhere(client):
    for path in ("/", "/id/albania.ttl", "/id/no-such-thing", sparql(SELECT), "/static/kopru.css",
                 "/sparql?query=SELEC"):
        assert client.get(path).headers["X-Content-Type-Options"] == "nosniff", path


# --- the access log ---------------------------------------------------------------------

CLF = re.compile(r'^\S+ - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] '
                 r'"GET (\S+) HTTP/1\.[01]" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)" [\d.]+ms$')


def test_one_access_line_per_request(client, caplog):
    caplog.set_level(logging.INFO, logger="kopru.access")
    client.get("/id/albania.html", headers={"User-Agent": "newcomer/1.0",
                                            "Referer": "http://example.org/"})
    client.get("/id/no-such-entity.html")
    client.get(sparql(SELECT + " # secret words"))
    lines = [r.getMessage() for r in caplog.records if r.name == "kopru.access"]
    assert len(lines) == 3, lines
    parsed = [CLF.match(line) for line in lines]
    assert all(parsed), lines
    assert parsed[0].group(1, 2, 4, 5) == ("/id/albania.html", "200", "http://example.org/",
                                           "newcomer/1.0")
    assert parsed[1].group(2) == "404"
    # The query is logged once, by the endpoint's own line, not in the access line.
    assert parsed[2].group(1) == "/sparql?..." and "secret" not in lines[2]


def test_log_level_warning_silences_the_access_log(built_project, caplog):
    app = create_app(Config.from_env({"KOPRU_LOG_LEVEL": "warning"}, project=REPO_ROOT,
                                     state_dir=built_project[1]))
    caplog.set_level(logging.DEBUG)
    try:
        app.test_client().get("/id/albania.html")
        assert not [r for r in caplog.records if r.name == "kopru.access"]
    finally:
        logging.getLogger("kopru").setLevel(logging.INFO)


def test_a_wrong_log_level_is_named():
    with pytest.raises(ValueError, match="KOPRU_LOG_LEVEL='loud' is not valid"):
        Config.from_env({"KOPRU_LOG_LEVEL": "loud"})


def test_the_query_ui_follows_the_gallery_on_disk(tiny_build, tmp_path):
    tiny_project, state = copy_build(*tiny_build, tmp_path / "p", tmp_path / "state")
    client = create_app(Config.from_env(project=tiny_project, state_dir=state)).test_client()
    first = client.get("/sparql", headers={"Accept": "text/html"})
    assert first.status_code == 200 and "Parties to agreements" in first.get_data(as_text=True)
    (tiny_project / "queries" / "more.rq").write_text(
        "# title: Everything typed\nSELECT ?s WHERE { ?s a ?c }\n", encoding="utf-8")
    # queries/ is read from disk, not from the build: a new query shows at once.
    r = client.get("/sparql", headers={"Accept": "text/html",
                                       "If-None-Match": first.headers["ETag"]})
    assert r.status_code == 200 and "Everything typed" in r.get_data(as_text=True)
