"""Country outlines for the maps: Natural Earth's admin-0 countries (public
domain), cut to the Western Balkans frame from the npm package world-atlas
and shipped in static/natural-earth/ (provenance and licence beside it).
Pages project them to SVG paths; nothing is fetched at run time.

Cutting the subset again (a maintainer's step, not the server's):

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python -m server.web.pages.geography package/countries-10m.json
"""

from __future__ import annotations

import json
import math
import sys
from functools import lru_cache
from pathlib import Path

STATIC = Path(__file__).resolve().parent.parent / "static"
SUBSET = STATIC / "natural-earth" / "western-balkans.json"
FRAME = {"west": 13.0, "east": 24.0, "south": 39.0, "north": 47.0}
MARGIN = 0.5             # degrees kept around the frame, so edges are not drawn at it
TOLERANCE = 0.01         # degrees (about 1 km): finer detail is below a pixel here
# Natural Earth's ISO 3166-1 numeric codes (Kosovo has none: by name) → Köprü slugs.
SLUGS = {
    "008": "albania", "070": "bosnia-and-herzegovina", "499": "montenegro",
    "807": "north-macedonia", "688": "serbia", "Kosovo": "kosovo", "191": "croatia",
    "705": "slovenia", "348": "hungary", "642": "romania", "100": "bulgaria",
    "300": "greece", "380": "italy", "040": "austria", "792": "turkiye",
}


@lru_cache(maxsize=1)
def countries() -> list[dict]:
    """[{slug, name, rings: [[(lon, lat), …], …], label: (lon, lat)}] from the
    shipped subset."""
    doc = json.loads(SUBSET.read_text(encoding="utf-8"))
    return [{"slug": c["slug"], "name": c["name"], "label": tuple(c["label"]),
             "rings": [[tuple(p) for p in ring] for ring in c["rings"]]} for c in doc["countries"]]


def path_d(rings, xy) -> str:
    """An SVG path's `d` for polygon rings, projected by `xy(lon, lat)`;
    consecutive points that land on the same tenth of a pixel are dropped."""
    parts = []
    for ring in rings:
        points: list[str] = []
        for lon, lat in ring:
            x, y = xy(lon, lat)
            p = f"{x:.1f} {y:.1f}"
            if not points or points[-1] != p:
                points.append(p)
        if len(points) >= 3:
            parts.append("M" + "L".join(points) + "Z")
    return "".join(parts)


# --- cutting the subset from world-atlas (TopoJSON) ---------------------------------------

def _arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """The topology's arcs in degrees (delta-decoded, transform applied)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    out = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        out.append(points)
    return out


def _ring(indexes: list[int], arcs) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(arc if not ring else arc[1:])   # arcs share their end points
    return ring


def _polygons(geometry: dict, arcs) -> list[list[list[tuple[float, float]]]]:
    if geometry["type"] == "Polygon":
        return [[_ring(r, arcs) for r in geometry["arcs"]]]
    if geometry["type"] == "MultiPolygon":
        return [[_ring(r, arcs) for r in poly] for poly in geometry["arcs"]]
    return []


def _clip(ring, west, east, south, north):
    """Sutherland–Hodgman: the part of a ring inside the box."""
    def cut(points, inside, cross):
        out = []
        for i, p in enumerate(points):
            q = points[i - 1]
            if inside(p):
                if not inside(q):
                    out.append(cross(q, p))
                out.append(p)
            elif inside(q):
                out.append(cross(q, p))
        return out

    def at_x(x):
        return lambda a, b: (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))

    def at_y(y):
        return lambda a, b: (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)

    points = list(ring)
    for inside, cross in ((lambda p: p[0] >= west, at_x(west)), (lambda p: p[0] <= east, at_x(east)),
                          (lambda p: p[1] >= south, at_y(south)), (lambda p: p[1] <= north, at_y(north))):
        if not points:
            break
        points = cut(points, inside, cross)
    return points


def _simplify(points, tolerance):
    """Douglas–Peucker on an open line."""
    if len(points) < 3:
        return points
    (ax, ay), (bx, by) = points[0], points[-1]
    length = math.hypot(bx - ax, by - ay)
    worst, at = 0.0, 0
    for i in range(1, len(points) - 1):
        px, py = points[i]
        d = (abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length if length
             else math.hypot(px - ax, py - ay))
        if d > worst:
            worst, at = d, i
    if worst <= tolerance:
        return [points[0], points[-1]]
    return _simplify(points[:at + 1], tolerance)[:-1] + _simplify(points[at:], tolerance)


def _area_centroid(ring) -> tuple[float, float, float]:
    a = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        a += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if not a:
        return 0.0, ring[0][0], ring[0][1]
    return abs(a) / 2, cx / (3 * a), cy / (3 * a)


def extract(topology: dict) -> dict:
    """The subset document: the countries that reach into the frame, their
    rings clipped to it (plus a margin) and simplified, rounded to 0.001°."""
    arcs = _arcs(topology)
    box = (FRAME["west"] - MARGIN, FRAME["east"] + MARGIN,
           FRAME["south"] - MARGIN, FRAME["north"] + MARGIN)
    out = []
    for g in topology["objects"]["countries"]["geometries"]:
        name = g["properties"]["name"]
        slug = SLUGS.get(g.get("id") or name)
        if slug is None:
            continue
        rings = []
        for poly in _polygons(g, arcs):
            for ring in poly:
                clipped = _clip(ring, *box)
                if len(clipped) < 3:
                    continue
                simple = _simplify(clipped + clipped[:1], TOLERANCE)[:-1]
                if len(simple) >= 3:
                    rings.append([[round(x, 3), round(y, 3)] for x, y in simple])
        if not rings:
            continue
        inner = [r for r in rings if _clip(r, FRAME["west"], FRAME["east"], FRAME["south"],
                                           FRAME["north"])]
        _area, lon, lat = max(_area_centroid(_clip(r, FRAME["west"], FRAME["east"], FRAME["south"],
                                                  FRAME["north"]) or r) for r in (inner or rings))
        out.append({"slug": slug, "name": name, "iso": g.get("id"),
                    "label": [round(lon, 2), round(lat, 2)], "rings": rings})
    out.sort(key=lambda c: c["slug"])
    return {
        "title": "Western Balkans country outlines for Köprü's maps",
        "source": "Natural Earth 1:10m Cultural Vectors, Admin 0 – Countries, version 4.1.0 "
                  "(public domain), as TopoJSON in the npm package world-atlas 2.0.2 "
                  "(countries-10m.json)",
        "made": "python -m server.web.pages.geography countries-10m.json: rings clipped to "
                f"the frame plus {MARGIN}°, simplified (Douglas–Peucker, {TOLERANCE}°), "
                "rounded to 0.001°; label = centroid of the largest part inside the frame",
        "frame": FRAME, "countries": out,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    doc = extract(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    SUBSET.parent.mkdir(parents=True, exist_ok=True)
    SUBSET.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n",
                      encoding="utf-8")
    print(f"{SUBSET}: {len(doc['countries'])} countries, {SUBSET.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
