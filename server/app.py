"""The Flask application factory: `create_app(config)`.

Every blueprint is registered here, in one place:

    server.sparql.endpoint   /sparql      SPARQL 1.1 Protocol, service description, query UI
    server.pages             /, /id/…     entity pages (when that package exists)
    server.health            /healthz     whether the store answers (JSON, 200 / 503)

With `config.store_url` set, queries and pages go to that remote SPARQL
store (server/remote_store.py) instead of the embedded one.

Tests build an app with a test Config (`create_app(Config(project_root=…))`).
"""

from __future__ import annotations

import importlib.util
import logging

from flask import Flask, Response, request
from werkzeug.exceptions import MethodNotAllowed, RequestEntityTooLarge

from server.config import Config
from server.executor import Executor


def create_app(config: Config | None = None, **overrides) -> Flask:
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

    if config.remote:
        # A remote SPARQL store: queries are HTTP requests with a deadline,
        # no killable children needed (server/remote_store.py).
        from server.remote_store import RemoteExecutor

        app.extensions["kopru.executor"] = RemoteExecutor.from_config(config)
    else:
        app.extensions["kopru.executor"] = Executor(
            config.resolved_store_path, config.query_timeout, config.result_limit)

    _register_blueprints(app)
    _register_errors(app)
    logging.getLogger("kopru").setLevel(logging.INFO)
    return app


def _register_blueprints(app: Flask) -> None:
    from server.health import bp as health_bp
    from server.sparql.endpoint import bp as sparql_bp

    app.register_blueprint(sparql_bp)
    app.register_blueprint(health_bp)
    if importlib.util.find_spec("server.pages") is not None:
        pages = importlib.import_module("server.pages")
        bp = getattr(pages, "bp", None) or getattr(pages, "blueprint", None)
        if bp is not None:
            app.register_blueprint(bp)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(MethodNotAllowed)
    def method_not_allowed(e: MethodNotAllowed):
        allowed = ", ".join(sorted(m for m in (e.valid_methods or []) if m != "HEAD"))
        resp = Response(
            f"Method {request.method} is not allowed here; use {allowed}. "
            "(The SPARQL endpoint is read-only: queries by GET or POST.)\n",
            status=405, content_type="text/plain; charset=utf-8")
        resp.headers["Allow"] = ", ".join(e.valid_methods or [])
        resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp

    from server.executor import QueryTimeout
    from server.remote_store import StoreUnavailable

    # The pages query the store in-process; a remote store that is down or
    # too slow answers 502/503 with a message, and recovers by itself.
    @app.errorhandler(StoreUnavailable)
    def store_unavailable(e: StoreUnavailable):
        return _store_error(e.status, "The knowledge graph's store is unavailable", e.message)

    @app.errorhandler(QueryTimeout)
    def store_timeout(e: QueryTimeout):
        return _store_error(503, "The knowledge graph's store is too slow",
                            f"The SPARQL store did not answer within {e.seconds:g} s; "
                            "try again shortly.")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e):
        limit = app.config["KOPRU"].max_query_bytes
        resp = Response(
            f"The request is too large: queries may be at most {limit} bytes.\n",
            status=413, content_type="text/plain; charset=utf-8")
        resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp


def _store_error(status: int, title: str, message: str) -> Response:
    headers = {"Retry-After": "5", "Access-Control-Allow-Origin": "*"}
    accept = request.accept_mimetypes
    if accept.accept_html and accept.best_match(["text/plain", "text/html"]) == "text/html":
        from flask import render_template

        try:
            body = render_template("error.html", status=status, title=title, message=message)
            return Response(body, status=status, content_type="text/html; charset=utf-8",
                            headers=headers)
        except Exception:                       # the page template itself failed
            pass
    return Response(message.rstrip("\n") + "\n", status=status,
                    content_type="text/plain; charset=utf-8", headers=headers)
