"""/healthz: whether the store answers, for load balancers and containers.

    200 {"status": "ok", "store": "embedded"|"remote", "triples": 5620, "build": "bf29d0c9a0c70873"}
    503 {"status": "unavailable", "store": …, "triples": null, "error": "…"}

Every call asks the store something (a query through the same path user
queries take: the worker's query thread for the embedded store, an HTTP request
for a remote one), with a short deadline. The triple count (Köprü's four
graphs) is cached per build, so a health check stays cheap on a big graph.
"""

from __future__ import annotations

import json
import threading

from flask import Blueprint, Response, current_app

from server.namespaces import ALL_GRAPHS

bp = Blueprint("health", __name__)

HEALTH_TIMEOUT = 5.0
_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
_counts: dict = {}
_lock = threading.Lock()


def _reply(status: int, doc: dict) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False) + "\n", status=status,
                    content_type="application/json",
                    headers={"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"})


@bp.route("/healthz", methods=["GET", "HEAD"])
def healthz():
    config = current_app.config["KOPRU"]
    executor = current_app.extensions["kopru.executor"]
    kind = "remote" if config.remote else "embedded"
    timeout = min(config.query_timeout, HEALTH_TIMEOUT)
    try:
        if config.remote:
            doc = _remote(executor.store, timeout)
        else:
            doc = _embedded(executor, timeout)
    except Exception as e:                       # noqa: BLE001 — any failure is "unavailable"
        message = getattr(e, "message", None) or str(e) or type(e).__name__
        return _reply(503, {"status": "unavailable", "store": kind, "triples": None,
                            "error": message})
    return _reply(200, {"status": "ok", "store": kind, **doc})


def _cached_count(key, count):
    with _lock:
        if key is not None and key in _counts:
            return _counts[key]
    n = count()
    if key is not None:
        with _lock:
            if len(_counts) > 8:
                _counts.clear()
            _counts[key] = n
    return n


def _embedded(executor, timeout: float) -> dict:
    import os

    from server.store import read_manifest

    target = executor._target()
    if not os.path.isdir(target):
        raise RuntimeError(f"no store at {executor.store_path} (run `kopru build`)")
    # The probe goes through the query engine itself, every time.
    executor.run("ASK {}", "json", None, None, timeout=timeout)

    def count() -> int:
        ans = executor.run(_COUNT, "tsv", None, list(ALL_GRAPHS), timeout=timeout)
        return _tsv_int(ans.body)

    manifest = read_manifest(target)
    return {"triples": _cached_count(("embedded", target), count),
            "build": (manifest.get("hash") or "")[:16] or None}


def _remote(store, timeout: float) -> dict:
    meta = store.meta(timeout=timeout)           # the probe: one query, every time
    version = meta.get("version")

    def count() -> int:
        res = store.query(_COUNT, default_graph=["urn:x-kopru:empty"],
                          named_graphs=list(ALL_GRAPHS), timeout=timeout)
        return int(next(iter(res))["n"].value)

    key = ("remote", store.endpoints.query, version) if version else None
    return {"triples": _cached_count(key, count),
            "build": (meta.get("hash") or "")[:16] or None}


def _tsv_int(body: bytes) -> int:
    lines = body.decode().splitlines()
    value = lines[1] if len(lines) > 1 else "0"
    return int(value.split("^^")[0].strip('"'))
