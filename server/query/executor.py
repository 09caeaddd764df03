"""The executor interface: what the endpoint, /healthz and the pages ask of
whatever runs queries against the store.

Two implementations: `ThreadExecutor` (thread_executor.py: the embedded
store, each query in a killable query thread) and `RemoteExecutor`
(remote_executor.py: a remote SPARQL store over HTTP).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from server.formats import Format


@dataclass(frozen=True)
class Answer:
    kind: str                # "results" (SELECT), "boolean" (ASK), "graph"
    format: Format           # the format actually written
    body: bytes
    truncated: bool
    rows: int | None         # rows / triples, when counted
    seconds: float


class Executor(Protocol):
    timeout: float           # seconds a query may run
    result_limit: int        # most rows / triples in one answer

    def run(self, query: str, fmt: Format, default_graphs: Iterable[str] | None = None,
            named_graphs: Iterable[str] | None = None, *, timeout: float | None = None,
            limit: int | None = None) -> Answer:
        """Run one query and serialize its answer in `fmt` (or, when the
        query's form cannot be written in it, the form's default format).
        The dataset: `default_graphs` / `named_graphs` (None: the query's own
        FROM / FROM NAMED, else all). Raises QueryTimeout, QueryError,
        StoreUnavailable or EngineUnavailable (server/errors.py)."""
        ...

    def version(self) -> str | None:
        """What the store holds now (a build's store directory, a pushed
        version), or None when that cannot be told: the key of every cache
        of answers and page data."""
        ...

    def probe(self, timeout: float) -> str | None:
        """Ask the store something through the query path; return the hash
        of the build it holds (None if unknown). Raises like run()."""
        ...

    def store(self):
        """The store behind the `Store` interface (server/stores/interface.py),
        for the pages' own small, trusted queries."""
        ...

    def warm(self) -> None:
        """Open the store now, so the first query does not wait for it."""
        ...

    def close(self) -> None:
        ...
