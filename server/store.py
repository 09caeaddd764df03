"""The query store: one small interface, several back ends.

`Store` is what the rest of Köprü uses (CLI, endpoint, pages):

    store.query(sparql, default_graph=..., named_graphs=..., use_default_graph_as_union=...)
    store.load({graph_iri: triples, ...})    # replace those named graphs
    store.triple_counts()                    # {graph_iri: n}
    store.close()

Results are pyoxigraph's own result objects (QuerySolutions, QueryBoolean,
QueryTriples) whatever the back end, so callers serialize them one way
(`.serialize(format=...)`); a remote store parses its HTTP answer into the
same types with `pyoxigraph.parse_query_results` / `pyoxigraph.parse`.

Back ends here: `EmbeddedStore` (pyoxigraph on disk, the default; readers in
several processes open it read-only at once) and `MemoryStore`
(pyoxigraph in memory). A remote SPARQL 1.1 store over HTTP implements the
same four methods: `server.remote_store.RemoteStore` (filled by
`kopru build --push`, server/push.py; served by `kopru serve --store URL`).

On disk, a project's state directory looks like:

    <state>/stores/<hash16>.<utc-time>/db/            RocksDB (pyoxigraph)
    <state>/stores/<hash16>.<utc-time>/manifest.json  hash, counts, timings
    <state>/current -> stores/<…>                     symlink, swapped atomically
    <state>/build.lock                                one build at a time

A store is built in `stores/.tmp-*`, renamed into place when complete, and only
then does `current` point at it (os.replace of a fresh symlink), so a reader
sees either the old store or the new one, never half of one. The current and
the previous store are kept; older ones are deleted.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Protocol, runtime_checkable

import pyoxigraph as ox

from server.namespaces import (ALL_GRAPHS, DEFAULT_GRAPHS, GRAPH_ASSERTED, GRAPH_ENTAILED,
                               GRAPH_NAMES, GRAPH_ONTOLOGY, GRAPH_SHAPES)

__all__ = [
    "Store", "OxigraphStore", "EmbeddedStore", "MemoryStore", "StoreNotBuilt",
    "GRAPH_ASSERTED", "GRAPH_ENTAILED", "GRAPH_ONTOLOGY", "GRAPH_SHAPES",
    "ALL_GRAPHS", "DEFAULT_GRAPHS", "GRAPH_NAMES",
    "open_current", "current_store_dir", "read_manifest", "write_store", "swap_current",
    "build_lock", "MANIFEST", "DB_DIR",
]

MANIFEST = "manifest.json"
DB_DIR = "db"
QueryResult = Any  # pyoxigraph.QuerySolutions | pyoxigraph.QueryBoolean | pyoxigraph.QueryTriples


class StoreNotBuilt(Exception):
    """There is no built store for this project yet (run `kopru build`)."""


@runtime_checkable
class Store(Protocol):
    """What every store back end offers."""

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

    def load(self, graphs: Mapping[str, Iterable[Any]]) -> None:
        """Replace the content of each named graph (IRI → pyoxigraph
        Triples or Quads; a Quad's graph name is ignored)."""
        ...

    def triple_counts(self) -> dict[str, int]:
        """Triples per named graph, by graph IRI."""
        ...

    def close(self) -> None:
        ...


# --- pyoxigraph back ends --------------------------------------------------------


class OxigraphStore:
    """A pyoxigraph.Store behind the `Store` interface."""

    def __init__(self, store: ox.Store, *, path: Path | None = None,
                 read_only: bool = False, manifest: dict | None = None) -> None:
        self.ox = store
        self.path = path
        self.read_only = read_only
        self.manifest = manifest or {}

    # The Store interface ---------------------------------------------------------

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
        if self.read_only:
            raise PermissionError("this store is open read-only")
        for iri in graphs:
            if self._has_graph(iri):
                self.ox.remove_graph(ox.NamedNode(iri))
        self.ox.bulk_extend(_quads(graphs))
        if self.path is not None:
            self.ox.flush()

    def triple_counts(self) -> dict[str, int]:
        counts = {g: 0 for g in ALL_GRAPHS}
        for row in self.ox.query(
                "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
            counts[row["g"].value] = int(row["n"].value)
        return counts

    def close(self) -> None:
        # pyoxigraph closes the database when the object is freed.
        self.ox = None  # type: ignore[assignment]

    # Extras -------------------------------------------------------------------------

    def _has_graph(self, iri: str) -> bool:
        return self.ox.contains_named_graph(ox.NamedNode(iri))

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
    """pyoxigraph on disk. Open read-only in any number of processes."""

    @classmethod
    def open(cls, store_dir: str | os.PathLike[str], *, read_only: bool = True) -> "EmbeddedStore":
        store_dir = Path(store_dir)
        db = store_dir / DB_DIR
        if not db.is_dir():
            raise StoreNotBuilt(f"no store at {store_dir}")
        manifest = read_manifest(store_dir)
        store = ox.Store.read_only(str(db)) if read_only else ox.Store(str(db))
        return cls(store, path=store_dir, read_only=read_only, manifest=manifest)


_STRIP = None


def has_dataset_clause(sparql: str) -> bool:
    """Whether a query names its dataset (FROM or FROM NAMED), ignoring
    IRIs, string literals and comments."""
    import re

    global _STRIP
    if _STRIP is None:
        _STRIP = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"'
                            r"|'(?:[^'\\\n]|\\.)*'|<[^<>\"{}|^`\\\s]*>|#[^\n]*")
    return re.search(r"(?<![\w:?$.-])FROM(?![\w:.-])", _STRIP.sub(" ", sparql),
                     re.I) is not None


def _graph_term(g: Any):
    if isinstance(g, (ox.NamedNode, ox.BlankNode, ox.DefaultGraph)):
        return g
    if g is None or g == "":
        return ox.DefaultGraph()
    return ox.NamedNode(str(g))


def _quads(graphs: Mapping[str, Iterable[Any]]):
    for iri, triples in graphs.items():
        g = ox.NamedNode(iri)
        for t in triples:
            yield ox.Quad(t.subject, t.predicate, t.object, g)


# --- the project's built stores -------------------------------------------------------


def current_store_dir(project) -> Path | None:
    """The store directory `current` points at, or None."""
    link = project.current_link
    try:
        target = os.readlink(link)
    except OSError:
        return None
    path = (link.parent / target).resolve()
    return path if path.is_dir() else None


def read_manifest(store_dir: str | os.PathLike[str] | None) -> dict:
    if store_dir is None:
        return {}
    try:
        with open(Path(store_dir) / MANIFEST, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def open_current(project, read_only: bool = True) -> EmbeddedStore:
    """Open the project's current store (read-only by default: safe in many
    processes at once). Raises StoreNotBuilt when there is none."""
    store_dir = current_store_dir(project)
    if store_dir is None:
        raise StoreNotBuilt(
            f"no built store in {project.state_dir} (run `kopru build`)")
    return EmbeddedStore.open(store_dir, read_only=read_only)


@contextlib.contextmanager
def build_lock(project):
    """Hold an exclusive lock on <state>/build.lock (one build at a time)."""
    import fcntl

    project.state_dir.mkdir(parents=True, exist_ok=True)
    with open(project.state_dir / "build.lock", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def write_store(project, graphs: Mapping[str, Iterable[Any]], manifest: dict) -> Path:
    """Write the named graphs into a fresh store directory, with its
    manifest (to which triple counts and load time are added). Returns the
    completed directory; it is not current until `swap_current`."""
    stores = project.stores_dir
    stores.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    name = f"{manifest['hash'][:16]}.{stamp}.{time.time_ns() % 1_000_000_000:09d}"
    tmp = stores / f".tmp-{name}"
    t0 = time.perf_counter()
    tmp.mkdir()
    store = ox.Store(str(tmp / DB_DIR))
    store.bulk_extend(_quads(graphs))
    store.flush()
    store.optimize()
    counts = OxigraphStore(store).triple_counts()  # after de-duplication
    del store
    manifest = dict(manifest)
    manifest["counts"] = {GRAPH_KEYS.get(k, k): v for k, v in counts.items()}
    manifest.setdefault("timings", {})["load"] = round(time.perf_counter() - t0, 4)
    manifest["store"] = name
    with open(tmp / MANIFEST, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    final = stores / name
    os.rename(tmp, final)
    return final


GRAPH_KEYS = {iri: key for key, iri in GRAPH_NAMES.items()}


def swap_current(project, store_dir: Path) -> Path | None:
    """Point `current` at store_dir atomically; delete stores older than
    the previous one. Returns the previous store dir (or None)."""
    previous = current_store_dir(project)
    link = project.current_link
    tmp_link = link.with_name(f".current.tmp-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp_link.unlink()
    os.symlink(os.path.relpath(store_dir, link.parent), tmp_link)
    os.replace(tmp_link, link)
    keep = {store_dir.resolve()} | ({previous.resolve()} if previous else set())
    for d in project.stores_dir.iterdir():
        if d.resolve() in keep:
            continue
        # build_lock is held: no other build is writing a .tmp-* dir.
        shutil.rmtree(d, ignore_errors=True)
    return previous
