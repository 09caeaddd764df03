"""The web app's caches of page data and answers: each a cachetools cache,
bounded in entries or bytes, kept for as long as the store holds the same
build (a rebuild or a push changes its version, and they are all dropped);
and the process's compiled templates (COMPILED_TEMPLATES).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import cachetools
import jinja2
import jinja2.bccache

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


# What an entry holds besides its strings and body: the key tuple, the
# Answer, the cache's own bookkeeping (measured: about 600 bytes).
ENTRY_OVERHEAD = 1024


def held_bytes(value: Any) -> int:
    """The memory a key part holds: strings and bytes by what Python keeps
    for them (a non-ASCII character takes 2 or 4 bytes), tuples by their
    parts."""
    if isinstance(value, (str, bytes)):
        return sys.getsizeof(value)
    if isinstance(value, tuple):
        return sys.getsizeof(value) + sum(held_bytes(v) for v in value)
    return sys.getsizeof(value)


class AnswerCache:
    """Query answers by (build, query, dataset, format), least recently used
    out first, bounded in bytes: each entry costs its answer and everything
    in its key — the query text, every graph IRI of its dataset. A build
    never changes, so an entry is right for as long as its build is served."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.max_item = max(max_bytes // 16, 1)
        self._cache: cachetools.LRUCache = cachetools.LRUCache(max_bytes,
                                                               getsizeof=lambda v: v[1])
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        """Bytes the entries held now count for."""
        return int(self._cache.currsize)

    def get(self, key: tuple):
        with self._lock:
            found = self._cache.get(key)
        return None if found is None else found[0]

    def put(self, key: tuple, answer) -> None:
        cost = sys.getsizeof(answer.body) + held_bytes(key) + ENTRY_OVERHEAD
        if cost > self.max_item:
            return
        with self._lock:
            self._cache[key] = (answer, cost)


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, shared by every app of the process (one
    instance, COMPILED_TEMPLATES): a new app in a process that made one
    before (the test suite makes dozens) renders its first pages without
    compiling the templates again. Jinja checks each entry against the
    template's source, so an edited template is compiled afresh."""

    def __init__(self, entries: int) -> None:
        self._code: cachetools.LRUCache = cachetools.LRUCache(entries)
        self._lock = threading.Lock()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with self._lock:
            code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = bucket.bytecode_to_string()
        with self._lock:
            self._code[bucket.key] = code


COMPILED_TEMPLATES = CompiledTemplates(entries=64)   # Köprü has 16 templates
