"""Incremental builds: after graph files change, build the new store from
the current one and the triples that changed, instead of from nothing.

The current store keeps what that needs (server/pipeline/build.py writes it):
a copy of every input file (`inputs/`), the fast closure's state
(`closure/state.pickle`, plus `closure/added.nt`, the data added since that
state was saved) and the ontology triples the validator mixes in. Then:

1. the changed files are parsed, and so are their previous copies: the
   difference is the triples added and removed (blank nodes are named after
   their content, server/pipeline/parse.py, so an edit elsewhere in a file
   changes none of them);
2. the new store starts as a checkpoint of the current one (hard links, no
   copy) and gets the asserted difference;
3. only the focus nodes the difference can affect are validated, over their
   neighbourhood (server/pipeline/focus.py);
4. additions extend the saved closure (`Closure.add`, in a child process
   that loads it while 1–3 run); a removal recomputes the closure (and saves
   it anew); either way only the difference of the entailed graph is written;
5. the store is renamed into place and swapped in, as a full build's is.

Anything it cannot do exactly — the ontology or shapes changed, a graph file
declares terms or axioms, shapes whose reach is unbounded, no saved state,
another closure engine, a quarter of the data changed — raises FullBuildNeeded
with the reason, and so does finding anything to report in step 3 (the full
validation then writes the report). tests/test_incremental.py checks that
the result is the store a cold build makes.
"""

from __future__ import annotations

import pickle
import time
from pathlib import Path

import pyoxigraph as ox

from server.config import settings
from server.errors import BuildError, InconsistentGraph
from server.namespaces import GRAPH_ASSERTED, GRAPH_ENTAILED, PREFIXES
from server.pipeline.closure_job import CLOSURE_DIR, CLOSURE_STATE, ClosureJob, load_closure
from server.pipeline.focus import StoreIndex, affected, is_schema_triple, neighbourhood, shapes_reach
from server.pipeline.outcome import INPUTS_DIR, MIXIN_FILE, BuildResult, Progress, finish, keep_inputs
from server.pipeline.project import PIPELINE_VERSION, InputFile, Project, library_versions
from server.reasoning.inconsistency import describe_all
from server.stores.state import StoreWriter, current_store_dir, read_manifest, store_damage

ADDED_LOG = "added.nt"          # data added since the saved closure state, N-Triples
MAX_CHANGED_SHARE = 0.25        # above this share of the data's triples: a full build
MAX_LOG_TRIPLES = 200_000       # additions kept in the log before the closure is redone


