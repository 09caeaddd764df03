"""Every SPARQL query the pages run, behind small functions.

Nothing else in server/pages/ writes SPARQL: a remote store (issue 5) only
has to answer these. Results are plain Python values (pyoxigraph terms for
nodes), cached per store where they do not depend on the request.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

import pyoxigraph as ox

from server import namespaces as ns
from server.web.pages.store import handle

RDF_TYPE = ns.RDF + "type"

PREFIXES = ns.sparql_prefixes()
ASSERTED, ENTAILED, ONTOLOGY, SHAPES = (f"<{g}>" for g in (ns.GRAPH_ASSERTED, ns.GRAPH_ENTAILED,
                                                          ns.GRAPH_ONTOLOGY, ns.GRAPH_SHAPES))


def _q(sparql: str, **kwargs):
    return handle().query(PREFIXES + sparql, **kwargs)


def _iri(iri: str) -> str:
    # Callers pass IRIs built from validated slugs or read from the store;
    # refuse anything that could break out of <…> all the same.
    if any(c in iri for c in '<>"{}|^`\\ \n\r\t'):
        raise ValueError(f"not an IRI: {iri!r}")
    return f"<{iri}>"


def _values(iris) -> str:
    return " ".join(_iri(i) for i in iris)


# --- existence and RDF descriptions --------------------------------------------

def exists(iri: str) -> bool:
    """The IRI is the subject of some triple (asserted, ontology or entailed).
    Known subjects are remembered for the life of the store (unknown ones
    are not, so junk slugs cannot grow the cache)."""
    known = handle().section("exists")
    if iri in known:
        return True
    found = bool(_q(f"ASK {{ {_iri(iri)} ?p ?o }}"))
    if found:
        known[iri] = True
    return found


def _per_iri(name: str, iri: str, make):
    """Memoise `make()` per store and IRI (only for IRIs known to the store:
    the callers have checked `exists` or read the IRI from the store)."""
    return handle().cache.get(name, iri, make)


def describe(iri: str) -> list:
    """The entity's description for the RDF formats: what is said about it
    (blank-node values one level down), what points at it, and the labels
    of its neighbours, asserted and entailed together."""
    e = _iri(iri)
    res = _q(f"""
CONSTRUCT {{ {e} ?p ?o . ?o ?bp ?bo . ?s ?ip {e} . ?n rdfs:label ?l }}
WHERE {{
  {{ {e} ?p ?o . OPTIONAL {{ FILTER(isBlank(?o)) ?o ?bp ?bo }} }}
  UNION {{ ?s ?ip {e} }}
  UNION {{ {{ {e} ?x ?n }} UNION {{ ?n ?x {e} }} FILTER(isIRI(?n)) ?n rdfs:label ?l }}
}}""")
    return list(res)


def graph_triples(graphs) -> list:
    """Every triple of the given named graphs (for dumps and the ontology)."""
    res = _q("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", default_graph=list(graphs))
    return list(res)


# --- the entity page -------------------------------------------------------------

def outgoing(iri: str) -> list[tuple]:
    """(predicate, object, asserted?) for every triple with the entity as
    subject. An entailed triple that mirrors, through owl:inverseOf, a link
    the other node asserts towards the entity (Albania kop:partyTo X,
    mirroring X kop:party Albania) is left out: it is listed under incoming
    links. (When nothing is asserted between the two — Banja Luka
    kop:within Europe, Europe kop:contains Banja Luka, both from
    transitivity — it is kept here and left out of the incoming links.)
    Cached per store."""
    return list(_per_iri("outgoing", iri, lambda: _outgoing(iri)))


def _outgoing(iri: str) -> tuple:
    e = _iri(iri)
    rows = _q(f"""
