"""Configuration of the Köprü server: one dataclass, filled from defaults,
then the environment, then explicit arguments (the CLI's flags).

    KOPRU_PROJECT            project directory                    (.)
    KOPRU_STATE_DIR          build state directory                (<project>/.kopru)
    KOPRU_STORE              store directory to serve             (<state>/current)
    KOPRU_QUERY_TIMEOUT      seconds a query may run              (10)
    KOPRU_RESULT_LIMIT       most rows / triples in one answer    (10000)
    KOPRU_MAX_QUERY_BYTES    largest query text accepted          (100000)
    KOPRU_SERVICE_ALLOWLIST  comma-separated SERVICE endpoints;   (Wikidata, DBpedia)
                             an empty value turns federation off
    KOPRU_RESULT_CACHE_BYTES answer cache per worker, 0 = off     (64 MiB)
    KOPRU_WORKERS            gunicorn worker processes            (2 × cores)
    KOPRU_HOST / KOPRU_PORT  where `kopru serve` listens          (127.0.0.1:8080)
    KOPRU_STORE_URL          serve from this remote SPARQL store  (none: the embedded store)
                             (its base URL or query endpoint; see server/remote_store.py)
    KOPRU_STORE_USER / KOPRU_STORE_PASSWORD   HTTP basic credentials for the remote store
    KOPRU_STORE_UPDATE_URL / KOPRU_STORE_GSP_URL   its update / Graph Store endpoints (push)
    KOPRU_STORE_PUSH_TIMEOUT seconds per request of `kopru build --push` (600)

Standard library only: imported on the warm-start path.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_SERVICE_ALLOWLIST = (
    "https://query.wikidata.org/sparql",
    "https://dbpedia.org/sparql",
)

ENV_PREFIX = "KOPRU_"


def parse_allowlist(value: str | None) -> tuple[str, ...]:
    """'a, b' → ('a', 'b'); '' → () (federation off); None → the default."""
    if value is None:
        return DEFAULT_SERVICE_ALLOWLIST
    return tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))


def default_workers() -> int:
    return max(2, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class Config:
    project_root: Path = field(default_factory=Path.cwd)
    state_dir: Path | None = None        # None → <project>/.kopru
    store_path: Path | None = None       # None → <state>/current
    query_timeout: float = 10.0          # seconds; the query is killed after this
    result_limit: int = 10_000           # rows (SELECT) or triples (CONSTRUCT/DESCRIBE)
    max_query_bytes: int = 100_000       # larger query texts → 413
    service_allowlist: tuple[str, ...] = DEFAULT_SERVICE_ALLOWLIST
    workers: int = field(default_factory=default_workers)
    result_cache_bytes: int = 64 << 20   # per worker; answers are cached per build (0: off)
    host: str = "127.0.0.1"
    port: int = 8080
    store_url: str | None = None         # a remote SPARQL store (None: the embedded store)
    dev: bool = False
    # Extra Flask settings (tests: TESTING=True, …).
    flask: dict = field(default_factory=dict)

    # --- derived ------------------------------------------------------

    @property
    def resolved_state_dir(self) -> Path:
        if self.state_dir is not None:
            return Path(self.state_dir)
        env = os.environ.get("KOPRU_STATE_DIR")
        return Path(env).expanduser().resolve() if env else Path(self.project_root) / ".kopru"

    @property
    def resolved_store_path(self) -> Path:
        """The store directory (usually the `current` symlink, swapped by builds)."""
        if self.store_path is not None:
            return Path(self.store_path)
        return self.resolved_state_dir / "current"

    @property
    def remote(self) -> bool:
        """Whether the graph is served from a remote SPARQL store."""
        return bool(self.store_url)

    @property
    def federation_enabled(self) -> bool:
        return bool(self.service_allowlist)

    # --- construction ---------------------------------------------------

    @classmethod
    def from_env(cls, environ: dict | None = None, **overrides) -> "Config":
        """Defaults ← environment ← overrides (None values are ignored)."""
        env = os.environ if environ is None else environ
        values: dict = {}

        def get(name):
            return env.get(ENV_PREFIX + name)

        if get("PROJECT"):
            values["project_root"] = Path(get("PROJECT")).expanduser().resolve()
        if get("STATE_DIR"):
            values["state_dir"] = Path(get("STATE_DIR")).expanduser().resolve()
        if get("STORE"):
            values["store_path"] = Path(get("STORE")).expanduser().resolve()
        for key, name, conv in (
            ("query_timeout", "QUERY_TIMEOUT", float),
            ("result_limit", "RESULT_LIMIT", int),
            ("max_query_bytes", "MAX_QUERY_BYTES", int),
            ("workers", "WORKERS", int),
            ("result_cache_bytes", "RESULT_CACHE_BYTES", int),
            ("port", "PORT", int),
        ):
            raw = get(name)
            if raw not in (None, ""):
                try:
                    values[key] = conv(raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{name}={raw!r} is not a valid number") from None
        if get("HOST"):
            values["host"] = get("HOST")
        if get("STORE_URL"):
            values["store_url"] = get("STORE_URL").strip()
        if (ENV_PREFIX + "SERVICE_ALLOWLIST") in env:
            values["service_allowlist"] = parse_allowlist(get("SERVICE_ALLOWLIST"))

        for key, value in overrides.items():
            if value is None:
                continue
            if key == "project" or key == "project_root":
                # A server.project.Project knows its state dir (env included).
                if getattr(value, "state_dir", None) is not None and "state_dir" not in overrides:
                    values["state_dir"] = Path(value.state_dir)
                key, value = "project_root", _project_root(value)
            elif key == "service_allowlist" and isinstance(value, str):
                value = parse_allowlist(value)
            elif key == "service_allowlist":
                value = tuple(value)
            elif key in ("state_dir", "store_path"):
                value = Path(value)
            values[key] = value
        config = cls(**values)
        config.check()
        return config

    def replace(self, **changes) -> "Config":
        return replace(self, **changes)

    def check(self) -> None:
        if self.query_timeout <= 0:
            raise ValueError("the query timeout must be positive")
        if self.result_limit <= 0:
            raise ValueError("the result limit must be positive")
        if self.max_query_bytes <= 0:
            raise ValueError("the query size limit must be positive")
        if self.result_cache_bytes < 0:
            raise ValueError("the result cache size cannot be negative")
        if self.workers <= 0:
            raise ValueError("the number of workers must be positive")
        if self.store_url is not None and not self.store_url.startswith(("http://", "https://")):
            raise ValueError(f"the store URL {self.store_url!r} is not an http(s) URL")
        for url in self.service_allowlist:
            if "://" not in url:
                raise ValueError(f"SERVICE allowlist entry {url!r} is not an absolute IRI")


def _project_root(value) -> Path:
    """Accept a path or a server.project.Project."""
    root = getattr(value, "root", value)
    return Path(root).expanduser().resolve()
