"""Entity pages, home, search, browse and the ontology page, through the
test client: the page fixture project (`pages_client` as `site`), and the
shipped graph (`client`) where it has the data."""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from pathlib import Path

import pytest
from helpers import get, html_page


@pytest.fixture
def site(pages_client):
    return pages_client


def title_of(text: str) -> str:
    m = re.search(r"<h1[^>]*>(.*?)</h1>", text, re.S)
    return html.unescape(m.group(1)).strip()


def jsonld_of(text: str) -> dict:
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    return json.loads(m.group(1))


# --- the entity page ----------------------------------------------------------------

def test_title_follows_lang_parameter_and_accept_language(site):
    assert title_of(html_page(site, "/id/testonia.html")) == "Testonia"
    assert title_of(html_page(site, "/id/testonia.html?lang=tr")) == "Testoniya"
    assert title_of(html_page(site, "/id/testonia.html?lang=sq")) == "Testonië"
    assert title_of(html_page(site, "/id/testonia.html?lang=de")) == "Testonia"      # English fallback
    assert title_of(html_page(site, "/id/testonia.html", Accept_Language="tr-TR,tr;q=0.9,en;q=0.5")) \
        == "Testoniya"
    assert title_of(html_page(site, "/id/testonia.html", Accept_Language="sr, sq;q=0.8")) == "Testonië"
    # Hubland has no Albanian name: English.
    assert title_of(html_page(site, "/id/test-hub.html?lang=sq")) == "Hubland"


def test_names_panel_lists_every_label_with_its_language(site):
    text = html_page(site, "/id/testonia.html")
    names = text[text.index('id="h-names"'):]
    for label, lang in (("Testonia", "en"), ("Testoniya", "tr"), ("Testonië", "sq")):
        assert f'<td lang="{lang}">{label}</td>' in names


def test_types_asserted_and_inferred(site):
    text = html_page(site, "/id/test-agreement.html")
    types = text[text.index('aria-label="Types"'):text.index("</ul>", text.index('aria-label="Types"'))]
    assert re.search(r'class="asserted-type"><a href="/ontology#StrategicPartnershipAgreement">', types)
    assert re.search(r'class="inferred-type"><a href="/ontology#Agreement">', types)


def test_values_escaped(site):
    text = html_page(site, "/id/test-script.html")
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Sons" in text
    # …also where it appears as a linked label, in a summary, and in the JSON-LD.
    agreement = html_page(site, "/id/test-agreement.html")
    assert "<script>alert" not in agreement and "<b>bold</b>" not in agreement
    assert "&lt;b&gt;bold&lt;/b&gt;" in agreement
    assert jsonld_of(text)["name"] == "<script>alert('x')</script> & Sons"


def test_fact_page_money_years_provenance(site):
    text = html_page(site, "/id/test-agreement.html")
    assert "USD 919.5 million" in text
    assert ">2019</a>" in text
    assert "S21" in text and "(¶5)" in text and 'href="/source/article#S21"' in text
    assert "A test agreement between Testonia and Hubland" in text
    # Linked entities by label, mapped onto this server.
    assert re.search(r'<a href="/id/testonia"[^>]*>Testonia</a>', text)
    # Query this entity.
    m = re.search(r'href="(/sparql\?query=[^"]+)"', text)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(html.unescape(m.group(1))).query)["query"][0]
    assert "<https://w3id.org/kopru/id/test-agreement>" in query
    r = get(site, "/sparql?" + urllib.parse.urlencode({"query": query}),
            accept="application/sparql-results+json")
    assert r.status_code == 200 and r.get_json()["results"]["bindings"]


def test_claims_are_marked_as_someones_view(site):
    text = html_page(site, "/id/test-claim.html")
    assert "Attributed claim" in text and 'class="claim-banner"' in text
    assert "Test observers (unnamed)" in text
    hub = html_page(site, "/id/test-hub.html")
    assert 'class="prov claim"' in hub and "Test observers say Hubland is a hub." in hub


