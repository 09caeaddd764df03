"""A newcomer's first steps, each through the `kopru` command (or `make`):
the gallery listed, a near-miss name corrected, an update refused as
read-only, help that ends its sentences, a busy port named in one line,
the site's URL in the server log, no progress bar in logs, and `make serve`
installing only what serving needs. The command runs in this process
(`runner`), and as a process of its own where the process is the point:
`kopru serve` on a busy port, a build whose stderr is a terminal."""

from __future__ import annotations

import os
import pty
import re
import socket
import subprocess
import sys

import pytest
from helpers import REPO_ROOT, kopru_env

from server.pipeline.gallery import load_queries
from server.pipeline.project import Project


def test_query_list_shows_the_gallery_with_titles(runner):
    r = runner.invoke("query", "--list", cwd=REPO_ROOT)
    assert r.returncode == 0, r.stderr
    queries = load_queries(Project(REPO_ROOT))
    for q in queries:
        assert re.search(rf"^{re.escape(q.slug)}\s+{re.escape(q.title)}$", r.stdout, re.M), q.slug
    assert f"({len(queries)} queries" in r.stdout


@pytest.mark.parametrize("typed, meant", [
    ("exports-to-western-balkans-rank", "exports-to-western-balkans-ranked"),
    ("agreements-with-albnia", "agreements-with-albania"),
])
def test_a_wrong_name_suggests_the_closest(runner, typed, meant):
    assert (REPO_ROOT / "queries" / f"{meant}.rq").exists()
    r = runner.invoke("query", typed, cwd=REPO_ROOT)
    assert r.returncode == 2
    assert f"did you mean '{meant}'?" in r.stderr and "kopru query --list" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("update", [
    "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "PREFIX kop: <https://w3id.org/kopru/ontology#> DELETE WHERE { ?s kop:party ?o }",
    "LOAD <http://example.org/data.ttl>",
])
def test_an_update_is_refused_as_read_only(runner, built_project, update):
    r = runner.invoke("query", update, cwd=REPO_ROOT)
    assert r.returncode == 1
    assert "read-only" in r.stderr and "graph/" in r.stderr
    assert "Traceback" not in r.stderr and "syntax" not in r.stderr.lower()


def test_query_without_a_query_says_what_is_missing(runner):
    r = runner.invoke("query", cwd=REPO_ROOT)
    assert r.returncode == 2 and "QUERY (or --list)" in r.stderr


def test_build_help_ends_its_sentences(runner):
    text = " ".join(runner.invoke("build", "--help").stdout.split())
    gsp = text[text.index("--gsp-url URL"):]
    assert gsp.rstrip().endswith("instead"), gsp
    assert "Without one, SPARQL Update" not in text


def test_a_port_in_use_is_one_clear_line(built_project):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([sys.executable, "-m", "server", "serve", "--host", "127.0.0.1",
                            "--port", str(port)], cwd=REPO_ROOT, env=kopru_env(),
                           capture_output=True, text=True, timeout=120)
    assert r.returncode == 1
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert lines == [f"kopru: error: port {port} is in use: pass --port (make serve PORT=…), "
                     f"or stop what is listening on 127.0.0.1:{port}"], r.stderr
    assert "Listening" not in r.stdout + r.stderr and "serving" not in r.stdout + r.stderr


@pytest.mark.server
def test_the_server_log_names_the_site(kopru_server):
    log = kopru_server.stderr()
    line = next((x for x in log.splitlines() if "Köprü is serving" in x), None)
    assert line is not None, log[-2000:]
    assert f"Köprü is serving {kopru_server.url}/: pages at {kopru_server.url}/, SPARQL " \
           f"endpoint at {kopru_server.url}/sparql" in line
    # gunicorn listened before Köprü said it serves.
    assert log.index("Listening at") < log.index("Köprü is serving")


def _build_on_a_terminal(env: dict, project) -> str:
    """`kopru build --force` on `project`, its stderr a terminal."""
    cmd = [sys.executable, "-m", "server", "--project", str(project), "build", "--force"]
    main, child = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=child)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:                 # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(60)
    os.close(main)
    return out.decode(errors="replace")


@pytest.mark.parametrize("tty, ci", [(False, None), (True, "true")])
def test_no_progress_bar_in_logs_or_ci(runner, tiny_project, tmp_path, monkeypatch, tty, ci):
    """Into a log (stderr not a terminal: in this process, `runner`), and on
    a terminal with CI set (a process of its own, on a pseudo-terminal)."""
    monkeypatch.delenv("CI", raising=False)
    if tty:
        err = _build_on_a_terminal(kopru_env(KOPRU_STATE_DIR=str(tmp_path / "state"), CI=ci),
                                   tiny_project)
    else:
        err = runner.invoke("--project", tiny_project, "build", "--force").stderr
    assert "validate" in err and "built" not in err     # the steps, on stderr
    assert "\r" not in err.replace("\r\n", "\n") and "[#" not in err, err


def test_make_serve_installs_only_what_serving_needs():
    r = subprocess.run(["make", "-n", "-B", "serve"], cwd=REPO_ROOT, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    installs = [x for x in r.stdout.splitlines() if "pip install" in x and "-e" in x]
    assert installs and all("[test" not in x and "[lint" not in x for x in installs), installs
    assert "--progress-bar on" in installs[-1]
    assert "installing Köprü and what it needs to serve" in r.stdout
    assert "kopru serve --host 127.0.0.1 --port 8080" in r.stdout
    custom = subprocess.run(["make", "-n", "-B", "serve", "PORT=9001"], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert "--port 9001" in custom.stdout
