"""A remote SPARQL 1.1 store reached over HTTP (Oxigraph server, Fuseki,
GraphDB, Virtuoso, …), behind the same interfaces as the embedded store.

    RemoteStore      the `Store` interface (server/store.py): query() returns
                     pyoxigraph result objects, so the pages and the CLI do
                     not change. Used by the pages and by `kopru build --push`.
    RemoteExecutor   the endpoint's executor interface (server/executor.py):
                     run() returns an `Answer` of serialized bytes. A remote
                     query needs no killable child process: the HTTP request
                     *is* what gets abandoned at the deadline.

Every request carries its dataset explicitly (SPARQL 1.1 Protocol
`default-graph-uri` / `named-graph-uri`): stores differ on whether the
default graph is the union of the named graphs, and a shared store may hold
graphs that are not Köprü's. The endpoint's queries only ever see Köprü's
four graphs, as with the embedded store: the default graph is asserted +
ontology + entailed, and a FROM / FROM NAMED / protocol dataset is
narrowed to those graphs (an unknown graph is an empty graph, as in the
embedded store).

Answers are asked for in formats that stream one row (or one triple) per
line — SPARQL TSV for SELECT, N-Triples for CONSTRUCT/DESCRIBE — so the
result limit is applied while reading: once `limit` rows have arrived the
connection is dropped and the rest is never read. The rows are then
written in the client's format with pyoxigraph's serializers (or passed
through untouched when the client asked for TSV).

Errors become Köprü's own:

    store unreachable, connection refused, DNS, reset → StoreUnavailable (503)
    the store answers 5xx, or refuses Köprü (401/403/404/…) → StoreUnavailable (502)
    the store answers 400 (syntax, unsupported feature) → QueryError("syntax") / SyntaxError
    no complete answer before the deadline             → QueryTimeout (503)

Connections are kept alive per thread and dropped on any error (a stale
keep-alive connection is retried once on a fresh one), so the server
recovers by itself when the store comes back. After a connection failure,
requests fail fast for one second (no pile-up of connect timeouts while
the store is down).

Versions: `kopru build --push` (server/push.py) loads each build under
versioned graph names, <…/graph/asserted/<version>> etc., then switches a
pointer in the small graph <https://w3id.org/kopru/graph/meta> in one tiny
update. Every query resolves the pointer (re-read at most once a second)
and is sent with the versioned names: in its dataset, and rewritten in its
text wherever it names one of the four canonical graph IRIs; the answer's
versioned names are rewritten back. So users and pages keep writing
<https://w3id.org/kopru/graph/asserted>, and a query sees one whole
version. Caches (answers, page data) are keyed by the version. A store with
no pointer (filled by other means) is queried with the canonical names.
"""

from __future__ import annotations

import base64
import http.client
import os
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from server import __version__
from server.executor import Answer, ExecutorError, QueryError, QueryTimeout
from server.namespaces import ALL_GRAPHS, BASE, DEFAULT_GRAPHS

META_GRAPH = BASE + "graph/meta"
META = BASE + "meta#"                  # predicates of the meta graph
CURRENT = BASE + "graph/current"       # subject: the build the store holds
EMPTY_GRAPH = "urn:x-kopru:empty"      # names no graph: an empty default graph

TSV = "text/tab-separated-values"
SRJ = "application/sparql-results+json"
SRX = "application/sparql-results+xml"
NT = "application/n-triples"

CONNECT_TIMEOUT = 5.0                  # seconds to open a connection to the store
BREAKER_SECONDS = 1.0                  # fail fast this long after a connection failure
VERSION_MAX_AGE = 1.0                  # seconds a read of the store's version is trusted

_RESULT_MEDIA = {"json": SRJ, "xml": SRX, "csv": "text/csv", "tsv": TSV}


class StoreUnavailable(ExecutorError, ConnectionError):
    """The remote store is not answering (503) or failed / refused (502).
    The message is meant for the client, as is."""

    def __init__(self, message: str, status: int = 503):
        super().__init__(message)
        self.status = status
        self.message = message


# --- where the store is ---------------------------------------------------------------


