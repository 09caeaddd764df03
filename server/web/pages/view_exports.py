"""Each view's facts as a table (its CSV and JSON) and the SPARQL query a
reader can run on /sparql to get the same facts ("the query behind this
view"). The tables are cut from the same view models the drawings use.
"""

from __future__ import annotations

import urllib.parse

from server import namespaces as ns

_PREFIXES = {
    "kop": ns.KOP, "rdfs": ns.RDFS, "time": ns.TIME, "schema": ns.SCHEMA, "geo": ns.GEO,
}


def _prefixed(body: str) -> str:
    used = [p for p in _PREFIXES if f"{p}:" in body]
    return "".join(f"PREFIX {p}: <{_PREFIXES[p]}>\n" for p in used) + "\n" + body


QUERIES = {
    "timeline": """\
# The timeline: every fact the graph gives a time for (as asserted), and the
# year of that time (none for "the year before the article's publication").
SELECT ?year ?fact ?label ?timeProperty ?time WHERE {
  GRAPH <https://w3id.org/kopru/graph/asserted> { ?fact ?timeProperty ?time }
  ?timeProperty rdfs:subPropertyOf* kop:hasTime .
  OPTIONAL { ?fact rdfs:label ?label FILTER(lang(?label) = "en") }
  OPTIONAL { ?time time:inXSDgYear ?year }
}
ORDER BY ?year ?label
""",
    "trade": """\
# The trade chart: every trade flow, who exports to whom, the period and the
# value the source states (largest first; flows without a value last).
SELECT ?flow ?label ?exporter ?importer ?period ?value ?currency WHERE {
  ?flow a kop:TradeFlow .
  OPTIONAL { ?flow rdfs:label ?label FILTER(lang(?label) = "en") }
  OPTIONAL { ?flow kop:exporter ?exporter }
  OPTIONAL { ?flow kop:importer ?importer }
  OPTIONAL { ?flow kop:period ?period }
  OPTIONAL { ?flow kop:tradeValue ?amount . ?amount schema:value ?value .
             OPTIONAL { ?amount schema:currency ?currency } }
}
ORDER BY DESC(?value) ?label
""",
    "map": """\
# The map: the places with coordinates, and the projects located in them.
SELECT ?place ?label ?wkt ?project ?projectLabel WHERE {
  ?place geo:hasGeometry/geo:asWKT ?wkt .
  OPTIONAL { ?place rdfs:label ?label FILTER(lang(?label) = "en") }
  OPTIONAL { ?project a kop:Project ; kop:locatedIn ?place .
             OPTIONAL { ?project rdfs:label ?projectLabel FILTER(lang(?projectLabel) = "en") } }
}
ORDER BY ?label ?projectLabel
""",
    "network": """\
# The network: every node one link away from the entity, in either direction.
SELECT ?direction ?relation ?neighbour ?label WHERE {
  { <{iri}> ?relation ?neighbour . BIND("out" AS ?direction) }
  UNION
  { ?neighbour ?relation <{iri}> . BIND("in" AS ?direction) }
  FILTER(isIRI(?neighbour) && ?relation != rdf:type)
  OPTIONAL { ?neighbour rdfs:label ?label FILTER(lang(?label) = "en") }
}
ORDER BY ?direction ?relation ?label
""",
}


def query(name: str, iri: str | None = None) -> str:
    body = QUERIES[name].replace("{iri}", iri or "")
    text = _prefixed(body)
    if "rdf:" in body:
        text = f"PREFIX rdf: <{ns.RDF}>\n" + text
    return text


def query_href(name: str, iri: str | None = None) -> str:
    """A link that opens the query in the query UI and runs it."""
    return "/sparql?" + urllib.parse.urlencode({"query": query(name, iri), "run": "1"})


# --- the tables -----------------------------------------------------------------------

def timeline_table(model: dict) -> tuple[list[str], list[tuple]]:
    rows = [(d["year"], d["iri"], d["label"], d["kind"], d["prop"], d["time"]) for d in model["dated"]]
    rows += [(None, d["iri"], d["label"], d["kind"], d["prop"], lane["time_label"])
             for lane in model["lanes"] for d in lane["items"]]
    return ["year", "fact", "label", "kind", "time_property", "time"], rows


def trade_table(model: dict) -> tuple[list[str], list[tuple]]:
    rows = [(b["iri"], b["label"], b["route"], b["period"], b["value"], g["currency"])
            for g in model["groups"] for b in g["bars"]]
    rows += [(d["iri"], d["label"], d["route"], d["period"], None, None) for d in model["without"]]
    return ["flow", "label", "from_to", "period", "value", "currency"], rows


def map_table(model: dict) -> tuple[list[str], list[tuple]]:
    rows = [("place", p["iri"], p["label"], p["lon"], p["lat"], "") for p in model["places"]]
    rows += [("place (outside the frame)", p["iri"], p["label"], p["lon"], p["lat"], "")
             for p in model["outside"]]
    rows += [("project", d["iri"], d["label"], None, None, "; ".join(d["where"]))
             for d in model["projects"]]
    rows += [("project (region only)", d["iri"], d["label"], None, None, "; ".join(d["located"]))
             for d in model["unplaced"]]
    return ["kind", "iri", "label", "lon", "lat", "where"], rows


def network_table(model: dict) -> tuple[list[str], list[tuple]]:
    rows = [(n["direction"], n["caption"], n["iri"], n["label"], n["kind"], n["inferred"])
            for n in model["nodes"]]
    return ["direction", "relation", "neighbour", "label", "kind", "inferred"], rows


TABLES = {"timeline": timeline_table, "trade": trade_table, "map": map_table,
          "network": network_table}
