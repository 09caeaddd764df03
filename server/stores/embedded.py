"""Oxigraph (pyoxigraph) behind the store interface: on disk, where any
number of processes open it read-only at once, or in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server import lexer
from server.errors import StoreNotBuilt
from server.namespaces import ALL_GRAPHS, DEFAULT_GRAPHS
from server.stores.interface import QueryResult

DB_DIR = "db"     # a built store directory keeps its database here


class OxigraphStore:
    """A pyoxigraph.Store behind the `Store` interface."""

    def __init__(self, store: ox.Store, *, path: Path | None = None,
                 read_only: bool = False) -> None:
        self.ox = store
        self.path = path
        self.read_only = read_only

    def query(self, sparql: str, *, default_graph: Iterable[str] | None = None,
              named_graphs: Iterable[str] | None = None,
              use_default_graph_as_union: bool = False,
              prefixes: Mapping[str, str] | None = None) -> QueryResult:
        kwargs: dict[str, Any] = {}
        if default_graph is None and named_graphs is None and has_dataset_clause(sparql):
            pass  # the query's own FROM / FROM NAMED decide
        elif use_default_graph_as_union and default_graph is None:
            kwargs["use_default_graph_as_union"] = True
        else:
            graphs = DEFAULT_GRAPHS if default_graph is None else default_graph
            kwargs["default_graph"] = [_graph_term(g) for g in graphs]
        if named_graphs is not None:
            kwargs["named_graphs"] = [_graph_term(g) for g in named_graphs]
        if prefixes:
            kwargs["prefixes"] = dict(prefixes)
        return self.ox.query(sparql, **kwargs)

    def load(self, graphs: Mapping[str, Iterable[Any]]) -> None:
        """Replace the content of each named graph (IRI → pyoxigraph Triples
        or Quads; a Quad's graph name is ignored)."""
        if self.read_only:
            raise PermissionError("this store is open read-only")
        for iri in graphs:
            if self.ox.contains_named_graph(ox.NamedNode(iri)):
                self.ox.remove_graph(ox.NamedNode(iri))
        self.ox.bulk_extend(quads(graphs))
        if self.path is not None:
            self.ox.flush()

    def triple_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ALL_GRAPHS, 0)
        rows = self.ox.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        assert isinstance(rows, ox.QuerySolutions)   # a SELECT
        for row in rows:
            counts[row["g"].value] = int(row["n"].value)
        return counts

    def close(self) -> None:
        # pyoxigraph closes the database when the object is freed.
        self.ox = None  # type: ignore[assignment]

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        where = str(self.path) if self.path else "memory"
        return f"<{type(self).__name__} {where}{' read-only' if self.read_only else ''}>"


class MemoryStore(OxigraphStore):
    """An in-memory pyoxigraph store (tests, one-off tools)."""

    def __init__(self, graphs: Mapping[str, Iterable[Any]] | None = None) -> None:
        super().__init__(ox.Store())
        if graphs:
            self.load(graphs)


class EmbeddedStore(OxigraphStore):
    """pyoxigraph on disk, in a built store directory (its database in db/)."""

    @classmethod
    def open(cls, store_dir: str | os.PathLike[str], *, read_only: bool = True) -> EmbeddedStore:
        store_dir = Path(store_dir)
        db = store_dir / DB_DIR
        if not db.is_dir():
            raise StoreNotBuilt(f"no store at {store_dir} (run `kopru build`)")
        store = ox.Store.read_only(str(db)) if read_only else ox.Store(str(db))
        return cls(store, path=store_dir, read_only=read_only)


def has_dataset_clause(sparql: str) -> bool:
    """Whether a query names its dataset (FROM or FROM NAMED)."""
    return any(t.kind == "word" and t.text.upper().startswith("FROM")
               for t in lexer.tokens(sparql))


def _graph_term(g: Any):
    if isinstance(g, (ox.NamedNode, ox.BlankNode, ox.DefaultGraph)):
        return g
    if g is None or g == "":
        return ox.DefaultGraph()
    return ox.NamedNode(str(g))


def quads(graphs: Mapping[str, Iterable[Any]]):
    """IRI → triples, as quads in those named graphs."""
    for iri, triples in graphs.items():
        g = ox.NamedNode(iri)
        for t in triples:
            yield ox.Quad(t.subject, t.predicate, t.object, g)
