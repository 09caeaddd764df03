"""Reading an entity, trusting the source, and the small things (issue 11):
most specific types first, a description line, inferred containment beside
the asserted one, incoming links grouped by relation with filters, what
the source does not say on home, source page and every citation, key
figures, redirects for mistyped entity addresses, a 404 that suggests,
a favicon, and Turkish for every word the pages add. In-process."""

from __future__ import annotations

import html
import re
import urllib.parse
from pathlib import Path

from helpers import html_page

REPO = Path(__file__).resolve().parent.parent
NOT_GIVEN = ("title", "author", "publisher", "date")


def section(text: str, start: str, end: str = "</section>") -> str:
    i = text.index(start)
    return text[i:text.index(end, i)]


# --- the entity page ----------------------------------------------------------------

def test_most_specific_types_first_broader_ones_behind_a_toggle(client):
    text = html_page(client, "/id/albania.html")
    types = section(text, 'aria-label="Types"', "</ul>")
    toggle = types.index('class="more-types"')
    up_front, behind = types[:toggle], types[toggle:]
    for cls in ("Country", "State"):
        assert f'href="/ontology#{cls}"' in up_front, cls
    for cls in ("Actor", "Place"):
        assert f'href="/ontology#{cls}"' in behind and f'href="/ontology#{cls}"' not in up_front, cls
    assert "<details>" in behind and "broader types</summary>" in behind


def test_a_description_line_under_the_title(client):
    banja_luka = html_page(client, "/id/banja-luka.html")
    assert '<p class="description">City in Bosnia and Herzegovina</p>' in banja_luka
    spa = html_page(client, "/id/turkiye-albania-strategic-partnership-agreement.html")
    assert re.search(r'<p class="description">Strategic partnership agreement · 2021</p>', spa)
    tr = html_page(client, "/id/banja-luka.html?lang=tr")
    assert re.search(r'<p class="description">Şehir \(Bosna-Hersek\)</p>', tr), \
        re.search(r'<p class="description">.*?</p>', tr)


def test_inferred_containment_beside_the_asserted_one(client):
    text = html_page(client, "/id/banja-luka.html")
    places = section(text, 'id="group-places"')
    main = re.sub(r'<details class="inferred-block">.*?</details>', "", places, flags=re.S)
    within = main[main.index('href="/ontology#within"'):]
    assert re.search(r'href="/id/bosnia-and-herzegovina"[^>]*>Bosnia and Herzegovina</a></dd>', within)
    for region in ("western-balkans", "europe"):
        assert re.search(rf'href="/id/{region}"[^>]*>[^<]+</a> <span class="inferred"', within), region
    # …and not again as links pointing at Banja Luka.
    assert "/id/europe" not in section(text, 'id="incoming"')
    assert "simple features" not in text


def test_incoming_links_grouped_by_relation_and_filtered(client):
    text = html_page(client, "/id/turkiye.html")
    incoming = section(text, 'id="incoming"')
    total = int(re.search(r"Links to this entity <small>\((\d+)\)</small>", incoming).group(1))
    assert total > 60
    chips = dict(re.findall(r'<a href="\?rel=([^"#]+)#incoming"[^>]*>([^<]+?) <span', incoming))
    assert chips.get("party") == "party to", chips
    # Each relation once, under its own heading, over the pages (50 rows a page).
    seen = []
    for n in (1, 2):
        groups = re.findall(r'<h3 class="relation">([^<]+)</h3>',
                            section(html_page(client, f"/id/turkiye.html?in={n}"), 'id="incoming"'))
        assert len(groups) == len(set(groups)), groups
        seen += [g for g in groups if g not in seen]
    assert set(seen) == set(chips.values()) and len(seen) > 10
    party_count = int(re.search(r'>party to <span class="count">(\d+)</span>', incoming).group(1))
    only = section(html_page(client, "/id/turkiye.html?rel=party"), 'id="incoming"')
    assert re.findall(r'<h3 class="relation">([^<]+)</h3>', only) == ["party to"]
    assert len(re.findall(r'<li><span class="wording">', only)) == party_count
    assert f"Showing {party_count} of {total} links." in only
    assert 'class="selected"' in only and 'href="?#incoming"' in only


def test_citations_say_what_cannot_be_checked(client):
    text = html_page(client, "/id/albania.html")
    tips = re.findall(r'<a href="/source/article#S\d+" title="([^"]+)">S\d+</a>', text)
    assert tips
    for tip in tips:
        assert all(w in html.unescape(tip) for w in NOT_GIVEN), tip


