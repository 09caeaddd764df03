"""The `kopru` command (also `python -m server`).

    kopru [--project DIR] validate
    kopru [--project DIR] build [--force] [--push URL [--update-url U] [--gsp-url U]]
    kopru [--project DIR] query FILE.rq|NAME|"SPARQL"|- [--format table|csv|json]
    kopru [--project DIR] query --list
    kopru [--project DIR] export [--format ttl|nt|jsonld|trig] [--asserted-only] [-o FILE]
    kopru [--project DIR] serve [--host H] [--port P] [--workers N] [--timeout S] [--dev]
                                [--store URL]

Settings: server/config.py (flags win over KOPRU_* variables).

Exit status: 0 success, 1 the data or query is wrong (report printed),
2 wrong usage (unknown option, not a project), 130 interrupted.
User errors never print a Python traceback.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from server import __version__, formats
from server.errors import KopruError, UserError, sparql_syntax_message
from server.terms import used_prefixes

EXIT_OK, EXIT_FAIL = 0, 1

EXPORT_FORMATS = {f.name: f for f in (formats.TURTLE, formats.N_TRIPLES, formats.JSON_LD,
                                      formats.TRIG)}


# --- argument parsing --------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--project", metavar="DIR", default=argparse.SUPPRESS,
                        help="the project directory (default: the current directory)")

    p = argparse.ArgumentParser(
        prog="kopru",
        description="Köprü: validate, build, query, export and serve a linked-data "
                    "knowledge graph (ontology/, graph/, queries/ of a project directory).",
        epilog="Run `kopru COMMAND --help` for a command's options.",
    )
    p.add_argument("--project", metavar="DIR", default=None,
                   help="the project directory (default: the current directory)")
    p.add_argument("--version", action="version", version=f"kopru {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True

    s = sub.add_parser("validate", parents=[common],
                       help="parse and SHACL-check the project",
                       description="Parse every Turtle file and check the data against "
                                   "ontology/shapes.ttl. Exit 0 if valid, 1 with a report.")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("build", parents=[common],
                       help="parse, validate, infer and load the store",
                       description="Run the whole pipeline (parse → SHACL → OWL RL closure → "
                                   "store) unless the store is up to date with the files.")
    s.add_argument("--force", action="store_true",
                   help="rebuild (and push) even if nothing changed")
    s.add_argument("--push", metavar="URL", default=None,
                   help="then load the built graphs into the remote SPARQL store at URL (its "
                        "base URL, e.g. http://host:7878 for Oxigraph server, or its query "
                        "endpoint), replacing the previous version at once; credentials from "
                        "KOPRU_STORE_USER / KOPRU_STORE_PASSWORD")
    s.add_argument("--update-url", metavar="URL", default=None,
                   help="the store's SPARQL Update endpoint (default <URL>/update)")
    s.add_argument("--gsp-url", metavar="URL", default=None,
                   help="the store's Graph Store Protocol endpoint (default <URL>/store, "
                        "Oxigraph's; Fuseki's is <dataset>/data). When the store has none, "
                        "the push loads the graphs with SPARQL Update instead")
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("query", parents=[common],
                       help="run a SPARQL query on the built graph",
                       description="Run a SPARQL query on the built graph (built first if "
                                   "needed). The default graph is asserted + ontology + "
                                   "entailed; the usual prefixes (kop:, id:, rdfs:, …) are "
                                   "predeclared. The graph is read-only: SPARQL Update is "
                                   "refused.",
                       epilog="Examples: kopru query --list; kopru query "
                              "exports-to-western-balkans-ranked; kopru query "
                              "'SELECT ?s WHERE { ?s a kop:Country }'")
    s.add_argument("query", metavar="QUERY", nargs="?",
                   help='a .rq file, the name of a query in queries/ (see --list), the '
                        'SPARQL text itself, or - to read it from standard input')
    s.add_argument("--list", "-l", action="store_true",
                   help="list the named queries in queries/ with their titles, and exit")
    s.add_argument("--format", "-f", choices=("table", "csv", "json"), default="table",
                   help="output format (default: table). CONSTRUCT/DESCRIBE results are "
                        "Turtle (table), N-Triples (csv) or JSON-LD (json)")
    s.set_defaults(func=cmd_query, parser=s)

    s = sub.add_parser("export", parents=[common],
                       help="write the graph (with its entailments) as RDF",
                       description="Write the built dataset — asserted data, ontology and "
                                   "entailed triples, as the SPARQL default graph holds them "
                                   "— to standard output or a file.")
    s.add_argument("--format", "-f", choices=tuple(EXPORT_FORMATS), default=None,
                   help="ttl (default), nt, jsonld, or trig (keeps the named graphs); "
                        "guessed from the -o file name when not given")
    graphs = s.add_mutually_exclusive_group()
    graphs.add_argument("--asserted-only", action="store_true",
                        help="only the asserted graph: the instance data as written in "
                             "graph/*.ttl (the same as the /dumps/kopru-asserted.* dumps)")
    graphs.add_argument("--no-entailed", action="store_true",
                        help="the asserted data and the ontology, without what OWL RL entails")
    s.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("serve", parents=[common],
                       help="serve the SPARQL endpoint and pages",
                       description="Build if needed, then serve the graph over HTTP "
                                   "with gunicorn.")
    # Defaults live in server/config.py so that KOPRU_* environment variables apply
    # whenever a flag is not given.
    s.add_argument("--host", help="address to listen on (default 127.0.0.1, env KOPRU_HOST)")
    s.add_argument("--port", type=_port, help="port (default 8080, env KOPRU_PORT)")
    s.add_argument("--workers", type=_positive_int,
                   help="gunicorn worker processes (default 2 x cores, env KOPRU_WORKERS)")
    s.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                   help="query time limit in seconds (default 10, env KOPRU_QUERY_TIMEOUT)")
    s.add_argument("--result-limit", type=_positive_int, metavar="N",
                   help="most rows or triples in one answer; more is cut and announced "
                        "(default 10000, env KOPRU_RESULT_LIMIT)")
    s.add_argument("--service-allowlist", metavar="URL,URL",
                   help="comma-separated SERVICE endpoints a query may reach; '' turns "
                        "federation off (default: Wikidata and DBpedia, env KOPRU_SERVICE_ALLOWLIST)")
    s.add_argument("--dev", action="store_true",
                   help="development mode: one worker that reloads when the code changes")
    s.add_argument("--store", metavar="URL", default=None,
                   help="serve from the remote SPARQL store at URL (filled by `kopru build "
                        "--push URL`) instead of the embedded one (env KOPRU_STORE_URL)")
    s.set_defaults(func=cmd_serve)
    return p


def _checked(parse, what: str, ok, bounds: str):
    """An argparse type: `parse` the text, then check it is within bounds."""
    def convert(text: str):
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{bounds}, not {text}")
        return value
    return convert


_port = _checked(int, "a port number", lambda v: 0 <= v <= 65535,
                 "port must be between 0 and 65535")
_positive_int = _checked(int, "a whole number", lambda v: v >= 1, "must be at least 1")
_positive_float = _checked(float, "a number", lambda v: v > 0, "must be more than 0")


# --- entry point -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"kopru: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("kopru: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `kopru export | head`
        # Python flushes stdout at exit: point it somewhere that takes the rest.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 — lives until the process ends
        return EXIT_OK
    except KopruError as e:
        _print_error(e)
        return EXIT_FAIL


def _print_error(e: KopruError) -> None:
    from server.errors import InconsistentGraph, TurtleSyntaxError, ValidationFailed

    if isinstance(e, TurtleSyntaxError):
        n = len(e.errors)
        print(f"kopru: syntax error{'s' if n > 1 else ''}:", file=sys.stderr)
        print(e.report(), file=sys.stderr)
    elif isinstance(e, ValidationFailed):
        print("kopru: the data does not conform to the shapes; nothing was built.",
              file=sys.stderr)
        print(e.result.text_report(), file=sys.stderr)
    elif isinstance(e, InconsistentGraph):
        print(f"kopru: {e}\nNothing was built.", file=sys.stderr)
    else:
        print(f"kopru: error: {e}", file=sys.stderr)


def _project(args):
    from server.pipeline.project import Project

    return Project(args.project if args.project is not None else os.getcwd())


def _progress(step: str, seconds: float, detail: str) -> None:
    print(f"  {step:<11}{seconds:8.3f} s  {detail}", file=sys.stderr, flush=True)


class _LiveProgress:
    """The build's steps as they finish (`_progress`'s lines), and, on a
    terminal, a bar for a step still running after a second: how far it is
    against the same step of the last build. Quiet when stderr is not a
    terminal or CI is set (logs get the plain lines only)."""

    STEPS = ("parse", "validate", "closure", "load", "swap")
    WIDTH = 24
    SHOW_AFTER = 1.0          # seconds: quick steps never draw a bar

    def __init__(self, project) -> None:
        import threading

        from server.stores.state import current_store_dir, read_manifest

        self.live = sys.stderr.isatty() and not os.environ.get("CI")
        self.expected = read_manifest(current_store_dir(project)).get("timings", {})
        self.lock = threading.Lock()
        self.step: str | None = None
        self.started = 0.0
        self.drawn = False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._tick, daemon=True) if self.live else None

    def __enter__(self) -> _LiveProgress:
        self._begin(self.STEPS[0])
        if self.thread is not None:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()
        with self.lock:
            self._clear()

    def __call__(self, step: str, seconds: float, detail: str) -> None:
        with self.lock:
            self._clear()
            _progress(step, seconds, detail)
            later = self.STEPS[self.STEPS.index(step) + 1:] if step in self.STEPS else ()
            self._begin(later[0] if later else None)

    def _begin(self, step: str | None) -> None:
        import time

        self.step, self.started = step, time.monotonic()

    def _clear(self) -> None:
        if self.drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
            self.drawn = False

    def _tick(self) -> None:
        import time

        while not self.done.wait(0.2):
            with self.lock:
                elapsed = time.monotonic() - self.started
                if self.step is None or elapsed < self.SHOW_AFTER:
                    continue
                sys.stderr.write("\r\033[K" + self._line(self.step, elapsed))
                sys.stderr.flush()
                self.drawn = True

    def _line(self, step: str, elapsed: float) -> str:
        expected = self.expected.get(step)
        if expected and expected > 0:
            done = min(int(self.WIDTH * elapsed / expected), self.WIDTH - 1)
            bar = "#" * done + "-" * (self.WIDTH - done)
            return f"  {step:<11}[{bar}] {elapsed:6.1f} s of about {expected:.1f} s (last build)"
        # No earlier build to compare with: a block that sweeps the bar.
        at = int(elapsed * 5) % (2 * self.WIDTH - 6)
        at = at if at < self.WIDTH - 3 else 2 * self.WIDTH - 6 - at
        bar = "-" * at + "###" + "-" * (self.WIDTH - 3 - at)
        return f"  {step:<11}[{bar}] {elapsed:6.1f} s"


def _ensure_built(project, *, quiet: bool = False):
    """Build if the store is missing or stale; progress on stderr."""
    from server.pipeline.build import build, is_current

    h = project.input_hash()
    if is_current(project, h):
        return
    if quiet:
        build(project)
        return
    print("kopru: building (the files changed since the last build)…", file=sys.stderr)
    with _LiveProgress(project) as progress:
        build(project, progress=progress)


# --- commands --------------------------------------------------------------------------


def cmd_validate(args) -> int:
    from server.pipeline.limits import memory_limit
    from server.pipeline.parse import parse_project
    from server.pipeline.validate import validate

    project = _project(args)
    with memory_limit(sum(p.stat().st_size for p in project.build_inputs()),
                      what="validation"):
        parsed = parse_project(project)  # TurtleSyntaxError → main prints it
        result = validate(parsed)
    if result.conforms:
        asserted = len(set(parsed.triples("graph")))
        ontology = len(set(parsed.triples("ontology")))
        shapes = len(set(parsed.triples("shapes")))
        print(f"valid: {result.files} files, {asserted + ontology:,} triples before the "
              f"closure ({asserted:,} asserted + {ontology:,} ontology) and {shapes:,} in the "
              "shapes graph")
        if result.warnings:
            print(result.text_report())
        return EXIT_OK
    print(result.text_report())
    return EXIT_FAIL


def cmd_build(args) -> int:
    from server.pipeline.build import build

    project = _project(args)
    endpoints = _push_endpoints(args) if args.push else None
    print(f"kopru: building {project.root}", file=sys.stderr)
    with _LiveProgress(project) as progress:
        result = build(project, force=args.force, progress=progress)
    if result.skipped:
        print(f"up to date: {dataset_figures(result.counts)} → {result.store_dir} (nothing "
              "changed; --force rebuilds)")
    else:
        print(f"built in {result.timings['total']:.2f} s: {dataset_figures(result.counts)} "
              f"→ {result.store_dir}")
        if result.validation is not None and result.validation.warnings:
            print(result.validation.text_report(), file=sys.stderr)
    if endpoints is not None:
        return _push(result.store_dir, endpoints, args.force)
    return EXIT_OK


def dataset_figures(counts: dict) -> str:
    """The build's triple counts in the words the README, the home page,
    VoID and /healthz use: the dataset (the SPARQL default graph) is
    asserted + ontology + entailed; the shapes graph is counted apart."""
    a, o, e = (counts.get(k, 0) for k in ("asserted", "ontology", "entailed"))
    return (f"{a + o + e:,} triples in the dataset ({a:,} asserted + {o:,} ontology + "
            f"{e:,} entailed) and {counts.get('shapes', 0):,} in the shapes graph")


def _push_endpoints(args):
    from server.stores.http import Endpoints

    try:
        return Endpoints.from_url(args.push, update_url=args.update_url, gsp_url=args.gsp_url)
    except ValueError as e:
        raise UserError(f"--push: {e}") from None


def _push(store_dir, endpoints, force: bool) -> int:
    from server.errors import PushError
    from server.stores.push import push_store_dir

    print(f"kopru: pushing to {endpoints.display}", file=sys.stderr)
    try:
        pushed = push_store_dir(store_dir, endpoints, force=force, progress=_progress)
    except PushError as e:
        print(f"kopru: error: the push to {endpoints.display} failed: {e}\n"
              "The store still holds the previous version.", file=sys.stderr)
        return EXIT_FAIL
    if pushed.skipped:
        print(f"remote store up to date: {pushed.url} holds this build (--force pushes again)")
        return EXIT_OK
    c = pushed.counts
    how = {"gsp": "Graph Store Protocol", "gsp-bulk": "Graph Store Protocol, bulk loader",
           "update": "SPARQL Update"}.get(pushed.method or "", pushed.method)
    print(f"pushed in {pushed.timings['total']:.2f} s ({how}): {c.get('asserted', 0)} asserted, "
          f"{c.get('entailed', 0)} entailed, {c.get('ontology', 0)} ontology, "
          f"{c.get('shapes', 0)} shapes triples → {pushed.url} (version {pushed.version})")
    return EXIT_OK


def _read_query_arg(project, text: str) -> str:
    from server.pipeline.gallery import find_query

    if text == "-":
        return sys.stdin.read()
    looks_like_path = text.endswith(".rq") or os.sep in text
    if looks_like_path and "\n" not in text and "{" not in text:
        path = Path(text)
        if not path.is_absolute() and not path.exists():
            path = project.root / text
        if not path.is_file():
            if " " in text.strip() and not text.endswith(".rq"):
                return text          # SPARQL with an IRI in it: LOAD <http://…>
            raise UserError(f"no such query file: {text}")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"cannot read {text}: {e}") from None
    if "{" not in text and " " not in text.strip():
        q = find_query(project, text.strip())
        if q is not None:
            return q.text
        hint = _closest_query(project, text.strip())
        raise UserError(f"{text!r} is neither a SPARQL query nor the name of a query in "
                        f"{project.queries_dir} (nor a .rq file)"
                        + (f"; did you mean {hint!r}?" if hint else "")
                        + " `kopru query --list` lists the named queries.")
    return text


def _closest_query(project, name: str) -> str | None:
    import difflib

    slugs = [p.stem for p in project.query_files()] if project.queries_dir.is_dir() else []
    found = difflib.get_close_matches(name, slugs, n=1, cutoff=0.6)
    if not found:   # a fragment of a long name: "exports" → the one that holds it
        found = [s for s in slugs if name.lower() in s][:1]
    return found[0] if found else None


def _list_queries(project) -> int:
    from server.pipeline.gallery import load_queries

    queries = load_queries(project) if project.queries_dir.is_dir() else []
    if not queries:
        print(f"no named queries in {project.queries_dir}")
        return EXIT_OK
    sys.stdout.write(format_table(["NAME", "TITLE"], [[q.slug, q.title] for q in queries])
                     .replace(f"({len(queries)} rows)", f"({len(queries)} queries: run one "
                              "with `kopru query NAME`)"))
    return EXIT_OK


def cmd_query(args) -> int:
    from server.namespaces import PREFIXES
    from server.query.analysis import READ_ONLY_MESSAGE, analyze
    from server.stores.state import open_current

    project = _project(args)
    if args.list:
        return _list_queries(project)
    if args.query is None:
        args.parser.error("the following arguments are required: QUERY (or --list)")
    sparql = _read_query_arg(project, args.query)
    if analyze(sparql).is_update:
        print(f"kopru: {READ_ONLY_MESSAGE}", file=sys.stderr)
        return EXIT_FAIL
    _ensure_built(project)
    store = open_current(project)
    try:
        result = store.query(sparql, prefixes=PREFIXES)
    except SyntaxError as e:
        print(f"kopru: {sparql_syntax_message(sparql, str(e))}", file=sys.stderr)
        return EXIT_FAIL
    except OSError as e:
        print(f"kopru: query failed: {e}", file=sys.stderr)
        return EXIT_FAIL
    sys.stdout.write(render_result(result, args.format, prefixes=PREFIXES))
    sys.stdout.flush()
    return EXIT_OK


# --- rendering query results -----------------------------------------------------------

_PLAIN_DATATYPES = {"string", "integer", "decimal", "double", "float", "boolean", "int",
                    "long", "date", "dateTime", "gYear", "gYearMonth",
                    "nonNegativeInteger", "positiveInteger"}


def term_text(term, prefixes=None) -> str:
    """A term shortened for a person: id:albania, Albania@en, 919500000."""
    import pyoxigraph as ox

    from server.namespaces import XSD, shorten

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return shorten(term.value, prefixes)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"{term.value}@{term.language}"
        dt = term.datatype.value
        if dt.startswith(XSD) and dt[len(XSD):] in _PLAIN_DATATYPES:
            return term.value
        return f"{term.value}^^{shorten(dt, prefixes)}"
    return str(term)


def render_result(result, fmt: str, prefixes=None) -> str:
    """SELECT → aligned table / CSV / SPARQL JSON; ASK → true/false;
    CONSTRUCT/DESCRIBE → Turtle / N-Triples / JSON-LD."""
    import pyoxigraph as ox

    if isinstance(result, ox.QueryBoolean):
        if fmt == "json":
            return formats.serialize_results(result, formats.JSON).decode() + "\n"
        return ("true" if bool(result) else "false") + "\n"
    if isinstance(result, ox.QueryTriples):
        triples = sorted(result, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        rdf = {"table": formats.TURTLE, "csv": formats.N_TRIPLES, "json": formats.JSON_LD}[fmt]
        return formats.serialize(triples, rdf, used_prefixes(triples, prefixes or {})).decode()
    if fmt == "json":
        return formats.serialize_results(result, formats.JSON).decode() + "\n"
    if fmt == "csv":
        return formats.serialize_results(result, formats.CSV).decode()
    variables = [v.value for v in result.variables]
    rows = [[term_text(sol[v], prefixes) for v in variables] for sol in result]
    return format_table(variables, rows)


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """Columns aligned, a rule under the header, a row count at the end."""
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if
                   unicodedata.combining(c) else 1 for c in s)

    cells = [[c.replace("\n", " ") for c in r] for r in rows]
    widths = [width(h) for h in header]
    for r in cells:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], width(c))

    def line(values: list[str]) -> str:
        return "  ".join(v + " " * (widths[i] - width(v))
                         for i, v in enumerate(values)).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"


def cmd_export(args) -> int:
    import pyoxigraph as ox

    from server.namespaces import GRAPH_ASSERTED, GRAPH_ENTAILED, GRAPH_ONTOLOGY, PREFIXES
    from server.stores.state import open_current

    fmt = args.format
    if fmt is None and args.output:
        ext = Path(args.output).suffix.lower().lstrip(".")
        ext = {"json": "jsonld"}.get(ext, ext)
        fmt = next((k for k, f in EXPORT_FORMATS.items() if f.extension == ext), None)
        if fmt is None:
            raise UserError(f"cannot tell the format from {args.output!r}: "
                            f"use --format {'|'.join(EXPORT_FORMATS)}")
    fmt = fmt or "ttl"

    project = _project(args)
    _ensure_built(project)
    if args.asserted_only:
        graphs = [GRAPH_ASSERTED]
    elif args.no_entailed:
        graphs = [GRAPH_ASSERTED, GRAPH_ONTOLOGY]
    else:
        graphs = [GRAPH_ASSERTED, GRAPH_ONTOLOGY, GRAPH_ENTAILED]
    store = open_current(project)
    if fmt == "trig":
        rows = store.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
                           named_graphs=graphs)
        items = sorted((ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows),
                       key=lambda q: (graphs.index(str(q.graph_name)[1:-1]), str(q.subject),
                                      str(q.predicate), str(q.object)))
    else:
        items = sorted(store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                   default_graph=graphs),
                       key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    data = formats.serialize(items, EXPORT_FORMATS[fmt], used_prefixes(items, PREFIXES))
    if args.output:
        out = Path(args.output)
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, out)
        except OSError as e:
            raise UserError(f"cannot write {args.output}: {e.strerror}",
                            exit_code=EXIT_FAIL) from None
        print(f"wrote {len(items)} {'quads' if fmt == 'trig' else 'triples'} to {out}",
              file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return EXIT_OK


def _build_in_child(project) -> bool:
    """Bring the store up to date in a separate process, printing its progress
    or its report; True when the store is current.

    Not in this process: the build opens RocksDB (through pyoxigraph), whose
    background threads do not survive the fork into gunicorn workers — a worker
    forked from a process that built would hang at exit until it is killed."""
    from server.pipeline.build import is_current

    if is_current(project, project.input_hash()):
        return True
    r = subprocess.run([sys.executable, "-m", "server", "--project", str(project.root), "build"],
                       stdin=subprocess.DEVNULL)
    return r.returncode == EXIT_OK


def cmd_serve(args) -> int:
    from server.config import Config
    from server.stores.state import current_store_dir, read_manifest
    from server.web import serve

    project = _project(args)
    try:
        config = Config.from_env(project=project, host=args.host, port=args.port,
                                 workers=args.workers, query_timeout=args.timeout,
                                 result_limit=args.result_limit,
                                 service_allowlist=args.service_allowlist,
                                 store_url=args.store, dev=args.dev or None)
    except ValueError as e:
        raise UserError(str(e)) from None
    try:    # before a build: a newcomer learns at once that the port is taken
        serve.check_port(config)
    except serve.PortInUse as e:
        raise UserError(str(e), exit_code=EXIT_FAIL) from None
    # A remote store is filled by `kopru build --push`: no build here.
    if not config.remote and not _build_in_child(project):
        previous = current_store_dir(project)
        if previous is None:
            return EXIT_FAIL
        built = read_manifest(previous).get("built_at", "?")
        print(f"kopru: WARNING: serving the last good build (built {built}), not the "
              f"files as they are now: fix the errors above and restart.", file=sys.stderr)
    return serve.run(config) or EXIT_OK
