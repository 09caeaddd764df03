"""The text a store runs: a query rebuilt from the guard's own tokens.

The guard and the engine must read a query alike, or a SERVICE the guard
never saw can run. So no store gets the text as written: it gets this one,
written from the guard's tokens so that it has one reading — one line,
comments dropped, strings re-quoted, and refused wherever the guard cannot
be sure how an engine reads it. For the embedded engine every IRI also has
its first character escaped: an IRI wherever the engine reads one, a syntax
error where it would read `<` as less-than. Why and how: SECURITY.md.
"""

from __future__ import annotations

import bisect
import re
import sys
from array import array

from server import lexer
from server.errors import QueryRefused, sparql_syntax_message

MAX_NESTING = 128          # brackets inside brackets; deeper is refused (400)

_OPENERS = {"(": ")", "{": "}", "[": "]"}
_CLOSERS = frozenset(_OPENERS.values())
# After one of these a `<` starts an operand (an IRI), never less-than.
_NOT_OPERAND_END = frozenset("(,{[!=<>&|+-*/;.^")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_STRING_ESCAPE_RE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
# What a string may not hold raw between double quotes, and what an IRI may not.
_QUOTE_IN_STRING = str.maketrans({"\\": "\\\\", '"': '\\"', "'": "\\'", "\n": "\\n",
                                  "\r": "\\r"})
_NOT_IN_IRI_RE = re.compile(r'[<>"{}|^`\\\x00-\x20]')
_ERROR_AT_RE = re.compile(r"error at (\d+):(\d+):")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class GuardedQuery(str):
    """The portable text (what a remote store runs), carrying the variant
    for the embedded engine and the way back to the text as written."""

    embedded: str                      # with every IRI's first character escaped
    written: str                       # the query as the client sent it
    _starts: array                     # offset of each piece in the embedded text
    _written_at: array                 # its offset as written
    _verbatim: bytearray               # 1: copied as written, character for character
    ambiguous: bool                    # holds an IRI right after an operand

    def held_bytes(self) -> int:
        """The memory this holds beyond the text as written."""
        return (sys.getsizeof(self) + sys.getsizeof(self.embedded) + sys.getsizeof(self._starts)
                + sys.getsizeof(self._written_at) + sys.getsizeof(self._verbatim))

    def where(self, embedded_offset: int) -> int:
        """The offset, as written, of an offset in the embedded text."""
        if not self._starts:
            return 0
        i = max(bisect.bisect_right(self._starts, embedded_offset) - 1, 0)
        written = self._written_at[i]
        return written + (embedded_offset - self._starts[i] if self._verbatim[i] else 0)


def _refuse(text: str, offset: int, message: str) -> QueryRefused:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return QueryRefused(f"{message} (line {line}, column {column}).", status=400)


def _decode_string(value: str, at: int, text: str) -> str:
    q = 3 if value[:3] in ('"""', "'''") else 1
    body = value[q:-q]
    if "\\" not in body:
        return body

    def sub(m):
        if m.group(3) is not None:
            if m.group(3) not in _ECHAR:
                raise _refuse(text, at + q + m.start(),
                              f"\\{m.group(3)} is not an escape a SPARQL string may hold")
            return _ECHAR[m.group(3)]
        return _char(int(m.group(1) or m.group(2), 16), text, at)
    return _STRING_ESCAPE_RE.sub(sub, body)


def _char(code: int, text: str, offset: int) -> str:
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _refuse(text, offset, f"U+{code:04X} is not a character")
    return chr(code)


def _quote(value: str) -> str:
    return '"' + value.translate(_QUOTE_IN_STRING) + '"'


def _escape(c: str) -> str:
    code = ord(c)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _escape_match(m: re.Match) -> str:
    return _escape(m.group())


def _tokens(text: str, pos: int = 0):
    """(kind, text, start) of every token from `pos` on: the lexer's
    tokens, as plain tuples (this is the guard's inner loop)."""
    for m in lexer.TOKEN_RE.finditer(text, pos):
        kind = m.lastgroup or "other"
        value = m.group()
        if kind == "word" and "." in value:        # `true.FILTER`: the lexer splits it
            at = m.start()
            for tok in lexer.all_tokens(value):
                yield tok.kind, tok.text, at + tok.start
        else:
            yield kind, value, m.start()


def rewrite(text: str) -> tuple[GuardedQuery, list[tuple[str, str]]]:
    """The query rebuilt from its tokens, and the tokens (kind, text) of
    the portable text. Raises QueryRefused (400) for what cannot be read
    for certain."""
    guarded, emitted = _rebuild(text, keep=True)
    assert isinstance(guarded, GuardedQuery) and emitted is not None
    return guarded, emitted


def reads_as_itself(text: str) -> bool:
    """Whether a rewrite's portable text is rebuilt as itself (the same
    reading, all the same checks; nothing else is kept). Raises like
    `rewrite`."""
    return _rebuild(text, keep=False)[0] == text


