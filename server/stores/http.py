"""The HTTP side of a remote SPARQL store: where its endpoints are, and a
small HTTP/1.1 client (standard library only) with a deadline per request,
answers read whole or as they arrive, keep-alive connections per thread,
basic or digest auth, and a one-second circuit breaker after connection
failures.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import os
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, replace

from server import __version__
from server.config import settings

CONNECT_TIMEOUT = 5.0                  # seconds to open a connection to the store
BREAKER_SECONDS = 1.0                  # fail fast this long after a connection failure


class HttpTimeout(Exception):
    """No complete answer before the deadline."""


class Unreachable(Exception):
    """No connection to the store (refused, reset, DNS, …); the text says which."""



@dataclass(frozen=True)
class Endpoints:
    """The store's SPARQL endpoints. `url` may be the store's base URL
    (Oxigraph server: http://host:7878; Fuseki: http://host:3030/ds) or its
    query endpoint (…/query, …/sparql); the others are derived from it
    unless given: <base>/query, <base>/update, <base>/store (Oxigraph's
    Graph Store Protocol; Fuseki's is <base>/data). A Virtuoso query
    endpoint (…/sparql, …/sparql-auth) takes updates itself and has its
    Graph Store Protocol at …/sparql-graph-crud(-auth): `for_server` adapts
    the derived URLs once the store has said what it is."""

    query: str
    update: str
    gsp: str
    gsp_given: bool = False
    user: str | None = None
    password: str | None = None
    update_given: bool = False

    @classmethod
    def from_url(cls, url: str, update_url: str | None = None, gsp_url: str | None = None,
                 user: str | None = None, password: str | None = None,
                 environ: Mapping[str, str] | None = None) -> Endpoints:
        env = settings(environ)
        url, url_user, url_password = _split_userinfo(url.strip())
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"not an http(s) URL of a SPARQL store: {url!r}")
        path = u.path.rstrip("/")
        last = path.rsplit("/", 1)[-1]
        if last in ("query", "sparql", "sparql-auth"):
            query = urllib.parse.urlunsplit((u.scheme, u.netloc, path, u.query, ""))
            base = urllib.parse.urlunsplit((u.scheme, u.netloc, path.rsplit("/", 1)[0], "", ""))
        else:
            base = urllib.parse.urlunsplit((u.scheme, u.netloc, path, "", ""))
            query = base + "/query"
        update_url = update_url or env.store_update_url
        gsp_url = gsp_url or env.store_gsp_url
        if user is None:
            user = env.store_user or url_user
        if password is None:
            password = env.store_password or url_password
        if last == "sparql-auth":           # only Virtuoso has this one
            derived_update, derived_gsp = query, base + "/sparql-graph-crud-auth"
        else:
            derived_update, derived_gsp = base + "/update", base + "/store"
        return cls(query=query,
                   update=_split_userinfo(update_url)[0] if update_url else derived_update,
                   gsp=_split_userinfo(gsp_url)[0] if gsp_url else derived_gsp,
                   gsp_given=bool(gsp_url), user=user or None, password=password or None,
                   update_given=bool(update_url))

    def for_server(self, server: str) -> Endpoints:
        """These endpoints for the store that answered with this Server
        header: Virtuoso takes updates at its query endpoint and has its
        Graph Store Protocol beside it (the URLs given explicitly stay)."""
        if not server.lower().startswith("virtuoso"):
            return self
        base, _, last = self.query.partition("?")[0].rpartition("/")
        crud = base + ("/sparql-graph-crud-auth" if last == "sparql-auth" else "/sparql-graph-crud")
        return replace(self, update=self.update if self.update_given else self.query,
                       gsp=self.gsp if self.gsp_given else crud)

    @property
    def display(self) -> str:
        """The query endpoint, for messages (never with credentials)."""
        return self.query


def _split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    u = urllib.parse.urlsplit(url)
    if "@" not in u.netloc:
        return url, None, None
    info, _, host = u.netloc.rpartition("@")
    user, _, password = info.partition(":")
    clean = urllib.parse.urlunsplit((u.scheme, host, u.path, u.query, u.fragment))
    return (clean, urllib.parse.unquote(user) or None,
            urllib.parse.unquote(password) if password else None)



@dataclass
class Reply:
    status: int
    reason: str
    content_type: str          # media type, lower case, without parameters
    body: bytes
    truncated: bool = False    # the line cap was reached (more was on its way)
    lines: int = 0             # newline-terminated lines kept (when capped)
    server: str = ""           # the Server header (Oxigraph server is recognised by it)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class HttpClient:
    """A tiny HTTP/1.1 client (standard library only) with a total deadline
    per request, keep-alive connections per thread, basic or digest auth,
    and a one-second circuit breaker after connection failures."""

    def __init__(self, endpoints: Endpoints, connect_timeout: float = CONNECT_TIMEOUT):
        self.endpoints = endpoints
        self.connect_timeout = connect_timeout
        self.headers = {"User-Agent": f"kopru/{__version__}"}
        if endpoints.user is not None:
            token = f"{endpoints.user}:{endpoints.password or ''}".encode()
            self.headers["Authorization"] = "Basic " + base64.b64encode(token).decode("ascii")
        self._local = threading.local()
        self._pid = os.getpid()
        self._down_until = 0.0
        self._down_reason = ""
        self._digest: dict[str, str] | None = None     # the last digest challenge
        self._digest_count = 0
        self._digest_lock = threading.Lock()

    # connections ---------------------------------------------------------------

    def _pool(self) -> dict:
        if self._pid != os.getpid():          # forked: the parent's sockets are not ours
            self._pid = os.getpid()
            self._local = threading.local()
            self._down_until = 0.0
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = {}
        return pool

    def _connect(self, key, deadline: float):
        scheme, host, port = key
        timeout = max(min(self.connect_timeout, deadline - time.monotonic()), 0.001)
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = cls(host, port, timeout=timeout)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise Unreachable(_describe(e)) from None
        return conn

    def close(self) -> None:
        pool = getattr(self._local, "pool", None) or {}
        for conn in pool.values():
            conn.close()
        pool.clear()

    def _fail(self, reason: str) -> Unreachable:
        self._down_until = time.monotonic() + BREAKER_SECONDS
        self._down_reason = reason
        return Unreachable(reason)

    # digest auth (RFC 7616: Virtuoso's -auth endpoints ask for it) ----------------

    def _authorization(self, method: str, path: str) -> str | None:
        """A Digest Authorization header for the last challenge, if any."""
        with self._digest_lock:
            challenge = self._digest
            if challenge is None or self.endpoints.user is None:
                return None
            self._digest_count += 1
            count = f"{self._digest_count:08x}"
        return digest_authorization(challenge, self.endpoints.user,
                                    self.endpoints.password or "", method, path, count)

    def _learn_challenge(self, resp) -> bool:
        """Remember a Digest challenge of a 401; whether there is a new one to answer."""
        for value in resp.headers.get_all("WWW-Authenticate") or ():
            if value.strip().lower().startswith("digest"):
                challenge = parse_challenge(value)
                with self._digest_lock:
                    fresh = self._digest is None or challenge.get("nonce") != \
                        self._digest.get("nonce") or challenge.get("stale", "").lower() == "true"
                    self._digest = challenge
                    self._digest_count = 0
                return fresh
        return False

    # requests ------------------------------------------------------------------

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, *, timeout: float,
                cap: int | None = None, reuse: bool = True, stream: bool = False):
        """Send one request and read the whole answer (or its first `cap`
        lines) within `timeout` seconds. With `stream`, a 2xx answer comes
        back unread as a `Stream` (the caller reads and closes it); any other
        answer is read whole. Raises HttpTimeout or Unreachable."""
        deadline = time.monotonic() + timeout
        if time.monotonic() < self._down_until:
            raise Unreachable(self._down_reason)
        u = urllib.parse.urlsplit(url)
        key = (u.scheme, u.hostname, u.port)
        path = (u.path or "/") + ("?" + u.query if u.query else "")
        pool = self._pool()
        retried_stale = bare = False
        auth_tries = 0
        while True:
            all_headers = dict(self.headers)
            all_headers.update(headers or {})
            digest = self._authorization(method, path)
            if digest:
                all_headers["Authorization"] = digest
            elif bare:
                all_headers.pop("Authorization", None)
            conn = pool.pop(key, None) if reuse else None
            fresh = conn is None
            try:
                if conn is None:
                    conn = self._connect(key, deadline)
                conn.sock.settimeout(max(deadline - time.monotonic(), 0.001))
                conn.request(method, path, body=body, headers=all_headers)
                resp = conn.getresponse()
                if resp.status == 401 and self.endpoints.user is not None and auth_tries < 2:
                    fresh = self._learn_challenge(resp)
                    if fresh or (not digest and not bare):
                        # Answer a digest challenge; or, when Basic got a 401 with no
                        # challenge (Virtuoso's -auth endpoints), ask without it for one.
                        auth_tries += 1
                        bare = bare or not fresh
                        resp.read()
                        if resp.will_close:
                            conn.close()
                        else:
                            pool[key] = conn
                        continue
                if stream and 200 <= resp.status < 300:
                    return Stream(resp, conn, deadline, self if reuse else None, key)
                reply, keep = _read(resp, conn, deadline, cap)
            except Unreachable as e:
                raise self._fail(str(e)) from None
            except TimeoutError:
                if conn is not None:
                    conn.close()
                if time.monotonic() >= deadline - 0.01:
                    raise HttpTimeout() from None
                raise Unreachable("the connection timed out") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    ConnectionAbortedError) as e:
                if conn is not None:
                    conn.close()
                if not fresh and not retried_stale:
                    retried_stale = True
                    continue             # a keep-alive connection the store had closed
                raise self._fail(_describe(e)) from None
            except (OSError, http.client.HTTPException) as e:
                if conn is not None:    # None: the URL's host was refused (InvalidURL)
                    conn.close()
                raise self._fail(_describe(e)) from None
            if keep and reuse:
                pool[key] = conn
            else:
                conn.close()
            return reply

    def _give_back(self, key, conn) -> None:
        self._pool()[key] = conn


class Stream(io.RawIOBase):
    """A 2xx answer read as it arrives (a file for pyoxigraph's parsers),
    within the request's deadline. Closing it before the end drops the
    connection; a connection read to the end goes back to the pool."""

    def __init__(self, resp, conn, deadline: float, client: HttpClient | None, key) -> None:
        super().__init__()
        self.resp, self.conn, self.deadline = resp, conn, deadline
        self.status, self.reason = resp.status, resp.reason
        self.content_type = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
        self.server = resp.getheader("Server") or ""
        self._client, self._key = client, key
        self._ended = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise HttpTimeout()
        if self.conn.sock is not None:
            self.conn.sock.settimeout(remaining)
        try:
            data = self.resp.read1(len(buffer))
        except TimeoutError:
            raise HttpTimeout() from None
        except (OSError, http.client.HTTPException) as e:
            raise Unreachable(_describe(e)) from None
        if not data:
            self._ended = True
            return 0
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            if self._ended and self._client is not None and not self.resp.will_close:
                self.resp.read()                    # b"": marks the answer complete
                self._client._give_back(self._key, self.conn)
            else:
                self.conn.close()
        super().close()


def parse_challenge(header: str) -> dict[str, str]:
    """`Digest realm="x", nonce="y", qop="auth"` → {realm: x, nonce: y, qop: auth}."""
    text = header.strip()[len("digest"):]
    return {k.lower(): v1 if v1 or not v2 else v2 for k, v1, v2 in
            re.findall(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))', text)}


def digest_authorization(challenge: Mapping[str, str], user: str, password: str,
                         method: str, uri: str, count: str, cnonce: str | None = None) -> str:
    """The Authorization header answering a Digest challenge (MD5 or
    SHA-256, qop "auth" or none)."""
    algorithm = challenge.get("algorithm", "MD5")
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}.get(algorithm.upper().replace(
        "-SESS", ""), hashlib.md5)

    def H(text: str) -> str:
        return h(text.encode("utf-8")).hexdigest()

    realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
    cnonce = cnonce or secrets.token_hex(8)
    ha1 = H(f"{user}:{realm}:{password}")
    if algorithm.lower().endswith("-sess"):
        ha1 = H(f"{ha1}:{nonce}:{cnonce}")
    ha2 = H(f"{method}:{uri}")
    qops = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
    fields = {"username": user, "realm": realm, "nonce": nonce, "uri": uri,
              "algorithm": algorithm}
    if "auth" in qops:
        fields.update(qop="auth", nc=count, cnonce=cnonce,
                      response=H(f"{ha1}:{nonce}:{count}:{cnonce}:auth:{ha2}"))
    else:
        fields["response"] = H(f"{ha1}:{nonce}:{ha2}")
    if "opaque" in challenge:
        fields["opaque"] = challenge["opaque"]
    unquoted = {"algorithm", "qop", "nc"}
    return "Digest " + ", ".join(f"{k}={v}" if k in unquoted else f'{k}="{v}"'
                                 for k, v in fields.items())


def _read(resp, conn, deadline: float, cap: int | None) -> tuple[Reply, bool]:
    reply, keep = _read_body(resp, conn, deadline, cap)
    reply.server = resp.getheader("Server") or ""
    return reply, keep


def _read_body(resp, conn, deadline: float, cap: int | None) -> tuple[Reply, bool]:
    ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
    chunks: list[bytes] = []
    lines = 0
    truncated = False
    max_lines = cap if 200 <= resp.status < 300 else None   # an error is read whole
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError()
        if conn.sock is not None:
            conn.sock.settimeout(remaining)
        data = resp.read1(1 << 16)
        if not data:
            break
        if max_lines is not None:
            n = data.count(b"\n")
            if lines + n >= max_lines:
                # keep up to and including the cap-th newline; anything after it
                # (now or later) means the answer has more
                cut = -1
                for _ in range(max_lines - lines):
                    cut = data.index(b"\n", cut + 1)
                chunks.append(data[:cut + 1])
                lines = max_lines
                rest = data[cut + 1:]
                truncated = bool(rest) or _more(resp, conn, deadline)
                if not truncated:
                    resp.read()                 # nothing left: marks the answer complete
                return Reply(resp.status, resp.reason, ctype, b"".join(chunks), truncated,
                             lines), not truncated and not resp.will_close
            lines += n
        chunks.append(data)
    chunks.append(resp.read())                  # b"": marks the answer complete
    return (Reply(resp.status, resp.reason, ctype, b"".join(chunks), False, lines),
            not resp.will_close)


def _more(resp, conn, deadline: float) -> bool:
    """Whether the answer goes on past what was read."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return True
    if conn.sock is not None:
        conn.sock.settimeout(remaining)
    return bool(resp.read1(1))


def _describe(e: BaseException) -> str:
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, socket.gaierror):
        return f"cannot resolve the host name ({e.strerror or e})"
    if isinstance(e, (socket.timeout, TimeoutError)):
        return "no connection within the time limit"
    if isinstance(e, http.client.RemoteDisconnected):
        return "the store closed the connection"
    if isinstance(e, ConnectionResetError):
        return "the connection was reset"
    text = getattr(e, "strerror", None) or str(e) or type(e).__name__
    return text


def message_of(reply: Reply, limit: int = 2000) -> str:
    text = reply.text.strip()
    if reply.content_type == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
        text = re.sub(r"\s+", " ", text).strip()
    # Virtuoso follows its message with the query as it rewrote it: not for people.
    text = text.split("\n\nSPARQL query:", 1)[0].strip()
    return text if len(text) <= limit else text[:limit] + " …"
