#!/usr/bin/env python3
"""Benchmark Köprü's /sparql against its baselines, in one run, on this machine.

    python bench/endpoint.py [--project DIR] [--duration 8] [--rounds 3] [--workers 2]

Servers (each on a free loopback port, all over the same graph):

    bare-wsgi        a plain WSGI function returning the same fixed body, same
                     gunicorn (what gunicorn alone costs)
    bare-flask       a Flask app returning a fixed body, gunicorn, same workers
                     (the framework ceiling)
    kopru            `kopru serve` (gunicorn, same workers)
    oxigraph         Oxigraph's own server (`oxigraph serve-read-only`, PyPI `oxigraph`)
    rdflib-endpoint  rdflib-endpoint over the same N-Triples (optional: it is
                     found on PATH, next to this Python, or via --rdflib-endpoint;
                     install it in a separate venv: pip install 'rdflib-endpoint[cli]')

Load: `wrk -t2 --latency` (Debian package `wrk`), 8 connections for a point
lookup, 4 for an aggregate (counts per class). Each runs twice: "unique" — a
wrk Lua script makes every request's query text new (a different subject
for the lookup, and a LIMIT no request has used before), so no answer cache
and no cache of parsed queries can help — and "repeated", one query text
again and again (what a cache can answer). Rounds interleave the servers,
because this machine is shared and noisy: each ratio is taken within one
round (Köprü and its baseline measured one after the other) and the median
round's ratio is reported with the range over all rounds; the 1-minute
load average is recorded before every round. Read the ratios, not the
absolutes. Prints Markdown tables for the README and docs/benchmarks-endpoint.md
(`--json FILE` keeps every run).

Goals (issue 13): point lookups ≥ 0.75× bare Flask, the aggregate ≥ 0.75×
Oxigraph's server, both with unique query text.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import urllib.parse
import urllib.request
from pathlib import Path

from serving import free_port, wait_for  # bench/serving.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# name → (query text with {subject} and {limit}, wrk connections)
QUERIES = {
    "point lookup": ("SELECT ?p ?o WHERE { <{subject}> ?p ?o } LIMIT {limit}", 8),
    "aggregate": ("SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class "
                  "LIMIT {limit}", 4),
}
FIRST_LIMIT = 100_000      # LIMITs count up from here: larger than any answer
# Each query's baseline for the goal, and the goal.
GOALS = {"point lookup": ("bare-flask", 0.75), "aggregate": ("oxigraph", 0.75)}
NAMES = {"bare-wsgi": "bare WSGI", "bare-flask": "bare Flask", "kopru": "Köprü",
         "kopru-before": "Köprü before (--before)",
         "oxigraph": "Oxigraph server", "rdflib-endpoint": "rdflib-endpoint"}

# Every request a new query: the subject cycles through the graph's entities
# and the LIMIT counts up (per wrk thread, so two threads never repeat each other).
UNIQUE_LUA = """
local subjects = {%(subjects)s}
local template = %(template)s
local counter = 0
local me = 0
local started = 0
function setup(thread)
  thread:set("me", started)
  started = started + 1
end
function init(args)
  me = tonumber(wrk.thread:get("me")) or 0
end
local function encode(s)
  return (s:gsub("[^%%w%%-_%%.~]", function(c) return string.format("%%%%%%02X", string.byte(c)) end))
