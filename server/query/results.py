"""SPARQL result serializers for truncated SELECT answers: the first
`limit` rows in the W3C formats (pyoxigraph cannot serialize part of a
solution sequence). Terms are pyoxigraph terms.
"""

from __future__ import annotations

import csv
import io
import json
from xml.sax.saxutils import escape, quoteattr

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _kind(term) -> str:
    return type(term).__name__    # NamedNode, BlankNode, Literal, Triple


def json_term(term) -> dict:
    k = _kind(term)
    if k == "NamedNode":
        return {"type": "uri", "value": term.value}
    if k == "BlankNode":
        return {"type": "bnode", "value": term.value}
    if k == "Literal":
        d = {"type": "literal", "value": term.value}
        if term.language:
            d["xml:lang"] = term.language
        else:
            dt = term.datatype.value
            if dt != XSD_STRING:
                d["datatype"] = dt
        return d
    if k == "Triple":
        return {"type": "triple", "value": {
            "subject": json_term(term.subject),
            "predicate": json_term(term.predicate),
            "object": json_term(term.object)}}
    return {"type": "literal", "value": str(term)}


def to_json(variables: list[str], rows, limit: int, truncated: bool) -> bytes:
    bindings = []
    for row in rows:
        b = {}
        for i, v in enumerate(variables):
            t = row[i]
            if t is not None:
                b[v] = json_term(t)
        bindings.append(b)
    doc = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    if truncated:
        doc["kopru"] = {"truncated": True, "limit": limit}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def _xml_term(term) -> str:
    k = _kind(term)
    if k == "NamedNode":
        return f"<uri>{escape(term.value)}</uri>"
    if k == "BlankNode":
        return f"<bnode>{escape(term.value)}</bnode>"
    if k == "Literal":
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        dt = term.datatype.value
        if dt != XSD_STRING:
            return f"<literal datatype={quoteattr(dt)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    if k == "Triple":
        return ("<triple><subject>" + _xml_term(term.subject) + "</subject><predicate>"
                + _xml_term(term.predicate) + "</predicate><object>" + _xml_term(term.object)
                + "</object></triple>")
    return f"<literal>{escape(str(term))}</literal>"


def to_xml(variables: list[str], rows, limit: int, truncated: bool) -> bytes:
    out = ['<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
    out.extend(f"<variable name={quoteattr(v)}/>" for v in variables)
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        for i, v in enumerate(variables):
            t = row[i]
            if t is not None:
                out.append(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>")
        out.append("</result>")
    out.append("</results></sparql>")
    return "".join(out).encode()


def _csv_value(term) -> str:
    if term is None:
        return ""
    k = _kind(term)
    if k == "BlankNode":
        return "_:" + term.value
    if k in ("NamedNode", "Literal"):
        return term.value
    return str(term)


def to_csv(variables: list[str], rows, limit: int, truncated: bool) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(variables)
    for row in rows:
        w.writerow([_csv_value(row[i]) for i in range(len(variables))])
    return buf.getvalue().encode()


def to_tsv(variables: list[str], rows, limit: int, truncated: bool) -> bytes:
    # pyoxigraph's str() of a term is its N-Triples form, which is what TSV uses
    # (literal escapes keep one row per line).
    lines = ["\t".join("?" + v for v in variables)]
    for row in rows:
        lines.append("\t".join("" if row[i] is None else str(row[i]) for i in range(len(variables))))
    return ("\n".join(lines) + "\n").encode()


SERIALIZERS = {"json": to_json, "xml": to_xml, "csv": to_csv, "tsv": to_tsv}


def count_rows(fmt: str, body: bytes) -> int:
    """Rows in a complete SELECT answer serialized by pyoxigraph."""
    if fmt == "xml":
        return body.count(b"<result>")
    if fmt == "tsv":
        return max(body.count(b"\n") - 1, 0)
    if fmt == "csv":
        return max(sum(1 for _ in csv.reader(io.StringIO(body.decode(), newline=""))) - 1, 0)
    doc = json.loads(body)
    return len(doc.get("results", {}).get("bindings", ()))


# Fewest bytes one row can take in each format: an answer shorter than
# limit × this cannot have more than `limit` rows, so it needs no counting.
MIN_ROW_BYTES = {"json": 3, "xml": 17, "csv": 2, "tsv": 1}
