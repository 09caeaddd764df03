"""The web app's caches of page data and answers: each a cachetools cache,
bounded in entries or bytes, kept for as long as the store holds the same
build (a rebuild or a push changes its version, and they are all dropped).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import cachetools

# Sections of page data (entity descriptions, node info, rendered pages…)
# hold at most this many entries each.
SECTION_ENTRIES = 4096


class BuildCache:
    """Named cache sections for the build the store holds now."""

    def __init__(self, version_of: Callable[[], str | None]):
        self._version_of = version_of
        self._version: str | None = None
        self._sections: dict[str, cachetools.Cache] = {}
        self._lock = threading.RLock()

    def section(self, name: str, maxsize: int = SECTION_ENTRIES,
                getsizeof: Callable[[Any], int] | None = None) -> cachetools.Cache:
        # An unversioned store (a remote store filled by other means) gets
        # fresh caches every minute.
        version = self._version_of() or f"unversioned-{int(time.time() // 60)}"
        with self._lock:
            if version != self._version:
                self._sections = {}
                self._version = version
            cache = self._sections.get(name)
            if cache is None:
                cache = self._sections[name] = cachetools.LRUCache(maxsize, getsizeof)
            return cache

    def get(self, section: str, key: Hashable, make: Callable[[], Any], **limits) -> Any:
        """Memoise `make()` under `key` in a section."""
        cache = self.section(section, **limits)
        with self._lock:
            try:
                return cache[key]
            except KeyError:
                pass
        value = make()
        with self._lock:
            try:
                cache[key] = value
            except ValueError:          # larger than the whole section: not kept
                pass
        return value

    def value(self, name: str, make: Callable[[], Any]) -> Any:
        """Memoise one value (ontology metadata, counts…) for this build."""
        return self.get("values", name, make, maxsize=256)


class AnswerCache:
    """Query answers by (build, query, dataset, format), least recently used
    out first, bounded in bytes: each entry costs its answer and its query
    text. A build never changes, so an entry is right for as long as its
    build is served."""

    def __init__(self, max_bytes: int):
        self.max_item = max(max_bytes // 16, 1)
        self._cache: cachetools.LRUCache = cachetools.LRUCache(max_bytes,
                                                               getsizeof=lambda v: v[1])
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            found = self._cache.get(key)
        return None if found is None else found[0]

    def put(self, key: tuple, answer) -> None:
        cost = len(answer.body) + sum(len(k) for k in key if isinstance(k, str)) + 256
        if cost > self.max_item:
            return
        with self._lock:
            self._cache[key] = (answer, cost)
