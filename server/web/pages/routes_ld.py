"""Dereferenceable IRIs: /id/<slug> (303 to a document), /source/article
and /ontology (negotiated in place), and the JSON-LD context they use
(/context.jsonld). See docs/architecture.md, "Pages".
"""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request

from server import namespaces as ns
from server.web.pages import data, entity, formats, jsonld, missing, ontology_docs, render
from server.web.pages.blueprint import bp
from server.web.pages.labels import preferred_languages


def link_header(base: str, current: str, about: str | None = None) -> str:
    """One Link header, its links comma-joined. It names one alternate: the
    JSON-LD document from the page (JSON-LD 1.1's way to find it), the page
    from the data. JSON-LD loaders (pyld) take `alternate` to be a single
    link; the page lists every format in its <head>."""
    other = formats.FORMATS["jsonld" if current == "html" else "html"]
    links = [f'<{base}.{other.ext}>; rel="alternate"; type="{other.media_type}"']
    if about:
        links.append(f'<{about}>; rel="about"')
    return ", ".join(links)


def not_found(fmt: formats.Representation | None, what: str, status: int = 404,
              asked: str = "") -> Response:
    """A 404 in the negotiated format; the HTML one suggests entities whose
    names are like `asked`."""
    fmt = fmt or formats.HTML
    if fmt is formats.HTML:
        return missing.page(what, asked, status)
    return Response(formats.not_found_body(fmt, what), status=status,
                    content_type=fmt.content_type)


def not_acceptable() -> Response:
    offered = ", ".join(f.media_type for f in formats.FORMATS.values())
    return Response(f"None of the media types in the Accept header can be produced; "
                    f"offered: {offered}.\n", status=406,
                    content_type="text/plain; charset=utf-8", headers={"Vary": "Accept"})


def _rdf_response(triples, fmt: formats.Representation, headers: dict) -> Response:
    """An RDF document; JSON-LD compacted unless the expanded profile is asked for."""
    expanded = fmt.ext == "jsonld" and formats.wants_expanded(request.headers.get("Accept"))
    body = formats.serialize(triples, fmt, context_url=context_url(), expanded=expanded)
    resp = Response(body, content_type=formats.content_type(fmt, expanded))
    resp.headers.update(headers)
    if fmt.ext == "jsonld":
        resp.vary.add("Accept")           # the profile asked for
    return resp


def context_url() -> str:
    return request.host_url.rstrip("/") + jsonld.CONTEXT_PATH


@bp.route(jsonld.CONTEXT_PATH)
def jsonld_context():
    return Response(jsonld.context_document(), content_type=jsonld.JSONLD)


# --- entities -----------------------------------------------------------------

@bp.route("/id/", defaults={"name": ""})
@bp.route("/id/<path:name>")
def entity_resource(name: str):
    stem, fmt = formats.split_ext(name)
    negotiated = fmt or formats.choose(request.headers.get("Accept"))
    if negotiated is None:
        return not_acceptable()
    iri = ns.ID + stem
    if not render.valid_slug(stem) or not data.exists(iri):
        # /id/Albania → /id/albania (301); /id/turkey → /id/turkiye, a name of
        # exactly one entity (302: names may change).
        target = missing.entity_for(stem) if len(stem) <= render.MAX_SLUG else None
        if target:
            resp = redirect(f"/id/{target}" + (f".{fmt.ext}" if fmt else "") + (
                "?" + request.query_string.decode("latin-1") if request.query_string else ""),
                code=301 if target == stem.lower() else 302)
            resp.headers["Vary"] = "Accept"
            return resp
        if not render.valid_slug(stem):
            return not_found(negotiated, "No such entity: an entity IRI is /id/ followed by a "
                                         "lower-case slug of letters, digits and hyphens.",
                             asked=stem)
        return not_found(negotiated, f"There is no entity {iri} in the Köprü graph.", asked=stem)
    if fmt is None:
        # The IRI names a thing: 303 to the document in the chosen format.
        target = f"/id/{stem}.{negotiated.ext}"
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        resp = redirect(target, code=303)
        resp.headers["Vary"] = "Accept"
        return resp
    base = f"/id/{stem}"
    headers = {"Link": link_header(base, fmt.ext, iri)}
    if fmt is formats.HTML:
        return entity_page(iri, headers)
    return _rdf_response(data.describe(iri), fmt, headers)


