"""Home, search and browse."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request

from server import namespaces as ns
from server.web.pages import data, entity, render
from server.web.pages.blueprint import bp
from server.web.pages.labels import language_name, pick, preferred_languages

BROWSE_PAGE = 50
ENTRY_POINTS = [
    ("Countries", ns.KOP + "Country"), ("Agreements", ns.KOP + "Agreement"),
    ("Projects", ns.KOP + "Project"), ("Trade", ns.KOP + "TradeFlow"),
    ("Aid", ns.KOP + "Assistance"), ("Claims", ns.KOP + "Claim"),
]


def _class_rows(langs):
    meta = data.ontology_meta()
    counts = data.class_counts()
    rows: list[dict[str, Any]] = [
        {"iri": c, "slug": c[len(ns.KOP):], "text": render.term_label(c, meta, langs), "n": n}
        for c, n in counts.items() if c.startswith(ns.KOP) and c in meta]
    rows.sort(key=lambda r: (-r["n"], r["text"].lower()))
    return rows


@bp.route("/")
def home():
    langs = preferred_languages()
    counts = data.triple_counts()
    class_counts = data.class_counts()
    entries = [{"text": t, "slug": c[len(ns.KOP):], "n": class_counts.get(c, 0)}
               for t, c in ENTRY_POINTS]
    return render_template(
        "home.html", classes=_class_rows(langs), entries=entries,
        asserted=counts.get(ns.GRAPH_ASSERTED, 0), entailed=counts.get(ns.GRAPH_ENTAILED, 0),
        ontology=counts.get(ns.GRAPH_ONTOLOGY, 0),
        entities=class_counts.get(ns.KOP + "Actor", 0) + class_counts.get(ns.KOP + "Place", 0)
        + class_counts.get(ns.KOP + "Fact", 0))


def _wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


@bp.route("/search")
def search():
    q = request.args.get("q", "")[:200]
    try:
        limit = min(max(int(request.args.get("limit", "20")), 1), 100)
    except ValueError:
        limit = 20
    langs = preferred_languages()
    hits = data.search(q, limit)
    info = data.node_info([iri for iri, _, _ in hits]) if hits else {}
    meta = data.ontology_meta()
    results = []
    for iri, matched, lang in hits:
        i = info.get(iri) or {}
        best = pick(i.get("label"), langs)
        types = [t for t in i.get("type", []) if t.startswith(ns.KOP)]
        # The most specific Köprü types: those no other listed type is a subclass of.
        specific = [t for t in types
                    if not any(t in (meta.get(u) or {}).get("ancestors", []) for u in types if u != t)]
        results.append({
            "iri": iri, "href": render.local_href(iri),
            "label": best[0] if best else (render.term_label(iri, meta, langs) if iri in meta
                                           else render.short(iri)),
            "matched": matched, "matched_lang": lang, "language": language_name(lang),
            "types": sorted(render.term_label(t, meta, langs) for t in specific),
        })
    if _wants_json():
        resp = jsonify({"query": q, "results": results})
        resp.headers["Vary"] = "Accept"
        return resp
    resp = Response(render_template("search.html", q=q, results=results),
                    content_type="text/html; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


@bp.route("/browse")
def browse_index():
    return render_template("browse.html", classes=_class_rows(preferred_languages()), cls=None)


@bp.route("/browse/<name>")
def browse(name: str):
    langs = preferred_languages()
    meta = data.ontology_meta()
    iri = ns.KOP + name
    if not render.SLUG_RE.match(name.lower()) or iri not in meta:
        from server.web.pages.routes_ld import not_found
        return not_found(None, "No such class in the Köprü ontology.")
    total = data.class_counts().get(iri, 0)
    pages = max(1, -(-total // BROWSE_PAGE))
    try:
        page = min(max(1, int(request.args.get("page", "1"))), pages)
    except ValueError:
        page = 1
    members = data.instances(iri, (page - 1) * BROWSE_PAGE, BROWSE_PAGE)
    info = data.node_info(members)
    items = [entity.node_view(m, info, meta, langs) for m in members]
    cls = {"iri": iri, "name": name, "text": render.term_label(iri, meta, langs),
           "href": render.local_href(iri), "total": total, "page": page, "pages": pages}
    return render_template("browse.html", classes=None, cls=cls, items=items)
