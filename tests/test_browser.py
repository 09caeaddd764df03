"""What a person sees in a real headless Chromium (issues 3 and 4).

Selenium drives Debian's /usr/bin/chromium through /usr/bin/chromedriver
(`make test-deps` installs both; see tests/browser.py) against a real
`kopru serve` on loopback (the session fixture `kopru_server`). Marked
`browser` and `server`: `pytest -m "not browser"` leaves them out.

Every test keeps screenshots under test-artifacts/screens/ (gitignored):
desktop at 1280 px and, for the main pages, a phone at 390 px (`*-phone.png`);
the viewport, and the whole page too with KOPRU_ALL_SCREENSHOTS=1.

The tests skip only when the browser is missing and this is not CI; under
CI=true a missing browser is a failure, since `make test` installs it.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from browser import DESKTOP, PHONE, Browser

pytestmark = [pytest.mark.browser, pytest.mark.server]

WAIT = 30  # seconds: a hang detector; every wait returns as soon as it is met

# Records, in window.__kopruAnswered, the URL of each fetch() whose JSON the
# page has finished using: the callback is a task queued once the JSON is
# read, so it runs after the page's own promise callbacks (the rendering).
TRACK_FETCHES = """
window.__kopruAnswered = [];
const kopruFetch = window.fetch;
window.fetch = function (url, options) {
  return kopruFetch(url, options).then(function (response) {
    const json = response.json.bind(response);
    response.json = function () {
      return json().then(function (data) {
        setTimeout(function () { window.__kopruAnswered.push(String(url)); }, 0);
        return data;
      });
    };
    return response;
  });
};
"""


@pytest.fixture(scope="module")
def browser(module_chromium):
    """The worker's Chromium, as this module's (conftest)."""
    return module_chromium


@pytest.fixture
def page(browser):
    """The browser, at desktop size, on kopru_server."""
    browser.resize(*DESKTOP)
    browser.console_errors()          # drop what earlier tests left in the log
    yield browser
    browser.resize(*DESKTOP)


def wait(b: Browser, cond, timeout: float = WAIT, message: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(b.driver, timeout, poll_frequency=0.05).until(cond, message)


def open_page(b: Browser, path: str) -> None:
    b.driver.get(b.base + path)
    wait(b, lambda d: d.execute_script("return document.readyState") == "complete",
         message=f"{path} did not finish loading")


def css(b: Browser, selector: str):
    from selenium.webdriver.common.by import By

    return b.driver.find_element(By.CSS_SELECTOR, selector)


def css_all(b: Browser, selector: str):
    from selenium.webdriver.common.by import By

    return b.driver.find_elements(By.CSS_SELECTOR, selector)


def cells(b: Browser, selector: str, *fields: str) -> list[list[str]]:
    """For each element matching `selector`, the listed fields ("text": its
    rendered text; else a property such as "href") in one round trip, not
    one per element and field."""
    return b.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(e => arguments[1]"
        ".map(f => f === 'text' ? e.innerText.trim() : String(e[f])))", selector, list(fields))


def visible_text(b: Browser, selector: str = "body") -> str:
    return css(b, selector).text


def path_of(b: Browser) -> str:
    return b.driver.execute_script("return location.pathname + location.search")


def page_errors(b: Browser) -> list[str]:
    """Console errors that matter (a missing favicon does not)."""
    return [m for m in b.console_errors() if "favicon.ico" not in m]


def assert_no_markup_shown(b: Browser) -> None:
    """Escaping: no tag or entity leaks into what the reader sees."""
    text = visible_text(b)
    leaks = re.findall(r"</?[a-z][a-z0-9]*[ >/]|&(?:lt|gt|amp|quot|#\d+);", text)
    assert not leaks, f"markup shown as text on {path_of(b)}: {leaks[:5]}"


def assert_fits_phone(b: Browser, name: str) -> None:
    """At 390 px the page is readable: screenshot it and check that nothing
    makes the whole page scroll sideways."""
    b.resize(*PHONE)
    b.screenshot(f"{name}-phone")
    overflow = b.horizontal_overflow()
    wide = b.widest() if overflow > 1 else []
    b.resize(*DESKTOP)
    assert overflow <= 1, (f"{name} at {PHONE[0]} px scrolls sideways by {overflow} px "
                           f"(widest: {wide}); see test-artifacts/screens/{name}-phone.png")


# -- home and search -------------------------------------------------------------

def test_home_search_autocomplete_opens_albania(page):
    from selenium.webdriver.common.keys import Keys

    open_page(page, "/")
    assert css(page, "h1").text == "Köprü"
    page.screenshot("home")
    page.driver.execute_script(TRACK_FETCHES)
    box = css(page, "#home-q")
    assert box.is_displayed()
    box.click()
    box.send_keys("Arnavutluk")
    # The autocomplete list offers Albania, matched by its Turkish name.
    wait(page, lambda d: any(li.is_displayed() and li.text.startswith("Albania")
                             for li in css_all(page, "#home-q-ac li")),
         message="autocomplete did not offer Albania for 'Arnavutluk'")
    # The list is settled before we use it: the answer to the whole word
    # has been shown (answers to earlier keystrokes are never shown after it).
    wait(page, lambda d: any(url.endswith("q=Arnavutluk") for url in
                             d.execute_script("return window.__kopruAnswered")),
         message="the autocomplete never showed the answer for 'Arnavutluk'")
    options = css_all(page, "#home-q-ac li")
    first = options[0]
    assert first.text.startswith("Albania"), [o.text for o in options]
    assert "Arnavutluk" in first.text and "(tr)" in first.text, first.text
    page.screenshot("home-autocomplete", full_page=False)
    # Keyboard: arrow down to the first option, Enter opens it.
    box.send_keys(Keys.ARROW_DOWN)
    assert first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    box.send_keys(Keys.ENTER)
    wait(page, lambda d: path_of(page).startswith("/id/albania"),
         message="Enter on the autocomplete option did not open Albania")
    wait(page, lambda d: css(page, "h1").text == "Albania")
    assert not page_errors(page), page_errors(page)


def test_search_results_page_lists_albania(page):
    open_page(page, "/")
    box = css(page, "header.site input[name=q]")
    box.send_keys("Arnavutluk")
    css(page, "header.site form.search button[type=submit]").click()
    wait(page, lambda d: path_of(page).startswith("/search"))
    wait(page, lambda d: css_all(page, "ol.results li"))
    page.screenshot("search-arnavutluk")
    results = css_all(page, "ol.results li")
    first = results[0]
    assert first.find_element("css selector", "a").text == "Albania", [r.text for r in results]
    assert "Arnavutluk" in first.text          # says which name matched, and in what language
    assert "Arnavutluk" in css(page, "main").text
    assert_no_markup_shown(page)
    first.find_element("css selector", "a").click()
    wait(page, lambda d: css(page, "h1").text == "Albania",
         message="the search result did not open Albania's page")
    assert path_of(page).startswith("/id/albania")


# -- the entity page ---------------------------------------------------------------

def test_entity_page_albania_and_an_incoming_link(page):
    open_page(page, "/id/albania")
    assert path_of(page).startswith("/id/albania")
    assert css(page, "h1").text == "Albania"
    assert page.driver.title.startswith("Albania")
    assert "https://w3id.org/kopru/id/albania" in css(page, "p.iri").text
    page.screenshot("entity-albania")

    # Names panel: every label with its language.
    rows = page.driver.execute_script(
        "return Array.from(document.querySelectorAll('table.names tr'))"
        ".map(r => Array.from(r.querySelectorAll('td')).map(td => td.innerText.trim()))")
    names = {row[0]: row[1] for row in rows}
    assert names.get("Shqipëria") == "sq", names
    assert names.get("Arnavutluk") == "tr", names
    assert names.get("Albania") == "en", names

    # Link-out badges to the real pages.
    badges = {b.text: b.get_attribute("href") for b in css_all(page, "a.badge")}
    assert any(t.startswith("Wikidata") for t in badges), badges
    hrefs = set(badges.values())
    assert "https://www.wikidata.org/wiki/Q222" in hrefs, hrefs
    assert any(h.startswith("https://dbpedia.org/") for h in hrefs), hrefs
    assert any("geonames.org/" in h for h in hrefs), hrefs
    assert all(b.is_displayed() for b in css_all(page, "a.badge"))

    # Provenance: sentence ids under statements, linking into the source text.
    cites = cells(page, ".prov .cite a", "text", "href")
    assert cites, "no provenance sentence ids on Albania's page"
    ids = {text for text, _ in cites}
    assert all(re.fullmatch(r"S\d+", i) for i in ids), ids
    assert all("/source/article#S" in href for _, href in cites)
    assert "Source:" in css(page, ".prov .cite").text

    assert_no_markup_shown(page)
    assert not page_errors(page), page_errors(page)

    # Incoming links: the strategic partnership agreement, worded "party to".
    incoming = css(page, "#incoming")
    assert "party to" in incoming.text
    link = next((a for a in incoming.find_elements("css selector", ".incoming-list a")
                 if "strategic partnership" in a.text.lower()), None)
    assert link is not None, incoming.text[:2000]
    title = link.text
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    wait(page, lambda d: css(page, "h1").text == title,
         message=f"following the incoming link did not land on {title!r}")
    assert path_of(page).startswith("/id/turkiye-albania-strategic-partnership-agreement")
    page.screenshot("entity-strategic-partnership")
    # ... and that page links back to Albania.
    assert any(href.endswith("/id/albania")
               for href, in cells(page, "main a[href]", "href")), "no link back to Albania"
    assert_no_markup_shown(page)


def test_entity_page_in_turkish(page):
    open_page(page, "/id/albania?lang=tr")
    h1 = css(page, "h1")
    assert h1.text == "Arnavutluk"
    assert h1.get_attribute("lang") == "tr"
    assert page.driver.title.startswith("Arnavutluk")
    page.screenshot("entity-albania-tr")


# Every page at 390 px (home, entity, search among them):
# test_readers_browser.py::test_no_page_is_wider_than_the_screen.


# -- the SPARQL query UI -------------------------------------------------------------

def yasgui_ready(b: Browser) -> bool:
    return bool(b.driver.execute_script(
        "return !!(window.Yasgui && document.querySelector('#yasgui .yasqe .CodeMirror'))"))


def result_rows(b: Browser):
    return css_all(b, "#yasgui .yasr table tbody tr")


def test_sparql_ui_runs_an_example(page):
    open_page(page, "/sparql")
    assert "SPARQL" in page.driver.title
    wait(page, lambda d: yasgui_ready(page), message="YASGUI did not load on /sparql")
    # Served from the project, nothing from a CDN.
    scripts = page.driver.execute_script(
        "return Array.from(document.scripts).map(s => s.src).filter(Boolean)"
        ".concat(Array.from(document.querySelectorAll('link[rel=stylesheet]')).map(l => l.href))")
    assert scripts and all(s.startswith(page.base) for s in scripts), scripts
    page.screenshot("sparql")

    examples = css_all(page, "#examples button.example")
    assert len(examples) >= 10, "the queries/ gallery is not offered as examples"
    ex = page.driver.execute_script(     # one round trip, not one per example
        "return Array.from(arguments[0]).find(b => b.innerText.includes(arguments[1]))",
        examples, "Agreements between Türkiye and Albania")
    assert ex is not None, "no example 'Agreements between Türkiye and Albania'"
    assert ex.find_element("css selector", "small").text     # its description shows
    ex.click()
    # The editor holds the example and the result table shows its rows.
    wait(page, lambda d: "Agreements between Türkiye and Albania" in d.execute_script(
        "return document.querySelector('#yasgui .CodeMirror').CodeMirror.getValue()"),
        message="clicking the example did not put its query in the editor")
    wait(page, lambda d: len(result_rows(page)) > 0,
         message="no result rows after running the example")
    rows = [r.text for r in result_rows(page)]
    table = "\n".join(rows)
    assert "strategic partnership" in table.lower(), table[:2000]
    assert "2021" in table, table[:2000]
    page.screenshot("sparql-results")
    errors = page_errors(page)
    assert not errors, errors


def test_sparql_ui_typed_query(page):
    from selenium.webdriver.common.keys import Keys

    open_page(page, "/sparql?query=" + urllib.request.quote("SELECT * WHERE { ?s ?p ?o } LIMIT 1"))
    wait(page, lambda d: yasgui_ready(page), message="YASGUI did not load on /sparql")
    # Short: each key typed is a round trip through the browser.
    query = ("SELECT ?l { <https://w3id.org/kopru/id/albania> "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?l }")
    # Type into the editor as a person would: select all, type, Ctrl+Enter runs.
    css(page, "#yasgui .CodeMirror").click()
    editor = css(page, "#yasgui .CodeMirror textarea")
    editor.send_keys(Keys.CONTROL, "a")
    editor.send_keys(Keys.DELETE)
    editor.send_keys(query)
    typed = page.driver.execute_script(
        "return document.querySelector('#yasgui .CodeMirror').CodeMirror.getValue()")
    assert typed == query, f"the editor holds {typed!r}"
    editor.send_keys(Keys.CONTROL, Keys.ENTER)
    wait(page, lambda d: any("Shqipëria" in r.text for r in result_rows(page)),
         message="typed query: no row with Shqipëria")
    assert any("Arnavutluk" in r.text for r in result_rows(page))
    page.screenshot("sparql-typed")


def test_sparql_ui_on_a_phone(page):
    """At 390 px the editor, its run button and the result table stay within
    the screen (a wide table scrolls inside its own box, not the page)."""
    page.resize(*PHONE)
    open_page(page, "/sparql?example=agreements-with-albania&run=1")
    wait(page, lambda d: yasgui_ready(page), message="YASGUI did not load on /sparql")
    wait(page, lambda d: len(result_rows(page)) == 2,
         message="/sparql?example=…&run=1 did not show the example's two rows")
    page.screenshot("sparql-phone")
    run = css(page, "#yasgui .yasqe_queryButton")
    right = page.driver.execute_script("return arguments[0].getBoundingClientRect().right", run)
    assert right <= PHONE[0], f"the run button is off screen (right edge at {right:.0f} px)"
    assert_fits_phone(page, "sparql")


# -- views -----------------------------------------------------------------------------

def route_exists(base: str, path: str) -> bool:
    req = urllib.request.Request(base + path, headers={"Accept": "text/html"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status == 200
    except urllib.error.HTTPError:
        return False


def svg_texts(b: Browser, selector: str = "main svg") -> list[str]:
    return b.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0] + ' text'))"
        ".map(t => t.textContent.trim())", selector)


def test_timeline_view(page):
    if not route_exists(page.base, "/timeline"):
        pytest.skip("no /timeline route in this build of the server yet")
    open_page(page, "/timeline")
    wait(page, lambda d: css_all(page, "main svg"), message="/timeline has no SVG")
    svg = css_all(page, "main svg")[0]
    size = svg.size
    assert svg.is_displayed() and size["width"] > 200 and size["height"] > 50, size
    labels = [t for t in svg_texts(page) if re.fullmatch(r"(19|20)\d\d", t)]
    years = sorted({int(y) for y in labels})
    assert len(years) >= 3, f"year labels on the timeline: {labels}"
    assert years[0] >= 1990 and years[-1] <= 2030 and years[-1] - years[0] >= 10, years
    page.screenshot("timeline")
    assert_no_markup_shown(page)
    assert not page_errors(page), page_errors(page)
    assert_fits_phone(page, "timeline")
    # Each fact in the drawing links to its page: follow the 2021 agreement.
    link = next((a for a in css_all(page, "main svg a")
                 if "strategic partnership" in a.text.lower()), None)
    assert link is not None, "the timeline does not show the 2021 strategic partnership"
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", link)
    link.click()
    wait(page, lambda d: path_of(page).startswith(
        "/id/turkiye-albania-strategic-partnership-agreement"),
        message="clicking the agreement on the timeline did not open its page")
    assert "strategic partnership" in css(page, "h1").text


VIEWS = [
    # (path, screenshot name, a text the drawing must show)
    ("/trade", "trade", "USD 919.5 million"),
    ("/map", "map", "Tirana"),
    ("/id/albania/network", "network-albania", "Tirana"),
]


@pytest.mark.parametrize("path,name,expect", VIEWS, ids=[v[1] for v in VIEWS])
def test_view_draws_an_svg(page, path, name, expect):
    if not route_exists(page.base, path):
        pytest.skip(f"no {path} route in this build of the server yet")
    open_page(page, path)
    wait(page, lambda d: css_all(page, "main svg"), message=f"{path} has no SVG")
    svg = css_all(page, "main svg")[0]
    assert svg.is_displayed() and svg.size["width"] > 200 and svg.size["height"] > 100, svg.size
    texts = svg_texts(page)
    assert any(expect in t for t in texts), f"{path}: {expect!r} not drawn; texts: {texts[:40]}"
    assert not any(re.search(r"&(?:lt|gt|amp|quot|#\d+);|</?[a-z]+[ >]", t) for t in texts), texts
    page.screenshot(name)
    assert_no_markup_shown(page)
    assert not page_errors(page), page_errors(page)
    assert_fits_phone(page, name)
