#!/usr/bin/env python3
"""Take the README's screenshots again: headless Chromium (as the tests
drive it, tests/browser.py) against a `kopru serve` of this project.

    .venv/bin/python docs/screenshots/take.py [--base http://127.0.0.1:8080]

Without --base it builds the project if needed and serves it on a free
loopback port for the while. Each shot is the part of the page a reader sees
first (1280 × 900, or 390 × 844 for the `-phone` ones).
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import DESKTOP, PHONE, Browser  # noqa: E402

QUERY = ("PREFIX kop: <https://w3id.org/kopru/ontology#>\nPREFIX schema: <http://schema.org/>\n"
         "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
         "SELECT ?importer ?usd WHERE {\n  ?flow kop:exporter <https://w3id.org/kopru/id/turkiye> ;\n"
         "        kop:importer/rdfs:label ?importer ; kop:tradeValue/schema:value ?usd .\n"
         "  FILTER(lang(?importer) = \"en\")\n} ORDER BY DESC(?usd)")
MAP_QUERY = ("PREFIX geo: <http://www.opengis.net/ont/geosparql#>\n"
             "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
             "SELECT ?place ?label ?wkt WHERE {\n  ?place geo:hasGeometry/geo:asWKT ?wkt ; rdfs:label ?label .\n"
             "  FILTER(lang(?label) = \"en\")\n}")

# (file name, path, size, what to do before the shot)
SHOTS = [
    ("home", "/", DESKTOP, None),
    ("search", "/search?q=Albnia", DESKTOP, None),
    ("browse-facets", "/browse/Fact?year=2021", DESKTOP, None),
    ("entity-albania", "/id/albania", DESKTOP, None),
    ("entity-albania-tr", "/id/albania?lang=tr", DESKTOP, None),
    ("entity-turkiye-links", "/id/turkiye?rel=party#incoming", DESKTOP, None),
    ("source", "/source/article", DESKTOP, None),
    ("timeline", "/timeline", DESKTOP, None),
    ("map", "/map", DESKTOP, "figure"),
    ("network-turkiye", "/id/turkiye/network", DESKTOP, "figure"),
    ("sparql", "/sparql?example=agreements-with-albania&run=1", DESKTOP, "results"),
    ("sparql-chart", "/sparql?" + urllib.parse.urlencode({"query": QUERY, "run": "1"}), DESKTOP, "chart"),
    ("sparql-map", "/sparql?" + urllib.parse.urlencode({"query": MAP_QUERY, "run": "1"}), DESKTOP, "map"),
    ("not-found", "/id/albnia", DESKTOP, None),
    ("home-phone", "/", PHONE, None),
    ("entity-albania-phone", "/id/albania", PHONE, None),
    ("trade-phone", "/trade", PHONE, "table"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if predicate():
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise RuntimeError("gave up waiting")


def prepare(b: Browser, step: str | None) -> None:
    d = b.driver
    if step == "figure":
        d.execute_script("document.querySelector('main figure').scrollIntoView()")
    elif step == "table":
        d.execute_script("document.querySelector('main table').scrollIntoView()")
    elif step in ("results", "chart", "map"):
        wait_until(lambda: d.execute_script("return document.querySelectorAll('#yasgui .yasr table tbody tr').length"))
        if step != "results":
            d.execute_script(f"document.querySelector('.yasr_btnGroup .select_{step}').click()")
            wait_until(lambda: d.execute_script(f"return document.querySelectorAll('.kv-{step} svg').length"))
        d.execute_script("document.querySelector('.yasr').scrollIntoView()")
        d.execute_script("window.scrollBy(0, -330)")
    time.sleep(0.3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="a running Köprü server (default: start one)")
    args = parser.parse_args()
    server = None
    base = args.base
    if not base:
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "server", "--project", str(ROOT), "serve",
                                   "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: urllib.request.urlopen(base + "/healthz", timeout=2).status == 200, 120)
    b = Browser(DESKTOP)
    try:
        for name, path, size, step in SHOTS:
            b.resize(*size)
            b.driver.get(base + path)
            wait_until(lambda: b.driver.execute_script("return document.readyState") == "complete")
            prepare(b, step)
            b.driver.save_screenshot(str(HERE / f"{name}.png"))
            print(f"{name}.png  {path}")
    finally:
        b.quit()
        if server is not None:
            server.terminate()
            server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
