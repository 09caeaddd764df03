"""The OWL RL closure of a build, beside validation.

On a machine with more than one core (and KOPRU_PARALLEL not 0) the closure
runs in a forked child while the parent validates and loads the asserted
graphs; otherwise in this process when its result is asked for. Either way
it writes into the new store's directory:

    entailed.nt            the entailed graph, N-Triples (the parent bulk-loads it)
    closure/state.pickle   the fast engine's Closure, for the next incremental
                           build to extend (see server/pipeline/incremental.py)

and hands back the closure's figures (a ClosureFigures: no triples, the
inconsistencies described for people).
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from server.config import settings
from server.errors import BuildError, KopruError
from server.reasoning.inconsistency import describe_all

CLOSURE_DIR = "closure"
CLOSURE_STATE = "state.pickle"
ENTAILED_FILE = "entailed.nt"


@dataclass
class ClosureFigures:
    """What the build records of a closure (its triples are in a file)."""
    entailed_count: int = 0
    closure_size: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    inconsistencies: list[str] = field(default_factory=list)
    seconds: float = 0.0
    filter_seconds: float = 0.0
    engine: str = "fast"
    fallback: str = ""

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


class ClosureJob:
    """The closure of `parsed`, written into `work_dir` (see above)."""

    def __init__(self, parsed, work_dir: Path) -> None:
        self.parsed = parsed
        self.entailed_path = work_dir / ENTAILED_FILE
        self.state_path = work_dir / CLOSURE_DIR / CLOSURE_STATE
        self.proc = None
        self.conn = None
        self.parallel = False
        self.saved = False
        self._closure = None      # in-process only: the Closure, to save after loading
        if settings().parallel_build and (os.cpu_count() or 1) > 1:
            try:
                import multiprocessing

                ctx = multiprocessing.get_context("fork")
                self.conn, child = ctx.Pipe(duplex=False)
                self.proc = ctx.Process(target=_child, args=(self, child), daemon=True)
                self.proc.start()
                child.close()
                self.parallel = True
                from server.pipeline.limits import watch_child

                watch_child(self.proc.pid or 0)
            except (ValueError, OSError):  # no fork here: run it in-process later
                self.proc = self.conn = None

    def result(self) -> ClosureFigures:
        """The closure's figures; the entailed graph is in `entailed_path`."""
        if self.proc is None:
            kind, payload = _compute(self, save=False)
        else:
            kind, payload = self._receive()
        if kind == "error":
            raise BuildError(payload)
        return ClosureFigures(**payload)

    def wait_saved(self) -> bool:
        """Wait until the Closure is saved for incremental builds (or not
        saved: another engine ran, or saving failed). True if saved."""
        if self.proc is None:
            if not self.saved and self._closure is not None:
                self.saved = _save(self._closure, self.state_path)
            return self.saved
        kind, _payload = self._receive()
        self.proc.join()
        return kind == "saved"

    def _receive(self):
        assert self.conn is not None and self.proc is not None
        try:
            return pickle.loads(self.conn.recv_bytes())
        except EOFError:
            self.proc.join()
            code = self.proc.exitcode
            why = ("it was stopped (out of memory?)" if code is not None and code < 0
                   else f"exit code {code}")
            raise BuildError(f"the closure process died ({why})") from None

    def cancel(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()
                self.proc.join()
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None


def _child(job: ClosureJob, conn) -> None:  # pragma: no cover - runs in the child
    try:
        conn.send_bytes(pickle.dumps(_compute(job, save=True, conn=conn)))
    except BaseException as e:  # report anything, the parent decides
        conn.send_bytes(pickle.dumps(("error", _describe(e))))
    conn.close()


def _compute(job: ClosureJob, *, save: bool, conn=None):
    """("ok", figures): the closure computed, its entailed graph written.
    In the child (`save`), the figures are sent at once and the Closure is
    then saved: the returned message says whether that worked."""
    try:
        closure, r = _closure(job.parsed, release=save)
        ox.serialize(r.entailed, output=str(job.entailed_path),
                     format=ox.RdfFormat.N_TRIPLES)
        figures = {k: getattr(r, k) for k in ClosureFigures.__dataclass_fields__
                   if hasattr(r, k)}
        figures["entailed_count"] = len(r.entailed)
        figures["inconsistencies"] = describe_all(r.inconsistencies, job.parsed.prefixes)
    except BaseException as e:
        return "error", _describe(e)
    job._closure = closure
    if not save:
        return "ok", figures
    conn.send_bytes(pickle.dumps(("ok", figures)))
    del r
    return ("saved" if closure is not None and _save(closure, job.state_path)
            else "not saved", None)


def _closure(parsed, release: bool = False):
    """(the fast engine's Closure or None, the InferResult);
    `release`: drop the parsed data triples once encoded (in the child)."""
    from server.reasoning.infer import infer_oxigraph

    if settings().reasoner == "fast":
        from server.reasoning.fast import Closure, Unsupported

        try:
            closure = Closure(parsed.triples("ontology"), parsed.triples("graph"),
                              incremental=False)
        except Unsupported:
            return None, infer_oxigraph(parsed)   # says why it fell back
        if release:
            parsed.release("graph")   # encoded in the closure: not needed here any more
        return closure, closure.result()
    return None, infer_oxigraph(parsed)


def _save(closure, path: Path) -> bool:
    import gc

    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        gc.disable()   # millions of containers without cycles: no need to walk them
        with open(tmp, "wb") as f:
            pickle.dump(closure, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        return True
    except (OSError, pickle.PicklingError, RecursionError):
        tmp.unlink(missing_ok=True)
        return False
    finally:
        gc.enable()


def load_closure(path: Path):
    """A saved Closure, or None if it cannot be read."""
    import gc

    gc.disable()
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except Exception:  # missing, truncated, from another version of the code
        return None
    finally:
        gc.enable()


def _describe(e: BaseException) -> str:
    import errno

    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return ("no space left on the device while writing the closure; the previous "
                "store is still served. Free some space and build again.")
    if isinstance(e, KopruError):   # the closure said what is wrong with the input
        return e.message
    if isinstance(e, MemoryError):
        return "the OWL RL closure ran out of memory"
    return f"the OWL RL closure failed: {type(e).__name__}: {e}"
