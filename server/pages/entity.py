"""The entity page's view model: everything entity.html shows, built from
three store queries (outgoing, incoming, then one batch of facts about every
neighbour), each cached per store in data.py.

The rendered page is kept too, per store, for the last VIEW_CACHE
(entity, reader's languages, page) combinations (`page_html`): the store
never changes under a running server (a build swaps in a new one, which
drops every cache), so a page is worked out and rendered once.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections import OrderedDict

import pyoxigraph as ox

from server import namespaces as ns
from server.pages import data, render
from server.pages.labels import language_name, pick

PAGE_SIZE = 50
VIEW_CACHE = 256
_view_lock = threading.Lock()

KOP = ns.KOP
# Shown in their own panels, not as statements.
PANEL_PROPS = {
    ns.RDF + "type", ns.RDFS + "label", ns.SKOS + "prefLabel", ns.SKOS + "altLabel",
    KOP + "summary", KOP + "statedIn", ns.PROV + "wasDerivedFrom", ns.SKOS + "exactMatch",
    ns.SKOS + "closeMatch",
}

# Meaning groups, checked in order against a neighbour's (entailed) types.
GROUPS = [
    ("claims", "Claims and positions", [KOP + "Claim"]),
    ("agreements", "Agreements", [KOP + "Agreement"]),
    ("projects", "Projects", [KOP + "Project"]),
    ("trade", "Trade and investment", [KOP + "TradeFlow", KOP + "Investment"]),
    ("security", "Security and defence", [KOP + "MilitaryTraining", KOP + "JointExercise",
                                          KOP + "PeacekeepingContribution", KOP + "MilitaryForce",
                                          KOP + "ArmedConflict"]),
    ("aid", "Aid and assistance", [KOP + "Assistance", KOP + "Disaster"]),
    ("relations", "Relations, events and initiatives", [KOP + "Fact"]),
    ("actors", "Actors", [KOP + "Actor", ns.FOAF + "Agent"]),
    ("places", "Places", [KOP + "Place", ns.GEO + "Feature", ns.GEO + "Geometry"]),
    ("time", "Time", [ns.TIME + "TemporalEntity", ns.TIME + "Instant", ns.TIME + "Duration",
                      ns.TIME + "ProperInterval"]),
    ("money", "Money", [ns.SCHEMA + "MonetaryAmount"]),
    ("sources", "Sources", [KOP + "SourceSentence", KOP + "SourceDocument", KOP + "Report"]),
    ("concepts", "Classification", [ns.SKOS + "Concept", ns.SKOS + "ConceptScheme"]),
]
GROUP_TITLES = {k: t for k, t, _ in GROUPS} | {"details": "Details", "other": "Other links"}
GROUP_ORDER = [k for k, _, _ in GROUPS] + ["other", "details"]

EXTERNAL_BADGES = [
    ("http://www.wikidata.org/entity/", "Wikidata", "https://www.wikidata.org/wiki/"),
    ("http://dbpedia.org/resource/", "DBpedia", "https://dbpedia.org/page/"),
    ("https://sws.geonames.org/", "GeoNames", "https://www.geonames.org/"),
]

SCHEMA_TYPES = [
    (KOP + "Country", "Country"), (KOP + "City", "City"), (KOP + "Place", "Place"),
    (KOP + "Claim", "Claim"), (KOP + "Report", "Report"),
    (KOP + "State", "GovernmentOrganization"), (KOP + "GovernmentAgency", "GovernmentOrganization"),
    (KOP + "Company", "Corporation"), (KOP + "Actor", "Organization"),
    (KOP + "Project", "Event"), (KOP + "Event", "Event"), (KOP + "Agreement", "CreativeWork"),
    (ns.SCHEMA + "MonetaryAmount", "MonetaryAmount"), (ns.SKOS + "Concept", "DefinedTerm"),
]


def group_of(types, meta) -> str:
    types = set(types)
    for t in list(types):
        types.update((meta.get(t) or {}).get("ancestors", []))
    for key, _, classes in GROUPS:
        if types.intersection(classes):
            return key
    return "other"


def _add_ancestor_types(info: dict, meta: dict) -> None:
    """Types were read from the asserted and ontology graphs only; add the
    superclasses the closure knows, from the cached ontology metadata."""
    for i in info.values():
        types = i.get("type")
        if types:
            extra = [a for t in types for a in (meta.get(t) or {}).get("ancestors", [])]
            i["type"] = list(dict.fromkeys(types + extra))


def is_claim(types) -> bool:
    return KOP + "Claim" in types


def node_view(iri: str, info: dict, meta: dict, langs: list[str]) -> dict:
    """How a linked node is shown: label (in the reader's language), money,
    year, coordinates; its provenance when it is a fact."""
    i = info.get(iri) or {}
    best = pick(i.get("label"), langs)
    text, lang = (best if best else (None, ""))
    if i.get("value") and i.get("currency"):
        text, lang = render.money(i["value"][0], i["currency"][0]), ""
    elif i.get("year"):
        text, lang = render.year(i["year"][0]), ""
    if text is None:
        m = meta.get(iri)
        text = render.term_label(iri, meta, langs) if m else render.short(iri)
    view = {"kind": "link", "iri": iri, "href": render.local_href(iri), "text": text,
            "lang": lang, "external": not iri.startswith(ns.BASE)}
    if not i.get("year") and not i.get("date") and any(
            t.startswith(ns.TIME) for t in i.get("type", [])):
        view["relative"] = True  # a time with no known position: placed only relatively
    if i.get("wkt"):
        view["coords"] = render.coordinates(i["wkt"][0])
    view["provenance"] = provenance(i, langs)
    return view


def provenance(i: dict, langs: list[str]) -> dict | None:
    if not (i.get("summary") or i.get("sentence")):
        return None
    best = pick(i.get("summary"), langs)
    sentences = sorted(
        ({"id": render.local_name(s), "href": render.local_href(s),
          "paragraph": p} for s, p, _ in i.get("sentence", [])), key=lambda d: d["id"])
    holders = holder_views(i, langs)
    return {"summary": best[0] if best else "", "summary_lang": best[1] if best else "",
            "sentences": sentences, "claim": is_claim(i.get("type", [])), "holders": holders}


def holder_views(i: dict, langs: list[str]) -> list[dict]:
    by_holder: dict[str, list] = {}
    for h, label, lang in i.get("holder", []):
        by_holder.setdefault(h, [])
        if label is not None:
            by_holder[h].append((label, lang or ""))
    out = []
    for h, labels in by_holder.items():
        best = pick(labels, langs)
        out.append({"href": render.local_href(h), "text": best[0] if best else render.short(h)})
    return out


def page_html(iri: str, langs: list[str], page: int, render_view) -> str:
    """The entity page's HTML: `render_view(view)` of the view model, kept per
    store for the last VIEW_CACHE (entity, languages, page) combinations."""
    pages: OrderedDict = data.handle().cached("entity_pages", OrderedDict)
    key = (iri, tuple(langs), page)
    with _view_lock:
        body = pages.get(key)
        if body is not None:
            pages.move_to_end(key)
            return body
    body = render_view(build(iri, langs, page))
    with _view_lock:
        pages[key] = body
        while len(pages) > VIEW_CACHE:
            pages.popitem(last=False)
    return body


def build(iri: str, langs: list[str], page: int) -> dict:
    meta = data.ontology_meta()
    out_rows = data.outgoing(iri)
    counts, total_in = data.incoming_counts(iri)
    pages = max(1, -(-total_in // PAGE_SIZE))
    page = min(max(1, page), pages)
    in_rows = data.incoming(iri, (page - 1) * PAGE_SIZE, PAGE_SIZE) if total_in else []

    neighbours = [iri]
    neighbours += [o.value for _, o, _ in out_rows if isinstance(o, ox.NamedNode)]
    neighbours += [s.value for s, _, _ in in_rows]
    info = data.node_info(neighbours)
    _add_ancestor_types(info, meta)
    me = info.get(iri) or {}

    # Names, title, types.
    names_pairs = list(me.get("label", []))
    alt = []
    for p, o, _ in out_rows:
        if p.value in (ns.SKOS + "prefLabel", ns.SKOS + "altLabel") and isinstance(o, ox.Literal):
            pair = (o.value, o.language or "")
            if pair not in names_pairs:
                alt.append(pair)
    best = pick(names_pairs, langs)
    title, title_lang = best if best else (render.local_name(iri), "")
    names = [{"text": v, "lang": l, "language": language_name(l)}
             for v, l in sorted(names_pairs + alt, key=lambda x: (x[1] != "en", x[1], x[0]))]

    types = []
    type_iris = []
    for p, o, asserted in out_rows:
        if p.value == ns.RDF + "type" and isinstance(o, ox.NamedNode):
            type_iris.append(o.value)
            types.append({"iri": o.value, "href": render.local_href(o.value),
                          "text": render.term_label(o.value, meta, langs),
                          "inferred": not asserted})
    types.sort(key=lambda t: (t["inferred"], t["text"].lower()))
    seen_text: dict[str, int] = {}
    for t in types:
        seen_text[t["text"]] = seen_text.get(t["text"], 0) + 1
    for t in types:  # same label from two vocabularies (kop:Event, sem:Event)
        if seen_text[t["text"]] > 1:
            t["text"] += f" ({render.short(t['iri']).split(':')[0]})"

    # Statements grouped by meaning.
    groups: dict[str, dict[str, dict]] = {}
    links_out, others = [], []
    for p, o, asserted in out_rows:
        pv = p.value
        if pv in (ns.SKOS + "exactMatch", ns.SKOS + "closeMatch") and isinstance(o, ox.NamedNode):
            links_out.append(badge(o.value, pv.endswith("closeMatch")))
            continue
        if pv in PANEL_PROPS:
            continue
        if isinstance(o, ox.NamedNode):
            value = node_view(o.value, info, meta, langs)
            key = group_of((info.get(o.value) or {}).get("type", []), meta)
        elif isinstance(o, ox.Literal):
            value = {"kind": "literal", **render.literal_view(o)}
            key = "details"
        else:
            value = {"kind": "literal", "text": "(a blank node)", "lang": "", "datatype": ""}
            key = "details"
        value["inferred"] = not asserted
        prop = groups.setdefault(key, {}).setdefault(pv, {
            "iri": pv, "href": render.local_href(pv), "text": render.term_label(pv, meta, langs),
            "values": []})
        prop["values"].append(value)
    group_list = []
    for key in GROUP_ORDER:
        if key not in groups:
            continue
        props = sorted(groups[key].values(), key=lambda d: d["text"].lower())
        for pr in props:
            pr["values"].sort(key=lambda v: (v["inferred"], str(v.get("text", "")).lower()))
            pr["inferred"] = all(v["inferred"] for v in pr["values"])
        group_list.append({"key": key, "title": GROUP_TITLES[key],
                           "asserted": [pr for pr in props if not pr["inferred"]],
                           "inferred": [pr for pr in props if pr["inferred"]]})

    # Incoming links.
    incoming_counts = [{"iri": p.value, "text": render.inverse_label(p.value, meta, langs),
                        "n": n, "property": render.term_label(p.value, meta, langs)}
                       for p, n in counts]
    incoming_counts.sort(key=lambda d: (-d["n"], d["text"].lower()))
    incoming_rows = []
    for s, props, asserted_props in in_rows:
        v = node_view(s.value, info, meta, langs)
        # Asserted links first; inferred roll-ups only when nothing is asserted.
        shown = asserted_props or props
        v["inferred"] = not asserted_props
        v["wordings"] = sorted({render.inverse_label(p, meta, langs) for p in shown})
        v["also"] = sorted({render.inverse_label(p, meta, langs) for p in props if p not in shown})
        incoming_rows.append(v)

    links_out.sort(key=lambda b: b["name"])
    coords = [c for c in (render.coordinates(w) for w in me.get("wkt", [])) if c]
    prov = provenance(me, langs)
    claim = is_claim(type_iris)
    return {
        "iri": iri, "title": title, "title_lang": title_lang, "names": names,
        "types": types, "groups": group_list, "links_out": links_out, "coords": coords,
        "provenance": prov, "claim": claim,
        "holders": holder_views(me, langs) if claim else [],
        "incoming": {"counts": incoming_counts, "rows": incoming_rows, "total": total_in,
                     "page": page, "pages": pages, "page_size": PAGE_SIZE},
        "query_href": "/sparql?" + urllib.parse.urlencode({"query": entity_query(iri)}),
        "jsonld": schema_jsonld(iri, title, names_pairs, type_iris, meta, links_out, prov),
    }


def badge(iri: str, close: bool) -> dict:
    for base, name, page in EXTERNAL_BADGES:
        if iri.startswith(base):
            rest = iri[len(base):].rstrip("/")
            return {"name": name, "href": page + rest if name != "GeoNames" else iri,
                    "iri": iri, "id": rest, "close": close}
    return {"name": urllib.parse.urlsplit(iri).netloc or iri, "href": iri, "iri": iri,
            "id": "", "close": close}


def entity_query(iri: str) -> str:
    return (f"# Everything said about this entity, and what points at it\n"
            f"SELECT ?direction ?property ?value WHERE {{\n"
            f"  {{ <{iri}> ?property ?value BIND(\"out\" AS ?direction) }}\n"
            f"  UNION\n"
            f"  {{ ?value ?property <{iri}> BIND(\"in\" AS ?direction) }}\n"
            f"}} ORDER BY ?direction ?property ?value LIMIT 500\n")


def schema_jsonld(iri, title, names_pairs, type_iris, meta, links_out, prov) -> dict:
    types = set(type_iris)
    for t in type_iris:
        types.update((meta.get(t) or {}).get("ancestors", []))
    stype = next((s for k, s in SCHEMA_TYPES if k in types), "Thing")
    doc = {"@context": "https://schema.org", "@id": iri, "@type": stype, "name": title,
           "url": iri}
    alternates = sorted({v for v, _ in names_pairs if v != title})
    if alternates:
        doc["alternateName"] = alternates
    if links_out:
        doc["sameAs"] = [b["iri"] for b in links_out if not b["close"]]
    if prov and prov.get("summary"):
        doc["description"] = prov["summary"]
    return doc