def test_incoming_links_inverse_wording_counts_and_paging(site):
    first = html_page(site, "/id/test-hub.html")
    assert "Links to this entity <small>(62)</small>" in first
    counts = first[first.index('class="counts"'):first.index("</ul>", first.index('class="counts"'))]
    assert re.search(r"recipient of <span class=\"count\">60</span>", counts)
    assert re.search(r"party to <span class=\"count\">1</span>", counts)  # owl:inverseOf wording
    rows = re.findall(r'<li><span class="wording">', first)
    assert len(rows) == 50
    assert "page 1 of 2" in first and 'href="?in=2#incoming"' in first
    second = html_page(site, "/id/test-hub.html?in=2")
    assert len(re.findall(r'<li><span class="wording">', second)) == 12
    assert "Test support 60" in first + second
    both = set(re.findall(r'href="/id/(test-support-\d\d)"', first + second))
    assert len(both) == 60


def test_inverse_of_asserted_link_is_not_duplicated(site):
    # Testonia's party-to link is entailed from the agreement's kop:party: it is
    # shown once, under incoming links, with the inverse's wording.
    text = html_page(site, "/id/testonia.html")
    incoming = text[text.index('id="incoming"'):]
    outgoing = text[:text.index('id="incoming"')]
    assert "/id/test-agreement" in incoming and "/id/test-agreement" not in outgoing


def test_link_out_badges_coordinates_and_jsonld(site):
    text = html_page(site, "/id/testonia.html")
    assert 'href="https://www.wikidata.org/wiki/Q4115189"' in text
    assert "44.7758° N, 17.1856° E" in text
    doc = jsonld_of(text)
    assert doc["@type"] == "Country" and doc["name"] == "Testonia"
    assert "http://www.wikidata.org/entity/Q4115189" in doc["sameAs"]
    assert "Testoniya" in doc["alternateName"]


def test_code_list_concept_page(site):
    text = html_page(site, "/id/sector-trade.html")
    assert "<h1" in text


# --- home, search, browse, ontology --------------------------------------------------

def test_home(site):
    text = html_page(site, "/")
    assert 'id="fig-asserted"' in text and 'id="fig-entailed"' in text
    assert 'href="/browse/Country"' in text and 'action="/search"' in text
    assert 'href="/.well-known/void"' in text


@pytest.mark.parametrize("q", ["testonia", "TESTONIYA", "testonie", "Testonië", "toni"])
def test_search_any_language_case_and_accents(site, q):
    r = get(site, "/search?" + urllib.parse.urlencode({"q": q}), accept="application/json")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    results = r.get_json()["results"]
    assert results[0]["iri"] == "https://w3id.org/kopru/id/testonia"
    assert results[0]["href"] == "/id/testonia"


def test_search_html_and_escaping(site):
    text = html_page(site, "/search?q=%3Cscript%3E")
    assert "<script>alert" not in text
    assert '/id/test-script"' in text
    assert "&lt;script&gt;" in text
    assert "Hubülke" in html_page(site, "/search?q=hubulke")


def test_search_js_is_served(site):
    r = get(site, "/static/search.js")
    assert r.status_code == 200 and b"?limit=" in r.data


def test_browse_by_class_with_paging(site):
    text = html_page(site, "/browse/Support")
    assert "page 1 of 2" in text
    assert len(re.findall(r'<li><a href="/id/test-support-', text)) == 50
    text2 = html_page(site, "/browse/Support?page=2")
    assert len(re.findall(r'<li><a href="/id/test-support-', text2)) == 10
    assert get(site, "/browse/NoSuchClass", accept="text/html").status_code == 404


