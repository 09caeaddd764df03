"""A real OpenLink Virtuoso for the tests (Debian's `virtuoso-opensource`),
started and stopped like `OxigraphServer`, and what the remote-store tests
need to treat either store alike.

    VirtuosoServer(root)       `virtuoso-t +foreground` with its own
                               virtuoso.ini in `root`, loopback ports;
                               start() / stop() (SIGTERM) / restart(), data kept
    STORE_SERVERS              kind → server class ("oxigraph", "virtuoso"):
                               parametrize a fixture over it to run a test on both
    direct_query(server, q)    ask the store itself (not through Köprü): rows
    direct_update(server, u)   change the store behind Köprü's back
    reset_store(server)        empty it back to what it held when new (one
                               server shared, reset before each test)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from helpers import OxigraphServer, free_port, stop_process

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
USER, PASSWORD = "kopru", "s3cret"    # the account conftest's worker_virtuoso creates
ANYONE = "SPARQL"                      # the account Virtuoso's /sparql runs as

INI = """\
; Written by tests/virtuoso.py: a private, loopback-only Virtuoso.
[Database]
DatabaseFile       = {root}/virtuoso.db
ErrorLogFile       = {root}/virtuoso.log
LockFile           = {root}/virtuoso.lck
TransactionFile    = {root}/virtuoso.trx
xa_persistent_file = {root}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {root}/virtuoso-temp.db
TransactionFile    = {root}/virtuoso-temp.trx
Striping           = 0

[Parameters]
ServerPort         = 127.0.0.1:{sql_port}
DisableUnixSocket  = 1
CheckpointInterval = 60
NumberOfBuffers    = 8000
MaxDirtyBuffers    = 6000
ThreadsPerQuery    = 2
DirsAllowed        = {root}

[HTTPServer]
ServerPort         = 127.0.0.1:{http_port}
ServerRoot         = {root}/vsp
ServerThreads      = 10
MaxClientConnections = 10
MaxKeepAlives      = 10
EnabledDavVSP      = 0
Charset            = UTF-8