@dataclass(frozen=True)
class Endpoints:
    """The store's SPARQL endpoints. `url` may be the store's base URL
    (Oxigraph server: http://host:7878; Fuseki: http://host:3030/ds) or its
    query endpoint (…/query, …/sparql); the others are derived from it
    unless given: <base>/query, <base>/update, <base>/store (Oxigraph's
    Graph Store Protocol; Fuseki's is <base>/data)."""

    query: str
    update: str
    gsp: str
    gsp_given: bool = False
    user: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str, update_url: str | None = None, gsp_url: str | None = None,
                 user: str | None = None, password: str | None = None,
                 environ: Mapping[str, str] | None = None) -> "Endpoints":
        env = os.environ if environ is None else environ
        url, url_user, url_password = _split_userinfo(url.strip())
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL of a SPARQL store: {url!r}")
        path = u.path.rstrip("/")
        last = path.rsplit("/", 1)[-1]
        if last in ("query", "sparql"):
            query = urllib.parse.urlunsplit((u.scheme, u.netloc, path, u.query, ""))
            base = urllib.parse.urlunsplit((u.scheme, u.netloc, path.rsplit("/", 1)[0], "", ""))
        else:
            base = urllib.parse.urlunsplit((u.scheme, u.netloc, path, "", ""))
            query = base + "/query"
        update_url = update_url or env.get("KOPRU_STORE_UPDATE_URL") or None
        gsp_url = gsp_url or env.get("KOPRU_STORE_GSP_URL") or None
        if user is None:
            user = env.get("KOPRU_STORE_USER") or url_user
        if password is None:
            password = env.get("KOPRU_STORE_PASSWORD") or url_password
        return cls(query=query,
                   update=_split_userinfo(update_url)[0] if update_url else base + "/update",
                   gsp=_split_userinfo(gsp_url)[0] if gsp_url else base + "/store",
                   gsp_given=bool(gsp_url), user=user or None, password=password or None)

    @property
    def display(self) -> str:
        """The query endpoint, for messages (never with credentials)."""
        return self.query


def _split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    u = urllib.parse.urlsplit(url)
    if "@" not in u.netloc:
        return url, None, None
    info, _, host = u.netloc.rpartition("@")
    user, _, password = info.partition(":")
    clean = urllib.parse.urlunsplit((u.scheme, host, u.path, u.query, u.fragment))
    return (clean, urllib.parse.unquote(user) or None,
            urllib.parse.unquote(password) if password else None)


# --- HTTP -----------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    reason: str
    content_type: str          # media type, lower case, without parameters
    body: bytes
    truncated: bool = False    # the line cap was reached (more was on its way)
    lines: int = 0             # newline-terminated lines kept (when capped)
    server: str = ""           # the Server header (Oxigraph server is recognised by it)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class _Timeout(Exception):
    pass


class _Unreachable(Exception):
    pass