def _rebuild(text: str, keep: bool) -> tuple[str, list[tuple[str, str]] | None]:
    """The portable text; with `keep`, a GuardedQuery (the embedded text
    and the way back to the text as written) and the tokens."""
    if _SURROGATE_RE.search(text):
        raise QueryRefused("The query holds an unpaired surrogate code point; send UTF-8 text.",
                           status=400)
    plain: list[str] = []              # the portable text, in pieces
    poisoned: list[str] = []           # the embedded engine's text
    emitted: list[tuple[str, str]] = []
    poisoned_len = 0
    starts = array("q")                # each piece's offset in the embedded text,
    written_at = array("q")            # its offset as written,
    verbatim_flags = bytearray()       # and whether it is copied as written
    ambiguous = False
    stack: list[str] = []
    base_declared = False
    separate = False
    prev_kind = prev_value = ""
    pos: int | None = 0

    while pos is not None:
        restart = None
        for kind, value, at in _tokens(text, pos):
            if kind == "ws" or kind == "comment":
                separate = True
                continue
            if kind == "unterminated":
                raise _refuse(text, at, "This string is never closed")
            operand_position = bool(stack) and stack[-1] == "(" and prev_kind != "" \
                and not (prev_kind == "other" and prev_value in _NOT_OPERAND_END)
            if kind == "iri":
                iri = value[1:-1]
                if "\\" in iri:
                    iri = lexer.unescape_codepoints(iri)
                if operand_position and not _SCHEME_RE.match(iri) and not base_declared:
                    # No engine reads a relative IRI without BASE: this `<` is
                    # less-than, and what follows it is read on from there.
                    kind, written, engine, verbatim = "other", "<", "<", True
                    restart = at + 1
                else:
                    if _SURROGATE_RE.search(iri):
                        raise _refuse(text, at, "This IRI holds a code point that is not a "
                                                "character")
                    if operand_position and "'" in iri:
                        raise _refuse(text, at,
                                      "Köprü cannot tell whether this `<` starts an IRI or "
                                      "means less-than; write a space after `<` for "
                                      "less-than, or %27 for the apostrophe in the IRI")
                    ambiguous = ambiguous or operand_position
                    first, rest = iri[:1], _NOT_IN_IRI_RE.sub(_escape_match, iri[1:])
                    # The embedded engine's IRI has its first character escaped.
                    engine = f"<{_escape(first)}{rest}>" if first else "<>"
                    written = engine if first and _NOT_IN_IRI_RE.match(first) \
                        else f"<{first}{rest}>"
                    verbatim = False
            elif kind == "string":
                written = engine = _quote(_decode_string(value, at, text))
                verbatim = False
            else:
                if kind == "other":
                    if value in _OPENERS:
                        stack.append(value)
                        if len(stack) > MAX_NESTING:
                            raise _refuse(text, at, f"The query is nested more than "
                                                    f"{MAX_NESTING} brackets deep")
                    elif value in _CLOSERS and stack:
                        stack.pop()
                elif kind == "word" and value.upper() == "BASE":
                    base_declared = True
                written = engine = value
                verbatim = True
            if plain and (separate or (kind == "string" and prev_kind == "string")):
                plain.append(" ")
                if keep:
                    poisoned.append(" ")
                    poisoned_len += 1
            separate = False
            plain.append(written)
            if keep:
                starts.append(poisoned_len)
                written_at.append(at)
                verbatim_flags.append(verbatim)
                emitted.append((kind, written))
                poisoned.append(engine)
                poisoned_len += len(engine)
            prev_kind, prev_value = kind, written
            if restart is not None:
                break
        pos = restart

    if not keep:
        return "".join(plain), None
    guarded = GuardedQuery("".join(plain))
    guarded.embedded = "".join(poisoned)
    guarded.written = text
    guarded._starts, guarded._written_at, guarded._verbatim = starts, written_at, verbatim_flags
    guarded.ambiguous = ambiguous
    return guarded, emitted


def syntax_message(query: str, raw: str) -> str:
    """An engine's syntax error about a GuardedQuery's embedded text, told
    about the query as written (line, column, the line itself)."""
    if not isinstance(query, GuardedQuery):
        return sparql_syntax_message(query, raw)
    m = _ERROR_AT_RE.match(raw)
    if not m:
        return sparql_syntax_message(query.written, raw)
    line, column = int(m.group(1)), int(m.group(2))
    text = query.embedded
    offset = 0
    for _ in range(line - 1):
        offset = text.find("\n", offset) + 1
    offset = min(offset + column - 1, len(text))
    at = query.where(offset)
    written = query.written
    w_line = written.count("\n", 0, at) + 1
    w_column = at - (written.rfind("\n", 0, at) + 1) + 1
    message = sparql_syntax_message(written, f"error at {w_line}:{w_column}:{raw[m.end():]}")
    if query.ambiguous:
        message += ("\n(Köprü reads `<…>` right after a value as an IRI: where `<` means "
                    "less-than, write a space after it.)")
    return message
