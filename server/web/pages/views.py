"""The views, as server-rendered SVG beside a table of the same facts:
/timeline, /trade, /map and /id/<slug>/network (each also as .svg).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from flask import Response, render_template, request, url_for
from markupsafe import Markup

from server import namespaces as ns
from server.web.pages import data, entity, geography, render, svg, tables, view_exports
from server.web.pages.blueprint import bp
from server.web.pages.labels import pick, preferred_languages

KOP = ns.KOP
OUTLINE = Path(__file__).resolve().parent.parent / "static" / "region-outline.json"
FIRST_YEAR, LAST_YEAR = 1992, 2024
MAX_NEIGHBOURS = 120
VIEW_CACHE = 128
SVG_TYPE = "image/svg+xml; charset=utf-8"

# Links left out of the network: what the entity page shows in its own panels.
NETWORK_SKIP = {
    ns.RDF + "type", KOP + "statedIn", KOP + "states", ns.PROV + "wasDerivedFrom",
    ns.SKOS + "exactMatch", ns.SKOS + "closeMatch", ns.OWL + "sameAs",
    ns.SKOS + "inScheme", ns.GEO + "hasGeometry",
}
KINDS = [  # checked in order against a node's types and their superclasses
    ("agreement", KOP + "Agreement"), ("trade", KOP + "TradeFlow"),
    ("project", KOP + "Project"), ("event", KOP + "Event"), ("event", KOP + "Fact"),
    ("place", KOP + "Place"), ("actor", KOP + "Actor"),
]

# --- helpers ------------------------------------------------------------------------

def _memo(name: str, key, make):
    """Per store: the last VIEW_CACHE results of `make()` for view `name`."""
    return data.handle().cache.get("views:" + name, key, make, maxsize=VIEW_CACHE)


@lru_cache(maxsize=1)
def outline() -> dict:
    """The shipped schematic frame of the region (see the file's note)."""
    return json.loads(OUTLINE.read_text(encoding="utf-8"))


def _types(info: dict, iri: str, meta: dict) -> set[str]:
    types = set((info.get(iri) or {}).get("type", []))
    for t in list(types):
        types.update((meta.get(t) or {}).get("ancestors", []))
    return types


def kind_of(info: dict, iri: str, meta: dict) -> str:
    types = _types(info, iri, meta)
    for kind, cls in KINDS:
        if cls in types:
            return kind
    return "other"


def _view(iri: str, info: dict, meta: dict, langs: list[str]) -> dict:
    """Label (reader's language), href, summary of a node."""
    v = entity.node_view(iri, info, meta, langs)
    prov = v.get("provenance") or {}
    return {"iri": iri, "label": v["text"], "lang": v["lang"], "href": v["href"],
            "summary": prov.get("summary", ""), "kind": kind_of(info, iri, meta)}


def _label(iri: str, info: dict, meta: dict, langs: list[str]) -> str:
    return entity.node_view(iri, info, meta, langs)["text"]


def _svg_response(drawing: Markup) -> Response:
    body = '<?xml version="1.0" encoding="utf-8"?>\n' + str(drawing) + "\n"
    resp = Response(body, content_type=SVG_TYPE)
    resp.headers["Vary"] = "Accept-Language"
    return resp


def _page(name: str, template: str, build, as_svg: bool, ext: str = "") -> Response:
    """The view `name` as HTML (the drawing and its table), as SVG, or its
    table as CSV or JSON (`ext`)."""
    langs = preferred_languages()
    model = _memo(name, tuple(langs), lambda: build(langs))
    if as_svg:
        return _svg_response(model["svg"])
    if ext:
        columns, rows = view_exports.TABLES[name](model)
        resp = tables.response(name, columns, rows, ext)
        resp.headers["Vary"] = "Accept-Language"
        return resp
    body = _memo(name + ":html", tuple(langs), lambda: render_template(
        template, v=model, query_href=view_exports.query_href(name),
        csv=url_for(f"pages.{name}_data", ext="csv"), json=url_for(f"pages.{name}_data", ext="json")))
    resp = Response(body, content_type="text/html; charset=utf-8")
    resp.headers["Vary"] = "Accept-Language"
    return resp


def _add_view_routes(name: str, build) -> None:
    """/<name> (HTML), /<name>.svg and /<name>.csv|.json, as the endpoints
    pages.<name>_page, pages.<name>_svg and pages.<name>_data."""
    bp.add_url_rule(f"/{name}", f"{name}_page",
                    lambda: _page(name, f"{name}.html", build, False))
    bp.add_url_rule(f"/{name}.svg", f"{name}_svg",
                    lambda: _page(name, f"{name}.html", build, True))
    bp.add_url_rule(f"/{name}.<any(csv, json):ext>", f"{name}_data",
                    lambda ext: _page(name, f"{name}.html", build, False, ext))


# --- timeline -------------------------------------------------------------------------

def timeline_model(langs: list[str]) -> dict:
    facts = data.timed_facts()
    vague = data.vague_times()
    meta = data.ontology_meta()
    iris = [f for f, _, _, _ in facts] + [t for _, _, t, _ in facts] + [f for f, _, _ in vague]
    info = data.node_info(iris)
    dated: list[dict] = []
    lanes: dict[str, dict] = {}
    for f, prop, t, year in facts:
        item = _view(f, info, meta, langs)
        item["prop"] = render.term_label(prop, meta, langs)
        item["time"] = _label(t, info, meta, langs)
        item["title"] = item["summary"] or item["label"]
        if year is not None and year.lstrip("-").isdigit():
            item["year"] = int(year)
            dated.append(item)
        else:
            lane = lanes.setdefault(t, {"time": t, "time_href": render.local_href(t),
                                        "time_label": item["time"], "items": []})
            lane["items"].append(item)
    dated.sort(key=lambda d: (d["year"], d["label"].lower(), d["iri"]))
    lane_list = []
    for lane in sorted(lanes.values(), key=lambda lane: lane["time_label"].lower()):
        label = lane["time_label"]
        lane["title"] = "Undated: " + (label[:1].lower() + label[1:] if label else "no position")
        lane["note"] = ("No calendar year is known for this time: it lies before the article's "
                        "publication, whose date is unknown, so these facts are not on the axis.")
        lane["items"].sort(key=lambda d: (d["label"].lower(), d["iri"]))
        lane_list.append(lane)
    years = [d["year"] for d in dated]
    first = min([FIRST_YEAR] + years)
    last = max([LAST_YEAR] + years)
    vague_items = []
    for f, words, lang in vague:
        item = _view(f, info, meta, langs)
        item["words"], item["words_lang"] = words, lang
        vague_items.append(item)
    vague_items.sort(key=lambda d: (d["label"].lower(), d["words"]))
    return {"dated": dated, "lanes": lane_list, "vague": vague_items, "first": first, "last": last,
            "svg": svg.timeline(dated, lane_list, first, last)}


_add_view_routes("timeline", timeline_model)


# --- trade ----------------------------------------------------------------------------

def trade_model(langs: list[str]) -> dict:
    flows = data.trade_flows()
    meta = data.ontology_meta()
    iris = []
    for f in flows:
        iris += [f["iri"]] + f["exporters"] + f["importers"] + f["periods"]
    info = data.node_info(iris)

    def names(xs):
        return ", ".join(_label(x, info, meta, langs) for x in xs) or "?"

    by_currency: dict[str, list] = {}
    without = []
    for f in flows:
        view = _view(f["iri"], info, meta, langs)
        route = f"{names(f['exporters'])} → {names(f['importers'])}"
        period = "; ".join(_label(p, info, meta, langs) for p in f["periods"])
        if not f["values"]:
            without.append({**view, "route": route, "period": period})
            continue
        for _, value, currency in f["values"]:
            try:
                amount = float(value)
            except ValueError:
                continue
            by_currency.setdefault(currency or "(no currency)", []).append({
                **view, "route": route, "period": period, "value": amount,
                "value_text": render.money(value, currency),
                "sublabel": period or "period not stated",
                "title": view["label"] + (f" — {view['summary']}" if view["summary"] else ""),
            })
    groups = []
    for currency in sorted(by_currency):
        bars = sorted(by_currency[currency], key=lambda b: (-b["value"], b["label"].lower()))
        for b in bars:
            b["bar_label"] = b["route"]
        groups.append({"currency": currency, "bars": bars})
    drawing = svg.bar_chart(
        [{"currency": g["currency"],
          "bars": [{"label": b["route"], "sublabel": b["sublabel"], "value": b["value"],
                    "value_text": b["value_text"], "href": b["href"], "title": b["title"]}
                   for b in g["bars"]]} for g in groups],
        lambda v, c: render.money(repr(v), c) if v else f"{c} 0")
    without.sort(key=lambda d: d["label"].lower())
    return {"groups": groups, "without": without, "svg": drawing}


_add_view_routes("trade", trade_model)


# --- network --------------------------------------------------------------------------

def incoming_wording(prop: str, meta: dict, langs: list[str]) -> str:
    """A link pointing at the entity, read from the entity's side: the
    declared inverse ("party to", "contains"), "recipient of", or, for a
    label that ends in a preposition, an arrow: "← located in"."""
    wording = render.inverse_label(prop, meta, langs)
    if wording.startswith("referred to as"):
        return "← " + render.term_label(prop, meta, langs)
    return wording


def network_model(iri: str, inferred: bool, langs: list[str]) -> dict:
    rows = [r for r in data.neighbourhood(iri, inferred) if r[1] not in NETWORK_SKIP]
    meta = data.ontology_meta()
    info = data.node_info([iri] + [n for _, _, n, _ in rows])
    nodes: dict[str, dict] = {}
    for direction, prop, node, asserted in rows:
        caption = (render.term_label(prop, meta, langs) if direction == "out"
                   else incoming_wording(prop, meta, langs))
        n = nodes.get(node)
        if n is None:
            n = nodes[node] = {**_view(node, info, meta, langs), "captions": [], "directions": set(),
                               "asserted": False,
                               "net_href": (f"/id/{render.slug_of(node)}/network"
                                            if render.slug_of(node) else None)}
        if caption not in n["captions"]:
            n["captions"].append(caption)
        n["directions"].add(direction)
        n["asserted"] = n["asserted"] or asserted
    order = {"out": 0, "both": 1, "in": 2}
    items = []
    for n in nodes.values():
        n["direction"] = "both" if len(n["directions"]) > 1 else next(iter(n["directions"]))
        n["captions"].sort(key=str.lower)
        n["caption"] = ", ".join(n["captions"])
        n["inferred"] = not n["asserted"]
        items.append(n)
    items.sort(key=lambda n: (order[n["direction"]], n["captions"][0].lower(), n["label"].lower(),
                              n["iri"]))
    shown, more = items[:MAX_NEIGHBOURS], max(0, len(items) - MAX_NEIGHBOURS)
    center = _view(iri, info, meta, langs)
    drawing = svg.network(
        {"label": center["label"], "href": center["href"], "kind": center["kind"]},
        [{"label": n["label"], "href": n["href"], "net_href": n["net_href"], "kind": n["kind"],
          "caption": n["caption"], "direction": n["direction"], "inferred": n["inferred"]}
         for n in shown], more)
    return {"center": center, "nodes": items, "more": more, "inferred": inferred,
            "slug": render.slug_of(iri), "svg": drawing}


def _network(slug: str, as_svg: bool, ext: str = "") -> Response:
    from server.web.pages.routes_ld import not_found

    iri = ns.ID + slug
    if not render.valid_slug(slug) or not data.exists(iri):
        return not_found(None, f"There is no entity {iri} in the Köprü graph.")
    inferred = request.args.get("inferred", "") in ("1", "true", "yes")
    langs = preferred_languages()
    key = (iri, inferred, tuple(langs))
    model = _memo("network", key, lambda: network_model(iri, inferred, langs))
    if as_svg:
        return _svg_response(model["svg"])
    if ext:
        columns, rows = view_exports.network_table(model)
        return tables.response(f"network-{slug}", columns, rows, ext)
    flag = 1 if inferred else None
    body = _memo("network:html", key, lambda: render_template(
        "network.html", v=model, query_href=view_exports.query_href("network", iri),
        csv=url_for("pages.network_data", slug=slug, ext="csv", inferred=flag),
        json=url_for("pages.network_data", slug=slug, ext="json", inferred=flag)))
    resp = Response(body, content_type="text/html; charset=utf-8")
    resp.headers["Vary"] = "Accept-Language"
    return resp


@bp.route("/id/<slug>/network")
def network_page(slug: str):
    return _network(slug, False)


@bp.route("/id/<slug>/network.svg")
def network_svg(slug: str):
    return _network(slug, True)


@bp.route("/id/<slug>/network.<any(csv, json):ext>")
def network_data(slug: str, ext: str):
    return _network(slug, False, ext)


# --- map ------------------------------------------------------------------------------

def _spread(k: int, n: int, above: bool, radius: float = 24.0) -> tuple[float, float]:
    """Where the k-th of n markers sits around its anchor (px): on an arc
    above it (countries: their label is below) or below it (places: their
    label is above), so markers cover neither."""
    import math
    lo, hi = (200, 340) if above else (160, 20)
    angle = math.radians(lo + (hi - lo) * (k + 1) / (n + 1))
    return radius * math.cos(angle), radius * math.sin(angle)


def map_model(langs: list[str]) -> dict:
    frame_data = outline()
    frame = frame_data["frame"]
    meta = data.ontology_meta()
    pts = {}
    for node, wkt in data.points():
        p = render.point(wkt)
        if p is not None and node not in pts:
            pts[node] = (p[1], p[0], render.coordinates(wkt))   # lon, lat, text
    projects = data.located_projects()
    routes_raw = data.connections()
    country_iris = {ns.ID + c["slug"]: c for c in frame_data["countries"]}
    off_iris = {ns.ID + o["slug"]: o for o in frame_data.get("offmap", [])}
    iris = (list(pts) + [f for f, _ in projects] + [pl for _, pl in projects]
            + [f for f, _ in routes_raw] + list(country_iris) + list(off_iris)
            + [ns.ID + c["slug"] for c in geography.countries()])
    info = data.node_info(iris)

    def in_graph(i):
        return bool((info.get(i) or {}).get("label") or (info.get(i) or {}).get("type"))

    west, east, south, north = frame["west"], frame["east"], frame["south"], frame["north"]
    places: list[dict] = []
    outside: list[dict] = []
    for node, (lon, lat, coords) in sorted(pts.items()):
        v = _view(node, info, meta, langs)
        item = {**v, "lon": lon, "lat": lat, "coords": coords}
        (places if west <= lon <= east and south <= lat <= north else outside).append(item)
    places.sort(key=lambda d: d["label"].lower())
    countries = country_shapes(info, meta, langs)

    # Routes: facts that connect two or more places with coordinates.
    ends: dict[str, list] = {}
    for f, pl in routes_raw:
        if pl in pts:
            ends.setdefault(f, []).append(pl)
    route_facts = {f: sorted(pls) for f, pls in ends.items() if len(pls) >= 2}

    # Projects: anchored at a place with coordinates, or at a country of the frame.
    by_project: dict[str, list[str]] = {}
    for f, pl in projects:
        by_project.setdefault(f, []).append(pl)
    anchored: dict[str, list] = {}     # anchor key → [(project, lon, lat)]
    keyed: list[dict] = []
    unplaced: list[dict] = []
    project_views = {f: _view(f, info, meta, langs) for f in set(by_project) | set(route_facts)}
    for f in sorted(set(by_project) | set(route_facts), key=lambda f: (project_views[f]["label"].lower(), f)):
        v = project_views[f]
        where, anchors = [], []
        if f in route_facts:
            where.append("route " + "–".join(_label(p, info, meta, langs) for p in route_facts[f]))
        else:
            for pl in by_project.get(f, []):
                if pl in pts:
                    anchors.append((pl, pts[pl][0], pts[pl][1]))
                    where.append(_label(pl, info, meta, langs))
                elif pl in country_iris:
                    c = country_iris[pl]
                    anchors.append((pl, c["lon"], c["lat"]))
                    where.append(_label(pl, info, meta, langs))
        located = [_label(pl, info, meta, langs) for pl in by_project.get(f, [])]
        if not where:
            unplaced.append({**v, "located": located})
            continue
        entry = {**v, "number": len(keyed) + 1, "where": where, "located": located}
        keyed.append(entry)
        for pl, lon, lat in anchors:
            anchored.setdefault(pl, []).append((entry, lon, lat))
    markers = []
    for pl, entries in sorted(anchored.items()):
        for k, (entry, lon, lat) in enumerate(entries):
            dx, dy = _spread(k, len(entries), above=pl in country_iris)
            markers.append({"number": entry["number"], "label": entry["label"], "href": entry["href"],
                            "lon": lon, "lat": lat, "dx": dx, "dy": dy, "kind": "project"})
    routes = []
    for entry in keyed:
        if entry["iri"] in route_facts:
            routes.append({"number": entry["number"], "label": entry["label"], "href": entry["href"],
                           "points": [(pts[p][0], pts[p][1]) for p in route_facts[entry["iri"]]]})
    offmap = []
    for o_iri, o in off_iris.items():
        if in_graph(o_iri):
            offmap.append({"label": _label(o_iri, info, meta, langs), "href": render.local_href(o_iri),
                           "side": o["side"], "lat": o["lat"]})
    unplaced.sort(key=lambda d: d["label"].lower())
    drawing = svg.region_map(frame, countries, places, routes, markers, offmap)
    return {"places": places, "outside": outside, "countries": countries, "projects": keyed,
            "unplaced": unplaced, "outline": frame_data, "svg": drawing}


_add_view_routes("map", map_model)


WESTERN_BALKANS = {"albania", "bosnia-and-herzegovina", "kosovo", "montenegro", "north-macedonia",
                   "serbia"}


def country_shapes(info: dict, meta: dict, langs: list[str]) -> list[dict]:
    """Natural Earth's countries with the graph's names and pages where the
    graph has them: [{iri, label, href, rings, label_at, in_graph, focus}]."""
    out = []
    for c in geography.countries():
        iri = ns.ID + c["slug"]
        known = bool((info.get(iri) or {}).get("label"))
        out.append({"iri": iri, "label": _label(iri, info, meta, langs) if known else c["name"],
                    "href": render.local_href(iri), "rings": c["rings"], "label_at": c["label"],
                    "in_graph": known, "focus": known and c["slug"] in WESTERN_BALKANS})
    out.sort(key=lambda d: d["label"].lower())
    return out


# --- the small map on entity pages ------------------------------------------------------

@bp.app_template_global("kv_mini_map")
def mini_map(iri: str) -> Markup:
    """A small locator map for an entity with coordinates ('' without)."""
    info = data.node_info([iri]).get(iri) or {}
    for wkt in info.get("wkt", []):
        p = render.point(wkt)
        if p is None:
            continue
        lat, lon = p
        langs = preferred_languages()
        best = pick(info.get("label"), langs)
        frame_data = outline()
        shapes = [{**c, "focus": c["slug"] in WESTERN_BALKANS} for c in geography.countries()]
        return svg.mini_map(frame_data["frame"], shapes, lon, lat,
                            best[0] if best else render.local_name(iri))
    return Markup("")