end
function request()
  counter = counter + 1
  local subject = subjects[(counter %% #subjects) + 1]
  local limit = tostring(%(first)d + counter * 2 + me)
  local q = template:gsub("{subject}", subject):gsub("{limit}", limit)
  return wrk.format("GET", "%(path)s?query=" .. encode(q))
end
"""

BARE_APP = textwrap.dedent('''
    from flask import Flask, Response
    app = Flask(__name__)
    BODY = b'{"head":{"vars":["p","o"]},"results":{"bindings":[]}}'
    @app.route("/sparql")
    def sparql():
        return Response(BODY, content_type="application/sparql-results+json")
    def raw(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/sparql-results+json"),
                                  ("Content-Length", str(len(BODY)))])
        return [BODY]
''')


def wrk(url: str, duration: int, connections: int, script: Path | None = None) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "errors": int(non2xx.group(1)) if non2xx else 0}


def unique_script(tmp: Path, name: str, path: str, template: str, subjects: list[str]) -> Path:
    lua = UNIQUE_LUA % {"subjects": ", ".join(json.dumps(s) for s in subjects),
                        "template": json.dumps(template), "first": FIRST_LIMIT, "path": path}
    script = tmp / f"unique-{name}.lua"
    script.write_text(lua)
    return script


def report(results, servers, loads, a, triples: int, subjects: int) -> str:
    """The Markdown tables: req/s per server, then each query's ratio to
    its baselines, per round (median round, and the range)."""
    def median_run(name, qname, mode):
        runs = sorted(results[(name, qname, mode)], key=lambda r: r["rps"])
        return runs[len(runs) // 2]

    def ratio(qname, mode, ref):
        per_round = sorted(k["rps"] / b["rps"] for k, b in zip(
            results[("kopru", qname, mode)], results[(ref, qname, mode)], strict=True))
        mid = per_round[len(per_round) // 2]
        return f"{mid:.2f}× ({per_round[0]:.2f}–{per_round[-1]:.2f})"

    out = [f"{triples} triples; wrk -t2, {a.duration} s × {a.rounds} rounds; gunicorn "
           f"{a.workers} sync workers; {os.cpu_count()} cores; {subjects} subjects cycled; "
           f"1-minute load average {min(loads):.1f}–{max(loads):.1f} "
           f"(median {sorted(loads)[len(loads) // 2]:.1f}).", "",
           "| query | server | unique text: req/s | p50 ms | p99 ms "
           "| repeated text: req/s | p50 ms | p99 ms |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for qname, (_, connections) in QUERIES.items():
        for name in servers:
            u, r = median_run(name, qname, "unique"), median_run(name, qname, "repeated")
            out.append(f"| {qname} ({connections} conn.) | {NAMES.get(name, name)} "
                       f"| {u['rps']:,.0f} | {u['p50']:.2f} | {u['p99']:.2f} "
                       f"| {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} |")
    if "kopru" in servers:
        out += ["", "Köprü ÷ baseline, within each round: the median round (and the range).", "",
                "| query | baseline | unique text (no cache can help) | repeated text "
                "(answer cache) | goal, unique text |", "|---|---|---:|---:|---|"]
        for qname in QUERIES:
            goal_ref, goal = GOALS[qname]
            for ref in ("bare-wsgi", "bare-flask", "oxigraph", "rdflib-endpoint",
                        "kopru-before"):
                if ref not in servers:
                    continue
                mid = sorted(k["rps"] / b["rps"] for k, b in zip(
                    results[("kopru", qname, "unique")], results[(ref, qname, "unique")],
                    strict=True))[a.rounds // 2]
                verdict = (f"≥ {goal:.2f}×: {'met' if mid >= goal else 'not met'} "
                           f"({mid:.3f}×)" if ref == goal_ref else "")
                out.append(f"| {qname} | {NAMES[ref]} | {ratio(qname, 'unique', ref)} "
                           f"| {ratio(qname, 'repeated', ref)} | {verdict} |")
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", default=str(ROOT))
    p.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rdflib-endpoint", default=None, help="the rdflib-endpoint command")
    p.add_argument("--only", default=None, help="comma-separated server names")
    p.add_argument("--json", default=None, help="write every run to this file")
    p.add_argument("--before", default=None, metavar="DIR",
                   help="also serve the Köprü code in DIR (another checkout, e.g. the main "
                        "branch exported) as `kopru-before`, in the same rounds")
    a = p.parse_args(argv)

    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="kopru-bench-"))
    env = dict(os.environ, KOPRU_STATE_DIR=str(tmp / "state"), PYTHONPATH=str(ROOT))
    procs: list[subprocess.Popen] = []

    def start(cmd, what, url, cwd=None, extra_env=None):
        with open(tmp / f"{what}.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=cwd, env={**env, **(extra_env or {})}, stdout=log,
                                    stderr=log, start_new_session=True)
        procs.append(proc)
        wait_for(url, proc, what)
        return proc

    try:
        print(f"building {a.project} …", file=sys.stderr)
        subprocess.run([py, "-m", "server", "--project", a.project, "build"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        # The default graph (asserted + ontology + entailed) as N-Triples, for the baselines.
        import pyoxigraph as ox

        from server.namespaces import DEFAULT_GRAPHS

        store_dir = os.path.realpath(tmp / "state" / "current")
        store = ox.Store.read_only(os.path.join(store_dir, "db"))
        triples = {q.triple for g in DEFAULT_GRAPHS
                   for q in store.quads_for_pattern(None, None, None, ox.NamedNode(g))}
        nt = tmp / "graph.nt"
        ox.serialize(triples, str(nt), format=ox.RdfFormat.N_TRIPLES)
        subjects = sorted({t.subject.value for t in triples
                           if isinstance(t.subject, ox.NamedNode)
                           and t.subject.value.startswith("https://w3id.org/kopru/id/")})
        del store
        print(f"graph: {len(triples)} triples in the default graph", file=sys.stderr)

        servers: dict[str, str] = {}            # name → query URL (without ?query=)
        wanted = set(a.only.split(",")) if a.only else None

        def want(name):
            return wanted is None or name in wanted

        probe = "?query=" + urllib.parse.quote("ASK {}")
        (tmp / "bare_app.py").write_text(BARE_APP)
        for name, target in (("bare-wsgi", "bare_app:raw"), ("bare-flask", "bare_app:app")):
            if want(name):
                port = free_port()
                start([py, "-m", "gunicorn", "-w", str(a.workers), "-b", f"127.0.0.1:{port}",
                       "--log-level", "warning", target], name,
                      f"http://127.0.0.1:{port}/sparql", cwd=tmp)
                servers[name] = f"http://127.0.0.1:{port}/sparql"
        if want("kopru"):
            port = free_port()
            url = f"http://127.0.0.1:{port}/sparql"
            start([py, "-m", "server", "--project", a.project, "serve", "--port", str(port),
                   "--workers", str(a.workers)], "kopru", url + probe)
            servers["kopru"] = url
        if a.before:
            # Another checkout's code over the same project, its own state dir.
            port = free_port()
            url = f"http://127.0.0.1:{port}/sparql"
            before_env = {"PYTHONPATH": str(Path(a.before).resolve()),
                          "KOPRU_STATE_DIR": str(tmp / "state-before")}
            subprocess.run([py, "-m", "server", "--project", a.project, "build"], check=True,
                           cwd=a.before, env={**env, **before_env}, stdout=subprocess.DEVNULL)
            start([py, "-m", "server", "--project", a.project, "serve", "--port", str(port),
                   "--workers", str(a.workers)], "kopru-before", url + probe, cwd=a.before,
                  extra_env=before_env)
            servers["kopru-before"] = url
        if want("oxigraph"):
            exe = shutil.which("oxigraph") or str(Path(py).with_name("oxigraph"))
            subprocess.run([exe, "load", "--location", str(tmp / "oxdb"), "--file", str(nt)],
                           check=True, capture_output=True)
            port = free_port()
            url = f"http://127.0.0.1:{port}/query"
            start([exe, "serve-read-only", "--location", str(tmp / "oxdb"), "--bind",
                   f"127.0.0.1:{port}"], "oxigraph", url + probe)
            servers["oxigraph"] = url
        if want("rdflib-endpoint"):
            cmd = a.rdflib_endpoint or shutil.which("rdflib-endpoint") or \
                (str(Path(py).with_name("rdflib-endpoint"))
                 if Path(py).with_name("rdflib-endpoint").exists() else None)
            if cmd:
                port = free_port()
                url = f"http://127.0.0.1:{port}/"
                start([cmd, "serve", "--host", "127.0.0.1", "--port", str(port), str(nt)],
                      "rdflib-endpoint", url + probe)
                servers["rdflib-endpoint"] = url
            else:
                print("rdflib-endpoint not found: skipped (pip install 'rdflib-endpoint[cli]' "
                      "in a separate venv, then --rdflib-endpoint PATH)", file=sys.stderr)

        modes = ("unique", "repeated")
        results: dict[tuple[str, str, str], list[dict]] = {}
        loads: list[float] = []
        for rnd in range(a.rounds):
            loads.append(os.getloadavg()[0])
            print(f"round {rnd + 1}: load average {loads[-1]:.2f}", file=sys.stderr)
            for qname, (template, connections) in QUERIES.items():
                for mode in modes:
                    for name, base in servers.items():
                        if mode == "unique":
                            path = urllib.parse.urlsplit(base).path
                            script = unique_script(tmp, f"{name}-{qname[:5]}", path, template,
                                                   subjects)
                            r = wrk(base, a.duration, connections, script)
                        else:
                            q = template.replace("{subject}", subjects[0]).replace(
                                "{limit}", str(FIRST_LIMIT))
                            r = wrk(base + "?query=" + urllib.parse.quote(q), a.duration,
                                    connections)
                        results.setdefault((name, qname, mode), []).append(r)
                        print(f"round {rnd + 1} {qname:12s} {mode:8s} {name:16s} "
                              f"{r['rps']:9.0f} req/s p50 {r['p50']:.2f} ms p99 {r['p99']:.2f} ms"
                              + (f"  ({r['errors']} non-2xx!)" if r["errors"] else ""),
                              file=sys.stderr)
        loads.append(os.getloadavg()[0])
        if a.json:
            Path(a.json).write_text(json.dumps({
                "triples": len(triples), "duration": a.duration, "rounds": a.rounds,
                "workers": a.workers, "loads": loads,
                "runs": [{"server": k[0], "query": k[1], "text": k[2], "round": i + 1, **r}
                         for k, runs in results.items() for i, r in enumerate(runs)]},
                indent=1))
        print(report(results, servers, loads, a, len(triples), len(subjects)))
        return 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
