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
_QUOTE_IN_STRING = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\n": "\\n", "\r": "\\r"}
_NOT_IN_IRI_RE = re.compile(r'[<>"{}|^`\\\x00-\x20]')
_ERROR_AT_RE = re.compile(r"error at (\d+):(\d+):")


class GuardedQuery(str):
    """The portable text (what a remote store runs), carrying the variant
    for the embedded engine and the way back to the text as written."""

    embedded: str                      # with every IRI's first character escaped
    written: str                       # the query as the client sent it
    _starts: array                     # offset of each piece in the embedded text
    _written_at: array                 # its offset as written
    _verbatim: bytearray               # 1: copied as written, character for character
    ambiguous: bool                    # holds an IRI right after an operand

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


def _decode_string(tok: lexer.Token, text: str) -> str:
    q = 3 if tok.text[:3] in ('"""', "'''") else 1
    body = tok.text[q:-q]

    def sub(m):
        if m.group(3) is not None:
            if m.group(3) not in _ECHAR:
                raise _refuse(text, tok.start + q + m.start(),
                              f"\\{m.group(3)} is not an escape a SPARQL string may hold")
            return _ECHAR[m.group(3)]
        return _char(int(m.group(1) or m.group(2), 16), text, tok.start)
    return _STRING_ESCAPE_RE.sub(sub, body)


def _char(code: int, text: str, offset: int) -> str:
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _refuse(text, offset, f"U+{code:04X} is not a character")
    return chr(code)


def _quote(value: str) -> str:
    return '"' + "".join(_QUOTE_IN_STRING.get(c, c) for c in value) + '"'


def _escape(c: str) -> str:
    code = ord(c)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _iri_text(iri: str, poisoned: bool) -> str:
    rest = _NOT_IN_IRI_RE.sub(lambda m: _escape(m.group()), iri[1:])
    first = iri[:1]
    if first and (poisoned or _NOT_IN_IRI_RE.match(first)):
        first = _escape(first)
    return f"<{first}{rest}>"


def rewrite(text: str) -> tuple[GuardedQuery, list[lexer.Token]]:
    """The query rebuilt from its tokens, and the tokens of the portable text.
    Raises QueryRefused (400) for what cannot be read for certain."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise QueryRefused("The query holds an unpaired surrogate code point; send UTF-8 text.",
                           status=400)
    plain: list[str] = []              # the portable text, in pieces
    poisoned: list[str] = []           # the embedded engine's text
    emitted: list[lexer.Token] = []
    plain_len = poisoned_len = 0
    starts = array("q")
    written_at = array("q")
    verbatim_flags = bytearray()
    ambiguous = False
    stack: list[str] = []
    base_declared = False
    separate = False
    prev = ("", "")

    def emit(kind: str, written: str, engine: str, at: int, verbatim: bool):
        nonlocal plain_len, poisoned_len, separate
        if plain and (separate or (prev[0] == "string" and kind == "string")):
            plain.append(" ")
            poisoned.append(" ")
            plain_len += 1
            poisoned_len += 1
        separate = False
        starts.append(poisoned_len)
        written_at.append(at)
        verbatim_flags.append(verbatim)
        emitted.append(lexer.Token(kind, written, plain_len, plain_len + len(written)))
        plain.append(written)
        poisoned.append(engine)
        plain_len += len(written)
        poisoned_len += len(engine)

    toks = lexer.all_tokens(text)
    while (tok := next(toks, None)) is not None:
        kind, value = tok.kind, tok.text
        if kind in ("ws", "comment"):
            separate = True
            continue
        if kind == "unterminated":
            raise _refuse(text, tok.start, "This string is never closed")
        operand_position = bool(stack) and stack[-1] == "(" and prev[0] != "" \
            and not (prev[0] == "other" and prev[1] in _NOT_OPERAND_END)
        if kind == "iri":
            iri = lexer.unescape_codepoints(value[1:-1])
            if operand_position and not _SCHEME_RE.match(iri) and not base_declared:
                # No engine reads a relative IRI without BASE: this `<` is
                # less-than, and what follows it is read on from there.
                emit("other", "<", "<", tok.start, True)
                prev = ("other", "<")
                toks = lexer.all_tokens(text, tok.start + 1)
                continue
            for c in iri:
                if 0xD800 <= ord(c) <= 0xDFFF:
                    raise _refuse(text, tok.start, "This IRI holds a code point that is not a "
                                                   "character")
            if operand_position and "'" in iri:
                raise _refuse(text, tok.start,
                              "Köprü cannot tell whether this `<` starts an IRI or means "
                              "less-than; write a space after `<` for less-than, or %27 for "
                              "the apostrophe in the IRI")
            ambiguous = ambiguous or operand_position
            emit("iri", _iri_text(iri, False), _iri_text(iri, True), tok.start, False)
        elif kind == "string":
            quoted = _quote(_decode_string(tok, text))
            emit("string", quoted, quoted, tok.start, False)
        else:
            if kind == "word" and value.upper() == "BASE":
                base_declared = True
            if kind == "other":
                if value in _OPENERS:
                    stack.append(value)
                    if len(stack) > MAX_NESTING:
                        raise _refuse(text, tok.start, f"The query is nested more than "
                                                       f"{MAX_NESTING} brackets deep")
                elif value in _CLOSERS and stack:
                    stack.pop()
            emit(kind, value, value, tok.start, True)
        prev = (kind, value)

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
