"""The gunicorn worker Köprü runs: gunicorn's sync worker, with a deadline
and a size limit on reading each request, so that a client sending its
headers a byte at a time, or a request line of 25 MB, cannot hold a worker
(or make gunicorn's line reader work for half a minute). Such a client
gets 408, 413 or 414 and the worker moves on. The deadline is
KOPRU_REQUEST_TIMEOUT (10 s by default). See SECURITY.md for what a
reverse proxy adds in front.
"""

from __future__ import annotations

import logging
import queue
import signal
import time

from gunicorn.workers.sync import SyncWorker

SEND_SECONDS = 60           # one write of the answer to the client may take this long
HEADER_BYTES = 64 << 10     # all header lines together
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGQUIT}

log = logging.getLogger("kopru.serve")


class _SlowClient(Exception):
    pass


class _TooLarge(Exception):
    def __init__(self, line: bool, limit: int):
        super().__init__()
        self.line = line                     # the request line itself was too long
        self.limit = limit


class _LimitedSocket:
    """The client socket as gunicorn reads it: every read within the
    request's deadline and byte budget. Everything else is the socket's."""

    def __init__(self, sock, seconds: float, line_limit: int, total_limit: int):
        self._sock = sock
        self._deadline = time.monotonic() + seconds
        self._line_left: int | None = line_limit   # None once the request line is in
        self._line_limit = line_limit
        self._left = total_limit
        self._total_limit = total_limit
        self._closing = False

    def recv(self, size: int, *flags):
        if self._closing:                    # gunicorn draining after the answer
            return self._sock.recv(size, *flags)
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise _SlowClient()
        self._sock.settimeout(remaining)
        try:
            data = self._sock.recv(size, *flags)
        except TimeoutError:
            raise _SlowClient() from None
        if self._line_left is not None:
            if b"\n" in data:
                self._line_left = None
            else:
                self._line_left -= len(data)
                if self._line_left < 0:
                    raise _TooLarge(True, self._line_limit)
        self._left -= len(data)
        if self._left < 0:
            raise _TooLarge(False, self._total_limit)
        return data

    def send(self, data, *flags):
        self._sock.settimeout(SEND_SECONDS)
        return self._sock.send(data, *flags)

    def sendall(self, data, *flags):
        self._sock.settimeout(SEND_SECONDS)
        return self._sock.sendall(data, *flags)

    def shutdown(self, how):
        self._closing = True
        return self._sock.shutdown(how)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class KopruWorker(SyncWorker):
    def init_signals(self):
        # Until this runs, a signal to this fresh fork still reaches the
        # master's handler, which only queues it on this process's copy of the
        # master: a SIGTERM sent while the worker boots would be lost, and the
        # worker would serve on until the master's grace period ends and it is
        # killed. Honour a stop signal that was queued that way.
        master = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
        super().init_signals()
        if master is not None and STOP_SIGNALS & _queued_signals(master):
            log.info("worker %s: asked to stop while it booted; stopping", self.pid)
            self.alive = False

    def handle(self, listener, client, addr):
        config = self.wsgi.config["KOPRU"]
        line = config.max_query_bytes * 3 + 1024   # a GET carries the query percent-encoded
        body = self.wsgi.config["MAX_CONTENT_LENGTH"] or 0
        super().handle(listener, _LimitedSocket(client, config.request_timeout, line,
                                                line + HEADER_BYTES + body), addr)

    def handle_error(self, req, client, addr, exc):
        if isinstance(exc, _SlowClient):
            seconds = self.wsgi.config["KOPRU"].request_timeout
            _answer(client, 408, "Request Timeout",
                    f"The request did not arrive within {seconds:g} s.")
            log.info("closed a connection from %s: its request took longer than %g s to "
                     "arrive", addr[0] if addr else "?", seconds)
        elif isinstance(exc, _TooLarge) and exc.line:
            _answer(client, 414, "URI Too Long",
                    f"The request line is longer than {exc.limit} bytes; send a long query "
                    "by POST.")
        elif isinstance(exc, _TooLarge):
            _answer(client, 413, "Content Too Large",
                    f"The request is larger than {exc.limit} bytes.")
        else:
            super().handle_error(req, client, addr, exc)


def _queued_signals(master) -> set[int]:
    """The signals waiting in (this process's copy of) the master's queue: a
    list in older gunicorns, a SimpleQueue in newer ones (27 among them)."""
    queued = getattr(master, "SIG_QUEUE", None)
    if isinstance(queued, list):
        return set(queued)
    found = set()
    while queued is not None:
        try:
            found.add(queued.get_nowait())
        except (queue.Empty, AttributeError):
            break
    return found


def _answer(client, status: int, reason: str, message: str) -> None:
    body = (message + "\n").encode()
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    sock = getattr(client, "_sock", client)
    try:
        sock.settimeout(2)
        sock.sendall(head + body)
    except OSError:
        pass
