"""The build pipeline: parse → validate → infer → load → swap.

`build(project)` does nothing but hash the inputs when the current store was
built from the same inputs and its database is as the build left it (a warm
start: no rdflib, pyshacl or owlrl import on that path). When only graph
files changed since the current store was built, it builds incrementally
(server/pipeline/incremental.py) and falls back to the whole pipeline
whenever that cannot give the same store. It stops at the first failure,
leaving the current store as it was and no temporary files behind:

- TurtleSyntaxError (from server.pipeline.parse): file:line:column: message
- ValidationFailed: SHACL violations (`.result.text_report()`)
- InconsistentGraph: OWL RL found a contradiction (e.g. disjoint classes)
- BuildError: no space left, the memory limit (server/pipeline/limits.py)…

The whole pipeline: the closure runs beside validation (closure_job.py); the
asserted graphs are bulk-loaded as N-Triples while it runs, the entailed
graph from the file the closure writes.
"""

from __future__ import annotations

import datetime as _dt
import time

from server.errors import InconsistentGraph, ValidationFailed
from server.namespaces import GRAPH_ASSERTED, GRAPH_ENTAILED, GRAPH_ONTOLOGY, GRAPH_SHAPES
from server.pipeline.outcome import MIXIN_FILE, BuildResult, Progress, finish, keep_inputs
from server.pipeline.project import PIPELINE_VERSION, InputFile, Project, library_versions
from server.stores.state import (
    StoreWriter,
    build_lock,
    current_store_dir,
    read_manifest,
    remove_stale_temporaries,
    store_damage,
)

__all__ = ["BuildResult", "Progress", "build", "is_current"]


def is_current(project: Project, input_hash: str | None = None) -> bool:
    """Whether the current store was built from the project's present inputs
    (and its database is as that build left it)."""
    store_dir = current_store_dir(project)
    manifest = read_manifest(store_dir)
    return (bool(manifest) and manifest.get("hash") == (input_hash or project.input_hash())
            and not store_damage(store_dir, manifest))


def build(project: Project, *, force: bool = False,
          progress: Progress | None = None) -> BuildResult:
    """Build the project's store unless it is up to date (or force)."""
    from server.pipeline.limits import memory_limit

    t_start = time.perf_counter()
    say = progress or (lambda step, seconds, detail: None)
    inputs = project.input_files()
    h = project.input_hash(inputs)
    t_hash = time.perf_counter() - t_start
    if not force:
        result = _up_to_date(project, h, t_hash, say)
        if result:
            return result

    with build_lock(project):
        remove_stale_temporaries(project)
        if not force:  # another process may have built it while we waited
            result = _up_to_date(project, h, t_hash, say, quiet_damage=True)
            if result:
                return result
        with memory_limit(inputs) as limit:
            closure_first = True
            if not force:
                from server.pipeline.incremental import FullBuildNeeded, build_incrementally

                try:
                    return build_incrementally(project, inputs, h, say, t_start, limit)
                except FullBuildNeeded as e:
                    closure_first = not e.invalid
                    if e.reason:
                        say("incremental", time.perf_counter() - t_start,
                            f"not possible: {e.reason}; building everything")
            return _build(project, inputs, h, say, t_start, limit, closure_first=closure_first)


def _up_to_date(project: Project, h: str, t_hash: float, say: Progress, *,
                quiet_damage: bool = False) -> BuildResult | None:
    store_dir = current_store_dir(project)
    manifest = read_manifest(store_dir)
    if manifest.get("hash") != h:
        return None
    damage = store_damage(store_dir, manifest)
    if damage:
        if not quiet_damage:
            say("check", t_hash, f"the current store is damaged ({damage}): rebuilding")
        return None
    assert store_dir is not None   # it has a manifest
    say("up to date", t_hash, f"store {store_dir.name}")
    return BuildResult(skipped=True, hash=h, store_dir=store_dir, manifest=manifest,
                       timings={"hash": t_hash, "total": t_hash})


