"""Turning graph values into what a reader sees: links mapped onto this
server, money as "USD 919.5 million", years as years, WKT as coordinates,
and property wording (including the inverse wording of incoming links).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from server import namespaces as ns
from server.web.pages.labels import pick, translate

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SLUG = 200


def local_href(iri: str) -> str:
    """Where this server shows an IRI: w3id.org/kopru/… → /…; others unchanged."""
    if iri.startswith(ns.BASE):
        rest = iri[len(ns.BASE):]
        if rest.startswith("shapes"):
            # Shapes are documented with the ontology.
            return "/ontology#shape-" + rest.split("#", 1)[-1]
        return "/" + rest
    return iri


def slug_of(iri: str) -> str | None:
    if iri.startswith(ns.ID):
        slug = iri[len(ns.ID):]
        if SLUG_RE.match(slug):
            return slug
    return None


def valid_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG and bool(SLUG_RE.match(slug))


def short(iri: str) -> str:
    s = ns.shorten(iri)
    return s[1:-1] if s.startswith("<") else s


def local_name(iri: str) -> str:
    for sep in ("#", "/"):
        if sep in iri.rstrip("/"):
            tail = iri.rstrip("/").rsplit(sep, 1)[-1]
            if tail:
                return tail
    return iri


def humanise(name: str) -> str:
    """camelCase local name → 'camel case' (when a term has no label)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").replace("-", " ")
    return words[:1].upper() + words[1:] if words else name


# --- money, years, coordinates ---------------------------------------------------

_SCALE_WORDS = {"en": ("trillion", "billion", "million"), "tr": ("trilyon", "milyar", "milyon")}


def money(value: str, currency: str, lang: str = "en") -> str:
    """'919500000', 'USD' → 'USD 919.5 million' (lang 'tr': '919,5 milyon USD')."""
    cur = (currency or "").strip()
    try:
        d = Decimal(value)
    except (InvalidOperation, TypeError):
        return f"{cur} {value}".strip()
    words = _SCALE_WORDS.get(lang, _SCALE_WORDS["en"])
    for size, word in zip((Decimal(10) ** 12, Decimal(10) ** 9, Decimal(10) ** 6), words,
                          strict=True):
        if abs(d) >= size:
            amount = f"{_trim(d / size)} {word}"
            break
    else:
        amount = _group(d)
    if lang == "tr":
        # Turkish writes 919,5 and 1.250.000, and the currency after the amount.
        amount = amount.translate(str.maketrans(",.", ".,"))
        return f"{amount} {cur}".strip()
    return f"{cur} {amount}".strip()


def _trim(d: Decimal) -> str:
    text = f"{d.quantize(Decimal('0.001')):f}".rstrip("0").rstrip(".")
    return text


def _group(d: Decimal) -> str:
    if d == d.to_integral_value():
        return f"{int(d):,}"
    return f"{d:,.2f}"


def year(value: str) -> str:
    """'2008'^^xsd:gYear (possibly with a zone) → '2008'."""
    m = re.match(r"^(-?\d{4,})", value or "")
    return m.group(1) if m else value


WKT_POINT = re.compile(r"POINT\s*\(\s*(-?[\d.]+)\s+(-?[\d.]+)\s*\)", re.I)


def coordinates(wkt: str) -> str | None:
    """WKT 'POINT(lon lat)' → '44.7758° N, 17.1856° E'."""
    m = WKT_POINT.search(wkt or "")
    if not m:
        return None
    lon, lat = float(m.group(1)), float(m.group(2))
    return (f"{abs(lat):.4f}° {'N' if lat >= 0 else 'S'}, "
            f"{abs(lon):.4f}° {'E' if lon >= 0 else 'W'}")


def point(wkt: str) -> tuple[float, float] | None:
    m = WKT_POINT.search(wkt or "")
    return (float(m.group(2)), float(m.group(1))) if m else None


# --- term wording -------------------------------------------------------------------

def term_label(iri: str, meta: dict, langs: list[str]) -> str:
    """A term's label in the reader's language; a term the ontology does not
    label (rdfs:comment) gets its local name, humanised ("Comment"), in the
    UI's words where the UI has them."""
    m = meta.get(iri) or {}
    best = pick(m.get("label"), langs)
    return best[0] if best else translate(humanise(local_name(iri)), langs)


