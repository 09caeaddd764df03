"""The embedded store's executor: each query runs in a query thread of the
worker process, and the request waits for it until the deadline.

pyoxigraph's `Store.query` cannot be interrupted, but it releases the GIL
while it runs. While it waits, the request watches the query: past its
deadline, past the memory a query may take, or past a quarter of a
second of its own (OwnTime: not counting the time its thread stood ready
while every core was busy) when the server's long-query slots are all
taken, the query is stopped. Under
gunicorn (`exit_on_timeout`) that means a 503 and then the whole sync
worker exits once the response is sent (the web app calls
`exit_if_pending` then) — the only way to really stop the query; the
arbiter forks a fresh worker. Anywhere else (the app in-process,
in tests) the runaway thread is abandoned to finish on its own and a new
one serves what follows. See docs/architecture.md and SECURITY.md.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections.abc import Iterable

from server.errors import EngineUnavailable, QueryStopped, QueryTimeout
from server.formats import Format
from server.query.engine import Engine, StoreLink
from server.query.executor import Answer
from server.stores.embedded import EmbeddedStore
from server.stores.state import read_manifest

log = logging.getLogger("kopru.query")

WATCH_EVERY = 0.05          # seconds between two looks at a running query
STARTED_CPU = 0.01          # CPU seconds after which a query has started (OwnTime)
# Seconds of a query's own time (OwnTime); a query running longer needs a
# long-query slot. Short enough
# that, under attack, a runaway without a slot frees its worker well
# before a short query queued behind it has waited long (bench/load.py).
LONG_QUERY_AFTER = 0.25
# The engine recurses once per level of the query's syntax tree: a 100 kB
# query can be tens of thousands of levels deep. Only the pages touched
# count, so a large reservation costs nothing until a query needs it.
QUERY_THREAD_STACK = 512 << 20
_PAGE = os.sysconf("SC_PAGE_SIZE")
_statm: tuple[int, int] | None = None        # (pid, its open /proc/self/statm)


def rss_bytes() -> int:
    """This process's resident memory (one pread of a file kept open per
    process: it is read before every query)."""
    global _statm
    pid = os.getpid()
    if _statm is None or _statm[0] != pid:
        _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY | os.O_CLOEXEC))
    return int(os.pread(_statm[1], 256, 0).split()[1]) * _PAGE


class OwnTime:
    """How long a query has held the query thread: the time since it was
    handed over, less what its thread spent standing ready for a busy core
    before the query had run STARTED_CPU (on a loaded machine a query of a
    millisecond can wait longer than LONG_QUERY_AFTER for a core; a runaway,
    which has run, is counted by the clock as before, so that under attack
    it still frees its worker as soon). Making one reads the thread's CPU
    clock only; the watching thread calls `update()` at each look (a query
    past WATCH_EVERY). Where the thread's CPU clock is not known, it is the
    time since the hand-over."""

    def __init__(self, thread: threading.Thread) -> None:
        self.seconds = 0.0
        self._clock = -1                       # the thread's CPU-time clock; -1: unknown
        self._stat = f"/proc/self/task/{thread.native_id}/stat"
        self._cpu_at_start = 0.0
        if thread.ident is not None:
            try:
                self._clock = time.pthread_getcpuclockid(thread.ident)
                self._cpu_at_start = time.clock_gettime(self._clock)
            except (AttributeError, OSError):
                self._clock = -1
        self._last = (time.monotonic(), self._cpu_at_start)

    def update(self) -> float:
        then, cpu0 = self._last
        now = time.monotonic()
        if self._clock == -1:
            self.seconds += now - then
        else:
            cpu = time.clock_gettime(self._clock)
            if cpu - self._cpu_at_start >= STARTED_CPU or not self._runnable():
                self.seconds += now - then       # running, or blocked on the disk or network
            else:                                # ready, but every core was busy
                self.seconds += cpu - cpu0
            cpu0 = cpu
        self._last = (now, cpu0)
        return self.seconds

    def _runnable(self) -> bool:
        """Whether the thread is running or ready to run (not blocked)."""
        try:
            with open(self._stat, "rb") as f:
                return f.read().rsplit(b")", 1)[1].split()[0] == b"R"
        except (OSError, IndexError):
            return False


class LongQuerySlots:
    """At most `count` queries of one server run past LONG_QUERY_AFTER at
    once, across its workers, so that the others stay free for short ones.
    A slot is an abstract Unix socket name (made before the workers fork):
    binding it takes it, and the kernel frees it when the worker closes it
    or exits, however it exits."""

    def __init__(self, count: int):
        token = secrets.token_hex(8)
        self.names = [f"\0kopru-{token}-long-query-{i}" for i in range(count)]

    def take(self) -> socket.socket | None:
        for name in self.names:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.bind(name)
                return s
            except OSError:
                s.close()
        return None


class _Job:
    __slots__ = ("target", "args", "done", "answer", "error")

    def __init__(self, target: str, args: tuple | None):
        self.target = target
        self.args = args             # None: only open the store (warm)
        # Held until the query thread is through with the job: a bare lock
        # is the cheapest hand-back there is (an Event is a Condition).
        self.done = threading.Lock()
        self.done.acquire()
        self.answer: Answer | None = None
        self.error: Exception | None = None


class ThreadExecutor:
    def __init__(self, store_path, timeout: float, result_limit: int, *,
                 exit_on_timeout: bool = False, memory_limit: int = 0, long_queries: int = 0):
        self.store_path = str(store_path)
        self.timeout = float(timeout)
        self.result_limit = int(result_limit)
        self.exit_on_timeout = exit_on_timeout
        self.memory_limit = memory_limit       # bytes a query may add to the worker (0: any)
        self._slots = LongQuerySlots(long_queries) if long_queries > 0 else None
        self._link = StoreLink(self.store_path)
        self._pid: int | None = None
        self._jobs: queue.SimpleQueue | None = None
        self._lock = threading.Lock()      # one query at a time through the thread
        self._stuck = False                # exit_on_timeout: this worker is about to go
        self.exit_pending: str | None = None   # why it goes, once the answer is sent
        self._opened: str | None = None    # the store the query thread has open
        self._query_thread: threading.Thread | None = None
        self._store: EmbeddedStore | None = None
        self._store_lock = threading.Lock()

    # --- the executor interface -----------------------------------------------------

    def version(self) -> str | None:
        return self._link.existing()

    def run(self, query: str, fmt: Format, default_graphs: Iterable[str] | None = None,
            named_graphs: Iterable[str] | None = None, *, timeout: float | None = None,
            limit: int | None = None) -> Answer:
        timeout = self.timeout if timeout is None else timeout
        start = time.monotonic()
        if self._stuck:                    # the query thread is still busy with a runaway
            raise QueryStopped("This worker is stopping a runaway query; retry in a moment.")
        if not self._lock.acquire(timeout=timeout):
            raise QueryTimeout(timeout)
        try:
            target = self._link.resolve()
            if target != self._opened:     # first query, or a build was swapped in
                self._open(target, start + timeout)
                start = time.monotonic()   # the query's own clock starts now
            job = _Job(target, (
                query, fmt,
                None if default_graphs is None else list(default_graphs),
                None if named_graphs is None else list(named_graphs),
                self.result_limit if limit is None else limit))
            jobs = self._queue()
            # Read before the hand-over: a read releases the GIL, and the
            # query thread, just woken, would take it in between.
            base = rss_bytes() if self.memory_limit else 0
            thread = self._query_thread
            own = OwnTime(thread) if self._slots is not None and thread is not None else None
            jobs.put(job)
            self._watch(job, start, timeout, base, own)
        finally:
            self._lock.release()
        if job.error is not None:
            raise job.error
        assert job.answer is not None
        return job.answer

    def _open(self, target: str, deadline: float) -> None:
        """Have the query thread open `target` (a copy in memory takes a
        while) before a query's clock starts."""
        job = _Job(target, None)
        self._queue().put(job)
        if not job.done.acquire(timeout=max(deadline - time.monotonic(), 0)):
            self._give_up("was still waiting for the store to open")
            raise QueryTimeout(self.timeout)
        if job.error is not None:
            raise job.error
        self._opened = target

    def _watch(self, job: _Job, start: float, timeout: float, base: int,
               own: OwnTime | None) -> None:
        """Wait for the query; stop it past its time, past `base` + its
        memory, or past LONG_QUERY_AFTER of its `own` time when no
        long-query slot is free."""
        slot = None
        try:
            while not job.done.acquire(
                    timeout=min(WATCH_EVERY, max(start + timeout - time.monotonic(), 0))):
                ran = time.monotonic() - start
                if ran >= timeout:
                    self._give_up(f"ran past {timeout:g} s")
                    raise QueryTimeout(timeout)
                if self.memory_limit and rss_bytes() - base > self.memory_limit:
                    self._give_up(f"took more than {self.memory_limit >> 20} MiB")
                    raise QueryStopped(
                        f"The query needed more than {self.memory_limit >> 20} MiB of memory "
                        "and was stopped; narrow it or add LIMIT.")
                if (self._slots is not None and slot is None
                        and (own.update() if own else ran) >= LONG_QUERY_AFTER):
                    slot = self._slots.take()
                    if slot is None:
                        n = len(self._slots.names)
                        self._give_up("ran long with every long-query slot taken")
                        raise QueryStopped(
                            f"The server is busy: {n} long quer{'y' if n == 1 else 'ies'} "
                            f"already running, and this one ran past {LONG_QUERY_AFTER:g} s, "
                            "so it was stopped to keep short queries answered. Retry in a "
                            "moment.")
        finally:
            if slot is not None:
                slot.close()

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

    def exit_if_pending(self) -> None:
        """End this worker if a query was given up while it answered: called
        by the web app once that answer has been sent."""
        if self.exit_pending is not None:
            _exit_now(self.exit_pending)

    # --- the query thread -----------------------------------------------------------

    def _queue(self) -> queue.SimpleQueue:
        if self._pid != os.getpid() or self._jobs is None:   # first use in this process
            self._pid = os.getpid()
            self._jobs = queue.SimpleQueue()
            self._opened = None
            previous = threading.stack_size(QUERY_THREAD_STACK)
            try:
                self._query_thread = threading.Thread(target=_serve, args=(self._jobs,),
                                                      name="kopru-query", daemon=True)
                self._query_thread.start()
            finally:
                threading.stack_size(previous)
        return self._jobs

    def _give_up(self, why: str) -> None:
        if self.exit_on_timeout:
            self._stuck = True
            self.exit_pending = why
        else:
            log.warning("a query %s; its thread is left to finish and a new one takes over", why)
            self._jobs = None
            self._opened = None


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
            # Hand over the error without its context and traceback: they
            # hold this thread's pyoxigraph objects (the failed query's
            # solutions), which may not be freed in another thread.
            e.__context__ = e.__cause__ = None
            job.error = e.with_traceback(None)
        job.done.release()


def _exit_now(why: str) -> None:
    log.warning("worker %d exits to stop a query that %s "
                "(the arbiter starts a fresh worker)", os.getpid(), why)
    logging.shutdown()
    os._exit(0)