class HttpClient:
    """A tiny HTTP/1.1 client (standard library only) with a total deadline
    per request, keep-alive connections per thread, basic auth, and a
    one-second circuit breaker after connection failures."""

    def __init__(self, endpoints: Endpoints, connect_timeout: float = CONNECT_TIMEOUT):
        self.endpoints = endpoints
        self.connect_timeout = connect_timeout
        self.headers = {"User-Agent": f"kopru/{__version__}"}
        if endpoints.user is not None:
            token = f"{endpoints.user}:{endpoints.password or ''}".encode("utf-8")
            self.headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        self._local = threading.local()
        self._pid = os.getpid()
        self._down_until = 0.0
        self._down_reason = ""

    # connections ---------------------------------------------------------------

    def _pool(self) -> dict:
        if self._pid != os.getpid():          # forked: the parent's sockets are not ours
            self._pid = os.getpid()
            self._local = threading.local()
            self._down_until = 0.0
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def _connect(self, key, deadline: float):
        scheme, host, port = key
        timeout = max(min(self.connect_timeout, deadline - time.monotonic()), 0.001)
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = cls(host, port, timeout=timeout)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise _Unreachable(_describe(e)) from None
        return conn

    def close(self) -> None:
        pool = getattr(self._local, "pool", None) or {}
        for conn in pool.values():
            conn.close()
        pool.clear()

    # requests ------------------------------------------------------------------

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, *, timeout: float,
                cap: int | None = None, reuse: bool = True) -> Reply:
        """Send one request and read the whole answer (or its first `cap`
        lines) within `timeout` seconds. Raises _Timeout or _Unreachable."""
        deadline = time.monotonic() + timeout
        now = time.monotonic()
        if now < self._down_until:
            raise _Unreachable(self._down_reason)
        u = urllib.parse.urlsplit(url)
        key = (u.scheme, u.hostname, u.port)
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        all_headers = dict(self.headers)
        all_headers.update(headers or {})
        pool = self._pool()
        for attempt in (0, 1):
            conn = pool.pop(key, None) if reuse else None
            fresh = conn is None
            try:
                if conn is None:
                    conn = self._connect(key, deadline)
                conn.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                conn.request(method, path, body=body, headers=all_headers)
                resp = conn.getresponse()
                reply, keep = _read(resp, conn, deadline, cap)
            except _Unreachable as e:
                self._down_until = time.monotonic() + BREAKER_SECONDS
                self._down_reason = str(e)
                raise
            except (socket.timeout, TimeoutError):
                conn.close()
                if time.monotonic() >= deadline - 0.01:
                    raise _Timeout() from None
                raise _Unreachable("the connection timed out") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    ConnectionAbortedError) as e:
                conn.close()
                if not fresh and attempt == 0:
                    continue             # a keep-alive connection the store had closed
                self._down_until = time.monotonic() + BREAKER_SECONDS
                self._down_reason = _describe(e)
                raise _Unreachable(_describe(e)) from None
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                self._down_until = time.monotonic() + BREAKER_SECONDS
                self._down_reason = _describe(e)
                raise _Unreachable(_describe(e)) from None
            if keep and reuse:
                pool[key] = conn
            else:
                conn.close()
            return reply
        raise _Unreachable("the connection was closed")   # not reached


def _read(resp, conn, deadline: float, cap: int | None) -> tuple[Reply, bool]:
    reply, keep = _read_body(resp, conn, deadline, cap)
    reply.server = resp.getheader("Server") or ""
    return reply, keep


def _read_body(resp, conn, deadline: float, cap: int | None) -> tuple[Reply, bool]:
    ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
    chunks: list[bytes] = []
    lines = 0
    truncated = False
    capped = cap is not None and 200 <= resp.status < 300
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        if conn.sock is not None:
            conn.sock.settimeout(remaining)
        data = resp.read1(1 << 16)
        if not data:
            break
        if capped:
            n = data.count(b"\n")
            if lines + n >= cap:
                # keep up to and including the cap-th newline; anything after it
                # (now or later) means the answer has more
                cut = -1
                for _ in range(cap - lines):
                    cut = data.index(b"\n", cut + 1)
                chunks.append(data[:cut + 1])
                lines = cap
                rest = data[cut + 1:]
                truncated = bool(rest) or _more(resp, conn, deadline)
                if not truncated:
                    resp.read()                 # nothing left: marks the answer complete
                return Reply(resp.status, resp.reason, ctype, b"".join(chunks), truncated,
                             lines), not truncated and not resp.will_close
            lines += n
        chunks.append(data)
    chunks.append(resp.read())                  # b"": marks the answer complete
    return (Reply(resp.status, resp.reason, ctype, b"".join(chunks), False, lines),
            not resp.will_close)


