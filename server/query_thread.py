"""The killable query executor for a gunicorn sync worker: a query thread.

pyoxigraph's `Store.query` cannot be interrupted, but it releases the GIL
while it runs. So each worker runs queries (and their serialization) in one
persistent query thread, over a store opened read-only in the worker; the
request thread waits for the answer until the deadline. That costs two
thread wake-ups per query instead of a round trip through a child process.

When the deadline passes, the request answers 503 as usual, and then the
whole worker process exits (os._exit, right after the response is sent:
Flask's `call_on_close`), which is the only way to really stop the runaway
query. Nothing else is lost: a sync worker serves one request at a time,
the other workers keep serving, and the gunicorn arbiter forks a fresh
worker from the preloaded app at once (exit status 0: no error logged).

Only for gunicorn sync workers (server/serve.py installs it there): under
a threaded server, or in tests, exiting the process would drop everyone's
requests, so those keep the child-process executor (server/executor.py).
Same interface as that one: run(), warm(), close(), _target(), store_path.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time

from server.engine import StoreLink
from server.executor import Answer, ExecutorError, QueryError, QueryTimeout

log = logging.getLogger("kopru.query")


class _Job:
    __slots__ = ("target", "req", "done", "header", "body", "error")

    def __init__(self, target: str, req: dict | None):
        self.target = target
        self.req = req               # None: only open the store (warm)
        self.done = threading.Event()
        self.header = self.body = self.error = None


class ThreadExecutor:
    """One query thread per worker process (started lazily, after the fork:
    the arbiter itself never opens the store)."""

    def __init__(self, store_path, timeout: float, result_limit: int):
        self.store_path = str(store_path)
        self.timeout = float(timeout)
        self.result_limit = int(result_limit)
        self._link = StoreLink(self.store_path)
        self._pid = None
        self._jobs: queue.SimpleQueue | None = None
        self._lock = threading.Lock()      # one query at a time through the thread
        self.stuck = False                 # a query ran past its deadline: the worker must go

    def _target(self) -> str:
        """Resolved store directory, re-checked at most once a second."""
        return self._link.resolve()

    def _queue(self) -> queue.SimpleQueue:
        if self._pid != os.getpid():       # first use in this (forked) process
            self._pid = os.getpid()
            self._jobs = queue.SimpleQueue()
            threading.Thread(target=self._loop, args=(self._jobs,), name="kopru-query",
                             daemon=True).start()
        return self._jobs

    @staticmethod
    def _loop(jobs: queue.SimpleQueue) -> None:
        engine = None
        while True:
            job = jobs.get()
            try:
                if engine is None or engine.store_path != job.target:
                    from server.engine import Engine

                    engine = None            # a build swapped `current`: drop the old store
                    if not os.path.isdir(job.target):
                        raise ExecutorError(f"no store at {job.target}: run `kopru build` first")
                    engine = Engine(job.target)
                if job.req is not None:
                    job.header, job.body = engine.answer(job.req)
            except ExecutorError as e:
                job.error = e
            except Exception as e:           # noqa: BLE001 — the store could not be opened
                job.error = ExecutorError(f"the query engine could not open the store: {e}")
            job.done.set()

    def warm(self) -> None:
        """Open the store now, so the first query does not wait for it."""
        try:
            target = self._target()
            if os.path.isdir(target):
                self._queue().put(_Job(target, None))
        except Exception:
            pass

    def close(self) -> None:
        pass                                 # the thread dies with its process

    def run(self, query: str, fmt: str, default_graphs=None, named_graphs=None,
            timeout: float | None = None, limit: int | None = None) -> Answer:
        """Run one query; raise QueryTimeout, QueryError or ExecutorError."""
        timeout = self.timeout if timeout is None else timeout
        start = time.monotonic()
        if self.stuck:                       # the query thread is still busy with a runaway
            raise QueryTimeout(timeout)
        if not self._lock.acquire(timeout=timeout):
            raise QueryTimeout(timeout)
        try:
            job = _Job(self._target(), {
                "q": query, "f": fmt,
                "dg": None if default_graphs is None else list(default_graphs),
                "ng": None if named_graphs is None else list(named_graphs),
                "limit": self.result_limit if limit is None else limit,
            })
            self._queue().put(job)
            if not job.done.wait(max(start + timeout - time.monotonic(), 0)):
                self.stuck = True
                _exit_after_response(query, timeout)
                raise QueryTimeout(timeout)
        finally:
            self._lock.release()
        if job.error is not None:
            raise job.error
        header = job.header
        if not header.get("ok"):
            raise QueryError(header.get("category", "engine"), header.get("message", "query failed"))
        return Answer(
            kind=header["kind"], format=header["format"], body=job.body,
            truncated=header.get("truncated", False), rows=header.get("rows"),
            seconds=time.monotonic() - start,
        )


def _exit_after_response(query: str, timeout: float) -> None:
    """End this worker once the current response has been sent: the query
    thread cannot be stopped any other way."""
    from flask import after_this_request, has_request_context

    def exit_now():
        log.warning("worker %d exits to stop a query that ran past %g s "
                    "(the arbiter starts a fresh worker)", os.getpid(), timeout)
        logging.shutdown()
        os._exit(0)

    if not has_request_context():            # no response to wait for
        exit_now()

    @after_this_request
    def on_close(response):
        response.call_on_close(exit_now)
        return response
