"""The build pipeline: parse → validate → infer → load → swap.

`build(project)` does nothing but hash the inputs when the current store was
built from the same inputs (a warm start: no rdflib, pyshacl or owlrl import
on that path). Otherwise it runs every step and stops at the first failure,
leaving the current store as it was:

- TurtleSyntaxError (from server.pipeline.parse): file:line:column: message
- ValidationFailed: SHACL violations (`.result.text_report()`)
- InconsistentGraph: OWL RL found a contradiction (e.g. disjoint classes)
"""

from __future__ import annotations

import datetime as _dt
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from server.config import settings
from server.errors import BuildError, InconsistentGraph, KopruError, ValidationFailed
from server.namespaces import GRAPH_ASSERTED, GRAPH_ENTAILED, GRAPH_ONTOLOGY, GRAPH_SHAPES
from server.pipeline.project import PIPELINE_VERSION, Project
from server.stores.state import (build_lock, current_store_dir, read_manifest, swap_current,
                                 write_store)

Progress = Callable[[str, float, str], None]


@dataclass
class BuildResult:
    skipped: bool                 # True: warm start, the current store was up to date
    hash: str
    store_dir: Path | None
    manifest: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)   # this run's steps
    validation: object | None = None   # ValidationResult (warnings may be in it)
    previous_store_dir: Path | None = None

    @property
    def counts(self) -> dict[str, int]:
        return self.manifest.get("counts", {})


def is_current(project: Project, input_hash: str | None = None) -> bool:
    """Whether the current store was built from the project's present inputs."""
    manifest = read_manifest(current_store_dir(project))
    return bool(manifest) and manifest.get("hash") == (input_hash or project.input_hash())


def build(project: Project, *, force: bool = False,
          progress: Progress | None = None) -> BuildResult:
    """Build the project's store unless it is up to date (or force)."""
    t_start = time.perf_counter()
    say = progress or (lambda step, seconds, detail: None)
    h = project.input_hash()
    t_hash = time.perf_counter() - t_start
    if not force:
        result = _up_to_date(project, h, t_hash)
        if result:
            say("up to date", result.timings["total"], f"store {result.store_dir.name}")
            return result

    with build_lock(project):
        if not force:  # another process may have built it while we waited
            result = _up_to_date(project, h, t_hash)
            if result:
                say("up to date", result.timings["total"], f"store {result.store_dir.name}")
                return result
        return _build(project, h, say, t_start)


def _up_to_date(project: Project, h: str, t_hash: float) -> BuildResult | None:
    store_dir = current_store_dir(project)
    manifest = read_manifest(store_dir)
    if manifest.get("hash") == h:
        return BuildResult(skipped=True, hash=h, store_dir=store_dir, manifest=manifest,
                           timings={"hash": t_hash, "total": t_hash})
    return None


