"""The views — timeline, trade chart, network, map — through the test
client: the shipped graph (`client`), and escaping through an app of its own
over a small fixture project whose labels carry markup.

Each view is an HTML page with the SVG inline and a .svg URL with the
drawing alone; the SVG must be well-formed XML either way.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from helpers import build_project, get, html_page, make_shipped_ontology_project

SVG = "{http://www.w3.org/2000/svg}"
VIEWS = ["/timeline", "/trade", "/map", "/id/albania/network"]


def inline_svg(text: str) -> ET.Element:
    """The first <svg>…</svg> of a page, parsed as XML."""
    start, end = text.index("<svg"), text.index("</svg>") + len("</svg>")
    return ET.fromstring(text[start:end])


def svg_doc(client, path: str) -> ET.Element:
    r = get(client, path)
    assert r.status_code == 200, (path, r.status_code, r.text[:500])
    assert r.headers["Content-Type"].startswith("image/svg+xml"), r.headers["Content-Type"]
    root = ET.fromstring(r.data)
    assert root.tag == SVG + "svg"
    return root


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(SVG + "g") if cls in (g.get("class") or "").split()]


def all_text(el: ET.Element) -> str:
    return " ".join(" ".join(t.itertext()) for t in el.iter(SVG + "text"))


def hrefs(el: ET.Element) -> set[str]:
    return {a.get("href") for a in el.iter(SVG + "a")}


# --- the shipped graph ----------------------------------------------------------------

@pytest.mark.parametrize("path", VIEWS)
def test_view_is_html_with_inline_svg_and_a_standalone_svg(client, path):
    text = html_page(client, path)
    root = inline_svg(text)
    assert root.tag == SVG + "svg" and root.find(SVG + "title") is not None
    alone = svg_doc(client, path + ".svg")
    assert ET.tostring(alone) == ET.tostring(root)
    # No script, no external resource: everything is drawn here.
    assert not list(root.iter(SVG + "script")) and not list(root.iter(SVG + "image"))
    assert "http://" not in " ".join(h for h in hrefs(root) if h and not h.startswith("/"))


def test_views_are_deterministic(built_project, make_app):
    # Workers draw independently (apps that share no cache): the same graph
    # gives the same bytes.
    clients = [make_app(*built_project).test_client() for _ in range(3)]
    for path in ("/timeline.svg", "/map.svg", "/id/turkiye/network.svg"):
        bodies = {get(c, path).data for c in clients}
        assert len(bodies) == 1, path


def test_timeline_years_and_the_relative_lane(client):
    root = inline_svg(html_page(client, "/timeline"))
    dated = groups(root, "kv-dated")[0]
    years = {g.get("data-year") for g in groups(dated, "kv-item")}
    assert {"1992", "1996", "2008", "2021", "2024"} <= years
    assert "2021" in all_text(groups(root, "kv-axis")[0])
    by_year = {g.get("data-year"): all_text(g) for g in groups(dated, "kv-item")}
    assert "strategic partnership" in by_year["2021"]
    # "Last year" facts are in a lane of their own, with no year, and not on the axis.
    lanes = groups(root, "kv-lane-relative")
    assert len(lanes) == 1
    lane = lanes[0]
    assert "Undated" in all_text(lane) and "year before the article" in all_text(lane)
    assert "MKE–Kosovo ammunition factory agreement" in all_text(lane)
    assert {g.get("data-year") for g in groups(lane, "kv-item")} == {"none"}
    assert "/id/mke-kosovo-ammunition-factory-agreement" in hrefs(lane)
    assert "MKE–Kosovo" not in all_text(dated)
    assert "/id/mke-kosovo-ammunition-factory-agreement" not in hrefs(dated)
    # Every item links to its entity page.
    for g in groups(root, "kv-item"):
        assert any(h.startswith("/id/") for h in hrefs(g)), all_text(g)


def test_timeline_page_lists_the_same_facts(client):
    text = html_page(client, "/timeline")
    for year in ("1992", "1996", "2008", "2021", "2024"):
        assert f'<tr data-year="{year}">' in text
    lane = text[text.index('class="relative-lane"'):]
    assert "MKE–Kosovo ammunition factory agreement" in lane
    assert re.search(r'<li data-year="none"><a href="/id/mke-kosovo-ammunition-factory-agreement"', lane)


def test_trade_chart_values_sorted_and_linked(client):
    root = inline_svg(html_page(client, "/trade"))
    bars = groups(root, "kv-bar")
    texts = [all_text(b) for b in bars]
    values = ["USD 919.5 million", "USD 791.5 million", "USD 712.4 million"]
    for v in values:
        assert any(v in t for t in texts), (v, texts)
    order = [next(i for i, t in enumerate(texts) if v in t) for v in values]
    assert order == sorted(order)                       # largest first
    assert [float(b.get("data-value")) for b in bars] == sorted(
        (float(b.get("data-value")) for b in bars), reverse=True)
    assert "/id/turkish-exports-to-albania-last-year" in hrefs(root)
    assert "Albania" in texts[0]


def test_network_of_albania(client):
    root = inline_svg(html_page(client, "/id/albania/network"))
    links = hrefs(root)
    assert "/id/turkiye-albania-strategic-partnership-agreement" in links
    assert "/id/turkiye-albania-strategic-partnership-agreement/network" in links
    assert "/id/albania" in links                        # the centre
    centre = groups(root, "kv-centre")[0]
    assert "Albania" in all_text(centre)
    node = next(g for g in groups(root, "kv-node")
                if "/id/turkiye-albania-strategic-partnership-agreement" in hrefs(g))
    assert node.get("data-direction") == "in" and "party to" in all_text(node)
    # Asserted links by default; the closure's on request.
    inferred = inline_svg(html_page(client, "/id/albania/network?inferred=1"))
    assert len(groups(inferred, "kv-node")) >= len(groups(root, "kv-node"))


def test_network_of_an_unknown_entity_is_404(client):
    assert get(client, "/id/no-such-thing/network", accept="text/html").status_code == 404
    assert get(client, "/id/Bad_Slug/network", accept="text/html").status_code == 404


def test_map_has_the_four_cities_and_says_it_is_schematic(client):
    text = html_page(client, "/map")
    assert "schematic" in text.lower()
    root = inline_svg(text)
    places = groups(root, "kv-places")[0]
    for city, slug in (("Tirana", "tirana"), ("Sarajevo", "sarajevo"), ("Belgrade", "belgrade"),
                       ("Banja Luka", "banja-luka")):
        assert city in all_text(places) and f"/id/{slug}" in hrefs(places)
    # The graticule is labelled, and the frame is lon 13–24, lat 39–47.
    grid = all_text(groups(root, "kv-graticule")[0])
    for label in ("13°E", "24°E", "39°N", "47°N"):
        assert label in grid
    # Projects in a city or a country: the Banja Luka mosques, the peace highway.
    assert "/id/banja-luka-mosque-repairs" in hrefs(groups(root, "kv-markers")[0])
    assert "/id/sarajevo-belgrade-highway" in hrefs(groups(root, "kv-routes")[0])


def test_entity_pages_link_the_views(client):
    city = html_page(client, "/id/banja-luka.html")
    side = city[city.index('id="h-coords"'):]
    mini = inline_svg(side)
    assert "Banja Luka" in all_text(mini)
    assert 'href="/map"' in side
    albania = html_page(client, "/id/albania.html")
    assert 'href="/id/albania/network"' in albania
    assert 'id="h-coords"' not in albania               # no coordinates, no map
    home = html_page(client, "/")
    for path in ("/timeline", "/trade", "/map"):
        assert f'href="{path}"' in home
        assert f'href="{path}"' in home[:home.index("</header>")]   # the nav


def test_region_outline_is_shipped(client):
    r = get(client, "/static/region-outline.json")
    assert r.status_code == 200
    outline = json.loads(r.data)
    assert outline["frame"] == {"west": 13.0, "east": 24.0, "south": 39.0, "north": 47.0,
                                "step": 1.0}
    assert "approximate" in outline["note"]


# --- escaping: a fixture project whose labels carry markup ----------------------------

XSS_TTL = """\
@prefix kop: <https://w3id.org/kopru/ontology#> .
@prefix id: <https://w3id.org/kopru/id/> .
@prefix src: <https://w3id.org/kopru/source/article#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix time: <http://www.w3.org/2006/time#> .
@prefix schema: <http://schema.org/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .

