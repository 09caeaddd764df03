"""Reading a SPARQL 1.1 Protocol request: GET, POST form-encoded, POST direct.

Everything wrong with the request itself is answered here, precisely:
two `query` parameters → 400, a POST without a content type → 400, a media
type we do not take → 415, a charset other than UTF-8 → 415, an update in
any form → 403 (Köprü is read-only), a query text over the size limit → 413.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.errors import QueryRefused, RequestError
from server.query.analysis import READ_ONLY_MESSAGE

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


@dataclass
class SparqlRequest:
    query: str | None                       # None: no query (service description / UI)
    default_graph_uris: list[str] = field(default_factory=list)
    named_graph_uris: list[str] = field(default_factory=list)
    format_param: str | None = None

    @property
    def has_protocol_dataset(self) -> bool:
        return bool(self.default_graph_uris or self.named_graph_uris)


def _one_query(values: list[str]) -> str | None:
    if len(values) > 1:
        raise RequestError(f"The request has {len(values)} 'query' parameters; send exactly one.", status=400)
    return values[0] if values else None


def parse(request, max_query_bytes: int) -> SparqlRequest:
    """Read a Flask request into a SparqlRequest, or raise ProtocolError."""
    args = request.args
    fmt = args.get("format") or args.get("output")
    if request.method in ("GET", "HEAD"):
        if "update" in args:
            raise QueryRefused(READ_ONLY_MESSAGE)
        query = _one_query(args.getlist("query"))
        dg, ng = args.getlist("default-graph-uri"), args.getlist("named-graph-uri")
    elif request.method == "POST":
        if not request.content_type:
            raise RequestError("A POST to the SPARQL endpoint needs a Content-Type: "
                f"{FORM} (query=… in the body) or {QUERY} (the query as the body).", status=400)
        mimetype = request.mimetype
        charset = request.mimetype_params.get("charset")
        if charset and charset.strip().lower() not in ("utf-8", "utf8"):
            raise RequestError(f"Charset {charset} is not supported: send the request in UTF-8.", status=415)
        if mimetype == UPDATE:
            raise QueryRefused(READ_ONLY_MESSAGE)
        if mimetype == FORM:
            form = request.form
            if "update" in form or "update" in args:
                raise QueryRefused(READ_ONLY_MESSAGE)
            query = _one_query(form.getlist("query") + args.getlist("query"))
            dg = form.getlist("default-graph-uri") + args.getlist("default-graph-uri")
            ng = form.getlist("named-graph-uri") + args.getlist("named-graph-uri")
            fmt = form.get("format") or form.get("output") or fmt
            if query is None:
                raise RequestError("The form has no 'query' parameter.", status=400)
        elif mimetype == QUERY:
            if "query" in args:
                raise RequestError(f"With Content-Type {QUERY} the query is the request body; "
                         "do not also send a 'query' parameter.", status=400)
            raw = request.get_data(cache=False)
            try:
                query = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise RequestError(f"The query is not valid UTF-8 (byte {e.start}): send it in "
                                   "UTF-8.", status=415) from None
            dg, ng = args.getlist("default-graph-uri"), args.getlist("named-graph-uri")
        else:
            raise RequestError(f"Content-Type {mimetype} is not supported; use {FORM} (query=… in the body) "
                f"or {QUERY} (the query as the body).", status=415)
    else:                                           # routing only lets GET/POST/OPTIONS in
        raise RequestError(f"Method {request.method} is not allowed: use GET or POST.", status=405)

    if query is not None:
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > max_query_bytes:
            raise RequestError(f"The query is {size} bytes; this server accepts at most "
                               f"{max_query_bytes}.", status=413)
        if not query.strip():
            raise RequestError("The query is empty.", status=400)
    return SparqlRequest(query, dg, ng, fmt)