class FullBuildNeeded(Exception):
    """This change needs the whole pipeline; `reason` says why ("" when
    there is nothing to say, e.g. the first build)."""

    def __init__(self, reason: str = "", *, invalid: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.invalid = invalid    # the change breaks a shape: validation will fail


def build_incrementally(project: Project, inputs: list[InputFile], h: str, say: Progress,
                        t_start: float, limit) -> BuildResult:
    manifest = read_manifest(current_store_dir(project))
    base, changed, gone = _changes(current_store_dir(project), manifest, inputs)
    timings: dict[str, float] = {}

    extension = None
    if not _needs_recompute(base, manifest, gone):
        extension = ClosureExtension(base)   # loads the saved closure meanwhile
    try:
        t0 = time.perf_counter()
        added, removed, new_files = _difference(project, base, changed, gone)
        timings["parse"] = time.perf_counter() - t0
        say("parse", timings["parse"],
            f"{len(changed) + len(gone)} changed files: {len(added)} triples added, "
            f"{len(removed)} removed")
        if len(added) + len(removed) > MAX_CHANGED_SHARE * manifest["counts"]["asserted"]:
            raise FullBuildNeeded("most of the data changed")
        schema = next((t for t in added | removed if is_schema_triple(t)), None)
        if schema is not None:
            raise FullBuildNeeded(f"a graph file changes a declaration or axiom ({schema})")
        if removed and extension is not None:
            extension.cancel()
            extension = None

        with StoreWriter(project, h, base=base) as writer:
            limit.on_hard_stop(writer.discard)
            everything = None
            if removed:   # still asserted by another file? only all the files know
                everything = _parse_everything(project)
                removed = {t for t in removed if t not in everything.data_set}
            counts = dict(manifest["counts"])
            r, a = writer.change(GRAPH_ASSERTED, remove=removed, add=added)
            counts["asserted"] += a - r

            t0 = time.perf_counter()
            found, note = _validate(project, base, writer, added | removed, manifest)
            timings["validate"] = time.perf_counter() - t0
            if found:
                raise FullBuildNeeded(f"the change breaks a shape ({found[0]}); validating "
                                      "everything for the report", invalid=True)
            say("validate", timings["validate"], f"conforms ({note})")

            t0 = time.perf_counter()
            if extension is not None:
                delta = extension.add(added)
                state_note = "the saved closure extended"
            else:
                delta = _recompute(everything or _parse_everything(project), writer)
                state_note = "the closure recomputed"
            timings["closure"] = time.perf_counter() - t0
            if delta.inconsistencies:
                raise InconsistentGraph(delta.inconsistencies)
            r, a = writer.change(GRAPH_ENTAILED, remove=delta.removed, add=delta.added)
            counts["entailed"] += a - r
            say("closure", timings["closure"], f"{state_note}: {len(delta.added)} entailed "
                f"triples added, {len(delta.removed)} removed")

            t0 = time.perf_counter()
            with writer.writing():
                keep_inputs(writer.path, inputs, base=base, base_inputs=manifest["inputs"])
                _link(base / MIXIN_FILE, writer.path / MIXIN_FILE)
                saved = delta.keep_state(base, writer.path)
            new_manifest = _manifest(manifest, h, inputs, new_files, changed, gone, timings,
                                     saved, delta)
            store_dir = writer.finish(new_manifest, counts=counts)
    finally:
        if extension is not None:
            extension.cancel()
    timings["load"] = time.perf_counter() - t0
    c = counts
    say("load", timings["load"], f"{c.get('asserted', 0)} asserted, "
        f"{c.get('entailed', 0)} entailed triples (from the previous store)")
    return finish(project, store_dir, read_manifest(store_dir), timings, t_start, say,
                  incremental=True)


# --- what changed ----------------------------------------------------------------------


def _changes(base: Path | None, manifest: dict,
             inputs: list[InputFile]) -> tuple[Path, list[InputFile], list[str]]:
    """(the current store, changed or new graph files, graph files gone),
    or FullBuildNeeded."""
    if base is None or not manifest:
        raise FullBuildNeeded()
    if store_damage(base, manifest):
        raise FullBuildNeeded("the current store is damaged")
    if (manifest.get("pipeline_version") != PIPELINE_VERSION
            or manifest.get("libraries") != library_versions().strip()):
        raise FullBuildNeeded("Köprü or its libraries changed since the last build")
    old = manifest.get("inputs")
    if not old or "counts" not in manifest:
        raise FullBuildNeeded("the current store was built by an older Köprü")
    if settings().reasoner != "fast" or manifest.get("closure_engine") != "fast":
        raise FullBuildNeeded("incremental builds need the fast closure engine")
    now = {f.relpath: f for f in inputs}
    changed = [f for f in inputs if old.get(f.relpath, {}).get("sha256") != f.sha256]
    gone = [r for r in old if r not in now]
    roles = {f.role for f in changed} | {old[r]["role"] for r in gone}
    if roles - {"graph"}:
        raise FullBuildNeeded("the ontology or the shapes changed")
    if not changed and not gone:
        raise FullBuildNeeded()
    for f in changed:
        if f.relpath in old and not (base / INPUTS_DIR / f.relpath).is_file():
            raise FullBuildNeeded(f"no copy of the previous {f.relpath}")
    total = sum(f.size for f in inputs if f.role == "graph") or 1
    if sum(f.size for f in changed) > 0.75 * total:   # not worth parsing them twice
        raise FullBuildNeeded("most of the data files changed")
    return base, changed, gone


def _needs_recompute(base: Path, manifest: dict, gone: list[str]) -> bool:
    """Whether the closure must be recomputed whatever the edit is."""
    return (gone != [] or not manifest.get("closure_state")
            or not (base / CLOSURE_DIR / CLOSURE_STATE).is_file()
            or manifest.get("closure_log_triples", 0) > MAX_LOG_TRIPLES)


def _difference(project: Project, base: Path, changed: list[InputFile],
                gone: list[str]) -> tuple[set, set, dict]:
    """(triples added, triples removed, relpath → new ParsedFile)."""
    from server.errors import TurtleSyntaxError
    from server.pipeline.parse import check_literals, parse_file

    new_files, errors = {}, []
    for f in changed:
        try:
            pf = parse_file(f.path, f.relpath, "graph")
        except TurtleSyntaxError as e:
            errors.append(e)
            continue
        errors.extend(check_literals(pf))
        new_files[f.relpath] = pf
    if errors:
        errors[0].errors = errors
        raise errors[0]
    old: set = set()
    for relpath in [f.relpath for f in changed] + gone:
        copy = base / INPUTS_DIR / relpath
        if copy.is_file():
            old.update(parse_file(copy, relpath, "graph").triples)
    new: set = set()
    for pf in new_files.values():
        new.update(pf.triples)
    return new - old, old - new, new_files


class _Everything:
    """Every input parsed (for a removal: which triples are still asserted)."""

    def __init__(self, parsed) -> None:
        self.parsed = parsed
        self.data_set = set(parsed.triples("graph"))


def _parse_everything(project: Project) -> _Everything:
    from server.pipeline.parse import parse_project

    return _Everything(parse_project(project))


def _link(source: Path, target: Path) -> None:
    try:
        target.hardlink_to(source)
    except OSError:
        if source.is_file():
            import shutil

            shutil.copyfile(source, target)


# --- validation of what the change can affect ----------------------------------------------


def _validate(project: Project, base: Path, writer: StoreWriter, changed: set,
              manifest: dict) -> tuple[list[str], str]:
    """(problems of the focus nodes the changed triples can affect, judged
    on the new asserted graph — [] when they conform —, what was checked)."""
    from server.pipeline.parse import ParsedProject, parse_file
    from server.pipeline.validate import problems_of

    files = [parse_file(p, project.relpath(p), project.role(p))
             for p in project.build_inputs() if project.role(p) != "graph"]
    parsed = ParsedProject(project=project, files=files)
    mixin = base / MIXIN_FILE
    if mixin.is_file():
        parsed.derived["mixin"] = mixin.read_text(encoding="utf-8")
    reach = shapes_reach(parsed.triples("shapes"))
    if not reach.bounded:
        raise FullBuildNeeded(f"the shapes' reach cannot be bounded ({reach.why})")
    if not parsed.count("shapes"):
        return [], "no shapes"
    index = StoreIndex(writer.store, GRAPH_ASSERTED)
    nodes = affected(index, changed, reach)
    triples = neighbourhood(index, nodes, reach)
    note = f"{len(nodes)} focus nodes the change can affect, over {len(triples)} triples"
    return problems_of(parsed, triples, nodes, data_triples=manifest["counts"]["asserted"]), note


# --- the closure -----------------------------------------------------------------------------


class Delta:
    """What changes in the entailed graph, and the closure state to keep."""

    def __init__(self, added: list, removed: list, inconsistencies: list[str], *,
                 log: bytes | None = None, log_triples: int = 0,
                 state_dir: Path | None = None) -> None:
        self.added, self.removed, self.inconsistencies = added, removed, inconsistencies
        self.log, self.log_triples, self.state_dir = log, log_triples, state_dir

    def keep_state(self, base: Path, store_dir: Path) -> bool:
        """Write the closure state into the new store: the base state and
        the grown log (extension), or the recomputed state (already there)."""
        target = store_dir / CLOSURE_DIR
        if self.log is None:
            return (target / CLOSURE_STATE).is_file()
        target.mkdir(exist_ok=True)
        _link(base / CLOSURE_DIR / CLOSURE_STATE, target / CLOSURE_STATE)
        (target / ADDED_LOG).write_bytes(self.log)
        return True


class ClosureExtension:
    """The saved closure, loaded in a child process as soon as the build
    starts, then extended with the added triples (Closure.add)."""

    def __init__(self, base: Path) -> None:
        import multiprocessing

        self.state = base / CLOSURE_DIR / CLOSURE_STATE
        self.log = base / CLOSURE_DIR / ADDED_LOG
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_extend_child, args=(self.state, self.log, child),
                                daemon=True)
        self.proc.start()
        child.close()
        from server.pipeline.limits import watch_child

        watch_child(self.proc.pid or 0)

    def add(self, added: set) -> Delta:
        data = ox.serialize(sorted(added, key=str), format=ox.RdfFormat.N_TRIPLES) or b""
        try:
            self.conn.send_bytes(data)
            kind, payload = pickle.loads(self.conn.recv_bytes())
        except (EOFError, OSError):
            self.proc.join()
            raise BuildError(f"the closure process died (exit code {self.proc.exitcode})") \
                from None
        if kind == "unavailable":
            raise FullBuildNeeded(payload)
        if kind == "error":
            raise BuildError(payload)
        ent_added, ent_removed, errors, log = payload
        parse = _triples
        old_log = self.log.read_bytes() if self.log.is_file() else b""
        return Delta(parse(ent_added), parse(ent_removed), errors, log=old_log + log,
                     log_triples=(old_log + log).count(b"\n"))

    def cancel(self) -> None:
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
        self.conn.close()


