"""A remote SPARQL 1.1 store (Oxigraph server, Fuseki, GraphDB, Virtuoso…)
behind the `Store` interface: query() returns pyoxigraph result objects.

Every request carries its dataset explicitly and only ever names Köprü's
graphs; the graph names are those of the version `kopru build --push`
(push.py) made current, rewritten in the query and back in the answer.
How and why: docs/deployment.md, "A remote SPARQL store".
"""

from __future__ import annotations

import io
import re
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from server import formats, lexer
from server.errors import QueryError, QueryTimeout, StoreUnavailable, sparql_syntax_message
from server.namespaces import ALL_GRAPHS, BASE, DEFAULT_GRAPHS, GRAPH_NAMES
from server.stores.embedded import has_dataset_clause
from server.stores.http import (
    CONNECT_TIMEOUT,
    Endpoints,
    HttpClient,
    HttpTimeout,
    Reply,
    Unreachable,
    message_of,
)

META_GRAPH = BASE + "graph/meta"
PUSHES_GRAPH = BASE + "graph/pushes"   # the push lease and the versions pushes wrote
META = BASE + "meta#"                  # predicates of the meta graph
CURRENT = BASE + "graph/current"       # subject: the build the store holds
EMPTY_GRAPH = "urn:x-kopru:empty"      # names no graph: an empty default graph
GRAPH_KEYS = {iri: key for key, iri in GRAPH_NAMES.items()}   # IRI → asserted, entailed, …
VERSION_MAX_AGE = 1.0                  # seconds a read of the store's version is trusted

TSV, SRJ, SRX = (f.media_type for f in (formats.TSV, formats.JSON, formats.XML))
NT = formats.N_TRIPLES.media_type

# Ask each query form for formats every SPARQL 1.1 store writes to the
# letter: results as SPARQL JSON or XML (Virtuoso's TSV has quoted headers
# and no language tags), graphs as N-Triples (Virtuoso may answer CONSTRUCT
# with TSV or SPARQL JSON when offered them).
RESULTS_ACCEPT = f"{SRJ}, {SRX};q=0.9"
GRAPH_ACCEPT = f"{NT}, text/turtle;q=0.5"

# Virtuoso names blank nodes `nodeID://b1234` in SPARQL results, which is
# not a blank node label (pyoxigraph refuses it); these exact spellings
# are its serializers', so nothing else (a literal's text) is touched.
BLANK_NODE_FIXES = ((b'"type": "bnode", "value": "nodeID://', b'"type": "bnode", "value": "'),
                    (b"<bnode>nodeID://", b"<bnode>"))


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
    out: list[str] = []
    pos = 0
    prefixes: dict[str, str] = {}
    prev: list[tuple[str, str]] = []
    for tok in lexer.tokens(query):
        kind, value = tok.kind, tok.text
        repl = None
        p1 = prev[-1] if prev else ("", "")
        if kind == "iri":
            iri = lexer.unescape_codepoints(value[1:-1])
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
            declaring = p1[0] == "word" and p1[1].upper() == "PREFIX"
            expanded = None if declaring else lexer.expand_pname(value, prefixes)
            if expanded is not None and expanded in names:
                repl = f"<{names[expanded]}>"
        elif kind == "string":
            q = 3 if value[:3] in ('"""', "'''") else 1
            if value[q:-q] in names:
                repl = value[:q] + names[value[q:-q]] + value[-q:]
        if repl is not None:
            out.append(query[pos:tok.start])
            out.append(repl)
            pos = tok.end
        prev = (prev + [(kind, value)])[-2:]
    out.append(query[pos:])
    return "".join(out)


def strip_dataset_clauses(query: str) -> str:
    """The query without its FROM / FROM NAMED clauses. Köprü sends them as
    the protocol's dataset instead (narrowed to its own graphs): Virtuoso
    lets a query's FROM win over the protocol's default-graph-uri."""
    out: list[str] = []
    pos = 0
    toks = list(lexer.tokens(query))
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.kind == "word" and tok.text.upper() == "FROM":
            j = i + 1
            if j < len(toks) and toks[j].kind == "word" and toks[j].text.upper() == "NAMED":
                j += 1
            if j < len(toks) and toks[j].kind in ("iri", "pname"):
                out.append(query[pos:tok.start])
                pos = toks[j].end
                i = j + 1
                continue
        i += 1
    out.append(query[pos:])
    return "".join(out)