def _more(resp, conn, deadline: float) -> bool:
    """Whether the answer goes on past what was read."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return True
    if conn.sock is not None:
        conn.sock.settimeout(remaining)
    return bool(resp.read1(1))


def _describe(e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, socket.gaierror):
        return f"cannot resolve the host name ({e.strerror or e})"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "no connection within the time limit"
    if isinstance(e, http.client.RemoteDisconnected):
        return "the store closed the connection"
    if isinstance(e, ConnectionResetError):
        return "the connection was reset"
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return text


def _remote_message(reply: Reply, limit: int = 2000) -> str:
    text = reply.text.strip()
    if reply.content_type == "text/html":
        import re

        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[:limit] + " …"


# --- datasets -------------------------------------------------------------------------


def versioned_names(version: str) -> dict[str, str]:
    """Canonical graph IRI → its name in the store for this version."""
    return {g: f"{g}/{version}" for g in ALL_GRAPHS}


def rewrite_graphs(query: str, names: Mapping[str, str]) -> str:
    """The query with every mention of a canonical graph IRI — as <IRI>, as
    a prefixed name, or as a string literal equal to it — replaced by its
    versioned name. PREFIX and BASE declarations are left alone."""
    if "graph" not in query and "\\u" not in query and "\\U" not in query:
        return query
    from server.sparql.guard import _PN_LOCAL_ESCAPE_RE, _TOKEN_RE, unescape_codepoints

    out: list[str] = []
    pos = 0
    prefixes: dict[str, str] = {}
    prev: list[tuple[str, str]] = []
    for m in _TOKEN_RE.finditer(query):
        kind = m.lastgroup
        if kind in ("ws", "comment"):
            continue
        value = m.group()
        repl = None
        if kind == "iri":
            iri = unescape_codepoints(value[1:-1])
            p1 = prev[-1] if prev else ("", "")
            p2 = prev[-2] if len(prev) > 1 else ("", "")
            if p1[0] == "pname" and p1[1].endswith(":") and p2[0] == "word" \
                    and p2[1].upper() == "PREFIX":
                prefixes[p1[1][:-1]] = iri
            elif p1[0] == "pname" and p1[1].upper().startswith("PREFIX") and p1[1].endswith(":"):
                prefixes[p1[1][6:-1]] = iri
            elif p1[0] == "word" and p1[1].upper() == "BASE":
                pass
            elif iri in names:
                repl = f"<{names[iri]}>"
        elif kind == "pname":
            prefix, _, local = value.partition(":")
            base = prefixes.get(prefix)
            declaring = bool(prev) and prev[-1][0] == "word" and prev[-1][1].upper() == "PREFIX"
            if base is not None and not declaring:
                iri = base + _PN_LOCAL_ESCAPE_RE.sub(r"\1", local)
                if iri in names:
                    repl = f"<{names[iri]}>"
        elif kind == "string":
            q = 3 if value[:3] in ('"""', "'''") else 1
            if value[q:-q] in names:
                repl = value[:q] + names[value[q:-q]] + value[-q:]
        if repl is not None:
            out.append(query[pos:m.start()])
            out.append(repl)
            pos = m.end()
        prev = (prev + [(kind, value)])[-2:]
    out.append(query[pos:])
    return "".join(out)


def _narrow(graphs: Iterable[str], allowed: tuple[str, ...]) -> list[str]:
    return [g for g in dict.fromkeys(str(g) for g in graphs) if g in allowed]


def endpoint_dataset(query: str, default_graphs, named_graphs,
                     allowed: tuple[str, ...] = ALL_GRAPHS) -> tuple[list[str], list[str]]:
    """The protocol dataset to send for a query of the endpoint.

    (default_graphs, named_graphs) are what the endpoint decided: Köprü's
    default, the request's protocol dataset, or (None, None) when the
    query's own FROM / FROM NAMED decide. Every graph is narrowed to
    Köprü's; the result is never empty on both sides (that would let the
    store pick its own default dataset)."""
    if default_graphs is None and named_graphs is None:
        from server.sparql.guard import analyze

        a = analyze(query)
        if a.has_dataset_clause:
            dg = _narrow(a.from_graphs, allowed)
            ng = _narrow(a.from_named_graphs, allowed)
        else:                       # the store's default graph (empty), all named graphs
            dg, ng = [], list(allowed)
    else:
        dg = _narrow(default_graphs or (), allowed)
        ng = list(allowed) if named_graphs is None else _narrow(named_graphs, allowed)
    if not dg and not ng:
        dg = [EMPTY_GRAPH]
    elif not dg and default_graphs:            # asked for graphs that are not Köprü's
        dg = [EMPTY_GRAPH]
    return dg, ng