def test_ontology_page_documents_terms(site):
    text = html_page(site, "/ontology")
    country = text[text.index('id="Country"'):text.index("</section>", text.index('id="Country"'))]
    assert "Instances" in country and 'href="/browse/Country"' in country
    party = text[text.index('id="party"'):text.index("</section>", text.index('id="party"'))]
    assert "Domain" in party and "Inverse" in party and "#partyTo" in party
    assert "SHACL constraints" in text


def test_the_ontology_and_source_pages_are_each_requests_own_when_kept(site):
    """Both are rendered once per build and kept: asked again, in another
    language or at another address, each answer is still that request's."""
    for path in ("/ontology", "/source/article"):
        en, tr = html_page(site, path), html_page(site, path + "?lang=tr")
        assert '<html lang="en">' in en and '<html lang="tr">' in tr, path
        assert html_page(site, path) == en and html_page(site, path + "?lang=tr") == tr
        dotted = html_page(site, path + ".html")
        assert f'href="{path}.html?lang=tr"' in dotted and f'href="{path}?lang=tr"' in en


# --- the shipped graph ----------------------------------------------------------------

@pytest.mark.parametrize("q,slug", [("Arnavutluk", "albania"), ("Shqipëri", "albania"),
                                    ("shqiperi", "albania"), ("albania", "albania")])
def test_search_shipped_graph(client, q, slug):
    r = get(client, "/search?" + urllib.parse.urlencode({"q": q}),
            accept="application/json")
    results = r.get_json()["results"]
    if not any(x["iri"].endswith("/id/" + slug) for x in
               get(client, "/search?q=" + slug, accept="application/json").get_json()["results"]):
        pytest.skip(f"id:{slug} is not in the shipped graph yet")
    assert any(x["iri"] == "https://w3id.org/kopru/id/" + slug for x in results[:3]), results


def test_shipped_trade_flow_money(client):
    r = get(client, "/id/turkish-exports-to-albania-last-year.html")
    if r.status_code == 404:
        pytest.skip("the shipped graph has no trade flow to Albania yet")
    assert "USD 919.5 million" in r.text


# --- the entity page in words people read: inverse wording, roll-ups, Turkish ----------

def main_of(text: str) -> str:
    return text[text.index('<main id="main">'):text.index("</main>")]


def incoming_of(text: str) -> str:
    return text[text.index('id="incoming"'):text.index("</section>", text.index('id="incoming"'))]


def statements_outside_inferred_blocks(text: str) -> str:
    """The entity page's main statement lists, without the collapsed
    "Inferred" blocks and without the incoming links."""
    body = text[text.index('class="columns"'):text.index('id="incoming"')]
    return re.sub(r'<details class="inferred-block">.*?</details>', "", body, flags=re.S)


def shipped_page(client, path: str, **headers) -> str:
    r = get(client, path, accept="text/html", **headers)
    if r.status_code == 404:
        pytest.skip(f"{path} is not in the shipped graph")
    assert r.status_code == 200, (path, r.status_code)
    return r.text


def test_albania_incoming_links_read_as_inverse_phrases(client):
    text = shipped_page(client, "/id/albania.html")
    incoming = html.unescape(incoming_of(text))
    assert "referred to as" not in text
    # Properties with owl:inverseOf use the inverse's label; the others
    # their kop:inverseLabel.
    for wording in ("party to", "location of", "has majority community", "contains"):
        assert re.search(rf'<span class="wording">[^<]*\b{wording}\b', incoming), wording
    counts = incoming[incoming.index('class="counts"'):incoming.index("</ul>")]
    assert re.search(r"location of <span class=\"count\">\d+</span>", counts)
    # Roll-ups that only restate a more specific link are not counted.
    for rollup in ("actor in", "involved in", "place of", "trade partner in"):
        assert f"{rollup} <span" not in counts, rollup