def _build(project: Project, inputs: list[InputFile], h: str, say: Progress,
           t_start: float, limit, *, closure_first: bool = True) -> BuildResult:
    """Validate and compute the closure (at once when `closure_first`;
    after validation when the change is known to break a shape, so that a
    build bound to fail does not compute a closure it will not use)."""
    from server.pipeline.closure_job import ClosureJob
    from server.pipeline.parse import ntriples, parse_project
    from server.pipeline.validate import ontology_mixin, validate

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    parsed = parse_project(project)
    data_nt = ntriples(parsed.triples("graph"))
    timings["parse"] = time.perf_counter() - t0
    say("parse", timings["parse"], f"{len(parsed.files)} files, {parsed.count()} triples")

    with StoreWriter(project, h) as writer:
        limit.on_hard_stop(writer.discard)
        t0 = time.perf_counter()
        closure = ClosureJob(parsed, writer.path) if closure_first else None
        try:
            validation = validate(parsed, data_nt=data_nt)
            timings["validate"] = time.perf_counter() - t0
            if not validation.conforms:
                say("validate", timings["validate"], f"{len(validation.errors)} violations")
                raise ValidationFailed(validation)
            if closure is None:
                closure = ClosureJob(parsed, writer.path)
            warn = f", {len(validation.warnings)} warnings" if validation.warnings else ""
            how = f" ({validation.engine}{'; ' + validation.note if validation.note else ''})"
            say("validate", timings["validate"], f"conforms{warn}{how}")

            t0 = time.perf_counter()
            writer.load(GRAPH_ASSERTED, data_nt)
            del data_nt
            if closure.parallel:   # the child has its own copy; the report is written
                parsed.release("graph")
            for graph, role in ((GRAPH_ONTOLOGY, "ontology"), (GRAPH_SHAPES, "shapes")):
                writer.load(graph, ntriples(parsed.triples(role)))
            timings["load_asserted"] = time.perf_counter() - t0

            t1 = time.perf_counter()
            inferred = closure.result()
            timings["infer_wait"] = time.perf_counter() - t1
            timings["closure"] = inferred.seconds
            timings["filter"] = inferred.filter_seconds
            if closure.parallel:
                timings["parallel"] = 1.0
            if inferred.inconsistencies:
                say("closure", inferred.seconds,
                    f"{len(inferred.inconsistencies)} inconsistencies")
                raise InconsistentGraph(inferred.inconsistencies)
            how = " (in parallel with validate)" if closure.parallel else ""
            say("closure", inferred.seconds + inferred.filter_seconds,
                f"{inferred.entailed_count} entailed triples ({inferred.dropped_total} "
                f"dropped as noise){how}")

            t0 = time.perf_counter()
            writer.load(GRAPH_ENTAILED, closure.entailed_path)
            with writer.writing():
                closure.entailed_path.unlink()
                keep_inputs(writer.path, inputs)
                (writer.path / MIXIN_FILE).write_text(ontology_mixin(parsed), encoding="utf-8")
            timings["load_entailed"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            saved = closure.wait_saved()
            timings["save_wait"] = time.perf_counter() - t1
        finally:
            if closure is not None:
                closure.cancel()
        manifest = _manifest(project, h, inputs, parsed, inferred, validation, timings)
        manifest["closure_state"] = saved
        store_dir = writer.finish(manifest)
    timings["load"] = time.perf_counter() - t0 + timings["load_asserted"]
    manifest = read_manifest(store_dir)
    c = manifest.get("counts", {})
    say("load", timings["load"],
        f"{c.get('asserted', 0)} asserted, {c.get('entailed', 0)} entailed, "
        f"{c.get('ontology', 0)} ontology, {c.get('shapes', 0)} shapes triples")
    return finish(project, store_dir, manifest, timings, t_start, say,
                  validation=validation)


def _manifest(project: Project, h: str, inputs: list[InputFile], parsed, inferred,
              validation, timings: dict) -> dict:
    return {
        "hash": h,
        "pipeline_version": PIPELINE_VERSION,
        "libraries": library_versions().strip(),
        "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "project": str(project.root),
        "files": [f.relpath for f in parsed.files],
        "inputs": {f.relpath: {"role": f.role, "sha256": f.sha256, "size": f.size}
                   for f in inputs},
        "closure_engine": inferred.engine,
        "closure_size": inferred.closure_size,
        "dropped": inferred.dropped,
        "warnings": len(validation.warnings),
        "validator": validation.engine,
        "timings": {k: round(v, 4) for k, v in timings.items()},
    }
