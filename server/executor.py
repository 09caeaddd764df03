"""The killable query executor for a threaded server: child processes.

pyoxigraph's `Store.query` cannot be interrupted — not by a signal, not from
another thread — so a query timeout that really stops the work needs the
query to run in a process that can be killed. Under gunicorn that process
is the sync worker itself (server/query_thread.py); where one process serves
many requests at once (the development server, tests' in-process apps) each
server process keeps a small pool of child processes instead. A child opens the
store read-only once, then answers requests over a pipe until it is killed
or the pipe closes:

    parent → child   u32 length + JSON {"q", "dg", "ng", "f", "limit"}
    child → parent   u32 header length + u32 body length + JSON header + body

The child runs the query *and* serializes the answer (server/engine.py,
pyoxigraph's native serializers), so only bytes cross the pipe. When the deadline passes, the
parent SIGKILLs the child, starts a fresh one in the background and raises
QueryTimeout; the worker is free again at once.

Children die with their parent (PR_SET_PDEATHSIG, and EOF on the pipe), so a
crashed or killed worker leaves nothing behind.

Only the child imports pyoxigraph. Run as `python -m server.executor STORE`
(what the parent does).
"""

from __future__ import annotations

import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from server.engine import StoreLink
from server.engine import syntax_message as _syntax_message  # noqa: F401 — remote_store uses it

_LEN = struct.Struct("!I")
_LEN2 = struct.Struct("!II")


class ExecutorError(Exception):
    """The query engine failed (crashed, could not open the store, …)."""


class QueryTimeout(Exception):
    def __init__(self, seconds: float):
        super().__init__(f"query exceeded the {seconds:g} s limit")
        self.seconds = seconds


class QueryError(Exception):
    """The engine refused or failed the query.

    category: "syntax" (a syntax error), "io" (an I/O error: a federated
              SERVICE call failed, or the store could not be read),
              "engine" (anything else).
    """

    def __init__(self, category: str, message: str):
        super().__init__(message)
        self.category = category
        self.message = message


@dataclass
class Answer:
    kind: str                # "results" (SELECT), "boolean" (ASK), "graph"
    format: str              # format key actually written (json, ttl, …)
    body: bytes
    truncated: bool
    rows: int | None         # rows / triples, when counted
    seconds: float


# --------------------------------------------------------------------------
# parent side