def _build(project: Project, h: str, say: Progress, t_start: float) -> BuildResult:
    from server.pipeline.parse import parse_project
    from server.pipeline.validate import validate

    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    parsed = parse_project(project)
    # rdflib graphs for pyshacl and owlrl, made once before any fork
    _ = (parsed.data_graph, parsed.ontology_graph, parsed.shapes_graph)
    timings["parse"] = time.perf_counter() - t0
    say("parse", timings["parse"],
        f"{len(parsed.files)} files, {parsed.count()} triples")

    # The closure does not depend on validation: on a machine with two or
    # more cores it runs in a forked child while this process validates.
    t0 = time.perf_counter()
    closure = _Closure(parsed)
    try:
        validation = validate(parsed)
        timings["validate"] = time.perf_counter() - t0
        if not validation.conforms:
            say("validate", timings["validate"], f"{len(validation.errors)} violations")
            raise ValidationFailed(validation)
        warn = f", {len(validation.warnings)} warnings" if validation.warnings else ""
        say("validate", timings["validate"], f"conforms{warn}")

        t1 = time.perf_counter()
        inferred = closure.result()
    finally:
        closure.cancel()
    timings["closure"] = inferred.seconds
    timings["filter"] = inferred.filter_seconds
    timings["infer_wait"] = time.perf_counter() - t1
    if closure.parallel:
        timings["parallel"] = 1.0
    if inferred.inconsistencies:
        from server.reasoning.inconsistency import describe_all

        say("closure", inferred.seconds, f"{len(inferred.inconsistencies)} inconsistencies")
        raise InconsistentGraph(describe_all(inferred.inconsistencies, parsed.prefixes))
    how = " (in parallel with validate)" if closure.parallel else ""
    say("closure", inferred.seconds + inferred.filter_seconds,
        f"{len(inferred.entailed)} entailed triples ({inferred.dropped_total} dropped "
        f"as noise){how}")

    t0 = time.perf_counter()
    entailed = inferred.entailed
    manifest = {
        "hash": h,
        "pipeline_version": PIPELINE_VERSION,
        "built_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "project": str(project.root),
        "files": [f.relpath for f in parsed.files],
        "closure_size": inferred.closure_size,
        "dropped": inferred.dropped,
        "warnings": len(validation.warnings),
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }
    store_dir = write_store(project, {
        GRAPH_ASSERTED: parsed.triples("graph"),
        GRAPH_ONTOLOGY: parsed.triples("ontology"),
        GRAPH_SHAPES: parsed.triples("shapes"),
        GRAPH_ENTAILED: entailed,
    }, manifest)
    timings["load"] = time.perf_counter() - t0
    manifest = read_manifest(store_dir)
    c = manifest.get("counts", {})
    say("load", timings["load"],
        f"{c.get('asserted', 0)} asserted, {c.get('entailed', 0)} entailed, "
        f"{c.get('ontology', 0)} ontology, {c.get('shapes', 0)} shapes triples")

    t0 = time.perf_counter()
    previous = swap_current(project, store_dir)
    timings["swap"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    say("swap", timings["swap"], f"current → {store_dir.name}")

    # Record the whole run's timings in the manifest (best effort).
    manifest["timings"] = {k: round(v, 4) for k, v in timings.items()}
    _rewrite_manifest(store_dir, manifest)
    return BuildResult(skipped=False, hash=h, store_dir=store_dir, manifest=manifest,
                       timings=timings, validation=validation, previous_store_dir=previous)


class _Closure:
    """The OWL RL closure, computed in a forked child process when the
    machine has more than one core (and KOPRU_PARALLEL is not 0), else
    in this process when asked for."""

    def __init__(self, parsed) -> None:
        import os

        self.parsed = parsed
        self.proc = None
        self.conn = None
        self.parallel = False
        if settings().parallel_build and (os.cpu_count() or 1) > 1:
            try:
                import multiprocessing

                ctx = multiprocessing.get_context("fork")
                self.conn, child = ctx.Pipe(duplex=False)
                self.proc = ctx.Process(target=_closure_child, args=(parsed, child),
                                        daemon=True)
                self.proc.start()
                child.close()
                self.parallel = True
            except (ValueError, OSError):  # no fork here: run it in-process later
                self.proc = self.conn = None

    def result(self):
        from server.reasoning.infer import infer_oxigraph

        if self.proc is None:
            return infer_oxigraph(self.parsed)
        try:
            kind, payload = _recv(self.conn)
        except EOFError:
            self.proc.join()
            raise BuildError(f"the closure process died (exit code {self.proc.exitcode})")
        self.proc.join()
        if kind == "refused":       # the closure said what is wrong with the input
            raise BuildError(payload)
        if kind == "error":
            raise BuildError(f"the OWL RL closure failed: {payload}")
        return _unpack(payload)

    def cancel(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None


def _closure_child(parsed, conn) -> None:  # pragma: no cover - runs in the child
    import pickle

    try:
        from server.reasoning.infer import infer_oxigraph

        payload = ("ok", _pack(infer_oxigraph(parsed)))
    except KopruError as e:
        payload = ("refused", e.message)
    except BaseException as e:  # report anything, the parent decides
        payload = ("error", f"{type(e).__name__}: {e}")
    conn.send_bytes(pickle.dumps(payload))
    conn.close()


def _recv(conn):
    import pickle

    return pickle.loads(conn.recv_bytes())


def _pack(result) -> dict:
    """An InferResult as plain data: triples as N-Triples bytes."""
    import pyoxigraph as ox

    d = dict(result.__dict__)
    d["entailed"] = ox.serialize(result.entailed, format=ox.RdfFormat.N_TRIPLES)
    return d


def _unpack(d: dict):
    import pyoxigraph as ox

    from server.reasoning.result import InferResult

    d = dict(d)
    d["entailed"] = [q.triple for q in ox.parse(d["entailed"], ox.RdfFormat.N_TRIPLES)]
    return InferResult(**d)


def _rewrite_manifest(store_dir: Path, manifest: dict) -> None:
    import json
    import os

    path = store_dir / "manifest.json"
    tmp = path.with_suffix(".json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
