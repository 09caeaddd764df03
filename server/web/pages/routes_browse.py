"""Browsing, Datasette-style: /browse is the class hierarchy with counts;
/browse/<Class> lists its instances with facets (kind, year, actor,
country, sector, cited sentence) that filter, sortable columns (name, year,
kind, summary), paging, and every list as CSV and JSON (`.csv`, `.json`).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from flask import Response, abort, redirect, render_template, request, url_for

from server import namespaces as ns
from server.errors import KopruError
from server.web.pages import data, entity, render, tables
from server.web.pages.blueprint import bp
from server.web.pages.catalogue import Catalogue, catalogue
from server.web.pages.labels import pick, preferred_languages, translate

PAGE_SIZE = 50
FACET_VALUES = 12          # values shown per facet before "more"
SORTS = ("name", "year", "kind", "summary")
# The facets, in the order shown, with their titles.
FACET_TITLES = {"year": "Year", "actor": "Actor", "country": "Country", "sector": "Sector",
                "sentence": "Cited sentence"}
YEAR_UNKNOWN = "unknown"   # the URL value for "has a time, but no known year"


# --- classes --------------------------------------------------------------------------

def kop_classes() -> dict[str, str]:
    """Local name, lower-cased → class IRI, for every Köprü class."""
    meta = data.ontology_meta()
    return {iri[len(ns.KOP):].lower(): iri for iri, m in meta.items()
            if iri.startswith(ns.KOP) and ns.OWL + "Class" in m.get("kind", [])}


def class_tree(langs: list[str]) -> list[dict]:
    """The Köprü classes as a tree (roots: no Köprü superclass), each with
    its number of instances, children in label order; empty classes kept."""
    meta = data.ontology_meta()
    counts = data.class_counts()
    classes = kop_classes()
    members = set(classes.values())
    children: dict[str, list[str]] = {}
    roots = []
    for iri in members:
        supers = [s for s in meta[iri].get("super", []) if s in members and s != iri]
        for s in supers:
            children.setdefault(s, []).append(iri)
        if not supers:
            roots.append(iri)

    def node(iri: str, depth: int) -> dict:
        kids = sorted(children.get(iri, []), key=lambda c: render.term_label(c, meta, langs).lower())
        return {"iri": iri, "name": iri[len(ns.KOP):], "text": render.term_label(iri, meta, langs),
                "n": counts.get(iri, 0), "depth": depth,
                "children": [node(k, depth + 1) for k in kids]}

    return [node(r, 0) for r in sorted(roots, key=lambda c: render.term_label(c, meta, langs).lower())]


def _flat(tree: list[dict]) -> list[dict]:
    out = []
    for n in tree:
        out.append(n)
        out.extend(_flat(n["children"]))
    return out


@bp.route("/browse", defaults={"ext": ""})
@bp.route("/browse.<ext>")
def browse_index(ext: str):
    if ext and ext not in tables.FORMATS:
        abort(404)
    langs = preferred_languages()
    tree = class_tree(langs)
    fmt = tables.requested_format(ext)
    if fmt:
        meta = data.ontology_meta()
        return tables.response("classes", ["class", "label", "instances", "superclasses"],
                               [(n["iri"], n["text"], n["n"],
                                 " ".join(s for s in meta[n["iri"]].get("super", [])
                                          if s.startswith(ns.KOP)))
                                for n in _flat(tree)], fmt)
    return render_template("browse.html", tree=tree, cls=None)


# --- one class --------------------------------------------------------------------------

def short_value(facet: str, value: str) -> str:
    """How a facet value is written in a URL: a slug, a sentence id, a
    class's local name, a year."""
    if facet == "year":
        return value or YEAR_UNKNOWN
    if facet == "type" and value.startswith(ns.KOP):
        return value[len(ns.KOP):]
    if value.startswith(ns.ID):
        return value[len(ns.ID):]
    if value.startswith(ns.SRC):
        return value[len(ns.SRC):]
    return value


def _filters() -> dict[str, str]:
    return {f: request.args[f] for f in FACET_TITLES if request.args.get(f)}


def _rows(cat: Catalogue, cls: str, langs: list[str]) -> list[dict]:
    """Every instance of `cls` as the list shows it (cached per build,
    class and languages)."""
    def make():
        meta = data.ontology_meta()
        rows: list[dict[str, Any]] = []
        for iri in cat.members(cls):
            name = pick(cat.texts.names.get(iri), langs)
            summary = pick(cat.texts.summaries.get(iri), langs)
            kinds = entity.most_specific_types(cat.types.get(iri, ()), meta)
            years = cat.values("year", iri)
            rows.append({
                "iri": iri, "href": render.local_href(iri),
                "name": name[0] if name else render.local_name(iri), "lang": name[1] if name else "",
                "kind": ", ".join(sorted(render.term_label(k, meta, langs) for k in kinds)),
                "years": years, "year": ", ".join(y or translate("year not known", langs)
                                                  for y in years),
                "summary": summary[0] if summary else "", "summary_lang": summary[1] if summary else "",
            })
        rows.sort(key=lambda r: (data.fold(r["name"]), r["iri"]))
        return rows
    return data.handle().cache.get("browse_rows", (cls, tuple(langs)), make, maxsize=64)


