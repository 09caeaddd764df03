"""`kopru build --push URL`: put a built store's graphs into a remote SPARQL
store under new versioned graph names, check them, then switch the store's
pointer to them in one small update, so a reader never sees half a version;
one push at a time, under a lease kept in the store. The strategy and its
reasons: docs/deployment.md, "How a push replaces the graph".
"""

from __future__ import annotations

import datetime as _dt
import os
import random
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from server.config import settings
from server.errors import PushError, StoreUnavailable
from server.namespaces import ALL_GRAPHS, XSD
from server.stores.embedded import EmbeddedStore
from server.stores.http import Endpoints, HttpTimeout, Unreachable, message_of
from server.stores.remote import (
    CURRENT,
    EMPTY_GRAPH,
    GRAPH_KEYS,
    META,
    META_GRAPH,
    NT,
    PUSHES_GRAPH,
    RESULTS_ACCEPT,
    RemoteStore,
    parse_reply,
    versioned_names,
)
from server.stores.state import read_manifest

Progress = Callable[[str, float, str], None]

GSP_CHUNK = 100_000          # triples per Graph Store Protocol request
BULK_CHUNK = 500_000         # … with Oxigraph server's bulk loader
BULK_MIN = 10_000            # smaller requests are quicker in a transaction: the bulk
                             # loader costs ~0.15 s a request (measured: 100 triples 0.15 s
                             # vs 0.003 s; 10,000 about even; 100,000 3.5 s vs 9.5 s)
UPDATE_CHUNK = 20_000        # triples per INSERT DATA request
DELETE_CHUNK = 100_000       # triples per DELETE request when dropping a version
LEASE_SECONDS = 60.0         # a push's lease lasts this long unless renewed (every quarter)

_BNODE_LINE = re.compile(rb"(?:^|\s)_:")


@dataclass
class PushResult:
    skipped: bool
    url: str
    version: str | None = None
    method: str | None = None              # "gsp", "gsp-bulk" or "update"
    counts: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)   # graphs of older versions


# --- entry points -----------------------------------------------------------------------


def push_store_dir(store_dir, endpoints: Endpoints, *, force: bool = False,
                   timeout: float | None = None, grace: float | None = None,
                   progress: Progress | None = None, wait: float | None = None,
                   lease_seconds: float = LEASE_SECONDS) -> PushResult:
    """Push the four graphs of a built store directory (its manifest gives
    the build hash). Skipped when the store already holds that build,
    whole, unless force. One push at a time per store: a second one waits
    for the first (up to `wait` seconds, default the push timeout)."""
    say = progress or (lambda step, seconds, detail: None)
    timeout = settings().push_timeout if timeout is None else timeout
    store = RemoteStore(endpoints, timeout=timeout)
    local = EmbeddedStore.open(store_dir, read_only=True)
    manifest = read_manifest(store_dir)
    t0 = time.perf_counter()
    pusher = _Pusher(store, timeout)
    with PushLease(pusher, seconds=lease_seconds, wait=timeout if wait is None else wait,
                   progress=say) as lease:
        current = pusher.meta()
        if current.get("hash") and current.get("hash") == manifest.get("hash"):
            damage = store.damage(current, timeout=min(timeout, 30))
            if not force and not damage:
                say("push", time.perf_counter() - t0, f"{pusher.endpoints.display} already holds "
                    f"build {manifest['hash'][:16]} (--force pushes)")
                return PushResult(True, pusher.endpoints.display, current.get("version"))
            if damage:
                say("push", time.perf_counter() - t0, f"the store's version "
                    f"{current.get('version')} is not whole ({'; '.join(damage)}): pushing again")
        db = local.ox

        def dump(g: str) -> bytes:         # native N-Triples, one triple per line
            data = db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(g))
            assert data is not None            # None only when given an output file
            return data

        sources = {g: (lambda g=g: dump(g)) for g in ALL_GRAPHS}
        meta = {"hash": manifest.get("hash", ""), "builtAt": manifest.get("built_at", "")}
        return _replace(pusher, lease, sources, meta, grace=grace, progress=say)


