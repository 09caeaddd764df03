"""The `kopru` command (also `python -m server`).

    kopru [--project DIR] validate
    kopru [--project DIR] build [--force] [--push URL [--update-url U] [--gsp-url U]]
    kopru [--project DIR] query FILE.rq|NAME|"SPARQL"|- [--format table|csv|json]
    kopru [--project DIR] export [--format ttl|nt|jsonld|trig] [--asserted-only] [-o FILE]
    kopru [--project DIR] serve [--host H] [--port P] [--workers N] [--timeout S] [--dev]
                                [--store URL]

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

from server import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

EXPORT_FORMATS = {  # name → (pyoxigraph RdfFormat attribute, file extensions)
    "ttl": ("TURTLE", (".ttl",)),
    "nt": ("N_TRIPLES", (".nt",)),
    "jsonld": ("JSON_LD", (".jsonld", ".json")),
    "trig": ("TRIG", (".trig",)),
}


class UserError(Exception):
    """A mistake of the user's: printed as `kopru: error: …`, exit 2."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


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
                        "Oxigraph's; Fuseki's is <dataset>/data). Without one, SPARQL Update")
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("query", parents=[common],
                       help="run a SPARQL query on the built graph",
                       description="Run a SPARQL query on the built graph (built first if "
                                   "needed). The default graph is asserted + ontology + "
                                   "entailed; the usual prefixes (kop:, id:, rdfs:, …) are "
                                   "predeclared.")
    s.add_argument("query", metavar="QUERY",
                   help='a .rq file, the name of a query in queries/, the SPARQL text '
                        'itself, or - to read it from standard input')
    s.add_argument("--format", "-f", choices=("table", "csv", "json"), default="table",
                   help="output format (default: table). CONSTRUCT/DESCRIBE results are "
                        "Turtle (table), N-Triples (csv) or JSON-LD (json)")
    s.set_defaults(func=cmd_query)

    s = sub.add_parser("export", parents=[common],
                       help="write the graph (with its entailments) as RDF",
                       description="Write the built graph — asserted data, ontology and "
                                   "entailed triples — to standard output or a file.")
    s.add_argument("--format", "-f", choices=tuple(EXPORT_FORMATS), default=None,
                   help="ttl (default), nt, jsonld, or trig (keeps the named graphs); "
                        "guessed from the -o file name when not given")
    s.add_argument("--asserted-only", action="store_true",
                   help="leave out the entailed triples (data and ontology as written)")
    s.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("serve", parents=[common],
                       help="serve the SPARQL endpoint and pages",
                       description="Build if needed, then serve the graph over HTTP "
                                   "(gunicorn; Flask's debug server with --dev).")
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
                   help="development mode: Flask's debug server with reloading")
    s.add_argument("--store", metavar="URL", default=None,
                   help="serve from the remote SPARQL store at URL (filled by `kopru build "
                        "--push URL`) instead of the embedded one (env KOPRU_STORE_URL)")
    s.set_defaults(func=cmd_serve)
    return p


