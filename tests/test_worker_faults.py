"""Faults of the serving processes: a worker killed in the middle of a
query, a worker stopped for its memory, a client that goes away. The
published graph is served throughout, by the workers that remain and by
the ones the arbiter starts in their place.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import traceback

import pytest
from attack_helpers import RUNAWAY, cpu_seconds, get, running_the_query, server_workers
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from helpers import kopru_env, start_kopru_server, wait_for

from server.web.worker import KopruWorker

pytestmark = pytest.mark.server        # gunicorn's workers are the point

KNOWN = "ASK { <https://w3id.org/kopru/id/albania> ?p ?o }"


@pytest.fixture(scope="module")
def server(built_project):
    s = start_kopru_server("--workers", "2", "--timeout", "20",
                           env=kopru_env(KOPRU_RESULT_CACHE_BYTES="0"))
    yield s
    s.stop()


def _two_workers(server) -> set[int]:
    return wait_for(lambda: (lambda w: len(w) == 2 and w)(server_workers(server.proc.pid)), 30,
                    "two workers")


def _graph_served(server) -> bool:
    status, _, text = get(server.sparql_url, KNOWN, timeout=30)
    return status == 200 and '"boolean":true' in text.replace(" ", "")


def test_a_worker_killed_mid_query_is_replaced_and_the_graph_still_served(server):
    workers = _two_workers(server)
    before = {pid: cpu_seconds(pid) for pid in workers}
    reply = {}
    t = threading.Thread(target=lambda: reply.update(r=get(server.sparql_url, RUNAWAY,
                                                           timeout=60)))
    t.start()
    # the worker running the runaway query is the one using the CPU
    busy = wait_for(lambda: running_the_query(workers, before), 30,
                    "a worker to start the query")
    os.kill(busy, signal.SIGKILL)
    t.join(60)
    assert reply["r"][0] in (0, 502, 503), reply["r"]       # no answer, never a wrong one
    assert _graph_served(server)
    after = _two_workers(server)
    assert busy not in after
    for _ in range(5):
        assert _graph_served(server)


def test_a_client_that_leaves_mid_query_costs_nothing_lasting(server):
    _two_workers(server)
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            s.sendall(b"GET /sparql?query=SELECT%20*%20%7B%3Fs%20%3Fp%20%3Fo%7D HTTP/1.1\r\n"
                      b"Host: x\r\n\r\n")
        # closed before reading the answer
    assert _graph_served(server)
    assert server.alive()


class _NoApp(BaseApplication):
    """Enough of an application for gunicorn's Arbiter to be made (not run)."""

    def load_config(self):
        pass

    def load(self):
        return None


@pytest.mark.parametrize("stopped", [True, False], ids=["sigterm-while-booting", "no-signal"])
def test_a_stop_signal_sent_while_a_worker_boots_is_not_lost(stopped):
    """Between gunicorn's fork and the worker's own handlers, a SIGTERM to
    the new worker reaches the master's handler, which only queues it on
    the worker's copy of the master; unhandled, the worker served on until
    the grace period ended and it was killed (seen once as a `kopru serve`
    stopped during its start). The gap is a few lines of gunicorn's, too
    short to hit on purpose in a running server, so a forked child stands
    in for the fresh worker: gunicorn's own master and its handlers, a real
    signal, then Köprü's worker sets its handlers and must be stopping,
    and only then."""
    pid = os.fork()
    if pid == 0:                                   # the fresh worker
        code = 1
        try:
            master = Arbiter(_NoApp())
            master.init_signals()
            if stopped:
                os.kill(os.getpid(), signal.SIGTERM)
            worker = KopruWorker(1, os.getppid(), [], None, 30, master.cfg, master.log)
            worker.PIPE = os.pipe()
            os.set_blocking(worker.PIPE[1], False)   # as gunicorn's init_process makes it
            worker.init_signals()
            code = 0 if worker.alive is not stopped else 3
        except Exception:
            traceback.print_exc()                  # shown in the failure's captured stderr
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    assert code == 0, ("the stand-in worker failed (its traceback is in stderr)" if code != 3
                       else "the worker ignored a SIGTERM sent while it booted" if stopped
                       else "the worker stopped with no signal")