def _matches(cat: Catalogue, iri: str, filters: dict[str, str]) -> bool:
    for facet, wanted in filters.items():
        if not any(short_value(facet, v) == wanted for v in cat.values(facet, iri)):
            return False
    return True


def _sorted(rows: list[dict], sort: str) -> list[dict]:
    key = sort.lstrip("-")
    reverse = sort.startswith("-")
    if key == "name":
        out = rows                    # already by name
        return list(reversed(out)) if reverse else out

    def value(r):
        if key == "year":
            ys = [int(y) for y in r["years"] if y.lstrip("-").isdigit()]
            return (not ys, min(ys) if ys else 0)
        return (not r[key], data.fold(r[key]))
    # Rows without a value stay last whichever way the column is sorted.
    with_value = [r for r in rows if not value(r)[0]]
    without = [r for r in rows if value(r)[0]]
    return sorted(with_value, key=value, reverse=reverse) + without


def _facet_counts(cat: Catalogue, cls: str, rows: list[dict], filters: dict,
                  langs: list[str]) -> list[dict]:
    """For each facet: its values among `rows`, with counts, most first;
    a facet with nothing to choose between (no value) is left out."""
    meta = data.ontology_meta()
    out = []
    for facet, title in FACET_TITLES.items():
        counts: dict[str, int] = {}
        for r in rows:
            for v in cat.values(facet, r["iri"]):
                counts[v] = counts.get(v, 0) + 1
        if not counts and facet not in filters:
            continue
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]) if facet != "year"
                         else (kv[0] == "", kv[0]))
        show = ordered if request.args.get("_facet") == facet else ordered[:FACET_VALUES]
        show += [kv for kv in ordered if short_value(facet, kv[0]) == filters.get(facet)
                 and kv not in show]
        info = data.node_info([v for v, _ in show if v and facet != "year"])
        values = []
        for v, n in show:
            if facet == "year":
                text = v or translate("year not known", langs)
            elif facet == "sentence":
                text = render.local_name(v)
            else:
                best = pick((info.get(v) or {}).get("label"), langs)
                text = best[0] if best else (render.term_label(v, meta, langs) if v in meta
                                             else render.local_name(v))
            key = short_value(facet, v)
            values.append({"value": key, "text": text, "n": n, "iri": v if facet != "year" else None,
                           "selected": filters.get(facet) == key,
                           "href": _url(cls, {**filters, facet: key}) if filters.get(facet) != key
                           else _url(cls, {k: x for k, x in filters.items() if k != facet})})
        out.append({"key": facet, "title": title, "values": values, "more": len(ordered) - len(show),
                    "more_href": _url(cls, filters, _facet=facet) if len(ordered) > len(show) else None})
    return out


def _url(cls: str, filters: dict, ext: str = "", **extra) -> str:
    args: dict[str, Any] = dict(filters)
    for k in ("sort", "lang"):
        if request.args.get(k) and k not in extra:
            args[k] = request.args[k]
    args.update({k: v for k, v in extra.items() if v is not None})
    name = cls[len(ns.KOP):] + (f".{ext}" if ext else "")
    return url_for("pages.browse", name=name) + ("?" + urllib.parse.urlencode(args) if args else "")