class _Child:
    __slots__ = ("proc", "wfd", "rfd", "store", "buf")

    def __init__(self, store_path: str):
        env = dict(os.environ)
        env["KOPRU_EXECUTOR_PARENT"] = str(os.getpid())
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server.executor", store_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, env=env,
        )
        self.wfd = self.proc.stdin.fileno()
        self.rfd = self.proc.stdout.fileno()
        self.store = store_path
        self.buf = bytearray()

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except Exception:
            pass

    def close(self) -> None:
        """Polite stop: EOF on its stdin makes the child exit."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except Exception:
            self.kill()
        try:
            self.proc.stdout.close()
        except OSError:
            pass

    def _fill(self, n: int, deadline: float, poller) -> None:
        buf = self.buf
        while len(buf) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                raise QueryTimeout(0)
            chunk = os.read(self.rfd, max(n - len(buf), 1 << 16))
            if not chunk:
                raise ExecutorError(self._death_note())
            buf += chunk

    def _death_note(self) -> str:
        code = self.proc.poll()
        if code is None:
            try:
                code = self.proc.wait(timeout=1)
            except Exception:
                code = None
        if code is not None and code < 0:
            return f"the query engine was killed by signal {-code} (out of memory?)"
        return f"the query engine stopped unexpectedly (exit status {code})"

    def request(self, payload: bytes, deadline: float) -> tuple[dict, bytes]:
        data = _LEN.pack(len(payload)) + payload
        try:
            view = memoryview(data)
            while view:
                written = os.write(self.wfd, view)
                view = view[written:]
        except (BrokenPipeError, OSError):
            raise ExecutorError(self._death_note()) from None
        poller = select.poll()
        poller.register(self.rfd, select.POLLIN)
        self._fill(8, deadline, poller)
        hlen, blen = _LEN2.unpack_from(self.buf)
        total = 8 + hlen + blen
        self._fill(total, deadline, poller)
        header = json.loads(bytes(self.buf[8:8 + hlen]))
        body = bytes(self.buf[8 + hlen:total])
        del self.buf[:total]
        return header, body


class Executor:
    """A pool of query children for one server process.

    `store_path` is the store directory (typically `<state>/current`, a
    symlink that builds swap); when its target changes, children are
    replaced so new queries see the new build.
    """

    def __init__(self, store_path, timeout: float, result_limit: int, max_children: int = 8):
        self.store_path = str(store_path)
        self.timeout = float(timeout)
        self.result_limit = int(result_limit)
        self._max = max_children
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_children)
        self._pid = os.getpid()
        self._idle: list[_Child] = []
        self._link = StoreLink(self.store_path)

    # -- pool management -------------------------------------------------

    def _target(self) -> str:
        """Resolved store directory, re-checked at most once a second."""
        return self._link.resolve()

    def _reset_after_fork(self) -> None:
        # Children of the parent process are not ours to use (or kill).
        self._pid = os.getpid()
        self._idle = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self._max)

    def _take(self) -> _Child:
        if self._pid != os.getpid():
            self._reset_after_fork()
        target = self._target()
        with self._lock:
            while self._idle:
                child = self._idle.pop()
                if child.store == target and child.proc.poll() is None:
                    return child
                threading.Thread(target=child.close, daemon=True).start()
        if not os.path.isdir(target):
            raise ExecutorError(f"no store at {self.store_path}: run `kopru build` first")
        return _Child(target)

    def _give_back(self, child: _Child) -> None:
        with self._lock:
            self._idle.append(child)

    def warm(self) -> None:
        """Start one child now, so the first query does not wait for it."""
        if self._pid != os.getpid():
            self._reset_after_fork()
        try:
            target = self._target()
            if os.path.isdir(target):
                with self._lock:
                    if not self._idle:
                        self._idle.append(_Child(target))
        except Exception:
            pass

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for child in idle:
            child.close()

    # -- queries -----------------------------------------------------------

    def run(self, query: str, fmt: str, default_graphs=None, named_graphs=None,
            timeout: float | None = None, limit: int | None = None) -> Answer:
        """Run one query; raise QueryTimeout, QueryError or ExecutorError."""
        timeout = self.timeout if timeout is None else timeout
        payload = json.dumps({
            "q": query, "f": fmt,
            "dg": None if default_graphs is None else list(default_graphs),
            "ng": None if named_graphs is None else list(named_graphs),
            "limit": self.result_limit if limit is None else limit,
        }).encode()
        self._slots.acquire()
        try:
            start = time.monotonic()
            child = self._take()
            deadline = start + timeout
            try:
                header, body = child.request(payload, deadline)
            except QueryTimeout:
                child.kill()
                self.warm()          # the next query finds a ready child
                raise QueryTimeout(timeout) from None
            except ExecutorError:
                child.kill()
                self.warm()
                raise
            except BaseException:
                child.kill()
                raise
            self._give_back(child)
        finally:
            self._slots.release()
        if not header.get("ok"):
            raise QueryError(header.get("category", "engine"), header.get("message", "query failed"))
        return Answer(
            kind=header["kind"], format=header["format"], body=body,
            truncated=header.get("truncated", False), rows=header.get("rows"),
            seconds=time.monotonic() - start,
        )


# --------------------------------------------------------------------------
# child side


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)            # PR_SET_PDEATHSIG
    except Exception:
        pass
    parent = os.environ.get("KOPRU_EXECUTOR_PARENT")
    if parent and os.getppid() != int(parent):
        os._exit(0)


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _child_main(store_path: str) -> None:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # the parent decides
    # Our protocol owns the original stdout; stray prints go to stderr.
    out_fd = os.dup(1)
    os.dup2(2, 1)
    in_fd = 0

    from server.engine import Engine

    engine = Engine(store_path)

    while True:
        head = _read_exact(in_fd, 4)
        if head is None:
            return
        (n,) = _LEN.unpack(head)
        data = _read_exact(in_fd, n)
        if data is None:
            return
        header, body = engine.answer(json.loads(data))
        hb = json.dumps(header).encode()
        out = _LEN2.pack(len(hb), len(body)) + hb + body
        view = memoryview(out)
        while view:
            view = view[os.write(out_fd, view):]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m server.executor STORE_DIR")
    try:
        _child_main(sys.argv[1])
    except KeyboardInterrupt:
        pass
