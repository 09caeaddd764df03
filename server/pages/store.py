"""The pages' handle on the store: one read-only store per process, reopened
when a build swaps `current` to a new store directory.

Pages run trusted, internal SPARQL in-process (no executor child): each
query here is small and bounded. With a remote store (config.store_url),
the handle wraps the endpoint's RemoteStore instead. Per-store caches (ontology metadata,
dumps, figures) hang off the handle, so a swap drops them all at once.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field

from flask import current_app

from server.store import EmbeddedStore, StoreNotBuilt

_lock = threading.Lock()
_handle: "Handle | None" = None


@dataclass
class Handle:
    path: str
    store: EmbeddedStore
    cache: dict = field(default_factory=dict)

    def query(self, sparql: str, **kwargs):
        return self.store.query(sparql, **kwargs)

    def cached(self, key, make):
        """Memoise `make()` for the life of this store."""
        try:
            return self.cache[key]
        except KeyError:
            value = self.cache[key] = make()
            return value


def handle() -> Handle:
    """The current store (raises StoreNotBuilt when there is none)."""
    global _handle
    config = current_app.config["KOPRU"]
    if config.remote:
        return _remote_handle()
    real = os.path.realpath(config.resolved_store_path)
    h = _handle
    if h is not None and h.path == real:
        return h
    with _lock:
        if _handle is None or _handle.path != real:
            if not os.path.isdir(os.path.join(real, "db")):
                raise StoreNotBuilt(f"no store at {config.resolved_store_path}")
            _handle = Handle(real, EmbeddedStore.open(real, read_only=True))
        return _handle


def _remote_handle() -> Handle:
    """A remote store (server/remote_store.py), shared with the endpoint.
    Its caches last as long as the pushed version (checked at most once a
    second); a store without a pushed version gets fresh caches every
    minute. While the store does not answer, pages answer 503 (even those
    cached: a page must not pretend the store is there)."""
    import time

    global _handle
    store = current_app.extensions["kopru.executor"].store
    version = store.version()            # raises StoreUnavailable: the page answers 503
    key = f"{store.endpoints.query}#{version or f'unversioned-{int(time.time() // 60)}'}"
    h = _handle
    if h is not None and h.path == key and h.store is store:
        return h
    with _lock:
        if _handle is None or _handle.path != key or _handle.store is not store:
            _handle = Handle(key, store)
        return _handle
