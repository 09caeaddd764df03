"""Federation: SERVICE reaches a real, allowlisted Oxigraph server and joins
its answers with Köprü's entities; nothing a query names that is not on the
allowlist is ever contacted."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request

import pytest
from conftest import free_port, oxigraph_binary
from test_sparql_protocol import ID, http, start_server, tiny_server_project

WIKIDATA_TTL = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
wd:Q222 rdfs:label "Albania"@en ; wdt:P36 wd:Q19689 ; wdt:P1082 2793592 .
wd:Q19689 rdfs:label "Tirana"@en .
wd:Q43 rdfs:label "Turkey"@en ; wdt:P36 wd:Q3640 ; wdt:P1082 85279553 .
wd:Q3640 rdfs:label "Ankara"@en .
wd:Q1246 rdfs:label "Kosovo"@en ; wdt:P36 wd:Q25270 .
wd:Q25270 rdfs:label "Pristina"@en .
"""

FEDERATED_QUERY = """\
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?entity ?wikidata ?name ?capital WHERE {
  ?entity skos:exactMatch ?wikidata .
  FILTER(STRSTARTS(STR(?wikidata), "http://www.wikidata.org/entity/"))
  SERVICE <%s> {
    ?wikidata rdfs:label ?name ; wdt:P36 ?c .
    ?c rdfs:label ?capital .
  }
} ORDER BY ?entity
"""


