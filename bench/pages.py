#!/usr/bin/env python3
"""Benchmark Köprü's entity pages (and views) against a static asset, in one run.

    python bench/pages.py [--project DIR] [--duration 8] [--rounds 3] [--workers 2]
                          [--connections 8] [--client auto|wrk|python] [--no-views]

Builds the project into a temporary state dir, starts `kopru serve`
(gunicorn, `--workers` sync workers) on a free 127.0.0.1 port, and loads it
with `--connections` concurrent connections, one page at a time, for
`--duration` seconds per page (the Python client also stops after
`--max-requests`). Nothing but 127.0.0.1 is contacted, and the server is
stopped at the end.

Pages: four entity pages (Türkiye, the one with the most links; Albania;
Banja Luka, a city; the 2021 strategic partnership agreement), the views
(timeline, trade, map, a network), and the baseline: /static/kopru.css
served by the same gunicorn workers, i.e. what a request costs before any
page code runs. Rounds interleave the pages and the median round (by req/s)
is kept, because the machine is shared and noisy: read the ratios to the
baseline as well as the absolutes.

Client: `wrk -t2 -cN --latency` (Debian package `wrk`) when it is installed,
else threads with http.client keep-alive connections (reconnecting when the
sync workers close them). The client runs on the same cores as the server.

Before the load, each page is fetched once (it must answer 200) and its
in-process figures are taken with Flask's test client: the first request
(caches cold) and the p50 of 50 more (warm).

Prints a Markdown table (copied into docs/benchmarks-pages.md).
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from serving import free_port, wait_for  # bench/serving.py

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASELINE = ("static asset (baseline)", "/static/kopru.css")
ENTITY_PAGES = [
    ("entity: Türkiye", "/id/turkiye.html"),
    ("entity: Albania", "/id/albania.html"),
    ("entity: Banja Luka", "/id/banja-luka.html"),
    ("entity: agreement", "/id/turkiye-albania-strategic-partnership-agreement.html"),
]
VIEW_PAGES = [
    ("view: timeline", "/timeline"),
    ("view: trade", "/trade"),
    ("view: map", "/map"),
    ("view: network (Albania)", "/id/albania/network"),
]
GOAL_P50_MS = 20.0


# --- clients ----------------------------------------------------------------------

def run_wrk(url: str, duration: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    n_err = int(non2xx.group(1)) if non2xx else 0
    if errors:
        # wrk counts a sync worker's "Connection: close" as a read error; only
        # connect errors and timeouts are failures.
        n_err += int(errors.group(1)) + int(errors.group(4))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "errors": n_err, "n": total}


def run_python(port: int, path: str, duration: float, connections: int,
               max_requests: int) -> dict:
    """`connections` threads, each with its own keep-alive connection, for
    `duration` seconds or `max_requests` requests in all, whichever first."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + duration
    budget = [max_requests]

    def worker():
        conn = None
        mine: list[float] = []
        while time.monotonic() < stop_at:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                t0 = time.perf_counter()
                conn.request("GET", path, headers={"Accept": "text/html"})
                r = conn.getresponse()
                r.read()
                mine.append(time.perf_counter() - t0)
                if r.status != 200:
                    with lock:
                        errors[0] += 1
                if r.getheader("Connection", "").lower() == "close" or r.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                with lock:
                    errors[0] += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    latencies.sort()
    if not latencies:
        return {"rps": 0.0, "p50": float("nan"), "p99": float("nan"), "errors": errors[0], "n": 0}

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000
    return {"rps": len(latencies) / elapsed, "p50": pct(50), "p99": pct(99),
            "errors": errors[0], "n": len(latencies)}


# --- in-process figures --------------------------------------------------------------

