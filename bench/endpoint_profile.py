#!/usr/bin/env python3
"""Where a /sparql query's time goes, in-process: CPU per request of the
whole app and of each step, on the shipped graph.

    python bench/endpoint_profile.py [--requests 3000]

The app is called as gunicorn calls it (one WSGI call per request, the
body read to the end), with its log lines written to /dev/null the way
`kopru serve` writes them to stderr. Figures are CPU time of the thread
that does the work (`time.thread_time`, the best of 5 runs), so a busy
machine changes them less than wall time; the engine's figure is the query
thread's own. What gunicorn and the kernel cost per request is not here:
bench/endpoint.py's `bare-wsgi` server measures it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECTS = ["albania", "turkiye", "kosovo", "serbia", "tika", "mke", "nato",
            "bosnia-and-herzegovina", "north-macedonia", "montenegro"]
LOOKUP = "SELECT ?p ?o WHERE {{ <https://w3id.org/kopru/id/{s}> ?p ?o }} LIMIT {n}"
FIXED = LOOKUP.format(s="albania", n=100_000)


def cpu_per_call(fn, items, repeat: int = 5) -> float:
    """µs of this thread's CPU per call, the best of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        t = time.thread_time()
        for item in items:
            fn(item)
        best = min(best, time.thread_time() - t)
    return best / len(items) * 1e6


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=3000)
    a = p.parse_args(argv)
    n = a.requests

    state = Path(tempfile.mkdtemp(prefix="kopru-profile-"))
    os.environ["KOPRU_STATE_DIR"] = str(state)
    from flask import Flask, Response
    from werkzeug.test import EnvironBuilder

    from server import formats
    from server import namespaces as ns
    from server.config import Config
    from server.pipeline.build import build
    from server.pipeline.project import Project
    from server.query import analysis
    from server.query.engine import Engine
    from server.web import serve
    from server.web.app import create_app
    from server.web.sparql import protocol
    from server.web.sparql.endpoint import LogLine

    build(Project(ROOT, state_dir=state))
    serve.setup_logging("info")
    devnull = open(os.devnull, "w")  # noqa: SIM115 — lives as long as the script
    for handler in logging.getLogger("kopru").handlers:
        handler.setStream(devnull)   # type: ignore[attr-defined]
    app = create_app(Config.from_env(project=ROOT, state_dir=state))

    bare = Flask("bare")
    body = b'{"head":{"vars":["p","o"]},"results":{"bindings":[]}}'
    bare.add_url_rule("/sparql", "sparql", lambda: Response(
        body, content_type="application/sparql-results+json"))

    def environ(query: str) -> dict:
        return EnvironBuilder(path="/sparql", query_string={"query": query},
                              headers={"User-Agent": "wrk", "Host": "127.0.0.1"}).get_environ()

    def call(wsgi):
        def one(env):
            out = wsgi(dict(env), lambda status, headers, exc_info=None: None)
            b"".join(out)
            if hasattr(out, "close"):
                out.close()
        return one

    def unique(start: int) -> list[str]:
        return [LOOKUP.format(s=SUBJECTS[i % len(SUBJECTS)], n=100_000 + start + i)
                for i in range(n)]

    def flask_only(environ, start_response):
        return Flask.wsgi_app(app, environ, start_response)

    rows = []
    fixed = [environ(FIXED)] * n
    rows.append(("bare Flask, a fixed body (the ceiling)", cpu_per_call(call(bare), fixed)))
    rows.append(("Köprü, repeated text: answer and analysis cached",
                 cpu_per_call(call(app), fixed)))
    rows.append(("  the same through Flask alone (no fast path)",
                 cpu_per_call(call(flask_only), fixed)))
    # Unique text: each run gets texts no cache has seen.
    runs = iter(range(0, 10 * n, n))
    rows.append(("Köprü, unique text (request thread; the engine's share is below)",
                 min(cpu_per_call(call(app), [environ(q) for q in unique(next(runs))], 1)
                     for _ in range(3))))
    rows.append(("  the same through Flask alone (no fast path)",
                 min(cpu_per_call(call(flask_only), [environ(q) for q in unique(next(runs))], 1)
                     for _ in range(3))))

    # The steps, one by one.
    config = app.config["KOPRU"]
    texts = unique(20 * n)
    rows.append(("  guard, a text not seen before (read twice, scanned)",
                 cpu_per_call(lambda q: analysis._analyze(q), texts)))
    guarded = [analysis.analyze(q).text for q in texts[:500]]
    engine = Engine(os.path.realpath(config.resolved_store_path))
    rows.append(("  engine: run + serialize a lookup (query thread, in memory)",
                 cpu_per_call(lambda q: engine.answer(q, formats.JSON, ns.DEFAULT_GRAPHS, None,
                                                      config.result_limit), guarded)))
    executor = app.extensions["kopru.executor"]
    executor.run("ASK {}", formats.JSON)
    rows.append(("  executor hand-over, ASK {} (request thread's side)",
                 cpu_per_call(lambda _: executor.run("ASK {}", formats.JSON), range(n))))
    request_class = app.wsgi_app.wsgi_app.request_class
    envs = [environ(q) for q in texts[:500]]
    rows.append(("  reading the request (werkzeug, protocol.py)",
                 cpu_per_call(lambda e: protocol.parse(request_class(dict(e)),
                                                       config.max_query_bytes), envs)))
    line = LogLine(status=200, form="SELECT", format="json", rows=41, size=6075)
    rows.append(("  the query's log line", cpu_per_call(
        lambda q: line.write(time.perf_counter(), q), texts[:500])))

    width = max(len(r[0]) for r in rows)
    print(f"CPU per request, µs ({n} requests, best of 5; shipped graph; "
          f"load average {os.getloadavg()[0]:.1f})\n")
    for label, us in rows:
        print(f"{label:<{width}}  {us:7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
