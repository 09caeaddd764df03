"""`kopru build --push URL`: put a built store's graphs into a remote SPARQL
store under new versioned graph names, check them, then switch the store's
pointer to them in one small update, so a reader never sees half a version.
The strategy and its reasons: docs/architecture.md, "Pushing a build".
"""

from __future__ import annotations

import datetime as _dt
import re
import secrets
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import pyoxigraph as ox

from server.config import settings
from server.errors import PushError, StoreUnavailable
from server.namespaces import ALL_GRAPHS, GRAPH_NAMES, XSD
from server.stores.embedded import EmbeddedStore
from server.stores.http import Endpoints, HttpTimeout, Unreachable
from server.stores.remote import (CURRENT, EMPTY_GRAPH, META, META_GRAPH, NT, RemoteStore,
                                  versioned_names)
from server.stores.state import read_manifest

Progress = Callable[[str, float, str], None]

GSP_CHUNK = 100_000          # triples per Graph Store Protocol request
BULK_CHUNK = 500_000         # … with Oxigraph server's bulk loader
UPDATE_CHUNK = 20_000        # triples per INSERT DATA request
DELETE_CHUNK = 100_000       # triples per DELETE request when dropping a version

_KEYS = {iri: key for key, iri in GRAPH_NAMES.items()}
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
                   progress: Progress | None = None) -> PushResult:
    """Push the four graphs of a built store directory (its manifest gives
    the build hash). Skipped when the store already holds that build,
    unless force."""
    say = progress or (lambda step, seconds, detail: None)
    timeout = settings().push_timeout if timeout is None else timeout
    store = RemoteStore(endpoints, timeout=timeout)
    local = EmbeddedStore.open(store_dir, read_only=True)
    manifest = read_manifest(store_dir)
    t0 = time.perf_counter()
    try:
        current = store.meta(timeout=min(timeout, 30))
    except StoreUnavailable as e:
        raise PushError(e.message) from None
    if not force and current.get("hash") and current.get("hash") == manifest.get("hash"):
        say("push", time.perf_counter() - t0,
            f"{endpoints.display} already holds build {manifest['hash'][:16]} (--force pushes)")
        return PushResult(True, endpoints.display, current.get("version"))
    db = local.ox

    def dump(g: str) -> bytes:         # native N-Triples, one triple per line
        return db.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(g))

    sources = {g: (lambda g=g: dump(g)) for g in ALL_GRAPHS}
    meta = {"hash": manifest.get("hash", ""), "builtAt": manifest.get("built_at", "")}
    return replace_graphs(store, sources, meta, timeout=timeout, grace=grace, progress=say)


def replace_graphs(store: RemoteStore, graphs: Mapping[str, Any],
                   meta: Mapping[str, str] | None = None, *, timeout: float | None = None,
                   grace: float | None = None, progress: Progress | None = None) -> PushResult:
    """Make `graphs` (canonical Köprü graph IRI → pyoxigraph Triples/Quads,
    N-Triples bytes, or a function returning either) the store's current
    version; Köprü graphs not given are empty in it."""
    say = progress or (lambda step, seconds, detail: None)
    unknown = [g for g in graphs if g not in ALL_GRAPHS]
    if unknown:
        raise ValueError(f"not Köprü graphs: {', '.join(unknown)} (a remote store holds "
                         f"only {', '.join(ALL_GRAPHS)})")
    timeout = settings().push_timeout if timeout is None else timeout
    grace = settings().push_grace if grace is None else grace
    meta = dict(meta or {})
    token = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + (
        (meta.get("hash") or "")[:12] or "adhoc") + "-" + secrets.token_hex(3)
    names = versioned_names(token)
    pusher = _Pusher(store, timeout)
    result = PushResult(False, store.endpoints.display, token)
    t_all = t0 = time.perf_counter()

    try:
        expected = pusher.load({names[g]: src for g, src in graphs.items()})
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
        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        facts = [("version", _lit(token)), ("pushedAt", _lit(now, XSD + "dateTime")),
                 ("triples", _lit(str(total), XSD + "integer"))]
        facts += [(k, _lit(v)) for k, v in meta.items() if v]
        # One operation (atomic even where only single operations are).
        pusher.update(f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}\n"
                      f"INSERT {{ GRAPH <{META_GRAPH}> {{ "
                      + " ".join(f"<{CURRENT}> <{META}{k}> {v} ." for k, v in facts) + " } }\n"
                      f"WHERE {{ OPTIONAL {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }} }}")
        result.timings["switch"] = time.perf_counter() - t0
    except BaseException:
        pusher.drop(list(names.values()), quiet=True)
        raise
    say("push switch", result.timings["switch"], f"the store's pointer → version {token}")

    version = store.meta(timeout=min(timeout, 30)).get("version")
    if version != token:
        raise PushError(f"after the switch the store reports version {version!r}, not {token!r}: "
                        "another push ran at the same time?")
    store.version(max_age=0)
    result.counts = {_KEYS[g]: expected.get(names[g], 0) for g in ALL_GRAPHS}

    # Older versions: readers may still use the previous one for a moment.
    old = [g for g in pusher.graphs() if _is_version(g) and not g.endswith("/" + token)]
    if old:
        t0 = time.perf_counter()
        if grace > 0:
            say("push wait", grace, "for readers of the previous version")
            time.sleep(grace)
        pusher.drop(old)
        result.dropped = old
        result.timings["drop"] = time.perf_counter() - t0
        say("push drop", result.timings["drop"], f"{len(old)} graphs of older versions")
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
    triples = [getattr(t, "triple", t) for t in source]
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


