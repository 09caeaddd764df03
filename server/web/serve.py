"""Serving the app with gunicorn: `run(config)` is what `kopru serve` calls
once the store is built. Every worker is a sync worker whose queries run in
its own query thread (server/query/thread_executor.py); `--dev` is the same
server with one worker that reloads on code changes. SIGTERM stops it
gracefully, SIGINT at once. The site's URL is logged once gunicorn listens;
a port already in use is one line and exit 1 (`check_port`).
"""

from __future__ import annotations

import errno
import logging
import socket
import sys

from server.config import Config

LOG_FORMAT = "%(asctime)s [%(process)d] [%(levelname)s] %(message)s"


def setup_logging(level: str = "info") -> None:
    logger = logging.getLogger("kopru")
    if not any(getattr(h, "_kopru", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S %z"))
        handler._kopru = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False


class PortInUse(Exception):
    pass


def check_port(config: Config) -> None:
    """Raise PortInUse when something already listens on the address
    `kopru serve` would take (checked before anything is built or said)."""
    try:
        infos = socket.getaddrinfo(config.host, config.port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return                       # gunicorn names a bad host itself
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)    # as gunicorn binds
        try:
            s.bind(address)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {config.port} is in use: pass --port "
                                f"(make serve PORT=…), or stop what is listening on "
                                f"{_bind(config.host, config.port)}") from None
            raise


def site_url(host: str, port: int) -> str:
    """The URL a person opens: a wildcard address is reached on loopback."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://{_bind(shown, port)}/"


def run(config: Config) -> int:
    """Serve until stopped. Returns the process exit status."""
    setup_logging(config.log_level)
    log = logging.getLogger("kopru.serve")
    try:
        check_port(config)
    except PortInUse as e:
        print(f"kopru: error: {e}", file=sys.stderr)
        return 1
    if config.remote:
        _check_remote(config, log)
    elif not config.resolved_store_path.exists():
        log.warning("no store at %s yet: queries answer 503 until `kopru build` has run",
                    config.resolved_store_path)
    return _run_gunicorn(config)


def _say_ready(config: Config) -> None:
    """Logged once gunicorn listens: where the site is, and how it runs."""
    allow = ", ".join(config.service_allowlist) or "off"
    how = "development: 1 worker, reloads on code changes" if config.dev \
        else f"{config.workers} workers"
    url = site_url(config.host, config.port)
    anywhere = " (listening on every interface)" if config.host in ("0.0.0.0", "::", "") else ""
    logging.getLogger("kopru.serve").info(
        "Köprü is serving %s%s: pages at %s, SPARQL endpoint at %ssparql (%s; query timeout "
        "%g s; result limit %d; SERVICE allowlist: %s). Ctrl-C stops it.", url, anywhere, url,
        url, how, config.query_timeout, config.result_limit, allow)


def _check_remote(config: Config, log) -> None:
    """Say which remote store is served and what it holds (never fatal:
    the server answers 503 until the store does, then recovers)."""
    from server.stores.http import Endpoints
    from server.stores.remote import RemoteStore

    endpoints = Endpoints.from_url(config.store_url or "", user=config.store_user,
                                   password=config.store_password)
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


def _post_worker_init(worker) -> None:
    worker.wsgi.extensions["kopru.executor"].warm()


def _worker_exit(server, worker) -> None:
    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        app.extensions["kopru.executor"].close()


def _run_gunicorn(config: Config) -> int:
    from gunicorn.app.base import BaseApplication
    from gunicorn.errors import HaltServer

    from server.web.app import create_app, default_executor

    class KopruApplication(BaseApplication):
        def load_config(self):
            # A GET carries the query percent-encoded (up to 3× its size).
            request_line = config.max_query_bytes * 3 + 1024
            settings = {
                "bind": [_bind(config.host, config.port)],
                "workers": 1 if config.dev else config.workers,
                "worker_class": "sync",
                # gunicorn's own watchdog only catches a wedged worker; the
                # query timeout is enforced by the query thread, well before it.
                "timeout": int(max(30, config.query_timeout * 2 + 10)),
                "graceful_timeout": int(max(10, config.query_timeout + 5)),
                "limit_request_line": 0 if request_line > 8190 else request_line,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": config.log_level,
                "proc_name": "kopru",
                "post_worker_init": _post_worker_init,
                "when_ready": lambda server: _say_ready(config),
                "worker_exit": _worker_exit,
                # Load the app once in the arbiter: a broken app fails at start,
                # with one clear error, and a worker that ends after a timeout
                # is replaced by a quick fork. (--dev reloads instead.)
                "preload_app": not config.dev,
                "reload": config.dev,
            }
            if "control_socket_disable" in self.cfg.settings:   # gunicorn ≥ 24
                settings["control_socket_disable"] = True
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            # A sync worker serves one request at a time, so a runaway query
            # is stopped by ending its worker.
            return create_app(config, executor=default_executor(config, exit_on_timeout=True))

    try:
        KopruApplication().run()       # returns (or sys.exit) when the arbiter stops
    except HaltServer as e:
        logging.getLogger("kopru.serve").error("server stopped: %s", e.reason)
        return e.exit_status or 1
    return 0