def store_dataset(query: str, default_graph, named_graphs,
                  use_default_graph_as_union: bool) -> tuple[list[str], list[str]] | None:
    """The protocol dataset for `RemoteStore.query` (the `Store` interface's
    semantics: see interface.py). None: send none (the query's FROM)."""
    if default_graph is None and named_graphs is None and has_dataset_clause(query):
        return None
    if use_default_graph_as_union and default_graph is None:
        dg = list(ALL_GRAPHS)
    else:
        dg = [str(g) for g in (DEFAULT_GRAPHS if default_graph is None else default_graph)]
    ng = list(ALL_GRAPHS) if named_graphs is None else [str(g) for g in named_graphs]
    # never an empty side: Virtuoso fills one with every graph it has
    return dg or [EMPTY_GRAPH], ng or [EMPTY_GRAPH]


def query_form(sparql: str) -> str | None:
    """SELECT, CONSTRUCT, DESCRIBE or ASK: the first such keyword."""
    for tok in lexer.tokens(sparql):
        if tok.kind == "word" and tok.text.upper() in ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"):
            return tok.text.upper()
    return None


def accept_for(form: str | None) -> str:
    if form in ("CONSTRUCT", "DESCRIBE"):
        return GRAPH_ACCEPT
    if form in ("SELECT", "ASK"):
        return RESULTS_ACCEPT
    return f"{RESULTS_ACCEPT}, {NT};q=0.8"