[SPARQL]
; Above Köprü's result limit (10,000), or its truncation is never seen.
ResultSetMaxRows   = {max_rows}
MaxQueryExecutionTime = {max_seconds}
MaxQueryCostEstimationTime = 400
"""


def virtuoso_binary() -> str:
    found = shutil.which(VIRTUOSO)
    if not found or not shutil.which(ISQL):
        pytest.fail("Virtuoso is missing: `make test-deps` installs Debian's "
                    "virtuoso-opensource (virtuoso-t, isql-vt)")
    return found


class VirtuosoServer:
    """`virtuoso-t +foreground` on its own virtuoso.ini in `root`, HTTP and
    SQL on free loopback ports. Anyone may update (the test instance's
    `GRANT SPARQL_UPDATE TO "SPARQL"`) unless anonymous_updates is off;
    `users` adds (name, password) accounts with update rights, for the
    digest-protected /sparql-auth. stop() and start() again keep the ports
    and the data."""

    kind = "virtuoso"

    def __init__(self, root: str | Path, port: int | None = None, *,
                 max_rows: int = 100_000, max_seconds: int = 60,
                 users: tuple[tuple[str, str], ...] = (),
                 anonymous_updates: bool = True) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._fixed_port = port
        self._set_ports(port or free_port(), free_port())
        self._started = False
        self.max_rows, self.max_seconds, self.users = max_rows, max_seconds, users
        self.anonymous_updates = anonymous_updates
        self.proc: subprocess.Popen | None = None
        self.log_path = self.root / "virtuoso.out"
        self._granted = False

    def start(self, timeout: float = 90) -> VirtuosoServer:
        exe = virtuoso_binary()
        (self.root / "vsp").mkdir(exist_ok=True)
        # The first start picks free ports; if another process takes one
        # before Virtuoso listens (two test runs at once), pick others.
        # Later starts keep the ports (a store that goes away and comes back).
        for _attempt in range(1 if self._started else 5):
            if self._launch(exe, timeout):
                break
            self._set_ports(self._fixed_port or free_port(), free_port())
        else:
            raise RuntimeError("virtuoso-t found its ports in use: "
                               + self.log_path.read_text(errors="replace")[-3000:])
        self._started = True
        if not self._granted:
            if self.anonymous_updates:
                self._may_update(ANYONE)
            for name, password in self.users:
                self.sql(f"DB.DBA.USER_CREATE('{name}', '{password}');")
                self._may_update(name)
            self._granted = True
        return self

    def allow_anonymous_updates(self, allow: bool) -> None:
        """Let anyone update through /sparql, or only the users (through
        /sparql-auth), from now on."""
        if allow != self.anonymous_updates:
            self._may_update(ANYONE, allow)
            self.anonymous_updates = allow

    def _may_update(self, account: str, allow: bool = True) -> None:
        """Grant (or revoke) SPARQL updates to a Virtuoso account."""
        self.sql(f'GRANT SPARQL_UPDATE TO "{account}";' if allow else
                 f'REVOKE SPARQL_UPDATE FROM "{account}";')

    def _set_ports(self, port: int, sql_port: int) -> None:
        self.port, self.sql_port = port, sql_port
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/sparql"            # what `--push` and `--store` take
        self.query_url = self.update_url = self.url
        self.gsp_url = self.base + "/sparql-graph-crud"

    def _launch(self, exe: str, timeout: float) -> bool:
        """Start virtuoso-t and wait until it answers: True; False if it
        exited because one of its ports was taken."""
        (self.root / "virtuoso.ini").write_text(INI.format(
            root=self.root, sql_port=self.sql_port, http_port=self.port,
            max_rows=self.max_rows, max_seconds=self.max_seconds), encoding="utf-8")
        seen = self.log_path.stat().st_size if self.log_path.exists() else 0
        with open(self.log_path, "ab") as log:   # the server keeps its own descriptor
            self.proc = subprocess.Popen(
                [exe, "+foreground", "+configfile", str(self.root / "virtuoso.ini")],
                cwd=self.root, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                start_new_session=True)
        probe = self.url + "?" + urllib.parse.urlencode({"query": "ASK {}"})
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(probe, timeout=2):
                    return True
            except OSError:
                if self.proc.poll() is not None:
                    with open(self.log_path, "rb") as f:
                        f.seek(seen)
                        said = f.read().decode(errors="replace")
                    if not self._started and ("Failed HTTP listen" in said
                                              or "Failed to start listening" in said):
                        self.proc = None
                        return False
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("virtuoso-t did not start: "
                                       + self.log_path.read_text(errors="replace")[-3000:]) from None
                time.sleep(0.1)

    def sql(self, statement: str) -> str:
        """Run one SQL statement as dba (isql-vt)."""
        r = subprocess.run([ISQL, f"127.0.0.1:{self.sql_port}", "dba", "dba",
                            f"exec={statement}"], capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or "*** Error" in r.stdout + r.stderr:
            raise RuntimeError(f"isql-vt {statement!r} failed: {r.stdout}{r.stderr}")
        return r.stdout

    def stop(self) -> None:
        stop_process(self.proc, 30)               # SIGTERM: checkpoint, then exit
        self.proc = None

    def restart(self) -> VirtuosoServer:
        self.stop()
        return self.start()

    def __enter__(self) -> VirtuosoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


STORE_SERVERS = {"oxigraph": OxigraphServer, "virtuoso": VirtuosoServer}
STORE_SERVER_KINDS = tuple(STORE_SERVERS)


def kind_of(server) -> str:
    return getattr(server, "kind", "oxigraph")


def _endpoints(server) -> tuple[str, str]:
    if kind_of(server) == "virtuoso":
        return server.query_url, server.update_url
    return server.url + "/query", server.url + "/update"


def direct_query(server, query: str, **dataset) -> list[dict]:
    """Ask the store itself (not through Köprü): the SPARQL JSON bindings."""
    fields = [("query", query)] + [(k.replace("_", "-"), v) for k, vs in dataset.items()
                                   for v in vs]
    req = urllib.request.Request(
        _endpoints(server)[0], data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded",
                 "Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())["results"]["bindings"]


def direct_update(server, update: str) -> None:
    """Change the store behind Köprü's back."""
    req = urllib.request.Request(_endpoints(server)[1], data=update.encode(),
                                 headers={"Content-Type": "application/sparql-update"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            r.read()
    except urllib.error.HTTPError as e:
        raise AssertionError(f"the store refused {update!r}: {e.read()[:500]!r}") from None


def graphs_of(server) -> set[str]:
    """The named graphs the store holds (GROUP BY: Virtuoso takes a second
    over a SELECT DISTINCT of the same)."""
    return {b["g"]["value"] for b in direct_query(
        server, "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}


def reset_store(server) -> None:
    """Empty the store back to what it held when new (Virtuoso's own graphs
    stay): drop every graph it has gained since the first reset_store,
    which is called on the new server. One server shared by tests and
    modules, reset before each, instead of a new server for each (Virtuoso
    takes seconds of CPU to start)."""
    fresh = getattr(server, "fresh_graphs", None)
    if fresh is None:
        fresh = server.fresh_graphs = graphs_of(server)
    for g in sorted(graphs_of(server) - fresh):
        direct_update(server, f"DROP SILENT GRAPH <{g}>")
    assert graphs_of(server) == fresh, "the store did not empty"
