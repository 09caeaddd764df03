"""Running the server: gunicorn by default, Flask's development server with
`dev=True`.

    run(project, host, port, workers, query_timeout, dev)

is what `kopru serve` calls once the store is built (or, with
store_url, to serve a remote SPARQL store: then a query is an HTTP request
to the store with the same deadline). Under gunicorn every worker is a sync
worker that runs queries in its own query thread (query_thread.py): a query
that runs into the timeout ties up one worker for at most the timeout, is
answered 503, and then that worker exits (stopping the query) and the
arbiter forks a fresh one, while the others keep answering. The development
server is threaded, so there each query runs in a killable child process
instead (executor.py). SIGTERM stops the server gracefully (requests in
flight finish), SIGINT (Ctrl-C) at once.

`python -m server.serve --project DIR --port N …` runs it without the CLI.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from server.config import Config

LOG_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"


def setup_logging() -> None:
    logger = logging.getLogger("kopru")
    if not any(getattr(h, "_kopru", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S %z"))
        handler._kopru = True
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def run(project=".", host: str | None = None, port: int | None = None, workers: int | None = None,
        query_timeout: float | None = None, dev: bool = False, **settings) -> int:
    """Serve the project until stopped. Returns the process exit status."""
    config = Config.from_env(project_root=project, host=host, port=port, workers=workers,
                             query_timeout=query_timeout, dev=dev or None, **settings)
    setup_logging()
    log = logging.getLogger("kopru.serve")
    if config.remote:
        _check_remote(config, log)
    elif not config.resolved_store_path.exists():
        log.warning("no store at %s yet: queries answer 503 until `kopru build` has run",
                    config.resolved_store_path)
    allow = ", ".join(config.service_allowlist) or "off"
    log.info("Köprü SPARQL endpoint at http://%s/sparql (%s; query timeout %g s; "
             "result limit %d; SERVICE allowlist: %s)", _bind(config.host, config.port),
             "Flask development server" if config.dev else f"gunicorn, {config.workers} workers",
             config.query_timeout, config.result_limit, allow)
    if config.dev:
        return _run_dev(config)
    return _run_gunicorn(config)


def _check_remote(config: Config, log) -> None:
    """Say which remote store is served and what it holds (never fatal:
    the server answers 503 until the store does, then recovers)."""
    from server.remote_store import Endpoints, RemoteStore

    endpoints = Endpoints.from_url(config.store_url)
    store = RemoteStore(endpoints, timeout=min(config.query_timeout, 5.0))
    try:
        meta = store.meta()
    except Exception as e:                       # noqa: BLE001
        log.warning("%s: queries and pages answer 503 until it does",
                    getattr(e, "message", None) or e)
        return
    finally:
        store.close()
    if meta.get("version"):
        log.info("serving the remote SPARQL store at %s (build %s, pushed %s)", endpoints.display,
                 (meta.get("hash") or "?")[:16], meta.get("pushedAt", "?"))
    else:
        log.warning("the SPARQL store at %s holds no pushed Köprü build yet "
                    "(run `kopru build --push URL`)", endpoints.display)


def _bind(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


# --- gunicorn -------------------------------------------------------------------

def _post_worker_init(worker) -> None:
    executor = worker.wsgi.extensions.get("kopru.executor")
    if executor is not None:
        executor.warm()


def _worker_exit(server, worker) -> None:
    app = getattr(worker, "wsgi", None)
    executor = getattr(app, "extensions", {}).get("kopru.executor") if app is not None else None
    if executor is not None:
        executor.close()


def _run_gunicorn(config: Config) -> int:
    from gunicorn.app.base import BaseApplication

    from server.app import create_app

    class KopruApplication(BaseApplication):
        def __init__(self):
            self.kopru_config = config
            super().__init__()

        def load_config(self):
            c = self.kopru_config
            # A GET carries the query percent-encoded (up to 3× its size).
            request_line = c.max_query_bytes * 3 + 1024
            settings = {
                "bind": [_bind(c.host, c.port)],
                "workers": c.workers,
                "worker_class": "sync",
                # gunicorn's own watchdog only catches a wedged worker; the
                # query timeout is enforced by the query thread, well before it.
                "timeout": int(max(30, c.query_timeout * 2 + 10)),
                "graceful_timeout": int(max(10, c.query_timeout + 5)),
                "limit_request_line": 0 if request_line > 8190 else request_line,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "info",
                "proc_name": "kopru",
                "post_worker_init": _post_worker_init,
                # Load the app once in the arbiter: a broken app fails at start,
                # with one clear error, instead of in every worker; and a worker
                # that ends after a timeout is replaced by a quick fork.
                "preload_app": True,
                "worker_exit": _worker_exit,
            }
            if "control_socket_disable" in self.cfg.settings:   # gunicorn ≥ 24
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            app = create_app(self.kopru_config)
            if not self.kopru_config.remote:
                # A sync worker serves one request at a time, so a runaway
                # query can be stopped by ending its worker: queries run in a
                # thread of the worker, no child process (query_thread.py).
                from server.query_thread import ThreadExecutor

                c = self.kopru_config
                app.extensions["kopru.executor"] = ThreadExecutor(
                    c.resolved_store_path, c.query_timeout, c.result_limit)
            return app

    from gunicorn.errors import HaltServer

    try:
        KopruApplication().run()       # returns (or sys.exit) when the arbiter stops
    except HaltServer as e:
        logging.getLogger("kopru.serve").error("server stopped: %s", e.reason)
        return e.exit_status or 1
    return 0


# --- development server ---------------------------------------------------------

def _run_dev(config: Config) -> int:
    from server.app import create_app

    app = create_app(config)
    app.config["TEMPLATES_AUTO_RELOAD"] = True

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    app.extensions["kopru.executor"].warm()
    try:
        app.run(host=config.host, port=config.port, threaded=True, use_reloader=False, debug=False)
    except KeyboardInterrupt:
        pass
    finally:
        app.extensions["kopru.executor"].close()
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m server.serve", description="Serve a built Köprü project.")
    p.add_argument("--project", default=".")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--timeout", type=float, default=None, help="query timeout in seconds (10)")
    p.add_argument("--result-limit", type=int, default=None)
    p.add_argument("--max-query-bytes", type=int, default=None)
    p.add_argument("--service-allowlist", default=None,
                   help="comma-separated SERVICE endpoints; '' turns federation off")
    p.add_argument("--store", default=None, help="store directory (default <state>/current)")
    p.add_argument("--store-url", default=None,
                   help="serve from a remote SPARQL store (env KOPRU_STORE_URL)")
    p.add_argument("--dev", action="store_true", help="Flask's development server")
    a = p.parse_args(argv)
    return run(a.project, a.host, a.port, a.workers, a.timeout, a.dev,
               result_limit=a.result_limit, max_query_bytes=a.max_query_bytes,
               service_allowlist=a.service_allowlist, store_path=a.store,
               store_url=a.store_url)


if __name__ == "__main__":
    sys.exit(main())
