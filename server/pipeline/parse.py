"""Parse a project's Turtle files.

Parsing is done by pyoxigraph's Turtle parser: it is several times faster
than rdflib's, validates IRIs, and reports exact positions (line and column,
counted in characters) for syntax errors. The parsed triples stay pyoxigraph
terms — that is what the store loads — and are converted to rdflib graphs
only for the steps that need rdflib (pyshacl, owlrl), lazily.

Beyond syntax, parsing also rejects ill-typed literals of the common XSD
datatypes ("abc"^^xsd:integer, "2024-13-01"^^xsd:date, "24"^^xsd:gYear):
Turtle accepts them, but they would surface much later as a query that
silently returns nothing. They are reported with file, line and column too.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from server.errors import TurtleSyntaxError
from server.namespaces import XSD
from server.pipeline.project import Project
from server.terms import to_rdflib_graph

if TYPE_CHECKING:  # pragma: no cover
    import rdflib

ROLE_ONTOLOGY = "ontology"
ROLE_SHAPES = "shapes"
ROLE_DATA = "graph"
MAX_TERM_CHARS = 16 << 20     # the Turtle parser's buffer for one token


@dataclass
class ParsedFile:
    path: Path
    relpath: str
    role: str
    triples: list  # of pyoxigraph.Triple
    prefixes: dict[str, str]
    seconds: float = 0.0
    _graph: rdflib.Graph | None = field(default=None, repr=False)

    def graph(self) -> rdflib.Graph:
        """This file alone as an rdflib Graph (built on first use)."""
        if self._graph is None:
            self._graph = to_rdflib_graph(self.triples, self.prefixes)
        return self._graph

    def subjects(self) -> set:
        return {t.subject for t in self.triples}


@dataclass
class ParsedProject:
    project: Project
    files: list[ParsedFile]
    seconds: float = 0.0
    _graphs: dict = field(default_factory=dict, repr=False)
    _subject_index: dict | None = field(default=None, repr=False)
    _texts: dict = field(default_factory=dict, repr=False)
    derived: dict = field(default_factory=dict, repr=False)   # computed once per parse

    # --- pyoxigraph triples (what the store loads) -------------------------

    def by_role(self, role: str) -> list[ParsedFile]:
        return [f for f in self.files if f.role == role]

    def triples(self, role: str) -> Iterable:
        for f in self.by_role(role):
            yield from f.triples

    def release(self, role: str) -> None:
        """Drop the triples of a role once nothing needs them any more (a
        million data triples are ≈0.3 GB)."""
        for f in self.by_role(role):
            f.triples = []
            f._graph = None
        self._graphs.pop(role, None)

    def count(self, role: str | None = None) -> int:
        return sum(len(f.triples) for f in self.files if role is None or f.role == role)

    @property
    def prefixes(self) -> dict[str, str]:
        """Every prefix declared in the files (later files win), then the
        fixed Köprü prefixes, which always win."""
        from server.namespaces import PREFIXES

        merged: dict[str, str] = {}
        for f in self.files:
            merged.update(f.prefixes)
        merged.update(PREFIXES)
        return merged

    # --- rdflib graphs (for pyshacl and owlrl) -----------------------------

    def graph(self, role: str) -> rdflib.Graph:
        """All files of a role merged into one rdflib Graph (cached)."""
        if role not in self._graphs:
            self._graphs[role] = to_rdflib_graph(self.triples(role), self.prefixes)
        return self._graphs[role]

    @property
    def data_graph(self) -> rdflib.Graph:
        return self.graph(ROLE_DATA)

    @property
    def ontology_graph(self) -> rdflib.Graph:
        return self.graph(ROLE_ONTOLOGY)

    @property
    def shapes_graph(self) -> rdflib.Graph:
        return self.graph(ROLE_SHAPES)

    # --- where things are said ---------------------------------------------

    def subject_index(self) -> dict[str, list[str]]:
        """Term (N-Triples form, e.g. '<https://…/id/albania>') → relative
        paths of the files in which it is a subject."""
        if self._subject_index is None:
            index: dict[str, list[str]] = {}
            for f in self.files:
                for s in {str(t.subject) for t in f.triples}:
                    index.setdefault(s, []).append(f.relpath)
            self._subject_index = index
        return self._subject_index

    def files_of(self, term_nt: str) -> list[str]:
        return self.subject_index().get(term_nt, [])

    def line_of(self, term_nt: str, relpath: str) -> int | None:
        """Line where an IRI first appears as a subject in a file (best
        effort, by text search for its full or prefixed form)."""
        f = next((f for f in self.files if f.relpath == relpath), None)
        if f is None or not term_nt.startswith("<"):
            return None
        iri = term_nt[1:-1]
        forms = [re.escape(term_nt)]
        for p, ns in f.prefixes.items():
            if iri.startswith(ns) and len(iri) > len(ns):
                forms.append(re.escape(f"{p}:{iri[len(ns):]}"))
        pattern = re.compile(r"^[ \t]*(?:" + "|".join(forms) + r")(?=[\s;,.]|$)", re.M)
        text = self._texts.get(relpath)
        if text is None:
            text = self._texts[relpath] = f.path.read_text(encoding="utf-8")
        m = pattern.search(text)
        if m is None:  # e.g. the subject is not at the start of its line
            m = re.compile("(?:" + "|".join(forms) + r")(?=[\s;,.])").search(text)
        return text.count("\n", 0, m.start()) + 1 if m else None


# --- parsing -----------------------------------------------------------------

_OX_POSITION = re.compile(
    r"^Parser error (?:at line \d+ (?:between columns \d+ and \d+|column \d+)"
    r"|between line \d+ column \d+ and line \d+ column \d+): ")


def parse_file(path: Path, relpath: str | None = None, role: str = ROLE_DATA) -> ParsedFile:
    """Parse one Turtle file. Raises TurtleSyntaxError (file:line:column)."""
    import time

    relpath = relpath or str(path)
    t0 = time.perf_counter()
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = data.rfind(b"\n", 0, e.start) + 1
        line = data.count(b"\n", 0, e.start) + 1
        col = len(data[start:e.start].decode("utf-8", "replace")) + 1
        raise TurtleSyntaxError(relpath, line, col, "the file is not valid UTF-8") from None
    except OSError as e:
        raise TurtleSyntaxError(relpath, None, None, f"cannot read: {e.strerror}") from None

    parser = ox.parse(text, ox.RdfFormat.TURTLE, rename_blank_nodes=True)
    try:
        triples = [q.triple for q in parser]
    except SyntaxError as e:
        raise _syntax_error(e, relpath, text) from None
    except MemoryError:  # the parser's limit on one token (16 MiB)
        raise _too_long(relpath, text) from None
    prefixes = dict(parser.prefixes)
    Triple, BlankNode = ox.Triple, ox.BlankNode
    with_bnodes = []
    for t in triples:
        s, o = type(t.subject), type(t.object)
        if s is BlankNode or o is BlankNode:
            with_bnodes.append(t)
        elif s is Triple or o is Triple:
            raise TurtleSyntaxError(relpath, None, None,
                                    "RDF-star triple terms are not supported")
    if with_bnodes:
        triples = label_blank_nodes(triples, with_bnodes, relpath)
    pf = ParsedFile(path=path, relpath=relpath, role=role, triples=triples,
                    prefixes=prefixes)
    pf.seconds = time.perf_counter() - t0
    return pf


def ntriples(triples: Iterable) -> bytes:
    """Triples as N-Triples bytes."""
    return ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""


def label_blank_nodes(triples: list, with_bnodes: list, relpath: str) -> list:
    """The file's triples with every blank node named after what it is
    (its triples, those pointing at it, the file): the same file always
    gives the same names, an edit elsewhere in the file changes none of
    them, and two files never share one. So a build is reproducible, and an
    incremental build sees an edit as the triples it really changed.

    Names are refined three times through neighbouring blank nodes (nested
    `[ … ]`); blank nodes still alike are numbered in order of appearance."""
    import hashlib

    BlankNode = ox.BlankNode
    out: dict = {}
    inc: dict = {}
    order: dict = {}
    for t in with_bnodes:
        for b in (t.subject, t.object):
            if type(b) is BlankNode and b not in order:
                order[b] = len(order)
        if type(t.subject) is BlankNode:
            out.setdefault(t.subject, []).append((t.predicate, t.object))
        if type(t.object) is BlankNode:
            inc.setdefault(t.object, []).append((t.subject, t.predicate))

    def show(term, colour: dict) -> str:
        return "_:" + colour[term] if type(term) is BlankNode else str(term)

    colour = dict.fromkeys(order, "")
    for _ in range(3):
        colour = {b: hashlib.sha256("\n".join(
            [relpath, colour[b]]
            + sorted(f"> {p} {show(o, colour)}" for p, o in out.get(b, ()))
            + sorted(f"< {show(s, colour)} {p}" for s, p in inc.get(b, ()))
        ).encode()).hexdigest()[:24] for b in order}
    names: dict = {}
    seen: dict = {}
    for b in sorted(order, key=lambda b: order[b]):
        c = colour[b]
        n = seen.get(c, 0)
        seen[c] = n + 1
        names[b] = BlankNode(f"b{c}" if n == 0 else f"b{c}x{n}")
    out_triples = []
    Triple = ox.Triple
    for t in triples:
        s, o = t.subject, t.object
        if type(s) is BlankNode or type(o) is BlankNode:
            t = Triple(names.get(s, s), t.predicate, names.get(o, o))
        out_triples.append(t)
    return out_triples


def _too_long(relpath: str, text: str) -> TurtleSyntaxError:
    """A term longer than the Turtle parser holds: where, without echoing it."""
    line = next((n for n, ln in enumerate(text.split("\n"), 1) if len(ln) > MAX_TERM_CHARS),
                None)
    return TurtleSyntaxError(relpath, line, None,
                             "a literal or IRI here is longer than 16 MiB, more than one "
                             "term may hold; keep long texts out of the graph (link to them)")


def _syntax_error(e: SyntaxError, relpath: str, text: str) -> TurtleSyntaxError:
    msg = _OX_POSITION.sub("", e.msg or str(e))
    line, col = e.lineno, e.offset
    lines = text.splitlines()
    src = lines[line - 1] if line and 0 < line <= len(lines) else None
    if msg.lower().startswith("unexpected end") and line and _blank_from(lines, line, col):
        # The file ends in the middle of a statement: point at the end of the
        # last thing written, not at the empty end of the file.
        last = max((i for i, ln in enumerate(lines) if ln.strip()), default=0)
        line, src = last + 1, (lines[last] if lines else "")
        col = len(src.rstrip()) + 1
        msg = ("unexpected end of file: the last statement is not finished "
               "(is a '.' missing here?)")
    # Friendlier words for the commonest case: an unterminated string shows
    # up as "Unexpected end of file" positioned at the opening quote.
    elif src is not None and col and msg.lower().startswith("unexpected end of file"):
        if src[col - 1:col] in ('"', "'"):
            msg = "unterminated string literal (it starts here and never ends)"
        elif src[col - 1:col] == "<":
            msg = "unterminated IRI (it starts here and never ends)"
    elif src is not None and col and msg.startswith("Line jumps are not allowed"):
        # Reported at the end of the line; point at the opening quote instead.
        start = max(src.rfind('"', 0, col - 1), src.rfind("'", 0, col - 1))
        if start >= 0:
            col = start + 1
        msg = ("unterminated string literal: the line ends before its closing quote "
               '(use """…""" for text over several lines)')
    elif msg.startswith("A dot is expected"):
        msg += " (is the '.' missing at the end of the previous statement?)"
    return TurtleSyntaxError(relpath, line, col, msg, source_line=src)


def _blank_from(lines: list[str], line: int, col: int | None) -> bool:
    """Whether nothing but white space follows (line, col) to the end."""
    if line > len(lines):
        return True
    rest = lines[line - 1][(col or 1) - 1:]
    return not rest.strip() and not any(ln.strip() for ln in lines[line:])


def parse_project(project: Project) -> ParsedProject:
    """Parse every input file of a project (ontology, shapes, graph).

    Raises TurtleSyntaxError with `.errors` listing the first error of each
    broken file and every ill-typed literal.
    """
    import time

    t0 = time.perf_counter()
    jobs: list[tuple[Path, str]] = [(p, project.role(p)) for p in project.build_inputs()]

    files: list[ParsedFile] = []
    errors: list[TurtleSyntaxError] = []
    for path, role in jobs:
        try:
            files.append(parse_file(path, project.relpath(path), role))
        except TurtleSyntaxError as e:
            errors.append(e)
    for f in files:
        errors.extend(check_literals(f))
    if errors:
        first = errors[0]
        first.errors = errors
        raise first
    return ParsedProject(project=project, files=files, seconds=time.perf_counter() - t0)


# --- literal checks ------------------------------------------------------------

_TZ = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_YEAR = r"-?(?:[1-9]\d{4,}|\d{4})"
_DATE = _YEAR + r"-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
_INT = r"[+-]?\d+"
_DEC = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_LEXICAL = {
    "integer": _INT, "int": _INT, "long": _INT, "short": _INT, "byte": _INT,
    "nonNegativeInteger": r"\+?\d+|-0+",
    "positiveInteger": r"\+?0*[1-9]\d*",
    "nonPositiveInteger": r"-\d+|\+?0+",
    "negativeInteger": r"-0*[1-9]\d*",
    "decimal": _DEC,
    "double": _DEC + r"(?:[eE][+-]?\d+)?|[+-]?INF|NaN",
    "float": _DEC + r"(?:[eE][+-]?\d+)?|[+-]?INF|NaN",
    "boolean": r"true|false|1|0",
    "gYear": _YEAR + _TZ,
    "gYearMonth": _YEAR + r"-(0[1-9]|1[0-2])" + _TZ,
    "date": _DATE + _TZ,
    "dateTime": _DATE + r"T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?" + _TZ
                + r"|" + _DATE + r"T24:00:00(?:\.0+)?" + _TZ,
}
_LEXICAL_RE = {XSD + k: re.compile(v) for k, v in _LEXICAL.items()}
_DATE_TYPES = {XSD + "date", XSD + "dateTime"}


def _well_formed(value: str, datatype: str) -> bool:
    rx = _LEXICAL_RE.get(datatype)
    if rx is None:
        return True
    if not rx.fullmatch(value):
        return False
    if datatype in _DATE_TYPES:  # calendar check: no 30 February
        m = re.match(r"(-?\d{4,})-(\d\d)-(\d\d)", value)
        assert m is not None   # the lexical pattern matched
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if 1 <= y <= 9999:
            try:
                _dt.date(y, mo, d)
            except ValueError:
                return False
    return True


def check_literals(f: ParsedFile) -> list[TurtleSyntaxError]:
    """Ill-typed literals of the common XSD datatypes in one file."""
    bad = []
    seen = set()
    for t in f.triples:
        o = t.object
        if (type(o) is ox.Literal and o.datatype.value in _LEXICAL_RE
                and not _well_formed(o.value, o.datatype.value) and o not in seen):
            seen.add(o)
            bad.append(o)
    if not bad:
        return []
    text = f.path.read_text(encoding="utf-8")
    errors = []
    for lit in bad:
        dt = lit.datatype.value[len(XSD):]
        line = col = src = None
        m = re.search(r"([\"'])" + re.escape(lit.value) + r"\1", text)
        if m:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            src = text.splitlines()[line - 1]
        errors.append(TurtleSyntaxError(
            f.relpath, line, col,
            f'"{lit.value}" is not a valid xsd:{dt} value', source_line=src))
    return errors
