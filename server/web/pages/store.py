"""The pages' handle on the store: the executor's store (the current build
opened read-only in this process, or the remote store) for the pages' own
small, trusted queries, and the caches that last as long as its build —
including the large ones (search index, browse catalogue), which are built
in the background, once per build and process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from server.web.caching import BuildCache


@dataclass
class Handle:
    store: Any            # the Store interface (server/stores/interface.py)
    cache: BuildCache

    def query(self, sparql: str, **kwargs):
        return self.store.query(sparql, **kwargs)

    def cached(self, key, make: Callable[[], Any]):
        """Memoise `make()` for the life of this build."""
        return self.cache.value(key, make)

    def section(self, name: str, **limits):
        """A bounded cache for this build (per-IRI data, rendered pages)."""
        return self.cache.section(name, **limits)

    def prepared(self, key: str, make: Callable[[], Any], wait: float) -> Any | None:
        """`make()`'s value for this build, made once in a background thread
        (so a request never outlives the worker's watchdog on a large graph):
        waits up to `wait` s for it, and returns None if it is not ready."""
        values = self.cache.section("values", maxsize=256)
        if key in values:
            return values[key]
        with _jobs_lock:
            for old in [k for k, (section, _) in _jobs.items() if section is not values]:
                del _jobs[old]                  # an earlier build's
            job = _jobs.get((id(values), key))
            if job is None or job[1].failed:
                job = _jobs[(id(values), key)] = (values, _Job())
                app = current_app._get_current_object()        # type: ignore[attr-defined]
                threading.Thread(target=job[1].run, args=(app, key, make), daemon=True,
                                 name=f"kopru-prepare-{key}").start()
        job[1].done.wait(wait)
        return values.get(key)


class _Job:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.failed = False

    def run(self, app, key: str, make: Callable[[], Any]) -> None:
        try:
            with app.app_context():
                handle().cached(key, make)
        except Exception:
            self.failed = True         # the next request tries again
            logging.getLogger("kopru.pages").exception("preparing %s failed", key)
        finally:
            self.done.set()


# (the values section of a build, key) → the job making that value
_jobs: dict[tuple[int, str], tuple[Any, _Job]] = {}
_jobs_lock = threading.Lock()


def handle() -> Handle:
    """The current store (raises StoreNotBuilt or StoreUnavailable when
    there is none: the page answers 503)."""
    store = current_app.extensions["kopru.executor"].store()
    return Handle(store, current_app.extensions["kopru.cache"])
