"""SHACL validation of the instance data (the build's gate).

Data graph: every graph/*.ttl merged, with the ontology's declarations and
axioms mixed in (what pyshacl's `inoculate` takes from ontology/*.ttl when
given it as ont_graph), so sh:targetClass reaches instances of subclasses.
The mix-in is computed once per ontology (`ontology_mixin`) and added to
the graph handed to pyshacl, instead of pyshacl cloning the data graph and
inoculating it again on every call. Shapes: ontology/shapes.ttl. No RDFS/OWL
inference is run here. SHACL-SPARQL constraints are enabled. A result of
severity sh:Violation fails the build; sh:Warning and sh:Info are reported
but let it go on. Only top-level results are reported: the nested results
pyshacl attaches with sh:detail (why a value failed its sh:node) are not
violations of their own.

Two validators (`engine`, or KOPRU_VALIDATOR):

- pyshacl is the reference, and what "auto" uses below SMALL_PROJECT
  data triples;
- the `shacl` package (a Rust validator, pinned to SHACL_VERSION), over
  the data plus the same ontology triples pyshacl mixes in, for larger
  projects, when the shapes use only the SHACL terms it is tested on
  against pyshacl (FAST_VALIDATOR_TERMS). Whatever it reports is reported
  again by pyshacl over the reported nodes' neighbourhood, and the report
  the user reads is pyshacl's; if they disagree, pyshacl checks everything.
"""

from __future__ import annotations

import contextlib
import functools
import pickle
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from server.config import settings
from server.errors import ShapesError
from server.namespaces import SH, shorten
from server.pipeline.focus import TripleIndex, neighbourhood, shapes_reach
from server.pipeline.parse import ParsedProject, ntriples, parse_project
from server.pipeline.project import Project
from server.terms import to_rdflib_graph

SH_NS = "http://www.w3.org/ns/shacl#"
SHACL_VERSION = "0.3.4"        # the `shacl` package, as pinned in pyproject.toml
SMALL_PROJECT = 50_000         # data triples below which "auto" runs pyshacl alone
# The SHACL terms the fast validator is checked on against pyshacl (every
# shape's mutation tests and generated broken variants); anything else in
# the shapes makes "auto" use pyshacl.
FAST_VALIDATOR_TERMS = frozenset([
    "NodeShape", "PropertyShape", "property", "path", "targetClass", "targetSubjectsOf",
    "targetObjectsOf", "targetNode", "target", "SPARQLTarget", "SPARQLConstraint", "sparql",
    "select", "prefixes", "declare", "prefix", "namespace", "message", "class", "datatype",
    "minCount", "maxCount", "pattern", "node", "hasValue", "or", "qualifiedValueShape",
    "qualifiedMinCount", "qualifiedMaxCount", "minInclusive", "languageIn", "nodeKind", "IRI",
    "minLength",
])

SEVERITY_ORDER = {"Violation": 0, "Warning": 1, "Info": 2}


@dataclass(frozen=True)
class Violation:
    file: str            # graph file(s) where the focus node is a subject, ", "-joined
    focus_node: str      # N-Triples form of the focus node
    path: str | None     # N-Triples form of the property path (or a SPARQL-ish path)
    message: str
    severity: str        # "Violation", "Warning" or "Info"
    value: str | None    # N-Triples form of the offending value
    shape: str | None = None
    component: str | None = None
    line: int | None = None   # line of the focus node in `file`, when found
    focus_label: str = ""     # how to show the focus node to a person
    path_label: str = ""      # prefixed name of the path, e.g. kop:party

    @property
    def value_label(self) -> str:
        return _short(self.value) if self.value else ""


