"""`kopru validate` and `kopru build` fail safe: hostile input, a full disk,
a damaged store, a build killed halfway.

Each case runs the `kopru` command and checks what a person sees — a clear
message, no traceback, exit 1 (2 for a project that is not usable) — and
what is left: the previous store still current, no temporary store behind.
The command runs in this process (`runner`), and as a process of its own
(`python -m server`) where the process is the point: the memory limit
(it watches the process's memory and its peak is measured) and a killed
build. A store a case starts from is a copy of conftest's tiny_build.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import (
    REPO_ROOT,
    copy_build,
    kopru_env,
    long_proof,
    make_tiny_project,
    run_cli,
    run_kopru,
    wait_for,
)

sys.path.insert(0, str(REPO_ROOT / "bench"))
import generate  # noqa: E402  (bench/generate.py)

from server.pipeline.build import build  # noqa: E402
from server.pipeline.project import Project  # noqa: E402


def kopru(project: Path, *args: str, state: Path, **env: str):
    """`kopru --project PROJECT ARGS` in this process (CliResult)."""
    return run_cli("--project", project, *args, env={"KOPRU_STATE_DIR": str(state), **env})


def kopru_process(project: Path, *args: str, state: Path,
                  **env: str) -> subprocess.CompletedProcess:
    """The same as a process of its own."""
    return run_kopru("--project", project, *args, env=kopru_env(KOPRU_STATE_DIR=str(state), **env))


def current(state: Path) -> str | None:
    try:
        return os.readlink(state / "current")
    except OSError:
        return None


def temporaries(state: Path) -> list[str]:
    stores = state / "stores"
    return sorted(p.name for p in stores.glob(".tmp-*")) if stores.is_dir() else []


def failed_cleanly(r, code: int = 1) -> str:
    out = r.stdout + r.stderr
    assert r.returncode == code, out
    assert "Traceback" not in out, out
    return out


# --- hostile input ------------------------------------------------------------------------


def max_rss_of(cmd: list[str], env: dict) -> tuple[subprocess.CompletedProcess, int]:
    """Run cmd; also return the peak resident memory of it (and its children), bytes."""
    probe = ("import resource, subprocess, sys; "
             "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
             "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
             "sys.exit(r.returncode)")
    r = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True,
                       env=env, cwd=REPO_ROOT, timeout=300)
    *lines, rss = r.stderr.rstrip("\n").split("\n")
    return (subprocess.CompletedProcess(cmd, r.returncode, r.stdout, "\n".join(lines)),
            int(rss) * 1024)


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_small_file_repeating_a_huge_prefix_is_stopped_by_the_memory_limit(
        command, tmp_path):
    """175 kB of Turtle whose every triple spells out a 60,000-character
    prefix twice: 640 MB of IRIs; it took 2.5 GB before the limit."""
    project = make_tiny_project(tmp_path / "p")
    prefix = "http://example.org/" + "x" * 60_000 + "/"
    lines = [f"@prefix p: <{prefix}> ."] + [f"p:a{n} p:b p:c{n} ." for n in range(6_000)]
    (project / "graph" / "bomb.ttl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r, peak = max_rss_of([sys.executable, "-m", "server", "--project", str(project), command],
                         kopru_env(KOPRU_STATE_DIR=str(tmp_path / "state")))
    out = failed_cleanly(r)
    assert "was stopped: it needed more than" in out and "KOPRU_BUILD_MEMORY" in out
    assert peak < 1.5 * 2**30, f"peak {peak / 2**30:.2f} GiB"
    assert temporaries(tmp_path / "state") == [] and current(tmp_path / "state") is None


def test_the_memory_limit_stops_a_build_and_keeps_the_previous_store(tmp_path):
    """A 2k-triple build needs 40–70 MiB more than it started with: a
    limit of 20 MiB stops it, well before its end. (The previous store is
    the project's build when it was 200 triples: quicker to make.)"""
    project = tmp_path / "p"
    generate.generate(project, 200, seed=1)
    state = tmp_path / "state"
    assert not build(Project(project, state_dir=state)).skipped   # the previous store
    before = current(state)
    generate.generate(project, 2_000, seed=1)                     # the project grew
    r = kopru_process(project, "build", "--force", state=state, KOPRU_BUILD_MEMORY="20M")
    out = failed_cleanly(r)
    assert "needed more than 20 MiB of memory (KOPRU_BUILD_MEMORY)" in out
    assert current(state) == before and temporaries(state) == []


def test_the_watchdogs_first_reading_never_undercounts():
    """The watchdog reads the resident size first and PSS only past the
    limit: that is safe only if no process's resident size is below its
    PSS, including a forked child sharing the parent's pages (the closure's
    child), checked here against the kernel's own PSS."""
    from server.pipeline.limits import pss, rss

    ballast = bytearray(64 << 20)            # pages the child will share
    ballast[::4096] = b"x" * len(ballast[::4096])
    child = os.fork()
    if child == 0:                           # the child touches nothing and waits
        signal.pause()
        os._exit(0)
    try:
        for pid in (os.getpid(), child):
            assert rss(pid) >= pss(pid) > 0, pid
        # shared pages count once in PSS, twice in RSS: the first reading is the larger
        assert rss(os.getpid()) + rss(child) > pss(os.getpid()) + pss(child)
    finally:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
    assert rss(child) == pss(child) == 0     # a process that is gone counts nothing


@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_50_mb_literal_is_a_clear_error(command, tmp_path):
    project = make_tiny_project(tmp_path / "p")
    with open(project / "graph" / "long.ttl", "w", encoding="utf-8") as f:
        f.write('@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n\n'
                '<https://w3id.org/kopru/id/x> rdfs:comment "')
        f.write("y" * 50_000_000)
        f.write('"@en .\n')
    out = failed_cleanly(kopru(project, command, state=tmp_path / "state"))
    assert "graph/long.ttl:3: a literal or IRI here is longer than 16 MiB" in out
    assert "yyyyyyyyyy" not in out
    assert temporaries(tmp_path / "state") == []


@pytest.mark.parametrize("link", ["file", "directory"])
@pytest.mark.parametrize("command", ["validate", "build"])
def test_a_link_to_outside_the_project_is_refused_unread(link, command, tmp_path):
    project = make_tiny_project(tmp_path / "p")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.ttl").write_text("SECRET-FIRST-LINE not turtle at all\n")
    if link == "file":
        (project / "graph" / "linked.ttl").symlink_to(outside / "secret.ttl")
        name = "graph/linked.ttl"
    else:
        shutil.rmtree(project / "graph")
        (project / "graph").symlink_to(outside)
        name = "graph/secret.ttl"
    out = failed_cleanly(kopru(project, command, state=tmp_path / "state"), code=2)
    assert f"{name} is a link to a file outside the project" in out
    assert "SECRET-FIRST-LINE" not in out
    assert current(tmp_path / "state") is None


def test_a_link_inside_the_project_is_fine(tmp_path):
    project = make_tiny_project(tmp_path / "p")
    (project / "data").mkdir()
    (project / "graph" / "actors.ttl").rename(project / "data" / "actors.ttl")
    (project / "graph" / "actors.ttl").symlink_to(project / "data" / "actors.ttl")
    r = kopru(project, "build", state=tmp_path / "state")
    assert r.returncode == 0, r.stderr


# --- a full disk ------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MB tmpfs, mounted for the test (needs root: skipped elsewhere)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"mounting a small tmpfs is not permitted here ({r.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * (1 << 20))
                f.flush()
        except OSError:
            pass
    try:
        with open(filler, "ab") as f:   # the last few bytes, one by one
            while True:
                f.write(b"\0" * 1024)
                f.flush()
    except OSError:
        pass
    return filler


@pytest.mark.parametrize("force", [False, True], ids=["incremental", "full"])
def test_a_full_disk_fails_the_build_and_keeps_the_previous_store(force, small_disk, tmp_path,
                                                                  tiny_build):
    project, state = copy_build(*tiny_build, tmp_path / "p", small_disk / "state")
    before = current(state)
    with open(project / "graph" / "actors.ttl", "a", encoding="utf-8") as f:
        f.write('id:kosovo a kop:State ; rdfs:label "Kosovo"@en .\n')
    filler = fill(small_disk)
    r = kopru(project, "build", *(["--force"] if force else []), state=state)
    out = failed_cleanly(r)
    assert "no space left" in out and "previous store is still served" in out
    assert current(state) == before and temporaries(state) == []
    filler.unlink()
    r = kopru(project, "build", state=state)
    assert r.returncode == 0, r.stderr
    assert current(state) != before


# --- a damaged store, a killed build ------------------------------------------------------


def test_a_damaged_store_is_rebuilt_not_called_up_to_date(tmp_path, tiny_build):
    project, state = copy_build(*tiny_build, tmp_path / "p", tmp_path / "state")
    db = (state / "current").resolve() / "db"
    sst = max(db.glob("*.sst"), key=lambda p: p.stat().st_size)
    data = bytearray(sst.read_bytes())
    data[len(data) // 2:len(data) // 2 + 256] = b"\xff" * 256
    sst.write_bytes(bytes(data))
    r = kopru(project, "build", state=state)
    assert r.returncode == 0, r.stderr
    assert "damaged" in r.stderr and "up to date" not in r.stdout
    assert (state / "current").resolve() / "db" != db
    q = kopru(project, "query", "parties", "--format", "csv", state=state)
    assert q.returncode == 0 and "Türkiye" in q.stdout, q.stderr
    assert "up to date" in kopru(project, "build", state=state).stdout


def killed_build_leaves_nothing_the_next_build_does_not_remove(tmp_path: Path,
                                                              triples: int) -> None:
    project = tmp_path / "p"
    generate.generate(project, triples, seed=4)
    state = tmp_path / "state"
    proc = subprocess.Popen([sys.executable, "-m", "server", "--project", str(project),
                             "build"], cwd=REPO_ROOT, env=kopru_env(KOPRU_STATE_DIR=str(state)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for(lambda: temporaries(state), 120, "the build's temporary store")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)   # the build and its closure process
        proc.wait()
    left = temporaries(state)
    assert left and current(state) is None
    r = kopru(project, "build", state=state)
    assert r.returncode == 0, r.stderr
    assert temporaries(state) == [] and current(state) is not None
    assert not any((state / "stores" / name).exists() for name in left)


def test_a_killed_build_leaves_nothing_the_next_build_does_not_remove(tmp_path):
    """Killed while its temporary store exists (at 5k triples the build
    runs for seconds after it appears)."""
    killed_build_leaves_nothing_the_next_build_does_not_remove(tmp_path, 5_000)


@long_proof("fuzz-pipeline", "kills a 5k-triple build")
def test_a_killed_build_at_20k_leaves_nothing_the_next_build_does_not_remove(tmp_path):
    killed_build_leaves_nothing_the_next_build_does_not_remove(tmp_path, 20_000)


def test_a_failed_build_removes_its_temporary_store(tmp_path, tiny_build):
    """The closure finds a contradiction after the store was begun."""
    project, state = copy_build(*tiny_build, tmp_path / "p", tmp_path / "state")
    before = current(state)
    with open(project / "graph" / "actors.ttl", "a", encoding="utf-8") as f:
        f.write('id:turkiye a kop:Company .\n')   # Company is disjoint with State
    r = kopru(project, "build", "--force", state=state)
    out = failed_cleanly(r)
    assert "inconsistent" in out
    assert current(state) == before and temporaries(state) == []
