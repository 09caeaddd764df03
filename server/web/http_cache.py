"""HTTP caching and compression for everything the app answers.

- What a build determines (pages, entity documents, dumps, VoID, query
  answers…) carries an ETag made from the build, this server's code and
  settings, and the variant asked for, a Last-Modified (the build time, or
  the server's start when later) and `Cache-Control: public, no-cache`;
  `If-None-Match` / `If-Modified-Since` are answered 304. A view that sets
  its own Cache-Control (no-store: /healthz, federated or random answers)
  is left alone.
- Static files: `url_for('static', …)` adds `?v=<content hash>`; a URL with
  the current hash is cached for a year.
- gzip for text-like bodies over 1 KiB when the client accepts it (never
  otherwise), with `Vary: Accept-Encoding`; compressed bodies are kept per
  ETag, static files per content, so each is compressed once per process.
- `X-Content-Type-Options: nosniff` on every answer.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import os
import threading
from pathlib import Path

import cachetools
from flask import Flask, Response, current_app, request
from werkzeug.security import safe_join

from server.stores.state import read_manifest

STATIC_MAX_AGE = 365 * 24 * 3600
MIN_COMPRESS = 1024
GZIP_CACHE_BYTES = 32 << 20
_COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml",
                 "application/n-triples", "application/n-quads", "application/trig",
                 "image/svg+xml")
_COMPRESSIBLE_SUFFIXES = ("+json", "+xml")


def install(app: Flask) -> None:
    """Register the static fingerprints and the response hook on `app`."""
    state = _State(app)
    app.extensions["kopru.http"] = state
    app.url_defaults(state.static_version)
    app.after_request(state.finish)


class _State:
    def __init__(self, app: Flask) -> None:
        self.started = dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.code = _code_fingerprint(app)
        self.static_folder = Path(app.static_folder or "")
        self._hashes: dict[tuple, str] = {}
        self._gzipped: cachetools.LRUCache = cachetools.LRUCache(GZIP_CACHE_BYTES, getsizeof=len)
        self._lock = threading.Lock()

    # --- static files ---------------------------------------------------------------

    def static_version(self, endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            digest = self.static_hash(values["filename"])
            if digest:
                values["v"] = digest

    def static_hash(self, filename: str) -> str | None:
        path = safe_join(str(self.static_folder), filename)
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (path, st.st_mtime_ns, st.st_size)
        digest = self._hashes.get(key)
        if digest is None:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
            self._hashes[key] = digest
        return digest

    # --- every response -------------------------------------------------------------

    def finish(self, response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.method not in ("GET", "HEAD"):
            return response
        if request.endpoint == "static":
            return self._static(response)
        if response.status_code != 200:
            return response
        compress = self._compressible(response) and not response.is_streamed
        if compress:
            response.vary.add("Accept-Encoding")
        gzip_it = compress and _accepts_gzip()
        if "Cache-Control" not in response.headers and "ETag" not in response.headers:
            stamp = self._build_stamp()
            if stamp is not None:
                version, modified = stamp
                response.set_etag(self._etag(version, response, gzip_it))
                response.last_modified = max(modified, self.started) if modified \
                    else self.started
                response.headers["Cache-Control"] = "public, no-cache"
                response.make_conditional(request)
                if response.status_code == 304:
                    return response
        if gzip_it:
            self._gzip(response, key=response.get_etag()[0])
        return response

    def _static(self, response: Response) -> Response:
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == self.static_hash(filename):
            response.headers["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE}, immutable"
        if response.status_code != 200 or not self._compressible(response):
            return response
        response.vary.add("Accept-Encoding")
        if not _accepts_gzip() or "Range" in request.headers:
            return response
        path = safe_join(str(self.static_folder), filename)
        if path is None:
            return response
        etag, _weak = response.get_etag()
        body = Path(path).read_bytes()
        opened = response.response
        if hasattr(opened, "close"):
            opened.close()                # the file send_file opened
        response.direct_passthrough = False
        response.set_data(body)
        self._gzip(response, key=f"static:{path}:{etag}")
        if etag:
            response.set_etag(f"{etag}-gzip")
        response.make_conditional(request)
        return response

    def _compressible(self, response: Response) -> bool:
        if "Content-Encoding" in response.headers:
            return False
        length = response.content_length
        if length is not None and length < MIN_COMPRESS:
            return False
        mimetype = response.mimetype or ""
        return mimetype.startswith(_COMPRESSIBLE) or mimetype.endswith(_COMPRESSIBLE_SUFFIXES)

    def _gzip(self, response: Response, key: str | None) -> None:
        with self._lock:
            packed = self._gzipped.get(key) if key else None
        if packed is None:
            body = response.get_data()
            if len(body) < MIN_COMPRESS:
                return
            packed = gzip.compress(body, compresslevel=6, mtime=0)
            if key:
                with self._lock:
                    try:
                        self._gzipped[key] = packed
                    except ValueError:        # larger than the whole cache
                        pass
        response.set_data(packed)
        response.headers["Content-Encoding"] = "gzip"

    # --- validators -----------------------------------------------------------------

    def _build_stamp(self) -> tuple[str, dt.datetime | None] | None:
        """(what the store holds, when it was built or pushed); None when
        that cannot be told (no build, a remote store with nothing pushed or
        not answering): then nothing is validated."""
        try:
            version = current_app.extensions["kopru.executor"].version()
            if version is None:
                return None
            modified = build_time()
        except Exception:                 # noqa: BLE001 — no validators, the answer stands
            return None
        return version, modified

    def _etag(self, version: str, response: Response, gzipped: bool) -> str:
        h = hashlib.sha256()
        if request.endpoint == "sparql.sparql" and response.mimetype == "text/html":
            # The query UI lists queries/*.rq as they are on disk, not as built.
            h.update(_gallery_stamp(current_app.config["KOPRU"].project_root))
        for part in (version, self.code, request.full_path, response.content_type or "",
                     response.headers.get("Content-Encoding", ""), "gzip" if gzipped else "",
                     request.headers.get("Accept", ""), request.headers.get("Accept-Language", ""),
                     *(request.headers.get(name, "") for name in sorted(response.vary)
                       if name.lower() != "accept-encoding")):    # `gzipped` says it
            h.update(part.encode("utf-8", "surrogateescape") + b"\0")
        return h.hexdigest()[:32]


def _gallery_stamp(project_root) -> bytes:
    stamp = []
    for path in sorted(Path(project_root, "queries").glob("*.rq")):
        try:
            st = path.stat()
        except OSError:
            continue
        stamp.append(f"{path.name}:{st.st_mtime_ns}:{st.st_size}")
    return "\n".join(stamp).encode()


def _accepts_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def build_time() -> dt.datetime | None:
    """When the build the store holds was made (embedded) or pushed
    (remote); None when unknown. Read once per build."""
    return current_app.extensions["kopru.cache"].value("http:build-time", _build_time)


def _build_time() -> dt.datetime | None:
    executor = current_app.extensions["kopru.executor"]
    if current_app.config["KOPRU"].remote:
        stamp = executor.store().meta().get("pushedAt")
    else:
        version = executor.version()
        stamp = read_manifest(version).get("built_at") if version else None
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _code_fingerprint(app: Flask) -> str:
    """This server's code, templates, static files and settings: a new
    release or new settings must not be answered 304 from the old one."""
    config = app.config["KOPRU"]
    settings = repr(config.replace(store_password=None, flask={}))
    return hashlib.sha256((_package_digest() + settings).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def _package_digest() -> str:
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent.parent
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".css", ".js", ".json"):
            h.update(str(path.relative_to(root)).encode() + b"\0")
            h.update(path.read_bytes())
    return h.hexdigest()
