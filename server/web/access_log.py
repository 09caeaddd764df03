"""The access log: one line per request in the Combined Log Format, plus
the time taken, written by the app's after-request hook and by the /sparql
fast path alike (from the WSGI environ, so that both write the same line):
`127.0.0.1 - - [01/Dec/2026:15:47:21 +0000] "GET /id/albania HTTP/1.1" 303 0 "-" "curl/8.1" 2.1ms`.
Logged at INFO on `kopru.access` (KOPRU_LOG_LEVEL=warning silences it).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

log = logging.getLogger("kopru.access")

STARTED = "kopru.started"          # the environ key of the request's perf_counter() start
_PATH_SAFE = "/%:@!$&'()*+,;=~-._"


def enabled() -> bool:
    return log.isEnabledFor(logging.INFO)


def info(logger: logging.Logger, msg: str, *args) -> None:
    """`logger.info(msg, *args)` without looking up the caller's file and
    line (no Köprü log format shows them): two lines per query, and that
    look-up was a sixth of the endpoint's own time."""
    if logger.isEnabledFor(logging.INFO):
        logger.handle(logger.makeRecord(logger.name, logging.INFO, "(unknown file)", 0, msg,
                                        args, None))


def write(environ: dict, path: str, status: int, size: int | None, *, sparql: bool) -> None:
    """Log one request. `path` is the request's path as werkzeug reads it;
    `size` the body's length (None: not known); a query to /sparql
    (`sparql`) is logged by the endpoint's own line, so its query string
    is left out here."""
    started = environ.get(STARTED)
    ms = (time.perf_counter() - started) * 1000 if started else 0.0
    when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
    info(log, '%s - - [%s] "%s %s %s" %d %s "%s" "%s" %.1fms',
         environ.get("REMOTE_ADDR") or "-", when,
         environ.get("REQUEST_METHOD", "GET").upper(), _target(environ, path, sparql),
         environ.get("SERVER_PROTOCOL", "HTTP/1.1"), status, "-" if size is None else size,
         _quoted(environ.get("HTTP_REFERER")), _quoted(environ.get("HTTP_USER_AGENT")), ms)


def _target(environ: dict, path: str, sparql: bool, limit: int = 2000) -> str:
    """The request's path and query as sent (percent-encoded: one line in
    the log)."""
    target = quote(path, safe=_PATH_SAFE)
    query = environ.get("QUERY_STRING")
    if query:
        target += "?..." if sparql else "?" + query
    return target if len(target) <= limit else target[:limit] + "..."


def _quoted(value: str | None) -> str:
    return (value or "-").replace("\\", "\\\\").replace('"', '\\"')
