"""Browsing, Datasette-style (issue 11, "Finding things"): the class tree,
facets that filter, sortable columns, CSV and JSON for every list, a class
name in any case, and a page past the end that is a 404. In-process."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

from helpers import html_page

ID = "https://w3id.org/kopru/id/"


def listed(text: str) -> list[str]:
    """The entity links of a browse list, in order."""
    block = re.search(r'<ol class="members".*?</ol>', text, re.S)
    return re.findall(r'<li><a href="(/id/[^"]+)"', block.group(0)) if block else []


def facet(text: str, key: str) -> dict[str, tuple[str, int]]:
    """A facet's values: text → (href, count)."""
    block = re.search(rf'data-facet="{key}">.*?</section>', text, re.S).group(0)
    return {t: (h.replace("&amp;", "&"), int(n)) for h, t, n in re.findall(
        r'<a href="([^"]+)"[^>]*>([^<]+)</a> <span class="count">(\d+)</span>', block)}


def folded(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I").casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def json_of(client, path: str) -> dict:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "application/json", (path, r.status_code)
    return r.get_json()


def test_the_class_tree_with_counts(client):
    text = html_page(client, "/browse")
    tree = re.search(r'<nav class="classes-tree".*?</nav>', text, re.S).group(0)
    # Agreement under Fact, the strategic partnership agreement under Agreement.
    fact = tree.index('href="/browse/Fact"')
    agreement = tree.index('href="/browse/Agreement"')
    spa = tree.index('href="/browse/StrategicPartnershipAgreement"')
    assert fact < agreement < spa
    assert re.search(r'href="/browse/Agreement">Agreement</a> <span class="count">6</span>', tree)
    body = json_of(client, "/browse.json")
    rows = {r["class"].rsplit("#", 1)[-1]: r for r in body["rows"]}
    assert rows["Agreement"]["instances"] == 6 and "ontology#Fact" in rows["Agreement"]["superclasses"]


def test_class_names_in_any_case(client):
    r = client.get("/browse/country?page=1", headers={"Accept": "text/html"})
    assert r.status_code == 301 and r.headers["Location"].endswith("/browse/Country?page=1")
    assert client.get("/browse/COUNTRY").status_code == 301
    assert client.get("/browse/Country").status_code == 200
    assert client.get("/browse/NoSuchClass", headers={"Accept": "text/html"}).status_code == 404


def test_a_page_past_the_end_is_not_found(client):
    assert client.get("/browse/Fact?page=2").status_code == 200            # 76 facts, 50 a page
    for page in ("3", "99", "0", "-1", "x"):
        r = client.get(f"/browse/Fact?page={page}", headers={"Accept": "text/html"})
        assert r.status_code == 404, page
        assert "There is no page" in r.get_data(as_text=True)


def test_rows_show_name_kind_year_and_summary(client):
    text = html_page(client, "/browse/Agreement")
    row = re.search(r'<li><a href="/id/turkiye-albania-strategic-partnership-agreement".*?</li>',
                    text, re.S).group(0)
    assert "Strategic partnership agreement" in row and "2021" in row
    assert "strategic partnership" in re.search(r'class="col-summary"[^>]*>([^<]*)', row).group(1)


def test_year_facet_filters(client):
    text = html_page(client, "/browse/Fact")
    years = facet(text, "year")
    assert years["2021"][1] >= 1 and years["1992"][1] >= 1
    href, n = years["2021"]
    filtered = html_page(client, href)
    assert len(listed(filtered)) == n
    assert "/id/turkiye-albania-strategic-partnership-agreement" in listed(filtered)
    # The filter in force is a chip that removes it.
    chip = re.search(r'<a class="chip" href="([^"]+)"[^>]*>Year: 2021', filtered)
    assert chip and len(listed(html_page(client, chip.group(1).replace("&amp;", "&")))) == 50


def test_actor_and_country_facets_combine(client):
    text = html_page(client, "/browse/Agreement")
    actors = facet(text, "actor")
    assert "Albania" in actors and "Türkiye" in actors
    albania = html_page(client, actors["Albania"][0])
    assert len(listed(albania)) == actors["Albania"][1]
    both = json_of(client, "/browse/Agreement.json?actor=albania&year=1992")
    assert [r["iri"] for r in both["rows"]] == [ID + "turkiye-albania-defence-cooperation-pact-1992"]
    countries = facet(html_page(client, "/browse/Project"), "country")
    assert "Bosnia and Herzegovina" in countries


def test_sentence_and_sector_facets(client):
    text = html_page(client, "/browse/Fact")
    sentences = facet(text, "sentence")
    assert re.fullmatch(r"S\d\d", next(iter(sentences)))
    s21 = json_of(client, "/browse/Fact.json?sentence=S21")
    assert s21["total"] >= 3 and all("exports" in r["name"].lower() or "trade" in r["name"].lower()
                                     for r in s21["rows"]), s21["rows"]
    assert facet(html_page(client, "/browse/Project"), "sector")


def test_sortable_columns(client):
    names = [r["name"] for r in json_of(client, "/browse/Fact.json")["rows"]]
    assert names == sorted(names, key=folded) and len(set(names)) > 40
    assert [r["name"] for r in json_of(client, "/browse/Fact.json?sort=-name")["rows"]] == names[::-1]
    body = json_of(client, "/browse/Agreement.json?sort=year")
    years = [r["year"] for r in body["rows"] if r["year"]]
    assert years == sorted(years) and years[0] == "1992"
    body = json_of(client, "/browse/Agreement.json?sort=-year")
    dated = [r["year"] for r in body["rows"] if r["year"]]
    assert dated == sorted(dated, reverse=True)
    assert not body["rows"][-1]["year"] or all(r["year"] for r in body["rows"])   # undated last
    text = html_page(client, "/browse/Agreement?sort=year")
    assert 'href="/browse/Agreement?sort=-year"' in text      # the column header flips it


def test_csv_and_json_are_the_list(client):
    text = html_page(client, "/browse/Fact?page=1")
    body = json_of(client, "/browse/Fact.json")
    assert body["total"] == 76 and len(body["rows"]) == 76
    assert [r["iri"].replace("https://w3id.org/kopru", "") for r in body["rows"][:50]] == listed(text)
    r = client.get("/browse/Fact.csv?year=2021")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert rows and all(row["year"] == "2021" for row in rows)
    assert "Download:" in text and 'href="/browse/Fact.csv"' in text and 'href="/browse/Fact.json"' in text


def test_subclasses_are_listed_with_counts(client):
    text = html_page(client, "/browse/Project")
    kinds = re.search(r'data-facet="kind">.*?</section>', text, re.S).group(0)
    assert re.search(r'href="/browse/TransportProject">Transport project</a> <span class="count">7</span>',
                     kinds)


def test_every_class_list_has_as_many_rows_as_the_tree_says(client):
    for row in json_of(client, "/browse.json")["rows"]:
        name = row["class"].rsplit("#", 1)[-1]
        assert json_of(client, f"/browse/{name}.json")["total"] == row["instances"], name