def test_no_geosparql_labels_or_rollups_in_the_main_lists(client):
    for slug in ("albania", "banja-luka", "turkiye", "tika"):
        text = shipped_page(client, f"/id/{slug}.html")
        assert "(simple features)" not in text, slug
        assert "basit nesneler" not in shipped_page(client, f"/id/{slug}.html?lang=tr"), slug
    # The agreement's parties: kop:party in the main list; sem:hasActor, the
    # roll-up the closure adds for the same two states, only in the collapsed block.
    text = shipped_page(client, "/id/turkiye-albania-strategic-partnership-agreement.html")
    main = statements_outside_inferred_blocks(text)
    assert 'href="/ontology#party"' in main
    assert "semanticweb.cs.vu.nl/2009/11/sem/hasActor" not in main
    assert "semanticweb.cs.vu.nl/2009/11/sem/hasActor" in text     # …kept under "Inferred"
    # Banja Luka's containing country is a place here, not an actor.
    city = shipped_page(client, "/id/banja-luka.html")
    places = city[city.index('id="group-places"'):city.index("</section>", city.index('id="group-places"'))]
    assert 'href="/ontology#within"' in places and 'href="/id/bosnia-and-herzegovina"' in places


def test_albania_in_turkish(client):
    text = shipped_page(client, "/id/albania.html?lang=tr")
    assert '<html lang="tr">' in text
    assert title_of(text) == "Arnavutluk"
    main = main_of(text)
    for heading in ("Yerler", "Ayrıntılar", "Bu varlığa bağlantılar", "Adlar", "Başka kaynaklarda"):
        assert re.search(rf"<h2[^>]*>{heading}\b", main), heading
    for english in (">Places<", ">Details<", "Links to this entity", ">Names<", ">Elsewhere<",
                    "Query this entity", ">Comment<", ">inferred<"):
        assert english not in main, english
    # Class and property labels in Turkish (kop:State "Devlet"; foaf:Agent,
    # geo:Feature and org:Organization from ontology/external.ttl).
    types = main[main.index('class="types"'):main.index("</ul>", main.index('class="types"'))]
    assert '<a href="/ontology#State">Devlet</a>' in types
    for label in ("Fail", "Coğrafi nesne", "Kuruluş"):
        assert f">{label}</a>" in types, label
    assert ">içinde</a>" in main                                   # kop:within
    incoming = incoming_of(text)
    assert "tarafı olduğu" in incoming and "burada bulunan" in incoming
    # The site's own words too, and the switch back to English.
    assert ">Göz at</a>" in text and 'placeholder="Ara: ' in text
    assert 'href="/id/albania.html?lang=en"' in text


def test_turkish_from_accept_language_and_english_fallback(client):
    text = shipped_page(client, "/id/albania.html", Accept_Language="tr-TR,tr;q=0.9")
    assert '<html lang="tr">' in text and "Bu varlığa bağlantılar" in text
    # Albanian: the title is Albanian, the UI (no Albanian strings) English.
    text = shipped_page(client, "/id/albania.html?lang=sq")
    assert title_of(text).startswith("Shqipëri")
    assert '<html lang="en">' in text and "Links to this entity" in text


def test_turkish_money_and_views(client):
    text = shipped_page(client, "/id/turkish-exports-to-albania-last-year.html?lang=tr")
    assert "919,5 milyon USD" in text
    assert "USD 919.5 million" in shipped_page(client, "/id/turkish-exports-to-albania-last-year.html")
    for path, heading in (("/", "Temel rakamlar"), ("/timeline", "Tarihli olgular"),
                          ("/ontology", "Sınıf hiyerarşisi"), ("/browse", "Sınıfa göre göz at"),
                          ("/search?q=arnavut", "“arnavut” için")):
        page_text = shipped_page(client, path + ("&" if "?" in path else "?") + "lang=tr")
        assert '<html lang="tr">' in page_text and heading in page_text, path


