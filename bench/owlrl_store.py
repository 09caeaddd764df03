#!/usr/bin/env python3
"""owlrl's plain closure on rdflib's two in-memory stores, in one go.

    .venv/bin/python bench/owlrl_store.py [--synthetic N] [--rounds R]

The shipped project with N synthetic triples beside it (bench/generate.py,
default 1,000: what `make test` compares against the fast engine). Each
round closes the same premises with owlrl's DeductiveClosure (the "exact"
engine's settings) on a Graph over rdflib's default store ("Memory", which
keeps each triple's named graphs) and over "SimpleMemory" (no named graphs,
what server/reasoning/owlrl_engine.py uses), alternately, and checks that
both closures hold the same triples. Prints the median CPU seconds of each
and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import generate  # noqa: E402


def premises_of(project: Path) -> list:
    from server.pipeline.parse import parse_project
    from server.pipeline.project import Project
    from server.terms import RdflibTerms

    parsed = parse_project(Project(project))
    term = RdflibTerms().term
    return [(term(t.subject), term(t.predicate), term(t.object))
            for role in ("ontology", "graph") for t in parsed.triples(role)]


def close(premises: list, store: str) -> tuple[float, set]:
    import owlrl
    from rdflib import Graph

    from server.reasoning.owlrl_engine import checked_datatypes

    graph = Graph(store=store)
    for t in premises:
        graph.add(t)
    t0 = time.process_time()
    with checked_datatypes():
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                               datatype_axioms=False).expand(graph)
    return time.process_time() - t0, set(graph)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=int, default=1_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="kopru-owlrl-") as tmp:
        synthetic = Path(tmp) / "s"
        (synthetic / "graph").mkdir(parents=True)      # none when --synthetic 0
        if args.synthetic:
            generate.generate(synthetic, args.synthetic, seed=1, file_triples=500)
        premises = premises_of(generate.beside_shipped(Path(tmp) / "p", synthetic))
    times: dict[str, list[float]] = {"Memory": [], "SimpleMemory": []}
    closures: dict[str, set] = {}
    for _ in range(args.rounds):
        for store in times:
            seconds, closures[store] = close(premises, store)
            times[store].append(seconds)
    if closures["Memory"] != closures["SimpleMemory"]:
        sys.exit("the two stores gave different closures")
    base, other = (statistics.median(times[s]) for s in times)
    print(f"{len(premises):,} premises, {len(closures['Memory']):,} triples after the closure "
          f"(the same on both stores)")
    print(f"owlrl on Memory (rdflib's default): {base:.2f} s CPU; on SimpleMemory: {other:.2f} s "
          f"({other / base:.2f}×), medians of {args.rounds}")


if __name__ == "__main__":
    main()
