"""Helpers for the attack tests (guard fuzzing, hostile input, limits,
worker faults): a canary listener that must never be reached, the known
attacks on the query guard, and raw HTTP for what a client library will
not send.

    Canary()                 a TCP listener on loopback counting connections;
                             .url is a SPARQL endpoint URL on it, .base its root
    KNOWN_ATTACKS            queries that made the engine call a SERVICE the
                             guard did not see ("{canary}" stands for the URL)
    raw_http(port, data)     send bytes, return (status, headers, body)
    get(url, query=None)     GET (a SPARQL query by ?query=): (status, headers, text);
                             status 0 when the server closed without answering
    server_workers(pid)      the worker pids of a gunicorn arbiter
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request


class Canary:
    """A plain TCP listener on loopback that counts the connections it gets:
    it stands for an internal service that no query may reach."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self.url = self.base + "sparql"
        self.connections = 0              # not counting reached()'s own probes
        self._probes: set[int] = set()
        self._seen = threading.Condition()
        self._accepted: set[int] = set()  # client ports
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            conn.close()
            with self._seen:
                if peer[1] in self._probes:
                    self._accepted.add(peer[1])
                else:
                    self.connections += 1
                self._seen.notify_all()

    def reached(self, timeout: float = 30) -> int:
        """Connections so far. Synchronised, not slept on: a probe connection
        is made and waited for; the kernel hands connections over in the
        order they were made, so every earlier one has been counted by then."""
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            with self._seen:
                self._probes.add(port)
            probe.connect(("127.0.0.1", self.port))
            with self._seen:
                if not self._seen.wait_for(lambda: port in self._accepted, timeout):
                    raise AssertionError(f"the canary did not see its probe within {timeout} s")
                return self.connections

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()

    def __enter__(self) -> Canary:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# Each made pyoxigraph call the SERVICE while the guard before issue 9 saw
# none. "{canary}" is the canary's URL, "{base}" its root.
KNOWN_ATTACKS = (
    # `<'>` is an IRI to the guard's old lexer, less-than and a string to the engine
    "SELECT * {{ FILTER(true||1<'>') SERVICE SILENT <{canary}> {{ }} BIND('' AS ?q) }}",
    "SELECT * {{ VALUES ?a {{1}} FILTER(true||?a<'>') . SERVICE SILENT <{canary}> {{ }} }}# '",
    "SELECT * {{ BIND(1 AS ?a) FILTER(true||?a<'''>''') SERVICE SILENT <{canary}> {{}} "
    "BIND(''' ''' AS ?q) }}",
)


def raw_http(port: int, data: bytes, *, timeout: float = 30,
             read: bool = True) -> tuple[int, dict[str, str], bytes]:
    """Send `data` as it is on a fresh connection; the status, headers and
    body of the answer (status 0: the server closed without answering)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass                      # the server answered before reading it all
        if not read:
            return 0, {}, b""
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    if not reply:
        return 0, {}, b""
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def server_workers(arbiter_pid: int) -> set[int]:
    """The pids whose parent is `arbiter_pid` (gunicorn's workers)."""
    workers = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == arbiter_pid:
            workers.add(int(entry))
    return workers


def get(url: str, query: str | None = None, *, headers: dict | None = None,
        timeout: float = 60) -> tuple[int, dict[str, str], str]:
    if query is not None:
        url += "?" + urllib.parse.urlencode({"query": query})
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, \
                r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, \
            e.read().decode("utf-8", "replace")
    except (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead):
        return 0, {}, ""


# A three-way cross join of the whole store: a query that runs until it is stopped.
RUNAWAY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def cpu_seconds(pid: int) -> float:
    """The CPU time `pid` has used (user and system), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def running_the_query(pids: set[int], before: dict[int, float],
                      at_least: float = 0.5) -> int | None:
    """The pid among `pids` that has used `at_least` seconds of CPU since
    `before`: the one running the runaway query. (A thread merely in the
    running state is no sign: the idle worker wakes to tell the arbiter it
    is alive, and killing that one left the query to run to its timeout.)"""
    for pid in pids:
        try:
            if cpu_seconds(pid) - before[pid] >= at_least:
                return pid
        except OSError:
            continue
    return None