SELECT ?p ?o ?g WHERE {{
  GRAPH ?g {{ {e} ?p ?o }}
  FILTER(?g IN ({ASSERTED}, {ENTAILED}, {ONTOLOGY}))
  FILTER NOT EXISTS {{ FILTER(?g = {ENTAILED}) ?p owl:inverseOf ?q . ?o ?q {e} .
                       GRAPH {ASSERTED} {{ ?o ?r {e} }} }}
}}""", named_graphs=[ns.GRAPH_ASSERTED, ns.GRAPH_ENTAILED, ns.GRAPH_ONTOLOGY])
    seen: dict = {}
    for r in rows:
        key = (r["p"], r["o"])
        asserted = r["g"].value != ns.GRAPH_ENTAILED
        seen[key] = seen.get(key, False) or asserted
    return tuple((p, o, a) for (p, o), a in seen.items())


def _incoming_links(iri: str) -> tuple:
    """Every link pointing at the entity, once per store: ((subject,
    predicate, asserted?), …) ordered by subject IRI, leaving out those the
    entity itself asserts through an inverse (Albania kop:partyTo X is shown
    as X's kop:party link, once), and inferred ones whose inverse the
    entity has (inferred too: shown among its own statements, see
    `outgoing`). One query; the counts, the total and the pages are cut
    from it in Python."""
    def make():
        e = _iri(iri)
        # ?a is bound when the link is asserted (an OPTIONAL rather than
        # BIND(EXISTS …), which Virtuoso answers as 1/0 instead of a boolean).
        rows = _q(f"""
SELECT ?s ?p ?a ?m WHERE {{
  ?s ?p {e} . FILTER(isIRI(?s))
  FILTER NOT EXISTS {{ ?q owl:inverseOf ?p . GRAPH {ASSERTED} {{ {e} ?q ?s }} }}
  OPTIONAL {{ GRAPH ?a {{ ?s ?p {e} }} }}
  OPTIONAL {{ ?m owl:inverseOf ?p . {e} ?m ?s }}
}}""", named_graphs=[ns.GRAPH_ASSERTED])
        seen: dict = {}
        mirrored: set = set()
        for r in rows:
            key = (r["s"], r["p"])
            seen[key] = seen.get(key, False) or r["a"] is not None
            if r["m"] is not None:
                mirrored.add(key)
        # An inferred link with an inverse the entity has is shown among the
        # entity's statements, unless the other node asserts something
        # towards the entity (then the pair is that node's: kept here).
        anchored = {s for (s, _), a in seen.items() if a}
        for key in mirrored:
            if not seen[key] and key[0] not in anchored:
                del seen[key]
        return tuple(sorted(((s, p, a) for (s, p), a in seen.items()),
                            key=lambda t: (t[0].value, t[1].value)))
    return _per_iri("incoming", iri, make)


def incoming_counts(iri: str) -> tuple[list[tuple], int]:
    """([(predicate, number of subjects)], number of distinct subjects) of the
    links pointing at the entity (those the entity itself asserts through an
    inverse are left out)."""
    links = _incoming_links(iri)
    by_prop: dict = {}
    for s, p, _ in links:
        by_prop.setdefault(p.value, (p, set()))[1].add(s.value)
    counts = [(p, len(subjects)) for _, (p, subjects) in sorted(by_prop.items())]
    total = len({s.value for s, _, _ in links})
    return counts, total


def incoming(iri: str, offset: int, limit: int) -> list[tuple]:
    """One page of the nodes linking to the entity: (subject, [predicate IRIs],
    [asserted predicate IRIs]), ordered by subject IRI."""
    grouped: dict = {}
    for s, p, a in _incoming_links(iri):
        entry = grouped.setdefault(s.value, (s, [], []))
        if p.value not in entry[1]:
            entry[1].append(p.value)
        if a and p.value not in entry[2]:
            entry[2].append(p.value)
    subjects = list(grouped.values())  # already in subject order
    return [(s, ps, aps) for s, ps, aps in subjects[int(offset):int(offset) + int(limit)]]


def node_info(iris) -> dict[str, dict]:
    """What the pages show about each node: labels, types, money, years,
    coordinates, summary, sentences (id, paragraph), claim holders.

    Each node is read from the store once per store (one query for all the
    nodes not seen yet); callers get their own dicts, so they may replace
    a key (`info[x]["type"] = …`) without touching the cache. The lists in
    them are shared: do not change them in place."""
    iris = list(dict.fromkeys(iris))
    cache = handle().section("node_info", maxsize=1 << 16)
    missing = [i for i in iris if i not in cache]
    if missing:
        cache.update(_node_info(missing))
    return {i: defaultdict(list, cache[i]) for i in iris}


def _node_info(iris: list[str]) -> dict[str, dict]:
    info: dict[str, dict] = {i: defaultdict(list) for i in iris}
    rows = _q(f"""
SELECT ?x ?k ?v ?w WHERE {{
  VALUES ?x {{ {_values(iris)} }}
  {{ ?x rdfs:label ?v BIND("label" AS ?k) }}
  UNION {{ GRAPH ?tg {{ ?x a ?v }} FILTER(?tg != {ENTAILED}) BIND("type" AS ?k) }}
  UNION {{ ?x schema:value ?v BIND("value" AS ?k) }}
  UNION {{ ?x schema:currency ?v BIND("currency" AS ?k) }}
  UNION {{ ?x time:inXSDgYear ?v BIND("year" AS ?k) }}
  UNION {{ ?x time:inXSDDate ?v BIND("date" AS ?k) }}
  UNION {{ ?x geo:asWKT ?v BIND("wkt" AS ?k) }}
  UNION {{ ?x geo:hasGeometry/geo:asWKT ?v BIND("wkt" AS ?k) }}
  UNION {{ ?x kop:summary ?v BIND("summary" AS ?k) }}
  UNION {{ ?x kop:statedIn ?w . OPTIONAL {{ ?w kop:sentenceId ?sid }} OPTIONAL {{ ?w kop:paragraph ?v }}
           BIND("sentence" AS ?k) }}
  UNION {{ ?x prov:wasAttributedTo ?w . OPTIONAL {{ ?w rdfs:label ?v }} BIND("holder" AS ?k) }}
}}""")
    for r in rows:
        x = r["x"].value
        k = r["k"].value
        v, w = r["v"], r["w"]
        slot = info[x]
        if k in ("label", "summary"):
            pair = (v.value, v.language or "")
            if pair not in slot[k]:
                slot[k].append(pair)
        elif k == "type":
            if v.value not in slot["type"]:
                slot["type"].append(v.value)
        elif k in ("sentence", "holder"):
            item = (w.value, v.value if v is not None else None,
                    getattr(v, "language", None) if v is not None else None)
            if item not in slot[k]:
                slot[k].append(item)
        elif v is not None and v.value not in slot[k]:
            slot[k].append(v.value)
    return {i: dict(d) for i, d in info.items()}


# --- ontology metadata (cached per store) -------------------------------------------

def ontology_meta() -> dict[str, dict]:
    """IRI → {label: [(v, lang)], comment: [...], inverse_label: [(v, lang)],
    inverse, domain, range, super, superprop, kind} for every term the
    ontology graph describes, plus the entailed class hierarchy
    (`ancestors`) and every super-property (`prop_ancestors`)."""
    return handle().cached("ontology_meta", _ontology_meta)


def _ontology_meta() -> dict[str, dict]:
    meta: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    rows = _q(f"""
SELECT ?t ?k ?v WHERE {{
  GRAPH {ONTOLOGY} {{
    {{ ?t rdfs:label ?v BIND("label" AS ?k) }}
    UNION {{ ?t rdfs:comment ?v BIND("comment" AS ?k) }}
    UNION {{ ?t kop:inverseLabel ?v BIND("inverse_label" AS ?k) }}
    UNION {{ ?t skos:definition ?v BIND("comment" AS ?k) }}
    UNION {{ ?t owl:inverseOf ?v BIND("inverse" AS ?k) }}
    UNION {{ ?t rdfs:domain ?v BIND("domain" AS ?k) }}
    UNION {{ ?t rdfs:range ?v BIND("range" AS ?k) }}
    UNION {{ ?t rdfs:subClassOf ?v BIND("super" AS ?k) }}
    UNION {{ ?t rdfs:subPropertyOf ?v BIND("superprop" AS ?k) }}
    UNION {{ ?t a ?v BIND("kind" AS ?k) }}
    UNION {{ ?t skos:inScheme ?v BIND("scheme" AS ?k) }}
  }}
}}""", named_graphs=[ns.GRAPH_ONTOLOGY])
    for r in rows:
        t, k, v = r["t"], r["k"].value, r["v"]
        # (filtered here: a FILTER inside a UNION branch breaks Virtuoso's compiler)
        if not isinstance(t, ox.NamedNode) or (k == "super" and not isinstance(v, ox.NamedNode)):
            continue
        val = (v.value, v.language or "") \
            if isinstance(v, ox.Literal) and k in ("label", "comment", "inverse_label") else v.value
        if val not in meta[t.value][k]:
            meta[t.value][k].append(val)
    # The whole class hierarchy, as the closure has it.
    for r in _q("SELECT ?c ?d WHERE { ?c rdfs:subClassOf ?d FILTER(isIRI(?c) && isIRI(?d)) }"):
        c, d = r["c"].value, r["d"].value
        if d not in meta[c]["ancestors"]:
            meta[c]["ancestors"].append(d)
    for r in _q("SELECT ?p ?q WHERE { ?p owl:inverseOf ?q FILTER(isIRI(?p) && isIRI(?q)) }"):
        p, q = r["p"].value, r["q"].value
        if q not in meta[p]["inverse"]:
            meta[p]["inverse"].append(q)
    # Every super-property, transitively (kop:fundedBy → kop:financedBy →
    # kop:involvedActor → sem:hasActor): the pages hide these roll-ups.
    for p in list(meta):
        seen: list[str] = []
        todo = list(meta[p].get("superprop", []))
        while todo:
            q = todo.pop()
            if q != p and q not in seen:
                seen.append(q)
                todo.extend((meta.get(q) or {}).get("superprop", []))
        if seen:
            meta[p]["prop_ancestors"] = seen
    return {k: dict(v) for k, v in meta.items()}


def shape_constraints() -> dict[str, list[dict]]:
    """Target class → [{shape, path, constraint: value, message}] from the shapes graph."""
    return handle().cached("shapes", _shape_constraints)


def _shape_constraints() -> dict[str, list[dict]]:
    rows = _q(f"""
SELECT ?target ?shape ?path ?c ?v ?msg WHERE {{
  GRAPH {SHAPES} {{
    ?shape sh:targetClass ?target .
    {{ ?shape sh:property ?ps . ?ps sh:path ?path . ?ps ?c ?v .
       FILTER(?c NOT IN (sh:path, sh:message, sh:name, sh:description, sh:severity, rdf:type))
       OPTIONAL {{ ?ps sh:message ?msg }} }}
    UNION
    {{ ?shape ?c ?v .
       FILTER(?c NOT IN (sh:targetClass, sh:property, rdf:type, sh:message, rdfs:label, rdfs:comment))
       OPTIONAL {{ ?shape sh:message ?msg }} }}
  }}
}}""", named_graphs=[ns.GRAPH_SHAPES])
    out: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        path = r["path"]
        v = r["v"]
        item = {
            "shape": r["shape"].value if isinstance(r["shape"], ox.NamedNode) else "",
            "path": path.value if isinstance(path, ox.NamedNode) else
                    ("(complex path)" if path is not None else ""),
            "constraint": r["c"].value,
            "value": v.value if not isinstance(v, ox.BlankNode) else "(a list or node)",
            "message": r["msg"].value if r["msg"] is not None else "",
        }
        if item not in out[r["target"].value]:
            out[r["target"].value].append(item)
    return dict(out)


# --- figures ------------------------------------------------------------------------

def class_counts() -> dict[str, int]:
    """Köprü class IRI → number of instances (asserted + entailed)."""
    return handle().cached("class_counts", lambda: {
        r["c"].value: int(r["n"].value) for r in _q(
            "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER(isIRI(?s)) } GROUP BY ?c")})


def triple_counts() -> dict[str, int]:
    return handle().cached("triple_counts", lambda: handle().store.triple_counts())


def instances(class_iri: str, offset: int, limit: int) -> list:
    """Instances of a class, ordered by English label, one page."""
    # Grouped in a subquery and ordered outside it: ordering a grouped query
    # by an aggregate's alias is refused by Virtuoso.
    rows = _q(f"""
SELECT ?s ?label WHERE {{
  {{ SELECT ?s (SAMPLE(?l) AS ?label) WHERE {{
      ?s a {_iri(class_iri)} . FILTER(isIRI(?s))
      OPTIONAL {{ ?s rdfs:label ?l FILTER(langMatches(lang(?l), "en")) }}
    }} GROUP BY ?s }}
}} ORDER BY LCASE(STR(?label)) ?s LIMIT {int(limit)} OFFSET {int(offset)}""")
    return [r["s"].value for r in rows]


def linkset_counts() -> dict[str, int]:
    """External dataset namespace → number of skos:exactMatch links to it."""
    def make():
        counts: dict[str, int] = {}
        for r in _q(f"SELECT ?o WHERE {{ GRAPH {ASSERTED} {{ ?s skos:exactMatch ?o FILTER(isIRI(?o)) }} }}",
                    named_graphs=[ns.GRAPH_ASSERTED]):
            o = r["o"].value
            for target in EXTERNAL:
                if o.startswith(target):
                    counts[target] = counts.get(target, 0) + 1
        return counts
    return handle().cached("linksets", make)


EXTERNAL = {
    "http://www.wikidata.org/entity/": "Wikidata",
    "http://dbpedia.org/resource/": "DBpedia",
    "https://sws.geonames.org/": "GeoNames",
}


def sentences() -> list[dict]:
    """The source document's sentences with the facts that cite them."""
    def make():
        rows = _q("""
SELECT ?s ?sid ?para ?f WHERE {
  ?s a kop:SourceSentence .
  OPTIONAL { ?s kop:sentenceId ?sid } OPTIONAL { ?s kop:paragraph ?para }
  OPTIONAL { ?f kop:statedIn ?s }
} ORDER BY ?sid ?f""")
        out: dict[str, dict] = {}
        for r in rows:
            s = r["s"].value
            d = out.setdefault(s, {"iri": s, "id": r["sid"].value if r["sid"] else s.rsplit("#", 1)[-1],
                                   "paragraph": r["para"].value if r["para"] else None,
                                   "facts": []})
            if r["f"] is not None and r["f"].value not in d["facts"]:
                d["facts"].append(r["f"].value)
        return list(out.values())
    return handle().cached("sentences", make)


# --- search -------------------------------------------------------------------------

def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Shqipëri' → 'shqiperi', 'İŞ' → 'is'."""
    text = text.replace("ı", "i").replace("İ", "I")
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c))