def replace_graphs(store: RemoteStore, graphs: Mapping[str, Any],
                   meta: Mapping[str, str] | None = None, *, timeout: float | None = None,
                   grace: float | None = None, progress: Progress | None = None,
                   wait: float | None = None,
                   lease_seconds: float = LEASE_SECONDS) -> PushResult:
    """Make `graphs` (canonical Köprü graph IRI → pyoxigraph Triples/Quads,
    N-Triples bytes, or a function returning either) the store's current
    version; Köprü graphs not given are empty in it."""
    unknown = [g for g in graphs if g not in ALL_GRAPHS]
    if unknown:
        raise ValueError(f"not Köprü graphs: {', '.join(unknown)} (a remote store holds "
                         f"only {', '.join(ALL_GRAPHS)})")
    timeout = settings().push_timeout if timeout is None else timeout
    pusher = _Pusher(store, timeout)
    say = progress or (lambda step, seconds, detail: None)
    with PushLease(pusher, seconds=lease_seconds, wait=timeout if wait is None else wait,
                   progress=say) as lease:
        return _replace(pusher, lease, graphs, meta, grace=grace, progress=say)


def _replace(pusher: _Pusher, lease: PushLease, graphs: Mapping[str, Any],
             meta: Mapping[str, str] | None, *, grace: float | None,
             progress: Progress) -> PushResult:
    """Load, check, switch, check again, clean up: the push proper, under
    the store's push lease."""
    say = progress
    store = pusher.store
    grace = settings().push_grace if grace is None else grace
    meta = dict(meta or {})
    token = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + (
        (meta.get("hash") or "")[:12] or "adhoc") + "-" + secrets.token_hex(3)
    names = versioned_names(token)
    result = PushResult(False, pusher.endpoints.display, token)
    t_all = t0 = time.perf_counter()
    previous = pusher.meta()
    switched = False

    try:
        pusher.record_version(token)       # found and dropped later should this push die
        expected = pusher.load({names[g]: src for g, src in graphs.items()})
        expected.update({names[g]: 0 for g in ALL_GRAPHS if names[g] not in expected})
        result.method = pusher.method
        result.timings["load"] = time.perf_counter() - t0
        total = sum(expected.values())
        how = {"gsp": "Graph Store Protocol", "gsp-bulk": "Graph Store Protocol, bulk loader",
               "update": "SPARQL Update"}[pusher.method]
        say("push load", result.timings["load"], f"{total} triples into version {token} ({how})")

        t0 = time.perf_counter()
        got = pusher.counts(list(names.values()))
        wrong = {g: (n, got.get(g, 0)) for g, n in expected.items() if got.get(g, 0) != n}
        if wrong:
            raise PushError("the store did not keep every triple sent: " + ", ".join(
                f"{g} sent {a}, stored {b}" for g, (a, b) in wrong.items()))
        result.timings["check"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        now = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        facts = [("version", _lit(token)), ("pushedAt", _lit(now, XSD + "dateTime")),
                 ("triples", _lit(str(total), XSD + "integer"))]
        facts += [(GRAPH_KEYS[g] + "Triples", _lit(str(expected[names[g]]), XSD + "integer"))
                  for g in ALL_GRAPHS]
        facts += [(k, _lit(v)) for k, v in meta.items() if v]
        lease.check()
        switched = True            # from here on the pointer may name the new version
        pusher.switch(facts, had_pointer=bool(previous))
        result.timings["switch"] = time.perf_counter() - t0
    except BaseException:
        # Drop the new version unless the pointer may name it (then it stays
        # recorded, and the next push drops it if it is not current).
        if not switched or pusher.pointer_is_not(token):
            pusher.drop(list(names.values()), quiet=True)
            pusher.forget_version(token, quiet=True)
        raise
    say("push switch", result.timings["switch"], f"the store's pointer → version {token}")

    # The store's own answer, not the update's status, says whether it worked.
    now_meta = pusher.meta()
    if now_meta.get("version") != token:
        pusher.drop(list(names.values()), quiet=True)
        pusher.forget_version(token, quiet=True)
        raise PushError(f"after the switch the store names version "
                        f"{now_meta.get('version')!r} as current, not {token!r}: it did not "
                        "apply the pointer update")
    damage = store.damage(now_meta, timeout=min(pusher.timeout, 30))
    if damage:
        raise PushError(f"after the switch version {token} is not whole ({'; '.join(damage)})")
    store.version(max_age=0)
    result.counts = {GRAPH_KEYS[g]: expected.get(names[g], 0) for g in ALL_GRAPHS}

    # Older versions (and any a dead push left): readers may still use the
    # previous one for a moment.
    old = [v for v in pusher.versions() if v != token]
    if old:
        t0 = time.perf_counter()
        if grace > 0 and previous:
            say("push wait", grace, "for readers of the previous version")
            lease.sleep(grace)
        dropped = []
        for v in old:
            lease.check()
            graphs_of_v = list(versioned_names(v).values())
            pusher.drop(graphs_of_v)
            pusher.forget_version(v)
            dropped += graphs_of_v
        result.dropped = dropped
        result.timings["drop"] = time.perf_counter() - t0
        say("push drop", result.timings["drop"], f"{len(old)} older version(s)")
    result.timings["total"] = time.perf_counter() - t_all
    return result


def _is_version(iri: str) -> bool:
    return any(iri.startswith(g + "/") for g in ALL_GRAPHS)


def _lit(value: str, datatype: str | None = None) -> str:
    """A literal in N-Triples (and SPARQL) syntax."""
    return str(ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None))


