"""Every list, table and chart of the pages as CSV and JSON too: one table
(columns, rows) → a download, chosen by the URL's extension (`/trade.csv`)
or `?format=csv|json`, Datasette-style.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence

from flask import Response, request

FORMATS = ("csv", "json")


def requested_format(ext: str = "") -> str | None:
    """'csv', 'json' or None (HTML) for this request: the extension first,
    then ?format=."""
    fmt = (ext or request.args.get("format") or "").lower()
    return fmt if fmt in FORMATS else None


def response(name: str, columns: Sequence[str], rows: Iterable[Sequence], fmt: str,
             meta: dict | None = None) -> Response:
    """The table as a CSV file (one header line) or as JSON ({columns, rows:
    [{column: value}], …meta}). Values are written as they are; None is empty."""
    rows = [list(r) for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for r in rows:
            writer.writerow(["" if v is None else v for v in r])
        resp = Response(out.getvalue(), content_type="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = f'inline; filename="{name}.csv"'
        return resp
    body = {**(meta or {}), "columns": list(columns),
            "rows": [dict(zip(columns, r, strict=True)) for r in rows]}
    return Response(json.dumps(body, ensure_ascii=False, indent=1) + "\n",
                    content_type="application/json; charset=utf-8")