def searchable_texts() -> list[tuple[str, str, str, str]]:
    """(IRI, "label" | "summary", text, language) for every name (rdfs:label,
    skos:altLabel) and kop:summary of an IRI node: what search indexes.
    (Plain patterns, deduplicated by the caller: on a large graph the cost is
    in reading the rows, and DISTINCT or FILTER would only add to it.)"""
    out = []
    for kind, prop in (("label", "rdfs:label"), ("label", "skos:altLabel"),
                       ("summary", "kop:summary")):
        for r in _q(f"SELECT ?s ?v WHERE {{ ?s {prop} ?v }}"):
            s, v = r["s"], r["v"]
            if isinstance(s, ox.NamedNode) and isinstance(v, ox.Literal):
                out.append((s.value, kind, v.value, v.language or ""))
    return out


def typed_nodes(classes) -> set[str]:
    """Every IRI node that is an instance of one of `classes`."""
    rows = _q(f"SELECT DISTINCT ?s WHERE {{ VALUES ?c {{ {_values(classes)} }} ?s a ?c FILTER(isIRI(?s)) }}")
    return {r["s"].value for r in rows}


# --- the catalogue: what browse is built from ------------------------------------------

def asserted_types() -> list[tuple[str, str]]:
    """(IRI node, Köprü class) as asserted (the caller adds the superclasses
    from the ontology: cheaper than reading every entailed type)."""
    rows = _q(f"SELECT ?s ?t WHERE {{ GRAPH {ASSERTED} {{ ?s a ?t }} }}", named_graphs=[ns.GRAPH_ASSERTED])
    return [(r["s"].value, r["t"].value) for r in rows
            if isinstance(r["s"], ox.NamedNode) and r["t"].value.startswith(ns.KOP)]


