"""Search as a reader uses it (issue 11, "Finding things"): whole words from
their start, accents and case ignored, true totals and paging, "did you
mean" for a typo, summaries searched, technical nodes left out, and a JSON
(and CSV) twin with the same results. The shipped graph, in-process."""

from __future__ import annotations

import csv
import html
import io
import re

ID = "https://w3id.org/kopru/id/"


def found(client, q: str, **args) -> dict:
    r = client.get("/search", query_string={"q": q, **args}, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.data[:300]
    return r.get_json()


def iris(body: dict) -> list[str]:
    return [r["iri"] for r in body["results"]]


def test_words_match_from_their_start_not_inside_words(client):
    body = found(client, "tika")
    assert ID + "tika" in iris(body)
    # "politikası" contains "tika" but no word starts with it.
    assert not any("politika" in (r["matched"] + r["summary"]).lower() for r in body["results"]), body
    assert body["inside_words"] is False


def test_case_and_accents_do_not_matter(client):
    for q in ("TİKA", "tika", "Tika", "TIKA"):
        assert iris(found(client, q))[0] == ID + "tika", q
    for q in ("Shqipëri", "shqiperi", "SHQIPERI", "Arnavutluk", "arnavutluk"):
        assert iris(found(client, q))[0] == ID + "albania", q


def test_true_total_and_paging(client):
    first = found(client, "turkiye", size=5)
    total = first["total"]
    assert total > 10 and first["pages"] == -(-total // 5)
    assert len(first["results"]) == 5 and first["next"]
    seen = []
    for page in range(1, first["pages"] + 1):
        seen += iris(found(client, "turkiye", size=5, page=page))
    assert len(seen) == total and len(set(seen)) == total       # every hit once, none lost
    # A page past the end is not found, in HTML and JSON alike.
    past = first["pages"] + 1
    assert client.get(f"/search?q=turkiye&size=5&page={past}").status_code == 404
    r = client.get(f"/search?q=turkiye&size=5&page={past}", headers={"Accept": "application/json"})
    assert r.status_code == 404


def test_the_html_says_the_true_total_and_pages(client):
    body = found(client, "turkiye")
    text = client.get("/search?q=turkiye", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f"{body['total']} results for “turkiye”" in html.unescape(text)
    assert f"page 1 of {body['pages']}" in text and 'rel="next"' in text


def test_did_you_mean_for_a_typo(client):
    body = found(client, "Albnia")
    assert body["total"] == 0 and body["suggestion"] == "albania"
    text = client.get("/search?q=Albnia", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'id="did-you-mean"' in text and 'href="/search?q=albania"' in text
    assert found(client, "ammunitoin")["suggestion"] == "ammunition"
    assert found(client, "highway kosva")["suggestion"] == "highway kosova" or \
        found(client, "highway kosva")["suggestion"] is None        # only offered when it finds something


def test_summaries_are_searched(client):
    # "Textiles" is in no name: a trade flow's summary says it.
    body = found(client, "textiles")
    assert body["total"] >= 1
    hit = body["results"][0]
    assert hit["iri"] == ID + "turkish-exports-to-balkans-goods"
    assert hit["summary_matched"] and "textiles" in hit["summary"].lower()
    text = client.get("/search?q=textiles", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<mark>textiles</mark>" in text
    # A name match ranks above a summary match.
    assert iris(found(client, "albania"))[0] == ID + "albania"


def test_technical_nodes_are_left_out(client):
    for q in ("point", "USD 919.5", "Sarajevo (point)", "sector", "2021"):
        for r in found(client, q, size=100)["results"]:
            assert not r["iri"].endswith("-point"), (q, r["iri"])        # geometries
            assert not r["iri"].endswith("-value"), (q, r["iri"])        # money amounts
            assert "/ontology#" not in r["iri"], (q, r["iri"])            # ontology terms
    concepts = found(client, "energy", size=100)["results"]
    assert not any(r["iri"].startswith(ID + "sector-") for r in concepts), concepts


def test_json_and_csv_give_the_same_results_as_the_page(client):
    body = found(client, "albania", size=100)
    text = client.get("/search?q=albania&size=100", headers={"Accept": "text/html"}).get_data(as_text=True)
    listed = re.search(r'<ol class="results".*?</ol>', text, re.S).group(0)
    hrefs = re.findall(r'<li><a href="([^"]+)"', listed)
    assert hrefs == [r["href"] for r in body["results"]]
    r = client.get("/search?q=albania&size=100&format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["iri"] for row in rows] == iris(body)


def test_matched_words_are_marked_and_escaped(client):
    text = client.get("/search?q=arnavut", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<mark>Arnavut</mark>luk" in text
    text = client.get("/search?q=%3Cscript%3E", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<script>alert" not in text and "&lt;script&gt;" in text
