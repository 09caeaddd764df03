"""The memory limit of a build (and of `kopru validate`).

A small Turtle file can take gigabytes: a prefix of 60,000 characters used
in every triple of a 175 kB file spells out 640 MB of IRIs, and every step
after parsing copies them again. So the build's memory is bounded by its
input, as a query's time is bounded by its time limit:

    limit = KOPRU_BUILD_MEMORY, or by default 512 MiB + 128 × the input files' size

(a million-triple project, 43 MB of Turtle, gets about 6 GiB and needs 3–4;
a 175 kB file gets 534 MiB). A watchdog thread samples the proportional
memory (PSS, so pages a forked child shares with the build count once) of
this process (beyond what it held before the build) and the child
processes the build started (`watch_child`), reading it only when their
resident size (never smaller, and far cheaper to read) passes the limit;
past the limit it raises MemoryLimitExceeded in the build's thread, and
stops those children, and the build unwinds like any failure: temporary
files removed, the current store left as it was. If the
build does not stop (it is inside a long call of a native library) and keeps
growing, the watchdog runs the cleanups itself and ends the process.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

from server.config import settings
from server.errors import BuildError

BASE_BYTES = 512 << 20
PER_INPUT_BYTE = 128
INTERVAL = 0.1               # seconds between two samples
HARD_STOP_AFTER = 10.0       # seconds the build has to stop by itself once told to
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class MemoryLimitExceeded(BuildError):
    """The build needed more memory than its limit allows."""


def default_limit(input_bytes: int) -> int:
    return BASE_BYTES + PER_INPUT_BYTE * input_bytes


def limit_for(input_bytes: int) -> tuple[int, str]:
    """(bytes, how the figure was chosen)."""
    configured = settings().build_memory
    if configured is not None:
        return configured, "KOPRU_BUILD_MEMORY"
    return default_limit(input_bytes), ("the default, 512 MiB + 128 × the input files' "
                                        f"{_size(input_bytes)}")


@contextlib.contextmanager
def memory_limit(inputs, *, what: str = "build"):
    """Stop the work inside when this process and its children use more
    memory than the limit for `inputs` (InputFile list, or their total size
    in bytes). Yields the Watchdog (`on_hard_stop(callback)`)."""
    total = inputs if isinstance(inputs, int) else sum(f.size for f in inputs)
    limit, how = limit_for(total)
    if threading.current_thread() is not threading.main_thread():
        yield Watchdog(limit, how, what)   # signals reach only the main thread: no watch
        return
    global _current
    dog = Watchdog(limit, how, what)
    previous = signal.signal(signal.SIGUSR1, dog._raise)
    _current = dog
    dog.start()
    try:
        yield dog
    except BaseException as e:
        if dog.error is not None and not isinstance(e, MemoryLimitExceeded):
            raise dog.error from None   # a child stopped by the watchdog, say why
        raise
    finally:
        _current = None
        dog.stop()
        signal.signal(signal.SIGUSR1, previous)
    if dog.error is not None:   # it finished between the trip and the signal
        raise dog.error


_current: Watchdog | None = None


def watch_child(pid: int) -> None:
    """Count a child process the build started (and its descendants)."""
    if _current is not None:
        _current.children.append(pid)


class Watchdog(threading.Thread):
    def __init__(self, limit: int, how: str, what: str) -> None:
        super().__init__(name="kopru-memory-limit", daemon=True)
        self.limit, self.how, self.what = limit, how, what
        self.error: MemoryLimitExceeded | None = None
        self._stop_event = threading.Event()
        self._cleanups: list[Callable[[], None]] = []
        self._raised = False
        self.children: list[int] = []

    def on_hard_stop(self, callback: Callable[[], None]) -> None:
        """Run `callback` (e.g. remove a temporary store) if the process has
        to be ended from here."""
        self._cleanups.append(callback)

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join()

    def run(self) -> None:
        pid = os.getpid()
        told_at = None
        before = pss(pid)   # what the process held before: not the build's
        while not self._stop_event.wait(INTERVAL):
            pids = [pid] + [p for c in self.children for p in process_tree(c)]
            # PSS ≤ RSS, and reading RSS costs microseconds where PSS costs
            # milliseconds per 100 MB mapped: PSS only once RSS says it may matter.
            if sum(map(rss, pids)) - before <= self.limit:
                continue
            used = sum(map(pss, pids)) - before
            if used <= self.limit:
                continue
            if told_at is None:
                self.error = MemoryLimitExceeded(self._message(used))
                told_at = time.monotonic()
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)
            elif time.monotonic() - told_at > HARD_STOP_AFTER and used > 1.25 * self.limit:
                self._hard_stop()
            _stop(pids[1:])

    def _raise(self, signum, frame) -> None:
        if self.error is not None and not self._raised:
            self._raised = True
            raise self.error

    def _message(self, used: int) -> str:
        return (f"the {self.what} was stopped: it needed more than {_size(self.limit)} of "
                f"memory ({self.how}); nothing was changed. Small files can need far "
                "more than their size: a very long prefix or IRI used over and over, huge "
                "literals, long chains of a transitive property (their closure grows with "
                "the square of their length). If the data is right, raise the limit, e.g. "
                f"KOPRU_BUILD_MEMORY={_suggest(used)}.")

    def _hard_stop(self) -> None:  # pragma: no cover - the build did not stop in time
        for cleanup in self._cleanups:
            with contextlib.suppress(Exception):
                cleanup()
        print(f"kopru: error: {self.error}", file=sys.stderr, flush=True)
        os._exit(1)


def pss(pid: int) -> int:
    """Proportional set size of a process, in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def rss(pid: int) -> int:
    """Resident set size of a process, in bytes (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (those alive now)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def _stop(pids: list[int]) -> None:
    for p in pids:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)


def _size(n: int) -> str:
    if n >= 1 << 30:
        return f"{n / (1 << 30):.1f} GiB"
    if n >= 1 << 20:
        return f"{n / (1 << 20):.0f} MiB"
    return f"{n / 1024:.0f} kB"


def _suggest(used: int) -> str:
    return f"{max(1, -(-2 * used // (1 << 30)))}G"
