"""Pushes that cannot interleave, and a store that says when it is damaged
(issue 9, item 6), against a real Oxigraph server and a real Virtuoso.

Two `kopru build --push` to one store at once used to both exit 0 and
leave it with no asserted graph, readers saw an empty graph, /healthz said
ok, and a later push said "already holds build" without repairing it.
Now a push holds a lease in the store (renewed while it runs, expiring if
it dies), the version the pointer names is checked whole before and after
the switch, /healthz is 503 for a version that is not whole, and a push
repairs such a store without --force.

One store server of each kind serves the module (Virtuoso: the worker's,
which test_virtuoso uses too), emptied before each test
(tests/virtuoso.py's reset_store); pushes and the app run in this process,
and a real `kopru serve` where real readers race real pushes.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest
from helpers import (
    STATE_ENV,
    build_project,
    http,
    kopru_env,
    make_tiny_project,
    run_cli,
    start_kopru_server,
    wait_for,
)
from virtuoso import STORE_SERVER_KINDS, STORE_SERVERS, direct_query, direct_update, reset_store

pytestmark = pytest.mark.remote        # real Oxigraph and Virtuoso servers

GRAPHS = tuple(f"https://w3id.org/kopru/graph/{k}" for k in ("asserted", "entailed", "ontology",
                                                             "shapes"))
META_GRAPH = "https://w3id.org/kopru/graph/meta"
PUSHES_GRAPH = "https://w3id.org/kopru/graph/pushes"
META = "https://w3id.org/kopru/meta#"
COUNTS = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
# Readers here reuse the store's version they read for 0.2 s (the default
# is a second), so a push's grace, which must outlast that and a query in
# flight, can be 0.8 s: 0.6 s for the query, as a second's reuse and a
# 1.5 s grace would leave 0.5 s.
VERSION_MAX_AGE, GRACE = 0.2, 0.8

TOWNS = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""


# --- two builds of the tiny project, whose graphs all differ ------------------------------


def build(root: Path, towns: int) -> tuple[Path, Path]:
    project = make_tiny_project(root / "project")
    if towns:
        lines = [TOWNS] + [f'id:town-{i} a kop:City ; rdfs:label "Town {i}"@en ; '
                           f"kop:partOf id:albania .\n" for i in range(towns)]
        (project / "graph" / "towns.ttl").write_text("".join(lines), encoding="utf-8")
        onto = project / "ontology" / "kopru.ttl"
        onto.write_text(onto.read_text() + 'kop:Village a owl:Class ; rdfs:subClassOf '
                        'kop:Place ; rdfs:label "village"@en .\n', encoding="utf-8")
    state = root / "state"
    build_project(project, state)
    return project, state


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """{"A": (project, state), "B": (project, state)}: B has 600 more towns."""
    root = tmp_path_factory.mktemp("push-safety")
    return {"A": build(root / "a", 0), "B": build(root / "b", 600)}


def counts_of(state: Path) -> tuple:
    import json

    manifest = json.loads(((state / "current").resolve() / "manifest.json").read_text())
    return tuple(manifest["counts"][k] for k in ("asserted", "entailed", "ontology", "shapes"))


@pytest.fixture(scope="module", params=STORE_SERVER_KINDS)
def store_server(request, tmp_path_factory):
    """One store server of each kind for the module (the worker's Virtuoso,
    open to anonymous updates)."""
    if request.param == "virtuoso":
        server = request.getfixturevalue("worker_virtuoso")
        server.allow_anonymous_updates(True)
        yield server
        return
    with STORE_SERVERS[request.param](tmp_path_factory.mktemp(request.param)) as server:
        yield server


@pytest.fixture
def store(store_server):
    """That server, empty: every test starts from a store nothing was pushed to."""
    reset_store(store_server)
    return store_server


def push(build_dirs, store, *extra: str, check: bool = True, **env: str):
    """`kopru build --push` (in this process). No grace: no reader here
    needs the previous version (test_concurrent_pushes_with_readers' do)."""
    project, state = build_dirs
    r = run_cli("--project", project, "build", "--push", store.url, *extra,
                env={STATE_ENV: str(state), "KOPRU_STORE_PUSH_GRACE": "0", **env})
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def pointer(store) -> dict[str, str]:
    return {b["p"]["value"][len(META):]: b["o"]["value"] for b in direct_query(
        store, f"SELECT ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}")}


def graph_counts(store) -> dict[str, int]:
    return {b["g"]["value"]: int(b["n"]["value"]) for b in direct_query(store, COUNTS)}


def versions(store) -> set[str]:
    """The versions whose graphs the store holds."""
    return {g.rsplit("/", 1)[1] for g in graph_counts(store) if g.rsplit("/", 1)[0] in GRAPHS}


def whole_version(store) -> tuple:
    """The counts of the version the pointer names (the store itself says)."""
    version = pointer(store)["version"]
    counts = graph_counts(store)
    return tuple(counts.get(f"{g}/{version}", 0) for g in GRAPHS)


def plant_claim(store, expires_in: float, holder: str) -> None:
    """A push lease as another push (alive or dead) leaves it."""
    claim = f"{PUSHES_GRAPH}#lease-planted{int(time.time() * 1000)}"
    direct_update(store, f"INSERT DATA {{ GRAPH <{PUSHES_GRAPH}> {{ <{claim}> "
                         f"<{META}expiresAt> {math.ceil(time.time() + expires_in)} ; "
                         f'<{META}holder> "{holder}" }} }}')


def claims(store) -> list[str]:
    return [b["c"]["value"] for b in direct_query(
        store, f"SELECT ?c WHERE {{ GRAPH <{PUSHES_GRAPH}> {{ ?c <{META}expiresAt> ?e }} }}")]


# --- concurrent pushes with readers ------------------------------------------------------


@pytest.mark.server
def test_concurrent_pushes_with_readers(store, builds):
    """Two builds pushed at the same moment, twice over, while one reader
    asks through Köprü and one asks the store with Köprü's client: the
    second push waits for the first, both succeed, every answer is one
    whole build, and the store ends with exactly one whole version."""
    from server.stores.http import Endpoints
    from server.stores.push import push_store_dir
    from server.stores.remote import RemoteStore

    expected = {counts_of(builds["A"][1]): "A", counts_of(builds["B"][1]): "B"}
    assert len(expected) == 2
    push(builds["A"], store)
    server = start_kopru_server("--store", store.url, "--workers", "2", project=builds["A"][0],
                                env=kopru_env(KOPRU_STATE_DIR=str(builds["A"][1]),
                                              KOPRU_RESULT_CACHE_BYTES="0",
                                              KOPRU_STORE_VERSION_MAX_AGE=str(VERSION_MAX_AGE)))
    seen: dict[str, list] = {"kopru": [], "direct": []}
    errors: list = []
    stop = threading.Event()
    # Each reader asks 20 times a second: every count the store does is a
    # whole scan, and a push to Virtuoso lasts seconds.
    interval = 0.05

    def kopru_reader():
        while not stop.is_set():
            r = http("GET", server.url + "/sparql", params={"query": COUNTS})
            if r.status != 200:
                errors.append((r.status, r.text[:300]))
                continue
            c = {b["g"]["value"]: int(b["n"]["value"]) for b in r.json()["results"]["bindings"]}
            seen["kopru"].append(tuple(c.get(g, 0) for g in GRAPHS))
            time.sleep(interval)

    def direct_reader():
        remote = RemoteStore(Endpoints.from_url(store.url), version_max_age=VERSION_MAX_AGE)
        while not stop.is_set():
            try:
                c = remote.triple_counts()
            except Exception as e:              # noqa: BLE001
                errors.append(repr(e))
                continue
            seen["direct"].append(tuple(c[g] for g in GRAPHS))
            time.sleep(interval)

    said: list[str] = []
    results: list = []

    def pusher(name: str, start: threading.Barrier):
        start.wait()
        try:
            # --force: both push, though the store may hold one of the builds
            results.append(push_store_dir(
                (builds[name][1] / "current").resolve(), Endpoints.from_url(store.url),
                force=True, grace=GRACE, progress=lambda step, sec, text: said.append(text)))
        except Exception as e:                  # noqa: BLE001
            results.append(e)

    readers = [threading.Thread(target=kopru_reader), threading.Thread(target=direct_reader)]
    try:
        for t in readers:
            t.start()
        for _ in range(2):
            start = threading.Barrier(2)
            pushes = [threading.Thread(target=pusher, args=(n, start)) for n in ("B", "A")]
            for t in pushes:
                t.start()
            for t in pushes:
                t.join(300)
        time.sleep(GRACE)                       # readers see the last pointer
        stop.set()
        for t in readers:
            t.join(30)
        assert len(results) == 4 and all(not isinstance(r, Exception) and not r.skipped
                                          for r in results), results
        assert not errors, errors[:3]
        for who, observed in seen.items():
            assert len(observed) > 10, (who, len(observed))
            broken = [c for c in observed if c not in expected]
            assert not broken, f"{who} saw a store that was neither build: {broken[:3]}"
        # one version left, whole, the one the pointer names
        assert versions(store) == {pointer(store)["version"]}
        assert whole_version(store) in expected
        r = http("GET", server.url + "/healthz")
        assert r.status == 200 and r.json()["status"] == "ok", r.text
        assert claims(store) == []              # no lease left behind
        assert any("another push is running" in text for text in said), said
    finally:
        stop.set()
        server.stop()


# --- the lease ---------------------------------------------------------------------------


def test_second_push_waits_for_the_first(store, builds):
    push(builds["A"], store)
    plant_claim(store, 2, "builder-1 pid 4242")
    r = push(builds["B"], store)
    assert "another push is running (builder-1 pid 4242)" in r.stderr, r.stderr
    assert whole_version(store) == counts_of(builds["B"][1])
    assert versions(store) == {pointer(store)["version"]}


def test_push_gives_up_with_a_clear_message(store, builds):
    push(builds["A"], store)
    before = pointer(store)["version"]
    plant_claim(store, 600, "builder-2 pid 99")
    r = push(builds["B"], store, check=False, KOPRU_STORE_PUSH_TIMEOUT="2")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "another push to this store is running (builder-2 pid 99" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    # nothing was touched: the first build is still served whole
    assert pointer(store)["version"] == before
    assert whole_version(store) == counts_of(builds["A"][1])
    assert versions(store) == {before}


def test_a_dead_push_is_taken_over_and_its_leftovers_dropped(store, builds):
    """A push that died half-way left its (expired) lease, its recorded
    version and part of its graphs: the next push takes over and cleans up."""
    push(builds["A"], store)
    plant_claim(store, -5, "builder-3 pid 7")
    dead = "20260101T000000Z-deadbeef0000-000000"
    direct_update(store, f'INSERT DATA {{ GRAPH <{PUSHES_GRAPH}> {{ <{PUSHES_GRAPH}> '
                         f'<{META}version> "{dead}" }} '
                         f"GRAPH <{GRAPHS[0]}/{dead}> {{ <urn:half> <urn:pushed> <urn:graph> }} }}")
    r = push(builds["B"], store)
    assert "taking over from a push that stopped (builder-3 pid 7" in r.stderr, r.stderr
    assert dead not in versions(store)
    assert versions(store) == {pointer(store)["version"]}
    assert whole_version(store) == counts_of(builds["B"][1])
    assert claims(store) == []


# --- a damaged store -------------------------------------------------------------------------


def health(app) -> tuple[int, dict]:
    r = app.test_client().get("/healthz")
    return r.status_code, r.get_json()


def health_when(app, ok: bool, what: str) -> tuple[int, dict]:
    """/healthz once it is (ok) or is not (not ok) 200: Köprü may reuse the
    store's version it read for VERSION_MAX_AGE."""
    return wait_for(lambda: (lambda h: h if (h[0] == 200) == ok else None)(health(app)), 30,
                    f"/healthz to see {what}")


def test_a_damaged_store_is_unhealthy_and_the_next_push_repairs_it(store, builds, make_app):
    push(builds["A"], store)
    app = make_app(*builds["A"], store_url=store.url, store_version_max_age=VERSION_MAX_AGE)
    assert health(app)[0] == 200
    version = pointer(store)["version"]
    # the asserted graph of the current version is lost (as in issue 9)
    direct_update(store, f"DELETE WHERE {{ GRAPH <{GRAPHS[0]}/{version}> {{ ?s ?p ?o }} }}")
    status, doc = health_when(app, False, "the damage")
    assert status == 503, doc
    assert doc["status"] == "unavailable" and "not whole" in doc["error"], doc
    assert "asserted: 0 of" in doc["error"] and "kopru build --push" in doc["error"]
    # the same build again, without --force: repaired, not "up to date"
    r = push(builds["A"], store)
    assert "remote store up to date" not in r.stdout, r.stdout
    assert "is not whole" in r.stderr and "pushing again" in r.stderr, r.stderr
    assert whole_version(store) == counts_of(builds["A"][1])
    assert versions(store) == {pointer(store)["version"]}
    status, doc = health_when(app, True, "the repaired store")
    assert doc["triples"] == sum(counts_of(builds["A"][1])), doc
    # …and a push of a whole store is still skipped
    assert "remote store up to date" in push(builds["A"], store).stdout


def test_healthz_is_not_ok_when_the_pointer_names_a_missing_version(store, builds, make_app):
    """A pointer naming a version whose graphs are gone entirely (a store
    restored from an old backup of the meta graph, say)."""
    push(builds["A"], store)
    app = make_app(*builds["A"], store_url=store.url, store_version_max_age=VERSION_MAX_AGE)
    assert health(app)[0] == 200
    version = pointer(store)["version"]
    for g in GRAPHS:
        direct_update(store, f"DROP SILENT GRAPH <{g}/{version}>")
    status, doc = health_when(app, False, "the missing version")
    assert status == 503 and "not whole" in doc["error"], doc