def store_dataset(query: str, default_graph, named_graphs,
                  use_default_graph_as_union: bool) -> tuple[list[str], list[str]] | None:
    """The protocol dataset for `RemoteStore.query` (the `Store` interface's
    semantics: see server/store.py). None: send none (the query's FROM)."""
    from server.store import has_dataset_clause

    if default_graph is None and named_graphs is None and has_dataset_clause(query):
        return None
    if use_default_graph_as_union and default_graph is None:
        dg = list(ALL_GRAPHS)
    else:
        dg = [str(g) for g in (DEFAULT_GRAPHS if default_graph is None else default_graph)]
    ng = list(ALL_GRAPHS) if named_graphs is None else [str(g) for g in named_graphs]
    if not dg and not ng:
        dg = [EMPTY_GRAPH]
    return dg, ng


# --- the store ------------------------------------------------------------------------


class RemoteTriples(list):
    """The triples of a CONSTRUCT / DESCRIBE answer (a list of
    pyoxigraph.Triple), with QueryTriples' serialize()."""

    def serialize(self, output=None, format=None):
        import pyoxigraph as ox

        return ox.serialize(self, output, format or ox.RdfFormat.N_TRIPLES)


class RemoteStore:
    """A SPARQL 1.1 store over HTTP, behind the `Store` interface."""

    def __init__(self, endpoints: Endpoints | str, *, timeout: float = 10.0,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        if isinstance(endpoints, str):
            endpoints = Endpoints.from_url(endpoints)
        self.endpoints = endpoints
        self.timeout = float(timeout)
        self.http = HttpClient(endpoints, connect_timeout=min(connect_timeout, self.timeout))
        self._version: tuple[float, str | None] | None = None
        self._version_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<RemoteStore {self.endpoints.display}>"

    # low level ---------------------------------------------------------------------

    def post_query(self, sparql: str, default_graphs: list[str] | None,
                   named_graphs: list[str] | None, accept: str, *,
                   timeout: float | None = None, cap: int | None = None,
                   raw: bool = False) -> Reply:
        """POST the query (form-encoded, SPARQL 1.1 Protocol) and return the
        store's 2xx answer; anything else is raised as Köprü's error.

        Unless raw, the four canonical graph IRIs are those of the version
        the store's pointer names: rewritten in the query and its dataset,
        and back in the answer (see server/push.py)."""
        timeout = self.timeout if timeout is None else timeout
        names = None
        if not raw:
            version = self.version()
            if version:
                names = versioned_names(version)
                sparql = rewrite_graphs(sparql, names)
                default_graphs = [names.get(g, g) for g in default_graphs or ()] or None
                named_graphs = None if named_graphs is None else [names.get(g, g)
                                                                  for g in named_graphs]
        fields = [("query", sparql)]
        fields += [("default-graph-uri", g) for g in default_graphs or ()]
        fields += [("named-graph-uri", g) for g in named_graphs or ()]
        body = urllib.parse.urlencode(fields).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        try:
            reply = self.http.request("POST", self.endpoints.query, body, headers,
                                      timeout=timeout, cap=cap)
        except _Timeout:
            raise QueryTimeout(timeout) from None
        except _Unreachable as e:
            raise self.unavailable(str(e)) from None
        if 200 <= reply.status < 300:
            if names:
                body = reply.body
                for canonical, versioned in names.items():
                    body = body.replace(versioned.encode(), canonical.encode())
                reply.body = body
            return reply
        raise self.refusal(reply, sparql)

    def unavailable(self, reason: str) -> StoreUnavailable:
        return StoreUnavailable(
            f"The SPARQL store at {self.endpoints.display} is not answering ({reason}). "
            "Köprü reconnects by itself when it is back; try again shortly.", 503)

    def broken(self, reply: Reply | None, error: BaseException, sparql: str | None) -> Exception:
        """Köprü's error for a 2xx answer that does not parse (the store
        failed after it had begun to answer)."""
        tail = ""
        if reply is not None:
            lines = [x for x in reply.text.strip().splitlines() if x.strip()]
            tail = lines[-1].strip()[-300:] if lines else ""
        msg = (f"the SPARQL store at {self.endpoints.display} broke off its answer"
               f" ({tail or error})")
        from server.sparql.guard import analyze

        if sparql is not None and analyze(sparql).services:
            return QueryError("io", msg)
        return StoreUnavailable(msg[0].upper() + msg[1:] + ".", 502)

    def refusal(self, reply: Reply, sparql: str | None = None) -> Exception:
        """Köprü's error for a non-2xx answer of the store."""
        msg = _remote_message(reply)
        where = self.endpoints.display
        if reply.status == 400:
            from server.executor import _syntax_message

            if sparql is not None and msg.startswith("error at "):
                msg = _syntax_message(sparql, msg)
            return QueryError("syntax", msg or "the SPARQL store refused the query (400)")
        if reply.status in (401, 403):
            return StoreUnavailable(
                f"The SPARQL store at {where} refused Köprü's credentials ({reply.status} "
                f"{reply.reason}): check KOPRU_STORE_USER and KOPRU_STORE_PASSWORD.", 502)
        if reply.status in (404, 405):
            return StoreUnavailable(
                f"The SPARQL store at {where} answered {reply.status} {reply.reason}: "
                "is that its query endpoint? (set --store to the store's base URL or its "
                "query endpoint)", 502)
        if reply.status in (502, 503, 504):
            return StoreUnavailable(
                f"The SPARQL store at {where} is not answering ({reply.status} "
                f"{reply.reason}{': ' + msg[:300] if msg else ''}). Try again shortly.", 503)
        if reply.status >= 500:
            from server.sparql.guard import analyze

            if sparql is not None and analyze(sparql).services:
                # the store's own SERVICE call failed (the endpoint says so: 502)
                return QueryError("io", f"the SPARQL store at {where} failed ({reply.status}): {msg}")
            return StoreUnavailable(
                f"The SPARQL store at {where} failed ({reply.status} {reply.reason})"
                f"{': ' + msg if msg else ''}", 502)
        return StoreUnavailable(
            f"The SPARQL store at {where} refused the request ({reply.status} "
            f"{reply.reason}){': ' + msg if msg else ''}", 502)

    # the Store interface ------------------------------------------------------------

    def query(self, sparql: str, *, default_graph: Iterable[str] | None = None,
              named_graphs: Iterable[str] | None = None,
              use_default_graph_as_union: bool = False,
              prefixes: Mapping[str, str] | None = None, timeout: float | None = None,
              raw: bool = False):
        """The `Store` interface's query (pyoxigraph result objects). raw:
        the graph IRIs as they are in the store (no version rewriting)."""
        if prefixes:
            sparql = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items()) + sparql
        dataset = store_dataset(sparql, default_graph, named_graphs, use_default_graph_as_union)
        dg, ng = dataset if dataset is not None else (None, None)
        accept = f"{TSV}, {SRJ};q=0.9, {SRX};q=0.8, {NT};q=0.7, text/turtle;q=0.6"
        try:
            reply = self.post_query(sparql, dg, ng, accept, timeout=timeout, raw=raw)
        except QueryError as e:
            if e.category == "syntax":
                raise SyntaxError(e.message) from None
            raise StoreUnavailable(e.message, 502) from None
        try:
            return parse_reply(reply)
        except (SyntaxError, ValueError) as e:
            err = self.broken(reply, e, None)
            raise err from None

    def load(self, graphs: Mapping[str, Iterable[Any]]) -> None:
        """Make these Köprü graphs the store's new version, at once
        (server/push.py's strategy; Köprü graphs not given are empty in it).
        Only Köprü's four graphs can be loaded."""
        from server.push import replace_graphs

        replace_graphs(self, {g: list(t) for g, t in graphs.items()}, grace=0)

    def triple_counts(self) -> dict[str, int]:
        counts = {g: 0 for g in ALL_GRAPHS}
        for row in self.query(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                default_graph=[EMPTY_GRAPH], named_graphs=ALL_GRAPHS):
            counts[row["g"].value] = int(row["n"].value)
        return counts

    def close(self) -> None:
        self.http.close()

    # the pushed version ------------------------------------------------------------

    def meta(self, timeout: float | None = None) -> dict[str, str]:
        """What the meta graph says about the build the store holds
        ({} when nothing was pushed)."""
        res = self.query(f"SELECT ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ <{CURRENT}> ?p ?o }} }}",
                         default_graph=[EMPTY_GRAPH], named_graphs=[META_GRAPH], timeout=timeout,
                         raw=True)
        out = {}
        for row in res:
            p, o = row["p"], row["o"]
            if p is not None and o is not None and p.value.startswith(META):
                out[p.value[len(META):]] = o.value
        return out

    def version(self, max_age: float = VERSION_MAX_AGE) -> str | None:
        """The pushed build's version (None: nothing pushed), read from the
        store at most once per `max_age` seconds. Raises StoreUnavailable."""
        now = time.monotonic()
        cached = self._version
        if cached is not None and now - cached[0] < max_age:
            return cached[1]
        with self._version_lock:
            cached = self._version
            if cached is not None and time.monotonic() - cached[0] < max_age:
                return cached[1]
            try:
                version = self.meta(timeout=min(self.timeout, 5.0)).get("version")
            except Exception:
                self._version = None
                raise
            self._version = (time.monotonic(), version)
            return version

    def cache_key(self) -> str | None:
        """A key naming what the store holds now, for caches: None when the
        store holds no pushed build (then nothing may be cached) or does
        not answer."""
        try:
            version = self.version()
        except Exception:
            return None
        return None if version is None else f"{self.endpoints.query}#{version}"


