"""The /sparql blueprint: SPARQL 1.1 Protocol, service description, query UI.

Per query: read the request (protocol.py) → guard it (guard.py) → choose the
answer's format (negotiation.py) → run it in the killable executor (or, with
a remote store, send it there with a deadline: server/remote_store.py) → answer.
The guard runs first whatever the store: a remote store never sees a query
the embedded one would refuse.
Every query is logged on one line with its status and duration.
"""

from __future__ import annotations

import logging
import re
import threading
import time

from flask import Blueprint, Response, current_app, render_template, request

from server import namespaces as ns
from server.executor import ExecutorError, QueryError, QueryTimeout
from server.sparql import description, guard, negotiation, protocol

bp = Blueprint("sparql", __name__)
log = logging.getLogger("kopru.query")

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-Kopru-Truncated, X-Kopru-Result-Limit, Content-Length",
}
_RESULT_HEADERS = (*CORS_HEADERS.items(), ("Vary", "Accept"))
_WS = re.compile(r"\s+")


def _config():
    return current_app.config["KOPRU"]


def _executor():
    return current_app.extensions["kopru.executor"]


def error(status: int, message: str, headers: dict | None = None) -> Response:
    resp = Response(message.rstrip("\n") + "\n", status=status,
                    content_type="text/plain; charset=utf-8")
    resp.headers.update(CORS_HEADERS)
    if headers:
        resp.headers.update(headers)
    return resp


@bp.route("/sparql", methods=["OPTIONS"])
def preflight():
    resp = Response(status=204)
    resp.headers.update(CORS_HEADERS)
    resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("Access-Control-Request-Headers") or "Accept, Content-Type")
    resp.headers["Access-Control-Max-Age"] = "86400"
    resp.headers["Allow"] = "GET, POST, OPTIONS"
    return resp


@bp.route("/sparql", methods=["GET", "POST"], provide_automatic_options=False)
def sparql():
    started = time.perf_counter()
    config = _config()
    status, form, fmt, rows, size, truncated, query = 500, "-", "-", None, 0, False, None
    cached = False
    try:
        try:
            req = protocol.parse(request, config.max_query_bytes)
        except protocol.ProtocolError as e:
            status = e.status
            return error(e.status, e.message)
        query = req.query
        if query is None:
            resp = service_description()
            status = resp.status_code
            return resp
        try:
            analysis = guard.check(query, config.service_allowlist)
        except guard.GuardError as e:
            status = e.status
            return error(e.status, e.message)
        form = analysis.form or "?"
        kind = negotiation.kind_of(analysis.form)
        try:
            fmt, media_type = negotiation.choose_cached(kind, req.format_param,
                                                        request.headers.get("Accept"))
        except negotiation.NotAcceptable as e:
            status = 406
            return error(406, e.message)
        if fmt == "html":
            status = 200
            return query_ui(query)
        if req.has_protocol_dataset:      # the protocol's dataset overrides FROM / FROM NAMED
            dg, ng = req.default_graph_uris, req.named_graph_uris
        elif analysis.has_dataset_clause:
            dg = ng = None
        else:                             # Köprü's default: the inferred graph, all named graphs
            dg, ng = ns.DEFAULT_GRAPHS, None
        executor = _executor()
        cache = _cache()
        key = answer = None
        if cache is not None and analysis.deterministic and not analysis.services:
            target = executor._target()      # None: the store's content has no version
            if target is not None:
                key = (target, query, _tuple(dg), _tuple(ng), fmt)
                answer = cache.get(key)
        try:
            if answer is None:
                answer = executor.run(query, fmt, dg, ng)
                if key is not None:
                    cache.put(key, answer)
            else:
                cached = True
        except QueryTimeout as e:
            status = 503
            return error(503, f"The query exceeded the {e.seconds:g} s limit and was stopped; "
                              "narrow it or add LIMIT.")
        except QueryError as e:
            if e.category == "syntax":
                status = 400
            elif e.category == "io" and analysis.services:
                status = 502
            else:
                status = 500
            return error(status, e.message if status != 502 else
                         f"A federated SERVICE call failed: {e.message}")
        except ExecutorError as e:
            if getattr(e, "status", None):    # a remote store: down (503) or failing (502)
                status = e.status
                return error(status, e.message, {"Retry-After": "5"})
            status = 503
            return error(503, f"The query engine is unavailable: {e}")
        if answer.format != fmt:          # the form was guessed wrong: say what was sent
            fmt = answer.format
            media_type = negotiation.ALL_FORMATS[fmt].media_type
        status, rows, size, truncated = 200, answer.rows, len(answer.body), answer.truncated
        headers = [("Content-Type", negotiation.content_type(media_type)), *_RESULT_HEADERS]
        if truncated:
            headers.append(("X-Kopru-Truncated", "true"))
            headers.append(("X-Kopru-Result-Limit", str(config.result_limit)))
        return Response(answer.body, status=200, headers=headers)
    finally:
        if query is not None:
            ms = (time.perf_counter() - started) * 1000
            text = _WS.sub(" ", query).strip()
            if len(text) > 120:
                text = text[:117] + "..."
            log.info('sparql %d %.1fms %s %s rows=%s bytes=%d%s%s q="%s"', status, ms, form, fmt,
                     "-" if rows is None else rows, size, " TRUNCATED" if truncated else "",
                     " cached" if cached else "", text)


