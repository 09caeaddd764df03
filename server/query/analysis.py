"""The guard: what a query is and what it may reach, decided from its
tokens before any store sees it — the form (updates are refused), every
SERVICE target (only allowlisted absolute IRIs) and the FROM clauses.
See docs/architecture.md, "The query path".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from server import lexer
from server.errors import QueryRefused
from server.lexer import expand_pname

QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
NONDETERMINISTIC = frozenset({"NOW", "RAND", "UUID", "STRUUID", "BNODE"})
UPDATE_WORDS = frozenset({
    "INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH",
})

READ_ONLY_MESSAGE = (
    "Köprü is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, …) is not accepted. "
    "Data changes through the Turtle files in graph/ and `kopru build`."
)

_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclass(frozen=True)
class Analysis:
    form: str | None                   # SELECT/CONSTRUCT/DESCRIBE/ASK, "UPDATE", or None (unknown)
    services: tuple                    # ((status, iri, text as written, silent), …)
    has_dataset_clause: bool           # FROM or FROM NAMED present
    from_graphs: tuple[str, ...]
    from_named_graphs: tuple[str, ...]
    deterministic: bool = True         # no NOW(), RAND(), UUID(), STRUUID(), BNODE()

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"


def _resolve(tok, prefixes):
    """(status, iri) for a SERVICE target token.

    status: "iri" (absolute IRI), "relative", "undefined" (unknown prefix),
    "var", or "other" (not an IRI at all).
    """
    kind, value = tok
    if kind == "iri":
        iri = lexer.unescape_codepoints(value[1:-1])
        return ("iri", iri) if _SCHEME_RE.match(iri) else ("relative", iri)
    if kind == "pname":
        return _resolve_pname(value, prefixes)
    if kind == "var":
        return ("var", value)
    return ("other", value)


def _resolve_pname(value, prefixes):
    iri = expand_pname(value, prefixes)
    if iri is None:
        return ("undefined", value)
    return ("iri", iri) if _SCHEME_RE.match(iri) else ("relative", iri)


def _scan(text: str) -> Analysis:
    tokens = [(tok.kind, tok.text) for tok in lexer.tokens(text)]
    prefixes: dict[str, str] = {}
    form = None
    services = []          # (status, iri-or-text, written, silent)
    from_graphs: list[str] = []
    from_named: list[str] = []
    has_from = False
    deterministic = True
    n = len(tokens)
    nothing = ("end", "")

    for i, (kind, value) in enumerate(tokens):
        if kind != "word" and kind != "pname":
            continue
        upper = value.upper()
        nxt = tokens[i + 1] if i + 1 < n else nothing
        if kind == "word" and upper in NONDETERMINISTIC:
            deterministic = False

        # Prologue. `PREFIXp:<x>` (no space) is read by the engine as
        # `PREFIX p: <x>`, so both spellings declare a prefix.
        if kind == "word" and upper == "PREFIX":
            if nxt[0] == "pname" and nxt[1].endswith(":") and i + 2 < n and tokens[i + 2][0] == "iri":
                prefixes[nxt[1][:-1]] = tokens[i + 2][1][1:-1]
            continue
        if kind == "pname" and upper.startswith("PREFIX") and value.endswith(":") and nxt[0] == "iri":
            prefixes[value[6:-1]] = nxt[1][1:-1]
            continue

        if kind == "word" and form is None:
            for f in QUERY_FORMS:
                if upper.startswith(f):
                    form = f
                    break
            else:
                for w in UPDATE_WORDS:
                    if upper.startswith(w):
                        form = "UPDATE"
                        break

        if kind == "word" and (upper == "FROM" or upper.startswith("FROMNAMED")):
            has_from = True
            j = i + 1
            named = upper != "FROM"
            if not named and nxt[0] == "word" and nxt[1].upper() == "NAMED":
                named = True
                j += 1
            if j < n:
                status, iri = _resolve(tokens[j], prefixes)
                (from_named if named else from_graphs).append(iri)
            continue

        # SERVICE. The engine matches keywords without a word boundary
        # (`SERVICESILENT<x>`, `trueSERVICE<x>`, `SERVICEp:x` all call <x>),
        # so every occurrence inside a word or prefixed name counts.
        start = upper.find("SERVICE")
        while start >= 0:
            rest = value[start + 7:]
            candidates = [(rest, False)]
            if rest.upper().startswith("SILENT"):
                candidates.append((rest[6:], True))
            for cand, silent in candidates:
                if cand == "":
                    if nxt[0] == "word" and nxt[1].upper() == "SILENT":
                        target = tokens[i + 2] if i + 2 < n else nothing
                        silent = True
                    else:
                        target = nxt
                    status, iri = _resolve(target, prefixes) if target[0] != "end" else ("other", "")
                    services.append((status, iri, target[1], silent))
                elif ":" in cand and kind == "pname":
                    status, iri = _resolve_pname(cand, prefixes)
                    if status != "undefined":    # an unknown prefix cannot parse
                        services.append((status, iri, cand, silent))
            start = upper.find("SERVICE", start + 1)

    return Analysis(
        form=form,
        services=tuple(services),
        has_dataset_clause=has_from,
        from_graphs=tuple(from_graphs),
        from_named_graphs=tuple(from_named),
        deterministic=deterministic,
    )


@lru_cache(maxsize=1024)
def analyze(text: str) -> Analysis:
    """Scan a query; with \\u escapes, merge the scans of both readings."""
    first = _scan(text)
    if "\\u" not in text and "\\U" not in text:
        return first
    second = _scan(lexer.unescape_codepoints(text))
    forms = (first.form, second.form)
    form = "UPDATE" if "UPDATE" in forms else first.form or second.form
    return Analysis(
        form=form,
        services=first.services + tuple(s for s in second.services if s not in first.services),
        has_dataset_clause=first.has_dataset_clause or second.has_dataset_clause,
        from_graphs=first.from_graphs or second.from_graphs,
        from_named_graphs=first.from_named_graphs or second.from_named_graphs,
        deterministic=first.deterministic and second.deterministic,
    )


def check(text: str, allowlist: tuple[str, ...] | frozenset) -> Analysis:
    """Analyze a query; raise QueryRefused if it may not run."""
    a = analyze(text)
    if a.is_update:
        raise QueryRefused(READ_ONLY_MESSAGE)
    for status, iri, written, _silent in a.services:
        allowed = _allowed_text(allowlist)
        if status == "var":
            raise QueryRefused(f"SERVICE {written}: a variable endpoint is not allowed; name "
                               f"one of the allowed endpoints explicitly ({allowed}).")
        if status == "relative":
            raise QueryRefused(f"SERVICE {written}: the endpoint must be an absolute IRI "
                               f"(allowed: {allowed}).")
        if status == "undefined":
            raise QueryRefused(f"SERVICE {written}: the prefix is not declared (add a PREFIX "
                               "line).", status=400)
        if status != "iri":
            raise QueryRefused(f"SERVICE {written or '(nothing)'}: SERVICE must be followed by "
                               f"the endpoint's IRI (allowed: {allowed}).", status=400)
        if iri not in allowlist:
            if not allowlist:
                msg = (f"SERVICE <{iri}>: federation is turned off on this server "
                       "(KOPRU_SERVICE_ALLOWLIST is empty).")
            else:
                msg = (f"SERVICE <{iri}> is not allowed: this server only federates with "
                       f"{allowed}.")
            raise QueryRefused(msg)
    return a


def _allowed_text(allowlist) -> str:
    if not allowlist:
        return "none: federation is off"
    return ", ".join(f"<{u}>" for u in allowlist)
