"""For crawlers: /robots.txt (pages yes, the query endpoint and search no)
and /sitemap.xml (the site's pages and every entity page, last modified at
the build)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Response, request

from server import namespaces as ns
from server.web.http_cache import build_time
from server.web.pages import render
from server.web.pages.blueprint import bp
from server.web.pages.store import handle

SITE_PAGES = ("/", "/browse", "/ontology", "/source/article", "/timeline", "/trade", "/map",
              "/dumps/", "/.well-known/void")


def entity_slugs() -> list[str]:
    """Every entity with a page: the subjects under /id/, once per build."""
    def make():
        rows = handle().query(f"""SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
            FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{ns.ID}")) }}""",
                              named_graphs=list(ns.DEFAULT_GRAPHS))
        return sorted({s for r in rows if (s := render.slug_of(r["s"].value))})
    return handle().cached("crawl:entities", make)


@bp.route("/robots.txt")
def robots():
    root = request.url_root.rstrip("/")
    body = ("User-agent: *\n"
            "Disallow: /sparql\n"       # every query is a new URL: nothing to index
            "Disallow: /search\n"
            "Allow: /\n"
            f"Sitemap: {root}/sitemap.xml\n")
    return Response(body, content_type="text/plain; charset=utf-8")


@bp.route("/sitemap.xml")
def sitemap():
    root = request.url_root.rstrip("/")
    when = build_time()
    lastmod = f"<lastmod>{when.date().isoformat()}</lastmod>" if when else ""
    urls = [root + p for p in SITE_PAGES] + [f"{root}/id/{s}.html" for s in entity_slugs()]
    body = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    body += [f"<url><loc>{escape(u)}</loc>{lastmod}</url>" for u in urls]
    body.append("</urlset>\n")
    return Response("\n".join(body), content_type="application/xml; charset=utf-8")
