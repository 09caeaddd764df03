"""A project's built stores on disk: write one, make it current, find it.

    <state>/stores/<hash16>.<utc-time>/db/            RocksDB (pyoxigraph)
    <state>/stores/<hash16>.<utc-time>/manifest.json  hash, counts, timings
    <state>/current -> stores/<…>                     symlink, swapped atomically
    <state>/build.lock                                one build at a time

A store is built in `stores/.tmp-*` (from nothing, or from a checkpoint of
the current one for an incremental build), renamed into place when complete,
and only then does `current` point at it, so a reader sees the old store or
the new one, never half of one. A failed build removes its temporary
directory; one killed outright leaves it to the next build to remove. The
current and the previous store are kept. The manifest records the database
files (size, modification time), so a store damaged since is noticed
(`store_damage`) and rebuilt instead of being called up to date.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from server.errors import BuildError, StoreNotBuilt
from server.namespaces import GRAPH_NAMES
from server.stores.embedded import DB_DIR, EmbeddedStore, OxigraphStore

MANIFEST = "manifest.json"
GRAPH_KEYS = {iri: key for key, iri in GRAPH_NAMES.items()}


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

    try:
        project.state_dir.mkdir(parents=True, exist_ok=True)
        f = open(project.state_dir / "build.lock", "a+")  # noqa: SIM115 (closed below)
    except OSError as e:
        raise BuildError(write_error_message(e, project.state_dir)) from None
    with f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


class StoreWriter:
    """A new store directory, written in `stores/.tmp-*` and renamed into
    place by `finish`; `discard` (or any exception inside `with`) removes it.
    Errors writing it (a full disk…) become a BuildError that says the
    previous store is still served.

        with StoreWriter(project, hash) as w:      # or base=<store dir> to copy
            w.load(GRAPH_ASSERTED, nt_bytes)
            store_dir = w.finish(manifest)
    """

    def __init__(self, project, input_hash: str, *, base: Path | None = None) -> None:
        stores = project.stores_dir
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self.name = f"{input_hash[:16]}.{stamp}.{time.time_ns() % 1_000_000_000:09d}"
        self.path = stores / f".tmp-{self.name}"
        self.final: Path | None = None
        self.t0 = time.perf_counter()
        with self.writing():
            stores.mkdir(parents=True, exist_ok=True)
            self.path.mkdir()
            if base is not None:
                # a checkpoint: hard links to the base store's immutable files
                ox.Store.read_only(str(Path(base) / DB_DIR)).backup(str(self.path / DB_DIR))
            self.store = ox.Store(str(self.path / DB_DIR))

    @contextlib.contextmanager
    def writing(self):
        """Turn an OS error while writing into a BuildError."""
        try:
            yield
        except OSError as e:
            self.discard()
            raise BuildError(write_error_message(e, self.path.parent)) from None

    def load(self, graph: str, data: bytes | Path) -> None:
        """Bulk-load N-Triples (bytes, or a file) into a named graph.

        Oxigraph's loaders rename blank nodes, so the lines that have any
        are added as triples instead: the asserted, ontology and entailed
        graphs, loaded separately, must keep naming the same blank nodes."""
        g = ox.NamedNode(graph)
        with self.writing():
            if not _has_blank_nodes(data):
                kwargs = {"path": str(data)} if isinstance(data, Path) else {"input": data}
                self.store.bulk_load(format=ox.RdfFormat.N_TRIPLES, to_graph=g, **kwargs)
                return
            lines = (data.open("rb") if isinstance(data, Path) else
                     contextlib.nullcontext(data.splitlines(keepends=True)))
            plain: list[bytes] = []
            blank: list[bytes] = []
            with lines as f:
                for line in f:
                    (blank if b"_:" in line else plain).append(line)
            self.store.bulk_load(b"".join(plain), format=ox.RdfFormat.N_TRIPLES, to_graph=g)
            del plain
            self.store.bulk_extend(
                ox.Quad(t.subject, t.predicate, t.object, g)
                for t in ox.parse(b"".join(blank), format=ox.RdfFormat.N_TRIPLES))

    def change(self, graph: str, *, remove: Iterable[Any] = (),
               add: Iterable[Any] = ()) -> tuple[int, int]:
        """Remove, then add triples in a graph; (removed, added) that were
        really absent/present."""
        g = ox.NamedNode(graph)
        removed = added = 0
        with self.writing():
            for t in remove:
                q = ox.Quad(t.subject, t.predicate, t.object, g)
                if q in self.store:
                    self.store.remove(q)
                    removed += 1
            new = []
            for t in add:
                q = ox.Quad(t.subject, t.predicate, t.object, g)
                if q not in self.store:
                    new.append(q)
            self.store.extend(new)
            added = len(new)
        return removed, added

    def counts(self) -> dict[str, int]:
        return {GRAPH_KEYS.get(k, k): v for k, v in OxigraphStore(self.store).triple_counts().items()}

    def finish(self, manifest: dict, *, counts: dict[str, int] | None = None) -> Path:
        """Flush, record counts (counted unless given), the load time and the
        database files in the manifest, and rename into place."""
        with self.writing():
            self.store.flush()
            manifest = dict(manifest)
            manifest["counts"] = counts if counts is not None else self.counts()
            del self.store    # closes the database
            manifest.setdefault("timings", {})["load"] = round(time.perf_counter() - self.t0, 4)
            manifest["store"] = self.name
            manifest["db_files"] = db_fingerprint(self.path)
            write_manifest(self.path, manifest)
            final = self.path.parent / self.name
            os.rename(self.path, final)
        self.final = final
        return final

    def discard(self) -> None:
        if hasattr(self, "store"):
            del self.store
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, kind, *exc) -> None:
        if self.final is None:
            self.discard()


def _has_blank_nodes(data: bytes | Path) -> bool:
    if isinstance(data, Path):
        import mmap

        with open(data, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return False
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                return m.find(b"_:") >= 0
    return b"_:" in data


def write_error_message(e: OSError, where: Path) -> str:
    """What to tell a person when writing a store failed."""
    text = str(e)
    if e.errno == errno.ENOSPC or "No space left" in text:
        return (f"no space left on the device of {where} while writing the new store; "
                "the previous store is still served. Free some space and build again.")
    return (f"could not write the new store in {where} ({e.strerror or text}); "
            "the previous store is still served.")


def write_manifest(store_dir: Path, manifest: dict) -> None:
    tmp = Path(store_dir) / (MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, Path(store_dir) / MANIFEST)


# --- is the store on disk the one that was built? ----------------------------------------

# RocksDB's own log files change on every open; the rest never does after a build.
_VOLATILE = ("LOG", "LOCK")


def db_fingerprint(store_dir: Path) -> dict[str, list[int]]:
    """name → [size, mtime_ns] of every database file."""
    db = Path(store_dir) / DB_DIR
    out = {}
    for entry in os.scandir(db):
        if entry.is_file() and not entry.name.startswith(_VOLATILE):
            st = entry.stat()
            out[entry.name] = [st.st_size, st.st_mtime_ns]
    return out


def store_damage(store_dir: Path | None, manifest: dict | None = None) -> str:
    """Why the store's database is not the one its build wrote ("" if it
    is, or if the manifest predates the record)."""
    if store_dir is None:
        return ""
    manifest = read_manifest(store_dir) if manifest is None else manifest
    recorded = manifest.get("db_files")
    if recorded is None:
        return ""
    try:
        now = db_fingerprint(store_dir)
    except OSError as e:
        return f"its database cannot be read ({e.strerror})"
    for name, (size, mtime) in sorted(recorded.items()):
        if name not in now:
            return f"{DB_DIR}/{name} is missing"
        if now[name][0] != size:
            return f"{DB_DIR}/{name} changed size"
        if now[name][1] != mtime:
            return f"{DB_DIR}/{name} was modified"
    return ""


def remove_stale_temporaries(project) -> int:
    """Delete what interrupted builds left (stores/.tmp-*, .current.tmp-*);
    call with the build lock held. Returns how many."""
    n = 0
    for d in project.stores_dir.glob(".tmp-*") if project.stores_dir.is_dir() else ():
        shutil.rmtree(d, ignore_errors=True)
        n += 1
    for link in project.state_dir.glob(".current.tmp-*"):
        with contextlib.suppress(OSError):
            link.unlink()
            n += 1
    return n


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