# Facet → the properties (asserted or inferred) whose IRI values it lists.
# Countries are picked out of "places" by the caller (a value that is a
# kop:Country): where a fact happens, what it is about, whom it involves.
FACET_PROPERTIES = {
    "actor": ("kop:involvedActor",), "sector": ("kop:sector",), "sentence": ("kop:statedIn",),
    "places": ("kop:involvedActor", "kop:locatedIn", "kop:within", "kop:connects", "kop:about",
               "kop:subject"),
}


def facet_rows() -> list[tuple[str, str, str]]:
    """(IRI node, facet, value) for browsing: the actors involved (any
    role), the sector, the cited sentences, the places and actors a fact
    links to (for the country facet), and the year ('' for a time with no
    known year)."""
    out: list[tuple[str, str, str]] = []
    for facet, props in FACET_PROPERTIES.items():
        for prop in props:
            for r in _q(f"SELECT ?s ?v WHERE {{ ?s {prop} ?v }}"):
                s, v = r["s"], r["v"]
                if isinstance(s, ox.NamedNode) and isinstance(v, ox.NamedNode):
                    out.append((s.value, facet, v.value))
    for r in _q("""
SELECT ?s ?y ?d WHERE {
  ?s kop:hasTime ?t
  OPTIONAL { ?t time:inXSDgYear ?y }
  OPTIONAL { ?t time:inXSDDate ?d }
}"""):
        if not isinstance(r["s"], ox.NamedNode):
            continue
        year = ""
        for v in (r["y"], r["d"]):
            if v is not None and not year:
                text = v.value
                digits = text.lstrip("-")[:4]
                year = ("-" if text.startswith("-") else "") + digits if digits.isdigit() else ""
        out.append((r["s"].value, "year", year))
    return out


