"""Run one query against an opened store and serialize its answer.

Used by the query thread of each worker (thread_executor.py), which is what
stops a query that runs past its deadline.
"""

from __future__ import annotations

import itertools
import os
import time

import pyoxigraph as ox

from server import formats
from server.errors import QueryError
from server.formats import Format
from server.namespaces import PREFIXES
from server.query import results as R
from server.query.canonical import syntax_message
from server.query.executor import Answer
from server.stores.state import read_manifest

# An answer larger than this is not serialized natively in one piece: it is
# cut at the result limit instead (results.py).
NATIVE_ANSWER_BYTES = 64 << 20


# Builds up to this many quads (every graph, shapes included) are queried
# from a copy in each worker's memory: about 60 MiB per worker at most, and
# a second to copy when a worker starts or a build is swapped in.
MEMORY_COPY_QUADS = 100_000


def _fits_in_memory(store_path: str) -> bool:
    counts = read_manifest(store_path).get("counts") or {}
    total = sum(n for n in counts.values() if isinstance(n, int))
    return 0 < total <= MEMORY_COPY_QUADS


class StoreLink:
    """The store directory a path points at (usually the `<state>/current`
    link that builds swap), resolved again at most once a second so that a
    rebuild is picked up without a stat() on every query."""

    __slots__ = ("path", "_resolved", "_exists", "_checked")

    def __init__(self, path: str):
        self.path = path
        self._resolved: str = ""
        self._exists = False
        self._checked = 0.0

    def resolve(self) -> str:
        self._look()
        return self._resolved

    def existing(self) -> str | None:
        """The directory, or None when there is none (yet)."""
        self._look()
        return self._resolved if self._exists else None

    def _look(self) -> None:
        now = time.monotonic()
        if not self._resolved or now - self._checked > 1.0:
            self._resolved = os.path.realpath(self.path)
            self._exists = os.path.isdir(self._resolved)
            self._checked = now


class _Budget:
    """A write target that refuses to grow past `limit` bytes."""

    __slots__ = ("parts", "size", "limit")

    def __init__(self, limit: int):
        self.parts: list[bytes] = []
        self.size = 0
        self.limit = limit

    def write(self, b) -> int:
        self.size += len(b)
        if self.size > self.limit:
            raise _TooBig()
        self.parts.append(bytes(b))
        return len(b)

    def flush(self) -> None:
        pass

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


class _TooBig(Exception):
    pass


class Engine:
    """One read-only store and the code that answers queries from it.

    A build of at most MEMORY_COPY_QUADS quads is copied into memory when
    it is opened: the same quads, queried three to four times faster than
    through the on-disk database (a point lookup over the shipped graph:
    ~80 µs of CPU instead of ~220 µs). Larger builds are read from disk.
    """

    def __init__(self, store_path: str):
        self.store_path = store_path
        # A built store directory holds the database in db/ (stores/embedded.py);
        # a bare Oxigraph database directory works too.
        db = os.path.join(store_path, "db")
        on_disk = ox.Store.read_only(db if os.path.isdir(db) else store_path)
        self.in_memory = _fits_in_memory(store_path)
        if self.in_memory:
            self.store = ox.Store()
            self.store.bulk_extend(on_disk.quads_for_pattern(None, None, None, None))
        else:
            self.store = on_disk
        self._nodes: dict = {}

    def _graphs(self, names):
        if names is None:
            return None
        out = []
        for n in names:
            node = self._nodes.get(n)
            if node is None:
                node = self._nodes[n] = ox.NamedNode(n)
            out.append(node)
        return out

    def answer(self, query: str, fmt: Format, default_graphs, named_graphs,
               limit: int) -> Answer:
        """Run and serialize one query; engine errors become QueryError. A
        GuardedQuery runs as its embedded text (canonical.py)."""
        start = time.monotonic()
        try:
            answer = self._run(getattr(query, "embedded", query), fmt, default_graphs,
                               named_graphs, limit, start)
        except SyntaxError as e:
            raise QueryError("syntax", syntax_message(query, str(e))) from None
        except OSError as e:
            raise QueryError("io", str(e)) from None
        except Exception as e:                      # noqa: BLE001 — report, keep serving
            raise QueryError("engine", f"{type(e).__name__}: {e}") from None
        if answer.format in (formats.XML, formats.RDF_XML):
            R.check_xml(answer.body)
        return answer

    def _run(self, q: str, fmt: Format, dg, ng, limit: int, start: float) -> Answer:
        kwargs: dict = {}
        if dg is not None:
            kwargs["default_graph"] = self._graphs(dg)
        if ng is not None:
            kwargs["named_graphs"] = self._graphs(ng)
        res = self.store.query(q, **kwargs)
        if isinstance(res, ox.QueryBoolean):
            f = fmt if fmt.kind == formats.RESULTS else formats.JSON
            return Answer("boolean", f, formats.serialize_results(res, f), False, None,
                          time.monotonic() - start)
        if isinstance(res, ox.QueryTriples):
            f = fmt if fmt.kind == formats.GRAPH else formats.TURTLE
            counted = 0

            def counting(it):
                nonlocal counted
                for t in it:
                    counted += 1
                    yield t
            body = formats.serialize(counting(itertools.islice(res, limit)), f, PREFIXES)
            truncated = counted >= limit and next(res, None) is not None
            return Answer("graph", f, body, truncated, counted, time.monotonic() - start)
        # SELECT: native serialization first; if there are too many rows,
        # run again and write the first `limit` rows ourselves.
        f = fmt if fmt.kind == formats.RESULTS else formats.JSON
        variables = [v.value for v in res.variables]
        target = _Budget(NATIVE_ANSWER_BYTES)
        try:
            res.serialize(target, format=f.results)  # type: ignore[arg-type]  # a file-like sink
            body = target.getvalue()
            rows = None
            if len(body) >= limit * R.MIN_ROW_BYTES[f.name] or f in (formats.XML, formats.TSV):
                rows = R.count_rows(f.name, body)
            if rows is None or rows <= limit:
                return Answer("results", f, body, False, rows, time.monotonic() - start)
        except _TooBig:
            pass
        solutions = self.store.query(q, **kwargs)
        assert isinstance(solutions, ox.QuerySolutions)
        first = list(itertools.islice(solutions, limit))
        more = next(solutions, None) is not None
        body = R.SERIALIZERS[f.name](variables, first, limit, more)
        return Answer("results", f, body, more, len(first), time.monotonic() - start)