def in_process(state_dir: Path, project: str, pages: list[tuple[str, str]]) -> dict:
    """{path: (first request ms, warm p50 ms)} with Flask's test client."""
    from server.config import Config
    from server.web.app import create_app

    app = create_app(Config(project_root=Path(project), state_dir=state_dir))
    client = app.test_client()
    out = {}
    for _, path in pages:
        t0 = time.perf_counter()
        r = client.get(path, headers={"Accept": "text/html"})
        first = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            continue
        times = []
        for _ in range(50):
            t0 = time.perf_counter()
            client.get(path, headers={"Accept": "text/html"})
            times.append((time.perf_counter() - t0) * 1000)
        out[path] = (first, statistics.median(times))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--project", default=str(ROOT))
    p.add_argument("--duration", type=int, default=8, help="seconds per page and round (8)")
    p.add_argument("--rounds", type=int, default=3, help="rounds; the median is kept (3)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    p.add_argument("--connections", type=int, default=8, help="concurrent connections (8)")
    p.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--max-requests", type=int, default=20000,
                   help="Python client: most requests per page and round (20000)")
    p.add_argument("--no-views", action="store_true", help="entity pages and baseline only")
    a = p.parse_args(argv)

    client = a.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    if client == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (or --client python)")

    py = sys.executable
    tmp = Path(tempfile.mkdtemp(prefix="kopru-bench-pages-"))
    state = tmp / "state"
    env = dict(os.environ, KOPRU_STATE_DIR=str(state), PYTHONPATH=str(ROOT))
    proc = None
    try:
        print(f"building {a.project} …", file=sys.stderr)
        subprocess.run([py, "-m", "server", "--project", a.project, "build"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        # the server writes to its own copy of the file descriptor
        with open(tmp / "serve.log", "wb") as log:
            proc = subprocess.Popen([py, "-m", "server", "--project", a.project, "serve",
                                     "--host", "127.0.0.1", "--port", str(port),
                                     "--workers", str(a.workers)],
                                    env=env, stdout=log, stderr=log, start_new_session=True)
        wait_for(base + BASELINE[1], proc, "kopru serve")

        pages = [BASELINE] + ENTITY_PAGES + ([] if a.no_views else VIEW_PAGES)
        present = []
        for name, path in pages:
            try:
                with urllib.request.urlopen(base + path, timeout=30) as r:
                    ok = r.status == 200
            except OSError:
                ok = False
            if ok:
                present.append((name, path))
            else:
                print(f"skipped {path}: it does not answer 200", file=sys.stderr)
        # Warm every worker's caches a little (each page a few times).
        for _, path in present:
            for _ in range(2 * a.workers):
                with urllib.request.urlopen(base + path, timeout=30) as r:
                    r.read()

        inproc = in_process(state, a.project, present)

        results: dict[str, list[dict]] = {}
        for rnd in range(a.rounds):
            for name, path in present:
                if client == "wrk":
                    r = run_wrk(base + path, a.duration, a.connections)
                else:
                    r = run_python(port, path, a.duration, a.connections, a.max_requests)
                results.setdefault(path, []).append(r)
                print(f"round {rnd + 1} {name:26s} {r['rps']:8.0f} req/s  p50 {r['p50']:7.2f} ms"
                      f"  p99 {r['p99']:7.2f} ms  ({r['n']} requests"
                      + (f", {r['errors']} errors!" if r["errors"] else "") + ")", file=sys.stderr)

        def median(path):
            runs = sorted(results[path], key=lambda r: r["rps"])
            return runs[len(runs) // 2]

        ref = median(BASELINE[1])
        print(f"\n`kopru serve`, gunicorn {a.workers} sync workers; {a.connections} connections "
              f"({'wrk -t2' if client == 'wrk' else 'Python threads, http.client'}), "
              f"{a.duration} s per page × {a.rounds} rounds (median round); "
              f"{os.cpu_count()} cores shared by server and client.\n")
        def best(path):
            return min(results[path], key=lambda r: r["p50"])

        ref_best = best(BASELINE[1])
        print("| page | req/s | p50 ms | p99 ms | p50 ÷ static | best round: req/s, p50 ms "
              "| in-process first / warm ms |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, path in present:
            m, b = median(path), best(path)
            first, warm = inproc.get(path, (float("nan"), float("nan")))
            ratio = "1.0×" if path == BASELINE[1] else f"{m['p50'] / ref['p50']:.1f}×"
            print(f"| {name} (`{path}`) | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | "
                  f"{ratio} | {b['rps']:.0f}, {b['p50']:.2f} | {first:.1f} / {warm:.2f} |")
        print(f"\nBaseline best round: {ref_best['rps']:.0f} req/s, p50 {ref_best['p50']:.2f} ms.")
        entity = [median(path)["p50"] for _, path in present if path.startswith("/id/")
                  and path.endswith(".html")]
        if entity:
            worst = max(entity)
            print(f"Entity-page p50 (median round): worst {worst:.2f} ms — goal ≤ {GOAL_P50_MS:g} ms: "
                  f"{'met' if worst <= GOAL_P50_MS else 'NOT met'}.")
        return 0
    finally:
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