# --- the views (timeline, trade, network, map) --------------------------------------
# Each is read once per store: the views cut and label them per request.

def timed_facts() -> list[tuple[str, str, str, str | None]]:
    """(fact, time property, time, year or None) for every asserted link
    from a fact to a time through kop:hasTime or one of its sub-properties
    (kop:signedOn, kop:period). The year is the time's time:inXSDgYear, or
    the year of its time:inXSDDate; None when the time has no calendar
    position (id:year-before-publication)."""
    def make():
        rows = _q(f"""
SELECT DISTINCT ?f ?p ?t ?y ?d WHERE {{
  ?p rdfs:subPropertyOf* kop:hasTime .
  GRAPH {ASSERTED} {{ ?f ?p ?t }}
  FILTER(isIRI(?f) && isIRI(?t))
  OPTIONAL {{ ?t time:inXSDgYear ?y }}
  OPTIONAL {{ ?t time:inXSDDate ?d }}
}}""", named_graphs=[ns.GRAPH_ASSERTED])
        out = []
        for r in rows:
            year = None
            for v in (r["y"], r["d"]):
                if v is not None and year is None:
                    m = v.value.lstrip("-")[:4]
                    year = ("-" if v.value.startswith("-") else "") + m if m.isdigit() else None
            out.append((r["f"].value, r["p"].value, r["t"].value, year))
        return sorted(set(out))
    return handle().cached("timed_facts", make)


