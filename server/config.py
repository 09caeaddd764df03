"""Köprü's settings: one dataclass, filled from the defaults, then the
`KOPRU_*` environment variables, then explicit arguments (the CLI's flags).

`SETTINGS` is the one table of environment variables; the README's
"Configuration" section lists the same table (a test checks that it does),
and every other document links to it. No other module reads `KOPRU_*`.

Standard library only: imported on the warm-start path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_SERVICE_ALLOWLIST = (
    "https://query.wikidata.org/sparql",
    "https://dbpedia.org/sparql",
)
REASONERS = ("fast", "owlrl", "exact")
VALIDATORS = ("auto", "pyshacl", "shacl")
LOG_LEVELS = ("debug", "info", "warning", "error")


def parse_allowlist(value: str | None) -> tuple[str, ...]:
    """'a, b' → ('a', 'b'); '' → () (federation off); None → the default."""
    if value is None:
        return DEFAULT_SERVICE_ALLOWLIST
    return tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))


def default_workers() -> int:
    return max(2, 2 * (os.cpu_count() or 1))


def _path(text: str) -> Path:
    return Path(text).expanduser().resolve()


def _flag(text: str) -> bool:
    if text.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if text.strip().lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1 or 0")


def _validator(text: str) -> str:
    if text not in VALIDATORS:
        raise ValueError(f"expected one of {', '.join(VALIDATORS)}")
    return text


def parse_bytes(text: str) -> int | None:
    """'4G', '512M', '1500000' → bytes; 'auto' → None (the default)."""
    t = text.strip().upper().removesuffix("IB").removesuffix("B")
    if t == "AUTO":
        return None
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    n = float(t[:-1]) * units[t[-1]] if t[-1:] in units else float(t)
    if n <= 0:
        raise ValueError("expected a positive size such as 4G or 512M, or auto")
    return int(n)


def _log_level(text: str) -> str:
    if text.strip().lower() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return text.strip().lower()


def _reasoner(text: str) -> str:
    if text not in REASONERS:
        raise ValueError(f"expected one of {', '.join(REASONERS)}")
    return text


@dataclass(frozen=True)
class Setting:
    env: str                          # the environment variable
    field: str                        # the Config field it sets
    parse: Callable[[str], Any]
    default: str                      # the default, as the README states it
    meaning: str
    flag: str = ""                    # the CLI flag that overrides it, if any


SETTINGS: tuple[Setting, ...] = (
    Setting("KOPRU_PROJECT", "project_root", _path, "the current directory",
            "the project directory (ontology/, graph/, queries/)", "--project"),
    Setting("KOPRU_STATE_DIR", "state_dir", _path, "`<project>/.kopru`",
            "where builds are kept: embedded stores, the `current` link, the build lock"),
    Setting("KOPRU_STORE", "store_path", _path, "`<state>/current`",
            "the embedded store directory to serve (rarely needed)"),
    Setting("KOPRU_HOST", "host", str, "`127.0.0.1`", "the address `kopru serve` listens on",
            "--host"),
    Setting("KOPRU_PORT", "port", int, "`8080`", "the port `kopru serve` listens on", "--port"),
    Setting("KOPRU_WORKERS", "workers", int, "2 × cores", "gunicorn worker processes",
            "--workers"),
    Setting("KOPRU_QUERY_TIMEOUT", "query_timeout", float, "`10`",
            "seconds a query may run before it is stopped (503)", "--timeout"),
    Setting("KOPRU_REQUEST_TIMEOUT", "request_timeout", float, "`10`",
            "seconds a client may take to send its whole request (headers and body); a "
            "slower one gets 408 and is disconnected"),
    Setting("KOPRU_RESULT_LIMIT", "result_limit", int, "`10000`",
            "most rows or triples in one answer; longer answers are cut and say so",
            "--result-limit"),
    Setting("KOPRU_MAX_QUERY_BYTES", "max_query_bytes", int, "`100000`",
            "largest query text accepted (413 above)"),
    Setting("KOPRU_QUERY_MEMORY", "query_memory_mb", int, "`1024`",
            "MiB a worker may grow by while it runs one query; past it the query is stopped "
            "(503)"),
    Setting("KOPRU_LONG_QUERIES", "long_queries", int, "a quarter of the workers (at least 1)",
            "queries that may run longer than a quarter of a second at once; another one is "
            "stopped (503) so that short queries keep being answered"),
    Setting("KOPRU_SERVICE_ALLOWLIST", "service_allowlist", parse_allowlist,
            "Wikidata and DBpedia endpoints",
            "comma-separated endpoints `SERVICE` may call; empty turns federation off",
            "--service-allowlist"),
    Setting("KOPRU_RESULT_CACHE_BYTES", "result_cache_bytes", int, "64 MiB",
            "answer cache per worker, kept until the next build; `0` turns it off"),
    Setting("KOPRU_STORE_URL", "store_url", str.strip, "none: the embedded store",
            "serve from this remote SPARQL store: its base URL or query endpoint",
            "--store"),
    Setting("KOPRU_STORE_USER", "store_user", str, "none",
            "user name for the remote store (serve and push): HTTP basic, or digest when the "
            "store asks (Virtuoso's `/sparql-auth`)"),
    Setting("KOPRU_STORE_PASSWORD", "store_password", str, "none",
            "password for the remote store (serve and push)"),
    Setting("KOPRU_STORE_UPDATE_URL", "store_update_url", str, "`<store>/update`",
            "the remote store's SPARQL Update endpoint (push)", "--update-url"),
    Setting("KOPRU_STORE_GSP_URL", "store_gsp_url", str, "`<store>/store`",
            "the remote store's Graph Store Protocol endpoint (push)", "--gsp-url"),
    Setting("KOPRU_STORE_PUSH_TIMEOUT", "push_timeout", float, "`600`",
            "seconds each request of a push may take"),
    Setting("KOPRU_STORE_PUSH_GRACE", "push_grace", float, "`15`",
            "seconds a push keeps the previous version for queries still using it"),
    Setting("KOPRU_STORE_VERSION_MAX_AGE", "store_version_max_age", float, "`1`",
            "seconds a worker reuses the remote store's version it read before reading it "
            "again (keep it well below the push grace)"),
    Setting("KOPRU_REASONER", "reasoner", _reasoner, "`fast`",
            "the build's OWL RL engine: `fast`, `owlrl` (tuned owlrl) or `exact` (plain owlrl)"),
    Setting("KOPRU_VALIDATOR", "validator", _validator, "`auto`",
            "the build's SHACL validator: `auto` (pyshacl below 50,000 data triples, else the "
            "`shacl` package checked by pyshacl), `pyshacl` or `shacl`"),
    Setting("KOPRU_BUILD_MEMORY", "build_memory", parse_bytes,
            "512 MiB + 128 × the input files' size",
            "memory a build or `kopru validate` may use (all its processes) before it is "
            "stopped, e.g. `4G`"),
    Setting("KOPRU_PARALLEL", "parallel_build", _flag, "`1`",
            "`0` runs the build's closure in-process instead of beside validation"),
    Setting("KOPRU_LOG_LEVEL", "log_level", _log_level, "`info`",
            "the server log: `info` has a line per request and per query, `warning` only "
            "problems; also `debug`, `error`"),
)


@dataclass(frozen=True)
class Config:
    project_root: Path = field(default_factory=Path.cwd)
    state_dir: Path | None = None        # None → <project>/.kopru
    store_path: Path | None = None       # None → <state>/current
    query_timeout: float = 10.0          # seconds; the query is stopped after this
    request_timeout: float = 10.0        # seconds to receive a whole request (then 408)
    result_limit: int = 10_000           # rows (SELECT) or triples (CONSTRUCT/DESCRIBE)
    max_query_bytes: int = 100_000       # larger query texts → 413
    query_memory_mb: int = 1024          # a worker's growth while one query runs (0: no limit)
    long_queries: int | None = None      # None → a quarter of the workers, at least 1
    service_allowlist: tuple[str, ...] = DEFAULT_SERVICE_ALLOWLIST
    workers: int = field(default_factory=default_workers)
    result_cache_bytes: int = 64 << 20   # per worker; answers are cached per build (0: off)
    host: str = "127.0.0.1"
    port: int = 8080
    store_url: str | None = None         # a remote SPARQL store (None: the embedded store)
    store_user: str | None = None
    store_password: str | None = None
    store_update_url: str | None = None
    store_gsp_url: str | None = None
    push_timeout: float = 600.0
    push_grace: float = 15.0
    store_version_max_age: float = 1.0   # seconds (server/stores/remote.py VERSION_MAX_AGE)
    reasoner: str = "fast"
    validator: str = "auto"
    build_memory: int | None = None      # bytes; None → 512 MiB + 128 × input size
    parallel_build: bool = True
    log_level: str = "info"
    dev: bool = False
    # Extra Flask settings (tests: TESTING=True, …).
    flask: dict = field(default_factory=dict)

    @property
    def resolved_state_dir(self) -> Path:
        if self.state_dir is not None:
            return Path(self.state_dir)
        return Path(self.project_root) / ".kopru"

    @property
    def resolved_store_path(self) -> Path:
        """The store directory (usually the `current` symlink, swapped by builds)."""
        if self.store_path is not None:
            return Path(self.store_path)
        return self.resolved_state_dir / "current"

    @property
    def resolved_long_queries(self) -> int:
        """How many queries may run past a second at once, server-wide."""
        if self.long_queries is not None:
            return self.long_queries
        return max(1, (1 if self.dev else self.workers) // 4)

    @property
    def remote(self) -> bool:
        """Whether the graph is served from a remote SPARQL store."""
        return bool(self.store_url)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> Config:
        """Defaults ← environment ← overrides (None values are ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = env.get(s.env)
            if raw is None or (raw == "" and s.env != "KOPRU_SERVICE_ALLOWLIST"):
                continue
            try:
                values[s.field] = s.parse(raw)
            except ValueError as e:
                raise ValueError(f"{s.env}={raw!r} is not valid: {e}") from None
        known = {f.name for f in fields(cls)}
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("project", "project_root"):
                # A Project knows its state dir (its own override included).
                if getattr(value, "state_dir", None) is not None and "state_dir" not in overrides:
                    values["state_dir"] = Path(value.state_dir)
                root = value if isinstance(value, (str, os.PathLike)) else value.root
                key, value = "project_root", _path(str(root))
            elif key == "service_allowlist":
                value = parse_allowlist(value) if isinstance(value, str) else tuple(value)
            elif key in ("state_dir", "store_path"):
                value = Path(value)
            if key not in known:
                raise TypeError(f"unknown setting {key!r}")
            values[key] = value
        config = cls(**values)
        config.check()
        return config

    def replace(self, **changes) -> Config:
        return replace(self, **changes)

    def check(self) -> None:
        if self.query_timeout <= 0:
            raise ValueError("the query timeout must be positive")
        if self.request_timeout <= 0:
            raise ValueError("the request timeout must be positive")
        if self.result_limit <= 0:
            raise ValueError("the result limit must be positive")
        if self.max_query_bytes <= 0:
            raise ValueError("the query size limit must be positive")
        if self.query_memory_mb < 0:
            raise ValueError("the query memory limit cannot be negative")
        if self.long_queries is not None and self.long_queries <= 0:
            raise ValueError("the number of long queries must be positive")
        if self.result_cache_bytes < 0:
            raise ValueError("the result cache size cannot be negative")
        if self.workers <= 0:
            raise ValueError("the number of workers must be positive")
        if self.push_timeout <= 0 or self.push_grace < 0:
            raise ValueError("the push timeout must be positive and its grace not negative")
        if self.store_version_max_age < 0:
            raise ValueError("the store version's maximum age cannot be negative")
        if self.store_url is not None and not self.store_url.startswith(("http://", "https://")):
            raise ValueError(f"the store URL {self.store_url!r} is not an http(s) URL")
        for url in self.service_allowlist:
            if "://" not in url:
                raise ValueError(f"SERVICE allowlist entry {url!r} is not an absolute IRI")


def settings(environ: Mapping[str, str] | None = None) -> Config:
    """The settings the environment gives (for code that has no Config handed in)."""
    return Config.from_env(environ)
