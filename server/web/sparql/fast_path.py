"""The /sparql fast path: a query answered without Flask's request
machinery (request context, routing, response object, hooks), which
costs about what a whole point lookup costs.

It takes GET and POST (form or direct) to /sparql without conditional
headers, and runs the endpoint's own steps (endpoint.py: protocol, guard,
negotiation, executor, answer cache), then adds what the app's hooks add
to such an answer (CORS, nosniff, validators, gzip, the access log), with
http_cache.py's own functions. Everything else — the service description,
the query UI, OPTIONS, 304s, and every error, which the view re-raises for
the app's error handler — goes to the Flask app, so a client sees the same
answer either way (tests/test_query_fast_path.py holds them side by side).
"""

from __future__ import annotations

import functools
import io
import time

from flask import Flask
from werkzeug.http import http_date
from werkzeug.wrappers import Request

from server.errors import KopruError
from server.web import access_log, http_cache
from server.web.sparql import protocol
from server.web.sparql.endpoint import HANDED_OVER, Endpoint, LogLine

PATH = "/sparql"
# A request with one of these is answered by the app (304, 412).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
                "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE")


class FastPath:
    """WSGI middleware in front of the app's own WSGI callable."""

    def __init__(self, app: Flask, wsgi_app, *, cors_headers) -> None:
        self.wsgi_app = wsgi_app
        self.endpoint: Endpoint = app.extensions["kopru.sparql"]
        self.http = app.extensions["kopru.http"]
        self.cors = list(cors_headers)
        self.max_query_bytes = app.config["KOPRU"].max_query_bytes
        self.max_body = app.config["MAX_CONTENT_LENGTH"]

        config = app.config

        class _Request(Request):          # the limits Flask's request takes from the app
            max_content_length = config["MAX_CONTENT_LENGTH"]
            # (Flask ≥ 3.1 has settings for these; before, werkzeug's defaults)
            max_form_memory_size = config.get("MAX_FORM_MEMORY_SIZE", Request.max_form_memory_size)
            max_form_parts = config.get("MAX_FORM_PARTS", Request.max_form_parts)

        self.request_class = _Request

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != PATH or method not in ("GET", "POST") \
                or any(name in environ for name in _CONDITIONAL):
            return self.wsgi_app(environ, start_response)
        environ[access_log.STARTED] = started = time.perf_counter()
        body = None
        if method == "POST":
            body = _read_body(environ, self.max_body)
            if body is None:                     # no length, or too long: the app says so
                return self.wsgi_app(environ, start_response)
        line = LogLine()
        query = None
        try:
            request = self.request_class(environ)
            req = protocol.parse(request, self.max_query_bytes)
            query = req.query
            if query is not None:
                plan = self.endpoint.plan(query, req, environ.get("HTTP_ACCEPT"), line)
                if plan.format is not None:
                    answer = self.endpoint.run(plan, line)
                    headers = self.endpoint.headers(plan, answer)
                    line.status = 200
        except Exception as e:                   # noqa: BLE001 — the app answers it
            if query is not None:
                line.status = e.status if isinstance(e, KopruError) else 500
                line.write(started, query)
            environ[HANDED_OVER] = e
            return self._to_app(environ, start_response, body)
        if query is None or plan.format is None:  # the service description, the query UI
            return self._to_app(environ, start_response, body)
        line.write(started, query)
        status, headers, payload = self._finish(request, headers, answer.body)
        if access_log.enabled():
            access_log.write(environ, PATH, status, len(payload), sparql=True)
        start_response("200 OK", headers)
        return [payload]

    def _to_app(self, environ, start_response, body: bytes | None):
        if body is not None:                     # read again from the start
            environ["wsgi.input"] = io.BytesIO(body)
        return self.wsgi_app(environ, start_response)

    def _finish(self, request: Request, headers: list[tuple[str, str]], body: bytes):
        """What the app's hooks add to a 200 answer (app.py's CORS, then
        http_cache.py's `finish`), in the same order."""
        environ = request.environ
        tail = [*self.cors, ("X-Content-Type-Options", "nosniff")]
        if request.method == "GET":
            content_type = headers[0][1]
            compress = http_cache.compressible(content_type.partition(";")[0].strip(), len(body))
            if compress:
                headers[1] = ("Vary", "Accept, Accept-Encoding")
            gzip_it = compress and http_cache.accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
            etag = None
            stamp = None if any(name == "Cache-Control" for name, _ in headers) \
                else self.http.build_stamp()
            if stamp is not None:
                version, modified = stamp
                etag = self.http.etag(
                    version, request.full_path, content_type, "", gzip_it,
                    lambda name: _header(environ, name), ["Accept"])
                tail += [("ETag", f'"{etag}"'),
                         ("Last-Modified", _http_date(self.http.last_modified(modified))),
                         ("Cache-Control", "public, no-cache"), ("Date", _now())]
            if gzip_it:
                packed = self.http.packed(body, etag)
                if packed is not None:
                    body = packed
                    tail.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(body))))
        return 200, headers + tail, body


def _read_body(environ, limit: int | None) -> bytes | None:
    """A POST's body, when it says its length and that is within `limit`;
    the environ reads it again from the start."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if length < 0 or (limit is not None and length > limit):
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


@functools.lru_cache(maxsize=4)
def _http_date(when) -> str:
    return http_date(when)


_date: tuple[int, str] = (-1, "")      # the current second, and its Date header


def _now() -> str:
    """http_date() of now, written once a second."""
    global _date
    second = int(time.time())
    if second != _date[0]:
        _date = (second, http_date(second))
    return _date[1]


def _header(environ, name: str) -> str:
    return environ.get("HTTP_" + name.upper().replace("-", "_"), "")
