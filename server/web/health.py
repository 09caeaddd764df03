"""/healthz: whether the store answers, for load balancers and containers.

    200 {"status": "ok", "store": "embedded"|"remote", "triples": 5725, "dataset": 4993,
         "shapes": 732, "build": "bf29d0c9a0c70873"}
    503 {"status": "unavailable", "store": …, "triples": null, "error": "…"}

`triples` is everything the store holds: the dataset (asserted + ontology
+ entailed, the SPARQL default graph) and the shapes graph, each also given.

Every call asks the store something through the path user queries take,
with a short deadline; the triple count is worked out once per build.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app

from server import formats
from server.namespaces import ALL_GRAPHS, DEFAULT_GRAPHS, GRAPH_SHAPES

bp = Blueprint("health", __name__)

HEALTH_TIMEOUT = 5.0
_COUNT = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _reply(status: int, doc: dict) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False) + "\n", status=status,
                    content_type="application/json", headers={"Cache-Control": "no-store"})


@bp.route("/healthz", methods=["GET", "HEAD"])
def healthz():
    config = current_app.config["KOPRU"]
    executor = current_app.extensions["kopru.executor"]
    kind = "remote" if config.remote else "embedded"
    timeout = min(config.query_timeout, HEALTH_TIMEOUT)
    try:
        build = executor.probe(timeout)

        def count() -> dict[str, int]:
            answer = executor.run(_COUNT, formats.TSV, ["urn:x-kopru:empty"], list(ALL_GRAPHS),
                                  timeout=timeout)
            return _tsv_counts(answer.body)

        counts = current_app.extensions["kopru.cache"].value("health:triples", count)
    except Exception as e:                       # noqa: BLE001 — any failure is "unavailable"
        message = getattr(e, "message", None) or str(e) or type(e).__name__
        return _reply(503, {"status": "unavailable", "store": kind, "triples": None,
                            "error": message})
    return _reply(200, {"status": "ok", "store": kind, "triples": sum(counts.values()),
                        "dataset": sum(counts.get(g, 0) for g in DEFAULT_GRAPHS),
                        "shapes": counts.get(GRAPH_SHAPES, 0),
                        "build": (build or "")[:16] or None})


def _tsv_counts(body: bytes) -> dict[str, int]:
    """Graph IRI → triples, from a TSV answer of ?g ?n."""
    counts = {}
    for row in body.decode().splitlines()[1:]:
        g, _, n = row.partition("\t")
        if g.startswith("<") and n:
            counts[g[1:-1]] = int(n.split("^^")[0].strip('"'))
    return counts
