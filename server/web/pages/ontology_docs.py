"""The /ontology document's view model: every class and property of the
Köprü namespace with label, comment, super/sub terms, domain/range, the SHACL
constraints that target it and how many instances it has."""

from __future__ import annotations

from server import namespaces as ns
from server.web.pages import data, render
from server.web.pages.labels import pick

OWL_CLASS = ns.OWL + "Class"
PROPERTY_KINDS = {
    ns.OWL + "ObjectProperty": "object property",
    ns.OWL + "DatatypeProperty": "datatype property",
    ns.OWL + "AnnotationProperty": "annotation property",
    ns.RDF + "Property": "property",
}
CHARACTERISTICS = {
    ns.OWL + "TransitiveProperty": "transitive",
    ns.OWL + "SymmetricProperty": "symmetric",
    ns.OWL + "FunctionalProperty": "functional",
    ns.OWL + "InverseFunctionalProperty": "inverse-functional",
}


def ref(iri: str, meta: dict, langs) -> dict:
    return {"iri": iri, "href": render.local_href(iri), "text": render.term_label(iri, meta, langs),
            "short": render.short(iri)}


def build(langs: list[str]) -> dict:
    meta = data.ontology_meta()
    counts = data.class_counts()
    shapes = data.shape_constraints()
    header = meta.get(ns.BASE + "ontology") or {}
    classes, props = [], []
    subs: dict[str, list[str]] = {}
    subprops: dict[str, list[str]] = {}
    for iri, m in meta.items():
        for s in m.get("super", []):
            subs.setdefault(s, []).append(iri)
        for s in m.get("superprop", []):
            subprops.setdefault(s, []).append(iri)
    by_domain: dict[str, list[str]] = {}
    for iri, m in meta.items():
        for d in m.get("domain", []):
            by_domain.setdefault(d, []).append(iri)

    def refs(iris):
        return sorted((ref(i, meta, langs) for i in set(iris) if i != ns.OWL + "Thing"),
                      key=lambda r: r["text"].lower())

    for iri, m in meta.items():
        if not iri.startswith(ns.KOP):
            continue
        kinds = set(m.get("kind", []))
        comment = pick(m.get("comment"), langs)
        common = {"iri": iri, "anchor": iri[len(ns.KOP):], "label": render.term_label(iri, meta, langs),
                  "labels": sorted(m.get("label", []), key=lambda x: x[1]),
                  "comment": comment[0] if comment else "", "short": render.short(iri)}
        if OWL_CLASS in kinds:
            classes.append({**common, "super": refs(m.get("super", [])),
                            "sub": refs(subs.get(iri, [])),
                            "properties": refs(by_domain.get(iri, [])),
                            "count": counts.get(iri, 0),
                            "shapes": [dict(c, path_text=render.short(c["path"]) if c["path"] else "",
                                            constraint_text=render.short(c["constraint"]),
                                            value_text=render.short(c["value"]) if "://" in c["value"]
                                            else c["value"])
                                       for c in shapes.get(iri, [])]})
        elif kinds & set(PROPERTY_KINDS):
            kind = next(PROPERTY_KINDS[k] for k in PROPERTY_KINDS if k in kinds)
            inverse_label = pick(m.get("inverse_label"), langs)
            props.append({**common, "kind": kind,
                          "inverse_label": inverse_label[0] if inverse_label else "",
                          "inverse_label_lang": inverse_label[1] if inverse_label else "",
                          "characteristics": sorted(CHARACTERISTICS[k] for k in kinds
                                                    if k in CHARACTERISTICS),
                          "domain": refs(m.get("domain", [])), "range": refs(m.get("range", [])),
                          "super": refs(m.get("superprop", [])),
                          "sub": refs(subprops.get(iri, [])),
                          "inverse": refs(m.get("inverse", []))})
    classes.sort(key=lambda c: c["anchor"].lower())
    props.sort(key=lambda p: p["anchor"].lower())
    title = pick(header.get("label"), langs)
    comment = pick(header.get("comment"), langs)

    # The class tree (roots: Köprü classes whose superclasses are all outside kop:).
    by_iri = {c["iri"]: c for c in classes}

    def tree(iri, depth=0, seen=()):
        c = by_iri[iri]
        kids = [s["iri"] for s in c["sub"] if s["iri"] in by_iri and s["iri"] not in seen]
        return {"c": c, "children": [tree(k, depth + 1, seen + (iri,)) for k in kids]}

    roots = [c["iri"] for c in classes
             if not any(s["iri"] in by_iri for s in c["super"])]
    return {"title": title[0] if title else "Köprü ontology",
            "comment": comment[0] if comment else "",
            "iri": ns.BASE + "ontology", "namespace": ns.KOP,
            "classes": classes, "properties": props,
            "tree": [tree(r) for r in roots]}
