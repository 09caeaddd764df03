"""What a closure hands back, whichever engine computed it: one result type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import rdflib


@dataclass
class InferResult:
    # The entailed graph, filtered: pyoxigraph Triples (`infer_oxigraph`,
    # `fast.materialise`) or an rdflib Graph (`infer`).
    entailed: Any
    inconsistencies: list = field(default_factory=list)     # inconsistency.Inconsistency
    dropped: dict[str, int] = field(default_factory=dict)   # by noise.Drop reason
    closure_size: int = 0           # triples the engine held (generalized RDF)
    seconds: float = 0.0            # the closure itself
    tbox_seconds: float = 0.0       # fast engine: owlrl over the schema (0 when cached)
    filter_seconds: float = 0.0     # noise filter and term conversion
    engine: str = "fast"            # which engine ran (see infer.ENGINES)
    fallback: str = ""              # why "fast" fell back to owlrl, if it did
    stats: dict = field(default_factory=dict)
    # `infer` also hands back its premises as rdflib graphs.
    asserted: rdflib.Graph | None = None
    ontology: rdflib.Graph | None = None

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())