def parse_reply(reply: Reply):
    """A 2xx answer of the store as pyoxigraph objects (QuerySolutions,
    QueryBoolean, or RemoteTriples)."""
    import pyoxigraph as ox

    ctype = reply.content_type
    results = {TSV: ox.QueryResultsFormat.TSV, SRJ: ox.QueryResultsFormat.JSON,
               "application/json": ox.QueryResultsFormat.JSON,
               SRX: ox.QueryResultsFormat.XML, "application/xml": ox.QueryResultsFormat.XML}
    rdf = {NT: ox.RdfFormat.N_TRIPLES, "text/plain": ox.RdfFormat.N_TRIPLES,
           "text/turtle": ox.RdfFormat.TURTLE, "application/rdf+xml": ox.RdfFormat.RDF_XML,
           "application/ld+json": ox.RdfFormat.JSON_LD, "application/n-quads": ox.RdfFormat.N_QUADS}
    if ctype in results:
        res = ox.parse_query_results(reply.body, results[ctype])
        if isinstance(res, ox.QuerySolutions):
            # Read it all once now: an answer the store broke off half-way
            # fails here, not in the middle of the caller's loop.
            for _ in res:
                pass
            res = ox.parse_query_results(reply.body, results[ctype])
        return res
    if ctype in rdf:
        return RemoteTriples(q.triple for q in ox.parse(reply.body, rdf[ctype]))
    raise StoreUnavailable(f"The SPARQL store answered in a format Köprü does not read "
                           f"({ctype or 'no Content-Type'}).", 502)


