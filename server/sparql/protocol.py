"""Reading a SPARQL 1.1 Protocol request: GET, POST form-encoded, POST direct.

Everything wrong with the request itself is answered here, precisely:
two `query` parameters → 400, a POST without a content type → 400, a media
type we do not take → 415, a charset other than UTF-8 → 415, an update in
any form → 403 (Köprü is read-only), a query text over the size limit → 413.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.sparql.guard import READ_ONLY_MESSAGE

FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"


class ProtocolError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


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
        raise ProtocolError(400, f"The request has {len(values)} 'query' parameters; send exactly one.")
    return values[0] if values else None


def parse(request, max_query_bytes: int) -> SparqlRequest:
    """Read a Flask request into a SparqlRequest, or raise ProtocolError."""
    args = request.args
    fmt = args.get("format") or args.get("output")
    if request.method in ("GET", "HEAD"):
        if "update" in args:
            raise ProtocolError(403, READ_ONLY_MESSAGE)
        query = _one_query(args.getlist("query"))
        dg, ng = args.getlist("default-graph-uri"), args.getlist("named-graph-uri")
    elif request.method == "POST":
        if not request.content_type:
            raise ProtocolError(
                400,
                "A POST to the SPARQL endpoint needs a Content-Type: "
                f"{FORM} (query=… in the body) or {QUERY} (the query as the body).")
        mimetype = request.mimetype
        charset = request.mimetype_params.get("charset")
        if charset and charset.strip().lower() not in ("utf-8", "utf8"):
            raise ProtocolError(
                415, f"Charset {charset} is not supported: send the request in UTF-8.")
        if mimetype == UPDATE:
            raise ProtocolError(403, READ_ONLY_MESSAGE)
        if mimetype == FORM:
            form = request.form
            if "update" in form or "update" in args:
                raise ProtocolError(403, READ_ONLY_MESSAGE)
            query = _one_query(form.getlist("query") + args.getlist("query"))
            dg = form.getlist("default-graph-uri") + args.getlist("default-graph-uri")
            ng = form.getlist("named-graph-uri") + args.getlist("named-graph-uri")
            fmt = form.get("format") or form.get("output") or fmt
            if query is None:
                raise ProtocolError(400, "The form has no 'query' parameter.")
        elif mimetype == QUERY:
            if "query" in args:
                raise ProtocolError(
                    400, f"With Content-Type {QUERY} the query is the request body; "
                         "do not also send a 'query' parameter.")
            raw = request.get_data(cache=False)
            try:
                query = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ProtocolError(
                    415, f"The query is not valid UTF-8 (byte {e.start}): send it in UTF-8.") from None
            dg, ng = args.getlist("default-graph-uri"), args.getlist("named-graph-uri")
        else:
            raise ProtocolError(
                415,
                f"Content-Type {mimetype} is not supported; use {FORM} (query=… in the body) "
                f"or {QUERY} (the query as the body).")
    else:                                           # routing only lets GET/POST/OPTIONS in
        raise ProtocolError(405, f"Method {request.method} is not allowed: use GET or POST.")

    if query is not None:
        size = len(query.encode("utf-8", "surrogatepass"))
        if size > max_query_bytes:
            raise ProtocolError(
                413, f"The query is {size} bytes; this server accepts at most {max_query_bytes}.")
        if not query.strip():
            raise ProtocolError(400, "The query is empty.")
    return SparqlRequest(query, dg, ng, fmt)
