"""A project's built stores on disk: write one, make it current, find it.

    <state>/stores/<hash16>.<utc-time>/db/            RocksDB (pyoxigraph)
    <state>/stores/<hash16>.<utc-time>/manifest.json  hash, counts, timings
    <state>/current -> stores/<…>                     symlink, swapped atomically
    <state>/build.lock                                one build at a time

A store is built in `stores/.tmp-*`, renamed into place when complete, and
only then does `current` point at it, so a reader sees the old store or the
new one, never half of one. The current and the previous store are kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

import pyoxigraph as ox

from server.errors import StoreNotBuilt
from server.namespaces import GRAPH_NAMES
from server.stores.embedded import DB_DIR, EmbeddedStore, OxigraphStore, quads

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
    store.bulk_extend(quads(graphs))
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
