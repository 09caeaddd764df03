#!/usr/bin/env python3
"""The scale curve: Köprü's build at 10k, 100k and 1M triples.

    python bench/scale.py [--sizes 10k,100k,1M] [--baseline DIR] [--workdir DIR]
                          [--closure] [--owlrl 100k] [--write-doc docs/scale.md]

For each size, a synthetic project (bench/generate.py, seed 1) and:

- `kopru build --force --project DIR` in a fresh process, as a user runs it:
  wall time, the per-step times the build records in its manifest (parse,
  validate, closure, load), and the peak memory of the whole process tree
  (sum of PSS, sampled every 0.2 s: pages a forked child shares counted once);
- a one-file edit: one new fact appended to one graph file, then `kopru
  build` (not forced) — what a user waits after editing one file (an
  incremental build, server/pipeline/incremental.py);
- with --baseline DIR (another checkout, e.g. `git worktree add /tmp/base
  main`): the same two measures with that code, right after, on the same
  files, for the ratio (the machine is shared: compare within one run);
- with --closure: the closure alone, fast engine, in a fresh process; with
  --owlrl SIZE also owlrl tuned and plain up to that size.

With --write-doc the table is written into docs/scale.md between the
markers `<!-- scale-table -->` and `<!-- /scale-table -->`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

GOAL_SECONDS = 60                 # a 1M-triple build…
GOAL_BYTES = 3 * 1024 ** 3        # …within this much memory
GOAL_EDIT_SECONDS = 5             # one-file edit at 1M


def parse_size(text: str) -> int:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmM]?)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 10k, 1M)")
    n = float(m.group(1)) * {"": 1, "k": 1e3, "m": 1e6}[m.group(2).lower()]
    return int(n)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else \
        f"{n // 1000}k" if n % 1000 == 0 else str(n)


# --- memory of a process tree ----------------------------------------------------------


def _pss_rss(pid: int) -> tuple[int, int]:
    pss = rss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
                elif line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return pss, rss


class TreeMemory(threading.Thread):
    """Peak PSS (and RSS) summed over a process and its descendants."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss = 0
        self.done = threading.Event()

    def run(self) -> None:
        # Imported here, in the measuring process only: the closure children
        # run this file with another checkout's `server` on their path.
        from server.pipeline.limits import process_tree

        while not self.done.is_set():
            pss = rss = 0
            for p in process_tree(self.pid):
                a, b = _pss_rss(p)
                pss += a
                rss += b
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss = max(self.peak_rss, rss)
            self.done.wait(self.interval)


