"""The entity page's view model: everything entity.html shows, built from
three store queries (outgoing, incoming, then one batch of facts about every
neighbour), each cached per store in data.py.

The rendered page is kept too, per store, for the last VIEW_CACHE
(entity, reader's languages, page) combinations (`page_html`): the store
never changes under a running server (a build swaps in a new one, which
drops every cache), so a page is worked out and rendered once.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

import pyoxigraph as ox

from server import namespaces as ns
from server.web.pages import data, render
from server.web.pages.labels import language_name, pick, ui_language

PAGE_SIZE = 50
VIEW_CACHE = 256

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


# Properties whose meaning fixes the group, whatever the value's types
# (Bosnia and Herzegovina is a state and a country: what a city is `within`
# is a place, who a project is `fundedBy` an actor).
PROPERTY_GROUPS = {
    ns.SEM + "hasPlace": "places", ns.GEO + "sfWithin": "places", ns.GEO + "sfContains": "places",
    ns.GEO + "hasGeometry": "places", ns.SEM + "hasActor": "actors", ns.SEM + "hasTime": "time",
}


def prop_ancestors(prop: str, meta: dict) -> list[str]:
    return (meta.get(prop) or {}).get("prop_ancestors", [])


def most_specific(props, meta) -> list[str]:
    """The properties of `props` that are not a super-property of another
    one in it: kop:fundedBy, not the roll-ups kop:financedBy,
    kop:involvedActor, sem:hasActor it entails."""
    props = list(dict.fromkeys(props))
    rolled = {a for p in props for a in prop_ancestors(p, meta)}
    return [p for p in props if p not in rolled]


def group_for(prop: str, types, meta) -> str:
    """The group of a statement: by the property's meaning (itself or a
    super-property in PROPERTY_GROUPS, else its declared range), else by
    the value's types."""
    chain = [prop] + prop_ancestors(prop, meta)
    for q in chain:
        if q in PROPERTY_GROUPS:
            return PROPERTY_GROUPS[q]
    for q in chain:
        for r in (meta.get(q) or {}).get("range", []):
            key = group_of([r], meta)
            if key != "other":
                return key
    return group_of(types, meta)


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
        text, lang = render.money(i["value"][0], i["currency"][0], ui_language(langs)), ""
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
    return data.handle().cache.get("entity_pages", (iri, tuple(langs), page),
                                   lambda: render_view(build(iri, langs, page)),
                                   maxsize=VIEW_CACHE)


def incoming_links(iri: str, out_rows, meta) -> tuple:
    """The links pointing at the entity as the page lists them, worked out
    once per store and entity: ((subject, shown, also, inferred?), …) in
    subject order. `shown` are the most specific asserted properties (the
    most specific inferred ones when none is asserted), `also` the other
    inferred ones that are not mere roll-ups of `shown`. Left out: a link
    that only mirrors one the entity asserts (Bosnia and Herzegovina
    geo:sfContains Banja Luka, entailed from Banja Luka kop:within Bosnia
    and Herzegovina, is already on the page as `within`)."""
    return data.handle().cache.get("entity_incoming", iri,
                                   lambda: _incoming_links(iri, out_rows, meta))


def _incoming_links(iri: str, out_rows, meta) -> tuple:
    asserted_out: dict[str, set] = {}
    for p, o, asserted in out_rows:
        if asserted and isinstance(o, ox.NamedNode):
            asserted_out.setdefault(o.value, set()).update([p.value] + prop_ancestors(p.value, meta))

    rows = []
    for s, props, asserted_props in data.incoming(iri, 0, 1 << 30):
        mine = asserted_out.get(s.value)
        if mine:
            props = [p for p in props
                     if not mine.intersection((meta.get(p) or {}).get("inverse", []))]
            if not props:
                continue
        asserted_props = [p for p in asserted_props if p in props]
        shown = most_specific(asserted_props or props, meta)
        implied = set(shown).union(*(prop_ancestors(p, meta) for p in shown))
        also = most_specific([p for p in props if p not in implied], meta)
        rows.append((s, tuple(shown), tuple(also), not asserted_props))
    return tuple(rows)