# --- the work ------------------------------------------------------------------------


class _Pusher:
    def __init__(self, store: RemoteStore, timeout: float):
        self.store = store
        self.endpoints = store.endpoints
        self.timeout = timeout
        self.method = "gsp"

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
            raise PushError(f"the store's update endpoint {self.endpoints.update} answered "
                            f"{reply.status} {reply.reason}: {reply.text.strip()[:1000]}")

    def query(self, sparql: str, named: list[str] | None = None):
        return self.store.query(sparql, default_graph=[EMPTY_GRAPH], named_graphs=named,
                                timeout=self.timeout, raw=True)

    def counts(self, graphs: list[str]) -> dict[str, int]:
        res = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                         graphs)
        return {r["g"].value: int(r["n"].value) for r in res}

    def graphs(self) -> list[str]:
        """Every named graph of the store (its own dataset: no protocol dataset)."""
        reply = self.store.post_query("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", None, None,
                                      "text/tab-separated-values", timeout=self.timeout, raw=True)
        return [line.strip()[1:-1] for line in reply.text.splitlines()[1:] if line.strip()]

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
        try:
            reply = self.store.post_query("ASK {}", [EMPTY_GRAPH], None,
                                          "application/sparql-results+json", timeout=30, raw=True)
        except Exception:
            return False
        return (reply.server or "").lower().startswith("oxigraph")

    def load(self, targets: Mapping[str, Any]) -> dict[str, int]:
        """Load each source into its (new, versioned) graph. Returns the
        number of triples sent per graph."""
        bulk = not self.endpoints.gsp_given and self._oxigraph()
        chunk = BULK_CHUNK if bulk else GSP_CHUNK
        linked: list[tuple[str, bytes]] = []       # (graph, line) of triples with blank nodes
        counts: dict[str, int] = {}
        use_gsp = True
        sent_any = False
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
                    ok = self._gsp_post(g, body, bulk, first=not sent_any)
                    if ok is None:              # no GSP here: SPARQL Update from now on
                        use_gsp = False
                        self.method = "update"
                    else:
                        sent_any = True
                        continue
                for j in range(i, min(i + chunk, len(plain)), UPDATE_CHUNK):
                    self._insert_data([(g, b"\n".join(plain[j:min(j + UPDATE_CHUNK, i + chunk)]))])
                    sent_any = True
        if use_gsp and bulk:
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
                        f"answered {reply.status} {reply.reason}: {reply.text.strip()[:1000]}")

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
                body = ox.serialize([q.triple for q in chunk], format=ox.RdfFormat.N_TRIPLES)
                if use_gsp:
                    self._gsp_post(g, body, False, first=False)
                else:
                    self._insert_data([(g, body)])
        for chunk in _pack(spanning, UPDATE_CHUNK):
            by_graph = defaultdict(list)
            for q in chunk:
                by_graph[q.graph_name.value].append(q.triple)
            self._insert_data([(g, ox.serialize(ts, format=ox.RdfFormat.N_TRIPLES))
                               for g, ts in by_graph.items()])

    def _insert_data(self, parts: Iterable[tuple[str, bytes]]) -> None:
        blocks = [b"GRAPH <" + g.encode() + b"> {\n" + nt.rstrip(b"\n") + b"\n}\n"
                  for g, nt in parts if nt.strip()]
        if blocks:
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
    chunks, current = [], []
    for g in groups:
        if current and len(current) + len(g) > size:
            chunks.append(current)
            current = []
        current.extend(g)
    if current:
        chunks.append(current)
    return chunks
