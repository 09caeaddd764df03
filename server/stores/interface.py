"""The store interface: what the CLI and the pages ask of any store.

Results are pyoxigraph's own result objects (QuerySolutions, QueryBoolean,
QueryTriples) whatever the back end, so callers read and serialize them one
way; a remote store parses its HTTP answer into the same types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

QueryResult = Any  # pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples


@runtime_checkable
class Store(Protocol):
    def query(self, sparql: str, *, default_graph: Iterable[str] | None = None,
              named_graphs: Iterable[str] | None = None,
              use_default_graph_as_union: bool = False,
              prefixes: Mapping[str, str] | None = None) -> QueryResult:
        """Run a SPARQL 1.1 query.

        default_graph: IRIs whose union is the query's default graph. None
        means the query's own FROM/FROM NAMED if it has any, else Köprü's
        default: asserted + ontology + entailed (never shapes), unless
        use_default_graph_as_union is set (then every graph).
        named_graphs: IRIs visible to GRAPH clauses (None: all of them).
        Raises SyntaxError for a malformed query."""
        ...

    def triple_counts(self) -> dict[str, int]:
        """Triples per named graph, by graph IRI."""
        ...

    def close(self) -> None:
        ...
