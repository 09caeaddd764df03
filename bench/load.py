"""Sustained load with runaway queries beside it: does a short query still
get its answer in time while attackers keep the workers busy?

Starts `kopru serve` over the shipped project (built first), then, for each
round, runs clients that ask short things for --seconds — point lookups
(a new subject and LIMIT each time, so no cache answers them), entity pages
and searches — and reports throughput, p50/p99 and errors of those short
requests. Rounds, in one go on one machine:

  quiet      the short load alone (the baseline)
  attack     the same, with 2 × workers clients sending runaway queries
             (a three-way cross join) back to back
  no-slots   the attack with KOPRU_LONG_QUERIES = workers: every worker may
             run a long query, as before issue 9

    python bench/load.py [--seconds 20] [--workers 4] [--clients 8] [--json out.json]

Goal (issue 9): p99 of the short requests ≤ 2 s during the attack.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import free_port, wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SLUGS = ["albania", "turkiye", "serbia", "kosovo", "bosnia-and-herzegovina", "tika",
         "north-macedonia", "nato", "sarajevo", "tirana"]
TERMS = ["alban", "türk", "sırb", "kosov", "bosna", "tika", "sarajevo", "nato", "eu", "mke"]


def _request(url: str, timeout: float = 60) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        e.read()
        return e.code
    except OSError:
        return 0


def _short_request(base: str, rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        slug = rng.choice(SLUGS)
        q = (f"SELECT ?p ?o WHERE {{ <https://w3id.org/kopru/id/{slug}> ?p ?o }} "
             f"LIMIT {rng.randrange(10, 100000)}")
        return f"{base}/sparql?" + urllib.parse.urlencode({"query": q})
    if kind == 1:
        return f"{base}/id/{rng.choice(SLUGS)}.html"
    return f"{base}/search?" + urllib.parse.urlencode({"q": rng.choice(TERMS)})


def run_round(base: str, seconds: float, clients: int, runaways: int) -> dict:
    stop = threading.Event()
    latencies: list[float] = []
    errors: dict[int, int] = {}
    runaway_status: dict[int, int] = {}
    lock = threading.Lock()

    def short_client(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            url = _short_request(base, rng)
            t0 = time.perf_counter()
            status = _request(url)
            took = time.perf_counter() - t0
            with lock:
                latencies.append(took)
                if not 200 <= status < 400:
                    errors[status] = errors.get(status, 0) + 1

    def runaway_client() -> None:
        url = f"{base}/sparql?" + urllib.parse.urlencode({"query": RUNAWAY})
        while not stop.is_set():
            status = _request(url, timeout=120)
            with lock:
                runaway_status[status] = runaway_status.get(status, 0) + 1

    threads = [threading.Thread(target=runaway_client, daemon=True) for _ in range(runaways)]
    threads += [threading.Thread(target=short_client, args=(i,), daemon=True)
                for i in range(clients)]
    for t in threads[:runaways]:
        t.start()
    if runaways:
        time.sleep(2)                     # the runaways have the workers first
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    for t in threads[runaways:]:
        t.start()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - started
    for t in threads:
        t.join(150)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] if latencies else 0.0
    return {"runaways": runaways, "requests": len(latencies),
            "throughput": len(latencies) / elapsed, "p50": pct(0.50), "p99": pct(0.99),
            "max": latencies[-1] if latencies else 0.0, "errors": errors,
            "runaway_answers": runaway_status, "load_average": [load_before, os.getloadavg()[0]]}


def serve(state: Path, workers: int, env_extra: dict) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "KOPRU_STATE_DIR": str(state), "KOPRU_RESULT_CACHE_BYTES": "0",
           **env_extra}
    proc = subprocess.Popen([sys.executable, "-m", "server", "--project", str(ROOT), "serve",
                             "--host", "127.0.0.1", "--port", str(port), "--workers",
                             str(workers)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/sparql?query=ASK%7B%7D", proc, "kopru serve")
    return proc, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--json", help="write the figures here too")
    args = ap.parse_args()

    state = Path(tempfile.mkdtemp(prefix="kopru-bench-load-"))
    subprocess.run([sys.executable, "-m", "server", "--project", str(ROOT), "build"],
                   env={**os.environ, "KOPRU_STATE_DIR": str(state)}, check=True,
                   stdout=subprocess.DEVNULL)
    rounds = {}
    for name, runaways, extra in (
            ("quiet", 0, {}),
            ("attack", 2 * args.workers, {}),
            ("no-slots", 2 * args.workers, {"KOPRU_LONG_QUERIES": str(args.workers)})):
        proc, base = serve(state, args.workers, extra)
        try:
            rounds[name] = run_round(base, args.seconds, args.clients, runaways)
        finally:
            proc.terminate()
            proc.wait(60)
        r = rounds[name]
        print(f"{name:9} runaways={r['runaways']:2}  short: {r['throughput']:7.1f} req/s  "
              f"p50 {r['p50'] * 1000:7.1f} ms  p99 {r['p99'] * 1000:7.1f} ms  "
              f"max {r['max'] * 1000:7.1f} ms  errors {r['errors'] or 0}  "
              f"runaway answers {r['runaway_answers'] or '-'}  "
              f"load {r['load_average'][0]:.1f}→{r['load_average'][1]:.1f}", flush=True)
    quiet, attack = rounds["quiet"], rounds["attack"]
    print(f"attack ÷ quiet: throughput {attack['throughput'] / quiet['throughput']:.2f}×, "
          f"p99 {attack['p99'] / max(quiet['p99'], 1e-9):.1f}×; goal p99 ≤ 2 s: "
          f"{'met' if attack['p99'] <= 2 else 'NOT met'} ({attack['p99']:.2f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(rounds, indent=2))


if __name__ == "__main__":
    main()