def run_measured(cmd: list[str], env: dict,
                 cwd: Path = REPO) -> tuple[float, int, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    mem = TreeMemory(proc.pid)
    mem.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    mem.done.set()
    mem.join()
    r = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, mem.peak_pss, r


def kopru(project: Path, args: list[str], state: str, repo: Path = REPO, **env_extra: str):
    """`python -m server` of the checkout `repo` (this one, or a baseline)."""
    env = dict(os.environ, KOPRU_STATE_DIR=state, PYTHONUNBUFFERED="1",
               PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(repo), **env_extra)
    return run_measured([sys.executable, "-m", "server", "--project", str(project), *args],
                        env, cwd=repo)


def manifest(state: str) -> dict:
    return json.loads((Path(state) / "current").resolve().joinpath("manifest.json")
                      .read_text())


# --- the closure alone, in a child process ---------------------------------------------


def closure_child(project: str, engine: str) -> None:
    import resource

    from server.pipeline.parse import parse_project
    from server.pipeline.project import Project
    from server.reasoning.infer import infer, infer_oxigraph

    parsed = parse_project(Project(project))
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, cpu0 = time.perf_counter(), time.process_time()
    if engine == "fast":
        r = infer_oxigraph(parsed, engine="fast")
        n = len(r.entailed)
    else:
        _ = (parsed.data_graph, parsed.ontology_graph)
        t0, cpu0 = time.perf_counter(), time.process_time()
        r = infer(parsed, engine=engine)
        n = len(r.entailed)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(json.dumps({"engine": r.engine, "seconds": r.seconds,
                      "filter_seconds": r.filter_seconds, "wall": wall, "cpu": cpu, "entailed": n,
                      "inconsistencies": len(r.inconsistencies),
                      "maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "maxrss_after_parse": rss0 * 1024}))


def closure_alone(project: Path, engine: str) -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    wall, pss, r = run_measured([sys.executable, __file__, "--child-closure", str(project),
                                 engine], env)
    return json.loads(r.stdout.strip().splitlines()[-1])


# --- SHACL on Oxigraph: a feasibility prototype (not used by the build) ----------------
#
# pyshacl checks each focus node against each constraint in Python; at a
# million triples that is minutes. The same constraints, compiled to SPARQL
# and run by Oxigraph over the whole graph at once, take seconds. This
# compiles the SHACL-core subset ontology/shapes.ttl uses (targets by class,
# subjects/objects of, node; min/maxCount, class, datatype, pattern,
# languageIn, nodeKind, minLength, minInclusive, hasValue, node, or,
# qualified value shapes; SPARQL-based constraints) into one SELECT per
# constraint that returns the violating focus nodes (and values). It is
# here to measure (`--shacl-probe`); server/validate.py still runs pyshacl.

class ShaclUnsupported(Exception):
    pass


def _sparql_term(t) -> str:
    from rdflib import Literal, URIRef

    if isinstance(t, URIRef):
        return f"<{t}>"
    if isinstance(t, Literal):
        return t.n3()
    raise ShaclUnsupported(f"term {t!r}")


class ShaclToSparql:
    RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"

    def __init__(self, shapes) -> None:
        from rdflib.namespace import SH

        self.g, self.SH = shapes, SH
        self.n = 0

    def var(self) -> str:
        self.n += 1
        return f"?v{self.n}"

    def _list(self, head) -> list:
        from rdflib.collection import Collection

        return list(Collection(self.g, head))

    def targets(self, shape) -> str | None:
        SH, g = self.SH, self.g
        parts = []
        for c in g.objects(shape, SH.targetClass):
            parts.append(f"?this {self.RDF_TYPE}/{self.SUBCLASS}* {_sparql_term(c)} .")
        for p in g.objects(shape, SH.targetSubjectsOf):
            parts.append(f"?this {_sparql_term(p)} [] .")
        for p in g.objects(shape, SH.targetObjectsOf):
            parts.append(f"[] {_sparql_term(p)} ?this .")
        nodes = list(g.objects(shape, SH.targetNode))
        if nodes:
            parts.append("VALUES ?this { " + " ".join(_sparql_term(n) for n in nodes) + " }")
        if list(g.objects(shape, SH.target)):
            raise ShaclUnsupported("sh:target (resolve SPARQL targets first)")
        if not parts:
            return None
        return " UNION ".join("{ " + p + " }" for p in parts)

    def value_condition(self, shape, v: str, *, of_property: bool = False) -> str:
        """A SPARQL expression true iff node `v` meets the value constraints
        of `shape` (for a property shape: each of its values must)."""
        SH, g = self.SH, self.g
        conds = []
        for c in g.objects(shape, SH["class"]):
            cls = _sparql_term(c)
            conds.append(f"EXISTS {{ {v} {self.RDF_TYPE}/{self.SUBCLASS}* {cls} }}")
        for d in g.objects(shape, SH.datatype):
            conds.append(f"(isLiteral({v}) && datatype({v}) = {_sparql_term(d)})")
        for pat in g.objects(shape, SH.pattern):
            flags = g.value(shape, SH.flags)
            fl = f", {_sparql_term(flags)}" if flags is not None else ""
            conds.append(f"(!isBlank({v}) && regex(str({v}), {_sparql_term(pat)}{fl}))")
        for head in g.objects(shape, SH.languageIn):
            langs = self._list(head)
            conds.append(f"(isLiteral({v}) && ("
                         + " || ".join(f'langMatches(lang({v}), {_sparql_term(x)})'
                                       for x in langs) + "))")
        for k in g.objects(shape, SH.nodeKind):
            fn = {SH.IRI: "isIRI", SH.BlankNode: "isBlank", SH.Literal: "isLiteral"}.get(k)
            if fn is None:
                raise ShaclUnsupported(f"sh:nodeKind {k}")
            conds.append(f"{fn}({v})")
        for n in g.objects(shape, SH.minLength):
            conds.append(f"(!isBlank({v}) && strlen(str({v})) >= {int(n)})")
        for n in g.objects(shape, SH.minInclusive):
            conds.append(f"({v} >= {_sparql_term(n)})")
        if not of_property:
            for x in g.objects(shape, SH.hasValue):
                conds.append(f"sameTerm({v}, {_sparql_term(x)})")
        for s2 in g.objects(shape, SH.node):
            conds.append(self.node_condition(s2, v))
        for head in g.objects(shape, SH["or"]):
            conds.append("(" + " || ".join(self.node_condition(x, v)
                                           for x in self._list(head)) + ")")
        if not of_property and g.value(shape, SH.path) is not None:
            raise ShaclUnsupported("a property shape used as a value condition")
        return " && ".join(conds) if conds else "true"

    def node_condition(self, shape, v: str) -> str:
        """Conformance of `v` to a whole (nested) shape: its own value
        constraints and its property shapes (minCount 1, hasValue, value
        constraints), as one expression."""
        SH, g = self.SH, self.g
        path = g.value(shape, SH.path)
        props = list(g.objects(shape, SH.property))
        if path is not None:
            props = [shape]
            own = "true"
        else:
            own = self.value_condition(shape, v)
        conds = [own] if own != "true" else []
        for ps in props:
            p = _sparql_term(g.value(ps, SH.path))
            if g.value(ps, SH.qualifiedValueShape) is not None:
                raise ShaclUnsupported("nested sh:qualifiedValueShape")
            mx = g.value(ps, SH.maxCount)
            if mx is not None:
                if int(mx) != 1:
                    raise ShaclUnsupported("nested maxCount > 1")
                a, b = self.var(), self.var()
                conds.append(f"NOT EXISTS {{ {v} {p} {a} , {b} FILTER(!sameTerm({a}, {b})) }}")
            mc = g.value(ps, SH.minCount)
            if mc is not None:
                if int(mc) != 1:
                    raise ShaclUnsupported("nested minCount > 1")
                conds.append(f"EXISTS {{ {v} {p} [] }}")
            for x in g.objects(ps, SH.hasValue):
                conds.append(f"EXISTS {{ {v} {p} {_sparql_term(x)} }}")
            w = self.var()
            vc = self._value_only(ps, w)
            if vc != "true":
                conds.append(f"NOT EXISTS {{ {v} {p} {w} FILTER(!({vc})) }}")
        return "(" + " && ".join(conds) + ")" if conds else "true"

    def _value_only(self, ps, w: str) -> str:
        return self.value_condition(ps, w, of_property=True)

    def queries(self):
        """(shape, path, constraint, SELECT) for every constraint of every
        targeted shape; the SELECT returns ?this (and ?value) per violation."""
        from rdflib.namespace import RDF

        SH, g = self.SH, self.g
        out = []
        for shape in sorted(set(g.subjects(RDF.type, SH.NodeShape)), key=str):
            if g.value(shape, SH.deactivated) is not None:
                raise ShaclUnsupported("sh:deactivated")
            t = self.targets(shape)
            if t is None:
                continue
            own = self.value_condition(shape, "?this")
            if own != "true":
                out.append((shape, None, "node",
                            f"SELECT DISTINCT ?this WHERE {{ {t} FILTER(!({own})) }}"))
            for ps in g.objects(shape, SH.property):
                out.extend(self.property_queries(shape, ps, t))
            for sc in g.objects(shape, SH.sparql):
                q = str(g.value(sc, SH.select)).replace("$this", "?this")
                out.append((shape, None, "sparql", q, sc))
        return out

    def property_queries(self, shape, ps, t: str):
        SH, g = self.SH, self.g
        path = g.value(ps, SH.path)
        p = _sparql_term(path)
        out = []
        mn, mx = g.value(ps, SH.minCount), g.value(ps, SH.maxCount)
        if mn is not None and int(mn) == 1:
            out.append((shape, path, "minCount",
                        f"SELECT DISTINCT ?this WHERE {{ {t} FILTER NOT EXISTS "
                        f"{{ ?this {p} [] }} }}"))
        elif mn is not None:
            out.append((shape, path, "minCount",
                        f"SELECT ?this WHERE {{ {t} OPTIONAL {{ ?this {p} ?value }} }} "
                        f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {int(mn)})"))
        if mx is not None:
            out.append((shape, path, "maxCount",
                        f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {t} }} }} "
                        f"?this {p} ?value }} GROUP BY ?this "
                        f"HAVING (COUNT(DISTINCT ?value) > {int(mx)})"))
        q = g.value(ps, SH.qualifiedValueShape)
        if q is not None:
            cond = self.value_condition(q, "?value")
            qmin, qmax = g.value(ps, SH.qualifiedMinCount), g.value(ps, SH.qualifiedMaxCount)
            base = (f"SELECT ?this WHERE {{ {{ SELECT DISTINCT ?this WHERE {{ {t} }} }} "
                    f"OPTIONAL {{ ?this {p} ?value FILTER({cond}) }} }} GROUP BY ?this ")
            if qmin is not None:
                out.append((shape, path, "qualifiedMinCount",
                            base + f"HAVING (COUNT(DISTINCT ?value) < {int(qmin)})"))
            if qmax is not None:
                out.append((shape, path, "qualifiedMaxCount",
                            base + f"HAVING (COUNT(DISTINCT ?value) > {int(qmax)})"))
        vc = self._value_only(ps, "?value")
        if vc != "true":
            out.append((shape, path, "value",
                        f"SELECT DISTINCT ?this ?value WHERE {{ {{ SELECT DISTINCT ?this "
                        f"WHERE {{ {t} }} }} ?this {p} ?value FILTER(!({vc})) }}"))
        for x in g.objects(ps, SH.hasValue):
            out.append((shape, path, "hasValue",
                        f"SELECT DISTINCT ?this WHERE {{ {t} FILTER NOT EXISTS "
                        f"{{ ?this {p} {_sparql_term(x)} }} }}"))
        return out


def shacl_on_oxigraph(parsed) -> tuple[set, dict]:
    """Violations (shape, focus, path, constraint) of the shapes over
    data + ontology, by SPARQL on Oxigraph; and timings."""
    import pyoxigraph as ox

    from server.pipeline.validate import resolve_sparql_targets

    timings = {}
    t0 = time.perf_counter()
    shapes = resolve_sparql_targets(parsed)
    queries = ShaclToSparql(shapes).queries()
    timings["compile"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    # pyshacl mixes into the data graph only the ontology's declarations and
    # axioms (and owl:NamedIndividuals with their triples): the same here.
    from pyshacl.rdfutil.inoculate import inoculate
    from rdflib import Graph

    from server.terms import to_oxigraph_term

    mixed = inoculate(Graph(), parsed.ontology_graph)
    store = ox.Store()
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                      for t in parsed.triples("graph"))
    store.bulk_extend(ox.Quad(to_oxigraph_term(s), to_oxigraph_term(p), to_oxigraph_term(o),
                              ox.DefaultGraph()) for s, p, o in mixed)
    timings["load"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = set()
    prefixes = {"kop": "https://w3id.org/kopru/ontology#",
                "owl": "http://www.w3.org/2002/07/owl#",
                "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
                "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
    slowest = []
    for shape, path, kind, query, *_rest in queries:
        t1 = time.perf_counter()
        if kind == "sparql":
            from rdflib.namespace import SH

            targets = {n.n3() for n in shapes.objects(shape, SH.targetNode)}
            for row in store.query(query, prefixes=prefixes):
                if str(row["this"]) in targets or not targets:
                    found.add((str(shape), str(row["this"]), str(row["path"]), kind))
        else:
            for row in store.query(query):
                found.add((str(shape), str(row["this"]), f"<{path}>" if path else "", kind))
        slowest.append((time.perf_counter() - t1, str(shape).split("#")[-1],
                        str(path).split("#")[-1] if path else "", kind))
    timings["queries"] = time.perf_counter() - t0
    timings["n_queries"] = len(queries)
    timings["slowest"] = sorted(slowest, reverse=True)[:5]
    return found, timings


def shacl_probe(project: Path, with_pyshacl: bool) -> dict:
    from server.pipeline.parse import parse_project
    from server.pipeline.project import Project
    from server.pipeline.validate import validate

    parsed = parse_project(Project(project))
    found, t = shacl_on_oxigraph(parsed)
    out = {"oxigraph": t, "oxigraph_violations": len(found)}
    print(f"   SHACL as SPARQL on Oxigraph: {t['n_queries']} queries, compile "
          f"{t['compile']:.1f} s, load {t['load']:.1f} s, queries {t['queries']:.1f} s; "
          f"{len(found)} violations", flush=True)
    for secs, shape, path, kind in t["slowest"]:
        print(f"      {secs:6.2f} s  {shape} {path} {kind}")
    if with_pyshacl:
        t0 = time.perf_counter()
        r = validate(parsed)
        out["pyshacl"] = time.perf_counter() - t0
        py = {(v.focus_node, v.path) for v in r.errors}
        ox_ = {(f, p or None) for _s, f, p, _k in found}
        out["pyshacl_violations"] = len(r.errors)
        out["same_focus_paths"] = py == ox_
        print(f"   pyshacl: {out['pyshacl']:.1f} s, {len(r.errors)} violations; same "
              f"(focus node, path) pairs: {py == ox_}", flush=True)
        if py != ox_:
            print("      only pyshacl:", sorted(py - ox_)[:5])
            print("      only oxigraph:", sorted(ox_ - py)[:5])
    return out


def generate_prefixes() -> str:
    import generate

    return generate.PREFIXES


# --- one size -----------------------------------------------------------------------------

NEW_FACT = """
syn:project-incremental-{n} a kop:RoadProject ;
    rdfs:label "Project added for the incremental rebuild ({n})"@en ;
    kop:fundedBy syn:agency-0 ;
    kop:locatedIn syn:city-0 ;
    kop:status id:status-agreed ;
    kop:summary "A road project added to measure the rebuild after one edit."@en ;
    kop:statedIn <https://w3id.org/kopru/source/synthetic/d00001#S00> .
"""


def build_and_edit(project: Path, repo: Path) -> dict:
    """A cold `kopru build --force`, then one new fact in one file and `kopru
    build`, with the code of `repo`; the files are restored afterwards."""
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="kopru-scale-") as state:
        wall, pss, r = kopru(project, ["build", "--force"], state, repo)
        m = manifest(state)
        out.update(build_wall=wall, build_pss=pss, timings=m["timings"],
                   counts=m.get("counts", {}), validator=m.get("validator", "pyshacl"))
        target = sorted((project / "graph").glob("projects-*.ttl"))[-1]
        original = target.read_bytes()
        try:
            target.write_text(original.decode() + NEW_FACT.format(n=len(original)))
            wall_i, pss_i, r = kopru(project, ["build"], state, repo)
            out.update(edit_wall=wall_i, edit_pss=pss_i, edit_timings=manifest(state)["timings"],
                       edit_incremental="incremental" in manifest(state),
                       edit_log=r.stderr.strip().splitlines()[-6:])
        finally:
            target.write_bytes(original)
    return out


def show(name: str, m: dict) -> None:
    t = m["timings"]
    print(f"   {name}: build --force {m['build_wall']:.1f} s wall, peak "
          f"{m['build_pss'] / 2**30:.2f} GiB; " + ", ".join(
              f"{k} {v:.1f}" for k, v in t.items() if k in STEPS), flush=True)
    print(f"   {name}: one-file edit {m['edit_wall']:.1f} s wall "
          f"({'incremental' if m['edit_incremental'] else 'full rebuild'}), peak "
          f"{m['edit_pss'] / 2**30:.2f} GiB; " + ", ".join(
              f"{k} {v:.2f}" for k, v in m["edit_timings"].items() if k in STEPS), flush=True)


STEPS = ("parse", "validate", "closure", "infer_wait", "load", "total")


def measure(size: int, workdir: Path, seed: int, baseline: Path | None,
            closure: bool, owlrl_max: int) -> dict:
    import generate

    project = workdir / f"synthetic-{label(size)}"
    t0 = time.perf_counter()
    n = generate.generate(project, size, seed=seed)
    gen = time.perf_counter() - t0
    print(f"\n== {label(size)}: {n} graph triples in "
          f"{len(list((project / 'graph').glob('*.ttl')))} files (generated in {gen:.1f} s)",
          flush=True)
    row: dict = {"size": size, "triples": n}
    row["new"] = build_and_edit(project, REPO)
    show("Köprü  ", row["new"])
    if baseline is not None:
        row["baseline"] = build_and_edit(project, baseline)
        show("baseline", row["baseline"])
        b, k = row["baseline"], row["new"]
        print(f"   ratios (baseline ÷ Köprü): build {b['build_wall'] / k['build_wall']:.1f}×, "
              f"memory {b['build_pss'] / k['build_pss']:.1f}×, one-file edit "
              f"{b['edit_wall'] / k['edit_wall']:.1f}×", flush=True)
    if closure:
        row["closure"] = {"fast": closure_alone(project, "fast")}
        c = row["closure"]["fast"]
        print(f"   closure alone (fast): {c['wall']:.2f} s, {c['entailed']} entailed, "
              f"peak RSS {c['maxrss'] / 2**30:.2f} GiB", flush=True)
        if size <= owlrl_max:
            for engine in ("owlrl", "exact"):
                c2 = closure_alone(project, engine)
                row["closure"][engine] = c2
                print(f"   closure alone ({engine}): {c2['wall']:.1f} s "
                      f"({c2['wall'] / c['wall']:.0f}× the fast engine)", flush=True)
    return row


def table(rows: list[dict]) -> str:
    def s(x) -> str:
        return "–" if x is None else f"{x:.1f} s" if x >= 1 else f"{x:.2f} s"

    base = any("baseline" in r for r in rows)
    head = ("| graph triples | parse | validate | closure | load | `kopru build --force` | "
            "peak memory | one-file edit |")
    if base:
        head += " baseline build / memory / edit | ratio build / edit |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        k = r["new"]
        t = k["timings"]
        line = (f"| {r['triples']:,} | {s(t.get('parse'))} | {s(t.get('validate'))} "
                f"({k['validator']}) | {s(t.get('closure', 0) + t.get('filter', 0))} | "
                f"{s(t.get('load'))} | **{s(k['build_wall'])}** | "
                f"{k['build_pss'] / 2**30:.2f} GiB | **{s(k['edit_wall'])}** |")
        if base and "baseline" in r:
            b = r["baseline"]
            line += (f" {s(b['build_wall'])} / {b['build_pss'] / 2**30:.2f} GiB / "
                     f"{s(b['edit_wall'])} | {b['build_wall'] / k['build_wall']:.1f}× / "
                     f"{b['edit_wall'] / k['edit_wall']:.1f}× |")
        elif base:
            line += " – | – |"
        lines.append(line)
    return "\n".join(lines)


def write_doc(path: Path, rows: list[dict], baseline: Path | None) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    against = f", baseline `{baseline.name}` in the same run" if baseline else ""
    stamp = (f"Measured {time.strftime('%Y-%m-%d')} by `python bench/scale.py` on "
             f"{os.cpu_count()} cores ({platform.python_implementation()} "
             f"{platform.python_version()}){against}; load average at the end "
             f"{os.getloadavg()[0]:.1f}.")
    block = f"<!-- scale-table -->\n{stamp}\n\n{table(rows)}\n<!-- /scale-table -->"
    if "<!-- scale-table -->" in text:
        text = re.sub(r"<!-- scale-table -->.*?<!-- /scale-table -->", lambda m: block, text,
                      flags=re.S)
    else:
        text += "\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child-closure":
        closure_child(sys.argv[2], sys.argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10k,100k,1M",
                    help="comma-separated graph sizes (default 10k,100k,1M)")
    ap.add_argument("--baseline", type=Path, default=None, metavar="DIR",
                    help="another checkout of Köprü to measure in the same run")
    ap.add_argument("--closure", action="store_true", help="also time the closure alone")
    ap.add_argument("--owlrl", type=parse_size, default=0, metavar="SIZE",
                    help="with --closure, also time owlrl (tuned and plain) up to SIZE")
    ap.add_argument("--workdir", type=Path, default=None,
                    help="where the synthetic projects go (default: a temp dir)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the raw figures here")
    ap.add_argument("--shacl-probe", action="store_true",
                    help="only time the SHACL-as-SPARQL prototype (and pyshacl up to "
                         "--pyshacl-max) at each size")
    ap.add_argument("--pyshacl-max", type=parse_size, default=0, metavar="SIZE")
    ap.add_argument("--write-doc", type=Path, help="update the table in this markdown file")
    args = ap.parse_args()
    sizes = [parse_size(x) for x in args.sizes.split(",")]
    print(f"Köprü scale bench — {os.cpu_count()} cores, sizes "
          f"{', '.join(label(s) for s in sizes)}, load average {os.getloadavg()[0]:.1f}",
          flush=True)
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="kopru-scale-")
        workdir = Path(tmp.name)
    else:
        workdir = args.workdir
        workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    if args.shacl_probe:
        import generate

        for size in sizes:
            project = workdir / f"synthetic-{label(size)}"
            if not (project / "graph").is_dir():
                generate.generate(project, size, seed=args.seed)
            print(f"\n== {label(size)}", flush=True)
            rows.append(shacl_probe(project, size <= args.pyshacl_max))
        if args.json:
            args.json.write_text(json.dumps(rows, indent=2, default=str))
        return 0
    try:
        for size in sizes:
            rows.append(measure(size, workdir, args.seed, args.baseline, args.closure,
                                args.owlrl))
            if args.json:
                args.json.write_text(json.dumps(rows, indent=2, default=str))
    finally:
        if tmp is not None:
            tmp.cleanup()
    print()
    print(table(rows))
    for r in rows:
        if r["size"] >= 1_000_000:
            k = r["new"]
            ok = k["build_wall"] <= GOAL_SECONDS and k["build_pss"] <= GOAL_BYTES
            print(f"\ngoal (1M triples built in ≤ {GOAL_SECONDS} s within ≤ "
                  f"{GOAL_BYTES / 2**30:.0f} GiB): {'met' if ok else 'NOT met'} "
                  f"({k['build_wall']:.0f} s, {k['build_pss'] / 2**30:.2f} GiB); one-file "
                  f"edit ≤ {GOAL_EDIT_SECONDS} s: "
                  f"{'met' if k['edit_wall'] <= GOAL_EDIT_SECONDS else 'NOT met'} "
                  f"({k['edit_wall']:.1f} s)")
    if args.write_doc:
        write_doc(args.write_doc, rows, args.baseline)
    return 0


if __name__ == "__main__":
    sys.exit(main())