def vague_times() -> list[tuple[str, str, str]]:
    """(fact, words, language) for facts whose time is only words
    (kop:approximateTime "over the past few decades")."""
    def make():
        rows = _q(f"""
SELECT DISTINCT ?f ?w WHERE {{ GRAPH {ASSERTED} {{ ?f kop:approximateTime ?w }} FILTER(isIRI(?f)) }}""",
                  named_graphs=[ns.GRAPH_ASSERTED])
        return sorted((r["f"].value, r["w"].value, r["w"].language or "") for r in rows)
    return handle().cached("vague_times", make)


def trade_flows() -> list[dict]:
    """Every trade flow: {iri, exporters, importers, periods, values:
    [(amount node, value, currency)]} (values may be empty)."""
    def make():
        rows = _q(f"""
SELECT ?f ?k ?v ?c ?x WHERE {{
  ?f a kop:TradeFlow . FILTER(isIRI(?f))
  {{ GRAPH {ASSERTED} {{ ?f kop:exporter ?x }} BIND("exporter" AS ?k) }}
  UNION {{ GRAPH {ASSERTED} {{ ?f kop:importer ?x }} BIND("importer" AS ?k) }}
  UNION {{ GRAPH {ASSERTED} {{ ?f kop:period ?x }} BIND("period" AS ?k) }}
  UNION {{ GRAPH {ASSERTED} {{ ?f kop:tradeValue ?x }} ?x schema:value ?v .
           OPTIONAL {{ ?x schema:currency ?c }} BIND("value" AS ?k) }}
  UNION {{ BIND("flow" AS ?k) }}
}}""", named_graphs=[ns.GRAPH_ASSERTED])
        flows: dict[str, dict] = {}
        for r in rows:
            f = flows.setdefault(r["f"].value, {"iri": r["f"].value, "exporters": [], "importers": [],
                                                "periods": [], "values": []})
            k = r["k"].value
            if k == "value":
                item = (r["x"].value, r["v"].value, r["c"].value if r["c"] is not None else "")
                if item not in f["values"]:
                    f["values"].append(item)
            elif k != "flow" and r["x"] is not None and r["x"].value not in f[k + "s"]:
                f[k + "s"].append(r["x"].value)
        return [flows[k] for k in sorted(flows)]
    return handle().cached("trade_flows", make)