def entity_page(iri: str, headers: dict) -> Response:
    try:
        page = int(request.args.get("in", "1"))
    except ValueError:
        page = 1
    rel = request.args.get("rel", "")
    if len(rel) > 100 or not all(c.isalnum() or c in ":-_" for c in rel):
        rel = ""
    slug = render.slug_of(iri)
    # Rendered once per store, language, page and relation (entity.page_html caches it).
    body = entity.page_html(iri, preferred_languages(), page, lambda view: render_template(
        "entity.html", e=view, slug=slug,
        alternates=[(f, f"/id/{slug}.{f.ext}") for f in formats.FORMATS.values()
                    if f.rdf is not None]), rel)
    resp = Response(body, content_type="text/html; charset=utf-8")
    resp.headers.update(headers)
    resp.headers["Vary"] = "Accept-Language"
    return resp


# --- documents negotiated in place: the source article, the ontology ------------

def _document(name: str, base: str, html, triples) -> Response:
    """The document `name` (the ontology, the source article) in the
    negotiated format. Only a build changes it, so its HTML is rendered once
    per build, address and reader's languages (the language switch's links
    name the address)."""
    stem, fmt = formats.split_ext(name)
    explicit = fmt is not None
    if fmt is None:
        fmt = formats.choose(request.headers.get("Accept"))
        if fmt is None:
            return not_acceptable()
    headers = {"Link": link_header(base, fmt.ext)}
    if not explicit:
        headers["Vary"] = "Accept"
        headers["Content-Location"] = f"{base}.{fmt.ext}"
    if fmt is formats.HTML:
        page = data.handle().cache.get("document_pages",
                                       (request.path, tuple(preferred_languages())), html)
        resp = Response(page, content_type="text/html; charset=utf-8")
        resp.headers.update(headers)
        return resp
    return _rdf_response(triples(), fmt, headers)


@bp.route("/source/article", defaults={"ext": ""})
@bp.route("/source/article.<ext>")
def source_article(ext: str):
    if ext and ext not in formats.FORMATS:
        return not_found(formats.HTML, "No such representation of the source document.")
    name = f"article.{ext}" if ext else "article"
    return _document(name, "/source/article", _source_html, _source_triples)


@bp.route("/source/<path:rest>")
def source_other(rest: str):
    fmt = formats.choose(request.headers.get("Accept"))
    return not_found(fmt, "Köprü has one source document: /source/article.")


def _source_triples():
    doc = ns.SOURCE_DOCUMENT
    triples = data.describe(doc)
    for s in data.sentences():
        triples.extend(data.describe(s["iri"]))
    return list(dict.fromkeys(triples))


def _source_html():
    langs = preferred_languages()
    sentences = data.sentences()
    facts = [f for s in sentences for f in s["facts"]]
    info = data.node_info([ns.SOURCE_DOCUMENT] + facts)
    meta = data.ontology_meta()
    doc_info = info.get(ns.SOURCE_DOCUMENT) or {}
    from server.web.pages.labels import pick
    title = pick(doc_info.get("label"), langs)
    rows = []
    for s in sentences:
        rows.append({**s, "facts": [entity.node_view(f, info, meta, langs) for f in s["facts"]]})
    return render_template("source.html", title=title[0] if title else "Source article",
                           sentences=rows, iri=ns.SOURCE_DOCUMENT)


@bp.route("/ontology", defaults={"ext": ""})
@bp.route("/ontology.<ext>")
def ontology(ext: str):
    if ext and ext not in formats.FORMATS:
        return not_found(formats.HTML, "No such representation of the ontology.")
    name = f"ontology.{ext}" if ext else "ontology"
    return _document(
        name, "/ontology",
        lambda: render_template("ontology.html", o=ontology_docs.build(preferred_languages())),
        lambda: data.graph_triples([ns.GRAPH_ONTOLOGY, ns.GRAPH_SHAPES]))


@bp.route("/ontology/<path:rest>")
def ontology_other(rest: str):
    abort(404)