def _port(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= v <= 65535:
        raise argparse.ArgumentTypeError(f"port must be between 0 and 65535, not {v}")
    return v


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {v}")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return v


# --- entry point -----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as e:
        print(f"kopru: error: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("kopru: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `kopru export | head`
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except _pipeline_errors() as e:
        _print_pipeline_error(e)
        return EXIT_FAIL


def _pipeline_errors() -> tuple[type[BaseException], ...]:
    from server.build import BuildError
    from server.parse import TurtleSyntaxError
    from server.queries import QueryFileError
    from server.store import StoreNotBuilt
    from server.validate import ShapesError

    return (BuildError, TurtleSyntaxError, QueryFileError, StoreNotBuilt, ShapesError)


def _print_pipeline_error(e: BaseException) -> None:
    from server.build import InconsistentGraph, ValidationFailed
    from server.parse import TurtleSyntaxError

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
    from server.project import Project, ProjectError

    root = args.project if args.project is not None else os.getcwd()
    try:
        return Project(root)
    except ProjectError as e:
        raise UserError(str(e)) from None


def _progress(step: str, seconds: float, detail: str) -> None:
    print(f"  {step:<11}{seconds:8.3f} s  {detail}", file=sys.stderr, flush=True)


def _ensure_built(project, *, quiet: bool = False):
    """Build if the store is missing or stale; progress on stderr."""
    from server.build import build, is_current

    h = project.input_hash()
    if is_current(project, h):
        return
    if not quiet:
        print("kopru: building (the files changed since the last build)…", file=sys.stderr)
    build(project, progress=None if quiet else _progress)


# --- commands --------------------------------------------------------------------------


def cmd_validate(args) -> int:
    from server.parse import parse_project
    from server.validate import validate

    project = _project(args)
    parsed = parse_project(project)  # TurtleSyntaxError → main prints it
    result = validate(parsed)
    if result.conforms:
        print(f"valid: {result.files} files, {result.triples} triples")
        if result.warnings:
            print(result.text_report())
        return EXIT_OK
    print(result.text_report())
    return EXIT_FAIL


def cmd_build(args) -> int:
    from server.build import build

    project = _project(args)
    endpoints = _push_endpoints(args) if args.push else None
    print(f"kopru: building {project.root}", file=sys.stderr)
    result = build(project, force=args.force, progress=_progress)
    if result.skipped:
        print(f"up to date: {result.store_dir} (nothing changed; --force rebuilds)")
    else:
        c = result.counts
        print(f"built in {result.timings['total']:.2f} s: {c.get('asserted', 0)} asserted, "
              f"{c.get('entailed', 0)} entailed, {c.get('ontology', 0)} ontology triples "
              f"→ {result.store_dir}")
        if result.validation is not None and result.validation.warnings:
            print(result.validation.text_report(), file=sys.stderr)
    if endpoints is not None:
        return _push(result.store_dir, endpoints, args.force)
    return EXIT_OK


def _push_endpoints(args):
    from server.remote_store import Endpoints

    try:
        return Endpoints.from_url(args.push, update_url=args.update_url, gsp_url=args.gsp_url)
    except ValueError as e:
        raise UserError(f"--push: {e}") from None


def _push(store_dir, endpoints, force: bool) -> int:
    from server.push import PUSH_TIMEOUT, PushError, push_store_dir

    raw = os.environ.get("KOPRU_STORE_PUSH_TIMEOUT")
    try:
        timeout = float(raw) if raw else PUSH_TIMEOUT
    except ValueError:
        raise UserError(f"KOPRU_STORE_PUSH_TIMEOUT={raw!r} is not a number") from None
    print(f"kopru: pushing to {endpoints.display}", file=sys.stderr)
    try:
        pushed = push_store_dir(store_dir, endpoints, force=force, timeout=timeout,
                                progress=_progress)
    except PushError as e:
        print(f"kopru: error: the push to {endpoints.display} failed: {e}\n"
              "The store still holds the previous version.", file=sys.stderr)
        return EXIT_FAIL
    if pushed.skipped:
        print(f"remote store up to date: {pushed.url} holds this build (--force pushes again)")
        return EXIT_OK
    c = pushed.counts
    how = {"gsp": "Graph Store Protocol", "gsp-bulk": "Graph Store Protocol, bulk loader",
           "update": "SPARQL Update"}.get(pushed.method, pushed.method)
    print(f"pushed in {pushed.timings['total']:.2f} s ({how}): {c.get('asserted', 0)} asserted, "
          f"{c.get('entailed', 0)} entailed, {c.get('ontology', 0)} ontology, "
          f"{c.get('shapes', 0)} shapes triples → {pushed.url} (version {pushed.version})")
    return EXIT_OK


def _read_query_arg(project, text: str) -> str:
    from server.queries import find_query, load_query

    if text == "-":
        return sys.stdin.read()
    looks_like_path = text.endswith(".rq") or os.sep in text
    if looks_like_path and "\n" not in text and "{" not in text:
        path = Path(text)
        if not path.is_absolute() and not path.exists():
            path = project.root / text
        if not path.is_file():
            raise UserError(f"no such query file: {text}")
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UserError(f"cannot read {text}: {e}") from None
    if "{" not in text and " " not in text.strip():
        q = find_query(project, text.strip())
        if q is not None:
            return q.text
        raise UserError(f"{text!r} is neither a SPARQL query nor the name of a query in "
                        f"{project.queries_dir} (nor a .rq file)")
    _ = load_query  # (files are read above; kept for symmetry)
    return text


def cmd_query(args) -> int:
    from server.namespaces import PREFIXES
    from server.store import open_current

    project = _project(args)
    sparql = _read_query_arg(project, args.query)
    _ensure_built(project)
    store = open_current(project)
    try:
        result = store.query(sparql, prefixes=PREFIXES)
    except SyntaxError as e:
        print(f"kopru: query error: {_short_query_error(str(e), sparql)}", file=sys.stderr)
        return EXIT_FAIL
    except OSError as e:
        print(f"kopru: query failed: {e}", file=sys.stderr)
        return EXIT_FAIL
    sys.stdout.write(render_result(result, args.format, prefixes=PREFIXES))
    sys.stdout.flush()
    return EXIT_OK


def _short_query_error(msg: str, sparql: str) -> str:
    """Oxigraph's parser lists every token it expected; keep it readable
    and show where the error is."""
    import re

    m = re.match(r"error at (\d+):(\d+): (.*)", msg, re.S)
    if not m:
        return msg if len(msg) < 300 else msg[:300] + "…"
    line, col, rest = int(m.group(1)), int(m.group(2)), m.group(3)
    if len(rest) > 120:
        rest = rest[:120].rsplit(",", 1)[0] + ", …"
    lines = sparql.splitlines()
    out = f"line {line}, column {col}: {rest}"
    if 0 < line <= len(lines):
        out += f"\n    {lines[line - 1]}\n    {' ' * (col - 1)}^"
    return out


def used_prefixes(terms, prefixes) -> dict[str, str]:
    """The prefixes whose namespace some IRI among `terms` starts with."""
    import pyoxigraph as ox

    iris = set()
    for t in terms:
        for x in (t.subject, t.predicate, t.object, getattr(t, "graph_name", None)):
            if isinstance(x, ox.NamedNode):
                iris.add(x.value)
            elif isinstance(x, ox.Literal):
                iris.add(x.datatype.value)
    return {p: ns for p, ns in (prefixes or {}).items()
            if any(i.startswith(ns) and len(i) > len(ns) for i in iris)}


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
        value = bool(result)
        if fmt == "json":
            return result.serialize(format=ox.QueryResultsFormat.JSON).decode() + "\n"
        return ("true" if value else "false") + "\n"
    if isinstance(result, ox.QueryTriples):
        triples = sorted(result, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        rdf = {"table": ox.RdfFormat.TURTLE, "csv": ox.RdfFormat.N_TRIPLES,
               "json": ox.RdfFormat.JSON_LD}[fmt]
        return ox.serialize(triples, format=rdf,
                            prefixes=used_prefixes(triples, prefixes) if fmt == "table"
                            else None).decode()
    if fmt == "json":
        return result.serialize(format=ox.QueryResultsFormat.JSON).decode() + "\n"
    if fmt == "csv":
        return result.serialize(format=ox.QueryResultsFormat.CSV).decode()
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

    from server.namespaces import (GRAPH_ASSERTED, GRAPH_ENTAILED, GRAPH_ONTOLOGY,
                                   PREFIXES)
    from server.store import open_current

    fmt = args.format
    if fmt is None and args.output:
        ext = Path(args.output).suffix.lower()
        fmt = next((k for k, (_, exts) in EXPORT_FORMATS.items() if ext in exts), None)
        if fmt is None:
            raise UserError(f"cannot tell the format from {args.output!r}: "
                            f"use --format {'|'.join(EXPORT_FORMATS)}")
    fmt = fmt or "ttl"
    rdf_format = getattr(ox.RdfFormat, EXPORT_FORMATS[fmt][0])

    project = _project(args)
    _ensure_built(project)
    graphs = [GRAPH_ASSERTED, GRAPH_ONTOLOGY] + ([] if args.asserted_only else [GRAPH_ENTAILED])
    store = open_current(project)
    if fmt == "trig":
        rows = store.query("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
                           named_graphs=graphs)
        items = sorted((ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in rows),
                       key=lambda q: (graphs.index(q.graph_name.value), str(q.subject),
                                      str(q.predicate), str(q.object)))
    else:
        items = sorted(store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
                                   default_graph=graphs),
                       key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    prefixes = used_prefixes(items, PREFIXES) if fmt in ("ttl", "trig") else None
    data = ox.serialize(items, format=rdf_format, prefixes=prefixes)
    if args.output:
        out = Path(args.output)
        tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
        try:
            tmp.write_bytes(data)
            os.replace(tmp, out)
        except OSError as e:
            raise UserError(f"cannot write {args.output}: {e.strerror}", EXIT_FAIL) from None
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
    from server.build import is_current

    if is_current(project, project.input_hash()):
        return True
    r = subprocess.run([sys.executable, "-m", "server", "--project", str(project.root), "build"],
                       stdin=subprocess.DEVNULL)
    return r.returncode == EXIT_OK


def cmd_serve(args) -> int:
    from server.store import current_store_dir, read_manifest

    project = _project(args)
    store_url = args.store or os.environ.get("KOPRU_STORE_URL") or None
    if store_url and not store_url.startswith(("http://", "https://")):
        raise UserError(f"--store takes the http(s) URL of a SPARQL store, not {store_url!r}")
    # A remote store is filled by `kopru build --push`: no build here.
    if not store_url and not _build_in_child(project):
        previous = current_store_dir(project)
        if previous is None:
            return EXIT_FAIL
        built = read_manifest(previous).get("built_at", "?")
        print(f"kopru: WARNING: serving the last good build (built {built}), not the "
              f"files as they are now: fix the errors above and restart.", file=sys.stderr)
    import importlib

    try:
        serve = importlib.import_module("server.serve")
    except ModuleNotFoundError as e:
        if e.name == "server.serve":
            raise UserError("the HTTP server is not installed (server/serve.py is missing)",
                            EXIT_FAIL) from None
        raise
    settings = {}
    if args.result_limit is not None:
        settings["result_limit"] = args.result_limit
    if args.service_allowlist is not None:
        settings["service_allowlist"] = args.service_allowlist
    if store_url:
        settings["store_url"] = store_url
    return serve.run(project, host=args.host, port=args.port, workers=args.workers,
                     query_timeout=args.timeout, dev=args.dev, **settings) or EXIT_OK
