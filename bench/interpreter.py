#!/usr/bin/env python3
"""Köprü's Python work on two interpreters, measured in one go.

    .venv/bin/python bench/interpreter.py [--rounds N] BASELINE OTHER

BASELINE and OTHER are Python 3.11 interpreters (e.g. a pyenv build and the
system's /usr/bin/python3). Each round runs the same work in a fresh
process of each, one after the other, with the packages of this .venv
(compiled for CPython 3.11, which every 3.11 build loads alike):

- a cold build of the shipped project, closure in the same process
  (KOPRU_PARALLEL=0): parse, pyshacl validation, the fast closure, load;
- owlrl's plain closure of the shipped project (the reference engine);
- every entity page and the home, browse and search pages rendered once
  through the app (Flask's test client), caches cold.

It reports the CPU seconds each took (the median over the rounds) and
OTHER / BASELINE: below 1 means OTHER runs Köprü faster. Nothing is cached
between processes, so every round does the whole work again.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# The work, run by `python -c` in each interpreter; prints its CPU seconds.
WORK = r"""
import json, os, resource, sys, tempfile
from pathlib import Path

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

start = cpu()
from server.config import Config
from server.pipeline.build import build
from server.pipeline.parse import parse_project
from server.pipeline.project import Project
from server.reasoning.infer import infer
from server.web import create_app

repo = Path(sys.argv[1])
with tempfile.TemporaryDirectory(prefix="kopru-bench-") as state:
    t = cpu()
    build(Project(repo, state_dir=Path(state)), force=True)
    built = cpu() - t
    t = cpu()
    infer(parse_project(Project(repo)), exact=True)
    owlrl = cpu() - t
    app = create_app(Config.from_env(project=repo, state_dir=Path(state)))
    client = app.test_client()
    rows = client.get("/sparql", query_string={
        "query": "SELECT DISTINCT ?s { ?s ?p ?o FILTER(STRSTARTS(STR(?s), 'https://w3id.org/kopru/id/')) }"},
        headers={"Accept": "application/sparql-results+json"}).get_json()["results"]["bindings"]
    paths = ["/", "/browse", "/search?q=turkiye", "/ontology", "/source/article"]
    paths += ["/id/" + b["s"]["value"].rsplit("/id/", 1)[1] for b in rows]
    t = cpu()
    for path in paths:
        assert client.get(path, headers={"Accept": "text/html"}).status_code in (200, 303), path
    pages = cpu() - t
print(json.dumps({"build": built, "owlrl": owlrl, "pages": pages, "pages_n": len(paths),
                  "total": cpu() - start}))
"""


def run(python: str, site_packages: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), site_packages]),
               KOPRU_PARALLEL="0", PYTHONDONTWRITEBYTECODE="1")
    env.pop("KOPRU_STATE_DIR", None)
    with tempfile.TemporaryDirectory(prefix="kopru-bench-cwd-") as cwd:
        r = subprocess.run([python, "-c", WORK, str(REPO)], env=env, cwd=cwd,
                           capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{python} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def version(python: str) -> str:
    return subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("baseline")
    ap.add_argument("other")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    site_packages = sysconfig.get_paths()["purelib"]    # this .venv's
    names = {"baseline": args.baseline, "other": args.other}
    for key, python in names.items():
        print(f"{key}: {python} (Python {version(python)})")
    runs: dict[str, list[dict]] = {"baseline": [], "other": []}
    for _ in range(args.rounds):
        for key, python in names.items():      # alternated: both see the same machine
            runs[key].append(run(python, site_packages))
    title = f"CPU seconds (median of {args.rounds})"
    print(f"{title:34} {'baseline':>9} {'other':>9} {'ratio':>7}")
    for part in ("build", "owlrl", "pages", "total"):
        b = statistics.median(r[part] for r in runs["baseline"])
        o = statistics.median(r[part] for r in runs["other"])
        label = {"build": "cold build, one process", "owlrl": "owlrl's closure",
                 "pages": f"{runs['other'][0]['pages_n']} pages rendered",
                 "total": "all of it, imports included"}[part]
        print(f"{label:34} {b:9.2f} {o:9.2f} {o / b:7.2f}")


if __name__ == "__main__":
    main()
