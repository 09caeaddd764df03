"""Every entity's names and summaries (what search indexes), and its classes
and facet values (year, actor, country, sector, cited sentence: what browse
filters by), read from the store once per build and process. On a large
graph reading them takes a while, so they are made in the background
(`Handle.prepared`) and a page asks with how long it can wait.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from server import namespaces as ns
from server.web.pages import data

# How long a page waits for the catalogue or the search index before it
# answers without them: well inside a worker's 30 s watchdog.
WAIT = 15.0


@dataclass
class Texts:
    names: dict[str, tuple] = field(default_factory=dict)       # IRI → ((text, lang), …)
    summaries: dict[str, tuple] = field(default_factory=dict)   # IRI → ((text, lang), …)


@dataclass
class Catalogue:
    texts: Texts
    types: dict[str, tuple] = field(default_factory=dict)       # IRI → (kop: class, …)
    facets: dict[str, dict[str, tuple]] = field(default_factory=dict)  # facet → IRI → values

    def members(self, cls: str) -> list[str]:
        """The instances of a class (asserted, or through a subclass), in IRI order."""
        return sorted(i for i, ts in self.types.items() if cls in ts)

    def values(self, facet: str, iri: str) -> tuple:
        return self.facets.get(facet, {}).get(iri, ())


def texts() -> Texts:
    """Names and summaries (made once per build and process)."""
    return data.handle().cached("texts", _texts)


def catalogue(wait: float = WAIT) -> Catalogue | None:
    """The catalogue, or None when it is still being made after `wait` s."""
    return data.handle().prepared("catalogue", build, wait)


def _texts() -> Texts:
    # One object per distinct string: an IRI or a language tag repeated on
    # many rows is kept once (this matters on the large synthetic graphs).
    intern = sys.intern
    names: dict[str, list] = {}
    summaries: dict[str, list] = {}
    for iri, kind, text, lang in data.searchable_texts():
        target = names if kind == "label" else summaries
        target.setdefault(intern(iri), []).append((text, intern(lang)))
    return Texts({i: tuple(dict.fromkeys(v)) for i, v in names.items()},
                 {i: tuple(dict.fromkeys(v)) for i, v in summaries.items()})


def build() -> Catalogue:
    intern = sys.intern
    meta = data.ontology_meta()
    asserted: dict[str, set] = {}
    for iri, cls in data.asserted_types():
        asserted.setdefault(intern(iri), set()).add(cls)
    types = {}
    for iri, classes in asserted.items():
        closed = set(classes)
        for c in classes:
            closed.update(a for a in (meta.get(c) or {}).get("ancestors", []) if a.startswith(ns.KOP))
        types[iri] = tuple(sorted(intern(c) for c in closed))
    countries = {i for i, ts in types.items() if ns.KOP + "Country" in ts}
    facets: dict[str, dict[str, set]] = {}
    for iri, facet, value in data.facet_rows():
        if facet == "places":
            if value not in countries or value == iri:
                continue
            facet = "country"
        facets.setdefault(facet, {}).setdefault(intern(iri), set()).add(intern(value))
    return Catalogue(texts(), types,
                     {f: {i: tuple(sorted(v)) for i, v in by.items()} for f, by in facets.items()})
