"""The Flask application factory, `create_app(config)`: the executor, the
build caches, every blueprint, the error handlers, CORS, HTTP caching and
compression (http_cache.py) and the access log, in one place.
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge

from server.config import Config
from server.errors import KopruError
from server.web import http_cache
from server.web.caching import AnswerCache, BuildCache
from server.web.negotiation import best_match

# Headers a script on another origin may read from an answer.
EXPOSED_HEADERS = "X-Kopru-Truncated, X-Kopru-Result-Limit, Content-Length"


def create_app(config: Config | None = None, *, executor=None, **overrides) -> Flask:
    """The app for `config` (default: the environment's). `executor`
    replaces the default one (gunicorn workers pass theirs)."""
    if config is None:
        config = Config.from_env(**overrides)
    elif overrides:
        config = config.replace(**overrides)

    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.config["KOPRU"] = config
    # Form encoding can triple a query's size; the query text itself is
    # checked against max_query_bytes by the endpoint.
    app.config["MAX_CONTENT_LENGTH"] = config.max_query_bytes * 3 + 4096
    app.config["JSON_AS_ASCII"] = False
    app.config.update(config.flask)

    executor = executor or default_executor(config)
    app.extensions["kopru.executor"] = executor
    app.extensions["kopru.cache"] = BuildCache(executor.version)
    if config.result_cache_bytes > 0:
        app.extensions["kopru.answers"] = AnswerCache(config.result_cache_bytes)

    _register_blueprints(app)
    _register_error_handlers(app)
    # after_request hooks run last-registered first: the access log sees
    # the answer as it leaves, compressed or 304.
    _register_access_log(app)
    http_cache.install(app)
    app.after_request(_cors)
    logging.getLogger("kopru").setLevel(config.log_level.upper())
    return app


def default_executor(config: Config, *, exit_on_timeout: bool = False):
    if config.remote:
        from server.query.remote_executor import RemoteExecutor

        return RemoteExecutor.from_config(config)
    from server.query.thread_executor import ThreadExecutor

    return ThreadExecutor(config.resolved_store_path, config.query_timeout, config.result_limit,
                          exit_on_timeout=exit_on_timeout)


def _register_blueprints(app: Flask) -> None:
    from server.web.health import bp as health_bp
    from server.web.pages import bp as pages_bp
    from server.web.sparql.endpoint import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(pages_bp)


def _cors(response: Response) -> Response:
    """Everything Köprü serves is public and read-only: any origin may read it."""
    response.headers.setdefault("Access-Control-Allow-Origin", "*")
    response.headers.setdefault("Access-Control-Expose-Headers", EXPOSED_HEADERS)
    return response


access_log = logging.getLogger("kopru.access")


def _register_access_log(app: Flask) -> None:
    """One line per request in the Combined Log Format, plus the time taken:
    `127.0.0.1 - - [01/Dec/2026:15:47:21 +0000] "GET /id/albania HTTP/1.1" 303 0 "-" "curl/8.1" 2.1ms`.
    Logged at INFO (KOPRU_LOG_LEVEL=warning silences it)."""

    @app.before_request
    def start_clock():
        request.environ["kopru.started"] = time.perf_counter()

    @app.after_request
    def log_request(response: Response) -> Response:
        if access_log.isEnabledFor(logging.INFO):
            started = request.environ.get("kopru.started")
            ms = (time.perf_counter() - started) * 1000 if started else 0.0
            sent = response.status_code != 304 and request.method != "HEAD"
            size = response.content_length if sent and not response.is_streamed else None
            when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
            target = _request_target()
            access_log.info('%s - - [%s] "%s %s %s" %d %s "%s" "%s" %.1fms',
                            request.remote_addr or "-", when, request.method, target,
                            request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                            response.status_code, "-" if size is None else size,
                            _quoted(request.referrer), _quoted(request.user_agent.string), ms)
        return response


def _request_target(limit: int = 2000) -> str:
    """The request's path and query as sent (percent-encoded: one line in
    the log). A query to /sparql is logged once, by the endpoint's own line."""
    target = quote(request.path, safe="/%:@!$&'()*+,;=~-._")
    if request.query_string:
        query = request.query_string.decode("latin-1")
        target += "?..." if request.endpoint == "sparql.sparql" else "?" + query
    return target if len(target) <= limit else target[:limit] + "..."


def _quoted(value: str | None) -> str:
    return (value or "-").replace("\\", "\\\\").replace('"', '\\"')


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(KopruError)
    def kopru_error(e: KopruError):
        headers = {"Retry-After": str(e.retry_after)} if e.retry_after else {}
        return error_response(e.status, e.message, headers)

    @app.errorhandler(MethodNotAllowed)
    def method_not_allowed(e: MethodNotAllowed):
        allowed = ", ".join(sorted(m for m in (e.valid_methods or []) if m != "HEAD"))
        return error_response(405, f"Method {request.method} is not allowed here; use "
                                   f"{allowed}. (The SPARQL endpoint is read-only: queries "
                                   "by GET or POST.)", {"Allow": ", ".join(e.valid_methods or [])})

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e):
        limit = app.config["KOPRU"].max_query_bytes
        return error_response(413, f"The request is too large: queries may be at most "
                                   f"{limit} bytes.")


_TITLES = {400: "Bad request", 403: "Refused", 404: "Not found", 405: "Method not allowed",
           406: "Not acceptable", 413: "Too large", 415: "Unsupported media type",
           500: "Something went wrong", 502: "The store failed", 503: "Unavailable"}


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """An error in what the client reads: a page for a browser, plain text
    for everything else (SPARQL clients show it as it is)."""
    best = best_match(("text/plain", "text/html"), request.headers.get("Accept"))
    if best == "text/html":
        body = render_template("error.html", status=status, message=message,
                               title=_TITLES.get(status, "Error"))
        return Response(body, status=status, content_type="text/html; charset=utf-8",
                        headers=headers)
    return Response(message.rstrip("\n") + "\n", status=status,
                    content_type="text/plain; charset=utf-8", headers=headers)