@pytest.fixture(scope="module")
def wikidata_like(tmp_path_factory):
    """A real `oxigraph serve-read-only` holding a few Wikidata-style triples."""
    root = tmp_path_factory.mktemp("oxigraph-wikidata")
    data = root / "data.ttl"
    data.write_text(WIKIDATA_TTL, encoding="utf-8")
    exe = oxigraph_binary()
    subprocess.run([exe, "load", "--location", str(root / "db"), "--file", str(data)],
                   check=True, capture_output=True, timeout=120)
    port = free_port()
    log = open(root / "oxigraph.log", "wb")
    proc = subprocess.Popen([exe, "serve-read-only", "--location", str(root / "db"),
                             "--bind", f"127.0.0.1:{port}"], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{port}/query"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(endpoint + "?query=ASK%7B%7D", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("oxigraph serve did not start: " + (root / "oxigraph.log").read_text())
            time.sleep(0.1)
    try:
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class CountingListener:
    """A plain TCP listener that counts the connections it receives."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    lst = CountingListener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return tiny_server_project(tmp_path_factory.mktemp("federation"))


@pytest.fixture(scope="module")
def federated(built, wikidata_like):
    """Köprü whose allowlist is the local Oxigraph server only."""
    with start_server(*built, KOPRU_SERVICE_ALLOWLIST=wikidata_like) as s:
        yield s.sparql_url, wikidata_like


def test_federated_join_through_wikidata_links(federated):
    url, endpoint = federated
    r = http("GET", url, params={"query": FEDERATED_QUERY % endpoint})
    assert r.status == 200, r
    rows = [(b["entity"]["value"], b["wikidata"]["value"], b["name"]["value"], b["capital"]["value"])
            for b in r.json()["results"]["bindings"]]
    assert rows == [
        (ID + "albania", "http://www.wikidata.org/entity/Q222", "Albania", "Tirana"),
        (ID + "turkiye", "http://www.wikidata.org/entity/Q43", "Turkey", "Ankara"),
    ]


def test_federated_query_by_post_and_with_prefixed_endpoint(federated):
    url, endpoint = federated
    base, _, local = endpoint.rpartition("/")
    q = (f"PREFIX remote: <{base}/>\n" + FEDERATED_QUERY % "X").replace("<X>", "remote:" + local)
    r = http("POST", url, q, {"Content-Type": "application/sparql-query",
                              "Accept": "text/csv"})
    assert r.status == 200, r
    assert r.text.splitlines()[1:] == [
        f"{ID}albania,http://www.wikidata.org/entity/Q222,Albania,Tirana",
        f"{ID}turkiye,http://www.wikidata.org/entity/Q43,Turkey,Ankara",
    ]


def test_remote_endpoint_down_is_a_clear_502(built):
    dead = f"http://127.0.0.1:{free_port()}/query"
    with start_server(*built, KOPRU_SERVICE_ALLOWLIST=dead) as s:
        r = http("GET", s.sparql_url, params={"query": FEDERATED_QUERY % dead})
        assert r.status == 502, r
        assert "SERVICE" in r.text
        # SILENT turns the failure into one empty solution, as the spec says:
        # the local part of the join comes back, with nothing from the remote.
        q = FEDERATED_QUERY.replace("SERVICE <%s>", "SERVICE SILENT <%s>") % dead
        r = http("GET", s.sparql_url, params={"query": q})
        assert r.status == 200, r
        rows = r.json()["results"]["bindings"]
        assert [b["entity"]["value"] for b in rows] == [ID + "albania", ID + "turkiye"]
        assert all("name" not in b for b in rows)


def test_nothing_that_is_not_allowlisted_is_contacted(federated, listener):
    url, _ = federated
    target = listener.url
    cases = {
        "SERVICE": ("GET", {"query": f"SELECT * {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"}, (403,)),
        "SERVICE SILENT": ("GET", {"query": f"SELECT * {{ SERVICE SILENT <{target}> {{ ?s ?p ?o }} }}"}, (403,)),
        "FROM": ("GET", {"query": f"SELECT * FROM <{target}> {{ ?s ?p ?o }}"}, (200,)),
        "FROM NAMED": ("GET", {"query": f"SELECT * FROM NAMED <{target}> {{ GRAPH ?g {{ ?s ?p ?o }} }}"}, (200,)),
        "default-graph-uri": ("GET", {"query": "SELECT * { ?s ?p ?o }", "default-graph-uri": target}, (200,)),
        "named-graph-uri": ("GET", {"query": "SELECT * { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": target}, (200,)),
        "LOAD (query)": ("GET", {"query": f"LOAD <{target}>"}, (403,)),
        "LOAD (update form)": ("POST-FORM", {"update": f"LOAD <{target}>"}, (403,)),
        "LOAD (update direct)": ("POST-UPDATE", f"LOAD <{target}> INTO GRAPH <urn:g>", (403,)),
    }
    for name, (how, payload, statuses) in cases.items():
        if how == "GET":
            r = http("GET", url, params=payload)
        elif how == "POST-FORM":
            r = http("POST", url, urllib.parse.urlencode(payload),
                     {"Content-Type": "application/x-www-form-urlencoded"})
        else:
            r = http("POST", url, payload, {"Content-Type": "application/sparql-update"})
        assert r.status in statuses, (name, r)
        if r.status == 200:        # a graph name that is not in the store is an empty graph
            assert r.json()["results"]["bindings"] == [], name
        else:
            assert r.text.strip(), name   # …and a refusal says why
    time.sleep(0.5)
    assert listener.connections == 0


def test_shipped_graph_links_join_when_present(request, wikidata_like):
    """On the shipped graph (once its Wikidata links are in): the same join."""
    try:
        server = request.getfixturevalue("kopru_server")
    except Exception as e:                      # the shipped graph does not build (yet)
        pytest.skip(f"the shipped project is not servable: {str(e).splitlines()[0]}")
    url = server.sparql_url
    r = http("GET", url, params={"query": f"ASK {{ <{ID}albania> "
                                          "<http://www.w3.org/2004/02/skos/core#exactMatch> "
                                          "<http://www.wikidata.org/entity/Q222> }"})
    if not r.json()["boolean"]:
        pytest.skip("the shipped graph has no id:albania → wd:Q222 link yet")
    # kopru_server uses the default allowlist; start one that allows the local server.
    from conftest import REPO_ROOT, kopru_env, start_kopru_server

    with start_kopru_server(env=kopru_env(KOPRU_SERVICE_ALLOWLIST=wikidata_like),
                            project=REPO_ROOT) as s:
        r = http("GET", s.sparql_url, params={"query": FEDERATED_QUERY % wikidata_like})
        assert r.status == 200, r
        found = {b["entity"]["value"]: b["capital"]["value"] for b in r.json()["results"]["bindings"]}
        assert found.get(ID + "albania") == "Tirana"
