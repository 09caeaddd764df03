"""The project's saved queries (queries/*.rq): the gallery and the
competency questions.

Each file starts with header comments:

    # title: Turkish exports to the Western Balkans, ranked
    # description: Which Western Balkan countries received Turkish exports…

followed by the SPARQL text (with its own PREFIX declarations). The slug is
the file name without `.rq`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from server.errors import QueryFileError

_HEADER = re.compile(r"^#\s*([A-Za-z][\w-]*)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class QueryFile:
    slug: str
    title: str
    description: str
    text: str          # the whole file, header comments included (valid SPARQL)
    path: Path | None = None
    meta: tuple[tuple[str, str], ...] = ()   # every `# key: value` header, in order

    def get(self, key: str, default: str | None = None) -> str | None:
        for k, v in self.meta:
            if k == key:
                return v
        return default


def parse_query_text(text: str, slug: str, path: Path | None = None) -> QueryFile:
    """Read the header comments (leading lines starting with '#')."""
    meta: list[tuple[str, str]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            break
        m = _HEADER.match(stripped)
        if m:
            meta.append((m.group(1).lower(), m.group(2)))
    d = dict(meta)
    where = str(path) if path else slug
    if not d.get("title"):
        raise QueryFileError(f"{where}: no '# title:' header comment")
    return QueryFile(slug=slug, title=d["title"], description=d.get("description", ""),
                     text=text, path=path, meta=tuple(meta))


def load_query(path: str | Path) -> QueryFile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise QueryFileError(f"{path}: not valid UTF-8") from None
    return parse_query_text(text, path.stem, path)


def load_queries(project) -> list[QueryFile]:
    """Every queries/*.rq of a project, sorted by file name. Raises
    QueryFileError naming the file if one lacks a title."""
    return [load_query(p) for p in project.query_files()]


def find_query(project, slug: str) -> QueryFile | None:
    path = project.queries_dir / f"{slug}.rq"
    if not re.fullmatch(r"[A-Za-z0-9._-]+", slug) or not path.is_file():
        return None
    return load_query(path)