def _ntriples(source) -> bytes:
    if callable(source):
        source = source()
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    return _serialize([getattr(t, "triple", t) for t in source])


def _serialize(triples: list) -> bytes:
    """N-Triples of pyoxigraph triples."""
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    assert data is not None            # None only when given an output file
    return data


# --- one push at a time: a lease in the store ------------------------------------------


class PushLease:
    """The store's push lease: a claim in the pushes graph that expires
    unless its holder renews it, so a push that died blocks the next one
    for at most `seconds`.

    Acquiring: when no live claim of another push is there, write ours,
    then read the claims again; only a read that shows ours alone grants
    the lease (two pushes that claim at once both see two and step back
    for a random moment), so it holds in any store whose reads see the
    writes finished before them. Expiry times are the pushers' clocks."""

    def __init__(self, pusher: _Pusher, *, seconds: float = LEASE_SECONDS,
                 wait: float = 600.0, progress: Progress | None = None) -> None:
        self.pusher = pusher
        self.seconds = float(seconds)
        self.wait = float(wait)
        self.say = progress or (lambda step, seconds, detail: None)
        self.claim = f"{PUSHES_GRAPH}#lease-{secrets.token_hex(8)}"
        self.holder = f"{socket.gethostname()} pid {os.getpid()}"
        self._lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PushLease:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def claims(self) -> dict[str, tuple[float, str]]:
        """claim IRI → (expiry, holder), as the store has them."""
        rows = self.pusher.query(
            f"SELECT ?c ?e ?h WHERE {{ GRAPH <{PUSHES_GRAPH}> {{ ?c <{META}expiresAt> ?e "
            f"OPTIONAL {{ ?c <{META}holder> ?h }} }} }}", [PUSHES_GRAPH])
        out = {}
        for r in rows:
            try:
                expiry = float(r["e"].value)
            except ValueError:
                expiry = 0.0
            out[r["c"].value] = (expiry, r["h"].value if r["h"] is not None else "another push")
        return out

    def _write(self) -> None:
        expiry = int(time.time() + self.seconds)
        self.pusher.update(
            f"INSERT DATA {{ GRAPH <{PUSHES_GRAPH}> {{ <{self.claim}> <{META}expiresAt> "
            f"{_lit(str(expiry), XSD + 'integer')} ; <{META}holder> {_lit(self.holder)} }} }}")

    def _remove(self, claim: str) -> None:
        self.pusher.update(f"DELETE WHERE {{ GRAPH <{PUSHES_GRAPH}> {{ <{claim}> ?p ?o }} }}")

    def acquire(self) -> None:
        deadline = time.monotonic() + self.wait
        t0 = time.perf_counter()
        told = False
        while True:
            claims = self.claims()
            now = time.time()
            for claim, (expiry, holder) in claims.items():
                if claim != self.claim and expiry <= now:
                    self.say("push lease", 0.0, f"taking over from a push that stopped "
                             f"({holder}; its lease expired)")
                    self._remove(claim)
            others = {c: v for c, v in claims.items() if c != self.claim and v[0] > now}
            if not others:
                if self.claim in claims:
                    break                          # ours alone: the lease is ours
                self._write()
                continue                           # read again before believing it
            if self.claim in claims:
                self._remove(self.claim)           # two claims at once: step back
            expiry, holder = max(others.values())
            if time.monotonic() > deadline:
                raise PushError(
                    f"another push to this store is running ({holder}; its lease runs until "
                    f"{_clock(expiry)} unless renewed); gave up waiting after {self.wait:g} s. "
                    "Run it again when that push has finished (a push that died frees the "
                    f"store within {self.seconds:g} s).")
            if not told:
                self.say("push wait", 0.0, f"another push is running ({holder}); waiting for it")
                told = True
            time.sleep(random.uniform(0.2, 1.0))
        if told:
            self.say("push lease", time.perf_counter() - t0, "the other push has finished")
        self._thread = threading.Thread(target=self._renew_loop, name="kopru-push-lease",
                                        daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.seconds / 4):
            try:
                expiry = int(time.time() + self.seconds)
                self.pusher.update(
                    f"DELETE {{ GRAPH <{PUSHES_GRAPH}> {{ <{self.claim}> <{META}expiresAt> ?e }} }} "
                    f"INSERT {{ GRAPH <{PUSHES_GRAPH}> {{ <{self.claim}> <{META}expiresAt> "
                    f"{_lit(str(expiry), XSD + 'integer')} }} }} "
                    f"WHERE {{ GRAPH <{PUSHES_GRAPH}> {{ <{self.claim}> <{META}expiresAt> ?e }} }}")
                if self.claim not in self.claims():
                    self._lost = "another push took the store over (this push's lease was gone)"
                    return
            except Exception as e:                 # noqa: BLE001 — checked before every step
                self._lost = f"the lease could not be renewed ({e})"

    def check(self) -> None:
        """Raise PushError unless the lease is still ours."""
        if self._lost is None:
            claim = self.claims().get(self.claim)
            if claim is None or claim[0] <= time.time():
                self._lost = "this push's lease expired or was taken over"
        if self._lost is not None:
            raise PushError(f"{self._lost}; stopped before changing the store's pointer or "
                            "dropping anything")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)                       # the renewing thread keeps the lease

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        try:
            self._remove(self.claim)
        except Exception:                          # noqa: BLE001 — it expires by itself
            pass


