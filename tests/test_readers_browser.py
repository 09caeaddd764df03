"""Issue 11 as a reader meets it, in headless Chromium at 1280 and 390 px,
against a real `kopru serve` (the session's `kopru_server`): no page wider
than a phone, search that finds and corrects, facets and sorting, the
entity page's toggles and relation filters, the language kept across
links, maps with borders, a readable network, the query UI's share links,
local result links, examples, and chart / map / graph views.

One browser session, conftest's `chromium`, shared with test_browser (the
two run on one worker). Screenshots go to
test-artifacts/screens/readers-*.png (gitignored); the width check takes
one of a page only when it is too wide, of every page with
KOPRU_ALL_SCREENSHOTS=1 (tests/browser.py).
"""

from __future__ import annotations

import re
import urllib.parse

import pytest
from browser import ALL_SCREENSHOTS, DESKTOP, PHONE, Browser

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT = 20          # seconds: an upper bound for an event, never a speed claim

# Every kind of page a reader opens (and a few states of them).
PAGES = [
    "/", "/search?q=turkiye", "/search?q=Albnia", "/search?q=Arnavutluk", "/browse", "/browse/Fact",
    "/browse/Agreement?actor=albania&sort=-year", "/id/albania", "/id/turkiye",
    "/id/banja-luka", "/id/turkiye-albania-strategic-partnership-agreement",
    "/id/turkish-exports-to-albania-last-year", "/id/turkiye?rel=party", "/source/article",
    "/ontology", "/timeline", "/trade", "/map", "/id/turkiye/network", "/id/albania/network",
    "/sparql", "/id/albnia", "/no/such/page", "/?lang=tr", "/id/albania?lang=tr",
]


@pytest.fixture(scope="module")
def b(module_chromium):
    """The worker's Chromium, as this module's (conftest)."""
    return module_chromium


@pytest.fixture
def desktop(b):
    b.resize(*DESKTOP)
    b.console_errors()
    return b


# --- small helpers (this module's own) ---------------------------------------------------