# How the external properties that have no named inverse read from their
# object's side. Köprü's own properties say it in the ontology
# (kop:inverseLabel); these are declared, not owned, in external.ttl.
EXTERNAL_INVERSE_LABELS: dict[str, dict[str, str]] = {
    ns.SEM + "hasActor": {"en": "actor in", "tr": "aktörü olduğu"},
    ns.SEM + "hasPlace": {"en": "place of", "tr": "yeri olduğu"},
    ns.SEM + "hasTime": {"en": "time of", "tr": "zamanı olduğu"},
    ns.SCHEMA + "about": {"en": "subject of", "tr": "konusu olduğu"},
    ns.PROV + "wasAttributedTo": {"en": "holder of", "tr": "sahibi olduğu"},
    ns.PROV + "wasDerivedFrom": {"en": "source of", "tr": "kaynağı olduğu"},
    ns.GEO + "hasGeometry": {"en": "geometry of", "tr": "geometrisi olduğu"},
    ns.SKOS + "inScheme": {"en": "scheme of", "tr": "şeması olduğu"},
    ns.SKOS + "exactMatch": {"en": "exact match of", "tr": "tam eşleşmesi olduğu"},
    ns.SKOS + "closeMatch": {"en": "close match of", "tr": "yakın eşleşmesi olduğu"},
    ns.ORG + "memberOf": {"en": "has member", "tr": "üyesi"},
    ns.TIME + "hasDuration": {"en": "duration of", "tr": "süresi olduğu"},
    ns.TIME + "unitType": {"en": "unit type of", "tr": "birim türü olduğu"},
}


def inverse_label(prop: str, meta: dict, langs: list[str]) -> str:
    """Wording of `s prop o` read from o's side, in the reader's language:
    the declared inverse's label ("party to", "funds"), else the property's
    kop:inverseLabel ("location of"), else the table above for external
    terms, else a phrase made from its label ("has geometry" → "geometry
    of"), or, when nothing reads well, an arrow: "← label"."""
    m = meta.get(prop) or {}
    for inv in m.get("inverse", []):
        if (meta.get(inv) or {}).get("label"):
            return term_label(inv, meta, langs)
    best = pick(m.get("inverse_label"), langs)
    if best:
        return best[0]
    table = EXTERNAL_INVERSE_LABELS.get(prop)
    if table:
        lang = next((tag for tag in langs if tag in table), "en")
        return table[lang]
    label = term_label(prop, meta, langs)
    words = label.split()
    if best_lang(m.get("label"), langs) == "en":
        if len(words) > 1 and words[0].lower() == "has":
            return " ".join(words[1:]) + " of"
        if words and words[-1].lower() not in _PREPOSITIONS and not label.endswith("ed"):
            return f"{label} of"
    return f"← {label}"


_PREPOSITIONS = ("by", "in", "on", "to", "of", "with", "about", "for", "from", "as", "at", "within")


def best_lang(pairs, langs: list[str]) -> str:
    """The language of the label `pick` chooses ('en' when there is none:
    a humanised local name is English)."""
    best = pick(pairs, langs)
    return best[1].split("-")[0].lower() if best else "en"


# --- literals -----------------------------------------------------------------------

SHOW_DATATYPE = {ns.XSD + "string", ns.RDF + "langString"}


def literal_view(lit) -> dict:
    """A literal → {text, lang, datatype (short, when it matters)}."""
    dt = lit.datatype.value if lit.datatype is not None else ""
    text = lit.value
    if dt == ns.XSD + "gYear":
        text = year(text)
    elif dt == ns.GEO + "wktLiteral":
        text = coordinates(text) or text
    elif dt in (ns.XSD + "integer", ns.XSD + "int", ns.XSD + "long"):
        try:
            text = f"{int(text):,}"
        except ValueError:
            pass
    show_dt = "" if (lit.language or dt in SHOW_DATATYPE) else short(dt)
    return {"text": text, "lang": lit.language or "", "datatype": show_dt, "raw": lit.value}
