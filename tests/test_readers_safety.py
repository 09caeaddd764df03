"""Clickable `javascript:` links (issue 9, item 4): the shapes refuse an IRI
that is not http(s), and the pages and the autocomplete never make one a
link even when it reached the store some other way (written straight into
a built store here, past validation)."""

from __future__ import annotations

import re
import shutil

import pyoxigraph as ox
import pytest
from helpers import REPO_ROOT

from server import namespaces as ns
from server.config import Config
from server.pipeline.build import is_current
from server.pipeline.project import Project
from server.web import create_app

UNSAFE = """\
@prefix id: <https://w3id.org/kopru/id/> .
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
id:albania rdfs:seeAlso <javascript:alert(document.domain)> .
id:albania skos:exactMatch <JavaScript:alert(2)> .
<javascript:alert(4)> a kop:Country ; rdfs:label "Evil land"@en ; kop:within id:western-balkans .
id:albania <data:text/html;base64,PHNjcmlwdD4=> id:turkiye .
"""
PAGES = ["/id/albania.html", "/id/albania.html?lang=tr", "/id/albania/network",
         "/id/albania/network?inferred=1", "/id/western-balkans.html", "/browse/Country",
         "/browse/Country?sort=-name", "/search?q=evil", "/search?q=albania", "/map"]
HREF = re.compile(r'\b(?:href|xlink:href|action|src)\s*=\s*"([^"]*)"', re.I)


def project_copy(root):
    for d in ("ontology", "graph", "queries"):
        shutil.copytree(REPO_ROOT / d, root / d)
    return root


def test_the_shapes_refuse_an_iri_that_is_not_a_web_address(runner, tmp_path):
    root = project_copy(tmp_path / "project")
    (root / "graph" / "zz-links.ttl").write_text(UNSAFE, encoding="utf-8")
    r = runner.invoke("--project", root, "validate", env={"KOPRU_STATE_DIR": str(tmp_path / "state")})
    assert r.returncode == 1, r.stdout + r.stderr
    report = r.stdout + r.stderr
    for iri in ("javascript:alert(document.domain)", "JavaScript:alert(2)", "javascript:alert(4)",
                "data:text/html;base64,PHNjcmlwdD4="):
        assert f"{iri} is not a web address" in report, (iri, report)
    assert "graph/zz-links.ttl" in report


@pytest.fixture(scope="module")
def unsafe_client(built_project, tmp_path_factory):
    """The shipped project, built, then given unsafe IRIs behind the
    validator's back (written into the built store): a copy of the
    session's build, so that one is left as it was."""
    tmp = tmp_path_factory.mktemp("unsafe")
    root, state = project_copy(tmp / "project"), tmp / "state"
    shutil.copytree(built_project[1], state, symlinks=True)
    assert is_current(Project(root, state_dir=state))
    store = ox.Store(str((state / "current").resolve() / "db"))
    graph = ox.NamedNode(ns.GRAPH_ASSERTED)
    for triple in ox.parse(UNSAFE.encode(), format=ox.RdfFormat.TURTLE):
        store.add(ox.Quad(triple.subject, triple.predicate, triple.object, graph))
    store.flush()
    del store
    return create_app(Config.from_env(project=str(root), state_dir=state)).test_client()


def unsafe_links(text: str) -> list[str]:
    return [h for h in HREF.findall(text)
            if not h.startswith(("/", "#", "?", "http://", "https://")) or h.startswith("//")]


@pytest.mark.parametrize("path", PAGES)
def test_pages_never_link_an_unsafe_iri(unsafe_client, path):
    r = unsafe_client.get(path, headers={"Accept": "text/html"})
    assert r.status_code == 200, (path, r.status_code)
    text = r.get_data(as_text=True)
    assert not unsafe_links(text), (path, unsafe_links(text))
    assert "href=\"javascript" not in text.lower().replace("'", '"')


def test_the_unsafe_iris_are_shown_as_text(unsafe_client):
    text = unsafe_client.get("/id/albania.html", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "javascript:alert(document.domain)</span>" in text        # the seeAlso value, unlinked
    country = unsafe_client.get("/browse/Country", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert re.search(r'<span class="unlinked"[^>]*>Evil land</span>', country)


def test_search_and_autocomplete_give_no_unsafe_href(unsafe_client):
    for q in ("evil", "albania", "alert", "javascript"):
        body = unsafe_client.get("/search", query_string={"q": q, "limit": "8"},
                                 headers={"Accept": "application/json"}).get_json()
        for result in body["results"]:
            assert result["href"] is None or result["href"].startswith(("/", "http://", "https://")), result
