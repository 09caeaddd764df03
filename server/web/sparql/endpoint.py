"""The /sparql blueprint: SPARQL 1.1 Protocol, service description, query UI.

Per query: read the request (protocol.py) → guard it (server/query/analysis.py)
→ choose the answer's format (negotiation.py) → run it through the executor,
from the answer cache when it can → answer. The guard runs first whatever the
store: a remote store never sees a query the embedded one would refuse.
Every query is logged on one line with its status and duration.

`Endpoint` holds those steps; the Flask view below and the fast path
(fast_path.py), which answers the common queries without Flask's request
machinery, both run them. An error the fast path meets is handed to the
view to raise, so that the app's error handler answers it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, current_app, render_template, request

from server import formats
from server import namespaces as ns
from server.errors import KopruError, NotAcceptable, QueryError, ServiceFailed
from server.formats import Format
from server.pipeline.gallery import load_queries
from server.pipeline.project import Project
from server.query import analysis
from server.query.executor import Answer
from server.web import access_log
from server.web.caching import AnswerCache
from server.web.negotiation import best_match
from server.web.sparql import description, negotiation, protocol

bp = Blueprint("sparql", __name__)
log = logging.getLogger("kopru.query")
_WS = re.compile(r"\s+")
# The environ key under which the fast path hands the view an error to raise.
HANDED_OVER = "kopru.sparql.error"


def _config():
    return current_app.config["KOPRU"]


def _executor():
    return current_app.extensions["kopru.executor"]


def _endpoint() -> Endpoint:
    return current_app.extensions["kopru.sparql"]


@bp.record_once
def _setup(state) -> None:
    state.app.extensions["kopru.sparql"] = Endpoint(state.app)


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
class LogLine:
    """What the query's log line says; filled in as the query goes."""
    status: int = 500
    form: str = "-"
    format: str = "-"
    rows: int | None = None
    size: int = 0
    truncated: bool = False
    cached: bool = False

    def write(self, started: float, query: str) -> None:
        ms = (time.perf_counter() - started) * 1000
        text = _WS.sub(" ", query).strip()
        if len(text) > 120:
            text = text[:117] + "..."
        access_log.info(log, 'sparql %d %.1fms %s %s rows=%s bytes=%d%s%s q="%s"', self.status,
                        ms, self.form, self.format, "-" if self.rows is None else self.rows,
                        self.size, " TRUNCATED" if self.truncated else "",
                        " cached" if self.cached else "", text)


@dataclass(frozen=True)
class Plan:
    """A query the guard let through, and how it is to be answered."""
    found: analysis.Analysis
    format: Format | None                 # None: a browser, who gets the query UI
    default_graphs: Sequence[str] | None
    named_graphs: Sequence[str] | None


class Endpoint:
    """Answering one query, whoever reads the request: the app's settings,
    its executor and its answer cache."""

    def __init__(self, app: Flask) -> None:
        self.config = app.config["KOPRU"]
        self.executor = app.extensions["kopru.executor"]
        self.answers: AnswerCache | None = app.extensions.get("kopru.answers")

    def plan(self, query: str, req: protocol.SparqlRequest, accept: str | None,
             line: LogLine) -> Plan:
        """Guard the query and choose its format and dataset. Raises
        QueryRefused, NotAcceptable."""
        found = analysis.check(query, self.config.service_allowlist)
        line.form = found.form or "?"
        fmt = negotiation.choose(negotiation.kind_of(found.form), req.format_param, accept)
        line.format = "html" if fmt is None else fmt.name
        dg: Sequence[str] | None
        ng: Sequence[str] | None
        if req.has_protocol_dataset:      # the protocol's dataset overrides FROM / FROM NAMED
            dg, ng = req.default_graph_uris, req.named_graph_uris
        elif found.has_dataset_clause:
            dg = ng = None
        else:                             # Köprü's default: the inferred graph, all named graphs
            dg, ng = ns.DEFAULT_GRAPHS, None
        return Plan(found, fmt, dg, ng)

    def run(self, plan: Plan, line: LogLine) -> Answer:
        """The answer, from the answer cache when it can. Raises what the
        executor raises; a failed SERVICE call is ServiceFailed (502)."""
        found, fmt = plan.found, plan.format
        assert fmt is not None
        guarded = found.text                  # what the store runs: the guard's reading
        assert guarded is not None
        cache = self.answers
        key = None
        answer = None
        if cache is not None and found.deterministic and not found.services:
            version = self.executor.version()    # None: the store's content has no version
            if version is not None:
                key = (version, str(guarded), _tuple(plan.default_graphs),
                       _tuple(plan.named_graphs), fmt.name)
                answer = cache.get(key)
        if answer is None:
            try:
                answer = self.executor.run(guarded, fmt, plan.default_graphs, plan.named_graphs)
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
        return answer

    def headers(self, plan: Plan, answer: Answer) -> list[tuple[str, str]]:
        """The answer's own headers (the app adds CORS, validators…)."""
        headers = [("Content-Type", answer.format.content_type), ("Vary", "Accept")]
        if not plan.found.deterministic or plan.found.services:
            headers.append(("Cache-Control", "no-store"))   # not a function of the build alone
        if answer.truncated:
            headers.append(("X-Kopru-Truncated", "true"))
            headers.append(("X-Kopru-Result-Limit", str(self.config.result_limit)))
        return headers