@dataclass
class ValidationResult:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    files: int = 0
    triples: int = 0
    seconds: float = 0.0
    engine: str = "pyshacl"   # which validator decided ("pyshacl", "shacl", "none")
    note: str = ""            # why another validator than the usual one decided

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "Violation"]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if v.severity != "Violation"]

    def text_report(self) -> str:
        """Results grouped by file, then entity: property — message."""
        if not self.violations:
            return f"valid: {self.files} files, {self.triples} triples"
        lines: list[str] = []
        n_err, n_warn = len(self.errors), len(self.warnings)
        head = f"{n_err} violation{'s' if n_err != 1 else ''}"
        if n_warn:
            head += f", {n_warn} warning{'s' if n_warn != 1 else ''}"
        lines.append(head + ":")
        by_file: dict[str, list[Violation]] = {}
        for v in self.violations:
            by_file.setdefault(v.file, []).append(v)
        for file in sorted(by_file):
            lines.append("")
            lines.append(file)
            by_entity: dict[str, list[Violation]] = {}
            for v in by_file[file]:
                by_entity.setdefault(v.focus_label, []).append(v)
            for entity in sorted(by_entity):
                vs = by_entity[entity]
                where = f" (line {vs[0].line})" if vs[0].line else ""
                lines.append(f"  {entity}{where}")
                for v in sorted(vs, key=lambda v: (SEVERITY_ORDER.get(v.severity, 9),
                                                   v.path_label, v.message)):
                    sev = "" if v.severity == "Violation" else f"[{v.severity.lower()}] "
                    prop = v.path_label or "(node)"
                    val = f" (value: {v.value_label})" if v.value else ""
                    lines.append(f"    {sev}{prop}: {v.message}{val}")
        return "\n".join(lines)


def _short(nt: str, prefixes: dict[str, str] | None = None) -> str:
    if nt.startswith("<") and nt.endswith(">"):
        return shorten(nt[1:-1], prefixes)
    return nt


def validate(project: Project | ParsedProject, *, engine: str | None = None,
             data_nt: bytes | None = None) -> ValidationResult:
    """Parse (if given a Project) and SHACL-validate. Raises
    TurtleSyntaxError on a syntax error.

    `engine`: "pyshacl", "shacl" or "auto" (the default, KOPRU_VALIDATOR):
    see the module docstring. `data_nt`: the data graph already serialised
    as N-Triples (the build has it), for the fast validator."""
    parsed = project if isinstance(project, ParsedProject) else parse_project(project)
    t0 = time.perf_counter()
    if not parsed.by_role("shapes") or parsed.count("shapes") == 0:
        result = ValidationResult(conforms=True, engine="none")
    else:
        chosen, why = choose_engine(parsed, engine)
        if chosen == "shacl":
            result = _validate_fast(parsed, data_nt)
        else:
            result = _run_pyshacl(parsed)
            result.note = why
    result.files = len(parsed.files)
    result.triples = parsed.count()
    result.seconds = time.perf_counter() - t0
    return result


def choose_engine(parsed: ParsedProject, engine: str | None = None,
                  data_triples: int | None = None) -> tuple[str, str]:
    """("pyshacl" or "shacl", why) for this project (`data_triples`: its
    size, when `parsed` holds only the ontology and shapes)."""
    engine = engine or settings().validator
    if engine == "pyshacl":
        return "pyshacl", ""
    n = parsed.count("graph") if data_triples is None else data_triples
    if engine == "auto" and n < SMALL_PROJECT:
        return "pyshacl", ""
    if not fast_validator_available():
        return "pyshacl", f"the shacl package {SHACL_VERSION} is not installed"
    unsupported = unsupported_shapes(parsed.triples("shapes"))
    if unsupported:
        return "pyshacl", f"the shapes use {unsupported}, which the fast validator is not checked on"
    return "shacl", ""


def fast_validator_available() -> bool:
    try:
        from importlib import metadata

        return metadata.version("shacl") == SHACL_VERSION
    except Exception:  # not installed, or a broken installation
        return False