# --- the endpoint's executor ----------------------------------------------------------


class RemoteExecutor:
    """The endpoint's executor for a remote store: same `run()` as
    server.executor.Executor, no child processes."""

    remote = True

    def __init__(self, store: RemoteStore, timeout: float, result_limit: int):
        self.store = store
        self.timeout = float(timeout)
        self.result_limit = int(result_limit)

    @classmethod
    def from_config(cls, config) -> "RemoteExecutor":
        endpoints = Endpoints.from_url(config.store_url)
        return cls(RemoteStore(endpoints, timeout=config.query_timeout),
                   config.query_timeout, config.result_limit)

    # the executor interface ------------------------------------------------------------

    def _target(self):
        return self.store.cache_key()

    def warm(self) -> None:
        pass

    def close(self) -> None:
        self.store.close()

    def run(self, query: str, fmt: str, default_graphs=None, named_graphs=None,
            timeout: float | None = None, limit: int | None = None) -> Answer:
        """Run one query; raise QueryTimeout, QueryError or StoreUnavailable
        (an ExecutorError)."""
        got: list[Reply] = []
        try:
            return self._run(query, fmt, default_graphs, named_graphs, timeout, limit, got)
        except (SyntaxError, ValueError) as e:
            # A store that fails half-way through an answer it has begun
            # with 200 (Oxigraph streams) leaves it broken: say so.
            raise self.store.broken(got[0] if got else None, e, query) from None

    def _run(self, query, fmt, default_graphs, named_graphs, timeout, limit, got) -> Answer:
        import pyoxigraph as ox

        from server.namespaces import PREFIXES
        from server.sparql import results as R
        from server.sparql.guard import analyze

        timeout = self.timeout if timeout is None else timeout
        limit = self.result_limit if limit is None else limit
        start = time.monotonic()
        dg, ng = endpoint_dataset(query, default_graphs, named_graphs)
        form = analyze(query).form
        graph_formats = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
                         "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}
        result_formats = {k: getattr(ox.QueryResultsFormat, k.upper())
                          for k in ("json", "xml", "csv", "tsv")}
        cap = None
        if form == "SELECT":
            accept, cap = f"{TSV}, {SRJ};q=0.9, {SRX};q=0.8", limit + 1
        elif form in ("CONSTRUCT", "DESCRIBE"):
            accept, cap = f"{NT}, text/turtle;q=0.8", limit
        elif form == "ASK":
            accept = f"{_RESULT_MEDIA.get(fmt, SRJ) if fmt in ('json', 'xml') else SRJ}, {SRJ};q=0.9"
        else:
            accept = f"{TSV}, {SRJ};q=0.9, {NT};q=0.8"
        reply = self.store.post_query(query, dg, ng, accept, timeout=timeout, cap=cap)
        got.append(reply)
        ctype = reply.content_type
        seconds = lambda: time.monotonic() - start  # noqa: E731

        if ctype == NT and cap is not None:            # CONSTRUCT / DESCRIBE
            triples = [q.triple for q in ox.parse(reply.body, ox.RdfFormat.N_TRIPLES)]
            f = fmt if fmt in graph_formats else "ttl"
            body = ox.serialize(triples, format=graph_formats[f],
                                prefixes=PREFIXES if f in ("ttl", "rdfxml") else None)
            return Answer("graph", f, body, reply.truncated, len(triples), seconds())
        if ctype == TSV and cap is not None:           # SELECT, one row per line
            rows = max(reply.lines - 1, 0) if reply.truncated else reply.body.count(b"\n") - 1
            f = fmt if fmt in result_formats else "json"
            res = ox.parse_query_results(reply.body, ox.QueryResultsFormat.TSV)
            if f == "tsv":                  # passed through, once checked whole
                rows = sum(1 for _ in res)
                return Answer("results", f, reply.body, reply.truncated, rows, seconds())
            if not reply.truncated:
                return Answer("results", f, res.serialize(format=result_formats[f]), False,
                              max(rows, 0), seconds())
            variables = [v.value for v in res.variables]
            first = list(res)
            body = R.SERIALIZERS[f](variables, first, limit, True)
            return Answer("results", f, body, True, len(first), seconds())

        # Anything else (ASK, a form the guard could not tell, a store that
        # answered in another format): parse it whole, then write it out.
        res = parse_reply(reply)
        if isinstance(res, RemoteTriples):
            f = fmt if fmt in graph_formats else "ttl"
            more = len(res) > limit
            triples = res[:limit]
            body = ox.serialize(triples, format=graph_formats[f],
                                prefixes=PREFIXES if f in ("ttl", "rdfxml") else None)
            return Answer("graph", f, body, more, len(triples), seconds())
        f = fmt if fmt in result_formats else "json"
        if isinstance(res, ox.QueryBoolean):
            return Answer("boolean", f, res.serialize(format=result_formats[f]), False, None,
                          seconds())
        variables = [v.value for v in res.variables]
        rows = list(res)
        if len(rows) > limit:
            body = R.SERIALIZERS[f](variables, rows[:limit], limit, True)
            return Answer("results", f, body, True, limit, seconds())
        body = R.SERIALIZERS[f](variables, rows, limit, False)
        return Answer("results", f, body, False, len(rows), seconds())