id:article-publication a time:Instant ; rdfs:label "Publication of the source article"@en .
id:year-before-publication a time:ProperInterval ;
    rdfs:label "The year before the article's publication"@en ;
    time:before id:article-publication .
id:year-2003 a time:Instant ; rdfs:label "2003"@en ; time:inXSDgYear "2003"^^xsd:gYear .

id:albania a kop:State , kop:Country ; rdfs:label "Albania"@en .
id:xss-land a kop:State , kop:Country ; rdfs:label "<script>alert('land')</script> & Land"@en .
id:xss-city a kop:City ; rdfs:label "<b>Bold</b> City & \\"Quotes\\""@en ;
    kop:within id:albania ; geo:hasGeometry id:xss-city-point .
id:xss-city-point a geo:Geometry ; rdfs:label "City point"@en ;
    geo:asWKT "POINT(19.5 41.5)"^^geo:wktLiteral .

id:xss-dated a kop:StrategicPartnershipAgreement ;
    rdfs:label "<script>alert('dated')</script> pact"@en ;
    kop:party id:albania , id:xss-land ; kop:signedOn id:year-2003 ;
    kop:summary "A dated <i>test</i> agreement between the two."@en ; kop:statedIn src:S26 .
id:xss-relative a kop:DefenceIndustryAgreement ;
    rdfs:label "<img src=x onerror=alert(1)> relative deal"@en ;
    kop:party id:albania , id:xss-land ; kop:signedOn id:year-before-publication ;
    kop:summary "A test agreement signed in the year before publication."@en ; kop:statedIn src:S31 .
