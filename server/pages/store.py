"""The pages' handle on the store: one read-only store per process, reopened
when a build swaps `current` to a new store directory.

Pages run trusted, internal SPARQL in-process (no executor child): each
query here is small and bounded. Per-store caches (ontology metadata,
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