def _clock(epoch: float) -> str:
    return _dt.datetime.fromtimestamp(epoch, _dt.UTC).strftime("%H:%M:%S UTC")


# --- the work ------------------------------------------------------------------------


class _Pusher:
    def __init__(self, store: RemoteStore, timeout: float):
        self.timeout = timeout
        self.method = "gsp"
        self.server = self._server_of(store)
        adapted = store.endpoints.for_server(self.server)
        if adapted != store.endpoints:
            store = RemoteStore(adapted, timeout=store.timeout)
        self.store = store
        self.endpoints = store.endpoints

    @staticmethod
    def _server_of(store: RemoteStore) -> str:
        """The store's Server header (it tells Oxigraph and Virtuoso apart)."""
        try:
            reply = store.post_query("ASK {}", [EMPTY_GRAPH], None, RESULTS_ACCEPT,
                                     timeout=min(store.timeout, 30), raw=True)
        except StoreUnavailable as e:
            raise PushError(e.message) from None
        except Exception:                          # noqa: BLE001 — the push says what fails
            return ""
        return (reply.server or "").strip()

    def _send(self, method: str, url: str, body: bytes | None, content_type: str | None):
        headers = {"Content-Type": content_type} if content_type else {}
        try:
            return self.store.http.request(method, url, body, headers, timeout=self.timeout,
                                           reuse=False)
        except HttpTimeout:
            raise PushError(f"the store at {url} did not answer within {self.timeout:g} s "
                            "(KOPRU_STORE_PUSH_TIMEOUT)") from None
        except Unreachable as e:
            raise PushError(f"the store at {url} is not answering ({e})") from None

    def update(self, sparql: str | bytes) -> None:
        body = sparql.encode("utf-8") if isinstance(sparql, str) else sparql
        reply = self._send("POST", self.endpoints.update, body,
                           "application/sparql-update; charset=utf-8")
        if not 200 <= reply.status < 300:
            hint = ""
            if reply.status in (401, 403) or "SECURITY" in reply.text:
                hint = (" (the store refused Köprü's writes: give it a user with update "
                        "rights, KOPRU_STORE_USER and KOPRU_STORE_PASSWORD; see "
                        "docs/deployment.md for your store)")
            raise PushError(f"the store's update endpoint {self.endpoints.update} answered "
                            f"{reply.status} {reply.reason}: {message_of(reply, 1000)}{hint}")

    def query(self, sparql: str, named: list[str] | None = None):
        try:
            return self.store.query(sparql, default_graph=[EMPTY_GRAPH], named_graphs=named,
                                    timeout=self.timeout, raw=True)
        except StoreUnavailable as e:
            raise PushError(e.message) from None

    def meta(self) -> dict[str, str]:
        try:
            return self.store.meta(timeout=min(self.timeout, 30))
        except StoreUnavailable as e:
            raise PushError(e.message) from None

    def pointer_is_not(self, token: str) -> bool:
        """Whether the store says its pointer names another version than
        `token` (False when it cannot be asked)."""
        try:
            return self.meta().get("version") != token
        except Exception:                          # noqa: BLE001 — only for cleaning up
            return False

    def counts(self, graphs: list[str]) -> dict[str, int]:
        res = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                         graphs)
        return {r["g"].value: int(r["n"].value) for r in res}

    def switch(self, facts: list[tuple[str, str]], had_pointer: bool) -> None:
        """Point the meta graph at the new version: one update operation.
        It replaces the pointer's triples where a pointer is (a DELETE/INSERT
        whose WHERE matches them: Virtuoso does nothing for one whose WHERE
        is only an OPTIONAL over an empty graph); the first push inserts it."""
        new = " ".join(f"<{CURRENT}> <{META}{k}> {v} ." for k, v in facts)
        if had_pointer:
            self.update(f"DELETE {{ GRAPH <{META_GRAPH}> {{ <{CURRENT}> ?p ?o }} }}\n"
                        f"INSERT {{ GRAPH <{META_GRAPH}> {{ {new} }} }}\n"
                        f"WHERE {{ GRAPH <{META_GRAPH}> {{ <{CURRENT}> ?p ?o }} }}")
        else:
            self.update(f"INSERT DATA {{ GRAPH <{META_GRAPH}> {{ {new} }} }}")

    # versions in the store ------------------------------------------------------

    def record_version(self, token: str) -> None:
        self.update(f"INSERT DATA {{ GRAPH <{PUSHES_GRAPH}> {{ <{PUSHES_GRAPH}> "
                    f"<{META}version> {_lit(token)} }} }}")

    def forget_version(self, token: str, quiet: bool = False) -> None:
        try:
            self.update(f"DELETE DATA {{ GRAPH <{PUSHES_GRAPH}> {{ <{PUSHES_GRAPH}> "
                        f"<{META}version> {_lit(token)} }} }}")
        except Exception:
            if not quiet:
                raise

    def versions(self) -> list[str]:
        """Every version with graphs in the store: those pushes recorded
        (a push that died included), and any other versioned graph the
        store lists."""
        found = {r["v"].value for r in self.query(
            f"SELECT ?v WHERE {{ GRAPH <{PUSHES_GRAPH}> {{ <{PUSHES_GRAPH}> <{META}version> ?v }} }}",
            [PUSHES_GRAPH])}
        for g in self.graphs():
            if _is_version(g):
                found.add(g.rsplit("/", 1)[1])
        return sorted(found)

    def graphs(self) -> list[str]:
        """Every named graph of the store (its own dataset: no protocol
        dataset), as `GRAPH ?g { }` lists them. Virtuoso lists none that
        way (and scanning every quad for them takes it seconds): there the
        versions the pushes recorded are what is known."""
        try:
            reply = self.store.post_query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", None, None,
                                          RESULTS_ACCEPT, timeout=self.timeout, raw=True)
            return [r["g"].value for r in parse_reply(reply) if isinstance(r["g"], ox.NamedNode)]
        except StoreUnavailable as e:
            raise PushError(e.message) from None

    def drop(self, graphs: list[str], quiet: bool = False) -> None:
        """Empty the graphs, DELETE_CHUNK triples per request (one DROP of a
        big graph is one big transaction, which Oxigraph holds in memory)."""
        try:
            for g in graphs:
                while True:
                    ask = self.query(f"ASK {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", [g])
                    if not bool(ask):
                        break
                    self.update(f"DELETE {{ GRAPH <{g}> {{ ?s ?p ?o }} }} WHERE {{ SELECT ?s ?p ?o "
                                f"WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }} LIMIT {DELETE_CHUNK} }}")
                self.update(f"DROP SILENT GRAPH <{g}>")
        except Exception:
            if not quiet:
                raise

    # loading ---------------------------------------------------------------------

    def _oxigraph(self) -> bool:
        """Oxigraph server takes `no_transaction` on its GSP endpoint (its
        bulk loader: several times faster, fine for graphs nobody reads yet)."""
        return self.server.lower().startswith("oxigraph")

    def load(self, targets: Mapping[str, Any]) -> dict[str, int]:
        """Load each source into its (new, versioned) graph. Returns the
        number of triples sent per graph."""
        bulk = not self.endpoints.gsp_given and self._oxigraph()
        chunk = BULK_CHUNK if bulk else GSP_CHUNK
        linked: list[tuple[str, bytes]] = []       # (graph, line) of triples with blank nodes
        counts: dict[str, int] = {}
        use_gsp = True
        sent_any = used_bulk = False
        for g, source in targets.items():
            data = _ntriples(source)
            lines = [line for line in data.split(b"\n") if line.strip()]
            del data
            counts[g] = len(lines)
            plain = []
            for line in lines:
                (linked.append((g, line)) if _BNODE_LINE.search(line) else plain.append(line))
            del lines
            for i in range(0, len(plain), chunk):
                body = b"\n".join(plain[i:i + chunk]) + b"\n"
                if use_gsp:
                    bulk_here = bulk and len(plain) - i >= BULK_MIN
                    ok = self._gsp_post(g, body, bulk_here, first=not sent_any)
                    if ok is None:              # no GSP here: SPARQL Update from now on
                        use_gsp = False
                        self.method = "update"
                    else:
                        sent_any = True
                        used_bulk = used_bulk or bulk_here
                        continue
                for j in range(i, min(i + chunk, len(plain)), UPDATE_CHUNK):
                    self._insert_data([(g, b"\n".join(plain[j:min(j + UPDATE_CHUNK, i + chunk)]))])
                    sent_any = True
        if use_gsp and used_bulk:
            self.method = "gsp-bulk"
        if linked:
            self._load_linked(linked, use_gsp)
        return counts

    def _gsp_post(self, graph: str, body: bytes, bulk: bool, first: bool) -> bool | None:
        params = {"graph": graph}
        url = self.endpoints.gsp + ("&" if "?" in self.endpoints.gsp else "?") + \
            urllib.parse.urlencode(params) + ("&no_transaction" if bulk else "")
        reply = self._send("POST", url, body, NT)
        if 200 <= reply.status < 300:
            return True
        if first and not self.endpoints.gsp_given and reply.status in (400, 404, 405, 415, 501):
            return None                              # nothing loaded yet: fall back
        raise PushError(f"the store's Graph Store Protocol endpoint {self.endpoints.gsp} "
                        f"answered {reply.status} {reply.reason}: {message_of(reply, 1000)}")

    def _load_linked(self, linked: list[tuple[str, bytes]], use_gsp: bool) -> None:
        """Triples with blank nodes: each group of triples connected through
        blank nodes goes in one request."""
        import pyoxigraph as ox

        quads = []
        for g, line in linked:
            for q in ox.parse(line + b"\n", ox.RdfFormat.N_TRIPLES):
                quads.append(ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(g)))
        single, spanning = _group(quads)
        for g, groups in single.items():
            for chunk in _pack(groups, GSP_CHUNK if use_gsp else UPDATE_CHUNK):
                body = _serialize([q.triple for q in chunk])
                if use_gsp:
                    self._gsp_post(g, body, False, first=False)
                else:
                    self._insert_data([(g, body)])
        for chunk in _pack(spanning, UPDATE_CHUNK):
            by_graph = defaultdict(list)
            for q in chunk:
                by_graph[q.graph_name.value].append(q.triple)
            self._insert_data([(g, _serialize(ts)) for g, ts in by_graph.items()])

    def _insert_data(self, parts: Iterable[tuple[str, bytes]]) -> None:
        blocks = [b"GRAPH <" + g.encode() + b"> {\n" + nt.rstrip(b"\n") + b"\n}\n"
                  for g, nt in parts if nt.strip()]
        if not blocks:
            return
        if any(_BNODE_LINE.search(line) for block in blocks for line in block.split(b"\n")):
            # INSERT DATA may not hold blank nodes in Virtuoso; a template's
            # blank nodes are new nodes, one per label, shared by its blocks.
            self.update(b"INSERT {\n" + b"".join(blocks) + b"} WHERE { }")
        else:
            self.update(b"INSERT DATA {\n" + b"".join(blocks) + b"}")