def unsupported_shapes(shapes_triples: Iterable) -> str:
    """The first SHACL term the shapes use outside what the fast validator
    is tested on against pyshacl (tests/test_validation_engines.py), or ""."""
    for t in shapes_triples:
        for term in (t.predicate, t.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(SH_NS):
                local = term.value[len(SH_NS):]
                if local not in FAST_VALIDATOR_TERMS:
                    return "sh:" + local
    return ""


def _run_pyshacl(parsed: ParsedProject, data_triples: list | None = None, *,
                 focus: set | None = None) -> ValidationResult:
    """pyshacl over the whole data (or `data_triples`, a neighbourhood);
    with `focus`, only results about those nodes (N-Triples strings) count."""
    import logging

    import pyshacl

    logging.getLogger("pyshacl").setLevel(logging.ERROR)
    shapes = resolve_sparql_targets(parsed, data_triples)
    data = parsed.triples("graph") if data_triples is None else data_triples
    # The graph pyshacl would make from the data and ont_graph (a clone, then
    # inoculate), made here from the mix-in computed once: a graph of our
    # own, so pyshacl may work on it in place.
    mixed = to_rdflib_graph(data, parsed.prefixes,
                            into=_clone(_mixin_graph_blob(ontology_mixin(parsed))))
    if focus is not None:    # (resolve_sparql_targets gave a copy if it changed anything)
        if shapes is parsed.shapes_graph:
            shapes = _copy_of_shapes(parsed)
        shapes = targets_within(shapes, mixed, focus, copy=False)
    conforms, report, _text = pyshacl.validate(
        mixed,
        shacl_graph=shapes,
        ont_graph=None,
        inplace=True,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        allow_infos=True,
        advanced=True,
        meta_shacl=False,
        debug=False,
    )
    if not hasattr(report, "subjects"):  # pyshacl.errors.ValidationFailure
        raise ShapesError(f"ontology/shapes.ttl could not be applied: {report}")
    # Labels and files of blank nodes come from the data alone (without
    # the mix-in), built only when a blank node is reported.
    if data_triples is None:
        violations = _violations(report, parsed, lambda: parsed.data_graph)
    else:
        violations = _violations(report, parsed,
                                 lambda: to_rdflib_graph(data_triples, parsed.prefixes))
    if focus is not None:
        violations = [v for v in violations if v.focus_node in focus]
    conforms = not any(v.severity == "Violation" for v in violations)
    return ValidationResult(conforms=conforms, violations=violations, engine="pyshacl")


# --- the fast validator -------------------------------------------------------------------


def _validate_fast(parsed: ParsedProject, data_nt: bytes | None) -> ValidationResult:
    """The `shacl` package over the whole data; what it reports is reported
    by pyshacl (the reference) from the reported nodes' neighbourhood, and
    any disagreement means pyshacl over everything."""
    if data_nt is None:
        data_nt = ntriples(parsed.triples("graph"))
    mixin = ontology_mixin(parsed)
    results = run_fast_validator(shapes_text(parsed), data_nt, mixin)
    if not results:
        return ValidationResult(conforms=True, engine="shacl")
    if any(r.focus_node.startswith("_:") for r in results):
        full = _run_pyshacl(parsed)
        full.note = "the fast validator reported a blank node; pyshacl checked everything"
        return full
    fast_focus = {r.focus_node for r in results}
    nodes = [ox.NamedNode(n[1:-1]) for n in fast_focus]
    index = TripleIndex(parsed.triples("graph"))
    reach = shapes_reach(parsed.triples("shapes"))
    triples = neighbourhood(index, nodes, reach)
    checked = _run_pyshacl(parsed, triples, focus=fast_focus)
    if {v.focus_node for v in checked.violations} == fast_focus:
        checked.engine = "shacl"
        checked.note = "findings confirmed by pyshacl"
        return checked
    full = _run_pyshacl(parsed)
    full.note = "pyshacl and the fast validator disagreed; pyshacl checked everything"
    return full


def problems_of(parsed: ParsedProject, triples: list, nodes: set, *,
                data_triples: int) -> list[str]:
    """What is wrong with `nodes` (violations and warnings, as text) in the
    graph `triples` (their neighbourhood); [] when they conform. `parsed`
    holds the ontology and shapes; `data_triples` is the whole data's size
    (which validator to use)."""
    focus = {str(n) for n in nodes}
    engine, _why = choose_engine(parsed, data_triples=data_triples)
    if engine == "shacl":
        data = ntriples(triples)
        return [f"{r.focus_node} {r.path or ''}: {r.message}" for r in
                run_fast_validator(shapes_text(parsed), data, ontology_mixin(parsed))
                if r.focus_node in focus or r.focus_node.startswith("_:")]
    result = _run_pyshacl(parsed, triples, focus=focus)
    return [f"{v.focus_label} {v.path_label}: {v.message}" for v in result.violations]


def run_fast_validator(shapes_nt: str, data_nt: bytes, mixin_nt: str) -> list:
    """The `shacl` package's results (all severities) for the data (+ the
    ontology mixin), as its Result objects."""
    import os
    import tempfile

    import shacl

    compiled = shacl.Shapes.from_text(shapes_nt, format="ntriples")
    try:  # from a file: no copy of the whole graph as a Python string
        with tempfile.NamedTemporaryFile(prefix="kopru-validate-", suffix=".nt",
                                         delete=False) as f:
            f.write(data_nt)
            f.write(b"\n")
            f.write(mixin_nt.encode("utf-8"))
        report = compiled.validate_file(f.name, allow_warnings=True)
    except OSError:  # no room for it: in memory after all
        report = compiled.validate_text(data_nt.decode("utf-8") + "\n" + mixin_nt,
                                        format="ntriples", allow_warnings=True)
    finally:
        with contextlib.suppress(OSError, NameError):
            os.unlink(f.name)
    return list(report.results)


def shapes_text(parsed: ParsedProject) -> str:
    """The shapes graph as N-Triples."""
    return ntriples(parsed.triples("shapes")).decode("utf-8")


def ontology_mixin(parsed: ParsedProject) -> str:
    """What pyshacl mixes into the data graph from the ontology (its
    `inoculate`: class and property declarations and axioms), as N-Triples:
    the fast validator needs the same graph to agree with pyshacl."""
    if "mixin" not in parsed.derived:
        parsed.derived["mixin"] = _mixin_of(ntriples(parsed.triples("ontology")))
    return parsed.derived["mixin"]


@functools.lru_cache(maxsize=4)
def _mixin_of(ontology_nt: bytes) -> str:
    """The mix-in of an ontology (N-Triples), once per process however many
    builds and validations use it (blank nodes are named after their content
    when parsed, so the same files give the same N-Triples)."""
    if not ontology_nt:
        return ""
    from pyshacl.rdfutil.inoculate import inoculate
    from rdflib import Graph

    ontology = to_rdflib_graph(q.triple for q in ox.parse(ontology_nt, ox.RdfFormat.N_TRIPLES))
    return inoculate(Graph(), ontology).serialize(format="nt")  # type: ignore[arg-type]


@functools.lru_cache(maxsize=4)
def _mixin_graph_blob(mixin_nt: str) -> bytes:
    """The mix-in's rdflib graph, pickled once per process: unpickling a
    copy takes half the time of converting its triples again."""
    return _pickled(to_rdflib_graph(ox.parse(mixin_nt.encode("utf-8"), ox.RdfFormat.N_TRIPLES)
                                    if mixin_nt else ()))


def _pickled(graph) -> bytes:
    """An rdflib graph as bytes for _clone: its store (the triples and the
    prefixes, exactly) and its name."""
    # rdflib makes a graph's namespace manager, which puts its default
    # prefixes into the store, on first use: the clone must have them too
    _ = graph.namespace_manager
    return pickle.dumps((graph.store, graph.identifier), protocol=pickle.HIGHEST_PROTOCOL)


def _clone(blob: bytes):
    """A new rdflib graph from _pickled's bytes, with the same triples and
    prefixes (no default prefixes added: rdflib would rename a clashing one)."""
    from rdflib import Graph

    store, identifier = pickle.loads(blob)   # bytes this process pickled itself
    return Graph(store=store, identifier=identifier, bind_namespaces="none")


def resolve_sparql_targets(parsed: ParsedProject, data: list | None = None):
    """The shapes graph with every SPARQL-based target (sh:target [ a
    sh:SPARQLTarget ; sh:select … ]) replaced by the sh:targetNode values
    it selects, computed by pyoxigraph over data + ontology — the same graph
    pyshacl would run it on (the data with the ontology mixed in). `data`:
    other data triples than the project's (a neighbourhood).

    Same semantics, far less time: rdflib's SPARQL engine walks every triple
    of the graph for such a target (seconds for a few thousand triples);
    Oxigraph answers in milliseconds. Targets it cannot run (pre-bound
    $shapesGraph/$currentShape, or a query Oxigraph rejects) are left to
    pyshacl. Returns the original graph when there is nothing to resolve."""
    from rdflib import RDF
    from rdflib.namespace import SH as RSH

    shapes = parsed.shapes_graph
    targets = [(shape, t) for shape, t in shapes.subject_objects(RSH.target)
               if (t, RDF.type, RSH.SPARQLTarget) in shapes
               and shapes.value(t, RSH.select) is not None]
    if not targets:
        return shapes
    store = None
    resolved: dict = {}
    for shape, t in targets:
        query = str(shapes.value(t, RSH.select))
        if "$shapesGraph" in query or "$currentShape" in query:
            continue
        prefixes = _declared_prefixes(shapes, t)
        if store is None:
            store = ox.Store()
            triples = parsed.triples("graph") if data is None else data
            store.extend(ox.Quad(x.subject, x.predicate, x.object) for x in triples)
            store.extend(_ontology_quads(parsed))
        try:
            rows = store.query(query, prefixes=prefixes)
            nodes = [row["this"] for row in rows]  # type: ignore[union-attr]  # a SELECT
        except (SyntaxError, OSError, KeyError, TypeError):
            continue
        resolved[(shape, t)] = [_rdflib_term(n) for n in nodes if n is not None]
    if not resolved:
        return shapes
    out = _copy_of_shapes(parsed)
    for (shape, t), nodes in resolved.items():
        out.remove((shape, RSH.target, t))
        for n in nodes:
            out.add((shape, RSH.targetNode, n))
    return out


_TARGET_PREDICATES = ("targetNode", "targetClass", "targetSubjectsOf", "targetObjectsOf")


def targets_within(shapes, data, focus: set[str], *, copy: bool = True):
    """The shapes graph with each shape's targets replaced by the sh:targetNode
    of the `focus` nodes (N-Triples) they select in `data`, the graph pyshacl
    will validate: with results kept only for those nodes, the same results
    for far less work, since a node's verdict does not depend on which other
    nodes are checked. A neighbourhood's data holds the ontology's mix-in,
    whose concepts and classes would otherwise be checked on every call.
    Other targets (a SPARQL target left unresolved, a shape that is also a
    class) stay: what they add is filtered out afterwards. `copy`: leave
    `shapes` unchanged."""
    from rdflib import RDF, RDFS, BNode, URIRef
    from rdflib.namespace import SH as RSH

    predicates = [RSH[name] for name in _TARGET_PREDICATES]
    shape_nodes = {s for p in predicates for s in shapes.subjects(p, None)}
    named = []            # the focus nodes that can be subjects, as rdflib terms
    for nt in focus:
        term = (URIRef(nt[1:-1]) if nt.startswith("<") else
                BNode(nt[2:]) if nt.startswith("_:") else None)
        if term is not None and term.n3() == nt:
            named.append(term)
    retargeted: dict = {}
    for shape in shape_nodes:
        nodes = {n for n in shapes.objects(shape, RSH.targetNode) if n.n3() in focus}
        for c in shapes.objects(shape, RSH.targetClass):
            kinds = set(data.transitive_subjects(RDFS.subClassOf, c))
            nodes.update(f for f in named
                         if any(t in kinds for t in data.objects(f, RDF.type)))
        for p in shapes.objects(shape, RSH.targetSubjectsOf):
            nodes.update(f for f in named if (f, p, None) in data)
        for p in shapes.objects(shape, RSH.targetObjectsOf):
            nodes.update(o for o in data.objects(None, p) if o.n3() in focus)
        retargeted[shape] = nodes
    if not retargeted:
        return shapes
    out = _copy(shapes) if copy else shapes
    for shape, nodes in retargeted.items():
        for p in predicates:
            out.remove((shape, p, None))
        for n in nodes:
            out.add((shape, RSH.targetNode, n))
    return out


def _copy_of_shapes(parsed: ParsedProject):
    """A new copy of the shapes graph, to change (pickled once per parse)."""
    if "shapes_blob" not in parsed.derived:
        parsed.derived["shapes_blob"] = _pickled(parsed.shapes_graph)
    return _clone(parsed.derived["shapes_blob"])


def _ontology_quads(parsed: ParsedProject) -> list:
    """The ontology's triples as default-graph quads (made once per parse)."""
    if "ontology_quads" not in parsed.derived:
        parsed.derived["ontology_quads"] = [ox.Quad(x.subject, x.predicate, x.object)
                                            for x in parsed.triples("ontology")]
    return parsed.derived["ontology_quads"]


def _copy(graph):
    """A new rdflib Graph with `graph`'s triples and prefixes."""
    return _clone(_pickled(graph))


def _declared_prefixes(shapes, node) -> dict[str, str]:
    """sh:prefixes → sh:declare [ sh:prefix …; sh:namespace … ] (SHACL 5.2.1)."""
    from rdflib.namespace import SH as RSH

    out: dict[str, str] = {}
    for onto in shapes.objects(node, RSH.prefixes):
        for decl in shapes.objects(onto, RSH.declare):
            p, ns = shapes.value(decl, RSH.prefix), shapes.value(decl, RSH.namespace)
            if p is not None and ns is not None:
                out[str(p)] = str(ns)
    return out


def _rdflib_term(term):
    from server.terms import RdflibTerms

    return RdflibTerms().term(term)


def _violations(report, parsed: ParsedProject, data_graph) -> list[Violation]:
    """The report's top-level results; `data_graph()` gives the data graph
    (for blank nodes' owners)."""
    from rdflib import RDF, BNode, Literal, URIRef
    from rdflib.namespace import SH as RSH

    data = functools.cache(data_graph)
    prefixes = parsed.prefixes
    out: list[Violation] = []
    seen = set()
    nested = set(report.objects(None, RSH.detail))
    for r in report.subjects(RDF.type, RSH.ValidationResult):
        if r in nested:  # why a value failed a nested shape: part of its parent
            continue
        focus = report.value(r, RSH.focusNode)
        path = report.value(r, RSH.resultPath)
        value = report.value(r, RSH.value)
        severity = report.value(r, RSH.resultSeverity)
        shape = report.value(r, RSH.sourceShape)
        component = report.value(r, RSH.sourceConstraintComponent)
        messages = sorted(str(m) for m in report.objects(r, RSH.resultMessage))
        # Prefer an English message when the shape gives several languages.
        en = [str(m) for m in report.objects(r, RSH.resultMessage)
              if isinstance(m, Literal) and (m.language or "en").startswith("en")]
        message = (en or messages or ["constraint not met"])[0]

        focus_nt = focus.n3() if focus is not None else ""
        files = parsed.files_of(focus_nt) if focus is not None else []
        if not files and isinstance(focus, BNode):
            files = _files_of_bnode_owner(parsed, focus, data)
        file = ", ".join(files) if files else "(not said in any graph file)"
        line = parsed.line_of(focus_nt, files[0]) if len(files) == 1 else None

        path_nt = _path_n3(report, path) if path is not None else None
        value_nt = value.n3() if value is not None else None
        sev = str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation"
        key = (file, focus_nt, path_nt, message, value_nt, sev)
        if key in seen:
            continue
        seen.add(key)
        out.append(Violation(
            file=file,
            focus_node=focus_nt,
            path=path_nt,
            message=message,
            severity=sev,
            value=value_nt,
            shape=_short(shape.n3(), prefixes) if isinstance(shape, URIRef) else None,
            component=_short(component.n3(), prefixes) if component is not None else None,
            line=line,
            focus_label=_focus_label(focus, data, prefixes),
            path_label=_short(path_nt, prefixes) if path_nt else "",
        ))
    out.sort(key=lambda v: (v.file, v.focus_label, SEVERITY_ORDER.get(v.severity, 9),
                            v.path_label, v.message))
    return out


def _path_n3(report, path) -> str:
    """A property path as N-Triples/SPARQL text (inverse and sequences too)."""
    from rdflib import BNode
    from rdflib.collection import Collection
    from rdflib.namespace import SH as RSH

    if not isinstance(path, BNode):
        return path.n3()
    inv = report.value(path, RSH.inversePath)
    if inv is not None:
        return "^" + _path_n3(report, inv)
    if report.value(path, RSH.zeroOrMorePath) is not None:
        return _path_n3(report, report.value(path, RSH.zeroOrMorePath)) + "*"
    if report.value(path, RSH.oneOrMorePath) is not None:
        return _path_n3(report, report.value(path, RSH.oneOrMorePath)) + "+"
    try:
        items = list(Collection(report, path))
        if items:
            return "/".join(_path_n3(report, i) for i in items)
    except Exception:  # pragma: no cover - unusual path shapes
        pass
    return path.n3()


def _focus_label(focus, data, prefixes, depth: int = 0) -> str:
    """id:albania for IRIs; for a blank node, what points at it in `data()`:
    '[ ] (kop:amount of id:some-flow)'."""
    from rdflib import BNode, URIRef

    if isinstance(focus, URIRef):
        return shorten(str(focus), prefixes)
    if isinstance(focus, BNode):
        if depth < 4:
            for s, p in data().subject_predicates(focus):
                owner = _focus_label(s, data, prefixes, depth + 1)
                return f"[ ] ({shorten(str(p), prefixes)} of {owner})"
        return "[ ] (a blank node)"
    return focus.n3() if focus is not None else "(no focus node)"


def _files_of_bnode_owner(parsed: ParsedProject, focus, data) -> list[str]:
    for s, _p in data().subject_predicates(focus):
        files = parsed.files_of(s.n3())
        if files:
            return files
    return []


__all__ = ["Violation", "ValidationResult", "ShapesError", "validate", "SH"]