@bp.route("/sparql", methods=["GET", "POST"], provide_automatic_options=False)
def sparql():
    handed_over = request.environ.pop(HANDED_OVER, None)
    if handed_over is not None:              # the fast path logged the query already
        raise handed_over
    started = time.perf_counter()
    line = LogLine()
    query = None
    endpoint = _endpoint()
    try:
        req = protocol.parse(request, endpoint.config.max_query_bytes)
        query = req.query
        if query is None:
            resp = service_description()
        else:
            plan = endpoint.plan(query, req, request.headers.get("Accept"), line)
            if plan.format is None:
                resp = query_ui(query)
            else:
                answer = endpoint.run(plan, line)
                resp = Response(answer.body, status=200, headers=endpoint.headers(plan, answer))
        line.status = resp.status_code
        return resp
    except KopruError as e:
        line.status = e.status
        raise
    finally:
        if query is not None:
            line.write(started, query)


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
    """The queries/ gallery: [{slug, title, description, query, group}] ([] if none)."""
    try:
        items = load_queries(Project(_config().project_root))
    except Exception as e:                       # a broken query file must not break the UI
        logging.getLogger("kopru.sparql").warning("query gallery unavailable: %s", e)
        return []
    return [{"slug": q.slug, "title": q.title, "description": q.description, "query": q.text,
             "group": _group_of(q.slug + " " + q.title)} for q in items]


# The gallery's groups: the first whose words occur in a query's file name or
# title (lower-case) takes it; the rest are "Other questions".
EXAMPLE_GROUPS = [
    ("The graph itself", ("entities-per-class", "links-out", "facts-per-paragraph", "timeline-by-year",
                          "everything")),
    ("Claims, views and trends", ("claim", "view", "debate", "commentator", "observer", "neutral",
                                  "pivot", "huge", "vital", "trend", "islamophobia", "analyst")),
    ("Trade", ("trade", "export", "import")),
    ("Security and defence", ("kfor", "military", "peacekeeping", "security", "ammunition",
                              "sniper", "defence", "training")),
    ("Aid, religion and communities", ("mosque", "flood", "communit", "muslim", "tika", "aid",
                                       "relief")),
    ("Projects and investment", ("highway", "railway", "airport", "transport", "energy", "fund",
                                 "invest", "project", "build")),
    ("Agreements and relations", ("agreement", "ties", "recognition", "sovereignty", "power-sharing",
                                  "cooperation", "engagement", "relation", "russia")),
]
OTHER_GROUP = "Other questions"


def _group_of(text: str) -> str:
    text = text.lower()
    for title, words in EXAMPLE_GROUPS:
        if any(w in text for w in words):
            return title
    return OTHER_GROUP


def _grouped(examples: list[dict]) -> list[tuple[str, list[tuple[int, dict]]]]:
    order = [t for t, _ in EXAMPLE_GROUPS] + [OTHER_GROUP]
    groups: dict[str, list] = {}
    for i, ex in enumerate(examples):
        groups.setdefault(ex["group"], []).append((i, ex))
    return [(t, groups[t]) for t in order if t in groups]


def query_ui(query: str | None) -> Response:
    config = _config()
    examples = _examples()
    html = render_template(
        "sparql.html",
        query=query,
        examples=examples,
        example_groups=_grouped(examples),
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