def neighbourhood(iri: str, inferred: bool = False) -> list[tuple[str, str, str, bool]]:
    """(direction "out"|"in", predicate, node, asserted?) for every IRI one
    link away from the entity; asserted links only unless `inferred`.
    Cached per store."""
    def make():
        e = _iri(iri)
        graphs = f"{ASSERTED}, {ENTAILED}" if inferred else ASSERTED
        rows = _q(f"""
SELECT DISTINCT ?d ?p ?n ?g WHERE {{
  {{ GRAPH ?g {{ {e} ?p ?n }} BIND("out" AS ?d) }}
  UNION {{ GRAPH ?g {{ ?n ?p {e} }} BIND("in" AS ?d) }}
  FILTER(isIRI(?n) && ?n != {e} && ?g IN ({graphs}))
}}""", named_graphs=[ns.GRAPH_ASSERTED, ns.GRAPH_ENTAILED])
        seen: dict = {}
        for r in rows:
            key = (r["d"].value, r["p"].value, r["n"].value)
            seen[key] = seen.get(key, False) or r["g"].value == ns.GRAPH_ASSERTED
        return tuple(sorted((d, p, n, a) for (d, p, n), a in seen.items()))
    return list(_per_iri("neighbourhood-inferred" if inferred else "neighbourhood", iri, make))


def points() -> list[tuple[str, str]]:
    """(node, WKT) for every node with a geometry (geo:hasGeometry/geo:asWKT,
    or geo:asWKT on a node that is not itself a geo:Geometry)."""
    def make():
        rows = _q("""
SELECT DISTINCT ?x ?w WHERE {
  { ?x geo:hasGeometry/geo:asWKT ?w }
  UNION { ?x geo:asWKT ?w FILTER NOT EXISTS { ?x a geo:Geometry } }
  FILTER(isIRI(?x))
}""")
        return sorted((r["x"].value, r["w"].value) for r in rows)
    return handle().cached("points", make)


def located_projects() -> list[tuple[str, str]]:
    """(project, place) for every project and its asserted kop:locatedIn."""
    def make():
        rows = _q(f"""
SELECT DISTINCT ?f ?pl WHERE {{
  ?f a kop:Project . GRAPH {ASSERTED} {{ ?f kop:locatedIn ?pl }} FILTER(isIRI(?f) && isIRI(?pl))
}}""", named_graphs=[ns.GRAPH_ASSERTED])
        return sorted((r["f"].value, r["pl"].value) for r in rows)
    return handle().cached("located_projects", make)


def connections() -> list[tuple[str, str]]:
    """(fact, place) for every asserted kop:connects (the ends of a route)."""
    def make():
        rows = _q(f"""
SELECT DISTINCT ?f ?pl WHERE {{
  GRAPH {ASSERTED} {{ ?f kop:connects ?pl }} FILTER(isIRI(?f) && isIRI(?pl)) }}""",
                  named_graphs=[ns.GRAPH_ASSERTED])
        return sorted((r["f"].value, r["pl"].value) for r in rows)
    return handle().cached("connections", make)
