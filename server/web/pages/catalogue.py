"""Every entity's names, summaries, classes and facet values (year, actor,
country, sector, cited sentence), read from the store once per build: what
search and faceted browsing are built from.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from server.web.pages import data

FACETS = ("type", "year", "actor", "country", "sector", "sentence")


@dataclass
class Catalogue:
    names: dict[str, tuple] = field(default_factory=dict)       # IRI → ((text, lang), …)
    summaries: dict[str, tuple] = field(default_factory=dict)   # IRI → ((text, lang), …)
    types: dict[str, tuple] = field(default_factory=dict)       # IRI → (kop: class, …)
    facets: dict[str, dict[str, tuple]] = field(default_factory=dict)  # facet → IRI → values

    def members(self, cls: str) -> list[str]:
        """The instances of a class (asserted or inferred), in IRI order."""
        return sorted(i for i, ts in self.types.items() if cls in ts)

    def values(self, facet: str, iri: str) -> tuple:
        if facet == "type":
            return self.types.get(iri, ())
        return self.facets.get(facet, {}).get(iri, ())


def catalogue() -> Catalogue:
    return data.handle().cached("catalogue", build)


def build() -> Catalogue:
    cat = Catalogue()
    # One object per distinct string: an IRI or a language tag repeated on
    # many rows is kept once (this matters for the large synthetic graphs).
    intern = sys.intern
    names: dict[str, list] = {}
    summaries: dict[str, list] = {}
    for iri, kind, text, lang in data.searchable_texts():
        target = names if kind == "label" else summaries
        target.setdefault(intern(iri), []).append((text, intern(lang)))
    cat.names = {i: tuple(dict.fromkeys(v)) for i, v in names.items()}
    cat.summaries = {i: tuple(dict.fromkeys(v)) for i, v in summaries.items()}
    types: dict[str, list] = {}
    for iri, cls in data.entity_types():
        types.setdefault(intern(iri), []).append(intern(cls))
    cat.types = {i: tuple(sorted(v)) for i, v in types.items()}
    facets: dict[str, dict[str, list]] = {}
    for iri, facet, value in data.facet_rows():
        facets.setdefault(facet, {}).setdefault(intern(iri), []).append(intern(value))
    cat.facets = {f: {i: tuple(sorted(set(v))) for i, v in by.items()} for f, by in facets.items()}
    return cat
