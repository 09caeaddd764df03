#!/usr/bin/env python3
"""One-file edits: the incremental build of this checkout against a baseline.

    python bench/edit.py --baseline DIR [--size 10k] [--rounds 7]

A synthetic project (bench/generate.py, seed 1) is built cold once with each
checkout, each into its own state dir. Then, each round, one new fact is
appended to one graph file and built with each checkout in turn (which goes
first alternates), the file is put back and built again, two ways:

- `kopru build` in a fresh process, as a user runs it (imports included);
- warm: in one process that has built an edit before (what the test
  suite's in-process builds see, and any long-lived caller).

Measured per build: the validate step the manifest records (the focus
nodes' validation) and the CPU of the process tree. Medians over the
rounds and the median of the per-round ratios (baseline ÷ this checkout)
are printed: the machine is shared, so only figures taken side by side are
compared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
from scale import NEW_FACT, REPO, kopru, label, manifest, parse_size  # noqa: E402


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def edit_build(project: Path, state: str, repo: Path) -> dict:
    """`kopru build` after an edit: its CPU and recorded step times."""
    before = children_cpu()
    kopru(project, ["build"], state, repo)
    m = manifest(state)
    assert "incremental" in m, "the edit was not built incrementally"
    return {"cpu": children_cpu() - before, "validate": m["timings"]["validate"]}


WARM = """
import json, sys, time
from pathlib import Path
from server.pipeline.build import build
from server.pipeline.project import Project
project, state, fact = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
p = Project(project, state_dir=state)
target = sorted((project / "graph").glob("projects-*.ttl"))[-1]
original = target.read_bytes()
for n in ("warm-up", "measured"):
    target.write_bytes(original + fact.replace("{n}", n).encode())
    cpu = time.process_time()
    r = build(p)
    cpu = time.process_time() - cpu
    assert r.incremental, "the edit was not built incrementally"
    target.write_bytes(original)
    build(p)
print(json.dumps({"cpu": cpu, "validate": r.manifest["timings"]["validate"]}))
"""


def warm_edit_build(project: Path, state: str, repo: Path) -> dict:
    """An edit built in a process that has built one before (`WARM`)."""
    env = dict(os.environ, PYTHONPATH=str(repo), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-c", WARM, str(project), state,
                        NEW_FACT.replace("{n}", "warm-{n}")], cwd=repo, env=env,
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", type=Path, required=True, metavar="DIR",
                    help="another checkout (e.g. `git worktree add /tmp/base main`)")
    ap.add_argument("--size", type=parse_size, default=10_000)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    checkouts = {"Köprü": REPO, "baseline": args.baseline.resolve()}
    with tempfile.TemporaryDirectory(prefix="kopru-edit-") as tmp:
        project = Path(tmp) / "project"
        n = generate.generate(project, args.size, seed=1)
        states = {name: str(Path(tmp) / f"state-{name}") for name in checkouts}
        for name, repo in checkouts.items():
            kopru(project, ["build", "--force"], states[name], repo)
        target = sorted((project / "graph").glob("projects-*.ttl"))[-1]
        original = target.read_bytes()
        runs: dict[str, list[dict]] = {name: [] for name in checkouts}
        warm: dict[str, list[dict]] = {name: [] for name in checkouts}
        for i in range(args.rounds):
            order = list(checkouts) if i % 2 == 0 else list(reversed(checkouts))
            target.write_bytes(original + NEW_FACT.format(n=i).encode())
            for name in order:
                runs[name].append(edit_build(project, states[name], checkouts[name]))
            target.write_bytes(original)
            for name in order:
                kopru(project, ["build"], states[name], checkouts[name])
            for name in order:
                warm[name].append(warm_edit_build(project, states[name], checkouts[name]))
            print(f"round {i + 1}: " + "; ".join(
                f"{name} validate {runs[name][-1]['validate']:.3f} s "
                f"(warm {warm[name][-1]['validate']:.3f} s)" for name in checkouts), flush=True)
    print(f"\n{label(args.size)} synthetic ({n} graph triples), one new fact in one file, "
          f"{args.rounds} rounds, medians:")
    for how, series in (("fresh process", runs), ("warm", warm)):
        for what in ("validate", "cpu"):
            new = [r[what] for r in series["Köprü"]]
            base = [r[what] for r in series["baseline"]]
            ratios = [b / k for b, k in zip(base, new, strict=True)]
            print(f"  {how:13s} {what:8s}: Köprü {statistics.median(new):.3f} s, baseline "
                  f"{statistics.median(base):.3f} s, ratio (baseline ÷ Köprü) "
                  f"{statistics.median(ratios):.2f}× ({min(ratios):.2f}–{max(ratios):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
