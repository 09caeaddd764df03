"""The remote store's executor: a query is an HTTP request to the store
with the same deadline; no thread to kill, the request is what gets
abandoned. Answers are asked for in formats that stream one row (or one
triple) per line, so the result limit is applied while reading.
"""

from __future__ import annotations

import time
from typing import Iterable

import pyoxigraph as ox

from server import formats
from server.errors import QueryError, StoreUnavailable
from server.formats import Format
from server.namespaces import ALL_GRAPHS, PREFIXES
from server.query import results as R
from server.query.analysis import analyze
from server.query.executor import Answer
from server.stores.http import Endpoints, Reply
from server.stores.remote import EMPTY_GRAPH, RemoteStore, RemoteTriples, parse_reply

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
    Köprü's; the result is never empty on both sides (that would let the
    store pick its own default dataset)."""
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
    if not dg and not ng:
        dg = [EMPTY_GRAPH]
    elif not dg and default_graphs:            # asked for graphs that are not Köprü's
        dg = [EMPTY_GRAPH]
    return dg, ng


class RemoteExecutor:
    def __init__(self, store: RemoteStore, timeout: float, result_limit: int):
        self.remote_store = store
        self.timeout = float(timeout)
        self.result_limit = int(result_limit)

    @classmethod
    def from_config(cls, config) -> "RemoteExecutor":
        endpoints = Endpoints.from_url(config.store_url, user=config.store_user,
                                       password=config.store_password)
        return cls(RemoteStore(endpoints, timeout=config.query_timeout),
                   config.query_timeout, config.result_limit)

    # --- the executor interface -----------------------------------------------------

    def version(self) -> str | None:
        return self.remote_store.cache_key()

    def probe(self, timeout: float) -> str | None:
        return self.remote_store.meta(timeout=timeout).get("hash")

    def store(self) -> RemoteStore:
        return self.remote_store

    def warm(self) -> None:
        pass

    def close(self) -> None:
        self.remote_store.close()

    def run(self, query: str, fmt: Format, default_graphs: Iterable[str] | None = None,
            named_graphs: Iterable[str] | None = None, *, timeout: float | None = None,
            limit: int | None = None) -> Answer:
        got: list[Reply] = []
        try:
            try:
                answer = self._run(query, fmt, default_graphs, named_graphs, timeout, limit, got)
                if answer.format in (formats.XML, formats.RDF_XML):
                    R.check_xml(answer.body)
                return answer
            except (SyntaxError, ValueError) as e:
                # A store that fails half-way through an answer it has begun
                # with 200 (Oxigraph streams) leaves it broken: say so.
                raise self.remote_store.broken(got[0] if got else None, e, query) from None
        except StoreUnavailable as e:
            if e.status == 502 and analyze(query).services:
                # the store's own SERVICE call failed: the endpoint says so
                raise QueryError("io", e.message) from None
            raise

    def _run(self, query, fmt: Format, default_graphs, named_graphs, timeout, limit,
             got) -> Answer:
        timeout = self.timeout if timeout is None else timeout
        limit = self.result_limit if limit is None else limit
        start = time.monotonic()
        dg, ng = endpoint_dataset(query, default_graphs, named_graphs)
        form = analyze(query).form
        graph_fmt = fmt if fmt.kind == formats.GRAPH else formats.TURTLE
        result_fmt = fmt if fmt.kind == formats.RESULTS else formats.JSON
        cap = None
        if form == "SELECT":
            accept, cap = f"{TSV}, {SRJ};q=0.9, {SRX};q=0.8", limit + 1
        elif form in ("CONSTRUCT", "DESCRIBE"):
            accept, cap = f"{NT}, text/turtle;q=0.8", limit
        elif form == "ASK":
            ask = result_fmt.media_type if result_fmt in (formats.JSON, formats.XML) else SRJ
            accept = f"{ask}, {SRJ};q=0.9"
        else:
            accept = f"{TSV}, {SRJ};q=0.9, {NT};q=0.8"
        reply = self.remote_store.post_query(query, dg, ng, accept, timeout=timeout, cap=cap)
        got.append(reply)
        ctype = reply.content_type

        def answer(kind, f, body, truncated, rows):
            return Answer(kind, f, body, truncated, rows, time.monotonic() - start)

        def graph(triples, truncated):
            with_prefixes = graph_fmt in (formats.TURTLE, formats.RDF_XML)
            body = ox.serialize(triples, format=graph_fmt.ox,
                                prefixes=PREFIXES if with_prefixes else None)
            return answer("graph", graph_fmt, body, truncated, len(triples))

        def rows(variables, solutions, truncated):
            body = R.SERIALIZERS[result_fmt.name](variables, solutions, limit, truncated)
            return answer("results", result_fmt, body, truncated, len(solutions))

        if ctype == NT and cap is not None:            # CONSTRUCT / DESCRIBE
            return graph([q.triple for q in ox.parse(reply.body, ox.RdfFormat.N_TRIPLES)],
                         reply.truncated)
        if ctype == TSV and cap is not None:           # SELECT, one row per line
            res = ox.parse_query_results(reply.body, ox.QueryResultsFormat.TSV)
            if result_fmt is formats.TSV:              # passed through, once checked whole
                return answer("results", result_fmt, reply.body, reply.truncated,
                              sum(1 for _ in res))
            if not reply.truncated:
                n = max(reply.body.count(b"\n") - 1, 0)
                return answer("results", result_fmt, res.serialize(format=result_fmt.ox),
                              False, n)
            return rows([v.value for v in res.variables], list(res), True)

        # Anything else (ASK, a form the guard could not tell, a store that
        # answered in another format): parse it whole, then write it out.
        res = parse_reply(reply)
        if isinstance(res, RemoteTriples):
            return graph(res[:limit], len(res) > limit)
        if isinstance(res, ox.QueryBoolean):
            return answer("boolean", result_fmt, res.serialize(format=result_fmt.ox), False, None)
        solutions = list(res)
        return rows([v.value for v in res.variables], solutions[:limit], len(solutions) > limit)