def until(b: Browser, condition, what: str, timeout: float = WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(b.driver, timeout, poll_frequency=0.1).until(lambda d: condition(), what)


def go(b: Browser, path: str) -> None:
    b.driver.get(b.base + path)
    until(b, lambda: b.driver.execute_script("return document.readyState") == "complete",
          f"{path} did not load")


def js(b: Browser, script: str, *args):
    return b.driver.execute_script(script, *args)


def find(b: Browser, selector: str):
    from selenium.webdriver.common.by import By

    return b.driver.find_element(By.CSS_SELECTOR, selector)


def find_all(b: Browser, selector: str):
    from selenium.webdriver.common.by import By

    return b.driver.find_elements(By.CSS_SELECTOR, selector)


def where(b: Browser) -> str:
    return js(b, "return location.pathname + location.search")


def errors(b: Browser) -> list[str]:
    """Console errors, leaving out the status line of a page that is a 404 on purpose."""
    return [m for m in b.console_errors() if "status of 404" not in m]


def click(b: Browser, element) -> None:
    js(b, "arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def editor_text(b: Browser) -> str:
    return js(b, "return document.querySelector('#yasgui .CodeMirror').CodeMirror.getValue()")


def result_rows(b: Browser) -> list:
    return find_all(b, "#yasgui .yasr table tbody tr")


def smallest_text_px(b: Browser, selector: str) -> float:
    """The smallest rendered height (CSS px) of the text in `selector`'s SVG
    texts: what a reader's eye gets, after any scaling of the drawing."""
    return js(b, """
        let least = 1e9;
        for (const t of document.querySelectorAll(arguments[0] + ' text')) {
          const r = t.getBoundingClientRect();
          if (r.height > 0 && t.textContent.trim()) least = Math.min(least, r.height);
        }
        return least;""", selector)


# --- phones and desktops: nothing wider than the screen ------------------------------------

def test_no_page_is_wider_than_the_screen(b):
    """Each page loaded at one width, then resized to the other: one load
    checks both widths, and the next page loads at the width the last one
    ended at (a resize costs Chromium half as much as a load). The pages'
    layout is CSS alone (media queries apply on a resize as on a load); the
    one script of ours that looks at the width folds the browse filters away
    on a phone at load, so browse pages load at 1280 px and are checked with
    the filters open, the wider case (test_facets_fold_away_on_a_phone loads
    one at 390 px); so does the query editor, whose third-party script may
    measure the page as it starts."""
    loads_wide = ("/browse", "/sparql")
    wide: dict[int, dict[str, str]] = {DESKTOP[0]: {}, PHONE[0]: {}}
    size = DESKTOP                      # the viewport's: the next page loads at it
    b.resize(*size)
    try:
        for path in PAGES:
            if path.startswith(loads_wide) and size != DESKTOP:
                size = DESKTOP
                b.resize(*size)
            go(b, path)
            if path == "/sparql":
                until(b, lambda: find_all(b, "#yasgui .CodeMirror"), "YASGUI did not load")
            for check in (size, PHONE if size == DESKTOP else DESKTOP):
                if check != size:
                    size = check
                    b.resize(*size)
                overflow = b.horizontal_overflow()
                if overflow > 1:
                    wide[size[0]][path] = f"{overflow} px, widest: {b.widest()}"
                if size == PHONE and (path in wide[PHONE[0]] or ALL_SCREENSHOTS):
                    name = "readers-" + (re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")
                                         or "home")
                    b.screenshot(name + "-phone", full_page=False)
        assert not any(wide.values()), f"pages wider than the screen (per width): {wide}"
    finally:
        b.resize(*DESKTOP)


def test_charts_stay_readable_on_a_phone(b):
    b.resize(*PHONE)
    try:
        for path in ("/timeline", "/trade", "/map", "/id/turkiye/network"):
            go(b, path)
            least = smallest_text_px(b, "main figure svg")
            assert least >= 9, f"{path}: text only {least:.1f} px high at {PHONE[0]} px"
            # The drawing keeps its size and scrolls sideways inside its frame.
            box = find(b, "main figure.view-figure")
            assert js(b, "return arguments[0].scrollWidth > arguments[0].clientWidth", box), path
            assert b.horizontal_overflow() <= 1, path
            if path == "/trade":
                cells = js(b, "return Array.from(document.querySelectorAll('table.stack td.num'))"
                              ".map(c => c.getBoundingClientRect().right)")
                assert cells and max(cells) <= PHONE[0], "a trade value is off-screen"
    finally:
        b.resize(*DESKTOP)


# --- finding things ---------------------------------------------------------------------------

def test_a_typo_gets_a_did_you_mean(desktop):
    b = desktop
    go(b, "/")
    box = find(b, "header.site input[name=q]")
    box.send_keys("Albnia")
    find(b, "header.site form.search button[type=submit]").click()
    until(b, lambda: where(b).startswith("/search"), "the search did not open")
    assert "0 results" in find(b, "#result-count").text
    click(b, find(b, "#did-you-mean a"))
    until(b, lambda: find_all(b, "ol.results li"), "the suggestion gave no results")
    first = find_all(b, "ol.results li a")[0]
    assert first.text == "Albania" and "Did you mean" not in find(b, "main").text
    assert not errors(b), errors(b)


def test_search_pages_through_the_true_total(desktop):
    b = desktop
    go(b, "/search?q=turkiye")
    total = int(re.search(r"(\d+) results", find(b, "#result-count").text).group(1))
    assert total > 20
    links = "return Array.from(document.querySelectorAll('ol.results > li > a')).map(a => a.href)"
    seen = js(b, links)
    while find_all(b, "nav.pager a[rel=next]"):
        click(b, find(b, "nav.pager a[rel=next]"))
        until(b, lambda: "page=" in where(b), "next page did not open")
        seen += js(b, links)
    assert len(seen) == total == len(set(seen))


def test_search_words_from_their_start(desktop):
    b = desktop
    go(b, "/search?q=tika")
    texts = [li.text for li in find_all(b, "ol.results > li")]
    assert texts and texts[0].startswith("Turkish Cooperation and Coordination Agency"), texts
    assert not any("politikası" in t for t in texts), texts
    marks = [m.text for m in find_all(b, "ol.results mark")]
    assert marks and all(m.lower() in ("tika", "tİka") or m.upper() == "TİKA" for m in marks), marks


def test_facets_filter_and_columns_sort(desktop):
    b = desktop
    go(b, "/browse/Fact")
    before = len(find_all(b, "ol.members > li"))
    year = next(a for a in find_all(b, '[data-facet="year"] a') if a.text == "2021")
    click(b, year)
    until(b, lambda: "year=2021" in where(b), "the year facet did not filter")
    rows = find_all(b, "ol.members > li")
    assert 0 < len(rows) < before
    assert all("2021" in r.find_element("css selector", ".col-year").text for r in rows)
    assert "Year: 2021" in find(b, ".chips").text
    # Sort by year, then undo the filter with its chip.
    go(b, "/browse/Agreement")
    click(b, next(a for a in find_all(b, ".row.head a") if a.text.startswith("Year")))
    until(b, lambda: "sort=year" in where(b), "the Year column did not sort")
    years = [r.find_element("css selector", ".col-year").text for r in find_all(b, "ol.members > li")]
    dated = [y for y in years if y != "—"]
    assert dated == sorted(dated) and dated[0] == "1992", years
    b.screenshot("readers-browse-sorted", full_page=False)


def test_facets_fold_away_on_a_phone(b):
    b.resize(*PHONE)
    try:
        go(b, "/browse/Fact")
        box = find(b, "details.facets-box")
        assert box.get_attribute("open") is None
        assert not find(b, '[data-facet="year"]').is_displayed()
        click(b, find(b, "details.facets-box > summary"))
        until(b, lambda: find(b, '[data-facet="year"]').is_displayed(), "the filters did not open")
        assert b.horizontal_overflow() <= 1
    finally:
        b.resize(*DESKTOP)


# --- reading an entity ----------------------------------------------------------------------------

def test_broader_types_behind_a_toggle(desktop):
    b = desktop
    go(b, "/id/albania")
    up_front = [li.text for li in find_all(b, "ul.types > li.asserted-type, ul.types > li.inferred-type")]
    assert any("Country" in t for t in up_front) and not any(t.startswith("Actor") for t in up_front)
    broader = find(b, "li.more-types details")
    actor = next(a for a in broader.find_elements("css selector", "a")
                 if a.get_attribute("href").endswith("#Actor"))
    assert not actor.is_displayed()
    click(b, broader.find_element("css selector", "summary"))
    until(b, actor.is_displayed, "the broader types did not open")
    assert find(b, "p.description").text


def test_relation_chips_filter_the_incoming_links(desktop):
    b = desktop
    go(b, "/id/turkiye")
    chip = next(a for a in find_all(b, "#incoming ul.counts a") if a.text.startswith("party to"))
    n = int(chip.find_element("css selector", ".count").text)
    click(b, chip)
    until(b, lambda: "rel=party" in where(b), "the chip did not filter")
    headings = [h.text for h in find_all(b, "#incoming h3.relation")]
    assert headings == ["party to"]
    assert len(find_all(b, "#incoming ol.incoming-list > li")) == n
    b.screenshot("readers-turkiye-party-to", full_page=False)
    click(b, find(b, "#incoming ul.counts li.selected a"))
    until(b, lambda: "rel=" not in where(b), "the selected chip did not clear the filter")
    assert len(find_all(b, "#incoming h3.relation")) > 5


def test_the_language_is_kept_across_links(desktop):
    b = desktop
    go(b, "/id/albania?lang=tr")
    assert find(b, "h1").text == "Arnavutluk"
    click(b, next(a for a in find_all(b, "header.site nav a") if a.get_attribute("href").endswith("/browse")))
    until(b, lambda: where(b).startswith("/browse"), "the nav link did not open")
    assert "lang=tr" in where(b) and find(b, "html").get_attribute("lang") == "tr"
    box = find(b, "header.site input[name=q]")
    box.send_keys("Arnavutluk")
    box.submit()
    until(b, lambda: where(b).startswith("/search"), "the search did not open")
    assert "lang=tr" in where(b) and "“Arnavutluk” için" in find(b, "main").text


def test_citations_and_the_home_page_say_what_the_source_lacks(desktop):
    b = desktop
    go(b, "/")
    note = find(b, "#source-note").text.lower()
    assert all(w in note for w in ("title", "author", "publisher", "date"))
    go(b, "/id/albania")
    tip = find(b, ".prov .cite a").get_attribute("title")
    assert all(w in tip for w in ("title", "author", "publisher", "date")), tip
    go(b, "/source/article")
    assert find(b, "#source-note").is_displayed()
    assert not errors(b), errors(b)


def test_a_missing_page_suggests_entities(desktop):
    b = desktop
    go(b, "/id/albnia")
    assert find(b, "h1").text.startswith("404")
    click(b, next(a for a in find_all(b, ".suggestions a") if a.text == "Albania"))
    until(b, lambda: find(b, "h1").text == "Albania", "the suggestion did not open Albania")
    go(b, "/id/turkey")
    assert where(b).startswith("/id/turkiye") and find(b, "h1").text == "Türkiye"


# --- views --------------------------------------------------------------------------------------------

def test_the_map_draws_borders_labels_and_a_legend(desktop):
    b = desktop
    go(b, "/map")
    try:
        for size in (DESKTOP, PHONE):       # one load, both widths: the map is CSS-sized
            b.resize(*size)
            shapes = find_all(b, "main svg .kv-outlines path")
            assert len(shapes) >= 12 and all(s.size["width"] > 0 for s in shapes[:6]), size
            labels = js(b, "return Array.from(document.querySelectorAll("
                           "'main svg .kv-countries text')).map(t => t.textContent)")
            assert {"ALBANIA", "SERBIA", "KOSOVO"} <= set(labels)
            legend = js(b, "return document.querySelector('main svg .kv-legend').textContent")
            assert "city" in legend and "project" in legend
            assert b.horizontal_overflow() <= 1, size
            b.screenshot("readers-map" + ("-phone" if size == PHONE else ""), full_page=False)
    finally:
        b.resize(*DESKTOP)


def test_the_network_of_turkiye_is_readable(desktop):
    b = desktop
    go(b, "/id/turkiye/network")
    boxes = js(b, """
        return Array.from(document.querySelectorAll('main svg .kv-node a text')).map(t => {
          const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; });""")
    assert len(boxes) > 60
    overlaps = [(a, c) for i, a in enumerate(boxes) for c in boxes[i + 1:]
                if a[0] < c[2] and c[0] < a[2] and a[1] < c[3] and c[1] < a[3]]
    assert not overlaps, overlaps[:3]
    legend = js(b, "return document.querySelector('main svg .kv-legend').textContent")
    for words in ("agreement", "actor", "it points at the entity"):
        assert words in legend
    b.screenshot("readers-network-turkiye", full_page=False)


def test_the_query_behind_a_view_runs(desktop):
    b = desktop
    go(b, "/trade")
    click(b, next(a for a in find_all(b, ".downloads a") if a.text == "the query behind this view"))
    until(b, lambda: len(result_rows(b)) >= 3, "the trade query gave no rows")
    assert "919500000" in " ".join(r.text for r in result_rows(b)).replace(",", "")


# --- the query UI --------------------------------------------------------------------------------------

def test_share_link_opens_the_shared_query(desktop):
    b = desktop
    query = ("SELECT ?label WHERE { <https://w3id.org/kopru/id/kosovo> "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?label }")
    go(b, "/sparql?" + urllib.parse.urlencode({"query": query, "run": "1"}))
    until(b, lambda: result_rows(b), "the query did not run")
    click(b, find(b, "#yasgui .yasqe_share"))
    link = until(b, lambda: js(b, "const i = document.querySelector('.yasqe_sharePopup input'); "
                                  "return i && i.value"),
                 "the share popup did not open")
    go(b, "/")
    b.driver.get(link)
    until(b, lambda: result_rows(b), "the shared link did not run its query")
    assert editor_text(b) == query
    assert any("Kosova" in r.text or "Kosovo" in r.text for r in result_rows(b))
    # A link in YASGUI's own form (the query after '#') opens too.
    go(b, "/sparql#" + urllib.parse.urlencode({"query": query}))
    until(b, lambda: result_rows(b), "a #query= link did not run")
    assert editor_text(b) == query


def test_result_iris_open_this_sites_pages(desktop):
    b = desktop
    go(b, "/sparql?example=agreements-with-albania&run=1")
    until(b, lambda: result_rows(b), "the example did not run")
    links = [a for a in find_all(b, "#yasgui .yasr table tbody a")
             if "/id/" in (a.get_attribute("href") or "")]
    assert links and all(a.get_attribute("href").startswith(b.base + "/id/") for a in links)
    target = links[0].get_attribute("href")
    click(b, links[0])
    until(b, lambda: b.driver.current_url.startswith(target), "the result link did not open the page")
    assert find(b, "h1").text


def test_examples_are_grouped_and_searchable(desktop):
    b = desktop
    go(b, "/sparql")
    until(b, lambda: find_all(b, "#examples .example"), "no examples")
    groups = [h.text for h in find_all(b, "#examples .example-group h3")]
    assert len(groups) >= 5 and "TRADE" in [g.upper() for g in groups]
    total = len(find_all(b, "#examples .example"))
    find(b, "#example-filter").send_keys("exports")
    until(b, lambda: 0 < js(b, "return Array.from(document.querySelectorAll('#examples .example'))"
                               ".filter(e => e.checkVisibility()).length") < total,
          "the filter did not narrow the examples")
    # Each example still shown says "export" in its title, description or query.
    shown = js(b, """
        const examples = JSON.parse(document.getElementById('query-ui-config').textContent).examples;
        return Array.from(document.querySelectorAll('#examples .example')).filter(e => !e.hidden)
          .map(e => (e.textContent + ' ' + examples[+e.dataset.index].query).toLowerCase());""")
    assert shown and all("export" in t for t in shown), shown
    assert find(b, "#example-count").text == f"{len(shown)} / {total}"


@pytest.mark.parametrize("view,query,drawn", [
    ("Chart", "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } "
              "GROUP BY ?class ORDER BY DESC(?n) LIMIT 8",
     ".kv-chart svg rect"),
    ("Map", "SELECT ?place ?wkt WHERE { ?place <http://www.opengis.net/ont/geosparql#hasGeometry>/"
            "<http://www.opengis.net/ont/geosparql#asWKT> ?wkt }", ".kv-map svg circle"),
    ("Graph", "CONSTRUCT { <https://w3id.org/kopru/id/albania> ?p ?o } WHERE { "
              "<https://w3id.org/kopru/id/albania> ?p ?o FILTER(isIRI(?o)) } LIMIT 15",
     ".kv-graph svg circle"),
])
def test_result_views_chart_map_graph(desktop, view, query, drawn):
    b = desktop
    go(b, "/sparql?" + urllib.parse.urlencode({"query": query, "run": "1"}))
    until(b, lambda: result_rows(b), f"the {view} query did not run")
    button = find(b, f".yasr_btnGroup .select_{view.lower()}")
    assert "disabled" not in (button.get_attribute("class") or "")
    click(b, button)
    until(b, lambda: len(find_all(b, drawn)) >= 3, f"the {view} view drew nothing")
    b.screenshot(f"readers-sparql-{view.lower()}", full_page=False)
    # Nothing was fetched from elsewhere.
    sources = js(b, "return performance.getEntriesByType('resource').map(e => e.name)")
    assert all(s.startswith(b.base) for s in sources), sources
    assert not errors(b), errors(b)


def test_query_this_entity_runs_it(desktop):
    b = desktop
    go(b, "/id/albania")
    click(b, next(a for a in find_all(b, "p.actions a.button") if a.text == "Query this entity"))
    until(b, lambda: len(result_rows(b)) > 5, "Query this entity did not run its query")
    assert "albania" in editor_text(b)


def test_the_sparql_page_has_the_sites_header_and_search(desktop):
    b = desktop
    go(b, "/sparql")
    assert find(b, "header.site nav a.brand").text == "Köprü"
    box = find(b, "header.site input[name=q]")
    box.send_keys("Kosovo")
    box.submit()
    until(b, lambda: where(b).startswith("/search"), "the header search did not open")
    assert find_all(b, "ol.results li")
