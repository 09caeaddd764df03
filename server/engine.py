"""Run one query against an opened store and serialize its answer.

Shared by both killable executors (server/executor.py, a child process per
query slot; server/query_thread.py, a query thread in a gunicorn worker):
they differ only in how a query that runs past its deadline is stopped.

    engine = Engine(store_dir)              # opens the store read-only
    header, body = engine.answer(request)   # request: {"q", "f", "dg", "ng", "limit"}

`header` is {"ok": True, "kind", "format", "rows"?, "truncated"?} or
{"ok": False, "category": "syntax"|"io"|"engine", "message"}; `body` is the
serialized answer (pyoxigraph's native serializers). pyoxigraph is imported
only when an Engine is made.
"""

from __future__ import annotations

import os
import re
import time


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
        self.parts = []
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


def syntax_message(query: str, raw: str) -> str:
    """Make pyoxigraph's 'error at L:C: expected …' readable."""
    m = re.match(r"error at (\d+):(\d+): (.*)", raw, re.DOTALL)
    if not m:
        return f"SPARQL syntax error: {raw}"
    line, col, rest = int(m.group(1)), int(m.group(2)), m.group(3)
    rest = re.sub(r"\[[^\]]*'\\u\{[^\]]*\]", "a letter", rest)   # unicode classes
    rest = re.sub(r"\[\s*'0'\s*\.\.=\s*'9'\s*\]", "a digit", rest)
    rest = rest.replace("[_]", "a name").replace("\n", " ")
    rest = re.sub(r"\s+", " ", rest).strip()
    if len(rest) > 400:
        rest = rest[:400] + " …"
    lines = query.splitlines() or [""]
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    pointer = ""
    if text:
        shown = text if len(text) <= 200 else text[max(0, col - 100):col + 100]
        offset = col - 1 if len(text) <= 200 else min(col - 1, 100)
        pointer = f"\n  {shown}\n  {' ' * max(offset, 0)}^"
    return f"SPARQL syntax error at line {line}, column {col}: {rest}{pointer}"


class Engine:
    """One read-only store and the code that answers queries from it."""

    def __init__(self, store_path: str):
        import pyoxigraph as ox

        from server.namespaces import PREFIXES

        self._ox = ox
        self._prefixes = PREFIXES
        self.store_path = store_path
        # A built store directory holds the database in db/ (server/store.py's
        # layout); a bare Oxigraph database directory works too.
        db = os.path.join(store_path, "db")
        self.store = ox.Store.read_only(db if os.path.isdir(db) else store_path)
        self._nodes: dict = {}
        self._result_formats = {k: getattr(ox.QueryResultsFormat, k.upper())
                                for k in ("json", "xml", "csv", "tsv")}
        self._graph_formats = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
                               "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}
        self._budget_bytes = int(os.environ.get("KOPRU_EXECUTOR_BUDGET", 64 << 20))

    def _graphs(self, names):
        if names is None:
            return None
        out = []
        for n in names:
            node = self._nodes.get(n)
            if node is None:
                node = self._nodes[n] = self._ox.NamedNode(n)
            out.append(node)
        return out

    def answer(self, req: dict) -> tuple[dict, bytes]:
        """Answer one request; engine errors become an {"ok": False} header."""
        try:
            header, body = self._run(req)
            header["ok"] = True
            return header, body
        except SyntaxError as e:
            return {"ok": False, "category": "syntax",
                    "message": syntax_message(req["q"], str(e))}, b""
        except OSError as e:
            return {"ok": False, "category": "io", "message": str(e)}, b""
        except Exception as e:                      # noqa: BLE001 — report, keep serving
            return {"ok": False, "category": "engine",
                    "message": f"{type(e).__name__}: {e}"}, b""

    def _run(self, req: dict) -> tuple[dict, bytes]:
        import itertools

        from server.sparql import results as R

        ox = self._ox
        store = self.store
        result_formats, graph_formats = self._result_formats, self._graph_formats
        q = req["q"]
        fmt = req["f"]
        limit = req["limit"]
        kwargs = {}
        if req["dg"] is not None:
            kwargs["default_graph"] = self._graphs(req["dg"])
        if req["ng"] is not None:
            kwargs["named_graphs"] = self._graphs(req["ng"])
        res = store.query(q, **kwargs)
        if isinstance(res, ox.QueryBoolean):
            f = fmt if fmt in result_formats else "json"
            return {"kind": "boolean", "format": f}, res.serialize(format=result_formats[f])
        if isinstance(res, ox.QueryTriples):
            f = fmt if fmt in graph_formats else "ttl"
            counted = 0

            def counting(it):
                nonlocal counted
                for t in it:
                    counted += 1
                    yield t
            body = ox.serialize(counting(itertools.islice(res, limit)), format=graph_formats[f],
                                prefixes=self._prefixes if f in ("ttl", "rdfxml") else None)
            truncated = counted >= limit and next(res, None) is not None
            return {"kind": "graph", "format": f, "truncated": truncated, "rows": counted}, body
        # SELECT: native serialization first; if there are too many rows,
        # run again and write the first `limit` rows ourselves.
        f = fmt if fmt in result_formats else "json"
        variables = [v.value for v in res.variables]
        target = _Budget(self._budget_bytes)
        try:
            res.serialize(target, format=result_formats[f])
            body = target.getvalue()
            rows = None
            if len(body) >= limit * R.MIN_ROW_BYTES[f] or f in ("xml", "tsv"):
                rows = R.count_rows(f, body)
            if rows is None or rows <= limit:
                return {"kind": "results", "format": f, "rows": rows}, body
        except _TooBig:
            pass
        target = None
        res = store.query(q, **kwargs)
        first = list(itertools.islice(res, limit))
        more = next(res, None) is not None
        body = R.SERIALIZERS[f](variables, first, limit, more)
        return {"kind": "results", "format": f, "truncated": more, "rows": len(first)}, body