def _extend_child(state: Path, log: Path, conn) -> None:  # pragma: no cover - in the child
    try:
        closure = load_closure(state)
        if closure is None:
            conn.send_bytes(pickle.dumps(("unavailable", "the saved closure cannot be read")))
            return
        if log.is_file():
            closure.add(_triples(log.read_bytes()))
        data = conn.recv_bytes()
        delta = closure.add(_triples(data))
        errors = describe_all(closure.inconsistencies(), PREFIXES)
        nt = ox.RdfFormat.N_TRIPLES
        conn.send_bytes(pickle.dumps(("ok", (ox.serialize(delta.added, format=nt),
                                             ox.serialize(delta.removed, format=nt),
                                             errors, data))))
    except BaseException as e:
        conn.send_bytes(pickle.dumps(("error", f"the OWL RL closure failed: "
                                               f"{type(e).__name__}: {e}")))
    finally:
        conn.close()


def _triples(data: bytes) -> list:
    return [q.triple for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)] if data else []


def _recompute(everything: _Everything, writer: StoreWriter) -> Delta:
    """The whole closure again (a removal), and what changed in the entailed
    graph compared with the store's."""
    job = ClosureJob(everything.parsed, writer.path)
    try:
        figures = job.result()
        if figures.inconsistencies:
            return Delta([], [], figures.inconsistencies)
        new = set(job.entailed_path.read_bytes().splitlines())
        old = set((writer.store.dump(format=ox.RdfFormat.N_TRIPLES,
                                     from_graph=ox.NamedNode(GRAPH_ENTAILED)) or b"")
                  .splitlines())
        job.entailed_path.unlink()
        job.wait_saved()
    finally:
        job.cancel()
    return Delta(_triples(b"\n".join(new - old)), _triples(b"\n".join(old - new)), [])


def _manifest(old: dict, h: str, inputs: list[InputFile], new_files: dict,
              changed: list[InputFile], gone: list[str], timings: dict, saved: bool,
              delta: Delta) -> dict:
    import datetime as _dt

    m = dict(old)
    m.update({
        "hash": h,
        "built_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "files": [f.relpath for f in inputs],
        "inputs": {f.relpath: {"role": f.role, "sha256": f.sha256, "size": f.size}
                   for f in inputs},
        "closure_state": saved,
        "closure_log_triples": delta.log_triples,
        "incremental": {"changed": [f.relpath for f in changed], "gone": gone,
                        "entailed_added": len(delta.added),
                        "entailed_removed": len(delta.removed)},
        "timings": {k: round(v, 4) for k, v in timings.items()},
    })
    return m