def _group(quads: list) -> tuple[dict[str, list[list]], list[list]]:
    """Split quads into groups that must travel in one request (linked
    through blank nodes). Returns ({graph: [group, …]} for groups within one
    graph, [group, …] for groups whose blank nodes reach into several)."""
    import pyoxigraph as ox

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def bnodes(q):
        return [t.value for t in (q.subject, q.object) if isinstance(t, ox.BlankNode)]

    for q in quads:
        ids = bnodes(q)
        for b in ids:
            parent.setdefault(b, b)
        for b in ids[1:]:
            ra, rb = find(ids[0]), find(b)
            if ra != rb:
                parent[rb] = ra
    single: dict[str, list[list]] = defaultdict(list)
    linked: dict[str, list] = defaultdict(list)
    for q in quads:
        ids = bnodes(q)
        if ids:
            linked[find(ids[0])].append(q)
        else:
            single[q.graph_name.value].append([q])
    spanning = []
    for group in linked.values():
        graphs = {q.graph_name.value for q in group}
        if len(graphs) == 1:
            single[next(iter(graphs))].append(group)
        else:
            spanning.append(group)
    return single, spanning


def _pack(groups: list[list], size: int) -> list[list]:
    """Concatenate groups into chunks of about `size` items, never
    splitting a group."""
    chunks: list[list] = []
    current: list = []
    for g in groups:
        if current and len(current) + len(g) > size:
            chunks.append(current)
            current = []
        current.extend(g)
    if current:
        chunks.append(current)
    return chunks