@bp.route("/browse/<name>")
def browse(name: str):
    stem, _, ext = name.partition(".")
    if ext and ext not in tables.FORMATS:
        abort(404)
    cls = kop_classes().get(stem.lower()) if render.SLUG_RE.match(stem.lower()) else None
    if cls is None:
        from server.web.pages.routes_ld import not_found
        return not_found(None, translate("There is no class “{name}” in the Köprü ontology.",
                                         preferred_languages()).format(name=stem))
    canonical = cls[len(ns.KOP):]
    if stem != canonical:           # /browse/country → /browse/Country
        target = url_for("pages.browse", name=canonical + (f".{ext}" if ext else ""))
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        return redirect(target, code=301)
    langs = preferred_languages()
    filters = _filters()
    sort = request.args.get("sort", "name")
    if sort.lstrip("-") not in SORTS:
        sort = "name"
    fmt = tables.requested_format(ext)
    cat = catalogue()
    if cat is None:                 # still being read (a very large graph): a plain list
        if fmt:
            e = KopruError("This list is getting ready (the graph's facets are being read, "
                           "once per build). Try again in a few seconds.", status=503)
            e.retry_after = 5
            raise e
        return _plain_list(cls, langs)
    every = _rows(cat, cls, langs)
    rows = _sorted([r for r in every if _matches(cat, r["iri"], filters)], sort)
    total = len(rows)
    if fmt:
        return tables.response(canonical, ["iri", "name", "kind", "year", "summary"],
                               [(r["iri"], r["name"], r["kind"], ", ".join(r["years"]), r["summary"])
                                for r in rows], fmt,
                               {"class": cls, "total": total, "filters": filters, "sort": sort})
    pages = max(1, -(-total // PAGE_SIZE))
    page = _page_number(pages, langs)
    if isinstance(page, Response):
        return page
    facets = _facet_counts(cat, cls, rows, filters, langs)
    # Members of each subclass among the rows, counted in one pass.
    per_class: dict[str, int] = {}
    for r in rows:
        for t in cat.types.get(r["iri"], ()):
            per_class[t] = per_class.get(t, 0) + 1
    tree = {n["iri"]: n for n in _flat(class_tree(langs))}
    subclasses = [{"text": c["text"], "n": per_class.get(c["iri"], 0), "href": _url(c["iri"], filters),
                   "depth": c["depth"] - tree[cls]["depth"]} for c in _flat(tree[cls]["children"])]
    view = {
        **_class_view(cls, langs), "subclasses": [s for s in subclasses if s["n"]],
        "total": total, "all": len(every), "page": page, "pages": pages,
        "rows": rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE],
        "facets": facets, "sort": sort, "filters": _chips(cls, filters, facets),
        "sort_links": {k: _url(cls, filters, sort=("-" + k if sort == k else k)) for k in SORTS},
        "page_url": lambda n: _url(cls, filters, page=n if n > 1 else None),
        "csv": _url(cls, filters, ext="csv"), "json": _url(cls, filters, ext="json"),
    }
    return Response(render_template("browse.html", cls=view, tree=None),
                    content_type="text/html; charset=utf-8")


def _class_view(cls: str, langs: list[str]) -> dict:
    meta = data.ontology_meta()
    comment = pick((meta.get(cls) or {}).get("comment"), langs)
    supers = [s for s in (meta.get(cls) or {}).get("ancestors", []) if s.startswith(ns.KOP) and s != cls]
    return {"iri": cls, "name": cls[len(ns.KOP):], "text": render.term_label(cls, meta, langs),
            "href": render.local_href(cls), "comment": comment[0] if comment else "",
            "supers": [{"text": render.term_label(s, meta, langs), "href": _url(s, {})}
                       for s in sorted(supers, key=lambda s: -len(meta.get(s, {}).get("ancestors", [])))]}


def _page_number(pages: int, langs: list[str]) -> int | Response:
    """?page=, or the 404 for a page the list does not have."""
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        page = 0
    if 1 <= page <= pages:
        return page
    from server.web.pages.routes_ld import not_found
    return not_found(None, translate("There is no page {page} of this list: it has {pages}.",
                                     langs).format(page=request.args.get("page"), pages=pages))


def _plain_list(cls: str, langs: list[str]) -> Response:
    """The class's members by name, paged, while the facets are being read."""
    total = data.class_counts().get(cls, 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = _page_number(pages, langs)
    if isinstance(page, Response):
        return page
    members = data.instances(cls, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    info = data.node_info(members)
    meta = data.ontology_meta()
    rows = [{"href": v["href"], "name": v["text"], "lang": v["lang"], "kind": "", "year": "",
             "summary": (v.get("provenance") or {}).get("summary", ""), "summary_lang": ""}
            for v in (entity.node_view(m, info, meta, langs) for m in members)]
    view = {**_class_view(cls, langs), "subclasses": [], "total": total, "all": total,
            "page": page, "pages": pages, "rows": rows, "facets": [], "sort": "name", "filters": [],
            "preparing": True, "sort_links": {k: _url(cls, {}) for k in SORTS},
            "page_url": lambda n: _url(cls, {}, page=n if n > 1 else None),
            "csv": _url(cls, {}, ext="csv"), "json": _url(cls, {}, ext="json")}
    return Response(render_template("browse.html", cls=view, tree=None),
                    content_type="text/html; charset=utf-8")


def _chips(cls: str, filters: dict, facets: list[dict]) -> list[dict]:
    """The filters in force, each with its wording and a link that drops it."""
    shown = {(f["key"], v["value"]): v["text"] for f in facets for v in f["values"]}
    return [{"facet": f, "title": FACET_TITLES[f], "value": v, "text": shown.get((f, v), v),
             "remove": _url(cls, {k: x for k, x in filters.items() if k != f})}
            for f, v in filters.items()]
