"""The remote store's executor: a query is an HTTP request to the store
with the same deadline; no thread to kill, the request is what gets
abandoned. SELECT and ASK answers are asked for as SPARQL JSON or XML and
parsed as they arrive, graphs as N-Triples (a triple per line), so the
result limit is applied while reading.
"""

from __future__ import annotations

import io
import itertools
import time
from collections.abc import Iterable

import pyoxigraph as ox

from server import formats, lexer
from server.errors import QueryError, QueryRefused, QueryTimeout, StoreUnavailable, sparql_syntax_message
from server.formats import Format
from server.namespaces import ALL_GRAPHS, PREFIXES
from server.query import results as R
from server.query.analysis import analyze
from server.query.executor import Answer
from server.stores.http import Endpoints, HttpTimeout, Reply, Unreachable
from server.stores.remote import (
    EMPTY_GRAPH,
    RemoteStore,
    RemoteTriples,
    accept_for,
    ask_answer,
    parse_reply,
    parse_results,
    strip_dataset_clauses,
)

TSV, SRJ, SRX = (f.media_type for f in (formats.TSV, formats.JSON, formats.XML))
NT = formats.N_TRIPLES.media_type


def _narrow(graphs: Iterable[str], allowed: tuple[str, ...]) -> list[str]:
    return [g for g in dict.fromkeys(str(g) for g in graphs) if g in allowed]


def endpoint_dataset(query: str, default_graphs, named_graphs,
                     allowed: tuple[str, ...] = ALL_GRAPHS) -> tuple[list[str], list[str]]:
    """The protocol dataset to send for a query of the endpoint.

    (default_graphs, named_graphs) are what the endpoint decided: Köprü's
    default, the request's protocol dataset, or (None, None) when the
    query's own FROM / FROM NAMED decide. Every graph is narrowed to
    Köprü's; neither side is empty (that would let the store pick graphs)."""
    if default_graphs is None and named_graphs is None:
        a = analyze(query)
        if a.has_dataset_clause:
            dg = _narrow(a.from_graphs, allowed)
            ng = _narrow(a.from_named_graphs, allowed)
        else:                       # the store's default graph (empty), all named graphs
            dg, ng = [], list(allowed)
    else:
        dg = _narrow(default_graphs or (), allowed)
        ng = list(allowed) if named_graphs is None else _narrow(named_graphs, allowed)
    # Neither side is ever sent empty: a store may fill an absent side with
    # graphs of its own choosing (Virtuoso: every graph it has).
    return dg or [EMPTY_GRAPH], ng or [EMPTY_GRAPH]


_EMPTY = ox.Store()            # parses queries (never holds data)
STORE_FUNCTION_SCHEMES = ("bif:", "sql:")      # Virtuoso's built-in and SQL functions


def check_portable(query: str) -> None:
    """Refuse what only the store's own dialect would run: the query must
    parse as SPARQL 1.1 (pyoxigraph's parser, as with the embedded store,
    so a syntax error reads the same whatever the store; Virtuoso would
    take its `define …` pragmas) and may not call a store's built-in
    functions by IRI (Virtuoso runs `bif:` and `sql:` functions)."""
    toks = list(lexer.tokens(query))
    probe = query
    for tok in toks:
        if tok.kind == "word" and tok.text.upper() in ("SELECT", "CONSTRUCT", "DESCRIBE"):
            break
        if tok.kind == "word" and tok.text.upper() == "ASK":
            # pyoxigraph evaluates an ASK at once (a SERVICE in it would be
            # called): parse it as the equivalent SELECT, which is lazy.
            probe = query[:tok.start] + "SELECT (1 AS ?kopru_ask_probe)" + query[tok.end:]
            break
    try:
        _EMPTY.query(probe)
    except SyntaxError as e:
        raise QueryError("syntax", sparql_syntax_message(query, str(e))) from None
    except Exception:           # noqa: BLE001 — parsed; the rest (a function pyoxigraph
        pass                    # lacks) is the store's to judge
    prefixes: dict[str, str] = {}
    prev: list = []
    for tok in toks:
        iri = None
        if tok.kind == "iri":
            iri = lexer.unescape_codepoints(tok.text[1:-1])
            if len(prev) == 2 and prev[0].kind == "word" and prev[0].text.upper() == "PREFIX" \
                    and prev[1].kind == "pname":
                prefixes[prev[1].text[:-1]] = iri
        elif tok.kind == "pname" and not (prev and prev[-1].kind == "word"
                                          and prev[-1].text.upper() == "PREFIX"):
            iri = lexer.expand_pname(tok.text, prefixes)
        if iri and iri.lower().startswith(STORE_FUNCTION_SCHEMES):
            raise QueryRefused(
                f"<{iri}> names one of the store's own functions; Köprü passes only "
                "SPARQL 1.1 to its store.", status=403)
        prev = (prev + [tok])[-2:]


