"""The views for readers (issue 11, "Views"): real country outlines from
the vendored Natural Earth subset, with labelled markers and a legend; a
network grouped by relation with a legend; and for every chart its CSV,
its JSON and "the query behind this view", which gives the same facts.
In-process."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import html_page

SVG = "{http://www.w3.org/2000/svg}"
STATIC = Path(__file__).resolve().parent.parent / "server" / "web" / "static"
VIEWS = {"timeline": "/timeline", "trade": "/trade", "map": "/map", "network": "/id/turkiye/network"}


def drawing(client, path: str) -> ET.Element:
    r = client.get(path + ".svg")
    assert r.status_code == 200
    return ET.fromstring(r.data)


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(SVG + "g") if cls in (g.get("class") or "").split()]


def table(client, path: str) -> list[dict]:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/csv", path
    return list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))


def query_behind(client, path: str) -> list[dict]:
    """Run the page's "query behind this view" on /sparql; its rows."""
    text = html_page(client, path)
    m = re.search(r'<a href="(/sparql\?query=[^"]+)">the query behind this view</a>', text)
    assert m, f"{path} has no query behind it"
    args = urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(m.group(1))).query)
    assert args["run"] == ["1"]
    r = client.get("/sparql", query_string={"query": args["query"][0]},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.data[:500]
    return [{k: v["value"] for k, v in b.items()} for b in r.get_json()["results"]["bindings"]]


# --- downloads and the query behind each view ------------------------------------------------

@pytest.mark.parametrize("name", VIEWS)
def test_every_view_has_csv_json_and_its_query(client, name):
    path = VIEWS[name]
    text = html_page(client, path)
    downloads = re.search(r'<p class="downloads">.*?</p>', text, re.S).group(0)
    assert f'href="{path}.csv"' in downloads and f'href="{path}.json"' in downloads
    rows = table(client, f"{path}.csv")
    body = client.get(f"{path}.json").get_json()
    assert rows and len(body["rows"]) == len(rows)
    assert list(body["rows"][0]) == list(rows[0])


def test_timeline_query_gives_the_timeline_facts(client):
    drawn = {r["fact"] for r in table(client, "/timeline.csv")}
    queried = {r["fact"] for r in query_behind(client, "/timeline")}
    assert drawn == queried
    years = {r["year"] for r in table(client, "/timeline.csv") if r["year"]}
    assert {"1992", "1996", "2008", "2021", "2024"} <= years


def test_trade_query_gives_the_trade_flows_and_values(client):
    rows = table(client, "/trade.csv")
    queried = query_behind(client, "/trade")
    assert {r["flow"] for r in rows} == {r["flow"] for r in queried}
    values = {(r["flow"], float(r["value"])) for r in rows if r["value"]}
    assert values == {(r["flow"], float(r["value"])) for r in queried if r.get("value")}
    assert max(v for _, v in values) == 919500000.0


def test_map_query_gives_the_places(client):
    places = {r["iri"] for r in table(client, "/map.csv") if r["kind"].startswith("place")}
    assert {r["place"] for r in query_behind(client, "/map")} == places
    tirana = next(r for r in table(client, "/map.csv") if r["label"] == "Tirana")
    assert 19 < float(tirana["lon"]) < 20 and 41 < float(tirana["lat"]) < 42


def test_network_query_gives_the_neighbours(client):
    neighbours = {r["neighbour"] for r in table(client, "/id/turkiye/network.csv")}
    assert len(neighbours) > 60
    assert neighbours <= {r["neighbour"] for r in query_behind(client, "/id/turkiye/network")}


# --- the map: Natural Earth outlines -----------------------------------------------------------

def test_the_natural_earth_subset_is_vendored_with_its_provenance():
    subset = STATIC / "natural-earth" / "western-balkans.json"
    doc = json.loads(subset.read_text(encoding="utf-8"))
    assert subset.stat().st_size < 150_000
    assert "Natural Earth" in doc["source"] and "world-atlas" in doc["source"]
    slugs = {c["slug"] for c in doc["countries"]}
    assert {"albania", "bosnia-and-herzegovina", "kosovo", "montenegro", "north-macedonia",
            "serbia"} <= slugs
    frame = doc["frame"]
    for c in doc["countries"]:
        for ring in c["rings"]:
            for lon, lat in ring:
                assert frame["west"] - 0.51 <= lon <= frame["east"] + 0.51, c["slug"]
                assert frame["south"] - 0.51 <= lat <= frame["north"] + 0.51, c["slug"]
    readme = (STATIC / "natural-earth" / "README.md").read_text(encoding="utf-8")
    assert "public domain" in readme and "sha256" in readme
    assert "ISC" in readme and (STATIC / "natural-earth" / "LICENSE-world-atlas.txt").exists()


def test_the_map_draws_country_outlines_with_labels_and_a_legend(client):
    root = drawing(client, "/map")
    shapes = list(groups(root, "kv-outlines")[0].iter(SVG + "path"))
    assert len(shapes) >= 12
    assert all(p.get("d").count("L") > 20 for p in shapes[:6])          # outlines, not dots
    links = {a.get("href") for a in groups(root, "kv-outlines")[0].iter(SVG + "a")}
    for slug in ("albania", "bosnia-and-herzegovina", "kosovo", "north-macedonia", "serbia"):
        assert f"/id/{slug}" in links, slug
    labels = " ".join(t.text or "" for t in groups(root, "kv-countries")[0].iter(SVG + "text"))
    for name in ("ALBANIA", "SERBIA", "KOSOVO", "MONTENEGRO", "CROATIA"):
        assert name in labels, name
    legend = " ".join(t.text or "" for t in groups(root, "kv-legend")[0].iter(SVG + "text"))
    for words in ("city", "project", "route", "not in the graph"):
        assert words in legend, words
    text = html_page(client, "/map")
    assert "Natural Earth" in text and "natural-earth/README.md" in text
    assert "<image" not in text and "tile" not in text.lower()


def test_locator_maps_draw_the_outlines_too(client):
    text = html_page(client, "/id/banja-luka.html")
    side = text[text.index('id="h-coords"'):]
    mini = ET.fromstring(side[side.index("<svg"):side.index("</svg>") + 6])
    assert len(list(groups(mini, "kv-outlines")[0].iter(SVG + "path"))) >= 10


# --- the network ---------------------------------------------------------------------------------

def test_a_large_network_is_grouped_by_relation_with_a_legend(client):
    root = drawing(client, "/id/turkiye/network")
    relations = groups(root, "kv-relation")
    nodes = groups(root, "kv-node")
    assert len(nodes) == len(table(client, "/id/turkiye/network.csv"))
    words = [" ".join(t.itertext()) for r in relations for t in r.iter(SVG + "text")]
    assert any(w.startswith("party to (") for w in words), words
    counts = sum(int(re.search(r"\((\d+)\)$", w).group(1)) for w in words)
    assert counts == len(nodes)                     # every neighbour under one relation
    legend = " ".join(" ".join(t.itertext()) for t in groups(root, "kv-legend")[0].iter(SVG + "text"))
    for words in ("agreement", "actor", "the entity points at it", "it points at the entity"):
        assert words in legend, words
    # Labels do not overlap: neighbours are at least a row apart in each column.
    ys: dict[str, list[float]] = {}
    for n in nodes:
        circle = n.find(f".//{SVG}circle")
        ys.setdefault(circle.get("cx"), []).append(float(circle.get("cy")))
    for column in ys.values():
        column.sort()
        assert all(b - a >= 20 for a, b in zip(column, column[1:], strict=False))


def test_a_small_network_keeps_the_circle(client):
    root = drawing(client, "/id/albania/network")
    assert not groups(root, "kv-relation")
    assert groups(root, "kv-legend")
