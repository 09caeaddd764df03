"""Home and search (HTML, and JSON or CSV with the same results)."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, render_template, request, send_from_directory, url_for

from server import namespaces as ns
from server.web.pages import data, entity, render, search, tables
from server.web.pages.blueprint import bp
from server.web.pages.labels import language_name, pick, preferred_languages, translate

ENTRY_POINTS = [
    ("Countries", ns.KOP + "Country"), ("Agreements", ns.KOP + "Agreement"),
    ("Projects", ns.KOP + "Project"), ("Trade", ns.KOP + "TradeFlow"),
    ("Aid", ns.KOP + "Assistance"), ("Claims", ns.KOP + "Claim"),
]
# The home page's key figures: what a journalist counts, then the triples.
KEY_FIGURES = [
    ("Facts", "each citing the sentence it comes from", [ns.KOP + "Fact"]),
    ("Actors", "states, agencies, companies, organisations, groups", [ns.KOP + "Actor"]),
    ("Agreements", "signed between the actors", [ns.KOP + "Agreement"]),
    ("Projects", "funded or built", [ns.KOP + "Project"]),
    ("Money flows", "trade, investment and aid", [ns.KOP + "TradeFlow", ns.KOP + "Investment",
                                                   ns.KOP + "Assistance"]),
    ("Claims", "views held by someone, kept apart from facts", [ns.KOP + "Claim"]),
]


@bp.route("/")
def home():
    counts = data.triple_counts()
    class_counts = data.class_counts()
    entries = [{"text": t, "slug": c[len(ns.KOP):], "n": class_counts.get(c, 0)}
               for t, c in ENTRY_POINTS]
    figures = [{"text": t, "note": note, "n": sum(class_counts.get(c, 0) for c in classes),
                "slug": classes[0][len(ns.KOP):]} for t, note, classes in KEY_FIGURES]
    sentences = data.sentences()
    return render_template(
        "home.html", entries=entries, figures=figures,
        cited=sum(1 for s in sentences if s["facts"]), sentences=len(sentences),
        valued=sum(1 for f in data.trade_flows() if f["values"]),
        asserted=counts.get(ns.GRAPH_ASSERTED, 0), entailed=counts.get(ns.GRAPH_ENTAILED, 0),
        ontology=counts.get(ns.GRAPH_ONTOLOGY, 0))


def wants_json() -> bool:
    if request.args.get("format") == "json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _int_arg(name: str, default: int) -> int:
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


@bp.route("/search", endpoint="search")
def search_page():
    q = request.args.get("q", "")[:200]
    size = _int_arg("size", _int_arg("limit", search.PAGE_SIZE))
    page = _int_arg("page", 1)
    langs = preferred_languages()
    found = search.search(q, page, size, langs)
    info = data.node_info([h.iri for h in found.hits]) if found.hits else {}
    meta = data.ontology_meta()
    qwords = search.words(q)
    results: list[dict[str, Any]] = []
    for h in found.hits:
        i = info.get(h.iri) or {}
        best = pick(i.get("label"), langs)
        prov = entity.provenance(i, langs) or {}
        types = [t for t in i.get("type", []) if t.startswith(ns.KOP)]
        results.append({
            "iri": h.iri, "href": render.local_href(h.iri),
            "label": best[0] if best else h.label, "label_lang": best[1] if best else h.lang,
            "matched": h.label, "matched_lang": h.lang, "language": language_name(h.lang),
            "types": sorted(render.term_label(t, meta, langs)
                            for t in entity.most_specific_types(types, meta)),
            "summary": h.summary or prov.get("summary", ""),
            "summary_lang": h.summary_lang if h.summary else prov.get("summary_lang", ""),
            "summary_matched": bool(h.summary),
        })
    for r in results:
        r["label_marks"] = search.marks(r["label"], qwords)
        r["summary_marks"] = search.marks(r["summary"], qwords)
        r["matched_marks"] = search.marks(r["matched"], qwords)

    def page_url(n: int) -> str:
        return url_for("pages.search", q=q, page=n,
                       size=size if size != search.PAGE_SIZE else None)

    meta_out = {"query": q, "total": found.total, "page": found.page, "pages": found.pages,
                "size": found.size, "suggestion": found.suggestion, "inside_words": found.infix,
                "next": page_url(found.page + 1) if found.page < found.pages else None}
    if found.page > found.pages and found.total:
        from server.web.pages.routes_ld import not_found
        return not_found(None, translate("There is no page {page} of these results.",
                                         langs).format(page=found.page))
    fmt = tables.requested_format()
    if fmt == "csv":
        return tables.response("search", ["iri", "label", "matched", "matched_lang", "types", "summary"],
                               [(r["iri"], r["label"], r["matched"], r["matched_lang"],
                                 "; ".join(r["types"]), r["summary"]) for r in results], "csv")
    if wants_json():
        body = {**meta_out, "results": [{k: v for k, v in r.items() if not k.endswith("_marks")}
                                        for r in results]}
        resp = jsonify(body)
        resp.headers["Vary"] = "Accept"
        return resp
    resp = Response(render_template("search.html", q=q, results=results, found=found,
                                    page_url=page_url, suggestion_url=(
                                        url_for("pages.search", q=found.suggestion)
                                        if found.suggestion else None)),
                    content_type="text/html; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


@bp.route("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the same icon."""
    return send_from_directory(current_app.static_folder or "", "favicon.svg",
                               mimetype="image/svg+xml", max_age=86400)