class RemoteExecutor:
    exit_pending: str | None = None      # nothing to stop: an abandoned request costs nothing

    def __init__(self, store: RemoteStore, timeout: float, result_limit: int):
        self.remote_store = store
        self.timeout = float(timeout)
        self.result_limit = int(result_limit)

    @classmethod
    def from_config(cls, config) -> RemoteExecutor:
        endpoints = Endpoints.from_url(config.store_url, user=config.store_user,
                                       password=config.store_password)
        return cls(RemoteStore(endpoints, timeout=config.query_timeout,
                               version_max_age=config.store_version_max_age),
                   config.query_timeout, config.result_limit)

    # --- the executor interface -----------------------------------------------------

    def version(self) -> str | None:
        return self.remote_store.cache_key()

    def probe(self, timeout: float) -> str | None:
        """The pushed build's hash, once the store has shown that the
        version its pointer names is whole (raises StoreUnavailable if not)."""
        store = self.remote_store
        meta = store.meta(timeout=timeout)
        damage = store.damage(meta, timeout=timeout)
        if damage:
            raise StoreUnavailable(
                f"The SPARQL store at {store.endpoints.display} names version "
                f"{meta.get('version')} as current, but that version is not whole ("
                + "; ".join(damage) + "). Push the build again (`kopru build --push`) "
                "to repair it.", status=503)
        return meta.get("hash")

    def store(self) -> RemoteStore:
        return self.remote_store

    def warm(self) -> None:
        pass

    def close(self) -> None:
        self.remote_store.close()

    def exit_if_pending(self) -> None:
        pass

    def run(self, query: str, fmt: Format, default_graphs: Iterable[str] | None = None,
            named_graphs: Iterable[str] | None = None, *, timeout: float | None = None,
            limit: int | None = None) -> Answer:
        check_portable(query)
        try:
            try:
                answer = self._run(query, fmt, default_graphs, named_graphs, timeout, limit)
                if answer.format in (formats.XML, formats.RDF_XML):
                    R.check_xml(answer.body)
                return answer
            except QueryError as e:
                if e.category != "syntax":
                    raise
                raise self._refused(query, e) from None
        except StoreUnavailable as e:
            if e.status == 502 and analyze(query).services:
                # the store's own SERVICE call failed: the endpoint says so
                raise QueryError("io", e.message) from None
            raise

    def _refused(self, query: str, error: QueryError) -> Exception:
        """The store's 400 for a query Köprü has parsed as SPARQL 1.1: the
        store's failing (Virtuoso's compiler has gaps), so a 502 in its words."""
        return StoreUnavailable(
            f"The SPARQL store at {self.remote_store.endpoints.display} refused this query, "
            f"which is valid SPARQL 1.1: {error.message}", status=502)

    def _run(self, query, fmt: Format, default_graphs, named_graphs, timeout, limit) -> Answer:
        timeout = self.timeout if timeout is None else timeout
        limit = self.result_limit if limit is None else limit
        start = time.monotonic()
        dg, ng = endpoint_dataset(query, default_graphs, named_graphs)
        form = analyze(query).form
        query = strip_dataset_clauses(query)         # dg, ng carry them
        graph_fmt = fmt if fmt.kind == formats.GRAPH else formats.TURTLE
        result_fmt = fmt if fmt.kind == formats.RESULTS else formats.JSON
        store = self.remote_store

        def answer(kind, f, body, truncated, rows):
            return Answer(kind, f, body, truncated, rows, time.monotonic() - start)

        def graph(triples, truncated):
            with_prefixes = graph_fmt in (formats.TURTLE, formats.RDF_XML)
            body = ox.serialize(triples, format=graph_fmt.rdf,
                                prefixes=PREFIXES if with_prefixes else None)
            return answer("graph", graph_fmt, body, truncated, len(triples))

        if form in ("CONSTRUCT", "DESCRIBE", None):
            # N-Triples has one triple per line: the limit is applied while reading.
            cap = limit if form else None
            reply = store.post_query(query, dg, ng, accept_for(form), timeout=timeout, cap=cap)
            try:
                if reply.content_type == NT and cap is not None:
                    triples = [q.triple for q in ox.parse(reply.body, ox.RdfFormat.N_TRIPLES)]
                    return graph(triples, reply.truncated)
                res = parse_reply(reply)
            except (SyntaxError, ValueError) as e:
                raise store.broken(reply, e, query) from None
            if isinstance(res, RemoteTriples):
                return graph(res[:limit], len(res) > limit)
            if isinstance(res, ox.QueryBoolean):
                return answer("boolean", result_fmt, res.serialize(format=result_fmt.results),
                              False, None)
            solutions = list(res)
            return self._rows(answer, result_fmt, [v.value for v in res.variables],
                              solutions[:limit], len(solutions) > limit, limit)

        # SELECT and ASK: SPARQL JSON (or XML), parsed as it arrives; a SELECT
        # answer is read up to one row past the limit, then abandoned.
        stream = store.open_query(query, dg, ng, accept_for(form), timeout=timeout)
        seen = Recording(stream)
        try:
            res = parse_results(seen)
            if form == "ASK":
                res = ask_answer(res)
                return answer("boolean", result_fmt, res.serialize(format=result_fmt.results),
                              False, None)
            solutions = list(itertools.islice(res, limit + 1))
            truncated = len(solutions) > limit
            if not truncated:
                while seen.read(1 << 16):       # the document's closing bytes
                    pass
                # the whole answer is in hand: pyoxigraph's own serializer
                whole = ox.parse_query_results(seen.data(), seen.format)
                return answer("results", result_fmt, whole.serialize(format=result_fmt.results),
                              False, len(solutions))
            return self._rows(answer, result_fmt, [v.value for v in res.variables],
                              solutions[:limit], True, limit)
        except (SyntaxError, ValueError) as e:
            # A store that fails half-way through an answer it has begun
            # with 200 (Oxigraph streams) leaves it broken: say so.
            raise store.broken(Reply(200, "OK", stream.content_type, seen.data()), e,
                               query) from None
        except HttpTimeout:
            raise QueryTimeout(timeout) from None
        except Unreachable as e:
            raise store.unavailable(str(e)) from None
        finally:
            stream.close()

    @staticmethod
    def _rows(answer, result_fmt, variables, solutions, truncated, limit) -> Answer:
        body = R.SERIALIZERS[result_fmt.name](variables, solutions, limit, truncated)
        return answer("results", result_fmt, body, truncated, len(solutions))


class Recording(io.RawIOBase):
    """A stream that keeps what was read from it (an answer within the
    result limit is parsed twice: rows counted, then serialized natively)."""

    def __init__(self, raw) -> None:
        super().__init__()
        self.raw = raw
        self.content_type = raw.content_type
        self.format = {SRX: ox.QueryResultsFormat.XML, "application/xml": ox.QueryResultsFormat.XML,
                       TSV: ox.QueryResultsFormat.TSV}.get(raw.content_type,
                                                           ox.QueryResultsFormat.JSON)
        self.chunks: list[bytes] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        if not data:
            return 0
        self.chunks.append(data)
        buffer[:len(data)] = data
        return len(data)

    def data(self) -> bytes:
        return b"".join(self.chunks)