class Rewriting(io.RawIOBase):
    """A stream of bytes with fixed byte strings replaced as it is read
    (a replacement may straddle two reads)."""

    # the answer's media type and Server header (open_query copies them)
    content_type: str = ""
    server: str = ""

    def __init__(self, raw, replacements) -> None:
        super().__init__()
        self.raw = raw
        pairs = {a: b for a, b in replacements if a}
        self.table = pairs
        self.pattern = re.compile(b"|".join(re.escape(a) for a in
                                            sorted(pairs, key=len, reverse=True))) if pairs else None
        self.hold = max((len(a) for a in pairs), default=1) - 1
        self.pending = b""          # read but not yet rewritten (may begin a match)
        self.ready = b""            # rewritten, not yet handed out
        self.eof = False

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self.ready and not self.eof:
            chunk = self.raw.read(1 << 16)
            if not chunk:
                self.eof = True
                data, self.pending = self.pending, b""
                self.ready = self._sub(data, len(data))[0]
                return
            data = self.pending + chunk
            if self.pattern is None:
                self.ready, self.pending = data, b""
                return
            # Matches that start before `cut` lie wholly in `data`.
            cut = max(len(data) - self.hold, 0)
            out, end = self._sub(data, cut)
            self.ready, self.pending = out, data[end:]

    def _sub(self, data: bytes, cut: int) -> tuple[bytes, int]:
        if self.pattern is None:
            return data[:cut], cut
        out, pos = [], 0
        for m in self.pattern.finditer(data):
            if m.start() >= cut:
                break
            out.append(data[pos:m.start()])
            out.append(self.table[m.group()])
            pos = m.end()
        end = max(cut, pos)
        out.append(data[pos:end])
        return b"".join(out), end

    def readinto(self, buffer) -> int:
        self._fill()
        n = min(len(buffer), len(self.ready))
        buffer[:n] = self.ready[:n]
        self.ready = self.ready[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self.raw.close()
        super().close()


def ask_answer(res):
    """An ASK answer as a QueryBoolean. Virtuoso answers ASK as a SELECT of
    one variable (`__ASK_RETVAL`): one row holding 1 for true, no row (or 0)
    for false."""
    if isinstance(res, ox.QueryBoolean):
        return res
    value = False
    for row in res:
        term = row[0]
        value = term is not None and term.value not in ("0", "false")
        break
    return ox.parse_query_results(b'{"head":{},"boolean":%s}' % (b"true" if value else b"false"),
                                  ox.QueryResultsFormat.JSON)


# --- the store ------------------------------------------------------------------------


class RemoteTriples(list):
    """The triples of a CONSTRUCT / DESCRIBE answer (a list of
    pyoxigraph.Triple), with QueryTriples' serialize()."""

    def serialize(self, output=None, format=None):
        return ox.serialize(self, output, format or ox.RdfFormat.N_TRIPLES)


class RemoteStore:
    """A SPARQL 1.1 store over HTTP, behind the `Store` interface."""

    def __init__(self, endpoints: Endpoints | str, *, timeout: float = 10.0,
                 connect_timeout: float = CONNECT_TIMEOUT,
                 version_max_age: float = VERSION_MAX_AGE) -> None:
        if isinstance(endpoints, str):
            endpoints = Endpoints.from_url(endpoints)
        self.endpoints = endpoints
        self.timeout = float(timeout)
        self.version_max_age = float(version_max_age)
        self.http = HttpClient(endpoints, connect_timeout=min(connect_timeout, self.timeout))
        self._version: tuple[float, str | None] | None = None
        self._version_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<RemoteStore {self.endpoints.display}>"

    # low level ---------------------------------------------------------------------

    def _prepare(self, sparql: str, default_graphs, named_graphs, raw: bool):
        """The query and dataset as sent (graph names of the current
        version, unless raw), and the names to rewrite back in the answer."""
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
        return sparql, urllib.parse.urlencode(fields).encode("utf-8"), names

    def _send(self, body: bytes, accept: str, timeout: float, **kwargs):
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept}
        try:
            return self.http.request("POST", self.endpoints.query, body, headers,
                                     timeout=timeout, **kwargs)
        except HttpTimeout:
            raise QueryTimeout(timeout) from None
        except Unreachable as e:
            raise self.unavailable(str(e)) from None

    def post_query(self, sparql: str, default_graphs: list[str] | None,
                   named_graphs: list[str] | None, accept: str, *,
                   timeout: float | None = None, cap: int | None = None,
                   raw: bool = False) -> Reply:
        """POST the query (form-encoded, SPARQL 1.1 Protocol) and return the
        store's 2xx answer, read whole (or its first `cap` lines); anything
        else is raised as Köprü's error.

        Unless raw, the four canonical graph IRIs are those of the version
        the store's pointer names: rewritten in the query and its dataset,
        and back in the answer (see push.py)."""
        timeout = self.timeout if timeout is None else timeout
        sparql, body, names = self._prepare(sparql, default_graphs, named_graphs, raw)
        reply = self._send(body, accept, timeout, cap=cap)
        if 200 <= reply.status < 300:
            data = reply.body
            for wrong, right in BLANK_NODE_FIXES:
                data = data.replace(wrong, right)
            for canonical, versioned in (names or {}).items():
                data = data.replace(versioned.encode(), canonical.encode())
            reply.body = data
            return reply
        raise self.refusal(reply, sparql)

    def open_query(self, sparql: str, default_graphs: list[str] | None,
                   named_graphs: list[str] | None, accept: str, *,
                   timeout: float | None = None, raw: bool = False):
        """Like post_query, but the 2xx answer comes back unread: a stream
        (with .content_type and .server) that the caller parses as it
        arrives and closes."""
        timeout = self.timeout if timeout is None else timeout
        sparql, body, names = self._prepare(sparql, default_graphs, named_graphs, raw)
        answer = self._send(body, accept, timeout, stream=True)
        if isinstance(answer, Reply):
            raise self.refusal(answer, sparql)
        fixes = list(BLANK_NODE_FIXES) + [(v.encode(), c.encode())
                                          for c, v in (names or {}).items()]
        stream = Rewriting(answer, fixes)
        stream.content_type, stream.server = answer.content_type, answer.server
        return stream

    def unavailable(self, reason: str) -> StoreUnavailable:
        return StoreUnavailable(
            f"The SPARQL store at {self.endpoints.display} is not answering ({reason}). "
            "Köprü reconnects by itself when it is back; try again shortly.", status=503)

    def broken(self, reply: Reply | None, error: BaseException, sparql: str | None) -> Exception:
        """Köprü's error for a 2xx answer that does not parse (the store
        failed after it had begun to answer)."""
        tail = ""
        if reply is not None:
            lines = [x for x in reply.text.strip().splitlines() if x.strip()]
            tail = lines[-1].strip()[-300:] if lines else ""
        msg = (f"the SPARQL store at {self.endpoints.display} broke off its answer"
               f" ({tail or error})")
        return StoreUnavailable(msg[0].upper() + msg[1:] + ".", status=502)

    def refusal(self, reply: Reply, sparql: str | None = None) -> Exception:
        """Köprü's error for a non-2xx answer of the store."""
        msg = message_of(reply)
        where = self.endpoints.display
        if reply.status == 400:
            if sparql is not None and msg.startswith("error at "):
                msg = sparql_syntax_message(sparql, msg)
            return QueryError("syntax", msg or "the SPARQL store refused the query (400)")
        if reply.status in (401, 403):
            return StoreUnavailable(
                f"The SPARQL store at {where} refused Köprü's credentials ({reply.status} "
                f"{reply.reason}): check KOPRU_STORE_USER and KOPRU_STORE_PASSWORD.", status=502)
        if reply.status in (404, 405):
            return StoreUnavailable(
                f"The SPARQL store at {where} answered {reply.status} {reply.reason}: "
                "is that its query endpoint? (set --store to the store's base URL or its "
                "query endpoint)", status=502)
        if reply.status in (502, 503, 504):
            return StoreUnavailable(
                f"The SPARQL store at {where} is not answering ({reply.status} "
                f"{reply.reason}{': ' + msg[:300] if msg else ''}). Try again shortly.", status=503)
        if reply.status >= 500:
            return StoreUnavailable(
                f"The SPARQL store at {where} failed ({reply.status} {reply.reason})"
                f"{': ' + msg if msg else ''}", status=502)
        return StoreUnavailable(
            f"The SPARQL store at {where} refused the request ({reply.status} "
            f"{reply.reason}){': ' + msg if msg else ''}", status=502)

    # the Store interface ------------------------------------------------------------

    def query(self, sparql: str, *, default_graph: Iterable[str] | None = None,
              named_graphs: Iterable[str] | None = None,
              use_default_graph_as_union: bool = False,
              prefixes: Mapping[str, str] | None = None, timeout: float | None = None,
              raw: bool = False):
        """The `Store` interface's query (pyoxigraph result objects), for
        Köprü's own queries (pages, push). raw: the graph IRIs as they are
        in the store (no version rewriting). A query the store refuses is a
        502 that quotes it: these queries are Köprü's, not a user's."""
        if prefixes:
            sparql = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items()) + sparql
        dataset = store_dataset(sparql, default_graph, named_graphs, use_default_graph_as_union)
        dg, ng = dataset if dataset is not None else (None, None)
        form = query_form(sparql)
        try:
            if form in ("CONSTRUCT", "DESCRIBE"):
                reply = self.post_query(sparql, dg, ng, GRAPH_ACCEPT, timeout=timeout, raw=raw)
                try:
                    return parse_reply(reply)
                except (SyntaxError, ValueError) as e:
                    raise self.broken(reply, e, None) from None
            stream = self.open_query(sparql, dg, ng, accept_for(form), timeout=timeout, raw=raw)
            try:
                res = parse_results(stream)
                if isinstance(res, ox.QuerySolutions):
                    res = RemoteSolutions(res)       # read whole, within the deadline
            except (SyntaxError, ValueError) as e:
                raise self.broken(None, e, None) from None
            finally:
                stream.close()
            return ask_answer(res) if form == "ASK" else res
        except QueryError as e:
            raise StoreUnavailable(
                f"The SPARQL store at {self.endpoints.display} refused one of Köprü's own "
                f"queries: {e.message}", status=502) from None
        except HttpTimeout:
            raise QueryTimeout(self.timeout if timeout is None else timeout) from None
        except Unreachable as e:
            raise self.unavailable(str(e)) from None

    def triple_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ALL_GRAPHS, 0)
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

    def damage(self, meta: Mapping[str, str], timeout: float | None = None) -> list[str]:
        """What is missing from the version the meta graph names, by the
        counts the push recorded ([] when it is whole, or nothing was pushed)."""
        version = meta.get("version")
        if not version:
            return []
        names = versioned_names(version)
        got = dict.fromkeys(names.values(), 0)
        for row in self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                              "GROUP BY ?g", default_graph=[EMPTY_GRAPH],
                              named_graphs=list(names.values()), timeout=timeout, raw=True):
            got[row["g"].value] = int(row["n"].value)
        problems = []
        for canonical, versioned in names.items():
            key = GRAPH_KEYS[canonical]
            if (key + "Triples") in meta and int(meta[key + "Triples"]) != got[versioned]:
                problems.append(f"{key}: {got[versioned]} of {meta[key + 'Triples']} triples")
        # a push from before the per-graph counts has only the total
        if (not problems and "triples" in meta
                and not any((k + "Triples") in meta for k in GRAPH_KEYS.values())
                and int(meta["triples"]) != sum(got.values())):
            problems.append(f"{sum(got.values())} of {meta['triples']} triples")
        return problems

    def version(self, max_age: float | None = None) -> str | None:
        """The pushed build's version (None: nothing pushed), read from the
        store at most once per `max_age` seconds (default: the store's
        version_max_age). Raises StoreUnavailable."""
        if max_age is None:
            max_age = self.version_max_age
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


class RemoteSolutions(list):
    """The rows of a SELECT answer, read whole (pyoxigraph QuerySolution
    objects), with QuerySolutions' `variables`."""

    def __init__(self, solutions) -> None:
        super().__init__(solutions)
        self.variables = solutions.variables


def parse_results(stream):
    """A SPARQL JSON or XML answer, parsed as it is read."""
    ctype = stream.content_type
    fmt = {SRJ: ox.QueryResultsFormat.JSON, "application/json": ox.QueryResultsFormat.JSON,
           SRX: ox.QueryResultsFormat.XML, "application/xml": ox.QueryResultsFormat.XML,
           TSV: ox.QueryResultsFormat.TSV}.get(ctype)
    if fmt is None:
        raise StoreUnavailable(f"The SPARQL store answered in a format Köprü does not read "
                               f"({ctype or 'no Content-Type'}; it asked for SPARQL JSON or "
                               "XML).", status=502)
    return ox.parse_query_results(stream, fmt)


def parse_reply(reply: Reply):
    """A 2xx answer of the store as pyoxigraph objects (QuerySolutions,
    QueryBoolean, or RemoteTriples)."""
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
                           f"({ctype or 'no Content-Type'}).", status=502)
