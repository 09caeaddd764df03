#!/usr/bin/env python3
"""Benchmark Köprü's /sparql against its baselines, in one run, on this machine.

    python bench/endpoint.py [--project DIR] [--duration 8] [--rounds 3] [--workers 2]

Servers (each on a free loopback port, all over the same graph):

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
again and again (what a cache can answer). Rounds interleave the servers
and the median round is kept, because this machine is shared and noisy:
read the ratios, not the absolutes. Prints a Markdown table for the README.
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", default=str(ROOT))
    p.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rdflib-endpoint", default=None, help="the rdflib-endpoint command")
    p.add_argument("--only", default=None, help="comma-separated server names")
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
        if want("bare-flask"):
            (tmp / "bare_app.py").write_text(BARE_APP)
            port = free_port()
            start([py, "-m", "gunicorn", "-w", str(a.workers), "-b", f"127.0.0.1:{port}",
                   "--log-level", "warning", "bare_app:app"], "bare-flask",
                  f"http://127.0.0.1:{port}/sparql", cwd=tmp)
            servers["bare-flask"] = f"http://127.0.0.1:{port}/sparql"
        if want("kopru"):
            port = free_port()
            url = f"http://127.0.0.1:{port}/sparql"
            start([py, "-m", "server", "--project", a.project, "serve", "--port", str(port),
                   "--workers", str(a.workers)], "kopru", url + probe)
            servers["kopru"] = url
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
        for rnd in range(a.rounds):
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

        def median(name, qname, mode):
            runs = sorted(results[(name, qname, mode)], key=lambda r: r["rps"])
            return runs[len(runs) // 2]

        print(f"\n{len(triples)} triples; wrk -t2, {a.duration} s × {a.rounds} rounds "
              f"(median round); gunicorn {a.workers} sync workers; {os.cpu_count()} cores; "
              f"{len(subjects)} subjects cycled.\n")
        print("| query | query text | server | req/s | p50 ms | p99 ms | ÷ bare Flask | ÷ Oxigraph |")
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for qname in QUERIES:
            for mode in modes:
                for name in servers:
                    m = median(name, qname, mode)
                    rel = []
                    for ref in ("bare-flask", "oxigraph"):
                        rel.append(f"{m['rps'] / median(ref, qname, mode)['rps']:.2f}×"
                                   if ref in servers and ref != name else "")
                    print(f"| {qname} | {mode} | {name} | {m['rps']:.0f} | {m['p50']:.2f} | "
                          f"{m['p99']:.2f} | {rel[0]} | {rel[1]} |")
        if "kopru" in servers and "rdflib-endpoint" in servers:
            for qname in QUERIES:
                ratio = (median("kopru", qname, "unique")["rps"]
                         / median("rdflib-endpoint", qname, "unique")["rps"])
                print(f"\nKöprü vs rdflib-endpoint, {qname}: {ratio:.1f}×", end="")
            print()
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
