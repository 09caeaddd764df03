"""Every error Köprü reports to a person, with the HTTP status it answers with.

A `KopruError` carries a message written for whoever reads it (a contributor
at the terminal, a client of the endpoint) and a status. The web app answers
any of them through one handler, in the format the client asked for; the CLI
prints the message and exits 1 (or 2 for a usage error).
"""

from __future__ import annotations

import re


class KopruError(Exception):
    status = 500
    retry_after: int | None = None     # seconds, sent as Retry-After with a 503/502

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


# --- the user's command line and project ----------------------------------------------


class UserError(KopruError):
    """A mistake in how `kopru` was called (bad option, not a project): exit 2."""
    status = 400
    exit_code = 2

    def __init__(self, message: str, *, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ProjectError(UserError):
    """The directory is not a usable Köprü project."""


class QueryFileError(KopruError):
    """A file in queries/ cannot be read as a gallery query."""


# --- the build -------------------------------------------------------------------------


class BuildError(KopruError):
    """The build stopped; the current store was left as it was."""


class TurtleSyntaxError(BuildError):
    """A Turtle file is not valid: names the file, line and column (1-based).

    `errors` lists every error found when a whole project was parsed (the
    first error of each broken file, then ill-typed literals); the exception
    itself is the first of them.
    """

    def __init__(self, file: str, line: int | None, column: int | None, message: str,
                 *, source_line: str | None = None) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.source_line = source_line
        self.errors: list[TurtleSyntaxError] = [self]
        super().__init__(message)

    def location(self) -> str:
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def excerpt(self) -> str:
        """The offending source line with a caret under the column."""
        if self.source_line is None:
            return ""
        text = self.source_line.rstrip("\n").expandtabs(1)
        caret = " " * max((self.column or 1) - 1, 0) + "^"
        return f"    {text}\n    {caret}"

    def report(self) -> str:
        """Every error, each with its excerpt: for people."""
        parts = []
        for err in self.errors:
            parts.append(f"{err.location()}: {err.message}")
            if err.excerpt():
                parts.append(err.excerpt())
        return "\n".join(parts)

    def __str__(self) -> str:
        return "\n".join(f"{e.location()}: {e.message}" for e in self.errors)


class ShapesError(BuildError):
    """The shapes themselves are broken (pyshacl cannot apply them)."""


class ValidationFailed(BuildError):
    """SHACL violations; `result` is the ValidationResult with the report."""

    def __init__(self, result) -> None:
        self.result = result
        super().__init__(result.text_report())


class InconsistentGraph(BuildError):
    """OWL RL found a contradiction in ontology + data."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("OWL RL found the ontology and data inconsistent:\n"
                         + "\n".join(f"  {m}" for m in messages))


# --- stores ----------------------------------------------------------------------------


class StoreNotBuilt(KopruError):
    """There is no built store yet (run `kopru build`)."""
    status = 503
    retry_after = 5


class StoreUnavailable(KopruError):
    """The store does not answer (503) or failed / refused Köprü (502)."""
    status = 503
    retry_after = 5


class PushError(KopruError):
    """`kopru build --push` could not make the new version current."""


# --- queries ---------------------------------------------------------------------------


class RequestError(KopruError):
    """A SPARQL Protocol request that is wrong in itself (400, 405, 413, 415)."""
    status = 400


class QueryRefused(KopruError):
    """A query the endpoint will not run: an update (403), a SERVICE outside
    the allowlist (403), a malformed SERVICE target (400)."""
    status = 403


class NotAcceptable(KopruError):
    """Nothing the client accepts can be produced; the message lists what is offered."""
    status = 406


class QueryTimeout(KopruError):
    status = 503

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The query exceeded the {seconds:g} s limit and was stopped; "
                         "narrow it or add LIMIT.")
        self.seconds = seconds


class QueryStopped(KopruError):
    """A query stopped before its time was up: it needed more memory than a
    query may have, or the server was too busy to let it run long."""
    status = 503
    retry_after = 10


class QueryError(KopruError):
    """The query engine refused or failed the query. `category` is "syntax"
    (400), "io" (a federated SERVICE call or the store's disk failed) or
    "engine" (anything else)."""

    def __init__(self, category: str, message: str) -> None:
        status = {"syntax": 400}.get(category, 500)
        super().__init__(message, status=status)
        self.category = category


class ServiceFailed(KopruError):
    """A federated SERVICE call failed."""
    status = 502


class EngineUnavailable(KopruError):
    """The query engine cannot answer at all (no store to open, a worker gone)."""
    status = 503
    retry_after = 5


def sparql_syntax_message(query: str, raw: str) -> str:
    """Make pyoxigraph's 'error at L:C: expected …' readable."""
    m = re.match(r"error at (\d+):(\d+): (.*)", raw, re.DOTALL)
    if not m:
        return f"SPARQL syntax error: {raw}"
    line, col, rest = int(m.group(1)), int(m.group(2)), m.group(3)
    rest = re.sub(r"\[[^\]]*'\\u\{[^\]]*\]", "a letter", rest)   # unicode classes
    rest = re.sub(r"\[\s*'0'\s*\.\.=\s*'9'\s*\]", "a digit", rest)
    rest = rest.replace("[_]", "a name").replace("\n", " ")
    rest = re.sub(r"\s+", " ", rest).strip()
    if len(rest) > 400:
        rest = rest[:400] + " …"
    lines = query.splitlines() or [""]
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    pointer = ""
    if text:
        shown = text if len(text) <= 200 else text[max(0, col - 100):col + 100]
        offset = col - 1 if len(text) <= 200 else min(col - 1, 100)
        pointer = f"\n  {shown}\n  {' ' * max(offset, 0)}^"
    return f"SPARQL syntax error at line {line}, column {col}: {rest}{pointer}"
