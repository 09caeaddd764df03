"""SPARQL tokens: the one lexer for everything that reads query text
without running it (the endpoint's guard, the remote store's graph-name
rewriting).

Strings, IRIs, comments and prefixed names are single tokens, so a keyword
inside them is never mistaken for a live one. Names follow the grammar the
query engine (Oxigraph's parser) applies, a local name included; every
repeat is atomic (never backtracked into), and an unterminated string ends
the input, so lexing is linear in the text's length whatever the text.
Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

_PN_CHARS_BASE = (
    "A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF"
    "\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD"
    "\U00010000-\U000EFFFF"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_LOCAL_CHAR = f"[{_PN_CHARS}:]|{_PLX}"


def _once(pattern: str) -> str:
    """`pattern`, never backtracked into once matched: `(?>(?:ab)*)` means
    `(?:ab)*+`. A possessive repeat is kept for one character class alone
    (`[a-z]*+`): CPython 3.11.0 to 3.11.4 (Debian 12's python3 is 3.11.2)
    matched a possessive repeat of anything longer wrongly (gh-106052)."""
    return f"(?>{pattern})"


_NAME_CHARS = f"[{_PN_CHARS}]*+"
# Dots inside a name, each run followed by name characters: a run is read once.
_INNER_DOTS = _once(f"(?:\\.++[{_PN_CHARS}]++)*")
_PREFIX = f"[{_PN_CHARS_BASE}]{_NAME_CHARS}{_INNER_DOTS}"
# PN_LOCAL as the engine reads it: one run of dots at most inside.
_LOCAL = (f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})" + _once(f"(?:{_LOCAL_CHAR})*")
          + _once("(?:\\.++" + _once(f"(?:{_LOCAL_CHAR})+") + ")?"))


def _long_string(q: str) -> str:
    """A long string quoted by three `q`s: inside, one or two `q`s are
    followed by another character."""
    return q * 3 + _once("(?:" + _once(f"(?:{q * 2}|{q})?") + f"(?:[^{q}\\\\]|\\\\.))*") + q * 3


TOKEN_RE = re.compile(
    "(?P<ws>\\s++)"
    "|(?P<comment>#[^\\n\\r]*+)"
    "|(?P<iri><" + _once(r'(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*') + ">)"
    "|(?P<string>" + _long_string("'") + "|" + _long_string('"')
    + "|'" + _once(r"(?:[^'\\\n\r]|\\.)*") + "'"
    + '|"' + _once(r'(?:[^"\\\n\r]|\\.)*') + '")'
    # A quote that opens no string: nothing after it can be read reliably.
    r"""|(?P<unterminated>['"].*+)"""
    f"|(?P<var>[?$][{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*+)"
    "|(?P<pname>" + _once(f"(?:{_PREFIX})?") + ":" + _once(f"(?:{_LOCAL})?") + ")"
    f"|(?P<bnode>_:[{_PN_CHARS_U}0-9]{_NAME_CHARS}{_INNER_DOTS})"
    f"|(?P<word>[{_PN_CHARS_BASE}_]{_NAME_CHARS}{_INNER_DOTS})"
    "|(?P<other>.)",
    re.DOTALL,
)

_UNICODE_ESCAPE_RE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PN_LOCAL_ESCAPE_RE = re.compile(r"\\(.)")
_DOTS_RE = re.compile(r"\.+")


class Token(NamedTuple):
    kind: str       # iri, string, var, pname, bnode, word, other, unterminated
    text: str
    start: int
    end: int


def all_tokens(text: str, pos: int = 0) -> Iterator[Token]:
    """Every token of `text` from `pos` on, whitespace ("ws") and comments
    included."""
    for m in TOKEN_RE.finditer(text, pos):
        kind = m.lastgroup or "other"
        if kind == "word" and "." in m.group():
            yield from _split_word(m.group(), m.start())
        else:
            yield Token(kind, m.group(), m.start(), m.end())


def tokens(text: str) -> Iterator[Token]:
    """Every significant token of `text`; whitespace and comments skipped."""
    for tok in all_tokens(text):
        if tok.kind != "ws" and tok.kind != "comment":
            yield tok


def _split_word(text: str, offset: int) -> Iterator[Token]:
    """`true.FILTER` is a word, a dot and a word (the engine reads it so)."""
    pos = 0
    for m in _DOTS_RE.finditer(text):
        yield Token("word", text[pos:m.start()], offset + pos, offset + m.start())
        for i in range(m.start(), m.end()):
            yield Token("other", ".", offset + i, offset + i + 1)
        pos = m.end()
    yield Token("word", text[pos:], offset + pos, offset + len(text))


def unescape_codepoints(text: str) -> str:
    """Replace SPARQL's \\uXXXX and \\UXXXXXXXX escapes by their characters."""
    def sub(m):
        code = int(m.group(1) or m.group(2), 16)
        try:
            return chr(code)
        except ValueError:
            return m.group()
    return _UNICODE_ESCAPE_RE.sub(sub, text)


def expand_pname(pname: str, prefixes: dict[str, str]) -> str | None:
    """prefix:local → the IRI it stands for (local escapes removed), or None
    when the prefix is not declared."""
    prefix, _, local = pname.partition(":")
    base = prefixes.get(prefix)
    if base is None:
        return None
    return base + _PN_LOCAL_ESCAPE_RE.sub(r"\1", local)
