"""The Flask application factory, `create_app(config)`: the executor, the
build caches, every blueprint, the error handlers, CORS, HTTP caching and
compression (http_cache.py), the access log (access_log.py) and the /sparql
fast path (sparql/fast_path.py), in one place.
"""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, render_template, request
from werkzeug.exceptions import MethodNotAllowed, NotFound, RequestEntityTooLarge

from server.config import Config
from server.errors import KopruError
from server.web import access_log, http_cache
from server.web.caching import COMPILED_TEMPLATES, AnswerCache, BuildCache
from server.web.negotiation import best_match

# Headers a script on another origin may read from an answer.
EXPOSED_HEADERS = "X-Kopru-Truncated, X-Kopru-Result-Limit, Content-Length"
# Everything Köprü serves is public and read-only: any origin may read it.
CORS_HEADERS = (("Access-Control-Allow-Origin", "*"),
                ("Access-Control-Expose-Headers", EXPOSED_HEADERS))


def create_app(config: Config | None = None, *, executor=None, **overrides) -> Flask:
    """The app for `config` (default: the environment's). `executor`
    replaces the default one (gunicorn workers pass theirs)."""
    if config is None:
        config = Config.from_env(**overrides)
    elif overrides:
        config = config.replace(**overrides)

    app = Flask(__name__, template_folder="templates", static_folder="static")
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
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
    app.after_request(_relative_location)
    # Queries to /sparql skip Flask's request machinery when they can; what
    # the fast path does not answer itself, the app above answers.
    from server.web.sparql.fast_path import FastPath

    fast = FastPath(app, app.wsgi_app, cors_headers=CORS_HEADERS)
    app.wsgi_app = _ExitWhenSent(fast, executor)  # type: ignore[method-assign]
    logging.getLogger("kopru").setLevel(config.log_level.upper())
    return app


class _ExitWhenSent:
    """A query that could only be stopped by ending this worker ends it once
    the answer (a 503) has been sent: the executor says so after the
    request, and the response's close() is after the last byte."""

    def __init__(self, wsgi_app, executor) -> None:
        self.wsgi_app = wsgi_app
        self.executor = executor

    def __call__(self, environ, start_response):
        body = self.wsgi_app(environ, start_response)
        if self.executor.exit_pending is None:
            return body
        return _ThenExit(body, self.executor)


class _ThenExit:
    def __init__(self, body, executor) -> None:
        self.body = body
        self.executor = executor

    def __iter__(self):
        return iter(self.body)

    def close(self) -> None:
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.executor.exit_if_pending()


def default_executor(config: Config, *, exit_on_timeout: bool = False):
    if config.remote:
        from server.query.remote_executor import RemoteExecutor

        return RemoteExecutor.from_config(config)
    from server.query.thread_executor import ThreadExecutor

    return ThreadExecutor(config.resolved_store_path, config.query_timeout, config.result_limit,
                          exit_on_timeout=exit_on_timeout,
                          memory_limit=config.query_memory_mb << 20,
                          long_queries=config.resolved_long_queries)


def _register_blueprints(app: Flask) -> None:
    from server.web.health import bp as health_bp
    from server.web.pages import bp as pages_bp
    from server.web.sparql.endpoint import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(pages_bp)


def _cors(response: Response) -> Response:
    for name, value in CORS_HEADERS:
        response.headers.setdefault(name, value)
    return response


def _register_access_log(app: Flask) -> None:
    """One line per request (access_log.py)."""

    @app.before_request
    def start_clock():
        # The fast path may have started the clock before it handed over.
        request.environ.setdefault(access_log.STARTED, time.perf_counter())

    @app.after_request
    def log_request(response: Response) -> Response:
        if access_log.enabled():
            sent = response.status_code != 304 and request.method != "HEAD"
            size = response.content_length if sent and not response.is_streamed else None
            access_log.write(request.environ, request.path, response.status_code, size,
                             sparql=request.endpoint == "sparql.sparql")
        return response


def _relative_location(response: Response) -> Response:
    """A redirect to this server names no host: werkzeug's slash redirects
    copy the request's Host header, which any client sets, into Location."""
    location = response.headers.get("Location")
    if location and location.startswith(request.host_url):
        response.headers["Location"] = "/" + location[len(request.host_url):]
    return response


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

    @app.errorhandler(NotFound)
    def not_found(e: NotFound):
        from server.web.pages.missing import not_found_response
        return not_found_response()

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