def test_every_ui_string_has_a_turkish_translation():
    from server.web.pages import entity, ontology_docs, routes_site
    from server.web.pages.labels import UI_TR

    templates = sorted((Path(__file__).resolve().parent.parent / "server" / "web"
                        / "templates").glob("*.html"))
    assert len(templates) > 10         # the check reads the real templates
    keys = set()
    for path in templates:
        if path.name == "sparql.html":
            continue
        text = path.read_text(encoding="utf-8")
        keys.update(m.group(2) for m in re.finditer(r'''\b_\(\s*(["'])(.*?)\1''', text))
        # the second choice of _("…" if … else "…")
        alternative = r'''_\(\s*["'][^"']*["']\s+if [^)]*? else\s+(["'])(.*?)\1'''
        keys.update(m.group(2) for m in re.finditer(alternative, text))
    keys.update(entity.GROUP_TITLES.values())
    keys.update(t for t, _ in routes_site.ENTRY_POINTS)
    keys.update(ontology_docs.PROPERTY_KINDS.values())
    keys.update(ontology_docs.CHARACTERISTICS.values())
    missing = sorted(k for k in keys if k not in UI_TR)
    assert not missing, missing


def test_ontology_words_every_property_from_both_sides():
    """Every object property has a named inverse or a kop:inverseLabel in
    English and Turkish (external ones: render.EXTERNAL_INVERSE_LABELS), and
    every class and property has a Turkish label."""
    import rdflib
    from rdflib.namespace import OWL, RDF, RDFS

    from server.web.pages.render import EXTERNAL_INVERSE_LABELS

    root = Path(__file__).resolve().parent.parent / "ontology"
    g = rdflib.Graph()
    g.parse(root / "kopru.ttl")
    g.parse(root / "external.ttl")
    kop = rdflib.Namespace("https://w3id.org/kopru/ontology#")
    unworded = []
    for p in set(g.subjects(RDF.type, OWL.ObjectProperty)):
        if (p, OWL.inverseOf, None) in g or (None, OWL.inverseOf, p) in g:
            continue
        langs = {lit.language for lit in g.objects(p, kop.inverseLabel)}
        if str(p).startswith(str(kop)):
            if not {"en", "tr"} <= langs:
                unworded.append(str(p))
        elif str(p) not in EXTERNAL_INVERSE_LABELS:
            unworded.append(str(p))
    assert not unworded, unworded
    terms = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, OWL.ObjectProperty)) \
        | set(g.subjects(RDF.type, OWL.DatatypeProperty)) | set(g.subjects(RDF.type, OWL.AnnotationProperty))
    untranslated = [str(t) for t in terms if isinstance(t, rdflib.URIRef)
                    and "tr" not in {lit.language for lit in g.objects(t, RDFS.label)}]
    assert not untranslated, untranslated


# --- templates compiled once per process -------------------------------------------

def test_apps_of_one_process_share_compiled_templates_but_never_a_stale_one():
    """COMPILED_TEMPLATES (server/web/caching.py) gives a second app the
    templates the first compiled; a template whose text changed in between
    is compiled again, never served as it was."""
    import jinja2

    from server.web.caching import COMPILED_TEMPLATES

    compiled: list[str] = []

    class Counting(jinja2.Environment):
        def _compile(self, source, filename):
            compiled.append(filename)
            return super()._compile(source, filename)

    def render(text: str) -> str:
        env = Counting(loader=jinja2.DictLoader({"kopru-test.html": text}),
                       bytecode_cache=COMPILED_TEMPLATES)
        return env.get_template("kopru-test.html").render(n=1)

    assert render("first {{ n }}") == "first 1"
    assert render("first {{ n }}") == "first 1"
    assert len(compiled) == 1                        # the second app compiled nothing
    assert render("edited {{ n }}") == "edited 1"    # the changed text is compiled
    assert len(compiled) == 2

    # apps in threads at once, each with its own text under the one name:
    # each renders its own, whatever the others put in the cache meanwhile
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"version {i} {{{{ n }}}}" for i in range(8)] * 4
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(render, texts)) == [t.replace("{{ n }}", "1") for t in texts]
