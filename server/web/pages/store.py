"""The pages' handle on the store: the executor's store (the current build
opened read-only in this process, or the remote store) for the pages' own
small, trusted queries, and the caches that last as long as its build."""

from __future__ import annotations

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


def handle() -> Handle:
    """The current store (raises StoreNotBuilt or StoreUnavailable when
    there is none: the page answers 503)."""
    store = current_app.extensions["kopru.executor"].store()
    return Handle(store, current_app.extensions["kopru.cache"])
