#!/usr/bin/env python3
"""Build figures for Köprü, measured in one run on this machine.

    python bench/build.py [--project DIR] [--reps N] [--no-owlrl-baseline]

Measures, on the shipped project (or --project):

- cold build, as a user runs it: `kopru build --force` in a fresh process
  into a temporary state dir (Python start-up and imports included), with
  the per-step times the build records in its manifest (parse, validate,
  closure, load) — with the closure in a parallel process (the default)
  and without (KOPRU_PARALLEL=0);
- the closure alone, Köprü's way and owlrl's plain DeductiveClosure (the
  baseline it must equal), in this process;
- warm start: `kopru build` with nothing changed in a fresh process, and in
  this process build() (hash only) + opening the store + a first query.

Medians of --reps runs. Goals on the 2-core reference machine: cold build
≤ 3 s, warm start ≤ 0.5 s. The machine is shared: compare figures taken in
the same run, not across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GOAL_COLD = 3.0
GOAL_WARM = 0.5


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def kopru(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "server", *args], cwd=REPO, env=env,
                       capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"kopru {' '.join(args)} failed:\n{r.stderr}")
    return dt, r


def current_manifest(state: Path) -> dict:
    link = state / "current"
    return json.loads((link.resolve() / "manifest.json").read_text())


def cold_builds(project: Path, reps: int) -> dict[bool, dict[str, list[float]]]:
    """Cold builds, parallel and sequential closure interleaved (so that the
    load of a shared machine falls on both alike)."""
    keys = ("wall", "parse", "validate", "closure", "load", "total")
    out = {mode: {k: [] for k in keys} for mode in (True, False)}
    with tempfile.TemporaryDirectory(prefix="kopru-bench-") as state:
        for _ in range(reps):
            for parallel in (True, False):
                env = dict(os.environ, KOPRU_STATE_DIR=state,
                           KOPRU_PARALLEL="1" if parallel else "0")
                wall, _r = kopru(["--project", str(project), "build", "--force"], env)
                t = current_manifest(Path(state))["timings"]
                out[parallel]["wall"].append(wall)
                for k in keys[1:]:
                    out[parallel][k].append(t.get(k, float("nan")))
    return out


def closure_only(project: Path, reps: int, baseline: bool) -> dict[str, list[float]]:
    from server.pipeline.parse import parse_project
    from server.pipeline.project import Project
    from server.reasoning.infer import infer

    parsed = parse_project(Project(project))
    _ = (parsed.data_graph, parsed.ontology_graph)
    out: dict[str, list[float]] = {"fast": [], "owlrl": [], "same": []}
    fast = None
    for _ in range(reps):
        fast = infer(parsed)
        out["fast"].append(fast.seconds)
    if baseline:
        exact = infer(parsed, exact=True)
        out["owlrl"].append(exact.seconds)
        out["same"].append(float(set(exact.entailed) == set(fast.entailed)))
    out["entailed"] = [len(fast.entailed)]
    out["input"] = [parsed.count("graph") + parsed.count("ontology")]
    return out


def warm_starts(project: Path, reps: int) -> dict[str, list[float]]:
    from server.pipeline.build import build
    from server.pipeline.project import Project
    from server.stores.state import open_current

    out: dict[str, list[float]] = {"process": [], "build": [], "open+query": []}
    with tempfile.TemporaryDirectory(prefix="kopru-bench-") as state:
        env = dict(os.environ, KOPRU_STATE_DIR=state)
        kopru(["--project", str(project), "build"], env)          # the cold one
        for _ in range(reps):
            wall, r = kopru(["--project", str(project), "build"], env)
            assert r.stdout.startswith("up to date"), r.stdout
            out["process"].append(wall)
            p = Project(project, state_dir=state)
            t0 = time.perf_counter()
            result = build(p)
            out["build"].append(time.perf_counter() - t0)
            assert result.skipped
            t0 = time.perf_counter()
            store = open_current(p)
            bool(store.query("ASK { ?s ?p ?o }"))
            out["open+query"].append(time.perf_counter() - t0)
            store.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--project", type=Path, default=REPO, help="project dir (default: the repo)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    ap.add_argument("--no-owlrl-baseline", action="store_true",
                    help="skip the (slow) plain-owlrl closure for comparison")
    args = ap.parse_args()
    project = args.project.resolve()
    reps = max(1, args.reps)

    print(f"Köprü build bench — {project}  ({os.cpu_count()} cores, {reps} reps, medians)\n")
    cold = cold_builds(project, reps)
    par, seq = cold[True], cold[False]
    clo = closure_only(project, reps, baseline=not args.no_owlrl_baseline)
    warm = warm_starts(project, reps)

    rows = [
        ("parse", median(par["parse"]), median(seq["parse"])),
        ("validate (pyshacl)", median(par["validate"]), median(seq["validate"])),
        ("closure (OWL RL)", median(par["closure"]), median(seq["closure"])),
        ("load + swap (pyoxigraph)", median(par["load"]), median(seq["load"])),
        ("build total (in process)", median(par["total"]), median(seq["total"])),
        ("cold `kopru build --force`", median(par["wall"]), median(seq["wall"])),
    ]
    print(f"{'cold build step':<30}{'closure ∥ validate':>20}{'sequential':>14}")
    for name, a, b in rows:
        print(f"{name:<30}{a:>18.3f} s{b:>12.3f} s")
    best = min(median(par["wall"]), median(seq["wall"]))
    print(f"{'goal: cold ≤ 3 s':<30}{'met' if best <= GOAL_COLD else 'NOT met':>20}\n")

    print(f"closure alone ({int(clo['input'][0])} input triples → "
          f"{int(clo['entailed'][0])} entailed)")
    print(f"  {'Köprü (fast engine, server/reasoning/fast.py)':<40}{median(clo['fast']):>8.3f} s")
    if clo["owlrl"]:
        same = "identical" if clo["same"][0] else "DIFFERENT"
        print(f"  {'owlrl DeductiveClosure, everything':<40}{clo['owlrl'][0]:>8.3f} s"
              f"   ({clo['owlrl'][0] / median(clo['fast']):.1f}× slower; entailed graphs "
              f"{same})")
    print()
    print("warm start (nothing changed)")
    print(f"  {'`kopru build` in a fresh process':<40}{median(warm['process']):>8.3f} s")
    print(f"  {'build() in process (hash only)':<40}{median(warm['build']):>8.3f} s")
    print(f"  {'open store read-only + first query':<40}{median(warm['open+query']):>8.3f} s")
    w = median(warm["process"])
    print(f"  {'goal: warm ≤ 0.5 s':<40}{'met' if w <= GOAL_WARM else 'NOT met':>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
