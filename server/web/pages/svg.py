"""Server-side SVG for the views: timeline, trade chart, network, map.
Every drawing is built from `el()`, which escapes every value; links are
kept only when they point at this server or at http(s).
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

SVG_NS = "http://www.w3.org/2000/svg"

KIND_COLOURS = {
    "agreement": "#14324a", "event": "#b85c00", "trade": "#2e7d32", "project": "#7b3fa0",
    "place": "#8e4d00", "actor": "#0b5cad", "other": "#5b6770",
}
KIND_NAMES = {
    "agreement": "agreement", "event": "event", "trade": "trade flow", "project": "project",
    "place": "place", "actor": "actor", "other": "other",
}

STYLE = """
.kv{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:13px}
.kv text{fill:#1d2731}
.kv .muted{fill:#5b6770}
.kv .small{font-size:11px}
.kv .big{font-size:15px;font-weight:600}
.kv .bold{font-weight:600}
.kv a text{fill:#0b5cad}
.kv a:hover text,.kv a:focus text{text-decoration:underline}
.kv a:focus circle,.kv a:focus rect{stroke:#f2b600;stroke-width:3}
.kv .axis{stroke:#5b6770;stroke-width:1.5}
.kv .tick{stroke:#5b6770;stroke-width:1}
.kv .grid{stroke:#d6dee6;stroke-width:1}
.kv .lane{fill:#fff8ec;stroke:#8a4b00;stroke-width:1;stroke-dasharray:6 4}
.kv .band{fill:#f3f6f9}
.kv .edge-out{stroke:#14324a;stroke-width:1.2}
.kv .edge-in{stroke:#b85c00;stroke-width:1.2;stroke-dasharray:5 3}
.kv .edge-both{stroke:#5b6770;stroke-width:1.2}
.kv .inferred{stroke-opacity:.55}
.kv .frame{fill:#fbfcfd;stroke:#5b6770;stroke-width:1}
.kv .country{fill:#fff;stroke:#5b6770;stroke-width:1.2}
.kv .country-off{fill:#fff;stroke:#b0bac3;stroke-width:1}
.kv .halo{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}
.kv .route{stroke:#7b3fa0;stroke-width:2.5;stroke-dasharray:7 4;fill:none}
"""


# --- building blocks ----------------------------------------------------------------

def num(x: float) -> str:
    """Coordinates with at most one decimal, no trailing zeros."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def el(tag: str, attrs: dict | None = None, *children) -> Markup:
    """<tag a="…">children</tag>: attribute values and str children are
    escaped; Markup children (other elements) are kept as they are."""
    parts = [f"<{tag}"]
    for key, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        if isinstance(value, float):
            value = num(value)
        parts.append(f' {key}="{escape(value)}"')
    if not children:
        return Markup("".join(parts) + "/>")
    inner = "".join(str(c) if isinstance(c, Markup) else str(escape(c))
                    for c in children if c is not None)
    return Markup("".join(parts) + ">" + inner + f"</{tag}>")


def group(*children, **attrs) -> Markup:
    return el("g", _attrs(attrs), *children)


def _attrs(attrs: dict) -> dict:
    return {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}


def text(x: float, y: float, content: str, **attrs) -> Markup:
    return el("text", {"x": float(x), "y": float(y), **_attrs(attrs)}, content)


def safe_href(href: str | None) -> str | None:
    if not href:
        return None
    if href.startswith("/") and not href.startswith("//"):
        return href
    if href.startswith(("http://", "https://")):
        return href
    return None


def link(href: str | None, *children, title: str | None = None) -> Markup:
    """An <a> around `children` (with a <title> tooltip), or a plain group
    when the href is not one we link to."""
    tip = el("title", None, title) if title else None
    href = safe_href(href)
    if href is None:
        return group(tip, *children)
    return el("a", {"href": href}, tip, *children)


def clip(label: str, limit: int) -> str:
    label = " ".join((label or "").split())
    return label if len(label) <= limit else label[:limit - 1].rstrip() + "…"


def text_width(label: str, size: float = 13) -> float:
    """A rough width of `label` in px (no font metrics on the server)."""
    return len(label) * size * 0.56


def document(width: float, height: float, title: str, desc: str, *children,
             css_class: str = "", role: str | None = None) -> Markup:
    """The <svg> root: its own stylesheet, a title and a description. Views
    with links keep the default role (their links stay reachable by keyboard
    and screen readers); a picture without links is role="img"."""
    ident = "kv-" + (css_class or "view").replace(" ", "-")
    return el("svg", {
        "xmlns": SVG_NS, "class": ("kv " + css_class).strip(), "viewBox": f"0 0 {num(width)} {num(height)}",
        "width": float(width), "height": float(height), "role": role,
        "aria-labelledby": f"{ident}-title {ident}-desc", "style": "max-width:100%;height:auto",
    }, el("title", {"id": f"{ident}-title"}, title), el("desc", {"id": f"{ident}-desc"}, desc),
        el("style", None, Markup(STYLE)), *children)


def legend(x: float, y: float, kinds: list[str]) -> tuple[Markup, float]:
    """A row of coloured squares with the kinds' names; returns (svg, width)."""
    parts, cx = [], x
    for kind in kinds:
        parts.append(el("rect", {"x": float(cx), "y": float(y - 10), "width": 11.0, "height": 11.0,
                                 "fill": KIND_COLOURS[kind]}))
        parts.append(text(cx + 16, y, KIND_NAMES[kind], class_="small muted"))
        cx += 16 + text_width(KIND_NAMES[kind], 11) + 18
    return group(*parts, class_="legend"), cx - x


# --- timeline -------------------------------------------------------------------------

def timeline(dated: list[dict], lanes: list[dict], first: int, last: int) -> Markup:
    """Facts by year on an axis from `first` to `last`, then one row per
    fact; facts whose time has no calendar position go in separate lanes
    below, never on the axis.

    dated: [{year, label, href, kind, title}] sorted by year, label.
    lanes: [{title, note, items: [{label, href, kind, title, prop}]}]."""
    width, left, right = 980.0, 70.0, 830.0
    axis_y = 120.0
    undated_x = 915.0
    span = max(1, last - first)

    def x_of(year: int) -> float:
        return left + (year - first) / span * (right - left)

    parts = [text(left, 28, f"Agreements and events by year, {first}–{last}", class_="big")]
    kinds = sorted({d["kind"] for d in dated} | {i["kind"] for ln in lanes for i in ln["items"]},
                   key=list(KIND_COLOURS).index)
    leg, _ = legend(left, 52, kinds)
    parts.append(leg)

    # The axis, a tick every year, a label every fourth year and on every year with facts.
    years_with = sorted({d["year"] for d in dated})
    axis = [el("line", {"class": "axis", "x1": left, "y1": axis_y, "x2": right, "y2": axis_y})]
    for year in range(first, last + 1):
        x = x_of(year)
        major = (year - first) % 4 == 0 or year in years_with
        crowded = year not in years_with and any(abs(year - w) <= 2 for w in years_with)
        axis.append(el("line", {"class": "tick", "x1": x, "y1": axis_y,
                                "x2": x, "y2": axis_y + (7.0 if major else 4.0)}))
        if major and not crowded:
            axis.append(text(x, axis_y + 22, str(year), text_anchor="middle",
                             class_="bold" if year in years_with else "small muted"))
    parts.append(group(*axis, class_="kv-axis"))
    if lanes:
        # Beside the axis, not on it: a column for the facts with no calendar year.
        parts.append(group(
            el("line", {"class": "lane", "x1": undated_x - 45, "y1": axis_y - 70,
                        "x2": undated_x - 45, "y2": axis_y + 26}),
            text(undated_x, axis_y + 22, "undated", text_anchor="middle", class_="bold"),
            *[link(i["href"], el("circle", {
                "cx": undated_x, "cy": axis_y - 4 - (k + 1) * 13.0, "r": 5.5,
                "fill": KIND_COLOURS[i["kind"]], "stroke": "#8a4b00", "stroke-dasharray": "2 2"}),
                title=f"undated: {i['label']}")
              for k, i in enumerate(i for ln in lanes for i in ln["items"])],
            class_="kv-undated-column"))

    # A stack of dots above each year (one per fact), each a link.
    stacks: dict[int, int] = {}
    dots = []
    for d in dated:
        n = stacks[d["year"]] = stacks.get(d["year"], 0) + 1
        dots.append(link(d["href"], el("circle", {
            "cx": x_of(d["year"]), "cy": axis_y - 4 - n * 13.0, "r": 5.5,
            "fill": KIND_COLOURS[d["kind"]]}), title=f"{d['year']}: {d['label']}"))
    parts.append(group(*dots, class_="kv-dots"))

    # One row per fact, grouped by year.
    y: float = axis_y + 58
    parts.append(text(left - 40, y, "Dated (by the year the graph gives)", class_="bold"))
    y += 8
    rows = []
    previous = None
    for d in dated:
        y += 24
        row = []
        if d["year"] != previous:
            if previous is not None:
                row.append(el("line", {"class": "grid", "x1": left - 40, "y1": y - 17,
                                       "x2": right, "y2": y - 17}))
            row.append(text(left - 40, y, str(d["year"]), class_="bold"))
            previous = d["year"]
        row.append(el("rect", {"x": left + 22, "y": y - 10, "width": 11.0, "height": 11.0,
                               "fill": KIND_COLOURS[d["kind"]]}))
        row.append(link(d["href"], text(left + 40, y, clip(d["label"], 120)),
                        title=d.get("title") or d["label"]))
        rows.append(group(*row, class_="kv-item", data_year=str(d["year"]),
                          data_kind=d["kind"]))
    if not dated:
        y += 24
        rows.append(text(left, y, "No fact in the graph has a time with a known year.",
                         class_="muted"))
    parts.append(group(*rows, class_="kv-dated"))

    # Lanes for times with no calendar position.
    for lane in lanes:
        y += 40
        top = y
        items = lane["items"]
        height = 58.0 + 24 * len(items)
        body = [el("rect", {"class": "lane", "x": left - 50, "y": top - 22, "width": right - left + 60,
                            "height": float(height), "rx": 6.0}),
                text(left - 40, top, lane["title"], class_="bold"),
                text(left - 40, top + 18, clip(lane["note"], 150), class_="small muted")]
        yy = top + 18
        for item in items:
            yy += 24
            body.append(group(
                el("rect", {"x": left + 22, "y": yy - 10, "width": 11.0, "height": 11.0,
                            "fill": KIND_COLOURS[item["kind"]]}),
                link(item["href"], text(left + 40, yy, clip(item["label"], 120)),
                     title=item.get("title") or item["label"]),
                class_="kv-item", data_year="none", data_kind=item["kind"]))
        parts.append(group(*body, class_="kv-lane-relative", data_time=lane.get("time", "")))
        y = top - 22 + height
    height = y + 24
    return document(width, height, f"Timeline, {first}–{last}",
                    "Facts placed by the year of their time; facts whose time is known only "
                    "relative to the article's unknown publication date are in separate lanes, "
                    "not on the axis.", *parts, css_class="timeline")


# --- bar chart ------------------------------------------------------------------------

def nice_ticks(top: float, most: int = 6) -> list[float]:
    if top <= 0:
        return [0.0]
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks, t = [], 0.0
    while t <= top * 1.0001:
        ticks.append(t)
        t += step
    if ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks


def bar_chart(groups: list[dict], fmt) -> Markup:
    """Horizontal bars, one chart section per currency (sums of different
    currencies are never drawn on one scale).

    groups: [{currency, bars: [{label, sublabel, value, value_text, href, title}]}]
    sorted by value, largest first; fmt(value, currency) writes a tick label."""
    width, left = 980.0, 330.0
    right = width - 150
    parts = [text(20, 28, "Trade flows with a stated value", class_="big")]
    y = 50.0
    for g in groups:
        bars = g["bars"]
        top = max((b["value"] for b in bars), default=0.0)
        ticks = nice_ticks(top)
        scale_max = ticks[-1] or 1.0

        def x_of(v: float, scale_max: float = scale_max) -> float:
            return left + v / scale_max * (right - left)

        y += 20
        parts.append(text(20, y, f"Values in {g['currency']}", class_="bold"))
        y += 16
        grid_top = y
        rows = []
        for b in bars:
            y += 40
            bar_w = max(1.0, x_of(b["value"]) - left)
            rows.append(group(
                link(b["href"], text(20, y - 4, clip(b["label"], 44)),
                     title=b.get("title") or b["label"]),
                text(20, y + 11, clip(b.get("sublabel", ""), 52), class_="small muted"),
                link(b["href"], el("rect", {"x": left, "y": y - 14, "width": bar_w, "height": 22.0,
                                            "fill": KIND_COLOURS["trade"]}),
                     title=f"{b.get('title') or b['label']}: {b['value_text']}"),
                text(left + bar_w + 8, y + 2, b["value_text"], class_="bold"),
                class_="kv-bar", data_value=repr(b["value"])))
        bottom = y + 20
        grid = []
        for t in ticks:
            x = x_of(t)
            grid.append(el("line", {"class": "grid", "x1": x, "y1": grid_top, "x2": x, "y2": bottom}))
            grid.append(text(x, bottom + 16, fmt(t, g["currency"]), text_anchor="middle",
                             class_="small muted"))
        parts.append(group(*grid, class_="kv-grid"))
        parts.append(el("line", {"class": "axis", "x1": left, "y1": grid_top, "x2": left, "y2": bottom}))
        parts.append(group(*rows, class_="kv-bars", data_currency=g["currency"]))
        y = bottom + 30
    if not groups:
        y += 30
        parts.append(text(20, y, "No trade flow in the graph has a stated value.", class_="muted"))
    return document(width, y + 10, "Trade flows with a stated value",
                    "Horizontal bars, largest first, one scale per currency; each bar links to "
                    "the trade flow's page.", *parts, css_class="trade")


# --- network --------------------------------------------------------------------------

CIRCLE_MAX = 12      # up to this many neighbours: a circle; more: two facing arcs
ROW = 30.0           # vertical room for one neighbour (label and caption) on the arcs


def _network_positions(n: int) -> tuple[list[tuple[float, float, str]], float, float, float, float]:
    """([(x, y, text-anchor)] for n neighbours, cx, cy, width, height).

    Up to CIRCLE_MAX: evenly round a circle, clockwise from the top. More:
    the right and left arcs of an ellipse with the neighbours one ROW apart
    vertically, so no two labels (always written outwards, horizontally)
    can overlap however many there are."""
    label_room = 330.0
    if n <= CIRCLE_MAX:
        r = 170.0
        cx, cy = label_room + r, 95.0 + r
        out = []
        for i in range(n):
            angle = -math.pi / 2 + 2 * math.pi * i / max(1, n)
            c = math.cos(angle)
            anchor = "start" if c > 0.15 else "end" if c < -0.15 else "middle"
            out.append((cx + r * math.cos(angle), cy + r * math.sin(angle), anchor))
        return out, cx, cy, 2 * cx, cy + r + 70
    right = (n + 1) // 2
    left = n - right
    ry = max(180.0, (right - 1) * ROW / 2 / 0.94)
    rx = 200.0
    cx, cy = label_room + rx, 95.0 + ry
    out = []
    for side, count in ((1, right), (-1, left)):
        for k in range(count):
            off = (k - (count - 1) / 2) * ROW
            if side < 0:
                off = -off          # the left arc runs bottom to top: clockwise overall
            t = min(1.0, abs(off) / ry)
            out.append((cx + side * rx * math.sqrt(1 - t * t), cy + off,
                        "start" if side > 0 else "end"))
    return out, cx, cy, 2 * cx, cy + ry + 60


def network(center: dict, nodes: list[dict], more: int = 0) -> Markup:
    """A radial layout: the entity in the middle, its neighbours round it in
    a fixed order (grouped by direction and relation), each with its label
    and the relation read from the centre ("party to", "within").

    center: {label, href, kind}; nodes: [{label, href, net_href, kind,
    caption, direction: out|in|both, inferred}] in display order."""
    positions, cx, cy, width, height = _network_positions(len(nodes))
    if more:
        height += 20
    parts = [text(20, 28, f"Neighbourhood of {clip(center['label'], 80)}", class_="big")]
    leg = [
        el("line", {"class": "edge-out", "x1": 20.0, "y1": 48.0, "x2": 48.0, "y2": 48.0}),
        text(54, 52, "the entity points at it", class_="small muted"),
        el("line", {"class": "edge-in", "x1": 200.0, "y1": 48.0, "x2": 228.0, "y2": 48.0}),
        text(234, 52, "it points at the entity", class_="small muted"),
        el("line", {"class": "edge-both", "x1": 380.0, "y1": 48.0, "x2": 408.0, "y2": 48.0}),
        text(414, 52, "both", class_="small muted"),
    ]
    parts.append(group(*leg, class_="legend"))
    edges, dots = [], []
    for node, (x, y, anchor) in zip(nodes, positions, strict=False):
        cls = {"out": "edge-out", "in": "edge-in"}.get(node["direction"], "edge-both")
        if node.get("inferred"):
            cls += " inferred"
        edges.append(el("line", {"class": cls, "x1": cx, "y1": cy, "x2": x, "y2": y}))
        if anchor == "middle":      # top or bottom of the circle: label above or below
            above = y < cy
            dx, dy_label, dy_caption = 0, (-24 if above else 22), (-11 if above else 35)
        else:
            dx, dy_label, dy_caption = (11 if anchor == "start" else -11), 4, 17
        colour = KIND_COLOURS.get(node["kind"], KIND_COLOURS["other"])
        dots.append(group(
            link(node.get("net_href"), el("circle", {"cx": x, "cy": y, "r": 7.0, "fill": colour,
                                                     "stroke": "#fff", "stroke-width": 1.5}),
                 title=f"Neighbourhood of {node['label']}" if node.get("net_href") else node["label"]),
            link(node["href"], text(x + dx, y + dy_label, clip(node["label"], 44),
                                    text_anchor=anchor, class_="halo"),
                 title=node["label"]),
            text(x + dx, y + dy_caption, clip(node["caption"], 50), text_anchor=anchor,
                 class_="small muted halo"),
            class_="kv-node", data_direction=node["direction"]))
    centre = group(
        el("circle", {"cx": cx, "cy": cy, "r": 16.0,
                      "fill": KIND_COLOURS.get(center["kind"], KIND_COLOURS["other"]),
                      "stroke": "#fff", "stroke-width": 3.0}),
        link(center["href"], text(cx, cy + 36, clip(center["label"], 60), text_anchor="middle",
                                  class_="big halo"), title=center["label"]),
        class_="kv-centre")
    parts += [group(*edges, class_="kv-edges"), group(*dots, class_="kv-nodes"), centre]
    if not nodes:
        parts.append(text(cx, cy + 70, "Nothing links to or from this entity here.",
                          text_anchor="middle", class_="muted"))
    if more:
        parts.append(text(20, height - 12, f"… and {more} more links, listed on the entity page.",
                          class_="muted"))
    return document(width, height, f"Neighbourhood of {center['label']}",
                    "The entity in the centre and every node one link away, in either direction; "
                    "each label links to that node's page, each dot to its own neighbourhood.",
                    *parts, css_class="network")


# --- map ------------------------------------------------------------------------------

class Projection:
    """Equirectangular: x proportional to longitude, y to latitude."""

    def __init__(self, west: float, east: float, south: float, north: float,
                 width: float, left: float = 50.0, top: float = 60.0):
        self.west, self.east, self.south, self.north = west, east, south, north
        self.left, self.top = left, top
        self.k = width / (east - west)
        self.width = width
        self.height = (north - south) * self.k

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (self.left + (lon - self.west) * self.k, self.top + (self.north - lat) * self.k)

    def inside(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def graticule(p: Projection, step: float, labels: bool = True) -> Markup:
    parts = [el("rect", {"class": "frame", "x": p.left, "y": p.top, "width": p.width,
                         "height": p.height})]
    lon = math.ceil(p.west / step) * step
    while lon <= p.east + 1e-9:
        x, _ = p.xy(lon, p.north)
        parts.append(el("line", {"class": "grid", "x1": x, "y1": p.top, "x2": x, "y2": p.top + p.height}))
        if labels:
            parts.append(text(x, p.top + p.height + 15, f"{lon:g}°E", text_anchor="middle",
                              class_="small muted"))
        lon += step
    lat = math.ceil(p.south / step) * step
    while lat <= p.north + 1e-9:
        _, y = p.xy(p.west, lat)
        parts.append(el("line", {"class": "grid", "x1": p.left, "y1": y, "x2": p.left + p.width, "y2": y}))
        if labels:
            parts.append(text(p.left - 6, y + 4, f"{lat:g}°N", text_anchor="end", class_="small muted"))
        lat += step
    return group(*parts, class_="kv-graticule")


def region_map(frame: dict, countries: list[dict], places: list[dict], routes: list[dict],
               markers: list[dict], offmap: list[dict]) -> Markup:
    """The region schematically: a labelled graticule, countries as labelled
    points at their approximate centres (not borders), the places the graph
    gives coordinates for, numbered project markers, and routes.

    frame: {west, east, south, north, step}
    countries: [{label, href, lon, lat, in_graph}]
    places: [{label, href, lon, lat}]
    routes: [{label, href, points: [(lon, lat), …], number}]
    markers: [{number, label, href, lon, lat, kind}]   (already spread out)
    offmap: [{label, href, side, lat}] things east/west of the frame."""
    p = Projection(frame["west"], frame["east"], frame["south"], frame["north"], 880.0)
    width = p.left + p.width + 40
    height = p.top + p.height + 60
    parts = [text(p.left, 26, "Places and projects (schematic: no borders)", class_="big"),
             text(p.left, 46, "Equirectangular grid, 1° lines. Countries are drawn as points at their "
                              "approximate centres; cities at the coordinates the graph gives.",
                  class_="small muted"),
             graticule(p, frame.get("step", 1.0))]
    cs = []
    for c in countries:
        x, y = p.xy(c["lon"], c["lat"])
        cls = "country" if c["in_graph"] else "country-off"
        diamond = el("path", {"class": cls, "d": f"M{num(x)} {num(y - 8)}l8 8l-8 8l-8-8z"})
        lx, ly, anchor = {"left": (x - 14, y + 4, "end"), "right": (x + 14, y + 4, "start"),
                          "above": (x, y - 14, "middle")}.get(c.get("label_at", ""),
                                                               (x, y + 24, "middle"))
        label = text(lx, ly, c["label"].upper(), text_anchor=anchor,
                     class_="small bold" if c["in_graph"] else "small muted")
        title = c["label"] + (" (approximate centre)" if c["in_graph"] else
                              " (approximate centre; not in the graph)")
        cs.append(group(link(c["href"] if c["in_graph"] else None, diamond, label, title=title),
                        class_="kv-country"))
    parts.append(group(*cs, class_="kv-countries"))
    rs = []
    for r in routes:
        pts = [p.xy(lon, lat) for lon, lat in r["points"]]
        d = "M" + " L".join(f"{num(x)} {num(y)}" for x, y in pts)
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        rs.append(link(r["href"], el("path", {"class": "route", "d": d}),
                       el("circle", {"cx": mx, "cy": my, "r": 9.0, "fill": KIND_COLOURS["project"]}),
                       text(mx, my + 4, str(r["number"]), text_anchor="middle",
                            class_="small bold", style="fill:#fff"),
                       title=f"{r['number']}. {r['label']}"))
    parts.append(group(*rs, class_="kv-routes"))
    ps = []
    for pl in places:
        x, y = p.xy(pl["lon"], pl["lat"])
        # The label goes upper right, or lower right when a route leaves that way.
        up_right = any(
            other != (pl["lon"], pl["lat"]) and other[0] > pl["lon"] and other[1] > pl["lat"]
            for r in routes if (pl["lon"], pl["lat"]) in r["points"] for other in r["points"])
        ly = y + 17 if up_right else y - 6
        ps.append(group(link(pl["href"], el("circle", {"cx": x, "cy": y, "r": 5.0, "fill": "#c62828",
                                                       "stroke": "#fff", "stroke-width": 1.5}),
                             text(x + 8, ly, pl["label"], class_="bold"),
                             title=f"{pl['label']} ({pl['coords']})"),
                        class_="kv-place"))
    parts.append(group(*ps, class_="kv-places"))
    ms = []
    for m in markers:
        x, y = p.xy(m["lon"], m["lat"])
        x, y = x + m.get("dx", 0.0), y + m.get("dy", 0.0)
        colour = KIND_COLOURS.get(m.get("kind", "project"), KIND_COLOURS["project"])
        ms.append(link(m["href"], el("circle", {"cx": x, "cy": y, "r": 9.0, "fill": colour,
                                                "stroke": "#fff", "stroke-width": 1.5}),
                       text(x, y + 4, str(m["number"]), text_anchor="middle", class_="small bold",
                            style="fill:#fff"),
                       title=f"{m['number']}. {m['label']}"))
    parts.append(group(*ms, class_="kv-markers"))
    off = []
    for o in offmap:
        lat = min(max(o["lat"], p.south + 0.3), p.north - 0.3)
        _, y = p.xy(p.east, lat)
        x = p.left + p.width - 6 if o["side"] == "east" else p.left + 6
        arrow = "→" if o["side"] == "east" else "←"
        words = f"{o['label']} {arrow}" if o["side"] == "east" else f"{arrow} {o['label']}"
        off.append(link(o["href"], text(x, y, words, text_anchor="end" if o["side"] == "east" else "start",
                                        class_="bold"),
                        title=f"{o['label']}: outside this frame, to the {o['side']}"))
    parts.append(group(*off, class_="kv-offmap"))
    return document(width, height, "Map of places and projects (schematic)",
                    "A schematic map: a latitude/longitude grid, countries as points at approximate "
                    "centres (no borders are drawn), cities at their coordinates from the graph, and "
                    "numbered project markers.", *parts, css_class="map")


def mini_map(frame: dict, countries: list[dict], lon: float, lat: float, label: str) -> Markup:
    """A small locator for an entity page: the grid, the countries' points
    and the entity's own point."""
    p = Projection(frame["west"], frame["east"], frame["south"], frame["north"], 250.0,
                   left=8.0, top=8.0)
    parts = [graticule(p, 2.0, labels=False)]
    for c in countries:
        x, y = p.xy(c["lon"], c["lat"])
        parts.append(el("path", {"class": "country-off", "d": f"M{num(x)} {num(y - 4)}l4 4l-4 4l-4-4z"}))
    if p.inside(lon, lat):
        x, y = p.xy(lon, lat)
        parts.append(el("circle", {"cx": x, "cy": y, "r": 5.0, "fill": "#c62828", "stroke": "#fff",
                                   "stroke-width": 1.5}))
        parts.append(text(x + 8 if x < p.left + p.width - 80 else x - 8, y - 7, clip(label, 24),
                          class_="small bold",
                          text_anchor="start" if x < p.left + p.width - 80 else "end"))
    else:
        parts.append(text(p.left + 8, p.top + 18, "Outside the map's frame", class_="small muted"))
    return document(p.left * 2 + p.width, p.top * 2 + p.height, f"Where {label} is",
                    "A small schematic locator map: a 2° grid, country centres as small diamonds, "
                    "and this place as a red dot.", *parts, css_class="mini", role="img")
