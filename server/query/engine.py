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
from server.errors import QueryError, sparql_syntax_message
from server.formats import Format
from server.namespaces import PREFIXES
from server.query import results as R
from server.query.executor import Answer

# An answer larger than this is not serialized natively in one piece: it is
# cut at the result limit instead (results.py).
NATIVE_ANSWER_BYTES = 64 << 20


class StoreLink:
    """The store directory a path points at (usually the `<state>/current`
    link that builds swap), resolved again at most once a second so that a
    rebuild is picked up without a stat() on every query."""

    __slots__ = ("path", "_resolved", "_checked")

    def __init__(self, path: str):
        self.path = path
        self._resolved: str | None = None
        self._checked = 0.0

    def resolve(self) -> str:
        now = time.monotonic()
        if self._resolved is None or now - self._checked > 1.0:
            self._resolved = os.path.realpath(self.path)
            self._checked = now
        return self._resolved


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
    """One read-only store and the code that answers queries from it."""

    def __init__(self, store_path: str):
        self.store_path = store_path
        # A built store directory holds the database in db/ (stores/embedded.py);
        # a bare Oxigraph database directory works too.
        db = os.path.join(store_path, "db")
        self.store = ox.Store.read_only(db if os.path.isdir(db) else store_path)
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
        """Run and serialize one query; engine errors become QueryError."""
        start = time.monotonic()
        try:
            return self._run(query, fmt, default_graphs, named_graphs, limit, start)
        except SyntaxError as e:
            raise QueryError("syntax", sparql_syntax_message(query, str(e))) from None
        except OSError as e:
            raise QueryError("io", str(e)) from None
        except Exception as e:                      # noqa: BLE001 — report, keep serving
            raise QueryError("engine", f"{type(e).__name__}: {e}") from None

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
