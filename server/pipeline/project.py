"""A Köprü project directory: where its inputs and its build state are,
and a hash of the inputs. Standard library only (the warm-start path).

    ontology/*.ttl      the OWL ontology (every file but shapes.ttl)
    ontology/shapes.ttl the SHACL shapes
    graph/*.ttl         instance data
    queries/*.rq        the competency questions (gallery)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from server.config import settings
from server.errors import ProjectError

# Bump when the pipeline's output for the same inputs changes (parse, closure
# filtering, store layout, manifest format): a bump forces a rebuild.
PIPELINE_VERSION = "3"

SHAPES_FILE = "shapes.ttl"

# Libraries whose version changes what the build produces.
_VERSIONED_LIBS = ("rdflib", "owlrl", "pyshacl", "pyoxigraph")


@dataclass(frozen=True)
class InputFile:
    """One build input as it is now: where, what for, and its content's hash."""
    path: Path
    relpath: str
    role: str           # "ontology", "shapes" or "graph"
    sha256: str
    size: int


@dataclass(frozen=True)
class Project:
    root: Path
    state_override: Path | None = None

    def __init__(self, root: str | os.PathLike[str] = ".",
                 state_dir: str | os.PathLike[str] | None = None) -> None:
        """`state_dir` overrides KOPRU_STATE_DIR, which overrides <root>/.kopru."""
        path = Path(root).expanduser()
        if not path.exists():
            raise ProjectError(f"not a Köprü project: {path} does not exist")
        if not path.is_dir():
            raise ProjectError(f"not a Köprü project: {path} is not a directory")
        if not (path / "ontology").is_dir():
            raise ProjectError(f"not a Köprü project: {path} has no ontology/ folder")
        object.__setattr__(self, "root", path.resolve())
        object.__setattr__(self, "state_override",
                           Path(state_dir).expanduser().resolve() if state_dir else None)

    # --- inputs -----------------------------------------------------------

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def graph_dir(self) -> Path:
        return self.root / "graph"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    def ontology_files(self) -> list[Path]:
        """ontology/*.ttl except shapes.ttl, sorted."""
        return sorted(p for p in self.ontology_dir.glob("*.ttl")
                      if p.name != SHAPES_FILE and p.is_file())

    def shapes_file(self) -> Path | None:
        p = self.ontology_dir / SHAPES_FILE
        return p if p.is_file() else None

    def graph_files(self) -> list[Path]:
        """graph/*.ttl, sorted (none if graph/ is missing)."""
        if not self.graph_dir.is_dir():
            return []
        return sorted(p for p in self.graph_dir.glob("*.ttl") if p.is_file())

    def query_files(self) -> list[Path]:
        """queries/*.rq, sorted (none if queries/ is missing)."""
        if not self.queries_dir.is_dir():
            return []
        return sorted(p for p in self.queries_dir.glob("*.rq") if p.is_file())

    def build_inputs(self) -> list[Path]:
        """Every file whose content goes into the store. Raises ProjectError
        for one that is a link to somewhere outside the project: Köprü
        publishes what the project holds, never a file it points at."""
        shapes = self.shapes_file()
        paths = self.ontology_files() + ([shapes] if shapes else []) + self.graph_files()
        for path in paths:
            self._check_inside(path)
        return paths

    def _check_inside(self, path: Path) -> None:
        try:
            path.resolve().relative_to(self.root)
        except ValueError:
            raise ProjectError(
                f"{self.relpath(path)} is a link to a file outside the project; Köprü "
                "reads only files inside the project directory: copy the file in "
                "instead of linking to it") from None

    def relpath(self, path: str | os.PathLike[str]) -> str:
        """Path relative to the project root, with '/' separators."""
        p = Path(path)
        for candidate in (p.absolute(), p.resolve()):
            try:
                return candidate.relative_to(self.root).as_posix()
            except ValueError:
                continue
        return str(p)

    def role(self, path: Path) -> str:
        if path.parent == self.graph_dir:
            return "graph"
        return "shapes" if path.name == SHAPES_FILE else "ontology"

    def input_files(self) -> list[InputFile]:
        """Every build input with the sha256 of its content."""
        out = []
        for path in self.build_inputs():
            with open(path, "rb") as f:
                digest = hashlib.file_digest(f, "sha256")
                size = f.tell()
            out.append(InputFile(path, self.relpath(path), self.role(path),
                                 digest.hexdigest(), size))
        return out

    def input_hash(self, inputs: list[InputFile] | None = None) -> str:
        """sha256 over the pipeline version, library versions, and the
        relative path and content hash of every build input.

        queries/*.rq are not part of it: they are read from disk when used and
        do not change the store, so editing a query never forces a rebuild.
        """
        h = hashlib.sha256()
        h.update(f"kopru-pipeline {PIPELINE_VERSION}\n".encode())
        h.update(library_versions().encode())
        for f in self.input_files() if inputs is None else inputs:
            h.update(f"\0{f.relpath}\0{f.size}\0{f.sha256}".encode())
        return h.hexdigest()

    # --- state ------------------------------------------------------------

    @property
    def state_dir(self) -> Path:
        if self.state_override is not None:
            return self.state_override
        return settings().state_dir or self.root / ".kopru"

    @property
    def stores_dir(self) -> Path:
        return self.state_dir / "stores"

    @property
    def current_link(self) -> Path:
        return self.state_dir / "current"


_lib_versions_cache: str | None = None


def library_versions() -> str:
    global _lib_versions_cache
    if _lib_versions_cache is None:
        from importlib import metadata

        parts = []
        for name in _VERSIONED_LIBS:
            try:
                parts.append(f"{name}={metadata.version(name)}")
            except metadata.PackageNotFoundError:
                parts.append(f"{name}=missing")
        _lib_versions_cache = " ".join(parts) + "\n"
    return _lib_versions_cache
