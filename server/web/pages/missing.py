"""Not found: the site-wide 404 page, which says what was not found and
suggests entities whose names are like what was asked for; and where a
mistyped entity address leads (/id/Albania, /id/turkey).
"""

from __future__ import annotations

import urllib.parse

from flask import Response, render_template, request

from server import namespaces as ns
from server.errors import KopruError
from server.web.negotiation import best_match
from server.web.pages import data, render, search
from server.web.pages.labels import pick, preferred_languages, translate

SUGGESTIONS = 6


def suggestions(words: str) -> list[dict]:
    """Entities whose names are like `words` (a slug, a path, a name)."""
    if not words.strip():
        return []
    try:
        iris = search.similar(words, SUGGESTIONS)
        info = data.node_info(iris) if iris else {}
    except KopruError:                # no store: a 404 page all the same
        return []
    langs = preferred_languages()
    out = []
    for iri in iris:
        best = pick((info.get(iri) or {}).get("label"), langs)
        prov = (info.get(iri) or {}).get("summary")
        summary = pick(prov, langs)
        out.append({"href": render.local_href(iri), "text": best[0] if best else render.short(iri),
                    "lang": best[1] if best else "", "summary": summary[0] if summary else ""})
    return out


def page(message: str, asked: str = "", status: int = 404) -> Response:
    """The 404 page (HTML) with suggestions for `asked`."""
    body = render_template("error.html", status=status, title="Not found", message=message,
                           suggestions=suggestions(asked), asked=asked)
    return Response(body, status=status, content_type="text/html; charset=utf-8")


def not_found_response() -> Response:
    """Any URL the site does not have: the page for a browser (suggestions
    from the path's last part), plain text for everything else."""
    langs = preferred_languages()
    message = translate("There is nothing at {path} on this site.", langs).format(path=request.path)
    if best_match(("text/plain", "text/html"), request.headers.get("Accept")) == "text/html":
        last = urllib.parse.unquote(request.path.rstrip("/").rsplit("/", 1)[-1])
        return page(message, last.rsplit(".", 1)[0])
    return Response(message + "\n", status=404, content_type="text/plain; charset=utf-8")


def entity_for(name: str) -> str | None:
    """Where a mistyped entity address goes: /id/Albania → the slug
    'albania'; /id/turkey → 'turkiye' (a name of exactly one entity);
    None when there is no one answer."""
    lower = name.lower()
    if lower != name and render.valid_slug(lower) and data.exists(ns.ID + lower):
        return lower
    words = name.replace("-", " ").replace("_", " ")
    try:
        found = [i for i in search.exact(words) if render.slug_of(i)]
    except KopruError:
        return None
    return render.slug_of(found[0]) if len(found) == 1 else None
