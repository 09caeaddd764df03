"""Server-side SVG for the views: timeline, trade chart, network, map.
Every drawing is built from `el()`, which escapes every value; links are
kept only when they point at this server or at http(s).
"""

from __future__ import annotations

import math

from markupsafe import Markup, escape

from server.web.pages.geography import path_d

SVG_NS = "http://www.w3.org/2000/svg"

KIND_COLOURS = {
    "agreement": "#14324a", "event": "#b85c00", "trade": "#2e7d32", "project": "#7b3fa0",
    "place": "#00796b", "actor": "#0b5cad", "other": "#5b6770",
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
.kv-graticule .grid{stroke:#6f8fa8;stroke-width:.5;stroke-opacity:.45}
.kv .lane{fill:#fff8ec;stroke:#8a4b00;stroke-width:1;stroke-dasharray:6 4}
.kv .band{fill:#f3f6f9}
.kv .edge-out{stroke:#14324a;stroke-width:1.2}
.kv .edge-in{stroke:#b85c00;stroke-width:1.2;stroke-dasharray:5 3}
.kv .edge-both{stroke:#5b6770;stroke-width:1.2}
.kv .inferred{stroke-opacity:.4}
.kv .trunk{stroke-width:2.2}
.kv .rel-node{fill:#5b6770}
.kv .rel-label{fill:#33414d}
.kv .sea{fill:#dcebf5;stroke:#5b6770;stroke-width:1}
.kv .land{fill:#f4efe4;stroke:#8c8c8c;stroke-width:.8;stroke-linejoin:round}
.kv .land.focus{fill:#fbe3c4}
.kv .land.other{fill:#ececec;stroke:#b5b5b5}
.kv a:hover .land{fill:#f7d3a0}
.kv .country-label{font-size:11px;font-weight:600;letter-spacing:.06em;fill:#5a4a33;
  paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
.kv .country-label.other{fill:#8a8a8a;font-weight:400}
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

CIRCLE_MAX = 12      # up to this many neighbours: a circle; more: grouped by relation
ROW = 22.0           # vertical room for one neighbour in the grouped layout
GROUP_GAP = 18.0     # between two relations' groups


def _circle_positions(n: int) -> tuple[list[tuple[float, float, str]], float, float, float, float]:
    """([(x, y, text-anchor)] evenly round a circle, clockwise from the top,
    cx, cy, width, height)."""
    label_room = 330.0
    r = 170.0
    cx, cy = label_room + r, 130.0 + r
    out = []
    for i in range(n):
        angle = -math.pi / 2 + 2 * math.pi * i / max(1, n)
        c = math.cos(angle)
        anchor = "start" if c > 0.15 else "end" if c < -0.15 else "middle"
        out.append((cx + r * math.cos(angle), cy + r * math.sin(angle), anchor))
    return out, cx, cy, 2 * cx, cy + r + 70


def _edge_class(node: dict) -> str:
    cls = {"out": "edge-out", "in": "edge-in"}.get(node["direction"], "edge-both")
    return cls + (" inferred" if node.get("inferred") else "")


def _dot(node: dict, x: float, y: float, anchor: str, dx: float, dy: float,
         caption: bool, limit: int) -> Markup:
    """One neighbour: its dot (a link to its own network), its label (a link
    to its page) and, in the circle layout, the relation under it."""
    colour = KIND_COLOURS.get(node["kind"], KIND_COLOURS["other"])
    parts = [
        link(node.get("net_href"), el("circle", {"cx": x, "cy": y, "r": 6.5, "fill": colour,
                                                 "stroke": "#fff", "stroke-width": 1.5}),
             title=f"Neighbourhood of {node['label']}" if node.get("net_href") else node["label"]),
        link(node["href"], text(x + dx, y + dy, clip(node["label"], limit), text_anchor=anchor,
                                class_="halo"), title=node["label"]),
    ]
    if caption:
        above = anchor == "middle" and dy < 0
        parts.append(text(x + dx, y + (dy + 13 if not above else dy + 13), clip(node["caption"], 50),
                          text_anchor=anchor, class_="small muted halo"))
    return group(*parts, class_="kv-node", data_direction=node["direction"])


def _network_legend(kinds: list[str], y: float) -> Markup:
    leg, width = legend(20, y, kinds)
    lines = []
    x = 20.0
    y2 = y + 22
    for cls, words in (("edge-out", "the entity points at it"), ("edge-in", "it points at the entity"),
                       ("edge-both", "both ways"), ("edge-out inferred", "inferred (OWL RL), fainter")):
        lines.append(el("line", {"class": cls, "x1": x, "y1": y2 - 4, "x2": x + 28, "y2": y2 - 4}))
        lines.append(text(x + 34, y2, words, class_="small muted"))
        x += 34 + text_width(words, 11) + 22
    return group(leg, *lines, class_="legend kv-legend")


def network(center: dict, nodes: list[dict], more: int = 0) -> Markup:
    """The entity in the middle and its neighbours: round a circle when
    they are few, each with the relation under its label; when there are
    more, grouped by relation — the centre links to one node per relation
    ("party to (16)"), which fans out to that relation's neighbours, listed
    in two columns — so every label stays whole and apart.

    center: {label, href, kind}; nodes: [{label, href, net_href, kind,
    caption, direction: out|in|both, inferred}] in display order (grouped
    by direction and relation)."""
    kinds = sorted({n["kind"] for n in nodes} | {center["kind"]}, key=list(KIND_COLOURS).index)
    parts = [text(20, 28, f"Neighbourhood of {clip(center['label'], 80)}", class_="big"),
             _network_legend(kinds, 54)]
    edges, dots = [], []
    if len(nodes) <= CIRCLE_MAX:
        positions, cx, cy, width, height = _circle_positions(len(nodes))
        for node, (x, y, anchor) in zip(nodes, positions, strict=False):
            edges.append(el("line", {"class": _edge_class(node), "x1": cx, "y1": cy, "x2": x, "y2": y}))
            if anchor == "middle":      # top or bottom of the circle: label above or below
                dx, dy = 0.0, (-24.0 if y < cy else 22.0)
            else:
                dx, dy = (11.0 if anchor == "start" else -11.0), 4.0
            dots.append(_dot(node, x, y, anchor, dx, dy, True, 44))
        rels: list = []
    else:
        cx, cy, width, height, rels = _grouped(nodes, edges, dots)
    if more:
        height += 20
    centre = group(
        el("circle", {"cx": cx, "cy": cy, "r": 16.0,
                      "fill": KIND_COLOURS.get(center["kind"], KIND_COLOURS["other"]),
                      "stroke": "#fff", "stroke-width": 3.0}),
        link(center["href"], text(cx, cy + 36, clip(center["label"], 60), text_anchor="middle",
                                  class_="big halo"), title=center["label"]),
        class_="kv-centre")
    parts += [group(*edges, class_="kv-edges"), group(*rels, class_="kv-relations"),
              group(*dots, class_="kv-nodes"), centre]
    if not nodes:
        parts.append(text(cx, cy + 70, "Nothing links to or from this entity here.",
                          text_anchor="middle", class_="muted"))
    if more:
        parts.append(text(20, height - 12, f"… and {more} more links, listed on the entity page.",
                          class_="muted"))
    return document(width, height, f"Neighbourhood of {center['label']}",
                    "The entity in the centre and every node one link away, in either direction, "
                    "grouped by relation; each label links to that node's page, each dot to its "
                    "own neighbourhood.", *parts, css_class="network")


def _grouped(nodes: list[dict], edges: list, dots: list):
    """Lay out many neighbours by relation, in two columns; appends to
    `edges` and `dots`; returns (cx, cy, width, height, relation nodes)."""
    groups: list[tuple[tuple[str, str], list[dict]]] = []
    for n in nodes:
        key = (n["direction"], n["caption"])
        if groups and groups[-1][0] == key:
            groups[-1][1].append(n)
        else:
            groups.append((key, [n]))
    # Split the groups between the right and the left column, half the rows each.
    total = sum(len(g) for _, g in groups) * ROW + GROUP_GAP * len(groups)
    right: list = []
    left: list = []
    acc = 0.0
    for item in groups:
        (right if acc < total / 2 else left).append(item)
        acc += len(item[1]) * ROW + GROUP_GAP
    label_room, fan, spoke = 360.0, 130.0, 160.0
    cx = label_room + fan + spoke + 10
    width = 2 * cx
    top = 110.0

    def column_height(col):
        return sum(len(g) * ROW + GROUP_GAP for _, g in col)

    height_cols = max(column_height(right), column_height(left))
    cy = top + height_cols / 2
    rels = []
    for side, col in ((1, right), (-1, left)):
        y = top + (height_cols - column_height(col)) / 2
        for (direction, caption), members in col:
            block = len(members) * ROW
            ry = y + block / 2 - ROW / 2
            rx = cx + side * spoke
            rel_cls = _edge_class({"direction": direction,
                                   "inferred": all(m.get("inferred") for m in members)})
            edges.append(el("line", {"class": rel_cls + " trunk", "x1": cx, "y1": cy, "x2": rx, "y2": ry}))
            rels.append(group(
                el("circle", {"cx": rx, "cy": ry, "r": 4.0, "class": "rel-node"}),
                text(rx, ry - 8, f"{clip(caption, 34)} ({len(members)})", text_anchor="middle",
                     class_="small bold halo rel-label"),
                class_="kv-relation", data_direction=direction))
            for k, node in enumerate(members):
                ny = y + k * ROW
                nx = rx + side * fan
                edges.append(el("line", {"class": _edge_class(node), "x1": rx, "y1": ry, "x2": nx, "y2": ny}))
                dots.append(_dot(node, nx, ny, "start" if side > 0 else "end",
                                 10.0 * side, 4.0, False, 46))
            y += block + GROUP_GAP
    return cx, cy, width, top + height_cols + 40, rels


# --- map ------------------------------------------------------------------------------

class Projection:
    """Equirectangular with its standard parallel at the frame's middle
    latitude: x proportional to longitude × cos(φ0), y to latitude, so
    shapes near the middle of the frame keep their proportions."""

    def __init__(self, west: float, east: float, south: float, north: float,
                 width: float, left: float = 50.0, top: float = 60.0):
        self.west, self.east, self.south, self.north = west, east, south, north
        self.left, self.top = left, top
        self.kx = width / (east - west)
        self.ky = self.kx / math.cos(math.radians((south + north) / 2))
        self.width = width
        self.height = (north - south) * self.ky

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (self.left + (lon - self.west) * self.kx, self.top + (self.north - lat) * self.ky)

    def inside(self, lon: float, lat: float) -> bool:
        return self.west <= lon <= self.east and self.south <= lat <= self.north


def graticule(p: Projection, step: float, labels: bool = True) -> Markup:
    parts = []
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


def outlines(p: Projection, countries: list[dict], clip_id: str) -> Markup:
    """Country shapes, clipped to the frame: those in the graph link to
    their page and are filled (the six Western Balkan states a shade
    warmer); the others are a pale grey.

    countries: [{label, href, d, in_graph, focus}] (d: an SVG path)."""
    shapes = []
    for c in countries:
        cls = "land focus" if c.get("focus") else "land" if c["in_graph"] else "land other"
        shape = el("path", {"class": cls, "d": c["d"]})
        shapes.append(link(c["href"] if c["in_graph"] else None, shape, title=c["label"]))
    return group(*shapes, class_="kv-outlines", clip_path=f"url(#{clip_id})")


def _frame(p: Projection, clip_id: str) -> Markup:
    rect = {"x": p.left, "y": p.top, "width": p.width, "height": p.height}
    return group(el("defs", None, el("clipPath", {"id": clip_id}, el("rect", rect))),
                 el("rect", {"class": "sea", **rect}))


def region_map(frame: dict, countries: list[dict], places: list[dict], routes: list[dict],
               markers: list[dict], offmap: list[dict]) -> Markup:
    """The region: Natural Earth's country outlines (each labelled, linking to
    its page when it is in the graph), a labelled 1° grid, the places the
    graph gives coordinates for, numbered project markers, routes, and a
    legend.

    frame: {west, east, south, north, step}
    countries: [{label, href, rings, label_at: (lon, lat), in_graph, focus}]
    places: [{label, href, lon, lat}]
    routes: [{label, href, points: [(lon, lat), …], number}]
    markers: [{number, label, href, lon, lat, kind}]   (already spread out)
    offmap: [{label, href, side, lat}] things east/west of the frame."""
    p = Projection(frame["west"], frame["east"], frame["south"], frame["north"], 760.0,
                   left=50.0, top=60.0)
    width = p.left + p.width + 40
    legend_h = 70.0
    height = p.top + p.height + 30 + legend_h
    parts = [text(p.left, 26, "Places and projects", class_="big"),
             text(p.left, 46, "Country borders from Natural Earth (1:10m, simplified); cities at the "
                              "coordinates the graph gives; projects placed schematically.",
                  class_="small muted"),
             _frame(p, "kv-map-clip")]
    parts.append(outlines(p, [{**c, "d": path_d(c["rings"], p.xy)} for c in countries], "kv-map-clip"))
    parts.append(graticule(p, frame.get("step", 1.0)))
    cs = []
    for c in countries:
        lon, lat = c["label_at"]
        if not p.inside(lon, lat):
            continue
        x, y = p.xy(lon, lat)
        label = text(x, y, c["label"].upper(), text_anchor="middle",
                     class_="country-label" + ("" if c["in_graph"] else " other"))
        title = c["label"] + ("" if c["in_graph"] else " (not in the graph)")
        cs.append(group(link(c["href"] if c["in_graph"] else None, label, title=title),
                        class_="kv-country"))
    parts.append(group(*cs, class_="kv-countries"))
    rs = []
    for r in routes:
        pts = [p.xy(lon, lat) for lon, lat in r["points"]]
        d = "M" + " L".join(f"{num(x)} {num(y)}" for x, y in pts)
        mx = sum(x for x, _ in pts) / len(pts)
        my = sum(y for _, y in pts) / len(pts)
        rs.append(link(r["href"], el("path", {"class": "route", "d": d}),
                       el("circle", {"cx": mx, "cy": my, "r": 9.0, "fill": KIND_COLOURS["project"],
                                     "stroke": "#fff", "stroke-width": 1.5}),
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
                             text(x + 8, ly, pl["label"], class_="bold halo"),
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
                                        class_="bold halo"),
                        title=f"{o['label']}: outside this frame, to the {o['side']}"))
    parts.append(group(*off, class_="kv-offmap"))
    parts.append(_map_legend(p.left, p.top + p.height + 34))
    return document(width, height, "Map of places and projects",
                    "Country borders from Natural Earth; the cities the graph gives coordinates for "
                    "as red dots; projects as numbered purple markers at their city or country "
                    "(schematically, not at a site); a route as a dashed line.", *parts, css_class="map")


def _map_legend(x: float, y: float) -> Markup:
    items = [
        (el("rect", {"class": "land focus", "x": x, "y": y - 10, "width": 16.0, "height": 12.0}),
         "Western Balkan country in the graph"),
        (el("rect", {"class": "land", "x": x, "y": y - 10, "width": 16.0, "height": 12.0}),
         "other country in the graph"),
        (el("rect", {"class": "land other", "x": x, "y": y - 10, "width": 16.0, "height": 12.0}),
         "not in the graph"),
        (el("circle", {"cx": x + 8, "cy": y - 4, "r": 5.0, "fill": "#c62828"}), "city (coordinates)"),
        (group(el("circle", {"cx": x + 8, "cy": y - 4, "r": 8.0, "fill": KIND_COLOURS["project"]}),
               text(x + 8, y, "1", text_anchor="middle", class_="small bold", style="fill:#fff")),
         "project (numbered; see the list)"),
        (el("path", {"class": "route", "d": f"M{num(x)} {num(y - 4)}h18"}), "route"),
    ]
    parts, cx, cy = [], x, y
    for i, (mark, words) in enumerate(items):
        if i == 3:
            cx, cy = x, y + 24
        shift = cx - x
        parts.append(group(mark, transform=f"translate({num(shift)} {num(cy - y)})") if shift or cy != y
                     else mark)
        parts.append(text(cx + 24, cy, words, class_="small"))
        cx += 24 + text_width(words, 11) + 26
    return group(*parts, class_="kv-legend")


def mini_map(frame: dict, countries: list[dict], lon: float, lat: float, label: str) -> Markup:
    """A small locator for an entity page: the country outlines and the
    entity's own point."""
    p = Projection(frame["west"], frame["east"], frame["south"], frame["north"], 250.0,
                   left=8.0, top=8.0)
    parts = [_frame(p, "kv-mini-clip"),
             outlines(p, [{**c, "href": None, "in_graph": False, "focus": c.get("focus"),
                           "d": path_d(c["rings"], p.xy)} for c in countries], "kv-mini-clip")]
    if p.inside(lon, lat):
        x, y = p.xy(lon, lat)
        parts.append(el("circle", {"cx": x, "cy": y, "r": 5.0, "fill": "#c62828", "stroke": "#fff",
                                   "stroke-width": 1.5}))
        parts.append(text(x + 8 if x < p.left + p.width - 80 else x - 8, y - 7, clip(label, 24),
                          class_="small bold halo",
                          text_anchor="start" if x < p.left + p.width - 80 else "end"))
    else:
        parts.append(text(p.left + 8, p.top + 18, "Outside the map's frame", class_="small muted"))
    return document(p.left * 2 + p.width, p.top * 2 + p.height, f"Where {label} is",
                    "A small locator map: country borders from Natural Earth and this place as a "
                    "red dot.", *parts, css_class="mini", role="img")