def build(iri: str, langs: list[str], page: int) -> dict:
    meta = data.ontology_meta()
    out_rows = data.outgoing(iri)
    links = incoming_links(iri, out_rows, meta)
    total_in = len(links)
    pages = max(1, -(-total_in // PAGE_SIZE))
    page = min(max(1, page), pages)
    in_rows = links[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]

    neighbours = [iri]
    neighbours += [o.value for _, o, _ in out_rows if isinstance(o, ox.NamedNode)]
    neighbours += [s.value for s, _, _, _ in in_rows]
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
    names = [{"text": text, "lang": lang, "language": language_name(lang)}
             for text, lang in sorted(names_pairs + alt,
                                      key=lambda x: (_lang_rank(x[1], langs), x[1], x[0]))]

    type_iris = []
    types: list[dict[str, Any]] = []
    for p, o, asserted in out_rows:
        if p.value == ns.RDF + "type" and isinstance(o, ox.NamedNode):
            type_iris.append(o.value)
            types.append({"iri": o.value, "href": render.local_href(o.value),
                          "text": render.term_label(o.value, meta, langs),
                          "inferred": not asserted})
    types.sort(key=lambda t: (t["inferred"], data.fold(t["text"])))
    seen_text: dict[str, int] = {}
    for t in types:
        seen_text[t["text"]] = seen_text.get(t["text"], 0) + 1
    for t in types:  # same label from two vocabularies (kop:Event, sem:Event)
        if seen_text[t["text"]] > 1:
            t["text"] += f" ({render.short(t['iri']).split(':')[0]})"

    # Statements grouped by meaning. A roll-up (sem:hasActor Albania, entailed
    # from kop:party Albania) is kept out of the main list: it says again
    # what a more specific property already says about the same value.
    said: dict = {}
    for p, o, _ in out_rows:
        said.setdefault(o, set()).add(p.value)
    groups: dict[str, dict[str, dict]] = {}
    links_out = []
    for p, o, asserted in out_rows:
        pv = p.value
        if pv in (ns.SKOS + "exactMatch", ns.SKOS + "closeMatch") and isinstance(o, ox.NamedNode):
            links_out.append(badge(o.value, pv.endswith("closeMatch")))
            continue
        if pv in PANEL_PROPS:
            continue
        if isinstance(o, ox.NamedNode):
            value = node_view(o.value, info, meta, langs)
            key = group_for(pv, (info.get(o.value) or {}).get("type", []), meta)
        elif isinstance(o, ox.Literal):
            value = {"kind": "literal", **render.literal_view(o)}
            key = "details"
        else:
            value = {"kind": "literal", "text": "(a blank node)", "lang": "", "datatype": ""}
            key = "details"
        value["inferred"] = not asserted
        value["rollup"] = not asserted and any(
            pv in prop_ancestors(q, meta) for q in said[o] if q != pv)
        prop = groups.setdefault(key, {}).setdefault(pv, {
            "iri": pv, "href": render.local_href(pv), "text": render.term_label(pv, meta, langs),
            "values": []})
        prop["values"].append(value)
    _disambiguate([pr for g in groups.values() for pr in g.values()])
    group_list = []
    for key in GROUP_ORDER:
        if key not in groups:
            continue
        props = sorted(groups[key].values(), key=lambda d: data.fold(d["text"]))
        main, inferred = [], []
        for pr in props:
            pr["values"].sort(key=lambda v: (v["inferred"], data.fold(str(v.get("text", "")))))
            # Listed when something is asserted: with its asserted values and
            # those inferred ones that are not roll-ups; the rest, and
            # properties with nothing asserted, go in the "Inferred" block.
            shown = [v for v in pr["values"] if not v["rollup"]]
            if any(not v["inferred"] for v in shown):
                main.append({**pr, "values": shown})
                rest = [v for v in pr["values"] if v["rollup"]]
            else:
                rest = pr["values"]
            if rest:
                inferred.append({**pr, "values": rest})
        group_list.append({"key": key, "title": GROUP_TITLES[key],
                           "asserted": main, "inferred": inferred})

    # Incoming links, in the inverse's words; counted per wording over
    # every page (a subject once per wording).
    by_wording: dict[str, dict] = {}
    for s, shown, also, _ in links:
        for p in shown + also:
            w = render.inverse_label(p, meta, langs)
            entry = by_wording.setdefault(w, {"text": w, "iris": [], "subjects": set()})
            if p not in entry["iris"]:
                entry["iris"].append(p)
            entry["subjects"].add(s.value)
    incoming_counts = [{"iri": d["iris"][0], "iris": d["iris"], "text": d["text"],
                        "n": len(d["subjects"])} for d in by_wording.values()]
    incoming_counts.sort(key=lambda d: (-d["n"], data.fold(d["text"])))
    incoming_rows = []
    for s, shown, also, inferred in in_rows:
        v = node_view(s.value, info, meta, langs)
        v["inferred"] = inferred
        v["wordings"] = sorted({render.inverse_label(p, meta, langs) for p in shown}, key=data.fold)
        v["also"] = sorted({render.inverse_label(p, meta, langs) for p in also} - set(v["wordings"]),
                           key=data.fold)
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


def _lang_rank(tag: str, langs: list[str]) -> int:
    """Names in the reader's languages first, in their order (English is
    always among them, last)."""
    primary = tag.lower().split("-")[0]
    return langs.index(primary) if primary in langs else len(langs)


def _disambiguate(props: list[dict]) -> None:
    """Two properties with one label on a page (kop:hasTime and sem:hasTime,
    both "has time") are told apart by their vocabulary's prefix."""
    seen: dict[str, set] = {}
    for pr in props:
        seen.setdefault(pr["text"], set()).add(pr["iri"])
    for pr in props:
        if len(seen[pr["text"]]) > 1:
            pr["text"] += f" ({render.short(pr['iri']).split(':')[0]})"


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
