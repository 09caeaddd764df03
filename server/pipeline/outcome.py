"""What a build hands back, what a built store keeps beside its database,
and how a new store becomes current — shared by the whole build
(server/pipeline/build.py) and the incremental one (incremental.py)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from server.errors import BuildError
from server.pipeline.project import InputFile, Project
from server.stores.state import swap_current, write_error_message, write_manifest

if TYPE_CHECKING:   # validate.py is heavy; a warm start does not import it
    from server.pipeline.validate import ValidationResult

Progress = Callable[[str, float, str], None]

INPUTS_DIR = "inputs"            # a store keeps a copy of the files it was built from
MIXIN_FILE = "validation-mixin.nt"


@dataclass
class BuildResult:
    skipped: bool                 # True: warm start, the current store was up to date
    hash: str
    store_dir: Path | None
    manifest: dict = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)   # this run's steps
    validation: ValidationResult | None = None   # warnings may be in it
    previous_store_dir: Path | None = None
    incremental: bool = False     # True: built from the previous store and the changes

    @property
    def counts(self) -> dict[str, int]:
        return self.manifest.get("counts", {})


def keep_inputs(store_dir: Path, inputs: list[InputFile], *, base: Path | None = None,
                base_inputs: dict | None = None) -> None:
    """Copy the build inputs into the store: what an incremental build
    compares the next edit with. From `base`'s copies, by hard link, where
    the content is the same. A file that changed since it was hashed (an
    edit during the build) is left out: the next build then rebuilds."""
    import hashlib

    for f in inputs:
        target = store_dir / INPUTS_DIR / f.relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        if base is not None and (base_inputs or {}).get(f.relpath, {}).get("sha256") == f.sha256:
            try:
                target.hardlink_to(base / INPUTS_DIR / f.relpath)
                continue
            except OSError:
                pass
        shutil.copyfile(f.path, target)
        with open(target, "rb") as copy:
            if hashlib.file_digest(copy, "sha256").hexdigest() != f.sha256:
                target.unlink()


def finish(project: Project, store_dir: Path, manifest: dict, timings: dict,
           t_start: float, say: Progress, *,
           validation: ValidationResult | None = None,
           incremental: bool = False) -> BuildResult:
    """Swap the new store in and record the whole run's timings."""
    t0 = time.perf_counter()
    try:
        previous = swap_current(project, store_dir)
    except OSError as e:
        shutil.rmtree(store_dir, ignore_errors=True)
        raise BuildError(write_error_message(e, project.state_dir)) from None
    timings["swap"] = time.perf_counter() - t0
    timings["total"] = time.perf_counter() - t_start
    say("swap", timings["swap"], f"current → {store_dir.name}")
    manifest["timings"] = {k: round(v, 4) for k, v in timings.items()}
    try:  # best effort: the store is complete and current already
        write_manifest(store_dir, manifest)
    except OSError:
        pass
    return BuildResult(skipped=False, hash=manifest["hash"], store_dir=store_dir,
                       manifest=manifest, timings=timings, validation=validation,
                       previous_store_dir=previous, incremental=incremental)