def test_home_and_source_say_the_source_has_no_title_author_publisher_or_date(client):
    for path in ("/", "/source/article"):
        note = html.unescape(re.search(r'id="source-note"[^>]*>(.*?)</(?:p|aside)>', html_page(client, path),
                                       re.S).group(1)).lower()
        assert all(w in note for w in NOT_GIVEN), (path, note)
    facts = section(html_page(client, "/source/article"), 'class="source-facts"', "</dl>")
    assert facts.count("not given") == 4


def test_query_this_entity_runs(client):
    text = html_page(client, "/id/albania.html")
    link = re.search(r'<a class="button" href="(/sparql\?[^"]+)">Query this entity', text)
    href = html.unescape(link.group(1))
    args = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
    assert args["run"] == ["1"]
    r = client.get("/sparql", query_string={"query": args["query"][0]},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.get_json()["results"]["bindings"]


# --- home, redirects, not found ---------------------------------------------------------

def test_key_figures_a_journalist_reads_before_triple_counts(client):
    text = html_page(client, "/")
    figures = section(text, 'id="h-fig"')
    for word in ("Facts", "Actors", "Agreements", "Projects", "Money flows", "Claims", "Sentences cited"):
        assert f"<dt>{word}</dt>" in figures, word
    assert figures.index("<dt>Facts</dt>") < figures.index('id="fig-asserted"')
    assert re.search(r'<dt>Agreements</dt><dd><a href="/browse/Agreement">6</a>', figures)


def test_one_search_box_on_the_home_page(client):
    text = html_page(client, "/")
    assert len(re.findall(r'<input[^>]+name="q"', text)) == 1
    assert 'id="home-q"' in text[:text.index("</header>")]


def test_mistyped_entity_addresses_redirect(client):
    r = client.get("/id/Albania")
    assert r.status_code == 301 and r.headers["Location"].endswith("/id/albania")
    r = client.get("/id/turkey")
    assert r.status_code == 302 and r.headers["Location"].endswith("/id/turkiye")
    r = client.get("/id/turkey.ttl")
    assert r.status_code == 302 and r.headers["Location"].endswith("/id/turkiye.ttl")
    r = client.get("/id/Bosnia-And-Herzegovina.html?lang=tr")
    assert r.status_code == 301 and r.headers["Location"].endswith("/id/bosnia-and-herzegovina.html?lang=tr")


def test_not_found_suggests_similar_entities(client):
    text = html_page(client, "/id/albnia", 404)
    suggestions = section(text, 'class="suggestions"')
    assert 'href="/id/albania"' in suggestions
    assert 'class="search"' in text and 'value="albnia"' in text
    other = html_page(client, "/nothing/here/tika", 404)
    assert 'href="/id/tika"' in section(other, 'class="suggestions"')
    assert "There is nothing at /nothing/here/tika on this site." in other
    # Scripts get plain text; RDF clients an empty graph, as before.
    r = client.get("/nothing/here", headers={"Accept": "text/plain"})
    assert r.status_code == 404 and r.mimetype == "text/plain"
    r = client.get("/id/albnia", headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.mimetype == "text/turtle"


def test_favicon(client):
    for path in ("/favicon.ico", "/static/favicon.svg"):
        r = client.get(path)
        assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
    assert 'rel="icon"' in html_page(client, "/")


# --- Turkish ------------------------------------------------------------------------------

def test_every_word_the_pages_add_has_a_turkish_translation():
    from server.web.pages import entity, routes_browse, routes_site
    from server.web.pages.labels import UI_TR

    keys = set()
    for path in (REPO / "server" / "web" / "templates").glob("*.html"):
        if path.name == "sparql.html":
            continue
        text = path.read_text(encoding="utf-8")
        keys.update(m.group(2) for m in re.finditer(r'''\b_\(\s*(["'])(.*?)\1''', text))
        keys.update(m.group(2) for m in re.finditer(
            r'''_\(\s*["'][^"']*["']\s+if [^)]*? else\s+(["'])(.*?)\1''', text))
    for path in (REPO / "server" / "web" / "pages").glob("*.py"):
        keys.update(m.group(2) for m in re.finditer(r'''translate\(\s*(["'])(.*?)\1''',
                                                     path.read_text(encoding="utf-8")))
    keys.update(t for t, _, _ in routes_site.KEY_FIGURES)
    keys.update(n for _, n, _ in routes_site.KEY_FIGURES)
    keys.update(routes_browse.FACET_TITLES.values())
    keys.add(entity.CITATION_TIP)
    assert len(keys) > 150
    missing = sorted(k for k in keys if k not in UI_TR)
    assert not missing, missing
