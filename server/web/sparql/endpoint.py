"""The /sparql blueprint: SPARQL 1.1 Protocol, service description, query UI.

Per query: read the request (protocol.py) → guard it (server/query/analysis.py)
→ choose the answer's format (negotiation.py) → run it through the executor,
from the answer cache when it can → answer. The guard runs first whatever the
store: a remote store never sees a query the embedded one would refuse.
Every query is logged on one line with its status and duration.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, render_template, request

from server import formats
from server import namespaces as ns
from server.errors import KopruError, NotAcceptable, QueryError, ServiceFailed
from server.pipeline.gallery import load_queries
from server.pipeline.project import Project
from server.query import analysis
from server.web.caching import AnswerCache
from server.web.negotiation import best_match
from server.web.sparql import description, negotiation, protocol

bp = Blueprint("sparql", __name__)
log = logging.getLogger("kopru.query")
_WS = re.compile(r"\s+")


def _config():
    return current_app.config["KOPRU"]


def _executor():
    return current_app.extensions["kopru.executor"]


@bp.route("/sparql", methods=["OPTIONS"])
def preflight():
    resp = Response(status=204)
    resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    resp.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("Access-Control-Request-Headers") or "Accept, Content-Type")
    resp.headers["Access-Control-Max-Age"] = "86400"
    resp.headers["Allow"] = "GET, POST, OPTIONS"
    return resp


@dataclass
class _LogLine:
    status: int = 500
    form: str = "-"
    format: str = "-"
    rows: int | None = None
    size: int = 0
    truncated: bool = False
    cached: bool = False


@bp.route("/sparql", methods=["GET", "POST"], provide_automatic_options=False)
def sparql():
    started = time.perf_counter()
    line = _LogLine()
    query = None
    try:
        req = protocol.parse(request, _config().max_query_bytes)
        query = req.query
        if query is None:
            resp = service_description()
            line.status = resp.status_code
            return resp
        resp = _answer(query, req, line)
        line.status = resp.status_code
        return resp
    except KopruError as e:
        line.status = e.status
        raise
    finally:
        if query is not None:
            ms = (time.perf_counter() - started) * 1000
            text = _WS.sub(" ", query).strip()
            if len(text) > 120:
                text = text[:117] + "..."
            log.info('sparql %d %.1fms %s %s rows=%s bytes=%d%s%s q="%s"', line.status, ms,
                     line.form, line.format, "-" if line.rows is None else line.rows, line.size,
                     " TRUNCATED" if line.truncated else "", " cached" if line.cached else "",
                     text)


def _answer(query: str, req: protocol.SparqlRequest, line: _LogLine) -> Response:
    config = _config()
    found = analysis.check(query, config.service_allowlist)
    line.form = found.form or "?"
    fmt = negotiation.choose(negotiation.kind_of(found.form), req.format_param,
                             request.headers.get("Accept"))
    if fmt is None:
        line.format = "html"
        return query_ui(query)
    line.format = fmt.name
    dg: Sequence[str] | None
    ng: Sequence[str] | None
    if req.has_protocol_dataset:      # the protocol's dataset overrides FROM / FROM NAMED
        dg, ng = req.default_graph_uris, req.named_graph_uris
    elif found.has_dataset_clause:
        dg = ng = None
    else:                             # Köprü's default: the inferred graph, all named graphs
        dg, ng = ns.DEFAULT_GRAPHS, None
    executor = _executor()
    cache: AnswerCache | None = current_app.extensions.get("kopru.answers")
    key = None
    answer = None
    if cache is not None and found.deterministic and not found.services:
        version = executor.version()     # None: the store's content has no version
        if version is not None:
            key = (version, query, _tuple(dg), _tuple(ng), fmt.name)
            answer = cache.get(key)
    if answer is None:
        try:
            answer = executor.run(query, fmt, dg, ng)
        except QueryError as e:
            if e.category == "io" and found.services:
                raise ServiceFailed(f"A federated SERVICE call failed: {e.message}") from None
            raise
        if cache is not None and key is not None:
            cache.put(key, answer)
    else:
        line.cached = True
    line.format = answer.format.name
    line.rows, line.size, line.truncated = answer.rows, len(answer.body), answer.truncated
    headers = {"Content-Type": answer.format.content_type, "Vary": "Accept"}
    if not found.deterministic or found.services:
        headers["Cache-Control"] = "no-store"     # not a function of the build alone
    if answer.truncated:
        headers["X-Kopru-Truncated"] = "true"
        headers["X-Kopru-Result-Limit"] = str(config.result_limit)
    return Response(answer.body, status=200, headers=headers)


def _tuple(graphs):
    return None if graphs is None else tuple(graphs)


# --- service description ----------------------------------------------------

_SD_FORMATS = {"ttl": formats.TURTLE, "turtle": formats.TURTLE, "nt": formats.N_TRIPLES,
               "jsonld": formats.JSON_LD, "json": formats.JSON_LD, "rdfxml": formats.RDF_XML,
               "xml": formats.RDF_XML}
_SD_OFFERS = {**{f.media_type: f for f in formats.GRAPH_FORMATS},
              **{m: f for f in formats.GRAPH_FORMATS for m in f.also}}
_SD_OFFER_TYPES = (formats.TURTLE.media_type, formats.RDF_XML.media_type,
                   formats.JSON_LD.media_type, formats.N_TRIPLES.media_type,
                   *(m for m in _SD_OFFERS if m not in
                     {f.media_type for f in formats.GRAPH_FORMATS}), negotiation.HTML)


def _graph_counts():
    """Triples per named graph, from the store (worked out once per build)."""
    executor = _executor()

    def count():
        answer = executor.run(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            formats.TSV, None, None, timeout=min(executor.timeout, 10))
        counts = {}
        for row in answer.body.decode().splitlines()[1:]:
            g, _, n = row.partition("\t")
            if g.startswith("<") and n:
                counts[g[1:-1]] = int(n.split("^^")[0].strip('"'))
        return counts

    try:
        if executor.version() is None:   # a remote store without a pushed version
            return None
        return current_app.extensions["kopru.cache"].value("sparql:graph-counts", count)
    except KopruError:
        return None


def service_description() -> Response:
    fmt_param = (request.args.get("format") or "").lower()
    if fmt_param == "html":
        return query_ui(None)
    if fmt_param:
        fmt = _SD_FORMATS.get(fmt_param)
        if fmt is None:
            raise NotAcceptable(f"format={fmt_param}: the service description is offered as "
                                "ttl, rdfxml, jsonld or nt.")
    else:
        best = best_match(_SD_OFFER_TYPES, request.headers.get("Accept"))
        if best is None:
            raise NotAcceptable("The service description is offered as text/turtle, "
                                "application/rdf+xml, application/ld+json or "
                                "application/n-triples.")
        if best == negotiation.HTML:
            return query_ui(None)
        fmt = _SD_OFFERS[best]
    body = description.render(fmt, request.base_url, _graph_counts(), _config())
    return Response(body, content_type=fmt.content_type, headers={"Vary": "Accept"})


# --- query UI -----------------------------------------------------------------

def _examples():
    """The queries/ gallery: [{title, description, query}] ([] if none)."""
    try:
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
