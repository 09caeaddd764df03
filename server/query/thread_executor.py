"""The embedded store's executor: each query runs in a query thread of the
worker process, and the request waits for it until the deadline.

pyoxigraph's `Store.query` cannot be interrupted, but it releases the GIL
while it runs. Under gunicorn (`exit_on_timeout`), a query that runs past
its deadline is answered 503 and then the whole sync worker exits once the
response is sent — the only way to really stop the query; the arbiter forks
a fresh worker. Anywhere else (the app in-process, in tests) the runaway
thread is abandoned to finish on its own and a new one serves what follows.
See docs/architecture.md.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterable

from server.errors import EngineUnavailable, QueryTimeout
from server.formats import Format
from server.query.engine import Engine, StoreLink
from server.query.executor import Answer
from server.stores.embedded import EmbeddedStore
from server.stores.state import read_manifest

log = logging.getLogger("kopru.query")


class _Job:
    __slots__ = ("target", "args", "done", "answer", "error")

    def __init__(self, target: str, args: tuple | None):
        self.target = target
        self.args = args             # None: only open the store (warm)
        self.done = threading.Event()
        self.answer: Answer | None = None
        self.error: Exception | None = None


class ThreadExecutor:
    def __init__(self, store_path, timeout: float, result_limit: int, *,
                 exit_on_timeout: bool = False):
        self.store_path = str(store_path)
        self.timeout = float(timeout)
        self.result_limit = int(result_limit)
        self.exit_on_timeout = exit_on_timeout
        self._link = StoreLink(self.store_path)
        self._pid: int | None = None
        self._jobs: queue.SimpleQueue | None = None
        self._lock = threading.Lock()      # one query at a time through the thread
        self._stuck = False                # exit_on_timeout: this worker is about to go
        self._store: EmbeddedStore | None = None
        self._store_lock = threading.Lock()

    # --- the executor interface -----------------------------------------------------

    def version(self) -> str | None:
        target = self._link.resolve()
        return target if os.path.isdir(target) else None

    def run(self, query: str, fmt: Format, default_graphs: Iterable[str] | None = None,
            named_graphs: Iterable[str] | None = None, *, timeout: float | None = None,
            limit: int | None = None) -> Answer:
        timeout = self.timeout if timeout is None else timeout
        start = time.monotonic()
        if self._stuck:                    # the query thread is still busy with a runaway
            raise QueryTimeout(timeout)
        if not self._lock.acquire(timeout=timeout):
            raise QueryTimeout(timeout)
        try:
            job = _Job(self._link.resolve(), (
                query, fmt,
                None if default_graphs is None else list(default_graphs),
                None if named_graphs is None else list(named_graphs),
                self.result_limit if limit is None else limit))
            self._queue().put(job)
            if not job.done.wait(max(start + timeout - time.monotonic(), 0)):
                self._give_up(timeout)
                raise QueryTimeout(timeout)
        finally:
            self._lock.release()
        if job.error is not None:
            raise job.error
        assert job.answer is not None
        return job.answer

    def probe(self, timeout: float) -> str | None:
        target = self.version()
        if target is None:
            raise EngineUnavailable(f"no store at {self.store_path} (run `kopru build`)")
        from server import formats

        self.run("ASK {}", formats.JSON, None, None, timeout=timeout)
        return read_manifest(target).get("hash")

    def store(self) -> EmbeddedStore:
        """The current build opened read-only in this process, reopened when
        a build swaps `current`."""
        target = self.version()
        if target is None:
            from server.errors import StoreNotBuilt

            raise StoreNotBuilt(f"no store at {self.store_path} (run `kopru build`)")
        with self._store_lock:
            if self._store is None or str(self._store.path) != target:
                self._store = EmbeddedStore.open(target, read_only=True)
            return self._store

    def warm(self) -> None:
        target = self.version()
        if target is not None:
            self._queue().put(_Job(target, None))

    def close(self) -> None:
        pass                               # the thread dies with its process

    # --- the query thread -----------------------------------------------------------

    def _queue(self) -> queue.SimpleQueue:
        if self._pid != os.getpid() or self._jobs is None:   # first use in this process
            self._pid = os.getpid()
            self._jobs = queue.SimpleQueue()
            threading.Thread(target=_serve, args=(self._jobs,), name="kopru-query",
                             daemon=True).start()
        return self._jobs

    def _give_up(self, timeout: float) -> None:
        if self.exit_on_timeout:
            self._stuck = True
            _exit_after_response(timeout)
        else:
            log.warning("a query ran past %g s; its thread is left to finish and a new "
                        "one takes over", timeout)
            self._jobs = None


def _serve(jobs: queue.SimpleQueue) -> None:
    engine = None
    while True:
        job = jobs.get()
        try:
            if engine is None or engine.store_path != job.target:
                engine = None              # a build swapped `current`: drop the old store
                if not os.path.isdir(job.target):
                    raise EngineUnavailable(f"no store at {job.target}: run `kopru build` first")
                try:
                    engine = Engine(job.target)
                except OSError as e:
                    raise EngineUnavailable(
                        f"the query engine could not open the store: {e}") from None
            if job.args is not None:
                job.answer = engine.answer(*job.args)
        except Exception as e:             # noqa: BLE001 — handed to the waiting request
            job.error = e
        job.done.set()


def _exit_after_response(timeout: float) -> None:
    """End this worker once the current response has been sent: the query
    thread cannot be stopped any other way."""
    from flask import after_this_request, has_request_context

    def exit_now():
        log.warning("worker %d exits to stop a query that ran past %g s "
                    "(the arbiter starts a fresh worker)", os.getpid(), timeout)
        logging.shutdown()
        os._exit(0)

    if not has_request_context():          # no response to wait for
        exit_now()

    @after_this_request
    def on_close(response):
        response.call_on_close(exit_now)
        return response