# --- answer cache ----------------------------------------------------------------


class AnswerCache:
    """Answers by (store build, query, dataset, format), least recently used
    out first. A build never changes (a rebuild is a new store directory),
    so an entry is right for as long as its build is served. Queries with
    SERVICE or NOW()/RAND()/UUID()/STRUUID()/BNODE() are never cached."""

    def __init__(self, max_bytes: int):
        from collections import OrderedDict

        self.max_bytes = max_bytes
        self.max_item = max(max_bytes // 16, 1)
        self.size = 0
        self.items = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            answer = self.items.get(key)
            if answer is not None:
                self.items.move_to_end(key)
            return answer

    def put(self, key, answer) -> None:
        n = len(answer.body)
        if n > self.max_item:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.size -= len(old.body)
            self.items[key] = answer
            self.size += n
            while self.size > self.max_bytes and self.items:
                _, dropped = self.items.popitem(last=False)
                self.size -= len(dropped.body)


def _cache():
    ext = current_app.extensions
    if "kopru.answer_cache" not in ext:
        size = _config().result_cache_bytes
        ext["kopru.answer_cache"] = AnswerCache(size) if size > 0 else None
    return ext["kopru.answer_cache"]


def _tuple(graphs):
    return None if graphs is None else tuple(graphs)


# --- service description ----------------------------------------------------

_counts_cache: dict = {}


def _graph_counts():
    """Triples per named graph, from the store (cached per build)."""
    ex = _executor()
    try:
        key = ex._target()
    except Exception:
        return None
    if key is None:                      # a remote store without a pushed version
        return None
    if key in _counts_cache:
        return _counts_cache[key]
    try:
        ans = ex.run("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                     "tsv", None, None, timeout=min(ex.timeout, 10))
    except Exception:
        return None
    counts = {}
    for line in ans.body.decode().splitlines()[1:]:
        g, _, n = line.partition("\t")
        if g.startswith("<") and n:
            counts[g[1:-1]] = int(n.split("^^")[0].strip('"'))
    _counts_cache.clear()
    _counts_cache[key] = counts
    return counts


def service_description() -> Response:
    accept = request.accept_mimetypes
    fmt_param = (request.args.get("format") or "").lower()
    if fmt_param == "html":
        return query_ui(None)
    if fmt_param:
        fmt = {"ttl": "ttl", "turtle": "ttl", "nt": "nt", "jsonld": "jsonld", "json": "jsonld",
               "rdfxml": "rdfxml", "xml": "rdfxml"}.get(fmt_param)
        if fmt is None:
            return error(406, f"format={fmt_param}: the service description is offered as "
                              "ttl, rdfxml, jsonld or nt.")
        media = negotiation.ALL_FORMATS[fmt].media_type
    elif not accept:
        fmt, media = "ttl", "text/turtle"
    else:
        offers = [t for t, _ in description.SD_OFFERS] + [negotiation.HTML]
        best = accept.best_match(offers)
        if best is None:
            return error(406, "The service description is offered as text/turtle, "
                              "application/rdf+xml, application/ld+json or application/n-triples.")
        if best == negotiation.HTML:
            return query_ui(None)
        fmt, media = dict(description.SD_OFFERS)[best], best
    endpoint = request.base_url
    body = description.render(fmt, endpoint, _graph_counts(), _config())
    resp = Response(body, content_type=negotiation.content_type(media))
    resp.headers.update(CORS_HEADERS)
    resp.headers["Vary"] = "Accept"
    return resp


# --- query UI -----------------------------------------------------------------

def _examples():
    """The queries/ gallery: [{title, description, query}] ([] if none)."""
    try:
        from server.project import Project
        from server.queries import load_queries

        items = load_queries(Project(_config().project_root))
    except Exception as e:                       # a broken query file must not break the UI
        logging.getLogger("kopru.sparql").warning("query gallery unavailable: %s", e)
        return []
    return [{"slug": q.slug, "title": q.title, "description": q.description, "query": q.text}
            for q in items]


def query_ui(query: str | None) -> Response:
    config = _config()
    html = render_template(
        "sparql.html",
        query=query,
        examples=_examples(),
        prefixes=ns.PREFIXES,
        config=config,
        graphs=[(g, n) for n, g in ns.GRAPH_NAMES.items()],
        default_query=_default_query(),
    )
    resp = Response(html, content_type="text/html; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


_UI_PREFIXES = ("kop", "id", "rdf", "rdfs", "owl", "skos", "xsd", "prov", "wd")


def _default_query() -> str:
    lines = "".join(f"PREFIX {p}: <{ns.PREFIXES[p]}>\n" for p in _UI_PREFIXES if p in ns.PREFIXES)
    return (
        lines + "\n"
        "# What kinds of things does Köprü know about, and how many of each?\n"
        "SELECT ?class (COUNT(?s) AS ?n) WHERE {\n  ?s a ?class .\n}\n"
        "GROUP BY ?class\nORDER BY DESC(?n)\nLIMIT 20\n"
    )