id:xss-flow a kop:TradeFlow ;
    rdfs:label "<script>alert('flow')</script> exports"@en ;
    kop:exporter id:xss-land ; kop:importer id:albania ;
    kop:tradeValue id:xss-flow-value ; kop:period id:year-before-publication ;
    kop:summary "Test exports worth some money in the year before."@en ; kop:statedIn src:S21 .
id:xss-flow-value a schema:MonetaryAmount ; rdfs:label "USD 123.5 million"@en ;
    schema:value 123500000.0 ; schema:currency "USD" .
id:xss-road a kop:RoadProject ;
    rdfs:label "<script>alert('road')</script> road"@en ; kop:locatedIn id:xss-city ;
    kop:summary "A test road in the test city."@en ; kop:statedIn src:S16 .
id:xss-airport a kop:AirportProject ;
    rdfs:label "Airport & <u>runway</u>"@en ; kop:locatedIn id:albania ;
    kop:summary "A test airport somewhere in Albania."@en ; kop:statedIn src:S18 .
"""

MARKUP = ["<script>alert", "<img src=x", "<b>Bold</b>", "<u>runway</u>", "<i>test</i>"]


@pytest.fixture(scope="module")
def xss_app(tmp_path_factory, make_app):
    root = tmp_path_factory.mktemp("views-site")
    project = make_shipped_ontology_project(root / "project", "zz-test-views.ttl", XSS_TTL)
    build_project(project, root / "state")
    return make_app(project, root / "state")


@pytest.fixture
def xss_client(xss_app):
    return xss_app.test_client()


def assert_escaped(body: str) -> None:
    for raw in MARKUP:
        assert raw not in body, raw


def no_markup_elements(root: ET.Element) -> None:
    tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
    assert not tags & {"script", "img", "b", "u", "i", "foreignObject", "image"}, tags


@pytest.mark.parametrize("path", ["/timeline", "/trade", "/map", "/id/xss-dated/network",
                                  "/id/xss-land/network", "/id/albania/network",
                                  "/id/xss-city.html"])
def test_labels_with_markup_are_text(xss_client, path):
    text = html_page(xss_client, path)
    assert_escaped(text)
    root = inline_svg(text)
    no_markup_elements(root)
    if not path.endswith(".html"):
        alone = get(xss_client, path + ".svg")
        assert alone.status_code == 200
        assert_escaped(alone.text)
        no_markup_elements(ET.fromstring(alone.data))


def test_markup_labels_round_trip_as_text(xss_client):
    timeline = inline_svg(html_page(xss_client, "/timeline"))
    assert "<script>alert('dated')</script> pact" in all_text(groups(timeline, "kv-dated")[0])
    lane = groups(timeline, "kv-lane-relative")[0]
    assert "<img src=x onerror=alert(1)> relative deal" in all_text(lane)
    text = html_page(xss_client, "/timeline")
    assert "&lt;script&gt;alert(&#39;dated&#39;)&lt;/script&gt; pact" in text

    trade = inline_svg(html_page(xss_client, "/trade"))
    titles = " ".join(t.text or "" for t in trade.iter(SVG + "title"))
    assert "<script>alert('flow')</script> exports" in titles
    assert "USD 123.5 million" in all_text(trade)

    world = inline_svg(html_page(xss_client, "/map"))
    assert '<b>Bold</b> City & "Quotes"' in all_text(groups(world, "kv-places")[0])
    markers = " ".join(t.text or "" for t in groups(world, "kv-markers")[0].iter(SVG + "title"))
    assert "<script>alert('road')</script> road" in markers
    assert "Airport & <u>runway</u>" in markers       # in Albania: drawn at its centre

    net = inline_svg(html_page(xss_client, "/id/xss-dated/network"))
    assert "<script>alert('land')</script> & Land" in " ".join(
        t.text or "" for t in net.iter(SVG + "title"))


def test_attribute_values_are_escaped(xss_client):
    # Quotes in a label end up in <title> text and in no attribute unescaped.
    text = html_page(xss_client, "/map")
    assert 'City & "Quotes"' not in text
    assert "City &amp; &#34;Quotes&#34;" in text or "City &amp; &quot;Quotes&quot;" in text
